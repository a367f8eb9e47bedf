package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

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
