package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/chain/chaintest"
	"github.com/minerscope/minerscope/index"
)

// TestVerifyMainnet checks `minerscope verify` on an index of the real mainnet blocks 0–14131 from a real
// btcd. Every expected verdict comes from an independent computation here: block counts and Garwood
// intervals from the raw block file, the node's getblockheader and getnetworkhashps, the miner-flow
// reference of flows_mainnet_test.go, and published chain facts.
func TestVerifyMainnet(t *testing.T) {
	n := chaintest.StartMainnet(t)
	dir := t.TempDir()
	mustRun(t, append([]string{"index", "--quiet"}, nodeArgs(n, dir)...)...)
	file := index.MainnetHeaders(t)

	t.Run("hashrate window", func(t *testing.T) { testVerifyHashrateWindow(t, dir, file) })
	t.Run("hashrate blocks", func(t *testing.T) { testVerifyHashrateBlocks(t, n, dir, file) })
	t.Run("difficulty", func(t *testing.T) { testVerifyDifficulty(t, n, dir) })
	t.Run("adjustment", func(t *testing.T) { testVerifyAdjustment(t, dir, file) })
	t.Run("outflow", func(t *testing.T) { testVerifyOutflow(t, dir) })
	t.Run("bad input", func(t *testing.T) { testVerifyBadInput(t, dir) })
	t.Run("text output", func(t *testing.T) { testVerifyText(t, dir, file) })
}

// verifyRun runs verify with --json and checks the exit code matches the verdict.
func verifyRun(t *testing.T, wantCode int, args ...string) analysis.Verification {
	t.Helper()
	r := runCLI(t, nil, append([]string{"verify"}, append(args, "--json")...)...)
	if r.Code != wantCode {
		t.Fatalf("verify %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.Code, wantCode,
			r.Stdout, r.Stderr)
	}
	var v analysis.Verification
	decodeJSON(t, r.Stdout, &v)
	want := map[int]analysis.Verdict{0: analysis.VerdictConsistent, 1: analysis.VerdictInconsistent,
		2: analysis.VerdictNotVerifiable}[wantCode]
	if v.Verdict != want {
		t.Fatalf("verify %s: verdict %s with exit %d", strings.Join(args, " "), v.Verdict, wantCode)
	}
	return v
}

func testVerifyHashrateWindow(t *testing.T, dir string, file []wireHeader) {
	// --window 24h --at 2009-02-01 covers the blocks stamped in (T-24h, T].
	at := time.Date(2009, 2, 1, 0, 0, 0, 0, time.UTC).Unix()
	count := countStamped(file, at-86399, at+1)
	est := float64(count) * mainnetWork / 86400
	lo, hi := garwood(count, 86400)
	args := func(claim string) []string {
		return []string{"hashrate", claim, "--at", "2009-02-01", "--window", "24h", "--index", dir}
	}
	v := verifyRun(t, 0, args(fmt.Sprintf("%.3f MH/s", est/1e6))...)
	if v.Span.Blocks != count || !closeRel(v.Chain.Value, est, 1e-12) || !closeRel(v.Chain.Lo, lo, 1e-9) ||
		!closeRel(v.Chain.Hi, hi, 1e-9) || v.Span.FromTime.Unix() != at-86400 || v.Span.ToTime.Unix() != at {
		t.Errorf("true claim: %+v %+v; want %d blocks, %v in [%v, %v]", v.Chain, v.Span, count, est, lo, hi)
	}
	v = verifyRun(t, 1, args(fmt.Sprintf("%.3f MH/s", 2*est/1e6))...)
	if want := (2*est - hi) / hi * 100; !closeRel(v.OffPct, want, 1e-3) || !strings.Contains(v.Off, "above the upper bound") {
		t.Errorf("2x claim: off %v%% %q, want %v%%", v.OffPct, v.Off, want)
	}
	verifyRun(t, 1, args(fmt.Sprintf("%.3f MH/s", est/2e6))...)
	// Borderline: a millionth inside and outside each bound, stated to 0.0001 H/s.
	verifyRun(t, 0, args(fmt.Sprintf("%.4f H/s", hi*(1-1e-6)))...)
	verifyRun(t, 1, args(fmt.Sprintf("%.4f H/s", hi*(1+1e-6)))...)
	verifyRun(t, 0, args(fmt.Sprintf("%.4f H/s", lo*(1+1e-6)))...)
	verifyRun(t, 1, args(fmt.Sprintf("%.4f H/s", lo*(1-1e-6)))...)
	// 5% above the upper bound: inconsistent, but consistent with --tolerance 10%.
	claim := fmt.Sprintf("%.4f H/s", hi*1.05)
	verifyRun(t, 1, args(claim)...)
	verifyRun(t, 0, append(args(claim), "--tolerance", "10%")...)
	// The claim may come as two arguments.
	verifyRun(t, 0, "hashrate", fmt.Sprintf("%.3f", est/1e6), "MH/s", "--at", "2009-02-01", "--window", "24h", "--index", dir)

	// The default window is 7d ending at the tip: compare with the block count over the last 7 days.
	tipTime := file[len(file)-1].Timestamp.Unix()
	n7 := countStamped(file, tipTime-7*86400+1, tipTime+1)
	v = verifyRun(t, 0, "hashrate", fmt.Sprintf("%.4f H/s", float64(n7)*mainnetWork/(7*86400)), "--index", dir)
	if v.Span.Blocks != n7 || v.Span.ToTime.Unix() != tipTime {
		t.Errorf("default window: %+v, want %d blocks to %d", v.Span, n7, tipTime)
	}
	// After the tip, or a claim in ZH/s about 2009.
	verifyRun(t, 2, "hashrate", "7 MH/s", "--at", "2010-01-01", "--index", dir)
	verifyRun(t, 1, "hashrate", "1.1ZH/s", "--at", "2009-02-01", "--index", dir)
}

