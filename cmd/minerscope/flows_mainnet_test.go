package main

import (
	"encoding/csv"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/minerscope/minerscope/chain/chaintest"
	"github.com/minerscope/minerscope/index"
)

// Published chain facts about the first bitcoin transaction: in block 170 Satoshi spent the coinbase of
// block 9 (txid 0437cd7f…) to send 10 BTC to Hal Finney's key (address 1Q2TWHE3…) and 40 BTC back to his own.
const (
	block170TxID    = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"
	block9Coinbase  = "0437cd7f8525ceed2324359c2d0ba26006d92d856a9c20fa0241106ee5a597c9"
	halAddress      = "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3"
	block170TimeISO = "2009-01-12T03:30:25Z"
)

// TestMainnetMinerFlows indexes the real mainnet blocks 0–14131 from a real btcd (with --txindex) and checks
// every miner-flow export at both levels against a plain reference implementation of the definitions,
// computed here from the raw block file with btcd's wire decoder and its own script and UTXO maps.
func TestMainnetMinerFlows(t *testing.T) {
	n := chaintest.StartMainnet(t)
	dir := t.TempDir()
	mustRun(t, append([]string{"index", "--quiet"}, nodeArgs(n, dir)...)...)
	ref := buildFlowRef(t, index.MainnetBlocks(t))
	for l := range 2 {
		rows, out, internal := 0, int64(0), int64(0)
		for i := range ref.txs {
			if f := ref.txs[i].flows[l]; f.fromMiner > 0 {
				rows, out, internal = rows+1, out+f.outflow, internal+f.internal
			}
		}
		t.Logf("reference %d-hop: %d spending txs, outflow %d sat, internal %d sat, reserve at tip %d sat",
			l, rows, out, internal, ref.blocks[len(ref.blocks)-1].reserve[l])
	}

	t.Run("price file", func(t *testing.T) {
		testOutflowPrices(t, dir)
	})
	t.Run("block 170 is the first outflow", func(t *testing.T) {
		testBlock170Row(t, dir, ref)
	})
	for hops := range 2 {
		t.Run(fmt.Sprintf("tx rows hops %d", hops), func(t *testing.T) {
			testOutflowTxRows(t, dir, ref, hops)
		})
		t.Run(fmt.Sprintf("daily series hops %d", hops), func(t *testing.T) {
			testOutflowDaily(t, dir, ref, hops)
		})
		t.Run(fmt.Sprintf("reserve hops %d", hops), func(t *testing.T) {
			testReserve(t, dir, ref, hops)
		})
	}
	t.Run("flows --txid", func(t *testing.T) {
		testFlowsTxID(t, dir, ref)
	})
	t.Run("exports byte-identical", func(t *testing.T) {
		for _, args := range [][]string{{"--series", "daily"}, {"--tx", "--hops", "1"}} {
			args = append([]string{"outflows", "--index", dir, "--csv"}, args...)
			a, b := mustRun(t, args...).Stdout, mustRun(t, args...).Stdout
			if a != b {
				t.Fatalf("two runs of %v differ", args)
			}
			if recs := readFlowCSV(t, a); len(recs) < 2 || !slices.Contains(recs[0], "outflow_sat") {
				t.Fatalf("%v: no header row or no rows: %v", args, recs[0])
			}
		}
	})
	t.Run("labels", func(t *testing.T) {
		testOutflowLabels(t, dir, ref)
	})
}

// The reference implementation: the miner-flow definitions of issue 4 (README, "Miner flows") written out
// plainly, sharing no code with index/ or analysis/.

// notMinerLevel is the level of an output of no miner script.
const notMinerLevel = -1

// refOutput is one unspent output of the reference's full UTXO map.
type refOutput struct {
	value  int64
	script []byte
	level  int8  // 0, 1 or notMinerLevel: membership of the paid script when the output was created
	origin int32 // for level-0 outputs: the coinbase height owning it; -1 otherwise
}

// refFlow is one transaction's flow at one level.
type refFlow struct {
	fromMiner, otherInput, toMiner, toExternal, fee int64
	outflow, internal, inflow, minerFee             int64
}

// refTx is a non-coinbase transaction that spends at least one 1-hop (so possibly 0-hop) miner output.
type refTx struct {
	txid      string
	height    int32
	time      int64
	tx        *wire.MsgTx
	ins       []refOutput // the outputs it spends
	outLevels []int8
	flows     [2]refFlow
}

