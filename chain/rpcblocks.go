package chain

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
)

// RPCBlockSource fetches blocks with getblock <hash> 0 (the serialized block
// in hex), sent as JSON-RPC batches with several batches in flight. It works
// with bitcoind and btcd.
type RPCBlockSource struct {
	c                   *Client
	batchSize, inFlight int
}

// NewRPCBlockSource returns a source fetching batchSize blocks per request
// with inFlight requests at once; non-positive values select
// DefaultBlockBatchSize and DefaultBlockInFlight. bitcoind serves at most
// rpcthreads requests at once (default 4), btcd rpcmaxclients (10).
func NewRPCBlockSource(c *Client, batchSize, inFlight int) *RPCBlockSource {
	return &RPCBlockSource{
		c:         c,
		batchSize: orDefault(batchSize, DefaultBlockBatchSize),
		inFlight:  orDefault(inFlight, DefaultBlockInFlight),
	}
}

// Name is "rpc".
func (s *RPCBlockSource) Name() string { return "rpc" }

// FetchBlocks implements BlockSource. It first checks that the node has not
// pruned the block at from (*PrunedError).
func (s *RPCBlockSource) FetchBlocks(ctx context.Context, from int32, hashes []chainhash.Hash) (<-chan RawBlock, func() error) {
	return fetchPipeline(ctx, s, from, hashes)
}

func (s *RPCBlockSource) limits() (int, int) { return s.batchSize, s.inFlight }

func (s *RPCBlockSource) prepare(ctx context.Context, from int32, _ []chainhash.Hash) error {
	return s.c.checkPruned(ctx, from)
}

func (s *RPCBlockSource) fetchBatch(ctx context.Context, from int32, hashes []chainhash.Hash) ([][]byte, error) {
	return s.c.rawBlocks(ctx, from, hashes)
}

// rawBlocks fetches the serialized blocks with the given hashes, at heights
// from, from+1, …, in one getblock batch.
func (c *Client) rawBlocks(ctx context.Context, from int32, hashes []chainhash.Hash) ([][]byte, error) {
	reqs := make([]Request, len(hashes))
	for i := range hashes {
		reqs[i] = Request{Method: "getblock", Params: []any{hashes[i].String(), 0}}
	}
	results, err := c.callBatch(ctx, reqs, decodeHexBatch)
	var item *BatchItemError
	switch {
	case errors.As(err, &item):
		// The replies below the first failing one are good.
		results = results[:item.Index]
		err = c.blockError(ctx, from+int32(item.Index), hashes[item.Index], item.Err)
	case err != nil:
		return nil, fmt.Errorf("blocks %d-%d: %w", from, from+int32(len(hashes))-1, err)
	}

	blocks := make([][]byte, 0, len(results))
	for i, res := range results {
		s, ok := jsonString(res)
		if !ok || len(s)%2 != 0 {
			return blocks, fmt.Errorf("%w: getblock %v (height %d) returned %.80s, not hex",
				ErrProtocol, hashes[i], from+int32(i), res)
		}
		b := make([]byte, len(s)/2)
		if _, err := hex.Decode(b, s); err != nil {
			return blocks, fmt.Errorf("%w: getblock %v (height %d): %w", ErrProtocol, hashes[i], from+int32(i), err)
		}
		blocks = append(blocks, b)
	}
	return blocks, err
}

// decodeHexBatch is decodeBatch for replies whose results are long strings
// (getblock's hex): encoding/json's scanner reads every byte of a 3 MB hex
// block at about 350 MB/s, longer than fetching and decoding it, while
// scanHexBatch finds the ends of the strings with IndexByte. Replies of any
// other shape (an error, an escape, an unexpected key) go to decodeBatch.
func decodeHexBatch(reqs []Request, firstID uint64, data []byte) ([]json.RawMessage, []error, error) {
	if results, ok := scanHexBatch(data, firstID, len(reqs)); ok {
		return results, make([]error, len(reqs)), nil
	}
	return decodeBatch(reqs, firstID, data)
}

// scanHexBatch parses a JSON array of n objects {"result": "<string without
// escapes>", "error": null, "id": <firstID+i>} (error optional, a string
// "jsonrpc" allowed) in any key order and any reply order, returning each
// result (quotes included, like json.RawMessage) at its request's index. ok
// is false for anything else.
func scanHexBatch(data []byte, firstID uint64, n int) (results []json.RawMessage, ok bool) {
	p := &hexScanner{data: data}
	if !p.expect('[') {
		return nil, false
	}
	results = make([]json.RawMessage, n)
	for i := 0; i < n; i++ {
		if i > 0 && !p.expect(',') {
			return nil, false
		}
		res, id, ok := p.reply()
		if !ok || id < firstID || id-firstID >= uint64(n) || results[id-firstID] != nil {
			return nil, false
		}
		results[id-firstID] = res
	}
	if !p.expect(']') {
		return nil, false
	}
	p.skipSpace()
	return results, p.pos == len(data)
}

// hexScanner walks a reply for scanHexBatch.
type hexScanner struct {
	data []byte
	pos  int
}

func (p *hexScanner) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// expect consumes c after optional white space.
func (p *hexScanner) expect(c byte) bool {
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

// str consumes a string without escapes and returns it with its quotes.
func (p *hexScanner) str() ([]byte, bool) {
	p.skipSpace()
	if p.pos >= len(p.data) || p.data[p.pos] != '"' {
		return nil, false
	}
	end := bytes.IndexByte(p.data[p.pos+1:], '"')
	if end < 0 {
		return nil, false
	}
	s := p.data[p.pos : p.pos+end+2]
	if bytes.IndexByte(s, '\\') >= 0 {
		return nil, false
	}
	p.pos += end + 2
	return s, true
}

// reply consumes one reply object with a string result, a null error and
// an unsigned id.
func (p *hexScanner) reply() (result []byte, id uint64, ok bool) {
	if !p.expect('{') {
		return nil, 0, false
	}
	var gotID bool
	for first := true; ; first = false {
		if !first && !p.expect(',') {
			break
		}
		key, ok := p.str()
		if !ok || !p.expect(':') {
			return nil, 0, false
		}
		switch string(key) {
		case `"result"`:
			if result, ok = p.str(); !ok {
				return nil, 0, false
			}
		case `"error"`:
			if !p.literal("null") {
				return nil, 0, false
			}
		case `"jsonrpc"`: // btcd adds "1.0"
			if _, ok := p.str(); !ok {
				return nil, 0, false
			}
		case `"id"`:
			if id, gotID = p.uint(); !gotID {
				return nil, 0, false
			}
		default:
			return nil, 0, false
		}
	}
	return result, id, result != nil && gotID && p.expect('}')
}

func (p *hexScanner) literal(lit string) bool {
	p.skipSpace()
	if !bytes.HasPrefix(p.data[p.pos:], []byte(lit)) {
		return false
	}
	p.pos += len(lit)
	return true
}

func (p *hexScanner) uint() (uint64, bool) {
	p.skipSpace()
	start := p.pos
	for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
		p.pos++
	}
	n, err := strconv.ParseUint(string(p.data[start:p.pos]), 10, 64)
	return n, err == nil
}
