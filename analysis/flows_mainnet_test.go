package analysis

import (
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// trackedOutput is an unspent output as the test's own tracker sees it.
type trackedOutput struct {
	value  btcutil.Amount
	level  int8
	origin int32
}

// TestClassifyTxMainnet replays real mainnet blocks 1-14131 through a
// plain tracker of miner scripts written for this test (the genesis
// coinbase cannot be spent and is left out) and classifies every
// transaction at both levels. It checks the published first spend, block
// 170's 10 BTC to Hal Finney and 40 BTC back to block 9's key, and that
// integrating the flows gives the reserve the tracker holds: the value of
// its unspent miner outputs at each level.
func TestClassifyTxMainnet(t *testing.T) {
	utxos := map[wire.OutPoint]trackedOutput{}
	scripts := [2]map[string]int32{{}, {}} // script -> origin, per level
	var reserve [2]btcutil.Amount
	firstOutflow := int32(-1)

	levelOf := func(script []byte) (int8, int32) {
		if o, ok := scripts[0][string(script)]; ok {
			return 0, o
		}
		if o, ok := scripts[1][string(script)]; ok {
			return 1, o
		}
		return NotMiner, -1
	}

	for h, fb := range loadMainnetBlocks(t)[1:] {
		height := int32(h + 1)
		for i, tx := range fb.block.Transactions {
			hash := tx.TxHash()
			if i == 0 {
				for n, out := range tx.TxOut {
					op := wire.OutPoint{Hash: hash, Index: uint32(n)}
					if out.Value == 0 || txscript.IsUnspendable(out.PkScript) {
						utxos[op] = trackedOutput{btcutil.Amount(out.Value), NotMiner, -1}
						continue
					}
					if _, ok := scripts[0][string(out.PkScript)]; !ok {
						scripts[0][string(out.PkScript)] = height
					}
					utxos[op] = trackedOutput{btcutil.Amount(out.Value), 0, height}
					reserve[0] += btcutil.Amount(out.Value)
					reserve[1] += btcutil.Amount(out.Value)
				}
				continue
			}

			ins := make([]FlowInput, len(tx.TxIn))
			spends0 := false
			for n, in := range tx.TxIn {
				u, ok := utxos[in.PreviousOutPoint]
				if !ok {
					t.Fatalf("block %d: %v spends an unknown output", height, hash)
				}
				delete(utxos, in.PreviousOutPoint)
				ins[n] = FlowInput{u.value, u.level, u.origin}
				spends0 = spends0 || u.level == 0
			}
			f0, err := ClassifyTx(0, ins, nil) // inputs only, for Origin
			if err != nil {
				t.Fatal(err)
			}
			if spends0 {
				for _, out := range tx.TxOut {
					s := string(out.PkScript)
					if _, ok := scripts[0][s]; !ok && !txscript.IsUnspendable(out.PkScript) {
						if _, ok := scripts[1][s]; !ok {
							scripts[1][s] = f0.Origin
						}
					}
				}
			}
			outs := make([]FlowOutput, len(tx.TxOut))
			for n, out := range tx.TxOut {
				l, o := levelOf(out.PkScript)
				if txscript.IsUnspendable(out.PkScript) {
					l, o = NotMiner, -1
				}
				outs[n] = FlowOutput{btcutil.Amount(out.Value), l}
				utxos[wire.OutPoint{Hash: hash, Index: uint32(n)}] =
					trackedOutput{btcutil.Amount(out.Value), l, o}
			}

			for level := range 2 {
				f, err := ClassifyTx(level, ins, outs)
				if err != nil {
					t.Fatalf("block %d, %v: %v", height, hash, err)
				}
				reserve[level] += f.Inflow - f.Outflow - f.MinerFee
				if level == 0 && f.Outflow > 0 && firstOutflow < 0 {
					firstOutflow = height
					want := TxFlow{FromMiner: 50 * btc, ToMiner: 40 * btc,
						ToExternal: 10 * btc, Outflow: 10 * btc,
						Internal: 40 * btc, Origin: 9}
					if height != 170 || f != want {
						t.Errorf("first outflow in block %d: %+v, want "+
							"block 170: %+v", height, f, want)
					}
				}
			}
		}
	}

	for level := range 2 {
		var held btcutil.Amount
		for _, u := range utxos {
			if u.level != NotMiner && int(u.level) <= level {
				held += u.value
			}
		}
		if held != reserve[level] {
			t.Errorf("level %d: flows give a reserve of %d sat, the miner "+
				"outputs hold %d", level, reserve[level], held)
		}
	}
	if firstOutflow != 170 {
		t.Errorf("first outflow in block %d, want 170", firstOutflow)
	}
}
