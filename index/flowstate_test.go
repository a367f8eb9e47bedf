package index

import (
	"hash/maphash"
	"math/rand/v2"
	"testing"

	"github.com/btcsuite/btcd/wire"
)

// TestBloom checks that the working-set filter never forgets a hash, across the rebuilds as it grows, and
// that its false-positive rate on fresh hashes stays near its design (about 1 in 2,000 when full).
func TestBloom(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	var f bloom
	if f.mayHave(rng.Uint64()) {
		t.Fatal("empty filter has a hash")
	}
	added := make([]uint64, 0, 300_000)
	for range cap(added) {
		h := rng.Uint64()
		f.add(h)
		added = append(added, h)
	}
	for _, h := range added {
		if !f.mayHave(h) {
			t.Fatalf("filter forgot %x", h)
		}
	}
	fp := 0
	const probes = 1_000_000
	for range probes {
		if f.mayHave(rng.Uint64()) {
			fp++
		}
	}
	// Independent bound: a blocked filter at >= 20 bits per entry with 7 bits set errs well under 1 in 500.
	if rate := float64(fp) / probes; rate > 1.0/500 {
		t.Fatalf("false-positive rate %.5f over 1/500 (%d of %d)", rate, fp, probes)
	} else {
		t.Logf("false-positive rate %.6f with %d entries in %d bytes", rate, len(added), f.size())
	}
}

// TestScreen checks the block screen against an exact model: a transaction the screen lets the connect skip
// neither spends an outpoint nor pays a script that is in the set, whether it joined before the block or
// earlier in the same block, over random blocks in which a fifth of the transactions touch the set.
func TestScreen(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	ws := &workingSet{seed: maphash.MakeSeed(), loaded: true}
	scripts, outputs := map[string]bool{}, map[wire.OutPoint]bool{}
	var knownScripts [][]byte
	var knownOutputs []wire.OutPoint
	randomScript := func() []byte {
		s := make([]byte, 22)
		for i := range s {
			s[i] = byte(rng.Uint32())
		}
		return s
	}
	randomOutPoint := func() wire.OutPoint {
		var op wire.OutPoint
		for i := range op.Hash {
			op.Hash[i] = byte(rng.Uint32())
		}
		op.Index = rng.Uint32N(8)
		return op
	}
	addScript := func(s []byte) {
		ws.addScript(s)
		scripts[string(s)] = true
		knownScripts = append(knownScripts, s)
	}
	addOutput := func(op wire.OutPoint) {
		ws.addOutput(&op)
		outputs[op] = true
		knownOutputs = append(knownOutputs, op)
	}
	for range 5000 {
		addScript(randomScript())
		addOutput(randomOutPoint())
	}

	skipped, touching := 0, 0
	for block := range 30 {
		blk := wire.NewMsgBlock(&wire.BlockHeader{})
		blk.AddTransaction(wire.NewMsgTx(2)) // the coinbase, which the screen leaves out
		for range 1 + rng.IntN(400) {
			tx := wire.NewMsgTx(2)
			for range 1 + rng.IntN(3) {
				op := randomOutPoint()
				if rng.IntN(10) == 0 {
					op = knownOutputs[rng.IntN(len(knownOutputs))]
				}
				tx.AddTxIn(&wire.TxIn{PreviousOutPoint: op})
			}
			for range 1 + rng.IntN(3) {
				s := randomScript()
				if rng.IntN(10) == 0 {
					s = knownScripts[rng.IntN(len(knownScripts))]
				}
				tx.AddTxOut(wire.NewTxOut(1, s))
			}
			blk.AddTransaction(tx)
		}
		// Every fifth transaction's first output is spent by the next one, in the same block.
		for i := 5; i+1 < len(blk.Transactions); i += 5 {
			blk.Transactions[i+1].TxIn[0].PreviousOutPoint = wire.OutPoint{Hash: blk.Transactions[i].TxHash()}
		}
		ws.screen(blk)
		for i, tx := range blk.Transactions[1:] {
			i++
			touches := false
			for _, in := range tx.TxIn {
				touches = touches || outputs[in.PreviousOutPoint]
			}
			for _, out := range tx.TxOut {
				touches = touches || scripts[string(out.PkScript)]
			}
			may := ws.mayTouch(i)
			if touches {
				touching++
				if !may {
					t.Fatalf("block %d: transaction %d touches the set but the screen skips it", block, i)
				}
			}
			if !may {
				skipped++
			}
			// What the connect adds as it goes: every fifth transaction's outputs join the set
			// (the first spent by the next transaction) and its first script becomes a miner script
			// (which later transactions may pay).
			if i%5 == 0 {
				txid := tx.TxHash()
				for j := range tx.TxOut {
					addOutput(wire.OutPoint{Hash: txid, Index: uint32(j)})
				}
				addScript(tx.TxOut[0].PkScript)
			}
		}
	}
	if skipped == 0 || touching == 0 {
		t.Fatalf("the test exercised nothing: %d skipped, %d touching", skipped, touching)
	}
	t.Logf("%d transactions skipped, %d touching the set", skipped, touching)
}
