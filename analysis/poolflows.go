package analysis

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/btcsuite/btcd/btcutil"
)

// OriginFlow is the part of one block's flows owned by one origin: the
// height of the coinbase whose pool owns the miner outputs involved.
type OriginFlow struct {
	Origin  int32
	Change  btcutil.Amount // reserve change, negative when it shrank
	Outflow btcutil.Amount
}

// BlockOriginFlows are one block's flows by origin.
type BlockOriginFlows struct {
	Height  int32
	Time    int64 // header timestamp, unix seconds
	Origins []OriginFlow
}

// PoolFlowPoint is one pool's flows over one period.
type PoolFlowPoint struct {
	Label     string // as FlowPoint.Label
	Pool      string
	Outflow   btcutil.Amount
	NetChange btcutil.Amount
	Reserve   btcutil.Amount // the pool's reserve at the period's end
}

// PoolFlowSeries sums blocks' flows per period (PeriodDaily, PeriodWeekly
// or PeriodEpoch, bucketed as FlowSeries does) and per pool, pool mapping
// an origin to its pool's name. blocks must be contiguous by height and
// start where the reserve is zero (the first block the index tracks
// flows from), so that each pool's Reserve is the running sum of its
// NetChange. Points come in period order, then by pool name; a pool
// appears in a period when it has outflow, a change or a reserve there.
// Over the same blocks the pools' Reserves sum to FlowSeries' Reserve.
func PoolFlowSeries(p Params, blocks []BlockOriginFlows, period string,
	pool func(origin int32) (string, error)) ([]PoolFlowPoint, error) {

	key, label, err := periodKey(p, period)
	if err != nil {
		return nil, err
	}
	for i := range blocks {
		if blocks[i].Height != blocks[0].Height+int32(i) {
			return nil, fmt.Errorf("%w: height %d follows %d", ErrNotContiguous,
				blocks[i].Height, blocks[0].Height+int32(i)-1)
		}
	}

	type acc struct{ outflow, change btcutil.Amount }
	periods := map[int64]map[string]*acc{}
	for _, b := range blocks {
		k := key(b.Height, b.Time)
		m := periods[k]
		if m == nil {
			m = map[string]*acc{}
			periods[k] = m
		}
		for _, o := range b.Origins {
			name, err := pool(o.Origin)
			if err != nil {
				return nil, err
			}
			a := m[name]
			if a == nil {
				a = &acc{}
				m[name] = a
			}
			a.outflow += o.Outflow
			a.change += o.Change
		}
	}

	keys := make([]int64, 0, len(periods))
	for k := range periods {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	reserve := map[string]btcutil.Amount{}
	var out []PoolFlowPoint
	for _, k := range keys {
		for name, a := range periods[k] {
			reserve[name] += a.change
		}
		names := make([]string, 0, len(reserve))
		for name := range reserve {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			pt := PoolFlowPoint{Label: label(k), Pool: name, Reserve: reserve[name]}
			if a := periods[k][name]; a != nil {
				pt.Outflow, pt.NetChange = a.outflow, a.change
			}
			if pt.Outflow != 0 || pt.NetChange != 0 || pt.Reserve != 0 {
				out = append(out, pt)
			}
		}
	}
	return out, nil
}

// periodKey returns, for a period kind, the sortable key of a block's
// period and the label of a key.
func periodKey(p Params, period string) (func(int32, int64) int64, func(int64) string, error) {
	switch period {
	case PeriodDaily:
		return func(_ int32, t int64) int64 { return dayStart(t) }, dayLabel, nil
	case PeriodWeekly:
		return func(_ int32, t int64) int64 { return weekStart(t) }, weekLabel, nil
	case PeriodEpoch:
		if err := p.validate(); err != nil {
			return nil, nil, err
		}
		return func(h int32, _ int64) int64 { return int64(h / p.RetargetInterval) },
			func(k int64) string { return strconv.FormatInt(k, 10) }, nil
	}
	return nil, nil, fmt.Errorf("%w %q: use %s, %s or %s", ErrUnknownPeriod,
		period, PeriodDaily, PeriodWeekly, PeriodEpoch)
}

// PeriodLabel returns the label of the period (PeriodDaily, PeriodWeekly or
// PeriodEpoch) that holds the block at height stamped t, as FlowSeries and
// RewardSeries label it.
func PeriodLabel(p Params, period string, height int32, t int64) (string, error) {
	key, label, err := periodKey(p, period)
	if err != nil {
		return "", err
	}
	return label(key(height, t)), nil
}
