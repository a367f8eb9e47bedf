package report

import (
	"fmt"
	"math"
	"time"

	"github.com/minerscope/minerscope/analysis"
)

// Hashrate is one estimate: `minerscope hashrate --json`, the rows of its
// --series, and GET /api/v1/minerscope/hashrate.
type Hashrate struct {
	HashrateHS  float64 `json:"hashrate_hs"`
	LoHS        float64 `json:"lo_hs"`
	HiHS        float64 `json:"hi_hs"`
	HasInterval bool    `json:"has_interval"`
	FromHeight  int32   `json:"from_height"`
	ToHeight    int32   `json:"to_height"`
	FromTime    string  `json:"from_time"`
	ToTime      string  `json:"to_time"`
	Intervals   int     `json:"intervals"`
	Seconds     int64   `json:"seconds"`
	Work        string  `json:"work"`
	Method      string  `json:"method,omitempty"`
	WindowStart string  `json:"window_start,omitempty"`
	WindowEnd   string  `json:"window_end,omitempty"`
}

// NewHashrate shapes e, without a method or window.
func NewHashrate(e analysis.Estimate) Hashrate {
	work := "0"
	if e.Work != nil {
		work = e.Work.String()
	}
	return Hashrate{
		HashrateHS: Finite(e.HashesPerSec), LoHS: Finite(e.Lo), HiHS: Finite(e.Hi), HasInterval: e.HasInterval,
		FromHeight: e.FromHeight, ToHeight: e.ToHeight, FromTime: Time(e.FromTime), ToTime: Time(e.ToTime),
		Intervals: e.Intervals, Seconds: e.Seconds, Work: work,
	}
}

// WindowHashrate shapes e, the estimate of the window (from, to] of length
// win, saying how it was computed.
func WindowHashrate(e analysis.Estimate, win time.Duration, from, to int64) Hashrate {
	out := NewHashrate(e)
	out.Method = fmt.Sprintf("window %s: work of the blocks stamped in (%s, %s] / %d s", Window(win), Time(from),
		Time(to), to-from)
	out.WindowStart, out.WindowEnd = Time(from), Time(to)
	return out
}

// BlocksHashrate shapes e, getnetworkhashps(blocks, height), saying how it
// was computed.
func BlocksHashrate(e analysis.Estimate, blocks int, height int32) Hashrate {
	out := NewHashrate(e)
	out.Method = fmt.Sprintf("getnetworkhashps(%d, %d): work / (max time - min time)", blocks, height)
	return out
}

// Epoch is one difficulty epoch: a row of `minerscope epochs --json` and of
// GET /api/v1/minerscope/epochs.
type Epoch struct {
	Epoch        int32   `json:"epoch"`
	StartHeight  int32   `json:"start_height"`
	EndHeight    int32   `json:"end_height"`
	StartTime    string  `json:"start_time"`
	EndTime      string  `json:"end_time"`
	Bits         string  `json:"bits"`
	Difficulty   float64 `json:"difficulty"`
	ChangePct    float64 `json:"change_pct"`
	DurationS    int64   `json:"duration_s"`
	HashrateHS   float64 `json:"hashrate_hs"`
	HashrateLoHS float64 `json:"hashrate_lo_hs"`
	HashrateHiHS float64 `json:"hashrate_hi_hs"`
	Complete     bool    `json:"complete"`
}

// Epochs shapes eps.
func Epochs(eps []analysis.Epoch) []Epoch {
	out := make([]Epoch, len(eps))
	for i, e := range eps {
		out[i] = Epoch{Epoch: e.Number, StartHeight: e.StartHeight, EndHeight: e.EndHeight,
			StartTime: Time(e.StartTime), EndTime: Time(e.EndTime), Bits: Bits(e.Bits), Difficulty: e.Difficulty,
			ChangePct: Finite(e.ChangePct), DurationS: e.DurationS, HashrateHS: Finite(e.Hashrate.HashesPerSec),
			HashrateLoHS: Finite(e.Hashrate.Lo), HashrateHiHS: Finite(e.Hashrate.Hi), Complete: e.Complete}
	}
	return out
}

// NextAdjustment is the projection of the next retarget and halving:
// `minerscope next-adjustment --json` and GET
// /api/v1/minerscope/next-adjustment.
type NextAdjustment struct {
	Now                    string   `json:"now"`
	TipHeight              int32    `json:"tip_height"`
	NextRetargetHeight     int32    `json:"next_retarget_height"`
	BlocksRemaining        int32    `json:"blocks_remaining"` // until the epoch's last block, which fixes the new difficulty
	CurrentDifficulty      float64  `json:"current_difficulty"`
	ProjectedDifficulty    float64  `json:"projected_difficulty"`
	ChangePct              float64  `json:"change_pct"`
	ChangeLoPct            float64  `json:"change_lo_pct"`
	ChangeHiPct            float64  `json:"change_hi_pct"`
	Date                   string   `json:"date"`
	DateLo                 string   `json:"date_lo"`
	DateHi                 string   `json:"date_hi"`
	Rate                   Hashrate `json:"rate"`
	HalvingHeight          int32    `json:"halving_height"`
	HalvingBlocksRemaining int32    `json:"halving_blocks_remaining"` // up to and including the halving block
	HalvingDate            string   `json:"halving_date"`
	HalvingDateLo          string   `json:"halving_date_lo"`
	HalvingDateHi          string   `json:"halving_date_hi"`
}

