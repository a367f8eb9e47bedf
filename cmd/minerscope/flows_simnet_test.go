package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/minerscope/minerscope/chain/chaintest"
)

// Amounts of the crafted flow chain, in satoshis.
const (
	flowSubsidy = 5_000_000_000 // 50 BTC, simnet's subsidy below height 210000
	flowFee     = 10_000        // the fee of every crafted transaction but tx9
)

// flowTxRow is one expected row of `outflows --tx --csv`, worked out by hand.
type flowTxRow struct {
	tx                                                  *wire.MsgTx
	height                                              int32
	from, other, toMiner, toExt, fee, outflow, internal int64
	pool                                                string
}

// flowDayRow is one expected row of `outflows --series daily --csv`. multiple and ratio are NaN where the
// CSV cell is empty.
type flowDayRow struct {
	period                                              string
	from, to                                            int32
	blocks                                              int
	outflow, internal, inflow, cbInflow, minerFee, lost int64
	reserve, net, revenue                               int64
	multiple                                            float64
	maDays                                              int
	ratio                                               float64
	spending                                            int64
}

// flowReserve is one expected `reserve --json --by-pool` answer.
type flowReserve struct {
	height int32
	hops   int
	total  int64
	pools  []reservePoolJSON
}

// TestSimnetMinerFlows crafts a simnet chain with anyone-can-spend coins covering the miner-flow cases of
// issue 4 (a pool paying many miners, consolidation, change, an output created and spent in one block, a
// miner script paid from an outside coin and then spent with a miner coin, coinbases of every script type),
// checks the exports against figures worked out by hand from the definitions, then reorgs away the blocks
// holding the last flows and checks that the index gives exactly the exports of a fresh sync.
func TestSimnetMinerFlows(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	n := chaintest.StartSimnet(t)
	b, err := n.Builder(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := makeScripts(t)

	// P is the pool's script (P2SH, so it has an address for the pools file); the others are bare
	// `<tag> OP_DROP OP_TRUE` scripts: F funds outside coins, M1..M5 are the pool's miners, X, Y1..Y3, C1
	// hold coins two hops from a coinbase (outside the miner set at both levels), E1, Z1, W, V, U are
	// destinations, Q is paid by a coinbase that the reorg removes.
	P := chaintest.P2SHTrue("pool P")
	bare := chaintest.BareTrue
	F, X, Y1, Y2, Y3, C1 := bare("F"), bare("X"), bare("Y1"), bare("Y2"), bare("Y3"), bare("C1")
	E1, Z1, W, V, U, Q := bare("E1"), bare("Z1"), bare("W"), bare("V"), bare("U"), bare("Q")
	var M [6]chaintest.TrueScript // M[1]..M[5]
	for i := 1; i <= 5; i++ {
		M[i] = bare("M" + strconv.Itoa(i))
	}
	opReturn := func(v int64) *wire.TxOut { return wire.NewTxOut(v, s.opReturn) }

	times := map[int32]time.Time{0: n.Params.GenesisBlock.Header.Timestamp.UTC()}
	mine := func(parent *chainhash.Hash, at time.Time, outs []*wire.TxOut, txs ...*wire.MsgTx) *wire.MsgBlock {
		t.Helper()
		blk, err := b.Next(chaintest.BlockOpts{Parent: parent, Time: at, Outputs: outs, Txs: txs})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.SubmitBlock(ctx, blk); err != nil {
			t.Fatal(err)
		}
		_, h := b.Tip()
		times[h] = at
		return blk
	}

	// Day A, 2014-05-28 (genesis is at 15:52:37): heights 1..106, one a minute.
	//   1: 50 BTC to P            (pool P)      2: 50 BTC to F (no pool: bare script, no tag)
	//   3, 4, 5: 50 BTC to P      (pool P)      6: P2PK 10, P2PKH 10, P2WPKH 20, P2TR 9, OP_RETURN 1 BTC
	//   7..106: 50 BTC to OP_RETURN (never a miner output), so the coinbases above mature.
	cb := map[int32]*wire.MsgTx{}
	for h := int32(1); h <= 106; h++ {
		var outs []*wire.TxOut
		switch h {
		case 1, 3, 4, 5:
			outs = []*wire.TxOut{P.Out(flowSubsidy)}
		case 2:
			outs = []*wire.TxOut{F.Out(flowSubsidy)}
		case 6:
			outs = []*wire.TxOut{wire.NewTxOut(1_000_000_000, s.p2pk), wire.NewTxOut(1_000_000_000, s.p2pkh),
				wire.NewTxOut(2_000_000_000, s.p2wpkh), wire.NewTxOut(900_000_000, s.p2tr), opReturn(100_000_000)}
		default:
			outs = []*wire.TxOut{opReturn(flowSubsidy)}
		}
		cb[h] = mine(nil, times[0].Add(time.Duration(h)*time.Minute), outs).Transactions[0]
	}
	coin := chaintest.CoinOf

	// Block 107 (2014-05-29 12:00).
	// tx1, the pool's payout: cb1 (50 BTC, P) -> M1..M5 4 BTC each + change 29.9999 BTC to P.
	tx1 := chaintest.SpendTx([]chaintest.Coin{coin(cb[1], 0, P)}, M[1].Out(400_000_000), M[2].Out(400_000_000),
		M[3].Out(400_000_000), M[4].Out(400_000_000), M[5].Out(400_000_000), P.Out(2_999_990_000))
	// tx2: cb2 (50 BTC, F) -> X 49.9999 BTC. tx3 (same block): X -> Y1 10, Y2 10, Y3 29.9998 BTC.
	tx2 := chaintest.SpendTx([]chaintest.Coin{coin(cb[2], 0, F)}, X.Out(4_999_990_000))
	tx3 := chaintest.SpendTx([]chaintest.Coin{coin(tx2, 0, X)}, Y1.Out(1_000_000_000), Y2.Out(1_000_000_000),
		Y3.Out(2_999_980_000))
	// tx4: cb3 (50 BTC) -> P 49.9999 BTC; tx5 spends that output in the same block: 10 BTC to E1, change
	// 39.9998 BTC back to P.
	tx4 := chaintest.SpendTx([]chaintest.Coin{coin(cb[3], 0, P)}, P.Out(4_999_990_000))
	tx5 := chaintest.SpendTx([]chaintest.Coin{coin(tx4, 0, P)}, E1.Out(1_000_000_000), P.Out(3_999_980_000))
	dayB := time.Date(2014, 5, 29, 12, 0, 0, 0, time.UTC)
	mine(nil, dayB, []*wire.TxOut{opReturn(flowSubsidy)}, tx1, tx2, tx3, tx4, tx5)

	// Block 108 (12:10). Its coinbase pays M4, which becomes a 0-hop script from 108 on (origin 108, no
	// pool); tx1's output to M4 stays a 1-hop output (membership is fixed at creation).
	// tx6, consolidation: cb4 + cb5 (100 BTC) -> P 99.9999 BTC.
	tx6 := chaintest.SpendTx([]chaintest.Coin{coin(cb[4], 0, P), coin(cb[5], 0, P)}, P.Out(9_999_990_000))
	// tx7: M1's payout (4 BTC) -> Z1 3.9999 BTC.
	tx7 := chaintest.SpendTx([]chaintest.Coin{coin(tx1, 0, M[1])}, Z1.Out(399_990_000))
	// tx8: Y1 (10 BTC, outside) -> P 6 BTC, M3 1 BTC, C1 2.9999 BTC: no miner input, only inflow.
	tx8 := chaintest.SpendTx([]chaintest.Coin{coin(tx3, 0, Y1)}, P.Out(600_000_000), M[3].Out(100_000_000),
		C1.Out(299_990_000))
	mine(nil, dayB.Add(10*time.Minute), []*wire.TxOut{M[4].Out(flowSubsidy)}, tx6, tx7, tx8)

	// Block 109 (12:20).
	// tx9, mixed inputs: tx8's 6 BTC to P (miner) + Y2 (10 BTC, outside) -> W 15 BTC, P 0.9999 BTC.
	tx9 := chaintest.SpendTx([]chaintest.Coin{coin(tx8, 0, P), coin(tx3, 1, Y2)}, W.Out(1_500_000_000),
		P.Out(99_990_000))
	// tx10: tx1's 4 BTC to M4 (a 1-hop output) -> M4 3.9999 BTC, now a 0-hop output.
	tx10 := chaintest.SpendTx([]chaintest.Coin{coin(tx1, 3, M[4])}, M[4].Out(399_990_000))
	blk109 := mine(nil, dayB.Add(20*time.Minute), []*wire.TxOut{opReturn(flowSubsidy)}, tx9, tx10)

	// Day C, 2014-05-30; blocks 110 and 111 are reorged away below.
	// tx11: tx6's 99.9999 BTC (P) -> V 50 BTC, P 49.9998 BTC.
	dayC := time.Date(2014, 5, 30, 12, 0, 0, 0, time.UTC)
	tx11 := chaintest.SpendTx([]chaintest.Coin{coin(tx6, 0, P)}, V.Out(flowSubsidy), P.Out(4_999_980_000))
	mine(nil, dayC, []*wire.TxOut{opReturn(flowSubsidy)}, tx11)
	// Block 111: coinbase 50 BTC to Q; tx12: V (50 BTC) -> U 49.9999 BTC.
	tx12 := chaintest.SpendTx([]chaintest.Coin{coin(tx11, 0, V)}, U.Out(4_999_990_000))
	mine(nil, dayC.Add(10*time.Minute), []*wire.TxOut{Q.Out(flowSubsidy)}, tx12)

	poolsFile := filepath.Join(t.TempDir(), "pools.json")
	pools := []map[string]any{
		{"id": 1, "name": "PoolP", "addresses": []string{P.Address(n.Params)}, "tags": []string{"/PoolP/"},
			"link": "https://p.example"},
		{"id": 2, "name": "PoolK", "addresses": []string{s.p2wpkhAddr}, "tags": []string{"/PoolK/"},
			"link": "https://k.example"},
	}
	data, _ := json.Marshal(pools)
	if err := os.WriteFile(poolsFile, data, 0o600); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	mustRun(t, append([]string{"index", "--quiet"}, nodeArgs(n, dir)...)...)

	// Pools by origin: cb1, cb3, cb4, cb5 pay P's address (PoolP); cb6's largest address payout is the
	// P2WPKH (PoolK); cb2 (F), cb108 (M4), cb111 (Q) match nothing ("unknown").
	// Every transaction's inputs minus outputs is 10,000 sat; fee_sat and other_input_sat are known
	// because the node runs with --txindex.
	const pp, unk = "PoolP", "unknown"
	txs0 := []flowTxRow{
		// tx1 at 0 hops: from 5e9 (cb1); to miner = change 2,999,990,000 (P); external = 5 × 4e8 = 2e9
		// (M_i are 1-hop only). outflow = min(2e9, 5e9) = 2e9; internal = min(2,999,990,000, 5e9−2e9).
		{tx1, 107, 5_000_000_000, 0, 2_999_990_000, 2_000_000_000, flowFee, 2_000_000_000, 2_999_990_000, pp},
		// tx2: 5e9 from cb2, all to X (external at 0 hops): outflow 4,999,990,000; origin 2 (no pool).
		{tx2, 107, 5_000_000_000, 0, 0, 4_999_990_000, flowFee, 4_999_990_000, 0, unk},
		// tx3 spends only X (1-hop): no row at 0 hops.
		// tx4: cb3 (origin 3) -> P: all internal.
		{tx4, 107, 5_000_000_000, 0, 4_999_990_000, 0, flowFee, 0, 4_999_990_000, pp},
		// tx5 spends tx4's output (P's origin: 1) in the block that created it: 1e9 to E1 is outflow,
		// the change 3,999,980,000 internal.
		{tx5, 107, 4_999_990_000, 0, 3_999_980_000, 1_000_000_000, flowFee, 1_000_000_000, 3_999_980_000, pp},
		// tx6: 1e10 from cb4 + cb5 (origins 4 and 5 tie: the lower, 4) -> P.
		{tx6, 108, 10_000_000_000, 0, 9_999_990_000, 0, flowFee, 0, 9_999_990_000, pp},
		// tx9: miner 6e8 + other 1e9 = 1.6e9 in; to miner 99,990,000 (P), external 1.5e9 (W).
		// outflow = min(1.5e9, 6e8) = 6e8; internal = min(99,990,000, 6e8−6e8) = 0.
		{tx9, 109, 600_000_000, 1_000_000_000, 99_990_000, 1_500_000_000, flowFee, 600_000_000, 0, pp},
		// tx11: 9,999,990,000 (tx6's P output) -> V 5e9 (outflow), P 4,999,980,000 (internal).
		{tx11, 110, 9_999_990_000, 0, 4_999_980_000, 5_000_000_000, flowFee, 5_000_000_000, 4_999_980_000, pp},
	}
	txs1 := []flowTxRow{
		// At 1 hop every script a 0-hop spend pays is a miner script: tx1's payout is internal.
		{tx1, 107, 5_000_000_000, 0, 4_999_990_000, 0, flowFee, 0, 4_999_990_000, pp},
		{tx2, 107, 5_000_000_000, 0, 4_999_990_000, 0, flowFee, 0, 4_999_990_000, unk},
		// tx3 spends X (1-hop, origin 2) only, so Y1..Y3 stay outside: outflow 4,999,980,000.
		{tx3, 107, 4_999_990_000, 0, 0, 4_999_980_000, flowFee, 4_999_980_000, 0, unk},
		{tx4, 107, 5_000_000_000, 0, 4_999_990_000, 0, flowFee, 0, 4_999_990_000, pp},
		// tx5: E1 becomes 1-hop: 1e9 + 3,999,980,000 = 4,999,980,000 internal.
		{tx5, 107, 4_999_990_000, 0, 4_999_980_000, 0, flowFee, 0, 4_999_980_000, pp},
		{tx6, 108, 10_000_000_000, 0, 9_999_990_000, 0, flowFee, 0, 9_999_990_000, pp},
		// tx7: M1 (1-hop, origin 1) pays Z1 399,990,000: outflow at 1 hop only.
		{tx7, 108, 400_000_000, 0, 0, 399_990_000, flowFee, 399_990_000, 0, pp},
		// tx9: W becomes 1-hop: to miner 1.5e9 + 99,990,000 = 1,599,990,000; outflow 0; internal =
		// min(1,599,990,000, 6e8) = 6e8 (inflow 999,990,000).
		{tx9, 109, 600_000_000, 1_000_000_000, 1_599_990_000, 0, flowFee, 0, 600_000_000, pp},
		// tx10: 4e8 (1-hop, origin 1) -> M4 399,990,000, internal.
		{tx10, 109, 400_000_000, 0, 399_990_000, 0, flowFee, 0, 399_990_000, pp},
		// tx11: V becomes 1-hop: 5e9 + 4,999,980,000 internal.
		{tx11, 110, 9_999_990_000, 0, 9_999_980_000, 0, flowFee, 0, 9_999_980_000, pp},
		// tx12: V (1-hop, origin 1) -> U: outflow 4,999,990,000.
		{tx12, 111, 5_000_000_000, 0, 0, 4_999_990_000, flowFee, 4_999_990_000, 0, pp},
	}

	// Day A, both levels: coinbase inflow = 5 × 5e9 (cb1..cb5) + cb6's 1e9 + 1e9 + 2e9 + 9e8 (its 1e8
	// OP_RETURN is unspendable) = 29,900,000,000 (the genesis coinbase is no miner output, the fillers pay
	// OP_RETURN); no flows. Revenue counts every coinbase: genesis + 106 blocks, 107 × 5e9.
	dayA := flowDayRow{period: "2014-05-28", from: 0, to: 106, blocks: 107, inflow: 29_900_000_000,
		cbInflow: 29_900_000_000, reserve: 29_900_000_000, net: 29_900_000_000, revenue: 535_000_000_000,
		multiple: math.NaN(), maDays: 1, ratio: 0}
	// Day B at 0 hops (blocks 107..109, revenue 3 × 5e9):
	//   outflow  = 2e9 + 4,999,990,000 + 1e9 (107) + 6e8 (tx9) = 8,599,990,000
	//   internal = 2,999,990,000 + 4,999,990,000 + 3,999,980,000 (107) + 9,999,990,000 (tx6) = 21,999,950,000
	//   coinbase inflow = 5e9 (cb108 to M4); other inflow = 6e8 (tx8 to P) + 99,990,000 (tx9's change) +
	//   399,990,000 (tx10, from a 1-hop output into the 0-hop M4) = 1,099,980,000; inflow 6,099,980,000
	//   miner fee = 4 × 10,000 (tx1, tx2, tx4, tx5) + 10,000 (tx6) + 0 (tx9's fee is paid from the outside
	//   coin) = 50,000; spending txs 4 + 1 + 1 = 6
	//   net = 6,099,980,000 − 8,599,990,000 − 50,000 = −2,500,060,000; reserve 27,399,940,000
	//   multiple = 8,599,990,000 / mean(0, 8,599,990,000) = 2
	dayB0 := flowDayRow{period: "2014-05-29", from: 107, to: 109, blocks: 3, outflow: 8_599_990_000,
		internal: 21_999_950_000, inflow: 6_099_980_000, cbInflow: 5_000_000_000, minerFee: 50_000,
		reserve: 27_399_940_000, net: -2_500_060_000, revenue: 15_000_000_000, multiple: 2, maDays: 2,
		ratio: 8_599_990_000.0 / 15_000_000_000, spending: 6}
	// Day B at 1 hop:
	//   outflow  = 4,999,980,000 (tx3) + 399,990,000 (tx7) = 5,399,970,000
	//   internal = 4,999,990,000 × 3 + 4,999,980,000 (107) + 9,999,990,000 (108) + 6e8 + 399,990,000 (109)
	//            = 30,999,930,000
	//   other inflow = 7e8 (tx8 to P and M3) + 999,990,000 (tx9) = 1,699,990,000; inflow 6,699,990,000
	//   miner fee = 5 × 10,000 + 2 × 10,000 (tx6, tx7) + 10,000 (tx10) = 80,000; spending 5 + 2 + 2 = 9
	//   net = 6,699,990,000 − 5,399,970,000 − 80,000 = 1,299,940,000; reserve 31,199,940,000
	dayB1 := flowDayRow{period: "2014-05-29", from: 107, to: 109, blocks: 3, outflow: 5_399_970_000,
		internal: 30_999_930_000, inflow: 6_699_990_000, cbInflow: 5_000_000_000, minerFee: 80_000,
		reserve: 31_199_940_000, net: 1_299_940_000, revenue: 15_000_000_000, multiple: 2, maDays: 2,
		ratio: 5_399_970_000.0 / 15_000_000_000, spending: 9}
	// Day C at 0 hops (110..111): outflow 5e9 (tx11), internal 4,999,980,000, coinbase inflow 5e9 (Q),
	// fee 10,000; net = 5e9 − 5e9 − 10,000 = −10,000; reserve 27,399,930,000;
	// multiple = 5e9 / mean(0, 8,599,990,000, 5e9).
	dayC0 := flowDayRow{period: "2014-05-30", from: 110, to: 111, blocks: 2, outflow: 5_000_000_000,
		internal: 4_999_980_000, inflow: 5_000_000_000, cbInflow: 5_000_000_000, minerFee: 10_000,
		reserve: 27_399_930_000, net: -10_000, revenue: 10_000_000_000,
		multiple: 5e9 / ((0 + 8_599_990_000 + 5e9) / 3.0), maDays: 3, ratio: 0.5, spending: 1}
	// Day C at 1 hop: outflow 4,999,990,000 (tx12), internal 9,999,980,000 (tx11), coinbase inflow 5e9,
	// fee 20,000; net = 5e9 − 4,999,990,000 − 20,000 = −10,000; reserve 31,199,930,000.
	dayC1 := flowDayRow{period: "2014-05-30", from: 110, to: 111, blocks: 2, outflow: 4_999_990_000,
		internal: 9_999_980_000, inflow: 5_000_000_000, cbInflow: 5_000_000_000, minerFee: 20_000,
		reserve: 31_199_930_000, net: -10_000, revenue: 10_000_000_000,
		multiple: 4_999_990_000 / ((0 + 5_399_970_000 + 4_999_990_000) / 3.0), maDays: 3,
		ratio: 4_999_990_000.0 / 10_000_000_000, spending: 2}

	t.Run("before reorg", func(t *testing.T) {
		checkFlowTxs(t, dir, poolsFile, 0, txs0, times)
		checkFlowTxs(t, dir, poolsFile, 1, txs1, times)
		checkFlowDays(t, dir, 0, []flowDayRow{dayA, dayB0, dayC0})
		checkFlowDays(t, dir, 1, []flowDayRow{dayA, dayB1, dayC1})
		// Reserve after 109 at 0 hops, by unspent miner output:
		//   PoolP (origin 1, P's first coinbase): tx1 change 2,999,990,000 + tx5 change 3,999,980,000 +
		//     tx6 9,999,990,000 + tx9 change 99,990,000 = 17,099,950,000
		//   unknown (origin 108, M4): cb108 5e9 + tx10 399,990,000 = 5,399,990,000
		//   PoolK (origin 6): 4,900,000,000;   total 27,399,940,000 (= Day B's reserve)
		// At 1 hop PoolP adds the 1-hop outputs: M2, M3, M5 3 × 4e8 + E1 1e9 + M3 1e8 (tx8) + W 1.5e9
		//   = 3.8e9 -> 20,899,950,000; total 31,199,940,000.
		// After 111: tx6's output is spent by tx11 (−9,999,990,000 + 4,999,980,000 to P) and cb111 adds
		//   5e9 to unknown (origin 111); V is created and spent at 1 hop.
		checkReserves(t, dir, poolsFile, []flowReserve{
			{109, 0, 27_399_940_000, []reservePoolJSON{{pp, 17_099_950_000}, {unk, 5_399_990_000}, {"PoolK", 4_900_000_000}}},
			{109, 1, 31_199_940_000, []reservePoolJSON{{pp, 20_899_950_000}, {unk, 5_399_990_000}, {"PoolK", 4_900_000_000}}},
			{-1, 0, 27_399_930_000, []reservePoolJSON{{pp, 12_099_940_000}, {unk, 10_399_990_000}, {"PoolK", 4_900_000_000}}},
			{-1, 1, 31_199_930_000, []reservePoolJSON{{pp, 15_899_940_000}, {unk, 10_399_990_000}, {"PoolK", 4_900_000_000}}},
		}, 111)
		checkFlowsTx9(t, dir, poolsFile, tx9, tx8, tx3, P.Address(n.Params))
	})

	// Reorg: a three-block branch on 109 replaces 110 and 111. 110' spends tx6's output again, all to P
	// (99.9998 BTC); 112' pays Q from Y3, an outside coin: Q is no miner script on this branch.
	tx11b := chaintest.SpendTx([]chaintest.Coin{coin(tx6, 0, P)}, P.Out(9_999_980_000))
	tx13 := chaintest.SpendTx([]chaintest.Coin{coin(tx3, 2, Y3)}, Q.Out(2_999_970_000))
	fork := blk109.BlockHash()
	mine(&fork, dayC.Add(60*time.Minute), []*wire.TxOut{opReturn(flowSubsidy)}, tx11b)
	mine(nil, dayC.Add(70*time.Minute), []*wire.TxOut{opReturn(flowSubsidy)})
	last := mine(nil, dayC.Add(80*time.Minute), []*wire.TxOut{opReturn(flowSubsidy)}, tx13)
	if best, _, err := n.BestBlock(ctx); err != nil || best != last.BlockHash() {
		t.Fatalf("node tip %v (%v), want the new branch's %v", best, err, last.BlockHash())
	}
	r := mustRun(t, append([]string{"index"}, nodeArgs(n, dir)...)...)
	if want := "reorg: undid 2 block(s)"; !contains(r.Stderr, want) {
		t.Errorf("index output lacks %q:\n%s", want, r.Stderr)
	}

	t.Run("after reorg", func(t *testing.T) {
		// tx11 and tx12 are gone; tx11' (110') moves 9,999,990,000 to P: internal 9,999,980,000 at both
		// levels.
		after0 := append(txs0[:len(txs0)-1:len(txs0)-1],
			flowTxRow{tx11b, 110, 9_999_990_000, 0, 9_999_980_000, 0, flowFee, 0, 9_999_980_000, pp})
		after1 := append(txs1[:len(txs1)-2:len(txs1)-2],
			flowTxRow{tx11b, 110, 9_999_990_000, 0, 9_999_980_000, 0, flowFee, 0, 9_999_980_000, pp})
		checkFlowTxs(t, dir, poolsFile, 0, after0, times)
		checkFlowTxs(t, dir, poolsFile, 1, after1, times)
		// Day C (110'..112'): internal 9,999,980,000, fee 10,000, nothing else (tx13 pays Q, outside);
		// net −10,000; multiple = 0 / mean(...) = 0.
		dayC2 := flowDayRow{period: "2014-05-30", from: 110, to: 112, blocks: 3, internal: 9_999_980_000,
			minerFee: 10_000, net: -10_000, revenue: 15_000_000_000, maDays: 3, spending: 1}
		d0, d1 := dayC2, dayC2
		d0.reserve, d1.reserve = 27_399_930_000, 31_199_930_000
		checkFlowDays(t, dir, 0, []flowDayRow{dayA, dayB0, d0})
		checkFlowDays(t, dir, 1, []flowDayRow{dayA, dayB1, d1})
		// PoolP loses the 10,000 fee of tx11' from its reserve after 109.
		checkReserves(t, dir, poolsFile, []flowReserve{
			{-1, 0, 27_399_930_000, []reservePoolJSON{{pp, 17_099_940_000}, {unk, 5_399_990_000}, {"PoolK", 4_900_000_000}}},
			{-1, 1, 31_199_930_000, []reservePoolJSON{{pp, 20_899_940_000}, {unk, 5_399_990_000}, {"PoolK", 4_900_000_000}}},
		}, 112)

		fresh := t.TempDir()
		mustRun(t, append([]string{"index", "--quiet"}, nodeArgs(n, fresh)...)...)
		for _, args := range [][]string{
			{"outflows", "--tx", "--csv", "--hops", "0", "--pools", poolsFile},
			{"outflows", "--tx", "--csv", "--hops", "1", "--pools", poolsFile},
			{"outflows", "--series", "daily", "--csv", "--hops", "0"},
			{"outflows", "--series", "daily", "--csv", "--hops", "1"},
			{"reserve", "--json", "--hops", "0", "--by-pool", "--pools", poolsFile},
			{"reserve", "--json", "--hops", "1", "--by-pool", "--pools", poolsFile},
		} {
			got := mustRun(t, append(args, "--index", dir)...).Stdout
			want := mustRun(t, append(args, "--index", fresh)...).Stdout
			if got != want {
				t.Errorf("%s differs from a fresh index's:\n%s\nfresh:\n%s", strings.Join(args, " "), got, want)
			}
		}
		assertSameIndex(t, dir, fresh)
	})
}

// checkFlowTxs compares `outflows --tx --csv` at hops with the expected rows, cell by cell.
func checkFlowTxs(t *testing.T, dir, poolsFile string, hops int, want []flowTxRow, times map[int32]time.Time) {
	t.Helper()
	r := mustRun(t, "outflows", "--tx", "--csv", "--hops", strconv.Itoa(hops), "--index", dir, "--pools", poolsFile)
	header, rows := readCSV(t, r.Stdout)
	if got := strings.Join(header, ","); got != strings.Join(outflowTxHeader, ",") {
		t.Fatalf("hops %d: header %s", hops, got)
	}
	if len(rows) != len(want) {
		t.Errorf("hops %d: %d rows, want %d:\n%s", hops, len(rows), len(want), r.Stdout)
	}
	for i := range min(len(rows), len(want)) {
		w := want[i]
		exp := []string{w.tx.TxHash().String(), itoa(int64(w.height)), isoTimeUTC(times[w.height]), itoa(w.from),
			itoa(w.other), itoa(w.toMiner), itoa(w.toExt), itoa(w.fee), itoa(w.outflow), itoa(w.internal), w.pool}
		if got := strings.Join(rows[i], ","); got != strings.Join(exp, ",") {
			t.Errorf("hops %d row %d:\n got %s\nwant %s", hops, i, got, strings.Join(exp, ","))
		}
		// The accounting identity of the issue: from + other = to miner + to external + fee.
		if w.from+w.other != w.toMiner+w.toExt+w.fee {
			t.Errorf("hops %d row %d: the expected row does not balance", hops, i)
		}
	}
}

// checkFlowDays compares `outflows --series daily --csv` at hops with the expected days.
func checkFlowDays(t *testing.T, dir string, hops int, want []flowDayRow) {
	t.Helper()
	r := mustRun(t, "outflows", "--series", "daily", "--csv", "--hops", strconv.Itoa(hops), "--index", dir)
	header, rows := readCSV(t, r.Stdout)
	if got := strings.Join(header, ","); got != strings.Join(outflowSeriesHeader, ",") {
		t.Fatalf("hops %d: header %s", hops, got)
	}
	if len(rows) != len(want) {
		t.Fatalf("hops %d: %d days, want %d:\n%s", hops, len(rows), len(want), r.Stdout)
	}
	col := make(map[string]int, len(header))
	for i, h := range header {
		col[h] = i
	}
	var prevReserve int64
	for i, w := range want {
		row := rows[i]
		day, _ := time.Parse(time.DateOnly, w.period)
		ints := map[string]int64{"from_height": int64(w.from), "to_height": int64(w.to), "blocks": int64(w.blocks),
			"outflow_sat": w.outflow, "internal_sat": w.internal, "inflow_sat": w.inflow,
			"coinbase_inflow_sat": w.cbInflow, "miner_fee_sat": w.minerFee, "lost_sat": w.lost,
			"reserve_sat": w.reserve, "net_change_sat": w.net, "revenue_sat": w.revenue,
			"ma_days": int64(w.maDays), "spending_txs": w.spending}
		strs := map[string]string{"period": w.period, "start": isoTimeUTC(day), "end": isoTimeUTC(day.AddDate(0, 0, 1))}
		for name, v := range ints {
			if got := row[col[name]]; got != itoa(v) {
				t.Errorf("hops %d %s %s = %s, want %d", hops, w.period, name, got, v)
			}
		}
		for name, v := range strs {
			if got := row[col[name]]; got != v {
				t.Errorf("hops %d %s %s = %s, want %s", hops, w.period, name, got, v)
			}
		}
		for name, v := range map[string]float64{"outflow_multiple": w.multiple, "outflow_revenue_ratio": w.ratio} {
			checkFloatCell(t, hops, w.period, name, row[col[name]], v)
		}
		// The series' own identities, on the expected values.
		if w.net != w.inflow-w.outflow-w.minerFee-w.lost || w.reserve != prevReserve+w.net {
			t.Errorf("hops %d %s: the expected day does not balance", hops, w.period)
		}
		prevReserve = w.reserve
	}
}

func checkFloatCell(t *testing.T, hops int, period, name, cell string, want float64) {
	t.Helper()
	if math.IsNaN(want) {
		if cell != "" {
			t.Errorf("hops %d %s %s = %s, want empty", hops, period, name, cell)
		}
		return
	}
	got, err := strconv.ParseFloat(cell, 64)
	if err != nil || math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
		t.Errorf("hops %d %s %s = %q, want %v", hops, period, name, cell, want)
	}
}

