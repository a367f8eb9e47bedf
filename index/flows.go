package index

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/minerscope/minerscope/analysis"
)

// flowBlock connects the miner flows of one block: it updates the miner
// scripts and the unspent miner outputs, stores every transaction that
// spends a miner output, and the block's totals, all through the block's
// BlockWriter so that disconnecting the block undoes exactly them. The
// definitions are in analysis (ClassifyTx) and the README; in short, a
// non-zero spendable coinbase output makes its script a level-0 miner script,
// and a transaction spending a level-0 miner output makes every script it
// pays a level-1 miner script, from that transaction on.
type flowBlock struct {
	w       *BlockWriter
	ws      *workingSet
	height  int32
	time    int64
	revenue btcutil.Amount

	// scripts caches the miner-script records this block read or
	// changed; changed ones are written at the end of the block.
	scripts map[string]*scriptState

	totals [2]LevelFlows
	origin [2]map[int32]*OriginFlow

	// dirty and origins are finish's buffers.
	dirty   []string
	origins []OriginFlow
}

// scriptState is one cached miner-script record.
type scriptState struct {
	rec     MinerScript
	member  bool   // in the level-1 set (so in some set) before or during this block
	existed bool   // the record existed before the block
	prev    []byte // its value before the block
	dirty   bool
}

// connectFlows runs f over blk, whose txids are ids. f is the zero value or
// the one of an earlier block, whose maps and buffers it reuses.
func connectFlows(f *flowBlock, w *BlockWriter, ws *workingSet, blk *wire.MsgBlock, ids []chainhash.Hash) error {
	if len(ids) != len(blk.Transactions) || len(ids) == 0 {
		return fmt.Errorf("%w: block %d has %d transactions and %d txids",
			ErrBlockData, w.height, len(blk.Transactions), len(ids))
	}
	f.reset(w, ws, blk)
	ws.screen(blk)
	// The genesis coinbase is not in the UTXO set (consensus never lets it
	// be spent), so it is no miner output.
	if w.height > 0 {
		if err := f.coinbase(blk.Transactions[0], &ids[0]); err != nil {
			return err
		}
	}
	for i := 1; i < len(blk.Transactions); i++ {
		if !ws.mayTouch(i) {
			continue // the common case: nothing to do with miners
		}
		if err := f.tx(int32(i), blk.Transactions[i], &ids[i]); err != nil {
			return err
		}
	}
	return f.finish()
}

// reset readies f for blk, written by w.
func (f *flowBlock) reset(w *BlockWriter, ws *workingSet, blk *wire.MsgBlock) {
	f.w, f.ws, f.height, f.time, f.revenue = w, ws, w.height, blk.Header.Timestamp.Unix(), 0
	for _, out := range blk.Transactions[0].TxOut {
		f.revenue += btcutil.Amount(out.Value)
	}
	f.totals = [2]LevelFlows{}
	if f.scripts == nil {
		f.scripts = make(map[string]*scriptState)
	}
	clear(f.scripts)
	for l := range f.origin {
		if f.origin[l] == nil {
			f.origin[l] = make(map[int32]*OriginFlow)
		}
		clear(f.origin[l])
	}
}

// coinbase makes the scripts of the coinbase's non-zero spendable outputs
// level-0 miner scripts and the outputs miner outputs.
func (f *flowBlock) coinbase(tx *wire.MsgTx, txid *chainhash.Hash) error {
	for i, out := range tx.TxOut {
		if out.Value <= 0 || txscript.IsUnspendable(out.PkScript) {
			continue
		}
		st, err := f.script(out.PkScript, true)
		if err != nil {
			return err
		}
		if st.rec.Level != 0 || !st.member {
			f.joinLevel0(st)
		}
		v := btcutil.Amount(out.Value)
		op := wire.OutPoint{Hash: *txid, Index: uint32(i)}
		if err := f.createOutput(&op, v, 0, f.height, out.PkScript); err != nil {
			return err
		}
		for l := range f.totals {
			f.totals[l].CoinbaseInflow += v
			f.originFlow(l, f.height).Change += v
		}
	}
	return nil
}

// joinLevel0 makes st a level-0 miner script from this block on.
func (f *flowBlock) joinLevel0(st *scriptState) {
	if !st.member {
		st.rec.Since1, st.rec.Origin1 = f.height, f.height
	}
	st.rec.Level, st.rec.Since0, st.rec.Origin0 = 0, f.height, f.height
	st.member, st.dirty = true, true
}

