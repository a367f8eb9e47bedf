package chart

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"strings"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

var (
	// ErrFormat reports an output format other than SVG and PNG.
	ErrFormat = errors.New("unsupported chart format")

	// ErrNoData reports a series with nothing to draw.
	ErrNoData = errors.New("no data to chart")

	// ErrSize reports a width or height outside MinSize..MaxSize.
	ErrSize = errors.New("chart size out of range")
)

// Format is an output file format.
type Format int

// The formats Write renders.
const (
	SVG Format = iota + 1
	PNG
)

// String returns the format's file extension without the dot.
func (f Format) String() string {
	switch f {
	case SVG:
		return "svg"
	case PNG:
		return "png"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// FormatOf picks the format from a file name's extension (.svg or .png, any case).
func FormatOf(name string) (Format, error) {
	switch ext := strings.ToLower(filepath.Ext(name)); ext {
	case ".svg":
		return SVG, nil
	case ".png":
		return PNG, nil
	default:
		return 0, fmt.Errorf("%w: %q; name the file .svg or .png", ErrFormat, ext)
	}
}

// Size is a chart's width and height in CSS pixels, 96 to the inch.
type Size struct {
	Width, Height int
}

// DefaultSize is 12 × 6 inches at 96 dpi.
var DefaultSize = Size{Width: 1152, Height: 576}

// The smallest and largest side Write accepts, in pixels: below MinSize labels no longer fit, above
// MaxSize a PNG takes hundreds of megabytes.
const (
	MinSize = 320
	MaxSize = 8000
)

const dpi = 96

func (s Size) check() error {
	if s.Width < MinSize || s.Height < MinSize || s.Width > MaxSize || s.Height > MaxSize {
		return fmt.Errorf("%w: %d×%d pixels; use %d to %d on each side", ErrSize, s.Width, s.Height,
			MinSize, MaxSize)
	}
	return nil
}

// points converts pixels to vg lengths (1 px = 0.75 pt).
func points(px int) vg.Length { return vg.Length(px) * vg.Inch / dpi }

// Chart is a rendered-on-demand figure: a title, a legend row, one or more panels sharing a date axis,
// and a footnote.
type Chart struct {
	Title    string
	Footnote []string // paragraphs drawn small at the bottom, wrapped to the width

	legend []legendEntry
	panels []*plot.Plot
	dates  []*plot.Plot // panels whose X axis is a date axis, ticked at Write time from the width
}

// Write renders the chart at size in format f.
func (c *Chart) Write(w io.Writer, f Format, size Size) error {
	if err := size.check(); err != nil {
		return err
	}
	width, height := points(size.Width), points(size.Height)
	var cw vg.CanvasWriterTo
	switch f {
	case SVG:
		cw = vgsvg.New(width, height)
	case PNG:
		cw = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(dpi))}
	default:
		return fmt.Errorf("%w: %v", ErrFormat, f)
	}
	c.Draw(draw.New(cw))
	_, err := cw.WriteTo(w)
	return err
}

// Draw draws the chart on dc.
func (c *Chart) Draw(dc draw.Canvas) {
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	dc = draw.Crop(dc, margin, -margin, margin, -margin)

	title := titleStyle()
	if c.Title != "" {
		dc.FillText(title, vg.Point{X: dc.Center().X, Y: dc.Max.Y}, c.Title)
		dc.Max.Y -= title.Height(c.Title) + gap
	}
	if len(c.legend) > 0 {
		dc.Max.Y -= drawLegend(dc, c.legend) + gap
	}
	note := noteStyle()
	var lines []string
	for _, f := range c.Footnote {
		lines = append(lines, wrap(note, f, dc.Max.X-dc.Min.X)...)
	}
	for i := len(lines) - 1; i >= 0; i-- {
		dc.FillText(note, vg.Point{X: dc.Min.X, Y: dc.Min.Y}, lines[i])
		dc.Min.Y += note.Height(lines[i]) + 1
	}
	if len(c.Footnote) > 0 {
		dc.Min.Y += gap
	}

	// The Y labels are drawn here, not by gonum: its layout places a log axis's label box off centre and
	// shrinks the plot for nothing.
	ylabel := axisLabelStyle()
	ylabel.Rotation = math.Pi / 2
	ylabel.XAlign, ylabel.YAlign = draw.XCenter, draw.YTop
	labelW := ylabel.Height("Hg") + gap
	dc.Min.X += labelW
	plotWidth := dc.Max.X - dc.Min.X
	for _, p := range c.dates {
		p.X.Tick.Marker = dateTicks{maxLabels: max(2, int(plotWidth/dateLabelSpace)),
			edge: float64(dateLabelSpace / 2 / plotWidth)}
	}
	// Stacked panels share the date axis: only the bottom one labels it.
	for _, p := range c.panels[:len(c.panels)-1] {
		if dt, ok := p.X.Tick.Marker.(dateTicks); ok {
			dt.hideLabels = true
			p.X.Tick.Marker = dt
			p.X.Label.Text = ""
		}
	}
	rows := make([][]*plot.Plot, len(c.panels))
	for i, p := range c.panels {
		rows[i] = []*plot.Plot{p}
	}
	tiles := draw.Tiles{Rows: len(c.panels), Cols: 1, PadY: 2 * gap}
	for i, cv := range plot.Align(rows, tiles, dc) {
		p := c.panels[i]
		label := p.Y.Label.Text
		p.Y.Label.Text = ""
		p.Draw(cv[0])
		p.Y.Label.Text = label
		data := p.DataCanvas(cv[0])
		cv[0].FillText(ylabel, vg.Point{X: cv[0].Min.X - labelW, Y: data.Center().Y}, label)
	}
}

