package analysis

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// sigDiff1Work is the work of a block at difficulty 1 (bits 1d00ffff),
// 2^256/(0xffff·2^208 + 1) rounded down: 0x100010001, the chainwork of
// block 1 as every node reports it.
const sigDiff1Work = 0x100010001

// sigJan3 is 2009-01-03 00:00 UTC, the day of the genesis block.
var sigJan3 = time.Date(2009, 1, 3, 0, 0, 0, 0, time.UTC).Unix()

// sigNaiveMean is the mean of the n values of x ending at i, NaN before a full
// window, summed in the simplest way.
func sigNaiveMean(x []float64, i, n int) float64 {
	if i < n-1 {
		return math.NaN()
	}
	var s float64
	for _, v := range x[i-n+1 : i+1] {
		s += v
	}
	return s / float64(n)
}

// sigNearly reports whether got is within rel of want, NaN matching NaN.
func sigNearly(got, want, rel float64) bool {
	if math.IsNaN(want) || math.IsNaN(got) {
		return math.IsNaN(want) && math.IsNaN(got)
	}
	return math.Abs(got-want) <= rel*math.Abs(want)
}

// TestSignalsHashRibbonsMainnet recomputes the ribbons of the real blocks
// 0..14131 by hand: every block of 2009 has difficulty 1, so a day's
// hashrate is its block count × 0x100010001 / 86,400 (the tip's day over the
// seconds up to the tip), and the averages are plain means.
func TestSignalsHashRibbonsMainnet(t *testing.T) {
	hs := loadMainnet(t)
	tip := hs[len(hs)-1]
	days := int((tip.Time-sigJan3)/86400) + 1
	count := make([]int, days)
	lowest, highest := make([]int32, days), make([]int32, days)
	for i := range lowest {
		lowest[i], highest[i] = -1, -1
	}
	for _, h := range hs {
		if h.Bits != 0x1d00ffff {
			t.Fatalf("block %d has bits %08x, not difficulty 1", h.Height, h.Bits)
		}
		d := (h.Time - sigJan3) / 86400
		count[d]++
		if lowest[d] < 0 || h.Height < lowest[d] {
			lowest[d] = h.Height
		}
		highest[d] = max(highest[d], h.Height)
	}
	rates := make([]float64, days)
	for d := range rates {
		secs := int64(86400)
		if d == days-1 {
			secs = tip.Time + 1 - (sigJan3 + int64(d)*86400)
		}
		rates[d] = float64(count[d]) * sigDiff1Work / float64(secs)
	}

	pts := HashRibbons(Mainnet, hs, math.MinInt64/2, math.MaxInt64/2)
	if len(pts) != days {
		t.Fatalf("got %d days, want %d", len(pts), days)
	}
	for d, pt := range pts {
		ma30, ma60 := sigNaiveMean(rates, d, 30), sigNaiveMean(rates, d, 60)
		if pt.Day != sigJan3+int64(d)*86400 || pt.Blocks != count[d] ||
			pt.FromHeight != lowest[d] || pt.ToHeight != highest[d] ||
			!sigNearly(pt.Hashrate, rates[d], 1e-15) ||
			!sigNearly(pt.MA30, ma30, 1e-12) || !sigNearly(pt.MA60, ma60, 1e-12) {
			t.Fatalf("day %d: got %+v; want blocks %d heights %d..%d rate %g "+
				"ma30 %g ma60 %g", d, pt, count[d], lowest[d], highest[d],
				rates[d], ma30, ma60)
		}
		if pt.Capitulation != (ma30 < ma60) && !sigNearly(ma30, ma60, 1e-12) {
			t.Errorf("day %d: capitulation %v with ma30 %g, ma60 %g", d,
				pt.Capitulation, ma30, ma60)
		}
		if pt.Blocks > 0 && !(pt.Lo < pt.Hashrate && pt.Hashrate < pt.Hi) {
			t.Errorf("day %d: %g outside its interval %g..%g", d, pt.Hashrate,
				pt.Lo, pt.Hi)
		}
	}

	// 2009's hashrate: a few MH/s. Difficulty 1 at one block per 600 s
	// is 2^32/600 = 7.16 MH/s; blocks came slower than that at first.
	for _, pt := range pts[30 : len(pts)-1] {
		if pt.MA30 < 2e6 || pt.MA30 > 12e6 {
			t.Errorf("%s: MA30 %s, not a few MH/s", dayLabel(pt.Day),
				FormatHashrate(pt.MA30))
		}
	}
}

// TestSignalsHashRibbonsCut checks that cutting to [from, to) keeps the
// averages of the whole series.
func TestSignalsHashRibbonsCut(t *testing.T) {
	hs := loadMainnet(t)
	all := HashRibbons(Mainnet, hs, math.MinInt64/2, math.MaxInt64/2)
	from := sigJan3 + 70*86400 + 3600 // inside day 70
	to := sigJan3 + 80*86400          // day 80 not met
	cut := HashRibbons(Mainnet, hs, from, to)
	if len(cut) != 10 {
		t.Fatalf("got %d days, want 10 (days 70..79)", len(cut))
	}
	for i, pt := range cut {
		want := all[70+i]
		if pt.Day != want.Day || pt.MA30 != want.MA30 || pt.MA60 != want.MA60 {
			t.Errorf("day %d: got %+v, want %+v", 70+i, pt, want)
		}
	}
	if got := HashRibbons(Mainnet, nil, 0, 1); got != nil {
		t.Errorf("no headers: got %v", got)
	}
}

