package chaintest

import (
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// TrueScript is an output script anyone can spend without a signature, so
// tests can craft transactions spending the coins of blocks they built.
// Consensus accepts such spends in blocks; the node's mempool, which applies
// standardness, may not.
type TrueScript struct {
	// PkScript is the output script.
	PkScript []byte

	// SigScript is the signature script that spends it.
	SigScript []byte

	// Redeem is the redeem script of a P2SH TrueScript, nil for a bare
	// one.
	Redeem []byte
}

// trueRedeem returns `<tag> OP_DROP OP_TRUE`: distinct tags give distinct
// scripts, all satisfied by an empty stack.
func trueRedeem(tag string) []byte {
	script, err := txscript.NewScriptBuilder().AddData([]byte(tag)).
		AddOp(txscript.OP_DROP).AddOp(txscript.OP_TRUE).Script()
	if err != nil {
		panic(err) // a short push and two opcodes always build
	}
	return script
}

// BareTrue returns the bare script `<tag> OP_DROP OP_TRUE`, spent with an
// empty signature script. It has no address.
func BareTrue(tag string) TrueScript {
	return TrueScript{PkScript: trueRedeem(tag), SigScript: []byte{}}
}

// P2SHTrue returns a P2SH script whose redeem script is
// `<tag> OP_DROP OP_TRUE`, spent by pushing the redeem script. Unlike
// BareTrue it has an address (see Address).
func P2SHTrue(tag string) TrueScript {
	redeem := trueRedeem(tag)
	addr, err := btcutil.NewAddressScriptHash(redeem, &chaincfg.SimNetParams)
	if err != nil {
		panic(err) // any script hashes
	}
	pk, err := txscript.PayToAddrScript(addr)
	if err != nil {
		panic(err)
	}
	sig, err := txscript.NewScriptBuilder().AddData(redeem).Script()
	if err != nil {
		panic(err)
	}
	return TrueScript{PkScript: pk, SigScript: sig, Redeem: redeem}
}

// Address returns the encoded P2SH address of a P2SHTrue script on the
// network params, "" for a bare script.
func (s TrueScript) Address(params *chaincfg.Params) string {
	if s.Redeem == nil {
		return ""
	}
	addr, err := btcutil.NewAddressScriptHash(s.Redeem, params)
	if err != nil {
		return ""
	}
	return addr.EncodeAddress()
}

// Out returns an output paying value satoshis to s.
func (s TrueScript) Out(value int64) *wire.TxOut {
	return wire.NewTxOut(value, s.PkScript)
}

// Coin is an output a crafted transaction can spend: where it is and the
// signature script that spends it.
type Coin struct {
	OutPoint  wire.OutPoint
	SigScript []byte
}

// CoinOf returns output i of tx, spent with s's signature script.
func CoinOf(tx *wire.MsgTx, i uint32, s TrueScript) Coin {
	return Coin{OutPoint: wire.OutPoint{Hash: tx.TxHash(), Index: i}, SigScript: s.SigScript}
}

// SpendTx returns a version 1 transaction spending coins into outs (lock
// time 0, final sequences). The fee is whatever the inputs leave; the caller
// keeps it non-negative.
func SpendTx(coins []Coin, outs ...*wire.TxOut) *wire.MsgTx {
	tx := wire.NewMsgTx(wire.TxVersion)
	for _, c := range coins {
		tx.AddTxIn(&wire.TxIn{
			PreviousOutPoint: c.OutPoint,
			SignatureScript:  c.SigScript,
			Sequence:         wire.MaxTxInSequenceNum,
		})
	}
	for _, o := range outs {
		tx.AddTxOut(o)
	}
	return tx
}
