package analysis

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestSeriesMatchesWindow checks every point against WindowHashrate on the
// equivalent window, and the block totals against a direct count.
func TestSeriesMatchesWindow(t *testing.T) {
	rng := rand.New(rand.NewPCG(40, 41))
	chains := map[string][]Header{
		"mainnet 0..14131": loadMainnet(t),
		"messy from 3000":  messyChain(rng, 12000)[3000:],
	}
	type seriesFunc func(Params, []Header, int64, int64) []SeriesPoint
	funcs := map[string]seriesFunc{"daily": DailyHashrate, "weekly": WeeklyHashrate}

	for name, hs := range chains {
		first, last := hs[0].Time, hs[len(hs)-1].Time
		ranges := [][2]int64{
			{0, 1 << 40},
			{first + 12345, last - 54321},
			{first + 86400*3, first + 86400*3 + 1},
		}
		for fname, f := range funcs {
			for _, r := range ranges {
				points := f(Mainnet, hs, r[0], r[1])
				if len(points) == 0 {
					t.Fatalf("%s %s %v: no points", name, fname, r)
				}
				checkSeries(t, hs, points, name+" "+fname)
			}
		}
	}
}

func checkSeries(t *testing.T, hs []Header, points []SeriesPoint, what string) {
	t.Helper()
	total := 0
	for i, pt := range points {
		if i > 0 && pt.Start != points[i-1].End {
			t.Fatalf("%s: point %d starts at %d, previous ends at %d",
				what, i, pt.Start, points[i-1].End)
		}
		want, err := WindowHashrate(Mainnet, hs, pt.Start-1, pt.End-1)
		if err != nil {
			t.Fatalf("%s: point %d [%d, %d): %v", what, i, pt.Start,
				pt.End, err)
		}
		got := pt.Estimate
		if got.HashesPerSec != want.HashesPerSec || got.Lo != want.Lo ||
			got.Hi != want.Hi || got.Intervals != want.Intervals ||
			got.Work.Cmp(want.Work) != 0 || got.FromHeight != want.FromHeight ||
			got.ToHeight != want.ToHeight || pt.Blocks != want.Intervals {
			t.Fatalf("%s: point %d = %+v, window says %+v", what, i, got, want)
		}
		total += pt.Blocks
	}

	lo, hi := points[0].Start, points[len(points)-1].End
	count := 0
	for _, h := range hs {
		if h.Time >= lo && h.Time < hi {
			count++
		}
	}
	if total != count {
		t.Fatalf("%s: %d blocks in points, %d in [%d, %d)", what, total,
			count, lo, hi)
	}
}

// TestSeriesCalendar checks period boundaries with the time package and
// the known gap after the genesis block: no blocks were mined between
// 3 and 9 January 2009.
func TestSeriesCalendar(t *testing.T) {
	hs := loadMainnet(t)
	jan3 := time.Date(2009, 1, 3, 0, 0, 0, 0, time.UTC).Unix()
	jan12 := time.Date(2009, 1, 12, 0, 0, 0, 0, time.UTC).Unix()

	days := DailyHashrate(Mainnet, hs, jan3, jan12)
	if len(days) != 9 {
		t.Fatalf("got %d days, want 9", len(days))
	}
	for i, d := range days {
		start := time.Unix(d.Start, 0).UTC()
		if start.Hour() != 0 || start.Minute() != 0 || start.Second() != 0 ||
			start.Day() != 3+i || d.End-d.Start != 86400 {
			t.Errorf("day %d: [%v, %v)", i, start, time.Unix(d.End, 0).UTC())
		}
	}
	if days[0].Blocks != 1 {
		t.Errorf("3 Jan 2009 has %d blocks, want 1 (genesis)", days[0].Blocks)
	}
	for _, d := range days[1:6] {
		if d.Blocks != 0 || d.Estimate.HashesPerSec != 0 || d.Estimate.Hi <= 0 {
			t.Errorf("%v: %d blocks, estimate %+v", time.Unix(d.Start, 0).UTC(),
				d.Blocks, d.Estimate)
		}
	}
	if days[6].Blocks == 0 {
		t.Errorf("9 Jan 2009 has no blocks")
	}

	weeks := WeeklyHashrate(Mainnet, hs, jan3, jan3+30*86400)
	for i, w := range weeks {
		start := time.Unix(w.Start, 0).UTC()
		if i > 0 && (start.Weekday() != time.Monday || start.Hour() != 0) {
			t.Errorf("week %d starts %v", i, start)
		}
		if i == 0 && w.Start != jan3 {
			t.Errorf("first week clipped to %v, want 3 Jan", start)
		}
	}
	// 3 Jan 2009 was a Saturday: the first ISO week is cut to 2 days.
	if weeks[0].End != jan3+2*86400 {
		t.Errorf("first week ends %v", time.Unix(weeks[0].End, 0).UTC())
	}
}

func TestSeriesEdges(t *testing.T) {
	hs := regularChain(100, 300, 1700000000, 600, 0x1d00ffff)
	if got := DailyHashrate(Mainnet, hs, 1700000000+500, 1700000000+400); got != nil {
		t.Errorf("inverted range: %v", got)
	}
	if got := DailyHashrate(Mainnet, nil, 0, 1<<40); got != nil {
		t.Errorf("no headers: %v", got)
	}
	if got := DailyHashrate(Mainnet, []Header{hs[0], hs[2]}, 0, 1<<40); got != nil {
		t.Errorf("gap: %v", got)
	}

	// Clipped to the second after the first header and after the tip.
	points := DailyHashrate(Mainnet, hs, 0, 1<<40)
	if points[0].Start != hs[0].Time+1 || points[len(points)-1].End != hs[200].Time+1 {
		t.Errorf("clipped to [%d, %d), want [%d, %d)", points[0].Start,
			points[len(points)-1].End, hs[0].Time+1, hs[200].Time+1)
	}

	for _, tt := range []struct{ t, day, week int64 }{
		{0, 0, -3 * 86400},                // Thursday 1 Jan 1970
		{-1, -86400, -3 * 86400},          // Wednesday 31 Dec 1969
		{4 * 86400, 4 * 86400, 4 * 86400}, // Monday 5 Jan 1970
	} {
		if got := dayStart(tt.t); got != tt.day {
			t.Errorf("dayStart(%d) = %d, want %d", tt.t, got, tt.day)
		}
		if got := weekStart(tt.t); got != tt.week {
			t.Errorf("weekStart(%d) = %d, want %d", tt.t, got, tt.week)
		}
	}
}
