package index

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/minerscope/minerscope/analysis"
)

// refFlows is a reference implementation of the miner flows, written from
// the definitions of issue 4 (README, "Miner flows") with plain maps and its
// own arithmetic; it shares no code with flows.go or analysis.ClassifyTx.
// Only its results are expressed in the index's types, for comparison.
//
// Two readings of the definitions are those of the index, and are stated
// here so a change of either is a deliberate one: only outputs of non-zero
// value are miner outputs that can be spent (a zero-value output holds no
// reserve, and spending one moves nothing), and the origin of a script
// made 1-hop is that of the level-0 miner inputs of the transaction that
// made it (the heaviest origin among them, ties to the lowest).
type refFlows struct {
	scripts map[string]*refScript
	utxos   map[wire.OutPoint]MinerOutput
	blocks  []BlockFlows
	txs     []FlowTx
}

// refScript is the model's record of one miner script.
type refScript struct {
	level            int8
	since0, since1   int32
	origin0, origin1 int32
}

// refLevel accumulates one block's totals at one level.
type refLevel struct {
	cbIn, otherIn, outflow, internal, minerFee, lost int64
	spending                                         int32
	change, out                                      map[int32]int64
}

// refInput is one input of a transaction as the model sees it.
type refInput struct {
	op     wire.OutPoint
	miner  bool
	level  int8
	origin int32
	value  int64
}

func newRefFlows() *refFlows {
	return &refFlows{scripts: make(map[string]*refScript), utxos: make(map[wire.OutPoint]MinerOutput)}
}

// refModel runs the model over blocks, the first at height from.
func refModel(from int32, blocks []*wire.MsgBlock) *refFlows {
	m := newRefFlows()
	for i, blk := range blocks {
		m.connect(from+int32(i), blk)
	}
	return m
}

// connect adds the block at height.
func (m *refFlows) connect(height int32, blk *wire.MsgBlock) {
	var lv [2]refLevel
	for l := range lv {
		lv[l].change, lv[l].out = make(map[int32]int64), make(map[int32]int64)
	}
	for i, tx := range blk.Transactions {
		if i == 0 {
			// Consensus never adds the genesis coinbase to the UTXO set:
			// it is no spendable output, so no miner output.
			if height > 0 {
				m.coinbase(height, tx, &lv)
			}
			continue
		}
		m.tx(height, int32(i), tx, &lv)
	}

	rec := BlockFlows{Height: height, Time: blk.Header.Timestamp.Unix()}
	for _, out := range blk.Transactions[0].TxOut {
		rec.Revenue += btcutil.Amount(out.Value)
	}
	for l := range lv {
		v := &lv[l]
		rec.Levels[l] = LevelFlows{
			CoinbaseInflow: btcutil.Amount(v.cbIn), OtherInflow: btcutil.Amount(v.otherIn),
			Outflow: btcutil.Amount(v.outflow), Internal: btcutil.Amount(v.internal),
			MinerFee: btcutil.Amount(v.minerFee), Lost: btcutil.Amount(v.lost),
			SpendingTxs: v.spending,
		}
		for _, o := range slices.Sorted(maps.Keys(mergeKeys(v.change, v.out))) {
			if v.change[o] != 0 || v.out[o] != 0 {
				rec.Levels[l].Origins = append(rec.Levels[l].Origins, OriginFlow{Origin: o,
					Change: btcutil.Amount(v.change[o]), Outflow: btcutil.Amount(v.out[o])})
			}
		}
	}
	m.blocks = append(m.blocks, rec)
}

// mergeKeys returns a set of the keys of a and b.
func mergeKeys(a, b map[int32]int64) map[int32]bool {
	s := make(map[int32]bool)
	for k := range a {
		s[k] = true
	}
	for k := range b {
		s[k] = true
	}
	return s
}

