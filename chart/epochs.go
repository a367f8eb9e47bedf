package chart

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg/draw"
)

// Epoch is one difficulty epoch (analysis.Epoch without its hashrate).
type Epoch struct {
	Number                 int32
	StartHeight, EndHeight int32
	StartTime, EndTime     int64   // timestamps of the first and last block
	Difficulty             float64 // of the epoch's blocks
	ChangePct              float64 // at the epoch's first block, vs the previous epoch; ignored for epoch 0
	DurationS              int64   // EndTime − StartTime
	Complete               bool
}

// EpochData is the input of Difficulty and Epochs.
type EpochData struct {
	Meta
	Epochs         []Epoch
	TargetTimespan int64 // seconds an epoch should take, 1,209,600 on every network
	Scale          Scale // Difficulty's Y axis
}

// retargets lists the epochs' first blocks after the first epoch of the chain.
func (d EpochData) retargets() []Retarget {
	var rs []Retarget
	for _, e := range d.Epochs {
		if e.Number > 0 {
			rs = append(rs, Retarget{Time: e.StartTime, Height: e.StartHeight, ChangePct: e.ChangePct})
		}
	}
	return rs
}

// span is the time range the epochs cover.
func (d EpochData) span() (int64, int64) {
	lo, hi := d.Epochs[0].StartTime, d.Epochs[0].EndTime
	for _, e := range d.Epochs {
		lo, hi = min(lo, e.StartTime), max(hi, e.EndTime, e.StartTime+1)
	}
	return lo, hi
}

// maxAnnotated is the most epochs whose changes Difficulty writes out; beyond, a few scattered numbers
// would suggest a pattern that is only the thinning.
const maxAnnotated = 40

// Difficulty draws the difficulty of each epoch as a step line, with the change at each retarget written
// above the step where there is room (up to maxAnnotated epochs).
func Difficulty(d EpochData) (*Chart, error) {
	if len(d.Epochs) == 0 {
		return nil, ErrNoData
	}
	c := &Chart{Title: fmt.Sprintf("Difficulty, %s, %s, per epoch of 2016 blocks", d.Network, d.heights())}
	p := c.newPanel("")
	from, to := d.span()

	var xs, ys []float64
	for _, e := range d.Epochs {
		xs, ys = append(xs, float64(e.StartTime)), append(ys, e.Difficulty)
	}
	log := useLog(d.Scale, ys)
	lo, hi, _ := positiveRange(ys)
	ax := unitAxis(p, "Difficulty", "", log, lo, hi)
	for i := range ys {
		ys[i] /= ax.div
	}
	xs, ys = append(xs, float64(to)), append(ys, ys[len(ys)-1])

	mk := retargetMarkers(d.retargets(), from, to+1)
	if mk != nil {
		p.Add(mk)
	}
	style := lineStyle(blue, 1.8)
	ok := make([]bool, len(xs))
	for i := range ok {
		ok[i] = true
	}
	p.Add(lineRuns(xs, ys, ok, style, plotter.PostStep)...)
	if mk != nil {
		p.Add(markerLabels{mk})
	}
	nt := &notes{style: textStyle(8, color.Black)}
	nt.style.XAlign, nt.style.YAlign = draw.XCenter, draw.YBottom
	annotate := len(d.Epochs) <= maxAnnotated
	for i, e := range d.Epochs {
		if annotate && e.Number > 0 {
			mid := (float64(e.StartTime) + float64(max(e.EndTime, e.StartTime))) / 2
			nt.x, nt.y = append(nt.x, mid), append(nt.y, ys[i])
			nt.labels = append(nt.labels, fmt.Sprintf("%+.1f%%", e.ChangePct))
		}
	}
	p.Add(nt)
	setXRange(p, from, to)
	if log {
		p.Y.Min, p.Y.Max = lo/1.5/ax.div, hi*2/ax.div
	} else {
		p.Y.Min, p.Y.Max = 0, hi*1.15/ax.div
	}

	c.addLegend("difficulty of the epoch's blocks (as bitcoind's getdifficulty)", lineThumb{style})
	if mk != nil {
		c.addLegend(retargetLegend(len(mk.x)), mk)
	}
	if annotate {
		c.addLegend("+x% = change at the retarget (written where there is room)")
	}
	c.Footnote = []string{d.source(),
		"Difficulty is the target of the minimum-difficulty block (bits 1d00ffff) divided by the epoch's target. " +
			"It changes every 2016 blocks by 14 days ÷ the time the last epoch took, at most ×4 or ÷4."}
	if log {
		c.Footnote = append(c.Footnote, logNote(d.Scale))
	}
	return c, nil
}

