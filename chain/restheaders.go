package chain

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// MaxRESTHeaders is the most headers Bitcoin Core's /rest/headers returns per request.
const MaxRESTHeaders = 2000

// RESTHeaders returns up to count consecutive best-chain headers starting with the block start, from Bitcoin
// Core's REST interface (GET /rest/headers/<hash>.bin?count=N, Core 24 and later). Fewer come back at the
// node's tip.
func (c *Client) RESTHeaders(ctx context.Context, start chainhash.Hash, count int) ([]wire.BlockHeader, error) {
	count = min(max(count, 1), MaxRESTHeaders)
	data, err := c.restGet(ctx, "headers/"+start.String()+".bin?count="+strconv.Itoa(count))
	if err != nil {
		return nil, fmt.Errorf("REST headers from %v: %w", start, err)
	}
	if len(data)%wire.MaxBlockHeaderPayload != 0 || len(data) > count*wire.MaxBlockHeaderPayload {
		return nil, fmt.Errorf("%w: REST headers from %v: %d bytes is not a whole number of at most %d headers",
			ErrProtocol, start, len(data), count)
	}
	headers := make([]wire.BlockHeader, len(data)/wire.MaxBlockHeaderPayload)
	r := bytes.NewReader(data)
	for i := range headers {
		if err := headers[i].Deserialize(r); err != nil {
			return nil, fmt.Errorf("%w: REST headers from %v: header %d: %w", ErrProtocol, start, i, err)
		}
	}
	if len(headers) > 0 && headers[0].BlockHash() != start {
		return nil, fmt.Errorf("%w: REST headers from %v start with block %v", ErrProtocol, start, headers[0].BlockHash())
	}
	return headers, nil
}

// FetchHeadersREST is FetchHeaders over Bitcoin Core's REST interface: one getblockhash for from, then
// /rest/headers requests of up to 2000 headers, each starting at the last header of the one before. The
// requests depend on each other, so they run one at a time; each is a single binary reply. It delivers
// batches of up to 1999 new headers in height order with their hashes; a header that does not link to the
// one before it (a reorg on the node) is left to the verifier, as with FetchHeaders.
func (c *Client) FetchHeadersREST(ctx context.Context, from, to int32) (<-chan HeaderBatch, func() error) {
	out := make(chan HeaderBatch)
	done := make(chan struct{})
	var firstErr error
	go func() {
		defer close(done)
		defer close(out)
		firstErr = c.restHeaderLoop(ctx, from, to, out)
	}()
	return out, func() error {
		<-done
		return firstErr
	}
}

func (c *Client) restHeaderLoop(ctx context.Context, from, to int32, out chan<- HeaderBatch) error {
	if from > to {
		return nil
	}
	start, err := c.BlockHash(ctx, from)
	if err != nil {
		return err
	}
	// The first request includes block from itself; later ones repeat the previous last header.
	next, skip := from, 0
	for next <= to {
		want := min(int(to-next)+1+skip, MaxRESTHeaders)
		headers, err := c.RESTHeaders(ctx, start, want)
		if err != nil {
			return err
		}
		headers = headers[min(skip, len(headers)):]
		if len(headers) == 0 {
			return fmt.Errorf("fetch headers %d-%d over REST: %w: the node's chain ends at %d",
				from, to, ErrHeightOutOfRange, next-1)
		}
		hashes := make([]chainhash.Hash, len(headers))
		for i := range headers {
			hashes[i] = headers[i].BlockHash()
		}
		select {
		case out <- HeaderBatch{From: next, Headers: headers, Hashes: hashes}:
		case <-ctx.Done():
			return ctx.Err()
		}
		next += int32(len(headers))
		start, skip = hashes[len(hashes)-1], 1
	}
	return nil
}