// tx connects one non-coinbase transaction.
func (f *flowBlock) tx(index int32, tx *wire.MsgTx, txid *chainhash.Hash) error {
	ins, spends, err := f.spend(tx)
	if err != nil {
		return err
	}
	if !spends && !f.paysMiner(tx) {
		return nil // the common case: nothing to do with miners
	}
	if !spends {
		ins = otherInputs(tx)
	}

	// A transaction spending a level-0 miner output makes every script it
	// pays a level-1 miner script, owned by the origin it spends most of.
	level0 := slices.ContainsFunc(ins, func(in FlowTxInput) bool { return in.Level == 0 })
	origin0 := largestOrigin(ins, 0)

	ftx := FlowTx{Height: f.height, Index: index, TxID: *txid, Inputs: ins,
		Outputs: make([]FlowTxOutput, len(tx.TxOut))}
	for i, out := range tx.TxOut {
		o := &ftx.Outputs[i]
		o.Value, o.Level, o.Origin, o.Script = btcutil.Amount(out.Value), analysis.NotMiner, -1, out.PkScript
		if txscript.IsUnspendable(out.PkScript) {
			continue
		}
		st, err := f.script(out.PkScript, level0)
		if err != nil {
			return err
		}
		if st == nil {
			continue
		}
		if !st.member {
			st.rec = MinerScript{Script: st.rec.Script, Level: 1, Since0: -1, Since1: f.height,
				Origin0: -1, Origin1: origin0}
			st.member, st.dirty = true, true
		}
		o.Level, o.Origin = st.rec.Level, st.rec.origin()
		if out.Value > 0 {
			op := wire.OutPoint{Hash: *txid, Index: uint32(i)}
			if err := f.createOutput(&op, o.Value, o.Level, o.Origin, out.PkScript); err != nil {
				return err
			}
		}
	}
	if err := f.account(&ftx); err != nil {
		return err
	}
	if !spends {
		return nil
	}
	return f.storeTx(&ftx)
}

// spend removes the miner outputs tx spends and returns its inputs, and
// whether any was a miner output. Inputs of a transaction that spends none
// are not built.
func (f *flowBlock) spend(tx *wire.MsgTx) ([]FlowTxInput, bool, error) {
	var ins []FlowTxInput
	for i, in := range tx.TxIn {
		op := &in.PreviousOutPoint
		if !f.ws.mayHaveOutput(op) {
			continue
		}
		key := utxoKey(op)
		b, ok, err := dbFetch(f.w.txn, key)
		if err != nil {
			return nil, false, err
		}
		if !ok {
			continue
		}
		u, err := deserializeUTXO(*op, b)
		if err != nil {
			return nil, false, err
		}
		if err := f.w.setKnown(key, nil, b, true); err != nil {
			return nil, false, err
		}
		if ins == nil {
			ins = otherInputs(tx)
		}
		ins[i] = FlowTxInput{PrevOut: *op, Level: u.Level, Origin: u.Origin, Value: u.Value, Known: true}
	}
	return ins, ins != nil, nil
}

// otherInputs returns tx's inputs, all of unknown value and not miner outputs.
func otherInputs(tx *wire.MsgTx) []FlowTxInput {
	ins := make([]FlowTxInput, len(tx.TxIn))
	for j, in := range tx.TxIn {
		ins[j] = FlowTxInput{PrevOut: in.PreviousOutPoint, Level: analysis.NotMiner, Origin: -1}
	}
	return ins
}

// paysMiner reports whether some output of tx may pay a miner script.
func (f *flowBlock) paysMiner(tx *wire.MsgTx) bool {
	for _, out := range tx.TxOut {
		if f.ws.mayHaveScript(out.PkScript) {
			return true
		}
	}
	return false
}

// largestOrigin returns the origin owning the most value among the miner
// inputs at level <= level (ties: the lowest origin), -1 for none.
func largestOrigin(ins []FlowTxInput, level int8) int32 {
	fi := make([]analysis.FlowInput, 0, len(ins))
	for _, in := range ins {
		if in.Level != analysis.NotMiner && in.Level <= level {
			fi = append(fi, analysis.FlowInput{Value: in.Value, Level: in.Level, Origin: in.Origin})
		}
	}
	return analysis.MinerOrigin(int(level), fi)
}

// script returns the cached record of script, reading it if the working
// set may hold it. With create, a script in no set gets a fresh non-member
// state (the caller makes it a member); without, it gives nil.
func (f *flowBlock) script(script []byte, create bool) (*scriptState, error) {
	if st, ok := f.scripts[string(script)]; ok {
		return st, nil
	}
	if f.ws.mayHaveScript(script) {
		b, ok, err := dbFetch(f.w.txn, scriptKey(script))
		if err != nil {
			return nil, err
		}
		if ok {
			rec, err := deserializeScript(script, b)
			if err != nil {
				return nil, err
			}
			st := &scriptState{rec: rec, member: true, existed: true, prev: b}
			f.scripts[string(script)] = st
			return st, nil
		}
	}
	if !create {
		return nil, nil
	}
	st := &scriptState{rec: MinerScript{Script: script, Level: 1, Since0: -1, Since1: -1, Origin0: -1, Origin1: -1}}
	f.scripts[string(script)] = st
	f.ws.addScript(script)
	return st, nil
}