// refBlock is one block's totals per level, and the reserve after it, summed from the UTXO map.
type refBlock struct {
	height  int32
	time    int64
	revenue int64
	coinbaseInflow, otherInflow, outflow, internal, minerFee, lost,
	reserve [2]int64
	spendingTxs [2]int64
}

func (b *refBlock) netChange(l int) int64 {
	return b.coinbaseInflow[l] + b.otherInflow[l] - b.outflow[l] - b.minerFee[l] - b.lost[l]
}

// flowRef is the reference's result: every block's totals and every transaction spending a miner output.
type flowRef struct {
	blocks []refBlock
	txs    []refTx
	byID   map[string]*refTx
}

// refState is the reference's walk over the chain.
type refState struct {
	utxo    map[wire.OutPoint]refOutput
	s0      map[string]int32 // 0-hop miner script -> height of the first coinbase paying it
	s1      map[string]bool  // scripts made 1-hop by a spend of a 0-hop miner output
	reserve [2]int64         // Σ unspent miner outputs, maintained on every add and removal
}

// level is the membership of script now: 0, 1 or notMinerLevel.
func (s *refState) level(script []byte) (int8, int32) {
	if txscript.IsUnspendable(script) {
		return notMinerLevel, -1
	}
	if origin, ok := s.s0[string(script)]; ok {
		return 0, origin
	}
	if s.s1[string(script)] {
		return 1, -1
	}
	return notMinerLevel, -1
}

// add adds an output, returning the one it overwrites (a BIP30 duplicate coinbase) if any.
func (s *refState) add(op wire.OutPoint, o refOutput) (refOutput, bool) {
	old, dup := s.utxo[op]
	if dup {
		s.remove(op, old)
	}
	s.utxo[op] = o
	for l := range 2 {
		if isMinerAt(o.level, l) {
			s.reserve[l] += o.value
		}
	}
	return old, dup
}

func (s *refState) remove(op wire.OutPoint, o refOutput) {
	delete(s.utxo, op)
	for l := range 2 {
		if isMinerAt(o.level, l) {
			s.reserve[l] -= o.value
		}
	}
}

func buildFlowRef(t *testing.T, blocks []*wire.MsgBlock) *flowRef {
	t.Helper()
	s := &refState{utxo: map[wire.OutPoint]refOutput{}, s0: map[string]int32{}, s1: map[string]bool{}}
	ref := &flowRef{byID: map[string]*refTx{}}
	for h, blk := range blocks {
		b := refBlock{height: int32(h), time: blk.Header.Timestamp.Unix()}
		s.coinbase(int32(h), blk.Transactions[0], &b)
		for _, tx := range blk.Transactions[1:] {
			rt, err := s.spend(tx, &b)
			if err != nil {
				t.Fatalf("height %d tx %v: %v", h, tx.TxHash(), err)
			}
			if rt != nil {
				rt.height, rt.time = int32(h), b.time
				ref.txs = append(ref.txs, *rt)
			}
		}
		b.reserve = s.reserve
		if h > 0 {
			for l := range 2 { // the reference's two ways to the reserve must agree
				if prev := ref.blocks[h-1].reserve[l]; prev+b.netChange(l) != b.reserve[l] {
					t.Fatalf("reference broken at %d, level %d: reserve %d + net %d != %d", h, l, prev,
						b.netChange(l), b.reserve[l])
				}
			}
		}
		ref.blocks = append(ref.blocks, b)
	}
	for i := range ref.txs {
		ref.byID[ref.txs[i].txid] = &ref.txs[i]
	}
	return ref
}

// coinbase makes the scripts of cb's non-zero spendable outputs 0-hop and adds its outputs. The genesis
// coinbase is not spendable: it adds nothing.
func (s *refState) coinbase(h int32, cb *wire.MsgTx, b *refBlock) {
	for _, out := range cb.TxOut {
		b.revenue += out.Value
	}
	if h == 0 {
		return
	}
	for _, out := range cb.TxOut {
		if _, ok := s.s0[string(out.PkScript)]; !ok && out.Value > 0 && !txscript.IsUnspendable(out.PkScript) {
			s.s0[string(out.PkScript)] = h
		}
	}
	txid := cb.TxHash()
	for i, out := range cb.TxOut {
		if txscript.IsUnspendable(out.PkScript) {
			continue
		}
		o := refOutput{value: out.Value, script: out.PkScript, level: 0, origin: h}
		if out.Value == 0 { // not a miner output by itself, but it may pay a miner script
			o.level, _ = s.level(out.PkScript)
		}
		old, dup := s.add(wire.OutPoint{Hash: txid, Index: uint32(i)}, o)
		for l := range 2 {
			if isMinerAt(o.level, l) {
				b.coinbaseInflow[l] += o.value
			}
			if dup && isMinerAt(old.level, l) { // lost without a spend
				b.lost[l] += old.value
			}
		}
	}
}

