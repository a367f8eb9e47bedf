package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg"

	"github.com/minerscope/minerscope/chain"
	"github.com/minerscope/minerscope/chain/chaintest"
	"github.com/minerscope/minerscope/index"
)

// nodeFlowShape is a timed block of BenchmarkSyntheticFlowsNode: as in BenchmarkSyntheticFlows, 3,000
// transactions, one payout to 200 new scripts and 50 spends of a 1-hop miner output with a non-miner coin.
var nodeFlowShape = chaintest.BlockShape{Txs: 3000, PayoutOutputs: 200, Mixed: 50}

// nodeFlowOutputs is the default number of unspent 1-hop miner outputs the index holds before the timed
// blocks; $MINERSCOPE_BENCH_MINER_OUTPUTS overrides it for quick runs.
const nodeFlowOutputs = 1_000_000

// nodeFlowPayout is the number of outputs of each setup payout.
const nodeFlowPayout = 10_000

// BenchmarkSyntheticFlowsNode is BenchmarkSyntheticFlows served by a real btcd simnet node: the blocks are
// valid (btcd checks every script on submitblock) and minerscope fetches them over JSON-RPC with its own RPC
// block source, so the baseline is literally a fetch from a node.
//
// Setup (not timed, logged): segwit activation, 10 fan-outs of 1,000 coins that are no miner outputs, and
// 100 payouts of 10,000 outputs, one per block: 1,000,000 unspent 1-hop miner outputs
// ($MINERSCOPE_BENCH_MINER_OUTPUTS sets another count), indexed by the sync into a full-block index.
//
// Each run then submits b.N mainnet-shaped blocks (3,000 transactions, about 1.4 MB: a coinbase to one of ten
// pool scripts, a payout to 200 new scripts, 50 transactions spending a 1-hop miner output with a non-miner
// coin, the rest two inputs and three outputs spending earlier coins; inputs have the size of P2WPKH spends)
// and, over exactly those heights, measures: the source path the sync reads (getblockhash a chunk ahead, then
// the RPC source's batched getblock with its default batching and concurrency, decode, hash and merkle
// checks, storing nothing); the plain fetch-and-decode baseline; and `minerscope index` itself, one syncOnce
// that connects the new blocks with their flows and asks the node for the input values of the flow
// transactions. The baselines run before and after the sync; the best of each counts.
//
// It reports blocks/s, baseline_blocks/s (the source path), decode_blocks/s, ratio (blocks/s over the source
// path's; target >= 0.7), decode_ratio, connect_blocks/s (the sync until the last block is stored, before
// the input values), MB/block, the process's resident memory right after the sync (rss_MiB) and its live
// heap after a collection (heap_MiB), both including the crafting state (btcd runs in its own process).
// Go runs a benchmark with b.N = 1 before the count asked for; the node and the indexed setup are shared by
// both runs (the sub-benchmark "blocks"), so the second run's blocks follow the first's. A run takes about
// two minutes on two cores, most of it the untimed setup. $MINERSCOPE_BENCH_CPUPROFILE profiles the timed
// sync alone (of the last run).
//
//	go test ./cmd/minerscope -run '^$' -bench SyntheticFlowsNode -benchtime 100x
func BenchmarkSyntheticFlowsNode(b *testing.B) {
	outputs := nodeFlowOutputs
	if v := os.Getenv("MINERSCOPE_BENCH_MINER_OUTPUTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("MINERSCOPE_BENCH_MINER_OUTPUTS=%q: want a positive count", v)
		}
		outputs = n
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()

	n, err := chaintest.Start(ctx, chaintest.Options{Net: &chaincfg.SimNetParams, DataDir: b.TempDir(),
		Logf: b.Logf,
		// The UTXO set grows past a million outputs; chaintest's 16 MiB cache would only slow the setup.
		ExtraArgs: []string{"--utxocachemaxsize=512"}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		// A btcd that had to be killed after flushing its UTXO cache for too long is no failure of
		// the benchmark.
		if err := n.Stop(); err != nil {
			b.Logf("stop btcd: %v", err)
		}
	})

	start := time.Now()
	fc := craftFlowSetup(b, ctx, n, outputs)
	b.Logf("setup: %d blocks, %d unspent 1-hop miner outputs, %d other coins crafted and submitted in %v",
		fc.Tip(), fc.MinerOutputs(), fc.Coins(), time.Since(start).Round(time.Millisecond))

	client := dialTestNode(b, ctx, n)
	// Not b.TempDir: under load Close may give up before Badger's last flush ends, and the directory is
	// then removed on a best-effort basis rather than failing the benchmark.
	dir, err := os.MkdirTemp("", "minerscope-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	db, err := index.Open(filepath.Join(dir, "index"), client.Network(), index.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		start := time.Now()
		if err := db.Close(); err != nil {
			b.Logf("close index: %v", err)
		}
		b.Logf("closed the index in %v", time.Since(start).Round(time.Millisecond))
	})
	if err := db.SetBlocksFrom(0, true); err != nil {
		b.Fatal(err)
	}
	src := chain.NewRPCBlockSource(client, 0, 0)
	s := newSyncer(client, db, nil, nil)
	s.blocks = src
	start = time.Now()
	res, err := s.syncOnce(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("setup: indexed %d blocks in %v", res.Connected, time.Since(start).Round(time.Millisecond))

	b.Run("blocks", func(b *testing.B) {
		from := fc.Tip() + 1
		start := time.Now()
		var size int
		for i := range b.N {
			blk, err := fc.Block(ctx, nodeFlowShape)
			if err != nil {
				b.Fatalf("timed block %d: %v", i, err)
			}
			size += blk.SerializeSize()
		}
		to := fc.Tip()
		b.Logf("crafted and submitted blocks %d-%d (%.2f MB each) in %v", from, to,
			float64(size)/float64(b.N)/1e6, time.Since(start).Round(time.Millisecond))
		lsm0, vlog0 := db.Size()
		runtime.GC()
		b.ResetTimer()
		b.StopTimer()

		var bl nodeBaselines
		bl.measure(b, ctx, client, src, from, to)

		clock := &connectClock{}
		s.progress = clock
		stopProfile := startBenchProfile(b)
		b.StartTimer()
		start = time.Now()
		res, err := s.syncOnce(ctx)
		full := time.Since(start)
		b.StopTimer()
		stopProfile()
		s.progress = nil
		if err != nil {
			b.Fatal(err)
		}
		if res.Connected != b.N || res.IndexHeight != to {
			b.Fatalf("sync connected %d blocks up to %d, want %d up to %d", res.Connected, res.IndexHeight, b.N, to)
		}
		connect := clock.done.Sub(start)
		rss := residentKB()
		runtime.GC()
		var mem runtime.MemStats
		runtime.ReadMemStats(&mem)

		bl.measure(b, ctx, client, src, from, to)

		nb := float64(b.N)
		b.ReportMetric(nb/full.Seconds(), "blocks/s")
		b.ReportMetric(nb/bl.source.Seconds(), "baseline_blocks/s")
		b.ReportMetric(nb/bl.decode.Seconds(), "decode_blocks/s")
		b.ReportMetric(bl.source.Seconds()/full.Seconds(), "ratio")
		b.ReportMetric(bl.decode.Seconds()/full.Seconds(), "decode_ratio")
		b.ReportMetric(nb/connect.Seconds(), "connect_blocks/s")
		b.ReportMetric(float64(size)/nb/1e6, "MB/block")
		b.ReportMetric(float64(rss)/1024, "rss_MiB")
		b.ReportMetric(float64(mem.HeapAlloc)/(1<<20), "heap_MiB")
		lsm1, vlog1 := db.Size()
		b.ReportMetric(float64(lsm1+vlog1-lsm0-vlog0)/nb/1024, "disk_KiB/block")
		b.Logf("blocks %d-%d: sync %v (stored after %v; input values of %d flow transactions filled), "+
			"source path %v, fetch and decode %v", from, to, full.Round(time.Millisecond),
			connect.Round(time.Millisecond), res.ValuesFilled, bl.source.Round(time.Millisecond),
			bl.decode.Round(time.Millisecond))
	})
}

