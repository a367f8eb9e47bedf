package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/api"
)

// defaultListen is serve's address: loopback only.
const defaultListen = "127.0.0.1:8780"

// shutdownTimeout bounds how long serve waits for requests in flight when it stops.
const shutdownTimeout = 10 * time.Second

type serveOptions struct {
	indexOptions
	Listen      string
	AllowRemote bool
	Pools       string
	Conf        string

	// listening, when set, is told the address once the server listens (tests listen on port 0).
	listening func(addr string)
}

func newServeCommand(g *globalOptions) *cobra.Command {
	opts := serveOptions{indexOptions: defaultIndexOptions(), Listen: defaultListen}
	opts.Follow = true
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Follow the node and serve the JSON API, Prometheus metrics and the dashboard over HTTP",
		Long: `serve keeps the index at the node's tip, as index --follow does (reorgs included), and answers
HTTP at the same time: the dashboard at /, the JSON API under /api/v1/ (mempool.space's mining
endpoints and minerscope's own, with 95% intervals) and Prometheus metrics at /metrics. Every
endpoint is read-only. Figures are computed at the index's tip: intervals end at the tip's timestamp.

It listens on 127.0.0.1:8780 by default. An address other than loopback needs --allow-remote: the
API has no authentication, so put it behind a reverse proxy if others should reach it.

Settings come from, in order of precedence: the command line, MINERSCOPE_<FLAG> environment
variables, the config file (--conf FILE, default ~/.minerscope/minerscope.conf when it exists:
key=value lines like bitcoin.conf, the keys being the long flag names, e.g. rpcuser=alice,
listen=0.0.0.0:8780, allow-remote=1), then the defaults. SIGINT or SIGTERM stop it cleanly.`,
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			return applyConfig(cmd, g.getenv, opts.Conf)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd.Context(), g, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Listen, "listen", defaultListen, "HTTP address HOST:PORT")
	f.BoolVar(&opts.AllowRemote, "allow-remote", false, "allow a --listen address other than loopback")
	f.StringVar(&opts.Conf, "conf", "", "config file (default ~/.minerscope/minerscope.conf if it exists)")
	f.StringVar(&opts.Pools, "pools", "", poolsFlagUsage)
	f.DurationVar(&opts.Poll, "poll", opts.Poll, "how often to poll the node")
	f.BoolVar(&opts.HeadersOnly, "headers-only", false, "index headers only, no blocks or coinbases")
	f.StringVar(&opts.Source, "source", "auto", "where blocks come from: rpc, rest (bitcoind -rest=1), blk (--blocks-dir) or auto")
	f.StringVar(&opts.BlocksDir, "blocks-dir", "", "bitcoind's blocks directory, read directly (blk*.dat, xor.dat)")
	f.IntVar(&opts.FromHeight, "from-height", -1, "keep full blocks from this height on (default: 0 for a new index)")
	f.Lookup("from-height").DefValue = "0"
	return cmd
}

// checkListen refuses an address that is not loopback unless remote is allowed; it reports whether the
// address is remote.
func checkListen(addr string, allowRemote bool) (remote bool, err error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return false, usagef("--listen %q: use HOST:PORT, e.g. 127.0.0.1:8780", addr)
	}
	ip := net.ParseIP(host)
	loopback := host == "localhost" || (ip != nil && ip.IsLoopback())
	if !loopback && !allowRemote {
		return true, usagef("--listen %s is not a loopback address: anyone who can reach it could read the API; "+
			"pass --allow-remote to listen there anyway", addr)
	}
	return !loopback, nil
}

