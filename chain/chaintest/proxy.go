package chaintest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
)

// Proxy is a loopback HTTP proxy in front of a node's RPC port that makes
// the node misbehave the way real nodes do: busy (HTTP 503), slow, dropping
// connections mid-reply, serving corrupt blocks, or down while it restarts.
// Clients talk to Addr as they would to the node; everything the proxy does
// not fault is forwarded unchanged.
type Proxy struct {
	// Addr is the address clients connect to, 127.0.0.1:port.
	Addr string

	ln       net.Listener
	srv      *http.Server
	upstream *http.Client

	mu      sync.Mutex
	target  string
	faults  Faults
	seq     int64 // requests since the last SetFaults
	busy    int   // first-requests 503s left
	corrupt map[string]int

	stats proxyCounters
}

// Faults say what a Proxy does to the requests it receives from SetFaults
// on. The zero value forwards everything unchanged.
type Faults struct {
	// Busy answers the next Busy requests with HTTP 503 "Work queue depth
	// exceeded", as bitcoind does when its RPC work queue is full.
	Busy int

	// BusyEvery also answers every BusyEvery-th request with 503 (0:
	// never).
	BusyEvery int

	// Delay, when set, holds each request for Delay(n) before forwarding
	// it; n counts the requests from 1 since SetFaults. Varying delays
	// make concurrent replies arrive out of order.
	Delay func(n int64) time.Duration

	// CutEvery cuts every CutEvery-th reply (0: never): the client gets
	// the status line, the headers and the first half of the body, then
	// the connection closes. Cuts alternate between a reply without
	// Content-Length (as btcd sends them: the body just ends) and one
	// whose Content-Length promises the whole body, starting without.
	CutEvery int

	// CutAt, when set, decides instead of CutEvery which replies to cut
	// and where: it returns how many bytes of the body of reply n to send
	// before closing the connection, or a negative number to send the
	// reply whole. It is called from concurrent requests.
	CutAt func(n int64, body []byte) int
}

// ProxyStats counts what a Proxy did since it started.
type ProxyStats struct {
	Requests  int64 // requests received
	Forwarded int64 // requests the node answered (cut replies included)
	Busy      int64 // 503 answers
	Cut       int64 // replies cut mid-body
	Corrupted int64 // getblock results corrupted
	Down      int64 // requests dropped because the node did not answer
	Refused   int64 // HTTP 401 replies to requests carrying credentials
}

type proxyCounters struct {
	requests, forwarded, busy, cut, corrupted, down, refused atomic.Int64
}

// StartProxy starts a proxy forwarding to the node at target (host:port)
// on a new loopback port. Close stops it.
func StartProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("chaintest: proxy listen: %w", err)
	}
	p := &Proxy{
		Addr:   ln.Addr().String(),
		ln:     ln,
		target: target,
		// btcd closes every RPC connection after its reply anyway.
		upstream: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
	}
	p.srv = &http.Server{
		Handler:           http.HandlerFunc(p.serve),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// Close stops the proxy and drops its connections.
func (p *Proxy) Close() error {
	err := p.srv.Close()
	p.upstream.CloseIdleConnections()
	return err
}

// SetTarget points the proxy at another node address, for a node restarted
// on new ports.
func (p *Proxy) SetTarget(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = addr
}

// SetFaults replaces the faults injected from now on; request counts for
// Busy, BusyEvery, CutEvery and Delay start again from 1.
func (p *Proxy) SetFaults(f Faults) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults, p.seq, p.busy = f, 0, f.Busy
}

// CorruptBlock makes every getblock reply (verbosity 0, the serialized
// block in hex) for the block hash flip the low bit of the block's byte at
// offset; a negative offset counts from the end (-1 is the last byte). An
// offset inside the 80-byte header makes the block hash to something else;
// one in the transactions keeps the header but breaks the merkle root.
func (p *Proxy) CorruptBlock(hash chainhash.Hash, offset int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// Requests in flight hold the old map: replace it, never change it.
	m := make(map[string]int, len(p.corrupt)+1)
	for k, v := range p.corrupt {
		m[k] = v
	}
	m[hash.String()] = offset
	p.corrupt = m
}

// ClearCorruption stops corrupting blocks.
func (p *Proxy) ClearCorruption() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.corrupt = nil
}

// Stats returns what the proxy did so far.
func (p *Proxy) Stats() ProxyStats {
	c := &p.stats
	return ProxyStats{
		Requests:  c.requests.Load(),
		Forwarded: c.forwarded.Load(),
		Busy:      c.busy.Load(),
		Cut:       c.cut.Load(),
		Corrupted: c.corrupted.Load(),
		Down:      c.down.Load(),
		Refused:   c.refused.Load(),
	}
}

// plan is what to do with one request, decided when it arrives.
type plan struct {
	seq     int64
	busy    bool
	cut     bool
	cutAt   func(n int64, body []byte) int
	delay   time.Duration
	target  string
	corrupt map[string]int
}

// plan counts a new request and decides its faults.
func (p *Proxy) plan() plan {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	f := &p.faults
	pl := plan{seq: p.seq, target: p.target, corrupt: p.corrupt, cutAt: f.CutAt}
	switch {
	case p.busy > 0:
		p.busy--
		pl.busy = true
	case f.BusyEvery > 0 && p.seq%int64(f.BusyEvery) == 0:
		pl.busy = true
	}
	pl.cut = !pl.busy && f.CutAt == nil && f.CutEvery > 0 && p.seq%int64(f.CutEvery) == 0
	if f.Delay != nil {
		pl.delay = f.Delay(p.seq)
	}
	return pl
}

