package analysis

import (
	"fmt"
	"strconv"
	"time"

	"github.com/btcsuite/btcd/btcutil"
)

// The periods RewardSeries accepts.
const (
	PeriodDaily  = "daily"  // UTC days
	PeriodWeekly = "weekly" // ISO weeks, Monday 00:00 UTC to the next Monday
	PeriodEpoch  = "epoch"  // difficulty epochs of RetargetInterval blocks
)

// BlockReward is the reward of one block, as its CoinbaseRecord gives it.
type BlockReward struct {
	Height                int32
	Time                  int64 // header timestamp, unix seconds
	Subsidy, Fees, Reward btcutil.Amount
}

// RewardPoint sums the rewards of the blocks of one period.
type RewardPoint struct {
	// Label names the period: "2024-01-02", "2024-W01", or the epoch
	// number "403".
	Label string

	// Start and End bound a day or week: [Start, End) in unix seconds.
	// For an epoch they are the timestamps of its lowest and highest
	// block given.
	Start, End int64

	// FromHeight and ToHeight are the lowest and highest heights counted,
	// -1 when no block fell in the period.
	FromHeight, ToHeight int32

	Blocks                int
	Subsidy, Fees, Reward btcutil.Amount

	// FeeShare is Fees/Reward, 0 when Reward is 0. Fees being a lower
	// bound (see CoinbaseRecord), so is FeeShare.
	FeeShare float64
}

// RewardSeries sums the rewards of blocks per period: PeriodDaily,
// PeriodWeekly or PeriodEpoch (ErrUnknownPeriod otherwise). blocks must be
// contiguous by height (ErrNotContiguous otherwise); nil or empty gives no
// points.
//
// Days and weeks count the blocks by their own timestamps, like
// DailyHashrate, so a block timestamped just after midnight belongs to the
// new day even if its parent does not. Every day or week from the first to
// the last block's is reported, empty ones included; the first and last
// may be only partly covered by blocks. Epochs count by height.
func RewardSeries(p Params, blocks []BlockReward, period string) ([]RewardPoint, error) {
	switch period {
	case PeriodDaily, PeriodWeekly, PeriodEpoch:
	default:
		return nil, fmt.Errorf("%w %q: use %s, %s or %s", ErrUnknownPeriod,
			period, PeriodDaily, PeriodWeekly, PeriodEpoch)
	}
	if len(blocks) == 0 {
		return nil, nil
	}
	if err := checkContiguous(blocks, func(b *BlockReward) int32 { return b.Height }); err != nil {
		return nil, err
	}

	switch period {
	case PeriodDaily:
		return calendarRewards(blocks, dayStart, day, dayLabel), nil
	case PeriodWeekly:
		return calendarRewards(blocks, weekStart, week, weekLabel), nil
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return epochRewards(p, blocks), nil
}

// checkContiguous verifies that the heights of blocks (non-empty) count up
// by one from a first height that is not negative.
func checkContiguous[T any](blocks []T, height func(*T) int32) error {
	first := height(&blocks[0])
	if first < 0 {
		return fmt.Errorf("%w: negative height %d", ErrNotContiguous, first)
	}
	for i := range blocks {
		if h := height(&blocks[i]); int64(h) != int64(first)+int64(i) {
			return fmt.Errorf("%w: block %d of %d has height %d after %d",
				ErrNotContiguous, i, len(blocks), h, first)
		}
	}
	return nil
}

// calendarRewards buckets blocks into the periods of length size that start
// with start(t), labelled by label.
func calendarRewards(blocks []BlockReward, start func(int64) int64,
	size int64, label func(int64) string) []RewardPoint {

	minT, maxT := blocks[0].Time, blocks[0].Time
	for _, b := range blocks {
		minT, maxT = min(minT, b.Time), max(maxT, b.Time)
	}
	first := start(minT)
	points := make([]RewardPoint, (start(maxT)-first)/size+1)
	for i := range points {
		s := first + int64(i)*size
		points[i] = emptyRewardPoint(label(s), s, s+size)
	}
	for _, b := range blocks {
		points[(start(b.Time)-first)/size].add(b)
	}
	for i := range points {
		points[i].finish()
	}
	return points
}

// epochRewards buckets blocks by difficulty epoch.
func epochRewards(p Params, blocks []BlockReward) []RewardPoint {
	size := p.RetargetInterval
	first := blocks[0].Height / size
	last := blocks[len(blocks)-1].Height / size
	points := make([]RewardPoint, last-first+1)
	for i := range points {
		points[i] = emptyRewardPoint(strconv.Itoa(int(first)+i), 0, 0)
	}
	for _, b := range blocks {
		pt := &points[b.Height/size-first]
		if pt.Blocks == 0 {
			pt.Start = b.Time
		}
		pt.End = b.Time
		pt.add(b)
	}
	for i := range points {
		points[i].finish()
	}
	return points
}

// emptyRewardPoint is a period with no blocks yet.
func emptyRewardPoint(label string, start, end int64) RewardPoint {
	return RewardPoint{Label: label, Start: start, End: end,
		FromHeight: -1, ToHeight: -1}
}

// add counts block b in the point. Blocks arrive in height order.
func (pt *RewardPoint) add(b BlockReward) {
	if pt.Blocks == 0 {
		pt.FromHeight = b.Height
	}
	pt.ToHeight = b.Height
	pt.Blocks++
	pt.Subsidy += b.Subsidy
	pt.Fees += b.Fees
	pt.Reward += b.Reward
}

// finish computes the fee share.
func (pt *RewardPoint) finish() {
	if pt.Reward > 0 {
		pt.FeeShare = float64(pt.Fees) / float64(pt.Reward)
	}
}

// dayLabel is the UTC date of t: "2024-01-02".
func dayLabel(t int64) string {
	return time.Unix(t, 0).UTC().Format(time.DateOnly)
}

// weekLabel is the ISO week of t: "2024-W01".
func weekLabel(t int64) string {
	year, wk := time.Unix(t, 0).UTC().ISOWeek()
	return fmt.Sprintf("%04d-W%02d", year, wk)
}
