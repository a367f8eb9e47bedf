package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/minerscope/minerscope/chain/chaintest"
)

// reorgCommon is the height of the last block both nodes share: 100 blocks for the first coinbases to mature,
// then blocks holding flows. The branches spend the coinbases of heights 11..110, one per block.
const reorgCommon = 130

// reorgScripts are the anyone-can-spend scripts of the common chain. P and Q are P2SH (with addresses, so pools
// can claim them); the others are bare.
type reorgScripts struct {
	P, Q   chaintest.TrueScript // the common chain's pools
	F      chaintest.TrueScript // a coinbase that funds outside coins
	X      chaintest.TrueScript // 1 hop from F's coinbase
	Y1, Y2 chaintest.TrueScript // 2 hops: outside coins at both levels
	M      [3]chaintest.TrueScript
}

func newReorgScripts() reorgScripts {
	bare := chaintest.BareTrue
	return reorgScripts{
		P: chaintest.P2SHTrue("pool P"), Q: chaintest.P2SHTrue("pool Q"),
		F: bare("F"), X: bare("X"), Y1: bare("Y1"), Y2: bare("Y2"),
		M: [3]chaintest.TrueScript{bare("M1"), bare("M2"), bare("M3")},
	}
}

// commonChain is what both nodes are given before they part.
type commonChain struct {
	blocks []*wire.MsgBlock
	cb     map[int32]*wire.MsgTx          // coinbases by height
	cbPay  map[int32]chaintest.TrueScript // the script each coinbase pays
	payout *wire.MsgTx                    // cb1 -> M1, M2, M3 and change to P
	outer  *wire.MsgTx                    // X -> Y1, Y2
}

// craftCommon builds heights 1..reorgCommon. Coinbases pay P, or Q at heights divisible by 3, or F at height
// 5. Flows: 101, the pool's payout; 103, a consolidation of a P and a Q coinbase; 105, F's coinbase to X and
// X to Y1, Y2 in the same block.
func craftCommon(t *testing.T, b *chaintest.Builder, s reorgScripts) commonChain {
	t.Helper()
	coin := chaintest.CoinOf
	c := commonChain{cb: map[int32]*wire.MsgTx{}, cbPay: map[int32]chaintest.TrueScript{}}
	for h := int32(1); h <= reorgCommon; h++ {
		pay := s.P
		switch {
		case h == 5:
			pay = s.F
		case h%3 == 0:
			pay = s.Q
		}
		var txs []*wire.MsgTx
		switch h {
		case 101:
			c.payout = chaintest.SpendTx([]chaintest.Coin{coin(c.cb[1], 0, s.P)}, s.M[0].Out(400_000_000),
				s.M[1].Out(400_000_000), s.M[2].Out(400_000_000), s.P.Out(flowSubsidy-1_200_000_000-flowFee))
			txs = append(txs, c.payout)
		case 103:
			txs = append(txs, chaintest.SpendTx([]chaintest.Coin{coin(c.cb[2], 0, s.P), coin(c.cb[3], 0, s.Q)},
				s.P.Out(2*flowSubsidy-flowFee)))
		case 105:
			toX := chaintest.SpendTx([]chaintest.Coin{coin(c.cb[5], 0, s.F)}, s.X.Out(flowSubsidy-flowFee))
			c.outer = chaintest.SpendTx([]chaintest.Coin{coin(toX, 0, s.X)}, s.Y1.Out(2_000_000_000),
				s.Y2.Out(flowSubsidy-2_000_000_000-2*flowFee))
			txs = append(txs, toX, c.outer)
		}
		blk, err := b.Next(chaintest.BlockOpts{PayTo: pay.PkScript, Txs: txs, Fees: btcutil.Amount(flowFee * len(txs))})
		if err != nil {
			t.Fatal(err)
		}
		c.blocks = append(c.blocks, blk)
		c.cb[h], c.cbPay[h] = blk.Transactions[0], pay
	}
	return c
}

