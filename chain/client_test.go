package chain

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestDialDetectsNetwork(t *testing.T) {
	f := newFakeNode(t, mainnetHeaders(t)[:10])
	c, err := Dial(testCtx(t), f.config())
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.Close()
	if got := c.Network().Name; got != "mainnet" {
		t.Errorf("network %q, want mainnet", got)
	}
	if c.Addr() != f.addr() {
		t.Errorf("Addr %q, want %q", c.Addr(), f.addr())
	}
}

func TestDialRejectsUnknownGenesis(t *testing.T) {
	f := newFakeNode(t, mainnetHeaders(t)[:10])
	f.genesis = &chainhash.Hash{1, 2, 3}
	_, err := Dial(testCtx(t), f.config())
	if !errors.Is(err, ErrUnknownNetwork) {
		t.Fatalf("err = %v, want ErrUnknownNetwork", err)
	}
	if !strings.Contains(err.Error(), f.genesis.String()) {
		t.Errorf("message %q does not name the genesis hash", err)
	}
}

func TestDialRejectsOtherNetwork(t *testing.T) {
	f := newFakeNode(t, mainnetHeaders(t)[:10])
	cfg := f.config()
	cfg.Network = "testnet4"
	_, err := Dial(testCtx(t), cfg)
	if !errors.Is(err, ErrWrongNetwork) {
		t.Fatalf("err = %v, want ErrWrongNetwork", err)
	}
	for _, want := range []string{"testnet4", "mainnet"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q does not name %s", err, want)
		}
	}
}

func TestAuthRefused(t *testing.T) {
	f := newFakeNode(t, mainnetHeaders(t)[:10])
	cfg := f.config()
	cfg.Pass = "wrong"
	_, err := Dial(testCtx(t), cfg)
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("err = %v, want ErrAuth", err)
	}
	if !strings.Contains(err.Error(), "HTTP 401") || !strings.Contains(err.Error(), "--rpcuser") {
		t.Errorf("message %q lacks the status or the advice", err)
	}
	if n := f.requests.Load(); n != 1 {
		t.Errorf("%d requests, want 1 (no retry without a cookie)", n)
	}
}

func writeCookie(t *testing.T, path, pass string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("__cookie__:"+pass), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCookieRereadOn401(t *testing.T) {
	f := newFakeNode(t, mainnetHeaders(t)[:10])
	cookie := filepath.Join(t.TempDir(), ".cookie")
	writeCookie(t, cookie, "first")
	f.setAuth("__cookie__", "first")

	c := f.dial(t, Config{Host: f.addr(), CookieFile: cookie})

	// The node restarts with a new cookie.
	f.setAuth("__cookie__", "second")
	writeCookie(t, cookie, "second")
	before := f.requests.Load()
	if _, err := c.BlockCount(testCtx(t)); err != nil {
		t.Fatalf("BlockCount after cookie rotation: %v", err)
	}
	if n := f.requests.Load() - before; n != 2 {
		t.Errorf("%d requests, want 2 (401, then success)", n)
	}

	// Concurrent requests all recover from one rotation.
	f.setAuth("__cookie__", "again")
	writeCookie(t, cookie, "again")
	ch, errf := c.FetchHeaders(testCtx(t), 0, 9, 1, 8)
	if got := collect(t, 0, ch); len(got) != 10 || errf() != nil {
		t.Fatalf("concurrent fetch after rotation: %d headers, %v", len(got), errf())
	}

	// A cookie the node does not accept fails after one re-read.
	f.setAuth("__cookie__", "third")
	before = f.requests.Load()
	_, err := c.BlockCount(testCtx(t))
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("err = %v, want ErrAuth", err)
	}
	if n := f.requests.Load() - before; n != 1 {
		t.Errorf("%d requests, want 1 (cookie unchanged, no retry)", n)
	}
}

func TestMissingCookie(t *testing.T) {
	_, err := Dial(testCtx(t), Config{Host: "127.0.0.1:1",
		CookieFile: filepath.Join(t.TempDir(), ".cookie")})
	if !errors.Is(err, ErrNoCredentials) {
		t.Fatalf("err = %v, want ErrNoCredentials", err)
	}
}

// failFirst answers the first n requests with fail and the rest normally.
func failFirst(n int64, fail func(w http.ResponseWriter)) func(http.ResponseWriter, *http.Request, int64) bool {
	return func(w http.ResponseWriter, _ *http.Request, i int64) bool {
		if i > n {
			return false
		}
		fail(w)
		return true
	}
}

func busy(w http.ResponseWriter) {
	http.Error(w, "Work queue depth exceeded", http.StatusServiceUnavailable)
}

func warmingUp(w http.ResponseWriter) {
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprint(w, `{"result":null,"error":{"code":-28,"message":"Loading block index…"},"id":1}`)
}

