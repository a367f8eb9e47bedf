package chain

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minerscope/minerscope/analysis"
)

// Backoff bounds for retried calls.
const (
	minBackoff = 250 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// Client is a JSON-RPC client for one bitcoind or btcd node. It is safe for
// concurrent use.
type Client struct {
	addr   string // host:port, for messages
	url    string
	http   *http.Client
	log    *slog.Logger
	params analysis.Params

	retryFor               time.Duration
	minBackoff, maxBackoff time.Duration

	nextID    atomic.Uint64
	connected atomic.Bool // an HTTP reply has arrived at least once

	authMu     sync.Mutex
	user, pass string
	authGen    uint64 // counts credential changes
	cookieFile string // re-read on 401; "" when a password was given
}

// Request is one call of a batch.
type Request struct {
	Method string
	Params []any
}

// Dial connects to the node cfg describes (see ResolveConfig) and detects
// its network from the genesis block hash. When cfg.Network names a network
// the node must be on it. A node that cannot be reached fails at once with
// ErrUnreachable; a node that is warming up is waited for.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	c, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	if err := c.detectNetwork(ctx, cfg.Network); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// newClient builds a client without talking to the node.
func newClient(cfg Config) (*Client, error) {
	network, err := normalizeNetwork(cfg.Network)
	if err != nil {
		return nil, err
	}
	addr, err := withDefaultPort(cfg.Host, network)
	if err != nil {
		return nil, err
	}

	c := &Client{
		addr:       addr,
		url:        "http://" + addr + "/",
		log:        loggerOrDiscard(cfg.Logger),
		retryFor:   cfg.RetryFor,
		minBackoff: minBackoff,
		maxBackoff: maxBackoff,
		http:       newHTTPClient(cfg.Timeout),
	}
	if c.retryFor == 0 {
		c.retryFor = DefaultRetryFor
	}

	switch {
	case cfg.Pass != "":
		c.user, c.pass = cfg.User, cfg.Pass
	case cfg.CookieFile != "":
		c.cookieFile = cfg.CookieFile
		if c.user, c.pass, err = readCookie(cfg.CookieFile); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// newHTTPClient makes a transport for a local node: no proxy, no
// compression, a few idle connections for bitcoind (btcd closes them all).
func newHTTPClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:         dialer.DialContext,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     30 * time.Second,
			DisableCompression:  true,
		},
	}
}

// detectNetwork sets c.params from the node's genesis hash.
func (c *Client) detectNetwork(ctx context.Context, hint string) error {
	genesis, err := c.BlockHash(ctx, 0)
	if err != nil {
		return err
	}
	p, ok := analysis.ParamsByGenesis(genesis)
	if !ok {
		return fmt.Errorf("%w: the node at %s has genesis block %v; point minerscope "+
			"at a Bitcoin node (mainnet, testnet3, testnet4, signet, regtest or btcd simnet)",
			ErrUnknownNetwork, c.addr, genesis)
	}
	hint, _ = normalizeNetwork(hint)
	if hint != "" && hint != p.Name {
		return fmt.Errorf("%w: expected %s but the node at %s is on %s; fix --network "+
			"or bitcoin.conf, or point --node (or rpcconnect/rpcport in bitcoin.conf) at a %s node",
			ErrWrongNetwork, hint, c.addr, p.Name, hint)
	}
	c.params = p
	return nil
}

// Network returns the consensus parameters of the node's network.
func (c *Client) Network() analysis.Params { return c.params }

// Addr returns the host:port the client talks to.
func (c *Client) Addr() string { return c.addr }

// Close releases idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Call invokes one RPC method and returns its raw JSON result. Errors the
// node returns are *RPCError.
func (c *Client) Call(ctx context.Context, method string, params ...any) (json.RawMessage, error) {
	body, err := encodeRequest(c.nextID.Add(1), method, params)
	if err != nil {
		return nil, err
	}
	var result json.RawMessage
	err = c.retry(ctx, method, func(ctx context.Context) error {
		data, err := c.exchange(ctx, body)
		if err != nil {
			return err
		}
		result, err = decodeReply(method, data)
		return c.cutShort(err)
	})
	return result, err
}