// Epochs draws two panels: each epoch's duration against the 14-day target, and the difficulty change
// at each retarget.
func Epochs(d EpochData) (*Chart, error) {
	if len(d.Epochs) == 0 {
		return nil, ErrNoData
	}
	if d.TargetTimespan <= 0 {
		d.TargetTimespan = 14 * 86400
	}
	target := float64(d.TargetTimespan) / 86400
	c := &Chart{Title: fmt.Sprintf("Difficulty epochs, %s, %s: duration and retarget change",
		d.Network, d.heights())}
	from, to := d.span()

	dur := c.newPanel("Duration (days)")
	dur.Y.Tick.Marker = numberTicks{niceTicks{n: 4}}
	durBars := &bars{color: blue, gapFrac: 0.08}
	for _, e := range d.Epochs {
		durBars.x0 = append(durBars.x0, float64(e.StartTime))
		durBars.x1 = append(durBars.x1, float64(max(e.EndTime, e.StartTime+1)))
		durBars.y = append(durBars.y, float64(e.DurationS)/86400)
		clr := color.Color(blue)
		switch {
		case !e.Complete:
			clr = gray(170)
		case e.DurationS > d.TargetTimespan:
			clr = orange
		}
		durBars.colors = append(durBars.colors, clr)
	}
	targetLine := &hline{y: target, style: lineStyle(color.Black, 1, 4, 3)}
	dur.Add(durBars, targetLine)
	setXRange(dur, from, to)
	dur.Y.Min, dur.Y.Max = 0, math.Max(dur.Y.Max, target)*1.1

	chg := c.newPanel("Difficulty change (%)")
	chg.Y.Tick.Marker = numberTicks{niceTicks{n: 4}}
	chgBars := &bars{gapFrac: 0.08}
	for _, e := range d.Epochs {
		if e.Number == 0 {
			continue
		}
		chgBars.x0 = append(chgBars.x0, float64(e.StartTime))
		chgBars.x1 = append(chgBars.x1, float64(max(e.EndTime, e.StartTime+1)))
		chgBars.y = append(chgBars.y, e.ChangePct)
		clr := color.Color(blue)
		if e.ChangePct < 0 {
			clr = orange
		}
		chgBars.colors = append(chgBars.colors, clr)
	}
	zero := &hline{y: 0, style: lineStyle(color.Black, 0.8)}
	chg.Add(chgBars, zero)
	setXRange(chg, from, to)
	lim := math.Max(1, math.Max(math.Abs(chg.Y.Min), math.Abs(chg.Y.Max))) * 1.1
	chg.Y.Min, chg.Y.Max = -lim, lim

	c.addLegend(fmt.Sprintf("epoch faster than %g days (upper) / difficulty up (lower)", target), fillThumb{blue})
	c.addLegend(fmt.Sprintf("epoch slower than %g days (upper) / difficulty down (lower)", target),
		fillThumb{orange})
	if !d.Epochs[len(d.Epochs)-1].Complete {
		c.addLegend("unfinished epoch (time so far)", fillThumb{gray(170)})
	}
	c.addLegend(fmt.Sprintf("target: 2016 blocks × 10 min = %g days", target), targetLine)
	c.Footnote = []string{d.source(),
		"Upper panel: each bar spans one epoch, its height the time from its first to its last block, which the " +
			"retarget measures. Lower panel: the difficulty change at each epoch's first block, set by the epoch " +
			"before. Difficulty cannot fall below the network's minimum (1 on mainnet), whatever the duration."}
	return c, nil
}