// checkReserves compares `reserve --json --by-pool` (at the tip, height -1, or --at-height) with the
// expected totals and pools; tip is the expected tip height.
func checkReserves(t *testing.T, dir, poolsFile string, want []flowReserve, tip int32) {
	t.Helper()
	for _, w := range want {
		args := []string{"reserve", "--json", "--hops", strconv.Itoa(w.hops), "--index", dir}
		height := tip
		if w.height >= 0 {
			args = append(args, "--at-height", itoa(int64(w.height)))
			height = w.height
		}
		var got reserveJSON
		decodeJSON(t, mustRun(t, append(args, "--by-pool", "--pools", poolsFile)...).Stdout, &got)
		if got.Height != height || got.Hops != w.hops || got.ReserveSat != w.total || got.FromHeight != 0 {
			t.Errorf("reserve at %d, hops %d: %+v; want total %d", height, w.hops, got, w.total)
		}
		if g, e := mustJSON(t, got.Pools), mustJSON(t, w.pools); g != e {
			t.Errorf("reserve at %d, hops %d by pool:\n got %s\nwant %s", height, w.hops, g, e)
		}
		// Without --by-pool, the same total and no pools.
		var plain reserveJSON
		decodeJSON(t, mustRun(t, args...).Stdout, &plain)
		if plain.ReserveSat != w.total || plain.Pools != nil {
			t.Errorf("reserve at %d, hops %d without --by-pool: %+v", height, w.hops, plain)
		}
	}
}