// spend applies one non-coinbase transaction: it returns it when it spends a miner output at level 1.
func (s *refState) spend(tx *wire.MsgTx, b *refBlock) (*refTx, error) {
	rt := &refTx{txid: tx.TxHash().String(), tx: tx}
	spends0 := false
	for _, in := range tx.TxIn {
		o, ok := s.utxo[in.PreviousOutPoint]
		if !ok {
			return nil, fmt.Errorf("input %v is not in the reference's UTXO map", in.PreviousOutPoint)
		}
		s.remove(in.PreviousOutPoint, o)
		rt.ins = append(rt.ins, o)
		spends0 = spends0 || o.level == 0
	}
	if spends0 { // every script it pays is 1-hop from this transaction on, its own outputs included
		for _, out := range tx.TxOut {
			if !txscript.IsUnspendable(out.PkScript) {
				s.s1[string(out.PkScript)] = true
			}
		}
	}
	txid := tx.TxHash()
	for i, out := range tx.TxOut {
		level, origin := s.level(out.PkScript)
		rt.outLevels = append(rt.outLevels, level)
		if !txscript.IsUnspendable(out.PkScript) {
			s.add(wire.OutPoint{Hash: txid, Index: uint32(i)}, refOutput{value: out.Value,
				script: out.PkScript, level: level, origin: origin})
		}
	}
	for l := range 2 {
		f, err := refClassify(l, rt.ins, tx.TxOut, rt.outLevels)
		if err != nil {
			return nil, err
		}
		rt.flows[l] = f
		b.otherInflow[l] += f.inflow
		b.outflow[l] += f.outflow
		b.internal[l] += f.internal
		b.minerFee[l] += f.minerFee
		if f.fromMiner > 0 {
			b.spendingTxs[l]++
		}
	}
	if rt.flows[1].fromMiner == 0 {
		return nil, nil
	}
	return rt, nil
}

func isMinerAt(level int8, l int) bool { return level != notMinerLevel && int(level) <= l }

// refClassify is the per-transaction definition at level l.
func refClassify(l int, ins []refOutput, outs []*wire.TxOut, outLevels []int8) (refFlow, error) {
	var f refFlow
	for _, in := range ins {
		if isMinerAt(in.level, l) {
			f.fromMiner += in.value
		} else {
			f.otherInput += in.value
		}
	}
	for i, out := range outs {
		if isMinerAt(outLevels[i], l) {
			f.toMiner += out.Value
		} else {
			f.toExternal += out.Value
		}
	}
	f.fee = f.fromMiner + f.otherInput - f.toMiner - f.toExternal
	if f.fee < 0 {
		return f, fmt.Errorf("outputs exceed inputs by %d", -f.fee)
	}
	f.outflow = min(f.toExternal, f.fromMiner)
	f.internal = min(f.toMiner, f.fromMiner-f.outflow)
	f.inflow = f.toMiner - f.internal
	f.minerFee = f.fromMiner - f.outflow - f.internal
	return f, nil
}

// refDay is one UTC day of the reference's daily series.
type refDay struct {
	start                                                          int64
	blocks                                                         int
	outflow, internal, inflow, coinbaseInflow, minerFee, lost, net int64
	reserve, revenue, spendingTxs                                  int64
	multiple, ratio                                                float64 // NaN when undefined
	maDays                                                         int
}

