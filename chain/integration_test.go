package chain

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/chain/chaintest"
)

func nodeCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func dialNode(t testing.TB, ctx context.Context, n *chaintest.Node, log *slog.Logger) *Client {
	t.Helper()
	cfg, err := ResolveConfig(Config{Host: n.RPCAddr, User: n.User, Pass: n.Pass, Logger: log}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("Dial btcd: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestMainnetNode runs the client against a real btcd holding mainnet
// blocks 0-14131; expected values come from btcd's block file.
func TestMainnetNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts btcd")
	}
	want := mainnetHeaders(t)
	n := chaintest.StartMainnet(t)
	ctx := nodeCtx(t)
	c := dialNode(t, ctx, n, nil)

	if c.Network().Name != "mainnet" {
		t.Fatalf("network %q", c.Network().Name)
	}
	t.Run("ChainInfo", func(t *testing.T) {
		info, err := c.ChainInfo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.Chain != "mainnet" || info.Blocks != mainnetTip || info.Headers != mainnetTip ||
			info.BestHash != want[mainnetTip].BlockHash() || info.HasVerificationProgress ||
			info.InitialBlockDownload || info.Pruned {
			t.Errorf("ChainInfo %+v", info)
		}
		count, err := c.BlockCount(ctx)
		if err != nil || count != mainnetTip {
			t.Errorf("BlockCount %d, %v", count, err)
		}
	})

	t.Run("AllHeadersVerify", func(t *testing.T) {
		got := fetchAndVerify(t, ctx, c, 0, mainnetTip)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("header %d differs from the block file", i)
			}
		}
	})

	t.Run("BatchEqualsOneByOne", func(t *testing.T) {
		batch, err := c.Headers(ctx, 2010, 2020)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range []int32{0, 1, 2015, 2016, 2017, 2020} {
			var one wire.BlockHeader
			if h >= 2010 {
				one = batch[h-2010]
			} else if hs, err := c.Headers(ctx, h, h); err != nil {
				t.Fatal(err)
			} else {
				one = hs[0]
			}
			single := headerOneByOne(t, ctx, c, h)
			if single != one {
				t.Errorf("height %d: batch and single fetch differ", h)
			}
		}
	})

	t.Run("NetworkHashPS", func(t *testing.T) {
		for _, tc := range []struct {
			blocks int
			height int32
		}{{120, -1}, {2016, 10000}, {500, 2016}, {-1, 14000}} {
			got, err := c.NetworkHashPS(ctx, tc.blocks, tc.height)
			if err != nil {
				t.Fatal(err)
			}
			exp := btcdHashPS(want, tc.blocks, tc.height)
			if math.Abs(got-exp) > 1e-9*exp || got <= 0 {
				t.Errorf("getnetworkhashps %d %d = %v, want %v", tc.blocks, tc.height, got, exp)
			}
		}
	})

	t.Run("BeyondTip", func(t *testing.T) {
		_, err := c.BlockHash(ctx, mainnetTip+1)
		if !errors.Is(err, ErrHeightOutOfRange) {
			t.Errorf("err = %v, want ErrHeightOutOfRange (btcd code -1)", err)
		}
		hashes, err := c.BlockHashes(ctx, mainnetTip-2, mainnetTip+5)
		if err != nil || len(hashes) != 3 {
			t.Errorf("BlockHashes past tip: %d, %v", len(hashes), err)
		}
	})

	t.Run("ForkPointNoReorg", func(t *testing.T) {
		fork, err := FindForkPoint(ctx, c, func(h int32) (chainhash.Hash, error) {
			return want[h].BlockHash(), nil
		}, mainnetTip)
		if err != nil || fork != mainnetTip {
			t.Errorf("fork point %d, %v", fork, err)
		}
	})

	t.Run("Baseline", func(t *testing.T) {
		got, err := BaselineFetch(ctx, n.RPCAddr, n.User, n.Pass, 0, mainnetTip, 0, 0)
		if err != nil || got != mainnetTip+1 {
			t.Errorf("BaselineFetch %d, %v", got, err)
		}
	})
}

// fetchAndVerify fetches from..to with FetchHeaders and verifies every
// header, as the sync loop will; from-1 must be 0 or below (genesis start).
func fetchAndVerify(t *testing.T, ctx context.Context, c *Client, from, to int32) []wire.BlockHeader {
	t.Helper()
	var got []wire.BlockHeader
	v := Verifier{Params: c.Network(), Lookup: func(h int32) (analysis.Header, error) {
		return PlainHeader(h, &got[h]), nil
	}}
	var prev analysis.Header
	var prevHash chainhash.Hash
	ch, errf := c.FetchHeaders(ctx, from, to, 0, 0)
	for b := range ch {
		for i := range b.Headers {
			h := b.From + int32(i)
			if err := v.Verify(h, prev, prevHash, &b.Headers[i]); err != nil {
				t.Fatalf("verify %d: %v", h, err)
			}
			got = append(got, b.Headers[i])
			prev, prevHash = PlainHeader(h, &b.Headers[i]), b.Hashes[i]
		}
	}
	if err := errf(); err != nil {
		t.Fatal(err)
	}
	if len(got) != int(to-from)+1 {
		t.Fatalf("%d headers, want %d", len(got), to-from+1)
	}
	return got
}

