package analysis

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"

	"github.com/btcsuite/btcd/btcutil"
)

// maDays is the length of the moving average behind OutflowMultiple and
// MPI: a year of days.
const maDays = 365

// FlowPoint sums the BlockFlows of one period. Label, Start, End,
// FromHeight, ToHeight and Blocks follow RewardPoint.
type FlowPoint struct {
	Label                string
	Start, End           int64
	FromHeight, ToHeight int32
	Blocks               int

	// Inflow is CoinbaseInflow plus the other inflow; NetChange is
	// Inflow − Outflow − MinerFee − Lost.
	Outflow, Internal, Inflow, CoinbaseInflow, MinerFee, Lost, NetChange btcutil.Amount

	// Reserve is the reserve at the end of the period: the reserve
	// before the first block plus the NetChange of this and every
	// earlier point, so that each point's Reserve is the previous one's
	// plus its NetChange. It counts the blocks timestamped up to the
	// period's end (by height for epochs).
	Reserve btcutil.Amount

	Revenue     btcutil.Amount
	SpendingTxs int64

	// OutflowMultiple is Outflow / (days × mean daily outflow over the
	// MADays days ending at the period's last day), days being 1 for a
	// day, 7 for a week and (End − Start)/86400 for an epoch (Blocks ×
	// TargetSpacing when End <= Start). It is NaN when the denominator is
	// 0.
	OutflowMultiple float64

	// MADays is how many days that mean covers: 365, or fewer at the
	// start of the chain (days from the first block's day, inclusive).
	// Days without blocks or outflow count as 0.
	MADays int

	// OutflowToRevenue is Outflow/Revenue, NaN when Revenue is 0.
	OutflowToRevenue float64

	// OutflowByLabel sums the blocks' OutflowByLabel; nil when no block
	// has labels, otherwise a map in every point.
	OutflowByLabel map[string]btcutil.Amount

	// HasUSD is true when FlowSeries got prices for every day this point
	// needs: each day it has blocks on, and its last day. Otherwise the
	// USD figures are 0 and MPI is NaN.
	HasUSD bool

	// OutflowUSD, InflowUSD and RevenueUSD are in cents, each day's
	// amount valued at that day's price and the days summed.
	// ReserveUSD is Reserve at the price of the period's last day.
	OutflowUSD, InflowUSD, ReserveUSD, RevenueUSD int64

	// MPI is the Miners' Position Index as CryptoQuant defines it:
	// OutflowMultiple computed on the daily outflows in USD. It is NaN
	// unless HasUSD and every day of its moving average has a price.
	MPI float64
}

// FlowSeries sums the blocks' flows per period: PeriodDaily, PeriodWeekly
// or PeriodEpoch (ErrUnknownPeriod otherwise). blocks must be contiguous
// by height (ErrNotContiguous otherwise); nil or empty gives no points.
// startReserve is the reserve before blocks[0]; prices may be nil.
//
// Days and weeks count blocks by their own timestamps like RewardSeries,
// and every day or week from the first block's to the last block's is
// reported, empty ones included. A period's last day, which scales
// OutflowMultiple and MPI and prices ReserveUSD, is its last day for days
// and weeks (the last block's day if earlier) and the day of End for
// epochs.
//
// The moving averages begin at the first block's day, so over a series
// that starts after genesis they differ from those of the whole chain for
// the first 365 days.
func FlowSeries(p Params, blocks []BlockFlow, startReserve btcutil.Amount,
	period string, prices Prices) ([]FlowPoint, error) {

	switch period {
	case PeriodDaily, PeriodWeekly, PeriodEpoch:
	default:
		return nil, fmt.Errorf("%w %q: use %s, %s or %s", ErrUnknownPeriod,
			period, PeriodDaily, PeriodWeekly, PeriodEpoch)
	}
	if len(blocks) == 0 {
		return nil, nil
	}
	if err := checkContiguous(blocks, func(b *BlockFlow) int32 { return b.Height }); err != nil {
		return nil, err
	}
	if period == PeriodEpoch {
		if err := p.validate(); err != nil {
			return nil, err
		}
	}

	s := newFlowSeries(p, blocks, period)
	s.sum(startReserve)
	s.multiples()
	if prices != nil {
		s.usd(prices)
	}
	return s.points, nil
}