// reorgBranch is one node's miners and block spacing.
type reorgBranch struct {
	name       string
	pool, solo chaintest.TrueScript
	m1, m2     chaintest.TrueScript
	spacing    time.Duration
}

func newBranch(name string, spacing time.Duration) reorgBranch {
	bare := chaintest.BareTrue
	return reorgBranch{name: name, pool: chaintest.P2SHTrue("pool " + name), solo: bare(name + " solo"),
		m1: bare(name + " M1"), m2: bare(name + " M2"), spacing: spacing}
}

// branchCoin is a coinbase a branch block spends, with the script it pays.
type branchCoin struct {
	tx  *wire.MsgTx
	pay chaintest.TrueScript
}

// branchBlocks are the blocks craft built and the first transaction of each, which spends a coinbase.
type branchBlocks struct {
	blocks []*wire.MsgBlock
	spends []*wire.MsgTx
}

// firstTxsA are branch A's spends of the common chain's coins: M1's coin out (outflow at 1 hop), Y1, an
// outside coin, into A's pool and miner (inflow) and Y2 mixed with the payout's change to P.
func firstTxsA(c commonChain, s reorgScripts, br reorgBranch) []*wire.MsgTx {
	coin := chaintest.CoinOf
	change, y2 := c.payout.TxOut[3].Value, c.outer.TxOut[1].Value
	return []*wire.MsgTx{
		chaintest.SpendTx([]chaintest.Coin{coin(c.payout, 0, s.M[0])},
			chaintest.BareTrue("A E0").Out(400_000_000-flowFee)),
		chaintest.SpendTx([]chaintest.Coin{coin(c.outer, 0, s.Y1)}, br.pool.Out(1_000_000_000), br.m2.Out(500_000_000),
			chaintest.BareTrue("A Z").Out(500_000_000-flowFee)),
		chaintest.SpendTx([]chaintest.Coin{coin(c.outer, 1, s.Y2), coin(c.payout, 3, s.P)},
			chaintest.BareTrue("A W").Out(flowSubsidy), s.P.Out(y2+change-flowSubsidy-flowFee)),
	}
}

// firstTxsB spends the same coins differently: M1's coin back to P (internal at 1 hop, inflow at 0), Y1 into
// B's pool, M2's coin out and the payout's change to B's miner and P; Y2 stays unspent.
func firstTxsB(c commonChain, s reorgScripts, br reorgBranch) []*wire.MsgTx {
	coin := chaintest.CoinOf
	change := c.payout.TxOut[3].Value
	return []*wire.MsgTx{
		chaintest.SpendTx([]chaintest.Coin{coin(c.payout, 0, s.M[0])}, s.P.Out(400_000_000-flowFee)),
		chaintest.SpendTx([]chaintest.Coin{coin(c.outer, 0, s.Y1)}, br.pool.Out(2_000_000_000-flowFee)),
		chaintest.SpendTx([]chaintest.Coin{coin(c.payout, 1, s.M[1])},
			chaintest.BareTrue("B E0").Out(400_000_000-flowFee)),
		chaintest.SpendTx([]chaintest.Coin{coin(c.payout, 3, s.P)}, br.m1.Out(1_000_000_000),
			s.P.Out(change-1_000_000_000-flowFee)),
	}
}

