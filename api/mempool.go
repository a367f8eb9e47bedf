package api

import (
	"cmp"
	"math"
	"net/http"
	"slices"
	"strings"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/report"
)

// The endpoints of this file answer with the shapes of mempool.space's
// mining API (backend/src/api/mining/mining-routes.ts, mining.ts and the
// repositories it reads, and difficulty-adjustment.ts), field names and units
// included, so that tools written for it work unchanged. Where mempool.space
// reads the wall clock, these read the tip's timestamp.

// mpHashrate is one point of mempool's daily network hashrate.
type mpHashrate struct {
	Timestamp   int64   `json:"timestamp"`   // unix seconds: the UTC midnight that ends the day
	AvgHashrate float64 `json:"avgHashrate"` // H/s
}

// mpAdjustment is one difficulty change as mempool's hashrate endpoint lists it.
type mpAdjustment struct {
	Time       int64   `json:"time"` // unix seconds: the first block with the new difficulty
	Height     int32   `json:"height"`
	Difficulty float64 `json:"difficulty"`
	Adjustment float64 `json:"adjustment"` // new / previous difficulty, rounded to 6 decimals; 0 for genesis
}

// mpHashrateAnswer is GET /api/v1/mining/hashrate/:interval.
type mpHashrateAnswer struct {
	Hashrates         []mpHashrate   `json:"hashrates"`
	Difficulty        []mpAdjustment `json:"difficulty"`
	CurrentHashrate   float64        `json:"currentHashrate"`
	CurrentDifficulty float64        `json:"currentDifficulty"`
}

// mpDifficultyAdjustment is GET /api/v1/difficulty-adjustment.
type mpDifficultyAdjustment struct {
	ProgressPercent       float64 `json:"progressPercent"`       // 0 to 100
	DifficultyChange      float64 `json:"difficultyChange"`      // percent, -75 to 300
	EstimatedRetargetDate int64   `json:"estimatedRetargetDate"` // unix milliseconds
	RemainingBlocks       int32   `json:"remainingBlocks"`
	RemainingTime         int64   `json:"remainingTime"`    // milliseconds
	PreviousRetarget      float64 `json:"previousRetarget"` // percent
	PreviousTime          int64   `json:"previousTime"`     // unix seconds: the epoch's first block
	NextRetargetHeight    int32   `json:"nextRetargetHeight"`
	TimeAvg               int64   `json:"timeAvg"`         // milliseconds
	AdjustedTimeAvg       int64   `json:"adjustedTimeAvg"` // milliseconds
	TimeOffset            int64   `json:"timeOffset"`      // milliseconds
	ExpectedBlocks        float64 `json:"expectedBlocks"`
}

// mpPool is one pool of GET /api/v1/mining/pools/:interval.
type mpPool struct {
	PoolID       int      `json:"poolId"`
	Name         string   `json:"name"`
	Link         string   `json:"link"`
	BlockCount   int      `json:"blockCount"`
	Rank         int      `json:"rank"`
	EmptyBlocks  int      `json:"emptyBlocks"`
	Slug         string   `json:"slug"`
	AvgMatchRate *float64 `json:"avgMatchRate"` // block audits: minerscope has none
	AvgFeeDelta  *string  `json:"avgFeeDelta"`  // block audits: minerscope has none
	PoolUniqueID int      `json:"poolUniqueId"`
}

// mpPoolsAnswer is GET /api/v1/mining/pools/:interval.
type mpPoolsAnswer struct {
	Pools                   []mpPool `json:"pools"`
	BlockCount              int      `json:"blockCount"`
	LastEstimatedHashrate   float64  `json:"lastEstimatedHashrate"`
	LastEstimatedHashrate3d float64  `json:"lastEstimatedHashrate3d"`
	LastEstimatedHashrate1w float64  `json:"lastEstimatedHashrate1w"`
}

