package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/chain"
	"github.com/minerscope/minerscope/index"
)

// globalOptions holds the flags every subcommand shares: how to reach the node and where the index lives.
type globalOptions struct {
	Node        string
	RPCUser     string
	RPCPassword string
	CookieFile  string
	BitcoinDir  string
	Network     string
	IndexDir    string
	Quiet       bool
	Verbose     bool

	stdout, stderr io.Writer
	getenv         func(string) string
}

func (g *globalOptions) logger() *slog.Logger {
	if !g.Verbose {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// envPrefix names the environment variables that default every flag: --rpcuser is MINERSCOPE_RPCUSER,
// --bitcoin-dir is MINERSCOPE_BITCOIN_DIR.
const envPrefix = "MINERSCOPE_"

func envName(flag string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

func newRootCommand() *cobra.Command {
	g := &globalOptions{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	return newRootCommandWith(g)
}

func newRootCommandWith(g *globalOptions) *cobra.Command {
	root := &cobra.Command{
		Use:   "minerscope",
		Short: "Hashrate, difficulty epochs and adjustment projections from your own Bitcoin node",
		Long: `minerscope indexes verified blocks from your bitcoind or btcd into a local index
and derives hashrate (with exact 95% intervals), difficulty epochs, the next-adjustment
projection, miner rewards and pool shares from chain data alone.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return applyEnv(cmd, g.getenv)
		},
	}
	root.SetOut(g.stdout)
	root.SetErr(g.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })

	f := root.PersistentFlags()
	f.StringVar(&g.Node, "node", "", "node RPC address HOST:PORT (default 127.0.0.1 and the network's RPC port)")
	f.StringVar(&g.RPCUser, "rpcuser", "", "RPC user name")
	f.StringVar(&g.RPCPassword, "rpcpassword", "", "RPC password")
	f.StringVar(&g.CookieFile, "rpccookiefile", "", "RPC cookie file (bitcoind's .cookie)")
	f.StringVar(&g.BitcoinDir, "bitcoin-dir", "", "bitcoind data directory: read bitcoin.conf and the .cookie")
	f.StringVar(&g.Network, "network", "", "mainnet, testnet3, testnet4, signet, regtest or simnet (default: the node's)")
	f.StringVar(&g.IndexDir, "index", "", "index directory (default ~/.minerscope/<network>)")
	f.BoolVarP(&g.Quiet, "quiet", "q", false, "no progress output")
	f.BoolVarP(&g.Verbose, "verbose", "v", false, "debug logging to stderr")

	root.AddCommand(
		newIndexCommand(g),
		newStatusCommand(g),
		newHashrateCommand(g),
		newEpochsCommand(g),
		newNextAdjustmentCommand(g),
		newBlocksCommand(g),
		newRewardsCommand(g),
		newOutflowsCommand(g),
		newReserveCommand(g),
		newFlowsCommand(g),
		newCheckCommand(g),
		newPoolsCommand(g),
		newVerifyCommand(g),
		newSignalsCommand(g),
		newEconomicsCommand(g),
		newChartCommand(g),
		newExportCommand(g),
		newServeCommand(g),
		newDemoCommand(g),
		newBenchCommand(g),
	)
	return root
}

// applyEnv sets every flag the user did not pass from its MINERSCOPE_<NAME> environment variable.
func applyEnv(cmd *cobra.Command, getenv func(string) string) error {
	var firstErr error
	set := func(fl *pflag.Flag) {
		if fl.Changed || firstErr != nil {
			return
		}
		v := getenv(envName(fl.Name))
		if v == "" {
			return
		}
		if err := fl.Value.Set(v); err != nil {
			firstErr = usagef("environment variable %s=%q: %v", envName(fl.Name), v, err)
		}
	}
	cmd.Flags().VisitAll(set)
	cmd.InheritedFlags().VisitAll(set)
	return firstErr
}

// chainConfig resolves how to reach the node from flags, bitcoin.conf and Umbrel's environment.
func (g *globalOptions) chainConfig() (chain.Config, error) {
	cfg := chain.Config{
		Host:       g.Node,
		User:       g.RPCUser,
		Pass:       g.RPCPassword,
		CookieFile: g.CookieFile,
		BitcoinDir: g.BitcoinDir,
		Network:    g.Network,
		Logger:     g.logger(),
	}
	return chain.ResolveConfig(cfg, g.getenv)
}

// dialNode connects to the node and detects its network.
func (g *globalOptions) dialNode(ctx context.Context) (*chain.Client, error) {
	cfg, err := g.chainConfig()
	if err != nil {
		return nil, err
	}
	return chain.Dial(ctx, cfg)
}

// indexDir is where the index for network p lives.
func (g *globalOptions) indexDir(p analysis.Params) (string, error) {
	if g.IndexDir != "" {
		return g.IndexDir, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the home directory for the default index; pass --index: %w", err)
	}
	return filepath.Join(home, ".minerscope", p.Name), nil
}

// openIndexForNode opens (creating if needed) the index for the node's network.
func (g *globalOptions) openIndexForNode(p analysis.Params) (*index.DB, error) {
	dir, err := g.indexDir(p)
	if err != nil {
		return nil, err
	}
	return index.Open(dir, p, index.Options{Logger: g.logger()})
}

// openIndexReadOnly opens an existing index without talking to the node: --index, or
// ~/.minerscope/<--network>, or the only index under ~/.minerscope.
func (g *globalOptions) openIndexReadOnly() (*index.DB, error) {
	dir := g.IndexDir
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("cannot find the home directory; pass --index: %w", err)
		}
		base := filepath.Join(home, ".minerscope")
		if g.Network != "" {
			dir = filepath.Join(base, g.Network)
		} else {
			dirs, _ := filepath.Glob(filepath.Join(base, "*"))
			switch len(dirs) {
			case 0:
				return nil, fmt.Errorf("%w under %s; run `minerscope index` first", index.ErrNoIndex, base)
			case 1:
				dir = dirs[0]
			default:
				return nil, usagef("several indexes under %s; choose one with --network or --index", base)
			}
		}
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("%w at %s; run `minerscope index` first", index.ErrNoIndex, dir)
	}
	db, _, err := index.OpenExisting(dir)
	return db, err
}