// CallBatch sends reqs as one JSON-RPC batch and returns the results in the
// order of reqs, matched by id whatever order the node answers in. When
// items fail, the others' results are returned too, with a *BatchItemError
// naming the first failing item.
func (c *Client) CallBatch(ctx context.Context, reqs []Request) ([]json.RawMessage, error) {
	return c.callBatch(ctx, reqs, decodeBatch)
}

// batchDecoder matches the replies in data to reqs, whose ids count from
// firstID; decodeBatch is the general one.
type batchDecoder func(reqs []Request, firstID uint64, data []byte) ([]json.RawMessage, []error, error)

// callBatch is CallBatch with a chosen reply decoder.
func (c *Client) callBatch(ctx context.Context, reqs []Request, decode batchDecoder) ([]json.RawMessage, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	first := c.nextID.Add(uint64(len(reqs))) - uint64(len(reqs)) + 1
	body, err := encodeBatch(first, reqs)
	if err != nil {
		return nil, err
	}

	var results []json.RawMessage
	var itemErr error
	err = c.retry(ctx, reqs[0].Method, func(ctx context.Context) error {
		data, err := c.exchange(ctx, body)
		if err != nil {
			return err
		}
		var itemErrs []error
		results, itemErrs, err = decode(reqs, first, data)
		if err != nil {
			return c.cutShort(err)
		}
		itemErr = firstItemError(itemErrs)
		if errors.Is(itemErr, ErrWarmingUp) {
			return itemErr // retry the whole batch
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, itemErr
}

// exchange posts one encoded request and returns the reply body. It turns
// HTTP-level failures into the package's sentinel errors.
func (c *Client) exchange(ctx context.Context, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if user, pass := c.credentials(); user != "" || pass != "" {
		req.SetBasicAuth(user, pass)
	}

	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, c.unreachable(err)
	}
	defer resp.Body.Close()
	c.connected.Store(true)

	data, err := io.ReadAll(resp.Body)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, c.unreachable(fmt.Errorf("reply cut short: %w", err))
	}
	return c.checkStatus(resp.StatusCode, data)
}

// checkStatus classifies a reply by HTTP status and shape. bitcoind answers
// JSON-RPC 1.0 errors with 404/500 and a JSON body, so those pass through.
func (c *Client) checkStatus(status int, data []byte) ([]byte, error) {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return nil, fmt.Errorf("%w (HTTP %d from %s); check --rpcuser/--rpcpassword "+
			"or --rpccookiefile/--bitcoin-dir", ErrAuth, status, c.addr)
	case http.StatusServiceUnavailable:
		return nil, fmt.Errorf("%w (HTTP 503 from %s: %q); lower the number of parallel "+
			"requests, or raise rpcworkqueue (bitcoind) or rpcmaxclients (btcd)",
			ErrBusy, c.addr, snippet(data))
	}
	if data = bytes.TrimSpace(data); completeJSON(data) {
		return data, nil
	}
	switch {
	case status == http.StatusOK:
		// btcd sends no Content-Length: a reply cut short by a dying
		// node, or an empty one from a node shutting down, ends here.
		return nil, c.unreachable(errors.New("reply cut short"))
	case bytes.Contains(data, []byte("HTTPS server")):
		return nil, fmt.Errorf("%w: the node at %s only speaks TLS; start btcd with "+
			"--notls or connect to bitcoind's plain RPC port", ErrProtocol, c.addr)
	}
	return nil, fmt.Errorf("%w: HTTP %d from %s: %q; check that --node (or rpcconnect/rpcport in bitcoin.conf) "+
		"points to the node's RPC port", ErrProtocol, status, c.addr, snippet(data))
}

// cutShort turns a reply that ends in the middle of its JSON into the lost connection it is. checkStatus
// catches most cut replies by their last byte, but one cut right after an inner object or array ends in a
// bracket too, and only the decoder sees that it stops short.
func (c *Client) cutShort(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Error() == "unexpected end of JSON input" {
		return c.unreachable(fmt.Errorf("reply cut short: %w", err))
	}
	return err
}

