package chain

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// mainnetTip is the last block in btcd's blk_0_to_14131.dat.
const mainnetTip = 14131

var (
	mainnetOnce    sync.Once
	mainnetHdrs    []wire.BlockHeader
	mainnetHdrsErr error
)

// mainnetHeaders returns the real mainnet headers 0-14131 read from btcd's
// test data file (records: 4-byte magic, 4-byte little-endian length, block).
func mainnetHeaders(t testing.TB) []wire.BlockHeader {
	t.Helper()
	mainnetOnce.Do(func() { mainnetHdrs, mainnetHdrsErr = readMainnetHeaders() })
	if mainnetHdrsErr != nil {
		t.Fatalf("mainnet test headers: %v", mainnetHdrsErr)
	}
	return mainnetHdrs
}

func readMainnetHeaders() ([]wire.BlockHeader, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}",
		"github.com/btcsuite/btcd").Output()
	if err != nil {
		return nil, fmt.Errorf("locate btcd module: %w", err)
	}
	path := filepath.Join(strings.TrimSpace(string(out)),
		"blockchain", "testdata", "blk_0_to_14131.dat")
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	r := bufio.NewReader(f)
	headers := make([]wire.BlockHeader, 0, mainnetTip+1)
	for len(headers) <= mainnetTip {
		var rec [8]byte
		if _, err := io.ReadFull(r, rec[:]); err != nil {
			return nil, fmt.Errorf("record %d: %w", len(headers), err)
		}
		if magic := wire.BitcoinNet(binary.LittleEndian.Uint32(rec[:4])); magic != wire.MainNet {
			return nil, fmt.Errorf("record %d: magic %v", len(headers), magic)
		}
		block := make([]byte, binary.LittleEndian.Uint32(rec[4:]))
		if _, err := io.ReadFull(r, block); err != nil {
			return nil, fmt.Errorf("record %d: %w", len(headers), err)
		}
		var h wire.BlockHeader
		if err := h.Deserialize(bytes.NewReader(block)); err != nil {
			return nil, fmt.Errorf("record %d: %w", len(headers), err)
		}
		headers = append(headers, h)
	}
	return headers, nil
}

// fakeNode is an httptest JSON-RPC server serving a fixed header chain the
// way bitcoind does (HTTP 500 for errors of single requests), with hooks to
// inject the failures the client must survive.
type fakeNode struct {
	t   testing.TB
	srv *httptest.Server

	mu      sync.Mutex
	user    string
	pass    string
	headers []wire.BlockHeader
	hashes  map[chainhash.Hash]int
	genesis *chainhash.Hash // overrides getblockhash 0

	// intercept, when set, runs first for each request (n counts from 1);
	// it returns true when it has answered.
	intercept func(w http.ResponseWriter, r *http.Request, n int64) bool
	// shuffle answers batches in reverse order.
	shuffle bool
	// delay, when set, is called before answering (to mix up timing).
	delay func(n int64)

	requests    atomic.Int64
	inFlight    atomic.Int64
	maxInFlight atomic.Int64
	methods     sync.Map // method -> *atomic.Int64
}

func newFakeNode(t testing.TB, headers []wire.BlockHeader) *fakeNode {
	f := &fakeNode{t: t, user: "u", pass: "p"}
	f.setHeaders(headers)
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeNode) setHeaders(headers []wire.BlockHeader) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.headers = headers
	f.hashes = make(map[chainhash.Hash]int, len(headers))
	for i := range headers {
		f.hashes[headers[i].BlockHash()] = i
	}
}

func (f *fakeNode) setAuth(user, pass string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.user, f.pass = user, pass
}

// addr is the server's host:port.
func (f *fakeNode) addr() string { return strings.TrimPrefix(f.srv.URL, "http://") }

// config is a Config for the fake with fast retries.
func (f *fakeNode) config() Config {
	return Config{Host: f.addr(), User: f.user, Pass: f.pass, RetryFor: 30 * time.Second}
}

