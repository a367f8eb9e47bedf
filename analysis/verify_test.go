package analysis

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"gonum.org/v1/gonum/stat/distuv"
)

// verifyWork is the work of every block of mainnet 0–14131 (bits 1d00ffff): 2^256 / (0xffff·2^208 + 1).
const verifyWork = 4295032833

func vday(y int, m time.Month, d int) int64 { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() }

func mustFigure(t *testing.T, parse func(string) (Figure, error), s string) Figure {
	t.Helper()
	f, err := parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// checkResult fails unless v has the verdict and survives JSON (no NaN or Inf anywhere).
func checkResult(t *testing.T, what string, v Verification, err error, want Verdict) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if v.Verdict != want {
		t.Fatalf("%s: verdict %s, want %s: %+v (chain %+v, claimed %+v)", what, v.Verdict, want, v, v.Chain, v.Claimed)
	}
	if _, err := json.Marshal(v); err != nil {
		t.Fatalf("%s: JSON: %v", what, err)
	}
	if want == VerdictNotVerifiable && (v.Reason == "" || v.Chain != nil) {
		t.Fatalf("%s: not verifiable without a reason, or with a chain value: %+v", what, v)
	}
	if want == VerdictInconsistent && v.Off == "" {
		t.Fatalf("%s: inconsistent without saying by how much", what)
	}
}

