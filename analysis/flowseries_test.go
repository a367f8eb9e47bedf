package analysis

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"math/big"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
)

// handFlows are five blocks around the first retarget (heights 2014-2018)
// on 6-9 January 2024, a Saturday to a Tuesday; 8 January has no block and
// block 2017 is timestamped before its parent. Amounts are in bitcoins.
//
//	height  time (UTC)      rev  cbIn other out int fee lost txs  net
//	2014    Sat 06 10:00     50   50    0    0   0   0    0   0   +50
//	2015    Sat 06 23:00     50   50    5   20  10   1    0   2   +34
//	2016    Sun 07 01:00     60   60    0   40   0   2    0   1   +18
//	2017    Sat 06 23:30     50   40    0   10   0   0    0   1   +30
//	2018    Tue 09 12:00     50   50    0   30   0   0    7   1   +13
func handFlows() []BlockFlow {
	row := func(h int32, t int64, rev, cb, other, out, internal, fee,
		lost btcutil.Amount, txs int32, labels map[string]btcutil.Amount) BlockFlow {

		return BlockFlow{Height: h, Time: t, Revenue: rev * btc,
			CoinbaseInflow: cb * btc, OtherInflow: other * btc,
			Outflow: out * btc, Internal: internal * btc,
			MinerFee: fee * btc, Lost: lost * btc, SpendingTxs: txs,
			OutflowByLabel: labels}
	}
	lb := func(unlabelled, exchange btcutil.Amount) map[string]btcutil.Amount {
		m := map[string]btcutil.Amount{}
		if unlabelled > 0 {
			m[""] = unlabelled * btc
		}
		if exchange > 0 {
			m["exchange"] = exchange * btc
		}
		return m
	}
	return []BlockFlow{
		row(2014, utc(2024, 1, 6, 10, 0), 50, 50, 0, 0, 0, 0, 0, 0, nil),
		row(2015, utc(2024, 1, 6, 23, 0), 50, 50, 5, 20, 10, 1, 0, 2, lb(15, 5)),
		row(2016, utc(2024, 1, 7, 1, 0), 60, 60, 0, 40, 0, 2, 0, 1, lb(40, 0)),
		row(2017, utc(2024, 1, 6, 23, 30), 50, 40, 0, 10, 0, 0, 0, 1, lb(0, 10)),
		row(2018, utc(2024, 1, 9, 12, 0), 50, 50, 0, 30, 0, 0, 7, 1, lb(0, 30)),
	}
}

// handPrices are the prices of 6-9 January in cents: $40,000.00,
// $41,000.50, $42,000.00, $43,000.01. A whole bitcoin at P cents is worth
// exactly P cents, so the USD figures below need no rounding.
func handPrices() Prices {
	return Prices{"2024-01-06": 4_000_000, "2024-01-07": 4_100_050,
		"2024-01-08": 4_200_000, "2024-01-09": 4_300_001}
}

