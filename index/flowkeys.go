package index

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/minerscope/minerscope/analysis"
)

// noHeight marks an absent height in a miner-script record.
const noHeight = math.MaxUint32

// MinerScript is the record of one miner script (see the key layout in
// keys.go): the level-0 and level-1 sets it belongs to and since when.
type MinerScript struct {
	Script []byte

	// Level is 0 for a level-0 miner script (paid by a coinbase), 1 for a
	// script only in the level-1 set.
	Level int8

	// Since0 and Since1 are the heights from which the script is in the
	// level-0 and level-1 sets, -1 for never. Since1 <= Since0.
	Since0, Since1 int32

	// Origin0 is the height of the first coinbase that paid the script
	// (-1 for none); Origin1 the origin of the transaction that made it a
	// level-1 script (the height of the coinbase whose pool owns the miner
	// outputs that transaction spent), or Origin0 when a coinbase did.
	Origin0, Origin1 int32
}

// origin returns the origin of an output paying the script.
func (s *MinerScript) origin() int32 {
	if s.Level == 0 {
		return s.Origin0
	}
	return s.Origin1
}

// MinerOutput is one unspent miner output.
type MinerOutput struct {
	OutPoint wire.OutPoint
	Value    btcutil.Amount
	Level    int8  // 0 or 1: the lowest level at which it is a miner output
	Origin   int32 // height of the coinbase whose pool owns it
	Script   []byte
}

// FlowTx is one transaction that spends at least one miner output (at
// level 1, which includes level 0).
type FlowTx struct {
	Height int32
	Index  int32 // position in its block
	TxID   chainhash.Hash

	// Inputs are all the transaction's inputs, in order.
	Inputs []FlowTxInput

	// Outputs are all its outputs, in order.
	Outputs []FlowTxOutput
}

// FlowTxInput is one input of a FlowTx.
type FlowTxInput struct {
	PrevOut wire.OutPoint

	// Level is 0 or 1 for a miner output, analysis.NotMiner otherwise.
	Level int8

	// Origin is the miner output's origin, -1 otherwise.
	Origin int32

	// Value is the spent output's value. It is always known for a miner
	// output; for another input only once the node gave it (Known).
	Value btcutil.Amount
	Known bool
}

// FlowTxOutput is one output of a FlowTx.
type FlowTxOutput struct {
	Value btcutil.Amount

	// Level is the lowest level whose set held the paid script when the
	// output was created (the transaction's own level-1 additions
	// included), analysis.NotMiner for none.
	Level int8

	// Origin is the paid script's origin at that level, -1 for none.
	Origin int32

	Script []byte
}

// FeeKnown reports whether every input value is known, so that the fee and
// the other-input total are exact.
func (tx *FlowTx) FeeKnown() bool {
	for i := range tx.Inputs {
		if !tx.Inputs[i].Known {
			return false
		}
	}
	return true
}

// Flow classifies the transaction at level 0 or 1. When some input value
// is unknown (!FeeKnown), the unknown inputs are taken to total the least
// that balances the outputs, so Fee and OtherInput are placeholders while
// every miner figure (FromMiner, ToMiner, ToExternal, Outflow, Internal,
// Inflow, MinerFee, Origin) is exact: none depends on the other inputs.
func (tx *FlowTx) Flow(level int) (analysis.TxFlow, error) {
	ins, outs := tx.analysisIO()
	f, err := analysis.ClassifyTx(level, ins, outs)
	if err != nil {
		return f, fmt.Errorf("transaction %v at height %d: %w", tx.TxID, tx.Height, err)
	}
	return f, nil
}

// analysisIO returns the plain inputs and outputs analysis classifies, with
// one placeholder input for the unknown values.
func (tx *FlowTx) analysisIO() ([]analysis.FlowInput, []analysis.FlowOutput) {
	ins := make([]analysis.FlowInput, 0, len(tx.Inputs)+1)
	var in, out btcutil.Amount
	unknown := false
	for i := range tx.Inputs {
		e := &tx.Inputs[i]
		if !e.Known {
			unknown = true
			continue
		}
		in += e.Value
		ins = append(ins, analysis.FlowInput{Value: e.Value, Level: e.Level, Origin: e.Origin})
	}
	outs := make([]analysis.FlowOutput, len(tx.Outputs))
	for i := range tx.Outputs {
		o := &tx.Outputs[i]
		out += o.Value
		outs[i] = analysis.FlowOutput{Value: o.Value, Level: o.Level}
	}
	if unknown {
		ins = append(ins, analysis.FlowInput{Value: max(0, out-in), Level: analysis.NotMiner, Origin: -1})
	}
	return ins, outs
}

