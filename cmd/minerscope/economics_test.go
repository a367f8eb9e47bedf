package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/index"
)

// ecoRef is one UTC day recomputed by the test from the real block file.
type ecoRef struct {
	sigDay
	secs       int64
	revenueSat int64 // the coinbase outputs, summed from the raw blocks
	subsidySat int64 // 50 BTC a block before the first halving
}

// economicsRef extends mainnetDays with the coinbase values of the raw blocks.
func economicsRef(t *testing.T) []ecoRef {
	t.Helper()
	days := mainnetDays(t)
	blocks := index.MainnetBlocks(t)
	tip := blocks[len(blocks)-1].Header.Timestamp.Unix()
	out := make([]ecoRef, len(days))
	for i, d := range days {
		out[i] = ecoRef{sigDay: d, secs: 86400}
		if d.lastDay {
			out[i].secs = tip + 1 - d.start
		}
	}
	for _, b := range blocks {
		r := &out[(b.Header.Timestamp.Unix()-days[0].start)/86400]
		for _, o := range b.Transactions[0].TxOut {
			r.revenueSat += o.Value
		}
		r.subsidySat += 50e8
	}
	return out
}

// TestEconomicsMainnet checks `economics` on the real 2009 blocks against the test's own arithmetic: the
// hashrate from the block counts at difficulty 1, the revenue from the raw coinbases, the brief's cost
// formula (hashrate × efficiency × seconds × power price / BTC issued), the break-even power price and the
// Puell Multiple from a price file written here.
func TestEconomicsMainnet(t *testing.T) {
	dir := chartIndexDir(t) // the full blocks 0–14131, without a node
	ref := economicsRef(t)

	// A CPU of 2009: about 2 MH/s for 65 W, 32.5 J/MH; power at $0.10/kWh; bitcoin at $0.50.
	const jPerHash, powerPrice, btcPrice = 32.5e-6, 0.10, 0.50
	var got economicsJSON
	decodeJSON(t, mustRun(t, "economics", "--json", "--index", dir, "--efficiency", "32.5 J/MH",
		"--power-price", "$0.10", "--btc-price", "0.50", "--unit", "MH").Stdout, &got)

	in := got.Inputs
	if in.Network != "mainnet" || in.Efficiency == nil || *in.Efficiency != "32500000 J/TH" ||
		*in.EfficiencyJTH != 32.5e6 || *in.PowerPriceUSDPerKWh != powerPrice || *in.BTCPriceUSD != "0.50" ||
		in.HashpriceUnit != "MH/s" || in.PriceFile != "" {
		t.Errorf("inputs echoed: %+v", in)
	}
	if len(got.Days) != len(ref) {
		t.Fatalf("%d days, want %d", len(got.Days), len(ref))
	}
	check := func(day, name string, b *bandJSON, want float64) {
		t.Helper()
		if math.IsNaN(want) {
			if b != nil {
				t.Fatalf("%s %s: %+v, want null", day, name, b)
			}
			return
		}
		if b == nil || b.Value == nil || !relClose(*b.Value, want, 1e-12) {
			t.Fatalf("%s %s: %+v, want %v", day, name, b, want)
		}
		if b.Lo == nil || b.Hi == nil || !(*b.Lo < *b.Value && *b.Value < *b.Hi) {
			t.Fatalf("%s %s: %v not inside its interval %+v", day, name, *b.Value, b)
		}
	}
	fees := 0
	for i, r := range got.Days {
		d := ref[i]
		if r.Blocks != d.blocks || r.RevenueSat != d.revenueSat || r.SubsidySat != d.subsidySat ||
			r.FeesSat != d.revenueSat-d.subsidySat || r.Seconds != d.secs || !r.Complete ||
			r.FromHeight != d.lo || r.ToHeight != d.hi {
			t.Fatalf("day %d: %+v, want %+v", i, r, d)
		}
		fees += int(r.FeesSat)
		if r.Puell != nil || r.PriceUSD == nil || *r.PriceUSD != "0.50" {
			t.Fatalf("%s: Puell %v, price %v with a single price", r.Day, r.Puell, r.PriceUSD)
		}
		nan := math.NaN()
		hashprice, energy := nan, nan
		if d.blocks > 0 {
			hashprice = float64(d.revenueSat) * 86400 / float64(d.secs) / (d.rate / 1e6) // sat per MH/s per day
			energy = d.rate * jPerHash * float64(d.secs) / 3.6e6
		}
		if h := r.Hashrate; h == nil || *h.Value != d.rate && !relClose(*h.Value, d.rate, 1e-15) ||
			*h.Lo > *h.Value || *h.Hi <= *h.Value {
			t.Fatalf("%s: hashrate %+v, want %v inside its interval", r.Day, h, d.rate)
		}
		check(r.Day, "hashprice", r.Hashprice, hashprice)
		check(r.Day, "hashprice $", r.HashpriceUSD, hashprice/1e8*btcPrice)
		check(r.Day, "energy", r.EnergyKWh, energy)
		check(r.Day, "cost/BTC", r.CostPerBTC, d.rate*jPerHash*float64(d.secs)*(powerPrice/3.6e6)/
			(float64(d.subsidySat)/1e8))
		check(r.Day, "break-even", r.BreakEvenPowerPrice, float64(d.revenueSat)/1e8*btcPrice/energy)
	}
	t.Logf("fees in 0–14131: %d sat; day 100 (%s): %d blocks, hashprice %.4g BTC per MH/s per day, "+
		"cost $%.2f per BTC, break-even $%.4f/kWh", fees, got.Days[100].Day, got.Days[100].Blocks,
		*got.Days[100].Hashprice.Value/1e8, *got.Days[100].CostPerBTC.Value,
		*got.Days[100].BreakEvenPowerPrice.Value)

	t.Run("puell", func(t *testing.T) {
		testEconomicsPuell(t, dir, ref)
	})
	t.Run("csv and text", func(t *testing.T) {
		testEconomicsOutputs(t, dir, ref)
	})
	t.Run("usage errors", func(t *testing.T) {
		testEconomicsUsage(t, dir)
	})
}

