package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

type indexOptions struct {
	Follow bool
	Poll   time.Duration
}

func newIndexCommand(g *globalOptions) *cobra.Command {
	var opts indexOptions
	cmd := &cobra.Command{
		Use:   "index",
		Short: "Sync verified block headers from the node into the index",
		Long: `index fetches every header from the index tip to the node's tip, verifies it (parent link,
proof of work, retarget rule) and stores it, one index transaction per block. A reorg on the
node is undone block by block first. With --follow it keeps polling the node.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runIndex(cmd.Context(), g, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Follow, "follow", false, "keep following the node's tip")
	cmd.Flags().DurationVar(&opts.Poll, "poll", 5*time.Second, "how often to poll the node with --follow")
	return cmd
}

func runIndex(ctx context.Context, g *globalOptions, opts indexOptions) (err error) {
	if opts.Poll <= 0 {
		return usagef("--poll must be positive, got %v", opts.Poll)
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

	s := newSyncer(node, db, g.logger(), newProgress(g))
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
	msg := fmt.Sprintf("index at height %d (node %d): %d header(s) connected", r.IndexHeight, r.NodeHeight, r.Connected)
	if took > 0 && r.Connected > 0 {
		msg += fmt.Sprintf(" in %v (%.0f headers/s)", took.Round(time.Millisecond), float64(r.Connected)/took.Seconds())
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
}
