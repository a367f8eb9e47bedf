package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/minerscope/minerscope/chain/chaintest"
	"github.com/minerscope/minerscope/index"
)

// TestVerifyAtMainnet checks the time flags on an index of the real mainnet blocks 0–14131 from a real btcd:
// `verify difficulty --at T` against the raw block file and the node's getblockheader, the refusal of times
// before 1970, and next-adjustment's refusal of projections past the year 9999.
func TestVerifyAtMainnet(t *testing.T) {
	n := chaintest.StartMainnet(t)
	dir := t.TempDir()
	mustRun(t, append([]string{"index", "--quiet"}, nodeArgs(n, dir)...)...)
	file := index.MainnetHeaders(t)

	t.Run("difficulty at", func(t *testing.T) { testVerifyDifficultyAt(t, n, dir, file) })
	t.Run("before 1970", func(t *testing.T) { testBefore1970(t, dir) })
	t.Run("next adjustment far now", func(t *testing.T) { testNextAdjustmentFarNow(t, dir) })
}

func testVerifyDifficultyAt(t *testing.T, n *chaintest.Node, dir string, file []wireHeader) {
	// The block in effect at T is the highest height the block file has stamped at or before T.
	inEffect := func(at time.Time) int {
		h := -1
		for i := range file {
			if !file[i].Timestamp.After(at) {
				h = i
			}
		}
		return h
	}
	// A block stamped before the one below it: T between their timestamps takes the later height.
	var swap int
	for swap = 1; !file[swap+1].Timestamp.Before(file[swap].Timestamp); swap++ {
	}
	ats := []string{
		"2009-01-09",
		"2009-03-01T00:00:00Z",
		isoTimeUTC(file[11111].Timestamp),
		isoTimeUTC(file[11111].Timestamp.Add(-time.Second)),
		isoTimeUTC(file[swap+1].Timestamp),
		fmt.Sprint(file[14131].Timestamp.Unix()),
	}
	for _, at := range ats {
		tm, err := parseTime(at)
		if err != nil {
			t.Fatal(err)
		}
		h := inEffect(tm)
		var hash string
		nodeCall(t, n, &hash, "getblockhash", h)
		var hdr struct {
			Time       int64   `json:"time"`
			Difficulty float64 `json:"difficulty"`
		}
		nodeCall(t, n, &hdr, "getblockheader", hash, true)
		if hdr.Time > tm.Unix() {
			t.Fatalf("at %s: node's block %d is stamped %d, after it", at, h, hdr.Time)
		}
		v := verifyRun(t, 0, "difficulty", "1", "--at", at, "--index", dir)
		if v.Span.FromHeight != int32(h) || v.Span.ToHeight != int32(h) || v.Chain.Value != hdr.Difficulty ||
			!v.Chain.Exact || v.Span.FromTime.Unix() != hdr.Time {
			t.Errorf("at %s: %+v %+v; want block %d stamped %d, difficulty %v", at, v.Chain, v.Span, h, hdr.Time,
				hdr.Difficulty)
		}
	}
	if inEffect(file[swap+1].Timestamp) == swap {
		t.Fatalf("the out-of-order blocks %d, %d do not test the rule", swap, swap+1)
	}
	v := verifyRun(t, 1, "difficulty", "1.01", "--at", "2009-03-01", "--index", dir)
	if !closeRel(v.OffPct, 1, 1e-9) {
		t.Errorf("1.01: off %v%%, want 1%%", v.OffPct)
	}
	// Before the genesis block, and after the tip's timestamp: not verifiable.
	verifyRun(t, 2, "difficulty", "1", "--at", "2009-01-02", "--index", dir)
	verifyRun(t, 2, "difficulty", "1", "--at", isoTimeUTC(file[14131].Timestamp.Add(time.Second)), "--index", dir)

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--at", "2009-03-01", "--at-height", "5"}, "exclude each other"},
		{[]string{"--at", "1 March"}, "2025-10-15"},
		{nil, "--at T"},
	} {
		r := runCLI(t, nil, append([]string{"verify", "difficulty", "1", "--index", dir}, c.args...)...)
		if r.Code != exitUsage || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("verify difficulty 1 %v: exit %d, %q; want %d and %q", c.args, r.Code, r.Stderr, exitUsage, c.want)
		}
	}
}

func testBefore1970(t *testing.T, dir string) {
	for _, args := range [][]string{
		{"verify", "hashrate", "5MH/s", "--at", "0000-01-01"},
		{"verify", "hashrate", "5MH/s", "--at", "1969-12-31T23:59:59Z", "--blocks", "10"},
		{"verify", "difficulty", "1", "--at", "1969-12-31"},
		{"verify", "adjustment", "--date", "1969-12-31"},
		{"verify", "outflow", "1BTC", "--from", "1969-12-31", "--to", "2009-01-10"},
		{"verify", "outflow", "1BTC", "--from", "2009-01-10", "--to", "0001-01-01"},
		{"hashrate", "--at", "0000-01-01", "--window", "7d"},
		{"hashrate", "--at", "1960-01-01"},
	} {
		r := runCLI(t, nil, append(args, "--index", dir)...)
		if r.Code != exitUsage || !strings.Contains(r.Stderr, "is before 1970") || r.Stdout != "" ||
			strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d and one line saying it is before 1970", args,
				r.Code, r.Stdout, r.Stderr, exitUsage)
		}
	}
	// 1970-01-01 itself is a time: no block is stamped in the 24 hours before it.
	r := runCLI(t, nil, "hashrate", "--at", "1970-01-01", "--window", "24h", "--json", "--index", dir)
	var got hashrateJSON
	if decodeJSON(t, r.Stdout, &got); r.Code != 0 || got.Intervals != 0 || got.WindowEnd != "1970-01-01T00:00:00Z" {
		t.Errorf("hashrate --at 1970-01-01: exit %d, %+v", r.Code, got)
	}
}

func testNextAdjustmentFarNow(t *testing.T, dir string) {
	for _, c := range []struct{ now, want string }{
		{"1000000000000", "after the year 9999"},
		{"253402300800", "after the year 9999"}, // 10000-01-01T00:00:00Z
		{"9999-12-31T23:59:59Z", "the projected dates pass the year 9999"},
		{"9999-01-01", "the projected dates pass the year 9999"}, // the halving, 195,869 blocks on, is years later
	} {
		r := runCLI(t, nil, "next-adjustment", "--now", c.now, "--json", "--index", dir)
		if r.Code != exitUsage || !strings.Contains(r.Stderr, c.want) || r.Stdout != "" {
			t.Errorf("--now %s: exit %d, stdout %q, stderr %q; want exit %d and %q", c.now, r.Code, r.Stdout,
				r.Stderr, exitUsage, c.want)
		}
	}
	// Far, but every projected date still has four digits: every date parses as RFC 3339.
	var got nextAdjustmentJSON
	decodeJSON(t, mustRun(t, "next-adjustment", "--now", "9000-01-01", "--json", "--index", dir).Stdout, &got)
	for _, s := range []string{got.Now, got.Date, got.DateLo, got.DateHi, got.HalvingDate, got.HalvingDateLo,
		got.HalvingDateHi} {
		if d, err := time.Parse(time.RFC3339, s); err != nil || d.Year() < 9000 || d.Year() > 9999 {
			t.Errorf("--now 9000-01-01: date %q (%v)", s, err)
		}
	}
}
