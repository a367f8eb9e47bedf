package chart

import (
	"fmt"
	"math"

	"gonum.org/v1/plot/plotter"
)

// RibbonDay is one day of the hash ribbons (analysis.HashRibbons).
type RibbonDay struct {
	Start, End  int64
	Hashrate    float64 // H/s; 0 on a day without blocks
	Lo, Hi      float64 // its 95% interval
	HasInterval bool
	MA30, MA60  float64 // moving averages of Hashrate, H/s; NaN until enough days
}

// Period is a time range [Start, End), unix seconds.
type Period struct {
	Start, End int64
}

// RibbonData is the input of Ribbons.
type RibbonData struct {
	Meta
	Days          []RibbonDay
	Capitulations []Period // shaded
	Scale         Scale
}

// Ribbons draws the hash ribbons: the daily hashrate with its band, its 30- and 60-day moving averages, and
// the capitulation periods (30-day average below the 60-day one) shaded.
func Ribbons(d RibbonData) (*Chart, error) {
	if len(d.Days) == 0 {
		return nil, ErrNoData
	}
	c := &Chart{Title: fmt.Sprintf("Hash ribbons, %s, %s: 30- and 60-day averages of daily hashrate",
		d.Network, d.heights())}
	p := c.newPanel("")

	n := len(d.Days)
	x, v, lo, hi := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	ma30, ma60 := make([]float64, n), make([]float64, n)
	for i, day := range d.Days {
		x[i] = float64(day.Start+day.End) / 2
		v[i], lo[i], hi[i], ma30[i], ma60[i] = day.Hashrate, day.Lo, day.Hi, day.MA30, day.MA60
	}
	log := useLog(d.Scale, v, ma30, ma60)
	ymin, ymax, _ := positiveRange(v, ma30, ma60, hi)
	ax := unitAxis(p, "Hashrate", "H/s", log, ymin, ymax)
	floor := 0.0
	if log {
		floor = ymin / 1.5
	}
	okV, okB, ok30, ok60 := make([]bool, n), make([]bool, n), make([]bool, n), make([]bool, n)
	for i, day := range d.Days {
		okV[i] = !log || v[i] > 0
		okB[i] = day.HasInterval
		ok30[i] = !math.IsNaN(ma30[i]) && (!log || ma30[i] > 0)
		ok60[i] = !math.IsNaN(ma60[i]) && (!log || ma60[i] > 0)
		v[i], ma30[i], ma60[i] = v[i]/ax.div, ma30[i]/ax.div, ma60[i]/ax.div
		lo[i], hi[i] = math.Max(lo[i], floor)/ax.div, hi[i]/ax.div
	}

	caps := &spans{color: redShade}
	for _, cp := range d.Capitulations {
		caps.x0, caps.x1 = append(caps.x0, float64(cp.Start)), append(caps.x1, float64(cp.End))
	}
	p.Add(caps)
	bandArea := &band{x: x, lo: lo, hi: hi, ok: okB, color: lightBand}
	p.Add(bandArea)
	daily := lineStyle(gray(120), 0.8)
	s30, s60 := lineStyle(blue, 2), lineStyle(vermilion, 2)
	p.Add(lineRuns(x, v, okV, daily, plotter.NoStep)...)
	p.Add(lineRuns(x, ma60, ok60, s60, plotter.NoStep)...)
	p.Add(lineRuns(x, ma30, ok30, s30, plotter.NoStep)...)
	setXRange(p, d.Days[0].Start, d.Days[n-1].End)
	if log {
		p.Y.Min, p.Y.Max = floor/ax.div, ymax*1.3/ax.div
	} else {
		p.Y.Min, p.Y.Max = 0, ymax*1.05/ax.div
	}

	c.addLegend("30-day average", lineThumb{s30})
	c.addLegend("60-day average", lineThumb{s60})
	c.addLegend("daily hashrate", lineThumb{daily})
	c.addLegend("its 95% interval", bandArea)
	noun := "periods"
	if len(d.Capitulations) == 1 {
		noun = "period"
	}
	c.addLegend(fmt.Sprintf("capitulation: 30-day average below the 60-day (%d %s)", len(d.Capitulations), noun), caps)
	c.Footnote = []string{d.source(),
		"Hash Ribbons (C. Edwards, 2019): miners capitulate while the 30-day average of the daily hashrate is " +
			"below the 60-day one; recovery when it crosses back above. The averages start after 30 and 60 days " +
			"of data."}
	if log {
		c.Footnote = append(c.Footnote, logNote(d.Scale))
	}
	return c, nil
}
