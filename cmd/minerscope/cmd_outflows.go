package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/index"
	"github.com/minerscope/minerscope/report"
)

type outflowsOptions struct {
	Tx        bool
	Series    string
	Hops      int
	From, To  string
	Pools     string
	Labels    string
	Price     string
	ByPool    bool
	CSV, JSON bool
}

func newOutflowsCommand(g *globalOptions) *cobra.Command {
	var opts outflowsOptions
	cmd := &cobra.Command{
		Use:   "outflows",
		Short: "Miner outflows: one row per spending transaction (--tx) or per day, week or epoch (--series)",
		Long: `outflows reports the spends of miner outputs (definitions: README, "Miner flows").

With --tx, one row per transaction spending a miner output: the miner value it spends, other inputs,
what it pays back to miner scripts and to others, its fee, and its outflow (value leaving the miner
set, at most the miner value spent) and pool. fee_sat and other_input_sat are empty where the node
could not give the values of non-miner inputs (run it with txindex=1).

With --series daily|weekly|epoch, per period: outflow, internal transfers, inflow, reserve at the
end, net change, outflow multiple (outflow / its 365-day moving average), outflow / miner revenue,
spending transactions. --price FILE (CSV date,price_usd) adds the USD figures and the Miners'
Position Index; --labels FILE (CSV address,label) splits outflow by destination label.

--hops 0 uses the miner scripts paid by coinbases; --hops 1 adds every script paid by a transaction
spending their outputs (pool payouts), so a pool's payouts are internal and outflow is what leaves
the wider set. --from/--to take heights or UTC dates (--to DATE includes that day).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case opts.CSV && opts.JSON:
				return usagef("--csv and --json exclude each other")
			case opts.Tx == cmd.Flags().Changed("series"):
				return usagef("give exactly one of --tx and --series daily|weekly|epoch")
			case opts.Tx && opts.Price != "":
				return usagef("--price applies to --series")
			case opts.ByPool && (opts.Tx || opts.Price != "" || opts.Labels != ""):
				return usagef("--by-pool applies to --series, without --price and --labels")
			}
			if err := checkHops(opts.Hops); err != nil {
				return err
			}
			if !opts.Tx {
				switch opts.Series {
				case "daily", "weekly", "epoch":
				default:
					return usagef("--series must be daily, weekly or epoch, got %q", opts.Series)
				}
			}
			return runOutflows(cmd.Context(), g, opts)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.Tx, "tx", false, "one row per transaction spending a miner output")
	f.StringVar(&opts.Series, "series", "daily", "daily, weekly or epoch")
	f.IntVar(&opts.Hops, "hops", 0, "miner set: 0 (coinbase scripts) or 1 (and the scripts they pay)")
	f.StringVar(&opts.From, "from", "", "first height or UTC date")
	f.StringVar(&opts.To, "to", "", "last height or UTC date (inclusive)")
	f.StringVar(&opts.Pools, "pools", "", poolsFlagUsage)
	f.StringVar(&opts.Labels, "labels", "", "CSV address,label: split outflow by destination label")
	f.StringVar(&opts.Price, "price", "", "CSV date,price_usd: add USD figures and the Miners' Position Index")
	f.BoolVar(&opts.ByPool, "by-pool", false, "--series per pool: outflow, net change and reserve of each pool")
	f.BoolVar(&opts.CSV, "csv", false, "print CSV")
	f.BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func runOutflows(ctx context.Context, g *globalOptions, opts outflowsOptions) error {
	prices, err := loadPrices(opts.Price)
	if err != nil {
		return err
	}
	fd, err := g.openFlows(opts.Pools, opts.Labels)
	if err != nil {
		return err
	}
	defer fd.Close()
	lo, hi, err := fd.heightRange(opts.From, opts.To)
	if err != nil {
		return err
	}
	if note := fd.flowsFromNote(); note != "" {
		fmt.Fprintln(g.stderr, note)
	}
	switch {
	case opts.Tx:
		return outflowTxs(ctx, g, fd, opts, lo, hi)
	case opts.ByPool:
		return outflowPools(g, fd, opts, lo, hi)
	}
	return outflowSeries(g, fd, opts, prices, lo, hi)
}

// outflowTxRow is one row of `outflows --tx`.
type outflowTxRow struct {
	TxID          string           `json:"txid"`
	Height        int32            `json:"height"`
	Time          string           `json:"time"`
	FromMinerSat  int64            `json:"from_miner_sat"`
	OtherInputSat *int64           `json:"other_input_sat"` // null when unknown
	ToMinerSat    int64            `json:"to_miner_sat"`
	ToExternalSat int64            `json:"to_external_sat"`
	FeeSat        *int64           `json:"fee_sat"` // null when unknown
	OutflowSat    int64            `json:"outflow_sat"`
	InternalSat   int64            `json:"internal_sat"`
	Pool          string           `json:"pool"`
	Labels        map[string]int64 `json:"labels,omitempty"`
}

var outflowTxHeader = []string{"txid", "height", "time", "from_miner_sat", "other_input_sat", "to_miner_sat",
	"to_external_sat", "fee_sat", "outflow_sat", "internal_sat", "pool"}

func outflowTxs(ctx context.Context, g *globalOptions, fd *flowData, opts outflowsOptions, lo, hi int32) error {
	var labels []string
	if fd.labels != nil {
		var err error
		if labels, err = fd.labelNames(); err != nil {
			return err
		}
	}
	hdrs, err := fd.db.Headers(lo, hi)
	if err != nil {
		return err
	}
	var rows []outflowTxRow
	err = fd.db.FlowTxs(lo, hi, func(tx *index.FlowTx) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		f, err := tx.Flow(opts.Hops)
		if err != nil || f.FromMiner == 0 {
			return err // a level-1 spend at --hops 0 is not a row
		}
		pool, err := fd.pool(f.Origin)
		if err != nil {
			return err
		}
		r := outflowTxRow{TxID: tx.TxID.String(), Height: tx.Height,
			Time: report.Time(hdrs[tx.Height-lo].Header.Timestamp.Unix()), FromMinerSat: int64(f.FromMiner),
			ToMinerSat: int64(f.ToMiner), ToExternalSat: int64(f.ToExternal), OutflowSat: int64(f.Outflow),
			InternalSat: int64(f.Internal), Pool: pool}
		if tx.FeeKnown() {
			other, fee := int64(f.OtherInput), int64(f.Fee)
			r.OtherInputSat, r.FeeSat = &other, &fee
		}
		if fd.labels != nil {
			parts, err := fd.labelOutflow(tx, opts.Hops)
			if err != nil {
				return err
			}
			r.Labels = make(map[string]int64, len(labels))
			for _, l := range labels {
				r.Labels[labelColumn(l)] = int64(parts[l])
			}
		}
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		return err
	}
	switch {
	case opts.JSON:
		if rows == nil {
			rows = []outflowTxRow{}
		}
		return writeJSON(g.stdout, rows)
	case opts.CSV:
		header := outflowTxHeader
		for _, l := range labels {
			header = append(header, labelColumn(l))
		}
		recs := make([][]string, len(rows))
		for i, r := range rows {
			rec := []string{r.TxID, itoa(int64(r.Height)), r.Time, itoa(r.FromMinerSat), optInt(r.OtherInputSat),
				itoa(r.ToMinerSat), itoa(r.ToExternalSat), optInt(r.FeeSat), itoa(r.OutflowSat),
				itoa(r.InternalSat), r.Pool}
			for _, l := range labels {
				rec = append(rec, itoa(r.Labels[labelColumn(l)]))
			}
			recs[i] = rec
		}
		return writeCSV(g.stdout, header, recs)
	}
	return printOutflowTxs(g.stdout, rows, opts.Hops)
}

func printOutflowTxs(w io.Writer, rows []outflowTxRow, hops int) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "height\ttime\ttxid\tfrom miner\toutflow\tinternal\tfee\tpool\n")
	var out, internal int64
	for _, r := range rows {
		fee := "unknown"
		if r.FeeSat != nil {
			fee = btcString(*r.FeeSat)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Height, r.Time, r.TxID, btcString(r.FromMinerSat),
			btcString(r.OutflowSat), btcString(r.InternalSat), fee, r.Pool)
		out += r.OutflowSat
		internal += r.InternalSat
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d transaction(s) spending %d-hop miner outputs: outflow %s, internal %s\n",
		len(rows), hops, btcString(out), btcString(internal))
	return err
}

// outflowPointJSON is one period of `outflows --series`: the API's point, with the label split (--labels)
// and the USD figures (--price). The CSV has the same columns, empty where JSON has null.
type outflowPointJSON struct {
	report.OutflowPoint
	Labels map[string]int64 `json:"labels,omitempty"`
	USD    *outflowUSD      `json:"usd,omitempty"`
}

// outflowUSD holds a period's USD figures (with --price), in cents.
type outflowUSD struct {
	OutflowCents int64    `json:"outflow_cents"`
	InflowCents  int64    `json:"inflow_cents"`
	ReserveCents int64    `json:"reserve_cents"`
	RevenueCents int64    `json:"revenue_cents"`
	MPI          *float64 `json:"mpi"`
}

var outflowSeriesHeader = []string{"period", "start", "end", "from_height", "to_height", "blocks", "outflow_sat",
	"internal_sat", "inflow_sat", "coinbase_inflow_sat", "miner_fee_sat", "lost_sat", "reserve_sat",
	"net_change_sat", "revenue_sat", "outflow_multiple", "ma_days", "outflow_revenue_ratio", "spending_txs"}

var outflowUSDHeader = []string{"outflow_usd", "inflow_usd", "reserve_usd", "revenue_usd", "mpi"}

func outflowSeries(g *globalOptions, fd *flowData, opts outflowsOptions, prices analysis.Prices,
	lo, hi int32) error {

	var labels []string
	if fd.labels != nil {
		var err error
		if labels, err = fd.labelNames(); err != nil {
			return err
		}
	}
	blocks, err := fd.blockFlows(opts.Hops)
	if err != nil {
		return err
	}
	// The whole indexed range feeds the series, so that reserves and moving averages do not depend on
	// --from; the points are then cut to the blocks asked for.
	pts, err := analysis.FlowSeries(fd.p, blocks, 0, opts.Series, prices)
	if err != nil {
		return err
	}
	var out []outflowPointJSON
	for _, p := range pts {
		if !pointInRange(p, blocks, lo, hi) {
			continue
		}
		r := outflowPointJSON{OutflowPoint: report.NewOutflowPoint(p)}
		if labels != nil {
			r.Labels = make(map[string]int64, len(labels))
			for _, l := range labels {
				r.Labels[labelColumn(l)] = int64(p.OutflowByLabel[l])
			}
		}
		if prices != nil && p.HasUSD {
			r.USD = &outflowUSD{OutflowCents: p.OutflowUSD, InflowCents: p.InflowUSD, ReserveCents: p.ReserveUSD,
				RevenueCents: p.RevenueUSD, MPI: report.OptFloat(p.MPI)}
		}
		out = append(out, r)
	}
	switch {
	case opts.JSON:
		if out == nil {
			out = []outflowPointJSON{}
		}
		return writeJSON(g.stdout, out)
	case opts.CSV:
		header := outflowSeriesHeader
		for _, l := range labels {
			header = append(header, labelColumn(l))
		}
		if prices != nil {
			header = append(header, outflowUSDHeader...)
		}
		recs := make([][]string, len(out))
		for i, r := range out {
			rec := []string{r.Period, r.Start, r.End, itoa(int64(r.FromHeight)), itoa(int64(r.ToHeight)),
				itoa(int64(r.Blocks)), itoa(r.OutflowSat), itoa(r.InternalSat), itoa(r.InflowSat),
				itoa(r.CoinbaseInflowSat), itoa(r.MinerFeeSat), itoa(r.LostSat), itoa(r.ReserveSat),
				itoa(r.NetChangeSat), itoa(r.RevenueSat), optFloatString(r.OutflowMultiple), itoa(int64(r.MADays)),
				optFloatString(r.OutflowToRevenue), itoa(r.SpendingTxs)}
			for _, l := range labels {
				rec = append(rec, itoa(r.Labels[labelColumn(l)]))
			}
			if prices != nil {
				if r.USD == nil {
					rec = append(rec, "", "", "", "", "")
				} else {
					rec = append(rec, centsString(r.USD.OutflowCents), centsString(r.USD.InflowCents),
						centsString(r.USD.ReserveCents), centsString(r.USD.RevenueCents), optFloatString(r.USD.MPI))
				}
			}
			recs[i] = rec
		}
		return writeCSV(g.stdout, header, recs)
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "period\theights\toutflow\tinternal\tinflow\treserve\tmultiple\toutflow/revenue\ttxs")
	for _, r := range out {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", r.Period, heightsText(r.FromHeight, r.ToHeight),
			btcString(r.OutflowSat), btcString(r.InternalSat), btcString(r.InflowSat), btcString(r.ReserveSat),
			optFloatText(r.OutflowMultiple, 2), optFloatText(r.OutflowToRevenue, 4), r.SpendingTxs)
	}
	return tw.Flush()
}

// pointInRange reports whether a period overlaps the heights [lo, hi]: a period with blocks by its
// heights, an empty one by lying between the times of lo's and hi's blocks.
func pointInRange(p analysis.FlowPoint, blocks []analysis.BlockFlow, lo, hi int32) bool {
	if p.Blocks > 0 {
		return p.ToHeight >= lo && p.FromHeight <= hi
	}
	first := blocks[lo-blocks[0].Height].Time
	last := blocks[hi-blocks[0].Height].Time
	return p.End > first && p.Start <= last
}

func heightsText(from, to int32) string {
	if from < 0 {
		return "-"
	}
	return fmt.Sprintf("%d..%d", from, to)
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func optInt(v *int64) string {
	if v == nil {
		return ""
	}
	return itoa(*v)
}

func optFloatString(f *float64) string {
	if f == nil {
		return ""
	}
	return fmtFloat(*f)
}

func optFloatText(f *float64, prec int) string {
	if f == nil {
		return "-"
	}
	return strconv.FormatFloat(*f, 'f', prec, 64)
}

// centsString prints cents as dollars with two decimals, exactly.
func centsString(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)
}

// outflowPoolJSON is one row of `outflows --series X --by-pool`.
type outflowPoolJSON struct {
	Period       string `json:"period"`
	Pool         string `json:"pool"`
	OutflowSat   int64  `json:"outflow_sat"`
	NetChangeSat int64  `json:"net_change_sat"`
	ReserveSat   int64  `json:"reserve_sat"`
}

var outflowPoolHeader = []string{"period", "pool", "outflow_sat", "net_change_sat", "reserve_sat"}

// outflowPools prints outflow, net change and reserve per period and pool. Like the series, it is computed
// over the whole index and then cut to the periods holding blocks lo..hi.
func outflowPools(g *globalOptions, fd *flowData, opts outflowsOptions, lo, hi int32) error {
	recs, err := fd.db.BlockFlows(fd.lo, fd.hi)
	if err != nil {
		return err
	}
	blocks := make([]analysis.BlockOriginFlows, len(recs))
	keep := map[string]bool{}
	for i := range recs {
		blocks[i] = analysis.BlockOriginFlows{Height: recs[i].Height, Time: recs[i].Time,
			Origins: recs[i].Levels[opts.Hops].Origins}
		if recs[i].Height >= lo && recs[i].Height <= hi {
			label, err := analysis.PeriodLabel(fd.p, opts.Series, recs[i].Height, recs[i].Time)
			if err != nil {
				return err
			}
			keep[label] = true
		}
	}
	pts, err := analysis.PoolFlowSeries(fd.p, blocks, opts.Series, fd.pool)
	if err != nil {
		return err
	}
	var out []outflowPoolJSON
	for _, p := range pts {
		if keep[p.Label] {
			out = append(out, outflowPoolJSON{Period: p.Label, Pool: p.Pool, OutflowSat: int64(p.Outflow),
				NetChangeSat: int64(p.NetChange), ReserveSat: int64(p.Reserve)})
		}
	}
	switch {
	case opts.JSON:
		if out == nil {
			out = []outflowPoolJSON{}
		}
		return writeJSON(g.stdout, out)
	case opts.CSV:
		recs := make([][]string, len(out))
		for i, r := range out {
			recs[i] = []string{r.Period, r.Pool, itoa(r.OutflowSat), itoa(r.NetChangeSat), itoa(r.ReserveSat)}
		}
		return writeCSV(g.stdout, outflowPoolHeader, recs)
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "period\tpool\toutflow\tnet change\treserve")
	for _, r := range out {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Period, r.Pool, btcString(r.OutflowSat), btcString(r.NetChangeSat),
			btcString(r.ReserveSat))
	}
	return tw.Flush()
}
