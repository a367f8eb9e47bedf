package analysis

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// minRateIntervals is the fewest block intervals the projection estimates
// the hashrate from: a day of blocks, reached back across the last retarget
// when the current epoch is younger than that.
const minRateIntervals = 144

// Projection forecasts the next difficulty adjustment and the next subsidy
// halving from the current hashrate. All dates are unix seconds; the
// intervals are 95% prediction intervals that include the uncertainty of
// the hashrate estimate itself (see the package documentation).
type Projection struct {
	Now                int64 // reference time: the later of the argument and the tip's timestamp
	TipHeight          int32
	NextRetargetHeight int32 // first height with the new difficulty

	// BlocksRemaining counts the blocks still to be mined up to and
	// including the epoch's last block (NextRetargetHeight-1), whose
	// timestamp closes the timespan the retarget measures:
	// NextRetargetHeight - 1 - TipHeight. It is 0 when the tip is that
	// block and the new difficulty is already determined.
	BlocksRemaining int32

	// Rate is getnetworkhashps over the current epoch (lookup -1), or
	// over the last 144 blocks when the epoch has fewer intervals.
	Rate Estimate

	// ExpectedSeconds is the mean time from Now until the epoch's last
	// block. Date is the median projected time of that block, DateLo and
	// DateHi its 95% interval.
	ExpectedSeconds      float64
	Date, DateLo, DateHi int64

	// ChangePct is the difficulty change at the retarget if the epoch's
	// last block comes at Date; ChangeLoPct and ChangeHiPct correspond to
	// DateHi and DateLo. The consensus clamp (×4, ÷4) and the
	// proof-of-work limit apply.
	ChangePct, ChangeLoPct, ChangeHiPct    float64
	CurrentDifficulty, ProjectedDifficulty float64

	// HalvingHeight is the next multiple of SubsidyHalvingInterval above
	// the tip; HalvingBlocksRemaining = HalvingHeight - TipHeight blocks
	// are still to be mined, the halving block included. HalvingDate is
	// the median projected time of the halving block.
	HalvingHeight                             int32
	HalvingBlocksRemaining                    int32
	HalvingDate, HalvingDateLo, HalvingDateHi int64
}

// ProjectNextAdjustment projects when the current epoch ends, how the
// difficulty will change, and when the next halving comes. hs must be
// contiguous, end at the tip and include the current epoch's first block
// and the last 144 blocks (else a *HeadersError). now is the reference
// time, normally the wall clock; values before the tip's timestamp
// (including 0) mean the tip's timestamp. ErrNoRate is returned when the
// chain gives no hashrate (a lone genesis block, or timestamps that do not
// advance).
//
// The remaining blocks are assumed to be mined at the epoch's difficulty
// (Bits of its first block) and at the estimated hashrate; on
// ReduceMinDifficulty networks minimum-difficulty blocks are not modelled.
// After the retarget, blocks up to the halving are assumed to come at the
// target spacing, i.e. the hashrate stays constant and the retarget matches
// it. On NoRetargeting networks the difficulty never changes and all blocks
// to the halving are projected at the estimated hashrate.
func ProjectNextAdjustment(p Params, hs []Header, now int64) (Projection, error) {
	if err := p.validate(); err != nil {
		return Projection{}, err
	}
	if err := checkHeaders(hs); err != nil {
		return Projection{}, err
	}

	tip := hs[len(hs)-1]
	size := p.RetargetInterval
	epochStart := tip.Height - tip.Height%size
	firsts, err := heightRange(hs, epochStart, epochStart)
	if err != nil {
		return Projection{}, err
	}
	first := firsts[0]

	lookup := max(int(tip.Height%size)+1, minRateIntervals)
	rate, sumAlpha, err := networkHashPS(p, hs, lookup, tip.Height)
	if err != nil {
		return Projection{}, err
	}
	if rate.Intervals < 1 || !(sumAlpha > 0) || math.IsInf(sumAlpha, 0) {
		return Projection{}, fmt.Errorf("%w: the %d block intervals up "+
			"to height %d span no time", ErrNoRate, rate.Intervals,
			tip.Height)
	}

	pr := Projection{
		Now:                max(now, tip.Time),
		TipHeight:          tip.Height,
		NextRetargetHeight: epochStart + size,
		BlocksRemaining:    epochStart + size - 1 - tip.Height,
		Rate:               rate,
		CurrentDifficulty:  Difficulty(first.Bits),
	}
	f := forecast{
		n:        rate.Intervals,
		perBlock: toFloat(CalcWork(first.Bits)) * sumAlpha / float64(rate.Intervals),
	}
	pr.projectEpochEnd(f, tip.Time)
	pr.projectRetarget(p, first)
	pr.projectHalving(p, f)
	return pr, nil
}

