package index

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/dgraph-io/badger/v4"
	"github.com/minerscope/minerscope/analysis"
)

// btc is one bitcoin in satoshis.
const btc = btcutil.SatoshiPerBitcoin

// testScript returns a pay-to-pubkey-hash script, distinct for each name.
func testScript(name string) []byte {
	h := sha256.Sum256([]byte(name))
	return append(append([]byte{0x76, 0xa9, 0x14}, h[:20]...), 0x88, 0xac)
}

// nullData returns an OP_RETURN script carrying data (< 76 bytes).
func nullData(data string) []byte {
	return append([]byte{0x6a, byte(len(data))}, data...)
}

// txOut returns an output paying v to script.
func txOut(v btcutil.Amount, script []byte) *wire.TxOut {
	return wire.NewTxOut(int64(v), script)
}

// coinbaseTx returns a coinbase transaction with scriptSig tag.
func coinbaseTx(tag string, outs ...*wire.TxOut) *wire.MsgTx {
	tx := wire.NewMsgTx(1)
	tx.AddTxIn(&wire.TxIn{
		PreviousOutPoint: wire.OutPoint{Index: math.MaxUint32},
		SignatureScript:  []byte(tag),
		Sequence:         math.MaxUint32,
	})
	for _, o := range outs {
		tx.AddTxOut(o)
	}
	return tx
}

// spendTx returns a transaction spending ins and paying outs. Signatures
// are not needed: the index checks no script.
func spendTx(ins []wire.OutPoint, outs ...*wire.TxOut) *wire.MsgTx {
	tx := wire.NewMsgTx(1)
	for _, op := range ins {
		tx.AddTxIn(wire.NewTxIn(&op, nil, nil))
	}
	for _, o := range outs {
		tx.AddTxOut(o)
	}
	return tx
}

// ops lists outpoints.
func ops(o ...wire.OutPoint) []wire.OutPoint {
	return o
}

// outpoint returns the outpoint of output i of tx.
func outpoint(tx *wire.MsgTx, i uint32) wire.OutPoint {
	return wire.OutPoint{Hash: tx.TxHash(), Index: i}
}

// external returns an outpoint of a transaction no test block holds: an
// input that is never a miner output.
func external(name string) wire.OutPoint {
	return wire.OutPoint{Hash: chainhash.HashH([]byte(name)), Index: 1}
}

// testChain is a chain of crafted blocks on a network's genesis block. The
// headers carry no proof of work and a merkle root that commits to the
// transactions without being Bitcoin's: the index checks neither.
type testChain struct {
	p      analysis.Params
	blocks []*wire.MsgBlock // by height; blocks[0] is the genesis block
}

// newTestChain returns a chain holding the genesis block of p.
func newTestChain(t testing.TB, p analysis.Params) *testChain {
	t.Helper()
	for _, cp := range []*chaincfg.Params{&chaincfg.SimNetParams, &chaincfg.RegressionNetParams} {
		if *cp.GenesisHash == p.GenesisHash {
			return &testChain{p: p, blocks: []*wire.MsgBlock{cp.GenesisBlock}}
		}
	}
	t.Fatalf("no genesis block for %s", p.Name)
	return nil
}

// tip returns the height of the last block.
func (c *testChain) tip() int32 {
	return int32(len(c.blocks) - 1)
}

// next returns a block of txs on top of the chain, without adding it.
func (c *testChain) next(txs ...*wire.MsgTx) *wire.MsgBlock {
	var ids []byte
	for _, tx := range txs {
		id := tx.TxHash()
		ids = append(ids, id[:]...)
	}
	hdr := ExtendHeaders(c.blocks[c.tip()].Header, 1, func(_ int, h *wire.BlockHeader) {
		h.MerkleRoot = chainhash.DoubleHashH(ids)
	})[0]
	return &wire.MsgBlock{Header: hdr, Transactions: txs}
}

// add appends a block of txs and returns it.
func (c *testChain) add(txs ...*wire.MsgTx) *wire.MsgBlock {
	blk := c.next(txs...)
	c.blocks = append(c.blocks, blk)
	return blk
}

// truncate drops the blocks above height.
func (c *testChain) truncate(height int32) {
	c.blocks = c.blocks[:height+1]
}

// data returns the blocks [from, to] to connect to an index keeping full
// blocks from blocksFrom: the block and its coinbase record
// (analysis.ExtractCoinbase) from blocksFrom on, the header alone below.
func (c *testChain) data(t testing.TB, blocksFrom, from, to int32) []BlockData {
	t.Helper()
	var data []BlockData
	for h := from; h <= to; h++ {
		blk := c.blocks[h]
		d := BlockData{Header: blk.Header}
		if h >= blocksFrom {
			rec, err := analysis.ExtractCoinbase(c.p, h, blk)
			if err != nil {
				t.Fatalf("coinbase of block %d: %v", h, err)
			}
			d.Coinbase, d.Block = &rec, blk
		}
		data = append(data, d)
	}
	return data
}

// connect connects the chain's blocks [from, to] to db in one call.
func (c *testChain) connect(t testing.TB, db *DB, from, to int32) {
	t.Helper()
	blocksFrom, _ := db.BlocksFrom()
	if err := db.ConnectBlocks(from, c.data(t, blocksFrom, from, to)); err != nil {
		t.Fatalf("connect blocks %d-%d: %v", from, to, err)
	}
}

// newFlowDB returns an in-memory simnet index keeping full blocks from
// blocksFrom, holding the genesis block.
func newFlowDB(t testing.TB, c *testChain, blocksFrom int32) *DB {
	t.Helper()
	db := NewTestDB(t, c.p)
	if err := db.SetBlocksFrom(blocksFrom, true); err != nil {
		t.Fatal(err)
	}
	c.connect(t, db, 0, 0)
	return db
}

// mustDisconnectTo disconnects blocks until the tip is height.
func mustDisconnectTo(t testing.TB, db *DB, height int32) {
	t.Helper()
	for db.Count() > height+1 {
		if err := db.DisconnectTip(); err != nil {
			t.Fatalf("disconnect %d: %v", db.Count()-1, err)
		}
	}
}

// flowScenario is the hand-worked chain of the flow tests, on simnet
// (50 BTC subsidy), with full blocks from height 1. Scripts are named by
// letter: A, B (a pool), C, E, F, G, N, X, Y, Z and M1..M10 (the pool's
// miners). The comments give each block's flows, worked out by hand in
// TestFlowsScenario.
type flowScenario struct {
	c  *testChain
	tx map[string]*wire.MsgTx
}

// script returns the script of a named holder.
func (sc *flowScenario) script(name string) []byte {
	return testScript("scenario " + name)
}

