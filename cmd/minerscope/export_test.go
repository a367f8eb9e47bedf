package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/chain/chaintest"
	"github.com/minerscope/minerscope/export"
	"github.com/minerscope/minerscope/index"
)

// Published facts about mainnet blocks 0-14131: the genesis block is stamped 2009-01-03T18:15:05Z, and
// every block below the first halving (height 210,000) has a 50 BTC subsidy. The genesis coinbase pays
// its 50 BTC to an output that can never be spent, but it is a coinbase output like any other, so the
// blocks table counts it in reward_sat and subsidy_sat: sum(subsidy_sat) is 14132 × 50 BTC exactly.
const (
	genesisTimeMS = 1231006505000
	subsidySat    = 50 * 100_000_000
)

// TestExportMainnet indexes the real mainnet blocks 0-14131 from a real btcd, exports every table as
// Parquet and as CSV, reads the Parquet files back with DuckDB (an independent reader) and checks them
// against the CSV files parsed here, against the raw block file and the flow reference, and against
// published facts.
func TestExportMainnet(t *testing.T) {
	duck := installDuckDB(t) // first: a machine without node fails at once
	n := chaintest.StartMainnet(t)
	idx := t.TempDir()
	mustRun(t, append([]string{"index", "--quiet"}, nodeArgs(n, idx)...)...)

	out := t.TempDir()
	pq, cv := filepath.Join(out, "parquet"), filepath.Join(out, "csv")
	for _, d := range []struct{ dir, format string }{{pq, "parquet"}, {cv, "csv"}} {
		start := time.Now()
		r := mustRun(t, "export", "--index", idx, "--out", d.dir, "--format", d.format, "--quiet")
		t.Logf("export --format %s took %v:\n%s", d.format, time.Since(start).Round(time.Millisecond), r.Stdout)
	}
	blocks := index.MainnetBlocks(t)
	pqMan, cvMan := readManifest(t, pq), readManifest(t, cv)
	t.Run("manifests", func(t *testing.T) {
		testExportManifests(t, pqMan, cvMan, blocks)
	})
	t.Run("parquet read by DuckDB equals the CSV", func(t *testing.T) {
		testParquetMatchesCSV(t, duck, pq, cv, pqMan)
	})
	t.Run("chain facts", func(t *testing.T) {
		testExportFacts(t, duck, pq, blocks)
	})
	t.Run("range and table choice", func(t *testing.T) {
		testExportRange(t, duck, idx, out)
	})
	t.Run("refusals", func(t *testing.T) {
		testExportRefusals(t, idx, out)
	})
	t.Run("headers-only index", func(t *testing.T) {
		testExportHeadersOnly(t, out, cv)
	})
	t.Run("interrupted", func(t *testing.T) {
		testExportInterrupted(t, idx, out)
	})
}

