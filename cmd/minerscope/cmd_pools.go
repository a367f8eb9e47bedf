package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/report"
)

type poolsOptions struct {
	Window    string
	From, To  string
	Pools     string
	CSV, JSON bool
}

// poolJSON is one pool of `pools --json`, as the API answers it; the CSV has the same columns.
type poolJSON = report.Pool

var poolCSVHeader = []string{"pool", "blocks", "share", "share_lo", "share_hi", "hashrate_hs", "hashrate_lo_hs",
	"hashrate_hi_hs", "by_address", "by_tag", "empty_blocks"}

func newPoolsCommand(g *globalOptions) *cobra.Command {
	var opts poolsOptions
	cmd := &cobra.Command{
		Use:   "pools",
		Short: "Blocks, share and hashrate per mining pool, with 95% intervals",
		Long: `pools attributes every block stamped in the window to a pool (payout address first, then
coinbase tag) and reports per pool: blocks, share of blocks with its exact (Clopper-Pearson) 95%
interval, estimated hashrate (share x network hashrate over the window) with its exact 95% interval,
how many blocks matched by address and by tag, and how many were empty (coinbase only).
The window is --window W ending at the tip's time (default 7d), or --from/--to dates.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.CSV && opts.JSON {
				return usagef("--csv and --json exclude each other")
			}
			if opts.Window != "" && (opts.From != "" || opts.To != "") {
				return usagef("--window and --from/--to exclude each other")
			}
			return runPools(cmd.Context(), g, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Window, "window", "", "window ending at the tip's time, e.g. 24h, 7d (default 7d)")
	f.StringVar(&opts.From, "from", "", "window start (UTC date or time)")
	f.StringVar(&opts.To, "to", "", "window end (default: the tip's time)")
	f.StringVar(&opts.Pools, "pools", "", poolsFlagUsage)
	f.BoolVar(&opts.CSV, "csv", false, "print CSV")
	f.BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func runPools(ctx context.Context, g *globalOptions, opts poolsOptions) error {
	db, m, err := g.openWithMatcher(opts.Pools)
	if err != nil {
		return err
	}
	defer db.Close()
	p := db.Params()
	lo, hi, hs, err := fullHeaders(db)
	if err != nil {
		return err
	}
	from, to, err := poolsWindow(opts, hs[hi].Time)
	if err != nil {
		return err
	}
	network, err := analysis.WindowHashrate(p, hs, from, to)
	if err != nil {
		return err
	}
	// The window must lie within the heights that have coinbase records.
	if network.Intervals > 0 && network.FromHeight < lo {
		return usagef("the window starts before height %d, the first block with full data", lo)
	}
	var attributed []analysis.BlockAttribution
	if network.Intervals > 0 {
		rows, err := loadBlockRows(db, network.FromHeight, network.ToHeight, m)
		if err != nil {
			return err
		}
		attributed = blockAttributions(rows, func(t int64) bool { return t > from && t <= to })
	}
	out := report.Pools(analysis.PoolShares(network, attributed))
	if done, err := writeRows(g.stdout, opts.JSON, opts.CSV, out, poolCSVHeader, poolRecord); done {
		return err
	}
	fmt.Fprintf(g.stdout, "window %s .. %s: %d blocks, network %s (%s)\n", report.Time(from), report.Time(to),
		network.Intervals, analysis.FormatHashrate(network.HashesPerSec), fmtInterval(network))
	tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "pool\tblocks\tshare (95%)\thashrate (95%)\taddress/tag\tempty")
	for _, r := range out {
		fmt.Fprintf(tw, "%s\t%d\t%.1f%% (%.1f–%.1f%%)\t%s (%s – %s)\t%d/%d\t%d\n", r.Pool, r.Blocks, 100*r.Share,
			100*r.ShareLo, 100*r.ShareHi, analysis.FormatHashrate(r.HashrateHS), analysis.FormatHashrate(r.HashrateLoHS),
			analysis.FormatHashrate(r.HashrateHiHS), r.ByAddress, r.ByTag, r.EmptyBlocks)
	}
	return tw.Flush()
}

func poolRecord(r poolJSON) []string {
	return []string{r.Pool, fmt.Sprint(r.Blocks), fmtFloat(r.Share), fmtFloat(r.ShareLo), fmtFloat(r.ShareHi),
		fmtFloat(r.HashrateHS), fmtFloat(r.HashrateLoHS), fmtFloat(r.HashrateHiHS), fmt.Sprint(r.ByAddress),
		fmt.Sprint(r.ByTag), fmt.Sprint(r.EmptyBlocks)}
}

// poolsWindow is the window (from, to] the pools command reports on.
func poolsWindow(opts poolsOptions, tipTime int64) (int64, int64, error) {
	to := tipTime
	if opts.To != "" {
		t, err := parseTime(opts.To)
		if err != nil {
			return 0, 0, err
		}
		to = t.Unix()
	}
	if opts.From != "" {
		t, err := parseTime(opts.From)
		if err != nil {
			return 0, 0, err
		}
		if t.Unix() >= to {
			return 0, 0, usagef("--from must be before --to")
		}
		return t.Unix(), to, nil
	}
	w := 7 * 24 * time.Hour
	if opts.Window != "" {
		var err error
		if w, err = parseWindow(opts.Window); err != nil {
			return 0, 0, err
		}
	}
	return to - int64(w/time.Second), to, nil
}
