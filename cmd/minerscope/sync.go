package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/chain"
	"github.com/minerscope/minerscope/index"
)

// This file is the seam between chain (the node) and index (Badger): the only code that knows both.

// syncProgress receives progress updates; it may be nil.
type syncProgress interface {
	Start(from, to int32)
	Advance(height int32)
	Finish()
}

// syncResult says what one pass of syncHeaders did.
type syncResult struct {
	NodeHeight    int32
	IndexHeight   int32
	Connected     int
	Disconnected  int
	ForkHeight    int32 // -1 when no reorg
	InitialSync   bool  // the node reported initial block download
	NodeHeaders   int32 // headers the node knows, ahead of its blocks during IBD
	StartedHeight int32
	Blocks        bool // the index keeps full blocks from some height on

	// ValuesFilled counts the flow transactions whose other input values the node gave this pass;
	// ValuesMissing those still without them when the node could not give them (ValuesErr says why).
	ValuesFilled, ValuesMissing int
	ValuesErr                   error
}

// syncer joins a node client and an index.
type syncer struct {
	node      *chain.Client
	db        *index.DB
	blocks    chain.BlockSource // for full indexes; nil for headers only
	restHdrs  bool              // fetch headers over bitcoind's REST interface
	log       *slog.Logger
	progress  syncProgress
	batchSize int
	inFlight  int

	// valuesErr is why the node could not give input values, once it said so (see fillInputValues).
	valuesErr error

	// hashSource, when set, replaces the node's getblockhash for the full-block path (benchmarks of
	// blocks no node serves).
	hashSource func(ctx context.Context, from, to int32) <-chan hashRange

	// onPass, when set, is called by follow after every pass that reached the node's tip, whether or
	// not it changed the index (serve's "last sync" time).
	onPass func(syncResult)
}

func newSyncer(node *chain.Client, db *index.DB, log *slog.Logger, p syncProgress) *syncer {
	// The sync allocates many short-lived objects (JSON replies, decoded blocks, Badger entries) and holds
	// little: a lazier GC frees CPU for the node, which on a small machine shares the cores with us. A soft
	// memory limit keeps that laziness from growing the heap past syncMemoryLimit (the user's GOMEMLIMIT
	// wins when set).
	debug.SetGCPercent(400)
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(syncMemoryLimit)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &syncer{node: node, db: db, log: log, progress: p, batchSize: chain.DefaultBatchSize, inFlight: chain.DefaultInFlight}
}

// maintainInterval is how often a following sync runs the index's housekeeping.
const maintainInterval = 10 * time.Minute

// syncMemoryLimit is the Go heap size from which the sync's garbage collector works harder.
const syncMemoryLimit = 2 << 30

// maxReorgRetries bounds how often one sync starts over because the node reorganized under it.
const maxReorgRetries = 5

// syncOnce brings the index to the node's tip: it undoes blocks the node no longer has on its best chain,
// then fetches, verifies and connects the missing headers. When the node reorganizes during the fetch (a
// header stops linking to the one before it), it starts over from the fork.
func (s *syncer) syncOnce(ctx context.Context) (syncResult, error) {
	var total syncResult
	for attempt := 0; ; attempt++ {
		res, err := s.syncPass(ctx)
		res.Connected += total.Connected
		res.Disconnected += total.Disconnected
		if res.ForkHeight < 0 {
			res.ForkHeight = total.ForkHeight
		}
		if !errors.Is(err, chain.ErrPrevMismatch) || attempt == maxReorgRetries {
			return res, err
		}
		s.log.Info("the node reorganized during the sync; starting over from the fork", "err", err)
		total = res
	}
}

// syncPass is one attempt of syncOnce.
func (s *syncer) syncPass(ctx context.Context) (syncResult, error) {
	res := syncResult{ForkHeight: -1}
	_, res.Blocks = s.db.BlocksFrom()
	info, err := s.node.ChainInfo(ctx)
	if err != nil {
		return res, err
	}
	res.NodeHeight, res.InitialSync, res.NodeHeaders = info.Blocks, info.InitialBlockDownload, info.Headers

	if err := s.rewindToNode(ctx, &res); err != nil {
		return res, err
	}
	tip, _, ok := s.db.Tip()
	from := tip + 1
	if !ok {
		from = 0
	}
	res.StartedHeight = from
	if from <= info.Blocks {
		err = s.connect(ctx, from, info.Blocks, &res)
	}
	res.IndexHeight, _, _ = s.db.Tip()
	if err == nil && res.Blocks {
		err = s.fillInputValues(ctx, &res)
	}
	return res, err
}

