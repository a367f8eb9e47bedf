package main

import (
	"encoding/csv"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minerscope/minerscope/index"
)

// sigDay is one UTC day of the real 2009 blocks, counted in the test from the block file.
type sigDay struct {
	start    int64
	blocks   int
	lo, hi   int32
	rate     float64 // blocks × 0x100010001 / the day's seconds
	ma30     float64
	ma60     float64
	capitul  bool
	lastDay  bool
	complete bool
}

// mainnetDays recomputes the daily hashrate and its averages from the real block headers: every block of
// 0–14131 has difficulty 1, whose work 0x100010001 is the chainwork of block 1 as every node reports it.
func mainnetDays(t *testing.T) []sigDay {
	t.Helper()
	hdrs := index.MainnetHeaders(t)
	genesisDay := time.Date(2009, 1, 3, 0, 0, 0, 0, time.UTC).Unix()
	tip := hdrs[len(hdrs)-1].Timestamp.Unix()
	days := make([]sigDay, (tip-genesisDay)/86400+1)
	for i := range days {
		days[i] = sigDay{start: genesisDay + int64(i)*86400, lo: -1, hi: -1}
	}
	for h, hdr := range hdrs {
		if hdr.Bits != 0x1d00ffff {
			t.Fatalf("block %d: bits %08x", h, hdr.Bits)
		}
		d := &days[(hdr.Timestamp.Unix()-genesisDay)/86400]
		d.blocks++
		if d.lo < 0 {
			d.lo = int32(h)
		}
		d.hi = int32(h)
	}
	days[len(days)-1].lastDay = true
	rates := make([]float64, len(days))
	for i := range days {
		secs := int64(86400)
		if days[i].lastDay {
			secs = tip + 1 - days[i].start
		}
		days[i].rate = float64(days[i].blocks) * 0x100010001 / float64(secs)
		rates[i] = days[i].rate
	}
	mean := func(i, n int) float64 {
		if i < n-1 {
			return math.NaN()
		}
		s := 0.0
		for _, r := range rates[i-n+1 : i+1] {
			s += r
		}
		return s / float64(n)
	}
	for i := range days {
		days[i].ma30, days[i].ma60 = mean(i, 30), mean(i, 60)
		days[i].capitul = days[i].ma30 < days[i].ma60
	}
	return days
}

func relClose(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Abs(want)
}

// readCSVRecords parses CSV output with its header row.
func readCSVRecords(t *testing.T, s string) (map[string]int, [][]string) {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("bad CSV (%v):\n%s", err, s)
	}
	col := map[string]int{}
	for i, name := range recs[0] {
		col[name] = i
	}
	return col, recs[1:]
}