// coinbase: every non-zero spendable output is a level-0 miner output of
// its own height, and makes its script a level-0 script.
func (m *refFlows) coinbase(height int32, tx *wire.MsgTx, lv *[2]refLevel) {
	txid := tx.TxHash()
	for i, out := range tx.TxOut {
		if out.Value == 0 || txscript.IsUnspendable(out.PkScript) {
			continue
		}
		s := m.scripts[string(out.PkScript)]
		switch {
		case s == nil:
			m.scripts[string(out.PkScript)] = &refScript{0, height, height, height, height}
		case s.level == 1:
			s.level, s.since0, s.origin0 = 0, height, height
		}
		op := wire.OutPoint{Hash: txid, Index: uint32(i)}
		if old, ok := m.utxos[op]; ok { // BIP30: the old output is lost
			for l := old.Level; l <= 1; l++ {
				lv[l].lost += int64(old.Value)
				lv[l].change[old.Origin] -= int64(old.Value)
			}
		}
		m.utxos[op] = MinerOutput{OutPoint: op, Value: btcutil.Amount(out.Value), Level: 0,
			Origin: height, Script: out.PkScript}
		for l := range lv {
			lv[l].cbIn += out.Value
			lv[l].change[height] += out.Value
		}
	}
}

// tx applies one non-coinbase transaction.
func (m *refFlows) tx(height, index int32, tx *wire.MsgTx, lv *[2]refLevel) {
	txid := tx.TxHash()
	ins := make([]refInput, len(tx.TxIn))
	spends, spends0 := false, false
	for i, in := range tx.TxIn {
		ins[i] = refInput{op: in.PreviousOutPoint, level: analysis.NotMiner, origin: -1}
		if u, ok := m.utxos[in.PreviousOutPoint]; ok {
			ins[i] = refInput{op: in.PreviousOutPoint, miner: true, level: u.Level,
				origin: u.Origin, value: int64(u.Value)}
			delete(m.utxos, in.PreviousOutPoint)
			spends = true
			spends0 = spends0 || u.Level == 0
		}
	}
	newOrigin := heaviestOrigin(ins, 0)

	outs := make([]FlowTxOutput, len(tx.TxOut))
	for i, out := range tx.TxOut {
		o := FlowTxOutput{Value: btcutil.Amount(out.Value), Level: analysis.NotMiner, Origin: -1,
			Script: out.PkScript}
		if !txscript.IsUnspendable(out.PkScript) {
			s := m.scripts[string(out.PkScript)]
			if s == nil && spends0 {
				s = &refScript{1, -1, height, -1, newOrigin}
				m.scripts[string(out.PkScript)] = s
			}
			if s != nil {
				o.Level, o.Origin = s.level, s.origin1
				if s.level == 0 {
					o.Origin = s.origin0
				}
			}
		}
		if o.Level != analysis.NotMiner && out.Value > 0 {
			op := wire.OutPoint{Hash: txid, Index: uint32(i)}
			m.utxos[op] = MinerOutput{OutPoint: op, Value: o.Value, Level: o.Level,
				Origin: o.Origin, Script: out.PkScript}
		}
		outs[i] = o
	}

	for l := int8(0); l <= 1; l++ {
		m.account(&lv[l], l, ins, outs)
	}
	if !spends {
		return
	}
	ftx := FlowTx{Height: height, Index: index, TxID: txid, Outputs: outs}
	for _, in := range ins {
		ftx.Inputs = append(ftx.Inputs, FlowTxInput{PrevOut: in.op, Level: in.level,
			Origin: in.origin, Value: btcutil.Amount(in.value), Known: in.miner})
	}
	m.txs = append(m.txs, ftx)
}

// account adds a transaction's flows at level l:
//
//	Outflow = min(ToExternal, FromMiner), Internal = min(ToMiner, FromMiner−Outflow),
//	Inflow = ToMiner − Internal, MinerFee = FromMiner − Outflow − Internal.
func (m *refFlows) account(v *refLevel, l int8, ins []refInput, outs []FlowTxOutput) {
	var from, toMiner, toExt int64
	for _, in := range ins {
		if in.miner && in.level <= l {
			from += in.value
			v.change[in.origin] -= in.value
		}
	}
	for _, o := range outs {
		if o.Level != analysis.NotMiner && o.Level <= l {
			toMiner += int64(o.Value)
			if o.Value > 0 {
				v.change[o.Origin] += int64(o.Value)
			}
		} else {
			toExt += int64(o.Value)
		}
	}
	outflow := min(toExt, from)
	internal := min(toMiner, from-outflow)
	v.otherIn += toMiner - internal
	if from == 0 {
		return
	}
	v.spending++
	v.outflow += outflow
	v.internal += internal
	v.minerFee += from - outflow - internal
	v.out[heaviestOrigin(ins, l)] += outflow
}