// connect adds heights [from, to]: headers alone below the index's BlocksFrom (or everywhere in a
// headers-only index), whole blocks from there on.
func (s *syncer) connect(ctx context.Context, from, to int32, res *syncResult) error {
	blocksFrom, full := s.db.BlocksFrom()
	if !full || to < blocksFrom {
		return s.connectRange(ctx, from, to, res)
	}
	if from < blocksFrom {
		if err := s.connectRange(ctx, from, blocksFrom-1, res); err != nil {
			return err
		}
		from = blocksFrom
	}
	return s.connectBlocks(ctx, from, to, res)
}

// rewindToNode disconnects index blocks that are no longer on the node's best chain.
func (s *syncer) rewindToNode(ctx context.Context, res *syncResult) error {
	tip, tipHash, ok := s.db.Tip()
	if !ok {
		return nil
	}
	check := min(tip, res.NodeHeight)
	nodeHash, err := s.node.BlockHash(ctx, check)
	if err != nil {
		return err
	}
	localHash := tipHash
	if check != tip {
		if localHash, err = s.db.HashAt(check); err != nil {
			return err
		}
	}
	if nodeHash == localHash {
		// Same chain. When the node is behind the index (restarting, reindexing) the extra index blocks may
		// well come back on its chain; keep them and wait rather than undo work.
		return nil
	}
	fork, err := chain.FindForkPoint(ctx, s.node, s.db.HashAt, check)
	if err != nil {
		return fmt.Errorf("finding where the index and the node diverge: %w", err)
	}
	if fork < 0 {
		return fmt.Errorf("the node's genesis block differs from the index's; %w", index.ErrWrongNetwork)
	}
	res.ForkHeight = fork
	s.log.Info("reorg: disconnecting index blocks", "from", tip, "to", fork+1)
	for h := tip; h > fork; h-- {
		if err := s.db.DisconnectTip(); err != nil {
			return fmt.Errorf("disconnecting block %d: %w", h, err)
		}
		res.Disconnected++
	}
	return nil
}

// connectRange fetches the headers [from, to] in pipelined batches, verifies each and connects it.
func (s *syncer) connectRange(ctx context.Context, from, to int32, res *syncResult) error {
	v := &chain.Verifier{Params: s.db.Params()}
	prev, prevHash, err := s.before(from)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var batches <-chan chain.HeaderBatch
	var fetchErr func() error
	if s.restHdrs {
		batches, fetchErr = s.node.FetchHeadersREST(ctx, from, to)
	} else {
		batches, fetchErr = s.node.FetchHeaders(ctx, from, to, s.batchSize, s.inFlight)
	}
	if s.progress != nil {
		s.progress.Start(from, to)
		defer s.progress.Finish()
	}
	for b := range batches {
		good, verr := s.verifyBatch(v, b, &prev, &prevHash)
		if good > 0 {
			if err := s.db.ConnectHeaders(b.From, b.Headers[:good]); err != nil {
				return fmt.Errorf("storing headers %d-%d: %w", b.From, b.From+int32(good)-1, err)
			}
			res.Connected += good
		}
		if verr != nil {
			return verr
		}
		if s.progress != nil {
			s.progress.Advance(b.From + int32(len(b.Headers)) - 1)
		}
	}
	if err := fetchErr(); err != nil {
		return err
	}
	return ctx.Err()
}

// verifyBatch checks the headers of b in order and returns how many passed, with the first failure.
// prev and prevHash follow the last header that passed.
func (s *syncer) verifyBatch(v *chain.Verifier, b chain.HeaderBatch, prev *analysis.Header, prevHash *chainhash.Hash) (int, error) {
	// The retarget check needs the epoch's first header: earlier in this batch, or already stored.
	v.Lookup = func(height int32) (analysis.Header, error) {
		if i := height - b.From; i >= 0 && int(i) < len(b.Headers) {
			return toAnalysis(height, b.Headers[i].Timestamp, b.Headers[i].Bits), nil
		}
		return s.lookup(height)
	}
	for i := range b.Headers {
		h := b.From + int32(i)
		hdr := &b.Headers[i]
		if err := v.Verify(h, *prev, *prevHash, hdr); err != nil {
			return i, err
		}
		*prev = toAnalysis(h, hdr.Timestamp, hdr.Bits)
		*prevHash = b.Hashes[i]
	}
	return len(b.Headers), nil
}

