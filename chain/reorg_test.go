package chain

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
)

// branchHashes makes n distinct hashes for a branch named by tag.
func branchHashes(tag string, from, to int) []chainhash.Hash {
	hs := make([]chainhash.Hash, 0, to-from+1)
	for i := from; i <= to; i++ {
		hs = append(hs, chainhash.DoubleHashH([]byte(fmt.Sprintf("%s/%d", tag, i))))
	}
	return hs
}

// singleSource answers one height at a time.
type singleSource struct {
	hashes []chainhash.Hash
	calls  int
}

func (s *singleSource) BlockHash(_ context.Context, h int32) (chainhash.Hash, error) {
	s.calls++
	if h < 0 || int(h) >= len(s.hashes) {
		return chainhash.Hash{}, fmt.Errorf("height %d: %w", h, ErrHeightOutOfRange)
	}
	return s.hashes[h], nil
}

// rangeSource also answers ranges, cut short at its tip, like *Client.
type rangeSource struct {
	singleSource
	batches int
}

func (s *rangeSource) BlockHashes(_ context.Context, from, to int32) ([]chainhash.Hash, error) {
	s.batches++
	to = min(to, int32(len(s.hashes))-1)
	if from > to {
		return nil, nil
	}
	return s.hashes[from : to+1], nil
}

func TestFindForkPoint(t *testing.T) {
	tests := []struct {
		name                    string
		localTip, fork, nodeTip int // fork: last common height (-1: none)
		maxBatches              int
	}{
		{"no reorg, node ahead", 100, 100, 120, 1},
		{"no reorg, same tip", 100, 100, 100, 1},
		{"depth 1", 100, 99, 101, 1},
		{"depth 3", 1000, 997, 1000, 1},
		{"depth 150", 1000, 850, 1001, 2},
		{"depth 5000", 20000, 15000, 20005, 7},
		{"node behind on same chain", 100, 50, 50, 1},
		{"node behind and forked", 300, 40, 60, 4},
		{"genesis differs", 10, -1, 12, 1},
		{"only genesis", 0, 0, 5, 1},
		{"forked right after genesis", 200, 0, 210, 3},
	}
	for _, tt := range tests {
		local := branchHashes("a", 0, tt.localTip)
		node := append(append([]chainhash.Hash(nil), local[:tt.fork+1]...),
			branchHashes("b", tt.fork+1, tt.nodeTip)...)
		localFn := func(h int32) (chainhash.Hash, error) { return local[h], nil }

		t.Run(tt.name+"/batched", func(t *testing.T) {
			src := &rangeSource{singleSource: singleSource{hashes: node}}
			got, err := FindForkPoint(context.Background(), src, localFn, int32(tt.localTip))
			if err != nil || got != int32(tt.fork) {
				t.Fatalf("fork point %d, %v; want %d", got, err, tt.fork)
			}
			if src.calls != 0 || src.batches > tt.maxBatches {
				t.Errorf("%d single calls and %d batches, want 0 and <= %d",
					src.calls, src.batches, tt.maxBatches)
			}
		})
		t.Run(tt.name+"/single", func(t *testing.T) {
			src := &singleSource{hashes: node}
			got, err := FindForkPoint(context.Background(), src, localFn, int32(tt.localTip))
			if err != nil || got != int32(tt.fork) {
				t.Fatalf("fork point %d, %v; want %d", got, err, tt.fork)
			}
		})
	}
}

func TestFindForkPointErrors(t *testing.T) {
	local := branchHashes("a", 0, 10)
	boom := errors.New("boom")

	_, err := FindForkPoint(context.Background(), &singleSource{hashes: local},
		func(int32) (chainhash.Hash, error) { return chainhash.Hash{}, boom }, 10)
	if !errors.Is(err, boom) {
		t.Errorf("local failure: err = %v", err)
	}

	_, err = FindForkPoint(context.Background(), failingSource{boom},
		func(h int32) (chainhash.Hash, error) { return local[h], nil }, 10)
	if !errors.Is(err, boom) {
		t.Errorf("node failure: err = %v", err)
	}
}

type failingSource struct{ err error }

func (f failingSource) BlockHash(context.Context, int32) (chainhash.Hash, error) {
	return chainhash.Hash{}, f.err
}

// TestFindForkPointWithClient runs the search against the fake node through
// the real client: one batch for a shallow reorg.
func TestFindForkPointWithClient(t *testing.T) {
	headers := mainnetHeaders(t)[:300]
	f := newFakeNode(t, headers)
	c := f.dial(t, f.config())

	local := make([]chainhash.Hash, 305)
	for i := range local {
		if i <= 296 {
			local[i] = headers[i].BlockHash()
		} else {
			local[i] = chainhash.Hash{byte(i)}
		}
	}
	before := f.requests.Load()
	got, err := FindForkPoint(testCtx(t), c, func(h int32) (chainhash.Hash, error) { return local[h], nil }, 304)
	if err != nil || got != 296 {
		t.Fatalf("fork point %d, %v; want 296", got, err)
	}
	if n := f.requests.Load() - before; n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}