// TestFlowSeriesHand checks FlowSeries on handFlows from a reserve of
// 1000 BTC, the expected values worked out by hand.
//
// Daily outflows are 30, 40, 0, 30 BTC, so the means over the days so far
// are 30, 35, 70/3 and 25. In USD the daily outflows are 30·4,000,000 =
// 120,000,000, 40·4,100,050 = 164,002,000, 0 and 30·4,300,001 =
// 129,000,030 cents, with means 120,000,000, 142,001,000, 94,667,333.3 and
// 413,002,030/4 = 103,250,507.5.
func TestFlowSeriesHand(t *testing.T) {
	blocks := handFlows()
	const m1, m2, m4 = 120_000_000.0, 142_001_000.0, 103_250_507.5

	daily := []FlowPoint{{
		// 2014, 2015, 2017: out 20+10, int 10, inflow 50+55+40, cb
		// 140, fee 1, net 50+34+30 = 114, reserve 1114, rev 150.
		Label: "2024-01-06", Start: utc(2024, 1, 6, 0, 0),
		End: utc(2024, 1, 7, 0, 0), FromHeight: 2014, ToHeight: 2017,
		Blocks: 3, Outflow: 30 * btc, Internal: 10 * btc, Inflow: 145 * btc,
		CoinbaseInflow: 140 * btc, MinerFee: 1 * btc, NetChange: 114 * btc,
		Reserve: 1114 * btc, Revenue: 150 * btc, SpendingTxs: 3,
		OutflowMultiple: 1, MADays: 1, OutflowToRevenue: 0.2,
		OutflowByLabel: map[string]btcutil.Amount{"": 15 * btc,
			"exchange": 15 * btc},
		HasUSD: true, OutflowUSD: 120_000_000, InflowUSD: 580_000_000,
		RevenueUSD: 600_000_000, ReserveUSD: 4_456_000_000, MPI: 1,
	}, {
		// 2016: net 60-40-2 = 18, reserve 1132.
		Label: "2024-01-07", Start: utc(2024, 1, 7, 0, 0),
		End: utc(2024, 1, 8, 0, 0), FromHeight: 2016, ToHeight: 2016,
		Blocks: 1, Outflow: 40 * btc, Inflow: 60 * btc,
		CoinbaseInflow: 60 * btc, MinerFee: 2 * btc, NetChange: 18 * btc,
		Reserve: 1132 * btc, Revenue: 60 * btc, SpendingTxs: 1,
		OutflowMultiple: 40.0 / 35, MADays: 2, OutflowToRevenue: 40.0 / 60,
		OutflowByLabel: map[string]btcutil.Amount{"": 40 * btc},
		HasUSD:         true, OutflowUSD: 164_002_000, InflowUSD: 246_003_000,
		RevenueUSD: 246_003_000, ReserveUSD: 1132 * 4_100_050,
		MPI: 164_002_000 / m2,
	}, {
		// No block: the reserve carries over, valued at $42,000.
		Label: "2024-01-08", Start: utc(2024, 1, 8, 0, 0),
		End: utc(2024, 1, 9, 0, 0), FromHeight: -1, ToHeight: -1,
		Reserve: 1132 * btc, OutflowMultiple: 0, MADays: 3,
		OutflowToRevenue: math.NaN(),
		OutflowByLabel:   map[string]btcutil.Amount{},
		HasUSD:           true, ReserveUSD: 1132 * 4_200_000, MPI: 0,
	}, {
		// 2018: net 50-30-7 = 13, reserve 1145.
		Label: "2024-01-09", Start: utc(2024, 1, 9, 0, 0),
		End: utc(2024, 1, 10, 0, 0), FromHeight: 2018, ToHeight: 2018,
		Blocks: 1, Outflow: 30 * btc, Inflow: 50 * btc,
		CoinbaseInflow: 50 * btc, Lost: 7 * btc, NetChange: 13 * btc,
		Reserve: 1145 * btc, Revenue: 50 * btc, SpendingTxs: 1,
		OutflowMultiple: 30.0 / 25, MADays: 4, OutflowToRevenue: 0.6,
		OutflowByLabel: map[string]btcutil.Amount{"exchange": 30 * btc},
		HasUSD:         true, OutflowUSD: 129_000_030,
		InflowUSD: 215_000_050, RevenueUSD: 215_000_050,
		ReserveUSD: 1145 * 4_300_001, MPI: 129_000_030 / m4,
	}}
	checkFlowSeries(t, PeriodDaily, blocks, daily)

	weekly := []FlowPoint{{
		// 6 and 7 January end ISO week 1: scaled by 7 days times the
		// mean at Sunday 7 January: 70/(7·35) = 2/7.
		Label: "2024-W01", Start: utc(2024, 1, 1, 0, 0),
		End: utc(2024, 1, 8, 0, 0), FromHeight: 2014, ToHeight: 2017,
		Blocks: 4, Outflow: 70 * btc, Internal: 10 * btc, Inflow: 205 * btc,
		CoinbaseInflow: 200 * btc, MinerFee: 3 * btc, NetChange: 132 * btc,
		Reserve: 1132 * btc, Revenue: 210 * btc, SpendingTxs: 4,
		OutflowMultiple: 2.0 / 7, MADays: 2, OutflowToRevenue: 70.0 / 210,
		OutflowByLabel: map[string]btcutil.Amount{"": 55 * btc,
			"exchange": 15 * btc},
		HasUSD: true, OutflowUSD: 284_002_000, InflowUSD: 826_003_000,
		RevenueUSD: 846_003_000, ReserveUSD: 1132 * 4_100_050,
		MPI: 284_002_000 / (7 * m2),
	}, {
		// Week 2 is covered up to 9 January, its last day here:
		// 30/(7·25) = 6/35.
		Label: "2024-W02", Start: utc(2024, 1, 8, 0, 0),
		End: utc(2024, 1, 15, 0, 0), FromHeight: 2018, ToHeight: 2018,
		Blocks: 1, Outflow: 30 * btc, Inflow: 50 * btc,
		CoinbaseInflow: 50 * btc, Lost: 7 * btc, NetChange: 13 * btc,
		Reserve: 1145 * btc, Revenue: 50 * btc, SpendingTxs: 1,
		OutflowMultiple: 6.0 / 35, MADays: 4, OutflowToRevenue: 0.6,
		OutflowByLabel: map[string]btcutil.Amount{"exchange": 30 * btc},
		HasUSD:         true, OutflowUSD: 129_000_030,
		InflowUSD: 215_000_050, RevenueUSD: 215_000_050,
		ReserveUSD: 1145 * 4_300_001, MPI: 129_000_030 / (7 * m4),
	}}
	checkFlowSeries(t, PeriodWeekly, blocks, weekly)

	epochs := []FlowPoint{{
		// Blocks 2014-2015, 13 hours = 13/24 days, last day 6 January
		// (mean 30): 20/(13/24·30) = 16/13.
		Label: "0", Start: utc(2024, 1, 6, 10, 0), End: utc(2024, 1, 6, 23, 0),
		FromHeight: 2014, ToHeight: 2015, Blocks: 2, Outflow: 20 * btc,
		Internal: 10 * btc, Inflow: 105 * btc, CoinbaseInflow: 100 * btc,
		MinerFee: 1 * btc, NetChange: 84 * btc, Reserve: 1084 * btc,
		Revenue: 100 * btc, SpendingTxs: 2, OutflowMultiple: 16.0 / 13,
		MADays: 1, OutflowToRevenue: 0.2,
		OutflowByLabel: map[string]btcutil.Amount{"": 15 * btc,
			"exchange": 5 * btc},
		HasUSD: true, OutflowUSD: 80_000_000, InflowUSD: 420_000_000,
		RevenueUSD: 400_000_000, ReserveUSD: 1084 * 4_000_000,
		MPI: 80_000_000 / (13.0 / 24 * m1),
	}, {
		// Blocks 2016-2018 from Sunday 01:00 to Tuesday 12:00, 59/24
		// days, last day 9 January (mean 25): 80/(59/24·25) = 384/295.
		// Valued by day: 7 Jan 40, 60, 60 BTC at 4,100,050; 6 Jan 10, 40,
		// 50 at 4,000,000; 9 Jan 30, 50, 50 at 4,300,001.
		Label: "1", Start: utc(2024, 1, 7, 1, 0), End: utc(2024, 1, 9, 12, 0),
		FromHeight: 2016, ToHeight: 2018, Blocks: 3, Outflow: 80 * btc,
		Inflow: 150 * btc, CoinbaseInflow: 150 * btc, MinerFee: 2 * btc,
		Lost: 7 * btc, NetChange: 61 * btc, Reserve: 1145 * btc,
		Revenue: 160 * btc, SpendingTxs: 3, OutflowMultiple: 384.0 / 295,
		MADays: 4, OutflowToRevenue: 0.5,
		OutflowByLabel: map[string]btcutil.Amount{"": 40 * btc,
			"exchange": 40 * btc},
		HasUSD:     true,
		OutflowUSD: 164_002_000 + 40_000_000 + 129_000_030,
		InflowUSD:  246_003_000 + 160_000_000 + 215_000_050,
		RevenueUSD: 246_003_000 + 200_000_000 + 215_000_050,
		ReserveUSD: 1145 * 4_300_001,
		MPI:        333_002_030 / (59.0 / 24 * m4),
	}}
	checkFlowSeries(t, PeriodEpoch, blocks, epochs)
}

