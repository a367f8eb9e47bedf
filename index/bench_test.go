package index

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"
	"github.com/minerscope/minerscope/analysis"
)

// BenchmarkConnectHeader connects the real mainnet headers 0-14131, one
// transaction each, into a fresh on-disk index per iteration, and reports
// headers/s and the bytes on disk after Close.
func BenchmarkConnectHeader(b *testing.B) {
	hdrs := MainnetHeaders(b)
	var elapsed time.Duration
	var lsm, vlog int64

	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		db, err := Open(dir, analysis.Mainnet, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()

		start := time.Now()
		for h := range hdrs {
			if err := db.ConnectHeader(int32(h), &hdrs[h]); err != nil {
				b.Fatal(err)
			}
		}
		elapsed += time.Since(start)

		b.StopTimer()
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		db, err = Open(dir, analysis.Mainnet, Options{ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		lsm, vlog = db.Size()
		_ = db.Close()
		b.StartTimer()
	}

	b.ReportMetric(float64(b.N*len(hdrs))/elapsed.Seconds(), "headers/s")
	b.ReportMetric(float64(lsm), "lsm-bytes")
	b.ReportMetric(float64(vlog), "log-bytes")
}

// BenchmarkAnalysisHeaders loads the height, time and bits of one million
// synthetic headers, the work the estimators do on a mainnet-sized index.
func BenchmarkAnalysisHeaders(b *testing.B) {
	const n = 1_000_000
	genesis, _ := GenesisHeader(analysis.Simnet)
	dir := b.TempDir()
	db, err := Open(dir, analysis.Simnet, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()

	hdrs := append([]wire.BlockHeader{genesis}, ExtendHeaders(genesis, n-1, nil)...)
	start := time.Now()
	ConnectHeaders(b, db, hdrs)
	b.Logf("connected %d headers in %v", n, time.Since(start))
	lsm, vlog := db.Size()
	b.Logf("size on disk: lsm %d, logs %d", lsm, vlog)

	for b.Loop() {
		got, err := db.AnalysisHeaders(0, n-1)
		if err != nil || len(got) != n {
			b.Fatalf("got %d headers: %v", len(got), err)
		}
	}
}

// BenchmarkConnectHeaders connects the real mainnet headers in batches of 500, as the sync loop does.
func BenchmarkConnectHeaders(b *testing.B) {
	hdrs := MainnetHeaders(b)
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		db, err := Open(b.TempDir(), analysis.Mainnet, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		for h := 0; h < len(hdrs); h += 500 {
			if err := db.ConnectHeaders(int32(h), hdrs[h:min(h+500, len(hdrs))]); err != nil {
				b.Fatal(err)
			}
		}
		elapsed += time.Since(start)
		b.StopTimer()
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*len(hdrs))/elapsed.Seconds(), "headers/s")
}

// BenchmarkConnectBlocks connects the real mainnet blocks 0-14131 in
// batches of 500, as the sync loop does, into a fresh on-disk index per
// iteration: headers only, and with every block's coinbase record. It
// reports blocks/s and the bytes on disk per block after Close.
func BenchmarkConnectBlocks(b *testing.B) {
	all := MainnetBlockData(b, 0)
	for _, mode := range []struct {
		name string
		mode blockMode
	}{
		{"headers-only", blockMode{}},
		{"full", blockMode{full: true}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			benchConnectBlocks(b, analysis.Mainnet, mode.mode, blocksFor(all, mode.mode, len(all)))
		})
	}
}

// BenchmarkConnectBlocksModern connects synthetic blocks whose coinbases
// have the shape of today's (a 100-byte scriptSig; a P2WPKH payout, the
// witness commitment and two other OP_RETURN outputs), so the per-block cost
// and size at mainnet scale are known. The coinbase record does not grow
// with the block, only its counts do; these blocks hold their coinbase
// alone, so their records are a few bytes shorter than today's and their
// flows are one new miner script and output each.
func BenchmarkConnectBlocksModern(b *testing.B) {
	const n = 20000
	p := analysis.Simnet
	genesis, _ := GenesisHeader(p)
	hdrs := append([]wire.BlockHeader{genesis}, ExtendHeaders(genesis, n-1, nil)...)
	blocks := make([]BlockData, n)
	for h := range blocks {
		blocks[h] = modernBlock(b, p, int32(h), hdrs[h])
	}
	benchConnectBlocks(b, p, blockMode{full: true}, blocks)
}

// modernBlock returns a block with header hdr whose only transaction is a
// coinbase shaped like a 2025 mainnet one, its scripts random (so as
// incompressible as real ones), with its coinbase record.
func modernBlock(tb testing.TB, p analysis.Params, height int32, hdr wire.BlockHeader) BlockData {
	rng := rand.New(rand.NewPCG(uint64(height), 0xc0ffee))
	random := func(prefix []byte, n int) []byte {
		b := append([]byte(nil), prefix...)
		for range n {
			b = append(b, byte(rng.Uint32()))
		}
		return b
	}

	fees := int64(1_000_000 + rng.Int64N(30_000_000))
	cb := wire.NewMsgTx(2)
	cb.AddTxIn(&wire.TxIn{
		PreviousOutPoint: wire.OutPoint{Index: math.MaxUint32},
		SignatureScript:  random([]byte{0x03, byte(height), byte(height >> 8), byte(height >> 16)}, 96),
		Sequence:         math.MaxUint32,
	})
	cb.AddTxOut(wire.NewTxOut(int64(analysis.Subsidy(p, height))+fees, random([]byte{0x00, 0x14}, 20)))
	cb.AddTxOut(wire.NewTxOut(0, random([]byte{0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed}, 32)))
	cb.AddTxOut(wire.NewTxOut(0, random([]byte{0x6a, 0x29}, 41)))
	cb.AddTxOut(wire.NewTxOut(0, random([]byte{0x6a, 0x2d}, 45)))

	blk := &wire.MsgBlock{Header: hdr, Transactions: []*wire.MsgTx{cb}}
	rec, err := analysis.ExtractCoinbase(p, height, blk)
	if err != nil {
		tb.Fatalf("coinbase of block %d: %v", height, err)
	}
	return BlockData{Header: hdr, Coinbase: &rec, Block: blk}
}

// benchConnectBlocks connects blocks in batches of 500 into a fresh on-disk
// index in mode per iteration and reports blocks/s and bytes on disk per
// block after Close.
func benchConnectBlocks(b *testing.B, p analysis.Params, mode blockMode, blocks []BlockData) {
	var elapsed, cpu time.Duration
	var lsm, vlog int64
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		db, err := Open(dir, p, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := db.SetBlocksFrom(mode.from, mode.full); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()

		start, cpu0 := time.Now(), processCPU()
		for h := 0; h < len(blocks); h += 500 {
			if err := db.ConnectBlocks(int32(h), blocks[h:min(h+500, len(blocks))]); err != nil {
				b.Fatal(err)
			}
		}
		elapsed += time.Since(start)

		b.StopTimer()
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		cpu += processCPU() - cpu0
		db, err = Open(dir, p, Options{ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		lsm, vlog = db.Size()
		_ = db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*len(blocks))/elapsed.Seconds(), "blocks/s")
	b.ReportMetric(float64(lsm+vlog)/float64(len(blocks)), "disk-bytes/block")
	b.ReportMetric(float64(lsm), "lsm-bytes")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*len(blocks)), "cpu-µs/block")
}
