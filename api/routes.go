package api

import (
	"net/http"
	"strconv"
	"time"
)

// routes builds the mux. Patterns carry no method: serveHTTP answers 405 to
// anything but GET and HEAD before the mux sees it, with the API's JSON error.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	api := func(pattern string, h endpoint) {
		mux.Handle(pattern, s.apiHandler(h))
	}

	// mempool.space-compatible.
	api("/api/v1/difficulty-adjustment", s.handleDifficultyAdjustment)
	api("/api/v1/mining/hashrate/{interval}", s.handleMiningHashrate)
	api("/api/v1/mining/difficulty-adjustments", s.handleMiningAdjustments)
	api("/api/v1/mining/difficulty-adjustments/{interval}", s.handleMiningAdjustments)
	api("/api/v1/mining/pools/{interval}", s.handleMiningPools)
	api("/api/v1/mining/blocks/rewards/{interval}", s.handleMiningRewards)

	// minerscope's own.
	mux.HandleFunc("/api/v1/minerscope/status", s.handleStatus)
	api("/api/v1/minerscope/hashrate", s.handleHashrate)
	api("/api/v1/minerscope/hashrate/series/{interval}", s.handleHashrateSeries)
	api("/api/v1/minerscope/epochs", s.handleEpochs)
	api("/api/v1/minerscope/next-adjustment", s.handleNextAdjustment)
	api("/api/v1/minerscope/pools/{interval}", s.handlePools)
	api("/api/v1/minerscope/outflows/{interval}", s.handleOutflows)
	api("/api/v1/minerscope/reserve", s.handleReserve)
	api("/api/v1/minerscope/verify/{kind}", s.handleVerify)

	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeErrorStatus(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path+" (see the endpoint list in the README)")
	})
	mux.Handle("/metrics", s.metrics.handler())
	mux.Handle("/", s.dashboard)
	return mux
}

// endpoint answers a request from the snapshot at the tip: the value to
// write as JSON, or the error to answer instead.
type endpoint func(r *http.Request, sn *snapshot) (any, error)

// apiHandler adapts an endpoint: it takes the snapshot at the tip (503 while
// the index is empty) and writes the endpoint's answer or error as JSON.
func (s *Server) apiHandler(h endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sn, err := s.current()
		if err == nil && sn.empty() {
			err = errNoBlocks
		}
		var v any
		if err == nil {
			v, err = h(r, sn)
		}
		if err != nil {
			s.writeError(w, err)
			return
		}
		s.writeJSON(w, v)
	})
}

// serveHTTP refuses every method that could change something, dispatches,
// and counts the request under its route pattern.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		_, r.Pattern = s.mux.Handler(r)
		rec.Header().Set("Allow", "GET, HEAD")
		writeErrorStatus(rec, http.StatusMethodNotAllowed, "minerscope's API is read-only: use GET or HEAD, not "+r.Method)
	} else {
		s.mux.ServeHTTP(rec, r)
	}
	route := r.Pattern
	if route == "" {
		route = "unmatched"
	}
	s.metrics.observe(route, strconv.Itoa(rec.status), time.Since(start))
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