// daily sums the blocks per UTC day of their own timestamps, every day from the first block's to the last
// block's included.
func (r *flowRef) daily(l int) []refDay {
	const daySecs = 86400
	first, last := r.blocks[0].time, r.blocks[0].time
	for _, b := range r.blocks {
		first, last = min(first, b.time), max(last, b.time)
	}
	first -= first % daySecs
	days := make([]refDay, (last-first)/daySecs+1)
	for d := range days {
		days[d].start = first + int64(d)*daySecs
	}
	for i := range r.blocks {
		b := &r.blocks[i]
		d := &days[(b.time-first)/daySecs]
		d.blocks++
		d.outflow += b.outflow[l]
		d.internal += b.internal[l]
		d.inflow += b.coinbaseInflow[l] + b.otherInflow[l]
		d.coinbaseInflow += b.coinbaseInflow[l]
		d.minerFee += b.minerFee[l]
		d.lost += b.lost[l]
		d.net += b.netChange(l)
		d.revenue += b.revenue
		d.spendingTxs += b.spendingTxs[l]
	}
	var reserve int64
	for d := range days {
		reserve += days[d].net
		days[d].reserve = reserve
		var sum int64
		k := min(365, d+1)
		for _, x := range days[d+1-k : d+1] {
			sum += x.outflow
		}
		days[d].maDays = k
		days[d].multiple = math.NaN()
		if sum > 0 {
			days[d].multiple = float64(days[d].outflow) / (float64(sum) / float64(k))
		}
		days[d].ratio = math.NaN()
		if days[d].revenue > 0 {
			days[d].ratio = float64(days[d].outflow) / float64(days[d].revenue)
		}
	}
	return days
}

// refSplit allocates outflow over the external values in proportion, whole satoshis, largest remainder,
// ties to the lower index.
func refSplit(outflow int64, ext []int64) []int64 {
	parts := make([]int64, len(ext))
	var total int64
	for _, v := range ext {
		total += v
	}
	if total == 0 {
		return parts
	}
	rems := make([]*big.Int, len(ext))
	left := outflow
	for i, v := range ext {
		q, m := new(big.Int).QuoRem(new(big.Int).Mul(big.NewInt(outflow), big.NewInt(v)), big.NewInt(total),
			new(big.Int))
		parts[i], rems[i] = q.Int64(), m
		left -= parts[i]
	}
	order := make([]int, len(ext))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return rems[b].Cmp(rems[a]) })
	for _, i := range order[:left] {
		parts[i]++
	}
	return parts
}

// The checks.

func readFlowCSV(t *testing.T, s string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatalf("parse CSV: %v\n%s", err, s)
	}
	if len(recs) == 0 {
		t.Fatal("empty CSV: no header row")
	}
	return recs
}

// csvColumns maps each header name to its column, failing when one of want is missing.
func csvColumns(t *testing.T, header []string, want ...string) map[string]int {
	t.Helper()
	col := map[string]int{}
	for i, name := range header {
		col[name] = i
	}
	for _, name := range want {
		if _, ok := col[name]; !ok {
			t.Fatalf("CSV header %v has no column %q", header, name)
		}
	}
	return col
}

var txRowColumns = []string{"txid", "height", "time", "from_miner_sat", "other_input_sat", "to_miner_sat",
	"to_external_sat", "fee_sat", "outflow_sat", "internal_sat", "pool"}

func testBlock170Row(t *testing.T, dir string, ref *flowRef) {
	// The reference agrees with the published facts too.
	if rt := ref.txs[0]; rt.txid != block170TxID || rt.flows[0].outflow != 10e8 || rt.flows[0].internal != 40e8 {
		t.Fatalf("the reference's first spending tx is %s at %d with %+v", rt.txid, rt.height, rt.flows[0])
	}
	recs := readFlowCSV(t, mustRun(t, "outflows", "--index", dir, "--tx", "--csv", "--to", "170").Stdout)
	if strings.Join(recs[0], ",") != strings.Join(txRowColumns, ",") {
		t.Fatalf("header %v, want %v", recs[0], txRowColumns)
	}
	want := []string{block170TxID, "170", block170TimeISO, "5000000000", "0", "4000000000", "1000000000", "0",
		"1000000000", "4000000000", "unknown"}
	if len(recs) != 2 || !slices.Equal(recs[1], want) {
		t.Fatalf("outflows --tx --to 170:\n%v\nwant exactly\n%v", recs[1:], want)
	}
}

func (r *flowRef) txRow(rt *refTx, l int) []string {
	f := rt.flows[l]
	return []string{rt.txid, itoa(int64(rt.height)), isoTimeUTC(unixTime(rt.time)), itoa(f.fromMiner),
		itoa(f.otherInput), itoa(f.toMiner), itoa(f.toExternal), itoa(f.fee), itoa(f.outflow), itoa(f.internal),
		"unknown"}
}

