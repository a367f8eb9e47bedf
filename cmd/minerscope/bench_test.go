package main

import (
	"context"
	"testing"
	"time"

	"github.com/minerscope/minerscope/chain"
	"github.com/minerscope/minerscope/chain/chaintest"
)

// BenchmarkHeaderSync syncs the 14,132 real mainnet headers from a local btcd into a fresh index and, in the
// same run, times the fetch-only baseline client with the same batching. It reports both rates and their
// ratio (target: ratio >= 0.8):
//
//	go test ./cmd/minerscope -run '^$' -bench HeaderSync -benchtime 5x
func BenchmarkHeaderSync(b *testing.B) {
	n := chaintest.StartMainnet(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	client, err := chain.Dial(ctx, chain.Config{Host: n.RPCAddr, User: n.User, Pass: n.Pass})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	res, err := benchHeaders(ctx, client, b.N)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(res.Rate, "headers/s")
	b.ReportMetric(res.BaselineRate, "baseline_headers/s")
	b.ReportMetric(res.Ratio, "ratio")
}

// BenchmarkBlockSync builds a full index (headers, blocks, coinbase records) of the 14,132 real mainnet blocks
// from a local btcd over RPC and, in the same run, times the fetch-and-decode baseline (same source, batching
// and concurrency, storing nothing). Target: ratio >= 0.8.
//
//	go test ./cmd/minerscope -run '^$' -bench BlockSync -benchtime 3x
func BenchmarkBlockSync(b *testing.B) {
	n := chaintest.StartMainnet(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	client, err := chain.Dial(ctx, chain.Config{Host: n.RPCAddr, User: n.User, Pass: n.Pass})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	res, err := benchBlocks(ctx, client, chain.NewRPCBlockSource(client, 0, 0), b.N)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(res.Rate, "blocks/s")
	b.ReportMetric(res.BaselineRate, "baseline_blocks/s")
	b.ReportMetric(res.MBPerSec, "MB/s")
	b.ReportMetric(res.Ratio, "ratio")
}
