package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/index"
)

// Options configure a Server. The zero value serves the built-in pool list,
// logs nothing and reads the wall clock.
type Options struct {
	// Pools are the pool definitions blocks are attributed with (nil: the
	// built-in list, analysis.DefaultPools). Callers check them with
	// analysis.NewMatcher first: New falls back to the built-in list, with
	// a warning, when the network cannot use them.
	Pools []analysis.Pool

	// Logger receives request failures (nil: discard).
	Logger *slog.Logger

	// Now is the wall clock, read only by the seconds-since-last-block
	// metric (nil: time.Now).
	Now func() time.Time
}

// SyncState is what the serve command's sync loop last reported.
type SyncState struct {
	// NodeHeight is the node's height at the last sync that reached it;
	// meaningful only when LastSync is set.
	NodeHeight int32

	// LastSync is when a sync last changed the index, or first brought it
	// to the node's tip; zero before that.
	LastSync time.Time

	// LastError is the last sync error, "" once a sync succeeds again.
	LastError string

	// SyncErrors counts the failed sync passes since the start.
	SyncErrors int
}

// Server answers the API, metrics and dashboard requests from one index.
// Its methods are safe for concurrent use.
type Server struct {
	db      *index.DB
	p       analysis.Params
	matcher *analysis.Matcher
	pools   map[int]analysis.Pool
	log     *slog.Logger
	now     func() time.Time

	dashboard http.Handler
	mux       *http.ServeMux
	metrics   *metrics

	snapMu sync.Mutex
	snap   *snapshot

	syncMu    sync.Mutex
	sync      SyncState
	following bool
}

// New returns a Server reading db.
func New(db *index.DB, opts Options) *Server {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pools := opts.Pools
	if pools == nil {
		pools = analysis.DefaultPools()
	}
	m, err := analysis.NewMatcher(pools, db.Params())
	if err != nil {
		log.Warn("pool definitions unusable; using the built-in list", "err", err)
		pools = analysis.DefaultPools()
		m, _ = analysis.NewMatcher(pools, db.Params())
	}
	s := &Server{
		db:        db,
		p:         db.Params(),
		matcher:   m,
		pools:     make(map[int]analysis.Pool, len(pools)),
		log:       log,
		now:       opts.Now,
		dashboard: dashboardHandler(),
	}
	for _, pl := range pools {
		s.pools[pl.ID] = pl
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.metrics = newMetrics(s)
	s.mux = s.routes()
	return s
}

// Handler returns the HTTP handler of every endpoint.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Registry returns the Prometheus registry /metrics serves, for tests and
// for callers that add their own collectors.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.reg }

// SetSyncState records what the sync loop last did, for the status endpoint
// and the metrics. Calling it marks the server as following the node.
func (s *Server) SetSyncState(st SyncState) {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.sync, s.following = st, true
}

// syncState returns the last SyncState and whether one was set.
func (s *Server) syncState() (SyncState, bool) {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	return s.sync, s.following
}

// TipChanged tells the server the index connected or disconnected blocks. It
// reads the new headers at once, so the next request finds them in memory;
// the cached figures of the old tip are dropped. Requests notice a new tip on
// their own too: calling TipChanged only moves that work off their path.
func (s *Server) TipChanged() {
	if _, err := s.current(); err != nil {
		s.log.Warn("reading the new tip failed", "err", err)
	}
}

// current returns the snapshot at the index's tip, refreshing it if the tip
// moved.
func (s *Server) current() (*snapshot, error) {
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	sn, err := loadSnapshot(s.db, s.snap)
	if err != nil {
		return nil, err
	}
	s.snap = sn
	return sn, nil
}

// apiError is an error with the HTTP status it answers.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(msg string) error { return &apiError{http.StatusBadRequest, msg} }

func notFound(msg string) error { return &apiError{http.StatusNotFound, msg} }

// errNoBlocks answers requests while the index is empty.
var errNoBlocks = &apiError{http.StatusServiceUnavailable,
	"the index holds no block yet; minerscope is syncing with the node, try again shortly"}

// errorStatus maps an error to its HTTP status and message.
func errorStatus(err error) (int, string) {
	var ae *apiError
	var he *analysis.HeadersError
	switch {
	case errors.As(err, &ae):
		return ae.status, ae.msg
	case errors.Is(err, errIndexMoved):
		return http.StatusServiceUnavailable, "the index moved to a new tip during the request; try again"
	case errors.As(err, &he), errors.Is(err, analysis.ErrNeedHeaders):
		return http.StatusNotFound, "the index holds no data for that: " + err.Error()
	default:
		return http.StatusInternalServerError, err.Error()
	}
}

// writeJSON writes v with status 200, or a 500 if it does not encode.
func (s *Server) writeJSON(w http.ResponseWriter, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		s.writeError(w, fmt.Errorf("encode the answer: %w", err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// writeError writes err as {"error": message} with its status.
func (s *Server) writeError(w http.ResponseWriter, err error) {
	status, msg := errorStatus(err)
	if status == http.StatusInternalServerError {
		s.log.Error("request failed", "err", err)
	}
	writeErrorStatus(w, status, msg)
}

func writeErrorStatus(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Error string `json:"error"`
	}{msg})
}