// unreachable wraps a transport error with the address and what to check.
func (c *Client) unreachable(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("%w at %s (%w); check that the node is running with server=1 "+
		"and that --node (or rpcconnect/rpcport in bitcoin.conf) points to its RPC port", ErrUnreachable, c.addr, err)
}

// Credentials are the user and password in use (read from the cookie when there is one), for tools
// such as the benchmark baseline that must authenticate exactly as the client does.
func (c *Client) Credentials() (user, pass string) {
	return c.credentials()
}

func (c *Client) credentials() (string, string) {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	return c.user, c.pass
}

func (c *Client) authGeneration() uint64 {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	return c.authGen
}

// reloadCookie reports whether the credentials changed since generation
// seen, re-reading the cookie file (which changes whenever the node
// restarts) unless a concurrent call already did.
func (c *Client) reloadCookie(seen uint64) bool {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	if c.authGen != seen {
		return true
	}
	user, pass, err := readCookie(c.cookieFile)
	if err != nil || (user == c.user && pass == c.pass) {
		return false
	}
	c.user, c.pass = user, pass
	c.authGen++
	return true
}

// transient reports whether err is worth retrying: a busy or warming-up
// node, or a lost connection to a node that answered before.
func (c *Client) transient(err error) bool {
	switch {
	case errors.Is(err, ErrBusy), errors.Is(err, ErrWarmingUp):
		return true
	case errors.Is(err, ErrUnreachable):
		return c.connected.Load()
	}
	return false
}

