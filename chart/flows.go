package chart

import (
	"fmt"
	"image/color"

	"github.com/btcsuite/btcd/btcutil"
	"gonum.org/v1/plot/plotter"
)

// FlowDay is one UTC day of miner flows (analysis.FlowSeries, daily).
type FlowDay struct {
	Start, End int64
	Outflow    btcutil.Amount // value leaving the miner set
	Internal   btcutil.Amount // value moved between miner scripts
	Reserve    btcutil.Amount // unspent miner outputs at the day's end
}

// FlowData is the input of Outflows and Reserve.
type FlowData struct {
	Meta
	Hops int // 0: scripts paid by coinbases; 1: and the scripts they pay
	Days []FlowDay
}

func (d FlowData) minerSet() string {
	if d.Hops == 1 {
		return "the scripts coinbases pay and the scripts those pay (--hops 1)"
	}
	return "the scripts coinbases pay (--hops 0)"
}

// Outflows draws the daily miner outflow as bars and the internal transfers as a line.
func Outflows(d FlowData) (*Chart, error) {
	if len(d.Days) == 0 {
		return nil, ErrNoData
	}
	c := &Chart{Title: fmt.Sprintf("Miner outflows, %s, %s, daily, %d-hop", d.Network, d.heights(), d.Hops)}
	p := c.newPanel("BTC per day")
	p.Y.Tick.Marker = numberTicks{niceTicks{n: 6}}

	out := &bars{color: vermilion, gapFrac: 0.15}
	var xs, internal []float64
	ok := make([]bool, len(d.Days))
	for i, day := range d.Days {
		out.x0, out.x1 = append(out.x0, float64(day.Start)), append(out.x1, float64(day.End))
		out.y = append(out.y, day.Outflow.ToBTC())
		xs = append(xs, float64(day.Start+day.End)/2)
		internal = append(internal, day.Internal.ToBTC())
		ok[i] = true
	}
	style := lineStyle(blue, 1.2)
	p.Add(out)
	p.Add(lineRuns(xs, internal, ok, style, plotter.NoStep)...)
	setXRange(p, d.Days[0].Start, d.Days[len(d.Days)-1].End)
	p.Y.Min, p.Y.Max = 0, max(p.Y.Max*1.05, 1)

	c.addLegend("outflow: miner value paid to scripts outside the miner set", out)
	c.addLegend("internal transfers: miner value paid back to miner scripts", lineThumb{style})
	c.Footnote = []string{d.source(),
		fmt.Sprintf("Miner set: %s. A day is the blocks timestamped in it; amounts are exact satoshi sums "+
			"shown in BTC.", d.minerSet())}
	return c, nil
}

// Reserve draws the miner reserve at the end of each day.
func Reserve(d FlowData) (*Chart, error) {
	if len(d.Days) == 0 {
		return nil, ErrNoData
	}
	c := &Chart{Title: fmt.Sprintf("Miner reserve, %s, %s, at each UTC day's end, %d-hop", d.Network,
		d.heights(), d.Hops)}
	p := c.newPanel("Miner reserve (BTC)")
	p.Y.Tick.Marker = numberTicks{niceTicks{n: 6}}

	var xys plotter.XYs
	for _, day := range d.Days {
		xys = append(xys, plotter.XY{X: float64(day.End), Y: day.Reserve.ToBTC()})
	}
	style := lineStyle(green, 1.5)
	l := &plotter.Line{XYs: xys, LineStyle: style, FillColor: color.NRGBA{R: 0, G: 158, B: 115, A: 40}}
	p.Add(l)
	setXRange(p, d.Days[0].Start, d.Days[len(d.Days)-1].End)
	if p.Y.Min > 0 {
		p.Y.Min = 0
	}
	p.Y.Max = max(p.Y.Max*1.05, 1)

	c.addLegend("reserve: value of the unspent outputs miner scripts hold, at the day's end", lineThumb{style})
	c.Footnote = []string{d.source(),
		fmt.Sprintf("Miner set: %s. Coins mined before the index's first full block are not counted.",
			d.minerSet())}
	return c, nil
}
