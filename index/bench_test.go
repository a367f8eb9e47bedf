package index

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
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
// with the block: only its counts do.
func BenchmarkConnectBlocksModern(b *testing.B) {
	const n = 20000
	p := analysis.Simnet
	genesis, _ := GenesisHeader(p)
	hdrs := append([]wire.BlockHeader{genesis}, ExtendHeaders(genesis, n-1, nil)...)
	blocks := make([]BlockData, n)
	for h := range blocks {
		blocks[h] = BlockData{Header: hdrs[h], Coinbase: modernCoinbase(p, int32(h))}
	}
	benchConnectBlocks(b, p, blockMode{full: true}, blocks)
}

// modernCoinbase returns a coinbase record shaped like a 2025 mainnet one,
// its scripts, txid and address random (so as incompressible as real ones).
func modernCoinbase(p analysis.Params, height int32) *analysis.CoinbaseRecord {
	rng := rand.New(rand.NewPCG(uint64(height), 0xc0ffee))
	random := func(prefix []byte, n int) []byte {
		b := append([]byte(nil), prefix...)
		for range n {
			b = append(b, byte(rng.Uint32()))
		}
		return b
	}
	const bech32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	addr := []byte("bc1q")
	for range 38 {
		addr = append(addr, bech32[rng.IntN(len(bech32))])
	}

	subsidy := analysis.Subsidy(p, height)
	fees := btcutil.Amount(1_000_000 + rng.Int64N(30_000_000))
	rec := &analysis.CoinbaseRecord{
		ScriptSig: random([]byte{0x03, byte(height), byte(height >> 8), byte(height >> 16)}, 96),
		Outputs: []analysis.CoinbaseOutput{
			{Value: subsidy + fees, Script: random([]byte{0x00, 0x14}, 20),
				Address: string(addr), Type: "witness_v0_keyhash"},
			{Script: random([]byte{0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed}, 32), Type: "nulldata"},
			{Script: random([]byte{0x6a, 0x29}, 41), Type: "nulldata"},
			{Script: random([]byte{0x6a, 0x2d}, 45), Type: "nulldata"},
		},
		Reward:       subsidy + fees,
		Subsidy:      subsidy,
		Fees:         fees,
		TxCount:      2500 + rng.Int32N(1500),
		Size:         1_200_000 + rng.Int32N(600_000),
		Weight:       3_900_000 + rng.Int32N(93_000),
		SegwitCommit: true,
	}
	copy(rec.TxID[:], random(nil, chainhash.HashSize))
	return rec
}

// benchConnectBlocks connects blocks in batches of 500 into a fresh on-disk
// index in mode per iteration and reports blocks/s and bytes on disk per
// block after Close.
func benchConnectBlocks(b *testing.B, p analysis.Params, mode blockMode, blocks []BlockData) {
	var elapsed time.Duration
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

		start := time.Now()
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
}
