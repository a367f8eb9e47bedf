package chart

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// band fills the area between lo and hi over x, broken where ok is false.
type band struct {
	x, lo, hi []float64
	ok        []bool
	color     color.Color
}

// Plot implements plot.Plotter.
func (b *band) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	for i := 0; i < len(b.x); {
		if !b.ok[i] {
			i++
			continue
		}
		j := i
		for j < len(b.x) && b.ok[j] {
			j++
		}
		var pts []vg.Point
		for k := i; k < j; k++ {
			pts = append(pts, vg.Point{X: trX(b.x[k]), Y: trY(b.hi[k])})
		}
		for k := j - 1; k >= i; k-- {
			pts = append(pts, vg.Point{X: trX(b.x[k]), Y: trY(b.lo[k])})
		}
		if j-i == 1 { // a lone point: a short vertical bar
			pts = []vg.Point{{X: pts[0].X - 1, Y: pts[0].Y}, {X: pts[0].X + 1, Y: pts[0].Y},
				{X: pts[1].X + 1, Y: pts[1].Y}, {X: pts[1].X - 1, Y: pts[1].Y}}
		}
		c.FillPolygon(b.color, c.ClipPolygonXY(pts))
		i = j
	}
}

// DataRange implements plot.DataRanger.
func (b *band) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax, ymin, ymax = math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for i := range b.x {
		if b.ok[i] {
			xmin, xmax = math.Min(xmin, b.x[i]), math.Max(xmax, b.x[i])
			ymin, ymax = math.Min(ymin, b.lo[i]), math.Max(ymax, b.hi[i])
		}
	}
	return
}

// Thumbnail implements plot.Thumbnailer.
func (b *band) Thumbnail(c *draw.Canvas) { fillRect(c, b.color) }

func fillRect(c *draw.Canvas, clr color.Color) {
	c.FillPolygon(clr, []vg.Point{c.Min, {X: c.Max.X, Y: c.Min.Y}, c.Max, {X: c.Min.X, Y: c.Max.Y}})
}

// bars draws one bar per item spanning x0..x1 from base to y; colors, when set, colours each bar.
type bars struct {
	x0, x1, y []float64
	base      float64
	color     color.Color
	colors    []color.Color
	gapFrac   float64 // fraction of each bar's width left empty, split on both sides
}

// Plot implements plot.Plotter.
func (b *bars) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	for i := range b.y {
		if math.IsNaN(b.y[i]) {
			continue
		}
		pad := (b.x1[i] - b.x0[i]) * b.gapFrac / 2
		x0, x1 := trX(b.x0[i]+pad), trX(b.x1[i]-pad)
		if x1-x0 < 0.5 { // keep a hairline visible
			x1 = x0 + 0.5
		}
		y0, y1 := trY(b.base), trY(b.y[i])
		clr := b.color
		if b.colors != nil {
			clr = b.colors[i]
		}
		pts := []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
		c.FillPolygon(clr, c.ClipPolygonXY(pts))
	}
}

// DataRange implements plot.DataRanger.
func (b *bars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax, ymin, ymax = math.Inf(1), math.Inf(-1), b.base, b.base
	for i := range b.y {
		xmin, xmax = math.Min(xmin, b.x0[i]), math.Max(xmax, b.x1[i])
		if !math.IsNaN(b.y[i]) {
			ymin, ymax = math.Min(ymin, b.y[i]), math.Max(ymax, b.y[i])
		}
	}
	return
}

// Thumbnail implements plot.Thumbnailer.
func (b *bars) Thumbnail(c *draw.Canvas) { fillRect(c, b.color) }

// markers draws vertical lines at x with an optional label at the top of each. Labels that would
// overlap the previous one are skipped. With more than rugAbove markers the lines become short ticks
// along the bottom of the data area, so that they do not hide the data.
type markers struct {
	x      []float64
	labels []string
	style  draw.LineStyle
}

// markerLabels draws the labels of markers, added after the data so that the labels stay on top.
type markerLabels struct{ *markers }

// Plot implements plot.Plotter.
func (l markerLabels) Plot(c draw.Canvas, plt *plot.Plot) { l.plot(c, plt, false, true) }

const rugAbove = 120

// Plot implements plot.Plotter: it draws the lines; markerLabels draws the labels.
func (m *markers) Plot(c draw.Canvas, plt *plot.Plot) { m.plot(c, plt, true, false) }

func (m *markers) plot(c draw.Canvas, plt *plot.Plot, lines, labels bool) {
	trX, _ := plt.Transforms(&c)
	top := c.Max.Y
	if len(m.x) > rugAbove {
		top = c.Min.Y + 8
	}
	sty := textStyle(8, gray(70))
	sty.XAlign, sty.YAlign, sty.Rotation = draw.XRight, draw.YBottom, math.Pi/2
	lastLabel := vg.Length(math.Inf(-1))
	for i, x := range m.x {
		px := trX(x)
		if px < c.Min.X || px > c.Max.X {
			continue
		}
		if lines {
			c.StrokeLine2(m.style, px, c.Min.Y, px, top)
		}
		if !labels || m.labels == nil || m.labels[i] == "" || len(m.x) > rugAbove {
			continue
		}
		h, w := sty.Height(m.labels[i]), sty.Width(m.labels[i])
		if px-h-2 < lastLabel+2 {
			continue
		}
		// On a white box, so that the data behind does not make it unreadable.
		y1 := c.Max.Y - 2
		fillRect(&draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: px - h - 1, Y: y1 - w - 1}, Max: vg.Point{X: px - 0.5, Y: y1 + 1}}},
			color.NRGBA{R: 255, G: 255, B: 255, A: 210})
		c.FillText(sty, vg.Point{X: px - 1, Y: y1}, m.labels[i])
		lastLabel = px
	}
}

