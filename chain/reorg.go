package chain

import (
	"context"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
)

// HashSource gives block hashes by height (the node, or the local index).
type HashSource interface {
	BlockHash(ctx context.Context, height int32) (chainhash.Hash, error)
}

// RangeHashSource is a HashSource that can also answer a range of heights
// at once, cut short at its tip; FindForkPoint uses it when available.
// *Client implements it with one batch request per range.
type RangeHashSource interface {
	HashSource
	BlockHashes(ctx context.Context, from, to int32) ([]chainhash.Hash, error)
}

var _ RangeHashSource = (*Client)(nil)

// Fork search window: the first window covers ordinary reorgs in one
// request, later ones double so a deep reorg costs few round trips.
const (
	forkFirstWindow = 64
	forkMaxWindow   = 2048
)

// FindForkPoint walks back from localTip until the node's hash at that
// height equals the local one and returns that height: localTip when
// nothing was reorganised, -1 when even the genesis blocks differ. Heights
// above the node's tip count as different. Every height from localTip down
// to the fork point is compared, so the answer does not rely on both chains
// being consistent; the node is asked in windows of 64, 128, ... heights.
func FindForkPoint(ctx context.Context, node HashSource, local func(int32) (chainhash.Hash, error), localTip int32) (int32, error) {
	window := int32(forkFirstWindow)
	for hi := localTip; hi >= 0; {
		lo := max(0, hi-window+1)
		nodeHashes, err := hashRange(ctx, node, lo, hi)
		if err != nil {
			return 0, err
		}
		for h := hi; h >= lo; h-- {
			i := int(h - lo)
			if i >= len(nodeHashes) {
				continue // above the node's tip
			}
			mine, err := local(h)
			if err != nil {
				return 0, fmt.Errorf("fork point: local hash at height %d: %w", h, err)
			}
			if mine == nodeHashes[i] {
				return h, nil
			}
		}
		hi = lo - 1
		window = min(2*window, forkMaxWindow)
	}
	return -1, nil
}

// hashRange returns the node's hashes for lo..hi, cut short at its tip.
func hashRange(ctx context.Context, node HashSource, lo, hi int32) ([]chainhash.Hash, error) {
	if r, ok := node.(RangeHashSource); ok {
		hashes, err := r.BlockHashes(ctx, lo, hi)
		if err != nil {
			return nil, fmt.Errorf("fork point: node hashes %d-%d: %w", lo, hi, err)
		}
		return hashes, nil
	}

	hashes := make([]chainhash.Hash, 0, int(hi-lo)+1)
	for h := lo; h <= hi; h++ {
		hash, err := node.BlockHash(ctx, h)
		if errors.Is(err, ErrHeightOutOfRange) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("fork point: node hash at height %d: %w", h, err)
		}
		hashes = append(hashes, hash)
	}
	return hashes, nil
}