// client builds a client with tiny backoffs, not yet dialled.
func (f *fakeNode) client(t testing.TB, cfg Config) *Client {
	t.Helper()
	c, err := newClient(cfg)
	if err != nil {
		t.Fatalf("newClient: %v", err)
	}
	c.minBackoff, c.maxBackoff = time.Millisecond, 4*time.Millisecond
	t.Cleanup(c.Close)
	return c
}

// dial is client plus network detection.
func (f *fakeNode) dial(t testing.TB, cfg Config) *Client {
	t.Helper()
	c := f.client(t, cfg)
	if err := c.detectNetwork(context.Background(), cfg.Network); err != nil {
		t.Fatalf("dial fake node: %v", err)
	}
	return c
}

func (f *fakeNode) count(method string) int64 {
	v, _ := f.methods.LoadOrStore(method, new(atomic.Int64))
	return v.(*atomic.Int64).Load()
}

type fakeReq struct {
	JSONRPC string            `json:"jsonrpc"`
	ID      json.RawMessage   `json:"id"`
	Method  string            `json:"method"`
	Params  []json.RawMessage `json:"params"`
}

type fakeReply struct {
	Result any             `json:"result"`
	Error  *fakeError      `json:"error"`
	ID     json.RawMessage `json:"id"`
}

type fakeError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (f *fakeNode) serve(w http.ResponseWriter, r *http.Request) {
	n := f.requests.Add(1)
	cur := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxInFlight.Load()
		if cur <= m || f.maxInFlight.CompareAndSwap(m, cur) {
			break
		}
	}
	if f.intercept != nil && f.intercept(w, r, n) {
		return
	}
	if f.delay != nil {
		f.delay(n)
	}

	f.mu.Lock()
	user, pass := f.user, f.pass
	f.mu.Unlock()
	if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}

	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if bytes.HasPrefix(body, []byte("[")) {
		var reqs []fakeReq
		if err := json.Unmarshal(body, &reqs); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		replies := make([]fakeReply, len(reqs))
		for i, req := range reqs {
			replies[i] = f.handle(req)
		}
		if f.shuffle {
			for i, j := 0, len(replies)-1; i < j; i, j = i+1, j-1 {
				replies[i], replies[j] = replies[j], replies[i]
			}
		}
		_ = json.NewEncoder(w).Encode(replies)
		return
	}

	var req fakeReq
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	reply := f.handle(req)
	if reply.Error != nil {
		w.WriteHeader(http.StatusInternalServerError) // bitcoind's JSON-RPC 1.0 habit
	}
	_ = json.NewEncoder(w).Encode(reply)
}

// handle answers one request from the fake chain.
func (f *fakeNode) handle(req fakeReq) fakeReply {
	v, _ := f.methods.LoadOrStore(req.Method, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)

	f.mu.Lock()
	defer f.mu.Unlock()
	reply := fakeReply{ID: req.ID}
	fail := func(code int, msg string) fakeReply {
		reply.Error = &fakeError{code, msg}
		return reply
	}
	tip := len(f.headers) - 1

	switch req.Method {
	case "getblockcount":
		reply.Result = tip
	case "getblockhash":
		var h int
		if len(req.Params) != 1 || json.Unmarshal(req.Params[0], &h) != nil {
			return fail(-1, "bad params")
		}
		if h < 0 || h > tip {
			return fail(-8, "Block height out of range")
		}
		if h == 0 && f.genesis != nil {
			reply.Result = f.genesis.String()
		} else {
			reply.Result = f.headers[h].BlockHash().String()
		}
	case "getblockheader":
		var s string
		if len(req.Params) != 2 || json.Unmarshal(req.Params[0], &s) != nil {
			return fail(-1, "bad params")
		}
		hash, err := chainhash.NewHashFromStr(s)
		i, ok := f.hashes[*hash]
		if err != nil || !ok {
			return fail(-5, "Block not found")
		}
		var buf bytes.Buffer
		_ = f.headers[i].Serialize(&buf)
		reply.Result = hex.EncodeToString(buf.Bytes())
	default:
		return fail(-32601, "Method not found")
	}
	return reply
}