// craft builds count blocks on fork; tag names the new scripts of this run. Block i (from 1) spends coins[i-1]
// or, past the coins and once it has matured (block 101), the run's first coinbase:
//   - tx1 pays 4 BTC to each of the branch's miners, 10 BTC to a new script N_i and the change back to the
//     coinbase's script;
//   - tx2 pays N_i's coin back into the branch's pool in the same block;
//   - block 1 then holds first; later blocks hold tx3, paying the previous block's M1 coin to a new script E_i,
//     and tx4, consolidating the previous block's pool coin and change.
//
// Coinbases pay the branch's pool, every fourth one split with its solo script.
func (br reorgBranch) craft(t *testing.T, b *chaintest.Builder, tag string, fork *wire.MsgBlock, coins []branchCoin,
	count int, first []*wire.MsgTx) branchBlocks {

	t.Helper()
	coin := chaintest.CoinOf
	if err := b.SetTip(fork.BlockHash()); err != nil {
		t.Fatal(err)
	}
	var out branchBlocks
	var prev1, prev2 *wire.MsgTx
	var prevPay chaintest.TrueScript
	for i := 1; i <= count; i++ {
		var src branchCoin
		switch {
		case i <= len(coins):
			src = coins[i-1]
		case i > int(b.Params.CoinbaseMaturity):
			src = branchCoin{out.blocks[0].Transactions[0], br.pool}
		default:
			t.Fatalf("branch %s block %d: no coin to spend", tag, i)
		}
		value := src.tx.TxOut[0].Value
		n := chaintest.BareTrue(fmt.Sprintf("%s N%d", tag, i))
		tx1 := chaintest.SpendTx([]chaintest.Coin{coin(src.tx, 0, src.pay)}, br.m1.Out(400_000_000),
			br.m2.Out(400_000_000), n.Out(1_000_000_000), src.pay.Out(value-1_800_000_000-flowFee))
		tx2 := chaintest.SpendTx([]chaintest.Coin{coin(tx1, 2, n)}, br.pool.Out(1_000_000_000-flowFee))
		txs := []*wire.MsgTx{tx1, tx2}
		if i == 1 {
			txs = append(txs, first...)
		} else {
			e := chaintest.BareTrue(fmt.Sprintf("%s E%d", tag, i))
			txs = append(txs,
				chaintest.SpendTx([]chaintest.Coin{coin(prev1, 0, br.m1)}, e.Out(400_000_000-flowFee)),
				chaintest.SpendTx([]chaintest.Coin{coin(prev2, 0, br.pool), coin(prev1, 3, prevPay)},
					br.pool.Out(prev2.TxOut[0].Value+prev1.TxOut[3].Value-flowFee)))
		}

		fees := flowFee * int64(len(txs))
		opts := chaintest.BlockOpts{Time: fork.Header.Timestamp.Add(time.Duration(i) * br.spacing), Txs: txs,
			PayTo: br.pool.PkScript, Fees: btcutil.Amount(fees)}
		if i%4 == 0 {
			opts.Outputs = []*wire.TxOut{br.pool.Out(flowSubsidy - 1_000_000_000), br.solo.Out(1_000_000_000 + fees)}
		}
		blk, err := b.Next(opts)
		if err != nil {
			t.Fatalf("branch %s block %d: %v", tag, i, err)
		}
		out.blocks = append(out.blocks, blk)
		out.spends = append(out.spends, tx1)
		prev1, prev2, prevPay = tx1, tx2, src.pay
	}
	return out
}