// testExportInterrupted cancels an export: it fails with the cancellation, leaves no temporary file and no
// manifest, so what it finished is recognisably incomplete.
func testExportInterrupted(t *testing.T, idx, out string) {
	dir := filepath.Join(out, "interrupted")
	g := &globalOptions{IndexDir: idx, Quiet: true, stdout: io.Discard, stderr: io.Discard,
		getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	opts := exportOptions{Format: "parquet", Out: dir, Tables: "pools_daily,epochs", To: -1}
	err := runExport(ctx, g, opts, true)
	if !errors.Is(err, context.Canceled) || exitCode(err) != exitInterrupted {
		t.Fatalf("cancelled export: %v", err)
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	// epochs reads no block and finishes; pools_daily notices the cancellation on its first day.
	if !slices.Equal(names, []string{"epochs.parquet"}) {
		t.Fatalf("after the interruption %s holds %v", dir, names)
	}
	if _, err := export.ReadManifest(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("manifest after an interruption: %v", err)
	}
}

func readManifest(t *testing.T, dir string) export.Manifest {
	t.Helper()
	m, err := export.ReadManifest(dir)
	if err != nil {
		t.Fatalf("manifest: %v", err)
	}
	return m
}

// dirSizes lists the files of dir with their sizes, for the log.
func dirSizes(t *testing.T, dir string) string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, e := range ents {
		if fi, err := e.Info(); err == nil {
			parts = append(parts, fmt.Sprintf("%s %d B", e.Name(), fi.Size()))
		}
	}
	return strings.Join(parts, ", ")
}

func testExportManifests(t *testing.T, pq, cv export.Manifest, blocks []*wire.MsgBlock) {
	tipHash := blocks[len(blocks)-1].Header.BlockHash().String()
	for _, m := range []export.Manifest{pq, cv} {
		if m.Network != "mainnet" || m.TipHeight != chaintest.MainnetTipHeight || m.TipHash != tipHash ||
			m.SchemaVersion != export.SchemaVersion || m.FromHeight != 0 || m.ToHeight != chaintest.MainnetTipHeight {
			t.Errorf("%s manifest header: %+v", m.Format, m)
		}
		var names []string
		for _, e := range m.Tables {
			names = append(names, e.Name)
			if e.File != e.Name+"."+string(m.Format) {
				t.Errorf("%s: file %s", e.Name, e.File)
			}
		}
		if !slices.Equal(names, export.TableNames()) {
			t.Errorf("%s manifest tables %v, want %v", m.Format, names, export.TableNames())
		}
	}
	for i := range pq.Tables {
		if pq.Tables[i].Rows != cv.Tables[i].Rows {
			t.Errorf("%s: %d Parquet rows, %d CSV rows", pq.Tables[i].Name, pq.Tables[i].Rows, cv.Tables[i].Rows)
		}
	}
}

// colStats are the aggregates compared between the Parquet files (computed by DuckDB) and the CSV files
// (computed here): per column the non-null count, and the sum (integers exactly, doubles to 1e-12), or the
// min and max (timestamps in ms, dates as text).
type colStats struct {
	NonNull  int64
	ISum     int64
	FSum     float64
	Min, Max string
}

func testParquetMatchesCSV(t *testing.T, duck string, pq, cv string, man export.Manifest) {
	var qs []duckQuery
	for _, e := range man.Tables {
		path := sqlString(filepath.Join(pq, e.File))
		qs = append(qs, duckQuery{e.Name + ".describe", "DESCRIBE SELECT * FROM read_parquet(" + path + ")"})
		var sel []string
		for _, c := range e.Columns {
			q := `"` + c.Name + `"`
			sel = append(sel, fmt.Sprintf("count(%s) AS \"%s.n\"", q, c.Name))
			switch c.DuckDB {
			case "BIGINT", "INTEGER":
				sel = append(sel, fmt.Sprintf("coalesce(sum(%s), 0)::VARCHAR AS \"%s.sum\"", q, c.Name))
			case "DOUBLE":
				sel = append(sel, fmt.Sprintf("coalesce(sum(%s), 0) AS \"%s.sum\"", q, c.Name))
			case "TIMESTAMP WITH TIME ZONE":
				sel = append(sel, fmt.Sprintf("epoch_ms(min(%s))::VARCHAR AS \"%s.min\", epoch_ms(max(%s))::VARCHAR AS \"%s.max\"",
					q, c.Name, q, c.Name))
			case "DATE":
				sel = append(sel, fmt.Sprintf("strftime(min(%s), '%%Y-%%m-%%d') AS \"%s.min\", strftime(max(%s), '%%Y-%%m-%%d') AS \"%s.max\"",
					q, c.Name, q, c.Name))
			}
		}
		qs = append(qs, duckQuery{e.Name + ".stats", "SELECT count(*) AS rows, " + strings.Join(sel, ", ") +
			" FROM read_parquet(" + path + ")"})
	}
	res := runDuckDB(t, duck, qs)
	t.Logf("DuckDB %v", res["duckdb_version"])

	for _, e := range man.Tables {
		// Types: DuckDB reads each column as the schema documents it.
		desc := res[e.Name+".describe"].([]any)
		if len(desc) != len(e.Columns) {
			t.Fatalf("%s: DuckDB sees %d columns, the manifest %d", e.Name, len(desc), len(e.Columns))
		}
		for i, d := range desc {
			m := d.(map[string]any)
			if m["column_name"] != e.Columns[i].Name || m["column_type"] != e.Columns[i].DuckDB {
				t.Errorf("%s column %d: DuckDB %v %v, schema %s %s", e.Name, i, m["column_name"], m["column_type"],
					e.Columns[i].Name, e.Columns[i].DuckDB)
			}
		}

		stats := res[e.Name+".stats"].([]any)[0].(map[string]any)
		want, rows := csvTableStats(t, filepath.Join(cv, export.FileName(e.Name, export.FormatCSV)), e.Columns)
		if got := jsonInt(t, stats["rows"]); got != rows || rows != e.Rows {
			t.Errorf("%s: DuckDB counts %d rows, CSV %d, manifest %d", e.Name, got, rows, e.Rows)
		}
		for _, c := range e.Columns {
			w := want[c.Name]
			if got := jsonInt(t, stats[c.Name+".n"]); got != w.NonNull {
				t.Errorf("%s.%s: %d non-null in Parquet, %d in CSV", e.Name, c.Name, got, w.NonNull)
			}
			if !c.Nullable && w.NonNull != rows {
				t.Errorf("%s.%s: not nullable, but %d of %d CSV cells are empty", e.Name, c.Name, rows-w.NonNull, rows)
			}
			switch c.DuckDB {
			case "BIGINT", "INTEGER":
				if got := jsonInt(t, stats[c.Name+".sum"]); got != w.ISum {
					t.Errorf("%s: sum(%s) = %d in Parquet, %d in CSV", e.Name, c.Name, got, w.ISum)
				}
			case "DOUBLE":
				got := stats[c.Name+".sum"].(float64)
				if math.Abs(got-w.FSum) > 1e-12*math.Max(1, math.Abs(w.FSum)) {
					t.Errorf("%s: sum(%s) = %v in Parquet, %v in CSV", e.Name, c.Name, got, w.FSum)
				}
			case "TIMESTAMP WITH TIME ZONE", "DATE":
				if stats[c.Name+".min"] != w.Min || stats[c.Name+".max"] != w.Max {
					t.Errorf("%s.%s: Parquet %v..%v, CSV %s..%s", e.Name, c.Name, stats[c.Name+".min"],
						stats[c.Name+".max"], w.Min, w.Max)
				}
			}
		}
	}
}

// csvTableStats parses a CSV export and aggregates its columns as testParquetMatchesCSV asks DuckDB to.
func csvTableStats(t *testing.T, path string, cols []export.Column) (map[string]*colStats, int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = c.Name
	}
	if !slices.Equal(recs[0], header) {
		t.Fatalf("%s header %v, want %v", path, recs[0], header)
	}
	stats := map[string]*colStats{}
	for i, c := range cols {
		s := &colStats{}
		stats[c.Name] = s
		for _, rec := range recs[1:] {
			v := rec[i]
			if v == "" && c.Nullable {
				continue
			}
			s.NonNull++
			switch c.DuckDB {
			case "BIGINT", "INTEGER":
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					t.Fatalf("%s.%s: %v", path, c.Name, err)
				}
				s.ISum += n
			case "DOUBLE":
				x, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatalf("%s.%s: %v", path, c.Name, err)
				}
				s.FSum += x
			case "TIMESTAMP WITH TIME ZONE":
				ts, err := time.Parse(export.TimestampLayout, v)
				if err != nil || !strings.HasSuffix(v, "Z") || len(v) != len("2009-01-03T18:15:05.000Z") {
					t.Fatalf("%s.%s: %q is not an RFC 3339 UTC time with milliseconds: %v", path, c.Name, v, err)
				}
				s.Min, s.Max = minMaxText(s.Min, s.Max, strconv.FormatInt(ts.UnixMilli(), 10), s.NonNull == 1, true)
			case "DATE":
				if _, err := time.Parse(time.DateOnly, v); err != nil {
					t.Fatalf("%s.%s: %v", path, c.Name, err)
				}
				s.Min, s.Max = minMaxText(s.Min, s.Max, v, s.NonNull == 1, false)
			}
		}
	}
	return stats, int64(len(recs) - 1)
}