// mpReward is one bucket of GET /api/v1/mining/blocks/rewards/:interval.
type mpReward struct {
	AvgHeight  int64    `json:"avgHeight"`
	Timestamp  int64    `json:"timestamp"`  // unix seconds, the bucket's mean block time
	AvgRewards int64    `json:"avgRewards"` // satoshis
	USD        *float64 `json:"USD"`        // the price: minerscope has none
}

// handleMiningHashrate answers the daily hashrate of the complete UTC days
// that end in the interval and the difficulty changes in it.
func (s *Server) handleMiningHashrate(r *http.Request, sn *snapshot) (any, error) {
	_, from, err := intervalParam(r, sn)
	if err != nil {
		return nil, err
	}
	days, err := s.completeDays(sn)
	if err != nil {
		return nil, err
	}
	out := mpHashrateAnswer{Hashrates: []mpHashrate{}, Difficulty: []mpAdjustment{}}
	for _, d := range days {
		if d.Timestamp > from {
			out.Hashrates = append(out.Hashrates, d)
		}
	}
	for _, a := range s.adjustments(sn) {
		if a.Time > from {
			out.Difficulty = append(out.Difficulty, a)
		}
	}
	cur, err := analysis.NetworkHashPS(s.p, sn.hs, 120, sn.tipHeight)
	if err != nil {
		return nil, err
	}
	out.CurrentHashrate = report.Finite(cur.HashesPerSec)
	out.CurrentDifficulty = analysis.Difficulty(sn.hs[sn.tipHeight].Bits)
	return out, nil
}

// completeDays is the hashrate of every complete UTC day up to the tip's
// timestamp, stamped with the midnight that ends it, as mempool indexes it.
func (s *Server) completeDays(sn *snapshot) ([]mpHashrate, error) {
	return memoized(sn, "mp-days", func() ([]mpHashrate, error) {
		last := floorDay(sn.tipTime() + 1) // midnight at or before the tip's time
		pts := analysis.DailyHashrate(s.p, sn.hs, floorDay(sn.hs[0].Time), last)
		out := make([]mpHashrate, 0, len(pts))
		for _, pt := range pts {
			if pt.End%86400 == 0 {
				out = append(out, mpHashrate{Timestamp: pt.End, AvgHashrate: report.Finite(pt.Estimate.HashesPerSec)})
			}
		}
		return out, nil
	})
}

// floorDay is the UTC midnight at or before t.
func floorDay(t int64) int64 {
	d := t / 86400
	if t%86400 != 0 && t < 0 {
		d--
	}
	return d * 86400
}

// adjustments lists the genesis block and every retarget whose bits differ
// from the previous epoch's, in height order, as mempool indexes them. Only
// retarget heights count: on test networks the blocks mined at minimum
// difficulty between them are not adjustments.
func (s *Server) adjustments(sn *snapshot) []mpAdjustment {
	v, _ := memoized(sn, "mp-adjustments", func() ([]mpAdjustment, error) {
		g := sn.hs[0]
		out := []mpAdjustment{{Time: g.Time, Height: 0, Difficulty: analysis.Difficulty(g.Bits), Adjustment: 0}}
		prev := g.Bits
		for h := s.p.RetargetInterval; h <= sn.tipHeight; h += s.p.RetargetInterval {
			b := sn.hs[h].Bits
			if b == prev {
				continue
			}
			d, pd := analysis.Difficulty(b), analysis.Difficulty(prev)
			out = append(out, mpAdjustment{Time: sn.hs[h].Time, Height: h, Difficulty: d,
				Adjustment: math.Round(d/pd*1e6) / 1e6})
			prev = b
		}
		return out, nil
	})
	return v
}

// handleMiningAdjustments answers [time, height, difficulty, adjustment]
// arrays, newest first, as mempool's /mining/difficulty-adjustments does.
func (s *Server) handleMiningAdjustments(r *http.Request, sn *snapshot) (any, error) {
	_, from, err := intervalParam(r, sn)
	if err != nil {
		return nil, err
	}
	adj := s.adjustments(sn)
	out := [][4]float64{}
	for i := len(adj) - 1; i >= 0; i-- {
		if a := adj[i]; a.Time > from {
			out = append(out, [4]float64{float64(a.Time), float64(a.Height), a.Difficulty, a.Adjustment})
		}
	}
	return out, nil
}

