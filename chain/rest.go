package chain

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
)

// errNoREST means the node does not serve Bitcoin Core's REST interface:
// bitcoind without -rest=1 answers 404 with an empty body (a proxy in front
// of it, with its own page), a client outside rpcallowip gets 403, and btcd
// wants RPC credentials (401).
var errNoREST = errors.New("the node does not serve REST (bitcoind -rest=1)")

// RESTBlockSource fetches blocks from Bitcoin Core's REST interface
// (GET /rest/block/<hash>.bin on the RPC port, enabled with -rest=1): raw
// bytes, no hex, no JSON and no credentials. When the node does not serve
// REST it falls back to an RPCBlockSource with the default batching.
type RESTBlockSource struct {
	c        *Client
	inFlight int
	rpc      *RPCBlockSource

	probeOnce sync.Once
	rpcOnly   atomic.Bool // REST is unavailable: use rpc
}

// NewRESTBlockSource returns a source with inFlight requests at once (one
// block each); non-positive selects DefaultRESTInFlight.
func NewRESTBlockSource(c *Client, inFlight int) *RESTBlockSource {
	return &RESTBlockSource{
		c:        c,
		inFlight: orDefault(inFlight, DefaultRESTInFlight),
		rpc:      NewRPCBlockSource(c, 0, 0),
	}
}

// AutoBlockSource returns the fastest source the node offers without local
// files: REST when it answers, JSON-RPC otherwise (see RESTBlockSource).
func AutoBlockSource(c *Client) BlockSource {
	return NewRESTBlockSource(c, 0)
}

// Name is "rest", or "rpc" once the source has fallen back to JSON-RPC.
func (s *RESTBlockSource) Name() string {
	if s.rpcOnly.Load() {
		return s.rpc.Name()
	}
	return "rest"
}

// FetchBlocks implements BlockSource. The first call probes the node's REST
// interface (RESTAvailable); when it does not answer, this and later calls
// use JSON-RPC. A node that stops serving REST during a fetch is asked over
// JSON-RPC from then on.
func (s *RESTBlockSource) FetchBlocks(ctx context.Context, from int32, hashes []chainhash.Hash) (<-chan RawBlock, func() error) {
	return fetchPipeline(ctx, s.active(ctx), from, hashes)
}

// active probes REST once and returns the fetcher to use.
func (s *RESTBlockSource) active(ctx context.Context) fetcher {
	s.probeOnce.Do(func() {
		if !s.c.RESTAvailable(ctx) && ctx.Err() == nil {
			s.fallBack(errNoREST)
		}
	})
	if s.rpcOnly.Load() {
		return s.rpc
	}
	return s
}

func (s *RESTBlockSource) fallBack(reason error) {
	if s.rpcOnly.CompareAndSwap(false, true) {
		s.c.log.Info("fetching blocks over JSON-RPC", "node", s.c.addr, "reason", reason)
	}
}

func (s *RESTBlockSource) limits() (int, int) { return 1, s.inFlight }

func (s *RESTBlockSource) prepare(ctx context.Context, from int32, _ []chainhash.Hash) error {
	return s.c.checkPruned(ctx, from)
}

func (s *RESTBlockSource) fetchBatch(ctx context.Context, from int32, hashes []chainhash.Hash) ([][]byte, error) {
	blocks := make([][]byte, 0, len(hashes))
	for i, hash := range hashes {
		if s.rpcOnly.Load() {
			rest, err := s.c.rawBlocks(ctx, from+int32(i), hashes[i:])
			return append(blocks, rest...), err
		}
		data, err := s.c.restGet(ctx, "block/"+hash.String()+".bin")
		switch {
		case errors.Is(err, errNoREST):
			s.fallBack(err)
			rest, err := s.c.rawBlocks(ctx, from+int32(i), hashes[i:])
			return append(blocks, rest...), err
		case err != nil:
			return blocks, s.c.blockError(ctx, from+int32(i), hash, err)
		}
		blocks = append(blocks, data)
	}
	return blocks, nil
}

// RESTAvailable reports whether the node serves Bitcoin Core's REST
// interface, by asking for /rest/chaininfo.json once, without retries.
func (c *Client) RESTAvailable(ctx context.Context) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.restURL("chaininfo.json"), nil)
	if err != nil {
		return false
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return err == nil && resp.StatusCode == http.StatusOK && completeJSON(data)
}

func (c *Client) restURL(path string) string {
	return "http://" + c.addr + "/rest/" + path
}

// restGet fetches /rest/<path>, retrying transient failures like RPC calls.
// A 404 naming the resource is ErrBlockNotFound; a node that does not serve
// REST gives errNoREST.
func (c *Client) restGet(ctx context.Context, path string) ([]byte, error) {
	var body []byte
	err := c.retry(ctx, "REST "+path, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.restURL(path), nil)
		if err != nil {
			return err
		}
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return c.unreachable(err)
		}
		defer resp.Body.Close()
		c.connected.Store(true)

		data, err := io.ReadAll(resp.Body)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return c.unreachable(fmt.Errorf("REST reply cut short: %w", err))
		}
		body, err = c.restStatus(resp.StatusCode, data)
		return err
	})
	return body, err
}

// restStatus classifies a REST reply by status.
func (c *Client) restStatus(status int, data []byte) ([]byte, error) {
	msg := bytes.TrimSpace(data)
	switch {
	case status == http.StatusOK:
		return data, nil
	case status == http.StatusServiceUnavailable:
		// Full work queue, or warming up ("Service temporarily unavailable").
		return nil, fmt.Errorf("%w (REST HTTP 503 from %s: %q)", ErrBusy, c.addr, snippet(data))
	case status == http.StatusNotFound &&
		(bytes.HasSuffix(msg, []byte(" not found")) || bytes.HasSuffix(msg, []byte("(pruned data)"))):
		// rest.cpp: "<hash> not found", "<hash> not available (pruned data)".
		return nil, fmt.Errorf("%w (REST: %s)", ErrBlockNotFound, snippet(msg))
	case status == http.StatusNotFound, status == http.StatusForbidden,
		status == http.StatusUnauthorized, status == http.StatusMethodNotAllowed:
		return nil, fmt.Errorf("%w: HTTP %d from %s", errNoREST, status, c.addr)
	}
	return nil, fmt.Errorf("%w: REST HTTP %d from %s: %q", ErrProtocol, status, c.addr, snippet(data))
}