func TestTransientErrorsAreRetried(t *testing.T) {
	tests := []struct {
		name string
		fail func(w http.ResponseWriter)
	}{
		{"work queue full", busy},
		{"btcd too busy", func(w http.ResponseWriter) {
			http.Error(w, "503 Too busy.  Try again later.", http.StatusServiceUnavailable)
		}},
		{"warming up", warmingUp},
		{"empty reply", func(w http.ResponseWriter) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeNode(t, mainnetHeaders(t)[:10])
			f.intercept = failFirst(3, tt.fail)
			c := f.dial(t, f.config())
			if c.Network().Name != "mainnet" {
				t.Errorf("network %q", c.Network().Name)
			}
			if n := f.requests.Load(); n != 4 {
				t.Errorf("%d requests, want 4", n)
			}
		})
	}
}

func TestWarmingUpBatchIsRetried(t *testing.T) {
	f := newFakeNode(t, mainnetHeaders(t)[:10])
	c := f.dial(t, f.config())
	// Requests 2 and 3 (after Dial's) fail like bitcoind warming up:
	// every item of the batch has error -28.
	f.intercept = func(w http.ResponseWriter, r *http.Request, n int64) bool {
		if n > 3 {
			return false
		}
		var reqs []fakeReq
		_ = json.NewDecoder(r.Body).Decode(&reqs)
		replies := make([]fakeReply, len(reqs))
		for i, req := range reqs {
			replies[i] = fakeReply{ID: req.ID, Error: &fakeError{-28, "Verifying blocks…"}}
		}
		_ = json.NewEncoder(w).Encode(replies)
		return true
	}
	hashes, err := c.BlockHashes(testCtx(t), 0, 3)
	if err != nil {
		t.Fatalf("BlockHashes: %v", err)
	}
	if len(hashes) != 4 || hashes[3] != mainnetHeaders(t)[3].BlockHash() {
		t.Errorf("hashes %v", hashes)
	}
	if n := f.requests.Load(); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
}

func TestRetriesGiveUp(t *testing.T) {
	f := newFakeNode(t, mainnetHeaders(t)[:10])
	f.intercept = failFirst(1<<40, busy)
	cfg := f.config()
	cfg.RetryFor = 20 * time.Millisecond
	c := f.client(t, cfg)
	_, err := c.BlockCount(testCtx(t))
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("err = %v, want ErrBusy", err)
	}
	if !strings.Contains(err.Error(), "gave up") || !strings.Contains(err.Error(), "rpcworkqueue") {
		t.Errorf("message %q", err)
	}
	if n := f.requests.Load(); n < 2 {
		t.Errorf("%d requests, want retries", n)
	}
}

func TestRetryStopsOnCancel(t *testing.T) {
	f := newFakeNode(t, mainnetHeaders(t)[:10])
	ctx, cancel := context.WithCancel(t.Context())
	f.intercept = func(w http.ResponseWriter, _ *http.Request, n int64) bool {
		if n == 3 {
			cancel()
		}
		busy(w)
		return true
	}
	cfg := f.config()
	cfg.RetryFor = time.Hour
	_, err := f.client(t, cfg).BlockCount(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestRPCErrorsAreNotRetried(t *testing.T) {
	f := newFakeNode(t, mainnetHeaders(t)[:10])
	c := f.dial(t, f.config())
	before := f.requests.Load()

	_, err := c.BlockHash(testCtx(t), 10)
	var rpcErr *RPCError
	if !errors.As(err, &rpcErr) || rpcErr.Code != -8 || rpcErr.Method != "getblockhash" {
		t.Fatalf("err = %v, want RPC error -8 from getblockhash", err)
	}
	if !errors.Is(err, ErrHeightOutOfRange) {
		t.Errorf("err = %v does not match ErrHeightOutOfRange", err)
	}
	if _, err := c.Call(testCtx(t), "getblockheader", strings.Repeat("00", 32), false); !errors.Is(err, ErrBlockNotFound) {
		t.Errorf("err = %v, want ErrBlockNotFound", err)
	}
	if n := f.requests.Load() - before; n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

// dropConn answers like btcd (no Content-Length) with only part of a reply,
// then closes the connection.
func dropConn(withLength bool) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\n")
		if withLength {
			buf.WriteString("Content-Length: 200\r\n")
		}
		buf.WriteString("\r\n" + `{"result":"00000000`)
		buf.Flush()
	}
}

func TestDroppedConnectionAfterConnectIsRetried(t *testing.T) {
	for _, withLength := range []bool{false, true} {
		t.Run(fmt.Sprintf("content-length=%v", withLength), func(t *testing.T) {
			f := newFakeNode(t, mainnetHeaders(t)[:10])
			c := f.dial(t, f.config())
			before := f.requests.Load()
			f.intercept = func(w http.ResponseWriter, _ *http.Request, n int64) bool {
				if n > before+2 {
					return false
				}
				dropConn(withLength)(w)
				return true
			}
			hashes, err := c.BlockHashes(testCtx(t), 0, 9)
			if err != nil {
				t.Fatalf("BlockHashes: %v", err)
			}
			if len(hashes) != 10 {
				t.Errorf("%d hashes", len(hashes))
			}
			if n := f.requests.Load() - before; n != 3 {
				t.Errorf("%d requests, want 3", n)
			}
		})
	}
}

func TestUnreachableFailsFast(t *testing.T) {
	// A port nobody listens on: take one, then close it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	// With an hour of retry budget, only failing fast lets this return.
	_, err = Dial(testCtx(t), Config{Host: addr, User: "u", Pass: "p", RetryFor: time.Hour})
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("err = %v does not wrap ECONNREFUSED", err)
	}
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("message %q does not name %s", err, addr)
	}
}

