package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/wire"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/index"
)

// TestVerify checks GET /api/v1/minerscope/verify/{kind} on the full mainnet
// index of blocks 0 to 14131. Each answer is compared field by field with
// what `minerscope verify <kind> --json` prints for the same claim (the
// analysis call the CLI makes, on inputs built as the CLI builds them from
// the block file), and each verdict with what independent facts decide:
// block counts, Garwood intervals and getnetworkhashps recomputed here from
// the block file, the bits of every 2009 block (0x1d00ffff: difficulty 1,
// and no retarget changed it before height 32256), and the miner outflows
// replayed here from the raw blocks (the first spend of a coinbase is block
// 170's, 10 BTC to Hal Finney on 2009-01-12).
func TestVerify(t *testing.T) {
	srv, ts, hdrs, _ := fullServer(t, testTip+1)
	c := &verifyCase{t: t, url: ts.URL, hs: fileHeaders(hdrs)}

	t.Run("hashrate window", func(t *testing.T) { c.with(t).hashrateWindow(hdrs) })
	t.Run("hashrate blocks", func(t *testing.T) { c.with(t).hashrateBlocks(hdrs) })
	t.Run("difficulty", func(t *testing.T) { c.with(t).difficulty(hdrs) })
	t.Run("adjustment", func(t *testing.T) { c.with(t).adjustment(hdrs) })
	t.Run("outflow", func(t *testing.T) { c.with(t).outflow(srv) })
	t.Run("bad input", func(t *testing.T) { testVerifyBadInput(t, ts.URL) })
}

// verifyCase runs verify requests against one server and compares them with
// the CLI's computation.
type verifyCase struct {
	t   *testing.T
	url string
	hs  []analysis.Header // every header, read from the block file
}

func (c *verifyCase) with(t *testing.T) *verifyCase {
	cc := *c
	cc.t = t
	return &cc
}

// fileHeaders converts the block file's headers as the CLI's loadHeaders
// reads them from the index.
func fileHeaders(hdrs []wire.BlockHeader) []analysis.Header {
	hs := make([]analysis.Header, testTip+1)
	for h := range hs {
		hs[h] = analysis.Header{Height: int32(h), Time: hdrs[h].Timestamp.Unix(), Bits: hdrs[h].Bits}
	}
	return hs
}

// check GETs verify/kind with the query, requires a 200 JSON answer equal,
// field by field, to the CLI's result cli (with error cliErr), and the
// verdict want. It returns the decoded answer.
func (c *verifyCase) check(kind string, query url.Values, cli analysis.Verification, cliErr error,
	want analysis.Verdict) analysis.Verification {

	t := c.t
	t.Helper()
	target := c.url + "/api/v1/minerscope/verify/" + kind + "?" + query.Encode()
	status, ctype, body := fetch(t, http.MethodGet, target)
	if status != http.StatusOK || ctype != "application/json" {
		t.Fatalf("GET %s: %d %s: %s", target, status, ctype, body)
	}
	if cliErr != nil {
		t.Fatalf("the CLI's computation for %s failed: %v", target, cliErr)
	}
	wantJSON, err := json.Marshal(cli)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range jsonDiff("", decodeAny(t, body), decodeAny(t, wantJSON)) {
		t.Errorf("GET %s: %s", target, d)
	}
	var v analysis.Verification
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	if v.Verdict != want {
		t.Errorf("GET %s: verdict %s, want %s: %s", target, v.Verdict, want, body)
	}
	return v
}

