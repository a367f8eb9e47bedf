package analysis

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
)

func TestPoolFlowSeriesTable(t *testing.T) {
	day := int64(86400)
	t0 := int64(1_700_000_000) - int64(1_700_000_000)%day // a UTC midnight
	pools := map[int32]string{1: "A", 2: "B", 3: "A"}
	pool := func(o int32) (string, error) { return pools[o], nil }
	blocks := []BlockOriginFlows{
		{Height: 1, Time: t0 + 10, Origins: []OriginFlow{{Origin: 1, Change: 50}}},
		{Height: 2, Time: t0 + 20, Origins: []OriginFlow{{Origin: 2, Change: 50}}},
		// Day 2: A's coin (origin 1) spends 30 out, 20 back; origin 3 (also A) mined 50.
		{Height: 3, Time: t0 + day + 5, Origins: []OriginFlow{{Origin: 1, Change: -30, Outflow: 30}, {Origin: 3, Change: 50}}},
		// Day 4 (day 3 empty): B spends everything out.
		{Height: 4, Time: t0 + 3*day, Origins: []OriginFlow{{Origin: 2, Change: -50, Outflow: 50}}},
	}
	got, err := PoolFlowSeries(Mainnet, blocks, PeriodDaily, pool)
	if err != nil {
		t.Fatal(err)
	}
	d := func(i int64) string { return dayLabel(t0 + i*day) }
	want := []PoolFlowPoint{
		{Label: d(0), Pool: "A", NetChange: 50, Reserve: 50},
		{Label: d(0), Pool: "B", NetChange: 50, Reserve: 50},
		// A: -30 + 50 = +20 → 70; B unchanged at 50.
		{Label: d(1), Pool: "A", Outflow: 30, NetChange: 20, Reserve: 70},
		{Label: d(1), Pool: "B", Reserve: 50},
		// Day 3 has no block, so no point; day 4: B drops to 0 but has outflow, A holds 70.
		{Label: d(3), Pool: "A", Reserve: 70},
		{Label: d(3), Pool: "B", Outflow: 50, NetChange: -50, Reserve: 0},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got\n%v\nwant\n%v", got, want)
	}

	if _, err := PoolFlowSeries(Mainnet, blocks, "hourly", pool); !errors.Is(err, ErrUnknownPeriod) {
		t.Fatalf("unknown period: %v", err)
	}
	gap := []BlockOriginFlows{blocks[0], blocks[2]}
	if _, err := PoolFlowSeries(Mainnet, gap, PeriodDaily, pool); !errors.Is(err, ErrNotContiguous) {
		t.Fatalf("gap: %v", err)
	}
}

// TestPoolFlowSeriesSumsToFlowSeries checks, over random blocks, that the pools' reserves and outflows of each
// period sum to FlowSeries' figures for the same blocks, computed from per-block totals.
func TestPoolFlowSeriesSumsToFlowSeries(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		n := 1 + rng.IntN(300)
		t0 := int64(1_600_000_000 + rng.IntN(1_000_000))
		var blocks []BlockOriginFlows
		var flows []BlockFlow
		held := map[int32]btcutil.Amount{} // origin → value held
		tm := t0
		for i := range n {
			h := int32(i)
			tm += int64(rng.IntN(3000)) - 600 // timestamps may go back
			b := BlockOriginFlows{Height: h, Time: tm}
			f := BlockFlow{Height: h, Time: tm}
			// Mine 50 to this origin.
			b.Origins = append(b.Origins, OriginFlow{Origin: h, Change: 50})
			f.CoinbaseInflow += 50
			held[h] += 50
			// Spend part of an older origin's holdings out.
			if o := int32(rng.IntN(i + 1)); held[o] > 0 {
				v := btcutil.Amount(rng.IntN(int(held[o]) + 1))
				held[o] -= v
				b.Origins = append(b.Origins, OriginFlow{Origin: o, Change: -v, Outflow: v})
				f.Outflow += v
			}
			blocks = append(blocks, b)
			flows = append(flows, f)
		}
		pool := func(o int32) (string, error) { return fmt.Sprintf("pool%d", o%5), nil }
		for _, period := range []string{PeriodDaily, PeriodWeekly, PeriodEpoch} {
			pp, err := PoolFlowSeries(Mainnet, blocks, period, pool)
			if err != nil {
				t.Fatal(err)
			}
			fs, err := FlowSeries(Mainnet, flows, 0, period, nil)
			if err != nil {
				t.Fatal(err)
			}
			reserve := map[string]btcutil.Amount{}
			outflow := map[string]btcutil.Amount{}
			for _, p := range pp {
				reserve[p.Label] += p.Reserve
				outflow[p.Label] += p.Outflow
			}
			for _, p := range fs {
				if p.Blocks == 0 {
					continue
				}
				if reserve[p.Label] != p.Reserve || outflow[p.Label] != p.Outflow {
					t.Fatalf("round %d %s %s: pools reserve %d outflow %d, series reserve %d outflow %d", round,
						period, p.Label, reserve[p.Label], outflow[p.Label], p.Reserve, p.Outflow)
				}
			}
		}
	}
}
