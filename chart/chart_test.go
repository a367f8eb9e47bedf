package chart

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// day0 is 2009-01-03 00:00 UTC, the genesis block's day.
var day0 = time.Date(2009, 1, 3, 0, 0, 0, 0, time.UTC).Unix()

// synthDays is a fixed synthetic daily series: hashrate base·e^(growth·i) with a weekly wobble, a ±1.96/√144
// band, and the days in skip without blocks (hashrate 0, an interval from 0 to hi0 H/s).
func synthDays(n int, base, growth float64, skip ...int) []Day {
	ds := make([]Day, n)
	for i := range ds {
		h := base * math.Exp(growth*float64(i)) * (1 + 0.2*math.Sin(float64(i)/1.1))
		w := 1.96 / 12
		ds[i] = Day{Start: day0 + int64(i)*86400, End: day0 + int64(i+1)*86400, Hashrate: h, Lo: h * (1 - w),
			Hi: h * (1 + w), HasInterval: true, Blocks: 144}
	}
	for _, i := range skip {
		ds[i].Hashrate, ds[i].Lo, ds[i].Hi, ds[i].Blocks = 0, 0, base, 0
	}
	return ds
}

func synthRetargets(ds []Day, every int) []Retarget {
	var rs []Retarget
	for i := every; i < len(ds); i += every {
		rs = append(rs, Retarget{Time: ds[i].Start + 3600, Height: int32(i / every * 2016)})
	}
	return rs
}

func synthEpochs(n int) []Epoch {
	es := make([]Epoch, n)
	t, diff := day0, 1.0
	for i := range es {
		dur := int64((10 + 2*i%7) * 86400)
		es[i] = Epoch{Number: int32(i), StartHeight: int32(i * 2016), EndHeight: int32(i*2016 + 2015),
			StartTime: t, EndTime: t + dur, Difficulty: diff, DurationS: dur, Complete: i < n-1}
		if i > 0 {
			es[i].ChangePct = 100 * (es[i].Difficulty/es[i-1].Difficulty - 1)
		}
		t += dur + 600
		diff *= 1209600 / float64(dur)
		if i+1 < n {
			es[i+1].Difficulty = diff
		}
	}
	return es
}

func synthFlows(n int) []FlowDay {
	fs := make([]FlowDay, n)
	var reserve btcutil.Amount
	for i := range fs {
		in := btcutil.Amount(144 * 50e8)
		out := btcutil.Amount((i * 37 % 11) * 100e8)
		reserve += in - out
		fs[i] = FlowDay{Start: day0 + int64(i)*86400, End: day0 + int64(i+1)*86400, Outflow: out,
			Internal: btcutil.Amount(i%5) * 10e8, Reserve: reserve}
	}
	return fs
}

// synthRibbons turns days into ribbon days with trailing 30- and 60-day means, and the periods where the
// first is below the second.
func synthRibbons(days []Day) ([]RibbonDay, []Period) {
	rs := make([]RibbonDay, len(days))
	mean := func(i, n int) float64 {
		if i+1 < n {
			return math.NaN()
		}
		sum := 0.0
		for _, d := range days[i+1-n : i+1] {
			sum += d.Hashrate
		}
		return sum / float64(n)
	}
	var ps []Period
	for i, d := range days {
		rs[i] = RibbonDay{Start: d.Start, End: d.End, Hashrate: d.Hashrate, Lo: d.Lo, Hi: d.Hi,
			HasInterval: d.HasInterval, MA30: mean(i, 30), MA60: mean(i, 60)}
		if rs[i].MA30 < rs[i].MA60 {
			if len(ps) > 0 && ps[len(ps)-1].End == d.Start {
				ps[len(ps)-1].End = d.End
			} else {
				ps = append(ps, Period{Start: d.Start, End: d.End})
			}
		}
	}
	return rs, ps
}

// wavyDays is a year of hashrate with slow swings, so that the averages cross.
func wavyDays(n int) []Day {
	ds := synthDays(n, 100e18, 0.002)
	for i := range ds {
		f := 1 + 0.25*math.Sin(float64(i)/25)
		ds[i].Hashrate *= f
		ds[i].Lo *= f
		ds[i].Hi *= f
	}
	return ds
}

var testMeta = Meta{Network: "mainnet", FromHeight: 0, ToHeight: 14131}