// testEconomicsPuell writes a price file rising a cent a day and checks the Puell Multiple against the mean
// issuance value of the min(365, days so far) days, with a 30-day minimum; without it there is none in 2009.
func testEconomicsPuell(t *testing.T, dir string, ref []ecoRef) {
	var b strings.Builder
	b.WriteString("date,price_usd\n")
	for i, d := range ref {
		fmt.Fprintf(&b, "%s,%d.%02d\n", dayString(d.start), (i+1)/100, (i+1)%100)
	}
	prices := filepath.Join(t.TempDir(), "prices.csv")
	if err := os.WriteFile(prices, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	issuance := make([]float64, len(ref)) // cents: 50 BTC × price
	for i, d := range ref {
		issuance[i] = float64(d.subsidySat) / 1e8 * float64(i+1)
	}
	var got economicsJSON
	decodeJSON(t, mustRun(t, "economics", "--json", "--index", dir, "--price", prices,
		"--puell-min-days", "30").Stdout, &got)
	if got.Inputs.PriceFile != prices || got.Inputs.PuellMinDays != 30 || got.Inputs.BTCPriceUSD != nil {
		t.Errorf("inputs: %+v", got.Inputs)
	}
	for i, r := range got.Days {
		if r.IssuanceUSD == nil || *r.IssuanceUSD != centsString(int64(issuance[i])) {
			t.Fatalf("%s: issuance %v, want %v cents", r.Day, r.IssuanceUSD, issuance[i])
		}
		if i < 29 {
			if r.Puell != nil {
				t.Fatalf("%s: Puell %v before 30 days", r.Day, *r.Puell)
			}
			continue
		}
		sum := 0.0
		for _, v := range issuance[:i+1] {
			sum += v
		}
		want := issuance[i] / (sum / float64(i+1))
		if r.Puell == nil || !relClose(*r.Puell, want, 1e-12) || r.PuellDays != i+1 {
			t.Fatalf("%s: Puell %v over %d days, want %v", r.Day, r.Puell, r.PuellDays, want)
		}
	}
	decodeJSON(t, mustRun(t, "economics", "--json", "--index", dir, "--price", prices).Stdout, &got)
	for _, r := range got.Days {
		if r.Puell != nil {
			t.Fatalf("%s: Puell %v without a full year", r.Day, *r.Puell)
		}
	}
}

// testEconomicsOutputs checks that CSV and text carry the inputs and only the columns they allow. With
// MINERSCOPE_SIGNALS_OUT set, the text outputs are written there (for the README).
func testEconomicsOutputs(t *testing.T, dir string, ref []ecoRef) {
	col, recs := readCSVRecords(t, mustRun(t, "economics", "--csv", "--index", dir, "--efficiency", "20J/TH",
		"--from", "2009-02-01", "--to", "2009-02-28").Stdout)
	if len(recs) != 28 || recs[0][col["day"]] != "2009-02-01" {
		t.Fatalf("%d rows from %v", len(recs), recs[0])
	}
	for _, rec := range recs {
		if rec[col["efficiency_j_per_th"]] != "20" || rec[col["power_price_usd_per_kwh"]] != "" ||
			rec[col["cost_usd"]] != "" || rec[col["break_even_usd_per_kwh"]] != "" ||
			rec[col["energy_kwh"]] == "" || rec[col["hashprice_unit"]] != "PH/s" {
			t.Fatalf("row %v", rec)
		}
	}
	text := mustRun(t, "economics", "--index", dir, "--from", "2009-03-01", "--to", "2009-03-03").Stdout
	for _, want := range []string{"BTC price: none", "fleet efficiency: none", "power price: none",
		"2009-03-03", "BTC per PH/s per day"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if lines := strings.Split(text, "\n"); len(lines) < 3 ||
		strings.Join(strings.Fields(lines[2]), " ") != "day blocks hashrate revenue hashprice (95%)" {
		t.Errorf("text has columns without their inputs:\n%s", text)
	}
	out := os.Getenv("MINERSCOPE_SIGNALS_OUT")
	if out == "" {
		return
	}
	for name, args := range map[string][]string{
		"economics.txt": {"economics", "--from", "2009-04-01", "--to", "2009-04-07", "--unit", "MH",
			"--efficiency", "32.5J/MH", "--power-price", "0.10", "--btc-price", "0.50"},
		"signals.txt":       {"signals"},
		"ribbons.txt":       {"signals", "ribbons", "--from", "2009-03-05", "--to", "2009-03-14"},
		"capitulations.txt": {"signals", "capitulations"},
		"difficulty.txt":    {"signals", "difficulty-ribbon", "--from", "2009-05-08"},
	} {
		r := mustRun(t, append(args, "--index", dir)...)
		if err := os.WriteFile(filepath.Join(out, name), []byte(r.Stdout), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// testEconomicsUsage tries every bad input: each is a usage error saying what is accepted.
func testEconomicsUsage(t *testing.T, dir string) {
	for _, tc := range []struct {
		args []string
		say  string
	}{
		{[]string{"--efficiency", "20"}, analysis.EfficiencyForms},
		{[]string{"--efficiency", "20 W/TH"}, analysis.EfficiencyForms},
		{[]string{"--efficiency", "-20J/TH"}, analysis.EfficiencyForms},
		{[]string{"--efficiency", "60%:18J/TH,30%:30J/TH"}, "sum to 90%"},
		{[]string{"--efficiency", "20J/TH", "--power-price", "5 cents"}, analysis.PowerPriceForms},
		{[]string{"--efficiency", "20J/TH", "--power-price", "0"}, analysis.PowerPriceForms},
		{[]string{"--power-price", "0.05"}, "needs --efficiency"},
		{[]string{"--btc-price", "65k"}, analysis.BTCPriceForms},
		{[]string{"--btc-price", "1", "--price", "x.csv"}, "exclude each other"},
		{[]string{"--price", filepath.Join(t.TempDir(), "missing.csv")}, "--price"},
		{[]string{"--unit", "ZH"}, "--unit must be"},
		{[]string{"--puell-min-days", "0"}, "--puell-min-days"},
		{[]string{"--puell-min-days", "366"}, "--puell-min-days"},
		{[]string{"--csv", "--json"}, "exclude each other"},
		{[]string{"--from", "yesterday"}, "bad time"},
		{[]string{"--from", "2009-03-02", "--to", "2009-03-01"}, "not after"},
	} {
		r := runCLI(t, nil, append(append([]string{"economics"}, tc.args...), "--index", dir)...)
		if r.Code != exitUsage || !strings.Contains(r.Stderr, tc.say) {
			t.Errorf("%v: exit %d, stderr %q; want a usage error saying %q", tc.args, r.Code, r.Stderr, tc.say)
		}
	}
}
