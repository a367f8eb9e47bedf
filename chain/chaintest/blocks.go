package chaintest

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

var (
	// ErrRejected is wrapped by SubmitBlock when btcd refuses a block.
	ErrRejected = errors.New("chaintest: block rejected")

	// ErrOrphan is returned by SubmitBlock when btcd kept the block as
	// an orphan because it does not know its parent.
	ErrOrphan = errors.New("chaintest: block is an orphan")

	// ErrNoReorg is returned by Reorg when the node kept its old tip.
	ErrNoReorg = errors.New("chaintest: node did not switch branch")
)

// historyBlocks is how many blocks Builder loads: one retarget interval for
// the difficulty rule plus the median-time window.
const historyBlocks = 2016 + medianTimeBlocks

// SubmitBlock submits blk with submitblock. btcd answers a rejection with a
// string result, returned here as an error wrapping ErrRejected; a block
// btcd stored as an orphan gives ErrOrphan. Side-chain blocks are accepted.
func (n *Node) SubmitBlock(ctx context.Context, blk *wire.MsgBlock) error {
	var buf bytes.Buffer
	buf.Grow(blk.SerializeSize())
	if err := blk.Serialize(&buf); err != nil {
		return fmt.Errorf("chaintest: serialize block: %w", err)
	}
	hash := blk.BlockHash()

	var result *string
	err := n.callInto(ctx, &result, "submitblock",
		hex.EncodeToString(buf.Bytes()))
	if err != nil {
		return fmt.Errorf("chaintest: submit block %v: %w", hash, err)
	}
	if result != nil {
		return fmt.Errorf("%w: block %v: %s", ErrRejected, hash,
			strings.TrimPrefix(*result, "rejected: "))
	}

	// btcd says nothing when it parks a block as an orphan.
	if _, err := n.Call(ctx, "getblockheader", hash.String(), false); err != nil {
		var rerr *RPCError
		if errors.As(err, &rerr) {
			return fmt.Errorf("%w: block %v, parent %v", ErrOrphan,
				hash, blk.Header.PrevBlock)
		}
		return fmt.Errorf("chaintest: check block %v: %w", hash, err)
	}
	return nil
}

// InvalidateBlock marks a block and its descendants invalid, so the node
// falls back to the best valid chain (btcd's invalidateblock).
func (n *Node) InvalidateBlock(ctx context.Context, hash chainhash.Hash) error {
	if _, err := n.Call(ctx, "invalidateblock", hash.String()); err != nil {
		return fmt.Errorf("chaintest: invalidate block %v: %w", hash, err)
	}
	return nil
}

// ReconsiderBlock undoes InvalidateBlock (btcd's reconsiderblock).
func (n *Node) ReconsiderBlock(ctx context.Context, hash chainhash.Hash) error {
	if _, err := n.Call(ctx, "reconsiderblock", hash.String()); err != nil {
		return fmt.Errorf("chaintest: reconsider block %v: %w", hash, err)
	}
	return nil
}

// BestBlock returns the hash and height of the node's tip.
func (n *Node) BestBlock(ctx context.Context) (chainhash.Hash, int32, error) {
	var height int32
	if err := n.callInto(ctx, &height, "getblockcount"); err != nil {
		return chainhash.Hash{}, 0, err
	}
	var s string
	if err := n.callInto(ctx, &s, "getbestblockhash"); err != nil {
		return chainhash.Hash{}, 0, err
	}
	hash, err := chainhash.NewHashFromStr(s)
	if err != nil {
		return chainhash.Hash{}, 0, fmt.Errorf("chaintest: best block "+
			"hash %q: %w", s, err)
	}
	return *hash, height, nil
}

// BlockHash returns the hash of the main-chain block at height.
func (n *Node) BlockHash(ctx context.Context, height int32) (chainhash.Hash, error) {
	var s string
	if err := n.callInto(ctx, &s, "getblockhash", height); err != nil {
		return chainhash.Hash{}, err
	}
	hash, err := chainhash.NewHashFromStr(s)
	if err != nil {
		return chainhash.Hash{}, fmt.Errorf("chaintest: block hash %q: %w",
			s, err)
	}
	return *hash, nil
}