// goldenCharts are the charts whose SVG is compared byte for byte with testdata/<name>.svg.
func goldenCharts(t *testing.T) map[string]*Chart {
	t.Helper()
	must := func(c *Chart, err error) *Chart {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	short := synthDays(60, 7e6, 0.002, 3)
	long := synthDays(3000, 5e6, 0.004)
	eps := synthEpochs(8)
	flows := synthFlows(40)
	rdays, caps := synthRibbons(wavyDays(365))
	return map[string]*Chart{
		"hashrate":     must(Hashrate(HashrateData{Meta: testMeta, Days: short, Retargets: synthRetargets(short, 14)})),
		"hashrate-log": must(Hashrate(HashrateData{Meta: testMeta, Days: long, Retargets: synthRetargets(long, 14)})),
		"difficulty":   must(Difficulty(EpochData{Meta: testMeta, Epochs: eps})),
		"epochs":       must(Epochs(EpochData{Meta: testMeta, Epochs: eps, TargetTimespan: 1209600})),
		"outflows":     must(Outflows(FlowData{Meta: testMeta, Days: flows})),
		"reserve":      must(Reserve(FlowData{Meta: testMeta, Hops: 1, Days: flows})),
		"ribbons":      must(Ribbons(RibbonData{Meta: testMeta, Days: rdays, Capitulations: caps})),
	}
}

var goldenSize = Size{Width: 800, Height: 450}

// TestGoldenSVG renders each synthetic chart twice (the output must not vary between runs) and compares it
// with its golden file; go test ./chart -run TestGoldenSVG -update rewrites them.
func TestGoldenSVG(t *testing.T) {
	for name, c := range goldenCharts(t) {
		t.Run(name, func(t *testing.T) {
			var a, b bytes.Buffer
			if err := c.Write(&a, SVG, goldenSize); err != nil {
				t.Fatal(err)
			}
			if err := c.Write(&b, SVG, goldenSize); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatal("two renderings of the same chart differ")
			}
			svgTexts(t, a.Bytes())
			file := filepath.Join("testdata", name+".svg")
			if *update {
				if err := os.WriteFile(file, a.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(a.Bytes(), want) {
				t.Errorf("%s differs from the rendering; look at both, then run with -update if the change is "+
					"intended", file)
			}
		})
	}
}

// svgTexts parses an SVG, failing on invalid XML or a root other than <svg>, and returns the texts.
func svgTexts(t *testing.T, data []byte) []string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	var texts []string
	inText, root := false, ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = el.Name.Local
			}
			inText = el.Name.Local == "text"
		case xml.CharData:
			if inText {
				texts = append(texts, string(el))
			}
		case xml.EndElement:
			inText = false
		}
	}
	if root != "svg" {
		t.Fatalf("root element %q, want svg", root)
	}
	return texts
}

func render(t *testing.T, c *Chart, f Format, s Size) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Write(&buf, f, s); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestPNGSize(t *testing.T) {
	c, err := Hashrate(HashrateData{Meta: testMeta, Days: synthDays(30, 7e6, 0)})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []Size{DefaultSize, {Width: 320, Height: 320}, {Width: 1001, Height: 333}, {Width: 1920, Height: 1080}} {
		img, err := png.Decode(bytes.NewReader(render(t, c, PNG, s)))
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != s.Width || b.Dy() != s.Height {
			t.Errorf("asked %dx%d, got %dx%d pixels", s.Width, s.Height, b.Dx(), b.Dy())
		}
	}
	// An SVG of w×h pixels declares w×0.75 by h×0.75 points.
	svg := string(render(t, c, SVG, Size{Width: 800, Height: 400}))
	if !strings.Contains(svg, `width="600pt" height="300pt"`) {
		t.Errorf("SVG size: %.200s", svg)
	}
	for _, s := range []Size{{Width: 319, Height: 400}, {Width: 400, Height: 0}, {Width: 8001, Height: 400}} {
		if err := c.Write(io.Discard, PNG, s); !errors.Is(err, ErrSize) {
			t.Errorf("%v: %v, want ErrSize", s, err)
		}
	}
	if err := c.Write(io.Discard, Format(9), DefaultSize); !errors.Is(err, ErrFormat) {
		t.Errorf("format 9: %v", err)
	}
}

func TestFormatOf(t *testing.T) {
	for name, want := range map[string]Format{"a.svg": SVG, "dir/b.PNG": PNG, "c.Svg": SVG} {
		if got, err := FormatOf(name); err != nil || got != want {
			t.Errorf("%s: %v %v, want %v", name, got, err, want)
		}
	}
	for _, name := range []string{"a.pdf", "b", "c.svg.txt", "png", ".jpeg"} {
		if _, err := FormatOf(name); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v, want ErrFormat", name, err)
		}
	}
}

