package chain

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// ChainInfo is the part of getblockchaininfo minerscope uses.
type ChainInfo struct {
	// Chain is the node's own name for its network: bitcoind says "main",
	// "test", "testnet4", "signet" or "regtest"; btcd says "mainnet",
	// "testnet3", "signet", "regtest" or "simnet".
	Chain    string
	Blocks   int32 // height of the best validated block
	Headers  int32 // height of the best known header (btcd: same as Blocks)
	BestHash chainhash.Hash

	// InitialBlockDownload is false when the node does not report it
	// (btcd never does).
	InitialBlockDownload bool

	// VerificationProgress is in [0, 1]; HasVerificationProgress is false
	// when the node does not report it (btcd never does).
	VerificationProgress    float64
	HasVerificationProgress bool

	Pruned      bool
	PruneHeight int32 // lowest height with block data; 0 when not pruned
}

// BlockCount returns the height of the node's best block.
func (c *Client) BlockCount(ctx context.Context) (int32, error) {
	raw, err := c.Call(ctx, "getblockcount")
	if err != nil {
		return 0, err
	}
	var n int32
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, fmt.Errorf("%w: getblockcount result %s: %w", ErrProtocol, raw, err)
	}
	return n, nil
}

// BlockHash returns the hash of the best-chain block at height. A height
// above the node's tip gives ErrHeightOutOfRange.
func (c *Client) BlockHash(ctx context.Context, height int32) (chainhash.Hash, error) {
	raw, err := c.Call(ctx, "getblockhash", height)
	if err != nil {
		return chainhash.Hash{}, fmt.Errorf("block hash at height %d: %w", height, err)
	}
	return decodeHash(raw)
}

// BlockHashes returns the best-chain hashes of heights from..to in one
// batch. When the node's chain ends below to, the result is cut short at
// its tip (and empty when from is above it).
func (c *Client) BlockHashes(ctx context.Context, from, to int32) ([]chainhash.Hash, error) {
	if from > to {
		return nil, nil
	}
	reqs := make([]Request, 0, int(to-from)+1)
	for h := from; h <= to; h++ {
		reqs = append(reqs, Request{Method: "getblockhash", Params: []any{h}})
	}
	raws, err := c.CallBatch(ctx, reqs)
	var item *BatchItemError
	switch {
	case errors.As(err, &item) && errors.Is(err, ErrHeightOutOfRange):
		raws = raws[:item.Index]
	case err != nil:
		return nil, fmt.Errorf("block hashes %d-%d: %w", from, to, err)
	}

	hashes := make([]chainhash.Hash, len(raws))
	for i, raw := range raws {
		if hashes[i], err = decodeHash(raw); err != nil {
			return nil, fmt.Errorf("block hash at height %d: %w", from+int32(i), err)
		}
	}
	return hashes, nil
}

// Headers returns the best-chain headers of heights from..to, fetched as
// one batch of getblockhash and one of getblockheader. Each header is
// checked to hash to the hash the node gave for its height.
func (c *Client) Headers(ctx context.Context, from, to int32) ([]wire.BlockHeader, error) {
	headers, _, err := c.headerRange(ctx, from, to)
	return headers, err
}

func (c *Client) headerRange(ctx context.Context, from, to int32) ([]wire.BlockHeader, []chainhash.Hash, error) {
	if from > to {
		return nil, nil, nil
	}
	hashes, err := c.BlockHashes(ctx, from, to)
	if err != nil {
		return nil, nil, err
	}
	if len(hashes) != int(to-from)+1 {
		return nil, nil, fmt.Errorf("headers %d-%d: %w: the node's tip is %d",
			from, to, ErrHeightOutOfRange, from+int32(len(hashes))-1)
	}

	reqs := make([]Request, len(hashes))
	for i := range hashes {
		reqs[i] = Request{Method: "getblockheader", Params: []any{hashes[i].String(), false}}
	}
	raws, err := c.CallBatch(ctx, reqs)
	if err != nil {
		return nil, nil, fmt.Errorf("headers %d-%d: %w", from, to, err)
	}

	headers := make([]wire.BlockHeader, len(raws))
	for i, raw := range raws {
		height := from + int32(i)
		if err := decodeHeader(raw, &headers[i]); err != nil {
			return nil, nil, fmt.Errorf("header at height %d: %w", height, err)
		}
		if got := headers[i].BlockHash(); got != hashes[i] {
			return nil, nil, &BadHeaderError{Height: height, Hash: hashes[i], Kind: ErrHashMismatch,
				Reason: fmt.Sprintf("getblockheader returned a header hashing to %v", got)}
		}
	}
	return headers, hashes, nil
}