// TestVerifyHashrateWindow checks window claims on real mainnet headers against Garwood's interval on
// the block count, computed here with gonum's chi-square quantiles.
func TestVerifyHashrateWindow(t *testing.T) {
	hs := loadMainnet(t)
	at := vday(2009, 2, 1)
	const w = 86400
	n := 0
	for _, h := range hs {
		if h.Time > at-w && h.Time <= at {
			n++
		}
	}
	if n == 0 {
		t.Fatal("no block in the test window")
	}
	est := float64(n) * verifyWork / w
	lo := distuv.ChiSquared{K: float64(2 * n)}.Quantile(0.025) / 2 * verifyWork / w
	hi := distuv.ChiSquared{K: float64(2*n + 2)}.Quantile(0.975) / 2 * verifyWork / w
	t.Logf("%d blocks: %v H/s in [%v, %v]", n, est, lo, hi)

	verify := func(text string, tol float64) Verification {
		t.Helper()
		v, err := VerifyHashrate(Mainnet, hs, mustFigure(t, ParseHashrate, text), tol, at, w, 0)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v := verify(fmt.Sprintf("%.3f H/s", est), 0)
	checkResult(t, "estimate", v, nil, VerdictConsistent)
	if v.Span.Blocks != n || !closeTo(v.Chain.Lo, lo, 1e-9) || !closeTo(v.Chain.Hi, hi, 1e-9) ||
		!v.Span.FromTime.Equal(time.Unix(at-w, 0)) || !v.Span.ToTime.Equal(time.Unix(at, 0)) {
		t.Errorf("estimate: %+v %+v", v.Chain, v.Span)
	}

	for _, c := range []struct {
		name   string
		claim  float64
		want   Verdict
		offPct float64 // relative to the bound missed
	}{
		{"twice the upper bound", 2 * hi, VerdictInconsistent, 100},
		{"half the lower bound", lo / 2, VerdictInconsistent, -50},
		{"just inside the upper bound", hi * (1 - 1e-6), VerdictConsistent, 0},
		{"just outside the upper bound", hi * (1 + 1e-6), VerdictInconsistent, 1e-4},
		{"just inside the lower bound", lo * (1 + 1e-6), VerdictConsistent, 0},
		{"just outside the lower bound", lo * (1 - 1e-6), VerdictInconsistent, -1e-4},
	} {
		text := fmt.Sprintf("%.4f H/s", c.claim) // steps of 0.0001 H/s, far below the 1e-6 margins
		v := verify(text, 0)
		checkResult(t, c.name, v, nil, c.want)
		if c.want == VerdictInconsistent && !closeTo(v.OffPct, c.offPct, 1e-3) {
			t.Errorf("%s: off %v%%, want %v%% (%s)", c.name, v.OffPct, c.offPct, v.Off)
		}
	}
	if v := verify(fmt.Sprintf("%.4f H/s", 2*hi), 0); !strings.Contains(v.Off, "100.00% above the upper bound") {
		t.Errorf("off text %q", v.Off)
	}

	// The stated precision counts: a whole number of MH/s just above hi stands for hi when hi is within
	// half a MH/s of it.
	c := math.Floor(hi/1e6) + 1
	want := VerdictInconsistent
	if c*1e6-0.5e6 <= hi {
		want = VerdictConsistent
	}
	checkResult(t, "whole MH/s above hi", verify(fmt.Sprintf("%.0f MH/s", c), 0), nil, want)

	// --tolerance widens the claim: 5% above hi is inconsistent alone, consistent with 10%.
	text := fmt.Sprintf("%.4f H/s", 1.05*hi)
	checkResult(t, "5% above, no tolerance", verify(text, 0), nil, VerdictInconsistent)
	checkResult(t, "5% above, 10% tolerance", verify(text, 0.1), nil, VerdictConsistent)

	// The index ends at 14131: a later time is not verifiable.
	tipTime := hs[len(hs)-1].Time
	v, err := VerifyHashrate(Mainnet, hs, mustFigure(t, ParseHashrate, "7 MH/s"), 0, tipTime+1, w, 0)
	checkResult(t, "after the tip", v, err, VerdictNotVerifiable)
	// A window before genesis holds no block: Garwood's upper bound for a count of 0 is a few hundred
	// kH/s at difficulty 1, far below 1 ZH/s.
	v, err = VerifyHashrate(Mainnet, hs, mustFigure(t, ParseHashrate, "1 ZH/s"), 0, vday(2008, 12, 1), w, 0)
	checkResult(t, "before genesis", v, err, VerdictInconsistent)
	if v.Span.FromHeight != -1 || v.Span.Blocks != 0 {
		t.Errorf("before genesis: span %+v", v.Span)
	}
}

// TestVerifyHashrateBlocks checks --blocks claims against getnetworkhashps's definition and the exact
// chi-square interval of constant-difficulty block intervals, computed here.
func TestVerifyHashrateBlocks(t *testing.T) {
	hs := loadMainnet(t)
	at := vday(2009, 3, 1) + 3600
	end := -1
	for i, h := range hs {
		if h.Time <= at {
			end = i
		}
	}
	const n = 144
	mn, mx := hs[end].Time, hs[end].Time
	for _, h := range hs[end-n : end+1] {
		mn, mx = min(mn, h.Time), max(mx, h.Time)
	}
	est := float64(n) * verifyWork / float64(mx-mn)
	sumAlpha := float64(hs[end].Time-hs[end-n].Time) / verifyWork
	lo := distuv.ChiSquared{K: 2 * n}.Quantile(0.025) / (2 * sumAlpha)
	hi := distuv.ChiSquared{K: 2 * n}.Quantile(0.975) / (2 * sumAlpha)

	v, err := VerifyHashrate(Mainnet, hs, mustFigure(t, ParseHashrate, fmt.Sprintf("%.2f H/s", est)), 0, at, 0, n)
	checkResult(t, "estimate", v, err, VerdictConsistent)
	if !closeTo(v.Chain.Value, est, 1e-12) || !closeTo(v.Chain.Lo, lo, 1e-9) || !closeTo(v.Chain.Hi, hi, 1e-9) ||
		v.Span.ToHeight != int32(end) || v.Span.FromHeight != int32(end-n) || v.Span.Blocks != n {
		t.Errorf("got %+v %+v; want %v in [%v, %v] over %d..%d", v.Chain, v.Span, est, lo, hi, end-n, end)
	}
	v, err = VerifyHashrate(Mainnet, hs, mustFigure(t, ParseHashrate, fmt.Sprintf("%.2f H/s", hi*1.01)), 0, at, 0, n)
	checkResult(t, "1% above", v, err, VerdictInconsistent)
	if !closeTo(v.OffPct, 1, 1e-6) {
		t.Errorf("1%% above: off %v", v.OffPct)
	}
	v, err = VerifyHashrate(Mainnet, hs, mustFigure(t, ParseHashrate, "1 MH/s"), 0, vday(2008, 1, 1), 0, n)
	checkResult(t, "before genesis", v, err, VerdictNotVerifiable)
}

func TestVerifyDifficulty(t *testing.T) {
	hs := loadMainnet(t)
	// Published: difficulty 1 (bits 1d00ffff) until height 32255. Block 32256 has bits 1d00d86a:
	// difficulty 0xffff/0xd86a.
	d32256 := 65535.0 / 55402.0
	synth := []Header{{Height: 32255, Time: 1262152739, Bits: 0x1d00ffff}, {Height: 32256, Time: 1262153464, Bits: 0x1d00d86a}}
	for _, c := range []struct {
		hs     []Header
		claim  string
		tol    float64
		height int32
		want   Verdict
		offPct float64
	}{
		{hs, "1", 0, 100, VerdictConsistent, 0},
		{hs, "1.00", 0, 14131, VerdictConsistent, 0},
		{hs, "1.004", 0, 100, VerdictInconsistent, 0.4},
		{hs, "1.01", 0, 0, VerdictInconsistent, 1},
		{hs, "0.99", 0, 0, VerdictInconsistent, -1},
		{hs, "0.99", 0.02, 0, VerdictConsistent, 0},
		{hs, "1 k", 0, 0, VerdictInconsistent, 99900},
		{hs, "1.00", 0, 14132, VerdictNotVerifiable, 0},
		{synth, "1.18", 0, 32256, VerdictConsistent, 0},
		{synth, "1.183", 0, 32256, VerdictConsistent, 0},
		{synth, "1.1829", 0, 32256, VerdictConsistent, 0},
		{synth, "1.18290", 0, 32256, VerdictConsistent, 0},
		{synth, "1.1828", 0, 32256, VerdictInconsistent, (1.1828/d32256 - 1) * 100},
		{synth, "1.19", 0, 32256, VerdictInconsistent, (1.19/d32256 - 1) * 100},
		{synth, "1.00", 0, 32255, VerdictConsistent, 0},
		{synth, "1.00", 0, 100, VerdictNotVerifiable, 0},
	} {
		what := fmt.Sprintf("%s at %d", c.claim, c.height)
		v, err := VerifyDifficulty(c.hs, mustFigure(t, ParseDifficulty, c.claim), c.tol, c.height)
		checkResult(t, what, v, err, c.want)
		if c.want != VerdictNotVerifiable && (v.Span.FromHeight != c.height || !v.Chain.Exact) {
			t.Errorf("%s: %+v %+v", what, v.Span, v.Chain)
		}
		if !closeTo(v.OffPct, c.offPct, 1e-9) {
			t.Errorf("%s: off %v%%, want %v%%", what, v.OffPct, c.offPct)
		}
	}
	if _, err := VerifyDifficulty(hs, mustFigure(t, ParseDifficulty, "1"), 0, -1); !errors.Is(err, ErrBadVerify) {
		t.Errorf("negative height: %v", err)
	}
}

func TestVerifyAdjustmentMainnet(t *testing.T) {
	hs := loadMainnet(t)
	dayOf := func(h int) int64 { return hs[h].Time - hs[h].Time%86400 }
	boundaryDays := map[int64]bool{}
	for h := 2016; h < len(hs); h += 2016 {
		boundaryDays[dayOf(h)] = true
	}
	pct := func(s string) *Figure { f := mustFigure(t, ParsePercent, s); return &f }

	// Every 2009 retarget left the difficulty at the proof-of-work limit: change 0%.
	v, err := VerifyAdjustment(Mainnet, hs, dayOf(2016), nil, 0)
	checkResult(t, "date of block 2016", v, err, VerdictConsistent)
	if v.Span.FromHeight != 2016 || v.Chain.Value != 0 || len(v.Adjustment.Retargets) != 1 ||
		!v.Adjustment.Retargets[0].Time.Equal(time.Unix(hs[2016].Time, 0)) {
		t.Errorf("block 2016: %+v %+v %+v", v.Span, v.Chain, v.Adjustment)
	}
	v, err = VerifyAdjustment(Mainnet, hs, dayOf(4032), pct("0%"), 0)
	checkResult(t, "0% on the date of 4032", v, err, VerdictConsistent)
	v, err = VerifyAdjustment(Mainnet, hs, dayOf(4032), pct("-11%"), 0)
	checkResult(t, "-11% on the date of 4032", v, err, VerdictInconsistent)
	if v.OffPoints != -11 || !strings.Contains(v.Off, "11.00 percentage points below") {
		t.Errorf("-11%%: off %v %q", v.OffPoints, v.Off)
	}

	// A 2009 date without a retarget: inconsistent, naming the neighbours.
	d := dayOf(3000)
	if boundaryDays[d] {
		t.Fatal("test date has a retarget")
	}
	v, err = VerifyAdjustment(Mainnet, hs, d, nil, 0)
	checkResult(t, "date of block 3000", v, err, VerdictInconsistent)
	if a := v.Adjustment; a.Before == nil || a.Before.Height != 2016 || a.After == nil || a.After.Height != 4032 ||
		!strings.Contains(v.Off, "height 2016") || !strings.Contains(v.Off, "height 4032") {
		t.Errorf("neighbours: %+v %+v %q", a.Before, a.After, v.Off)
	}

	// After the tip's day: not verifiable (the next retarget, 16128, is not indexed).
	tipDay := dayOf(len(hs) - 1)
	v, err = VerifyAdjustment(Mainnet, hs, tipDay+86400, nil, 0)
	checkResult(t, "after the tip", v, err, VerdictNotVerifiable)
	if v.Adjustment.NextHeight != 16128 || !strings.Contains(v.Reason, "16128") {
		t.Errorf("after the tip: %+v %q", v.Adjustment, v.Reason)
	}
	// Before genesis: there was no retarget.
	v, err = VerifyAdjustment(Mainnet, hs, vday(2008, 10, 31), nil, 0)
	checkResult(t, "before genesis", v, err, VerdictInconsistent)
	if v.Adjustment.Before != nil || v.Adjustment.After.Height != 2016 {
		t.Errorf("before genesis: %+v", v.Adjustment)
	}
	if _, err := VerifyAdjustment(Mainnet, hs, dayOf(2016)+1, nil, 0); !errors.Is(err, ErrBadVerify) {
		t.Errorf("date not at midnight: %v", err)
	}
	reg := Regtest
	v, err = VerifyAdjustment(reg, hs[:10], dayOf(5), nil, 0)
	checkResult(t, "regtest", v, err, VerdictInconsistent)
}

// TestVerifyAdjustmentChanges uses a chain of 10-block epochs whose difficulty rises to 0xffff/0xd86a and
// falls back, three hours a block, so retargets land at 06:00 on the second day and 12:00 on the third.
func TestVerifyAdjustmentChanges(t *testing.T) {
	p := Mainnet
	p.RetargetInterval = 10
	t0 := vday(2020, 1, 1)
	var hs []Header
	for h := range int32(25) {
		bits := uint32(0x1d00ffff)
		if h >= 10 && h < 20 {
			bits = 0x1d00d86a
		}
		hs = append(hs, Header{Height: h, Time: t0 + int64(h)*3*3600, Bits: bits})
	}
	up := (65535.0/55402.0 - 1) * 100   // +18.2899…%
	down := (55402.0/65535.0 - 1) * 100 // -15.4620…%
	pct := func(s string) *Figure { f := mustFigure(t, ParsePercent, s); return &f }
	for _, c := range []struct {
		day    int64
		change *Figure
		tol    float64
		want   Verdict
		chain  float64
		height int32
	}{
		{vday(2020, 1, 2), nil, 0, VerdictConsistent, up, 10},
		{vday(2020, 1, 2), pct("+18%"), 0, VerdictConsistent, up, 10},
		{vday(2020, 1, 2), pct("+18.3%"), 0, VerdictConsistent, up, 10},
		{vday(2020, 1, 2), pct("18.29%"), 0, VerdictConsistent, up, 10},
		{vday(2020, 1, 2), pct("+18.0%"), 0, VerdictInconsistent, up, 10},
		{vday(2020, 1, 2), pct("+18.0%"), 0.02, VerdictConsistent, up, 10},
		{vday(2020, 1, 2), pct("-18%"), 0, VerdictInconsistent, up, 10},
		{vday(2020, 1, 3), pct("-15.5%"), 0, VerdictConsistent, down, 20},
		{vday(2020, 1, 3), pct("-15.46%"), 0, VerdictConsistent, down, 20},
		{vday(2020, 1, 3), pct("-15.47%"), 0, VerdictInconsistent, down, 20},
		{vday(2020, 1, 1), nil, 0, VerdictInconsistent, 0, 0},
		{vday(2020, 1, 4), nil, 0, VerdictNotVerifiable, 0, 0}, // the tip, 24, is stamped 2020-01-04T00:00
	} {
		what := fmt.Sprintf("%s %v", time.Unix(c.day, 0).UTC().Format(time.DateOnly), c.change)
		v, err := VerifyAdjustment(p, hs, c.day, c.change, c.tol)
		checkResult(t, what, v, err, c.want)
		if c.height > 0 && (!closeTo(v.Chain.Value, c.chain, 1e-12) || v.Span.FromHeight != c.height) {
			t.Errorf("%s: chain %+v span %+v, want %v at %d", what, v.Chain, v.Span, c.chain, c.height)
		}
		if c.want == VerdictInconsistent && c.change != nil && math.Abs(v.OffPoints-(c.change.Value-c.chain)) > 1e-9 {
			t.Errorf("%s: off %v points", what, v.OffPoints)
		}
	}
}

func TestVerifyOutflow(t *testing.T) {
	t0 := vday(2021, 3, 1)
	var blocks []BlockFlow
	for h := range int32(60) { // one block every 2 h: 12 a day, from 2021-03-01 to 2021-03-05T22:00
		blocks = append(blocks, BlockFlow{Height: h, Time: t0 + int64(h)*7200, Outflow: btcutil.Amount(h) * 12345679})
	}
	sum := func(from, to int64) int64 {
		var s int64
		for h := range int64(60) {
			if tm := t0 + h*7200; tm >= from && tm < to+86400 {
				s += h * 12345679
			}
		}
		return s
	}
	from, to := vday(2021, 3, 2), vday(2021, 3, 3)
	chain := sum(from, to) // blocks 12..35
	btc := fmt.Sprintf("%d.%08d BTC", chain/1e8, chain%1e8)
	for _, c := range []struct {
		claim string
		tol   float64
		want  Verdict
	}{
		{btc, 0, VerdictConsistent},
		{fmt.Sprintf("%d sat", chain), 0, VerdictConsistent},
		{fmt.Sprintf("%d sat", chain+1), 0, VerdictInconsistent},
		{fmt.Sprintf("%d sat", chain-1), 0, VerdictInconsistent},
		{fmt.Sprintf("%d BTC", (chain+5e7)/1e8), 0, VerdictConsistent},     // rounded to whole BTC
		{fmt.Sprintf("%d BTC", (chain+5e7)/1e8+1), 0, VerdictInconsistent}, // one BTC off
		{fmt.Sprintf("%d BTC", (chain+5e7)/1e8+1), 0.5, VerdictConsistent},
	} {
		v, err := VerifyOutflow(blocks, mustAmount(t, c.claim), c.tol, from, to, 1)
		checkResult(t, c.claim, v, err, c.want)
		if v.Outflow.ChainSat != btcutil.Amount(chain) || v.Span.FromHeight != 12 || v.Span.ToHeight != 35 ||
			v.Span.Blocks != 24 || v.Outflow.Hops != 1 {
			t.Errorf("%s: %+v %+v", c.claim, v.Outflow, v.Span)
		}
	}
	// Zero outflow on the first day (block 0 pays nothing out but 1..11 do): a day of only block 0 is
	// impossible here, so use a zero-outflow chain.
	zero := make([]BlockFlow, len(blocks))
	copy(zero, blocks)
	for i := range zero {
		zero[i].Outflow = 0
	}
	v, err := VerifyOutflow(zero, mustAmount(t, "1 BTC"), 0, from, to, 0)
	checkResult(t, "1 BTC against 0", v, err, VerdictInconsistent)
	v, err = VerifyOutflow(zero, mustAmount(t, "0 BTC"), 0, from, to, 0)
	checkResult(t, "0 BTC against 0", v, err, VerdictConsistent)

	v, err = VerifyOutflow(blocks, mustAmount(t, "1 BTC"), 0, vday(2021, 3, 5), vday(2021, 3, 5), 0)
	checkResult(t, "last day unfinished", v, err, VerdictNotVerifiable)
	v, err = VerifyOutflow(blocks[5:], mustAmount(t, "1 BTC"), 0, from, to, 0)
	checkResult(t, "not from genesis", v, err, VerdictNotVerifiable)
	v, err = VerifyOutflow(nil, mustAmount(t, "1 BTC"), 0, from, to, 0)
	checkResult(t, "no blocks", v, err, VerdictNotVerifiable)
	for _, c := range []struct{ from, to int64 }{{to, from}, {from + 1, to}, {from, to + 3600}} {
		if _, err := VerifyOutflow(blocks, mustAmount(t, "1 BTC"), 0, c.from, c.to, 0); !errors.Is(err, ErrBadVerify) {
			t.Errorf("days %d..%d: %v", c.from, c.to, err)
		}
	}
	gap := append(append([]BlockFlow{}, blocks[:3]...), blocks[4:]...)
	if _, err := VerifyOutflow(gap, mustAmount(t, "1 BTC"), 0, from, to, 0); !errors.Is(err, ErrNotContiguous) {
		t.Errorf("gap: %v", err)
	}
}

func mustAmount(t *testing.T, s string) AmountFigure {
	t.Helper()
	a, err := ParseAmount(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestVerifyBadRequests(t *testing.T) {
	hs := loadMainnet(t)
	f := mustFigure(t, ParseHashrate, "7 MH/s")
	at := vday(2009, 2, 1)
	for _, c := range []struct {
		tol    float64
		window int64
		blocks int
	}{
		{0, 86400, 144}, {0, 0, 0}, {0, -1, 0}, {-0.01, 86400, 0}, {math.NaN(), 86400, 0}, {math.Inf(1), 0, 144},
	} {
		if _, err := VerifyHashrate(Mainnet, hs, f, c.tol, at, c.window, c.blocks); !errors.Is(err, ErrBadVerify) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	if _, err := VerifyHashrate(Mainnet, nil, f, 0, at, 86400, 0); !errors.Is(err, ErrNeedHeaders) {
		t.Errorf("no headers: %v", err)
	}
}

func ExampleVerifyDifficulty() {
	// Block 32256, the first retarget that changed mainnet's difficulty: bits 1d00d86a, 0xffff/0xd86a.
	hs := []Header{{Height: 32256, Time: 1262153464, Bits: 0x1d00d86a}}
	for _, claim := range []string{"1.18", "1.19"} {
		f, _ := ParseDifficulty(claim)
		v, _ := VerifyDifficulty(hs, f, 0, 32256)
		fmt.Printf("%s: %s (chain %.6f)\n", claim, v.Verdict, v.Chain.Value)
		if v.Off != "" {
			fmt.Println(" ", v.Off)
		}
	}
	// Output:
	// 1.18: consistent (chain 1.182900)
	// 1.19: inconsistent (chain 1.182900)
	//   the claim is 0.6% above the chain value
}
