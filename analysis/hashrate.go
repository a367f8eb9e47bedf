package analysis

import (
	"fmt"
	"math"
	"math/big"
)

// Estimate is a hashrate estimate with its exact 95% interval and the blocks
// behind it.
type Estimate struct {
	HashesPerSec float64
	Lo, Hi       float64 // 95% bounds, H/s; both 0 with HasInterval=false when undefined
	HasInterval  bool

	// FromHeight and ToHeight bound the blocks used. For NetworkHashPS
	// FromHeight is the start block, whose work is not counted; for a
	// time window they are the lowest and highest heights counted, or -1
	// when no block fell in the window.
	FromHeight int32
	ToHeight   int32

	// FromTime and ToTime are the earliest and latest timestamps used
	// (unix seconds); for a time window, its bounds from and to.
	FromTime int64
	ToTime   int64

	Intervals int      // block intervals (NetworkHashPS) or blocks in the window
	Work      *big.Int // total work counted
	Seconds   int64    // time span in the denominator
}

// NetworkHashPS estimates the hashrate the way Bitcoin Core's
// getnetworkhashps does, so its point estimate matches the node's to
// floating-point rounding. hs must be contiguous and end at the tip.
//
// The arguments follow Core 25/26: a height below 0 or at or above the tip
// means the tip; at height 0 the estimate is zero; lookup <= 0 means the
// blocks since the last retarget (height % RetargetInterval + 1); a lookup
// beyond height is cut to height. The estimate is the work of blocks
// height-lookup+1..height divided by the spread (max-min) of the timestamps
// of blocks height-lookup..height, or zero when that spread is zero.
// (Core 27+ rejects lookup 0, lookup < -1 and heights beyond the tip instead;
// btcd returns 0 for heights beyond the tip.)
//
// The 95% interval comes from the timestamps of consecutive blocks (see the
// package documentation), not from max-min, so on rare chains with far
// out-of-order timestamps the point estimate can fall outside it.
// A *HeadersError is returned if hs lacks height-lookup.
func NetworkHashPS(p Params, hs []Header, lookup int, height int32) (Estimate, error) {
	est, _, err := networkHashPS(p, hs, lookup, height)
	return est, err
}

// networkHashPS is NetworkHashPS that also returns Σα, the sum over the
// intervals of (t_i - t_{i-1}) / w_i, which the projection reuses.
func networkHashPS(p Params, hs []Header, lookup int,
	height int32) (Estimate, float64, error) {

	if err := p.validate(); err != nil {
		return Estimate{}, 0, err
	}
	if err := checkHeaders(hs); err != nil {
		return Estimate{}, 0, err
	}

	tip := hs[len(hs)-1].Height
	if height < 0 || height >= tip {
		height = tip
	}
	if height == 0 {
		return zeroEstimate(hs), 0, nil
	}
	if lookup <= 0 {
		lookup = int(height%p.RetargetInterval) + 1
	}
	lookup = min(lookup, int(height))

	window, err := heightRange(hs, height-int32(lookup), height)
	if err != nil {
		return Estimate{}, 0, err
	}
	est, sumAlpha := estimateWindow(window)
	return est, sumAlpha, nil
}

// zeroEstimate is Core's answer at the genesis block: zero, over the
// genesis timestamp when hs holds it.
func zeroEstimate(hs []Header) Estimate {
	est := Estimate{Work: new(big.Int)}
	if hs[0].Height == 0 {
		est.FromTime, est.ToTime = hs[0].Time, hs[0].Time
	}
	return est
}

// estimateWindow computes the estimate over window[0]..window[len-1], where
// window[0] is the start block whose work is not counted.
func estimateWindow(window []Header) (Estimate, float64) {
	minTime, maxTime := window[0].Time, window[0].Time
	for _, h := range window[1:] {
		minTime = min(minTime, h.Time)
		maxTime = max(maxTime, h.Time)
	}

	work, sumAlpha := intervalWork(window)
	n := len(window) - 1
	est := Estimate{
		FromHeight: window[0].Height,
		ToHeight:   window[n].Height,
		FromTime:   minTime,
		ToTime:     maxTime,
		Intervals:  n,
		Work:       work,
		Seconds:    maxTime - minTime,
	}
	if est.Seconds > 0 {
		est.HashesPerSec = ratio(work, est.Seconds)
	}
	est.Lo, est.Hi, est.HasInterval = rateInterval(n, sumAlpha)
	return est, sumAlpha
}