// minMaxText folds v into lo..hi, comparing as integers when numeric is set.
func minMaxText(lo, hi, v string, first, numeric bool) (string, string) {
	if first {
		return v, v
	}
	less := func(a, b string) bool {
		if numeric {
			x, _ := strconv.ParseInt(a, 10, 64)
			y, _ := strconv.ParseInt(b, 10, 64)
			return x < y
		}
		return a < b
	}
	if less(v, lo) {
		lo = v
	}
	if less(hi, v) {
		hi = v
	}
	return lo, hi
}

// testExportFacts checks the Parquet files, through DuckDB, against the raw blocks, the flow reference of
// flows_mainnet_test.go and published facts.
func testExportFacts(t *testing.T, duck, pq string, blocks []*wire.MsgBlock) {
	var reward, fees, maxTime int64
	for _, b := range blocks {
		var r int64
		for _, o := range b.Transactions[0].TxOut {
			r += o.Value
		}
		reward += r
		fees += max(0, r-subsidySat)
		maxTime = max(maxTime, b.Header.Timestamp.Unix())
	}
	tipTime := blocks[len(blocks)-1].Header.Timestamp.Unix()
	var stampedByTip int64 // blocks the daily hashrate counts: those stamped no later than the tip
	for _, b := range blocks {
		if b.Header.Timestamp.Unix() <= tipTime {
			stampedByTip++
		}
	}
	ref := buildFlowRef(t, blocks)
	var refRows, refOut, refFee [2]int64
	for i := range ref.txs {
		for l := range 2 {
			if f := ref.txs[i].flows[l]; f.fromMiner > 0 {
				refRows[l]++
				refOut[l] += f.outflow
				refFee[l] += f.fee
			}
		}
	}
	t.Logf("raw blocks: reward %d sat, fees %d sat; reference outflow rows %v, outflow %v sat", reward, fees,
		refRows, refOut)

	tbl := func(name string) string { return "read_parquet(" + sqlString(filepath.Join(pq, name+".parquet")) + ")" }
	res := runDuckDB(t, duck, []duckQuery{
		{"blocks", `SELECT count(*) AS n, count(DISTINCT hash) AS hashes, min(height) AS lo, max(height) AS hi,
			sum(subsidy_sat)::VARCHAR AS subsidy, sum(reward_sat)::VARCHAR AS reward, sum(fees_sat)::VARCHAR AS fees,
			epoch_ms(min(time))::VARCHAR AS tmin, epoch_ms(max(time))::VARCHAR AS tmax,
			min(difficulty) AS dmin, max(difficulty) AS dmax FROM ` + tbl("blocks")},
		{"block170", `SELECT hash, strftime(time, '%Y-%m-%dT%H:%M:%SZ') AS t, tx_count FROM ` + tbl("blocks") +
			` WHERE height = 170`},
		{"epochs", `SELECT count(*) AS n, sum(end_height - start_height + 1) AS blocks,
			count(*) FILTER (WHERE NOT complete) AS open, max(epoch) AS last FROM ` + tbl("epochs")},
		{"hashrate", `SELECT sum(blocks)::VARCHAR AS blocks, count(*) AS days, strftime(min(day), '%Y-%m-%d') AS first
			FROM ` + tbl("hashrate_daily")},
		{"rewards", `SELECT sum(blocks)::VARCHAR AS blocks, sum(reward_sat)::VARCHAR AS reward,
			sum(subsidy_sat)::VARCHAR AS subsidy FROM ` + tbl("rewards_daily")},
		{"outflows", `SELECT hops, count(*) AS n, sum(outflow_sat)::VARCHAR AS outflow,
			sum(fee_sat)::VARCHAR AS fee, count(*) - count(fee_sat) AS unknown_fees
			FROM ` + tbl("outflow_txs") + ` GROUP BY hops ORDER BY hops`},
		{"flows", `SELECT hops, sum(outflow_sat)::VARCHAR AS outflow, sum(blocks)::VARCHAR AS blocks,
			sum(revenue_sat)::VARCHAR AS revenue FROM ` + tbl("flows_daily") + ` GROUP BY hops ORDER BY hops`},
		{"pools", `SELECT sum(blocks)::VARCHAR AS blocks, max(abs(s - 1)) AS worst FROM (SELECT day, sum(blocks) AS
			blocks, sum(share) AS s FROM ` + tbl("pools_daily") + ` GROUP BY day)`},
		{"pool_days", `SELECT count(*) AS n FROM (SELECT day FROM ` + tbl("pools_daily") + ` GROUP BY day) p
			FULL JOIN (SELECT day, blocks FROM ` + tbl("hashrate_daily") + ` WHERE blocks > 0) h USING (day)
			WHERE p.day IS NULL OR h.day IS NULL`},
	})
	row := func(name string, i int) map[string]any { return res[name].([]any)[i].(map[string]any) }

	b := row("blocks", 0)
	n := int64(len(blocks))
	for _, c := range []struct {
		what      string
		got, want int64
	}{
		{"blocks", jsonInt(t, b["n"]), n},
		{"distinct hashes", jsonInt(t, b["hashes"]), n},
		{"min height", jsonInt(t, b["lo"]), 0},
		{"max height", jsonInt(t, b["hi"]), n - 1},
		{"sum(subsidy_sat)", jsonInt(t, b["subsidy"]), n * subsidySat},
		{"sum(reward_sat)", jsonInt(t, b["reward"]), reward},
		{"sum(fees_sat)", jsonInt(t, b["fees"]), fees},
		{"min(time) ms", jsonInt(t, b["tmin"]), genesisTimeMS},
		{"max(time) ms", jsonInt(t, b["tmax"]), maxTime * 1000},
	} {
		if c.got != c.want {
			t.Errorf("blocks %s = %d, want %d", c.what, c.got, c.want)
		}
	}
	if b["dmin"] != 1.0 || b["dmax"] != 1.0 { // every block of 0-14131 has bits 0x1d00ffff
		t.Errorf("difficulty %v..%v, want 1", b["dmin"], b["dmax"])
	}
	if b170 := row("block170", 0); b170["hash"] != blocks[170].Header.BlockHash().String() ||
		b170["t"] != block170TimeISO || jsonInt(t, b170["tx_count"]) != 2 {
		t.Errorf("block 170: %v", b170)
	}

	e := row("epochs", 0)
	if jsonInt(t, e["n"]) != 8 || jsonInt(t, e["blocks"]) != n || jsonInt(t, e["open"]) != 1 || jsonInt(t, e["last"]) != 7 {
		t.Errorf("epochs: %v; want 8 epochs of %d blocks, the last (7) unfinished", e, n)
	}
	h := row("hashrate", 0)
	if jsonInt(t, h["blocks"]) != stampedByTip || h["first"] != "2009-01-03" {
		t.Errorf("hashrate_daily: %v, want %d blocks from 2009-01-03", h, stampedByTip)
	}
	r := row("rewards", 0)
	if jsonInt(t, r["blocks"]) != n || jsonInt(t, r["reward"]) != reward || jsonInt(t, r["subsidy"]) != n*subsidySat {
		t.Errorf("rewards_daily: %v", r)
	}
	for l := range 2 {
		o, f := row("outflows", l), row("flows", l)
		if jsonInt(t, o["hops"]) != int64(l) || jsonInt(t, o["n"]) != refRows[l] || jsonInt(t, o["outflow"]) != refOut[l] ||
			jsonInt(t, o["fee"]) != refFee[l] || jsonInt(t, o["unknown_fees"]) != 0 {
			t.Errorf("outflow_txs hops %d: %v; reference %d rows, outflow %d, fees %d", l, o, refRows[l], refOut[l],
				refFee[l])
		}
		if jsonInt(t, f["outflow"]) != refOut[l] || jsonInt(t, f["blocks"]) != n || jsonInt(t, f["revenue"]) != reward {
			t.Errorf("flows_daily hops %d: %v; reference outflow %d, %d blocks, revenue %d", l, f, refOut[l], n, reward)
		}
	}
	p := row("pools", 0)
	if jsonInt(t, p["blocks"]) != stampedByTip || p["worst"].(float64) > 1e-12 {
		t.Errorf("pools_daily: %v: want %d blocks and shares summing to 1 each day", p, stampedByTip)
	}
	if d := jsonInt(t, row("pool_days", 0)["n"]); d != 0 {
		t.Errorf("%d days differ between pools_daily and the days of hashrate_daily with blocks", d)
	}
}