// craftFlowSetup activates segwit on the empty simnet node n and submits the untimed setup: coins that are no
// miner outputs for the timed blocks to spend, and payouts of nodeFlowPayout outputs summing to outputs
// unspent 1-hop miner outputs.
func craftFlowSetup(b *testing.B, ctx context.Context, n *chaintest.Node, outputs int) *chaintest.FlowChain {
	fc, err := chaintest.NewFlowChain(ctx, n, 42)
	if err != nil {
		b.Fatal(err)
	}
	// 10,000 coins: the first timed block spends about 5,950 of them and every block adds more than it spends.
	if _, err := fc.Fund(ctx, 10, 1000); err != nil {
		b.Fatal(err)
	}
	// One payout per block, as in BenchmarkSyntheticFlows (two would fit the weight limit).
	payouts := max(1, outputs/nodeFlowPayout)
	for range payouts {
		if _, err := fc.Payouts(ctx, 1, outputs/payouts); err != nil {
			b.Fatal(err)
		}
	}
	return fc
}

// nodeBaselines are the best times of the two baselines over the timed heights.
type nodeBaselines struct {
	source, decode time.Duration
}

// measure runs the source path and the fetch-and-decode baseline once each over [from, to] and keeps the
// best times.
func (bl *nodeBaselines) measure(b *testing.B, ctx context.Context, node *chain.Client, src chain.BlockSource,
	from, to int32) {

	want := int(to - from + 1)
	start := time.Now()
	got, err := sourceBlocks(ctx, node, src, from, to)
	if err != nil || got != want {
		b.Fatalf("source path: %d of %d blocks: %v", got, want, err)
	}
	if d := time.Since(start); bl.source == 0 || d < bl.source {
		bl.source = d
	}

	start = time.Now()
	st, err := baselineBlocks(ctx, node, src, from, to)
	if err != nil || st.Blocks != want {
		b.Fatalf("decode baseline: %d of %d blocks: %v", st.Blocks, want, err)
	}
	if d := time.Since(start); bl.decode == 0 || d < bl.decode {
		bl.decode = d
	}
}

// connectClock is a syncProgress that notes when the block path finished storing.
type connectClock struct{ done time.Time }

func (c *connectClock) Start(from, to int32) {}
func (c *connectClock) Advance(int32)        {}
func (c *connectClock) Finish()              { c.done = time.Now() }
