package main

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/chain"
	"github.com/minerscope/minerscope/index"
)

// flowChain crafts a regtest chain (whose proof-of-work limit makes valid headers cheap) of blocks shaped
// like today's mainnet for the flow benchmarks: each block's
// coinbase pays one of ten pool scripts; a payout transaction spends the previous block's coinbase to many
// new scripts (which become 1-hop miner scripts); some transactions spend 1-hop miner outputs together with
// a non-miner coin; every other transaction spends a random coin (not a miner output) to two random
// P2WPKH scripts. Signatures are not real: nothing minerscope does checks them.
type flowChain struct {
	rng    *rand.Rand
	pools  [][]byte
	prev   chainhash.Hash
	height int32
	time   int64
	prevCB wire.OutPoint // the previous block's coinbase output
	hop1   []wire.OutPoint
	blocks []index.BlockData
}

func newFlowChain() *flowChain {
	c := &flowChain{rng: rand.New(rand.NewPCG(3, 5)), prev: *chaincfg.RegressionNetParams.GenesisHash,
		time: chaincfg.RegressionNetParams.GenesisBlock.Header.Timestamp.Unix()}
	for range 10 {
		c.pools = append(c.pools, c.p2wpkh())
	}
	return c
}

func (c *flowChain) fill(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(c.rng.Uint32())
	}
	return p
}

func (c *flowChain) p2wpkh() []byte { return append([]byte{0x00, 0x14}, c.fill(20)...) }

func (c *flowChain) randomOutPoint() wire.OutPoint {
	var h chainhash.Hash
	copy(h[:], c.fill(32))
	return wire.OutPoint{Hash: h, Index: c.rng.Uint32N(4)}
}

func (c *flowChain) input(op wire.OutPoint) *wire.TxIn {
	return &wire.TxIn{PreviousOutPoint: op, Witness: wire.TxWitness{c.fill(71), c.fill(33)},
		Sequence: wire.MaxTxInSequenceNum - 1}
}

// next builds the next block: a payout of payouts outputs, mixed spends of 1-hop outputs, and random
// transactions up to txs in all.
func (c *flowChain) next(payouts, mixed, txs int) ([]byte, index.BlockData) {
	c.height++
	c.time += 600
	cb := wire.NewMsgTx(2)
	cb.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: wire.MaxPrevOutIndex},
		SignatureScript: append([]byte{0x03, byte(c.height), byte(c.height >> 8), byte(c.height >> 16)},
			"/synthetic pool/"...), Sequence: wire.MaxTxInSequenceNum})
	cb.AddTxOut(wire.NewTxOut(50_0000_0000, c.pools[int(c.height)%len(c.pools)]))
	blk := wire.NewMsgBlock(&wire.BlockHeader{Version: 0x20000000, PrevBlock: c.prev,
		Bits: chaincfg.RegressionNetParams.PowLimitBits, Timestamp: time.Unix(c.time, 0)})
	blk.AddTransaction(cb)

	if c.height > 1 && payouts > 0 {
		tx := wire.NewMsgTx(2)
		tx.AddTxIn(c.input(c.prevCB))
		for range payouts {
			tx.AddTxOut(wire.NewTxOut(int64(40_0000_0000/payouts), c.p2wpkh()))
		}
		blk.AddTransaction(tx)
		h := tx.TxHash()
		for i := range payouts {
			c.hop1 = append(c.hop1, wire.OutPoint{Hash: h, Index: uint32(i)})
		}
	}
	for range mixed {
		if len(c.hop1) == 0 {
			break
		}
		i := c.rng.IntN(len(c.hop1))
		op := c.hop1[i]
		c.hop1[i] = c.hop1[len(c.hop1)-1]
		c.hop1 = c.hop1[:len(c.hop1)-1]
		tx := wire.NewMsgTx(2)
		tx.AddTxIn(c.input(op))
		tx.AddTxIn(c.input(c.randomOutPoint()))
		tx.AddTxOut(wire.NewTxOut(30_000, c.p2wpkh()))
		tx.AddTxOut(wire.NewTxOut(5_000, c.p2wpkh()))
		blk.AddTransaction(tx)
	}
	for len(blk.Transactions) < txs {
		tx := wire.NewMsgTx(2)
		tx.AddTxIn(c.input(c.randomOutPoint()))
		tx.AddTxIn(c.input(c.randomOutPoint()))
		for range 3 {
			tx.AddTxOut(wire.NewTxOut(int64(c.rng.Uint32N(1e8)), c.p2wpkh()))
		}
		blk.AddTransaction(tx)
	}
	hashes := make([]*chainhash.Hash, len(blk.Transactions))
	for i, tx := range blk.Transactions {
		h := tx.TxHash()
		hashes[i] = &h
	}
	blk.Header.MerkleRoot = merkleOfHashes(hashes)
	// Regtest's proof-of-work limit lets about every other nonce pass.
	for blockchain.HashToBig(ptr(blk.BlockHash())).Cmp(chaincfg.RegressionNetParams.PowLimit) > 0 {
		blk.Header.Nonce++
	}
	c.prev = blk.BlockHash()
	c.prevCB = wire.OutPoint{Hash: *hashes[0], Index: 0}
	var buf bytes.Buffer
	if err := blk.Serialize(&buf); err != nil {
		panic(err)
	}
	return buf.Bytes(), index.BlockData{Header: blk.Header, Block: blk}
}