// testExportRange exports part of the chain and a choice of tables.
func testExportRange(t *testing.T, duck, idx, out string) {
	dir := filepath.Join(out, "range")
	r := mustRun(t, "export", "--index", idx, "--out", dir, "--tables", "outflow_txs, blocks,epochs",
		"--from", "100", "--to", "4131", "--quiet")
	if !strings.Contains(r.Stdout, "blocks") || !strings.Contains(r.Stdout, "heights 100..4131") {
		t.Errorf("summary:\n%s", r.Stdout)
	}
	m := readManifest(t, dir)
	var names []string
	for _, e := range m.Tables {
		names = append(names, e.Name)
	}
	if !slices.Equal(names, []string{"blocks", "epochs", "outflow_txs"}) || m.FromHeight != 100 || m.ToHeight != 4131 {
		t.Fatalf("manifest %v %d..%d", names, m.FromHeight, m.ToHeight)
	}
	tbl := func(name string) string {
		return "read_parquet(" + sqlString(filepath.Join(dir, name+".parquet")) + ")"
	}
	res := runDuckDB(t, duck, []duckQuery{
		{"blocks", "SELECT count(*) AS n, min(height) AS lo, max(height) AS hi FROM " + tbl("blocks")},
		{"epochs", "SELECT min(epoch) AS lo, max(epoch) AS hi FROM " + tbl("epochs")},
		{"txs", "SELECT count(*) AS n, coalesce(min(height), 100) >= 100 AND coalesce(max(height), 4131) <= 4131 AS inside FROM " +
			tbl("outflow_txs")},
	})
	b := res["blocks"].([]any)[0].(map[string]any)
	if jsonInt(t, b["n"]) != 4032 || jsonInt(t, b["lo"]) != 100 || jsonInt(t, b["hi"]) != 4131 {
		t.Errorf("blocks 100..4131: %v", b)
	}
	if e := res["epochs"].([]any)[0].(map[string]any); jsonInt(t, e["lo"]) != 0 || jsonInt(t, e["hi"]) != 2 {
		t.Errorf("epochs overlapping 100..4131: %v, want 0..2", e)
	}
	if x := res["txs"].([]any)[0].(map[string]any); x["inside"] != true {
		t.Errorf("outflow_txs outside 100..4131: %v", x)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 4 {
		t.Errorf("%s holds %s", dir, dirSizes(t, dir))
	}
	// The same export twice gives the same bytes.
	again := filepath.Join(out, "range-again")
	mustRun(t, "export", "--index", idx, "--out", again, "--tables", "blocks,epochs,outflow_txs", "--from", "100",
		"--to", "4131", "--quiet")
	for _, name := range []string{"blocks.parquet", "epochs.parquet", "outflow_txs.parquet"} {
		a, _ := os.ReadFile(filepath.Join(dir, name))
		b, _ := os.ReadFile(filepath.Join(again, name))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs between two identical exports", name)
		}
	}
}

