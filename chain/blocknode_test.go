package chain

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/minerscope/minerscope/chain/chaintest"
)

// blockNode is an httptest server that answers like bitcoind: JSON-RPC
// (getblockhash 0, getblockchaininfo, getblock <hash> 0, single or batched)
// and, when rest is set, Bitcoin Core's REST interface (/rest/block/<hash>.bin,
// /rest/chaininfo.json; without it, 404 with an empty body like bitcoind
// without -rest=1). Its blocks come from get: in the integration tests, the
// exact bytes a real btcd returns for getblock <hash> 0 (btcd has no REST).
// It can pretend to be pruned and corrupt chosen blocks.
type blockNode struct {
	t       testing.TB
	srv     *httptest.Server
	get     func(ctx context.Context, hash chainhash.Hash) ([]byte, error) // nil bytes: unknown
	heights map[chainhash.Hash]int32
	headers [][]byte // serialized headers by height, for /rest/headers
	genesis chainhash.Hash
	tip     int32

	rest        atomic.Bool
	pruneHeight atomic.Int32 // > 0: pruned below it
	shuffle     bool         // answer batches in reverse order
	delay       func(n int64)
	corrupt     func(height int32, raw []byte) []byte // nil: none

	served      atomic.Int64 // blocks sent
	restHits    atomic.Int64
	rpcBlocks   atomic.Int64
	inFlight    atomic.Int64
	maxInFlight atomic.Int64
	mu          sync.Mutex // guards observe
	observe     func(served int64)
}

// newBlockNode serves blocks, the serialized blocks of heights 0, 1, ….
func newBlockNode(t testing.TB, blocks [][]byte) *blockNode {
	byHash := make(map[chainhash.Hash][]byte, len(blocks))
	for _, b := range blocks {
		byHash[chainhash.DoubleHashH(b[:80])] = b
	}
	return startBlockNode(t, blocks, func(_ context.Context, h chainhash.Hash) ([]byte, error) {
		return byHash[h], nil
	})
}

// newBtcdFront serves the blocks of a real btcd node, asking it for each one
// with getblock <hash> 0; blocks are the same blocks (for heights).
func newBtcdFront(t testing.TB, n *chaintest.Node, blocks [][]byte) *blockNode {
	return startBlockNode(t, blocks, func(ctx context.Context, h chainhash.Hash) ([]byte, error) {
		var s string
		raw, err := n.Call(ctx, "getblock", h.String(), 0)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return hex.DecodeString(s)
	})
}

func startBlockNode(t testing.TB, blocks [][]byte, get func(context.Context, chainhash.Hash) ([]byte, error)) *blockNode {
	f := &blockNode{t: t, get: get, heights: make(map[chainhash.Hash]int32, len(blocks)),
		tip: int32(len(blocks) - 1)}
	for i, b := range blocks {
		f.heights[chainhash.DoubleHashH(b[:80])] = int32(i)
		f.headers = append(f.headers, b[:80])
	}
	f.genesis = chainhash.DoubleHashH(blocks[0][:80])
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *blockNode) addr() string { return strings.TrimPrefix(f.srv.URL, "http://") }

