package chain

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// BaselineStats count what BaselineBlocks fetched.
type BaselineStats struct {
	Blocks int
	Bytes  int64 // serialized block bytes
}

// BaselineBlocks fetches and decodes the blocks with the given hashes
// (heights from, from+1, …) from src the way src.FetchBlocks does — the
// same requests, batch size and number in flight, the same decoding — but
// without ordering, checks or delivery, and stores nothing. It is the
// yardstick the bench command holds the full index against. A BlockSource
// from outside this package is simply drained.
func BaselineBlocks(ctx context.Context, src BlockSource, from int32, hashes []chainhash.Hash) (BaselineStats, error) {
	var f fetcher
	switch s := src.(type) {
	case *RESTBlockSource:
		f = s.active(ctx)
	case fetcher:
		f = s
	default:
		return drain(ctx, src, from, hashes)
	}
	if err := f.prepare(ctx, from, hashes); err != nil {
		return BaselineStats{}, err
	}

	size, inFlight := f.limits()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next         atomic.Int64
		blocks, byts atomic.Int64
		wg           sync.WaitGroup
		errOnce      sync.Once
		firstErr     error
	)
	for range inFlight {
		wg.Go(func() {
			for {
				lo := int(next.Add(int64(size)) - int64(size))
				if lo >= len(hashes) || ctx.Err() != nil {
					return
				}
				hi := min(lo+size, len(hashes))
				n, err := baselineBatch(ctx, f, from+int32(lo), hashes[lo:hi])
				if err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
				blocks.Add(int64(hi - lo))
				byts.Add(n)
			}
		})
	}
	wg.Wait()
	return BaselineStats{Blocks: int(blocks.Load()), Bytes: byts.Load()}, firstErr
}

// baselineBatch fetches and decodes one batch and returns its bytes.
func baselineBatch(ctx context.Context, f fetcher, from int32, hashes []chainhash.Hash) (int64, error) {
	raws, err := f.fetchBatch(ctx, from, hashes)
	if err != nil {
		return 0, err
	}
	var n int64
	for i, raw := range raws {
		var blk wire.MsgBlock
		if err := blk.Deserialize(bytes.NewReader(raw)); err != nil {
			return 0, fmt.Errorf("baseline: block %d: %w", from+int32(i), err)
		}
		n += int64(len(raw))
	}
	return n, nil
}

// drain consumes src.FetchBlocks.
func drain(ctx context.Context, src BlockSource, from int32, hashes []chainhash.Hash) (BaselineStats, error) {
	var st BaselineStats
	ch, errf := src.FetchBlocks(ctx, from, hashes)
	for b := range ch {
		st.Blocks++
		st.Bytes += int64(len(b.Bytes))
	}
	return st, errf()
}