// headerOneByOne fetches one header with single calls, through the verbose
// form so the node's own height is checked too.
func headerOneByOne(t *testing.T, ctx context.Context, c *Client, height int32) wire.BlockHeader {
	t.Helper()
	hash, err := c.BlockHash(ctx, height)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := c.Call(ctx, "getblockheader", hash.String(), true)
	if err != nil {
		t.Fatal(err)
	}
	var verbose struct {
		Height int32 `json:"height"`
	}
	if err := json.Unmarshal(raw, &verbose); err != nil || verbose.Height != height {
		t.Fatalf("verbose header of %d: %s", height, raw)
	}
	if raw, err = c.Call(ctx, "getblockheader", hash.String(), false); err != nil {
		t.Fatal(err)
	}
	var h wire.BlockHeader
	if err := decodeHeader(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// btcdHashPS recomputes btcd's handleGetNetworkHashPS from the block file
// with btcd's own CalcWork: work of blocks start+1..end over the spread of
// timestamps of start..end, where start = end-blocks (blocks <= 0: the
// blocks since the last retarget).
func btcdHashPS(hs []wire.BlockHeader, blocks int, height int32) float64 {
	end := height
	if end < 0 {
		end = int32(len(hs) - 1)
	}
	start := end - int32(blocks)
	if blocks <= 0 {
		start = end - (end%2016 + 1)
	}
	start = max(start, 0)
	work := new(big.Int)
	lo, hi := hs[start].Timestamp, hs[start].Timestamp
	for h := start + 1; h <= end; h++ {
		work.Add(work, blockchain.CalcWork(hs[h].Bits))
		if hs[h].Timestamp.Before(lo) {
			lo = hs[h].Timestamp
		}
		if hs[h].Timestamp.After(hi) {
			hi = hs[h].Timestamp
		}
	}
	f, _ := new(big.Float).Quo(new(big.Float).SetInt(work),
		new(big.Float).SetFloat64(hi.Sub(lo).Seconds())).Float64()
	return f
}

// TestSimnetRestartAndReorg: the client rides out a node restart and finds
// the fork point after the node switches branch.
func TestSimnetRestartAndReorg(t *testing.T) {
	if testing.Short() {
		t.Skip("starts btcd")
	}
	n := chaintest.StartSimnet(t)
	ctx := nodeCtx(t)
	start := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
	if err := n.MineChain(ctx, 30, 10*time.Minute, start); err != nil {
		t.Fatal(err)
	}
	retrying := make(chan string, 1)
	c := dialNode(t, ctx, n, slog.New(signalHandler{retrying}))
	if c.Network().Name != "simnet" {
		t.Fatalf("network %q", c.Network().Name)
	}
	before := fetchAndVerify(t, ctx, c, 0, 30)

	// Restart: the client has talked to the node, so the refused
	// connections while it is down are retried until it is back.
	addr := n.RPCAddr
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	type countResult struct {
		n   int32
		err error
	}
	counted := make(chan countResult, 1)
	go func() {
		n, err := c.BlockCount(ctx)
		counted <- countResult{n, err}
	}()
	select {
	case msg := <-retrying: // the first attempt was refused
		t.Logf("client: %s", msg)
	case r := <-counted:
		t.Fatalf("BlockCount with the node down: %d, %v", r.n, r.err)
	}
	if err := n.Restart(ctx); err != nil {
		t.Fatalf("restart btcd: %v", err)
	}
	if n.RPCAddr != addr {
		t.Skipf("btcd came back on %s instead of %s", n.RPCAddr, addr)
	}
	if r := <-counted; r.err != nil || r.n != 30 {
		t.Fatalf("BlockCount across restart: %d, %v", r.n, r.err)
	}

	// Reorg three blocks deep: the node's new branch forks at 27.
	b, err := n.Builder(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Reorg(ctx, b, 3); err != nil {
		t.Fatal(err)
	}
	fork, err := FindForkPoint(ctx, c, func(h int32) (chainhash.Hash, error) {
		return before[h].BlockHash(), nil
	}, 30)
	if err != nil || fork != 27 {
		t.Fatalf("fork point %d, %v; want 27", fork, err)
	}

	// The new branch verifies on top of the fork point.
	after, err := c.Headers(ctx, 28, 31)
	if err != nil {
		t.Fatal(err)
	}
	v := Verifier{Params: c.Network()}
	prev, prevHash := PlainHeader(27, &before[27]), before[27].BlockHash()
	for i := range after {
		h := int32(28 + i)
		if err := v.Verify(h, prev, prevHash, &after[i]); err != nil {
			t.Fatalf("new branch %d: %v", h, err)
		}
		prev, prevHash = PlainHeader(h, &after[i]), after[i].BlockHash()
	}
	// The old block 28 no longer links to the node's chain.
	err = v.Verify(29, PlainHeader(28, &before[28]), before[28].BlockHash(), &after[1])
	if !errors.Is(err, ErrPrevMismatch) {
		t.Errorf("old branch: err = %v, want ErrPrevMismatch", err)
	}
}

// signalHandler passes the first log message it gets on ch (buffered).
type signalHandler struct{ ch chan string }

func (h signalHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h signalHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h signalHandler) WithGroup(string) slog.Handler            { return h }

func (h signalHandler) Handle(_ context.Context, r slog.Record) error {
	select {
	case h.ch <- r.Message:
	default:
	}
	return nil
}
