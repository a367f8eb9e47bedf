package chain

import (
	"context"
	"fmt"
	"sync"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// Header fetch defaults, measured against btcd (see the package tests).
const (
	// DefaultBatchSize is the number of heights per batch request.
	DefaultBatchSize = 500

	// DefaultInFlight is the number of batches fetched at once; btcd
	// serves at most 10 RPC clients by default.
	DefaultInFlight = 4
)

// HeaderBatch is a run of consecutive best-chain headers starting at From,
// each with the hash the node gave for its height (already checked to match
// the header, but not otherwise verified).
type HeaderBatch struct {
	From    int32
	Headers []wire.BlockHeader
	Hashes  []chainhash.Hash
}

// FetchHeaders fetches heights [from, to] in batches of batchSize with up to
// inFlight batches outstanding, and delivers them in height order on the
// returned channel, which is closed when all are delivered or on the first
// error. The error function waits for the fetch to end and reports its
// first error (ctx's error when ctx ended it). A consumer that stops early
// must cancel ctx. At most inFlight batches are held in memory besides the
// one the consumer has. Non-positive sizes select the defaults.
//
// Heights above the node's tip end the fetch with ErrHeightOutOfRange. The
// headers are not verified: a reorg on the node during the fetch shows up
// as a header that does not link (ErrPrevMismatch from Verifier.Verify),
// after which the caller should look for the fork point.
func (c *Client) FetchHeaders(ctx context.Context, from, to int32, batchSize, inFlight int) (<-chan HeaderBatch, func() error) {
	if batchSize <= 0 {
		batchSize = DefaultBatchSize
	}
	if inFlight <= 0 {
		inFlight = DefaultInFlight
	}

	type result struct {
		batch HeaderBatch
		err   error
	}
	ctx, cancel := context.WithCancel(ctx)
	out := make(chan HeaderBatch)
	done := make(chan struct{})
	// pending queues the batches in height order; the deliverer holds one
	// more, so inFlight bounds the batches fetched but not yet delivered.
	pending := make(chan chan result, inFlight-1)
	var wg sync.WaitGroup

	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(pending)
		for lo := int64(from); lo <= int64(to); lo += int64(batchSize) {
			hi := min(lo+int64(batchSize)-1, int64(to))
			f := make(chan result, 1)
			select {
			case pending <- f:
			case <-ctx.Done():
				return
			}
			wg.Add(1)
			go func(lo, hi int32) {
				defer wg.Done()
				headers, hashes, err := c.headerRange(ctx, lo, hi)
				f <- result{HeaderBatch{From: lo, Headers: headers, Hashes: hashes}, err}
			}(int32(lo), int32(hi))
		}
	}()

	var firstErr error
	go func() {
		defer func() {
			cancel()
			wg.Wait()
			close(out)
			close(done)
		}()
		next := int64(from)
		for f := range pending {
			r := <-f
			if r.err != nil {
				firstErr = r.err
				return
			}
			select {
			case out <- r.batch:
				next += int64(len(r.batch.Headers))
			case <-ctx.Done():
				firstErr = ctx.Err()
				return
			}
		}
		if next <= int64(to) {
			firstErr = fmt.Errorf("fetch headers %d-%d: stopped at %d: %w", from, to, next, ctx.Err())
		}
	}()

	return out, func() error {
		<-done
		return firstErr
	}
}
