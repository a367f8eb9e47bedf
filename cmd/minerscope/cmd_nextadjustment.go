package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/report"
)

type nextAdjustmentOptions struct {
	Now  string
	JSON bool
}

// nextAdjustmentJSON is the `next-adjustment --json` document, as the API answers it.
type nextAdjustmentJSON = report.NextAdjustment

func newNextAdjustmentCommand(g *globalOptions) *cobra.Command {
	var opts nextAdjustmentOptions
	cmd := &cobra.Command{
		Use:   "next-adjustment",
		Short: "Project the next difficulty retarget (date and change) and the next halving, with 95% intervals",
		Long: `next-adjustment projects when the current epoch ends and by how much the difficulty will
change, from the hashrate measured over the current epoch. The 95% intervals are exact under a
constant hashrate and include the uncertainty of the measured rate itself. "Now" is the tip's
timestamp unless --now is given, so results are reproducible.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runNextAdjustment(cmd.Context(), g, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Now, "now", "", "reference time (default: the tip's timestamp)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func runNextAdjustment(ctx context.Context, g *globalOptions, opts nextAdjustmentOptions) error {
	p, hs, err := g.loadHeaders()
	if err != nil {
		return err
	}
	now := hs[len(hs)-1].Time
	if opts.Now != "" {
		t, err := parseTime(opts.Now)
		if err != nil {
			return err
		}
		if now = t.Unix(); now < hs[len(hs)-1].Time {
			return usagef("--now %s is before the tip's timestamp %s", report.Time(now), report.Time(hs[len(hs)-1].Time))
		}
		if now > report.MaxTime {
			return usagef("--now %s is after the year 9999, which RFC 3339 times cannot hold; give an earlier time",
				strings.TrimSpace(opts.Now))
		}
	}
	pr, err := analysis.ProjectNextAdjustment(p, hs, now)
	if err != nil {
		return err
	}
	if report.LastTime(pr) > report.MaxTime {
		return usagef("--now %s is too late: the projected dates pass the year 9999, which RFC 3339 times cannot "+
			"hold; give an earlier time", strings.TrimSpace(opts.Now))
	}
	out := report.NewNextAdjustment(pr)
	if opts.JSON {
		return writeJSON(g.stdout, out)
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "now\t%s (tip %d)\n", out.Now, pr.TipHeight)
	fmt.Fprintf(tw, "next retarget\theight %d: its difficulty is set when block %d is found, %d blocks from now\n",
		pr.NextRetargetHeight, pr.NextRetargetHeight-1, pr.BlocksRemaining)
	fmt.Fprintf(tw, "projected date\t%s  (95%%: %s .. %s), when block %d is found\n", out.Date, out.DateLo, out.DateHi,
		pr.NextRetargetHeight-1)
	fmt.Fprintf(tw, "projected change\t%+.2f%%  (95%%: %+.2f%% .. %+.2f%%)\n", pr.ChangePct, pr.ChangeLoPct, pr.ChangeHiPct)
	fmt.Fprintf(tw, "difficulty\t%s -> %s\n", analysis.FormatDifficulty(pr.CurrentDifficulty), analysis.FormatDifficulty(pr.ProjectedDifficulty))
	fmt.Fprintf(tw, "rate used\t%s  (%s), blocks %d..%d\n", analysis.FormatHashrate(pr.Rate.HashesPerSec), fmtInterval(pr.Rate), pr.Rate.FromHeight, pr.Rate.ToHeight)
	fmt.Fprintf(tw, "next halving\theight %d, %d blocks from now: %s  (95%%: %s .. %s)\n", pr.HalvingHeight,
		pr.HalvingBlocksRemaining, out.HalvingDate, out.HalvingDateLo, out.HalvingDateHi)
	fmt.Fprintf(tw, "\t(assumes a constant hashrate; after the retarget, blocks at the target spacing)\n")
	return tw.Flush()
}
