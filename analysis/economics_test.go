package analysis

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
)

// ecoRewards gives each header a reward: the mainnet subsidy at its height
// and fee sat in fees.
func ecoRewards(hs []Header, fee btcutil.Amount) []BlockReward {
	out := make([]BlockReward, len(hs))
	for i, h := range hs {
		// Mainnet's first halving is at 210,000; every test chain is
		// below it.
		sub := btcutil.Amount(50 * btcutil.SatoshiPerBitcoin)
		out[i] = BlockReward{Height: h.Height, Time: h.Time, Subsidy: sub,
			Fees: fee, Reward: sub + fee}
	}
	return out
}

// ecoDays is Economics over every day.
func ecoDays(t *testing.T, hs []Header, blocks []BlockReward,
	in EconomicsInputs) []EconomicsPoint {

	t.Helper()
	pts, err := Economics(Mainnet, hs, blocks, math.MinInt64/2, math.MaxInt64/2, in)
	if err != nil {
		t.Fatal(err)
	}
	return pts
}

// TestEconomicsHandDay checks one full day of 144 blocks at difficulty 1,
// each paying 50 BTC and 0.1 BTC of fees, at $20,000, with a fleet of
// 20 J/TH and power at $0.05/kWh, against the brief's formulas written out.
func TestEconomicsHandDay(t *testing.T) {
	start := time.Date(2022, 6, 1, 0, 0, 0, 0, time.UTC).Unix()
	hs := sigHeaders(start, []int{144, 144, 144}, nil)
	blocks := ecoRewards(hs, 10_000_000)
	eff, err := ParseEfficiency("20J/TH")
	if err != nil {
		t.Fatal(err)
	}
	in := EconomicsInputs{BTCPrice: 2_000_000, Efficiency: eff,
		PowerPrice: 0.05, HasPowerPrice: true}
	pts := ecoDays(t, hs, blocks, in)
	if len(pts) != 3 {
		t.Fatalf("got %d days, want 3", len(pts))
	}
	pt := pts[1] // a full day

	hashrate := 144.0 * sigDiff1Work / 86400 // H/s
	revenueSat := 144 * 50.1e8
	issuedBTC := 144 * 50.0
	wantHashprice := revenueSat / (hashrate / 1e15) // sat per PH/s per day
	joulesPerHash := 20.0 / 1e12
	costUSD := hashrate * joulesPerHash * 86400 * (0.05 / 3.6e6)
	wantBreakEven := revenueSat / 1e8 * 20000 / (hashrate * joulesPerHash * 86400 / 3.6e6)

	checks := []struct {
		name      string
		got, want float64
	}{
		{"hashrate", pt.Hashrate.Value, hashrate},
		{"hashprice", pt.Hashprice.Value, wantHashprice},
		{"hashprice lo", pt.Hashprice.Lo, revenueSat / (pt.Hashrate.Hi / 1e15)},
		{"hashprice hi", pt.Hashprice.Hi, revenueSat / (pt.Hashrate.Lo / 1e15)},
		{"hashprice USD", pt.HashpriceUSD.Value, wantHashprice / 1e8 * 20000},
		{"energy", pt.EnergyKWh.Value, hashrate * joulesPerHash * 86400 / 3.6e6},
		{"cost", pt.CostUSD.Value, costUSD},
		{"cost lo", pt.CostUSD.Lo, pt.Hashrate.Lo * joulesPerHash * 86400 * (0.05 / 3.6e6)},
		{"cost/BTC", pt.CostPerBTC.Value, costUSD / issuedBTC},
		{"cost/BTC hi", pt.CostPerBTC.Hi, pt.Hashrate.Hi * joulesPerHash * 86400 * (0.05 / 3.6e6) / issuedBTC},
		{"cost/BTC revenue", pt.CostPerBTCRevenue.Value, costUSD / (revenueSat / 1e8)},
		{"break-even", pt.BreakEvenPowerPrice.Value, wantBreakEven},
		{"break-even lo", pt.BreakEvenPowerPrice.Lo,
			revenueSat / 1e8 * 20000 / (pt.Hashrate.Hi * joulesPerHash * 86400 / 3.6e6)},
	}
	for _, c := range checks {
		if !sigNearly(c.got, c.want, 1e-12) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if pt.Seconds != 86400 || pt.Blocks != 144 || pt.FromHeight != 144 ||
		pt.ToHeight != 287 || pt.Subsidy != 144*50e8 || pt.Fees != 144*1e7 ||
		pt.Revenue != 144*50.1e8 || !pt.Complete {
		t.Errorf("day totals: %+v", pt)
	}
	if pt.RevenueUSD != 144*50.1*20000*100 || pt.IssuanceUSD != 144*50*20000*100 ||
		!pt.HasPrice || pt.Price != 2_000_000 {
		t.Errorf("USD: revenue %d, issuance %d cents", pt.RevenueUSD, pt.IssuanceUSD)
	}
	if !math.IsNaN(pt.Puell) {
		t.Errorf("Puell %v from a single bitcoin price, want NaN", pt.Puell)
	}
	// The break-even price is where revenue pays exactly for the energy.
	if r := pt.BreakEvenPowerPrice.Value / 0.05; !sigNearly(r*costUSD, revenueSat/1e8*20000, 1e-12) {
		t.Errorf("break-even %v does not balance", pt.BreakEvenPowerPrice.Value)
	}
}

// TestEconomicsLinear checks that the cost scales linearly with the
// efficiency and the power price, and the break-even power price inversely
// with the efficiency, not at all with the power price.
func TestEconomicsLinear(t *testing.T) {
	hs := loadMainnet(t)
	blocks := ecoRewards(hs, 0)
	base := func(jth, pp float64) []EconomicsPoint {
		return ecoDays(t, hs, blocks, EconomicsInputs{BTCPrice: 100,
			Efficiency:    Efficiency{Parts: []EfficiencyPart{{100, jth}}},
			PowerPrice:    pp,
			HasPowerPrice: true})
	}
	a, b, c := base(1e8, 0.1), base(3e8, 0.1), base(1e8, 0.25)
	n := 0
	for d := range a {
		if math.IsNaN(a[d].CostUSD.Value) {
			continue
		}
		n++
		for _, k := range []struct {
			name      string
			got, want Band
		}{
			{"cost ×3 efficiency", b[d].CostUSD, scale(a[d].CostUSD, 3)},
			{"cost ×2.5 power", c[d].CostUSD, scale(a[d].CostUSD, 2.5)},
			{"cost/BTC ×2.5 power", c[d].CostPerBTC, scale(a[d].CostPerBTC, 2.5)},
			{"break-even ÷3 efficiency", b[d].BreakEvenPowerPrice,
				scale(a[d].BreakEvenPowerPrice, 1.0/3)},
			{"break-even power", c[d].BreakEvenPowerPrice, a[d].BreakEvenPowerPrice},
		} {
			if !sigNearly(k.got.Value, k.want.Value, 1e-12) ||
				!sigNearly(k.got.Lo, k.want.Lo, 1e-12) ||
				!sigNearly(k.got.Hi, k.want.Hi, 1e-12) {
				t.Fatalf("day %s: %s: got %+v, want %+v", dayLabel(a[d].Day),
					k.name, k.got, k.want)
			}
		}
	}
	if n < 100 {
		t.Fatalf("only %d days with a cost", n)
	}
}

// TestEconomicsPuellConstant checks that constant issuance at a constant
// price gives a Puell Multiple of exactly 1 once the 365-day average is
// full, none before, and that a missing price spoils the year after it.
func TestEconomicsPuellConstant(t *testing.T) {
	start := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	perDay := make([]int, 400)
	for k := range perDay {
		perDay[k] = 144
	}
	hs := sigHeaders(start, perDay, nil)
	blocks := ecoRewards(hs, 12345)
	prices := Prices{}
	for k := range perDay {
		prices[dayLabel(start+int64(k)*86400)] = 43_210_99
	}
	pts := ecoDays(t, hs, blocks, EconomicsInputs{Prices: prices})
	for d, pt := range pts {
		if pt.PuellWindow != min(365, d+1) {
			t.Fatalf("day %d: window %d", d, pt.PuellWindow)
		}
		if d < 364 && !math.IsNaN(pt.Puell) || d >= 364 && pt.Puell != 1 {
			t.Fatalf("day %d: Puell %v", d, pt.Puell)
		}
	}

	// With a 30-day minimum it starts on day 29.
	pts = ecoDays(t, hs, blocks, EconomicsInputs{Prices: prices, PuellMinDays: 30})
	if !math.IsNaN(pts[28].Puell) || pts[29].Puell != 1 {
		t.Errorf("30-day minimum: Puell %v, %v on days 28, 29", pts[28].Puell,
			pts[29].Puell)
	}

	// Without the price of day 10, days 10..374 have no Puell.
	delete(prices, dayLabel(start+10*86400))
	pts = ecoDays(t, hs, blocks, EconomicsInputs{Prices: prices, PuellMinDays: 1})
	for d, pt := range pts {
		if bad := d >= 10 && d < 375; bad != math.IsNaN(pt.Puell) {
			t.Fatalf("day %d: Puell %v with day 10 unpriced", d, pt.Puell)
		}
	}
	if pts[10].HasPrice || !math.IsNaN(pts[10].HashpriceUSD.Value) {
		t.Errorf("day 10 has USD figures without a price: %+v", pts[10])
	}
}

// TestEconomicsPuellDoubling checks a hand computation: issuance doubles
// on day 365 (twice the blocks), so Puell there is 2 / ((364 + 2)/365).
func TestEconomicsPuellDoubling(t *testing.T) {
	start := time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	perDay := make([]int, 366)
	prices := Prices{}
	for k := range perDay {
		perDay[k] = 10
		prices[dayLabel(start+int64(k)*86400)] = 100_00
	}
	perDay[365] = 20
	hs := sigHeaders(start, perDay, nil)
	pts := ecoDays(t, hs, ecoRewards(hs, 0), EconomicsInputs{Prices: prices})
	if want := 2 / (366.0 / 365); !sigNearly(pts[365].Puell, want, 1e-15) {
		t.Errorf("Puell %v, want %v", pts[365].Puell, want)
	}
}

// TestEconomicsMainnet checks the 2009 days against a recomputation: the
// hashrate is blocks × 0x100010001 / 86,400 (a few MH/s), the revenue 50 BTC
// a block, days without blocks have no hashprice, and nothing is assumed
// without inputs.
func TestEconomicsMainnet(t *testing.T) {
	hs := loadMainnet(t)
	pts := ecoDays(t, hs, ecoRewards(hs, 0), EconomicsInputs{})
	ribbons := HashRibbons(Mainnet, hs, math.MinInt64/2, math.MaxInt64/2)
	if len(pts) != len(ribbons) {
		t.Fatalf("%d economics days, %d ribbon days", len(pts), len(ribbons))
	}
	var blocks int
	for d, pt := range pts {
		blocks += pt.Blocks
		if pt.Day != sigJan3+int64(d)*86400 || pt.Blocks != ribbons[d].Blocks ||
			pt.Revenue != btcutil.Amount(pt.Blocks)*50e8 || !pt.Complete {
			t.Fatalf("day %d: %+v", d, pt)
		}
		if pt.Blocks == 0 {
			if !math.IsNaN(pt.Hashprice.Value) {
				t.Errorf("day %d: hashprice %v without blocks", d, pt.Hashprice)
			}
			continue
		}
		want := float64(pt.Blocks) * sigDiff1Work / float64(pt.Seconds)
		if !sigNearly(pt.Hashrate.Value, want, 1e-15) {
			t.Errorf("day %d: hashrate %v, want %v", d, pt.Hashrate.Value, want)
		}
		// Per PH/s: 50 BTC per 0x100010001 hashes, whatever the rate.
		hp := 50e8 * 86400 * 1e15 / sigDiff1Work
		if !sigNearly(pt.Hashprice.Value, hp, 1e-12) ||
			!(pt.Hashprice.Lo < hp && hp < pt.Hashprice.Hi) {
			t.Errorf("day %d: hashprice %+v, want %v", d, pt.Hashprice, hp)
		}
		for _, b := range []Band{pt.HashpriceUSD, pt.EnergyKWh, pt.CostUSD,
			pt.BreakEvenPowerPrice} {
			if !math.IsNaN(b.Value) {
				t.Fatalf("day %d: a figure without its inputs: %+v", d, pt)
			}
		}
	}
	if blocks != len(hs) {
		t.Errorf("%d blocks counted, want %d", blocks, len(hs))
	}

	// Full blocks from height 100 only: the day of block 100 also holds
	// lower blocks, so it is incomplete; the next days are complete.
	part := ecoDays(t, hs, ecoRewards(hs, 0)[100:], EconomicsInputs{})
	if part[0].Complete || !math.IsNaN(part[0].Hashprice.Value) || !part[1].Complete {
		t.Errorf("partial first day: %+v, then %+v", part[0], part[1])
	}
}

// TestEconomicsInputErrors checks the contradictions Economics refuses.
func TestEconomicsInputErrors(t *testing.T) {
	hs := loadMainnet(t)[:10]
	blocks := ecoRewards(hs, 0)
	eff := Efficiency{Parts: []EfficiencyPart{{100, 20}}}
	for name, in := range map[string]EconomicsInputs{
		"prices and price":   {Prices: Prices{}, BTCPrice: 1},
		"negative price":     {BTCPrice: -1},
		"power, no fleet":    {PowerPrice: 0.05, HasPowerPrice: true},
		"zero power price":   {Efficiency: eff, HasPowerPrice: true},
		"NaN power price":    {Efficiency: eff, PowerPrice: math.NaN(), HasPowerPrice: true},
		"Puell window":       {PuellMinDays: 366},
		"negative Puell":     {PuellMinDays: -1},
		"zero efficiency":    {Efficiency: Efficiency{Parts: []EfficiencyPart{{100, 0}}}},
		"infinite fleet":     {Efficiency: Efficiency{Parts: []EfficiencyPart{{100, math.Inf(1)}}}},
		"huge power price":   {Efficiency: eff, PowerPrice: 1e9, HasPowerPrice: true},
		"NaN efficiency mix": {Efficiency: Efficiency{Parts: []EfficiencyPart{{50, 20}, {50, math.NaN()}}}},
	} {
		if _, err := Economics(Mainnet, hs, blocks, 0, math.MaxInt64/2, in); !errors.Is(err, ErrBadEconomics) {
			t.Errorf("%s: error %v, want ErrBadEconomics", name, err)
		}
	}
	if _, err := Economics(Mainnet, hs, append(blocks[:3:3], blocks[4:]...), 0,
		math.MaxInt64/2, EconomicsInputs{}); !errors.Is(err, ErrNotContiguous) {
		t.Errorf("gap: error %v, want ErrNotContiguous", err)
	}
	if pts, err := Economics(Mainnet, hs, nil, 0, 1, EconomicsInputs{}); pts != nil || err != nil {
		t.Errorf("no blocks: %v, %v", pts, err)
	}
}