// BlockFlows are one block's miner-flow totals at levels 0 and 1, with the
// block's timestamp and coinbase reward, so that a series needs no other
// record.
type BlockFlows struct {
	Height  int32
	Time    int64          // header timestamp, unix seconds
	Revenue btcutil.Amount // sum of the coinbase outputs
	Levels  [2]LevelFlows
}

// Flow returns the block's totals at level (0 or 1) as analysis reads them.
func (b *BlockFlows) Flow(level int) analysis.BlockFlow {
	l := &b.Levels[level]
	return analysis.BlockFlow{Height: b.Height, Time: b.Time, Revenue: b.Revenue,
		CoinbaseInflow: l.CoinbaseInflow, OtherInflow: l.OtherInflow, Outflow: l.Outflow,
		Internal: l.Internal, MinerFee: l.MinerFee, Lost: l.Lost, SpendingTxs: l.SpendingTxs}
}

// LevelFlows are a block's miner-flow totals at one level (see
// analysis.BlockFlow for their meaning), with the reserve change and
// outflow per origin, from which pools are resolved at read time.
type LevelFlows struct {
	CoinbaseInflow, OtherInflow, Outflow, Internal, MinerFee, Lost btcutil.Amount
	SpendingTxs                                                    int32
	Origins                                                        []OriginFlow
}

// NetChange is the change of the reserve over the block.
func (l *LevelFlows) NetChange() btcutil.Amount {
	return l.CoinbaseInflow + l.OtherInflow - l.Outflow - l.MinerFee - l.Lost
}

// OriginFlow is the part of a block's flows owned by one origin.
type OriginFlow = analysis.OriginFlow

// ---- keys ----

func scriptKey(script []byte) []byte {
	return append([]byte{scriptPrefix}, script...)
}

func utxoKey(op *wire.OutPoint) []byte {
	key := make([]byte, 1+chainhash.HashSize+4)
	key[0] = utxoPrefix
	copy(key[1:], op.Hash[:])
	binary.BigEndian.PutUint32(key[1+chainhash.HashSize:], op.Index)
	return key
}

func keyOutpoint(key []byte) (wire.OutPoint, bool) {
	var op wire.OutPoint
	if len(key) != 1+chainhash.HashSize+4 {
		return op, false
	}
	copy(op.Hash[:], key[1:])
	op.Index = binary.BigEndian.Uint32(key[1+chainhash.HashSize:])
	return op, true
}

// txPosKey is the key of a per-transaction record: prefix, height, index.
func txPosKey(prefix byte, height, index int32) []byte {
	key := make([]byte, 1+2*heightSize)
	key[0] = prefix
	binary.BigEndian.PutUint32(key[1:], uint32(height))
	binary.BigEndian.PutUint32(key[1+heightSize:], uint32(index))
	return key
}

func keyTxPos(key []byte) (height, index int32, ok bool) {
	if len(key) != 1+2*heightSize {
		return 0, 0, false
	}
	return int32(binary.BigEndian.Uint32(key[1:])), int32(binary.BigEndian.Uint32(key[1+heightSize:])), true
}

func txidKey(txid *chainhash.Hash) []byte {
	return append([]byte{txidPrefix}, txid[:]...)
}

// ---- values ----

func putHeight(b []byte, h int32) []byte {
	if h < 0 {
		return binary.BigEndian.AppendUint32(b, noHeight)
	}
	return binary.BigEndian.AppendUint32(b, uint32(h))
}

func (r *valueReader) height() (int32, bool) {
	if len(r.b) < heightSize {
		return 0, false
	}
	v := binary.BigEndian.Uint32(r.b)
	r.b = r.b[heightSize:]
	if v == noHeight {
		return -1, true
	}
	if v > math.MaxInt32 {
		return 0, false
	}
	return int32(v), true
}

func (r *valueReader) amount() (btcutil.Amount, bool) {
	v, ok := r.uvarint()
	if !ok || v > btcutil.MaxSatoshi {
		return 0, false
	}
	return btcutil.Amount(v), true
}

func (r *valueReader) level(allowNone bool) (int8, bool) {
	c, ok := r.byte()
	switch {
	case !ok:
		return 0, false
	case c <= 1:
		return int8(c), true
	case c == 0xff && allowNone:
		return analysis.NotMiner, true
	}
	return 0, false
}

func (r *valueReader) hash() (chainhash.Hash, bool) {
	var h chainhash.Hash
	if len(r.b) < chainhash.HashSize {
		return h, false
	}
	copy(h[:], r.b)
	r.b = r.b[chainhash.HashSize:]
	return h, true
}