// flowSeries is FlowSeries at work. Days are numbered from the first
// block's UTC day.
type flowSeries struct {
	p        Params
	blocks   []BlockFlow
	period   string
	firstDay int64 // unix time of the first block's day

	points  []FlowPoint
	pointOf []int // point index of each block
	dayOf   []int // day number of each block
	days    int   // days from the first block's to the last block's

	lastDay    []int     // per point: the day that scales it
	periodDays []float64 // per point: its length in days
}

// newFlowSeries lays out the empty points and finds every block's point
// and day.
func newFlowSeries(p Params, blocks []BlockFlow, period string) *flowSeries {
	minT, maxT := blocks[0].Time, blocks[0].Time
	for _, b := range blocks {
		minT, maxT = min(minT, b.Time), max(maxT, b.Time)
	}
	s := &flowSeries{p: p, blocks: blocks, period: period,
		firstDay: dayStart(minT)}
	s.days = int((dayStart(maxT)-s.firstDay)/day) + 1
	s.dayOf = make([]int, len(blocks))
	for i, b := range blocks {
		s.dayOf[i] = s.day(b.Time)
	}

	switch period {
	case PeriodDaily:
		s.calendar(minT, maxT, dayStart, day, dayLabel)
	case PeriodWeekly:
		s.calendar(minT, maxT, weekStart, week, weekLabel)
	default:
		s.epochs()
	}
	return s
}

// day is the day number of time t.
func (s *flowSeries) day(t int64) int {
	return int((dayStart(t) - s.firstDay) / day)
}

// calendar makes one point per period of length size starting at start(t).
func (s *flowSeries) calendar(minT, maxT int64, start func(int64) int64,
	size int64, label func(int64) string) {

	first := start(minT)
	s.points = make([]FlowPoint, (start(maxT)-first)/size+1)
	for i := range s.points {
		st := first + int64(i)*size
		s.points[i] = emptyFlowPoint(label(st), st, st+size)
	}
	s.pointOf = make([]int, len(s.blocks))
	for i, b := range s.blocks {
		s.pointOf[i] = int((start(b.Time) - first) / size)
	}
}

// epochs makes one point per difficulty epoch, from the timestamp of its
// lowest block to that of its highest.
func (s *flowSeries) epochs() {
	size := s.p.RetargetInterval
	first := s.blocks[0].Height / size
	last := s.blocks[len(s.blocks)-1].Height / size
	s.points = make([]FlowPoint, last-first+1)
	for i := range s.points {
		s.points[i] = emptyFlowPoint(strconv.Itoa(int(first)+i), 0, 0)
	}
	s.pointOf = make([]int, len(s.blocks))
	for i, b := range s.blocks {
		k := int(b.Height/size - first)
		s.pointOf[i] = k
		if i == 0 || s.pointOf[i-1] != k {
			s.points[k].Start = b.Time
		}
		s.points[k].End = b.Time
	}
}

// emptyFlowPoint is a period with no blocks yet.
func emptyFlowPoint(label string, start, end int64) FlowPoint {
	return FlowPoint{Label: label, Start: start, End: end,
		FromHeight: -1, ToHeight: -1, OutflowMultiple: math.NaN(),
		OutflowToRevenue: math.NaN(), MPI: math.NaN()}
}

// sum adds the blocks into their points, then the reserves and ratios.
func (s *flowSeries) sum(startReserve btcutil.Amount) {
	for _, b := range s.blocks {
		if b.OutflowByLabel != nil {
			for i := range s.points {
				s.points[i].OutflowByLabel = map[string]btcutil.Amount{}
			}
			break
		}
	}
	for i := range s.blocks {
		s.points[s.pointOf[i]].add(&s.blocks[i])
	}

	reserve := startReserve
	for i := range s.points {
		pt := &s.points[i]
		reserve += pt.NetChange
		pt.Reserve = reserve
		if pt.Revenue != 0 {
			pt.OutflowToRevenue = float64(pt.Outflow) / float64(pt.Revenue)
		}
	}
}