func testExportRefusals(t *testing.T, idx, out string) {
	dir := filepath.Join(out, "refuse")
	mustRun(t, "export", "--index", idx, "--out", dir, "--tables", "epochs", "--format", "csv", "--quiet")
	before, _ := os.ReadFile(filepath.Join(dir, "epochs.csv"))
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--out", dir, "--tables", "epochs"}, exitUsage, "--force"},
		{[]string{"--tables", "epochs"}, exitUsage, "--out DIR is required"},
		{[]string{"--out", dir + "x", "--format", "json"}, exitUsage, "use parquet or csv"},
		{[]string{"--out", dir + "x", "--tables", "blocks,nope"}, exitUsage, `unknown table "nope"`},
		{[]string{"--out", dir + "x", "--tables", ","}, exitUsage, "names no table"},
		{[]string{"--out", dir + "x", "--from", "-1"}, exitUsage, "negative"},
		{[]string{"--out", dir + "x", "--from", "20000"}, exitUsage, "above the index tip"},
		{[]string{"--out", dir + "x", "--from", "10", "--to", "5"}, exitUsage, "below --from"},
	} {
		r := runCLI(t, nil, append([]string{"export", "--index", idx, "--quiet"}, c.args...)...)
		if r.Code != c.code || !strings.Contains(r.Stderr, c.msg) {
			t.Errorf("export %v: exit %d, stderr %q; want exit %d mentioning %q", c.args, r.Code, r.Stderr, c.code, c.msg)
		}
	}
	if _, err := os.Stat(dir + "x"); err == nil {
		t.Errorf("a refused export created %sx", dir)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "epochs.csv"))
	if !bytes.Equal(before, after) {
		t.Error("a refused export changed the earlier one")
	}
	// --force replaces the earlier export, removing its tables: the manifest lists what is there.
	mustRun(t, "export", "--index", idx, "--out", dir, "--tables", "hashrate_daily", "--force", "--quiet")
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"hashrate_daily.parquet", "manifest.json"}) {
		t.Errorf("after --force: %v", names)
	}
	if r := mustRun(t, "export", "--schema"); !strings.Contains(r.Stdout, "| `reward_sat` | INT64 | BIGINT | bigint |") {
		t.Errorf("--schema:\n%s", r.Stdout)
	}
}