// sigHeaders builds a chain from genesis at 00:00 UTC of start: day k
// holds perDay[k] blocks at bits[k] (0x1d00ffff when bits is nil), evenly
// spaced in the day.
func sigHeaders(start int64, perDay []int, bits []uint32) []Header {
	var hs []Header
	for k, n := range perDay {
		for j := range n {
			b := uint32(0x1d00ffff)
			if bits != nil {
				b = bits[k]
			}
			hs = append(hs, Header{Height: int32(len(hs)),
				Time: start + int64(k)*86400 + (int64(j)*86400+43200)/int64(n),
				Bits: b})
		}
	}
	return hs
}

// TestSignalsRibbonsStep checks the capitulation after the hashrate halves
// for 40 days, worked out by hand. With k days at half rate (k <= 40), the
// 30-day mean has lost min(k,30)/30 of the difference and the 60-day mean
// k/60: the ribbons invert from the first day. j days after the rate is
// restored the 30-day window holds 30-j slow days and the 60-day window all
// 40 (j <= 20): capitulation lasts while (30-j)/30 > 40/60, j < 10. So the
// period runs from day 100 to day 148 (49 days) and day 149 recovers, with
// the averages exactly equal that day. Before day 100 the rate is constant,
// so the averages are equal and nothing is in capitulation.
func TestSignalsRibbonsStep(t *testing.T) {
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	perDay := make([]int, 250)
	for k := range perDay {
		perDay[k] = 144
		if k >= 100 && k < 140 {
			perDay[k] = 72
		}
	}
	pts := HashRibbons(Mainnet, sigHeaders(start, perDay, nil),
		math.MinInt64/2, math.MaxInt64/2)
	if len(pts) != 250 {
		t.Fatalf("got %d days, want 250", len(pts))
	}
	for d, pt := range pts {
		want := d >= 100 && d <= 148
		if pt.Capitulation != want {
			t.Errorf("day %d: capitulation %v, want %v (ma30 %v ma60 %v)", d,
				pt.Capitulation, want, pt.MA30, pt.MA60)
		}
	}
	if pts[149].MA30 != pts[149].MA60 {
		t.Errorf("day 149: ma30 %v != ma60 %v", pts[149].MA30, pts[149].MA60)
	}

	caps := Capitulations(pts)
	if len(caps) != 1 {
		t.Fatalf("got %d periods, want 1: %+v", len(caps), caps)
	}
	c := caps[0]
	first := int32(100 * 144)
	last := first + 40*72 + 9*144 - 1
	want := CapitulationPeriod{Start: start + 100*86400, End: start + 148*86400,
		Days: 49, FromHeight: first, ToHeight: last,
		RecoveryDay: start + 149*86400, RecoveryHeight: last + 1,
		MinRatio: c.MinRatio, MinRatioDay: start + 129*86400}
	if c != want {
		t.Errorf("got %+v\nwant %+v", c, want)
	}
	// Deepest on day 129: the 30-day window all slow, the 60-day half:
	// (r/2) / (3r/4).
	if !sigNearly(c.MinRatio, 2.0/3, 1e-12) {
		t.Errorf("min ratio %v, want 2/3", c.MinRatio)
	}
}

// TestSignalsMovingMeanConstant checks that the mean of a constant series
// is that constant exactly, whatever the window, and that a NaN spoils the
// windows holding it.
func TestSignalsMovingMeanConstant(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		v := rng.Float64() * math.Pow(10, float64(rng.IntN(40)-10))
		n := 1 + rng.IntN(200)
		x := make([]float64, n+rng.IntN(300))
		for i := range x {
			x[i] = v
		}
		for i, m := range windowMeans(x, n, false) {
			if i < n-1 && !math.IsNaN(m) || i >= n-1 && m != v {
				t.Fatalf("window %d of %v: mean %v at %d", n, v, m, i)
			}
		}
		for i, m := range windowMeans(x, n, true) {
			if m != v {
				t.Fatalf("partial window %d of %v: mean %v at %d", n, v, m, i)
			}
		}
	}
	x := []float64{1, 2, math.NaN(), 4, 5, 6}
	got := windowMeans(x, 2, false)
	want := []float64{math.NaN(), 1.5, math.NaN(), math.NaN(), 4.5, 5.5}
	for i := range want {
		if !sigNearly(got[i], want[i], 0) {
			t.Errorf("mean %d = %v, want %v", i, got[i], want[i])
		}
	}
}

