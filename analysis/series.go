package analysis

const (
	day  = 24 * 60 * 60
	week = 7 * day
)

// SeriesPoint is the hashrate over one calendar period [Start, End).
type SeriesPoint struct {
	Start, End int64 // unix seconds, UTC
	Estimate   Estimate
	Blocks     int // blocks timestamped in [Start, End)
}

// DailyHashrate returns one point per UTC day [00:00, 24:00) that meets
// [from, to). See periodSeries for the conventions.
func DailyHashrate(p Params, hs []Header, from, to int64) []SeriesPoint {
	return periodSeries(hs, from, to, dayStart, day)
}

// WeeklyHashrate returns one point per ISO week (Monday 00:00 UTC to the
// next Monday) that meets [from, to). See periodSeries for the conventions.
func WeeklyHashrate(p Params, hs []Header, from, to int64) []SeriesPoint {
	return periodSeries(hs, from, to, weekStart, week)
}

// dayStart is the UTC midnight at or before t.
func dayStart(t int64) int64 {
	return floorDiv(t, day) * day
}

// weekStart is the Monday 00:00 UTC at or before t. The unix epoch fell on
// a Thursday, three days after a Monday.
func weekStart(t int64) int64 {
	const mondayBeforeEpoch = -3 * day
	return floorDiv(t-mondayBeforeEpoch, week)*week + mondayBeforeEpoch
}

// floorDiv is a/b rounded toward minus infinity, for b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// periodSeries estimates the hashrate in each period of length size that
// meets [from, to). A period [S, E) counts the blocks with S <= time < E,
// which is WindowHashrate's (S-1, E-1] on integer timestamps, and its
// estimate equals WindowHashrate(p, hs, S-1, E-1).
//
// Periods are clipped to [from, to) and to what hs covers: from the second
// after hs[0]'s timestamp (or from genesis) to the second after the tip's.
// Start and End report the clipped bounds, so the first and last points may
// be partial periods. It runs in O(len(hs) + periods) and returns nil when
// nothing remains or hs is not contiguous.
func periodSeries(hs []Header, from, to int64, start func(int64) int64,
	size int64) []SeriesPoint {

	if checkHeaders(hs) != nil {
		return nil
	}
	lo, hi := from, to
	if hs[0].Height > 0 {
		lo = max(lo, hs[0].Time+1)
	}
	hi = min(hi, hs[len(hs)-1].Time+1)
	if hi <= lo {
		return nil
	}

	first := start(lo)
	count := int((start(hi-1)-first)/size) + 1
	tallies := make([]tally, count)
	for _, h := range hs {
		if h.Time >= lo && h.Time < hi {
			tallies[(start(h.Time)-first)/size].add(h)
		}
	}

	next := nextBitsFinder(hs)
	points := make([]SeriesPoint, count)
	for i := range points {
		s := max(first+int64(i)*size, lo)
		e := min(first+int64(i+1)*size, hi)
		var bits uint32
		if tallies[i].n == 0 {
			bits = next(e - 1)
		}
		points[i] = SeriesPoint{
			Start:    s,
			End:      e,
			Estimate: tallies[i].estimate(s-1, e-1, bits),
			Blocks:   tallies[i].n,
		}
	}
	return points
}

// nextBitsFinder returns a function answering nextBitsAfter(hs, t) for
// non-decreasing t in amortised O(1): the lowest block timestamped after t is
// the first whose running maximum timestamp exceeds t, and that running
// maximum is monotone.
func nextBitsFinder(hs []Header) func(t int64) uint32 {
	i := 0
	runMax := hs[0].Time
	return func(t int64) uint32 {
		for i < len(hs)-1 && runMax <= t {
			i++
			runMax = max(runMax, hs[i].Time)
		}
		if runMax > t {
			return hs[i].Bits
		}
		return hs[len(hs)-1].Bits
	}
}