// checkFlowSeries runs FlowSeries on blocks with handPrices from 1000
// BTC and compares the points.
func checkFlowSeries(t *testing.T, period string, blocks []BlockFlow,
	want []FlowPoint) {

	t.Helper()
	got, err := FlowSeries(Mainnet, blocks, 1000*btc, period, handPrices())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d points, want %d: %+v", period, len(got), len(want),
			got)
	}
	for i := range want {
		if msg := diffFlowPoint(got[i], want[i]); msg != "" {
			t.Errorf("%s point %d: %s\n got %+v\nwant %+v", period, i, msg,
				got[i], want[i])
		}
	}
}

// diffFlowPoint describes how g differs from w: floats within a relative
// 1e-12, NaN equal to NaN, the rest exactly.
func diffFlowPoint(g, w FlowPoint) string {
	floats := []struct {
		name string
		g, w float64
	}{
		{"OutflowMultiple", g.OutflowMultiple, w.OutflowMultiple},
		{"OutflowToRevenue", g.OutflowToRevenue, w.OutflowToRevenue},
		{"MPI", g.MPI, w.MPI},
	}
	for _, f := range floats {
		if !closeOrNaN(f.g, f.w) {
			return fmt.Sprintf("%s = %v, want %v", f.name, f.g, f.w)
		}
	}
	if !maps.Equal(g.OutflowByLabel, w.OutflowByLabel) ||
		(g.OutflowByLabel == nil) != (w.OutflowByLabel == nil) {
		return fmt.Sprintf("labels %v, want %v", g.OutflowByLabel,
			w.OutflowByLabel)
	}
	g.OutflowMultiple, g.OutflowToRevenue, g.MPI = 0, 0, 0
	w.OutflowMultiple, w.OutflowToRevenue, w.MPI = 0, 0, 0
	g.OutflowByLabel, w.OutflowByLabel = nil, nil
	if !reflect.DeepEqual(g, w) {
		return "fields differ"
	}
	return ""
}

// closeOrNaN reports whether a and b are both NaN or within 1e-12
// relative.
func closeOrNaN(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-12*max(math.Abs(a), math.Abs(b))
}

