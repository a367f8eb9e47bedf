package chain

import (
	"context"
	"fmt"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
)

// PruneHeight returns the lowest height whose block the node still has and
// whether the node prunes at all (getblockchaininfo's pruneheight and
// pruned; btcd reports pruned only when started with --prune).
func (c *Client) PruneHeight(ctx context.Context) (int32, bool, error) {
	info, err := c.ChainInfo(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("prune height: %w", err)
	}
	if !info.Pruned {
		return 0, false, nil
	}
	return info.PruneHeight, true, nil
}

// checkPruned fails with a *PrunedError when the node has pruned the block
// at height from.
func (c *Client) checkPruned(ctx context.Context, from int32) error {
	first, pruned, err := c.PruneHeight(ctx)
	if err != nil {
		return err
	}
	if pruned && from < first {
		return &PrunedError{FirstAvailable: first}
	}
	return nil
}

// blockError explains why the node did not serve the block at height: a
// *PrunedError when the node has pruned it meanwhile, err with the height
// otherwise. bitcoind answers a pruned block with RPC error -1 "Block not
// available (pruned data)" or REST 404 "… not available (pruned data)".
func (c *Client) blockError(ctx context.Context, height int32, hash chainhash.Hash, err error) error {
	if ctx.Err() == nil {
		if first, pruned, perr := c.PruneHeight(ctx); perr == nil && pruned && height < first {
			return &PrunedError{FirstAvailable: first}
		}
	}
	return fmt.Errorf("block %d (%v): %w", height, hash, err)
}