// TestSignalsCapitulationsPartition checks on random series that the
// periods partition exactly the days in capitulation, each maximal, with
// the recovery on the day after.
func TestSignalsCapitulationsPartition(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 300 {
		pts := make([]RibbonPoint, rng.IntN(80))
		for i := range pts {
			pts[i] = RibbonPoint{Day: int64(i) * 86400, MA30: rng.Float64(),
				MA60: rng.Float64(), FromHeight: -1, ToHeight: -1}
			if rng.IntN(3) > 0 {
				pts[i].FromHeight = int32(10 * i)
				pts[i].ToHeight = int32(10*i + rng.IntN(10))
			}
			if rng.IntN(4) == 0 {
				pts[i].MA30 = pts[i].MA60 // equal: no capitulation
			}
			pts[i].Capitulation = pts[i].MA30 < pts[i].MA60
		}
		covered := make([]int, len(pts))
		for _, c := range Capitulations(pts) {
			i, j := int(c.Start/86400), int(c.End/86400)
			if c.Days != j-i+1 {
				t.Fatalf("trial %d: %+v: days", trial, c)
			}
			lo, hi := int32(-1), int32(-1)
			minRatio := math.Inf(1)
			for k := i; k <= j; k++ {
				covered[k]++
				if f := pts[k].FromHeight; f >= 0 {
					if lo < 0 {
						lo = f
					}
					hi = pts[k].ToHeight
				}
				minRatio = min(minRatio, pts[k].MA30/pts[k].MA60)
			}
			if c.FromHeight != lo || c.ToHeight != hi || c.MinRatio != minRatio {
				t.Fatalf("trial %d: %+v: heights %d..%d ratio %v", trial, c, lo,
					hi, minRatio)
			}
			if i > 0 && pts[i-1].Capitulation || c.Truncated != (i == 0) {
				t.Fatalf("trial %d: %+v does not start a run", trial, c)
			}
			ongoing := j == len(pts)-1
			if c.Ongoing != ongoing || !ongoing && (pts[j+1].Capitulation ||
				c.RecoveryDay != pts[j+1].Day ||
				c.RecoveryHeight != pts[j+1].FromHeight) ||
				ongoing && c.RecoveryDay != 0 {
				t.Fatalf("trial %d: %+v: bad end", trial, c)
			}
		}
		for k, pt := range pts {
			if want := map[bool]int{true: 1, false: 0}[pt.Capitulation]; covered[k] != want {
				t.Fatalf("trial %d: day %d covered %d times, capitulation %v",
					trial, k, covered[k], pt.Capitulation)
			}
		}
	}
}

// TestSignalsDifficultyRibbon checks the daily difficulty (highest block of
// the day, carried over empty days) and the averages against a naive
// recomputation, on a chain whose difficulty changes every few days and
// that has days without blocks.
func TestSignalsDifficultyRibbon(t *testing.T) {
	start := time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC).Unix()
	const days = 260
	perDay := make([]int, days)
	bits := make([]uint32, days)
	targets := []uint32{0x1d00ffff, 0x1c7fff80, 0x1c3fffc0, 0x1c5fffa0} // difficulty 1, 2, 4, 8/3
	for k := range perDay {
		perDay[k] = 1 + k%5
		if k%17 == 3 {
			perDay[k] = 0
		}
		bits[k] = targets[(k/9)%len(targets)]
	}
	hs := sigHeaders(start, perDay, bits)

	// The naive reference: walk the days, remembering the last difficulty.
	diffs := make([]float64, days)
	heights := make([]int32, days)
	cur, curH := 0.0, int32(-1)
	for k := range diffs {
		for _, h := range hs {
			if h.Time >= start+int64(k)*86400 && h.Time < start+int64(k+1)*86400 {
				cur, curH = Difficulty(h.Bits), h.Height
			}
		}
		diffs[k], heights[k] = cur, curH
	}
	for _, c := range []struct {
		bits uint32
		want float64
	}{{0x1d00ffff, 1}, {0x1c7fff80, 2}, {0x1c3fffc0, 4}} {
		if got := Difficulty(c.bits); got != c.want {
			t.Fatalf("difficulty of %08x = %v, want %v", c.bits, got, c.want)
		}
	}

	pts := DifficultyRibbon(Mainnet, hs, math.MinInt64/2, math.MaxInt64/2)
	if len(pts) != days {
		t.Fatalf("got %d days, want %d", len(pts), days)
	}
	for d, pt := range pts {
		if pt.Day != start+int64(d)*86400 || pt.Difficulty != diffs[d] ||
			pt.Height != heights[d] {
			t.Fatalf("day %d: got %+v, want difficulty %v at %d", d, pt,
				diffs[d], heights[d])
		}
		for k, w := range DifficultyRibbonWindows {
			if want := sigNaiveMean(diffs, d, w); !sigNearly(pt.MA[k], want, 1e-12) {
				t.Fatalf("day %d, %d-day mean: got %v, want %v", d, w, pt.MA[k],
					want)
			}
		}
	}
	cut := DifficultyRibbon(Mainnet, hs, start+250*86400, start+252*86400)
	if len(cut) != 2 || cut[0] != pts[250] || cut[1] != pts[251] {
		t.Errorf("cut to days 250..251: got %+v", cut)
	}
}
