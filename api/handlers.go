package api

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/report"
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
		h, t := sn.tipHeight, report.Time(sn.tipTime())
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

// handleHashrate answers ?window=W[&at=T] (default 7d at the tip) or
// ?blocks=N[&at_height=H], as `minerscope hashrate` does.
func (s *Server) handleHashrate(r *http.Request, sn *snapshot) (any, error) {
	q := r.URL.Query()
	if err := onlyParams(q, "window", "at", "blocks", "at_height"); err != nil {
		return nil, err
	}
	if q.Has("blocks") || q.Has("at_height") {
		if q.Has("window") || q.Has("at") {
			return nil, badRequest("blocks/at_height and window/at exclude each other")
		}
		return s.hashrateBlocks(q.Get("blocks"), q.Get("at_height"), sn)
	}
	win := 7 * 24 * time.Hour
	if q.Has("window") {
		var err error
		if win, err = parseWindow(q.Get("window")); err != nil {
			return nil, err
		}
	}
	end := sn.tipTime()
	if q.Has("at") {
		t, err := atParam(q.Get("at"))
		if err != nil {
			return nil, err
		}
		end = t
	}
	from := end - int64(win/time.Second)
	est, err := analysis.WindowHashrate(s.p, sn.tail(from), from, end)
	if err != nil {
		return nil, err
	}
	return report.WindowHashrate(est, win, from, end), nil
}