// BlockHeader returns the header of a block the node knows.
func (n *Node) BlockHeader(ctx context.Context, hash chainhash.Hash) (*wire.BlockHeader, error) {
	var s string
	if err := n.callInto(ctx, &s, "getblockheader", hash.String(), false); err != nil {
		return nil, err
	}
	raw, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("chaintest: header %v: %w", hash, err)
	}
	var h wire.BlockHeader
	if err := h.Deserialize(bytes.NewReader(raw)); err != nil {
		return nil, fmt.Errorf("chaintest: header %v: %w", hash, err)
	}
	return &h, nil
}

// Builder returns a Builder that knows the node's main chain from its tip
// back one retarget interval (enough for every consensus rule it applies),
// with the node's tip as its tip.
func (n *Node) Builder(ctx context.Context) (*Builder, error) {
	_, tip, err := n.BestBlock(ctx)
	if err != nil {
		return nil, err
	}
	from := max(0, tip-historyBlocks+1)
	if from == 0 {
		// Start from the genesis the builder already knows.
		from = 1
	}

	b := NewBuilder(n.Params)
	if from > 1 {
		b = newEmptyBuilder(n.Params)
	}
	for h := from; h <= tip; h++ {
		hash, err := n.BlockHash(ctx, h)
		if err != nil {
			return nil, err
		}
		hdr, err := n.BlockHeader(ctx, hash)
		if err != nil {
			return nil, err
		}
		if err := b.AddHeader(h, hdr); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// MineChain builds count empty blocks on the node's tip, timestamped start,
// start+spacing, start+2*spacing, ..., and submits them in order.
func (n *Node) MineChain(ctx context.Context, count int, spacing time.Duration,
	start time.Time) error {

	b, err := n.Builder(ctx)
	if err != nil {
		return err
	}
	_, err = n.SubmitChain(ctx, b, count, func(i int) BlockOpts {
		return BlockOpts{Time: start.Add(time.Duration(i) * spacing)}
	})
	return err
}

// SubmitChain builds count blocks with b, the i-th (from 0) with opts(i),
// submits each and returns them.
func (n *Node) SubmitChain(ctx context.Context, b *Builder, count int,
	opts func(i int) BlockOpts) ([]*wire.MsgBlock, error) {

	blocks := make([]*wire.MsgBlock, 0, count)
	for i := range count {
		blk, err := b.Next(opts(i))
		if err != nil {
			return blocks, err
		}
		if err := n.SubmitBlock(ctx, blk); err != nil {
			return blocks, err
		}
		blocks = append(blocks, blk)
	}
	return blocks, nil
}

// Reorg makes the node switch branch: it builds depth+1 blocks with b on the
// node's main-chain block depth blocks below the tip, submits them and
// checks that the node's tip is now the last of them. b must know the
// node's chain (from Node.Builder or from building it). The builder's tip
// is left at the new branch's tip.
func (n *Node) Reorg(ctx context.Context, b *Builder, depth int32) ([]*wire.MsgBlock, error) {
	_, tip, err := n.BestBlock(ctx)
	if err != nil {
		return nil, err
	}
	fork, err := n.BlockHash(ctx, tip-depth)
	if err != nil {
		return nil, err
	}
	if err := b.SetTip(fork); err != nil {
		return nil, err
	}

	blocks, err := n.SubmitChain(ctx, b, int(depth)+1,
		func(int) BlockOpts { return BlockOpts{} })
	if err != nil {
		return blocks, err
	}
	best, _, err := n.BestBlock(ctx)
	if err != nil {
		return blocks, err
	}
	if want := blocks[len(blocks)-1].BlockHash(); best != want {
		return blocks, fmt.Errorf("%w: tip %v, new branch tip %v",
			ErrNoReorg, best, want)
	}
	return blocks, nil
}