func testVerifyHashrateBlocks(t *testing.T, n *chaintest.Node, dir string, file []wireHeader) {
	at := time.Date(2009, 3, 15, 0, 0, 0, 0, time.UTC).Unix()
	end := -1
	for h := range file {
		if file[h].Timestamp.Unix() <= at {
			end = h
		}
	}
	var want float64
	nodeCall(t, n, &want, "getnetworkhashps", 1008, end)
	v := verifyRun(t, 0, "hashrate", fmt.Sprintf("%.4f H/s", want), "--at", "2009-03-15", "--blocks", "1008", "--index", dir)
	if !closeRel(v.Chain.Value, want, 1e-9) || v.Span.ToHeight != int32(end) || v.Span.FromHeight != int32(end-1008) {
		t.Errorf("--blocks 1008: %+v %+v; node %v at %d", v.Chain, v.Span, want, end)
	}
	verifyRun(t, 1, "hashrate", fmt.Sprintf("%.4f H/s", 2*want), "--at", "2009-03-15", "--blocks", "1008", "--index", dir)
}

func testVerifyDifficulty(t *testing.T, n *chaintest.Node, dir string) {
	// Published: the difficulty stayed 1 until height 32255; the node says so too.
	for _, h := range []int{0, 2016, 9999, 14131} {
		var hash string
		nodeCall(t, n, &hash, "getblockhash", h)
		var hdr struct {
			Difficulty float64 `json:"difficulty"`
		}
		nodeCall(t, n, &hdr, "getblockheader", hash, true)
		if hdr.Difficulty != 1 {
			t.Fatalf("node: difficulty %v at %d", hdr.Difficulty, h)
		}
		v := verifyRun(t, 0, "difficulty", "1.00", "--at-height", fmt.Sprint(h), "--index", dir)
		if v.Chain.Value != hdr.Difficulty || !v.Chain.Exact || v.Span.FromHeight != int32(h) {
			t.Errorf("height %d: %+v %+v", h, v.Chain, v.Span)
		}
	}
	verifyRun(t, 0, "difficulty", "1", "--at-height", "100", "--index", dir)
	v := verifyRun(t, 1, "difficulty", "1.01", "--at-height", "100", "--index", dir)
	if !closeRel(v.OffPct, 1, 1e-9) || !strings.Contains(v.Off, "1.00% above the chain value") {
		t.Errorf("1.01: off %v %q", v.OffPct, v.Off)
	}
	verifyRun(t, 1, "difficulty", "155.97T", "--at-height", "100", "--index", dir)
	verifyRun(t, 1, "difficulty", "0.99", "--at-height", "100", "--index", dir)
	verifyRun(t, 0, "difficulty", "0.99", "--at-height", "100", "--tolerance", "2%", "--index", dir)
	// Height 32256, the first difficulty change, is beyond the index.
	verifyRun(t, 2, "difficulty", "1.18", "--at-height", "32256", "--index", dir)
}

