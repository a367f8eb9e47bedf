package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/chain"
	"github.com/minerscope/minerscope/index"
)

// Full-block sync: the block carries its header, so a full index needs no getblockheader at all. Hashes
// come from getblockhash a chunk ahead, blocks stream from the block source (which checks each against its
// hash and merkle root), every header is verified exactly as in the header sync, and the blocks are stored
// with their coinbase records in batches of whole blocks.
const (
	hashChunk   = 5000 // heights per getblockhash batch
	blockBatch  = 500  // blocks per index commit, at most
	hashesAhead = 1    // hash chunks fetched ahead of the blocks

	// blockBatchBytes bounds the serialized bytes of one commit's blocks, which the writer holds whole
	// (decoded) until their flows are stored: at today's 1.5 MB blocks a batch is about 10 blocks, and
	// the batch filling, the one queued and the one being written hold about 100 MB.
	blockBatchBytes = 16 << 20
)

// hashRange is one chunk of best-chain hashes, or the error that ended them.
type hashRange struct {
	from   int32
	hashes []chainhash.Hash
	err    error
}

// prefetchHashes fetches the best-chain hashes of [from, to] in chunks, one chunk ahead of the consumer.
func prefetchHashes(ctx context.Context, node *chain.Client, from, to int32) <-chan hashRange {
	out := make(chan hashRange, hashesAhead)
	go func() {
		defer close(out)
		for lo := from; lo <= to; lo += hashChunk {
			hi := min(lo+hashChunk-1, to)
			hs, err := node.BlockHashes(ctx, lo, hi)
			if err == nil && len(hs) != int(hi-lo+1) {
				err = fmt.Errorf("block hashes %d-%d: %w: the node's chain ends at %d",
					lo, hi, chain.ErrHeightOutOfRange, lo+int32(len(hs))-1)
			}
			select {
			case out <- hashRange{from: lo, hashes: hs, err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return out
}

// blockHashes returns the best-chain hashes of [from, to] in chunks: from the node, unless a test or
// benchmark set hashSource.
func (s *syncer) blockHashes(ctx context.Context, from, to int32) <-chan hashRange {
	if s.hashSource != nil {
		return s.hashSource(ctx, from, to)
	}
	return prefetchHashes(ctx, s.node, from, to)
}

// connectBlocks fetches, verifies and stores the whole blocks [from, to] with their coinbase records.
// Storing runs in its own goroutine, one batch behind verification, so that the fetch pipeline keeps
// flowing while a batch commits.
func (s *syncer) connectBlocks(ctx context.Context, from, to int32, res *syncResult) error {
	if s.blocks == nil {
		return fmt.Errorf("index %s keeps full blocks but no block source is set", s.db.Dir())
	}
	prev, prevHash, err := s.before(from)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if s.progress != nil {
		s.progress.Start(from, to)
		defer s.progress.Finish()
	}

	w := newBlockWriter(s, from, res)
	v := &chain.Verifier{Params: w.p, Lookup: w.lookup}
	err = func() error {
		for c := range s.blockHashes(ctx, from, to) {
			if c.err != nil {
				return c.err
			}
			blocks, fetchErr := s.blocks.FetchBlocks(ctx, c.from, c.hashes)
			for b := range blocks {
				hdr := &b.Block.Header
				if err := v.VerifyHashed(b.Height, prev, prevHash, hdr, b.Hash); err != nil {
					return err
				}
				rec, err := extractCoinbase(w.p, b)
				if err != nil {
					return fmt.Errorf("block %d (%v): %w", b.Height, b.Hash, err)
				}
				d := index.BlockData{Header: *hdr, Hash: b.Hash, Coinbase: &rec, Block: b.Block, TxIDs: b.TxIDs}
				if err := w.add(d, len(b.Bytes)); err != nil {
					return err
				}
				prev, prevHash = toAnalysis(b.Height, hdr.Timestamp, hdr.Bits), b.Hash
			}
			if err := fetchErr(); err != nil {
				return err
			}
		}
		return ctx.Err()
	}()
	// Whatever stopped the loop, the blocks verified before it are stored.
	if werr := w.close(); werr != nil && err == nil {
		err = werr
	}
	return err
}

// blockWriter stores verified blocks in batches from its own goroutine.
type blockWriter struct {
	s     *syncer
	p     analysis.Params
	res   *syncResult
	next  int32 // height of batch[0]
	batch []index.BlockData
	bytes int // serialized size of batch's blocks

	mu      sync.Mutex
	pending []writeJob // handed to the writer and not yet stored, oldest first: for lookup
	failed  error      // the writer's error, so that verification stops early
	work    chan writeJob
	done    chan error
}

type writeJob struct {
	from   int32
	blocks []index.BlockData
}

func newBlockWriter(s *syncer, from int32, res *syncResult) *blockWriter {
	w := &blockWriter{s: s, p: s.db.Params(), res: res, next: from, work: make(chan writeJob, 1), done: make(chan error, 1)}
	go w.run()
	return w
}

// run stores jobs in order until the channel closes or a store fails.
func (w *blockWriter) run() {
	var err error
	for job := range w.work {
		if err != nil {
			continue // drain
		}
		n := int32(len(job.blocks))
		if err = w.s.db.ConnectBlocks(job.from, job.blocks); err != nil {
			err = fmt.Errorf("storing blocks %d-%d: %w", job.from, job.from+n-1, err)
			w.mu.Lock()
			w.failed = err
			w.mu.Unlock()
			continue
		}
		w.mu.Lock()
		w.pending = w.pending[1:]
		w.mu.Unlock()
		w.res.Connected += int(n)
		if w.s.progress != nil {
			w.s.progress.Advance(job.from + n - 1)
		}
	}
	w.done <- err
}

// add queues one verified block of size bytes, handing a full batch to the writer.
func (w *blockWriter) add(d index.BlockData, size int) error {
	w.batch = append(w.batch, d)
	w.bytes += size
	if len(w.batch) < blockBatch && w.bytes < blockBatchBytes {
		return nil
	}
	return w.hand()
}

func (w *blockWriter) hand() error {
	if len(w.batch) == 0 {
		return nil
	}
	job := writeJob{from: w.next, blocks: w.batch}
	w.mu.Lock()
	if err := w.failed; err != nil {
		w.mu.Unlock()
		return err
	}
	w.pending = append(w.pending, job)
	w.mu.Unlock()
	w.work <- job
	w.next += int32(len(w.batch))
	w.batch, w.bytes = make([]index.BlockData, 0, len(w.batch)), 0
	return nil
}

// close hands over the last batch, waits for the writer and returns its first error.
func (w *blockWriter) close() error {
	herr := w.hand()
	close(w.work)
	err := <-w.done
	if err == nil {
		err = herr
	}
	return err
}

// lookup gives the verifier a header below the block being verified: from the unstored batches, else from
// the index.
func (w *blockWriter) lookup(height int32) (analysis.Header, error) {
	if i := height - w.next; i >= 0 && int(i) < len(w.batch) {
		h := &w.batch[i].Header
		return toAnalysis(height, h.Timestamp, h.Bits), nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, job := range w.pending {
		if i := height - job.from; i >= 0 && int(i) < len(job.blocks) {
			h := &job.blocks[i].Header
			return toAnalysis(height, h.Timestamp, h.Bits), nil
		}
	}
	return w.s.lookup(height)
}

// extractCoinbase reads the coinbase record of b, with the coinbase txid the source's merkle check computed
// when it gives one.
func extractCoinbase(p analysis.Params, b chain.RawBlock) (analysis.CoinbaseRecord, error) {
	if len(b.TxIDs) > 0 {
		return analysis.ExtractCoinbaseWithID(p, b.Height, b.Block, b.TxIDs[0])
	}
	return analysis.ExtractCoinbase(p, b.Height, b.Block)
}
