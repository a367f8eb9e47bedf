package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/minerscope/minerscope/analysis"

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
	client := dialTestNode(b, ctx, n)
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
	client := dialTestNode(b, ctx, n)
	b.ResetTimer()
	res, err := benchBlocks(ctx, client, chain.NewRPCBlockSource(client, 0, 0), b.N)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(res.Rate, "blocks/s")
	b.ReportMetric(res.BaselineRate, "baseline_blocks/s")
	b.ReportMetric(res.MBPerSec, "MB/s")
	b.ReportMetric(res.Ratio, "ratio")
	b.ReportMetric(res.SourceRate, "source_blocks/s")
	b.ReportMetric(res.SourceRatio, "source_ratio")
}

// syntheticBlock builds a block shaped like today's mainnet blocks: a segwit coinbase and n transactions of
// one P2WPKH input and two P2WPKH outputs with random keys and signatures (about 500 bytes each, so n = 3000
// gives about 1.5 MB).
func syntheticBlock(b *testing.B, n int) (raw []byte, hash chainhash.Hash) {
	rng := rand.New(rand.NewPCG(7, 11))
	fill := func(size int) []byte {
		p := make([]byte, size)
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		return p
	}
	p2wpkh := func() []byte { return append([]byte{0x00, 0x14}, fill(20)...) }
	cb := wire.NewMsgTx(2)
	cb.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: wire.MaxPrevOutIndex},
		SignatureScript: append([]byte{0x03, 0x10, 0x1d, 0x0e}, []byte("/synthetic pool/")...),
		Witness:         wire.TxWitness{make([]byte, 32)}, Sequence: wire.MaxTxInSequenceNum})
	cb.AddTxOut(wire.NewTxOut(3_12500000+12_345678, p2wpkh()))
	cb.AddTxOut(wire.NewTxOut(0, append([]byte{0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed}, fill(32)...)))
	blk := wire.NewMsgBlock(&wire.BlockHeader{Version: 0x20000000, Bits: 0x17034219, Timestamp: time.Unix(1764115200, 0)})
	blk.AddTransaction(cb)
	for range n {
		tx := wire.NewMsgTx(2)
		var prev chainhash.Hash
		copy(prev[:], fill(32))
		tx.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Hash: prev, Index: rng.Uint32N(4)},
			Witness: wire.TxWitness{fill(71), fill(33)}, Sequence: wire.MaxTxInSequenceNum - 1})
		tx.AddTxOut(wire.NewTxOut(int64(rng.Uint32N(1e8)), p2wpkh()))
		tx.AddTxOut(wire.NewTxOut(int64(rng.Uint32N(1e8)), p2wpkh()))
		blk.AddTransaction(tx)
	}
	hashes := make([]*chainhash.Hash, len(blk.Transactions))
	for i, tx := range blk.Transactions {
		h := tx.TxHash()
		hashes[i] = &h
	}
	blk.Header.MerkleRoot = merkleOfHashes(hashes)
	var buf bytes.Buffer
	if err := blk.Serialize(&buf); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes(), blk.BlockHash()
}

// merkleOfHashes is the plain Bitcoin merkle root, written out for the benchmark fixture.
func merkleOfHashes(level []*chainhash.Hash) chainhash.Hash {
	for len(level) > 1 {
		if len(level)%2 == 1 {
			level = append(level, level[len(level)-1])
		}
		next := make([]*chainhash.Hash, len(level)/2)
		for i := range next {
			var pair [64]byte
			copy(pair[:32], level[2*i][:])
			copy(pair[32:], level[2*i+1][:])
			h := chainhash.DoubleHashH(pair[:])
			next[i] = &h
		}
		level = next
	}
	return *level[0]
}

// BenchmarkSyntheticBlock measures what minerscope does per block at today's sizes (3,000 transactions,
// about 1.5 MB) once the bytes are in memory, stage by stage: decode (all the fetch-only baseline does),
// check (decode plus the header-hash and merkle-root check every block source applies) and extract (read the
// coinbase record from a decoded block). BenchmarkSyntheticFlows measures the rest (verify, flows, store)
// through the sync's own pipeline. The README projects mainnet indexing time from these figures.
//
//	go test ./cmd/minerscope -run '^$' -bench SyntheticBlock -benchtime 200x
func BenchmarkSyntheticBlock(b *testing.B) {
	raw, hash := syntheticBlock(b, 3000)
	p := analysis.Mainnet
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			var blk wire.MsgBlock
			if err := blk.Deserialize(bytes.NewReader(raw)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("check", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if _, err := chain.DecodeBlock(raw, 930000, hash); err != nil {
				b.Fatal(err)
			}
		}
	})
	blk, err := chain.DecodeBlock(raw, 930000, hash)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("extract", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if _, err := analysis.ExtractCoinbase(p, 930000, blk); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func mustCoinbase(b *testing.B, p analysis.Params, h int32, blk *wire.MsgBlock) *analysis.CoinbaseRecord {
	rec, err := analysis.ExtractCoinbase(p, h, blk)
	if err != nil {
		b.Fatal(err)
	}
	return &rec
}
