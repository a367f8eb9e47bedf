package analysis

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/btcsuite/btcd/btcutil"
)

// Verdict is the outcome of checking a published claim against the chain.
type Verdict string

// The three verdicts. A claim is consistent when the values it stands for
// (its Figure bounds, widened by the tolerance) meet what the chain says: the
// exact chain value for difficulty, retarget changes and outflows, the 95%
// interval for hashrate. It is inconsistent when they do not, and
// not-verifiable when the chain data at hand cannot decide (the index does
// not reach the time or height claimed, or the data give no interval).
const (
	VerdictConsistent    Verdict = "consistent"
	VerdictInconsistent  Verdict = "inconsistent"
	VerdictNotVerifiable Verdict = "not-verifiable"
)

// ClaimRange is what a claim stands for: its stated value and the values
// that round to it at its precision, widened by the tolerance.
type ClaimRange struct {
	Value float64 `json:"value"`
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
}

// ChainValue is what the chain says: an estimate with its 95% interval, or
// an exact value (Lo = Hi = Value).
type ChainValue struct {
	Value float64 `json:"value"`
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
	Exact bool    `json:"exact"`
}

// VerifySpan names the blocks behind a chain value.
type VerifySpan struct {
	// FromHeight and ToHeight are the lowest and highest heights used, -1
	// when a time range held no block.
	FromHeight int32 `json:"from_height"`
	ToHeight   int32 `json:"to_height"`

	// FromTime and ToTime bound the time covered: the window or days
	// checked, or the timestamps of the blocks used.
	FromTime time.Time `json:"from_time"`
	ToTime   time.Time `json:"to_time"`

	// Blocks counts the blocks (a time window, days) or block intervals
	// (a block count) used.
	Blocks int `json:"blocks"`
}

// AdjustmentEvent is one retarget: the first block of a difficulty epoch.
type AdjustmentEvent struct {
	Height         int32     `json:"height"`
	Time           time.Time `json:"time"` // the block's header timestamp
	Difficulty     float64   `json:"difficulty"`
	PrevDifficulty float64   `json:"prev_difficulty"`
	ChangePct      float64   `json:"change_pct"`
}

// AdjustmentDetail is what VerifyAdjustment found around the date.
type AdjustmentDetail struct {
	Date      string            `json:"date"`      // the UTC date checked, 2006-01-02
	Retargets []AdjustmentEvent `json:"retargets"` // those stamped on the date
	Before    *AdjustmentEvent  `json:"before,omitempty"`
	After     *AdjustmentEvent  `json:"after,omitempty"`

	// NextHeight is the first retarget height beyond the index.
	NextHeight int32 `json:"next_height"`
}

// OutflowDetail gives an outflow check in exact satoshis.
type OutflowDetail struct {
	Hops       int            `json:"hops"`
	ClaimedSat btcutil.Amount `json:"claimed_sat"`
	StepSat    btcutil.Amount `json:"step_sat"`
	ChainSat   btcutil.Amount `json:"chain_sat"`
	DiffSat    btcutil.Amount `json:"diff_sat"` // claimed − chain
}

// Verification is the result of checking one claim.
type Verification struct {
	Kind         string  `json:"kind"`  // hashrate, difficulty, adjustment or outflow
	Claim        string  `json:"claim"` // the claim, as stated
	Unit         string  `json:"unit"`  // of the values: "H/s", "" (difficulty), "%" or "sat"
	TolerancePct float64 `json:"tolerance_pct"`

	// Claimed is nil for an adjustment checked without a change.
	Claimed *ClaimRange `json:"claimed,omitempty"`

	// Chain and Span are nil when the claim is not verifiable.
	Chain *ChainValue `json:"chain,omitempty"`
	Span  *VerifySpan `json:"span,omitempty"`

	Verdict Verdict `json:"verdict"`

	// OffPct says how far an inconsistent claim is off, signed, as a
	// percentage of the bound it misses (hashrate) or of the exact chain
	// value; OffPoints does so in percentage points for a retarget change.
	// Off says it in words.
	OffPct    float64 `json:"off_pct,omitempty"`
	OffPoints float64 `json:"off_points,omitempty"`
	Off       string  `json:"off,omitempty"`

	Method string `json:"method,omitempty"` // how the chain value was computed
	Reason string `json:"reason,omitempty"` // why the claim is not verifiable

	Adjustment *AdjustmentDetail `json:"adjustment,omitempty"`
	Outflow    *OutflowDetail    `json:"outflow,omitempty"`
}