func (r *valueReader) outpoint() (wire.OutPoint, bool) {
	h, ok := r.hash()
	if !ok {
		return wire.OutPoint{}, false
	}
	i, ok := r.uvarint()
	if !ok || i > math.MaxUint32 {
		return wire.OutPoint{}, false
	}
	return wire.OutPoint{Hash: h, Index: uint32(i)}, true
}

func levelByte(l int8) byte {
	if l < 0 {
		return 0xff
	}
	return byte(l)
}

func appendOutpoint(b []byte, op *wire.OutPoint) []byte {
	b = append(b, op.Hash[:]...)
	return binary.AppendUvarint(b, uint64(op.Index))
}

func serializeScript(s *MinerScript) []byte {
	b := make([]byte, 0, 1+4*heightSize)
	b = append(b, levelByte(s.Level))
	b = putHeight(b, s.Since0)
	b = putHeight(b, s.Since1)
	b = putHeight(b, s.Origin0)
	return putHeight(b, s.Origin1)
}

func deserializeScript(script, b []byte) (MinerScript, error) {
	s := MinerScript{Script: script}
	r := &valueReader{b: b}
	var ok [5]bool
	s.Level, ok[0] = r.level(false)
	s.Since0, ok[1] = r.height()
	s.Since1, ok[2] = r.height()
	s.Origin0, ok[3] = r.height()
	s.Origin1, ok[4] = r.height()
	if slices.Contains(ok[:], false) || len(r.b) != 0 || s.Since1 < 0 ||
		(s.Level == 0) != (s.Since0 >= 0) {
		return s, fmt.Errorf("%w: miner script record %x", ErrCorrupt, b)
	}
	return s, nil
}

func serializeUTXO(o *MinerOutput) []byte {
	b := make([]byte, 0, 1+heightSize+9+1+len(o.Script))
	b = append(b, levelByte(o.Level))
	b = putHeight(b, o.Origin)
	b = binary.AppendUvarint(b, uint64(o.Value))
	return appendBytes(b, o.Script)
}

func deserializeUTXO(op wire.OutPoint, b []byte) (MinerOutput, error) {
	o := MinerOutput{OutPoint: op}
	r := &valueReader{b: b}
	var ok [4]bool
	o.Level, ok[0] = r.level(false)
	o.Origin, ok[1] = r.height()
	o.Value, ok[2] = r.amount()
	o.Script, ok[3] = r.bytes()
	if slices.Contains(ok[:], false) || len(r.b) != 0 || o.Origin < 0 {
		return o, fmt.Errorf("%w: miner output %v record %x", ErrCorrupt, op, b)
	}
	return o, nil
}

// serializeFlowTx encodes tx without its unknown input values.
func serializeFlowTx(tx *FlowTx) []byte {
	b := make([]byte, 0, 64+len(tx.Inputs)*48+len(tx.Outputs)*40)
	b = append(b, tx.TxID[:]...)
	b = binary.AppendUvarint(b, uint64(len(tx.Inputs)))
	for i := range tx.Inputs {
		in := &tx.Inputs[i]
		b = appendOutpoint(b, &in.PrevOut)
		b = append(b, levelByte(in.Level))
		if in.Level != analysis.NotMiner {
			b = putHeight(b, in.Origin)
			b = binary.AppendUvarint(b, uint64(in.Value))
		}
	}
	b = binary.AppendUvarint(b, uint64(len(tx.Outputs)))
	for i := range tx.Outputs {
		o := &tx.Outputs[i]
		b = binary.AppendUvarint(b, uint64(o.Value))
		b = append(b, levelByte(o.Level))
		if o.Level != analysis.NotMiner {
			b = putHeight(b, o.Origin)
		}
		b = appendBytes(b, o.Script)
	}
	return b
}

func deserializeFlowTx(height, index int32, b []byte) (FlowTx, error) {
	tx := FlowTx{Height: height, Index: index}
	tx, ok := decodeFlowTx(tx, b)
	if !ok {
		return tx, fmt.Errorf("%w: flow transaction record at height %d index %d", ErrCorrupt, height, index)
	}
	return tx, nil
}

