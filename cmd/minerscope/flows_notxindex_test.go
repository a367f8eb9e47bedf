package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/wire"

	"github.com/minerscope/minerscope/chain/chaintest"
)

// valuesNote is the start of the index command's note about flow transactions whose input values the node
// cannot give.
const valuesNote = "spending miner outputs also spend other coins whose values the node cannot give"

// startSimnetNode starts a btcd simnet node on dir per opts and stops it when the test ends; dir must come
// from t.TempDir before this call so that its removal runs after the shutdown.
func startSimnetNode(t *testing.T, ctx context.Context, dir string, noTxIndex bool) *chaintest.Node {
	t.Helper()
	n, err := chaintest.Start(ctx, chaintest.Options{Net: &chaincfg.SimNetParams, DataDir: dir,
		NoTxIndex: noTxIndex, Logf: t.Logf})
	if err != nil {
		t.Fatalf("start btcd: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Stop(); err != nil {
			t.Errorf("stop btcd: %v", err)
		}
	})
	return n
}

// TestSimnetFlowsWithoutTxIndex indexes a chain holding a transaction that spends a miner output together
// with an outside coin from a node without a transaction index: btcd then answers getrawtransaction only for
// its mempool and getblock verbosity 3 without prevouts, so the index must finish, say which transactions
// lack their input values, and leave only fee_sat and other_input_sat empty. Restarted on the same data
// directory with --txindex, the node builds the index and the next `minerscope index` fills them.
func TestSimnetFlowsWithoutTxIndex(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	nodeDir := t.TempDir()
	n := startSimnetNode(t, ctx, nodeDir, true)
	b, err := n.Builder(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mine := func(opts chaintest.BlockOpts) *wire.MsgBlock {
		t.Helper()
		blk, err := b.Next(opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.SubmitBlock(ctx, blk); err != nil {
			t.Fatal(err)
		}
		return blk
	}
	bare := chaintest.BareTrue
	P, F, X, Y, Z, E := bare("P"), bare("F"), bare("X"), bare("Y"), bare("Z"), bare("E")
	opReturn := makeScripts(t).opReturn

	// 1: 50 BTC to P, tagged /PoolP/.  2: 50 BTC to F.  3..101: 50 BTC to OP_RETURN (no miner output), so
	// that cb1 and cb2 mature (100 blocks) by 101 and 102.
	cb1 := mine(chaintest.BlockOpts{CoinbaseScript: []byte("/PoolP/"),
		Outputs: []*wire.TxOut{P.Out(flowSubsidy)}}).Transactions[0]
	cb2 := mine(chaintest.BlockOpts{Outputs: []*wire.TxOut{F.Out(flowSubsidy)}}).Transactions[0]
	for h := 3; h <= 101; h++ {
		mine(chaintest.BlockOpts{Outputs: []*wire.TxOut{wire.NewTxOut(flowSubsidy, opReturn)}})
	}
	// 102: txA spends cb2 (F) into X 49.9999 BTC; txB spends X into Y 10 BTC and Z 39.9998 BTC. Y is two
	// hops from a coinbase: outside the miner set at both levels, so its value is known only to the node.
	txA := chaintest.SpendTx([]chaintest.Coin{chaintest.CoinOf(cb2, 0, F)}, X.Out(4_999_990_000))
	txB := chaintest.SpendTx([]chaintest.Coin{chaintest.CoinOf(txA, 0, X)}, Y.Out(1_000_000_000),
		Z.Out(3_999_980_000))
	blk102 := mine(chaintest.BlockOpts{Outputs: []*wire.TxOut{wire.NewTxOut(flowSubsidy, opReturn)},
		Txs: []*wire.MsgTx{txA, txB}})
	// 103: txC spends cb1 (P, 50 BTC) and Y (10 BTC) into E 55 BTC and P 4.9999 BTC; fee 10,000 sat.
	txC := chaintest.SpendTx([]chaintest.Coin{chaintest.CoinOf(cb1, 0, P), chaintest.CoinOf(txB, 0, Y)},
		E.Out(5_500_000_000), P.Out(499_990_000))
	blk103 := mine(chaintest.BlockOpts{Outputs: []*wire.TxOut{wire.NewTxOut(flowSubsidy, opReturn)},
		Txs: []*wire.MsgTx{txC}})
	times := map[int32]time.Time{102: blk102.Header.Timestamp, 103: blk103.Header.Timestamp}

	poolsFile := filepath.Join(t.TempDir(), "pools.json")
	data, _ := json.Marshal([]map[string]any{{"id": 1, "name": "PoolP", "tags": []string{"/PoolP/"},
		"addresses": []string{}, "link": "https://p.example"}})
	if err := os.WriteFile(poolsFile, data, 0o600); err != nil {
		t.Fatal(err)
	}

	// The rows worked out by hand (origin of txA: cb2, no pool; of txC: cb1, PoolP).
	// Hops 0: txA: 5e9 from F, 4,999,990,000 to X (external): outflow 4,999,990,000. txB spends no 0-hop
	// output. txC: from 5e9, other 1e9; to miner 499,990,000 (P), external 5.5e9 (E); fee 6e9 − 5,999,990,000
	// = 10,000; outflow = min(5.5e9, 5e9) = 5e9; internal = min(499,990,000, 5e9 − 5e9) = 0.
	// Hops 1: X and E become miner scripts. txA: all internal. txB: from 4,999,990,000 (X), to Y and Z,
	// outside: outflow 4,999,980,000. txC: to miner 5,999,990,000, outflow 0, internal = min(5,999,990,000,
	// 5e9) = 5e9.
	const unk, pp = "unknown", "PoolP"
	known0 := []flowTxRow{
		{txA, 102, 5_000_000_000, 0, 0, 4_999_990_000, flowFee, 4_999_990_000, 0, unk},
		{txC, 103, 5_000_000_000, 1_000_000_000, 499_990_000, 5_500_000_000, flowFee, 5_000_000_000, 0, pp},
	}
	known1 := []flowTxRow{
		{txA, 102, 5_000_000_000, 0, 4_999_990_000, 0, flowFee, 0, 4_999_990_000, unk},
		{txB, 102, 4_999_990_000, 0, 0, 4_999_980_000, flowFee, 4_999_980_000, 0, unk},
		{txC, 103, 5_000_000_000, 1_000_000_000, 5_999_990_000, 0, flowFee, 0, 5_000_000_000, pp},
	}

	// The node has no transaction index: it cannot give txB, which holds Y.
	if _, err := n.Call(ctx, "getrawtransaction", txB.TxHash().String(), 0); err == nil {
		t.Fatal("btcd without --txindex answered getrawtransaction for a mined transaction")
	}

	dir := t.TempDir()
	start := time.Now()
	r := runCLI(t, nil, append([]string{"index"}, nodeArgs(n, dir)...)...)
	t.Logf("index without txindex: %v", time.Since(start).Round(time.Millisecond))
	if r.Code != 0 {
		t.Fatalf("index without txindex: exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if want := "note: 1 transaction(s) " + valuesNote; !contains(r.Stderr, want) {
		t.Errorf("index output lacks %q:\n%s", want, r.Stderr)
	}
	t.Run("without txindex", func(t *testing.T) {
		checkFlowTxsValues(t, dir, poolsFile, 0, known0, times, txC)
		checkFlowTxsValues(t, dir, poolsFile, 1, known1, times, txC)
	})

	// The same data directory with --txindex: btcd builds the index before its RPC server answers.
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	n = startSimnetNode(t, ctx, nodeDir, false)
	t.Logf("btcd restart with --txindex (builds the index of %d blocks): %v", 103,
		time.Since(start).Round(time.Millisecond))
	if _, tip, err := n.BestBlock(ctx); err != nil || tip != 103 {
		t.Fatalf("restarted node at height %d (%v), want 103", tip, err)
	}
	if _, err := n.Call(ctx, "getrawtransaction", txB.TxHash().String(), 0); err != nil {
		t.Fatalf("btcd restarted with --txindex cannot give txB: %v", err)
	}

	// No block is added: the index is already at the node's tip, and the values must be filled all the same.
	start = time.Now()
	r = mustRun(t, append([]string{"index"}, nodeArgs(n, dir)...)...)
	t.Logf("index with txindex: %v", time.Since(start).Round(time.Millisecond))
	if contains(r.Stderr, valuesNote) {
		t.Errorf("index output still has the note:\n%s", r.Stderr)
	}
	t.Run("with txindex", func(t *testing.T) {
		checkFlowTxsValues(t, dir, poolsFile, 0, known0, times, nil)
		checkFlowTxsValues(t, dir, poolsFile, 1, known1, times, nil)
	})
}

// checkFlowTxsValues is checkFlowTxs where the fee_sat and other_input_sat cells of transaction unknown (if
// not nil) must be empty.
func checkFlowTxsValues(t *testing.T, dir, poolsFile string, hops int, want []flowTxRow,
	times map[int32]time.Time, unknown *wire.MsgTx) {

	t.Helper()
	if unknown == nil {
		checkFlowTxs(t, dir, poolsFile, hops, want, times)
		return
	}
	r := mustRun(t, "outflows", "--tx", "--csv", "--hops", itoa(int64(hops)), "--index", dir, "--pools", poolsFile)
	_, rows := readCSV(t, r.Stdout)
	if len(rows) != len(want) {
		t.Fatalf("hops %d: %d rows, want %d:\n%s", hops, len(rows), len(want), r.Stdout)
	}
	for i, w := range want {
		other, fee := itoa(w.other), itoa(w.fee)
		if w.tx == unknown {
			other, fee = "", ""
		}
		exp := []string{w.tx.TxHash().String(), itoa(int64(w.height)), isoTimeUTC(times[w.height]), itoa(w.from),
			other, itoa(w.toMiner), itoa(w.toExt), fee, itoa(w.outflow), itoa(w.internal), w.pool}
		if got, e := mustJSON(t, rows[i]), mustJSON(t, exp); got != e {
			t.Errorf("hops %d row %d:\n got %s\nwant %s", hops, i, got, e)
		}
		if w.from+w.other != w.toMiner+w.toExt+w.fee {
			t.Errorf("hops %d row %d: the expected row does not balance", hops, i)
		}
	}
}
