package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/index"
	"github.com/minerscope/minerscope/report"
)

type epochsOptions struct {
	CSV, JSON bool
}

// epochJSON is one row of `epochs --json`, as the API answers it; the CSV has the same columns.
type epochJSON = report.Epoch

var epochCSVHeader = []string{"epoch", "start_height", "end_height", "start_time", "end_time", "bits", "difficulty",
	"change_pct", "duration_s", "hashrate_hs", "hashrate_lo_hs", "hashrate_hi_hs", "complete"}

func newEpochsCommand(g *globalOptions) *cobra.Command {
	var opts epochsOptions
	cmd := &cobra.Command{
		Use:   "epochs",
		Short: "List every 2016-block difficulty epoch with its hashrate and 95% interval",
		Long: `epochs lists every difficulty epoch in the index: heights, first and last block times,
bits and difficulty, change from the previous epoch, the timespan the retarget rule measured
(last block time - first block time, target 1,209,600 s) and the epoch's average hashrate
(getnetworkhashps(2016, last height); the unfinished epoch uses getnetworkhashps(-1, tip)).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.CSV && opts.JSON {
				return usagef("--csv and --json exclude each other")
			}
			return runEpochs(cmd.Context(), g, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.CSV, "csv", false, "print CSV")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func runEpochs(ctx context.Context, g *globalOptions, opts epochsOptions) error {
	p, hs, err := g.loadHeaders()
	if err != nil {
		return err
	}
	eps, err := analysis.Epochs(p, hs)
	if err != nil {
		return err
	}
	rows := report.Epochs(eps)
	if done, err := writeRows(g.stdout, opts.JSON, opts.CSV, rows, epochCSVHeader, epochRecord); done {
		return err
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "epoch\theights\tstart (UTC)\tbits\tdifficulty\tchange\tduration\thashrate\t95% interval\t")
	for i, r := range rows {
		e := eps[i]
		heights := fmt.Sprintf("%d–%d", r.StartHeight, r.EndHeight)
		if !r.Complete {
			heights += "*"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%+.2f%%\t%.2fd\t%s\t%s\t\n", r.Epoch, heights, r.StartTime[:10], r.Bits,
			analysis.FormatDifficulty(r.Difficulty), r.ChangePct, float64(r.DurationS)/86400,
			analysis.FormatHashrate(r.HashrateHS), intervalShort(e.Hashrate))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if n := len(rows); n > 0 && !rows[n-1].Complete {
		fmt.Fprintln(g.stdout, "* unfinished epoch: duration and hashrate so far")
	}
	return nil
}

func epochRecord(r epochJSON) []string {
	return []string{fmt.Sprint(r.Epoch), fmt.Sprint(r.StartHeight), fmt.Sprint(r.EndHeight), r.StartTime, r.EndTime,
		r.Bits, fmtFloat(r.Difficulty), fmtFloat(r.ChangePct), fmt.Sprint(r.DurationS), fmtFloat(r.HashrateHS),
		fmtFloat(r.HashrateLoHS), fmtFloat(r.HashrateHiHS), fmt.Sprint(r.Complete)}
}

func intervalShort(e analysis.Estimate) string {
	if !e.HasInterval {
		return "n/a"
	}
	return analysis.FormatHashrate(e.Lo) + " – " + analysis.FormatHashrate(e.Hi)
}

// loadHeaders opens the index read-only and loads every header the estimators need.
func (g *globalOptions) loadHeaders() (analysis.Params, []analysis.Header, error) {
	db, err := g.openIndexReadOnly()
	if err != nil {
		return analysis.Params{}, nil, err
	}
	defer db.Close()
	tip, _, ok := db.Tip()
	if !ok {
		return analysis.Params{}, nil, fmt.Errorf("%w: the index is empty; run `minerscope index` first", index.ErrNoIndex)
	}
	hs, err := db.AnalysisHeaders(0, tip)
	return db.Params(), hs, err
}