// refusingTransport refuses the first n dials, like a restarting node.
type refusingTransport struct {
	*http.Transport
	refuse int32
	dials  atomic.Int32
}

func TestRefusedAfterConnectIsRetried(t *testing.T) {
	f := newFakeNode(t, mainnetHeaders(t)[:10])
	c := f.dial(t, f.config())

	rt := &refusingTransport{refuse: 3}
	var d net.Dialer
	rt.Transport = &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if rt.dials.Add(1) <= rt.refuse {
				return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
			}
			return d.DialContext(ctx, network, addr)
		},
	}
	c.http.Transport = rt

	n, err := c.BlockCount(testCtx(t))
	if err != nil {
		t.Fatalf("BlockCount: %v", err)
	}
	if n != 9 || rt.dials.Load() != 4 {
		t.Errorf("count %d after %d dials, want 9 after 4", n, rt.dials.Load())
	}
}

func TestTLSOnlyNode(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	_, err := Dial(testCtx(t), Config{Host: strings.TrimPrefix(srv.URL, "https://"),
		User: "u", Pass: "p"})
	if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "--notls") {
		t.Fatalf("err = %v, want ErrProtocol advising --notls", err)
	}
}

func TestBatchRepliesMatchedByID(t *testing.T) {
	headers := mainnetHeaders(t)[:50]
	f := newFakeNode(t, headers)
	f.shuffle = true
	c := f.dial(t, f.config())

	got, err := c.Headers(testCtx(t), 5, 44)
	if err != nil {
		t.Fatalf("Headers: %v", err)
	}
	for i := range got {
		if got[i] != headers[5+i] {
			t.Fatalf("header %d differs", 5+i)
		}
	}
}

func TestBatchItemErrors(t *testing.T) {
	f := newFakeNode(t, mainnetHeaders(t)[:10])
	c := f.dial(t, f.config())
	reqs := []Request{
		{Method: "getblockhash", Params: []any{1}},
		{Method: "getblockhash", Params: []any{99}},
		{Method: "nosuchmethod"},
		{Method: "getblockcount"},
	}
	res, err := c.CallBatch(testCtx(t), reqs)
	var item *BatchItemError
	if !errors.As(err, &item) || item.Index != 1 {
		t.Fatalf("err = %v, want item 1 to fail", err)
	}
	if !errors.Is(err, ErrHeightOutOfRange) {
		t.Errorf("err = %v, want ErrHeightOutOfRange", err)
	}
	if string(res[3]) != "9" || res[1] != nil {
		t.Errorf("results %q", res)
	}
}

func TestBlockHashesStopAtTip(t *testing.T) {
	headers := mainnetHeaders(t)[:10]
	f := newFakeNode(t, headers)
	c := f.dial(t, f.config())
	tests := []struct {
		from, to int32
		want     int
	}{
		{0, 9, 10},
		{5, 20, 5},
		{10, 20, 0},
		{3, 2, 0},
	}
	for _, tt := range tests {
		got, err := c.BlockHashes(testCtx(t), tt.from, tt.to)
		if err != nil {
			t.Fatalf("BlockHashes(%d, %d): %v", tt.from, tt.to, err)
		}
		if len(got) != tt.want {
			t.Errorf("BlockHashes(%d, %d): %d hashes, want %d", tt.from, tt.to, len(got), tt.want)
		}
		for i, h := range got {
			if h != headers[tt.from+int32(i)].BlockHash() {
				t.Errorf("hash %d differs", tt.from+int32(i))
			}
		}
	}
	if _, err := c.Headers(testCtx(t), 5, 20); !errors.Is(err, ErrHeightOutOfRange) {
		t.Errorf("Headers beyond tip: err = %v, want ErrHeightOutOfRange", err)
	}
}

