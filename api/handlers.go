package api

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/minerscope/minerscope/analysis"
)

// statusAnswer is GET /api/v1/minerscope/status.
type statusAnswer struct {
	Network     string  `json:"network"`
	IndexHeight *int32  `json:"index_height"` // null while the index is empty
	IndexHash   string  `json:"index_hash"`
	IndexTime   *string `json:"index_time"`
	BlocksFrom  *int32  `json:"blocks_from"` // first height with full block data; null for headers only
	FullBlocks  bool    `json:"full_blocks"` // the index keeps full blocks (from blocks_from on)
	NodeHeight  *int32  `json:"node_height"` // null until a sync reached the node
	LastSync    *string `json:"last_sync"`
	LastError   string  `json:"last_error"`
	SyncErrors  int     `json:"sync_errors"`
	Following   bool    `json:"following"` // serve is following the node
}

// handleStatus answers even while the index is empty.
func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	sn, err := s.current()
	if err != nil {
		s.writeError(w, err)
		return
	}
	out := statusAnswer{Network: s.p.Name}
	if !sn.empty() {
		h, t := sn.tipHeight, isoTime(sn.tipTime())
		out.IndexHeight, out.IndexHash, out.IndexTime = &h, sn.tipHash.String(), &t
	}
	if from, full := s.db.BlocksFrom(); full {
		out.BlocksFrom, out.FullBlocks = &from, true
	}
	st, following := s.syncState()
	out.Following, out.LastError, out.SyncErrors = following, st.LastError, st.SyncErrors
	if !st.LastSync.IsZero() {
		nh, ls := st.NodeHeight, st.LastSync.UTC().Format(time.RFC3339)
		out.NodeHeight, out.LastSync = &nh, &ls
	}
	s.writeJSON(w, out)
}