// ErrBadVerify is returned by the Verify functions for arguments no claim
// can have: a window and a block count at once, a date not at midnight UTC,
// a day range that ends before it starts, a negative tolerance or height.
var ErrBadVerify = errors.New("invalid verification request")

// newVerification starts the result for a claim of figure f.
func newVerification(kind, unit string, f Figure, tol float64) Verification {
	lo, hi := f.Bounds(tol)
	return Verification{Kind: kind, Claim: f.Text, Unit: unit, TolerancePct: tol * 100,
		Claimed: &ClaimRange{Value: f.Value, Lo: lo, Hi: hi}}
}

// notVerifiable sets the verdict and its reason.
func (v *Verification) notVerifiable(format string, args ...any) {
	v.Verdict = VerdictNotVerifiable
	v.Reason = fmt.Sprintf(format, args...)
}

// judge compares the claim's range with the chain's interval (or value):
// they must meet. A relative slack of 1e-12 absorbs floating-point noise on
// the boundary of a rounded figure.
func (v *Verification) judge() {
	c, ch := v.Claimed, v.Chain
	eps := 1e-12 * math.Max(math.Abs(c.Lo), math.Abs(c.Hi))
	switch {
	case c.Hi+eps < ch.Lo:
		v.Verdict = VerdictInconsistent
		v.setOff(ch.Lo, "below", "the lower bound")
	case c.Lo-eps > ch.Hi:
		v.Verdict = VerdictInconsistent
		v.setOff(ch.Hi, "above", "the upper bound")
	default:
		v.Verdict = VerdictConsistent
	}
}

// setOff says how far the claimed value is from bound.
func (v *Verification) setOff(bound float64, dir, what string) {
	if v.Chain.Exact {
		what = "the chain value"
	}
	claimed := v.Claimed.Value
	if v.Unit == "%" {
		v.OffPoints = claimed - bound
		v.Off = fmt.Sprintf("the claim is %s percentage points %s %s",
			verifyNum(math.Abs(v.OffPoints)), dir, what)
		return
	}
	if bound == 0 {
		v.Off = fmt.Sprintf("the claim is %s %s, which is 0", dir, what)
		return
	}
	v.OffPct = (claimed - bound) / math.Abs(bound) * 100
	v.Off = fmt.Sprintf("the claim is %s%% %s %s", verifyNum(math.Abs(v.OffPct)), dir, what)
	if r := claimed / bound; r >= 10 {
		v.Off = fmt.Sprintf("the claim is %s times %s", strconv.FormatFloat(r, 'g', 3, 64), what)
	}
}