// TestFlowSeriesMissingPrices checks which points lose their USD figures
// when a day has no price: those with blocks on it or ending on it, and
// MPI wherever its moving average covers it.
func TestFlowSeriesMissingPrices(t *testing.T) {
	blocks := handFlows()
	prices := handPrices()
	delete(prices, "2024-01-08")

	daily, err := FlowSeries(Mainnet, blocks, 0, PeriodDaily, prices)
	if err != nil {
		t.Fatal(err)
	}
	wantUSD := []bool{true, true, false, true}
	wantMPI := []bool{true, true, false, false}
	for i, pt := range daily {
		if pt.HasUSD != wantUSD[i] || !math.IsNaN(pt.MPI) != wantMPI[i] {
			t.Errorf("%s: HasUSD %v, MPI %v", pt.Label, pt.HasUSD, pt.MPI)
		}
		if !pt.HasUSD && (pt.OutflowUSD != 0 || pt.ReserveUSD != 0) {
			t.Errorf("%s: USD figures without prices: %+v", pt.Label, pt)
		}
	}

	weekly, _ := FlowSeries(Mainnet, blocks, 0, PeriodWeekly, prices)
	if !weekly[0].HasUSD || math.IsNaN(weekly[0].MPI) ||
		!weekly[1].HasUSD || !math.IsNaN(weekly[1].MPI) {
		t.Errorf("weeks: %+v", weekly)
	}

	delete(prices, "2024-01-06") // block 2017 of epoch 1 is on that day
	epochs, _ := FlowSeries(Mainnet, blocks, 0, PeriodEpoch, prices)
	if epochs[0].HasUSD || epochs[1].HasUSD {
		t.Errorf("epochs: %+v", epochs)
	}

	none, _ := FlowSeries(Mainnet, blocks, 0, PeriodDaily, nil)
	for _, pt := range none {
		if pt.HasUSD || !math.IsNaN(pt.MPI) {
			t.Errorf("%s without prices: %+v", pt.Label, pt)
		}
	}
}

// TestFlowSeriesUSDRoundsPerDay checks that USD amounts are rounded per
// day, then summed: 1 sat on each of two days at $500,000 is 0.5 cent a
// day, rounded up to 1 cent each, 2 cents in the week (not the 1 cent of
// 2 sat at once). The reserve ends at -2 sat, -1 cent.
func TestFlowSeriesUSDRoundsPerDay(t *testing.T) {
	blocks := []BlockFlow{
		{Height: 1, Time: utc(2024, 1, 2, 0, 0), Outflow: 1},
		{Height: 2, Time: utc(2024, 1, 3, 0, 0), Outflow: 1},
	}
	prices := Prices{"2024-01-02": 50_000_000, "2024-01-03": 50_000_000}
	daily, err := FlowSeries(Mainnet, blocks, 0, PeriodDaily, prices)
	if err != nil {
		t.Fatal(err)
	}
	weekly, _ := FlowSeries(Mainnet, blocks, 0, PeriodWeekly, prices)
	if daily[0].OutflowUSD != 1 || daily[1].OutflowUSD != 1 ||
		weekly[0].OutflowUSD != 2 {
		t.Errorf("daily %d, %d, weekly %d cents; want 1, 1, 2",
			daily[0].OutflowUSD, daily[1].OutflowUSD, weekly[0].OutflowUSD)
	}
	if weekly[0].ReserveUSD != -1 || weekly[0].Reserve != -2 {
		t.Errorf("reserve %d sat, %d cents", weekly[0].Reserve,
			weekly[0].ReserveUSD)
	}
}

// TestFlowSeriesWindow checks the edge of the 365-day window on one block
// a day for 367 days from 1 January 2023: 366 BTC out on day 0, then 1 BTC
// a day, and a price on every day but day 0. Day 364 averages days 0-364,
// (366+364)/365 = 2, a multiple of 0.5, and has no MPI; day 365 averages
// days 1-365, 1, a multiple of 1, and its MPI is 1 too.
func TestFlowSeriesWindow(t *testing.T) {
	var blocks []BlockFlow
	prices := Prices{}
	for d := range 367 {
		tm := utc(2023, 1, 1+d, 12, 0)
		out := btcutil.Amount(btc)
		if d == 0 {
			out = 366 * btc
		} else {
			prices[dayOf(tm)] = 3_000_000
		}
		blocks = append(blocks, BlockFlow{Height: int32(d), Time: tm,
			Outflow: out})
	}
	points, err := FlowSeries(Mainnet, blocks, 0, PeriodDaily, prices)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		day, maDays   int
		multiple, mpi float64
	}{
		{0, 1, 1, math.NaN()},
		{1, 2, 1 / 183.5, math.NaN()},
		{364, 365, 0.5, math.NaN()},
		{365, 365, 1, 1},
		{366, 365, 1, 1},
	}
	for _, w := range want {
		pt := points[w.day]
		if pt.MADays != w.maDays || !closeOrNaN(pt.OutflowMultiple, w.multiple) ||
			!closeOrNaN(pt.MPI, w.mpi) || pt.HasUSD != (w.day > 0) {
			t.Errorf("day %d: %d days, multiple %v, MPI %v, USD %v; want "+
				"%d, %v, %v", w.day, pt.MADays, pt.OutflowMultiple, pt.MPI,
				pt.HasUSD, w.maDays, w.multiple, w.mpi)
		}
	}
}