// add counts block b in the point. Blocks arrive in height order.
func (pt *FlowPoint) add(b *BlockFlow) {
	if pt.Blocks == 0 {
		pt.FromHeight = b.Height
	}
	pt.ToHeight = b.Height
	pt.Blocks++
	pt.Outflow += b.Outflow
	pt.Internal += b.Internal
	pt.Inflow += b.CoinbaseInflow + b.OtherInflow
	pt.CoinbaseInflow += b.CoinbaseInflow
	pt.MinerFee += b.MinerFee
	pt.Lost += b.Lost
	pt.NetChange += b.NetChange()
	pt.Revenue += b.Revenue
	pt.SpendingTxs += int64(b.SpendingTxs)
	for label, v := range b.OutflowByLabel {
		pt.OutflowByLabel[label] += v
	}
}

// multiples sets OutflowMultiple and MADays.
func (s *flowSeries) multiples() {
	s.scale()
	means := movingMeans(s.dailyOutflow(), nil)
	for k := range s.points {
		pt := &s.points[k]
		d := s.lastDay[k]
		pt.MADays = min(maDays, d+1)
		pt.OutflowMultiple = nanRatio(float64(pt.Outflow),
			s.periodDays[k]*means[d])
	}
}

// scale finds each point's last day and length in days.
func (s *flowSeries) scale() {
	s.lastDay = make([]int, len(s.points))
	s.periodDays = make([]float64, len(s.points))
	for k, pt := range s.points {
		switch s.period {
		case PeriodDaily:
			s.lastDay[k], s.periodDays[k] = s.day(pt.Start), 1
		case PeriodWeekly:
			s.lastDay[k], s.periodDays[k] = min(s.day(pt.End-1), s.days-1), 7
		default:
			s.lastDay[k] = s.day(pt.End)
			s.periodDays[k] = float64(pt.End-pt.Start) / day
			if s.periodDays[k] <= 0 {
				s.periodDays[k] = float64(int64(pt.Blocks)*
					s.p.TargetSpacing) / day
			}
		}
	}
}

// dailyOutflow is the outflow of each day, 0 on days without blocks.
func (s *flowSeries) dailyOutflow() []int64 {
	out := make([]int64, s.days)
	for i, b := range s.blocks {
		out[s.dayOf[i]] += int64(b.Outflow)
	}
	return out
}

// movingMeans returns for each day d the mean of x over the min(365, d+1)
// days ending at d, or NaN when one of those days is not known (known nil:
// all are). Each window is summed afresh in float64, exact enough and free
// of overflow.
func movingMeans(x []int64, known []bool) []float64 {
	means := make([]float64, len(x))
	unknown := 0
	for d := range x {
		if known != nil && !known[d] {
			unknown++
		}
		if d >= maDays && known != nil && !known[d-maDays] {
			unknown--
		}
		if unknown > 0 {
			means[d] = math.NaN()
			continue
		}
		var sum float64
		for _, v := range x[max(0, d-maDays+1) : d+1] {
			sum += float64(v)
		}
		means[d] = sum / float64(min(maDays, d+1))
	}
	return means
}

// nanRatio is a/b, NaN when b is 0 or NaN.
func nanRatio(a, b float64) float64 {
	if b == 0 || math.IsNaN(b) {
		return math.NaN()
	}
	return a / b
}

// usdTotals sums one point's amounts in cents, day by day.
type usdTotals struct {
	outflow, inflow, revenue int64
	bad                      bool // a day without a price, or overflow
}