// decodeAny decodes JSON keeping numbers as written.
func decodeAny(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// jsonDiff lists where the decoded JSON values got and want differ, by path.
func jsonDiff(path string, got, want any) []string {
	gm, gok := got.(map[string]any)
	wm, wok := want.(map[string]any)
	if gok && wok {
		keys := map[string]bool{}
		for k := range gm {
			keys[k] = true
		}
		for k := range wm {
			keys[k] = true
		}
		var sorted []string
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		var out []string
		for _, k := range sorted {
			g, inG := gm[k]
			w, inW := wm[k]
			switch {
			case !inG:
				out = append(out, fmt.Sprintf("%s.%s missing, the CLI has %v", path, k, w))
			case !inW:
				out = append(out, fmt.Sprintf("%s.%s = %v, the CLI has no such field", path, k, g))
			default:
				out = append(out, jsonDiff(path+"."+k, g, w)...)
			}
		}
		return out
	}
	ga, gok := got.([]any)
	wa, wok := want.([]any)
	if gok && wok && len(ga) == len(wa) {
		var out []string
		for i := range ga {
			out = append(out, jsonDiff(fmt.Sprintf("%s[%d]", path, i), ga[i], wa[i])...)
		}
		return out
	}
	if !reflect.DeepEqual(got, want) {
		return []string{fmt.Sprintf("%s = %v, the CLI has %v", path, got, want)}
	}
	return nil
}

// query builds a query from name, value pairs.
func query(kv ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return q
}

func utcDay(y int, m time.Month, d int) int64 { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() }

// garwood95 is the exact 95% interval of a Poisson count n, as a hashrate of
// difficulty-1 blocks over secs seconds.
func garwood95(n int, secs float64) (lo, hi float64) {
	if n > 0 {
		lo = distuv.ChiSquared{K: float64(2 * n)}.Quantile(0.025) / 2 * diff1Work / secs
	}
	hi = distuv.ChiSquared{K: float64(2*n + 2)}.Quantile(0.975) / 2 * diff1Work / secs
	return lo, hi
}

func (c *verifyCase) hashrateWindow(hdrs []wire.BlockHeader) {
	t := c.t
	// window=24h&at=2009-02-01: the blocks stamped in (T-24h, T].
	at := utcDay(2009, 2, 1)
	count := len(blocksIn(hdrs, testTip, at-86400, at))
	est := float64(count) * diff1Work / 86400
	lo, hi := garwood95(count, 86400)
	if !(lo < est && est < hi) || 2*est <= hi {
		t.Fatalf("the test assumes %v lies in (%v, %v) and twice it above", est, lo, hi)
	}
	cli := func(claim string, tol float64) (analysis.Verification, error) {
		f, err := analysis.ParseHashrate(claim)
		if err != nil {
			t.Fatal(err)
		}
		return analysis.VerifyHashrate(analysis.Mainnet, c.hs, f, tol, at, 86400, 0)
	}

	// True: the estimate itself, stated to a thousandth of a MH/s.
	claim := fmt.Sprintf("%.3f MH/s", est/1e6)
	cv, err := cli(claim, 0)
	v := c.check("hashrate", query("claim", claim, "at", "2009-02-01", "window", "24h"), cv, err,
		analysis.VerdictConsistent)
	if v.Span == nil || v.Span.Blocks != count || v.Chain == nil || !relClose(v.Chain.Value, est) ||
		math.Abs(v.Chain.Lo-lo) > 1e-9*lo || math.Abs(v.Chain.Hi-hi) > 1e-9*hi ||
		v.Span.FromTime.Unix() != at-86400 || v.Span.ToTime.Unix() != at {
		t.Errorf("true claim: %+v %+v; want %d blocks, %v in [%v, %v]", v.Chain, v.Span, count, est, lo, hi)
	}

	// False: twice the estimate, above the upper bound; a 2% tolerance
	// cannot save it, but one of 200% can.
	claim = fmt.Sprintf("%.3f MH/s", 2*est/1e6)
	cv, err = cli(claim, 0)
	v = c.check("hashrate", query("claim", claim, "at", "2009-02-01", "window", "24h"), cv, err,
		analysis.VerdictInconsistent)
	if !strings.Contains(v.Off, "above the upper bound") {
		t.Errorf("2x claim: off %q", v.Off)
	}
	cv, err = cli(claim, 2)
	c.check("hashrate", query("claim", claim, "at", "2009-02-01", "window", "24h", "tolerance", "200%"), cv, err,
		analysis.VerdictConsistent)

	// The default window is 7 days ending at the tip's timestamp.
	tipTime := hdrs[testTip].Timestamp.Unix()
	n7 := len(blocksIn(hdrs, testTip, tipTime-7*86400, tipTime))
	claim = fmt.Sprintf("%.4f H/s", float64(n7)*diff1Work/(7*86400))
	f, _ := analysis.ParseHashrate(claim)
	cv, err = analysis.VerifyHashrate(analysis.Mainnet, c.hs, f, 0, tipTime, 7*86400, 0)
	v = c.check("hashrate", query("claim", claim), cv, err, analysis.VerdictConsistent)
	if v.Span == nil || v.Span.Blocks != n7 || v.Span.ToTime.Unix() != tipTime {
		t.Errorf("default window: %+v, want %d blocks ending %d", v.Span, n7, tipTime)
	}

	// Not verifiable: 2010 is after the index's tip (2009-05-12).
	f, _ = analysis.ParseHashrate("7 MH/s")
	cv, err = analysis.VerifyHashrate(analysis.Mainnet, c.hs, f, 0, utcDay(2010, 1, 1), 7*86400, 0)
	v = c.check("hashrate", query("claim", "7 MH/s", "at", "2010-01-01"), cv, err, analysis.VerdictNotVerifiable)
	if v.Chain != nil || v.Reason == "" {
		t.Errorf("after the tip: chain %+v, reason %q", v.Chain, v.Reason)
	}
}

func (c *verifyCase) hashrateBlocks(hdrs []wire.BlockHeader) {
	t := c.t
	// blocks=1008&at=2009-03-15: getnetworkhashps(1008, H) where H is the
	// last block stamped at or before the time.
	at := utcDay(2009, 3, 15)
	end := -1
	for h := 0; h <= testTip; h++ {
		if hdrs[h].Timestamp.Unix() <= at {
			end = h
		}
	}
	core := coreHashPS(hdrs, 1008, end)
	cli := func(claim string) (analysis.Verification, error) {
		f, err := analysis.ParseHashrate(claim)
		if err != nil {
			t.Fatal(err)
		}
		return analysis.VerifyHashrate(analysis.Mainnet, c.hs, f, 0, at, 0, 1008)
	}
	claim := fmt.Sprintf("%.4f H/s", core)
	cv, err := cli(claim)
	v := c.check("hashrate", query("claim", claim, "at", "2009-03-15", "blocks", "1008"), cv, err,
		analysis.VerdictConsistent)
	if v.Chain == nil || !relClose(v.Chain.Value, core) || v.Span.ToHeight != int32(end) ||
		v.Span.FromHeight != int32(end-1008) {
		t.Errorf("blocks=1008: %+v %+v; Core's formula gives %v over %d..%d", v.Chain, v.Span, core, end-1008, end)
	}

	// False: a tenth of it, a thousand miles below any 95% interval of
	// 1008 blocks.
	claim = fmt.Sprintf("%.4f H/s", core/10)
	cv, err = cli(claim)
	c.check("hashrate", query("claim", claim, "at", "2009-03-15", "blocks", "1008"), cv, err,
		analysis.VerdictInconsistent)

	// Not verifiable: no block is stamped before genesis.
	f, _ := analysis.ParseHashrate("7 MH/s")
	cv, err = analysis.VerifyHashrate(analysis.Mainnet, c.hs, f, 0, utcDay(2008, 1, 1), 0, 10)
	c.check("hashrate", query("claim", "7 MH/s", "at", "2008-01-01", "blocks", "10"), cv, err,
		analysis.VerdictNotVerifiable)
}

func (c *verifyCase) difficulty(hdrs []wire.BlockHeader) {
	t := c.t
	// Block 10000 has bits 0x1d00ffff: difficulty exactly 1.
	if hdrs[10000].Bits != 0x1d00ffff {
		t.Fatalf("block 10000 has bits %08x", hdrs[10000].Bits)
	}
	for _, tc := range []struct {
		claim, height string
		want          analysis.Verdict
	}{
		{"1", "10000", analysis.VerdictConsistent},
		{"1.00", "10000", analysis.VerdictConsistent},
		{"1", "0", analysis.VerdictConsistent},
		{"1.01", "10000", analysis.VerdictInconsistent}, // stands for 1.005 to 1.015
		{"2", "10000", analysis.VerdictInconsistent},
		{"155.97T", "14131", analysis.VerdictInconsistent},
		{"1", "20000", analysis.VerdictNotVerifiable}, // above the tip, 14131
	} {
		f, err := analysis.ParseDifficulty(tc.claim)
		if err != nil {
			t.Fatal(err)
		}
		var h int32
		fmt.Sscan(tc.height, &h)
		cv, err := analysis.VerifyDifficulty(c.hs, f, 0, h)
		v := c.check("difficulty", query("claim", tc.claim, "at_height", tc.height), cv, err, tc.want)
		if tc.want != analysis.VerdictNotVerifiable && (v.Chain == nil || v.Chain.Value != 1 || !v.Chain.Exact) {
			t.Errorf("difficulty at %s: chain %+v, want exactly 1", tc.height, v.Chain)
		}
	}
}

func (c *verifyCase) adjustment(hdrs []wire.BlockHeader) {
	t := c.t
	// The retargets of the test chain are heights 2016, 4032, ..., 14112;
	// every block has bits 0x1d00ffff, so each changed the difficulty by 0%.
	retargetDays := map[string]int{}
	for h := 2016; h <= testTip; h += 2016 {
		if hdrs[h].Bits != 0x1d00ffff || hdrs[h-1].Bits != 0x1d00ffff {
			t.Fatalf("the retarget at %d changed bits", h)
		}
		retargetDays[hdrs[h].Timestamp.UTC().Format(time.DateOnly)] = h
	}
	first := hdrs[2016].Timestamp.UTC().Format(time.DateOnly)
	if _, ok := retargetDays["2009-01-03"]; ok {
		t.Fatal("the test assumes no retarget on the genesis day")
	}
	cli := func(date, change string) (analysis.Verification, error) {
		day, err := time.Parse(time.DateOnly, date)
		if err != nil {
			t.Fatal(err)
		}
		var fp *analysis.Figure
		if change != "" {
			f, err := analysis.ParsePercent(change)
			if err != nil {
				t.Fatal(err)
			}
			fp = &f
		}
		return analysis.VerifyAdjustment(analysis.Mainnet, c.hs, day.Unix(), fp, 0)
	}
	for _, tc := range []struct {
		date, change string
		want         analysis.Verdict
	}{
		{first, "", analysis.VerdictConsistent},
		{first, "0%", analysis.VerdictConsistent},
		{first, "-11%", analysis.VerdictInconsistent},
		{"2009-01-03", "", analysis.VerdictInconsistent},  // no retarget that day
		{"2009-06-01", "", analysis.VerdictNotVerifiable}, // after the tip
		{"2009-06-01", "+4.3%", analysis.VerdictNotVerifiable},
	} {
		q := query("date", tc.date)
		if tc.change != "" {
			q.Set("change", tc.change)
		}
		cv, err := cli(tc.date, tc.change)
		v := c.check("adjustment", q, cv, err, tc.want)
		if tc.want == analysis.VerdictConsistent &&
			(v.Span == nil || v.Span.FromHeight != 2016 || v.Chain == nil || v.Chain.Value != 0) {
			t.Errorf("retarget on %s: %+v %+v, want height 2016 by 0%%", tc.date, v.Span, v.Chain)
		}
	}
}

func (c *verifyCase) outflow(srv *Server) {
	t := c.t
	daily := independentDailyOutflow(t)
	// Nothing but coinbases before block 170, stamped 2009-01-12.
	var before btcutil.Amount
	for day, v := range daily {
		if day < utcDay(2009, 1, 12) {
			before += v
		}
	}
	jan12 := daily[utcDay(2009, 1, 12)]
	if before != 0 || jan12 < 10*btcutil.SatoshiPerBitcoin || jan12 == 10*btcutil.SatoshiPerBitcoin {
		t.Fatalf("the replay finds %v before 2009-01-12 and %v on it", before, jan12)
	}

	// The CLI's input: the flows of every full block at the level.
	recs, err := srv.db.BlockFlows(0, testTip)
	if err != nil {
		t.Fatal(err)
	}
	level := func(hops int) []analysis.BlockFlow {
		out := make([]analysis.BlockFlow, len(recs))
		for i := range recs {
			out[i] = recs[i].Flow(hops)
		}
		return out
	}
	cli := func(claim, from, to string, hops int) (analysis.Verification, error) {
		f, err := analysis.ParseAmount(claim)
		if err != nil {
			t.Fatal(err)
		}
		fd, _ := time.Parse(time.DateOnly, from)
		td, _ := time.Parse(time.DateOnly, to)
		return analysis.VerifyOutflow(level(hops), f, 0, fd.Unix(), td.Unix(), hops)
	}
	for _, tc := range []struct {
		claim, from, to, hops string
		want                  analysis.Verdict
		chain                 btcutil.Amount // -1: not verifiable
	}{
		{jan12.String(), "2009-01-12", "2009-01-12", "", analysis.VerdictConsistent, jan12},
		{fmt.Sprintf("%d sat", jan12), "2009-01-12", "2009-01-12", "0", analysis.VerdictConsistent, jan12},
		{"10BTC", "2009-01-12", "2009-01-12", "", analysis.VerdictInconsistent, jan12},
		{"0 BTC", "2009-01-03", "2009-01-11", "", analysis.VerdictConsistent, 0},
		{"1 sat", "2009-01-03", "2009-01-11", "", analysis.VerdictInconsistent, 0},
		{"5000BTC", "2009-05-01", "2009-06-01", "", analysis.VerdictNotVerifiable, -1},
		{"0 BTC", "2009-01-03", "2009-01-11", "1", analysis.VerdictConsistent, 0},
	} {
		hops := 0
		if tc.hops == "1" {
			hops = 1
		}
		q := query("claim", tc.claim, "from", tc.from, "to", tc.to)
		if tc.hops != "" {
			q.Set("hops", tc.hops)
		}
		cv, err := cli(tc.claim, tc.from, tc.to, hops)
		v := c.check("outflow", q, cv, err, tc.want)
		switch {
		case tc.chain < 0:
			if v.Outflow != nil || v.Reason == "" {
				t.Errorf("outflow %s..%s: %+v, want a reason and no figure", tc.from, tc.to, v)
			}
		case v.Outflow == nil || v.Outflow.ChainSat != tc.chain || v.Outflow.Hops != hops:
			t.Errorf("outflow %s..%s hops %d: %+v, the replay says %d sat", tc.from, tc.to, hops, v.Outflow, tc.chain)
		}
	}

	// An index of headers only cannot answer an outflow claim, but answers
	// the others.
	hts := httptest.NewServer(New(index.NewMainnetTestDB(t, 3000), Options{}).Handler())
	defer hts.Close()
	wantError(t, http.MethodGet, hts.URL+"/api/v1/minerscope/verify/outflow?claim=10BTC&from=2009-01-12&to=2009-01-12",
		http.StatusNotFound)
	var v analysis.Verification
	getJSON(t, hts.URL+"/api/v1/minerscope/verify/difficulty?claim=1&at_height=2999", &v)
	if v.Verdict != analysis.VerdictConsistent {
		t.Errorf("difficulty on headers only: %+v", v)
	}
}

// independentDailyOutflow replays the mainnet test blocks with the README's
// 0-hop definition and sums the outflow of the blocks stamped on each UTC
// day (keyed by the day's start): a transaction spending miner outputs
// sends out min(its outputs to non-miner scripts, the miner value it
// spends). Miner scripts are those a coinbase paid a non-zero spendable
// output; the genesis coinbase pays no miner output.
func independentDailyOutflow(t *testing.T) map[int64]btcutil.Amount {
	t.Helper()
	scripts := map[string]bool{}
	utxos := map[wire.OutPoint]int64{}
	daily := map[int64]btcutil.Amount{}
	for _, blk := range index.MainnetBlocks(t)[1 : testTip+1] {
		day := blk.Header.Timestamp.Unix() / 86400 * 86400
		for i, tx := range blk.Transactions {
			var fromMiner, toExternal int64
			if i > 0 {
				for _, in := range tx.TxIn {
					fromMiner += utxos[in.PreviousOutPoint]
					delete(utxos, in.PreviousOutPoint)
				}
			}
			txid := tx.TxHash()
			for n, out := range tx.TxOut {
				spendable := len(out.PkScript) > 0 && out.PkScript[0] != 0x6a && len(out.PkScript) <= 10000
				if i == 0 && out.Value > 0 && spendable {
					scripts[string(out.PkScript)] = true
				}
				if !scripts[string(out.PkScript)] {
					toExternal += out.Value
				} else if out.Value > 0 {
					utxos[wire.OutPoint{Hash: txid, Index: uint32(n)}] = out.Value
				}
			}
			if fromMiner > 0 {
				daily[day] += btcutil.Amount(min(toExternal, fromMiner))
			}
		}
	}
	return daily
}

// testVerifyBadInput checks that every malformed request is a 400 with a
// message.
func testVerifyBadInput(t *testing.T, base string) {
	for _, p := range []string{
		"foo?claim=1", "HASHRATE?claim=1MH/s", "hashrate%20?claim=1MH/s",
		// hashrate
		"hashrate", "hashrate?claim=", "hashrate?claim=abc", "hashrate?claim=1.1", "hashrate?claim=1e3H/s",
		"hashrate?claim=1,000H/s", "hashrate?claim=1.1mH/s", "hashrate?claim=-1MH/s",
		"hashrate?claim=1MH/s&window=7d&blocks=10", "hashrate?claim=1MH/s&blocks=0",
		"hashrate?claim=1MH/s&blocks=-5", "hashrate?claim=1MH/s&blocks=x", "hashrate?claim=1MH/s&blocks=",
		"hashrate?claim=1MH/s&window=0d", "hashrate?claim=1MH/s&window=bogus", "hashrate?claim=1MH/s&window=",
		"hashrate?claim=1MH/s&at=yesterday", "hashrate?claim=1MH/s&at=",
		"hashrate?claim=0H/s&at=0000-01-01", "hashrate?claim=1MH/s&at=1969-12-31T23:59:59Z&blocks=5", "hashrate?claim=1MH/s&at_height=5",
		"hashrate?claim=1MH/s&foo=1", "hashrate?claim=1MH/s&claim=2MH/s", "hashrate?claim=1MH/s&tolerance=-2%25",
		"hashrate?claim=1MH/s&tolerance=2", "hashrate?claim=1MH/s&tolerance=", "hashrate?claim=1MH/s&date=2009-01-12",
		// difficulty
		"difficulty?claim=1", "difficulty?at_height=5", "difficulty?claim=1&at_height=-1",
		"difficulty?claim=1&at_height=99999999999", "difficulty?claim=1&at_height=abc", "difficulty?claim=1&at_height=",
		"difficulty?claim=1X&at_height=5", "difficulty?claim=1%25&at_height=5", "difficulty?claim=1&at_height=5&at=2009-01-12",
		// adjustment
		"adjustment", "adjustment?change=0%25", "adjustment?date=2009-13-01", "adjustment?date=2009-01-27T00:00:00Z",
		"adjustment?date=", "adjustment?date=2009-01-27&change=11", "adjustment?date=2009-01-27&change=",
		"adjustment?date=2009-01-27&claim=1", "adjustment?date=2009-01-27&date=2009-01-28",
		// outflow
		"outflow?claim=10BTC&to=2009-01-12", "outflow?claim=10BTC&from=2009-01-12",
		"outflow?from=2009-01-12&to=2009-01-12", "outflow?claim=10BTC&from=2009-01-13&to=2009-01-12",
		"outflow?claim=10BTC&from=Jan12&to=2009-01-12", "outflow?claim=10BTC&from=2009-01-12&to=2009-01-12&hops=2",
		"outflow?claim=10&from=2009-01-12&to=2009-01-12", "outflow?claim=0.123456789BTC&from=2009-01-12&to=2009-01-12",
		"outflow?claim=30000000BTC&from=2009-01-12&to=2009-01-12", "outflow?claim=1.5sat&from=2009-01-12&to=2009-01-12",
		"outflow?claim=10BTC&from=2009-01-12&to=2009-01-12&at_height=5",
	} {
		if msg := wantError(t, http.MethodGet, base+"/api/v1/minerscope/verify/"+p, http.StatusBadRequest); msg == "" {
			t.Errorf("verify/%s: no message", p)
		}
	}
}
