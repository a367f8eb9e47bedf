package chain

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
)

// BaselineFetch fetches the raw headers of heights [from, to] with the same
// requests and batching as FetchHeaders (a getblockhash batch, then a
// getblockheader batch, inFlight batches at a time) and nothing else: no
// retries, ordering, decoding beyond hex or verification. It is the yardstick
// the bench command holds FetchHeaders against, and returns the number of
// headers fetched.
func BaselineFetch(ctx context.Context, host, user, pass string, from, to int32, batchSize, inFlight int) (int, error) {
	if batchSize <= 0 {
		batchSize = DefaultBatchSize
	}
	if inFlight <= 0 {
		inFlight = DefaultInFlight
	}
	b := &baseline{url: "http://" + host + "/", user: user, pass: pass, http: &http.Client{}}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		total    atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	next.Store(int64(from))
	for range inFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := next.Add(int64(batchSize)) - int64(batchSize)
				if lo > int64(to) || ctx.Err() != nil {
					return
				}
				hi := min(lo+int64(batchSize)-1, int64(to))
				n, err := b.fetch(ctx, lo, hi)
				if err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
				total.Add(int64(n))
			}
		}()
	}
	wg.Wait()
	return int(total.Load()), firstErr
}

type baseline struct {
	url, user, pass string
	http            *http.Client
}

// fetch gets the raw headers of lo..hi and returns how many it decoded.
func (b *baseline) fetch(ctx context.Context, lo, hi int64) (int, error) {
	var body bytes.Buffer
	body.WriteByte('[')
	for h := lo; h <= hi; h++ {
		if h > lo {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"jsonrpc":"1.0","id":%d,"method":"getblockhash","params":[%d]}`, h, h)
	}
	body.WriteByte(']')
	hashes, err := b.post(ctx, body.Bytes())
	if err != nil {
		return 0, err
	}

	body.Reset()
	body.WriteByte('[')
	for i, hash := range hashes {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"jsonrpc":"1.0","id":%d,"method":"getblockheader","params":[%s,false]}`,
			lo+int64(i), strconv.Quote(hash))
	}
	body.WriteByte(']')
	headers, err := b.post(ctx, body.Bytes())
	if err != nil {
		return 0, err
	}

	var raw [80]byte
	for _, h := range headers {
		if _, err := hex.Decode(raw[:], []byte(h)); err != nil {
			return 0, fmt.Errorf("baseline: header hex: %w", err)
		}
	}
	return len(headers), nil
}

// post sends one batch and returns its string results in reply order.
func (b *baseline) post(ctx context.Context, body []byte) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(b.user, b.pass)
	resp, err := b.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	var replies []struct {
		Result string          `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(data, &replies); err != nil {
		return nil, fmt.Errorf("baseline: HTTP %d: %w", resp.StatusCode, err)
	}
	out := make([]string, len(replies))
	for i, r := range replies {
		if len(r.Error) > 0 && string(r.Error) != "null" {
			return nil, fmt.Errorf("baseline: RPC error %s", r.Error)
		}
		out[i] = r.Result
	}
	return out, nil
}