// TestFlowSeriesEpochOneBlock checks the guard for an epoch whose blocks
// span no time: one block counts as TargetSpacing, 600 s = 1/144 day.
// Both blocks fall on one day of outflow 10+20 = 30, the mean, so the
// multiples are 10/(30/144) = 48 and 20/(30/144) = 96.
func TestFlowSeriesEpochOneBlock(t *testing.T) {
	t0 := utc(2024, 3, 1, 12, 0)
	blocks := []BlockFlow{
		{Height: 4031, Time: t0, Outflow: 10},
		{Height: 4032, Time: t0 + 600, Outflow: 20},
	}
	points, err := FlowSeries(Mainnet, blocks, 0, PeriodEpoch, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(points) != 2 || !closeOrNaN(points[0].OutflowMultiple, 48) ||
		!closeOrNaN(points[1].OutflowMultiple, 96) {
		t.Fatalf("%+v", points)
	}
}

// TestFlowSeriesNoLabels checks that without labels no point has a map,
// and that a zero-outflow chain has NaN multiples.
func TestFlowSeriesNoLabels(t *testing.T) {
	blocks := handFlows()
	for i := range blocks {
		blocks[i].OutflowByLabel = nil
		blocks[i].Outflow = 0
	}
	points, err := FlowSeries(Mainnet, blocks, 0, PeriodDaily, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, pt := range points {
		if pt.OutflowByLabel != nil || !math.IsNaN(pt.OutflowMultiple) {
			t.Errorf("%s: %+v", pt.Label, pt)
		}
	}
}

// TestFlowSeriesErrors checks the refusals and the empty input.
func TestFlowSeriesErrors(t *testing.T) {
	blocks := []BlockFlow{{Height: 5}, {Height: 7}}
	if _, err := FlowSeries(Mainnet, blocks, 0, "monthly", nil); !errors.Is(err, ErrUnknownPeriod) {
		t.Errorf("monthly: %v", err)
	}
	if _, err := FlowSeries(Mainnet, blocks, 0, PeriodDaily, nil); !errors.Is(err, ErrNotContiguous) {
		t.Errorf("gap: %v", err)
	}
	if _, err := FlowSeries(Mainnet, []BlockFlow{{Height: -1}}, 0, PeriodWeekly, nil); !errors.Is(err, ErrNotContiguous) {
		t.Errorf("negative height: %v", err)
	}
	if _, err := FlowSeries(Params{}, []BlockFlow{{}}, 0, PeriodEpoch, nil); !errors.Is(err, ErrBadParams) {
		t.Errorf("epoch with zero params: %v", err)
	}
	if points, err := FlowSeries(Mainnet, nil, 5, PeriodDaily, nil); err != nil || points != nil {
		t.Errorf("no blocks: %v, %v", points, err)
	}
}

// TestUSDCents checks the conversion by hand and against big integers.
func TestUSDCents(t *testing.T) {
	tests := []struct {
		sat   btcutil.Amount
		price int64
		want  int64
		ok    bool
	}{
		{1, 50_000_000, 1, true},                  // 0.5 cent rounds away from 0
		{1, 49_999_999, 0, true},                  // 0.49999999
		{-1, 50_000_000, -1, true},                // -0.5 rounds away from 0
		{123_456_789, 4_000_000, 4_938_272, true}, // 4,938,271.56
		{btcutil.MaxSatoshi, 1_000_000_000, 21e15, true},
		{0, 1 << 62, 0, true},
		{1<<63 - 1, 1<<63 - 1, 0, false},
		{1 << 50, 1 << 50, 0, false}, // 2^100/1e8 > 2^63
		{1e15, 1e12, 0, false},       // 1e19 > 2^63, product < 1e8·2^64
	}
	for _, tc := range tests {
		got, ok := usdCents(tc.sat, tc.price)
		if got != tc.want || ok != tc.ok {
			t.Errorf("usdCents(%d, %d) = %d, %v; want %d, %v", tc.sat,
				tc.price, got, ok, tc.want, tc.ok)
		}
	}

	rng := rand.New(rand.NewPCG(3, 9))
	for range 20000 {
		sat := btcutil.Amount(rng.Int64N(4e15) - 2e15)
		price := rng.Int64N(1e10)
		got, ok := usdCents(sat, price)
		if want := bigUSDCents(sat, price); !ok || got != want {
			t.Fatalf("usdCents(%d, %d) = %d, %v; want %d", sat, price, got,
				ok, want)
		}
	}
}

// bigUSDCents is sat·price/1e8 rounded half away from zero in big
// integers: |x|/1e8, plus one if twice the remainder reaches 1e8.
func bigUSDCents(sat btcutil.Amount, price int64) int64 {
	x := new(big.Int).Mul(big.NewInt(int64(sat)), big.NewInt(price))
	q, r := new(big.Int).QuoRem(new(big.Int).Abs(x), big.NewInt(1e8),
		new(big.Int))
	if r.Lsh(r, 1).Cmp(big.NewInt(1e8)) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if x.Sign() < 0 {
		q.Neg(q)
	}
	return q.Int64()
}

// randomFlows makes a random contiguous run of blocks: heights from a
// random start, timestamps roughly ten minutes apart with jitter of up to
// two hours either way and now and then a gap of days, small random
// amounts, and labels when labelled. Sparse runs space blocks up to three
// days apart to span years, beyond the 365-day moving average.
func randomFlows(rng *rand.Rand, labelled, sparse bool) []BlockFlow {
	n := 1 + rng.IntN(3000)
	step := func() int64 { return 600 }
	if sparse {
		n = 1 + rng.IntN(800)
		step = func() int64 { return rng.Int64N(3 * day) }
	}
	h0 := int32(rng.IntN(400_000))
	t := utc(2012, 1, 1, 0, 0) + rng.Int64N(3e8)
	amount := func() btcutil.Amount {
		if rng.IntN(3) == 0 {
			return 0
		}
		return btcutil.Amount(rng.Int64N(100 * btc))
	}
	blocks := make([]BlockFlow, n)
	for i := range blocks {
		t += step()
		if rng.IntN(500) == 0 {
			t += rng.Int64N(10 * day)
		}
		b := BlockFlow{Height: h0 + int32(i), Time: t + rng.Int64N(14400) - 7200,
			Revenue: amount(), CoinbaseInflow: amount(),
			OtherInflow: amount(), Outflow: amount(), Internal: amount(),
			MinerFee:    btcutil.Amount(rng.Int64N(1000)),
			SpendingTxs: int32(rng.IntN(5))}
		if rng.IntN(200) == 0 {
			b.Lost = amount()
		}
		if labelled {
			ex := btcutil.Amount(rng.Int64N(int64(b.Outflow) + 1))
			b.OutflowByLabel = map[string]btcutil.Amount{"": b.Outflow - ex,
				"exchange": ex}
		}
		blocks[i] = b
	}
	return blocks
}

// randomPrices prices every day from the day before the first block's to
// the day after the last block's but, when holes, leaves out some.
func randomPrices(rng *rand.Rand, blocks []BlockFlow, holes bool) Prices {
	lo, hi := blocks[0].Time, blocks[0].Time
	for _, b := range blocks {
		lo, hi = min(lo, b.Time), max(hi, b.Time)
	}
	prices := Prices{}
	last := time.Unix(hi, 0).UTC().AddDate(0, 0, 1)
	for d := time.Unix(lo, 0).UTC().AddDate(0, 0, -1); !d.After(last); d = d.AddDate(0, 0, 1) {
		if !holes || rng.IntN(40) != 0 {
			prices[d.Format(time.DateOnly)] = 1 + rng.Int64N(10_000_000)
		}
	}
	return prices
}

// naiveDay is one UTC day summed by a plain loop over blocks, keyed by
// the time package's date.
type naiveDay struct {
	blocks                             int
	outflow, inflow, revenue, net, lbl btcutil.Amount
	txs                                int64
}

// TestFlowSeriesProperties checks random chains against an independent
// computation: a loop summing blocks into days and weeks keyed by the
// time package's dates and ISO weeks, epochs by height/2016; reserves by
// summing every block of a day or week up to the point; the multiples by
// walking back up to 365 calendar days; USD by big-integer rounding.
// It also checks that daily points sum to the weekly ones and that the
// reserve telescopes.
func TestFlowSeriesProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 5))
	for iter := range 24 {
		blocks := randomFlows(rng, iter%2 == 0, iter%4 == 1)
		prices := randomPrices(rng, blocks, iter%3 == 0)
		start := btcutil.Amount(rng.Int64N(1e6 * btc))

		daily, err := FlowSeries(Mainnet, blocks, start, PeriodDaily, prices)
		if err != nil {
			t.Fatal(err)
		}
		weekly, err := FlowSeries(Mainnet, blocks, start, PeriodWeekly, prices)
		if err != nil {
			t.Fatal(err)
		}
		epochs, err := FlowSeries(Mainnet, blocks, start, PeriodEpoch, prices)
		if err != nil {
			t.Fatal(err)
		}
		checkNaiveDays(t, blocks, start, prices, daily)
		checkNaiveWeeks(t, blocks, start, weekly)
		checkNaiveEpochs(t, blocks, start, epochs)
		checkDaysSumToWeeks(t, daily, weekly)
		for _, pts := range [][]FlowPoint{daily, weekly, epochs} {
			checkTelescopes(t, blocks, start, pts)
		}
	}
}