func testOutflowTxRows(t *testing.T, dir string, ref *flowRef, hops int) {
	recs := readFlowCSV(t, mustRun(t, "outflows", "--index", dir, "--tx", "--csv", "--hops", itoa(int64(hops))).Stdout)
	if strings.Join(recs[0], ",") != strings.Join(txRowColumns, ",") {
		t.Fatalf("header %v, want %v", recs[0], txRowColumns)
	}
	var want [][]string
	for i := range ref.txs {
		if ref.txs[i].flows[hops].fromMiner > 0 {
			want = append(want, ref.txRow(&ref.txs[i], hops))
		}
	}
	got := recs[1:]
	gotByID := map[string][]string{}
	for _, g := range got {
		gotByID[g[0]] = g
	}
	bad := 0
	for i, w := range want {
		g, ok := gotByID[w[0]]
		switch {
		case !ok:
			t.Errorf("hops %d: tx %s (height %s) missing; want %v", hops, w[0], w[1], w)
		case !slices.Equal(g, w):
			for c := range w {
				if g[c] != w[c] {
					t.Errorf("hops %d: tx %s (height %s) %s = %q, want %q", hops, w[0], w[1], txRowColumns[c],
						g[c], w[c])
				}
			}
		case i < len(got) && got[i][0] != w[0]:
			t.Errorf("hops %d: row %d is %s, want %s (rows in chain order)", hops, i, got[i][0], w[0])
		default:
			continue
		}
		if bad++; bad >= 20 {
			t.Fatalf("hops %d: stopping after %d discrepancies", hops, bad)
		}
	}
	if len(got) != len(want) {
		wantIDs := map[string]bool{}
		for _, w := range want {
			wantIDs[w[0]] = true
		}
		for _, g := range got {
			if !wantIDs[g[0]] {
				t.Errorf("hops %d: unexpected row %v", hops, g)
			}
		}
		t.Fatalf("hops %d: %d rows, want %d", hops, len(got), len(want))
	}
}

var dailyColumns = []string{"period", "start", "blocks", "outflow_sat", "internal_sat", "inflow_sat",
	"coinbase_inflow_sat", "miner_fee_sat", "lost_sat", "reserve_sat", "net_change_sat", "revenue_sat",
	"outflow_multiple", "ma_days", "outflow_revenue_ratio", "spending_txs"}

func testOutflowDaily(t *testing.T, dir string, ref *flowRef, hops int) {
	recs := readFlowCSV(t, mustRun(t, "outflows", "--index", dir, "--series", "daily", "--csv", "--hops",
		itoa(int64(hops))).Stdout)
	col := csvColumns(t, recs[0], dailyColumns...)
	want := ref.daily(hops)
	if len(recs)-1 != len(want) {
		t.Fatalf("hops %d: %d days, want %d (every day from the first block's to the last's)", hops,
			len(recs)-1, len(want))
	}
	bad := 0
	for i, w := range want {
		row := recs[i+1]
		day := unixTime(w.start).UTC()
		ints := map[string]int64{"blocks": int64(w.blocks), "outflow_sat": w.outflow, "internal_sat": w.internal,
			"inflow_sat": w.inflow, "coinbase_inflow_sat": w.coinbaseInflow, "miner_fee_sat": w.minerFee,
			"lost_sat": w.lost, "reserve_sat": w.reserve, "net_change_sat": w.net, "revenue_sat": w.revenue,
			"spending_txs": w.spendingTxs, "ma_days": int64(w.maDays)}
		var errs []string
		if row[col["period"]] != day.Format("2006-01-02") || row[col["start"]] != isoTimeUTC(day) {
			errs = append(errs, fmt.Sprintf("period %s start %s", row[col["period"]], row[col["start"]]))
		}
		for _, name := range dailyColumns {
			if v, ok := ints[name]; ok && row[col[name]] != itoa(v) {
				errs = append(errs, fmt.Sprintf("%s = %s, want %d", name, row[col[name]], v))
			}
		}
		for name, v := range map[string]float64{"outflow_multiple": w.multiple, "outflow_revenue_ratio": w.ratio} {
			if !csvFloatMatches(row[col[name]], v) {
				errs = append(errs, fmt.Sprintf("%s = %q, want %v", name, row[col[name]], v))
			}
		}
		if len(errs) > 0 {
			t.Errorf("hops %d day %s: %s", hops, day.Format("2006-01-02"), strings.Join(errs, "; "))
			if bad++; bad >= 20 {
				t.Fatalf("hops %d: stopping after %d bad days", hops, bad)
			}
		}
	}
}