// submitAll submits blocks in order to every node.
func submitAll(t *testing.T, ctx context.Context, blocks []*wire.MsgBlock, nodes ...*chaintest.Node) {
	t.Helper()
	for _, n := range nodes {
		for _, blk := range blocks {
			if err := n.SubmitBlock(ctx, blk); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// writeReorgPools writes a pools file naming the four pool scripts by address.
func writeReorgPools(t *testing.T, n *chaintest.Node, scripts map[string]chaintest.TrueScript) string {
	t.Helper()
	var pools []map[string]any
	for i, name := range slices.Sorted(maps.Keys(scripts)) {
		pools = append(pools, map[string]any{"id": i + 1, "name": "Pool" + name,
			"addresses": []string{scripts[name].Address(n.Params)}, "tags": []string{"/Pool" + name + "/"},
			"link": "https://" + strings.ToLower(name) + ".example"})
	}
	data, err := json.Marshal(pools)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pools.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTwoNodeReorgs runs two simnet nodes that share a chain, then mine their own branches apart, each with
// miner flows (coinbases to its own pool, payouts, spends of matured coinbases to new scripts and back, the
// common chain's coins spent differently on each side). The index follows node A; when A connects to B, whose
// branch is one block longer (so carries more work), A reorganizes onto it, and `index` must leave exactly the
// index a fresh sync from A builds: every export byte for byte and every key. The depth is the number of A's
// blocks replaced. At depth 6 the nodes then part again and reorg a second time, so the index also undoes
// blocks it took in from the first reorg.
func TestTwoNodeReorgs(t *testing.T) {
	for _, depth := range []int{1, 6, 100} {
		t.Run(fmt.Sprintf("depth %d", depth), func(t *testing.T) { testTwoNodeReorg(t, depth, depth == 6) })
	}
}

func testTwoNodeReorg(t *testing.T, depth int, again bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	begin := time.Now()
	a, b := chaintest.StartSimnet(t), chaintest.StartSimnet(t)
	for name, n := range map[string]*chaintest.Node{"A": a, "B": b} {
		if peers, err := n.PeerCount(ctx); err != nil || peers != 0 {
			t.Fatalf("node %s starts with %d peers (%v), want none", name, peers, err)
		}
	}

	s := newReorgScripts()
	bld := chaintest.NewBuilder(a.Params)
	common := craftCommon(t, bld, s)
	coins := make([]branchCoin, 0, 100)
	for h := int32(11); h <= 110; h++ {
		coins = append(coins, branchCoin{common.cb[h], common.cbPay[h]})
	}
	brA, brB := newBranch("A", 10*time.Minute), newBranch("B", 7*time.Minute)
	fork := common.blocks[len(common.blocks)-1]
	a1 := brA.craft(t, bld, "A", fork, coins, depth, firstTxsA(common, s, brA))
	b1 := brB.craft(t, bld, "B", fork, coins, depth+1, firstTxsB(common, s, brB))
	crafted := time.Since(begin)
	submitAll(t, ctx, common.blocks, a, b)
	submitAll(t, ctx, a1.blocks, a)
	submitAll(t, ctx, b1.blocks, b)
	submitted := time.Since(begin)

	pools := writeReorgPools(t, a, map[string]chaintest.TrueScript{"P": s.P, "Q": s.Q, "A": brA.pool, "B": brB.pool})
	x := t.TempDir()
	mustRun(t, append([]string{"index", "--quiet"}, nodeArgs(a, x)...)...)
	// Both branches hold flows: A's before the reorg, B's after, each block's first transaction spending a
	// coinbase (a miner output at 0 hops by definition).
	assertFlowTxs(t, x, pools, a1.spends, b1.spends)
	reorgOnto(t, ctx, a, b, x, pools, b1.blocks[depth].BlockHash(), depth, reorgCommon)
	assertFlowTxs(t, x, pools, b1.spends, a1.spends)
	t.Logf("depth %d: nodes up and chains crafted %v, submitted %v, reorged and compared %v", depth, crafted.Round(time.Millisecond),
		submitted.Round(time.Millisecond), time.Since(begin).Round(time.Millisecond))
	if !again {
		return
	}

	// Second round: apart again, A mines three blocks on the shared tip and B six on the block two below it,
	// so A undoes five blocks, two of them B's first-round blocks. The branches spend the common coinbases
	// left (heights 4 and 6..10), the first one on both.
	if err := a.DisconnectPeer(ctx, b); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*chaintest.Node{a, b} {
		if err := n.WaitPeerCount(ctx, 0); err != nil {
			t.Fatal(err)
		}
	}
	left := func(heights ...int32) []branchCoin {
		var cs []branchCoin
		for _, h := range heights {
			cs = append(cs, branchCoin{common.cb[h], common.cbPay[h]})
		}
		return cs
	}
	a2 := brA.craft(t, bld, "A2", b1.blocks[depth], left(4, 6, 7), 3, nil)
	b2 := brB.craft(t, bld, "B2", b1.blocks[depth-2], left(4, 8, 9, 10, 7, 6), 6, nil)
	submitAll(t, ctx, a2.blocks, a)
	submitAll(t, ctx, b2.blocks, b)
	r := mustRun(t, append([]string{"index"}, nodeArgs(a, x)...)...)
	if contains(r.Stderr, "reorg") {
		t.Errorf("index on A's extended chain reports a reorg:\n%s", r.Stderr)
	}
	assertFlowTxs(t, x, pools, a2.spends, b2.spends)
	reorgOnto(t, ctx, a, b, x, pools, b2.blocks[5].BlockHash(), 5, int32(reorgCommon+depth-1))
	assertFlowTxs(t, x, pools, slices.Concat(b1.spends[:depth-1], b2.spends),
		slices.Concat(b1.spends[depth-1:], a2.spends))
	t.Logf("depth %d: second reorg done %v", depth, time.Since(begin).Round(time.Millisecond))
}

// reorgOnto connects node a to b, waits until a's tip is b's tip, then runs `index` on dir (which follows a) and
// checks that it reports undoing depth blocks above fork and leaves the index a fresh sync builds.
func reorgOnto(t *testing.T, ctx context.Context, a, b *chaintest.Node, dir, pools string, tip chainhash.Hash,
	depth int, fork int32) {

	t.Helper()
	if got, _, err := b.BestBlock(ctx); err != nil || got != tip {
		t.Fatalf("node B's tip %v (%v), want %v", got, err, tip)
	}
	if err := a.ConnectPeer(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := a.WaitTip(ctx, tip); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, append([]string{"index"}, nodeArgs(a, dir)...)...)
	if want := fmt.Sprintf("reorg: undid %d block(s) above height %d", depth, fork); !contains(r.Stderr, want) {
		t.Errorf("index output lacks %q:\n%s", want, r.Stderr)
	}
	fresh := t.TempDir()
	mustRun(t, append([]string{"index", "--quiet"}, nodeArgs(a, fresh)...)...)
	assertReorgExports(t, dir, fresh, pools)
	assertSameIndex(t, dir, fresh)
}

// assertFlowTxs checks that `outflows --tx` lists every transaction of present and none of absent, at both
// levels.
func assertFlowTxs(t *testing.T, dir, pools string, present, absent []*wire.MsgTx) {
	t.Helper()
	for _, hops := range []string{"0", "1"} {
		_, rows := readCSV(t, mustRun(t, "outflows", "--tx", "--csv", "--hops", hops, "--index", dir,
			"--pools", pools).Stdout)
		listed := make(map[string]bool, len(rows))
		for _, row := range rows {
			listed[row[0]] = true
		}
		for _, tx := range present {
			if !listed[tx.TxHash().String()] {
				t.Errorf("hops %s: outflows --tx lacks %v", hops, tx.TxHash())
			}
		}
		for _, tx := range absent {
			if listed[tx.TxHash().String()] {
				t.Errorf("hops %s: outflows --tx lists %v, which is not on the index's chain", hops, tx.TxHash())
			}
		}
	}
}

// assertReorgExports compares every export of the indexes in dirs x and y byte for byte.
func assertReorgExports(t *testing.T, x, y, pools string) {
	t.Helper()
	exports := [][]string{
		{"blocks", "--csv", "--pools", pools},
		{"epochs", "--csv"},
		{"rewards", "--csv"},
		{"pools", "--csv", "--pools", pools},
	}
	for _, hops := range []string{"0", "1"} {
		exports = append(exports,
			[]string{"outflows", "--tx", "--csv", "--hops", hops, "--pools", pools},
			[]string{"outflows", "--series", "daily", "--csv", "--hops", hops},
			[]string{"outflows", "--series", "daily", "--csv", "--hops", hops, "--by-pool", "--pools", pools},
			[]string{"reserve", "--json", "--hops", hops},
			[]string{"reserve", "--json", "--hops", hops, "--by-pool", "--pools", pools},
			[]string{"reserve", "--json", "--hops", hops, "--at-height", itoa(reorgCommon)},
		)
	}
	for _, args := range exports {
		got := mustRun(t, append(args, "--index", x)...).Stdout
		want := mustRun(t, append(args, "--index", y)...).Stdout
		if got != want {
			t.Errorf("%s after the reorg differs from a fresh index's: %s", strings.Join(args, " "),
				firstDiff(got, want))
		}
	}
}