// dayOf is the UTC date of t by the time package.
func dayOf(t int64) string {
	return time.Unix(t, 0).UTC().Format(time.DateOnly)
}

// checkNaiveDays compares daily points with a map of days.
func checkNaiveDays(t *testing.T, blocks []BlockFlow, start btcutil.Amount,
	prices Prices, daily []FlowPoint) {

	t.Helper()
	days := map[string]*naiveDay{}
	first := dayOf(blocks[0].Time)
	for _, b := range blocks {
		d := dayOf(b.Time)
		if d < first {
			first = d
		}
		if days[d] == nil {
			days[d] = &naiveDay{}
		}
		nd := days[d]
		nd.blocks++
		nd.outflow += b.Outflow
		nd.inflow += b.CoinbaseInflow + b.OtherInflow
		nd.revenue += b.Revenue
		nd.net += b.CoinbaseInflow + b.OtherInflow - b.Outflow -
			b.MinerFee - b.Lost
		nd.txs += int64(b.SpendingTxs)
		nd.lbl += b.OutflowByLabel["exchange"]
	}

	blocksSeen := 0
	for i, pt := range daily {
		if pt.Label != dayOf(pt.Start) || i == 0 && pt.Label != first {
			t.Fatalf("point %d is %s from %d (first day %s)", i, pt.Label,
				pt.Start, first)
		}
		nd := days[pt.Label]
		if nd == nil {
			nd = &naiveDay{}
		}
		blocksSeen += nd.blocks
		if pt.Blocks != nd.blocks || pt.Outflow != nd.outflow ||
			pt.Inflow != nd.inflow || pt.Revenue != nd.revenue ||
			pt.NetChange != nd.net || pt.SpendingTxs != nd.txs ||
			pt.OutflowByLabel["exchange"] != nd.lbl {
			t.Fatalf("%s: %+v, naive %+v", pt.Label, pt, *nd)
		}

		reserve := start
		for d, x := range days {
			if d <= pt.Label {
				reserve += x.net
			}
		}
		if pt.Reserve != reserve {
			t.Fatalf("%s: reserve %d, naive %d", pt.Label, pt.Reserve,
				reserve)
		}

		checkNaiveMultiple(t, pt, days, first, prices)
		price, ok := prices[pt.Label]
		if pt.HasUSD != ok || ok &&
			(pt.OutflowUSD != bigUSDCents(nd.outflow, price) ||
				pt.InflowUSD != bigUSDCents(nd.inflow, price) ||
				pt.RevenueUSD != bigUSDCents(nd.revenue, price) ||
				pt.ReserveUSD != bigUSDCents(reserve, price)) {
			t.Fatalf("%s: USD %+v (price %d, %v)", pt.Label, pt, price, ok)
		}
	}
	if blocksSeen != len(blocks) {
		t.Fatalf("%d blocks in days, want %d", blocksSeen, len(blocks))
	}
}