// newFlowScenario builds blocks 1-8.
func newFlowScenario(t testing.TB) *flowScenario {
	sc := &flowScenario{c: newTestChain(t, analysis.Simnet), tx: make(map[string]*wire.MsgTx)}
	s := sc.script
	block := func(names ...string) {
		txs := make([]*wire.MsgTx, len(names))
		for i, n := range names {
			txs[i] = sc.tx[n]
		}
		sc.c.add(txs...)
	}

	// 1: the coinbase pays A 50 BTC, burns 1,000 sat (OP_RETURN) and pays
	// Z nothing: A is a miner script, the other two are not.
	sc.tx["cb1"] = coinbaseTx("h1", txOut(50*btc, s("A")), txOut(1000, nullData("burn")), txOut(0, s("Z")))
	block("cb1")

	// 2: the coinbase pays the pool B; t2 spends A's coinbase: 10 BTC to
	// the new script N, 40 BTC back to A.
	sc.tx["cb2"] = coinbaseTx("h2", txOut(50*btc, s("B")))
	sc.tx["t2"] = spendTx(ops(outpoint(sc.tx["cb1"], 0)), txOut(10*btc, s("N")), txOut(40*btc, s("A")))
	block("cb2", "t2")

	// 3: the coinbase pays C; the pool pays M1..M10 4.9 BTC each from its
	// coinbase of 2, 0.99 BTC back to B, fee 0.01 BTC.
	sc.tx["cb3"] = coinbaseTx("h3", txOut(50*btc, s("C")))
	var payouts []*wire.TxOut
	for i := 1; i <= 10; i++ {
		payouts = append(payouts, txOut(4.9*btc, s(fmt.Sprintf("M%d", i))))
	}
	payouts = append(payouts, txOut(0.99*btc, s("B")))
	sc.tx["t3"] = spendTx(ops(outpoint(sc.tx["cb2"], 0)), payouts...)
	block("cb3", "t3")

	// 4: the coinbase pays C again.
	sc.tx["cb4"] = coinbaseTx("h4", txOut(50*btc, s("C")))
	block("cb4")

	// 5: the coinbase pays G; t5a consolidates C's coinbases of 3 and 4
	// and A's 40 BTC of 2 into 139.999 BTC to C (fee 0.001); t5b spends
	// that output in the same block: 100 BTC to E, 39.998 back to C, and
	// an empty OP_RETURN (fee 0.001).
	sc.tx["cb5"] = coinbaseTx("h5", txOut(50*btc, s("G")))
	sc.tx["t5a"] = spendTx(ops(outpoint(sc.tx["cb3"], 0), outpoint(sc.tx["cb4"], 0), outpoint(sc.tx["t2"], 1)),
		txOut(139.999*btc, s("C")))
	sc.tx["t5b"] = spendTx(ops(outpoint(sc.tx["t5a"], 0)),
		txOut(100*btc, s("E")), txOut(39.998*btc, s("C")), txOut(0, nullData("")))
	block("cb5", "t5a", "t5b")

	// 6: the coinbase pays F; t6a pays A 5 BTC, M1 3 BTC and X 1 BTC from
	// an input that is no miner output; t6b spends M2's 4.9 BTC (a level-1
	// output): 4.8 BTC to Y, fee 0.1.
	sc.tx["cb6"] = coinbaseTx("repeated", txOut(50*btc, s("F")))
	sc.tx["t6a"] = spendTx(ops(external("e1")), txOut(5*btc, s("A")), txOut(3*btc, s("M1")), txOut(1*btc, s("X")))
	sc.tx["t6b"] = spendTx(ops(outpoint(sc.tx["t3"], 1)), txOut(4.8*btc, s("Y")))
	block("cb6", "t6a", "t6b")

	// 7: the coinbase pays N, a level-1 script since 2 that now joins
	// level 0; t7 spends A's 5 BTC of 6 and an input of 2 BTC that is no
	// miner output: 6.5 BTC to X, 0.4 BTC to A (fee 0.1).
	sc.tx["cb7"] = coinbaseTx("h7", txOut(50*btc, s("N")))
	sc.tx["t7"] = spendTx(ops(outpoint(sc.tx["t6a"], 0), external("e2")), txOut(6.5*btc, s("X")), txOut(0.4*btc, s("A")))
	block("cb7", "t7")

	// 8: the coinbase of 6 again, same txid (BIP30): its unspent output
	// is overwritten; t8 spends N's 10 BTC of 2 (a level-1 output) back to
	// N, a level-0 script since 7: 9.99 BTC, fee 0.01.
	sc.tx["cb8"] = sc.tx["cb6"].Copy()
	sc.tx["t8"] = spendTx(ops(outpoint(sc.tx["t2"], 0)), txOut(9.99*btc, s("N")))
	block("cb8", "t8")
	return sc
}

// of is an OriginFlow.
func of(origin int32, change, outflow btcutil.Amount) OriginFlow {
	return OriginFlow{Origin: origin, Change: change, Outflow: outflow}
}

