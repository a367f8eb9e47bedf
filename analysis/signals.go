package analysis

import (
	"math"
	"math/big"
)

// The Hash Ribbons' moving-average windows, in days.
const (
	RibbonShortDays = 30
	RibbonLongDays  = 60
)

// RibbonPoint is one UTC day of the Hash Ribbons (C. Edwards, 2019).
type RibbonPoint struct {
	Day int64 // unix time of the day's 00:00 UTC

	// Blocks, Hashrate, Lo, Hi and HasInterval are DailyHashrate's for
	// the day: the work of the blocks stamped in it over its seconds, and
	// the exact 95% interval. A day without blocks has Hashrate 0.
	Blocks           int
	Hashrate, Lo, Hi float64 // H/s
	HasInterval      bool

	// MA30 and MA60 are the means of Hashrate over the 30 and 60 days
	// ending with this one, NaN until the series has that many days.
	MA30, MA60 float64

	// Capitulation is MA30 < MA60 (false while either is NaN).
	Capitulation bool

	// FromHeight and ToHeight are the lowest and highest heights stamped
	// in the day, -1 when none.
	FromHeight, ToHeight int32
}

// HashRibbons returns one point per UTC day that meets [from, to), with
// the 30- and 60-day moving averages of the daily hashrate.
//
// The series is first computed over every day hs covers, then cut to
// [from, to), so the averages at from use the 59 days before it when hs
// reaches back that far. Days follow DailyHashrate: a day counts the blocks
// stamped in it; the first day (unless hs starts at genesis) and the tip's
// day are clipped to what hs covers, and their hashrate is over the seconds
// covered.
//
// Every day counts in the averages, a day without blocks as 0 H/s, and an
// average needs its full window (NaN before). A day's hashrate being its
// work over 86,400 s, MA30 of full days is the work of the 30 days over
// their 2,592,000 s: WindowHashrate over those 30 days.
//
// It returns nil when hs is empty or not contiguous.
func HashRibbons(p Params, hs []Header, from, to int64) []RibbonPoint {
	lo, hi, ok := headerDays(hs)
	if !ok {
		return nil
	}
	days := DailyHashrate(p, hs, lo, hi)
	all := make([]RibbonPoint, len(days))
	rates := make([]float64, len(days))
	for i, d := range days {
		e := d.Estimate
		all[i] = RibbonPoint{Day: dayStart(d.Start), Blocks: d.Blocks,
			Hashrate: e.HashesPerSec, Lo: e.Lo, Hi: e.Hi,
			HasInterval: e.HasInterval, FromHeight: e.FromHeight,
			ToHeight: e.ToHeight}
		rates[i] = e.HashesPerSec
	}
	ma30 := trailingMeans(rates, RibbonShortDays)
	ma60 := trailingMeans(rates, RibbonLongDays)
	for i := range all {
		pt := &all[i]
		pt.MA30, pt.MA60 = ma30[i], ma60[i]
		pt.Capitulation = pt.MA30 < pt.MA60 // false with a NaN
	}
	first, last := cutDays(len(all), func(i int) int64 { return all[i].Day },
		from, to)
	return all[first:last]
}

// headerDays returns the span of time hs covers, for DailyHashrate: from
// the 00:00 UTC before its earliest timestamp to the second after its
// latest.
func headerDays(hs []Header) (lo, hi int64, ok bool) {
	if checkHeaders(hs) != nil {
		return 0, 0, false
	}
	minT, maxT := hs[0].Time, hs[0].Time
	for _, h := range hs {
		minT, maxT = min(minT, h.Time), max(maxT, h.Time)
	}
	return dayStart(minT), maxT + 1, true
}

// cutDays returns the index range [first, last) of the n days (day(i)
// their 00:00 UTC, ascending) that meet [from, to).
func cutDays(n int, day func(int) int64, from, to int64) (first, last int) {
	first, last = 0, n
	for first < n && day(first)+24*60*60 <= from {
		first++
	}
	for last > first && day(last-1) >= to {
		last--
	}
	return first, last
}

// trailingMeans returns for each i the mean of x[i-n+1..i], NaN while
// i < n-1 (see windowMeans).
func trailingMeans(x []float64, n int) []float64 {
	return windowMeans(x, n, false)
}

// exactSumPrec is enough bits for a sum of float64 values to be exact:
// their binary digits span at most 2^1024 down to 2^-1074, plus carries.
const exactSumPrec = 2200