// csvFloatMatches reports whether a CSV field holds want (empty for NaN), to 1e-12 relative.
func csvFloatMatches(field string, want float64) bool {
	if math.IsNaN(want) {
		return field == ""
	}
	got, err := strconv.ParseFloat(field, 64)
	return err == nil && closeRel(got, want, 1e-12)
}

func testReserve(t *testing.T, dir string, ref *flowRef, hops int) {
	tip := int32(len(ref.blocks) - 1)
	for _, at := range []int32{tip, 5000, 170, 169} {
		args := []string{"reserve", "--index", dir, "--json", "--hops", itoa(int64(hops))}
		if at != tip {
			args = append(args, "--at-height", itoa(int64(at)))
		}
		var got reserveJSON
		decodeJSON(t, mustRun(t, args...).Stdout, &got)
		if want := ref.blocks[at].reserve[hops]; got.Height != at || got.ReserveSat != want {
			t.Errorf("reserve --hops %d after %d: height %d, %d sat; want %d sat", hops, at, got.Height,
				got.ReserveSat, want)
		}
	}

	// --at DATE: after the last block timestamped before that day's 00:00 UTC.
	at := time.Date(2009, 1, 13, 0, 0, 0, 0, time.UTC).Unix()
	last := int32(-1)
	for i := range ref.blocks {
		if ref.blocks[i].time < at {
			last = int32(i)
		}
	}
	var got reserveJSON
	decodeJSON(t, mustRun(t, "reserve", "--index", dir, "--json", "--hops", itoa(int64(hops)), "--at",
		"2009-01-13").Stdout, &got)
	if want := ref.blocks[last].reserve[hops]; got.Height != last || got.ReserveSat != want {
		t.Errorf("reserve --hops %d --at 2009-01-13: height %d, %d sat; want height %d, %d sat", hops,
			got.Height, got.ReserveSat, last, want)
	}
}

func testFlowsTxID(t *testing.T, dir string, ref *flowRef) {
	var got flowsJSON
	decodeJSON(t, mustRun(t, "flows", "--index", dir, "--txid", block170TxID, "--json").Stdout, &got)
	if got.Height != 170 || len(got.Inputs) != 1 || len(got.Outputs) != 2 || len(got.Levels) != 2 {
		t.Fatalf("flows %s: %+v", block170TxID, got)
	}
	in := got.Inputs[0]
	if in.PrevOut != block9Coinbase+":0" || in.Miner != "0-hop" || in.Origin == nil || *in.Origin != 9 ||
		in.ValueSat == nil || *in.ValueSat != 50e8 {
		t.Errorf("input 0: %+v (origin %v), want the 0-hop coinbase output of block 9 worth 50 BTC", in, in.Origin)
	}
	if o := got.Outputs[0]; o.ValueSat != 10e8 || o.Miner != "1-hop" || o.Address != halAddress {
		t.Errorf("output 0: %+v, want 10 BTC to Hal's 1-hop script %s", o, halAddress)
	}
	if o := got.Outputs[1]; o.ValueSat != 40e8 || o.Miner != "0-hop" {
		t.Errorf("output 1: %+v, want 40 BTC back to the 0-hop miner script", o)
	}
	if l := got.Levels[0]; l.OutflowSat != 10e8 || l.InternalSat != 40e8 {
		t.Errorf("level 0: %+v, want outflow 10 BTC, internal 40 BTC", l)
	}
	if l := got.Levels[1]; l.OutflowSat != 0 || l.InternalSat != 50e8 || l.ToMinerSat != 50e8 {
		t.Errorf("level 1: %+v, want outflow 0, internal 50 BTC", l)
	}

	// A sample of spending transactions explained input by input against the reference.
	for i := 0; i < len(ref.txs); i += max(1, len(ref.txs)/25) {
		checkFlowsTx(t, dir, &ref.txs[i])
	}
}

func levelText(l int8) string {
	if l == notMinerLevel {
		return ""
	}
	return fmt.Sprintf("%d-hop", l)
}