// scenarioFlows are the block totals of the scenario, worked out by hand
// from the definitions (comments give the arithmetic; values in BTC).
func scenarioFlows(sc *flowScenario) []BlockFlows {
	type lv = LevelFlows
	blocks := []BlockFlows{
		// 1: coinbase inflow 50 (the OP_RETURN's 1,000 sat is revenue,
		// not inflow).
		{Height: 1, Revenue: 50*btc + 1000, Levels: [2]LevelFlows{
			{CoinbaseInflow: 50 * btc, Origins: []OriginFlow{of(1, 50*btc, 0)}},
			{CoinbaseInflow: 50 * btc, Origins: []OriginFlow{of(1, 50*btc, 0)}},
		}},
		// 2: level 0: from miner 50, external 10, to miner 40: outflow
		// min(10, 50) = 10, internal min(40, 40) = 40; origin 1 changes
		// by -50+40. Level 1: N is 1-hop, so to miner 50: outflow 0,
		// internal 50, origin 1 changes by 0 (and is not listed).
		{Height: 2, Revenue: 50 * btc, Levels: [2]LevelFlows{
			lv{CoinbaseInflow: 50 * btc, Outflow: 10 * btc, Internal: 40 * btc, SpendingTxs: 1,
				Origins: []OriginFlow{of(1, -10*btc, 10*btc), of(2, 50*btc, 0)}},
			lv{CoinbaseInflow: 50 * btc, Internal: 50 * btc, SpendingTxs: 1,
				Origins: []OriginFlow{of(2, 50*btc, 0)}},
		}},
		// 3: level 0: from miner 50, external 49, to miner 0.99, fee
		// 0.01: outflow 49, internal 0.99, miner fee 0.01; origin 2:
		// -50+0.99. Level 1: the payouts are internal: 49.99, origin 2:
		// -50+49.99.
		{Height: 3, Revenue: 50 * btc, Levels: [2]LevelFlows{
			lv{CoinbaseInflow: 50 * btc, Outflow: 49 * btc, Internal: 0.99 * btc, MinerFee: 0.01 * btc,
				SpendingTxs: 1, Origins: []OriginFlow{of(2, -49.01*btc, 49*btc), of(3, 50*btc, 0)}},
			lv{CoinbaseInflow: 50 * btc, Internal: 49.99 * btc, MinerFee: 0.01 * btc, SpendingTxs: 1,
				Origins: []OriginFlow{of(2, -0.01*btc, 0), of(3, 50*btc, 0)}},
		}},
		{Height: 4, Revenue: 50 * btc, Levels: [2]LevelFlows{
			{CoinbaseInflow: 50 * btc, Origins: []OriginFlow{of(4, 50*btc, 0)}},
			{CoinbaseInflow: 50 * btc, Origins: []OriginFlow{of(4, 50*btc, 0)}},
		}},
		// 5: t5a: from miner 140 (origins 3: 50, 4: 50, 1: 40; the tie
		// goes to 3), to miner 139.999: internal 139.999, miner fee
		// 0.001; the output pays C, of origin 3. t5b: from miner 139.999,
		// level 0: external 100: outflow 100, internal 39.998, miner fee
		// 0.001. Origin 3: -50+139.999-139.999+39.998 = -10.002. Level 1:
		// E is 1-hop (of origin 3), internal 139.998, origin 3: +89.998.
		{Height: 5, Revenue: 50 * btc, Levels: [2]LevelFlows{
			lv{CoinbaseInflow: 50 * btc, Outflow: 100 * btc, Internal: 179.997 * btc, MinerFee: 0.002 * btc,
				SpendingTxs: 2, Origins: []OriginFlow{of(1, -40*btc, 0), of(3, -10.002*btc, 100*btc),
					of(4, -50*btc, 0), of(5, 50*btc, 0)}},
			lv{CoinbaseInflow: 50 * btc, Internal: 279.997 * btc, MinerFee: 0.002 * btc, SpendingTxs: 2,
				Origins: []OriginFlow{of(1, -40*btc, 0), of(3, 89.998*btc, 0), of(4, -50*btc, 0),
					of(5, 50*btc, 0)}},
		}},
		// 6: t6a spends no miner output: level 0 inflow 5 (A, origin 1);
		// level 1 inflow 8 (A, and M1 of origin 2). t6b spends a level-1
		// output only: nothing at level 0 (Y joins no set); level 1:
		// outflow 4.8, miner fee 0.1, origin 2: +3-4.9.
		{Height: 6, Revenue: 50 * btc, Levels: [2]LevelFlows{
			lv{CoinbaseInflow: 50 * btc, OtherInflow: 5 * btc,
				Origins: []OriginFlow{of(1, 5*btc, 0), of(6, 50*btc, 0)}},
			lv{CoinbaseInflow: 50 * btc, OtherInflow: 8 * btc, Outflow: 4.8 * btc, MinerFee: 0.1 * btc,
				SpendingTxs: 1, Origins: []OriginFlow{of(1, 5*btc, 0), of(2, -1.9*btc, 4.8*btc),
					of(6, 50*btc, 0)}},
		}},
		// 7: level 0: from miner 5, external 6.5, to miner 0.4: outflow
		// min(6.5, 5) = 5, internal min(0.4, 0) = 0, inflow 0.4; origin
		// 1: -5+0.4. Level 1: X becomes 1-hop (origin 1): to miner 6.9,
		// outflow 0, internal 5, inflow 1.9; origin 1: -5+6.9.
		{Height: 7, Revenue: 50 * btc, Levels: [2]LevelFlows{
			lv{CoinbaseInflow: 50 * btc, OtherInflow: 0.4 * btc, Outflow: 5 * btc, SpendingTxs: 1,
				Origins: []OriginFlow{of(1, -4.6*btc, 5*btc), of(7, 50*btc, 0)}},
			lv{CoinbaseInflow: 50 * btc, OtherInflow: 1.9 * btc, Internal: 5 * btc, SpendingTxs: 1,
				Origins: []OriginFlow{of(1, 1.9*btc, 0), of(7, 50*btc, 0)}},
		}},
		// 8: the repeated coinbase loses the 50 BTC of 6 and adds 50 of
		// 8. t8: level 0: the input is no level-0 output but N is a
		// level-0 script (origin 7): inflow 9.99. Level 1: internal 9.99,
		// miner fee 0.01; origin 1: -10, origin 7: +9.99.
		{Height: 8, Revenue: 50 * btc, Levels: [2]LevelFlows{
			lv{CoinbaseInflow: 50 * btc, OtherInflow: 9.99 * btc, Lost: 50 * btc,
				Origins: []OriginFlow{of(6, -50*btc, 0), of(7, 9.99*btc, 0), of(8, 50*btc, 0)}},
			lv{CoinbaseInflow: 50 * btc, Internal: 9.99 * btc, MinerFee: 0.01 * btc, Lost: 50 * btc,
				SpendingTxs: 1, Origins: []OriginFlow{of(1, -10*btc, 0), of(6, -50*btc, 0),
					of(7, 9.99*btc, 0), of(8, 50*btc, 0)}},
		}},
	}
	for i := range blocks {
		blocks[i].Time = sc.c.blocks[blocks[i].Height].Header.Timestamp.Unix()
	}
	return blocks
}

// scenarioOutputs are the unspent miner outputs after block 8.
func scenarioOutputs(sc *flowScenario) map[wire.OutPoint]MinerOutput {
	want := make(map[wire.OutPoint]MinerOutput)
	add := func(tx string, i uint32, v btcutil.Amount, level int8, origin int32, holder string) {
		op := outpoint(sc.tx[tx], i)
		want[op] = MinerOutput{OutPoint: op, Value: v, Level: level, Origin: origin, Script: sc.script(holder)}
	}
	for i := uint32(0); i < 10; i++ {
		if i != 1 { // M2's is spent by t6b
			add("t3", i, 4.9*btc, 1, 2, fmt.Sprintf("M%d", i+1))
		}
	}
	add("t3", 10, 0.99*btc, 0, 2, "B")
	add("cb5", 0, 50*btc, 0, 5, "G")
	add("t5b", 0, 100*btc, 1, 3, "E")
	add("t5b", 1, 39.998*btc, 0, 3, "C")
	add("t6a", 1, 3*btc, 1, 2, "M1")
	add("cb7", 0, 50*btc, 0, 7, "N")
	add("t7", 0, 6.5*btc, 1, 1, "X")
	add("t7", 1, 0.4*btc, 0, 1, "A")
	add("cb8", 0, 50*btc, 0, 8, "F") // the output of cb6, overwritten
	add("t8", 0, 9.99*btc, 0, 7, "N")
	return want
}