// add values one day's amounts at price.
func (t *usdTotals) add(outflow, inflow, revenue btcutil.Amount, price int64) {
	if !addUSD(&t.outflow, outflow, price) ||
		!addUSD(&t.inflow, inflow, price) ||
		!addUSD(&t.revenue, revenue, price) {
		t.bad = true
	}
}

// addUSD adds sat at price to *sum, false on overflow.
func addUSD(sum *int64, sat btcutil.Amount, price int64) bool {
	c, ok := usdCents(sat, price)
	if !ok {
		return false
	}
	*sum, ok = addCents(*sum, c)
	return ok
}

// usd sets the USD figures and MPI of every point whose days have prices.
func (s *flowSeries) usd(prices Prices) {
	price := make([]int64, s.days)
	priced := make([]bool, s.days)
	for d := range price {
		price[d], priced[d] = prices[dayLabel(s.firstDay+int64(d)*day)]
	}

	totals := make([]usdTotals, len(s.points))
	for _, ds := range s.daySlices() {
		if !priced[ds.day] {
			totals[ds.point].bad = true
			continue
		}
		totals[ds.point].add(ds.outflow, ds.inflow, ds.revenue,
			price[ds.day])
	}

	outflow := s.dailyOutflow()
	dailyUSD := make([]int64, s.days)
	known := make([]bool, s.days)
	for d, sat := range outflow {
		if priced[d] {
			dailyUSD[d], known[d] = usdCents(btcutil.Amount(sat), price[d])
		}
	}
	means := movingMeans(dailyUSD, known)

	for k := range s.points {
		pt, t, d := &s.points[k], totals[k], s.lastDay[k]
		if t.bad || !priced[d] {
			continue
		}
		reserve, ok := usdCents(pt.Reserve, price[d])
		if !ok {
			continue
		}
		pt.HasUSD = true
		pt.OutflowUSD, pt.InflowUSD, pt.RevenueUSD = t.outflow, t.inflow,
			t.revenue
		pt.ReserveUSD = reserve
		pt.MPI = nanRatio(float64(pt.OutflowUSD), s.periodDays[k]*means[d])
	}
}

// daySlice sums the blocks of one point timestamped on one day.
type daySlice struct {
	point, day               int
	outflow, inflow, revenue btcutil.Amount
}

// daySlices splits every point by day, slices in order of first block.
func (s *flowSeries) daySlices() []daySlice {
	var slices []daySlice
	index := make(map[[2]int]int)
	for i, b := range s.blocks {
		key := [2]int{s.pointOf[i], s.dayOf[i]}
		j, ok := index[key]
		if !ok {
			j = len(slices)
			index[key] = j
			slices = append(slices, daySlice{point: key[0], day: key[1]})
		}
		slices[j].outflow += b.Outflow
		slices[j].inflow += b.CoinbaseInflow + b.OtherInflow
		slices[j].revenue += b.Revenue
	}
	return slices
}

// usdCents is sat satoshis at price cents per bitcoin, in cents rounded
// half away from zero: sat·price/1e8 in 128-bit arithmetic, as sat may
// reach 2.1e15 and price 1e9. ok is false when the result overflows int64.
func usdCents(sat btcutil.Amount, price int64) (cents int64, ok bool) {
	const coin = btcutil.SatoshiPerBitcoin
	hi, lo := bits.Mul64(absU64(int64(sat)), absU64(price))
	if hi >= coin {
		return 0, false
	}
	q, r := bits.Div64(hi, lo, coin)
	if r >= coin/2 {
		q++
	}
	if q > math.MaxInt64 {
		return 0, false
	}
	if (sat < 0) != (price < 0) {
		return -int64(q), true
	}
	return int64(q), true
}

// absU64 is |x| as an unsigned number, exact for math.MinInt64 too.
func absU64(x int64) uint64 {
	if x < 0 {
		return uint64(-x)
	}
	return uint64(x)
}

// addCents is a+b, ok false on overflow.
func addCents(a, b int64) (sum int64, ok bool) {
	sum = a + b
	return sum, (b >= 0) == (sum >= a)
}