func checkFlowsTx(t *testing.T, dir string, rt *refTx) {
	t.Helper()
	var got flowsJSON
	decodeJSON(t, mustRun(t, "flows", "--index", dir, "--txid", rt.txid, "--json").Stdout, &got)
	if got.Height != rt.height || len(got.Inputs) != len(rt.ins) || len(got.Outputs) != len(rt.outLevels) ||
		len(got.Levels) != 2 {
		t.Errorf("flows %s: %+v", rt.txid, got)
		return
	}
	for i, in := range rt.ins {
		g := got.Inputs[i]
		ok := g.PrevOut == rt.tx.TxIn[i].PreviousOutPoint.String() && g.Miner == levelText(in.level) &&
			g.ValueSat != nil && *g.ValueSat == in.value
		if in.level == 0 { // a 0-hop output's origin is unambiguous: its coinbase, or its script's first
			ok = ok && g.Origin != nil && *g.Origin == in.origin
		}
		if !ok {
			t.Errorf("flows %s input %d: %+v (origin %v); want %s, %d sat, origin %d", rt.txid, i, g,
				g.Origin, levelText(in.level), in.value, in.origin)
		}
	}
	for i, l := range rt.outLevels {
		if g := got.Outputs[i]; g.Miner != levelText(l) || g.ValueSat != rt.tx.TxOut[i].Value {
			t.Errorf("flows %s output %d: %+v; want %q, %d sat", rt.txid, i, g, levelText(l), rt.tx.TxOut[i].Value)
		}
	}
	for l := range 2 {
		g, w := got.Levels[l], rt.flows[l]
		if g.FromMinerSat != w.fromMiner || g.ToMinerSat != w.toMiner || g.ToExternalSat != w.toExternal ||
			g.OutflowSat != w.outflow || g.InternalSat != w.internal || g.InflowSat != w.inflow ||
			g.FeeSat == nil || *g.FeeSat != w.fee || g.OtherInputSat == nil || *g.OtherInputSat != w.otherInput {
			t.Errorf("flows %s level %d: %+v; want %+v", rt.txid, l, g, w)
		}
	}
}

