package chart

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
)

// dateTicks marks a UTC date axis at calendar boundaries: days, weeks (Mondays), months or years,
// choosing the finest step that keeps at most maxLabels labels, with a label format to match
// ("2009-01-15", "Jan 2009", "2009").
type dateTicks struct {
	maxLabels int
	edge      float64 // labels closer than this fraction of the range to either end are dropped
	// hideLabels keeps the ticks (and grid lines) without labels, for panels stacked above another.
	hideLabels bool
}

// dateStep is one candidate spacing of labelled ticks.
type dateStep struct {
	days, months, years int // exactly one is set
	format              string
	minor               *dateStep // unlabelled ticks between, nil for none
}

var (
	stepDay   = dateStep{days: 1, format: time.DateOnly}
	stepWeek  = dateStep{days: 7, format: time.DateOnly, minor: &stepDay}
	stepMonth = dateStep{months: 1, format: "Jan 2006"}
	stepYear  = dateStep{years: 1, format: "2006", minor: &stepMonth}
	stepYears = dateStep{years: 1, format: "2006"}
)

var dateSteps = []dateStep{
	stepDay,
	{days: 2, format: time.DateOnly, minor: &stepDay},
	stepWeek,
	{days: 14, format: time.DateOnly, minor: &stepWeek},
	{months: 1, format: "Jan 2006", minor: &stepWeek},
	{months: 2, format: "Jan 2006", minor: &stepMonth},
	{months: 3, format: "Jan 2006", minor: &stepMonth},
	{months: 6, format: "Jan 2006", minor: &stepMonth},
	stepYear,
	{years: 2, format: "2006", minor: &stepYears},
	{years: 5, format: "2006", minor: &stepYears},
	{years: 10, format: "2006", minor: &stepYears},
	{years: 20, format: "2006", minor: &stepYears},
	{years: 50, format: "2006", minor: &stepYears},
}

// Ticks implements plot.Ticker.
func (t dateTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil
	}
	from, to := time.Unix(int64(math.Floor(lo)), 0).UTC(), time.Unix(int64(math.Ceil(hi)), 0).UTC()
	step := dateSteps[len(dateSteps)-1]
	for _, s := range dateSteps {
		if len(s.times(from, to, 2*t.maxLabels)) <= t.maxLabels {
			step = s
			break
		}
	}
	var ticks []plot.Tick
	labelled := map[int64]bool{}
	for _, tm := range step.times(from, to, 0) {
		v := float64(tm.Unix())
		tk := plot.Tick{Value: v}
		if !t.hideLabels && v-lo >= t.edge*(hi-lo) && hi-v >= t.edge*(hi-lo) {
			tk.Label = tm.Format(step.format)
		}
		ticks = append(ticks, tk)
		labelled[tm.Unix()] = true
	}
	if step.minor != nil {
		minor := step.minor.times(from, to, 400)
		if len(minor) <= 400 {
			for _, tm := range minor {
				if !labelled[tm.Unix()] {
					ticks = append(ticks, plot.Tick{Value: float64(tm.Unix())})
				}
			}
		}
	}
	return ticks
}

// times lists the step's boundaries in [from, to]; with limit > 0 it stops after limit+1 of them.
func (s dateStep) times(from, to time.Time, limit int) []time.Time {
	var out []time.Time
	for tm := s.first(from); !tm.After(to); tm = s.next(tm) {
		out = append(out, tm)
		if limit > 0 && len(out) > limit {
			break
		}
	}
	return out
}

// first is the first boundary at or after t. Day steps count from the unix epoch (a Thursday; weeks
// start on Mondays), month steps from January, year steps from multiples of the step.
func (s dateStep) first(t time.Time) time.Time {
	switch {
	case s.days == 7 || s.days == 14:
		const monday = -3 * 86400 // 1969-12-29
		n := int64(s.days) * 86400
		u := t.Unix() - monday
		k := (u + n - 1) / n
		if u < 0 {
			k = -((-u) / n)
		}
		return time.Unix(monday+k*n, 0).UTC()
	case s.days > 0:
		n := int64(s.days) * 86400
		u := t.Unix()
		k := (u + n - 1) / n
		if u < 0 {
			k = -((-u) / n)
		}
		return time.Unix(k*n, 0).UTC()
	case s.months > 0:
		m := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		if m.Before(t) {
			m = m.AddDate(0, 1, 0)
		}
		for (int(m.Month())-1)%s.months != 0 {
			m = m.AddDate(0, 1, 0)
		}
		return m
	default:
		y := time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
		if y.Before(t) {
			y = y.AddDate(1, 0, 0)
		}
		for y.Year()%s.years != 0 {
			y = y.AddDate(1, 0, 0)
		}
		return y
	}
}

