package main

import (
	"context"
	"fmt"

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
	blockBatch  = 500  // blocks per index commit
	hashesAhead = 1    // hash chunks fetched ahead of the blocks
)

// hashRange is one chunk of best-chain hashes, or the error that ended them.
type hashRange struct {
	from   int32
	hashes []chainhash.Hash
	err    error
}

// prefetchHashes fetches the best-chain hashes of [from, to] in chunks, one chunk ahead of the consumer.
func (s *syncer) prefetchHashes(ctx context.Context, from, to int32) <-chan hashRange {
	out := make(chan hashRange, hashesAhead)
	go func() {
		defer close(out)
		for lo := from; lo <= to; lo += hashChunk {
			hi := min(lo+hashChunk-1, to)
			hs, err := s.node.BlockHashes(ctx, lo, hi)
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

// connectBlocks fetches, verifies and stores the whole blocks [from, to] with their coinbase records.
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

	w := &blockWriter{s: s, p: s.db.Params(), from: from, res: res}
	v := &chain.Verifier{Params: w.p, Lookup: w.lookup}
	for c := range s.prefetchHashes(ctx, from, to) {
		if c.err != nil {
			return c.err
		}
		blocks, fetchErr := s.blocks.FetchBlocks(ctx, c.from, c.hashes)
		for b := range blocks {
			hdr := &b.Block.Header
			if err := v.Verify(b.Height, prev, prevHash, hdr); err != nil {
				cancel()
				return w.stop(err)
			}
			rec, err := analysis.ExtractCoinbase(w.p, b.Height, b.Block)
			if err != nil {
				cancel()
				return w.stop(fmt.Errorf("block %d (%v): %w", b.Height, b.Hash, err))
			}
			w.add(index.BlockData{Header: *hdr, Coinbase: &rec})
			prev, prevHash = toAnalysis(b.Height, hdr.Timestamp, hdr.Bits), b.Hash
			if len(w.batch) == blockBatch {
				if err := w.flush(); err != nil {
					cancel()
					return err
				}
			}
		}
		if err := fetchErr(); err != nil {
			return w.stop(err)
		}
	}
	if err := w.flush(); err != nil {
		return err
	}
	return ctx.Err()
}

// blockWriter collects verified blocks and stores them in batches.
type blockWriter struct {
	s     *syncer
	p     analysis.Params
	from  int32 // height of batch[0]
	batch []index.BlockData
	res   *syncResult
}

func (w *blockWriter) add(d index.BlockData) { w.batch = append(w.batch, d) }

// flush stores the collected blocks.
func (w *blockWriter) flush() error {
	if len(w.batch) == 0 {
		return nil
	}
	n := int32(len(w.batch))
	if err := w.s.db.ConnectBlocks(w.from, w.batch); err != nil {
		return fmt.Errorf("storing blocks %d-%d: %w", w.from, w.from+n-1, err)
	}
	w.res.Connected += int(n)
	w.from += n
	w.batch = w.batch[:0]
	if w.s.progress != nil {
		w.s.progress.Advance(w.from - 1)
	}
	return nil
}

// stop stores the blocks verified before err, so that the work is kept, and returns err.
func (w *blockWriter) stop(err error) error {
	if ferr := w.flush(); ferr != nil {
		return fmt.Errorf("%w (and storing the blocks before it: %w)", err, ferr)
	}
	return err
}

// lookup gives the verifier a header at or below the tip: from the unstored batch, else from the index.
func (w *blockWriter) lookup(height int32) (analysis.Header, error) {
	if i := height - w.from; i >= 0 && int(i) < len(w.batch) {
		h := &w.batch[i].Header
		return toAnalysis(height, h.Timestamp, h.Bits), nil
	}
	return w.s.lookup(height)
}
