package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/report"
)

// metrics is the Server's private Prometheus registry: the chain figures,
// computed at scrape time from the snapshot at the tip, the sync state, the
// HTTP request counters, and the Go and process collectors.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "minerscope_http_requests_total",
			Help: "HTTP requests answered, by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "minerscope_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
	}
	m.reg.MustRegister(m.requests, m.duration, &chainCollector{s: s},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe counts one answered request.
func (m *metrics) observe(route, code string, d time.Duration) {
	m.requests.WithLabelValues(route, code).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

var (
	descIndexHeight = prometheus.NewDesc("minerscope_index_height",
		"Height of the index's tip.", nil, nil)
	descNodeHeight = prometheus.NewDesc("minerscope_node_height",
		"Height of the node at the last sync; absent until a sync reached it.", nil, nil)
	descSinceBlock = prometheus.NewDesc("minerscope_seconds_since_last_block",
		"Wall-clock seconds since the tip's timestamp.", nil, nil)
	descHashrate = prometheus.NewDesc("minerscope_hashrate_hs",
		"Network hashrate (H/s) over the window ending at the tip's timestamp: the estimate and its exact 95% bounds.",
		[]string{"window", "bound"}, nil)
	descDifficulty = prometheus.NewDesc("minerscope_difficulty",
		"Difficulty of the tip.", nil, nil)
	descToRetarget = prometheus.NewDesc("minerscope_blocks_to_retarget",
		"Blocks still to be mined up to the current epoch's last block.", nil, nil)
	descChangePct = prometheus.NewDesc("minerscope_projected_difficulty_change_pct",
		"Projected difficulty change at the next retarget, percent (median projection).", nil, nil)
	descOutflowDay = prometheus.NewDesc("minerscope_outflow_last_day_sat",
		"Miner outflow (satoshis) of the blocks stamped in the 24 hours up to the tip's timestamp.",
		[]string{"hops"}, nil)
	descReserve = prometheus.NewDesc("minerscope_reserve_sat",
		"Miner reserve (satoshis) after the tip.", []string{"hops"}, nil)
	descSyncErrors = prometheus.NewDesc("minerscope_sync_errors_total",
		"Failed sync passes since the start.", nil, nil)
)

// chainCollector computes the chain metrics when Prometheus scrapes. Figures
// it cannot compute (an empty index, headers only) are left out, not zeroed.
type chainCollector struct{ s *Server }

func (c *chainCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descIndexHeight, descNodeHeight, descSinceBlock, descHashrate,
		descDifficulty, descToRetarget, descChangePct, descOutflowDay, descReserve, descSyncErrors} {
		ch <- d
	}
}

func (c *chainCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	st, _ := s.syncState()
	ch <- prometheus.MustNewConstMetric(descSyncErrors, prometheus.CounterValue, float64(st.SyncErrors))
	if !st.LastSync.IsZero() {
		ch <- prometheus.MustNewConstMetric(descNodeHeight, prometheus.GaugeValue, float64(st.NodeHeight))
	}
	sn, err := s.current()
	if err != nil || sn.empty() {
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	tipTime := sn.tipTime()
	gauge(descIndexHeight, float64(sn.tipHeight))
	gauge(descSinceBlock, s.now().Sub(time.Unix(tipTime, 0)).Seconds())
	gauge(descDifficulty, analysis.Difficulty(sn.hs[sn.tipHeight].Bits))
	for _, w := range []struct {
		name string
		secs int64
	}{{"1d", 86400}, {"7d", 7 * 86400}} {
		from := tipTime - w.secs
		if est, err := analysis.WindowHashrate(s.p, sn.tail(from), from, tipTime); err == nil {
			gauge(descHashrate, report.Finite(est.HashesPerSec), w.name, "estimate")
			if est.HasInterval {
				gauge(descHashrate, report.Finite(est.Lo), w.name, "lo")
				gauge(descHashrate, report.Finite(est.Hi), w.name, "hi")
			}
		}
	}
	if pr, err := s.nextAdjustment(sn, tipTime); err == nil {
		gauge(descToRetarget, float64(pr.BlocksRemaining))
		gauge(descChangePct, pr.ChangePct)
	}
	for hops := range 2 {
		label := strconv.Itoa(hops)
		if v, err := s.outflowLastDay(sn, hops); err == nil {
			gauge(descOutflowDay, float64(v), label)
		}
		if v, _, err := s.reserveAt(sn, hops); err == nil {
			gauge(descReserve, float64(v), label)
		}
	}
}