func (s dateStep) next(t time.Time) time.Time {
	return t.AddDate(s.years, s.months, s.days)
}

// prefix is an SI prefix: its symbol and power of 1000.
type prefix struct {
	symbol string
	exp    int
}

var prefixes = []prefix{{"", 0}, {"k", 1}, {"M", 2}, {"G", 3}, {"T", 4}, {"P", 5}, {"E", 6}, {"Z", 7}, {"Y", 8}}

// prefixFor picks the largest SI prefix that keeps v at least 1 (none for v < 1000 or v <= 0).
func prefixFor(v float64) prefix {
	best := prefixes[0]
	for _, p := range prefixes {
		if v >= math.Pow(1000, float64(p.exp)) {
			best = p
		}
	}
	return best
}

func (p prefix) factor() float64 { return math.Pow(1000, float64(p.exp)) }

// niceTicks labels a linear axis at about n round values, 1, 2, 2.5 or 5 times a power of ten apart, with
// unlabelled ticks at every fifth (every quarter for steps of 2) of a step between them.
type niceTicks struct {
	n int
}

// Ticks implements plot.Ticker.
func (t niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil
	}
	raw := (hi - lo) / float64(max(t.n, 2))
	pow := math.Pow10(int(math.Floor(math.Log10(raw))))
	step, minors := 10*pow, 5
	for _, m := range []struct {
		f float64
		n int
	}{{1, 5}, {2, 4}, {2.5, 5}, {5, 5}} {
		if m.f*pow >= raw {
			step, minors = m.f*pow, m.n
			break
		}
	}
	minor := step / float64(minors)
	var ticks []plot.Tick
	for k := math.Ceil(lo / minor); k*minor <= hi*(1+1e-12)+1e-300; k++ {
		v := k * minor
		tk := plot.Tick{Value: v}
		if math.Abs(math.Remainder(v, step)) < minor/2 {
			tk.Label = strconv.FormatFloat(v, 'g', -1, 64)
		}
		ticks = append(ticks, tk)
	}
	return ticks
}

// numberTicks wraps another ticker and rewrites its labels as plain decimals with thousands separators,
// no exponent, and the same number of decimals on every label, as many as the labels need.
type numberTicks struct {
	plot.Ticker
}

// Ticks implements plot.Ticker.
func (t numberTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := t.Ticker.Ticks(lo, hi)
	decimals := 0
	for _, tk := range ticks {
		if tk.Label != "" {
			decimals = max(decimals, decimalsOf(tk.Value))
		}
	}
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = formatNumber(ticks[i].Value, decimals)
		}
	}
	return ticks
}

// decimalsOf is how many decimals print v exactly enough (to 1e-9 of it), at most 9.
func decimalsOf(v float64) int {
	for d := 0; d < 9; d++ {
		s := v * math.Pow10(d)
		if math.Abs(s-math.Round(s)) <= 1e-9*math.Max(1, math.Abs(s)) {
			return d
		}
	}
	return 9
}

// formatNumber prints v with the given decimals and a thousands separator: 1,234,567.5.
func formatNumber(v float64, decimals int) string {
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	sign := ""
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		s = rest
		if strings.Trim(s, "0.") != "" { // no "-0.00"
			sign = "-"
		}
	}
	intPart, frac := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		intPart, frac = s[:i], s[i:]
	}
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return sign + b.String() + frac
}

