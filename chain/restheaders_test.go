package chain

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"
)

// TestFetchHeadersREST fetches the real mainnet headers over a REST server that answers like Core's
// rest.cpp and checks them against the block file, for ranges that start and end inside and across the
// 2000-header pages, and past the node's tip.
func TestFetchHeadersREST(t *testing.T) {
	blocks := mainnetBlocks(t)
	f := newBlockNode(t, blocks)
	f.rest.Store(true)
	c := f.dial(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	for _, r := range [][2]int32{{0, 14131}, {0, 0}, {1999, 2000}, {3997, 8001}, {14000, 14131}} {
		ch, wait := c.FetchHeadersREST(ctx, r[0], r[1])
		next := r[0]
		for b := range ch {
			if b.From != next || len(b.Headers) != len(b.Hashes) || len(b.Headers) > MaxRESTHeaders {
				t.Fatalf("range %v: batch from %d (want %d) with %d headers", r, b.From, next, len(b.Headers))
			}
			for i := range b.Headers {
				h := next + int32(i)
				var want wire.BlockHeader
				if err := want.Deserialize(bytesReader(blocks[h][:80])); err != nil {
					t.Fatal(err)
				}
				if b.Headers[i] != want || b.Hashes[i] != want.BlockHash() {
					t.Fatalf("range %v: header %d differs from the block file", r, h)
				}
			}
			next += int32(len(b.Headers))
		}
		if err := wait(); err != nil {
			t.Fatalf("range %v: %v", r, err)
		}
		if next != r[1]+1 {
			t.Fatalf("range %v: delivered up to %d", r, next-1)
		}
	}

	// Past the tip: everything up to the tip, then ErrHeightOutOfRange.
	ch, wait := c.FetchHeadersREST(ctx, 14000, 15000)
	n := 0
	for b := range ch {
		n += len(b.Headers)
	}
	if err := wait(); !errors.Is(err, ErrHeightOutOfRange) || n != 132 {
		t.Fatalf("past the tip: %d headers, %v", n, err)
	}
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
