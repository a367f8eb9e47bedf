package main

import (
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/chain/chaintest"
	"github.com/minerscope/minerscope/index"
)

// TestMainnetIndexMatchesNode indexes the real mainnet blocks 0–14131 from a real btcd through the CLI and
// checks the index, the hashrate estimates and the epochs against the node and the raw block file.
func TestMainnetIndexMatchesNode(t *testing.T) {
	n := chaintest.StartMainnet(t)
	dir := t.TempDir()
	mustRun(t, append([]string{"index", "--quiet"}, nodeArgs(n, dir)...)...)

	// Every stored hash is the double-SHA256 of the header in btcd's block file.
	file := index.MainnetHeaders(t)
	db, p, err := index.OpenExisting(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "mainnet" {
		t.Fatalf("index network %q, want mainnet", p.Name)
	}
	tip, _, _ := db.Tip()
	if tip != int32(len(file)-1) {
		t.Fatalf("index tip %d, want %d", tip, len(file)-1)
	}
	for h := range file {
		got, err := db.HashAt(int32(h))
		if err != nil {
			t.Fatal(err)
		}
		if want := file[h].BlockHash(); got != want {
			t.Fatalf("height %d: index hash %v, file %v", h, got, want)
		}
	}
	for _, h := range []int32{0, 1, 2015, 2016, 11111, 14131} {
		var s string
		nodeCall(t, n, &s, "getblockhash", h)
		want, _ := chainhash.NewHashFromStr(s)
		if got, _ := db.HashAt(h); got != *want {
			t.Fatalf("height %d: index %v, node %v", h, got, want)
		}
	}

	hs, err := db.AnalysisHeaders(0, tip)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	t.Run("hashrate equals getnetworkhashps", func(t *testing.T) {
		testHashrateAgainstNode(t, n, p, hs, dir)
	})
	t.Run("epochs computed independently", func(t *testing.T) {
		testEpochsAgainstNode(t, n, dir, file)
	})
	t.Run("window and daily series counted independently", func(t *testing.T) {
		testWindowHashrate(t, dir, file)
	})
	t.Run("next adjustment", func(t *testing.T) {
		testNextAdjustment(t, dir, file)
	})
}

// mainnetWork is the work of every block of mainnet 0–14131 (bits 0x1d00ffff): 2^256 / (0xffff * 2^208 + 1).
const mainnetWork = 4295032833

// countStamped counts the blocks of the file stamped in [from, to).
func countStamped(file []wireHeader, from, to int64) int {
	n := 0
	for i := range file {
		if ts := file[i].Timestamp.Unix(); ts >= from && ts < to {
			n++
		}
	}
	return n
}

// garwood is the exact 95% interval of a Poisson count n, as a hashrate over a window of secs seconds.
func garwood(n int, secs float64) (lo, hi float64) {
	if n > 0 {
		lo = distuv.ChiSquared{K: float64(2 * n)}.Quantile(0.025) / 2 * mainnetWork / secs
	}
	hi = distuv.ChiSquared{K: float64(2*n + 2)}.Quantile(0.975) / 2 * mainnetWork / secs
	return lo, hi
}

func testWindowHashrate(t *testing.T, dir string, file []wireHeader) {
	// --window 24h --at T covers the blocks stamped in (T-24h, T], i.e. [T-86399, T] in whole seconds.
	at := time.Date(2009, 2, 1, 0, 0, 0, 0, time.UTC).Unix()
	r := mustRun(t, "hashrate", "--index", dir, "--json", "--window", "24h", "--at", "2009-02-01")
	var got hashrateJSON
	decodeJSON(t, r.Stdout, &got)
	count := countStamped(file, at-86399, at+1)
	if count == 0 {
		t.Fatal("no blocks in the test window")
	}
	want := float64(count) * mainnetWork / 86400
	lo, hi := garwood(count, 86400)
	if got.Intervals != count || !closeRel(got.HashrateHS, want, 1e-12) || !closeRel(got.LoHS, lo, 1e-9) || !closeRel(got.HiHS, hi, 1e-9) {
		t.Errorf("--window 24h --at 2009-02-01: got %+v; want %d blocks, %v H/s in [%v, %v]", got, count, want, lo, hi)
	}

	// Each UTC day of the daily series covers the blocks stamped in [00:00, 24:00).
	r = mustRun(t, "hashrate", "--index", dir, "--csv", "--series", "daily", "--from", "2009-01-09", "--to", "2009-01-12")
	rows, err := csv.NewReader(strings.NewReader(r.Stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || strings.Join(rows[0], ",") != "start,end,blocks,hashrate_hs,lo_hs,hi_hs,from_height,to_height" {
		t.Fatalf("daily series:\n%s", r.Stdout)
	}
	for i, row := range rows[1:] {
		day := time.Date(2009, 1, 9+i, 0, 0, 0, 0, time.UTC)
		count := countStamped(file, day.Unix(), day.Unix()+86400)
		rate, _ := strconv.ParseFloat(row[3], 64)
		if row[0] != day.Format(time.RFC3339) || row[2] != strconv.Itoa(count) ||
			!closeRel(rate, float64(count)*mainnetWork/86400, 1e-12) {
			t.Errorf("day %s: row %v; want %d blocks", day.Format(time.DateOnly), row, count)
		}
	}
}

func testNextAdjustment(t *testing.T, dir string, file []wireHeader) {
	r := mustRun(t, "next-adjustment", "--index", dir, "--json")
	var got nextAdjustmentJSON
	decodeJSON(t, r.Stdout, &got)
	tip := int32(len(file) - 1)
	// 16128 = 8 * 2016 is the first retarget above 14131: 1996 blocks (14132-16127) remain in the epoch.
	// 210000 is the first halving: 195869 blocks (14132-210000) remain until and including it.
	if got.TipHeight != tip || got.NextRetargetHeight != 16128 || got.BlocksRemaining != 16128-1-tip ||
		got.HalvingHeight != 210000 || got.HalvingBlocksRemaining != 210000-tip {
		t.Errorf("heights: %+v", got)
	}
	if got.Now != isoTimeUTC(file[tip].Timestamp) {
		t.Errorf("now %s, want the tip's time %s", got.Now, isoTimeUTC(file[tip].Timestamp))
	}
	if !(got.DateLo < got.Date && got.Date < got.DateHi && got.ChangeLoPct <= got.ChangePct && got.ChangePct <= got.ChangeHiPct) {
		t.Errorf("intervals out of order: %+v", got)
	}
	// Difficulty 1 is the proof-of-work limit: it cannot fall, so no part of the interval is negative.
	if got.ChangeLoPct < 0 || got.CurrentDifficulty != 1 {
		t.Errorf("change below the pow limit or wrong difficulty: %+v", got)
	}
}

func testHashrateAgainstNode(t *testing.T, n *chaintest.Node, p analysis.Params, hs []analysis.Header, dir string) {
	tip := hs[len(hs)-1].Height
	lookups := []int{1, 2, 7, 120, 500, 2015, 2016, 2017, 4032, 14131, 20000, 0, -1}
	heights := []int32{-1, 1, 2, 100, 2015, 2016, 2017, 4031, 4032, 10000, tip - 1, tip}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		heights = append(heights, 1+rng.Int32N(tip))
	}
	for _, h := range heights {
		for _, lookup := range lookups {
			var want float64
			nodeCall(t, n, &want, "getnetworkhashps", lookup, h)
			est, err := analysis.NetworkHashPS(p, hs, lookup, h)
			if err != nil {
				t.Fatalf("NetworkHashPS(%d, %d): %v", lookup, h, err)
			}
			if !closeRel(est.HashesPerSec, want, 1e-9) {
				t.Errorf("getnetworkhashps(%d, %d): node %v, minerscope %v", lookup, h, want, est.HashesPerSec)
			}
		}
	}

	// The CLI's JSON reports the same figure and the heights it used.
	for _, c := range []struct{ blocks, at int }{{120, -1}, {2016, 14000}, {-1, 12345}, {1, 7}} {
		var want float64
		nodeCall(t, n, &want, "getnetworkhashps", c.blocks, c.at)
		r := mustRun(t, "hashrate", "--index", dir, "--json", "--blocks", fmt.Sprint(c.blocks), "--at-height", fmt.Sprint(c.at))
		var got hashrateJSON
		decodeJSON(t, r.Stdout, &got)
		if !closeRel(got.HashrateHS, want, 1e-9) {
			t.Errorf("hashrate --blocks %d --at-height %d: %v, node %v", c.blocks, c.at, got.HashrateHS, want)
		}
		if !(got.LoHS < got.HashrateHS && got.HashrateHS < got.HiHS) {
			t.Errorf("hashrate --blocks %d --at-height %d: interval [%v, %v] does not bracket %v", c.blocks, c.at, got.LoHS, got.HiHS, got.HashrateHS)
		}
	}
}

// testEpochsAgainstNode recomputes the epochs table from the raw block file and the node's own RPC
// (difficulty, getnetworkhashps) and compares it with `minerscope epochs --json`.
func testEpochsAgainstNode(t *testing.T, n *chaintest.Node, dir string, file []wireHeader) {
	r := mustRun(t, "epochs", "--index", dir, "--json")
	var got []epochJSON
	decodeJSON(t, r.Stdout, &got)

	tip := int32(len(file) - 1)
	var want []epochJSON
	var prevDiff float64
	for start := int32(0); start <= tip; start += 2016 {
		end := min(start+2015, tip)
		e := epochJSON{
			Epoch: start / 2016, StartHeight: start, EndHeight: end,
			StartTime: isoTimeUTC(file[start].Timestamp), EndTime: isoTimeUTC(file[end].Timestamp),
			Bits: fmt.Sprintf("%08x", file[start].Bits), Complete: end == start+2015,
			DurationS: file[end].Timestamp.Unix() - file[start].Timestamp.Unix(),
		}
		var hdr struct{ Difficulty float64 }
		nodeCall(t, n, &hdr, "getblockheader", file[start].BlockHash().String(), true)
		e.Difficulty = hdr.Difficulty
		if start > 0 {
			e.ChangePct = (hdr.Difficulty/prevDiff - 1) * 100
		}
		prevDiff = hdr.Difficulty
		if e.Complete {
			nodeCall(t, n, &e.HashrateHS, "getnetworkhashps", 2016, end)
		} else {
			nodeCall(t, n, &e.HashrateHS, "getnetworkhashps", -1, end)
		}
		e.HashrateLoHS, e.HashrateHiHS = chiSquareInterval(file, max(start-1, 0), end)
		want = append(want, e)
	}
	if len(got) != len(want) {
		t.Fatalf("%d epochs, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Epoch != w.Epoch || g.StartHeight != w.StartHeight || g.EndHeight != w.EndHeight ||
			g.StartTime != w.StartTime || g.EndTime != w.EndTime || g.Bits != w.Bits ||
			g.DurationS != w.DurationS || g.Complete != w.Complete {
			t.Errorf("epoch %d:\n got %+v\nwant %+v", i, g, w)
		}
		for _, f := range []struct {
			name      string
			got, want float64
		}{
			{"difficulty", g.Difficulty, w.Difficulty}, {"hashrate", g.HashrateHS, w.HashrateHS},
			{"hashrate_lo", g.HashrateLoHS, w.HashrateLoHS}, {"hashrate_hi", g.HashrateHiHS, w.HashrateHiHS},
		} {
			if !closeRel(f.got, f.want, 1e-9) {
				t.Errorf("epoch %d %s: got %v, want %v", i, f.name, f.got, f.want)
			}
		}
		if math.Abs(g.ChangePct-w.ChangePct) > 1e-9 {
			t.Errorf("epoch %d change_pct: got %v, want %v", i, g.ChangePct, w.ChangePct)
		}
	}
}

// chiSquareInterval is the exact 95% Poisson interval for the intervals (from, to], written out from its
// definition: with alpha_i = (t_i - t_{i-1}) / work_i, 2 r sum(alpha) ~ chi^2(2n).
func chiSquareInterval(file []wireHeader, from, to int32) (lo, hi float64) {
	var sum float64
	for h := from + 1; h <= to; h++ {
		dt := float64(file[h].Timestamp.Unix() - file[h-1].Timestamp.Unix())
		// Every block of mainnet 0–14131 has bits 0x1d00ffff: work 2^256 / (0xffff * 2^208 + 1) = 4295032833.
		if file[h].Bits != 0x1d00ffff {
			panic("unexpected bits")
		}
		sum += dt / 4295032833
	}
	k := float64(2 * (to - from))
	return distuv.ChiSquared{K: k}.Quantile(0.025) / (2 * sum), distuv.ChiSquared{K: k}.Quantile(0.975) / (2 * sum)
}

func closeRel(got, want, tol float64) bool {
	if got == want {
		return true
	}
	return math.Abs(got-want) <= tol*math.Max(math.Abs(got), math.Abs(want))
}
