package chaintest

import (
	"errors"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// TestFlowChainValid submits a small chain of every kind of block
// FlowChain crafts to btcd, which validates each in full (scripts, witness
// commitments, values, maturity), and checks that a witness spend with the
// wrong script is refused, so the acceptance is not vacuous.
func TestFlowChainValid(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	n := StartSimnet(t)
	if status, err := n.SegwitStatus(ctx); err != nil || status != "defined" {
		t.Fatalf("fresh node: segwit %q, %v; want defined", status, err)
	}

	c, err := NewFlowChain(ctx, n, 1)
	if err != nil {
		t.Fatal(err)
	}
	// BIP9 on simnet: blocks 100-199 signal, 200-299 are locked in, the
	// rules apply from 300.
	window := int32(n.Params.MinerConfirmationWindow)
	if got, want := c.Tip(), 3*window-1; got != want {
		t.Errorf("segwit active after height %d, want %d", got, want)
	}

	if _, err := c.Fund(ctx, 2, 50); err != nil {
		t.Fatalf("fund: %v", err)
	}
	if got := c.Coins(); got != 100 {
		t.Errorf("funded %d coins, want 100", got)
	}
	if _, err := c.Payouts(ctx, 3, 400); err != nil {
		t.Fatalf("payouts: %v", err)
	}
	if got := c.MinerOutputs(); got != 1200 {
		t.Errorf("%d payout outputs, want 1200", got)
	}

	shape := BlockShape{Txs: 40, PayoutOutputs: 20, Mixed: 5}
	var last *wire.MsgBlock
	for i := range 2 {
		blk, err := c.Block(ctx, shape)
		if err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		if len(blk.Transactions) != shape.Txs {
			t.Errorf("block %d has %d transactions, want %d", i, len(blk.Transactions), shape.Txs)
		}
		checkWitnessShape(t, blk)
		last = blk
	}
	best, _, err := n.BestBlock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if best != last.BlockHash() {
		t.Errorf("node tip %v, want the last crafted block %v", best, last.BlockHash())
	}
	// The first block's payout outputs are now spendable too.
	if got := c.MinerOutputs(); got != 1200+2*20-2*5 {
		t.Errorf("%d payout outputs, want %d", got, 1200+2*20-2*5)
	}

	// The same seed crafts the same chain on another node.
	if again := craftSmallFlowChain(t, StartSimnet(t), shape); again != last.BlockHash() {
		t.Errorf("same seed, other node: tip %v, want %v", again, last.BlockHash())
	}

	// A spend whose witness script is not the one the output commits to.
	coin := c.takeCoin()
	bad := wire.NewMsgTx(2)
	bad.AddTxIn(witnessIn(coin.op, witnessTrueScript(coin.tag+1)))
	bad.AddTxOut(NewWitnessTrue(1 << 40).Out(coin.value / 2))
	blk, err := c.b.Next(BlockOpts{Txs: []*wire.MsgTx{bad}})
	if err != nil {
		t.Fatal(err)
	}
	err = n.SubmitBlock(ctx, blk)
	if !errors.Is(err, ErrRejected) {
		t.Fatalf("wrong witness script: err = %v, want ErrRejected", err)
	}
	t.Logf("wrong witness script: %v", err)
}

// checkWitnessShape checks that every input after the coinbase carries a
// P2WPKH-sized witness (71 and 33 bytes) and the 12-byte witness script.
func checkWitnessShape(t *testing.T, blk *wire.MsgBlock) {
	t.Helper()
	for _, tx := range blk.Transactions[1:] {
		for _, in := range tx.TxIn {
			w := in.Witness
			if len(w) != 3 || len(w[0]) != 71 || len(w[1]) != 33 || len(w[2]) != 12 {
				t.Fatalf("tx %v: witness item sizes %v", tx.TxHash(), itemSizes(w))
			}
			if len(in.SignatureScript) != 0 {
				t.Fatalf("tx %v: non-empty signature script", tx.TxHash())
			}
		}
	}
}

func itemSizes(w wire.TxWitness) []int {
	sizes := make([]int, len(w))
	for i, item := range w {
		sizes[i] = len(item)
	}
	return sizes
}

// craftSmallFlowChain crafts on n, with seed 1, the chain TestFlowChainValid
// checks and returns its tip.
func craftSmallFlowChain(t *testing.T, n *Node, shape BlockShape) chainhash.Hash {
	t.Helper()
	ctx := testCtx(t)
	c, err := NewFlowChain(ctx, n, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Fund(ctx, 2, 50); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Payouts(ctx, 3, 400); err != nil {
		t.Fatal(err)
	}
	var blk *wire.MsgBlock
	for range 2 {
		if blk, err = c.Block(ctx, shape); err != nil {
			t.Fatal(err)
		}
	}
	return blk.BlockHash()
}
