package index

import (
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
