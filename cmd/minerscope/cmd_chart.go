package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/chart"
	"github.com/minerscope/minerscope/report"
)

type chartOptions struct {
	Out           string
	From, To      string
	Hops          int
	Log, Linear   bool
	Width, Height int
}

// chartKinds are the charts `minerscope chart` draws, in the order the help lists them.
var chartKinds = []string{"hashrate", "difficulty", "epochs", "outflows", "reserve", "ribbons"}

func newChartCommand(g *globalOptions) *cobra.Command {
	var opts chartOptions
	cmd := &cobra.Command{
		Use:   "chart hashrate|difficulty|epochs|outflows|reserve|ribbons --out FILE.svg|FILE.png",
		Short: "Draw a labelled chart (SVG or PNG) of hashrate, difficulty, epochs, miner flows or hash ribbons",
		Long: `chart draws one chart from the index into an SVG or PNG file (chosen by the --out extension):

  hashrate    daily hashrate with its exact 95% interval and the difficulty retargets
  difficulty  difficulty per epoch as a step line, with each retarget's change
  epochs      each epoch's duration against the 14-day target, and each retarget's change
  outflows    daily miner outflow and internal transfers (BTC); needs an index with full blocks
  reserve     the miner reserve (BTC) at each day's end; needs an index with full blocks
  ribbons     hash ribbons: daily hashrate, its 30- and 60-day averages, capitulations shaded

--from/--to take a height or a UTC date (--to DATE includes that day). Every chart has a title with
the network and heights, axes with units, a UTC date axis, a legend and a footnote naming the source.
The Y axis of hashrate, difficulty and ribbons is logarithmic when the values span more than a factor
of 100 (--log or --linear to choose). The file is written whole or not at all.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 || !isChartKind(args[0]) {
				return usagef("name one chart: %s", strings.Join(chartKinds, ", "))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkChartOptions(cmd, args[0], opts); err != nil {
				return err
			}
			return runChart(g, args[0], opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Out, "out", "", "output file, .svg or .png")
	f.StringVar(&opts.From, "from", "", "first height or UTC date")
	f.StringVar(&opts.To, "to", "", "last height or UTC date (inclusive)")
	f.IntVar(&opts.Hops, "hops", 0, "outflows, reserve: miner set 0 (coinbase scripts) or 1 (and the scripts they pay)")
	f.BoolVar(&opts.Log, "log", false, "logarithmic Y axis (hashrate, difficulty, ribbons)")
	f.BoolVar(&opts.Linear, "linear", false, "linear Y axis (hashrate, difficulty, ribbons)")
	f.IntVar(&opts.Width, "width", chart.DefaultSize.Width, "width in pixels (96 per inch)")
	f.IntVar(&opts.Height, "height", chart.DefaultSize.Height, "height in pixels (96 per inch)")
	return cmd
}

func isChartKind(s string) bool {
	for _, k := range chartKinds {
		if s == k {
			return true
		}
	}
	return false
}

// checkChartOptions rejects flags that do not apply to kind, before the index is opened.
func checkChartOptions(cmd *cobra.Command, kind string, opts chartOptions) error {
	if opts.Out == "" {
		return usagef("--out FILE.svg or FILE.png is required")
	}
	if _, err := chart.FormatOf(opts.Out); err != nil {
		return usagef("--out %s: %v", opts.Out, err)
	}
	if (chart.Size{Width: opts.Width, Height: opts.Height}) != chart.DefaultSize {
		if opts.Width < chart.MinSize || opts.Height < chart.MinSize || opts.Width > chart.MaxSize ||
			opts.Height > chart.MaxSize {
			return usagef("--width and --height must be %d to %d pixels", chart.MinSize, chart.MaxSize)
		}
	}
	flows := kind == "outflows" || kind == "reserve"
	switch {
	case opts.Log && opts.Linear:
		return usagef("--log and --linear exclude each other")
	case (opts.Log || opts.Linear) && (flows || kind == "epochs"):
		return usagef("--log and --linear apply to hashrate, difficulty and ribbons")
	case cmd.Flags().Changed("hops") && !flows:
		return usagef("--hops applies to outflows and reserve")
	}
	return checkHops(opts.Hops)
}

func (o chartOptions) scale() chart.Scale {
	switch {
	case o.Log:
		return chart.ScaleLog
	case o.Linear:
		return chart.ScaleLinear
	}
	return chart.ScaleAuto
}

func runChart(g *globalOptions, kind string, opts chartOptions) error {
	var c *chart.Chart
	var err error
	switch kind {
	case "outflows", "reserve":
		c, err = flowChart(g, kind, opts)
	default:
		c, err = headerChart(g, kind, opts)
	}
	if errors.Is(err, chart.ErrNoData) {
		return usagef("nothing to chart between --from %q and --to %q", opts.From, opts.To)
	}
	if err != nil {
		return err
	}
	format, _ := chart.FormatOf(opts.Out)
	var buf bytes.Buffer
	if err := c.Write(&buf, format, chart.Size{Width: opts.Width, Height: opts.Height}); err != nil {
		return err
	}
	if err := writeFileAtomic(opts.Out, buf.Bytes()); err != nil {
		return err
	}
	if !g.Quiet {
		fmt.Fprintf(g.stdout, "wrote %s (%s, %d×%d px): %s\n", opts.Out, format, opts.Width, opts.Height, c.Title)
	}
	return nil
}

// writeFileAtomic writes data to a temporary file beside name and renames it over name, so that name
// holds either its old content or the whole chart, never part of one.
func writeFileAtomic(name string, data []byte) error {
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".*.tmp")
	if err != nil {
		return fmt.Errorf("cannot write the chart in %s: %w", dir, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write chart %s: %w", name, err)
	}
	return nil
}

// chartSpan is what --from/--to select from the headers: the blocks lo..hi and the time range
// [from, to) the daily series cover.
type chartSpan struct {
	lo, hi   int32
	from, to int64
}

// headerSpan resolves --from/--to against the headers: a height selects that block (and the days from
// its day), a date selects its whole UTC day (--to includes it), a time selects from or before it.
func headerSpan(hs []analysis.Header, from, to string) (chartSpan, error) {
	tip := hs[len(hs)-1]
	s := chartSpan{lo: 0, hi: tip.Height, from: dayStartUnix(hs[0].Time), to: tip.Time + 1}
	if from != "" {
		h, t, err := chartBound(hs, from, false)
		if err != nil {
			return s, err
		}
		s.lo, s.from = h, t
	}
	if to != "" {
		h, t, err := chartBound(hs, to, true)
		if err != nil {
			return s, err
		}
		s.hi, s.to = h, min(t, s.to)
	}
	if s.lo > s.hi || s.from >= s.to {
		return s, usagef("no indexed block in --from %q --to %q (the index has blocks 0..%d, %s to %s)", from,
			to, tip.Height, report.Time(hs[0].Time), report.Time(tip.Time))
	}
	return s, nil
}

// chartBound resolves one bound to a height and a time.
func chartBound(hs []analysis.Header, s string, upper bool) (int32, int64, error) {
	tip := hs[len(hs)-1].Height
	if n, err := strconv.ParseInt(s, 10, 32); err == nil && !strings.Contains(s, "-") {
		if n < 0 || n > int64(tip) {
			return 0, 0, usagef("height %d is outside the index's blocks 0..%d", n, tip)
		}
		if upper {
			return int32(n), hs[n].Time + 1, nil
		}
		return int32(n), dayStartUnix(hs[n].Time), nil
	}
	t, err := parseTime(s)
	if err != nil {
		return 0, 0, usagef("bad --from/--to %q: use a height, a date like 2009-02-01 or a time like "+
			"2009-02-01T12:00:00Z", s)
	}
	unix := t.Unix()
	if _, derr := time.Parse(time.DateOnly, strings.TrimSpace(s)); derr == nil && upper {
		unix += 86400
	}
	if !upper {
		for _, h := range hs {
			if h.Time >= unix {
				return h.Height, unix, nil
			}
		}
		return tip + 1, unix, nil
	}
	for i := len(hs) - 1; i >= 0; i-- {
		if hs[i].Time < unix {
			return hs[i].Height, unix, nil
		}
	}
	return -1, unix, nil
}

func dayStartUnix(t int64) int64 {
	d := t / 86400
	if t%86400 < 0 {
		d--
	}
	return d * 86400
}

// headerChart draws the charts computed from headers alone.
func headerChart(g *globalOptions, kind string, opts chartOptions) (*chart.Chart, error) {
	p, hs, err := g.loadHeaders()
	if err != nil {
		return nil, err
	}
	span, err := headerSpan(hs, opts.From, opts.To)
	if err != nil {
		return nil, err
	}
	eps, err := analysis.Epochs(p, hs)
	if err != nil {
		return nil, err
	}
	switch kind {
	case "hashrate":
		return hashrateChart(p, hs, eps, span, opts)
	case "difficulty", "epochs":
		return epochChart(p, eps, span, kind, opts)
	case "ribbons":
		return ribbonsChart(p, hs, span, opts)
	}
	return nil, usagef("unknown chart %q", kind)
}

func hashrateChart(p analysis.Params, hs []analysis.Header, eps []analysis.Epoch, span chartSpan,
	opts chartOptions) (*chart.Chart, error) {

	pts := analysis.DailyHashrate(p, hs, span.from, span.to)
	d := chart.HashrateData{Meta: chart.Meta{Network: p.Name, FromHeight: -1}, Scale: opts.scale()}
	for _, pt := range pts {
		e := pt.Estimate
		d.Days = append(d.Days, chart.Day{Start: pt.Start, End: pt.End, Hashrate: e.HashesPerSec, Lo: e.Lo,
			Hi: e.Hi, HasInterval: e.HasInterval, Blocks: pt.Blocks})
		if pt.Blocks > 0 {
			if d.FromHeight < 0 {
				d.FromHeight = e.FromHeight
			}
			d.ToHeight = e.ToHeight
		}
	}
	if d.FromHeight < 0 {
		d.FromHeight, d.ToHeight = span.lo, span.hi
	}
	for _, e := range eps {
		if e.Number > 0 {
			d.Retargets = append(d.Retargets, chart.Retarget{Time: e.StartTime, Height: e.StartHeight,
				ChangePct: e.ChangePct})
		}
	}
	return chart.Hashrate(d)
}

func epochChart(p analysis.Params, eps []analysis.Epoch, span chartSpan, kind string,
	opts chartOptions) (*chart.Chart, error) {

	d := chart.EpochData{Meta: chart.Meta{Network: p.Name, FromHeight: -1}, TargetTimespan: p.TargetTimespan,
		Scale: opts.scale()}
	for _, e := range eps {
		if e.EndHeight < span.lo || e.StartHeight > span.hi {
			continue
		}
		if d.FromHeight < 0 {
			d.FromHeight = e.StartHeight
		}
		d.ToHeight = e.EndHeight
		d.Epochs = append(d.Epochs, chart.Epoch{Number: e.Number, StartHeight: e.StartHeight,
			EndHeight: e.EndHeight, StartTime: e.StartTime, EndTime: e.EndTime, Difficulty: e.Difficulty,
			ChangePct: e.ChangePct, DurationS: e.DurationS, Complete: e.Complete})
	}
	if kind == "difficulty" {
		return chart.Difficulty(d)
	}
	return chart.Epochs(d)
}

// flowChart draws the miner-flow charts from an index with full blocks.
func flowChart(g *globalOptions, kind string, opts chartOptions) (*chart.Chart, error) {
	fd, err := g.openFlows("", "")
	if err != nil {
		return nil, err
	}
	defer fd.Close()
	lo, hi, err := fd.heightRange(opts.From, opts.To)
	if err != nil {
		return nil, err
	}
	blocks, err := fd.blockFlows(opts.Hops)
	if err != nil {
		return nil, err
	}
	// As in `outflows`: the series runs over the whole index, so that the reserve does not depend on
	// --from, and is then cut to the days holding blocks lo..hi.
	pts, err := analysis.FlowSeries(fd.p, blocks, 0, analysis.PeriodDaily, nil)
	if err != nil {
		return nil, err
	}
	d := chart.FlowData{Meta: chart.Meta{Network: fd.p.Name, FromHeight: lo, ToHeight: hi}, Hops: opts.Hops}
	for _, pt := range pts {
		if pointInRange(pt, blocks, lo, hi) {
			d.Days = append(d.Days, chart.FlowDay{Start: pt.Start, End: pt.End, Outflow: pt.Outflow,
				Internal: pt.Internal, Reserve: pt.Reserve})
		}
	}
	if note := fd.flowsFromNote(); note != "" {
		fmt.Fprintln(g.stderr, note)
	}
	if kind == "reserve" {
		return chart.Reserve(d)
	}
	return chart.Outflows(d)
}

// ribbonsChart draws the hash ribbons over the span: the daily hashrate with its band, the 30- and 60-day
// averages (computed with the days before the span when the index has them, as `signals` does) and the
// capitulation periods shaded from their first day to the end of their last.
func ribbonsChart(p analysis.Params, hs []analysis.Header, span chartSpan, opts chartOptions) (*chart.Chart, error) {
	pts := analysis.HashRibbons(p, hs, span.from, span.to)
	d := chart.RibbonData{Meta: chart.Meta{Network: p.Name, FromHeight: -1}, Scale: opts.scale()}
	for _, pt := range pts {
		d.Days = append(d.Days, chart.RibbonDay{Start: pt.Day, End: pt.Day + 86400, Hashrate: pt.Hashrate,
			Lo: pt.Lo, Hi: pt.Hi, HasInterval: pt.HasInterval, MA30: pt.MA30, MA60: pt.MA60})
		if pt.Blocks > 0 {
			if d.FromHeight < 0 {
				d.FromHeight = pt.FromHeight
			}
			d.ToHeight = pt.ToHeight
		}
	}
	if d.FromHeight < 0 {
		d.FromHeight, d.ToHeight = span.lo, span.hi
	}
	for _, c := range analysis.Capitulations(pts) {
		d.Capitulations = append(d.Capitulations, chart.Period{Start: c.Start, End: c.End + 86400})
	}
	return chart.Ribbons(d)
}