// forecast holds the pivot for the time to mine future blocks: with Σα over
// n intervals, k blocks take perBlock·k·F seconds with F ~ F(2k, 2n), where
// perBlock = w·Σα/n is the estimated seconds per block at difficulty w.
type forecast struct {
	n        int
	perBlock float64
}

// blocks is the distribution of the time, in seconds, to mine k blocks.
func (f forecast) blocks(k int32) dist {
	return scaled{
		d: distuv.F{D1: 2 * float64(k), D2: 2 * float64(f.n)},
		k: f.perBlock * float64(k),
	}
}

// mean is the expected time to mine k blocks: E[F(2k, 2n)] = n/(n-1). For
// n = 1 the mean is infinite and the plug-in value perBlock·k is used.
func (f forecast) mean(k int32) float64 {
	if f.n <= 1 {
		return f.perBlock * float64(k)
	}
	return f.perBlock * float64(k) * float64(f.n) / float64(f.n-1)
}

// projectEpochEnd fills ExpectedSeconds and the dates of the epoch's last
// block; when the tip is that block its timestamp is the answer.
func (pr *Projection) projectEpochEnd(f forecast, tipTime int64) {
	m := pr.BlocksRemaining
	if m == 0 {
		pr.Date, pr.DateLo, pr.DateHi = tipTime, tipTime, tipTime
		return
	}
	q := quantilesOf(f.blocks(m), qLo, qMid, qHi)
	pr.ExpectedSeconds = f.mean(m)
	pr.DateLo, pr.Date, pr.DateHi = pr.after(q[0]), pr.after(q[1]), pr.after(q[2])
}

// projectRetarget applies the consensus retarget to the projected dates.
// The difficulty falls as the date moves later, so the high change goes
// with the early date.
func (pr *Projection) projectRetarget(p Params, first Header) {
	difficultyAt := func(lastTime int64) float64 {
		bits, _ := ExpectedBits(p, pr.NextRetargetHeight, first.Bits,
			first.Bits, first.Time, lastTime)
		return Difficulty(bits)
	}
	pr.ProjectedDifficulty = difficultyAt(pr.Date)
	pr.ChangePct = pctChange(pr.CurrentDifficulty, pr.ProjectedDifficulty)
	pr.ChangeLoPct = pctChange(pr.CurrentDifficulty, difficultyAt(pr.DateHi))
	pr.ChangeHiPct = pctChange(pr.CurrentDifficulty, difficultyAt(pr.DateLo))
}

// projectHalving fills the halving fields. The blocks up to the epoch's
// end follow the forecast; the k blocks after it are Gamma(k) at the target
// spacing, and the two independent parts are convolved numerically.
func (pr *Projection) projectHalving(p Params, f forecast) {
	interval := p.SubsidyHalvingInterval
	if interval <= 0 {
		return
	}
	pr.HalvingHeight = (pr.TipHeight/interval + 1) * interval
	pr.HalvingBlocksRemaining = pr.HalvingHeight - pr.TipHeight

	var q []float64
	epochLast := pr.NextRetargetHeight - 1
	after := pr.HalvingHeight - epochLast
	switch {
	case p.NoRetargeting || after <= 0:
		q = quantilesOf(f.blocks(pr.HalvingBlocksRemaining), qLo, qMid, qHi)
	case pr.BlocksRemaining == 0:
		q = quantilesOf(spacing(p, after), qLo, qMid, qHi)
	default:
		q = sumQuantiles(f.blocks(pr.BlocksRemaining), spacing(p, after),
			qLo, qMid, qHi)
	}
	pr.HalvingDateLo, pr.HalvingDate, pr.HalvingDateHi =
		pr.after(q[0]), pr.after(q[1]), pr.after(q[2])
}

// spacing is the time to mine k blocks at the target spacing.
func spacing(p Params, k int32) dist {
	return distuv.Gamma{Alpha: float64(k), Beta: 1 / float64(p.TargetSpacing)}
}

// after is Now plus seconds, rounded to the nearest second.
func (pr *Projection) after(seconds float64) int64 {
	return pr.Now + int64(math.Round(seconds))
}