// before returns the stored header below height, which the first new header must link to.
func (s *syncer) before(height int32) (analysis.Header, chainhash.Hash, error) {
	if height == 0 {
		return analysis.Header{}, chainhash.Hash{}, nil
	}
	rec, err := s.db.Header(height - 1)
	if err != nil {
		return analysis.Header{}, chainhash.Hash{}, err
	}
	return toAnalysis(rec.Height, rec.Header.Timestamp, rec.Header.Bits), rec.Hash, nil
}

func (s *syncer) lookup(height int32) (analysis.Header, error) {
	rec, err := s.db.Header(height)
	if err != nil {
		return analysis.Header{}, err
	}
	return toAnalysis(height, rec.Header.Timestamp, rec.Header.Bits), nil
}

func toAnalysis(height int32, t time.Time, bits uint32) analysis.Header {
	return analysis.Header{Height: height, Time: t.Unix(), Bits: bits}
}

// follow runs syncOnce every poll interval until ctx is cancelled, calling report after every pass that
// changed the index and retry after every pass that failed with an error worth retrying (node down or
// restarting). Errors that need the user (credentials, a node serving invalid headers, wrong network) end it.
func (s *syncer) follow(ctx context.Context, poll time.Duration, report func(syncResult), retry func(error)) error {
	mctx, stop := context.WithCancel(ctx)
	defer stop()
	go s.db.Maintain(mctx, maintainInterval)
	for {
		res, err := s.syncOnce(ctx)
		switch {
		case err == nil:
			if report != nil && (res.Connected > 0 || res.Disconnected > 0) {
				report(res)
			}
			if s.onPass != nil {
				s.onPass(res)
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case needsUser(err):
			return err
		default:
			if res.Connected > 0 && report != nil {
				report(res)
			}
			if retry != nil {
				retry(err)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

// needsUser reports whether retrying cannot help: the user must fix credentials, the node or the index.
func needsUser(err error) bool {
	return errors.Is(err, chain.ErrAuth) || errors.Is(err, chain.ErrBadHeader) ||
		errors.Is(err, index.ErrWrongNetwork) || errors.Is(err, index.ErrCorrupt)
}

// valuesBatch is the number of flow transactions whose input values are asked for at once.
const valuesBatch = 256

// fillInputValues asks the node for the values of the non-miner inputs of the flow transactions that lack
// them, so that their fees are exact: in batches with getrawtransaction when the node has a transaction
// index, else block by block with getblock verbosity 3 (Bitcoin Core 23+). Every miner figure is exact
// without them, so a node that can do neither is not an error: the transactions left without them and the
// reason are reported.
func (s *syncer) fillInputValues(ctx context.Context, res *syncResult) error {
	if s.valuesErr != nil {
		// This process already learnt that the node cannot give them: ask again only in a new run (after
		// the user enabled txindex), not at every poll of --follow.
		res.ValuesErr = s.valuesErr
		var err error
		res.ValuesMissing, err = s.db.MissingInputValuesCount()
		return err
	}
	byTx := true
	for {
		refs, err := s.db.MissingInputValues(valuesBatch)
		if err != nil || len(refs) == 0 {
			return err
		}
		values, err := s.inputValues(ctx, refs, &byTx)
		if errors.Is(err, chain.ErrNoInputValues) {
			s.valuesErr, res.ValuesErr = err, err
			res.ValuesMissing, err = s.db.MissingInputValuesCount()
			return err
		}
		if err != nil {
			return err
		}
		if err := s.db.SetInputValuesOf(refs, values); err != nil {
			return err
		}
		res.ValuesFilled += len(refs)
	}
}

// inputValues returns the values of refs' unknown inputs; byTx says whether getrawtransaction still works.
func (s *syncer) inputValues(ctx context.Context, refs []index.InputRef, byTx *bool) ([][]btcutil.Amount, error) {
	out := make([][]btcutil.Amount, len(refs))
	if *byTx {
		var ops []wire.OutPoint
		for _, ref := range refs {
			ops = append(ops, ref.PrevOuts...)
		}
		vs, err := s.node.OutputValues(ctx, ops)
		if err == nil {
			for i, ref := range refs {
				out[i], vs = vs[:len(ref.PrevOuts)], vs[len(ref.PrevOuts):]
			}
			return out, nil
		}
		if !errors.Is(err, chain.ErrNoInputValues) {
			return nil, err
		}
		s.log.Info("the node has no transaction index; asking for input values block by block", "err", err)
		*byTx = false
	}
	for i, ref := range refs {
		hdr, err := s.db.Header(ref.Height)
		if err != nil {
			return nil, err
		}
		if out[i], err = s.node.SpentValues(ctx, hdr.Hash, ref.TxID, ref.PrevOuts); err != nil {
			return nil, err
		}
	}
	return out, nil
}