// windowMeans returns for each i the mean of the n values of x ending at i,
// or with partial of the min(n, i+1) values ending there (NaN before i = n-1
// without partial). A window holding a NaN or an infinity has mean NaN.
// The sum is kept exactly and the mean rounded once, so a constant series
// has exactly that constant as its mean, whatever the window: equal
// averages compare equal, and rounding never makes a ribbon cross.
func windowMeans(x []float64, n int, partial bool) []float64 {
	out := make([]float64, len(x))
	sum := new(big.Float).SetPrec(exactSumPrec)
	term := new(big.Float).SetPrec(exactSumPrec)
	bad := 0 // non-finite values in the window
	for i, v := range x {
		if finite(v) {
			sum.Add(sum, term.SetFloat64(v))
		} else {
			bad++
		}
		if i >= n {
			if old := x[i-n]; finite(old) {
				sum.Sub(sum, term.SetFloat64(old))
			} else {
				bad--
			}
		}
		size := min(n, i+1)
		if bad > 0 || size < n && !partial {
			out[i] = math.NaN()
			continue
		}
		mean := new(big.Float).SetPrec(exactSumPrec)
		mean.Quo(sum, term.SetInt64(int64(size)))
		out[i], _ = mean.Float64()
	}
	return out
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// CapitulationPeriod is a run of consecutive days with MA30 < MA60.
type CapitulationPeriod struct {
	Start, End int64 // 00:00 UTC of the first and of the last day in capitulation
	Days       int   // days from Start to End inclusive

	// FromHeight and ToHeight are the lowest and highest heights stamped
	// in the period, -1 when none.
	FromHeight, ToHeight int32

	// Ongoing is true when the series ends in capitulation; RecoveryDay is
	// then 0. Otherwise RecoveryDay is the day after End, when MA30 was
	// back at or above MA60, and RecoveryHeight the lowest height stamped
	// that day (-1 when none).
	Ongoing        bool
	RecoveryDay    int64
	RecoveryHeight int32

	// Truncated is true when the series begins in this period, which may
	// therefore have started before Start.
	Truncated bool

	// MinRatio is the lowest MA30/MA60 in the period, its depth, and
	// MinRatioDay the day of it (the first such day).
	MinRatio    float64
	MinRatioDay int64
}

// Capitulations lists the capitulation periods of a HashRibbons series:
// every maximal run of consecutive points with Capitulation set, in order.
// The points must be consecutive days, as HashRibbons returns them.
func Capitulations(pts []RibbonPoint) []CapitulationPeriod {
	var out []CapitulationPeriod
	for i := 0; i < len(pts); i++ {
		if !pts[i].Capitulation {
			continue
		}
		j := i
		for j+1 < len(pts) && pts[j+1].Capitulation {
			j++
		}
		out = append(out, capitulation(pts, i, j))
		i = j
	}
	return out
}

// capitulation describes the period pts[i..j].
func capitulation(pts []RibbonPoint, i, j int) CapitulationPeriod {
	c := CapitulationPeriod{Start: pts[i].Day, End: pts[j].Day,
		Days: j - i + 1, FromHeight: -1, ToHeight: -1, RecoveryHeight: -1,
		Ongoing: j == len(pts)-1, Truncated: i == 0, MinRatio: math.Inf(1)}
	for _, pt := range pts[i : j+1] {
		if pt.FromHeight >= 0 {
			if c.FromHeight < 0 || pt.FromHeight < c.FromHeight {
				c.FromHeight = pt.FromHeight
			}
			c.ToHeight = max(c.ToHeight, pt.ToHeight)
		}
		if r := pt.MA30 / pt.MA60; r < c.MinRatio {
			c.MinRatio, c.MinRatioDay = r, pt.Day
		}
	}
	if !c.Ongoing {
		c.RecoveryDay = pts[j+1].Day
		c.RecoveryHeight = pts[j+1].FromHeight
	}
	return c
}

// DifficultyRibbonWindows are the Difficulty Ribbon's moving-average
// windows, in days (Willy Woo's 14 to 200 days).
var DifficultyRibbonWindows = [...]int{14, 25, 40, 60, 90, 128, 200}

// DifficultyRibbonPoint is one UTC day of the Difficulty Ribbon.
type DifficultyRibbonPoint struct {
	Day int64 // unix time of the day's 00:00 UTC

	// Difficulty is that of the highest block stamped in the day, or on a
	// day without blocks the previous day's: the difficulty of the chain's
	// tip as the day closed, timestamps permitting. Height is that block's.
	Difficulty float64
	Height     int32

	// MA holds the means of Difficulty over the DifficultyRibbonWindows
	// days ending with this one, NaN until the series has that many days.
	MA [len(DifficultyRibbonWindows)]float64
}

// DifficultyRibbon returns one point per UTC day that meets [from, to), from
// the day of hs's earliest timestamp to that of its latest, with the moving
// averages of the daily difficulty. As in HashRibbons, the series is
// computed over every day hs covers and then cut, and every day counts in
// the averages. It returns nil when hs is empty or not contiguous.
func DifficultyRibbon(p Params, hs []Header, from, to int64) []DifficultyRibbonPoint {
	lo, hi, ok := headerDays(hs)
	if !ok {
		return nil
	}
	n := int((dayStart(hi-1)-lo)/day) + 1
	top := make([]int, n) // index in hs of the day's highest block, or -1
	for i := range top {
		top[i] = -1
	}
	for i, h := range hs {
		top[(dayStart(h.Time)-lo)/day] = i // heights ascend
	}

	all := make([]DifficultyRibbonPoint, n)
	diffs := make([]float64, n)
	last := 0 // day 0 holds the earliest timestamp, so a block
	for d := range all {
		if top[d] >= 0 {
			last = top[d]
		}
		all[d] = DifficultyRibbonPoint{Day: lo + int64(d)*day,
			Difficulty: Difficulty(hs[last].Bits), Height: hs[last].Height}
		diffs[d] = all[d].Difficulty
	}
	for k, w := range DifficultyRibbonWindows {
		for d, m := range trailingMeans(diffs, w) {
			all[d].MA[k] = m
		}
	}
	first, end := cutDays(n, func(i int) int64 { return all[i].Day }, from, to)
	return all[first:end]
}