// testExportHeadersOnly exports from an index of the same headers without block data: only the header
// tables, and epochs identical to those of the full index.
func testExportHeadersOnly(t *testing.T, out, fullCSV string) {
	idx := filepath.Join(out, "headers-index")
	db, err := index.Open(idx, analysis.Mainnet, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	index.ConnectHeaders(t, db, index.MainnetHeaders(t))
	db.Close()

	dir := filepath.Join(out, "headers")
	r := mustRun(t, "export", "--index", idx, "--out", dir, "--format", "csv")
	if !strings.Contains(r.Stderr, "headers only") {
		t.Errorf("no note about the headers-only index: %q", r.Stderr)
	}
	m := readManifest(t, dir)
	if len(m.Tables) != 2 || m.Tables[0].Name != "epochs" || m.Tables[1].Name != "hashrate_daily" {
		t.Fatalf("tables %+v", m.Tables)
	}
	for _, name := range []string{"epochs.csv", "hashrate_daily.csv"} {
		a, _ := os.ReadFile(filepath.Join(dir, name))
		b, _ := os.ReadFile(filepath.Join(fullCSV, name))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs between the headers-only and the full index", name)
		}
	}
	r = runCLI(t, nil, "export", "--index", idx, "--out", filepath.Join(out, "h2"), "--tables", "epochs,blocks")
	if r.Code == 0 || !strings.Contains(r.Stderr, "headers only") || !strings.Contains(r.Stderr, "blocks") {
		t.Errorf("blocks from a headers-only index: exit %d, %q", r.Code, r.Stderr)
	}
}