// hashrateBlocks is getnetworkhashps(blocks, at_height).
func (s *Server) hashrateBlocks(blocksArg, atArg string, sn *snapshot) (any, error) {
	blocks, height := 120, sn.tipHeight
	if blocksArg != "" {
		n, err := strconv.Atoi(blocksArg)
		if err != nil || n > 10_000_000 {
			return nil, badRequest(fmt.Sprintf("bad blocks %q: use a number of block intervals (<= 0: since the last retarget)", blocksArg))
		}
		blocks = n
	}
	if atArg != "" {
		h, err := strconv.ParseInt(atArg, 10, 32)
		if err != nil || h < 0 {
			return nil, badRequest(fmt.Sprintf("bad at_height %q: use a block height", atArg))
		}
		if int32(h) > sn.tipHeight {
			return nil, badRequest(fmt.Sprintf("at_height %d is above the index tip %d", h, sn.tipHeight))
		}
		height = int32(h)
	}
	est, err := analysis.NetworkHashPS(s.p, sn.hs, blocks, height)
	if err != nil {
		return nil, err
	}
	return report.BlocksHashrate(est, blocks, height), nil
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
func (s *Server) handleHashrateSeries(r *http.Request, sn *snapshot) (any, error) {
	q := r.URL.Query()
	if err := onlyParams(q, "period"); err != nil {
		return nil, err
	}
	period := q.Get("period")
	if period == "" {
		period = "daily"
	}
	if period != "daily" && period != "weekly" {
		return nil, badRequest(fmt.Sprintf("bad period %q: use daily or weekly", period))
	}
	iv, from, err := intervalParam(r, sn)
	if err != nil {
		return nil, err
	}
	return memoized(sn, "series:"+iv+":"+period, func() (*seriesAnswer, error) {
		lo := max(from+1, sn.hs[0].Time)
		to := sn.tipTime() + 1
		var pts []analysis.SeriesPoint
		if period == "daily" {
			pts = analysis.DailyHashrate(s.p, sn.tail(lo-1), lo, to)
		} else {
			pts = analysis.WeeklyHashrate(s.p, sn.tail(lo-1), lo, to)
		}
		out := &seriesAnswer{Interval: iv, Period: period, From: report.Time(lo), To: report.Time(to),
			Points: make([]seriesPoint, len(pts))}
		for i, pt := range pts {
			e := pt.Estimate
			out.Points[i] = seriesPoint{Start: report.Time(pt.Start), End: report.Time(pt.End), Blocks: pt.Blocks,
				HashrateHS: report.Finite(e.HashesPerSec), LoHS: report.Finite(e.Lo), HiHS: report.Finite(e.Hi),
				FromHeight: e.FromHeight, ToHeight: e.ToHeight}
		}
		return out, nil
	})
}

// handleEpochs answers every epoch, or with ?interval= those that end in it.
func (s *Server) handleEpochs(r *http.Request, sn *snapshot) (any, error) {
	q := r.URL.Query()
	if err := onlyParams(q, "interval"); err != nil {
		return nil, err
	}
	from := int64(math.MinInt64)
	if q.Has("interval") {
		var err error
		if from, err = intervalStart(q.Get("interval"), sn.tipTime()); err != nil {
			return nil, err
		}
	}
	all, err := memoized(sn, "epochs", func() ([]report.Epoch, error) {
		eps, err := analysis.Epochs(s.p, sn.hs)
		return report.Epochs(eps), err
	})
	if err != nil {
		return nil, err
	}
	// An epoch belongs to the interval when a block after its start is in
	// it: its last block is stamped after the start, or it is the current
	// epoch.
	return endingAfter(all, from, func(e report.Epoch) int64 { return sn.hs[e.EndHeight].Time }), nil
}

// handleNextAdjustment projects the next retarget and halving from the tip's
// timestamp, or from ?now= (not before it).
func (s *Server) handleNextAdjustment(r *http.Request, sn *snapshot) (any, error) {
	if err := onlyParams(r.URL.Query(), "now"); err != nil {
		return nil, err
	}
	now, err := nowParam(r, sn)
	if err != nil {
		return nil, err
	}
	return s.nextAdjustment(sn, now)
}

// nextAdjustment is the projection at now, kept per tip when now is the
// tip's timestamp (any other ?now= is computed each time).
func (s *Server) nextAdjustment(sn *snapshot, now int64) (*report.NextAdjustment, error) {
	if now != sn.tipTime() {
		return s.project(sn, now)
	}
	return memoized(sn, "next", func() (*report.NextAdjustment, error) { return s.project(sn, now) })
}

// project runs the projection and shapes its answer.
func (s *Server) project(sn *snapshot, now int64) (*report.NextAdjustment, error) {
	pr, err := analysis.ProjectNextAdjustment(s.p, sn.hs, now)
	if err != nil {
		return nil, err
	}
	if report.LastTime(pr) > report.MaxTime {
		return nil, badRequest(fmt.Sprintf("now %s is too late: the projected dates pass the year 9999, which "+
			"RFC 3339 times cannot hold; give an earlier time", report.Time(now)))
	}
	out := report.NewNextAdjustment(pr)
	return &out, nil
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
		return 0, badRequest(fmt.Sprintf("now %s is before the tip's timestamp %s", report.Time(now),
			report.Time(sn.tipTime())))
	}
	if now > report.MaxTime {
		return 0, badRequest(fmt.Sprintf("bad now %q: it is after the year 9999, which RFC 3339 times cannot "+
			"hold; give an earlier time", q.Get("now")))
	}
	return now, nil
}

// handlePools answers the pools of the interval's blocks with their shares
// and hashrates and 95% intervals.
func (s *Server) handlePools(r *http.Request, sn *snapshot) (any, error) {
	if err := onlyParams(r.URL.Query()); err != nil {
		return nil, err
	}
	pw, err := s.poolWindow(sn, r.PathValue("interval"))
	if err != nil {
		return nil, err
	}
	return report.Pools(pw.shares), nil
}

// outflowsAnswer is GET /api/v1/minerscope/outflows/:interval.
type outflowsAnswer struct {
	Interval string                `json:"interval"`
	Hops     int                   `json:"hops"`
	Period   string                `json:"period"`
	Points   []report.OutflowPoint `json:"points"`
}