// serve handles one request: answers 503, or forwards it after its delay
// and passes the reply on, corrupted or cut as planned.
func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	p.stats.requests.Add(1)
	pl := p.plan()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	if pl.delay > 0 {
		select {
		case <-time.After(pl.delay):
		case <-r.Context().Done():
			return
		}
	}
	if pl.busy {
		p.stats.busy.Add(1)
		http.Error(w, "Work queue depth exceeded", http.StatusServiceUnavailable)
		return
	}

	resp, reply, err := p.forward(r, pl.target, body)
	if err != nil {
		// The node is down: drop the connection without a reply, as a
		// dying node does.
		p.stats.down.Add(1)
		panic(http.ErrAbortHandler)
	}
	p.stats.forwarded.Add(1)
	if resp.StatusCode == http.StatusUnauthorized && r.Header.Get("Authorization") != "" {
		p.stats.refused.Add(1)
	}
	if len(pl.corrupt) > 0 && resp.StatusCode == http.StatusOK {
		reply = p.corruptBlocks(body, reply, pl.corrupt)
	}
	at := -1
	switch {
	case pl.cut:
		at = len(reply) / 2
	case pl.cutAt != nil:
		at = pl.cutAt(pl.seq, reply)
	}
	if at >= 0 && at < len(reply) {
		n := p.stats.cut.Add(1)
		cutReply(w, resp, reply[:at], len(reply), n%2 == 0)
		return
	}
	for _, k := range []string{"Content-Type", "Www-Authenticate"} {
		if v := resp.Header.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(reply)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(reply)
}

// forward sends the request to the node and reads its whole reply.
func (p *Proxy) forward(r *http.Request, target string, body []byte) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, "http://"+target+r.URL.RequestURI(),
		bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	for _, k := range []string{"Authorization", "Content-Type"} {
		if v := r.Header.Get(k); v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := p.upstream.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(resp.Body)
	return resp, reply, err
}

// cutReply writes the status, the headers and part, the beginning of a
// reply of size bytes, then closes the connection.
func cutReply(w http.ResponseWriter, resp *http.Response, part []byte, size int, withLength bool) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\nConnection: close\r\n", resp.StatusCode, http.StatusText(resp.StatusCode))
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		fmt.Fprintf(buf, "Content-Type: %s\r\n", ct)
	}
	if withLength {
		fmt.Fprintf(buf, "Content-Length: %d\r\n", size)
	}
	buf.WriteString("\r\n")
	buf.Write(part)
	_ = buf.Flush()
}

// rpcMessage is the part of a JSON-RPC request or reply the proxy reads.
type rpcMessage struct {
	ID     json.RawMessage   `json:"id"`
	Method string            `json:"method"`
	Params []json.RawMessage `json:"params"`
}

// corruptBlocks flips a byte of every getblock result in reply asked for a
// hash in corrupt; req is the request (one call or a batch).
func (p *Proxy) corruptBlocks(req, reply []byte, corrupt map[string]int) []byte {
	targets := map[string]int{} // reply id -> offset
	for _, m := range decodeMessages(req) {
		if m.Method != "getblock" || len(m.Params) == 0 {
			continue
		}
		var hash string
		if json.Unmarshal(m.Params[0], &hash) != nil {
			continue
		}
		if off, ok := corrupt[hash]; ok && rawVerbosity(m.Params) {
			targets[string(bytes.TrimSpace(m.ID))] = off
		}
	}
	if len(targets) == 0 {
		return reply
	}

	batch := bytes.HasPrefix(bytes.TrimSpace(reply), []byte("["))
	var replies []map[string]json.RawMessage
	if batch {
		if json.Unmarshal(reply, &replies) != nil {
			return reply
		}
	} else {
		var one map[string]json.RawMessage
		if json.Unmarshal(reply, &one) != nil {
			return reply
		}
		replies = append(replies, one)
	}
	changed := false
	for _, r := range replies {
		off, ok := targets[string(bytes.TrimSpace(r["id"]))]
		if !ok {
			continue
		}
		if res, err := flipHexByte(r["result"], off); err == nil {
			r["result"] = res
			changed = true
			p.stats.corrupted.Add(1)
		}
	}
	if !changed {
		return reply
	}
	var out []byte
	var err error
	if batch {
		out, err = json.Marshal(replies)
	} else {
		out, err = json.Marshal(replies[0])
	}
	if err != nil {
		return reply
	}
	return out
}

// decodeMessages reads a JSON-RPC request: one call or a batch.
func decodeMessages(data []byte) []rpcMessage {
	var batch []rpcMessage
	if json.Unmarshal(data, &batch) == nil {
		return batch
	}
	var one rpcMessage
	if json.Unmarshal(data, &one) == nil {
		return []rpcMessage{one}
	}
	return nil
}

// rawVerbosity reports whether getblock's parameters ask for the serialized
// block: verbosity 0 (bitcoind) or false (btcd's verbose flag).
func rawVerbosity(params []json.RawMessage) bool {
	if len(params) < 2 {
		return false // both default to a decoded block
	}
	v := string(bytes.TrimSpace(params[1]))
	return v == "0" || v == "false"
}

// flipHexByte flips the low bit of the byte at offset of the hex string
// result (a JSON string); a negative offset counts from the end.
func flipHexByte(result json.RawMessage, offset int) (json.RawMessage, error) {
	var s string
	if err := json.Unmarshal(result, &s); err != nil {
		return nil, err
	}
	n := len(s) / 2
	if offset < 0 {
		offset += n
	}
	if offset < 0 || offset >= n {
		return nil, errors.New("offset outside the block")
	}
	b := []byte(s)
	i := 2*offset + 1 // the low nibble
	v, err := strconv.ParseUint(string(b[i]), 16, 8)
	if err != nil {
		return nil, err
	}
	b[i] = strconv.FormatUint(v^1, 16)[0]
	return json.Marshal(string(b))
}