// logTicks marks a log axis: every power of ten labelled, 2 and 5 times them too when the axis spans
// less than three decades, every digit when it spans less than a factor of 10; the others as minor ticks. With prefixed, each label carries its
// own SI prefix and the unit ("10 MH/s"), for axes spanning too many decades for a single prefix.
type logTicks struct {
	unit     string
	prefixed bool
}

// Ticks implements plot.Ticker.
func (t logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) || math.IsInf(hi, 0) {
		return nil
	}
	first, last := int(math.Floor(math.Log10(lo))), int(math.Ceil(math.Log10(hi)))
	dense, all := last-first <= 3, hi/lo < 10
	var ticks []plot.Tick
	for e := first; e <= last; e++ {
		base := math.Pow10(e)
		for d := 1; d <= 9; d++ {
			v := float64(d) * base
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			tk := plot.Tick{Value: v}
			if d == 1 || dense && (d == 2 || d == 5) || all {
				tk.Label = t.label(v)
			}
			ticks = append(ticks, tk)
		}
	}
	return ticks
}

func (t logTicks) label(v float64) string {
	if !t.prefixed {
		return formatNumber(v, max(0, int(math.Ceil(-math.Log10(v)-1e-9))))
	}
	p := prefixFor(v * (1 + 1e-9))
	s := formatNumber(v/p.factor(), max(0, int(math.Ceil(-math.Log10(v/p.factor())-1e-9))))
	if sym := p.symbol + t.unit; sym != "" {
		s += " " + sym
	}
	return s
}

// yAxis describes how a quantity is put on a Y axis: the factor its values are divided by and the
// axis label.
type yAxis struct {
	div   float64
	label string
	log   bool
}

// Scale chooses between linear and logarithmic Y axes.
type Scale int

// The Y-axis scales. ScaleAuto is logarithmic when the largest positive value exceeds the smallest by
// more than LogRatio.
const (
	ScaleAuto Scale = iota
	ScaleLinear
	ScaleLog
)

// LogRatio is the max/min ratio above which ScaleAuto picks a log axis.
const LogRatio = 100

// logNote explains a logarithmic Y axis in the footnote.
func logNote(s Scale) string {
	if s == ScaleLog {
		return "Logarithmic Y axis, as asked."
	}
	return fmt.Sprintf("Logarithmic Y axis: the values span more than a factor of %d.", LogRatio)
}

// positiveRange returns the smallest and largest positive finite values, ok=false when there are none.
func positiveRange(vs ...[]float64) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range vs {
		for _, v := range s {
			if v > 0 && !math.IsInf(v, 0) && !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	return lo, hi, hi > 0
}

// useLog resolves a Scale against the data.
func useLog(s Scale, vs ...[]float64) bool {
	lo, hi, ok := positiveRange(vs...)
	switch s {
	case ScaleLog:
		return ok
	case ScaleLinear:
		return false
	}
	return ok && hi/lo > LogRatio
}

// unitAxis sets up a Y axis for a quantity in unit (e.g. "H/s") named name: linear axes and log axes
// spanning up to three decades divide by the SI prefix of the largest value ("Hashrate (MH/s)"); wider
// log axes keep raw values and print the unit on every tick ("10 MH/s").
func unitAxis(p *plot.Plot, name, unit string, log bool, lo, hi float64) yAxis {
	if log && hi/lo > 1000 {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{unit: unit, prefixed: true}
		p.Y.Label.Text = name + " (log scale)"
		return yAxis{div: 1, label: p.Y.Label.Text, log: true}
	}
	pre := prefixFor(hi)
	ax := yAxis{div: pre.factor(), label: name + " (" + pre.symbol + unit + ")", log: log}
	if unit == "" {
		ax.label = name
		if pre.exp > 0 {
			ax.label = name + " (" + pre.symbol + ", ×10^" + strconv.Itoa(3*pre.exp) + ")"
		}
	}
	if log {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
		ax.label = strings.TrimSuffix(ax.label, ")") + ", log scale)"
		if !strings.Contains(ax.label, "(") {
			ax.label = name + " (log scale)"
		}
	} else {
		p.Y.Tick.Marker = numberTicks{niceTicks{n: 6}}
	}
	p.Y.Label.Text = ax.label
	return ax
}