// fmtNum prints a percentage for people: two decimals, or three
// significant digits below 1.
func verifyNum(x float64) string {
	if x >= 1 || x == 0 {
		return strconv.FormatFloat(x, 'f', 2, 64)
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}

func unixUTC(unix int64) time.Time { return time.Unix(unix, 0).UTC() }

func verifyDay(unix int64) string { return unixUTC(unix).Format(time.DateOnly) }

func verifyTime(unix int64) string { return unixUTC(unix).Format(time.RFC3339) }

// checkTolerance refuses a negative or non-finite tolerance.
func checkVerifyTolerance(tol float64) error {
	if !(tol >= 0) || math.IsInf(tol, 0) {
		return fmt.Errorf("%w: tolerance %v must be 0 or more", ErrBadVerify, tol)
	}
	return nil
}

// VerifyHashrate checks a hashrate claim at time at (unix seconds) against
// the headers hs, which must be contiguous, start at or before the data
// needed (usually at genesis) and end at the index tip. Exactly one of
// windowSeconds and blocks must be positive:
//
//   - windowSeconds: the blocks timestamped in (at−windowSeconds, at], as
//     WindowHashrate, with Garwood's exact interval on their count;
//   - blocks: the last blocks intervals ending at the last block stamped at
//     or before at, as NetworkHashPS (getnetworkhashps), with the interval
//     of the consecutive-interval model.
//
// The claim is consistent when the values it stands for (Figure.Bounds with
// tol, a fraction) meet the 95% interval. It is not verifiable when the
// index does not reach at, or the blocks give no interval.
func VerifyHashrate(p Params, hs []Header, claim Figure, tol float64, at, windowSeconds int64, blocks int) (Verification, error) {
	v := newVerification("hashrate", "H/s", claim, tol)
	if err := checkVerifyTolerance(tol); err != nil {
		return v, err
	}
	if (windowSeconds > 0) == (blocks > 0) {
		return v, fmt.Errorf("%w: give a positive time window or block count, not both "+
			"(window %d s, blocks %d)", ErrBadVerify, windowSeconds, blocks)
	}
	if err := checkHeaders(hs); err != nil {
		return v, err
	}
	if beyondTip(hs, at, &v) {
		return v, nil
	}

	var est Estimate
	var err error
	if windowSeconds > 0 {
		est, err = WindowHashrate(p, hs, at-windowSeconds, at)
		v.Method = fmt.Sprintf("work of the blocks stamped in (%s, %s] / %d s; 95%% interval: "+
			"Garwood's exact Poisson interval on their count", verifyTime(at-windowSeconds),
			verifyTime(at), windowSeconds)
	} else {
		est, err = hashrateAtBlocks(p, hs, at, blocks, &v)
	}
	var he *HeadersError
	switch {
	case errors.As(err, &he):
		v.notVerifiable("%v", err)
		return v, nil
	case err != nil:
		return v, err
	case v.Verdict == VerdictNotVerifiable:
		return v, nil
	case !est.HasInterval:
		v.notVerifiable("the timestamps of blocks %d..%d do not advance, so they give no interval",
			est.FromHeight, est.ToHeight)
		return v, nil
	}

	v.Chain = &ChainValue{Value: est.HashesPerSec, Lo: est.Lo, Hi: est.Hi}
	v.Span = &VerifySpan{FromHeight: est.FromHeight, ToHeight: est.ToHeight,
		FromTime: unixUTC(est.FromTime), ToTime: unixUTC(est.ToTime), Blocks: est.Intervals}
	v.judge()
	return v, nil
}

// beyondTip marks v not verifiable and reports true when at is after the
// timestamp of the tip, the last header of hs: the index may not have seen
// the blocks of that time yet.
func beyondTip(hs []Header, at int64, v *Verification) bool {
	tip := hs[len(hs)-1]
	if at <= tip.Time {
		return false
	}
	v.notVerifiable("the index reaches only %s (height %d), before %s; sync the index "+
		"further or choose an earlier time", verifyTime(tip.Time), tip.Height, verifyTime(at))
	return true
}

// blockAt returns the index in hs of the block in effect at time at: the
// last (highest) block stamped at or before it. It marks v not verifiable
// and returns -1 when there is none.
func blockAt(hs []Header, at int64, v *Verification) int {
	for i := len(hs) - 1; i >= 0; i-- {
		if hs[i].Time <= at {
			return i
		}
	}
	v.notVerifiable("no indexed block is stamped at or before %s", verifyTime(at))
	return -1
}

// hashrateAtBlocks estimates over blocks intervals ending at the last block
// stamped at or before at, marking v not verifiable when there is none.
func hashrateAtBlocks(p Params, hs []Header, at int64, blocks int, v *Verification) (Estimate, error) {
	end := blockAt(hs, at, v)
	if end < 0 {
		return Estimate{}, nil
	}
	h := hs[end].Height
	v.Method = fmt.Sprintf("getnetworkhashps(%d, %d): work of the %d blocks ending at height %d "+
		"(the last stamped at or before %s) / their time spread; 95%% interval from the "+
		"consecutive block intervals", blocks, h, blocks, h, verifyTime(at))
	if int64(blocks) > int64(h) {
		v.Method += fmt.Sprintf("; only %d blocks precede height %d", h, h)
	}
	return NetworkHashPS(p, hs[:end+1], blocks, h)
}

// VerifyDifficulty checks a difficulty claim against the difficulty of the
// block at height, exactly as Bitcoin Core's getblockheader reports it
// (Difficulty of its bits). hs must be contiguous. The claim is consistent
// when the chain value rounds to it at its stated precision, within tol (a
// fraction of the claimed value) more; a height outside hs is not
// verifiable.
func VerifyDifficulty(hs []Header, claim Figure, tol float64, height int32) (Verification, error) {
	v := newVerification("difficulty", "", claim, tol)
	if err := checkVerifyTolerance(tol); err != nil {
		return v, err
	}
	if height < 0 {
		return v, fmt.Errorf("%w: height %d is negative", ErrBadVerify, height)
	}
	if err := checkHeaders(hs); err != nil {
		return v, err
	}
	first, last := hs[0].Height, hs[len(hs)-1].Height
	if height < first || height > last {
		v.notVerifiable("the index holds heights %d..%d, not %d; sync the index further",
			first, last, height)
		return v, nil
	}
	h := hs[height-first]
	d := Difficulty(h.Bits)
	v.Chain = &ChainValue{Value: d, Lo: d, Hi: d, Exact: true}
	v.Span = &VerifySpan{FromHeight: height, ToHeight: height, FromTime: unixUTC(h.Time),
		ToTime: unixUTC(h.Time), Blocks: 1}
	v.Method = fmt.Sprintf("difficulty of block %d's bits %08x: the proof-of-work limit's "+
		"target (bits 1d00ffff) over the block's target, as getblockheader reports it", height, h.Bits)
	v.judge()
	return v, nil
}

// VerifyDifficultyAt is VerifyDifficulty for the block in effect at time at
// (unix seconds): the last block stamped at or before it, the block that
// VerifyHashrate's blocks count ends at. hs must be contiguous and end at the
// index tip; a time after the tip's timestamp, or before every block in hs,
// is not verifiable.
func VerifyDifficultyAt(hs []Header, claim Figure, tol float64, at int64) (Verification, error) {
	v := newVerification("difficulty", "", claim, tol)
	if err := checkVerifyTolerance(tol); err != nil {
		return v, err
	}
	if err := checkHeaders(hs); err != nil {
		return v, err
	}
	if beyondTip(hs, at, &v) {
		return v, nil
	}
	i := blockAt(hs, at, &v)
	if i < 0 {
		return v, nil
	}
	v, err := VerifyDifficulty(hs, claim, tol, hs[i].Height)
	v.Method += fmt.Sprintf("; block %d is the last stamped at or before %s", hs[i].Height, verifyTime(at))
	return v, err
}

// VerifyAdjustment checks the claim that the difficulty was adjusted on the
// UTC date starting at dayStart (unix seconds, a multiple of 86400), and
// with change, when not nil, that it changed by that percentage (within its
// precision and tol, a fraction of the claimed change).
//
// A retarget is the first block of an epoch (a height that is a positive
// multiple of RetargetInterval) and falls on the date of its header
// timestamp. It counts even when the rule left the difficulty unchanged
// (change 0%, as at every 2009 retarget, clamped at the proof-of-work
// limit). hs must run contiguously from height 0 to the tip.
//
// With no retarget on the date the claim is inconsistent, and the nearest
// retargets before and after are named; it is not verifiable when the index
// ends before the end of the date (a retarget not yet mined, or not yet
// indexed, might fall on it).
func VerifyAdjustment(p Params, hs []Header, dayStart int64, change *Figure, tol float64) (Verification, error) {
	v := Verification{Kind: "adjustment", Unit: "%", TolerancePct: tol * 100,
		Claim: "retarget on " + verifyDay(dayStart)}
	if change != nil {
		v = newVerification("adjustment", "%", *change, tol)
		v.Claim = fmt.Sprintf("retarget on %s by %s", verifyDay(dayStart), change.Text)
	}
	if err := checkVerifyTolerance(tol); err != nil {
		return v, err
	}
	if dayStart%86400 != 0 {
		return v, fmt.Errorf("%w: %s is not the start of a UTC day", ErrBadVerify, verifyTime(dayStart))
	}
	epochs, err := Epochs(p, hs)
	if err != nil {
		return v, err
	}
	dayEnd := dayStart + 86400
	tip := hs[len(hs)-1]
	d := &AdjustmentDetail{Date: verifyDay(dayStart), Retargets: []AdjustmentEvent{},
		NextHeight: (tip.Height/p.RetargetInterval + 1) * p.RetargetInterval}
	v.Adjustment = d
	v.Method = fmt.Sprintf("retargets are the first blocks of %d-block epochs; a retarget falls on "+
		"the UTC date of its header timestamp; change = its difficulty over the previous epoch's",
		p.RetargetInterval)
	for i := 1; i < len(epochs) && !p.NoRetargeting; i++ {
		e := epochs[i]
		ev := AdjustmentEvent{Height: e.StartHeight, Time: unixUTC(e.StartTime), Difficulty: e.Difficulty,
			PrevDifficulty: epochs[i-1].Difficulty, ChangePct: e.ChangePct}
		switch {
		case e.StartTime < dayStart:
			d.Before = &ev
		case e.StartTime >= dayEnd:
			if d.After == nil {
				d.After = &ev
			}
		default:
			d.Retargets = append(d.Retargets, ev)
		}
	}

	switch {
	case len(d.Retargets) > 0:
		judgeRetargets(&v, d.Retargets)
	case p.NoRetargeting:
		v.Verdict = VerdictInconsistent
		v.Off = fmt.Sprintf("%s never retargets: its difficulty is fixed", p.Name)
	case tip.Time < dayEnd:
		v.notVerifiable("the index reaches only %s (height %d), before the end of %s; the next "+
			"retarget, at height %d, is not indexed yet", verifyTime(tip.Time), tip.Height,
			d.Date, d.NextHeight)
	default:
		v.Verdict = VerdictInconsistent
		v.Off = noRetargetText(d)
	}
	return v, nil
}

// judgeRetargets sets the verdict from the retargets on the date: the first
// whose change matches the claimed change, else the first.
func judgeRetargets(v *Verification, evs []AdjustmentEvent) {
	for _, ev := range append(evs, evs[0]) {
		v.Chain = &ChainValue{Value: ev.ChangePct, Lo: ev.ChangePct, Hi: ev.ChangePct, Exact: true}
		v.Span = &VerifySpan{FromHeight: ev.Height, ToHeight: ev.Height, FromTime: ev.Time,
			ToTime: ev.Time, Blocks: 1}
		if v.Claimed == nil {
			v.Verdict = VerdictConsistent
			return
		}
		v.Verdict, v.OffPoints, v.Off = "", 0, ""
		v.judge()
		if v.Verdict == VerdictConsistent {
			return
		}
	}
}

// noRetargetText names the retargets nearest to a date without one.
func noRetargetText(d *AdjustmentDetail) string {
	s := "no retarget is stamped on " + d.Date
	if d.Before != nil {
		s += fmt.Sprintf("; the one before is at height %d on %s", d.Before.Height,
			d.Before.Time.Format(time.DateOnly))
	}
	if d.After != nil {
		s += fmt.Sprintf("; the one after is at height %d on %s", d.After.Height,
			d.After.Time.Format(time.DateOnly))
	} else {
		s += fmt.Sprintf("; the next, at height %d, is not indexed yet", d.NextHeight)
	}
	return s
}

// VerifyOutflow checks a claim of miner outflow over the UTC days fromDay
// to toDay inclusive (unix seconds at 00:00 UTC): the exact sum of the
// Outflow of the blocks timestamped in [fromDay, toDay+1d), as the daily
// series of FlowSeries counts them. blocks are one level's flows (hops is
// that level, reported), contiguous by height.
//
// The claim is consistent when the sum rounds to it at its stated precision,
// within tol (a fraction of the claimed amount) more. It is not verifiable
// when the blocks do not start at genesis (outflows of coins mined below
// the first full block are not tracked) or end before toDay is over.
func VerifyOutflow(blocks []BlockFlow, claim AmountFigure, tol float64, fromDay, toDay int64, hops int) (Verification, error) {
	lo, hi := claim.Bounds(tol)
	v := Verification{Kind: "outflow", Claim: claim.Text, Unit: "sat", TolerancePct: tol * 100,
		Claimed: &ClaimRange{Value: float64(claim.Value), Lo: lo, Hi: hi}}
	if err := checkVerifyTolerance(tol); err != nil {
		return v, err
	}
	if fromDay%86400 != 0 || toDay%86400 != 0 || toDay < fromDay {
		return v, fmt.Errorf("%w: days %s to %s are not two UTC dates in order", ErrBadVerify,
			verifyTime(fromDay), verifyTime(toDay))
	}
	end := toDay + 86400
	v.Method = fmt.Sprintf("sum of the %d-hop miner outflow of the blocks stamped in [%s, %s), "+
		"as outflows --series daily --hops %d", hops, verifyTime(fromDay), verifyTime(end), hops)
	if len(blocks) == 0 {
		v.notVerifiable("the index holds no full blocks")
		return v, nil
	}
	for i := range blocks {
		if blocks[i].Height != blocks[0].Height+int32(i) {
			return v, fmt.Errorf("%w: block flow %d is at height %d", ErrNotContiguous, i, blocks[i].Height)
		}
	}
	first, last := blocks[0], blocks[len(blocks)-1]
	switch {
	case first.Height > 0:
		v.notVerifiable("the index has full blocks from height %d only, so outflows of coins mined "+
			"below it are not tracked; index full blocks from genesis", first.Height)
		return v, nil
	case last.Time < end:
		v.notVerifiable("the index reaches only %s (height %d), before the end of %s; sync the "+
			"index further", verifyTime(last.Time), last.Height, verifyDay(toDay))
		return v, nil
	}

	var sum btcutil.Amount
	span := &VerifySpan{FromHeight: -1, ToHeight: -1, FromTime: unixUTC(fromDay), ToTime: unixUTC(end)}
	for _, b := range blocks {
		if b.Time < fromDay || b.Time >= end {
			continue
		}
		sum += b.Outflow
		if span.FromHeight < 0 {
			span.FromHeight = b.Height
		}
		span.ToHeight = b.Height
		span.Blocks++
	}
	s := float64(sum)
	v.Chain = &ChainValue{Value: s, Lo: s, Hi: s, Exact: true}
	v.Span = span
	v.Outflow = &OutflowDetail{Hops: hops, ClaimedSat: claim.Value, StepSat: claim.Step,
		ChainSat: sum, DiffSat: claim.Value - sum}
	v.judge()
	return v, nil
}