// checkNaiveMultiple walks back from the point's day over at most 365
// calendar days, not before the first, and checks OutflowMultiple, MADays
// and, where every day of the walk has a price, MPI.
func checkNaiveMultiple(t *testing.T, pt FlowPoint, days map[string]*naiveDay,
	first string, prices Prices) {

	t.Helper()
	var sum, sumUSD float64
	n, priced := 0, true
	d := time.Unix(pt.Start, 0).UTC()
	for ; n < 365 && d.Format(time.DateOnly) >= first; d = d.AddDate(0, 0, -1) {
		label := d.Format(time.DateOnly)
		var out btcutil.Amount
		if nd := days[label]; nd != nil {
			out = nd.outflow
		}
		sum += float64(out)
		price, ok := prices[label]
		priced = priced && ok
		sumUSD += float64(bigUSDCents(out, price))
		n++
	}
	want := math.NaN()
	if sum > 0 {
		want = float64(pt.Outflow) / (sum / float64(n))
	}
	if pt.MADays != n || !closeOrNaN(pt.OutflowMultiple, want) {
		t.Fatalf("%s: multiple %v over %d days, naive %v over %d", pt.Label,
			pt.OutflowMultiple, pt.MADays, want, n)
	}
	wantMPI := math.NaN()
	if priced && pt.HasUSD && sumUSD > 0 {
		wantMPI = float64(pt.OutflowUSD) / (sumUSD / float64(n))
	}
	if !closeOrNaN(pt.MPI, wantMPI) {
		t.Fatalf("%s: MPI %v, naive %v", pt.Label, pt.MPI, wantMPI)
	}
}