func runServe(ctx context.Context, g *globalOptions, opts serveOptions) (err error) {
	if err := checkIndexOptions(opts.indexOptions); err != nil {
		return err
	}
	remote, err := checkListen(opts.Listen, opts.AllowRemote)
	if err != nil {
		return err
	}
	pools, err := loadPools(opts.Pools)
	if err != nil {
		return err
	}
	node, err := g.dialNode(ctx)
	if err != nil {
		return err
	}
	if _, err := analysis.NewMatcher(pools, node.Network()); err != nil {
		return usagef("--pools: %v", err)
	}
	db, err := g.openIndexForNode(node.Network())
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); err == nil {
			err = cerr
		}
	}()
	if err := setIndexMode(db, opts.indexOptions); err != nil {
		return err
	}
	s := newSyncer(node, db, g.logger(), nil)
	rest := probeREST(ctx, node, opts.indexOptions)
	s.restHdrs = rest
	if _, full := db.BlocksFrom(); full {
		if s.blocks, err = openBlockSource(node, opts.indexOptions, rest); err != nil {
			return err
		}
		if err := checkPruned(ctx, node, db); err != nil {
			return err
		}
	}

	srv := api.New(db, api.Options{Pools: pools, Logger: g.logger()})
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", opts.Listen, err)
	}
	if remote {
		fmt.Fprintf(g.stderr, "warning: listening on %s, not loopback: anyone who can reach it can read the API\n", ln.Addr())
	}
	fmt.Fprintf(g.stderr, "serving http://%s/ (API under /api/v1/, metrics at /metrics) for the %s index in %s\n",
		ln.Addr(), db.Params().Name, db.Dir())
	if opts.listening != nil {
		opts.listening(ln.Addr().String())
	}
	return serveAndFollow(ctx, g, s, srv, ln, opts.Poll)
}

// checkIndexOptions validates the sync flags serve shares with index.
func checkIndexOptions(opts indexOptions) error {
	switch {
	case opts.Poll <= 0:
		return usagef("--poll must be positive, got %v", opts.Poll)
	case opts.FromHeight < -1:
		return usagef("--from-height must not be negative, got %d", opts.FromHeight)
	case opts.Source == "blk" && opts.BlocksDir == "":
		return usagef("--source blk needs --blocks-dir (bitcoind's blocks directory)")
	case opts.Source != "auto" && opts.Source != "rpc" && opts.Source != "rest" && opts.Source != "blk":
		return usagef("--source must be rpc, rest, blk or auto, got %q", opts.Source)
	case opts.HeadersOnly && (opts.BlocksDir != "" || opts.Source != "auto"):
		return usagef("--headers-only fetches no blocks: drop --source and --blocks-dir")
	}
	return nil
}

// serveAndFollow answers HTTP on ln while the sync loop follows the node, until ctx ends (a clean stop:
// nil) or the sync loop meets an error only the user can fix. Requests in flight finish before it returns,
// so the caller may close the index.
func serveAndFollow(ctx context.Context, g *globalOptions, s *syncer, srv *api.Server, ln net.Listener,
	poll time.Duration) error {

	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	fctx, stopFollow := context.WithCancel(ctx)
	defer stopFollow()
	followed := make(chan error, 1)
	go func() { followed <- followForServer(fctx, g, s, srv, poll) }()

	var err error
	select {
	case err = <-followed:
	case err = <-served:
		err = fmt.Errorf("HTTP server: %w", err)
		stopFollow()
		<-followed
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if serr := hs.Shutdown(sctx); serr != nil && err == nil {
		err = fmt.Errorf("stop the HTTP server: %w", serr)
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		if !g.Quiet {
			fmt.Fprintln(g.stderr, "stopped; the index is closed cleanly")
		}
		return nil
	}
	return err
}

// followForServer syncs once, then follows the node, telling srv after every pass (its tip cache only
// after passes that changed the index) and after every failure.
func followForServer(ctx context.Context, g *globalOptions, s *syncer, srv *api.Server, poll time.Duration) error {
	var st api.SyncState
	report := func(r syncResult) {
		st.NodeHeight, st.LastSync, st.LastError = r.NodeHeight, time.Now(), ""
		srv.SetSyncState(st)
		srv.TipChanged()
		printSyncSummary(g, r, 0)
	}
	retry := func(err error) {
		st.SyncErrors++
		st.LastError = err.Error()
		srv.SetSyncState(st)
		fmt.Fprintf(g.stderr, "sync failed, retrying in %v: %v\n", poll, err)
	}
	// Every pass that reached the node's tip, changing the index or not, says when minerscope last
	// reached the node and clears the last error.
	s.onPass = func(r syncResult) {
		st.NodeHeight, st.LastSync, st.LastError = r.NodeHeight, time.Now(), ""
		srv.SetSyncState(st)
	}
	srv.SetSyncState(st)

	// The first pass reports even when the index was already at the node's tip, so that the status says
	// when minerscope last reached the node.
	res, err := s.syncOnce(ctx)
	switch {
	case err == nil:
		report(res)
	case ctx.Err() != nil || needsUser(err):
		return err
	default:
		retry(err)
	}
	return s.follow(ctx, poll, report, retry)
}