// heaviestOrigin returns the origin whose miner inputs at level <= l hold
// the most value, the lowest on a tie, -1 for none.
func heaviestOrigin(ins []refInput, l int8) int32 {
	sums := make(map[int32]int64)
	for _, in := range ins {
		if in.miner && in.level <= l {
			sums[in.origin] += in.value
		}
	}
	best := int32(-1)
	for _, o := range slices.Sorted(maps.Keys(sums)) {
		if best == -1 || sums[o] > sums[best] {
			best = o
		}
	}
	return best
}

// minerScripts returns the model's scripts as index records.
func (m *refFlows) minerScripts() map[string]MinerScript {
	out := make(map[string]MinerScript)
	for k, s := range m.scripts {
		out[k] = MinerScript{Script: []byte(k), Level: s.level, Since0: s.since0, Since1: s.since1,
			Origin0: s.origin0, Origin1: s.origin1}
	}
	return out
}

// setValues records the values the node gave for the other inputs of the
// flow transaction at height/index, as SetInputValues does.
func (m *refFlows) setValues(height, index int32, vs ...btcutil.Amount) {
	for i := range m.txs {
		tx := &m.txs[i]
		if tx.Height != height || tx.Index != index {
			continue
		}
		for j := range tx.Inputs {
			if !tx.Inputs[j].Known {
				tx.Inputs[j].Value, tx.Inputs[j].Known = vs[0], true
				vs = vs[1:]
			}
		}
	}
}

// needValues returns how many of the model's flow transactions have an
// input that is not a miner output.
func (m *refFlows) needValues() int {
	n := 0
	for _, tx := range m.txs {
		if slices.ContainsFunc(tx.Inputs, func(in FlowTxInput) bool { return !in.Known }) {
			n++
		}
	}
	return n
}

// checkFlowModel compares every flow query of db over the heights [from,
// to] with the model, and checks the reserve identity of the index.
func checkFlowModel(t testing.TB, db *DB, m *refFlows, from, to int32) {
	t.Helper()
	got, err := db.BlockFlows(from, to)
	if err != nil {
		t.Fatalf("BlockFlows(%d, %d): %v", from, to, err)
	}
	if len(got) != len(m.blocks) {
		t.Fatalf("BlockFlows(%d, %d) gave %d blocks, model %d", from, to, len(got), len(m.blocks))
	}
	for i := range got {
		if !equalBlockFlows(got[i], m.blocks[i]) {
			t.Fatalf("block flows at height %d:\n got %+v\nwant %+v", got[i].Height, got[i], m.blocks[i])
		}
	}

	outs := minerOutputs(t, db)
	if len(outs) != len(m.utxos) {
		t.Errorf("%d unspent miner outputs, model %d", len(outs), len(m.utxos))
	}
	for op, want := range m.utxos {
		if g, ok := outs[op]; !ok || !reflect.DeepEqual(g, want) {
			t.Fatalf("miner output %v = %+v (present %v), want %+v", op, g, ok, want)
		}
	}

	checkScripts(t, db, m.minerScripts())
	checkFlowTxs(t, db, from, to, m.txs)
	checkMissingValues(t, db, m)
	checkReserve(t, db, from, to)

	var want FlowStats
	for _, s := range m.scripts {
		want.Scripts[s.level]++
	}
	for _, o := range m.utxos {
		want.Outputs[o.Level]++
		want.Value[o.Level] += o.Value
	}
	want.FlowTxs, want.MissingValues = len(m.txs), m.needValues()
	if st, err := db.FlowStats(); err != nil || st != want {
		t.Fatalf("FlowStats = %+v, %v; want %+v", st, err, want)
	}
}