func ptr[T any](v T) *T { return &v }

// connectSynthetic extracts the coinbase record of each block and connects them in one call.
func connectSynthetic(b *testing.B, db *index.DB, from int32, blocks []index.BlockData) {
	for i := range blocks {
		blocks[i].Coinbase = mustCoinbase(b, db.Params(), from+int32(i), blocks[i].Block)
	}
	if err := db.ConnectBlocks(from, blocks); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSyntheticFlows measures flow indexing at today's block sizes with a realistic miner set: an
// index first holds 1,000,000 unspent 1-hop miner outputs and scripts (100 payouts of 10,000 outputs),
// then b.N blocks of 3,000 transactions (about 1.2 MB: one coinbase, one payout to 200 new scripts, 50
// transactions spending a 1-hop miner output with a non-miner coin, the rest unrelated with two
// inputs and three outputs) are processed
// twice, timed: the baseline decodes and checks each block (what every block source delivers), the full
// path also extracts the coinbase record, verifies the header and connects the block with its flows in
// commits of 10 blocks, as the sync does at this size. It reports both rates, their ratio (target >= 0.7)
// and the process's resident memory.
//
//	go test ./cmd/minerscope -run '^$' -bench SyntheticFlows -benchtime 100x
func BenchmarkSyntheticFlows(b *testing.B) {
	p := analysis.Regtest
	db, err := index.Open(b.TempDir(), p, index.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.SetBlocksFrom(0, true); err != nil {
		b.Fatal(err)
	}
	genesis := chaincfg.RegressionNetParams.GenesisBlock
	connectSynthetic(b, db, 0, []index.BlockData{{Header: genesis.Header, Block: genesis}})

	c := newFlowChain()
	setupStart := time.Now()
	const setupBlocks = 101
	for h := int32(1); h <= setupBlocks; h++ {
		_, d := c.next(10_000, 0, 0)
		connectSynthetic(b, db, h, []index.BlockData{d})
	}
	b.Logf("setup: %d miner outputs in %v", len(c.hop1), time.Since(setupStart).Round(time.Millisecond))

	src := &chain.MemBlockSource{Blocks: make(map[chainhash.Hash][]byte, b.N),
		BatchSize: chain.DefaultBlockBatchSize, InFlight: chain.DefaultBlockInFlight}
	hashes := make([]chainhash.Hash, b.N)
	var size int
	for i := range b.N {
		raw, d := c.next(200, 50, 3000)
		hashes[i] = d.Header.BlockHash()
		src.Blocks[hashes[i]] = raw
		size += len(raw)
	}
	from, to := int32(setupBlocks+1), int32(setupBlocks+b.N)
	ctx := context.Background()
	lsm0, vlog0 := db.Size()
	runtime.GC()
	b.ResetTimer()

	// Baseline: the source alone, storing nothing.
	start := time.Now()
	blocks, wait := src.FetchBlocks(ctx, from, hashes)
	for range blocks {
	}
	if err := wait(); err != nil {
		b.Fatal(err)
	}
	baseline := time.Since(start)

	stop := startBenchProfile(b)
	defer stop()
	// Full: the sync's own block path over the same source.
	s := newSyncer(nil, db, nil, nil)
	s.blocks = src
	s.hashSource = func(ctx context.Context, from, to int32) <-chan hashRange {
		ch := make(chan hashRange, 1)
		ch <- hashRange{from: from, hashes: hashes[from-(setupBlocks+1) : to-setupBlocks]}
		close(ch)
		return ch
	}
	var res syncResult
	start = time.Now()
	if err := s.connectBlocks(ctx, from, to, &res); err != nil {
		b.Fatal(err)
	}
	full := time.Since(start)
	b.StopTimer()
	if path := os.Getenv("MINERSCOPE_BENCH_MEMPROFILE"); path != "" {
		runtime.GC()
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.WriteHeapProfile(f); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	if res.Connected != b.N {
		b.Fatalf("connected %d blocks, want %d", res.Connected, b.N)
	}

	n := float64(b.N)
	b.ReportMetric(n/baseline.Seconds(), "baseline_blocks/s")
	b.ReportMetric(n/full.Seconds(), "blocks/s")
	b.ReportMetric(baseline.Seconds()/full.Seconds(), "ratio")
	b.ReportMetric(float64(size)/n/1e6, "MB/block")
	b.ReportMetric(float64(residentKB())/1024, "rss_MiB")
	b.ReportMetric(float64(size)/(1<<20), "raw_MiB")
	lsm1, vlog1 := db.Size()
	b.ReportMetric(float64(lsm1+vlog1-lsm0-vlog0)/n/1024, "disk_KiB/block")
}

// startBenchProfile writes a CPU profile of the timed part of a benchmark to $MINERSCOPE_BENCH_CPUPROFILE
// (go test's -cpuprofile would include the setup) and returns the function that stops it.
func startBenchProfile(b *testing.B) func() {
	path := os.Getenv("MINERSCOPE_BENCH_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// residentKB returns the process's resident set size from /proc (0 where there is none).
func residentKB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return n
		}
	}
	return 0
}

// BenchmarkFlowSeriesExport measures `outflows --series daily --csv` over an index of mainnet length:
// 925,000 small synthetic blocks (a coinbase to one of ten pool scripts; every tenth block also spends an
// older coinbase, 30% out and the rest back to the pool), built once per run (about a minute, not timed).
// Each iteration opens the index read-only, reads every block's flow totals, computes the daily series
// and writes the CSV. Target: under 1 s.
//
//	go test ./cmd/minerscope -run '^$' -bench FlowSeriesExport -benchtime 5x
func BenchmarkFlowSeriesExport(b *testing.B) {
	const blocks = 925_000
	dir := b.TempDir()
	p := analysis.Regtest
	db, err := index.Open(dir, p, index.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := db.SetBlocksFrom(0, true); err != nil {
		b.Fatal(err)
	}
	genesis := chaincfg.RegressionNetParams.GenesisBlock
	connectSynthetic(b, db, 0, []index.BlockData{{Header: genesis.Header, Block: genesis}})
	c := newFlowChain()
	var cbs []wire.OutPoint
	start := time.Now()
	for h := int32(1); h <= blocks; {
		var batch []index.BlockData
		from := h
		for ; h <= blocks && len(batch) < 1000; h++ {
			var spend *wire.MsgTx
			if h%10 == 0 && len(cbs) > 200 {
				op := cbs[0]
				cbs = cbs[1:]
				spend = wire.NewMsgTx(2)
				spend.AddTxIn(c.input(op))
				spend.AddTxOut(wire.NewTxOut(15_0000_0000, c.p2wpkh()))
				spend.AddTxOut(wire.NewTxOut(34_9999_0000, c.pools[int(h)%len(c.pools)]))
			}
			d := c.nextSmall(spend)
			cbs = append(cbs, wire.OutPoint{Hash: d.Block.Transactions[0].TxHash()})
			batch = append(batch, d)
		}
		connectSynthetic(b, db, from, batch)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	b.Logf("built %d blocks in %v", blocks, time.Since(start).Round(time.Second))

	g := &globalOptions{IndexDir: dir, stdout: io.Discard, stderr: io.Discard}
	stop := startBenchProfile(b)
	defer stop()
	b.ResetTimer()
	for b.Loop() {
		if err := runOutflows(context.Background(), g, outflowsOptions{Series: "daily", CSV: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// nextSmall builds the next block of the chain with only a coinbase and, if given, one more transaction.
func (c *flowChain) nextSmall(tx *wire.MsgTx) index.BlockData {
	c.height++
	c.time += 600
	cb := wire.NewMsgTx(2)
	cb.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: wire.MaxPrevOutIndex},
		SignatureScript: []byte{0x04, byte(c.height), byte(c.height >> 8), byte(c.height >> 16), byte(c.height >> 24)},
		Sequence:        wire.MaxTxInSequenceNum})
	cb.AddTxOut(wire.NewTxOut(50_0000_0000, c.pools[int(c.height)%len(c.pools)]))
	blk := wire.NewMsgBlock(&wire.BlockHeader{Version: 0x20000000, PrevBlock: c.prev,
		Bits: chaincfg.RegressionNetParams.PowLimitBits, Timestamp: time.Unix(c.time, 0)})
	blk.AddTransaction(cb)
	hashes := []*chainhash.Hash{ptr(cb.TxHash())}
	if tx != nil {
		blk.AddTransaction(tx)
		hashes = append(hashes, ptr(tx.TxHash()))
	}
	blk.Header.MerkleRoot = merkleOfHashes(hashes)
	c.prev = blk.BlockHash()
	return index.BlockData{Header: blk.Header, Block: blk}
}
