package export

import (
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

func ptr[T any](v T) *T { return &v }

// sampleTxs are outflow rows with and without the nullable fee columns, a time with milliseconds and one
// before 1970.
func sampleTxs() []OutflowTx {
	return []OutflowTx{
		{Hops: 0, TxID: "f4184fc5", Height: 170, Time: time.Date(2009, 1, 12, 3, 30, 25, 0, time.UTC),
			FromMinerSat: 50e8, OtherInputSat: ptr[int64](0), ToMinerSat: 40e8, ToExternalSat: 10e8,
			FeeSat: ptr[int64](0), OutflowSat: 10e8, InternalSat: 40e8, Pool: "Unknown"},
		{Hops: 1, TxID: "aa", Height: 171, Time: time.Date(2009, 1, 12, 3, 30, 25, 123e6, time.FixedZone("x", 3600)),
			FromMinerSat: 1, ToExternalSat: 1, OutflowSat: 1, Pool: "Pool, \"quoted\"\nline"},
		{Hops: 1, TxID: "bb", Height: -1, Time: time.Date(1969, 12, 31, 23, 59, 59, 999e6, time.UTC),
			FromMinerSat: -9e18, FeeSat: ptr[int64](9e18)},
	}
}

func TestPlanOfEveryTable(t *testing.T) {
	seen := map[string]bool{}
	for _, tb := range Tables() {
		if seen[tb.Name] {
			t.Fatalf("table %s listed twice", tb.Name)
		}
		seen[tb.Name] = true
		cols := map[string]bool{}
		for _, c := range tb.Columns {
			if cols[c.Name] || c.Name == "" || c.Doc == "" || c.DuckDB == "" {
				t.Errorf("%s.%s: duplicate, unnamed or undocumented column: %+v", tb.Name, c.Name, c)
			}
			cols[c.Name] = true
			// House rule: amounts are int64 satoshis, times UTC timestamps.
			if strings.HasSuffix(c.Name, "_sat") && c.DuckDB != "BIGINT" {
				t.Errorf("%s.%s: an amount must be BIGINT, is %s", tb.Name, c.Name, c.DuckDB)
			}
			if (c.Name == "time" || strings.HasSuffix(c.Name, "_time")) && c.DuckDB != "TIMESTAMP WITH TIME ZONE" {
				t.Errorf("%s.%s: a time must be a UTC timestamp, is %s", tb.Name, c.Name, c.DuckDB)
			}
		}
	}
	if len(seen) != 7 {
		t.Fatalf("%d tables, want 7", len(seen))
	}
}

// TestParquetRoundTrip writes rows, reads them back with parquet-go's own reader and checks the values and
// the logical types in the file's schema.
func TestParquetRoundTrip(t *testing.T) {
	dir := t.TempDir()
	w, err := Create[OutflowTx](dir, FormatParquet, Options{Version: "test", Metadata: map[string]string{"network": "mainnet"}})
	if err != nil {
		t.Fatal(err)
	}
	want := sampleTxs()
	if err := w.Write(want...); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "outflow_txs.parquet")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the file is visible before Close: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if e := w.Entry(); e.Rows != 3 || e.File != "outflow_txs.parquet" {
		t.Fatalf("entry %+v", e)
	}
	onlyFiles(t, dir, "outflow_txs.parquet")

	path := filepath.Join(dir, "outflow_txs.parquet")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := pf.Lookup("network"); v != "mainnet" {
		t.Errorf("metadata network = %q", v)
	}
	if cb := pf.Metadata().CreatedBy; !strings.HasPrefix(cb, "minerscope version test") {
		t.Errorf("created_by %q", cb)
	}
	checkLeaf(t, pf, "time", func(lt *format.LogicalType) bool {
		ts, ok := lt.Value.(*format.TimestampType)
		if !ok {
			return false
		}
		_, ms := ts.Unit.Value.(*format.MilliSeconds)
		return ts.IsAdjustedToUTC && ms
	}, false)
	checkLeaf(t, pf, "fee_sat", func(lt *format.LogicalType) bool {
		it, ok := lt.Value.(*format.IntType)
		return lt.Value == nil || ok && it.BitWidth == 64 && it.IsSigned
	}, true)
	checkLeaf(t, pf, "txid", func(lt *format.LogicalType) bool {
		_, ok := lt.Value.(*format.StringType)
		return ok
	}, false)
	for _, rg := range pf.RowGroups() {
		for _, cc := range rg.ColumnChunks() {
			if c, ok := cc.(*parquet.FileColumnChunk); ok {
				if codec := c.Type(); codec == nil {
					t.Fatal("column without type")
				}
			}
		}
	}

	r := parquet.NewGenericReader[OutflowTx](f)
	got := make([]OutflowTx, 10)
	n, err := r.Read(got)
	if err != nil && err != io.EOF {
		t.Fatal(err)
	}
	got = got[:n]
	if len(got) != len(want) {
		t.Fatalf("read %d rows, want %d", len(got), len(want))
	}
	for i := range want {
		w := want[i]
		w.Time = w.Time.UTC()
		g := got[i]
		if !g.Time.Equal(w.Time) {
			t.Errorf("row %d: time %v, want %v", i, g.Time, w.Time)
		}
		g.Time = w.Time
		if !reflect.DeepEqual(g, w) {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	if got[1].FeeSat != nil || got[2].OtherInputSat != nil || got[0].FeeSat == nil || *got[2].FeeSat != 9e18 {
		t.Errorf("nulls not kept: %+v", got)
	}

	// The raw column holds milliseconds since the epoch, UTC.
	raw := rawInt64Column(t, pf, "time")
	wantMS := []int64{1231731025000, 1231731025123 - 3600e3, -1}
	if !slices.Equal(raw, wantMS) {
		t.Errorf("raw time column %v, want %v", raw, wantMS)
	}
}

// rawInt64Column reads one INT64 column's physical values.
func rawInt64Column(t *testing.T, pf *parquet.File, name string) []int64 {
	t.Helper()
	return rawColumn(t, pf, name, parquet.Value.Int64)
}

// rawInt32Column reads one INT32 column's physical values.
func rawInt32Column(t *testing.T, pf *parquet.File, name string) []int32 {
	t.Helper()
	return rawColumn(t, pf, name, parquet.Value.Int32)
}

func rawColumn[V any](t *testing.T, pf *parquet.File, name string, get func(parquet.Value) V) []V {
	t.Helper()
	leaf, ok := pf.Schema().Lookup(name)
	if !ok {
		t.Fatalf("no column %s", name)
	}
	var out []V
	for _, rg := range pf.RowGroups() {
		pages := rg.ColumnChunks()[leaf.ColumnIndex].Pages()
		for {
			p, err := pages.ReadPage()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			vals := make([]parquet.Value, p.NumValues())
			n, _ := p.Values().ReadValues(vals)
			for _, v := range vals[:n] {
				out = append(out, get(v))
			}
		}
		pages.Close()
	}
	return out
}

func checkLeaf(t *testing.T, pf *parquet.File, name string, ok func(*format.LogicalType) bool, optional bool) {
	t.Helper()
	leaf, found := pf.Schema().Lookup(name)
	if !found {
		t.Fatalf("column %s missing", name)
	}
	lt := leaf.Node.Type().LogicalType()
	if lt == nil {
		lt = &format.LogicalType{}
	}
	if !ok(lt) {
		t.Errorf("column %s: logical type %v", name, lt)
	}
	if leaf.Node.Optional() != optional {
		t.Errorf("column %s: optional %v, want %v", name, leaf.Node.Optional(), optional)
	}
}

func TestCSVWriter(t *testing.T) {
	dir := t.TempDir()
	w, err := Create[OutflowTx](dir, FormatCSV, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range sampleTxs() { // one row per call streams like the export does
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "outflow_txs.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"hops", "txid", "height", "time", "from_miner_sat", "other_input_sat", "to_miner_sat", "to_external_sat",
			"fee_sat", "outflow_sat", "internal_sat", "pool"},
		{"0", "f4184fc5", "170", "2009-01-12T03:30:25.000Z", "5000000000", "0", "4000000000", "1000000000", "0",
			"1000000000", "4000000000", "Unknown"},
		{"1", "aa", "171", "2009-01-12T02:30:25.123Z", "1", "", "0", "1", "", "1", "0", "Pool, \"quoted\"\nline"},
		{"1", "bb", "-1", "1969-12-31T23:59:59.999Z", "-9000000000000000000", "", "0", "0", "9000000000000000000",
			"0", "0", ""},
	}
	if !reflect.DeepEqual(recs, want) {
		t.Fatalf("csv:\n got %q\nwant %q", recs, want)
	}
}

func TestCSVDatesAndFloats(t *testing.T) {
	dir := t.TempDir()
	w, err := Create[FlowDay](dir, FormatCSV, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows := []FlowDay{
		{Hops: 1, Day: DateOf(time.Date(2009, 1, 3, 0, 0, 0, 0, time.UTC)), FromHeight: ptr[int32](0), ToHeight: ptr[int32](0),
			Blocks: 1, OutflowMultiple: ptr(0.1), OutflowRevenueRatio: ptr(1e-300), MADays: 365},
		{Day: DateOf(time.Date(2009, 1, 4, 0, 0, 0, 0, time.UTC))},
	}
	if err := w.Write(rows...); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "flows_daily.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	want := []string{
		"1,2009-01-03,0,0,1,0,0,0,0,0,0,0,0,0,0.1,365,1e-300,0",
		"0,2009-01-04,,,0,0,0,0,0,0,0,0,0,0,,0,,0",
	}
	if !slices.Equal(lines[1:], want) {
		t.Fatalf("rows\n got %q\nwant %q", lines[1:], want)
	}
}

func TestFormatFloat(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want string
	}{{0, "0"}, {1.5, "1.5"}, {4295032833, "4.295032833e+09"}, {-0.25, "-0.25"}} {
		if got := formatFloat(c.in); got != c.want {
			t.Errorf("formatFloat(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestParquetRowGroups checks that a long table is cut into row groups of RowGroupRows rows, which is what
// bounds the writer's memory, and that every row comes back in order.
func TestParquetRowGroups(t *testing.T) {
	dir := t.TempDir()
	w, err := Create[HashrateDay](dir, FormatParquet, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 2*RowGroupRows + 5
	day0 := time.Date(2009, 1, 3, 0, 0, 0, 0, time.UTC)
	for i := range n {
		d := day0.AddDate(0, 0, i)
		r := HashrateDay{Day: DateOf(d), Start: d, End: d.AddDate(0, 0, 1), Blocks: int32(i), HashrateHS: float64(i)}
		if i%2 == 0 {
			r.LoHS = ptr(float64(i) / 2)
		}
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rows, err := parquet.ReadFile[HashrateDay](filepath.Join(dir, "hashrate_daily.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != n {
		t.Fatalf("%d rows, want %d", len(rows), n)
	}
	for i, r := range rows {
		if r.Blocks != int32(i) || !r.Day.Time().Equal(day0.AddDate(0, 0, i)) || (r.LoHS != nil) != (i%2 == 0) {
			t.Fatalf("row %d: %+v", i, r)
		}
	}
	f, _ := os.Open(filepath.Join(dir, "hashrate_daily.parquet"))
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int64
	for _, rg := range pf.RowGroups() {
		sizes = append(sizes, rg.NumRows())
	}
	if !slices.Equal(sizes, []int64{RowGroupRows, RowGroupRows, 5}) {
		t.Fatalf("row groups %v", sizes)
	}
	// DATE holds days since 1970-01-01: 2009-01-03 is 1230940800 s / 86400.
	if raw := rawInt32Column(t, pf, "day"); raw[0] != 14247 || raw[n-1] != 14247+n-1 {
		t.Errorf("raw day column starts %d, ends %d", raw[0], raw[n-1])
	}
	checkLeaf(t, pf, "day", func(lt *format.LogicalType) bool {
		_, ok := lt.Value.(*format.DateType)
		return ok
	}, false)
}

func TestAbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	w, err := Create[Block](dir, FormatParquet, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(Block{Height: 1}); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	w.Abort()
	onlyFiles(t, dir)
	if err := w.Write(Block{}); err == nil {
		t.Fatal("write after abort succeeded")
	}
}

func TestCloseReplacesOldFile(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "epochs.csv")
	if err := os.WriteFile(old, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := Create[Epoch](dir, FormatCSV, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(old); string(b) != "old" {
		t.Fatal("the old file changed before Close")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(old)
	if !strings.HasPrefix(string(b), "epoch,start_height,") || strings.Count(string(b), "\n") != 1 {
		t.Fatalf("after Close: %q", b)
	}
}

func TestPrepareDir(t *testing.T) {
	base := t.TempDir()
	fresh := filepath.Join(base, "a", "b")
	if err := PrepareDir(fresh, false); err != nil {
		t.Fatalf("new dir: %v", err)
	}
	if err := PrepareDir(fresh, false); err != nil {
		t.Fatalf("empty dir: %v", err)
	}
	for _, name := range []string{"manifest.json", "blocks.parquet", "epochs.csv", ".blocks.123.tmp", "notes.txt",
		".manifest.9.tmp", "blocks.parquet.bak"} {
		if err := os.WriteFile(filepath.Join(fresh, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := PrepareDir(fresh, false); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("non-empty dir without force: %v", err)
	}
	if err := PrepareDir(fresh, true); err != nil {
		t.Fatal(err)
	}
	onlyFiles(t, fresh, "blocks.parquet.bak", "notes.txt")
}

func TestManifestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	w, err := Create[RewardDay](dir, FormatParquet, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(RewardDay{Day: DateOf(time.Date(2009, 1, 3, 0, 0, 0, 0, time.UTC)), Blocks: 1, SubsidySat: 50e8, RewardSat: 50e8})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	m := Manifest{SchemaVersion: SchemaVersion, Format: FormatParquet, Network: "mainnet", TipHeight: 14131,
		Tables: []TableEntry{w.Entry()}}
	if err := WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	got, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := got.Entry(TableRewardsDaily)
	if !ok || e.Rows != 1 || e.File != "rewards_daily.parquet" || len(e.Columns) != 8 || e.Columns[0].DuckDB != "DATE" {
		t.Fatalf("manifest entry %+v", e)
	}
	if _, ok := got.Entry(TableBlocks); ok {
		t.Fatal("manifest lists a table that was not written")
	}
	onlyFiles(t, dir, "manifest.json", "rewards_daily.parquet")
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"csv", "parquet"} {
		if f, err := ParseFormat(s); err != nil || string(f) != s {
			t.Errorf("ParseFormat(%q) = %q, %v", s, f, err)
		}
	}
	for _, s := range []string{"", "CSV", "json", "parquet "} {
		if _, err := ParseFormat(s); !errors.Is(err, ErrFormat) {
			t.Errorf("ParseFormat(%q): %v", s, err)
		}
	}
	if _, err := Create[Block](t.TempDir(), "json", Options{}); !errors.Is(err, ErrFormat) {
		t.Errorf("Create with a bad format: %v", err)
	}
}

func TestWriteSchema(t *testing.T) {
	var b strings.Builder
	if err := WriteSchema(&b); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, want := range []string{"**`blocks`**: one row per block", "| `reward_sat` | INT64 | BIGINT | bigint |  |",
		"| `fee_sat` | INT64 | BIGINT | bigint | yes |", "TIMESTAMP WITH TIME ZONE", "**`pools_daily`**"} {
		if !strings.Contains(s, want) {
			t.Errorf("schema lacks %q", want)
		}
	}
}

// onlyFiles fails unless dir holds exactly names.
func onlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	slices.Sort(names)
	if !slices.Equal(got, names) {
		t.Fatalf("%s holds %v, want %v", dir, got, names)
	}
}

func TestDateOf(t *testing.T) {
	for _, c := range []struct {
		t    time.Time
		want Date
		text string
	}{
		{time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), 0, "1970-01-01"},
		{time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), -1, "1969-12-31"},
		{time.Date(2009, 1, 3, 18, 15, 5, 0, time.UTC), 1230940800 / 86400, "2009-01-03"},
		{time.Date(2009, 1, 4, 0, 30, 0, 0, time.FixedZone("+01", 3600)), 1230940800 / 86400, "2009-01-03"},
	} {
		got := DateOf(c.t)
		if got != c.want || got.String() != c.text || !got.Time().Equal(time.Date(got.Time().Year(),
			got.Time().Month(), got.Time().Day(), 0, 0, 0, 0, time.UTC)) {
			t.Errorf("DateOf(%v) = %d %s, want %d %s", c.t, got, got, c.want, c.text)
		}
	}
}