// scenarioScripts are the miner scripts after block 8.
func scenarioScripts(sc *flowScenario) map[string]MinerScript {
	want := make(map[string]MinerScript)
	add := func(holder string, level int8, since0, since1, origin0, origin1 int32) {
		s := sc.script(holder)
		want[string(s)] = MinerScript{Script: s, Level: level, Since0: since0, Since1: since1,
			Origin0: origin0, Origin1: origin1}
	}
	add("A", 0, 1, 1, 1, 1)
	add("B", 0, 2, 2, 2, 2)
	add("N", 0, 7, 2, 7, 1)
	for i := 1; i <= 10; i++ {
		add(fmt.Sprintf("M%d", i), 1, -1, 3, -1, 2)
	}
	add("C", 0, 3, 3, 3, 3)
	add("G", 0, 5, 5, 5, 5)
	add("E", 1, -1, 5, -1, 3)
	add("F", 0, 6, 6, 6, 6)
	add("X", 1, -1, 7, -1, 1)
	return want
}

// minerIn, otherIn and flowOut build the inputs and outputs of expected
// flow transactions.
func minerIn(op wire.OutPoint, level int8, origin int32, v btcutil.Amount) FlowTxInput {
	return FlowTxInput{PrevOut: op, Level: level, Origin: origin, Value: v, Known: true}
}

func otherIn(op wire.OutPoint) FlowTxInput {
	return FlowTxInput{PrevOut: op, Level: analysis.NotMiner, Origin: -1}
}

func flowOut(v btcutil.Amount, level int8, origin int32, script []byte) FlowTxOutput {
	return FlowTxOutput{Value: v, Level: level, Origin: origin, Script: script}
}

// scenarioTxs are the flow transactions of the scenario, in chain order.
func scenarioTxs(sc *flowScenario) []FlowTx {
	s, tx := sc.script, sc.tx
	ftx := func(name string, height, index int32, ins []FlowTxInput, outs ...FlowTxOutput) FlowTx {
		return FlowTx{Height: height, Index: index, TxID: tx[name].TxHash(), Inputs: ins, Outputs: outs}
	}
	var payouts []FlowTxOutput
	for i := 1; i <= 10; i++ {
		payouts = append(payouts, flowOut(4.9*btc, 1, 2, s(fmt.Sprintf("M%d", i))))
	}
	payouts = append(payouts, flowOut(0.99*btc, 0, 2, s("B")))
	return []FlowTx{
		ftx("t2", 2, 1, []FlowTxInput{minerIn(outpoint(tx["cb1"], 0), 0, 1, 50*btc)},
			flowOut(10*btc, 1, 1, s("N")), flowOut(40*btc, 0, 1, s("A"))),
		ftx("t3", 3, 1, []FlowTxInput{minerIn(outpoint(tx["cb2"], 0), 0, 2, 50*btc)}, payouts...),
		ftx("t5a", 5, 1, []FlowTxInput{minerIn(outpoint(tx["cb3"], 0), 0, 3, 50*btc),
			minerIn(outpoint(tx["cb4"], 0), 0, 4, 50*btc), minerIn(outpoint(tx["t2"], 1), 0, 1, 40*btc)},
			flowOut(139.999*btc, 0, 3, s("C"))),
		ftx("t5b", 5, 2, []FlowTxInput{minerIn(outpoint(tx["t5a"], 0), 0, 3, 139.999*btc)},
			flowOut(100*btc, 1, 3, s("E")), flowOut(39.998*btc, 0, 3, s("C")),
			flowOut(0, analysis.NotMiner, -1, nullData(""))),
		ftx("t6b", 6, 2, []FlowTxInput{minerIn(outpoint(tx["t3"], 1), 1, 2, 4.9*btc)},
			flowOut(4.8*btc, analysis.NotMiner, -1, s("Y"))),
		ftx("t7", 7, 1, []FlowTxInput{minerIn(outpoint(tx["t6a"], 0), 0, 1, 5*btc), otherIn(external("e2"))},
			flowOut(6.5*btc, 1, 1, s("X")), flowOut(0.4*btc, 0, 1, s("A"))),
		ftx("t8", 8, 1, []FlowTxInput{minerIn(outpoint(tx["t2"], 0), 1, 1, 10*btc)},
			flowOut(9.99*btc, 0, 7, s("N"))),
	}
}