// dial connects a client with fast retries.
func (f *blockNode) dial(t testing.TB) *Client {
	t.Helper()
	c, err := newClient(Config{Host: f.addr(), User: "u", Pass: "p", RetryFor: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c.minBackoff, c.maxBackoff = time.Millisecond, 4*time.Millisecond
	t.Cleanup(c.Close)
	if err := c.detectNetwork(context.Background(), ""); err != nil {
		t.Fatalf("dial block node: %v", err)
	}
	return c
}

func (f *blockNode) serve(w http.ResponseWriter, r *http.Request) {
	cur := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for m := f.maxInFlight.Load(); cur > m && !f.maxInFlight.CompareAndSwap(m, cur); m = f.maxInFlight.Load() {
	}
	if r.Method == http.MethodGet {
		f.serveREST(w, r)
		return
	}
	if u, p, ok := r.BasicAuth(); !ok || u != "u" || p != "p" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	if bytes.HasPrefix(body, []byte("[")) {
		var reqs []fakeReq
		if err := json.Unmarshal(body, &reqs); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		replies := make([]fakeReply, len(reqs))
		for i, req := range reqs {
			replies[i] = f.handle(r.Context(), req)
		}
		if f.shuffle {
			for i, j := 0, len(replies)-1; i < j; i, j = i+1, j-1 {
				replies[i], replies[j] = replies[j], replies[i]
			}
		}
		f.finish(w, replies)
		return
	}
	var req fakeReq
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	reply := f.handle(r.Context(), req)
	if reply.Error != nil {
		w.WriteHeader(http.StatusInternalServerError)
	}
	f.finish(w, reply)
}

// finish writes a reply after the optional delay; served blocks count once
// the reply is written.
func (f *blockNode) finish(w http.ResponseWriter, v any) {
	if f.delay != nil {
		f.delay(f.rpcBlocks.Load())
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (f *blockNode) countServed() {
	n := f.served.Add(1)
	f.mu.Lock()
	obs := f.observe
	f.mu.Unlock()
	if obs != nil {
		obs(n)
	}
}

func (f *blockNode) handle(ctx context.Context, req fakeReq) fakeReply {
	reply := fakeReply{ID: req.ID}
	fail := func(code int, msg string) fakeReply {
		reply.Error = &fakeError{code, msg}
		return reply
	}
	switch req.Method {
	case "getblockhash":
		var h int32
		if len(req.Params) > 0 {
			_ = json.Unmarshal(req.Params[0], &h)
		}
		if h < 0 || h > f.tip {
			reply.Error = &fakeError{-8, "Block height out of range"}
			break
		}
		reply.Result = chainhash.DoubleHashH(f.headers[h]).String()
	case "getblockchaininfo":
		prune := f.pruneHeight.Load()
		info := map[string]any{"chain": "main", "blocks": f.tip, "headers": f.tip,
			"bestblockhash": f.genesis.String(), "pruned": prune > 0}
		if prune > 0 {
			info["pruneheight"] = prune
		}
		reply.Result = info
	case "getblock":
		var s string
		var verbosity int
		if len(req.Params) != 2 || json.Unmarshal(req.Params[0], &s) != nil ||
			json.Unmarshal(req.Params[1], &verbosity) != nil || verbosity != 0 {
			return fail(-1, "bad params")
		}
		f.rpcBlocks.Add(1)
		raw, code, msg := f.block(ctx, s)
		if code != 0 {
			return fail(code, msg)
		}
		reply.Result = hex.EncodeToString(raw)
		f.countServed()
	default:
		return fail(-32601, "Method not found")
	}
	return reply
}

// block returns a block's bytes, or bitcoind's RPC error for it.
func (f *blockNode) block(ctx context.Context, s string) ([]byte, int, string) {
	hash, err := chainhash.NewHashFromStr(s)
	if err != nil {
		return nil, -8, "hash must be hexadecimal"
	}
	height, ok := f.heights[*hash]
	if !ok {
		return nil, -5, "Block not found"
	}
	if height < f.pruneHeight.Load() {
		return nil, -1, "Block not available (pruned data)"
	}
	raw, err := f.get(ctx, *hash)
	if err != nil || raw == nil {
		return nil, -5, fmt.Sprintf("Block not found (%v)", err)
	}
	if f.corrupt != nil {
		raw = f.corrupt(height, bytes.Clone(raw))
	}
	return raw, 0, ""
}

// serveREST answers like bitcoind's rest.cpp.
func (f *blockNode) serveREST(w http.ResponseWriter, r *http.Request) {
	if !f.rest.Load() {
		w.WriteHeader(http.StatusNotFound) // no handler: -rest=0
		return
	}
	f.restHits.Add(1)
	path := strings.TrimPrefix(r.URL.Path, "/rest/")
	switch {
	case path == "chaininfo.json":
		reply := f.handle(r.Context(), fakeReq{Method: "getblockchaininfo"})
		_ = json.NewEncoder(w).Encode(reply.Result)
	case strings.HasPrefix(path, "block/") && strings.HasSuffix(path, ".bin"):
		s := strings.TrimSuffix(strings.TrimPrefix(path, "block/"), ".bin")
		raw, code, _ := f.block(r.Context(), s)
		switch code {
		case 0:
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write(raw)
			f.countServed()
		case -1:
			http.Error(w, s+" not available (pruned data)", http.StatusNotFound)
		case -5:
			http.Error(w, s+" not found", http.StatusNotFound)
		default:
			http.Error(w, "Invalid hash: "+s, http.StatusBadRequest)
		}
	case strings.HasPrefix(path, "headers/") && strings.HasSuffix(path, ".bin"):
		// Core 24+: /rest/headers/<hash>.bin?count=N, 1 <= N <= 2000, the best chain from hash on.
		count, err := strconv.Atoi(r.URL.Query().Get("count"))
		if err != nil || count < 1 || count > 2000 {
			http.Error(w, "Header count is invalid or out of acceptable range (1-2000)", http.StatusBadRequest)
			return
		}
		hash, err := chainhash.NewHashFromStr(strings.TrimSuffix(strings.TrimPrefix(path, "headers/"), ".bin"))
		if err != nil {
			http.Error(w, "Invalid hash", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		if h, ok := f.heights[*hash]; ok {
			for i := h; i <= f.tip && i < h+int32(count); i++ {
				_, _ = w.Write(f.headers[i])
			}
		}
	default:
		http.Error(w, "Invalid URI format", http.StatusBadRequest)
	}
}

// hashesOf returns the block hashes of serialized blocks.
func hashesOf(blocks [][]byte) []chainhash.Hash {
	hashes := make([]chainhash.Hash, len(blocks))
	for i, b := range blocks {
		hashes[i] = chainhash.DoubleHashH(b[:wire.MaxBlockHeaderPayload])
	}
	return hashes
}

// mainnetBlocks returns btcd's test blocks 0-14131.
func mainnetBlocks(t testing.TB) [][]byte {
	t.Helper()
	blocks, err := chaintest.MainnetBlocks(context.Background())
	if err != nil {
		t.Fatalf("mainnet test blocks: %v", err)
	}
	return blocks
}

// collectBlocks drains a FetchBlocks channel, checking heights and hashes
// run on from from, and returns the blocks' bytes.
func collectBlocks(t testing.TB, from int32, hashes []chainhash.Hash, ch <-chan RawBlock) [][]byte {
	t.Helper()
	var got [][]byte
	for b := range ch {
		i := len(got)
		if b.Height != from+int32(i) || b.Hash != hashes[i] || b.Block == nil || b.Block.BlockHash() != b.Hash {
			t.Fatalf("block %d: delivered height %d hash %v, want %d %v", i, b.Height, b.Hash, from+int32(i), hashes[i])
		}
		got = append(got, b.Bytes)
	}
	return got
}

// sameBlocks fails unless got equals want byte for byte.
func sameBlocks(t testing.TB, name string, from int32, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d blocks, want %d", name, len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("%s: block %d differs", name, from+int32(i))
		}
	}
}
