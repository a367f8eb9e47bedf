package chart

import (
	"math"
	"testing"
	"time"

	"gonum.org/v1/plot"
)

func TestFormatNumber(t *testing.T) {
	cases := []struct {
		v    float64
		d    int
		want string
	}{
		{0, 0, "0"}, {math.Copysign(0, -1), 0, "0"}, {-0.001, 2, "0.00"}, {999, 0, "999"}, {1000, 0, "1,000"},
		{1234567.5, 1, "1,234,567.5"}, {-1234567, 0, "-1,234,567"}, {100000, 0, "100,000"}, {2.5, 1, "2.5"},
		{0.25, 2, "0.25"}, {-12.5, 1, "-12.5"},
	}
	for _, c := range cases {
		if got := formatNumber(c.v, c.d); got != c.want {
			t.Errorf("formatNumber(%v, %d) = %q, want %q", c.v, c.d, got, c.want)
		}
	}
}

func TestPrefixFor(t *testing.T) {
	cases := []struct {
		v    float64
		want string
	}{
		{0, ""}, {-5, ""}, {999, ""}, {1000, "k"}, {7e6, "M"}, {999e6, "M"}, {1e9, "G"}, {4.2e15, "P"},
		{650e18, "E"}, {1.1e21, "Z"}, {3e27, "Y"},
	}
	for _, c := range cases {
		if got := prefixFor(c.v).symbol; got != c.want {
			t.Errorf("prefixFor(%g) = %q, want %q", c.v, got, c.want)
		}
	}
}

// TestDateTicks checks the date axis over ranges from a day to a century: at most maxLabels labels, in
// increasing order, each at 00:00 UTC on a calendar boundary, written in one format that names the
// whole date (days), the month (months) or the year.
func TestDateTicks(t *testing.T) {
	start := time.Date(2009, 1, 3, 18, 15, 5, 0, time.UTC)
	for _, span := range []time.Duration{30 * time.Hour, 10 * 24 * time.Hour, 131 * 24 * time.Hour,
		2 * 365 * 24 * time.Hour, 17 * 365 * 24 * time.Hour, 100 * 365 * 24 * time.Hour} {
		for _, maxLabels := range []int{3, 9, 14} {
			lo, hi := float64(start.Unix()), float64(start.Add(span).Unix())
			ticks := dateTicks{maxLabels: maxLabels}.Ticks(lo, hi)
			checkDateTicks(t, ticks, lo, hi, maxLabels)
		}
	}
}

func checkDateTicks(t *testing.T, ticks []plot.Tick, lo, hi float64, maxLabels int) {
	t.Helper()
	labels, prev := 0, math.Inf(-1)
	formats := map[string]bool{}
	for _, tk := range ticks {
		if tk.Value < lo || tk.Value > hi {
			t.Fatalf("[%v, %v]: tick %v outside", lo, hi, tk.Value)
		}
		if tk.Label == "" {
			continue
		}
		labels++
		if tk.Value <= prev {
			t.Fatalf("[%v, %v]: labels not increasing at %q", lo, hi, tk.Label)
		}
		prev = tk.Value
		tm := time.Unix(int64(tk.Value), 0).UTC()
		if tm.Hour() != 0 || tm.Minute() != 0 || tm.Second() != 0 {
			t.Fatalf("label %q at %v, not midnight", tk.Label, tm)
		}
		switch tk.Label {
		case tm.Format(time.DateOnly):
			formats["day"] = true
		case tm.Format("Jan 2006"):
			formats["month"] = true
			if tm.Day() != 1 {
				t.Fatalf("month label %q on day %d", tk.Label, tm.Day())
			}
		case tm.Format("2006"):
			formats["year"] = true
			if tm.YearDay() != 1 {
				t.Fatalf("year label %q on %v", tk.Label, tm)
			}
		default:
			t.Fatalf("label %q does not name %v", tk.Label, tm)
		}
	}
	if labels > maxLabels && hi-lo < 40*365*86400 {
		t.Errorf("[%v, %v]: %d labels, max %d", lo, hi, labels, maxLabels)
	}
	if len(formats) > 1 {
		t.Errorf("[%v, %v]: mixed label formats %v", lo, hi, formats)
	}
}

