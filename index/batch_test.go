package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/minerscope/minerscope/analysis"
)

// TestConnectLargestPayout connects a block whose one transaction spends a coinbase output (a level-0 miner
// output) to 32,000 new P2WPKH scripts: the most outputs a transaction can have in a block of 1,000,000
// non-witness bytes (4,000,000 weight) at 31 bytes each, every one a new 1-hop miner script and miner output.
// The block's rows (two per output) and its undo record must fit in the one Badger transaction the block is
// stored in; then the block is disconnected again, which must leave the index as it was.
// (The undo record is 2 MB; Badger keeps values over 1 MB in its value log.)
func TestConnectLargestPayout(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a block of 32,000 outputs")
	}
	const outputs = 32_000
	c := newTestChain(t, analysis.Simnet)
	cb := coinbaseTx("/pool/", txOut(50*btc, testScript("pool")))
	c.add(cb)
	payout := spendTx(ops(outpoint(cb, 0)))
	for i := range outputs {
		script := make([]byte, 22)
		script[0], script[1] = 0x00, 0x14 // P2WPKH
		binary.BigEndian.PutUint32(script[2:], uint32(i))
		payout.AddTxOut(txOut(btcutil.Amount(49*btc/outputs), script))
	}
	if size := payout.SerializeSizeStripped(); size > 1_000_000 {
		t.Fatalf("the payout is %d non-witness bytes, more than a block holds", size)
	}
	c.add(coinbaseTx("/pool/ 2", txOut(50*btc, testScript("pool"))), payout)

	// On disk, as a user's index: an undo record over 1 MB goes to Badger's value log, which an in-memory
	// index does not have.
	db, err := Open(t.TempDir(), c.p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.SetBlocksFrom(0, true); err != nil {
		t.Fatal(err)
	}
	c.connect(t, db, 0, 0)
	c.connect(t, db, 1, 1)
	before := Dump(t, db)
	c.connect(t, db, 2, 2)
	n := 0
	if err := db.MinerOutputs(func(*MinerOutput) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	// The payout's outputs and the second coinbase's; the first coinbase's output is spent.
	if want := outputs + 1; n != want {
		t.Fatalf("%d unspent miner outputs after the payout, want %d", n, want)
	}
	mustDisconnectTo(t, db, 1)
	DiffDumps(t, before, Dump(t, db))
}

// TestConnectBatchOfPayouts connects, in one call as the sync does, six blocks that each pay a coinbase output
// to 10,000 new scripts (20,000 keys each, more than half of what one transaction of an in-memory index holds,
// about 26,000): each must go into a transaction of its own without Badger ever refusing a transaction (which
// would make the index write the blocks again in halves), and the result must equal connecting them one by one.
func TestConnectBatchOfPayouts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds blocks of 10,000 outputs")
	}
	const blocks, outputs = 6, 10_000
	c := newTestChain(t, analysis.Simnet)
	var prev *wire.MsgTx
	for h := 1; h <= blocks+1; h++ {
		cb := coinbaseTx(fmt.Sprintf("/pool/ %d", h), txOut(50*btc, testScript("pool")))
		txs := []*wire.MsgTx{cb}
		if prev != nil {
			payout := spendTx(ops(outpoint(prev, 0)))
			for i := range outputs {
				payout.AddTxOut(txOut(btcutil.Amount(49*btc/outputs), testScript(fmt.Sprintf("miner %d %d", h, i))))
			}
			txs = append(txs, payout)
		}
		c.add(txs...)
		prev = cb
	}
	batch := newFlowDB(t, c, 0)
	c.connect(t, batch, 1, int32(blocks+1))
	if batch.txnRetries != 0 {
		t.Fatalf("Badger refused %d transactions as too big; the batch was written again in halves", batch.txnRetries)
	}
	single := newFlowDB(t, c, 0)
	for h := int32(1); h <= blocks+1; h++ {
		c.connect(t, single, h, h)
	}
	DiffDumps(t, Dump(t, single), Dump(t, batch))
}

// TestSetInputValuesOf records the input values of several flow transactions in one call, as the sync does,
// and checks that the index then equals one where they were recorded one by one; and that a batch in which
// one transaction is no longer indexed records none of them.
func TestSetInputValuesOf(t *testing.T) {
	c := newTestChain(t, analysis.Simnet)
	cb := coinbaseTx("/pool/", txOut(50*btc, testScript("pool")))
	c.add(cb)
	// Three transactions, each spending a tenth of the coinbase with a coin that is no miner output.
	split := spendTx(ops(outpoint(cb, 0)))
	for i := range 3 {
		split.AddTxOut(txOut(10*btc, testScript(fmt.Sprintf("miner %d", i))))
	}
	c.add(coinbaseTx("/pool/ 2", txOut(50*btc, testScript("pool"))), split)
	var txs []*wire.MsgTx
	for i := range 3 {
		txs = append(txs, spendTx(ops(outpoint(split, uint32(i)), external(fmt.Sprintf("e%d", i))),
			txOut(12*btc, testScript(fmt.Sprintf("buyer %d", i)))))
	}
	c.add(append([]*wire.MsgTx{coinbaseTx("/pool/ 3", txOut(50*btc, testScript("pool")))}, txs...)...)

	one, batch, failed := newFlowDB(t, c, 0), newFlowDB(t, c, 0), newFlowDB(t, c, 0)
	for _, db := range []*DB{one, batch, failed} {
		c.connect(t, db, 1, 3)
	}
	refs, err := batch.MissingInputValues(10)
	if err != nil || len(refs) != 3 {
		t.Fatalf("MissingInputValues = %d refs, %v; want 3", len(refs), err)
	}
	values := make([][]btcutil.Amount, len(refs))
	for i, ref := range refs {
		values[i] = []btcutil.Amount{btcutil.Amount(2+i) * btc}
		if err := one.SetInputValues(ref.Height, ref.Index, ref.TxID, values[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := batch.SetInputValuesOf(refs, values); err != nil {
		t.Fatal(err)
	}
	DiffDumps(t, Dump(t, one), Dump(t, batch))
	if n, err := batch.MissingInputValuesCount(); n != 0 || err != nil {
		t.Fatalf("after the batch %d flow transactions lack input values (%v)", n, err)
	}

	before := Dump(t, failed)
	refs[2].TxID = chainhash.Hash{1}
	if err := failed.SetInputValuesOf(refs, values); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a batch naming a transaction that is not indexed: %v, want ErrNotFound", err)
	}
	DiffDumps(t, before, Dump(t, failed))
}
