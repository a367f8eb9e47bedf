package chain

import (
	"context"
	"fmt"

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
	batchSize = orDefault(batchSize, DefaultBatchSize)
	inFlight = orDefault(inFlight, DefaultInFlight)
	n := 0
	if to >= from {
		n = int(to-from) + 1
	}
	// Each batch delivers one item: the HeaderBatch of its heights.
	out, wait := orderedFetch(ctx, n, batchSize, inFlight, nil,
		func(ctx context.Context, lo, hi int) ([]HeaderBatch, error) {
			first, last := from+int32(lo), from+int32(hi)-1
			headers, hashes, err := c.headerRange(ctx, first, last)
			if err != nil {
				return nil, err
			}
			return []HeaderBatch{{From: first, Headers: headers, Hashes: hashes}}, nil
		})
	return out, func() error {
		complete, err := wait()
		if err == nil && !complete {
			err = fmt.Errorf("fetch headers %d-%d: stopped early: %w", from, to, ctx.Err())
		}
		return err
	}
}
