package analysis

import (
	"bytes"
	"fmt"
	"math"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// baseSubsidy is the subsidy of the first era: 50 BTC.
const baseSubsidy btcutil.Amount = 50 * btcutil.SatoshiPerBitcoin

// witnessScaleFactor is BIP141's weight of a non-witness byte.
const witnessScaleFactor = 4

// witnessCommitmentHeader opens a BIP141 witness commitment output:
// OP_RETURN, a 36-byte push, then the tag 0xaa21a9ed.
var witnessCommitmentHeader = []byte{txscript.OP_RETURN, txscript.OP_DATA_36,
	0xaa, 0x21, 0xa9, 0xed}

// witnessCommitmentSize is the shortest script that carries a commitment:
// the header and the 32-byte commitment hash.
const witnessCommitmentSize = 38

// Subsidy is the block subsidy at height, as Bitcoin Core's GetBlockSubsidy:
// 50 BTC halved (rounding down to the satoshi) every SubsidyHalvingInterval
// blocks, and 0 from the 64th halving on. Negative heights get 0; a network
// without a halving interval (0) never halves, as in btcd.
func Subsidy(p Params, height int32) btcutil.Amount {
	if height < 0 {
		return 0
	}
	if p.SubsidyHalvingInterval <= 0 {
		return baseSubsidy
	}
	halvings := height / p.SubsidyHalvingInterval
	if halvings >= 64 {
		return 0
	}
	return baseSubsidy >> uint(halvings)
}

// CoinbaseOutput is one output of a coinbase transaction.
type CoinbaseOutput struct {
	Value  btcutil.Amount
	Script []byte

	// Address is the output's address encoded for the network, or ""
	// when the script pays no single address (OP_RETURN, multisig,
	// witness versions above 1, nonstandard). A pay-to-pubkey output,
	// which has no address of its own, gets the pay-to-pubkey-hash
	// address of its key, as explorers show it, so that pool addresses
	// also match the early coinbases that paid keys directly.
	Address string

	// Type is txscript.ScriptClass.String(): "pubkey", "pubkeyhash",
	// "scripthash", "witness_v0_keyhash", "witness_v0_scripthash",
	// "witness_v1_taproot", "multisig", "nulldata", "nonstandard", or as
	// in Bitcoin Core "witness_unknown" for a witness program of a future
	// version (btcd's classifier calls those nonstandard).
	Type string
}

// CoinbaseRecord is what minerscope keeps of a block besides its header:
// everything the rewards and pool attribution need, so a changed pool list
// never requires re-reading blocks.
type CoinbaseRecord struct {
	TxID      chainhash.Hash
	ScriptSig []byte
	Outputs   []CoinbaseOutput
	Reward    btcutil.Amount // sum of the coinbase output values
	Subsidy   btcutil.Amount // Subsidy(p, height)

	// Fees is max(0, Reward−Subsidy): what the miner claimed beyond the
	// subsidy. It is a lower bound of the fees the block's transactions
	// paid, since a miner may claim less than the subsidy plus fees (the
	// rest is destroyed); finding the true total needs the spent outputs.
	Fees btcutil.Amount

	TxCount      int32 // transactions in the block, coinbase included
	Size         int32 // serialized block size, bytes, witness included
	Weight       int32 // block weight, WU: 3 × stripped size + size
	SegwitCommit bool  // the coinbase carries a BIP141 witness commitment output
}

// ExtractCoinbase builds the record of blk, found at height on network p.
// Size and weight are computed from blk itself. It returns ErrBadCoinbase
// if the block has no coinbase or its outputs overflow the money supply,
// and ErrBadParams if p has no AddrParams. The record shares no memory with
// blk.
func ExtractCoinbase(p Params, height int32, blk *wire.MsgBlock) (CoinbaseRecord, error) {
	return extractCoinbase(p, height, blk, nil)
}

// ExtractCoinbaseWithID is ExtractCoinbase for a block whose coinbase txid
// the caller has computed already (a block source does, to check the merkle
// root), which saves hashing the coinbase again.
func ExtractCoinbaseWithID(p Params, height int32, blk *wire.MsgBlock, txid chainhash.Hash) (CoinbaseRecord, error) {
	return extractCoinbase(p, height, blk, &txid)
}

// extractCoinbase is ExtractCoinbase with the coinbase's txid, nil to
// compute it.
func extractCoinbase(p Params, height int32, blk *wire.MsgBlock, txid *chainhash.Hash) (CoinbaseRecord, error) {
	if p.AddrParams == nil {
		return CoinbaseRecord{}, errNoAddrParams(p)
	}
	if blk == nil || len(blk.Transactions) == 0 {
		return CoinbaseRecord{}, fmt.Errorf("%w: block at height %d has "+
			"no transactions", ErrBadCoinbase, height)
	}
	cb := blk.Transactions[0]
	if !isCoinbase(cb) {
		return CoinbaseRecord{}, fmt.Errorf("%w: the first transaction of "+
			"the block at height %d is not a coinbase", ErrBadCoinbase,
			height)
	}

	outputs, reward, err := coinbaseOutputs(p, cb)
	if err != nil {
		return CoinbaseRecord{}, fmt.Errorf("block at height %d: %w",
			height, err)
	}
	if txid == nil {
		id := cb.TxHash()
		txid = &id
	}
	subsidy := Subsidy(p, height)
	size := blk.SerializeSize()
	stripped := blk.SerializeSizeStripped()
	return CoinbaseRecord{
		TxID:         *txid,
		ScriptSig:    bytes.Clone(cb.TxIn[0].SignatureScript),
		Outputs:      outputs,
		Reward:       reward,
		Subsidy:      subsidy,
		Fees:         max(0, reward-subsidy),
		TxCount:      int32(len(blk.Transactions)),
		Size:         int32(size),
		Weight:       int32(stripped*(witnessScaleFactor-1) + size),
		SegwitCommit: hasWitnessCommitment(cb),
	}, nil
}

// isCoinbase reports whether tx spends only the null outpoint.
func isCoinbase(tx *wire.MsgTx) bool {
	if len(tx.TxIn) != 1 {
		return false
	}
	prev := tx.TxIn[0].PreviousOutPoint
	return prev.Index == math.MaxUint32 && prev.Hash == chainhash.Hash{}
}

// coinbaseOutputs describes cb's outputs and sums their values, rejecting
// values outside [0, MaxSatoshi] as consensus does.
func coinbaseOutputs(p Params, cb *wire.MsgTx) ([]CoinbaseOutput, btcutil.Amount, error) {
	outputs := make([]CoinbaseOutput, len(cb.TxOut))
	var total btcutil.Amount
	for i, out := range cb.TxOut {
		value := btcutil.Amount(out.Value)
		if value < 0 || value > btcutil.MaxSatoshi ||
			total > btcutil.MaxSatoshi-value {

			return nil, 0, fmt.Errorf("%w: coinbase output %d pays %d "+
				"satoshis, beyond the money supply", ErrBadCoinbase, i,
				out.Value)
		}
		total += value
		outputs[i] = describeOutput(p, value, out.PkScript)
	}
	return outputs, total, nil
}

// describeOutput classifies script and encodes its address, if it has
// exactly one.
func describeOutput(p Params, value btcutil.Amount, script []byte) CoinbaseOutput {
	out := CoinbaseOutput{Value: value, Script: bytes.Clone(script)}
	if txscript.GetScriptClass(script) == txscript.PubKeyTy {
		// The key as the script writes it, as Bitcoin Core hashes it:
		// btcutil would re-encode a hybrid key (0x06, 0x07) as an
		// uncompressed one and give a key off the curve no address. Nor is
		// the key parsed, as ExtractPkScriptAddrs would (a quarter of the
		// cost of describing the output): the class is the script's shape.
		out.Type = txscript.PubKeyTy.String()
		out.Address = pubKeyHashAddress(p, script[1:len(script)-1])
		return out
	}
	class, addrs, _, _ := txscript.ExtractPkScriptAddrs(script, p.AddrParams)
	if class == txscript.NonStandardTy && isFutureWitnessProgram(script) {
		class = txscript.WitnessUnknownTy
	}
	out.Type = class.String()
	if len(addrs) == 1 && class != txscript.MultiSigTy {
		out.Address = addrs[0].EncodeAddress()
	}
	return out
}

// pubKeyHashAddress is the pay-to-pubkey-hash address of key.
func pubKeyHashAddress(p Params, key []byte) string {
	a, err := btcutil.NewAddressPubKeyHash(btcutil.Hash160(key), p.AddrParams)
	if err != nil {
		return "" // cannot happen: the hash is 20 bytes
	}
	return a.EncodeAddress()
}

// isFutureWitnessProgram reports whether script is a witness program of a
// version that has no meaning yet: Bitcoin Core's "witness_unknown", which
// btcd's classifier calls nonstandard.
func isFutureWitnessProgram(script []byte) bool {
	if !txscript.IsWitnessProgram(script) {
		return false
	}
	version, program, err := txscript.ExtractWitnessProgramInfo(script)
	if err != nil {
		return false
	}
	return version > 1 || (version == 1 && len(program) != 32)
}

// hasWitnessCommitment reports whether one of cb's outputs is a BIP141
// witness commitment.
func hasWitnessCommitment(cb *wire.MsgTx) bool {
	for _, out := range cb.TxOut {
		if len(out.PkScript) >= witnessCommitmentSize &&
			bytes.HasPrefix(out.PkScript, witnessCommitmentHeader) {

			return true
		}
	}
	return false
}

// errNoAddrParams reports Params that cannot encode addresses, usually a
// zero Params{} passed by mistake.
func errNoAddrParams(p Params) error {
	return fmt.Errorf("%w: %q has no address parameters", ErrBadParams,
		p.Name)
}