// handleDifficultyAdjustment reproduces mempool's calcDifficultyAdjustment
// with the tip's timestamp (or ?now=) as now.
func (s *Server) handleDifficultyAdjustment(r *http.Request, sn *snapshot) (any, error) {
	now, err := nowParam(r, sn)
	if err != nil {
		return nil, err
	}
	return mempoolAdjustment(s.p, sn.hs, now), nil
}

// mempoolAdjustment is mempool.space's calcDifficultyAdjustment (the 504-block
// sliding window early in an epoch included) on hs, whose last header is the
// tip, at now (unix seconds).
func mempoolAdjustment(p analysis.Params, hs []analysis.Header, now int64) mpDifficultyAdjustment {
	const target = 600.0 // mempool's BLOCK_SECONDS_TARGET
	interval := p.RetargetInterval
	tip := hs[len(hs)-1]
	height := tip.Height
	inEpoch := height % interval
	epochStart := hs[height-inEpoch]
	daTime := epochStart.Time

	var previous float64
	if height >= interval {
		previous = bitsChangePct(hs[height-inEpoch-interval].Bits, epochStart.Bits)
	}
	diff := float64(max(0, now-daTime))
	remaining := interval - inEpoch
	out := mpDifficultyAdjustment{
		ProgressPercent:    float64(inEpoch) / float64(interval) * 100,
		RemainingBlocks:    remaining,
		PreviousRetarget:   previous,
		PreviousTime:       daTime,
		NextRetargetHeight: height + remaining,
		ExpectedBlocks:     diff / target,
	}
	actual := float64(now - daTime)
	if inEpoch == interval-1 {
		actual = float64(tip.Time - daTime)
	}
	timeAvg := target
	if inEpoch > 0 {
		timeAvg = diff / float64(inEpoch)
	}
	adjustedAvg := timeAvg
	var change float64
	if height >= 503 && inEpoch < 503 {
		quarter := hs[height-503].Time
		lastEpoch := float64(daTime-quarter) * (1 + previous/100)
		span := diff + lastEpoch
		adjustedAvg = span / 503
		change = (target/(span/504) - 1) * 100
	} else {
		change = (target/(actual/float64(inEpoch+1)) - 1) * 100
	}
	out.DifficultyChange = report.Finite(min(300, max(-75, change)))
	if p.ReduceMinDifficulty && p.Name == "testnet3" {
		const maxBlock = 1200.0
		timeAvg = min(timeAvg, maxBlock)
		since := float64(now - tip.Time)
		if since+timeAvg > maxBlock {
			out.TimeOffset = -int64(min(since, maxBlock) * 1000)
		}
	}
	out.TimeAvg = int64(math.Floor(timeAvg * 1000))
	out.AdjustedTimeAvg = int64(math.Floor(adjustedAvg * 1000))
	out.RemainingTime = int64(remaining) * out.AdjustedTimeAvg
	out.EstimatedRetargetDate = out.RemainingTime + now*1000
	return out
}

// bitsChangePct is the difficulty change, in percent and clamped to the
// consensus range, from old bits to new bits (mempool's calcBitsDifference,
// computed on the exact targets).
func bitsChangePct(oldBits, newBits uint32) float64 {
	d := (analysis.Difficulty(newBits)/analysis.Difficulty(oldBits) - 1) * 100
	return min(300, max(-75, d))
}