// ChainInfo returns the node's getblockchaininfo, tolerating btcd's
// missing fields.
func (c *Client) ChainInfo(ctx context.Context) (ChainInfo, error) {
	raw, err := c.Call(ctx, "getblockchaininfo")
	if err != nil {
		return ChainInfo{}, err
	}
	var r struct {
		Chain                string   `json:"chain"`
		Blocks               int32    `json:"blocks"`
		Headers              int32    `json:"headers"`
		BestBlockHash        string   `json:"bestblockhash"`
		InitialBlockDownload *bool    `json:"initialblockdownload"`
		VerificationProgress *float64 `json:"verificationprogress"`
		Pruned               bool     `json:"pruned"`
		PruneHeight          int32    `json:"pruneheight"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return ChainInfo{}, fmt.Errorf("%w: getblockchaininfo result: %w", ErrProtocol, err)
	}
	info := ChainInfo{
		Chain:       r.Chain,
		Blocks:      r.Blocks,
		Headers:     r.Headers,
		Pruned:      r.Pruned,
		PruneHeight: r.PruneHeight,
	}
	if err := chainhash.Decode(&info.BestHash, r.BestBlockHash); err != nil {
		return ChainInfo{}, fmt.Errorf("%w: getblockchaininfo bestblockhash %q: %w",
			ErrProtocol, r.BestBlockHash, err)
	}
	if r.InitialBlockDownload != nil {
		info.InitialBlockDownload = *r.InitialBlockDownload
	}
	if r.VerificationProgress != nil {
		info.VerificationProgress = *r.VerificationProgress
		info.HasVerificationProgress = true
	}
	return info, nil
}

// NetworkHashPS returns the node's getnetworkhashps for the blocks blocks
// ending at height (-1: the tip; blocks <= 0: since the last retarget).
// btcd returns 0 for a height above its tip where bitcoind uses the tip.
func (c *Client) NetworkHashPS(ctx context.Context, blocks int, height int32) (float64, error) {
	raw, err := c.Call(ctx, "getnetworkhashps", blocks, height)
	if err != nil {
		return 0, err
	}
	var hps float64
	if err := json.Unmarshal(raw, &hps); err != nil {
		return 0, fmt.Errorf("%w: getnetworkhashps result %s: %w", ErrProtocol, raw, err)
	}
	return hps, nil
}

// decodeHash parses a JSON string holding a 64-digit block hash.
func decodeHash(raw json.RawMessage) (chainhash.Hash, error) {
	var h chainhash.Hash
	s, ok := jsonString(raw)
	if !ok || len(s) != 2*chainhash.HashSize {
		return h, fmt.Errorf("%w: %.80s is not a block hash", ErrProtocol, raw)
	}
	if err := chainhash.Decode(&h, string(s)); err != nil {
		return h, fmt.Errorf("%w: %s is not a block hash: %w", ErrProtocol, s, err)
	}
	return h, nil
}

// decodeHeader parses a JSON string holding an 80-byte serialized header.
func decodeHeader(raw json.RawMessage, h *wire.BlockHeader) error {
	s, ok := jsonString(raw)
	if !ok || len(s) != 2*wire.MaxBlockHeaderPayload {
		return fmt.Errorf("%w: %.80s is not a hex block header", ErrProtocol, raw)
	}
	var buf [wire.MaxBlockHeaderPayload]byte
	if _, err := hex.Decode(buf[:], s); err != nil {
		return fmt.Errorf("%w: block header %s: %w", ErrProtocol, s, err)
	}
	return h.Deserialize(bytes.NewReader(buf[:]))
}

// jsonString returns the contents of a JSON string without escapes, which
// is all hashes and hex need.
func jsonString(raw json.RawMessage) ([]byte, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, false
	}
	s := raw[1 : len(raw)-1]
	return s, bytes.IndexByte(s, '\\') < 0
}
