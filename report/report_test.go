package report

import (
	"math"
	"testing"
	"time"

	"github.com/minerscope/minerscope/analysis"
)

func TestMaxTime(t *testing.T) {
	last := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	if MaxTime != last.Unix() || Time(MaxTime) != "9999-12-31T23:59:59Z" {
		t.Errorf("MaxTime %d = %s, want %d", MaxTime, Time(MaxTime), last.Unix())
	}
	if _, err := time.Parse(time.RFC3339, Time(MaxTime+1)); err == nil {
		t.Errorf("%s, a second after MaxTime, parses as RFC 3339", Time(MaxTime+1))
	}
	pr := analysis.Projection{Now: 1, Date: 5, DateLo: 4, DateHi: 6, HalvingDate: 8, HalvingDateLo: 7, HalvingDateHi: 9}
	if got := LastTime(pr); got != 9 {
		t.Errorf("LastTime = %d, want 9", got)
	}
}

func TestWindow(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{7 * 24 * time.Hour, "7d"},
		{36 * time.Hour, "36h"},
		{90 * time.Minute, "1h30m0s"},
		{36500 * 24 * time.Hour, "36500d"},
	} {
		if got := Window(c.d); got != c.want {
			t.Errorf("Window(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestNonFinite(t *testing.T) {
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if Finite(f) != 0 || OptFloat(f) != nil {
			t.Errorf("%v: Finite %v, OptFloat %v; want 0 and nil", f, Finite(f), OptFloat(f))
		}
	}
	if Finite(-2.5) != -2.5 || *OptFloat(-2.5) != -2.5 {
		t.Error("a finite value changed")
	}
}
