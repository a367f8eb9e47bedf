package analysis

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
)

// utc is the unix time of a UTC date and time.
func utc(y int, mo time.Month, d, h, mi int) int64 {
	return time.Date(y, mo, d, h, mi, 0, 0, time.UTC).Unix()
}

// TestRewardSeriesCalendar checks days and weeks on hand-made blocks whose
// periods the time package tells: a block timestamped before its parent
// counts on its own day, empty days are kept, labels are ISO dates and
// weeks (1 January 2024 was a Monday; 31 December 2024 is in week 1 of
// 2025).
func TestRewardSeriesCalendar(t *testing.T) {
	blocks := []BlockReward{
		{100, utc(2024, 12, 29, 23, 50), 100, 10, 110},
		{101, utc(2024, 12, 30, 0, 5), 100, 30, 130},
		{102, utc(2024, 12, 29, 23, 59), 100, 0, 100}, // earlier than its parent
		{103, utc(2025, 1, 1, 12, 0), 100, 60, 160},
	}

	daily, err := RewardSeries(Mainnet, blocks, PeriodDaily)
	if err != nil {
		t.Fatal(err)
	}
	wantDays := []RewardPoint{
		{"2024-12-29", utc(2024, 12, 29, 0, 0), utc(2024, 12, 30, 0, 0),
			100, 102, 2, 200, 10, 210, 10.0 / 210},
		{"2024-12-30", utc(2024, 12, 30, 0, 0), utc(2024, 12, 31, 0, 0),
			101, 101, 1, 100, 30, 130, 30.0 / 130},
		{"2024-12-31", utc(2024, 12, 31, 0, 0), utc(2025, 1, 1, 0, 0),
			-1, -1, 0, 0, 0, 0, 0},
		{"2025-01-01", utc(2025, 1, 1, 0, 0), utc(2025, 1, 2, 0, 0),
			103, 103, 1, 100, 60, 160, 60.0 / 160},
	}
	checkRewardPoints(t, "daily", daily, wantDays)

	weekly, err := RewardSeries(Mainnet, blocks, PeriodWeekly)
	if err != nil {
		t.Fatal(err)
	}
	wantWeeks := []RewardPoint{
		{"2024-W52", utc(2024, 12, 23, 0, 0), utc(2024, 12, 30, 0, 0),
			100, 102, 2, 200, 10, 210, 10.0 / 210},
		{"2025-W01", utc(2024, 12, 30, 0, 0), utc(2025, 1, 6, 0, 0),
			101, 103, 2, 200, 90, 290, 90.0 / 290},
	}
	checkRewardPoints(t, "weekly", weekly, wantWeeks)
}

// TestRewardSeriesEpoch checks epochs by height across a retarget.
func TestRewardSeriesEpoch(t *testing.T) {
	var blocks []BlockReward
	for h := int32(2014); h <= 2018; h++ {
		blocks = append(blocks, BlockReward{h, int64(h) * 600, 50, 1, 51})
	}
	points, err := RewardSeries(Mainnet, blocks, PeriodEpoch)
	if err != nil {
		t.Fatal(err)
	}
	want := []RewardPoint{
		{"0", 2014 * 600, 2015 * 600, 2014, 2015, 2, 100, 2, 102, 2.0 / 102},
		{"1", 2016 * 600, 2018 * 600, 2016, 2018, 3, 150, 3, 153, 3.0 / 153},
	}
	checkRewardPoints(t, "epoch", points, want)
}

// TestRewardSeriesMainnet sums the real rewards of blocks 0..14131 per
// day: totals must match, and the famous gap after the genesis block (no
// block from 4 to 8 January 2009) must show as empty days.
func TestRewardSeriesMainnet(t *testing.T) {
	var blocks []BlockReward
	var total btcutil.Amount
	for h, fb := range loadMainnetBlocks(t) {
		rec, err := ExtractCoinbase(Mainnet, int32(h), fb.block)
		if err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, BlockReward{int32(h),
			fb.block.Header.Timestamp.Unix(), rec.Subsidy, rec.Fees,
			rec.Reward})
		total += rec.Reward
	}

	for _, period := range []string{PeriodDaily, PeriodWeekly, PeriodEpoch} {
		points, err := RewardSeries(Mainnet, blocks, period)
		if err != nil {
			t.Fatal(err)
		}
		var sum btcutil.Amount
		n := 0
		for _, pt := range points {
			sum += pt.Reward
			n += pt.Blocks
		}
		if sum != total || n != len(blocks) {
			t.Errorf("%s: %d blocks, %d sat; want %d, %d", period, n, sum,
				len(blocks), total)
		}
	}

	daily, _ := RewardSeries(Mainnet, blocks, PeriodDaily)
	wantFirst := []struct {
		label  string
		blocks int
	}{
		{"2009-01-03", 1}, {"2009-01-04", 0}, {"2009-01-05", 0},
		{"2009-01-06", 0}, {"2009-01-07", 0}, {"2009-01-08", 0},
	}
	for i, w := range wantFirst {
		if daily[i].Label != w.label || daily[i].Blocks != w.blocks {
			t.Errorf("day %d: %s with %d blocks, want %s with %d", i,
				daily[i].Label, daily[i].Blocks, w.label, w.blocks)
		}
	}
	if daily[6].Label != "2009-01-09" || daily[6].Blocks == 0 ||
		daily[6].FromHeight != 1 {
		t.Errorf("9 January 2009: %+v", daily[6])
	}
}

// TestRewardSeriesErrors checks the refusals and the empty input.
func TestRewardSeriesErrors(t *testing.T) {
	blocks := []BlockReward{{Height: 5}, {Height: 7}}
	if _, err := RewardSeries(Mainnet, blocks, "monthly"); !errors.Is(err, ErrUnknownPeriod) {
		t.Errorf("monthly: %v", err)
	}
	if _, err := RewardSeries(Mainnet, blocks, PeriodDaily); !errors.Is(err, ErrNotContiguous) {
		t.Errorf("gap: %v", err)
	}
	if _, err := RewardSeries(Mainnet, []BlockReward{{Height: -1}}, PeriodDaily); !errors.Is(err, ErrNotContiguous) {
		t.Errorf("negative height: %v", err)
	}
	if _, err := RewardSeries(Params{}, []BlockReward{{}}, PeriodEpoch); !errors.Is(err, ErrBadParams) {
		t.Errorf("epoch with zero params: %v", err)
	}
	points, err := RewardSeries(Mainnet, nil, PeriodWeekly)
	if err != nil || points != nil {
		t.Errorf("no blocks: %v, %v", points, err)
	}
}

// checkRewardPoints compares points field by field.
func checkRewardPoints(t *testing.T, what string, got, want []RewardPoint) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d points, want %d: %+v", what, len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		share := g.FeeShare
		g.FeeShare, w.FeeShare = 0, 0
		if g != w || math.Abs(share-want[i].FeeShare) > 1e-15 {
			t.Errorf("%s point %d: %+v (share %v), want %+v (share %v)",
				what, i, g, share, w, want[i].FeeShare)
		}
	}
}