// DuckDB through its Node.js package @duckdb/node-api, which ships the engine's binary: installed once per
// version with `npm ci` from testdata/duckdb's lock file into the user's cache directory.

type duckQuery struct {
	Name string `json:"name"`
	SQL  string `json:"sql"`
}

// installDuckDB returns a directory holding node_modules/@duckdb/node-api and query.mjs, installing them
// when the cache lacks them. It fails, never skips, without node or npm: CI installs them.
func installDuckDB(t *testing.T) string {
	t.Helper()
	src := filepath.Join("testdata", "duckdb")
	files := map[string][]byte{}
	for _, name := range []string{"package.json", "package-lock.json", "query.mjs"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = b
	}
	var pkg struct{ Dependencies map[string]string }
	if err := json.Unmarshal(files["package.json"], &pkg); err != nil {
		t.Fatalf("testdata/duckdb/package.json: %v", err)
	}
	version := pkg.Dependencies["@duckdb/node-api"]
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: the export tests read Parquet back with DuckDB's Node.js package "+
				"@duckdb/node-api %s and need Node.js >= 20 with npm (Debian: apt-get install nodejs npm)", tool, version)
		}
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "minerscope-test", "duckdb-"+version)
	lock, _ := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	_, err = os.Stat(filepath.Join(dir, "node_modules", "@duckdb", "node-api", "package.json"))
	if err != nil || !bytes.Equal(lock, files["package-lock.json"]) {
		npmInstall(t, dir, files)
	}
	// query.mjs may change without the lock file: write it every time, atomically.
	tmp := filepath.Join(dir, fmt.Sprintf(".query-%d.mjs", os.Getpid()))
	if err := os.WriteFile(tmp, files["query.mjs"], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "query.mjs")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// npmInstall runs `npm ci` in a fresh directory next to dir and renames it into place.