// checkMissingValues compares the flow transactions whose other input
// values the index asks for with those of the model that have such inputs.
func checkMissingValues(t testing.TB, db *DB, m *refFlows) {
	t.Helper()
	var want []InputRef
	for _, tx := range m.txs {
		ref := InputRef{Height: tx.Height, Index: tx.Index, TxID: tx.TxID}
		for _, in := range tx.Inputs {
			if !in.Known {
				ref.PrevOuts = append(ref.PrevOuts, in.PrevOut)
			}
		}
		if ref.PrevOuts != nil {
			want = append(want, ref)
		}
	}
	same := func(a, b InputRef) bool {
		return a.Height == b.Height && a.Index == b.Index && a.TxID == b.TxID &&
			slices.Equal(a.PrevOuts, b.PrevOuts)
	}
	got, err := db.MissingInputValues(math.MaxInt)
	if err != nil || !slices.EqualFunc(got, want, same) {
		t.Fatalf("MissingInputValues = %+v, %v; want %+v", got, err, want)
	}
	if n, err := db.MissingInputValuesCount(); n != len(want) || err != nil {
		t.Fatalf("MissingInputValuesCount = %d, %v; want %d", n, err, len(want))
	}
	if len(want) > 1 {
		if got, err := db.MissingInputValues(1); err != nil || len(got) != 1 || !same(got[0], want[0]) {
			t.Fatalf("MissingInputValues(1) = %+v, %v; want %+v", got, err, want[:1])
		}
	}
}

// equalBlockFlows compares two block records, an empty origin list equal
// to none.
func equalBlockFlows(a, b BlockFlows) bool {
	for l := range a.Levels {
		if len(a.Levels[l].Origins) == 0 && len(b.Levels[l].Origins) == 0 {
			a.Levels[l].Origins, b.Levels[l].Origins = nil, nil
		}
	}
	return reflect.DeepEqual(a, b)
}

// minerOutputs returns the unspent miner outputs of db by outpoint,
// checking that MinerOutputs lists them in outpoint order (txid bytes, then
// index).
func minerOutputs(t testing.TB, db *DB) map[wire.OutPoint]MinerOutput {
	t.Helper()
	outs := make(map[wire.OutPoint]MinerOutput)
	var prev *wire.OutPoint
	err := db.MinerOutputs(func(o *MinerOutput) error {
		if prev != nil && cmp.Or(bytes.Compare(prev.Hash[:], o.OutPoint.Hash[:]),
			cmp.Compare(prev.Index, o.OutPoint.Index)) >= 0 {
			return fmt.Errorf("output %v listed after %v", o.OutPoint, *prev)
		}
		op := o.OutPoint
		prev = &op
		outs[op] = *o
		return nil
	})
	if err != nil {
		t.Fatalf("MinerOutputs: %v", err)
	}
	return outs
}

// checkScripts compares the miner-script records of db with want.
func checkScripts(t testing.TB, db *DB, want map[string]MinerScript) {
	t.Helper()
	level0 := 0
	for k, w := range want {
		if w.Level == 0 {
			level0++
		}
		got, err := db.MinerScriptOf([]byte(k))
		if err != nil || !reflect.DeepEqual(got, w) {
			t.Fatalf("MinerScriptOf(%x) = %+v, %v; want %+v", k, got, err, w)
		}
	}
	n1, n0, err := db.MinerScriptCount()
	if err != nil || n1 != len(want) || n0 != level0 {
		t.Fatalf("MinerScriptCount = %d, %d, %v; want %d, %d", n1, n0, err, len(want), level0)
	}
}