// TestFlowsScenario connects the hand-worked scenario block by block and
// checks every flow query against the values worked out by hand, the
// per-transaction classification of a few transactions, the reserve
// identity, and that connecting the blocks in one call writes the same
// index.
func TestFlowsScenario(t *testing.T) {
	sc := newFlowScenario(t)
	db := newFlowDB(t, sc.c, 1)
	for h := int32(1); h <= sc.c.tip(); h++ {
		sc.c.connect(t, db, h, h)
	}

	got, err := db.BlockFlows(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := scenarioFlows(sc)
	if len(got) != len(want) {
		t.Fatalf("BlockFlows gave %d blocks, want %d", len(got), len(want))
	}
	for i := range want {
		if !equalBlockFlows(got[i], want[i]) {
			t.Errorf("block %d:\n got %+v\nwant %+v", want[i].Height, got[i], want[i])
		}
	}

	outs := minerOutputs(t, db)
	if wantOuts := scenarioOutputs(sc); !maps.EqualFunc(outs, wantOuts, func(a, b MinerOutput) bool {
		return a.OutPoint == b.OutPoint && a.Value == b.Value && a.Level == b.Level &&
			a.Origin == b.Origin && bytes.Equal(a.Script, b.Script)
	}) {
		t.Errorf("miner outputs\n got %+v\nwant %+v", outs, wantOuts)
	}
	checkScripts(t, db, scenarioScripts(sc))
	for _, name := range []string{"Z", "Y"} {
		if _, err := db.MinerScriptOf(sc.script(name)); !errors.Is(err, ErrNotFound) {
			t.Errorf("MinerScriptOf(%s): %v, want ErrNotFound", name, err)
		}
	}
	if _, err := db.MinerScriptOf(nullData("burn")); !errors.Is(err, ErrNotFound) {
		t.Errorf("MinerScriptOf(OP_RETURN): %v, want ErrNotFound", err)
	}
	checkFlowTxs(t, db, 0, 8, scenarioTxs(sc))
	for _, name := range []string{"cb1", "t6a"} {
		errNotFlowTx(t, db, sc.tx[name].TxHash())
	}
	checkReserve(t, db, 0, 8)
	checkScenarioReserve(t, db)
	checkScenarioTxFlows(t, db, sc)

	// Range queries.
	var heights []int32
	err = db.FlowTxs(5, 6, func(tx *FlowTx) error {
		heights = append(heights, tx.Height)
		return nil
	})
	if err != nil || !slices.Equal(heights, []int32{5, 5, 6}) {
		t.Errorf("FlowTxs(5, 6) visited heights %v, %v", heights, err)
	}
	if got, err := db.BlockFlows(3, 4); err != nil || len(got) != 2 || got[0].Height != 3 {
		t.Errorf("BlockFlows(3, 4) = %+v, %v", got, err)
	}

	// The same blocks in one call, and the model, agree.
	batch := newFlowDB(t, sc.c, 1)
	sc.c.connect(t, batch, 1, 8)
	DiffDumps(t, Dump(t, db), Dump(t, batch))
	checkFlowModel(t, db, refModel(1, sc.c.blocks[1:]), 1, 8)
}

// checkScenarioReserve checks the reserve after block 8 against the
// outputs listed by hand: level 0 holds B 0.99 + G 50 + C 39.998 + F 50 +
// N 50 + A 0.4 + N 9.99 = 201.378 BTC; level 1 adds M1, M3..M10 (9 × 4.9),
// E 100, M1 3 and X 6.5: 354.978 BTC.
func checkScenarioReserve(t *testing.T, db *DB) {
	t.Helper()
	blocks, err := db.BlockFlows(0, 8)
	if err != nil {
		t.Fatal(err)
	}
	var net [2]btcutil.Amount
	for _, b := range blocks {
		for l := range b.Levels {
			net[l] += b.Levels[l].NetChange()
		}
	}
	if want := [2]btcutil.Amount{201.378 * btc, 354.978 * btc}; net != want {
		t.Errorf("reserve after block 8 = %v, want %v", net, want)
	}
}

// checkScenarioTxFlows checks the classification of some scenario
// transactions at both levels.
func checkScenarioTxFlows(t *testing.T, db *DB, sc *flowScenario) {
	t.Helper()
	tests := []struct {
		tx    string
		level int
		want  analysis.TxFlow
	}{
		{"t2", 0, analysis.TxFlow{FromMiner: 50 * btc, ToMiner: 40 * btc, ToExternal: 10 * btc,
			Outflow: 10 * btc, Internal: 40 * btc, Origin: 1}},
		{"t2", 1, analysis.TxFlow{FromMiner: 50 * btc, ToMiner: 50 * btc, Internal: 50 * btc, Origin: 1}},
		{"t6b", 0, analysis.TxFlow{OtherInput: 4.9 * btc, ToExternal: 4.8 * btc, Fee: 0.1 * btc, Origin: -1}},
		{"t6b", 1, analysis.TxFlow{FromMiner: 4.9 * btc, ToExternal: 4.8 * btc, Fee: 0.1 * btc,
			Outflow: 4.8 * btc, MinerFee: 0.1 * btc, Origin: 2}},
		{"t8", 0, analysis.TxFlow{OtherInput: 10 * btc, ToMiner: 9.99 * btc, Fee: 0.01 * btc,
			Inflow: 9.99 * btc, Origin: -1}},
		{"t8", 1, analysis.TxFlow{FromMiner: 10 * btc, ToMiner: 9.99 * btc, Fee: 0.01 * btc,
			Internal: 9.99 * btc, MinerFee: 0.01 * btc, Origin: 1}},
	}
	for _, tc := range tests {
		tx, err := db.FlowTx(sc.tx[tc.tx].TxHash())
		if err != nil {
			t.Fatal(err)
		}
		if got, err := tx.Flow(tc.level); err != nil || got != tc.want {
			t.Errorf("%s at level %d: %+v, %v; want %+v", tc.tx, tc.level, got, err, tc.want)
		}
	}
}

// TestFlowsDisconnect connects the scenario block by block, giving the
// input values of block 7 before block 8, then disconnects every block and
// checks the index equals, byte for byte, what it was before the block
// was connected (the input values of block 7 vanish with it); it then
// reconnects and replaces block 5 by a block spending the outputs its
// disconnect restored.
func TestFlowsDisconnect(t *testing.T) {
	sc := newFlowScenario(t)
	db := newFlowDB(t, sc.c, 1)
	dumps := []map[string]string{Dump(t, db)}
	t7 := sc.tx["t7"].TxHash()
	for h := int32(1); h <= 8; h++ {
		sc.c.connect(t, db, h, h)
		if h == 7 {
			if err := db.SetInputValues(7, 1, t7, []btcutil.Amount{2 * btc}); err != nil {
				t.Fatal(err)
			}
		}
		dumps = append(dumps, Dump(t, db))
	}
	if !hasPrefixKey(dumps[8], inputValuesPrefix) {
		t.Fatal("no input values row after SetInputValues")
	}

	for h := int32(8); h >= 1; h-- {
		mustDisconnectTo(t, db, h-1)
		DiffDumps(t, dumps[h-1], Dump(t, db))
		if h > 1 {
			m := refModel(1, sc.c.blocks[1:h])
			m.setValues(7, 1, 2*btc)
			checkFlowModel(t, db, m, 1, h-1)
		}
	}
	if n1, n0, err := db.MinerScriptCount(); n1 != 0 || n0 != 0 || err != nil {
		t.Fatalf("MinerScriptCount after disconnecting all = %d, %d, %v", n1, n0, err)
	}

	// Connect 1-8 again, go back to 4, and connect another block 5 that
	// spends C's coinbase of 4 and A's 40 BTC of 2, which disconnecting 5
	// restored: 90 BTC to K, fee 0.
	sc.c.connect(t, db, 1, 8)
	if err := db.SetInputValues(7, 1, t7, []btcutil.Amount{2 * btc}); err != nil {
		t.Fatal(err)
	}
	DiffDumps(t, dumps[8], Dump(t, db))
	mustDisconnectTo(t, db, 4)
	sc.c.truncate(4)
	t5 := spendTx(ops(outpoint(sc.tx["cb4"], 0), outpoint(sc.tx["t2"], 1)), txOut(90*btc, sc.script("K")))
	sc.c.add(coinbaseTx("h5 again", txOut(50*btc, sc.script("G"))), t5)
	sc.c.connect(t, db, 5, 5)

	tx, err := db.FlowTx(t5.TxHash())
	if err != nil {
		t.Fatal(err)
	}
	wantIns := []FlowTxInput{minerIn(outpoint(sc.tx["cb4"], 0), 0, 4, 50*btc), minerIn(outpoint(sc.tx["t2"], 1), 0, 1, 40*btc)}
	if !slices.Equal(tx.Inputs, wantIns) {
		t.Fatalf("inputs of the new block 5's transaction = %+v, want %+v", tx.Inputs, wantIns)
	}
	if f, err := tx.Flow(0); err != nil || f.Outflow != 90*btc || f.Origin != 4 {
		t.Fatalf("level 0 flow of the new block 5's transaction = %+v, %v; want outflow 90 BTC, origin 4", f, err)
	}
	checkFlowModel(t, db, refModel(1, sc.c.blocks[1:]), 1, 5)

	fresh := newFlowDB(t, sc.c, 1)
	sc.c.connect(t, fresh, 1, 5)
	DiffDumps(t, Dump(t, fresh), Dump(t, db))
}

// hasPrefixKey reports whether kv has a key in keyspace prefix.
func hasPrefixKey(kv map[string]string, prefix byte) bool {
	for k := range kv {
		if k[0] == prefix {
			return true
		}
	}
	return false
}

// TestFlowsInputValues checks the queue of flow transactions whose other
// inputs' values are unknown and how SetInputValues fills it.
func TestFlowsInputValues(t *testing.T) {
	sc := newFlowScenario(t)
	db := newFlowDB(t, sc.c, 1)
	sc.c.connect(t, db, 1, 8)
	t7 := sc.tx["t7"].TxHash()

	// t7 is the only flow transaction with an input that is no miner
	// output (t6a has one too but spends no miner output).
	refs, err := db.MissingInputValues(10)
	want := []InputRef{{Height: 7, Index: 1, TxID: t7, PrevOuts: []wire.OutPoint{external("e2")}}}
	if err != nil || !slices.EqualFunc(refs, want, func(a, b InputRef) bool {
		return a.Height == b.Height && a.Index == b.Index && a.TxID == b.TxID && slices.Equal(a.PrevOuts, b.PrevOuts)
	}) {
		t.Fatalf("MissingInputValues = %+v, %v; want %+v", refs, err, want)
	}
	if n, err := db.MissingInputValuesCount(); n != 1 || err != nil {
		t.Fatalf("MissingInputValuesCount = %d, %v; want 1", n, err)
	}
	if refs, err := db.MissingInputValues(0); len(refs) != 0 || err != nil {
		t.Fatalf("MissingInputValues(0) = %+v, %v", refs, err)
	}
	tx, err := db.FlowTx(t7)
	if err != nil || tx.FeeKnown() {
		t.Fatalf("FlowTx(t7) = %+v, %v; want unknown fee", tx, err)
	}

	before := Dump(t, db)
	bad := []struct {
		name          string
		height, index int32
		txid          chainhash.Hash
		vs            []btcutil.Amount
		want          error
	}{
		{"too many values", 7, 1, t7, []btcutil.Amount{1 * btc, 1 * btc}, ErrBlockData},
		{"no value", 7, 1, t7, nil, ErrBlockData},
		// 5 + 1 BTC in, 6.9 BTC out.
		{"outputs exceed inputs", 7, 1, t7, []btcutil.Amount{1 * btc}, ErrBlockData},
		{"outputs exceed inputs by 1 sat", 7, 1, t7, []btcutil.Amount{1.9*btc - 1}, ErrBlockData},
		{"other transaction", 7, 1, sc.tx["t8"].TxHash(), []btcutil.Amount{2 * btc}, ErrNotFound},
		{"no flow transaction there", 7, 2, t7, []btcutil.Amount{2 * btc}, ErrNotFound},
		{"above the tip", 9, 1, t7, []btcutil.Amount{2 * btc}, ErrNotFound},
	}
	for _, tc := range bad {
		if err := db.SetInputValues(tc.height, tc.index, tc.txid, tc.vs); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	DiffDumps(t, before, Dump(t, db))

	// The fee is 5 + 2 − (6.5 + 0.4) = 0.1 BTC; the miner figures do not
	// change.
	if err := db.SetInputValues(7, 1, t7, []btcutil.Amount{2 * btc}); err != nil {
		t.Fatal(err)
	}
	tx, err = db.FlowTx(t7)
	if err != nil || !tx.FeeKnown() || tx.Inputs[1].Value != 2*btc {
		t.Fatalf("FlowTx(t7) after SetInputValues = %+v, %v", tx, err)
	}
	wantFlow := analysis.TxFlow{FromMiner: 5 * btc, OtherInput: 2 * btc, ToMiner: 0.4 * btc,
		ToExternal: 6.5 * btc, Fee: 5*btc + 2*btc - 6.5*btc - 0.4*btc, Outflow: 5 * btc,
		Inflow: 0.4 * btc, Origin: 1}
	if f, err := tx.Flow(0); err != nil || f != wantFlow {
		t.Fatalf("level 0 flow of t7 = %+v, %v; want %+v", f, err, wantFlow)
	}
	var fromRange FlowTx
	err = db.FlowTxs(7, 7, func(tx *FlowTx) error {
		fromRange = *tx
		return nil
	})
	if err != nil || !equalFlowTx(fromRange, tx) {
		t.Fatalf("FlowTxs(7, 7) = %+v, %v; want %+v", fromRange, err, tx)
	}
	if n, err := db.MissingInputValuesCount(); n != 0 || err != nil {
		t.Fatalf("MissingInputValuesCount after SetInputValues = %d, %v", n, err)
	}
	if refs, err := db.MissingInputValues(10); len(refs) != 0 || err != nil {
		t.Fatalf("MissingInputValues after SetInputValues = %+v, %v", refs, err)
	}

	// Giving them again changes nothing.
	after := Dump(t, db)
	if err := db.SetInputValues(7, 1, t7, []btcutil.Amount{2 * btc}); err != nil {
		t.Fatal(err)
	}
	DiffDumps(t, after, Dump(t, db))

	// Block 7 gone, its transaction is no longer there to give values to.
	mustDisconnectTo(t, db, 6)
	if err := db.SetInputValues(7, 1, t7, []btcutil.Amount{2 * btc}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SetInputValues after disconnect: %v, want ErrNotFound", err)
	}
	mustClose(t, db)
	if err := db.SetInputValues(7, 1, t7, []btcutil.Amount{2 * btc}); !errors.Is(err, ErrClosed) {
		t.Fatalf("SetInputValues after close: %v, want ErrClosed", err)
	}
}

// TestFlowsReopen closes and reopens an on-disk index in the middle of the
// scenario: the working set is loaded again, so the spends of miner outputs
// created before the reopen are found. After a reopen, blocks disconnected
// before any connect (the working set not loaded yet) and after one (the
// working set loaded, so the disconnect must add the outputs it restores)
// give back miner outputs that a new block spends again.
func TestFlowsReopen(t *testing.T) {
	sc := newFlowScenario(t)
	db, dir := openTemp(t, sc.c.p)
	if err := db.SetBlocksFrom(1, true); err != nil {
		t.Fatal(err)
	}
	sc.c.connect(t, db, 0, 4)
	reopen := func() {
		mustClose(t, db)
		var err error
		if db, err = Open(dir, sc.c.p, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	defer func() { mustClose(t, db) }()
	reopen()
	for h := int32(5); h <= 8; h++ {
		sc.c.connect(t, db, h, h)
		if h == 6 {
			reopen()
		}
	}
	mem := newFlowDB(t, sc.c, 1)
	sc.c.connect(t, mem, 1, 8)
	DiffDumps(t, Dump(t, mem), Dump(t, db))

	// replace5 disconnects down to 4 and connects a block 5 spending C's
	// coinbases of 3 and 4 (spent by the scenario's block 5) to K.
	replace5 := func(tag string, v btcutil.Amount) {
		t.Helper()
		mustDisconnectTo(t, db, 4)
		sc.c.truncate(4)
		t5 := spendTx(ops(outpoint(sc.tx["cb3"], 0), outpoint(sc.tx["cb4"], 0)), txOut(v, sc.script("K")))
		sc.c.add(coinbaseTx(tag, txOut(50*btc, sc.script("C"))), t5)
		sc.c.connect(t, db, 5, 5)
		tx, err := db.FlowTx(t5.TxHash())
		want := []FlowTxInput{minerIn(outpoint(sc.tx["cb3"], 0), 0, 3, 50*btc), minerIn(outpoint(sc.tx["cb4"], 0), 0, 4, 50*btc)}
		if err != nil || !slices.Equal(tx.Inputs, want) {
			t.Fatalf("FlowTx of block 5 %q = %+v, %v; want inputs %+v", tag, tx, err, want)
		}
		fresh := newFlowDB(t, sc.c, 1)
		sc.c.connect(t, fresh, 1, 5)
		DiffDumps(t, Dump(t, fresh), Dump(t, db))
		checkFlowModel(t, db, refModel(1, sc.c.blocks[1:]), 1, 5)
	}

	reopen()
	replace5("h5 after reopen", 99*btc)

	reopen()
	sc.c.add(coinbaseTx("h6 after reopen", txOut(50*btc, sc.script("D"))))
	sc.c.connect(t, db, 6, 6)
	replace5("h5 after another reopen", 98*btc)
}

// TestFlowsRefused checks that a block whose transaction spends miner
// outputs worth less than its outputs (which no valid block holds) is
// refused and changes nothing.
func TestFlowsRefused(t *testing.T) {
	sc := newFlowScenario(t)
	db := newFlowDB(t, sc.c, 1)
	sc.c.connect(t, db, 1, 1)
	before := Dump(t, db)
	sc.c.truncate(1)
	sc.c.add(coinbaseTx("h2", txOut(50*btc, sc.script("B"))),
		spendTx(ops(outpoint(sc.tx["cb1"], 0)), txOut(50*btc+1, sc.script("N"))))
	err := db.ConnectBlocks(2, sc.c.data(t, 1, 2, 2))
	if !errors.Is(err, analysis.ErrNegativeFee) {
		t.Fatalf("connect: %v, want analysis.ErrNegativeFee", err)
	}
	DiffDumps(t, before, Dump(t, db))
	if h, _, _ := db.Tip(); h != 1 {
		t.Fatalf("tip %d after a refused block, want 1", h)
	}
}

// TestCorruptFlowRows checks that open notices flow rows above the tip.
func TestCorruptFlowRows(t *testing.T) {
	tests := []struct {
		name string
		key  []byte
	}{
		{"block totals", heightKey(blockFlowsPrefix, 9)},
		{"flow transaction", txPosKey(flowTxPrefix, 9, 1)},
		{"input values", txPosKey(inputValuesPrefix, 9, 1)},
		{"values wanted", txPosKey(needValuesPrefix, 9, 1)},
	}
	sc := newFlowScenario(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, dir := openTemp(t, sc.c.p)
			if err := db.SetBlocksFrom(1, true); err != nil {
				t.Fatal(err)
			}
			sc.c.connect(t, db, 0, 8)
			err := db.bdb.Update(func(txn *badger.Txn) error { return txn.Set(tc.key, []byte{}) })
			if err != nil {
				t.Fatal(err)
			}
			mustClose(t, db)
			if _, err := Open(dir, sc.c.p, Options{}); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("open: %v, want ErrCorrupt", err)
			}
		})
	}
}

// flowGen generates random chains of crafted blocks: coinbases paying
// known and new scripts (sometimes nothing, sometimes an OP_RETURN, now and
// then an earlier coinbase repeated), and transactions spending random
// outputs of the chain (in earlier blocks or earlier in the block) or
// outputs of no block, paying known and new scripts.
type flowGen struct {
	rng     *rand.Rand
	c       *testChain
	outs    []map[wire.OutPoint]int64 // spendable outputs after each height
	scripts [][]byte
	n       int
}

// newFlowGen returns a generator over c, which holds the genesis block.
func newFlowGen(rng *rand.Rand, c *testChain) *flowGen {
	g := &flowGen{rng: rng, c: c}
	g.outs = []map[wire.OutPoint]int64{make(map[wire.OutPoint]int64)}
	g.apply(g.outs[0], c.blocks[0].Transactions[0])
	return g
}

// script returns a known script (most of the time) or a new one.
func (g *flowGen) script() []byte {
	switch r := g.rng.IntN(20); {
	case r == 0:
		return nullData(fmt.Sprintf("data %d", g.rng.IntN(3)))
	case r < 14 && len(g.scripts) > 0:
		return g.scripts[g.rng.IntN(len(g.scripts))]
	}
	g.n++
	s := testScript(fmt.Sprintf("random %d", g.n))
	g.scripts = append(g.scripts, s)
	return s
}

// apply records the outputs of tx (and removes those it spends).
func (g *flowGen) apply(outs map[wire.OutPoint]int64, tx *wire.MsgTx) {
	for _, in := range tx.TxIn {
		delete(outs, in.PreviousOutPoint)
	}
	for i, o := range tx.TxOut {
		if o.Value > 0 && !bytes.HasPrefix(o.PkScript, []byte{0x6a}) {
			outs[outpoint(tx, uint32(i))] = o.Value
		}
	}
}

// block adds a random block on top of the chain.
func (g *flowGen) block() {
	h := g.c.tip() + 1
	outs := maps.Clone(g.outs[h-1])
	var txs []*wire.MsgTx
	if h > 2 && g.rng.IntN(8) == 0 {
		txs = append(txs, g.c.blocks[1+g.rng.IntN(int(h-1))].Transactions[0].Copy())
	} else {
		cb := coinbaseTx(fmt.Sprintf("cb %d %d", h, g.rng.Uint64()))
		for n := 1 + g.rng.IntN(3); n > 0; n-- {
			v := g.rng.Int64N(50*btc) + 1
			if g.rng.IntN(8) == 0 {
				v = 0
			}
			cb.AddTxOut(wire.NewTxOut(v, g.script()))
		}
		txs = append(txs, cb)
	}
	g.apply(outs, txs[0])
	for n := g.rng.IntN(5); n > 0; n-- {
		tx := g.tx(outs)
		g.apply(outs, tx)
		txs = append(txs, tx)
	}
	g.c.add(txs...)
	g.outs = append(g.outs, outs)
}

// tx returns a random transaction spending some of outs.
func (g *flowGen) tx(outs map[wire.OutPoint]int64) *wire.MsgTx {
	keys := slices.SortedFunc(maps.Keys(outs), func(a, b wire.OutPoint) int {
		return cmpOutPoints(&a, &b)
	})
	var ins []wire.OutPoint
	var sum int64
	for n := 1 + g.rng.IntN(3); n > 0; n-- {
		if len(keys) == 0 || g.rng.IntN(6) == 0 {
			g.n++
			ins = append(ins, external(fmt.Sprintf("external %d", g.n)))
			sum += g.rng.Int64N(20 * btc)
			continue
		}
		i := g.rng.IntN(len(keys))
		ins = append(ins, keys[i])
		sum += outs[keys[i]]
		keys = slices.Delete(keys, i, i+1)
	}
	left := sum - g.rng.Int64N(sum/10+1)
	tx := spendTx(ins)
	for n := 1 + g.rng.IntN(4); n > 0; n-- {
		v := left
		if n > 1 {
			v = g.rng.Int64N(left + 1)
		}
		left -= v
		tx.AddTxOut(wire.NewTxOut(v, g.script()))
	}
	return tx
}

// cmpOutPoints orders outpoints by txid bytes, then index.
func cmpOutPoints(a, b *wire.OutPoint) int {
	if c := bytes.Compare(a.Hash[:], b.Hash[:]); c != 0 {
		return c
	}
	return int(a.Index) - int(b.Index)
}

// truncate drops the blocks above height.
func (g *flowGen) truncate(height int32) {
	g.c.truncate(height)
	g.outs = g.outs[:height+1]
}

// TestFlowsModel runs random sequences of connects (one block or several
// per call), disconnects and connects of other blocks over random chains,
// and after each step compares every flow query with the reference model
// run over the chain; at the end, an index built afresh from the final
// chain must equal the stepped one byte for byte.
func TestFlowsModel(t *testing.T) {
	for seed := uint64(1); seed <= 24; seed++ {
		rng := rand.New(rand.NewPCG(seed, 0xf10f))
		c := newTestChain(t, analysis.Simnet)
		g := newFlowGen(rng, c)
		from := int32(seed % 2) // odd seeds keep the genesis block header-only
		db := newFlowDB(t, c, from)

		for step := 0; step < 40; step++ {
			tip := c.tip()
			if tip > from && rng.IntN(10) < 3 {
				to := tip - 1 - int32(rng.IntN(int(min(3, tip-from))))
				mustDisconnectTo(t, db, to)
				g.truncate(to)
			} else {
				n := 1 + rng.IntN(3)
				for range n {
					g.block()
				}
				if rng.IntN(2) == 0 {
					c.connect(t, db, tip+1, c.tip())
				} else {
					for h := tip + 1; h <= c.tip(); h++ {
						c.connect(t, db, h, h)
					}
				}
			}
			checkFlowModel(t, db, refModel(from, c.blocks[from:]), from, c.tip())
		}

		fresh := newFlowDB(t, c, from)
		if c.tip() > 0 {
			c.connect(t, fresh, 1, c.tip())
		}
		DiffDumps(t, Dump(t, fresh), Dump(t, db))
		if t.Failed() {
			t.Fatalf("seed %d", seed)
		}
	}
}

// TestMainnetFlows indexes the flows of the real mainnet blocks 0-14131 and
// compares them with the reference model run over the blocks, and with
// published facts: block 170 holds the first transaction that is not a
// coinbase (f4184fc5…), which spends block 9's coinbase (0437cd7f…:0) of
// 50 BTC: 10 BTC to a new key and 40 back to the miner's key. That is 10
// BTC of outflow and 40 internal at level 0, and 50 internal at level 1,
// where the new key is 1-hop; no block before it spends anything.
func TestMainnetFlows(t *testing.T) {
	db := NewTestDB(t, analysis.Mainnet)
	if err := db.SetBlocksFrom(0, true); err != nil {
		t.Fatal(err)
	}
	ConnectBlocks(t, db, MainnetBlockData(t, 0))
	last := int32(MainnetTestHeaders - 1)
	checkFlowModel(t, db, refModel(0, MainnetBlocks(t)), 0, last)

	blocks, err := db.BlockFlows(0, 170)
	if err != nil || len(blocks) != 171 {
		t.Fatalf("BlockFlows(0, 170): %d blocks, %v", len(blocks), err)
	}
	for _, b := range blocks[:170] {
		if b.Levels[1].SpendingTxs != 0 || b.Levels[1].OtherInflow != 0 {
			t.Fatalf("block %d has flows: %+v", b.Height, b)
		}
	}
	l0, l1 := blocks[170].Levels[0], blocks[170].Levels[1]
	if l0.Outflow != 10*btc || l0.Internal != 40*btc || l0.MinerFee != 0 || l0.SpendingTxs != 1 ||
		l1.Outflow != 0 || l1.Internal != 50*btc || l1.SpendingTxs != 1 {
		t.Fatalf("block 170 flows = %+v", blocks[170])
	}

	txid, _ := chainhash.NewHashFromStr("f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16")
	cb9, _ := chainhash.NewHashFromStr("0437cd7f8525ceed2324359c2d0ba26006d92d856a9c20fa0241106ee5a597c9")
	tx, err := db.FlowTx(*txid)
	if err != nil {
		t.Fatal(err)
	}
	wantIn := minerIn(wire.OutPoint{Hash: *cb9}, 0, 9, 50*btc)
	if tx.Height != 170 || tx.Index != 1 || len(tx.Inputs) != 1 || tx.Inputs[0] != wantIn ||
		len(tx.Outputs) != 2 || tx.Outputs[0].Value != 10*btc || tx.Outputs[0].Level != 1 ||
		tx.Outputs[1].Value != 40*btc || tx.Outputs[1].Level != 0 || tx.Outputs[1].Origin != 9 {
		t.Fatalf("FlowTx(%v) = %+v", txid, tx)
	}
}

// TestConnectBlockTimestampLocation checks that a block whose header is
// given with its timestamp in another location than the block's own header
// (the same instant: wire decodes local times, callers may keep UTC) is the
// same block, and that a header of another second is not.
func TestConnectBlockTimestampLocation(t *testing.T) {
	c := newTestChain(t, analysis.Simnet)
	db := newFlowDB(t, c, 1)
	c.add(coinbaseTx("h1", txOut(50*btc, testScript("A"))))
	data := c.data(t, 1, 1, 1)

	blk := *data[0].Block
	blk.Header.Timestamp = blk.Header.Timestamp.Add(time.Second)
	data[0].Block = &blk
	if err := db.ConnectBlocks(1, data); !errors.Is(err, ErrBlockData) {
		t.Fatalf("block header one second off: %v, want ErrBlockData", err)
	}

	data = c.data(t, 1, 1, 1)
	data[0].Header.Timestamp = time.Unix(data[0].Header.Timestamp.Unix(), 0).UTC()
	data[0].Block.Header.Timestamp = time.Unix(data[0].Header.Timestamp.Unix(), 0).Local()
	if err := db.ConnectBlocks(1, data); err != nil {
		t.Fatalf("connect a block whose header is given in UTC: %v", err)
	}
	if got, err := db.BlockFlows(1, 1); err != nil || len(got) != 1 || got[0].Levels[0].CoinbaseInflow != 50*btc {
		t.Fatalf("BlockFlows(1, 1) = %+v, %v", got, err)
	}
}
