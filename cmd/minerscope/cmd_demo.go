package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/spf13/cobra"

	"github.com/minerscope/minerscope/chain/chaintest"
)

type demoOptions struct {
	Keep bool
}

func newDemoCommand(g *globalOptions) *cobra.Command {
	var opts demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run minerscope on real mainnet blocks 0–14131 served by a local btcd",
		Long: `demo builds the btcd pinned in go.mod, imports the real mainnet blocks 0–14131 that ship in
the btcd module into a temporary node, starts it on loopback with no peers, indexes it and prints
status, the epochs table, the hashrate with its 95% interval and the next-adjustment projection.
With --keep the node and the index stay, and the flags to reach them are printed.
Run it from the minerscope source tree (it builds btcd with the go command).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), g, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Keep, "keep", false, "leave the node running and the index in place")
	return cmd
}

func runDemo(ctx context.Context, g *globalOptions, opts demoOptions) (err error) {
	start := time.Now()
	say := func(format string, args ...any) {
		if !g.Quiet {
			fmt.Fprintf(g.stderr, "demo: "+format+"\n", args...)
		}
	}
	work, err := os.MkdirTemp("", "minerscope-demo-")
	if err != nil {
		return err
	}
	defer func() {
		if !opts.Keep {
			os.RemoveAll(work)
		}
	}()

	say("building btcd (pinned in go.mod) and importing mainnet blocks 0–14131 …")
	dataDir := filepath.Join(work, "btcd")
	if err := chaintest.ImportMainnet(ctx, dataDir, nil); err != nil {
		return fmt.Errorf("importing the mainnet blocks: %w", err)
	}
	node, err := chaintest.Start(ctx, chaintest.Options{Net: &chaincfg.MainNetParams, DataDir: dataDir, Detach: opts.Keep})
	if err != nil {
		return fmt.Errorf("starting btcd: %w", err)
	}
	if !opts.Keep {
		defer node.Stop()
	}
	say("btcd is serving mainnet blocks 0–14131 on %s (%.1fs)", node.RPCAddr, time.Since(start).Seconds())

	d := *g
	d.Node, d.RPCUser, d.RPCPassword, d.CookieFile, d.BitcoinDir = node.RPCAddr, node.User, node.Pass, "", ""
	d.Network, d.IndexDir = "", filepath.Join(work, "index")

	if err := runIndex(ctx, &d, defaultIndexOptions()); err != nil {
		return err
	}
	section := func(title string) { fmt.Fprintf(g.stdout, "\n== %s ==\n", title) }
	section("status")
	if err := runStatus(ctx, &d, statusOptions{}); err != nil {
		return err
	}
	section("difficulty epochs")
	if err := runEpochs(ctx, &d, epochsOptions{}); err != nil {
		return err
	}
	section("hashrate: last 120 blocks (getnetworkhashps default)")
	if err := runHashrate(ctx, &d, hashrateOptions{Blocks: 120, AtHeight: -1}); err != nil {
		return err
	}
	section("hashrate: 7 days to the tip")
	if err := runHashrate(ctx, &d, hashrateOptions{Window: "7d", AtHeight: -1}); err != nil {
		return err
	}
	section("next adjustment")
	if err := runNextAdjustment(ctx, &d, nextAdjustmentOptions{}); err != nil {
		return err
	}
	section("miner rewards per epoch")
	if err := runRewards(ctx, &d, rewardsOptions{Series: "epoch"}); err != nil {
		return err
	}
	section("miner outflows per epoch (0-hop: scripts paid by coinbases)")
	if err := runOutflows(ctx, &d, outflowsOptions{Series: "epoch"}); err != nil {
		return err
	}
	section("miner reserve at the tip, 0-hop and 1-hop")
	for hops := range 2 {
		if err := runReserve(ctx, &d, reserveOptions{AtHeight: -1, Hops: hops}); err != nil {
			return err
		}
	}
	section("the first miner outflow: block 170, Satoshi to Hal Finney")
	if err := runFlows(ctx, &d, flowsOptions{TxID: "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"}); err != nil {
		return err
	}
	section("last 5 blocks")
	if err := runBlocks(ctx, &d, blocksOptions{From: -5, To: -1}); err != nil {
		return err
	}
	say("done in %.1fs", time.Since(start).Seconds())
	if opts.Keep {
		fmt.Fprintf(g.stdout, "\nThe node keeps running (stop it with: kill %d). Use it with:\n", node.PID())
		fmt.Fprintf(g.stdout, "  minerscope --node %s --rpcuser %s --rpcpassword %s --index %s <command>\n",
			node.RPCAddr, node.User, node.Pass, d.IndexDir)
	}
	return nil
}
