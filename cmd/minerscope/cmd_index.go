package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/minerscope/minerscope/chain"
	"github.com/minerscope/minerscope/index"
)

type indexOptions struct {
	Follow      bool
	Poll        time.Duration
	HeadersOnly bool
	Source      string // auto, rpc, rest or blk
	BlocksDir   string
	FromHeight  int
}

// defaultIndexOptions are the flag defaults, for callers that run an index without the command line.
func defaultIndexOptions() indexOptions {
	return indexOptions{Poll: 5 * time.Second, Source: "auto", FromHeight: -1}
}

func newIndexCommand(g *globalOptions) *cobra.Command {
	var opts indexOptions
	cmd := &cobra.Command{
		Use:   "index",
		Short: "Sync verified blocks (or headers) from the node into the index",
		Long: `index brings the index to the node's tip. Every header is verified (parent link, proof of
work, retarget rule); by default every block is fetched too (--source rpc, rest or blk), checked against
its hash and merkle root, and its coinbase record stored with it. Blocks are stored whole, with undo
data, so a reorg on the node is undone block by block first. With --follow it keeps polling the node.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runIndex(cmd.Context(), g, opts)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.Follow, "follow", false, "keep following the node's tip")
	f.DurationVar(&opts.Poll, "poll", 5*time.Second, "how often to poll the node with --follow")
	f.BoolVar(&opts.HeadersOnly, "headers-only", false, "index headers only, no blocks or coinbases")
	f.StringVar(&opts.Source, "source", "auto", "where blocks come from: rpc, rest (bitcoind -rest=1), blk (--blocks-dir) or auto")
	f.StringVar(&opts.BlocksDir, "blocks-dir", "", "bitcoind's blocks directory, read directly (blk*.dat, xor.dat)")
	f.IntVar(&opts.FromHeight, "from-height", -1, "keep full blocks from this height on (a pruned node has no older ones; default: 0 for a new index)")
	f.Lookup("from-height").DefValue = "0"
	return cmd
}

func runIndex(ctx context.Context, g *globalOptions, opts indexOptions) (err error) {
	if opts.Poll <= 0 {
		return usagef("--poll must be positive, got %v", opts.Poll)
	}
	if opts.FromHeight < -1 {
		return usagef("--from-height must not be negative, got %d", opts.FromHeight)
	}
	switch opts.Source {
	case "auto", "rpc", "rest":
	case "blk":
		if opts.BlocksDir == "" {
			return usagef("--source blk needs --blocks-dir (bitcoind's blocks directory)")
		}
	default:
		return usagef("--source must be rpc, rest, blk or auto, got %q", opts.Source)
	}
	if opts.HeadersOnly && (opts.BlocksDir != "" || opts.Source != "auto") {
		return usagef("--headers-only fetches no blocks: drop --source and --blocks-dir")
	}
	node, err := g.dialNode(ctx)
	if err != nil {
		return err
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

	if err := setIndexMode(db, opts); err != nil {
		return err
	}
	s := newSyncer(node, db, g.logger(), newProgress(g))
	// bitcoind's REST interface serves 2000 headers per binary reply: use it where it answers.
	rest := probeREST(ctx, node, opts)
	s.restHdrs = rest
	if _, full := db.BlocksFrom(); full {
		if s.blocks, err = openBlockSource(node, opts, rest); err != nil {
			return err
		}
		if err := checkPruned(ctx, node, db); err != nil {
			return err
		}
	}
	start := time.Now()
	res, err := s.syncOnce(ctx)
	printSyncSummary(g, res, time.Since(start))
	switch {
	case !opts.Follow || (err != nil && (needsUser(err) || ctx.Err() != nil)):
		return err
	case err != nil:
		fmt.Fprintf(g.stderr, "sync failed, retrying in %v: %v\n", opts.Poll, err)
	}
	s.progress = nil
	return s.follow(ctx, opts.Poll, func(r syncResult) {
		printSyncSummary(g, r, 0)
	}, func(err error) {
		fmt.Fprintf(g.stderr, "sync failed, retrying in %v: %v\n", opts.Poll, err)
	})
}

func printSyncSummary(g *globalOptions, r syncResult, took time.Duration) {
	if g.Quiet && r.Disconnected == 0 {
		return
	}
	w := g.stderr
	if r.Disconnected > 0 {
		fmt.Fprintf(w, "reorg: undid %d block(s) above height %d\n", r.Disconnected, r.ForkHeight)
	}
	unit := "header"
	if r.Blocks {
		unit = "block"
	}
	msg := fmt.Sprintf("index at height %d (node %d): %d %s(s) connected", r.IndexHeight, r.NodeHeight, r.Connected, unit)
	if took > 0 && r.Connected > 0 {
		msg += fmt.Sprintf(" in %v (%.0f %ss/s)", took.Round(time.Millisecond), float64(r.Connected)/took.Seconds(), unit)
	}
	fmt.Fprintln(w, msg)
	if r.InitialSync {
		fmt.Fprintf(w, "note: the node is still in initial block download (%d of %d known headers have blocks); "+
			"the index holds what the node has and will catch up with --follow\n", r.NodeHeight, r.NodeHeaders)
	}
	if r.IndexHeight > r.NodeHeight {
		fmt.Fprintf(w, "note: the node (height %d) is behind the index (height %d); waiting for it to catch up\n",
			r.NodeHeight, r.IndexHeight)
	}
	if r.ValuesMissing > 0 && took > 0 { // once per run, not at every block --follow connects
		fmt.Fprintf(w, "note: %d transaction(s) spending miner outputs also spend other coins whose values the node "+
			"cannot give (%v); their fee_sat and other_input_sat stay empty, every other figure is exact. Run the "+
			"node with txindex=1 (or use Bitcoin Core 23+) and index again to fill them\n", r.ValuesMissing, r.ValuesErr)
	}
}

// setIndexMode records, on a new index, whether it keeps full blocks and from which height; an existing
// index must be asked for what it already is.
func setIndexMode(db *index.DB, opts indexOptions) error {
	from, full := db.BlocksFrom()
	want := !opts.HeadersOnly
	if _, _, ok := db.Tip(); ok && want == full && (!full || opts.FromHeight < 0 || int32(opts.FromHeight) == from) {
		return nil
	}
	// SetBlocksFrom refuses, with the reason, a change the index's contents do not allow.
	return db.SetBlocksFrom(int32(max(0, opts.FromHeight)), want)
}

// openBlockSource picks where blocks come from: the blk files with --blocks-dir, else bitcoind's REST
// interface when it answers (rest: the probe's answer), else JSON-RPC.
func openBlockSource(node *chain.Client, opts indexOptions, rest bool) (chain.BlockSource, error) {
	switch {
	case opts.Source == "blk" || (opts.Source == "auto" && opts.BlocksDir != ""):
		return chain.NewBlkFileSource(opts.BlocksDir, node.Network())
	case opts.Source == "rest" && !rest:
		return nil, fmt.Errorf("the node at %s does not serve REST; start bitcoind with -rest=1 or use --source rpc", node.Addr())
	case rest:
		return chain.NewRESTBlockSource(node, 0), nil
	default:
		return chain.NewRPCBlockSource(node, 0, 0), nil
	}
}

// probeREST asks the node for its REST interface unless the options rule REST out.
func probeREST(ctx context.Context, node *chain.Client, opts indexOptions) bool {
	useful := opts.Source == "rest" || (opts.Source == "auto" && opts.BlocksDir == "")
	return useful && node.RESTAvailable(ctx)
}

// checkPruned fails early, before anything is written, when the node no longer has blocks the index needs.
func checkPruned(ctx context.Context, node *chain.Client, db *index.DB) error {
	pruneHeight, pruned, err := node.PruneHeight(ctx)
	if err != nil || !pruned {
		return err
	}
	from, _ := db.BlocksFrom()
	next := int32(0)
	if tip, _, ok := db.Tip(); ok {
		next = tip + 1
	}
	if need := max(from, next); need < pruneHeight {
		return &chain.PrunedError{FirstAvailable: pruneHeight}
	}
	return nil
}