func npmInstall(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".install-*")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	for _, name := range []string{"package.json", "package-lock.json"} {
		if err := os.WriteFile(filepath.Join(tmp, name), files[name], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = tmp
	start := time.Now()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s failed (%v): it must reach the npm registry once to fill the cache %s; "+
			"offline, copy a filled cache there\n%s", tmp, err, dir, b)
	}
	t.Logf("npm ci: DuckDB's Node.js package installed in %v into %s", time.Since(start).Round(time.Millisecond), dir)
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		// Another test process may have installed it meanwhile.
		if _, serr := os.Stat(filepath.Join(dir, "node_modules", "@duckdb", "node-api")); serr != nil {
			t.Fatalf("install DuckDB into %s: %v", dir, err)
		}
	}
}

// runDuckDB runs the queries in one DuckDB session and returns their rows by name.
func runDuckDB(t *testing.T, dir string, qs []duckQuery) map[string]any {
	t.Helper()
	in, err := json.Marshal(qs)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(dir, "query.mjs"))
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("DuckDB: %v\n%s", err, stderr.String())
	}
	var out map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("DuckDB output: %v\n%s", err, stdout.String())
	}
	return out
}

// sqlString quotes s as an SQL string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// jsonInt reads an integer DuckDB gave as a JSON number or, for BIGINT and HUGEINT, a string.
func jsonInt(t *testing.T, v any) int64 {
	t.Helper()
	switch x := v.(type) {
	case float64:
		if x != math.Trunc(x) {
			t.Fatalf("%v is not an integer", x)
		}
		return int64(x)
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			t.Fatalf("%q is not an integer: %v", x, err)
		}
		return n
	}
	t.Fatalf("%v (%T) is not an integer", v, v)
	return 0
}
