package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/report"
)

type hashrateOptions struct {
	Blocks   int
	Window   string
	AtHeight int
	At       string
	Series   string
	From, To string
	CSV      bool
	JSON     bool
}

// hashrateJSON is one estimate in `hashrate --json` and the rows of `--series --json`: the API's answer.
type hashrateJSON = report.Hashrate

func newHashrateCommand(g *globalOptions) *cobra.Command {
	var opts hashrateOptions
	cmd := &cobra.Command{
		Use:   "hashrate",
		Short: "Estimate the network hashrate with its exact 95% interval",
		Long: `hashrate estimates the network hashrate from the indexed headers.

  --blocks N      the N block intervals ending at the chosen block, exactly as Bitcoin Core's
                  getnetworkhashps(N, height) (N <= 0: since the last retarget). Default 120.
  --window W      the blocks whose timestamps fall in (T-W, T]: total work / W.
  --at-height H   end at block H (default: the index tip).
  --at T          end at time T (ISO 8601 UTC or a date); with --blocks, at the last block stamped <= T.
  --series daily|weekly   one window estimate per UTC day or ISO week (--from/--to limit it).

Every figure carries an exact 95% interval from the Poisson model of block discovery.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("blocks") && opts.Window != "" {
				return usagef("--blocks and --window exclude each other")
			}
			if cmd.Flags().Changed("at-height") && opts.At != "" {
				return usagef("--at-height and --at exclude each other")
			}
			if opts.Series != "" && (cmd.Flags().Changed("blocks") || opts.Window != "" || opts.At != "" || cmd.Flags().Changed("at-height")) {
				return usagef("--series takes --from/--to, not --blocks, --window, --at or --at-height")
			}
			if opts.CSV && opts.JSON {
				return usagef("--csv and --json exclude each other")
			}
			return runHashrate(cmd.Context(), g, opts)
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.Blocks, "blocks", 120, "number of block intervals (<= 0: since the last retarget)")
	f.StringVar(&opts.Window, "window", "", "time window ending at --at/--at-height, e.g. 24h, 7d, 30d")
	f.IntVar(&opts.AtHeight, "at-height", -1, "end at this block height (default: index tip)")
	f.StringVar(&opts.At, "at", "", "end at this UTC time (2025-10-15 or 2025-10-15T00:00:00Z)")
	f.StringVar(&opts.Series, "series", "", "daily or weekly series")
	f.StringVar(&opts.From, "from", "", "series start date (UTC, inclusive)")
	f.StringVar(&opts.To, "to", "", "series end date (UTC, exclusive)")
	f.BoolVar(&opts.CSV, "csv", false, "print CSV (series)")
	f.BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func runHashrate(ctx context.Context, g *globalOptions, opts hashrateOptions) error {
	p, hs, err := g.loadHeaders()
	if err != nil {
		return err
	}
	tip := hs[len(hs)-1].Height
	if opts.Series != "" {
		return runHashrateSeries(g, opts, p, hs)
	}

	end := tip
	var endTime int64
	switch {
	case opts.AtHeight >= 0:
		if int32(opts.AtHeight) > tip {
			return usagef("--at-height %d is above the index tip %d", opts.AtHeight, tip)
		}
		end = int32(opts.AtHeight)
		endTime = hs[end].Time
	case opts.At != "":
		t, err := parseAt("at", opts.At)
		if err != nil {
			return err
		}
		endTime = t.Unix()
		if opts.Window == "" {
			if end, err = lastBlockAtOrBefore(hs, endTime); err != nil {
				return err
			}
		}
	default:
		endTime = hs[tip].Time
	}

	var est analysis.Estimate
	var out hashrateJSON
	if opts.Window != "" {
		w, err := parseWindow(opts.Window)
		if err != nil {
			return err
		}
		from := endTime - int64(w/time.Second)
		est, err = analysis.WindowHashrate(p, hs, from, endTime)
		if err != nil {
			return err
		}
		out = report.WindowHashrate(est, w, from, endTime)
	} else {
		est, err = analysis.NetworkHashPS(p, hs, opts.Blocks, end)
		if err != nil {
			return err
		}
		out = report.BlocksHashrate(est, opts.Blocks, end)
	}
	if opts.JSON {
		return writeJSON(g.stdout, out)
	}
	unit := "intervals"
	if opts.Window != "" {
		unit = "blocks in the window"
	}
	printEstimate(g.stdout, est, out.Method, unit)
	return nil
}

// lastBlockAtOrBefore is the highest height whose timestamp is at or before t.
func lastBlockAtOrBefore(hs []analysis.Header, t int64) (int32, error) {
	for i := len(hs) - 1; i >= 0; i-- {
		if hs[i].Time <= t {
			return hs[i].Height, nil
		}
	}
	return 0, usagef("no indexed block is stamped at or before %s", report.Time(t))
}

func fmtInterval(e analysis.Estimate) string {
	if !e.HasInterval {
		return "no interval (timestamps do not advance)"
	}
	return fmt.Sprintf("95%% interval %s – %s", analysis.FormatHashrate(e.Lo), analysis.FormatHashrate(e.Hi))
}

// printEstimate prints one estimate; unit says what Intervals counts.
func printEstimate(w io.Writer, e analysis.Estimate, method, unit string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "hashrate\t%s  (%s)\n", analysis.FormatHashrate(e.HashesPerSec), fmtInterval(e))
	fmt.Fprintf(tw, "blocks\t%d..%d  (%d %s)\n", e.FromHeight, e.ToHeight, e.Intervals, unit)
	fmt.Fprintf(tw, "times\t%s .. %s  (%d s)\n", report.Time(e.FromTime), report.Time(e.ToTime), e.Seconds)
	fmt.Fprintf(tw, "method\t%s\n", method)
	tw.Flush()
}

func runHashrateSeries(g *globalOptions, opts hashrateOptions, p analysis.Params, hs []analysis.Header) error {
	from, to := hs[0].Time, hs[len(hs)-1].Time+1
	if opts.From != "" {
		t, err := parseTime(opts.From)
		if err != nil {
			return err
		}
		from = t.Unix()
	}
	if opts.To != "" {
		t, err := parseTime(opts.To)
		if err != nil {
			return err
		}
		to = t.Unix()
	}
	if to <= from {
		return usagef("--to must be after --from")
	}
	var pts []analysis.SeriesPoint
	switch opts.Series {
	case "daily":
		pts = analysis.DailyHashrate(p, hs, from, to)
	case "weekly":
		pts = analysis.WeeklyHashrate(p, hs, from, to)
	default:
		return usagef("--series must be daily or weekly, got %q", opts.Series)
	}
	header := []string{"start", "end", "blocks", "hashrate_hs", "lo_hs", "hi_hs", "from_height", "to_height"}
	rows := make([][]string, 0, len(pts))
	js := make([]hashrateJSON, 0, len(pts))
	for _, pt := range pts {
		e := pt.Estimate
		rows = append(rows, []string{report.Time(pt.Start), report.Time(pt.End), fmt.Sprint(pt.Blocks),
			fmtFloat(e.HashesPerSec), fmtFloat(e.Lo), fmtFloat(e.Hi), fmt.Sprint(e.FromHeight), fmt.Sprint(e.ToHeight)})
		j := report.NewHashrate(e)
		j.WindowStart, j.WindowEnd = report.Time(pt.Start), report.Time(pt.End)
		js = append(js, j)
	}
	switch {
	case opts.JSON:
		return writeJSON(g.stdout, js)
	case opts.CSV:
		return writeCSV(g.stdout, header, rows)
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "start\tblocks\thashrate\t95% interval\theights")
	for _, pt := range pts {
		e := pt.Estimate
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d..%d\n", time.Unix(pt.Start, 0).UTC().Format(time.DateOnly), pt.Blocks,
			analysis.FormatHashrate(e.HashesPerSec), intervalShort(e), e.FromHeight, e.ToHeight)
	}
	return tw.Flush()
}