// handleMiningPools answers the pools that mined blocks in the interval,
// most blocks first.
func (s *Server) handleMiningPools(r *http.Request, sn *snapshot) (any, error) {
	pw, err := s.poolWindow(sn, r.PathValue("interval"))
	if err != nil {
		return nil, err
	}
	out := mpPoolsAnswer{Pools: []mpPool{}, BlockCount: len(pw.attributed)}
	for _, ps := range pw.shares {
		name := ps.Pool
		if ps.PoolID == 0 {
			name = "Unknown" // mempool's name for it
		}
		out.Pools = append(out.Pools, mpPool{PoolID: ps.PoolID, Name: name, Link: s.pools[ps.PoolID].Link,
			BlockCount: ps.Blocks, EmptyBlocks: ps.Empty, Slug: slug(name), PoolUniqueID: ps.PoolID})
	}
	// mempool sorts by block count only; keep the order stable on ties.
	slices.SortStableFunc(out.Pools, func(a, b mpPool) int { return cmp.Compare(b.BlockCount, a.BlockCount) })
	for i := range out.Pools {
		out.Pools[i].Rank = i + 1
	}
	for _, e := range []struct {
		dst  *float64
		secs int64
	}{{&out.LastEstimatedHashrate, 86400}, {&out.LastEstimatedHashrate3d, 3 * 86400}, {&out.LastEstimatedHashrate1w, 7 * 86400}} {
		if *e.dst, err = s.lastEstimate(sn, e.secs); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// lastEstimate is mempool's lastEstimatedHashrate: getnetworkhashps over as
// many blocks as were stamped in the secs before the tip's time (0 if none).
func (s *Server) lastEstimate(sn *snapshot, secs int64) (float64, error) {
	from := sn.tipTime() - secs
	n := 0
	for _, h := range sn.tail(from) {
		if h.Time > from && h.Time <= sn.tipTime() {
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	est, err := analysis.NetworkHashPS(s.p, sn.hs, n, sn.tipHeight)
	return report.Finite(est.HashesPerSec), err
}

// slug is mempool's pool slug: the name's letters and digits, lower case.
func slug(name string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(name) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// rewardBucket is mempool's grouping of blocks for the rewards chart, in
// seconds (mining.ts getTimeRange).
func rewardBucket(interval string) int64 {
	switch interval {
	case "24h", "3d":
		return 1
	case "1w":
		return 300
	case "1m":
		return 1800
	case "3m":
		return 7200
	case "6m":
		return 10800
	case "1y", "2y":
		return 28800
	case "3y", "4y":
		return 43200
	default:
		return 86400
	}
}

// handleMiningRewards averages the block rewards per time bucket.
func (s *Server) handleMiningRewards(r *http.Request, sn *snapshot) (any, error) {
	iv, from, err := intervalParam(r, sn)
	if err != nil {
		return nil, err
	}
	return memoized(sn, "mp-rewards:"+iv, func() ([]mpReward, error) {
		blocks, err := s.windowBlocks(sn, from)
		return rewardBuckets(blocks, rewardBucket(iv)), err
	})
}

// rewardBuckets groups blocks by time / size, in increasing order, with the
// rounded means MySQL's CAST(AVG(x) AS INT) gives.
func rewardBuckets(blocks []windowBlock, size int64) []mpReward {
	type acc struct{ n, heights, times, rewards int64 }
	sums := map[int64]*acc{}
	var keys []int64
	for _, b := range blocks {
		k := b.time / size
		a, ok := sums[k]
		if !ok {
			a = &acc{}
			sums[k] = a
			keys = append(keys, k)
		}
		a.n++
		a.heights += int64(b.height)
		a.times += b.time
		a.rewards += int64(b.coinbase.Reward)
	}
	slices.Sort(keys)
	out := make([]mpReward, 0, len(keys))
	for _, k := range keys {
		a := sums[k]
		out = append(out, mpReward{AvgHeight: roundDiv(a.heights, a.n), Timestamp: roundDiv(a.times, a.n),
			AvgRewards: roundDiv(a.rewards, a.n)})
	}
	return out
}

// roundDiv is a/n rounded half away from zero, for n > 0.
func roundDiv(a, n int64) int64 {
	if a < 0 {
		return -roundDiv(-a, n)
	}
	return (2*a + n) / (2 * n)
}