// hashrateAnswer is one estimate, as `minerscope hashrate --json` prints it.
type hashrateAnswer struct {
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

func toHashrateAnswer(e analysis.Estimate) hashrateAnswer {
	work := "0"
	if e.Work != nil {
		work = e.Work.String()
	}
	return hashrateAnswer{
		HashrateHS: finite(e.HashesPerSec), LoHS: finite(e.Lo), HiHS: finite(e.Hi), HasInterval: e.HasInterval,
		FromHeight: e.FromHeight, ToHeight: e.ToHeight, FromTime: isoTime(e.FromTime), ToTime: isoTime(e.ToTime),
		Intervals: e.Intervals, Seconds: e.Seconds, Work: work,
	}
}

// handleHashrate answers ?window=W[&at=T] (default 7d at the tip) or
// ?blocks=N[&at_height=H], as `minerscope hashrate` does.
func (s *Server) handleHashrate(w http.ResponseWriter, r *http.Request, sn *snapshot) error {
	q := r.URL.Query()
	if err := onlyParams(q, "window", "at", "blocks", "at_height"); err != nil {
		return err
	}
	if q.Has("blocks") || q.Has("at_height") {
		if q.Has("window") || q.Has("at") {
			return badRequest("blocks/at_height and window/at exclude each other")
		}
		return s.hashrateBlocks(w, q.Get("blocks"), q.Get("at_height"), sn)
	}
	win := 7 * 24 * time.Hour
	if q.Has("window") {
		var err error
		if win, err = parseWindow(q.Get("window")); err != nil {
			return err
		}
	}
	end := sn.tipTime()
	if q.Has("at") {
		t, err := parseTime("at", q.Get("at"))
		if err != nil {
			return err
		}
		end = t
	}
	from := end - int64(win/time.Second)
	est, err := analysis.WindowHashrate(s.p, sn.tail(from), from, end)
	if err != nil {
		return err
	}
	out := toHashrateAnswer(est)
	out.Method = fmt.Sprintf("window %s: work of the blocks stamped in (%s, %s] / %d s", fmtWindow(win),
		isoTime(from), isoTime(end), end-from)
	out.WindowStart, out.WindowEnd = isoTime(from), isoTime(end)
	s.writeJSON(w, out)
	return nil
}

// hashrateBlocks is getnetworkhashps(blocks, at_height).
func (s *Server) hashrateBlocks(w http.ResponseWriter, blocksArg, atArg string, sn *snapshot) error {
	blocks, height := 120, sn.tipHeight
	if blocksArg != "" {
		n, err := strconv.Atoi(blocksArg)
		if err != nil || n > 10_000_000 {
			return badRequest(fmt.Sprintf("bad blocks %q: use a number of block intervals (<= 0: since the last retarget)", blocksArg))
		}
		blocks = n
	}
	if atArg != "" {
		h, err := strconv.ParseInt(atArg, 10, 32)
		if err != nil || h < 0 {
			return badRequest(fmt.Sprintf("bad at_height %q: use a block height", atArg))
		}
		if int32(h) > sn.tipHeight {
			return badRequest(fmt.Sprintf("at_height %d is above the index tip %d", h, sn.tipHeight))
		}
		height = int32(h)
	}
	est, err := analysis.NetworkHashPS(s.p, sn.hs, blocks, height)
	if err != nil {
		return err
	}
	out := toHashrateAnswer(est)
	out.Method = fmt.Sprintf("getnetworkhashps(%d, %d): work / (max time - min time)", blocks, height)
	s.writeJSON(w, out)
	return nil
}

// seriesPoint is one period of the hashrate series.
type seriesPoint struct {
	Start      string  `json:"start"`
	End        string  `json:"end"`
	Blocks     int     `json:"blocks"`
	HashrateHS float64 `json:"hashrate_hs"`
	LoHS       float64 `json:"lo_hs"`
	HiHS       float64 `json:"hi_hs"`
	FromHeight int32   `json:"from_height"` // -1 when no block fell in the period
	ToHeight   int32   `json:"to_height"`
}

// seriesAnswer is GET /api/v1/minerscope/hashrate/series/:interval.
type seriesAnswer struct {
	Interval string        `json:"interval"`
	Period   string        `json:"period"`
	From     string        `json:"from"`
	To       string        `json:"to"`
	Points   []seriesPoint `json:"points"`
}

// handleHashrateSeries answers one estimate per UTC day or ISO week meeting
// the interval; the first and last periods may be partial.
func (s *Server) handleHashrateSeries(w http.ResponseWriter, r *http.Request, sn *snapshot) error {
	q := r.URL.Query()
	if err := onlyParams(q, "period"); err != nil {
		return err
	}
	iv, period := r.PathValue("interval"), q.Get("period")
	if period == "" {
		period = "daily"
	}
	if period != "daily" && period != "weekly" {
		return badRequest(fmt.Sprintf("bad period %q: use daily or weekly", period))
	}
	from, err := intervalStart(iv, sn.tipTime())
	if err != nil {
		return err
	}
	out, err := memoized(sn, "series:"+iv+":"+period, func() (*seriesAnswer, error) {
		lo := max(from+1, sn.hs[0].Time)
		to := sn.tipTime() + 1
		var pts []analysis.SeriesPoint
		if period == "daily" {
			pts = analysis.DailyHashrate(s.p, sn.tail(lo-1), lo, to)
		} else {
			pts = analysis.WeeklyHashrate(s.p, sn.tail(lo-1), lo, to)
		}
		out := &seriesAnswer{Interval: iv, Period: period, From: isoTime(lo), To: isoTime(to),
			Points: make([]seriesPoint, len(pts))}
		for i, pt := range pts {
			e := pt.Estimate
			out.Points[i] = seriesPoint{Start: isoTime(pt.Start), End: isoTime(pt.End), Blocks: pt.Blocks,
				HashrateHS: finite(e.HashesPerSec), LoHS: finite(e.Lo), HiHS: finite(e.Hi),
				FromHeight: e.FromHeight, ToHeight: e.ToHeight}
		}
		return out, nil
	})
	if err != nil {
		return err
	}
	s.writeJSON(w, out)
	return nil
}

// epochAnswer is one epoch, as `minerscope epochs --json` prints it.
type epochAnswer struct {
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

// handleEpochs answers every epoch, or with ?interval= those that end in it.
func (s *Server) handleEpochs(w http.ResponseWriter, r *http.Request, sn *snapshot) error {
	q := r.URL.Query()
	if err := onlyParams(q, "interval"); err != nil {
		return err
	}
	from := int64(math.MinInt64)
	if q.Has("interval") {
		var err error
		if from, err = intervalStart(q.Get("interval"), sn.tipTime()); err != nil {
			return err
		}
	}
	all, err := memoized(sn, "epochs", func() ([]epochAnswer, error) {
		eps, err := analysis.Epochs(s.p, sn.hs)
		if err != nil {
			return nil, err
		}
		out := make([]epochAnswer, len(eps))
		for i, e := range eps {
			out[i] = epochAnswer{Epoch: e.Number, StartHeight: e.StartHeight, EndHeight: e.EndHeight,
				StartTime: isoTime(e.StartTime), EndTime: isoTime(e.EndTime), Bits: fmt.Sprintf("%08x", e.Bits),
				Difficulty: e.Difficulty, ChangePct: finite(e.ChangePct), DurationS: e.DurationS,
				HashrateHS: finite(e.Hashrate.HashesPerSec), HashrateLoHS: finite(e.Hashrate.Lo),
				HashrateHiHS: finite(e.Hashrate.Hi), Complete: e.Complete}
		}
		return out, nil
	})
	if err != nil {
		return err
	}
	out := []epochAnswer{}
	for i, e := range all {
		// An epoch belongs to the interval when a block after its start
		// is in it: its last block is stamped after the start, or it is
		// the current epoch.
		if sn.hs[e.EndHeight].Time > from || i == len(all)-1 {
			out = append(out, e)
		}
	}
	s.writeJSON(w, out)
	return nil
}

// nextAdjustmentAnswer is `minerscope next-adjustment --json`.
type nextAdjustmentAnswer struct {
	Now                    string         `json:"now"`
	TipHeight              int32          `json:"tip_height"`
	NextRetargetHeight     int32          `json:"next_retarget_height"`
	BlocksRemaining        int32          `json:"blocks_remaining"`
	CurrentDifficulty      float64        `json:"current_difficulty"`
	ProjectedDifficulty    float64        `json:"projected_difficulty"`
	ChangePct              float64        `json:"change_pct"`
	ChangeLoPct            float64        `json:"change_lo_pct"`
	ChangeHiPct            float64        `json:"change_hi_pct"`
	Date                   string         `json:"date"`
	DateLo                 string         `json:"date_lo"`
	DateHi                 string         `json:"date_hi"`
	Rate                   hashrateAnswer `json:"rate"`
	HalvingHeight          int32          `json:"halving_height"`
	HalvingBlocksRemaining int32          `json:"halving_blocks_remaining"`
	HalvingDate            string         `json:"halving_date"`
	HalvingDateLo          string         `json:"halving_date_lo"`
	HalvingDateHi          string         `json:"halving_date_hi"`
}

// handleNextAdjustment projects the next retarget and halving from the tip's
// timestamp, or from ?now= (not before it).
func (s *Server) handleNextAdjustment(w http.ResponseWriter, r *http.Request, sn *snapshot) error {
	if err := onlyParams(r.URL.Query(), "now"); err != nil {
		return err
	}
	now, err := nowParam(r, sn)
	if err != nil {
		return err
	}
	out, err := s.nextAdjustment(sn, now)
	if err != nil {
		return err
	}
	s.writeJSON(w, out)
	return nil
}

// nextAdjustment is the projection at now, kept per tip when now is the
// tip's timestamp (any other ?now= is computed each time).
func (s *Server) nextAdjustment(sn *snapshot, now int64) (*nextAdjustmentAnswer, error) {
	if now != sn.tipTime() {
		return s.project(sn, now)
	}
	return memoized(sn, "next", func() (*nextAdjustmentAnswer, error) { return s.project(sn, now) })
}

// project runs the projection and shapes its answer.
func (s *Server) project(sn *snapshot, now int64) (*nextAdjustmentAnswer, error) {
	pr, err := analysis.ProjectNextAdjustment(s.p, sn.hs, now)
	if err != nil {
		return nil, err
	}
	return &nextAdjustmentAnswer{
		Now: isoTime(pr.Now), TipHeight: pr.TipHeight, NextRetargetHeight: pr.NextRetargetHeight,
		BlocksRemaining: pr.BlocksRemaining, CurrentDifficulty: pr.CurrentDifficulty,
		ProjectedDifficulty: finite(pr.ProjectedDifficulty), ChangePct: finite(pr.ChangePct),
		ChangeLoPct: finite(pr.ChangeLoPct), ChangeHiPct: finite(pr.ChangeHiPct), Date: isoTime(pr.Date),
		DateLo: isoTime(pr.DateLo), DateHi: isoTime(pr.DateHi), Rate: toHashrateAnswer(pr.Rate),
		HalvingHeight: pr.HalvingHeight, HalvingBlocksRemaining: pr.HalvingBlocksRemaining,
		HalvingDate: isoTime(pr.HalvingDate), HalvingDateLo: isoTime(pr.HalvingDateLo),
		HalvingDateHi: isoTime(pr.HalvingDateHi),
	}, nil
}

// nowParam is ?now= as unix seconds, the tip's timestamp by default; a time
// before the tip's is a 400.
func nowParam(r *http.Request, sn *snapshot) (int64, error) {
	q := r.URL.Query()
	if !q.Has("now") {
		return sn.tipTime(), nil
	}
	now, err := parseTime("now", q.Get("now"))
	if err != nil {
		return 0, err
	}
	if now < sn.tipTime() {
		return 0, badRequest(fmt.Sprintf("now %s is before the tip's timestamp %s", isoTime(now), isoTime(sn.tipTime())))
	}
	return now, nil
}

// poolAnswer is one pool, as `minerscope pools --json` prints it.
type poolAnswer struct {
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

// handlePools answers the pools of the interval's blocks with their shares
// and hashrates and 95% intervals.
func (s *Server) handlePools(w http.ResponseWriter, r *http.Request, sn *snapshot) error {
	if err := onlyParams(r.URL.Query()); err != nil {
		return err
	}
	pw, err := s.poolWindow(sn, r.PathValue("interval"))
	if err != nil {
		return err
	}
	out := make([]poolAnswer, len(pw.shares))
	for i, ps := range pw.shares {
		out[i] = poolAnswer{Pool: ps.Pool, Blocks: ps.Blocks, Share: finite(ps.Share), ShareLo: finite(ps.ShareLo),
			ShareHi: finite(ps.ShareHi), HashrateHS: finite(ps.Hashrate), HashrateLoHS: finite(ps.HashrateLo),
			HashrateHiHS: finite(ps.HashrateHi), ByAddress: ps.ByAddress, ByTag: ps.ByTag, EmptyBlocks: ps.Empty}
	}
	s.writeJSON(w, out)
	return nil
}

// outflowPoint is one period, as `minerscope outflows --series … --json`
// prints it.
type outflowPoint struct {
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

// outflowsAnswer is GET /api/v1/minerscope/outflows/:interval.
type outflowsAnswer struct {
	Interval string         `json:"interval"`
	Hops     int            `json:"hops"`
	Period   string         `json:"period"`
	Points   []outflowPoint `json:"points"`
}

// handleOutflows answers the miner flow series of the periods that end in the
// interval. The series runs from the first full block, so reserves and moving
// averages are those of the whole chain, not of the interval alone.
func (s *Server) handleOutflows(w http.ResponseWriter, r *http.Request, sn *snapshot) error {
	q := r.URL.Query()
	if err := onlyParams(q, "hops", "period"); err != nil {
		return err
	}
	iv := r.PathValue("interval")
	from, err := intervalStart(iv, sn.tipTime())
	if err != nil {
		return err
	}
	hops, err := hopsParam(q.Get("hops"))
	if err != nil {
		return err
	}
	period := q.Get("period")
	switch period {
	case "":
		period = "daily"
	case "daily", "weekly", "epoch":
	default:
		return badRequest(fmt.Sprintf("bad period %q: use daily, weekly or epoch", period))
	}
	pts, err := memoized(sn, fmt.Sprintf("outflows:%d:%s", hops, period), func() ([]outflowPoint, error) {
		fl, err := s.flows(sn)
		if err != nil {
			return nil, err
		}
		series, err := analysis.FlowSeries(s.p, fl[hops], 0, period, nil)
		if err != nil {
			return nil, err
		}
		out := make([]outflowPoint, len(series))
		for i, p := range series {
			out[i] = outflowPoint{Period: p.Label, Start: isoTime(p.Start), End: isoTime(p.End),
				FromHeight: p.FromHeight, ToHeight: p.ToHeight, Blocks: p.Blocks, OutflowSat: int64(p.Outflow),
				InternalSat: int64(p.Internal), InflowSat: int64(p.Inflow), CoinbaseInflowSat: int64(p.CoinbaseInflow),
				MinerFeeSat: int64(p.MinerFee), LostSat: int64(p.Lost), ReserveSat: int64(p.Reserve),
				NetChangeSat: int64(p.NetChange), RevenueSat: int64(p.Revenue),
				OutflowMultiple: optFloat(p.OutflowMultiple), MADays: p.MADays,
				OutflowToRevenue: optFloat(p.OutflowToRevenue), SpendingTxs: p.SpendingTxs}
		}
		return out, nil
	})
	if err != nil {
		return err
	}
	out := outflowsAnswer{Interval: iv, Hops: hops, Period: period, Points: []outflowPoint{}}
	for i, p := range pts {
		// A period belongs to the interval when it ends after the
		// interval's start; the last one always does.
		if end, _ := time.Parse(time.RFC3339, p.End); end.Unix() > from || i == len(pts)-1 {
			out.Points = append(out.Points, p)
		}
	}
	s.writeJSON(w, out)
	return nil
}

// reserveAnswer is GET /api/v1/minerscope/reserve.
type reserveAnswer struct {
	Height     int32  `json:"height"`
	Time       string `json:"time"`
	Hops       int    `json:"hops"`
	ReserveSat int64  `json:"reserve_sat"`
	FromHeight int32  `json:"tracked_from_height"`
}

// handleReserve answers the value the miner set holds after the tip.
func (s *Server) handleReserve(w http.ResponseWriter, r *http.Request, sn *snapshot) error {
	q := r.URL.Query()
	if err := onlyParams(q, "hops"); err != nil {
		return err
	}
	hops, err := hopsParam(q.Get("hops"))
	if err != nil {
		return err
	}
	total, from, err := s.reserveAt(sn, hops)
	if err != nil {
		return err
	}
	s.writeJSON(w, reserveAnswer{Height: sn.tipHeight, Time: isoTime(sn.tipTime()), Hops: hops,
		ReserveSat: total, FromHeight: from})
	return nil
}

// hopsParam parses ?hops=, 0 by default.
func hopsParam(s string) (int, error) {
	switch s {
	case "", "0":
		return 0, nil
	case "1":
		return 1, nil
	}
	return 0, badRequest(fmt.Sprintf("bad hops %q: use 0 (coinbase scripts) or 1 (and the scripts they pay)", s))
}

// onlyParams refuses query parameters an endpoint does not take, so that a
// typo is a 400 rather than silently ignored.
func onlyParams(q map[string][]string, allowed ...string) error {
	for k := range q {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			if len(allowed) == 0 {
				return badRequest(fmt.Sprintf("unknown parameter %q: this endpoint takes none", k))
			}
			return badRequest(fmt.Sprintf("unknown parameter %q: this endpoint takes %s", k, strings.Join(allowed, ", ")))
		}
	}
	return nil
}

// parseWindow parses a window length like the CLI's --window: a positive
// whole number followed by s, m, h, d or w, or a Go duration.
func parseWindow(s string) (time.Duration, error) {
	bad := badRequest(fmt.Sprintf("bad window %q: use a length like 24h, 7d or 30d", s))
	if s == "" {
		return 0, bad
	}
	units := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}
	if u, ok := units[s[len(s)-1]]; ok {
		if n, err := strconv.ParseInt(s[:len(s)-1], 10, 64); err == nil {
			if n <= 0 || n > 100*365 || time.Duration(n)*u > 100*365*24*time.Hour {
				return 0, bad
			}
			return time.Duration(n) * u, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d%time.Second != 0 {
		return 0, bad
	}
	return d, nil
}

// fmtWindow prints a window in the units parseWindow accepts.
func fmtWindow(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	default:
		return d.String()
	}
}

// parseTime parses the parameter name's value like the CLI's --at: RFC 3339,
// a date (its 00:00:00 UTC) or unix seconds.
func parseTime(name, s string) (int64, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.Unix(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.Unix(), nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 && n < 1<<40 {
		return n, nil
	}
	return 0, badRequest(fmt.Sprintf("bad %s %q: use 2025-10-15, 2025-10-15T12:00:00Z or unix seconds", name, s))
}
