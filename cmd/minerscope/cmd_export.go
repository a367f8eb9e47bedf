package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/export"
	"github.com/minerscope/minerscope/index"
	"github.com/minerscope/minerscope/report"
)

type exportOptions struct {
	Format   string
	Out      string
	Tables   string
	From, To int
	Pools    string
	Force    bool
	Schema   bool
}

// exportChunk is how many blocks the blocks and pools tables read from the index at a time: it bounds their
// memory however long the chain.
const exportChunk = 10000

func newExportCommand(g *globalOptions) *cobra.Command {
	var opts exportOptions
	cmd := &cobra.Command{
		Use:   "export --out DIR [--format parquet|csv]",
		Short: "Write the index's tables as Parquet or CSV files for DuckDB, Spark or pandas",
		Long: `export writes one file per table into DIR, then DIR/manifest.json (network, tip, row counts,
schema); a DIR without the manifest holds an interrupted export. Tables:

  blocks          one row per block: header, coinbase, reward, fees, pool
  epochs          one row per difficulty epoch with its hashrate and 95% interval
  hashrate_daily  hashrate per UTC day with its 95% interval
  rewards_daily   subsidy, fees and reward per UTC day
  outflow_txs     transactions spending miner outputs, at hops 0 and 1
  flows_daily     miner flows per UTC day, at hops 0 and 1
  pools_daily     blocks, share and hashrate of each pool per UTC day

Amounts are int64 satoshis, times UTC timestamps (milliseconds), days dates; --schema prints every
column's type. A headers-only index has only epochs and hashrate_daily. --from/--to limit the
per-block tables to those heights and the others to the periods overlapping them (computed over
the whole index, as the other commands do). DIR must be empty unless --force, which replaces the
files of an earlier export.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Schema {
				return export.WriteSchema(g.stdout)
			}
			if opts.Out == "" {
				return usagef("--out DIR is required")
			}
			if _, err := export.ParseFormat(opts.Format); err != nil {
				return usagef("--format: %v", err)
			}
			if opts.From < 0 {
				return usagef("--from %d is negative", opts.From)
			}
			if opts.To >= 0 && opts.To < opts.From {
				return usagef("--to %d is below --from %d", opts.To, opts.From)
			}
			return runExport(cmd.Context(), g, opts, cmd.Flags().Changed("tables"))
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Format, "format", "parquet", "parquet or csv")
	f.StringVar(&opts.Out, "out", "", "directory to write the files into")
	f.StringVar(&opts.Tables, "tables", strings.Join(export.TableNames(), ","), "comma-separated tables to write")
	f.IntVar(&opts.From, "from", 0, "first height")
	f.IntVar(&opts.To, "to", -1, "last height (default: the tip)")
	f.StringVar(&opts.Pools, "pools", "", poolsFlagUsage)
	f.BoolVar(&opts.Force, "force", false, "write into a non-empty --out, replacing an earlier export's files")
	f.BoolVar(&opts.Schema, "schema", false, "print the tables' columns and types (Markdown) and exit")
	return cmd
}

// headerTables need only headers; the others need a full index.
var headerTables = []string{export.TableEpochs, export.TableHashrateDaily}

// parseTables checks --tables and returns the names in export order.
func parseTables(s string) ([]string, error) {
	want := map[string]bool{}
	for _, t := range strings.Split(s, ",") {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if !slices.Contains(export.TableNames(), t) {
			return nil, usagef("--tables: unknown table %q; choose from %s", t, strings.Join(export.TableNames(), ","))
		}
		want[t] = true
	}
	var out []string
	for _, t := range export.TableNames() {
		if want[t] {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, usagef("--tables names no table; choose from %s", strings.Join(export.TableNames(), ","))
	}
	return out, nil
}

// exporter holds what every table's export reads: the open index, the headers and the heights asked for.
type exporter struct {
	ctx    context.Context
	g      *globalOptions
	db     *index.DB
	m      *analysis.Matcher
	p      analysis.Params
	format export.Format
	dir    string
	wopts  export.Options

	hs         []analysis.Header // every header, 0..tip
	hlo, hhi   int32             // heights asked for, clamped to the index
	lo, hi     int32             // the same clamped to the full blocks (full index only)
	full       bool              // the full-block tables can be exported
	fullErr    error             // why not, on a full index
	blocksFrom int32
	flows      *flowData // opened on first use
}

func runExport(ctx context.Context, g *globalOptions, opts exportOptions, tablesGiven bool) error {
	tables, err := parseTables(opts.Tables)
	if err != nil {
		return err
	}
	db, m, err := g.openWithMatcher(opts.Pools)
	if err != nil {
		return err
	}
	defer db.Close()
	ex, err := newExporter(ctx, g, db, m, opts)
	if err != nil {
		return err
	}
	if tables, err = ex.fitTables(tables, tablesGiven); err != nil {
		return err
	}
	if err := export.PrepareDir(opts.Out, opts.Force); err != nil {
		if errors.Is(err, export.ErrNotEmpty) {
			return usagef("--out %s is not empty; choose an empty or new directory, or pass --force to replace "+
				"an earlier export's files", opts.Out)
		}
		return err
	}
	tip, hash, _ := db.Tip()
	man := export.Manifest{SchemaVersion: export.SchemaVersion, Minerscope: minerscopeVersion(),
		Format: ex.format, Network: ex.p.Name, TipHeight: tip, TipHash: hash.String(), FromHeight: ex.hlo,
		ToHeight: ex.hhi, CreatedAt: time.Now().UTC().Format(time.RFC3339)}
	for _, t := range tables {
		e, err := ex.table(t)
		if err != nil {
			return err
		}
		man.Tables = append(man.Tables, e)
	}
	if err := export.WriteManifest(opts.Out, man); err != nil {
		return err
	}
	return printExportSummary(g, opts.Out, man)
}

func newExporter(ctx context.Context, g *globalOptions, db *index.DB, m *analysis.Matcher,
	opts exportOptions) (*exporter, error) {

	tip, hash, ok := db.Tip()
	if !ok {
		return nil, fmt.Errorf("%w: the index is empty; run `minerscope index` first", index.ErrNoIndex)
	}
	p := db.Params()
	ex := &exporter{ctx: ctx, g: g, db: db, m: m, p: p, format: export.Format(opts.Format), dir: opts.Out,
		hlo: int32(opts.From), hhi: tip}
	if opts.To >= 0 {
		ex.hhi = min(int32(opts.To), tip)
	}
	if ex.hlo > ex.hhi {
		return nil, usagef("--from %d is above the index tip %d", opts.From, tip)
	}
	ex.wopts = export.Options{Version: minerscopeVersion(), Metadata: map[string]string{
		"minerscope.network":        p.Name,
		"minerscope.tip_height":     strconv.Itoa(int(tip)),
		"minerscope.tip_hash":       hash.String(),
		"minerscope.schema_version": strconv.Itoa(export.SchemaVersion),
	}}
	var err error
	if ex.hs, err = db.AnalysisHeaders(0, tip); err != nil {
		return nil, err
	}
	var full bool
	ex.blocksFrom, full = db.BlocksFrom()
	if full {
		// Without a full block in the range, only the header tables can be exported.
		ex.lo, ex.hi, ex.fullErr = fullRange(db, opts.From, opts.To)
		ex.full = ex.fullErr == nil
	}
	return ex, nil
}

// fitTables drops the full-block tables from the default list when they cannot be exported (a headers-only
// index, or no full block in the heights asked for), with a note, and refuses them when asked for by name.
func (ex *exporter) fitTables(tables []string, given bool) ([]string, error) {
	if ex.full {
		return tables, nil
	}
	var keep, dropped []string
	for _, t := range tables {
		if slices.Contains(headerTables, t) {
			keep = append(keep, t)
		} else {
			dropped = append(dropped, t)
		}
	}
	if len(dropped) == 0 {
		return keep, nil
	}
	if ex.fullErr != nil {
		if given || len(keep) == 0 {
			return nil, ex.fullErr
		}
		fmt.Fprintf(ex.g.stderr, "note: %v: exporting %s\n", ex.fullErr, strings.Join(keep, ", "))
		return keep, nil
	}
	if given || len(keep) == 0 {
		return nil, fmt.Errorf("index %s holds headers only, and the tables %s need full blocks: export "+
			"--tables %s, or index full blocks into a new --index directory (minerscope index without "+
			"--headers-only)", ex.db.Dir(), strings.Join(dropped, ","), strings.Join(headerTables, ","))
	}
	fmt.Fprintf(ex.g.stderr, "note: the index holds headers only: exporting %s\n", strings.Join(keep, ", "))
	return keep, nil
}

// table writes one table.
func (ex *exporter) table(name string) (export.TableEntry, error) {
	switch name {
	case export.TableBlocks:
		return writeTable(ex, ex.blocks)
	case export.TableEpochs:
		return writeTable(ex, ex.epochs)
	case export.TableHashrateDaily:
		return writeTable(ex, ex.hashrateDaily)
	case export.TableRewardsDaily:
		return writeTable(ex, ex.rewardsDaily)
	case export.TableOutflowTxs:
		return writeTable(ex, ex.outflowTxs)
	case export.TableFlowsDaily:
		return writeTable(ex, ex.flowsDaily)
	case export.TablePoolsDaily:
		return writeTable(ex, ex.poolsDaily)
	}
	return export.TableEntry{}, fmt.Errorf("unknown table %q", name)
}

// writeTable creates T's file, lets fill stream the rows into it and closes it; on error the file is removed.
func writeTable[T export.Row](ex *exporter, fill func(*export.Writer[T]) error) (export.TableEntry, error) {
	w, err := export.Create[T](ex.dir, ex.format, ex.wopts)
	if err != nil {
		return export.TableEntry{}, err
	}
	if err := fill(w); err != nil {
		w.Abort()
		var zero T
		return export.TableEntry{}, fmt.Errorf("export %s: %w", zero.TableName(), err)
	}
	if err := w.Close(); err != nil {
		return export.TableEntry{}, err
	}
	return w.Entry(), nil
}

func utcTime(unix int64) time.Time { return time.Unix(unix, 0).UTC() }

func optHeight(h int32) *int32 {
	if h < 0 {
		return nil
	}
	return &h
}

// inRange reports whether a period overlaps the heights [lo, hi]: by its heights when it holds blocks (from
// >= 0), otherwise by lying between the timestamps of lo's and hi's blocks.
func (ex *exporter) inRange(from, to int32, start, end int64, lo, hi int32) bool {
	if from >= 0 {
		return to >= lo && from <= hi
	}
	return end > ex.hs[lo].Time && start <= ex.hs[hi].Time
}

// blocks streams the blocks table, exportChunk blocks at a time, with a progress bar.
func (ex *exporter) blocks(w *export.Writer[export.Block]) error {
	bar := newExportProgress(ex.g, "blocks", int64(ex.hi-ex.lo+1))
	defer bar.finish()
	out := make([]export.Block, 0, exportChunk)
	for a := ex.lo; a <= ex.hi; a += exportChunk {
		if err := ex.ctx.Err(); err != nil {
			return err
		}
		b := min(ex.hi, a+exportChunk-1)
		rows, err := loadBlockRows(ex.db, a, b, ex.m)
		if err != nil {
			return err
		}
		out = out[:0]
		for _, r := range rows {
			cb := &r.Coinbase
			out = append(out, export.Block{Height: r.Height, Hash: r.Hash, Time: utcTime(r.Time),
				Bits: report.Bits(r.Bits), Difficulty: analysis.Difficulty(r.Bits), TxCount: cb.TxCount, Size: cb.Size,
				Weight: cb.Weight, CoinbaseTxID: cb.TxID.String(), CoinbaseTag: analysis.CoinbaseTag(cb.ScriptSig),
				RewardSat: int64(cb.Reward), SubsidySat: int64(cb.Subsidy), FeesSat: int64(cb.Fees),
				Pool: r.Pool.Pool, PoolMatch: r.Pool.Match, SegwitCommitment: cb.SegwitCommit})
		}
		if err := w.Write(out...); err != nil {
			return err
		}
		bar.set(int64(b - ex.lo + 1))
	}
	return nil
}

func (ex *exporter) epochs(w *export.Writer[export.Epoch]) error {
	eps, err := analysis.Epochs(ex.p, ex.hs)
	if err != nil {
		return err
	}
	for _, e := range eps {
		if e.EndHeight < ex.hlo || e.StartHeight > ex.hhi {
			continue
		}
		r := export.Epoch{Epoch: e.Number, StartHeight: e.StartHeight, EndHeight: e.EndHeight,
			StartTime: utcTime(e.StartTime), EndTime: utcTime(e.EndTime), Bits: report.Bits(e.Bits),
			Difficulty: e.Difficulty, ChangePct: e.ChangePct, DurationS: e.DurationS,
			HashrateHS: e.Hashrate.HashesPerSec, Complete: e.Complete}
		r.HashrateLoHS, r.HashrateHiHS = interval(e.Hashrate)
		if err := w.Write(r); err != nil {
			return err
		}
	}
	return nil
}

// interval is an estimate's 95% bounds, nil when it has none.
func interval(e analysis.Estimate) (lo, hi *float64) {
	if !e.HasInterval {
		return nil, nil
	}
	return &e.Lo, &e.Hi
}

// dailyHashrate is `hashrate --series daily` over the whole index.
func (ex *exporter) dailyHashrate() []analysis.SeriesPoint {
	return analysis.DailyHashrate(ex.p, ex.hs, ex.hs[0].Time, ex.hs[len(ex.hs)-1].Time+1)
}

func (ex *exporter) hashrateDaily(w *export.Writer[export.HashrateDay]) error {
	for _, pt := range ex.dailyHashrate() {
		e := pt.Estimate
		if pt.Blocks == 0 {
			e.FromHeight, e.ToHeight = -1, -1
		}
		if !ex.inRange(e.FromHeight, e.ToHeight, pt.Start, pt.End, ex.hlo, ex.hhi) {
			continue
		}
		r := export.HashrateDay{Day: export.DateOf(utcTime(pt.Start)), Start: utcTime(pt.Start),
			End: utcTime(pt.End), Blocks: int32(pt.Blocks), HashrateHS: e.HashesPerSec,
			FromHeight: optHeight(e.FromHeight), ToHeight: optHeight(e.ToHeight)}
		r.LoHS, r.HiHS = interval(e)
		if err := w.Write(r); err != nil {
			return err
		}
	}
	return nil
}

func (ex *exporter) rewardsDaily(w *export.Writer[export.RewardDay]) error {
	tip := int32(len(ex.hs) - 1)
	blocks, err := loadRewards(ex.db, ex.hs, ex.blocksFrom, tip)
	if err != nil {
		return err
	}
	pts, err := analysis.RewardSeries(ex.p, blocks, analysis.PeriodDaily)
	if err != nil {
		return err
	}
	for _, pt := range pts {
		if !ex.inRange(pt.FromHeight, pt.ToHeight, pt.Start, pt.End, ex.lo, ex.hi) {
			continue
		}
		r := export.RewardDay{Day: export.DateOf(utcTime(pt.Start)), FromHeight: optHeight(pt.FromHeight),
			ToHeight: optHeight(pt.ToHeight), Blocks: int32(pt.Blocks), SubsidySat: int64(pt.Subsidy),
			FeesSat: int64(pt.Fees), RewardSat: int64(pt.Reward), FeeShare: pt.FeeShare}
		if err := w.Write(r); err != nil {
			return err
		}
	}
	return nil
}

// flowData returns the flow view of the open index, as openFlows builds it, noting once when the full
// blocks do not start at genesis.
func (ex *exporter) flowData() *flowData {
	if ex.flows == nil {
		ex.flows = &flowData{db: ex.db, p: ex.p, matcher: ex.m, pools: make(map[int32]string),
			lo: ex.blocksFrom, hi: int32(len(ex.hs) - 1)}
		if note := ex.flows.flowsFromNote(); note != "" {
			fmt.Fprintln(ex.g.stderr, note)
		}
	}
	return ex.flows
}

// outflowTxs streams the rows of `outflows --tx` at hops 0 and then 1 for each transaction.
func (ex *exporter) outflowTxs(w *export.Writer[export.OutflowTx]) error {
	fd := ex.flowData()
	rows := make([]export.OutflowTx, 0, 2)
	return ex.db.FlowTxs(ex.lo, ex.hi, func(tx *index.FlowTx) error {
		if err := ex.ctx.Err(); err != nil {
			return err
		}
		rows = rows[:0]
		for hops := range 2 {
			f, err := tx.Flow(hops)
			if err != nil {
				return err
			}
			if f.FromMiner == 0 {
				continue // a level-1 spend is no row at hops 0
			}
			pool, err := fd.pool(f.Origin)
			if err != nil {
				return err
			}
			r := export.OutflowTx{Hops: int32(hops), TxID: tx.TxID.String(), Height: tx.Height,
				Time: utcTime(ex.hs[tx.Height].Time), FromMinerSat: int64(f.FromMiner), ToMinerSat: int64(f.ToMiner),
				ToExternalSat: int64(f.ToExternal), OutflowSat: int64(f.Outflow), InternalSat: int64(f.Internal),
				Pool: pool}
			if tx.FeeKnown() {
				other, fee := int64(f.OtherInput), int64(f.Fee)
				r.OtherInputSat, r.FeeSat = &other, &fee
			}
			rows = append(rows, r)
		}
		return w.Write(rows...)
	})
}

// flowsDaily writes `outflows --series daily` at hops 0, then at hops 1.
func (ex *exporter) flowsDaily(w *export.Writer[export.FlowDay]) error {
	fd := ex.flowData()
	for hops := range 2 {
		blocks, err := fd.blockFlows(hops)
		if err != nil {
			return err
		}
		pts, err := analysis.FlowSeries(ex.p, blocks, 0, analysis.PeriodDaily, nil)
		if err != nil {
			return err
		}
		for _, pt := range pts {
			if !pointInRange(pt, blocks, ex.lo, ex.hi) {
				continue
			}
			r := export.FlowDay{Hops: int32(hops), Day: export.DateOf(utcTime(pt.Start)),
				FromHeight: optHeight(pt.FromHeight), ToHeight: optHeight(pt.ToHeight), Blocks: int32(pt.Blocks),
				OutflowSat: int64(pt.Outflow), InternalSat: int64(pt.Internal), InflowSat: int64(pt.Inflow),
				CoinbaseInflowSat: int64(pt.CoinbaseInflow), MinerFeeSat: int64(pt.MinerFee), LostSat: int64(pt.Lost),
				ReserveSat: int64(pt.Reserve), NetChangeSat: int64(pt.NetChange), RevenueSat: int64(pt.Revenue),
				OutflowMultiple: report.OptFloat(pt.OutflowMultiple), MADays: int32(pt.MADays),
				OutflowRevenueRatio: report.OptFloat(pt.OutflowToRevenue), SpendingTxs: pt.SpendingTxs}
			if err := w.Write(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// poolsDaily writes, for every UTC day whose blocks all have full data, `pools` over that day: the day's
// blocks attributed and split with PoolShares against the day's hashrate (hashrate_daily), whose blocks
// are exactly those stamped in the day.
func (ex *exporter) poolsDaily(w *export.Writer[export.PoolDay]) error {
	for _, pt := range ex.dailyHashrate() {
		if err := ex.ctx.Err(); err != nil {
			return err
		}
		e := pt.Estimate
		if pt.Blocks == 0 || e.FromHeight < ex.blocksFrom || !ex.inRange(e.FromHeight, e.ToHeight, 0, 0, ex.lo, ex.hi) {
			continue
		}
		rows, err := loadBlockRows(ex.db, e.FromHeight, e.ToHeight, ex.m)
		if err != nil {
			return err
		}
		attributed := blockAttributions(rows, func(t int64) bool { return t >= pt.Start && t < pt.End })
		if len(attributed) != pt.Blocks {
			return fmt.Errorf("%w: day %s has %d blocks in the hashrate series but %d in heights %d..%d",
				index.ErrCorrupt, report.Time(pt.Start), pt.Blocks, len(attributed), e.FromHeight, e.ToHeight)
		}
		day := export.DateOf(utcTime(pt.Start))
		for _, s := range analysis.PoolShares(e, attributed) {
			r := export.PoolDay{Day: day, Pool: s.Pool, Blocks: int32(s.Blocks), Share: s.Share,
				ShareLo: s.ShareLo, ShareHi: s.ShareHi, HashrateHS: s.Hashrate, HashrateLoHS: s.HashrateLo,
				HashrateHiHS: s.HashrateHi, ByAddress: int32(s.ByAddress), ByTag: int32(s.ByTag),
				EmptyBlocks: int32(s.Empty)}
			if err := w.Write(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// printExportSummary lists the files written.
func printExportSummary(g *globalOptions, dir string, man export.Manifest) error {
	tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "table\trows\tfile\tsize")
	for _, t := range man.Tables {
		size := "?"
		if st, err := os.Stat(filepath.Join(dir, t.File)); err == nil {
			size = fmtBytes(st.Size())
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", t.Name, t.Rows, t.File, size)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(g.stdout, "%s export of %s heights %d..%d (tip %d) in %s; see %s\n", man.Format,
		man.Network, man.FromHeight, man.ToHeight, man.TipHeight, dir, export.ManifestName)
	return err
}

func fmtBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// minerscopeVersion is the module version the binary was built from, "(devel)" for a source build.
func minerscopeVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// exportProgress is a progress bar on a terminal, following newProgress; nil draws nothing.
type exportProgress struct {
	bar *progressbar.ProgressBar
}

func newExportProgress(g *globalOptions, what string, total int64) *exportProgress {
	if g.Quiet {
		return nil
	}
	f, ok := g.stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &exportProgress{bar: progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString(what),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionFullWidth(),
		progressbar.OptionClearOnFinish(),
	)}
}

func (p *exportProgress) set(n int64) {
	if p != nil {
		_ = p.bar.Set64(n)
	}
}

func (p *exportProgress) finish() {
	if p != nil {
		_ = p.bar.Finish()
	}
}
