package chart

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

// Meta says what a chart covers, for its title and footnote.
type Meta struct {
	Network              string // "mainnet", ...
	FromHeight, ToHeight int32  // the blocks behind the figures
}

// heights renders the block range for a title: "blocks 0–14131".
func (m Meta) heights() string {
	if m.FromHeight == m.ToHeight {
		return fmt.Sprintf("block %d", m.FromHeight)
	}
	return fmt.Sprintf("blocks %d–%d", m.FromHeight, m.ToHeight)
}

// source is the first footnote line.
func (m Meta) source() string {
	return fmt.Sprintf("Source: minerscope, from the node's own chain (%s, heights %d–%d). Times are block "+
		"timestamps, UTC.", m.Network, m.FromHeight, m.ToHeight)
}

// Day is one day's hashrate estimate with its 95% interval (analysis.DailyHashrate).
type Day struct {
	Start, End  int64   // unix seconds: the day [Start, End), clipped to the data at the ends
	Hashrate    float64 // H/s
	Lo, Hi      float64 // 95% bounds, H/s
	HasInterval bool
	Blocks      int
}

// Retarget is a difficulty adjustment: the first block of an epoch.
type Retarget struct {
	Time      int64 // the block's timestamp
	Height    int32
	ChangePct float64
}

// HashrateData is the input of Hashrate.
type HashrateData struct {
	Meta
	Days      []Day
	Retargets []Retarget // drawn when inside the days' range
	Scale     Scale
}

// Hashrate draws the daily hashrate as a line inside its shaded 95% band, with a vertical marker at each
// difficulty retarget.
func Hashrate(d HashrateData) (*Chart, error) {
	if len(d.Days) == 0 {
		return nil, ErrNoData
	}
	c := &Chart{Title: fmt.Sprintf("Network hashrate, %s, %s, daily, 95%% interval", d.Network, d.heights())}
	p := c.newPanel("")

	n := len(d.Days)
	x, v, lo, hi := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	okV, okB := make([]bool, n), make([]bool, n)
	for i, day := range d.Days {
		x[i] = float64(day.Start+day.End) / 2
		v[i], lo[i], hi[i] = day.Hashrate, day.Lo, day.Hi
	}
	log := useLog(d.Scale, v, hi)
	ymin, ymax, _ := positiveRange(v, lo, hi)
	ax := unitAxis(p, "Hashrate", "H/s", log, ymin, ymax)
	floor := 0.0
	if log {
		floor = ymin / 1.5
	}
	for i, day := range d.Days {
		okV[i] = !log || day.Hashrate > 0
		okB[i] = day.HasInterval
		v[i] /= ax.div
		lo[i], hi[i] = math.Max(lo[i], floor)/ax.div, hi[i]/ax.div
	}
	bandArea := &band{x: x, lo: lo, hi: hi, ok: okB, color: lightBlue}
	p.Add(bandArea)
	mk := retargetMarkers(d.Retargets, d.Days[0].Start, d.Days[n-1].End)
	if mk != nil {
		p.Add(mk)
	}
	style := lineStyle(blue, 1.5)
	p.Add(lineRuns(x, v, okV, style, plotter.NoStep)...)
	if mk != nil {
		p.Add(markerLabels{mk})
	}
	setXRange(p, d.Days[0].Start, d.Days[n-1].End)
	if log {
		p.Y.Min, p.Y.Max = floor/ax.div, ymax*1.3/ax.div
	} else {
		p.Y.Min, p.Y.Max = 0, p.Y.Max*1.05
	}

	c.addLegend("daily hashrate (work of the day's blocks / seconds in the day)", lineThumb{style})
	c.addLegend("95% interval (exact Poisson bounds from the day's block count)", bandArea)
	if mk != nil {
		c.addLegend(retargetLegend(len(mk.x)), mk)
	}
	c.Footnote = []string{d.source(),
		"Each point is one UTC day: the blocks timestamped that day × their work ÷ 86,400 s. Few blocks " +
			"make a wide band; the first and last days may be partial."}
	if log {
		c.Footnote = append(c.Footnote, logNote(d.Scale))
	}
	return c, nil
}

// retargetMarkers returns the markers of the retargets timestamped in [from, to), nil when there are none.
func retargetMarkers(rs []Retarget, from, to int64) *markers {
	m := &markers{style: lineStyle(gray(110), 0.7, 3, 2)}
	for _, r := range rs {
		if r.Time >= from && r.Time < to {
			m.x = append(m.x, float64(r.Time))
			m.labels = append(m.labels, fmt.Sprintf("%d", r.Height))
		}
	}
	if len(m.x) == 0 {
		return nil
	}
	return m
}

func retargetLegend(n int) string {
	if n > rugAbove {
		return "difficulty retarget (ticks at the bottom; labelled by height when fewer)"
	}
	return "difficulty retarget (first block of an epoch, labelled with its height)"
}

// setXRange fixes the X axis to [from, to] (unix seconds). Call it after the last Add, which widens axes.
func setXRange(p *plot.Plot, from, to int64) {
	p.X.Min, p.X.Max = float64(from), float64(to)
}
