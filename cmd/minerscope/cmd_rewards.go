package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/report"
)

type rewardsOptions struct {
	Series    string
	CSV, JSON bool
}

// rewardJSON is one period of `rewards --json`; the CSV has the same columns.
type rewardJSON struct {
	Period     string  `json:"period"`
	Start      string  `json:"start"`
	End        string  `json:"end"`
	FromHeight int32   `json:"from_height"`
	ToHeight   int32   `json:"to_height"`
	Blocks     int     `json:"blocks"`
	SubsidySat int64   `json:"subsidy_sat"`
	FeesSat    int64   `json:"fees_sat"`
	RewardSat  int64   `json:"reward_sat"`
	FeeShare   float64 `json:"fee_share"`
}

var rewardCSVHeader = []string{"period", "start", "end", "from_height", "to_height", "blocks", "subsidy_sat",
	"fees_sat", "reward_sat", "fee_share"}

func newRewardsCommand(g *globalOptions) *cobra.Command {
	var opts rewardsOptions
	cmd := &cobra.Command{
		Use:   "rewards",
		Short: "Miner revenue per day, week or epoch: subsidy, fees, reward (sat) and fee share",
		Long: `rewards sums the coinbases of the indexed blocks per UTC day, ISO week or difficulty epoch:
blocks, subsidy, fees (reward - subsidy per block: a lower bound where a miner under-claims) and the
whole reward, all in satoshis, and the share of fees in the reward.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.CSV && opts.JSON {
				return usagef("--csv and --json exclude each other")
			}
			switch opts.Series {
			case "daily", "weekly", "epoch":
			default:
				return usagef("--series must be daily, weekly or epoch, got %q", opts.Series)
			}
			return runRewards(cmd.Context(), g, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Series, "series", "daily", "daily, weekly or epoch")
	f.BoolVar(&opts.CSV, "csv", false, "print CSV")
	f.BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func runRewards(ctx context.Context, g *globalOptions, opts rewardsOptions) error {
	db, err := g.openIndexReadOnly()
	if err != nil {
		return err
	}
	defer db.Close()
	lo, hi, hs, err := fullHeaders(db)
	if err != nil {
		return err
	}
	blocks, err := loadRewards(db, hs, lo, hi)
	if err != nil {
		return err
	}
	pts, err := analysis.RewardSeries(db.Params(), blocks, opts.Series)
	if err != nil {
		return err
	}
	out := make([]rewardJSON, len(pts))
	for i, p := range pts {
		out[i] = rewardJSON{Period: p.Label, Start: report.Time(p.Start), End: report.Time(p.End), FromHeight: p.FromHeight,
			ToHeight: p.ToHeight, Blocks: p.Blocks, SubsidySat: int64(p.Subsidy), FeesSat: int64(p.Fees),
			RewardSat: int64(p.Reward), FeeShare: p.FeeShare}
	}
	switch {
	case opts.JSON:
		return writeJSON(g.stdout, out)
	case opts.CSV:
		recs := make([][]string, len(out))
		for i, r := range out {
			recs[i] = []string{r.Period, r.Start, r.End, fmt.Sprint(r.FromHeight), fmt.Sprint(r.ToHeight),
				fmt.Sprint(r.Blocks), fmt.Sprint(r.SubsidySat), fmt.Sprint(r.FeesSat), fmt.Sprint(r.RewardSat),
				fmtFloat(r.FeeShare)}
		}
		return writeCSV(g.stdout, rewardCSVHeader, recs)
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "period\theights\tblocks\tsubsidy\tfees\treward\tfee share")
	for _, r := range out {
		fmt.Fprintf(tw, "%s\t%d..%d\t%d\t%s\t%s\t%s\t%.4f%%\n", r.Period, r.FromHeight, r.ToHeight, r.Blocks,
			btcString(r.SubsidySat), btcString(r.FeesSat), btcString(r.RewardSat), 100*r.FeeShare)
	}
	return tw.Flush()
}