// Thumbnail implements plot.Thumbnailer.
func (m *markers) Thumbnail(c *draw.Canvas) {
	x := (c.Min.X + c.Max.X) / 2
	c.StrokeLine2(m.style, x, c.Min.Y, x, c.Max.Y)
}

// hline draws a horizontal line across the data area at y.
type hline struct {
	y     float64
	style draw.LineStyle
}

// Plot implements plot.Plotter.
func (h *hline) Plot(c draw.Canvas, plt *plot.Plot) {
	_, trY := plt.Transforms(&c)
	c.StrokeLine2(h.style, c.Min.X, trY(h.y), c.Max.X, trY(h.y))
}

// DataRange implements plot.DataRanger: it keeps y in view without widening X.
func (h *hline) DataRange() (xmin, xmax, ymin, ymax float64) {
	return math.Inf(1), math.Inf(-1), h.y, h.y
}

// Thumbnail implements plot.Thumbnailer.
func (h *hline) Thumbnail(c *draw.Canvas) {
	y := (c.Min.Y + c.Max.Y) / 2
	c.StrokeLine2(h.style, c.Min.X, y, c.Max.X, y)
}

// spans shades x intervals over the full height of the data area.
type spans struct {
	x0, x1 []float64
	color  color.Color
}

// Plot implements plot.Plotter.
func (s *spans) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, _ := plt.Transforms(&c)
	for i := range s.x0 {
		x0, x1 := trX(s.x0[i]), trX(s.x1[i])
		if x1-x0 < 1 {
			x1 = x0 + 1
		}
		pts := []vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}}
		c.FillPolygon(s.color, c.ClipPolygonX(pts))
	}
}

// Thumbnail implements plot.Thumbnailer.
func (s *spans) Thumbnail(c *draw.Canvas) { fillRect(c, s.color) }

// notes writes short texts above points, skipping any that would overlap one already written.
type notes struct {
	x, y   []float64
	labels []string
	style  text.Style
}

// Plot implements plot.Plotter.
func (n *notes) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	var placed []vg.Rectangle
	for i := range n.x {
		pt := vg.Point{X: trX(n.x[i]), Y: trY(n.y[i]) + 3}
		w, h := n.style.Width(n.labels[i]), n.style.Height(n.labels[i])
		r := vg.Rectangle{Min: vg.Point{X: pt.X - w/2 - 2, Y: pt.Y}, Max: vg.Point{X: pt.X + w/2 + 2, Y: pt.Y + h}}
		if r.Min.X < c.Min.X || r.Max.X > c.Max.X || r.Max.Y > c.Max.Y || overlapsAny(r, placed) {
			continue
		}
		c.FillText(n.style, pt, n.labels[i])
		placed = append(placed, r)
	}
}

func overlapsAny(r vg.Rectangle, rs []vg.Rectangle) bool {
	for _, o := range rs {
		if r.Min.X < o.Max.X && o.Min.X < r.Max.X && r.Min.Y < o.Max.Y && o.Min.Y < r.Max.Y {
			return true
		}
	}
	return false
}

// lineRuns returns one line per run of points where ok is true, all with style, so that missing values
// leave gaps rather than being joined across.
func lineRuns(x, y []float64, ok []bool, style draw.LineStyle, step plotter.StepKind) []plot.Plotter {
	var out []plot.Plotter
	for i := 0; i < len(x); {
		if !ok[i] {
			i++
			continue
		}
		j := i
		xys := plotter.XYs{}
		for j < len(x) && ok[j] {
			xys = append(xys, plotter.XY{X: x[j], Y: y[j]})
			j++
		}
		l := &plotter.Line{XYs: xys, LineStyle: style, StepStyle: step}
		if len(xys) == 1 { // a lone day: a dot
			s := &plotter.Scatter{XYs: xys, GlyphStyle: draw.GlyphStyle{Color: style.Color,
				Radius: style.Width * 1.2, Shape: draw.CircleGlyph{}}}
			out = append(out, s)
		} else {
			out = append(out, l)
		}
		i = j
	}
	return out
}

func lineStyle(clr color.Color, width vg.Length, dashes ...vg.Length) draw.LineStyle {
	return draw.LineStyle{Color: clr, Width: width, Dashes: dashes}
}

// lineThumb is a legend thumbnail for a line.
type lineThumb struct{ style draw.LineStyle }

// Thumbnail implements plot.Thumbnailer.
func (l lineThumb) Thumbnail(c *draw.Canvas) {
	y := (c.Min.Y + c.Max.Y) / 2
	c.StrokeLine2(l.style, c.Min.X, y, c.Max.X, y)
}

// fillThumb is a legend thumbnail for a filled area.
type fillThumb struct{ color color.Color }

// Thumbnail implements plot.Thumbnailer.
func (f fillThumb) Thumbnail(c *draw.Canvas) { fillRect(c, f.color) }