// Layout constants, in points.
const (
	margin         = vg.Length(8)
	gap            = vg.Length(6)
	dateLabelSpace = vg.Length(80) // room one date label needs, spacing included
	thumbWidth     = vg.Length(22)
)

// wrap breaks s at spaces into lines no wider than width.
func wrap(sty text.Style, s string, width vg.Length) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		switch {
		case line == "":
			line = w
		case sty.Width(line+" "+w) <= width:
			line += " " + w
		default:
			lines = append(lines, line)
			line = w
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// legendEntry is one item of the legend row.
type legendEntry struct {
	name   string
	thumbs []plot.Thumbnailer
}

// drawLegend lays the entries out left to right below the title, wrapping to a new line when the row
// is full, and returns the height used.
func drawLegend(dc draw.Canvas, entries []legendEntry) vg.Length {
	sty := legendStyle()
	lineH := sty.Height("Hg") + 2
	x, y := dc.Min.X, dc.Max.Y-lineH
	used := lineH
	for _, e := range entries {
		w := thumbWidth + 4 + sty.Width(e.name) + 3*gap
		if x > dc.Min.X && x+w > dc.Max.X {
			x, y = dc.Min.X, y-lineH
			used += lineH
		}
		box := draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: x, Y: y + 2}, Max: vg.Point{X: x + thumbWidth, Y: y + lineH - 2}}}
		for _, t := range e.thumbs {
			t.Thumbnail(&box)
		}
		dc.FillText(sty, vg.Point{X: x + thumbWidth + 4, Y: y + lineH/2}, e.name)
		x += w
	}
	return used
}

// Fonts: Liberation Sans (embedded in gonum.org/v1/plot) everywhere.
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

func textStyle(size vg.Length, clr color.Color) text.Style {
	return text.Style{Color: clr, Font: font.From(sans, size), XAlign: draw.XLeft, YAlign: draw.YCenter,
		Handler: plot.DefaultTextHandler}
}

func titleStyle() text.Style {
	s := textStyle(14, color.Black)
	s.Font.Weight = xfont.WeightBold
	s.XAlign, s.YAlign = draw.XCenter, draw.YTop
	return s
}

func legendStyle() text.Style { return textStyle(10, color.Black) }

func axisLabelStyle() text.Style { return textStyle(11, color.Black) }

func noteStyle() text.Style {
	s := textStyle(8, gray(90))
	s.YAlign = draw.YBottom
	return s
}

// Colours, chosen to stay distinct for the common forms of colour blindness (Okabe–Ito).
var (
	blue      = color.RGBA{R: 0, G: 114, B: 178, A: 255}
	lightBlue = color.NRGBA{R: 86, G: 180, B: 233, A: 90}
	orange    = color.RGBA{R: 230, G: 159, B: 0, A: 255}
	vermilion = color.RGBA{R: 213, G: 94, B: 0, A: 255}
	green     = color.RGBA{R: 0, G: 158, B: 115, A: 255}
	purple    = color.RGBA{R: 204, G: 121, B: 167, A: 255}
	redShade  = color.NRGBA{R: 213, G: 94, B: 0, A: 40}
	lightBand = color.NRGBA{R: 120, G: 120, B: 120, A: 45}
)

func gray(v uint8) color.Gray { return color.Gray{Y: v} }

// newPanel returns a plot styled like every panel: Sans fonts, a light grid, a date X axis.
func (c *Chart) newPanel(yLabel string) *plot.Plot {
	p := plot.New()
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle = axisLabelStyle()
		a.Label.TextStyle.XAlign, a.Label.TextStyle.YAlign = draw.XCenter, draw.YBottom
		a.Tick.Label.Font = font.From(sans, 10)
		a.Padding = 0
	}
	p.X.Label.Text = "Date (UTC)"
	p.Y.Label.Text = yLabel
	grid := plotter.NewGrid()
	grid.Vertical.Color = gray(225)
	grid.Horizontal.Color = gray(225)
	grid.Vertical.Width, grid.Horizontal.Width = vg.Points(0.5), vg.Points(0.5)
	p.Add(grid)
	c.panels = append(c.panels, p)
	c.dates = append(c.dates, p)
	return p
}

// addLegend adds a legend entry.
func (c *Chart) addLegend(name string, thumbs ...plot.Thumbnailer) {
	c.legend = append(c.legend, legendEntry{name: name, thumbs: thumbs})
}