// NewNextAdjustment shapes pr.
func NewNextAdjustment(pr analysis.Projection) NextAdjustment {
	return NextAdjustment{
		Now: Time(pr.Now), TipHeight: pr.TipHeight, NextRetargetHeight: pr.NextRetargetHeight,
		BlocksRemaining: pr.BlocksRemaining, CurrentDifficulty: pr.CurrentDifficulty,
		ProjectedDifficulty: Finite(pr.ProjectedDifficulty), ChangePct: Finite(pr.ChangePct),
		ChangeLoPct: Finite(pr.ChangeLoPct), ChangeHiPct: Finite(pr.ChangeHiPct), Date: Time(pr.Date),
		DateLo: Time(pr.DateLo), DateHi: Time(pr.DateHi), Rate: NewHashrate(pr.Rate),
		HalvingHeight: pr.HalvingHeight, HalvingBlocksRemaining: pr.HalvingBlocksRemaining,
		HalvingDate: Time(pr.HalvingDate), HalvingDateLo: Time(pr.HalvingDateLo), HalvingDateHi: Time(pr.HalvingDateHi),
	}
}

// Pool is one pool's part of a window's blocks: a row of `minerscope pools
// --json` and of GET /api/v1/minerscope/pools/:interval.
type Pool struct {
	Pool         string  `json:"pool"`
	Blocks       int     `json:"blocks"`
	Share        float64 `json:"share"`
	ShareLo      float64 `json:"share_lo"`
	ShareHi      float64 `json:"share_hi"`
	HashrateHS   float64 `json:"hashrate_hs"`
	HashrateLoHS float64 `json:"hashrate_lo_hs"`
	HashrateHiHS float64 `json:"hashrate_hi_hs"`
	ByAddress    int     `json:"by_address"`
	ByTag        int     `json:"by_tag"`
	EmptyBlocks  int     `json:"empty_blocks"`
}

// Pools shapes shares.
func Pools(shares []analysis.PoolShare) []Pool {
	out := make([]Pool, len(shares))
	for i, s := range shares {
		out[i] = Pool{Pool: s.Pool, Blocks: s.Blocks, Share: Finite(s.Share), ShareLo: Finite(s.ShareLo),
			ShareHi: Finite(s.ShareHi), HashrateHS: Finite(s.Hashrate), HashrateLoHS: Finite(s.HashrateLo),
			HashrateHiHS: Finite(s.HashrateHi), ByAddress: s.ByAddress, ByTag: s.ByTag, EmptyBlocks: s.Empty}
	}
	return out
}

// OutflowPoint is one period of the miner flow series: a row of `minerscope
// outflows --series … --json` and a point of GET
// /api/v1/minerscope/outflows/:interval.
type OutflowPoint struct {
	Period            string   `json:"period"`
	Start             string   `json:"start"`
	End               string   `json:"end"`
	FromHeight        int32    `json:"from_height"`
	ToHeight          int32    `json:"to_height"`
	Blocks            int      `json:"blocks"`
	OutflowSat        int64    `json:"outflow_sat"`
	InternalSat       int64    `json:"internal_sat"`
	InflowSat         int64    `json:"inflow_sat"`
	CoinbaseInflowSat int64    `json:"coinbase_inflow_sat"`
	MinerFeeSat       int64    `json:"miner_fee_sat"`
	LostSat           int64    `json:"lost_sat"`
	ReserveSat        int64    `json:"reserve_sat"`
	NetChangeSat      int64    `json:"net_change_sat"`
	RevenueSat        int64    `json:"revenue_sat"`
	OutflowMultiple   *float64 `json:"outflow_multiple"`
	MADays            int      `json:"ma_days"`
	OutflowToRevenue  *float64 `json:"outflow_revenue_ratio"`
	SpendingTxs       int64    `json:"spending_txs"`
}

// NewOutflowPoint shapes p.
func NewOutflowPoint(p analysis.FlowPoint) OutflowPoint {
	return OutflowPoint{Period: p.Label, Start: Time(p.Start), End: Time(p.End), FromHeight: p.FromHeight,
		ToHeight: p.ToHeight, Blocks: p.Blocks, OutflowSat: int64(p.Outflow), InternalSat: int64(p.Internal),
		InflowSat: int64(p.Inflow), CoinbaseInflowSat: int64(p.CoinbaseInflow), MinerFeeSat: int64(p.MinerFee),
		LostSat: int64(p.Lost), ReserveSat: int64(p.Reserve), NetChangeSat: int64(p.NetChange),
		RevenueSat: int64(p.Revenue), OutflowMultiple: OptFloat(p.OutflowMultiple), MADays: p.MADays,
		OutflowToRevenue: OptFloat(p.OutflowToRevenue), SpendingTxs: p.SpendingTxs}
}

// MaxTime is the last second RFC 3339 writes, 9999-12-31T23:59:59Z: a later
// time prints with a five-digit year, which no RFC 3339 parser reads.
const MaxTime int64 = 253402300799

// LastTime is the latest time a projection shows; it prints only when that
// is at most MaxTime.
func LastTime(pr analysis.Projection) int64 {
	return max(pr.Now, pr.Date, pr.DateLo, pr.DateHi, pr.HalvingDate, pr.HalvingDateLo, pr.HalvingDateHi)
}

// Time formats unix seconds as ISO 8601 UTC, the one time format of every
// output.
func Time(unix int64) string {
	return time.Unix(unix, 0).UTC().Format(time.RFC3339)
}

// Bits formats a compact target as 8 hex digits.
func Bits(bits uint32) string {
	return fmt.Sprintf("%08x", bits)
}

// Window formats a window length in the units the --window flag and the
// ?window= parameter accept: days, else hours, else a Go duration.
func Window(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	default:
		return d.String()
	}
}

// Finite is f, or 0 when f is NaN or infinite, which JSON cannot carry.
func Finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// OptFloat is f, or nil (JSON null) when f is NaN or infinite.
func OptFloat(f float64) *float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}