func testVerifyAdjustment(t *testing.T, dir string, file []wireHeader) {
	date := func(h int) string { return file[h].Timestamp.UTC().Format(time.DateOnly) }
	retargetDays := map[string]bool{}
	for h := 2016; h < len(file); h += 2016 {
		retargetDays[date(h)] = true
	}
	// Every retarget of 2009 kept difficulty 1 (0%): a retarget happened on its date, unchanged.
	v := verifyRun(t, 0, "adjustment", "--date", date(2016), "--index", dir)
	if v.Span.FromHeight != 2016 || v.Chain.Value != 0 || v.Adjustment.Retargets[0].Time.Unix() != file[2016].Timestamp.Unix() {
		t.Errorf("block 2016: %+v %+v", v.Span, v.Adjustment)
	}
	verifyRun(t, 0, "adjustment", "--date", date(14112), "--change", "0%", "--index", dir)
	v = verifyRun(t, 1, "adjustment", "--date", date(4032), "--change", "-11%", "--index", dir)
	if v.OffPoints != -11 {
		t.Errorf("-11%%: off %v points", v.OffPoints)
	}
	// A 2009 date with no retarget: inconsistent, naming the retargets around it.
	if retargetDays[date(3000)] {
		t.Fatal("test date has a retarget")
	}
	v = verifyRun(t, 1, "adjustment", "--date", date(3000), "--index", dir)
	if v.Adjustment.Before.Height != 2016 || v.Adjustment.After.Height != 4032 {
		t.Errorf("date of 3000: %+v", v.Adjustment)
	}
	// Published: height 32256, the first change, was mined on 2009-12-30; the index ends at 14131.
	verifyRun(t, 2, "adjustment", "--date", "2009-12-30", "--index", dir)
	verifyRun(t, 2, "adjustment", "--date", "2026-02-08", "--change", "-11%", "--index", dir)
}

func testVerifyOutflow(t *testing.T, dir string) {
	ref := buildFlowRef(t, index.MainnetBlocks(t))
	daySum := func(l int, from, to string) int64 {
		f, _ := time.Parse(time.DateOnly, from)
		e, _ := time.Parse(time.DateOnly, to)
		var s int64
		for _, b := range ref.blocks {
			if b.time >= f.Unix() && b.time < e.Unix()+86400 {
				s += b.outflow[l]
			}
		}
		return s
	}
	sat := func(x int64) string { return fmt.Sprintf("%d sat", x) }

	// Published: block 170 (2009-01-12) holds the first transaction, and the first outflow, 10 BTC.
	verifyRun(t, 0, "outflow", "0 BTC", "--from", "2009-01-03", "--to", "2009-01-11", "--index", dir)
	verifyRun(t, 1, "outflow", "0.00000001 BTC", "--from", "2009-01-03", "--to", "2009-01-11", "--index", dir)
	jan12 := daySum(0, "2009-01-12", "2009-01-12")
	if jan12 < 10e8 {
		t.Fatalf("reference: 2009-01-12 outflow %d sat, below block 170's 10 BTC", jan12)
	}
	v := verifyRun(t, 0, "outflow", sat(jan12), "--from", "2009-01-12", "--to", "2009-01-12", "--index", dir)
	if int64(v.Outflow.ChainSat) != jan12 || v.Span.FromHeight > 170 || v.Span.ToHeight < 170 {
		t.Errorf("2009-01-12: %+v %+v", v.Outflow, v.Span)
	}
	verifyRun(t, 1, "outflow", sat(jan12+1), "--from", "2009-01-12", "--to", "2009-01-12", "--index", dir)

	for hops := range 2 {
		h := fmt.Sprint(hops)
		s := daySum(hops, "2009-01-01", "2009-03-31")
		btc := fmt.Sprintf("%d BTC", (s+5e7)/1e8) // rounded to whole BTC
		v := verifyRun(t, 0, "outflow", btc, "--from", "2009-01-01", "--to", "2009-03-31", "--hops", h, "--index", dir)
		if int64(v.Outflow.ChainSat) != s || v.Outflow.Hops != hops {
			t.Errorf("hops %d: %+v, reference %d sat", hops, v.Outflow, s)
		}
		verifyRun(t, 1, "outflow", fmt.Sprintf("%d BTC", (s+5e7)/1e8+1), "--from", "2009-01-01", "--to", "2009-03-31",
			"--hops", h, "--index", dir)
		verifyRun(t, 0, "outflow", fmt.Sprintf("%d BTC", 2*s/1e8), "--from", "2009-01-01", "--to", "2009-03-31",
			"--hops", h, "--tolerance", "100%", "--index", dir)
	}
	// The index ends on 2009-05-02 or so: a February 2026 week is not verifiable.
	verifyRun(t, 2, "outflow", "5000BTC", "--from", "2026-02-01", "--to", "2026-02-07", "--index", dir)
}