// FuzzDateTicks: any range and label budget gives valid ticks, without panicking.
func FuzzDateTicks(f *testing.F) {
	f.Add(int64(1231006505), int64(86400*131), 9)
	f.Add(int64(0), int64(3600), 2)
	f.Add(int64(-86400*400), int64(86400*800), 14)
	f.Fuzz(func(t *testing.T, from, span int64, maxLabels int) {
		if span <= 0 || span > 200*365*86400 || from < -100*365*86400 || from > 300*365*86400 ||
			maxLabels < 2 || maxLabels > 50 {
			return
		}
		lo, hi := float64(from), float64(from+span)
		checkDateTicks(t, dateTicks{maxLabels: maxLabels}.Ticks(lo, hi), lo, hi, maxLabels)
	})
}

func TestLogTicks(t *testing.T) {
	cases := []struct {
		lo, hi float64
		want   []float64 // labelled values
	}{
		{3, 80, []float64{5, 10, 20, 50}},             // dense: 1, 2, 5 per decade
		{3.4, 13.6, []float64{4, 5, 6, 7, 8, 9, 10}},  // under a factor of 10: every digit
		{1e6, 1e21, nil},                              // sparse: only powers of ten, checked below
		{0.7e6, 12e6, []float64{1e6, 2e6, 5e6, 10e6}}, // one decade and a bit
	}
	for _, c := range cases {
		var got []float64
		for _, tk := range (logTicks{}).Ticks(c.lo, c.hi) {
			if tk.Value < c.lo || tk.Value > c.hi {
				t.Errorf("[%g, %g]: tick %g outside", c.lo, c.hi, tk.Value)
			}
			if tk.Label != "" {
				got = append(got, tk.Value)
			}
		}
		if c.want == nil {
			for _, v := range got {
				if e := math.Log10(v); math.Abs(e-math.Round(e)) > 1e-9 {
					t.Errorf("[%g, %g]: label at %g, not a power of ten", c.lo, c.hi, v)
				}
			}
			if len(got) != 16 {
				t.Errorf("[%g, %g]: %d labels, want 16 (1e6..1e21)", c.lo, c.hi, len(got))
			}
			continue
		}
		if len(got) != len(c.want) {
			t.Fatalf("[%g, %g]: labels at %v, want %v", c.lo, c.hi, got, c.want)
		}
		for i := range got {
			if math.Abs(got[i]/c.want[i]-1) > 1e-9 {
				t.Errorf("[%g, %g]: labels at %v, want %v", c.lo, c.hi, got, c.want)
			}
		}
	}
	// With prefixes each label carries its unit.
	for v, want := range map[float64]string{1e6: "1 MH/s", 1e7: "10 MH/s", 1e21: "1 ZH/s", 100: "100 H/s", 2e18: "2 EH/s"} {
		if got := (logTicks{unit: "H/s", prefixed: true}).label(v); got != want {
			t.Errorf("label(%g) = %q, want %q", v, got, want)
		}
	}
}

// TestNiceTicks checks that the labels of a linear axis are evenly spaced round numbers inside the range,
// about as many as asked.
func TestNiceTicks(t *testing.T) {
	for _, r := range [][2]float64{{0, 1}, {0, 5737}, {0, 13.6}, {-41, 41}, {0, 0.03}, {0, 700000}, {3, 3.0001}} {
		var labels []float64
		for _, tk := range (numberTicks{niceTicks{n: 6}}).Ticks(r[0], r[1]) {
			if tk.Label != "" {
				labels = append(labels, tk.Value)
			}
		}
		if len(labels) < 3 || len(labels) > 12 {
			t.Errorf("%v: %d labels %v", r, len(labels), labels)
			continue
		}
		step := labels[1] - labels[0]
		mant := step / math.Pow10(int(math.Floor(math.Log10(step))))
		if !slicesHas([]float64{1, 2, 2.5, 5}, mant) {
			t.Errorf("%v: step %g is not 1, 2, 2.5 or 5 × 10^k", r, step)
		}
		for i := 1; i < len(labels); i++ {
			if math.Abs(labels[i]-labels[i-1]-step) > step*1e-9 {
				t.Errorf("%v: uneven labels %v", r, labels)
			}
		}
	}
	// Labels are written with the decimals they need, all alike.
	var got []string
	for _, tk := range (numberTicks{niceTicks{n: 4}}).Ticks(0, 10) {
		if tk.Label != "" {
			got = append(got, tk.Label)
		}
	}
	if want := []string{"0.0", "2.5", "5.0", "7.5", "10.0"}; !equalStrings(got, want) {
		t.Errorf("labels %v, want %v", got, want)
	}
}

func slicesHas(xs []float64, v float64) bool {
	for _, x := range xs {
		if math.Abs(x-v) < 1e-9 {
			return true
		}
	}
	return false
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
