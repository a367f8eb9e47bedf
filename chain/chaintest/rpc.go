package chaintest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
)

// ErrRPC is wrapped by every error the node returns in its JSON-RPC reply.
var ErrRPC = errors.New("chaintest: btcd RPC error")

// RPCError is an error object returned by btcd.
type RPCError struct {
	Method  string
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Error implements error.
func (e *RPCError) Error() string {
	return fmt.Sprintf("btcd %s: %s (code %d)", e.Method, e.Message, e.Code)
}

// Unwrap lets errors.Is match ErrRPC.
func (e *RPCError) Unwrap() error { return ErrRPC }

var rpcID atomic.Uint64

// Call sends one JSON-RPC request to the node and returns its result. It is
// a tiny client for tests; production code talks to nodes through package
// chain.
func (n *Node) Call(ctx context.Context, method string,
	params ...any) (json.RawMessage, error) {

	if params == nil {
		params = []any{}
	}
	body, err := json.Marshal(map[string]any{
		"jsonrpc": "1.0",
		"id":      rpcID.Add(1),
		"method":  method,
		"params":  params,
	})
	if err != nil {
		return nil, fmt.Errorf("chaintest: encode %s: %w", method, err)
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		"http://"+n.RPCAddr+"/", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("chaintest: %s: %w", method, err)
	}
	req.SetBasicAuth(n.User, n.Pass)
	req.Header.Set("Content-Type", "application/json")

	resp, err := n.httpClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("chaintest: %s: %w", method, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("chaintest: %s: %w", method, err)
	}

	var reply struct {
		Result json.RawMessage `json:"result"`
		Error  *RPCError       `json:"error"`
	}
	if err := json.Unmarshal(raw, &reply); err != nil {
		return nil, fmt.Errorf("chaintest: %s: HTTP %s: %q", method,
			resp.Status, bytes.TrimSpace(raw))
	}
	if reply.Error != nil {
		reply.Error.Method = method
		return nil, reply.Error
	}
	return reply.Result, nil
}

// httpClient returns the node's HTTP client. Each node has its own
// connection pool, emptied by Stop, so a restarted node is never sent a
// request on a connection to its previous process.
func (n *Node) httpClient() *http.Client {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.client == nil {
		n.client = &http.Client{Transport: &http.Transport{
			MaxIdleConnsPerHost: 4,
		}}
	}
	return n.client
}

// closeIdle drops the node's idle RPC connections.
func (n *Node) closeIdle() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.client != nil {
		n.client.CloseIdleConnections()
	}
}

// callInto calls method and decodes its result into v.
func (n *Node) callInto(ctx context.Context, v any, method string,
	params ...any) error {

	raw, err := n.Call(ctx, method, params...)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("chaintest: decode %s result %s: %w",
			method, raw, err)
	}
	return nil
}