func testVerifyBadInput(t *testing.T, dir string) {
	h := func(claim string, extra ...string) []string {
		return append([]string{"verify", "hashrate", claim, "--index", dir}, extra...)
	}
	for _, c := range []struct {
		args []string
		want string // in stderr
	}{
		{h("1.1ZH"), analysis.HashrateForms},
		{h("1.1"), analysis.HashrateForms},
		{h("1e21H/s"), analysis.HashrateForms},
		{h("1,100 EH/s"), analysis.HashrateForms},
		{[]string{"verify", "hashrate", "--index", dir, "--", "-1 EH/s"}, analysis.HashrateForms},
		{h("-1 EH/s"), "unknown shorthand flag"},
		{h("1.1 zh/s"), analysis.HashrateForms},
		{[]string{"verify", "hashrate", "--index", dir}, analysis.HashrateForms},
		{[]string{"verify", "hashrate", "1", "EH/s", "now", "--index", dir}, analysis.HashrateForms},
		{h("1 EH/s", "--window", "7d", "--blocks", "1008"), "exclude each other"},
		{h("1 EH/s", "--blocks", "0"), "positive number"},
		{h("1 EH/s", "--blocks", "ten"), "invalid argument"},
		{h("1 EH/s", "--window", "0d"), "window"},
		{h("1 EH/s", "--window", "week"), "window"},
		{h("1 EH/s", "--at", "15/10/2025"), "2025-10-15"},
		{h("1 EH/s", "--tolerance", "-2%"), "negative"},
		{h("1 EH/s", "--tolerance", "2"), analysis.PercentForms},
		{h("1 EH/s", "--no-such-flag"), "unknown flag"},
		{[]string{"verify", "difficulty", "155.97X", "--at-height", "1", "--index", dir}, analysis.DifficultyForms},
		{[]string{"verify", "difficulty", "1.5e14", "--at-height", "1", "--index", dir}, analysis.DifficultyForms},
		{[]string{"verify", "difficulty", "1.00", "--index", dir}, "--at-height"},
		{[]string{"verify", "difficulty", "1.00", "--at-height", "-5", "--index", dir}, "not a block height"},
		{[]string{"verify", "adjustment", "--index", dir}, "--date"},
		{[]string{"verify", "adjustment", "--date", "2026-2-8", "--index", dir}, "ISO date"},
		{[]string{"verify", "adjustment", "--date", "2026-02-30", "--index", dir}, "ISO date"},
		{[]string{"verify", "adjustment", "--date", "2026-02-08T00:00:00Z", "--index", dir}, "ISO date"},
		{[]string{"verify", "adjustment", "--date", "2026-02-08", "--change", "-11", "--index", dir}, analysis.PercentForms},
		{[]string{"verify", "adjustment", "--date", "2026-02-08", "--change", "eleven%", "--index", dir}, analysis.PercentForms},
		{[]string{"verify", "adjustment", "2026-02-08", "--index", dir}, "no argument"},
		{[]string{"verify", "outflow", "5000", "--from", "2009-01-01", "--to", "2009-01-02", "--index", dir}, analysis.AmountForms},
		{[]string{"verify", "outflow", "1e3BTC", "--from", "2009-01-01", "--to", "2009-01-02", "--index", dir}, analysis.AmountForms},
		{[]string{"verify", "outflow", "0.000000001 BTC", "--from", "2009-01-01", "--to", "2009-01-02", "--index", dir}, "8 decimals"},
		{[]string{"verify", "outflow", "--from", "2009-01-01", "--to", "2009-01-02", "--index", dir, "--", "-5 BTC"}, analysis.AmountForms},
		{[]string{"verify", "outflow", "21000001 BTC", "--from", "2009-01-01", "--to", "2009-01-02", "--index", dir}, "supply limit"},
		{[]string{"verify", "outflow", "5 BTC", "--to", "2009-01-02", "--index", dir}, "--from"},
		{[]string{"verify", "outflow", "5 BTC", "--from", "2009-01-03", "--to", "2009-01-02", "--index", dir}, "before"},
		{[]string{"verify", "outflow", "5 BTC", "--from", "2009/01/01", "--to", "2009-01-02", "--index", dir}, "ISO date"},
		{[]string{"verify", "outflow", "5 BTC", "--from", "2009-01-01", "--to", "2009-01-02", "--hops", "2", "--index", dir}, "--hops"},
		{[]string{"verify", "--index", dir}, "hashrate, difficulty, adjustment or outflow"},
		{[]string{"verify", "price", "100000", "--index", dir}, "hashrate, difficulty, adjustment or outflow"},
	} {
		r := runCLI(t, nil, c.args...)
		if r.Code != exitUsage || !strings.Contains(r.Stderr, c.want) || r.Stdout != "" {
			t.Errorf("%s: exit %d (want 2), stderr %q (want %q), stdout %q", strings.Join(c.args[1:], " "), r.Code,
				r.Stderr, c.want, r.Stdout)
		}
	}
	// No index, or a headers-only one for outflows: the claim cannot be verified (2, never 1).
	for _, args := range [][]string{
		{"verify", "hashrate", "1 EH/s", "--index", t.TempDir() + "/none"},
		{"verify", "outflow", "1 BTC", "--from", "2009-01-01", "--to", "2009-01-02", "--index", t.TempDir() + "/none"},
	} {
		if r := runCLI(t, nil, args...); r.Code != exitUsage || !strings.Contains(r.Stderr, "cannot verify") {
			t.Errorf("%v: exit %d, stderr %q", args, r.Code, r.Stderr)
		}
	}
}