// isoWeek is the ISO week label of t by the time package.
func isoWeek(t int64) string {
	y, w := time.Unix(t, 0).UTC().ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

// checkNaiveWeeks compares weekly points with a map of ISO weeks.
func checkNaiveWeeks(t *testing.T, blocks []BlockFlow, start btcutil.Amount,
	weekly []FlowPoint) {

	t.Helper()
	weeks := map[string]*naiveDay{}
	for _, b := range blocks {
		w := isoWeek(b.Time)
		if weeks[w] == nil {
			weeks[w] = &naiveDay{}
		}
		weeks[w].blocks++
		weeks[w].outflow += b.Outflow
		weeks[w].net += b.NetChange()
	}
	for _, pt := range weekly {
		nw := weeks[pt.Label]
		if nw == nil {
			nw = &naiveDay{}
		}
		reserve := start
		for w, x := range weeks {
			if w <= pt.Label {
				reserve += x.net
			}
		}
		if pt.Label != isoWeek(pt.Start) || pt.End-pt.Start != 7*day ||
			time.Unix(pt.Start, 0).UTC().Weekday() != time.Monday ||
			pt.Blocks != nw.blocks || pt.Outflow != nw.outflow ||
			pt.Reserve != reserve {
			t.Fatalf("%s: %+v, naive %+v, reserve %d", pt.Label, pt, *nw,
				reserve)
		}
	}
}

// checkNaiveEpochs compares epoch points with sums by height/2016.
func checkNaiveEpochs(t *testing.T, blocks []BlockFlow, start btcutil.Amount,
	epochs []FlowPoint) {

	t.Helper()
	reserve := start
	i := 0
	for _, pt := range epochs {
		var out btcutil.Amount
		n := 0
		for ; i < len(blocks) && fmt.Sprint(blocks[i].Height/2016) == pt.Label; i++ {
			out += blocks[i].Outflow
			reserve += blocks[i].NetChange()
			n++
		}
		if n == 0 || pt.Blocks != n || pt.Outflow != out ||
			pt.Reserve != reserve {
			t.Fatalf("epoch %s: %+v, naive %d blocks, %d out, reserve %d",
				pt.Label, pt, n, out, reserve)
		}
	}
	if i != len(blocks) {
		t.Fatalf("epochs cover %d of %d blocks", i, len(blocks))
	}
}

// checkDaysSumToWeeks adds the daily points of each week and compares.
func checkDaysSumToWeeks(t *testing.T, daily, weekly []FlowPoint) {
	t.Helper()
	sums := map[string]*FlowPoint{}
	for _, d := range daily {
		w := isoWeek(d.Start)
		s := sums[w]
		if s == nil {
			s = &FlowPoint{HasUSD: true}
			sums[w] = s
		}
		s.Blocks += d.Blocks
		s.Outflow += d.Outflow
		s.Internal += d.Internal
		s.Inflow += d.Inflow
		s.CoinbaseInflow += d.CoinbaseInflow
		s.MinerFee += d.MinerFee
		s.Lost += d.Lost
		s.NetChange += d.NetChange
		s.Revenue += d.Revenue
		s.SpendingTxs += d.SpendingTxs
		s.Reserve = d.Reserve // the week's last day
		s.HasUSD = s.HasUSD && d.HasUSD
		s.OutflowUSD += d.OutflowUSD
		s.InflowUSD += d.InflowUSD
		s.RevenueUSD += d.RevenueUSD
		s.ReserveUSD = d.ReserveUSD
	}
	for _, w := range weekly {
		s := sums[w.Label]
		if s == nil || s.Blocks != w.Blocks || s.Outflow != w.Outflow ||
			s.Internal != w.Internal || s.Inflow != w.Inflow ||
			s.CoinbaseInflow != w.CoinbaseInflow ||
			s.MinerFee != w.MinerFee || s.Lost != w.Lost ||
			s.NetChange != w.NetChange || s.Revenue != w.Revenue ||
			s.SpendingTxs != w.SpendingTxs || s.Reserve != w.Reserve {
			t.Fatalf("%s: days sum to %+v, week is %+v", w.Label, s, w)
		}
		// Every day priced implies the week priced; then the USD
		// figures add up too.
		if s.HasUSD && (!w.HasUSD || s.OutflowUSD != w.OutflowUSD ||
			s.InflowUSD != w.InflowUSD || s.RevenueUSD != w.RevenueUSD ||
			s.ReserveUSD != w.ReserveUSD) {
			t.Fatalf("%s: days sum to USD %+v, week is %+v", w.Label, s, w)
		}
	}
}

// checkTelescopes checks Reserve = previous Reserve + NetChange and that
// the last equals startReserve plus every block's NetChange.
func checkTelescopes(t *testing.T, blocks []BlockFlow, start btcutil.Amount,
	points []FlowPoint) {

	t.Helper()
	total := start
	for i := range blocks {
		total += blocks[i].NetChange()
	}
	prev := start
	for _, pt := range points {
		if pt.Reserve != prev+pt.NetChange {
			t.Fatalf("%s: reserve %d after %d and change %d", pt.Label,
				pt.Reserve, prev, pt.NetChange)
		}
		prev = pt.Reserve
	}
	if prev != total {
		t.Fatalf("last reserve %d, want %d", prev, total)
	}
}