func testOutflowLabels(t *testing.T, dir string, ref *flowRef) {
	file := filepath.Join(t.TempDir(), "labels.csv")
	if err := os.WriteFile(file, []byte("address,label\n"+halAddress+",hal\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for hops := range 2 {
		recs := readFlowCSV(t, mustRun(t, "outflows", "--index", dir, "--tx", "--csv", "--hops", itoa(int64(hops)),
			"--labels", file).Stdout)
		col := csvColumns(t, recs[0], "txid", "outflow_sat", "label_hal_sat", "label_unlabelled_sat")
		seen170 := false
		for _, row := range recs[1:] {
			rt := ref.byID[row[col["txid"]]]
			if rt == nil {
				t.Fatalf("hops %d: row %v is no spending transaction of the reference", hops, row)
			}
			hal, _ := strconv.ParseInt(row[col["label_hal_sat"]], 10, 64)
			other, _ := strconv.ParseInt(row[col["label_unlabelled_sat"]], 10, 64)
			if out := row[col["outflow_sat"]]; itoa(hal+other) != out {
				t.Errorf("hops %d tx %s: labels %d + %d != outflow %s", hops, rt.txid, hal, other, out)
			}
			if want := refHalOutflow(t, rt, hops); hal != want {
				t.Errorf("hops %d tx %s: label_hal_sat %d, want %d", hops, rt.txid, hal, want)
			}
			if rt.txid == block170TxID {
				seen170 = true
				if want := []int64{1e9, 0}[hops]; hal != want {
					t.Errorf("hops %d: block 170's outflow to hal %d, want %d", hops, hal, want)
				}
			}
		}
		if !seen170 {
			t.Errorf("hops %d: no row for block 170", hops)
		}

		// The daily series splits each day's outflow the same way.
		recs = readFlowCSV(t, mustRun(t, "outflows", "--index", dir, "--series", "daily", "--csv", "--hops",
			itoa(int64(hops)), "--labels", file).Stdout)
		col = csvColumns(t, recs[0], "period", "outflow_sat", "label_hal_sat", "label_unlabelled_sat")
		for _, row := range recs[1:] {
			hal, _ := strconv.ParseInt(row[col["label_hal_sat"]], 10, 64)
			other, _ := strconv.ParseInt(row[col["label_unlabelled_sat"]], 10, 64)
			if out := row[col["outflow_sat"]]; itoa(hal+other) != out {
				t.Errorf("hops %d day %s: labels %d + %d != outflow %s", hops, row[col["period"]], hal, other, out)
			}
		}
	}
}

// refHalOutflow is the part of rt's outflow at level l paid to outputs whose address is Hal's.
func refHalOutflow(t *testing.T, rt *refTx, l int) int64 {
	t.Helper()
	var ext []int64
	var hal []bool
	for i, out := range rt.tx.TxOut {
		if isMinerAt(rt.outLevels[i], l) {
			continue
		}
		ext = append(ext, out.Value)
		_, addrs, _, err := txscript.ExtractPkScriptAddrs(out.PkScript, &chaincfg.MainNetParams)
		hal = append(hal, err == nil && len(addrs) == 1 && addrs[0].EncodeAddress() == halAddress)
	}
	var sum int64
	for i, part := range refSplit(rt.flows[l].outflow, ext) {
		if hal[i] {
			sum += part
		}
	}
	return sum
}

func unixTime(s int64) time.Time { return time.Unix(s, 0).UTC() }

// testOutflowPrices gives `outflows --series daily` a price file with one constant price for every day of
// the chain, 1234.56 USD: each day's outflow_usd, inflow_usd and reserve_usd must then be the satoshi figure
// of the same row times 123456 cents / 1e8, rounded half away from zero (computed here with big.Rat), and
// the Miners' Position Index equals the outflow multiple, the constant price cancelling out (up to the
// rounding to cents).
func testOutflowPrices(t *testing.T, dir string) {
	const cents = 123456
	var b strings.Builder
	b.WriteString("date,price_usd\n")
	for d := time.Date(2009, 1, 3, 0, 0, 0, 0, time.UTC); !d.After(time.Date(2009, 5, 12, 0, 0, 0, 0, time.UTC)); d = d.AddDate(0, 0, 1) {
		fmt.Fprintf(&b, "%s,1234.56\n", d.Format(time.DateOnly))
	}
	prices := filepath.Join(t.TempDir(), "prices.csv")
	if err := os.WriteFile(prices, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	recs := readFlowCSV(t, mustRun(t, "outflows", "--series", "daily", "--csv", "--price", prices, "--index", dir).Stdout)
	col := csvColumns(t, recs[0], "outflow_sat", "inflow_sat", "reserve_sat", "outflow_usd", "inflow_usd",
		"reserve_usd", "mpi", "outflow_multiple")
	usd := func(sat string) string {
		v, err := strconv.ParseInt(sat, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		r := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(v), big.NewInt(cents)), big.NewInt(1e8))
		c := new(big.Rat).Add(r, big.NewRat(1, 2)) // v >= 0: half away from zero is half up
		q := new(big.Int).Quo(c.Num(), c.Denom())
		return fmt.Sprintf("%d.%02d", q.Int64()/100, q.Int64()%100)
	}
	withMPI := 0
	for _, r := range recs[1:] {
		for _, f := range []string{"outflow", "inflow", "reserve"} {
			if got, want := r[col[f+"_usd"]], usd(r[col[f+"_sat"]]); got != want {
				t.Fatalf("%s %s_usd = %s, want %s", r[0], f, got, want)
			}
		}
		mpi, mult := r[col["mpi"]], r[col["outflow_multiple"]]
		if (mpi == "") != (mult == "") {
			t.Fatalf("%s: mpi %q but outflow_multiple %q", r[0], mpi, mult)
		}
		if mpi == "" {
			continue
		}
		x, _ := strconv.ParseFloat(mpi, 64)
		y, _ := strconv.ParseFloat(mult, 64)
		if math.Abs(x-y) > 1e-6*math.Max(1, math.Abs(y)) {
			t.Fatalf("%s: mpi %v, outflow multiple %v", r[0], x, y)
		}
		withMPI++
	}
	if withMPI < 50 {
		t.Fatalf("only %d days have an MPI", withMPI)
	}
	// Without --price nothing in USD is shown.
	plain := readFlowCSV(t, mustRun(t, "outflows", "--series", "daily", "--csv", "--index", dir).Stdout)
	if slices.Contains(plain[0], "outflow_usd") || slices.Contains(plain[0], "mpi") {
		t.Fatalf("USD columns without --price: %v", plain[0])
	}
}