func TestHeadersCheckHashes(t *testing.T) {
	headers := append([]wire.BlockHeader(nil), mainnetHeaders(t)[:10]...)
	f := newFakeNode(t, headers)
	c := f.dial(t, f.config())

	// The node answers getblockheader for block 6's hash with block 7.
	f.mu.Lock()
	f.hashes[headers[6].BlockHash()] = 7
	f.mu.Unlock()
	_, err := c.Headers(testCtx(t), 0, 9)
	var bad *BadHeaderError
	if !errors.As(err, &bad) || bad.Height != 6 || !errors.Is(err, ErrHashMismatch) {
		t.Fatalf("err = %v, want hash mismatch at 6", err)
	}
}

func TestChainInfo(t *testing.T) {
	best := "00000000000000000001ee9f4f8d2f3b7a0f6f7d6a3a2f1e0d0c0b0a09080706"
	tests := []struct {
		name  string
		reply string
		want  ChainInfo
	}{
		{"bitcoind", `{"chain":"main","blocks":800000,"headers":800010,"bestblockhash":"` + best +
			`","initialblockdownload":true,"verificationprogress":0.99,"pruned":true,"pruneheight":700000}`,
			ChainInfo{Chain: "main", Blocks: 800000, Headers: 800010, InitialBlockDownload: true,
				VerificationProgress: 0.99, HasVerificationProgress: true, Pruned: true, PruneHeight: 700000}},
		// btcd omits initialblockdownload, verificationprogress and
		// pruneheight (btcjson.GetBlockChainInfoResult, omitempty).
		{"btcd", `{"chain":"mainnet","blocks":14131,"headers":14131,"bestblockhash":"` + best +
			`","difficulty":1,"mediantime":1,"pruned":false,"bip9_softforks":{}}`,
			ChainInfo{Chain: "mainnet", Blocks: 14131, Headers: 14131}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, `{"result":%s,"error":null,"id":1}`, tt.reply)
			}))
			defer srv.Close()
			c, err := newClient(Config{Host: strings.TrimPrefix(srv.URL, "http://")})
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.ChainInfo(testCtx(t))
			if err != nil {
				t.Fatalf("ChainInfo: %v", err)
			}
			want := tt.want
			want.BestHash, _ = chainhashFromStr(best)
			if got != want {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
		})
	}
}

func chainhashFromStr(s string) (chainhash.Hash, error) {
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		return chainhash.Hash{}, err
	}
	return *h, nil
}

// TestRequestShape checks what btcd needs: a params array even when empty,
// jsonrpc 1.0 and numeric ids.
func TestRequestShape(t *testing.T) {
	var got []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		_ = json.NewDecoder(bufio.NewReader(r.Body)).Decode(&m)
		got = append(got, m)
		fmt.Fprintf(w, `{"result":1,"error":null,"id":%v}`, m["id"])
	}))
	defer srv.Close()
	c, err := newClient(Config{Host: strings.TrimPrefix(srv.URL, "http://")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Call(testCtx(t), "getblockcount"); err != nil {
		t.Fatal(err)
	}
	m := got[0]
	params, ok := m["params"].([]any)
	if !ok || len(params) != 0 || m["jsonrpc"] != "1.0" || m["method"] != "getblockcount" {
		t.Errorf("request %v", m)
	}
	if _, ok := m["id"].(float64); !ok {
		t.Errorf("id %v is not a number", m["id"])
	}
}

func TestDecodeBatchRejectsBadIDs(t *testing.T) {
	reqs := []Request{{Method: "getblockcount"}, {Method: "getblockcount"}}
	tests := []struct {
		name, reply string
		ok          bool
	}{
		{"in order", `[{"result":1,"error":null,"id":10},{"result":2,"error":null,"id":11}]`, true},
		{"reversed", `[{"result":2,"error":null,"id":11},{"result":1,"error":null,"id":10}]`, true},
		{"duplicate", `[{"result":1,"error":null,"id":10},{"result":2,"error":null,"id":10}]`, false},
		{"missing", `[{"result":1,"error":null,"id":10}]`, false},
		{"foreign", `[{"result":1,"error":null,"id":10},{"result":2,"error":null,"id":18446744073709551615}]`, false},
		{"below", `[{"result":1,"error":null,"id":9},{"result":2,"error":null,"id":11}]`, false},
		{"null id", `[{"result":1,"error":null,"id":null},{"result":2,"error":null,"id":11}]`, false},
		{"whole-batch error", `{"result":null,"error":{"code":-32700,"message":"Parse error"},"id":null}`, false},
	}
	for _, tt := range tests {
		res, _, err := decodeBatch(reqs, 10, []byte(tt.reply))
		if tt.ok != (err == nil) {
			t.Errorf("%s: err = %v", tt.name, err)
			continue
		}
		if tt.ok && (string(res[0]) != "1" || string(res[1]) != "2") {
			t.Errorf("%s: results %q", tt.name, res)
		}
	}
}