// checkFlowsTx9 checks `flows --txid` on the mixed-input transaction tx9: tx8's output to P (a 0-hop miner
// output of P's origin, 1) and Y2 (tx3's output 1, outside coin) paying W 1.5e9 and P 99,990,000.
func checkFlowsTx9(t *testing.T, dir, poolsFile string, tx9, tx8, tx3 *wire.MsgTx, pAddr string) {
	t.Helper()
	var got flowsJSON
	decodeJSON(t, mustRun(t, "flows", "--txid", tx9.TxHash().String(), "--json", "--index", dir,
		"--pools", poolsFile).Stdout, &got)
	i64 := func(v int64) *int64 { return &v }
	origin := int32(1)
	want := flowsJSON{TxID: tx9.TxHash().String(), Height: 109, Index: 1, Time: "2014-05-29T12:20:00Z",
		Inputs: []flowsInputJSON{
			{PrevOut: tx8.TxHash().String() + ":0", Miner: "0-hop", ValueSat: i64(600_000_000), Origin: &origin, Pool: "PoolP"},
			{PrevOut: tx3.TxHash().String() + ":1", Miner: "", ValueSat: i64(1_000_000_000)},
		},
		Outputs: []flowsOutputJSON{
			{Index: 0, ValueSat: 1_500_000_000, Type: "nonstandard", Miner: "1-hop", Pool: "PoolP"},
			{Index: 1, ValueSat: 99_990_000, Address: pAddr, Type: "scripthash", Miner: "0-hop", Pool: "PoolP"},
		},
		Levels: []flowsLevelJSON{
			// Inflow 99,990,000 = to miner − internal: the outside coin pays the change and the fee.
			{Hops: 0, FromMinerSat: 600_000_000, OtherInputSat: i64(1_000_000_000), ToMinerSat: 99_990_000,
				ToExternalSat: 1_500_000_000, FeeSat: i64(flowFee), OutflowSat: 600_000_000, InternalSat: 0,
				InflowSat: 99_990_000, Pool: "PoolP"},
			// 1,599,990,000 − 6e8 internal = 999,990,000 inflow.
			{Hops: 1, FromMinerSat: 600_000_000, OtherInputSat: i64(1_000_000_000), ToMinerSat: 1_599_990_000,
				ToExternalSat: 0, FeeSat: i64(flowFee), OutflowSat: 0, InternalSat: 600_000_000,
				InflowSat: 999_990_000, Pool: "PoolP"},
		},
	}
	if g, e := mustJSON(t, got), mustJSON(t, want); g != e {
		t.Errorf("flows tx9:\n got %s\nwant %s", g, e)
	}
}

func readCSV(t *testing.T, s string) ([]string, [][]string) {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("read CSV: %v\n%s", err, s)
	}
	return recs[0], recs[1:]
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