// TestSignalsMainnet checks every signals table on the real 2009 blocks against the test's own recomputation
// from the block file, and the 2009 hashrate against what difficulty 1 means: 2^32 hashes per block, so
// 144 blocks a day would be 7.16 MH/s.
func TestSignalsMainnet(t *testing.T) {
	dir := chartIndexDir(t) // the full blocks 0–14131, without a node
	days := mainnetDays(t)

	t.Run("ribbons json", func(t *testing.T) {
		var rows []ribbonJSON
		decodeJSON(t, mustRun(t, "signals", "ribbons", "--json", "--index", dir).Stdout, &rows)
		if len(rows) != len(days) {
			t.Fatalf("%d days, want %d", len(rows), len(days))
		}
		for i, r := range rows {
			d := days[i]
			if r.Day != time.Unix(d.start, 0).UTC().Format(time.DateOnly) || r.Blocks != d.blocks ||
				r.FromHeight != d.lo || r.ToHeight != d.hi || !relClose(r.HashrateHS, d.rate, 1e-15) ||
				r.Capitulation != d.capitul {
				t.Fatalf("day %d: %+v, want %+v", i, r, d)
			}
			for _, m := range []struct {
				got  *float64
				want float64
			}{{r.MA30HS, d.ma30}, {r.MA60HS, d.ma60}} {
				if math.IsNaN(m.want) != (m.got == nil) || m.got != nil && !relClose(*m.got, m.want, 1e-12) {
					t.Fatalf("day %d: averages %v %v, want %v %v", i, r.MA30HS, r.MA60HS, d.ma30, d.ma60)
				}
			}
			if d.blocks > 0 && (r.LoHS == nil || r.HiHS == nil || *r.LoHS >= r.HashrateHS || *r.HiHS <= r.HashrateHS) {
				t.Fatalf("day %d: interval %v..%v around %v", i, r.LoHS, r.HiHS, r.HashrateHS)
			}
		}
		// 2009: from late January on, the 30-day average is a few MH/s.
		for _, r := range rows[30 : len(rows)-1] {
			if *r.MA30HS < 2e6 || *r.MA30HS > 12e6 {
				t.Errorf("%s: 30-day average %.3g H/s is not a few MH/s", r.Day, *r.MA30HS)
			}
		}
		t.Logf("2009-02-01 30-day average %.3f MH/s; tip day %s 60-day %.3f MH/s",
			*rows[29].MA30HS/1e6, rows[len(rows)-1].Day, *rows[len(rows)-1].MA60HS/1e6)
	})

	t.Run("capitulations csv", func(t *testing.T) {
		col, recs := readCSVRecords(t, mustRun(t, "signals", "capitulations", "--csv", "--index", dir).Stdout)
		// The periods by hand: maximal runs of days in capitulation.
		var want [][2]int
		for i := 0; i < len(days); i++ {
			if days[i].capitul {
				j := i
				for j+1 < len(days) && days[j+1].capitul {
					j++
				}
				want = append(want, [2]int{i, j})
				i = j
			}
		}
		if len(recs) != len(want) || len(want) == 0 {
			t.Fatalf("%d periods, want %d", len(recs), len(want))
		}
		for k, rec := range recs {
			i, j := want[k][0], want[k][1]
			day := func(n int) string { return time.Unix(days[n].start, 0).UTC().Format(time.DateOnly) }
			ongoing := j == len(days)-1
			recovery := ""
			if !ongoing {
				recovery = day(j + 1)
			}
			if rec[col["start"]] != day(i) || rec[col["end"]] != day(j) ||
				rec[col["days"]] != strconv.Itoa(j-i+1) || rec[col["ongoing"]] != strconv.FormatBool(ongoing) ||
				rec[col["recovery_day"]] != recovery {
				t.Errorf("period %d: %v, want days %d..%d", k, rec, i, j)
			}
		}
		t.Logf("%d capitulation periods in 2009, the first %s..%s", len(recs), recs[0][0], recs[0][1])
	})

	t.Run("difficulty ribbon", func(t *testing.T) {
		col, recs := readCSVRecords(t, mustRun(t, "signals", "difficulty-ribbon", "--csv", "--index", dir).Stdout)
		if len(recs) != len(days) {
			t.Fatalf("%d days, want %d", len(recs), len(days))
		}
		for i, rec := range recs {
			// Difficulty 1 throughout: every average is exactly 1 once its window is full.
			if rec[col["difficulty"]] != "1" {
				t.Fatalf("day %d: %v", i, rec)
			}
			for _, w := range []int{14, 25, 40, 60, 90, 128, 200} {
				want := ""
				if i >= w-1 {
					want = "1"
				}
				if got := rec[col["ma"+strconv.Itoa(w)]]; got != want {
					t.Fatalf("day %d: %d-day average %q, want %q", i, w, got, want)
				}
			}
		}
	})

	t.Run("from to", func(t *testing.T) {
		var rows []ribbonJSON
		decodeJSON(t, mustRun(t, "signals", "ribbons", "--json", "--index", dir, "--from", "2009-03-10",
			"--to", "2009-03-19").Stdout, &rows)
		if len(rows) != 10 || rows[0].Day != "2009-03-10" || rows[9].Day != "2009-03-19" {
			t.Fatalf("got %d days %v..", len(rows), rows)
		}
		i := int((time.Date(2009, 3, 10, 0, 0, 0, 0, time.UTC).Unix() - days[0].start) / 86400)
		if !relClose(*rows[0].MA60HS, days[i].ma60, 1e-12) {
			t.Errorf("cut 60-day average %v, want the whole chain's %v", *rows[0].MA60HS, days[i].ma60)
		}
	})

	t.Run("summary", func(t *testing.T) {
		out := mustRun(t, "signals", "--index", dir).Stdout
		for _, want := range []string{"hash ribbons on 2009-05-12", "difficulty ribbon on 2009-05-12",
			"capitulation periods"} {
			if !strings.Contains(out, want) {
				t.Errorf("summary lacks %q:\n%s", want, out)
			}
		}
		var all signalsJSON
		decodeJSON(t, mustRun(t, "signals", "--json", "--index", dir).Stdout, &all)
		if all.Network != "mainnet" || len(all.Ribbons) != len(days) || len(all.DifficultyRibbon) != len(days) ||
			len(all.Capitulations) == 0 {
			t.Errorf("signals --json: %d ribbons, %d difficulty days, %d periods", len(all.Ribbons),
				len(all.DifficultyRibbon), len(all.Capitulations))
		}
		if !strings.Contains(mustRun(t, "signals", "ribbons", "--index", dir).Stdout, "MH/s") {
			t.Error("ribbons text has no MH/s")
		}
	})

	t.Run("usage errors", func(t *testing.T) {
		for _, args := range [][]string{
			{"signals", "--csv"},
			{"signals", "ribbons", "--csv", "--json"},
			{"signals", "bogus"},
			{"signals", "ribbons", "extra"},
			{"signals", "ribbons", "--from", "2009-13-01"},
			{"signals", "ribbons", "--from", "2009-03-02", "--to", "2009-03-01"},
		} {
			r := runCLI(t, nil, append(args, "--index", dir)...)
			if r.Code != exitUsage || !strings.Contains(r.Stderr, "minerscope: ") {
				t.Errorf("%v: exit %d, stderr %q; want usage error", args, r.Code, r.Stderr)
			}
		}
	})
}