// intervalWork sums the work of window[1:] and Σα = Σ (t_i - t_{i-1}) / w_i.
// It walks runs of equal bits, where Σα telescopes to (t_last - t_before)/w,
// so the sum is cheap and insensitive to out-of-order timestamps inside a
// run. Σα is NaN when some block has zero work.
func intervalWork(window []Header) (*big.Int, float64) {
	work := new(big.Int)
	sumAlpha := 0.0
	for i := 1; i < len(window); {
		j := i
		for j+1 < len(window) && window[j+1].Bits == window[i].Bits {
			j++
		}

		w := CalcWork(window[i].Bits)
		runWork := new(big.Int).Mul(w, big.NewInt(int64(j-i+1)))
		work.Add(work, runWork)

		wf := toFloat(w)
		dt := float64(window[j].Time - window[i-1].Time)
		if wf > 0 {
			sumAlpha += dt / wf
		} else {
			sumAlpha = math.NaN()
		}
		i = j + 1
	}
	return work, sumAlpha
}

// WindowHashrate estimates the hashrate from the blocks whose timestamps
// fall in (from, to]: their total work divided by to-from.
//
// The 95% interval treats the number N of blocks in the window as Poisson
// and uses Garwood's exact interval on N, scaled by the mean work per block
// in the window over to-from; with N = 0 the work of the first block after
// the window stands in for the mean. It is exact at constant difficulty
// and approximate across a retarget.
//
// hs must be contiguous and cover the window: its first block must be
// timestamped at or before from (or be the genesis block) and its last at
// or after to, else a *HeadersError is returned. Because timestamps are not
// monotone, a block just outside hs could in principle still carry a
// timestamp inside the window; consensus keeps that within about two hours
// of the edges, and this is ignored.
func WindowHashrate(p Params, hs []Header, from, to int64) (Estimate, error) {
	if to <= from {
		return Estimate{}, fmt.Errorf("%w: from %d to %d", ErrBadWindow,
			from, to)
	}
	if err := checkHeaders(hs); err != nil {
		return Estimate{}, err
	}
	if err := covers(hs, from, to); err != nil {
		return Estimate{}, err
	}

	var acc tally
	for _, h := range hs {
		if h.Time > from && h.Time <= to {
			acc.add(h)
		}
	}
	var next uint32
	if acc.n == 0 {
		next = nextBitsAfter(hs, to)
	}
	return acc.estimate(from, to, next), nil
}

// covers checks that hs reaches from before from to after to.
func covers(hs []Header, from, to int64) error {
	first, last := hs[0], hs[len(hs)-1]
	if first.Height > 0 && first.Time > from {
		return &HeadersError{Height: first.Height - 1,
			First: first.Height, Last: last.Height}
	}
	if last.Time < to {
		return &HeadersError{Height: last.Height + 1,
			First: first.Height, Last: last.Height}
	}
	return nil
}

// nextBitsAfter returns the bits of the lowest block timestamped after t,
// the difficulty in force while a window ending at t was being mined, or the
// last block's bits if there is none.
func nextBitsAfter(hs []Header, t int64) uint32 {
	for _, h := range hs {
		if h.Time > t {
			return h.Bits
		}
	}
	return hs[len(hs)-1].Bits
}

// tally accumulates the blocks that fall in a time window.
type tally struct {
	n          int
	work       *big.Int
	minH, maxH int32

	// lastBits and lastWork cache CalcWork across runs of equal bits.
	lastBits uint32
	lastWork *big.Int
}

// add counts block h.
func (t *tally) add(h Header) {
	if t.work == nil {
		t.work = new(big.Int)
		t.minH, t.maxH = h.Height, h.Height
	}
	if t.lastWork == nil || h.Bits != t.lastBits {
		t.lastBits, t.lastWork = h.Bits, CalcWork(h.Bits)
	}
	t.n++
	t.work.Add(t.work, t.lastWork)
	t.minH = min(t.minH, h.Height)
	t.maxH = max(t.maxH, h.Height)
}

// estimate turns the tally for window (from, to] into an Estimate; nextBits
// is only used when the window is empty.
func (t *tally) estimate(from, to int64, nextBits uint32) Estimate {
	seconds := to - from
	est := Estimate{
		FromHeight: -1,
		ToHeight:   -1,
		FromTime:   from,
		ToTime:     to,
		Intervals:  t.n,
		Work:       new(big.Int),
		Seconds:    seconds,
	}

	meanWork := toFloat(CalcWork(nextBits))
	if t.n > 0 {
		est.FromHeight, est.ToHeight = t.minH, t.maxH
		est.Work.Set(t.work)
		est.HashesPerSec = ratio(t.work, seconds)
		meanWork = toFloat(t.work) / float64(t.n)
	}

	lo, hi := poissonInterval(t.n)
	est.Lo = lo * meanWork / float64(seconds)
	est.Hi = hi * meanWork / float64(seconds)
	est.HasInterval = est.Hi > 0
	return est
}

// ratio returns work/seconds, rounded once from the exact quotient.
func ratio(work *big.Int, seconds int64) float64 {
	q := new(big.Float).SetInt(work)
	q.Quo(q, new(big.Float).SetInt64(seconds))
	f, _ := q.Float64()
	return f
}

// toFloat is the float64 nearest to n.
func toFloat(n *big.Int) float64 {
	f, _ := new(big.Float).SetInt(n).Float64()
	return f
}