// checkFlowTxs compares FlowTxs over [from, to] and FlowTx of each with want.
func checkFlowTxs(t testing.TB, db *DB, from, to int32, want []FlowTx) {
	t.Helper()
	var got []FlowTx
	err := db.FlowTxs(from, to, func(tx *FlowTx) error {
		got = append(got, *tx)
		return nil
	})
	if err != nil {
		t.Fatalf("FlowTxs: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("FlowTxs gave %d transactions, want %d", len(got), len(want))
	}
	for i := range got {
		if !equalFlowTx(got[i], want[i]) {
			t.Fatalf("flow transaction %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
		byID, err := db.FlowTx(want[i].TxID)
		if err != nil || !equalFlowTx(byID, want[i]) {
			t.Fatalf("FlowTx(%v) = %+v, %v; want %+v", want[i].TxID, byID, err, want[i])
		}
	}
}

// equalFlowTx compares two flow transactions, an empty script equal to none.
func equalFlowTx(a, b FlowTx) bool {
	if a.Height != b.Height || a.Index != b.Index || a.TxID != b.TxID ||
		!slices.Equal(a.Inputs, b.Inputs) || len(a.Outputs) != len(b.Outputs) {
		return false
	}
	for i := range a.Outputs {
		x, y := a.Outputs[i], b.Outputs[i]
		if x.Value != y.Value || x.Level != y.Level || x.Origin != y.Origin ||
			!bytes.Equal(x.Script, y.Script) {
			return false
		}
	}
	return true
}

// checkReserve checks the reserve identity on the index alone: at each
// level L, the net changes of the blocks [from, to] (all the full blocks)
// sum to the value of the unspent miner outputs of Level <= L, and so do
// the per-origin changes, origin by origin.
func checkReserve(t testing.TB, db *DB, from, to int32) {
	t.Helper()
	blocks, err := db.BlockFlows(from, to)
	if err != nil {
		t.Fatal(err)
	}
	var net [2]btcutil.Amount
	var byOrigin [2]map[int32]btcutil.Amount
	for l := range byOrigin {
		byOrigin[l] = make(map[int32]btcutil.Amount)
	}
	for _, b := range blocks {
		for l := range b.Levels {
			net[l] += b.Levels[l].NetChange()
			for _, o := range b.Levels[l].Origins {
				byOrigin[l][o.Origin] += o.Change
			}
		}
	}
	var held [2]btcutil.Amount
	var heldBy [2]map[int32]btcutil.Amount
	for l := range heldBy {
		heldBy[l] = make(map[int32]btcutil.Amount)
	}
	for _, o := range minerOutputs(t, db) {
		for l := int(o.Level); l <= 1; l++ {
			held[l] += o.Value
			heldBy[l][o.Origin] += o.Value
		}
	}
	for l := range net {
		if net[l] != held[l] {
			t.Fatalf("level %d: Σ NetChange = %d, Σ unspent miner outputs = %d", l, net[l], held[l])
		}
		maps.DeleteFunc(byOrigin[l], func(_ int32, v btcutil.Amount) bool { return v == 0 })
		if !maps.Equal(byOrigin[l], heldBy[l]) {
			t.Fatalf("level %d: Σ change by origin %v, unspent by origin %v", l, byOrigin[l], heldBy[l])
		}
	}
}

// flowRowCounts counts the rows of each flow keyspace in a dump.
func flowRowCounts(kv map[string]string) map[byte]int {
	n := make(map[byte]int)
	for k := range kv {
		if k[0] >= scriptPrefix && k[0] <= needValuesPrefix {
			n[k[0]]++
		}
	}
	return n
}

// wantFlowRows returns the rows of each flow keyspace the model implies
// for the full blocks it ran over, with no input values given.
func (m *refFlows) wantFlowRows() map[byte]int {
	n := map[byte]int{
		scriptPrefix:     len(m.scripts),
		utxoPrefix:       len(m.utxos),
		flowTxPrefix:     len(m.txs),
		blockFlowsPrefix: len(m.blocks),
		txidPrefix:       len(m.txs),
		needValuesPrefix: m.needValues(),
	}
	maps.DeleteFunc(n, func(_ byte, v int) bool { return v == 0 })
	return n
}

// errNotFlowTx checks that txid is no indexed flow transaction.
func errNotFlowTx(t testing.TB, db *DB, txid chainhash.Hash) {
	t.Helper()
	if tx, err := db.FlowTx(txid); !errors.Is(err, ErrNotFound) {
		t.Fatalf("FlowTx(%v) = %+v, %v; want ErrNotFound", txid, tx, err)
	}
}
