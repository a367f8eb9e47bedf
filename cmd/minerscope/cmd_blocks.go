package main

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/report"
)

type blocksOptions struct {
	From, To  int
	Pools     string
	CSV, JSON bool
}

// blockJSON is one row of `blocks --json`; the CSV has the same columns in this order.
type blockJSON struct {
	Height       int32   `json:"height"`
	Hash         string  `json:"hash"`
	Time         string  `json:"time"`
	Bits         string  `json:"bits"`
	Difficulty   float64 `json:"difficulty"`
	TxCount      int32   `json:"tx_count"`
	Size         int32   `json:"size"`
	Weight       int32   `json:"weight"`
	CoinbaseTxID string  `json:"coinbase_txid"`
	CoinbaseTag  string  `json:"coinbase_tag"`
	RewardSat    int64   `json:"reward_sat"`
	SubsidySat   int64   `json:"subsidy_sat"`
	FeesSat      int64   `json:"fees_sat"`
	Pool         string  `json:"pool"`
	PoolMatch    string  `json:"pool_match"`
	SegwitCommit bool    `json:"segwit_commitment"`
}

var blockCSVHeader = []string{"height", "hash", "time", "bits", "difficulty", "tx_count", "size", "weight",
	"coinbase_txid", "coinbase_tag", "reward_sat", "subsidy_sat", "fees_sat", "pool", "pool_match", "segwit_commitment"}

func newBlocksCommand(g *globalOptions) *cobra.Command {
	var opts blocksOptions
	cmd := &cobra.Command{
		Use:   "blocks",
		Short: "One row per block: header, coinbase, reward, fees and pool",
		Long: `blocks lists the indexed blocks with what their coinbase says: reward, subsidy and fees
(reward - subsidy: a lower bound when a miner claims less than it may), the coinbase tag, and the
pool it is attributed to (by payout address first, then by tag; see --pools). Without --from/--to:
the last 20 blocks on a terminal, every block with --csv or --json.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.CSV && opts.JSON {
				return usagef("--csv and --json exclude each other")
			}
			if !cmd.Flags().Changed("from") && !opts.CSV && !opts.JSON {
				opts.From = -20
			}
			return runBlocks(cmd.Context(), g, opts)
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.From, "from", 0, "first height")
	f.IntVar(&opts.To, "to", -1, "last height (default: the tip)")
	f.StringVar(&opts.Pools, "pools", "", poolsFlagUsage)
	f.BoolVar(&opts.CSV, "csv", false, "print CSV")
	f.BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func runBlocks(ctx context.Context, g *globalOptions, opts blocksOptions) error {
	db, m, err := g.openWithMatcher(opts.Pools)
	if err != nil {
		return err
	}
	defer db.Close()
	from := opts.From
	if from < 0 { // the last -from blocks
		tip, _, _ := db.Tip()
		from = max(0, int(tip)+from+1)
	}
	lo, hi, err := fullRange(db, from, opts.To)
	if err != nil {
		return err
	}
	rows, err := loadBlockRows(db, lo, hi, m)
	if err != nil {
		return err
	}
	out := make([]blockJSON, len(rows))
	for i, r := range rows {
		cb := r.Coinbase
		out[i] = blockJSON{
			Height: r.Height, Hash: r.Hash, Time: report.Time(r.Time), Bits: report.Bits(r.Bits),
			Difficulty: analysis.Difficulty(r.Bits), TxCount: cb.TxCount, Size: cb.Size, Weight: cb.Weight,
			CoinbaseTxID: cb.TxID.String(), CoinbaseTag: analysis.CoinbaseTag(cb.ScriptSig),
			RewardSat: int64(cb.Reward), SubsidySat: int64(cb.Subsidy), FeesSat: int64(cb.Fees),
			Pool: r.Pool.Pool, PoolMatch: r.Pool.Match, SegwitCommit: cb.SegwitCommit,
		}
	}
	switch {
	case opts.JSON:
		return writeJSON(g.stdout, out)
	case opts.CSV:
		recs := make([][]string, len(out))
		for i, b := range out {
			recs[i] = []string{fmt.Sprint(b.Height), b.Hash, b.Time, b.Bits, fmtFloat(b.Difficulty),
				fmt.Sprint(b.TxCount), fmt.Sprint(b.Size), fmt.Sprint(b.Weight), b.CoinbaseTxID, b.CoinbaseTag,
				fmt.Sprint(b.RewardSat), fmt.Sprint(b.SubsidySat), fmt.Sprint(b.FeesSat), b.Pool, b.PoolMatch,
				strconv.FormatBool(b.SegwitCommit)}
		}
		return writeCSV(g.stdout, blockCSVHeader, recs)
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "height\ttime (UTC)\ttxs\tsize\treward\tfees\tpool\tmatch\ttag")
	for _, b := range out {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%.40q\n", b.Height, b.Time, b.TxCount, b.Size,
			btcString(b.RewardSat), btcString(b.FeesSat), b.Pool, b.PoolMatch, b.CoinbaseTag)
	}
	return tw.Flush()
}