func TestNoData(t *testing.T) {
	_, e1 := Hashrate(HashrateData{Meta: testMeta})
	_, e2 := Difficulty(EpochData{Meta: testMeta})
	_, e3 := Epochs(EpochData{Meta: testMeta})
	_, e4 := Outflows(FlowData{Meta: testMeta})
	_, e5 := Reserve(FlowData{Meta: testMeta})
	_, e6 := Ribbons(RibbonData{Meta: testMeta})
	for i, err := range []error{e1, e2, e3, e4, e5, e6} {
		if !errors.Is(err, ErrNoData) {
			t.Errorf("builder %d: %v, want ErrNoData", i, err)
		}
	}
}

// TestHashrateLabels checks what a reader sees: the title, the unit picked from the data, the scale, the
// retarget labels and the band.
func TestHashrateLabels(t *testing.T) {
	cases := []struct {
		name  string
		days  []Day
		scale Scale
		want  []string
		not   []string
	}{
		{"MH/s linear", synthDays(40, 7e6, 0), ScaleAuto, []string{"Hashrate (MH/s)"}, []string{"log scale"}},
		{"EH/s linear", synthDays(40, 600e18, 0.001), ScaleAuto, []string{"Hashrate (EH/s)"}, nil},
		{"ZH/s", synthDays(40, 1.1e21, 0), ScaleAuto, []string{"Hashrate (ZH/s)"}, nil},
		{"forced log", synthDays(40, 7e6, 0), ScaleLog, []string{"Hashrate (MH/s, log scale)"}, nil},
		// From 5 MH/s growing e^(0.004·3000) ≈ 163,000-fold: log scale, each tick with its own prefix.
		{"auto log", synthDays(3000, 5e6, 0.004), ScaleAuto, []string{"Hashrate (log scale)", "10 MH/s", "1 TH/s",
			"Logarithmic Y axis"}, nil},
		{"forced linear", synthDays(3000, 5e6, 0.004), ScaleLinear, []string{"Hashrate (TH/s)"}, []string{"log"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Hashrate(HashrateData{Meta: testMeta, Days: tc.days, Scale: tc.scale,
				Retargets: synthRetargets(tc.days, 14)})
			if err != nil {
				t.Fatal(err)
			}
			texts := strings.Join(svgTexts(t, render(t, c, SVG, DefaultSize)), "\n")
			want := append([]string{"Network hashrate, mainnet, blocks 0–14131, daily, 95% interval", "Date (UTC)",
				"95% interval", "difficulty retarget", "Source: minerscope"}, tc.want...)
			for _, w := range want {
				if !strings.Contains(texts, w) {
					t.Errorf("no %q in\n%s", w, texts)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(texts, w) {
					t.Errorf("unexpected %q in\n%s", w, texts)
				}
			}
		})
	}
}

// bandPaths counts the filled paths of the band's colour (fill-opacity 90/255).
var bandFill = regexp.MustCompile(`fill:#[0-9A-F]{6};fill-opacity:0\.35`)

// TestBandBreaks checks the band is one polygon over days with intervals and breaks at a day without one.
func TestBandBreaks(t *testing.T) {
	days := synthDays(30, 7e6, 0)
	c, _ := Hashrate(HashrateData{Meta: testMeta, Days: days})
	if n := len(bandFill.FindAll(render(t, c, SVG, DefaultSize), -1)); n != 2 { // the band and its legend swatch
		t.Errorf("%d band fills, want 2", n)
	}
	days[10].HasInterval = false
	c, _ = Hashrate(HashrateData{Meta: testMeta, Days: days})
	if n := len(bandFill.FindAll(render(t, c, SVG, DefaultSize), -1)); n != 3 {
		t.Errorf("%d band fills with a gap, want 3", n)
	}
}

// TestMarkerLabelsThin checks that retarget labels that would overlap are left out, and that markers beyond
// rugAbove lose their labels.
func TestMarkerLabelsThin(t *testing.T) {
	days := synthDays(20, 7e6, 0)
	var rs []Retarget
	for i := range 10 { // ten retargets within one hour: their labels would all overlap
		rs = append(rs, Retarget{Time: days[5].Start + int64(i)*360, Height: int32(100000 + i)})
	}
	rs = append(rs, Retarget{Time: days[15].Start, Height: 200000})
	c, _ := Hashrate(HashrateData{Meta: testMeta, Days: days, Retargets: rs})
	texts := svgTexts(t, render(t, c, SVG, DefaultSize))
	n := 0
	for _, s := range texts {
		if strings.HasPrefix(s, "100") && len(s) == 6 {
			n++
		}
	}
	if n != 1 || !contains(texts, "200000") {
		t.Errorf("%d of the 10 crowded labels drawn (want 1), 200000 drawn: %v", n, contains(texts, "200000"))
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