// testVerifyText checks the human output names the claim, the chain's value, the blocks and the verdict.
func testVerifyText(t *testing.T, dir string, file []wireHeader) {
	at := time.Date(2009, 2, 1, 0, 0, 0, 0, time.UTC).Unix()
	_, hi := garwood(countStamped(file, at-86399, at+1), 86400)
	times := strconv.FormatFloat(1.1e21/hi, 'g', 3, 64)
	r := runCLI(t, nil, "verify", "hashrate", "1.1ZH/s", "--at", "2009-02-01", "--window", "24h", "--index", dir)
	for _, want := range []string{"claim", "hashrate 1.1ZH/s", "stands for 1.05 ZH/s – 1.15 ZH/s", "chain",
		"95% interval", "blocks", "times", "2009-01-31T00:00:00Z .. 2009-02-01T00:00:00Z", "method",
		"inconsistent: the claim is " + times + " times the upper bound"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("text output lacks %q:\n%s", want, r.Stdout)
		}
	}
	if r.Code != 1 {
		t.Errorf("exit %d", r.Code)
	}
	r = runCLI(t, nil, "verify", "adjustment", "--date", "2009-12-30", "--index", dir)
	if r.Code != 2 || !strings.Contains(r.Stdout, "not-verifiable: the index reaches only "+
		isoTimeUTC(file[14131].Timestamp)+" (height 14131)") {
		t.Errorf("adjustment after the tip: exit %d\n%s", r.Code, r.Stdout)
	}
}