// retry runs attempt until it succeeds, fails permanently, ctx ends or the
// retry budget is spent; on 401 it re-reads the cookie once.
func (c *Client) retry(ctx context.Context, method string, attempt func(context.Context) error) error {
	start := time.Now()
	wait := c.minBackoff
	reloaded := false
	for try := 1; ; try++ {
		gen := c.authGeneration()
		err := attempt(ctx)
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return fmt.Errorf("%s: %w", method, ctx.Err())
		case errors.Is(err, ErrAuth) && !reloaded && c.cookieFile != "":
			reloaded = true
			if c.reloadCookie(gen) {
				c.log.Info("node's RPC cookie changed; retrying", "file", c.cookieFile)
				continue
			}
			return err
		case c.retryFor < 0 || !c.transient(err):
			return err
		}

		spent := time.Since(start)
		if spent+wait > c.retryFor {
			return fmt.Errorf("gave up after %v of retries: %w", spent.Round(time.Millisecond), err)
		}
		c.log.Debug("retrying RPC", "method", method, "attempt", try, "wait", wait, "err", err)
		if err := sleepCtx(ctx, wait); err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
		wait = min(2*wait, c.maxBackoff)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wireRequest is a JSON-RPC 1.0 request. Params is never null: btcd
// rejects requests without a params array.
type wireRequest struct {
	JSONRPC string `json:"jsonrpc"`
	ID      uint64 `json:"id"`
	Method  string `json:"method"`
	Params  []any  `json:"params"`
}

func encodeRequest(id uint64, method string, params []any) ([]byte, error) {
	if params == nil {
		params = []any{}
	}
	b, err := json.Marshal(wireRequest{"1.0", id, method, params})
	if err != nil {
		return nil, fmt.Errorf("encode %s request: %w", method, err)
	}
	return b, nil
}

func encodeBatch(firstID uint64, reqs []Request) ([]byte, error) {
	// Header batches are hundreds of requests with integer and string
	// parameters: appending them directly costs a fraction of reflection.
	b := make([]byte, 0, 96*len(reqs))
	b = append(b, '[')
	for i, r := range reqs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"jsonrpc":"1.0","id":`...)
		b = strconv.AppendUint(b, firstID+uint64(i), 10)
		b = append(b, `,"method":`...)
		b = strconv.AppendQuote(b, r.Method)
		b = append(b, `,"params":[`...)
		for k, p := range r.Params {
			if k > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendParam(b, p); err != nil {
				return nil, fmt.Errorf("encode batch of %s: %w", r.Method, err)
			}
		}
		b = append(b, "]}"...)
	}
	return append(b, ']'), nil
}

// appendParam appends one parameter as JSON: the common types directly,
// anything else through encoding/json.
func appendParam(b []byte, p any) ([]byte, error) {
	switch v := p.(type) {
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case string:
		if isPlainASCII(v) {
			return strconv.AppendQuote(b, v), nil
		}
	}
	j, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return append(b, j...), nil
}

// isPlainASCII reports whether strconv.Quote and JSON agree on s: printable
// ASCII without a backslash (hex, hashes, method names).
func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '\\' {
			return false
		}
	}
	return true
}

// wireReply is a JSON-RPC reply from bitcoind (1.0 style) or btcd.
type wireReply struct {
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
	ID     json.RawMessage `json:"id"`
}

// replyError returns the reply's error as *RPCError, or nil.
func (r *wireReply) replyError(method string) error {
	if len(r.Error) == 0 || string(r.Error) == "null" {
		return nil
	}
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(r.Error, &e); err != nil {
		return &RPCError{Method: method, Message: string(r.Error)}
	}
	return &RPCError{Method: method, Code: e.Code, Message: e.Message}
}

func decodeReply(method string, data []byte) (json.RawMessage, error) {
	var r wireReply
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%w: %s reply: %w", ErrProtocol, method, err)
	}
	if err := r.replyError(method); err != nil {
		return nil, err
	}
	return r.Result, nil
}

// decodeBatch matches replies to requests by id. A reply that is a single
// object is an error about the batch as a whole.
func decodeBatch(reqs []Request, firstID uint64, data []byte) ([]json.RawMessage, []error, error) {
	if data[0] == '{' {
		_, err := decodeReply(reqs[0].Method, data)
		if err == nil {
			err = fmt.Errorf("%w: batch of %s answered with a single reply",
				ErrProtocol, reqs[0].Method)
		}
		return nil, nil, err
	}
	var replies []wireReply
	if err := json.Unmarshal(data, &replies); err != nil {
		return nil, nil, fmt.Errorf("%w: batch of %s: %w", ErrProtocol, reqs[0].Method, err)
	}

	results := make([]json.RawMessage, len(reqs))
	errs := make([]error, len(reqs))
	seen := make([]bool, len(reqs))
	for i := range replies {
		id, err := strconv.ParseUint(string(replies[i].ID), 10, 64)
		if err != nil || id < firstID || id-firstID >= uint64(len(reqs)) || seen[id-firstID] {
			return nil, nil, fmt.Errorf("%w: batch of %s: unexpected reply id %s",
				ErrProtocol, reqs[0].Method, replies[i].ID)
		}
		idx := id - firstID
		seen[idx] = true
		if errs[idx] = replies[i].replyError(reqs[idx].Method); errs[idx] == nil {
			results[idx] = replies[i].Result
		}
	}
	for i, ok := range seen {
		if !ok {
			return nil, nil, fmt.Errorf("%w: batch of %s: no reply to request %d",
				ErrProtocol, reqs[0].Method, i)
		}
	}
	return results, errs, nil
}

// firstItemError returns the first failure, preferring a warm-up error so
// that the batch is retried.
func firstItemError(errs []error) error {
	var first error
	for i, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, ErrWarmingUp):
			return &BatchItemError{Index: i, Err: err}
		case first == nil:
			first = &BatchItemError{Index: i, Err: err}
		}
	}
	return first
}

// completeJSON reports whether data looks like a whole JSON object or
// array, so a truncated reply is told apart from a malformed one.
func completeJSON(data []byte) bool {
	data = bytes.TrimSpace(data)
	if len(data) < 2 {
		return false
	}
	first, last := data[0], data[len(data)-1]
	return (first == '{' && last == '}') || (first == '[' && last == ']')
}

// snippet shortens a non-JSON reply for an error message.
func snippet(data []byte) string {
	data = bytes.TrimSpace(data)
	if len(data) > 80 {
		return string(data[:80]) + "…"
	}
	return string(data)
}