// createOutput adds a miner output. An outpoint that is already a miner
// output can only be a repeated coinbase txid (BIP30: mainnet 91842 and
// 91880): the new output replaces the old, whose value is lost.
func (f *flowBlock) createOutput(op *wire.OutPoint, v btcutil.Amount, level int8, origin int32,
	script []byte) error {

	key := utxoKey(op)
	var prev []byte
	var existed bool
	if f.ws.mayHaveOutput(op) {
		var err error
		if prev, existed, err = dbFetch(f.w.txn, key); err != nil {
			return err
		}
	}
	if existed {
		old, err := deserializeUTXO(*op, prev)
		if err != nil {
			return err
		}
		for l := int(old.Level); l < len(f.totals); l++ {
			f.totals[l].Lost += old.Value
			f.originFlow(l, old.Origin).Change -= old.Value
		}
	}
	u := MinerOutput{OutPoint: *op, Value: v, Level: level, Origin: origin, Script: script}
	if err := f.w.setKnown(key, serializeUTXO(&u), prev, existed); err != nil {
		return err
	}
	f.ws.addOutput(op)
	return nil
}

// account adds tx's flows at both levels to the block totals.
func (f *flowBlock) account(tx *FlowTx) error {
	for l := range f.totals {
		fl, err := tx.Flow(l)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrBlockData, err)
		}
		t := &f.totals[l]
		t.OtherInflow += fl.Inflow
		if fl.FromMiner > 0 {
			t.SpendingTxs++
			t.Outflow += fl.Outflow
			t.Internal += fl.Internal
			t.MinerFee += fl.MinerFee
			f.originFlow(l, fl.Origin).Outflow += fl.Outflow
		}
		for _, in := range tx.Inputs {
			if in.Level != analysis.NotMiner && int(in.Level) <= l {
				f.originFlow(l, in.Origin).Change -= in.Value
			}
		}
		for _, o := range tx.Outputs {
			if o.Level != analysis.NotMiner && int(o.Level) <= l && o.Value > 0 {
				f.originFlow(l, o.Origin).Change += o.Value
			}
		}
	}
	return nil
}

func (f *flowBlock) originFlow(level int, origin int32) *OriginFlow {
	o, ok := f.origin[level][origin]
	if !ok {
		o = &OriginFlow{Origin: origin}
		f.origin[level][origin] = o
	}
	return o
}

// storeTx writes the record of a transaction spending miner outputs, its
// txid row, and, when the values of its other inputs are unknown, the
// marker asking for them.
func (f *flowBlock) storeTx(tx *FlowTx) error {
	key := txPosKey(flowTxPrefix, tx.Height, tx.Index)
	if err := f.w.setKnown(key, serializeFlowTx(tx), nil, false); err != nil {
		return err
	}
	// A txid row is always new: a second transaction with the same txid
	// would spend the same inputs again (only coinbases, which spend
	// nothing, ever repeated a txid, BIP30), so no read for the undo record.
	pos := txPosKey(0, tx.Height, tx.Index)[1:]
	if err := f.w.setKnown(txidKey(&tx.TxID), pos, nil, false); err != nil {
		return err
	}
	if tx.FeeKnown() {
		return nil
	}
	return f.w.setKnown(txPosKey(needValuesPrefix, tx.Height, tx.Index), []byte{}, nil, false)
}

// finish writes the changed miner scripts and the block's totals.
func (f *flowBlock) finish() error {
	keys := f.dirty[:0]
	for k, st := range f.scripts {
		if st.dirty {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys) // a deterministic undo record
	f.dirty = keys
	for _, k := range keys {
		st := f.scripts[k]
		err := f.w.setKnown(scriptKey(st.rec.Script), serializeScript(&st.rec), st.prev, st.existed)
		if err != nil {
			return err
		}
	}

	rec := BlockFlows{Height: f.height, Time: f.time, Revenue: f.revenue, Levels: f.totals}
	all := f.origins[:0]
	for l := range rec.Levels {
		start := len(all)
		for _, o := range f.origin[l] {
			if o.Change != 0 || o.Outflow != 0 {
				all = append(all, *o)
			}
		}
		os := all[start:]
		slices.SortFunc(os, func(a, b OriginFlow) int { return cmp.Compare(a.Origin, b.Origin) })
		rec.Levels[l].Origins = os
	}
	f.origins = all
	return f.w.setKnown(heightKey(blockFlowsPrefix, f.height), serializeBlockFlows(&rec), nil, false)
}
