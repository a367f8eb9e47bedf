package analysis

import (
	"bytes"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// FuzzExtractCoinbase feeds the coinbase transaction of a block the node
// sent (any bytes that decode as a transaction) to ExtractCoinbase. It must
// not panic; it refuses with ErrBadCoinbase, or returns a record that btcd
// agrees with: the txid, every output's value, script and class, an address
// that encodes the output's script (a pay-to-pubkey output: its key's
// pubkey-hash address), the reward as the sum of the values, the subsidy of
// the height and BIP141's rule for the witness commitment. Seeds in
// testdata/fuzz/FuzzExtractCoinbase: real coinbases (genesis, an early
// pay-to-pubkey one, two segwit-era ones with a witness commitment), a
// transaction that is not a coinbase and one paying beyond the money supply.
func FuzzExtractCoinbase(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw []byte, height int32) {
		var tx wire.MsgTx
		if tx.Deserialize(bytes.NewReader(raw)) != nil {
			return
		}
		blk := &wire.MsgBlock{Transactions: []*wire.MsgTx{&tx}}
		rec, err := ExtractCoinbase(Mainnet, height, blk)
		if err != nil {
			if !errors.Is(err, ErrBadCoinbase) {
				t.Fatalf("error %v is not ErrBadCoinbase", err)
			}
			return
		}
		if rec.TxID != tx.TxHash() || !bytes.Equal(rec.ScriptSig, tx.TxIn[0].SignatureScript) ||
			len(rec.Outputs) != len(tx.TxOut) || rec.TxCount != 1 {
			t.Fatalf("record %+v of %v", rec, tx.TxHash())
		}
		var sum int64
		commit := false
		for i, out := range tx.TxOut {
			checkCoinbaseOutput(t, i, rec.Outputs[i], out)
			sum += out.Value
			// BIP141: at least 38 bytes starting 0x6a24aa21a9ed.
			commit = commit || len(out.PkScript) >= 38 &&
				bytes.HasPrefix(out.PkScript, []byte{0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed})
		}
		subsidy := int64(0)
		if height >= 0 && height/210000 < 64 {
			subsidy = 50e8 >> (height / 210000)
		}
		switch {
		case int64(rec.Reward) != sum:
			t.Fatalf("reward %d, outputs sum to %d", rec.Reward, sum)
		case int64(rec.Subsidy) != subsidy:
			t.Fatalf("subsidy at %d: %d, want %d", height, rec.Subsidy, subsidy)
		case int64(rec.Fees) != max(0, sum-subsidy):
			t.Fatalf("fees %d for reward %d and subsidy %d", rec.Fees, sum, subsidy)
		case rec.SegwitCommit != commit:
			t.Fatalf("witness commitment %v, want %v", rec.SegwitCommit, commit)
		}
	})
}

// checkCoinbaseOutput checks output i of a record against the output out it
// was extracted from.
func checkCoinbaseOutput(t *testing.T, i int, got CoinbaseOutput, out *wire.TxOut) {
	t.Helper()
	class := txscript.GetScriptClass(out.PkScript).String()
	if got.Type == "witness_unknown" && class == "nonstandard" {
		version, _, err := txscript.ExtractWitnessProgramInfo(out.PkScript)
		if err != nil || version == 0 {
			t.Fatalf("output %d: witness_unknown, but version %d, %v", i, version, err)
		}
		class = got.Type
	}
	if int64(got.Value) != out.Value || !bytes.Equal(got.Script, out.PkScript) || got.Type != class {
		t.Fatalf("output %d: %+v from value %d script %x class %s", i, got, out.Value, out.PkScript, class)
	}
	if got.Address == "" {
		return
	}
	addr, err := btcutil.DecodeAddress(got.Address, Mainnet.AddrParams)
	if err != nil {
		t.Fatalf("output %d: address %q does not decode: %v", i, got.Address, err)
	}
	want := out.PkScript
	if got.Type == "pubkey" {
		// <push key> OP_CHECKSIG pays the key's pubkey-hash address.
		key := out.PkScript[1 : len(out.PkScript)-1]
		want, _ = txscript.PayToAddrScript(mustP2PKH(t, btcutil.Hash160(key)))
	}
	if script, err := txscript.PayToAddrScript(addr); err != nil || !bytes.Equal(script, want) {
		t.Fatalf("output %d: address %s pays %x, not %x (%v)", i, got.Address, script, want, err)
	}
}

func mustP2PKH(t *testing.T, hash []byte) btcutil.Address {
	t.Helper()
	a, err := btcutil.NewAddressPubKeyHash(hash, Mainnet.AddrParams)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