// handleOutflows answers the miner flow series of the periods that end in the
// interval. The series runs from the first full block, so reserves and moving
// averages are those of the whole chain, not of the interval alone.
func (s *Server) handleOutflows(r *http.Request, sn *snapshot) (any, error) {
	q := r.URL.Query()
	if err := onlyParams(q, "hops", "period"); err != nil {
		return nil, err
	}
	iv, from, err := intervalParam(r, sn)
	if err != nil {
		return nil, err
	}
	hops, err := hopsParam(q.Get("hops"))
	if err != nil {
		return nil, err
	}
	period := q.Get("period")
	switch period {
	case "":
		period = "daily"
	case "daily", "weekly", "epoch":
	default:
		return nil, badRequest(fmt.Sprintf("bad period %q: use daily, weekly or epoch", period))
	}
	pts, err := memoized(sn, fmt.Sprintf("outflows:%d:%s", hops, period), func() ([]report.OutflowPoint, error) {
		fl, err := s.flows(sn)
		if err != nil {
			return nil, err
		}
		series, err := analysis.FlowSeries(s.p, fl[hops], 0, period, nil)
		if err != nil {
			return nil, err
		}
		out := make([]report.OutflowPoint, len(series))
		for i, p := range series {
			out[i] = report.NewOutflowPoint(p)
		}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	// A period belongs to the interval when it ends after the interval's
	// start; the last one always does.
	ends := func(p report.OutflowPoint) int64 {
		end, _ := time.Parse(time.RFC3339, p.End)
		return end.Unix()
	}
	return outflowsAnswer{Interval: iv, Hops: hops, Period: period, Points: endingAfter(pts, from, ends)}, nil
}

// endingAfter returns the items whose end, as end gives it, is after from,
// and the last item in any case, the one still running at the tip; never
// nil, so that JSON gets an empty array.
func endingAfter[T any](items []T, from int64, end func(T) int64) []T {
	out := []T{}
	for i, it := range items {
		if end(it) > from || i == len(items)-1 {
			out = append(out, it)
		}
	}
	return out
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
func (s *Server) handleReserve(r *http.Request, sn *snapshot) (any, error) {
	q := r.URL.Query()
	if err := onlyParams(q, "hops"); err != nil {
		return nil, err
	}
	hops, err := hopsParam(q.Get("hops"))
	if err != nil {
		return nil, err
	}
	total, from, err := s.reserveAt(sn, hops)
	if err != nil {
		return nil, err
	}
	return reserveAnswer{Height: sn.tipHeight, Time: report.Time(sn.tipTime()), Hops: hops, ReserveSat: total,
		FromHeight: from}, nil
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

// intervalParam is the {interval} of the path, "all" when the route has
// none, and the start of that interval ending at the tip's timestamp.
func intervalParam(r *http.Request, sn *snapshot) (string, int64, error) {
	iv := r.PathValue("interval")
	if iv == "" {
		iv = "all"
	}
	from, err := intervalStart(iv, sn.tipTime())
	return iv, from, err
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

// parseWindow parses a window length as the CLI's --window does
// (analysis.ParseWindow), at most 100 years.
func parseWindow(s string) (time.Duration, error) {
	d, err := analysis.ParseWindow(s)
	switch {
	case errors.Is(err, analysis.ErrWindowTooLong):
		return 0, badRequest(fmt.Sprintf("window %q out of range: at most 100 years (36500d)", s))
	case err != nil:
		return 0, badRequest(fmt.Sprintf("bad window %q: use a length like 24h, 7d or 30d", s))
	}
	return d, nil
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

// atParam parses ?at=, the time a figure is computed or claimed at, as
// parseTime, and refuses a time before 1970: no block is that old, and a
// window ending then could reach before the year 0, which no RFC 3339 time
// holds.
func atParam(s string) (int64, error) {
	t, err := parseTime("at", s)
	if err == nil {
		err = notBefore1970("at", s, t)
	}
	return t, err
}

// notBefore1970 refuses t, parameter name's value s, when it is before 1970.
func notBefore1970(name, s string, t int64) error {
	if t < 0 {
		return badRequest(fmt.Sprintf("bad %s %q: it is before 1970, long before the genesis block", name, s))
	}
	return nil
}