// decodeFlowTx decodes the value of a flow transaction record into tx.
func decodeFlowTx(tx FlowTx, b []byte) (FlowTx, bool) {
	r := &valueReader{b: b}
	var ok bool
	if tx.TxID, ok = r.hash(); !ok {
		return tx, false
	}
	n, ok := r.uvarint()
	if !ok || n > uint64(len(r.b)) {
		return tx, false
	}
	tx.Inputs = make([]FlowTxInput, n)
	for i := range tx.Inputs {
		in := &tx.Inputs[i]
		in.Origin = -1
		if in.PrevOut, ok = r.outpoint(); !ok {
			return tx, false
		}
		if in.Level, ok = r.level(true); !ok {
			return tx, false
		}
		if in.Level == analysis.NotMiner {
			continue
		}
		in.Known = true
		var ok1, ok2 bool
		in.Origin, ok1 = r.height()
		in.Value, ok2 = r.amount()
		if !ok1 || !ok2 || in.Origin < 0 {
			return tx, false
		}
	}
	if n, ok = r.uvarint(); !ok || n > uint64(len(r.b)) {
		return tx, false
	}
	tx.Outputs = make([]FlowTxOutput, n)
	for i := range tx.Outputs {
		o := &tx.Outputs[i]
		o.Origin = -1
		var ok1, ok2 bool
		o.Value, ok1 = r.amount()
		o.Level, ok2 = r.level(true)
		if !ok1 || !ok2 {
			return tx, false
		}
		if o.Level != analysis.NotMiner {
			if o.Origin, ok = r.height(); !ok || o.Origin < 0 {
				return tx, false
			}
		}
		if o.Script, ok = r.bytes(); !ok {
			return tx, false
		}
	}
	return tx, len(r.b) == 0
}

// serializeValues encodes the values of a transaction's non-miner inputs.
func serializeValues(vs []btcutil.Amount) []byte {
	b := binary.AppendUvarint(nil, uint64(len(vs)))
	for _, v := range vs {
		b = binary.AppendUvarint(b, uint64(v))
	}
	return b
}

func deserializeValues(b []byte) ([]btcutil.Amount, bool) {
	r := &valueReader{b: b}
	n, ok := r.uvarint()
	if !ok || n > uint64(len(b)) {
		return nil, false
	}
	vs := make([]btcutil.Amount, n)
	for i := range vs {
		if vs[i], ok = r.amount(); !ok {
			return nil, false
		}
	}
	return vs, len(r.b) == 0
}

func serializeBlockFlows(f *BlockFlows) []byte {
	b := make([]byte, 0, 64)
	b = binary.BigEndian.AppendUint32(b, uint32(f.Time))
	b = binary.AppendUvarint(b, uint64(f.Revenue))
	for l := range f.Levels {
		lv := &f.Levels[l]
		for _, a := range []btcutil.Amount{lv.CoinbaseInflow, lv.OtherInflow, lv.Outflow,
			lv.Internal, lv.MinerFee, lv.Lost} {
			b = binary.AppendUvarint(b, uint64(a))
		}
		b = binary.AppendUvarint(b, uint64(lv.SpendingTxs))
		b = binary.AppendUvarint(b, uint64(len(lv.Origins)))
		for _, o := range lv.Origins {
			b = putHeight(b, o.Origin)
			b = binary.AppendVarint(b, int64(o.Change))
			b = binary.AppendUvarint(b, uint64(o.Outflow))
		}
	}
	return b
}

func deserializeBlockFlows(height int32, b []byte) (BlockFlows, error) {
	f, ok := decodeBlockFlows(BlockFlows{Height: height}, b)
	if !ok {
		return f, fmt.Errorf("%w: block flows record at height %d", ErrCorrupt, height)
	}
	return f, nil
}

// decodeBlockFlows decodes the value of a block flows record into f.
func decodeBlockFlows(f BlockFlows, b []byte) (BlockFlows, bool) {
	if len(b) < 4 {
		return f, false
	}
	f.Time = int64(binary.BigEndian.Uint32(b))
	r := &valueReader{b: b[4:]}
	var ok bool
	if f.Revenue, ok = r.amount(); !ok {
		return f, false
	}
	for l := range f.Levels {
		lv := &f.Levels[l]
		for _, a := range []*btcutil.Amount{&lv.CoinbaseInflow, &lv.OtherInflow, &lv.Outflow,
			&lv.Internal, &lv.MinerFee, &lv.Lost} {
			var ok bool
			if *a, ok = r.amount(); !ok {
				return f, false
			}
		}
		n, ok := r.uvarint()
		if !ok || n > math.MaxInt32 {
			return f, false
		}
		lv.SpendingTxs = int32(n)
		if n, ok = r.uvarint(); !ok || n > uint64(len(r.b)) {
			return f, false
		}
		lv.Origins = make([]OriginFlow, n)
		for i := range lv.Origins {
			o := &lv.Origins[i]
			var ok1, ok3 bool
			o.Origin, ok1 = r.height()
			c, n := binary.Varint(r.b)
			if n <= 0 {
				return f, false
			}
			r.b = r.b[n:]
			o.Change = btcutil.Amount(c)
			o.Outflow, ok3 = r.amount()
			if !ok1 || !ok3 || o.Origin < 0 {
				return f, false
			}
		}
	}
	return f, len(r.b) == 0
}
