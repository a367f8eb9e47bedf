package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/btcsuite/btcd/btcutil"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/index"
)

// checkHops validates --hops.
func checkHops(h int) error {
	if h != 0 && h != 1 {
		return usagef("--hops must be 0 or 1, got %d", h)
	}
	return nil
}

// flowData is an open full index with what the flow commands resolve at read time: pools of origins,
// labels of addresses.
type flowData struct {
	db      *index.DB
	p       analysis.Params
	matcher *analysis.Matcher
	labels  analysis.Labels
	pools   map[int32]string     // origin height -> pool name
	lo, hi  int32                // the index's full-block range
	hdrs    []index.HeaderRecord // headers lo..hi, read once when a date is resolved
}

// openFlows opens the index read-only with its pool matcher and the --labels file.
func (g *globalOptions) openFlows(poolsFile, labelsFile string) (*flowData, error) {
	db, m, err := g.openWithMatcher(poolsFile)
	if err != nil {
		return nil, err
	}
	fd := &flowData{db: db, p: db.Params(), matcher: m, pools: make(map[int32]string)}
	if fd.lo, fd.hi, err = fullRange(db, 0, -1); err != nil {
		db.Close()
		return nil, err
	}
	if labelsFile != "" {
		if fd.labels, err = loadLabels(labelsFile, fd.p); err != nil {
			db.Close()
			return nil, err
		}
	}
	return fd, nil
}

func (fd *flowData) Close() { fd.db.Close() }

// loadLabels reads a --labels file (CSV address,label).
func loadLabels(file string, p analysis.Params) (analysis.Labels, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, usagef("--labels: %v", err)
	}
	defer f.Close()
	labels, err := analysis.ParseLabels(f, p)
	if err != nil {
		return nil, usagef("--labels %s: %v", file, err)
	}
	return labels, nil
}

// loadPrices reads a --price file (CSV date,price_usd).
func loadPrices(file string) (analysis.Prices, error) {
	if file == "" {
		return nil, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, usagef("--price: %v", err)
	}
	defer f.Close()
	prices, err := analysis.ParsePrices(f)
	if err != nil {
		return nil, usagef("--price %s: %v", file, err)
	}
	return prices, nil
}

// pool returns the pool owning origin: the attribution of the coinbase at that height.
func (fd *flowData) pool(origin int32) (string, error) {
	if origin < 0 {
		return "", nil
	}
	if name, ok := fd.pools[origin]; ok {
		return name, nil
	}
	rec, err := fd.db.Coinbase(origin)
	if err != nil {
		return "", fmt.Errorf("pool of the coinbase at height %d: %w", origin, err)
	}
	name := fd.matcher.Attribute(&rec).Pool
	fd.pools[origin] = name
	return name, nil
}

// heightRange resolves --from/--to: a plain number is a height; a date (2026-02-01) or RFC 3339 time selects
// blocks by timestamp, --to DATE including that whole UTC day. The result is the contiguous heights from the
// first block timestamped at or after --from to the last timestamped before the end of --to, clamped to the
// index's full blocks.
func (fd *flowData) heightRange(from, to string) (int32, int32, error) {
	lo, hi := fd.lo, fd.hi
	if from != "" {
		h, err := fd.resolveBound(from, false)
		if err != nil {
			return 0, 0, err
		}
		lo = max(lo, h)
	}
	if to != "" {
		h, err := fd.resolveBound(to, true)
		if err != nil {
			return 0, 0, err
		}
		hi = min(hi, h)
	}
	if lo > hi {
		return 0, 0, usagef("no indexed block in --from %q --to %q (the index has full blocks %d..%d)",
			from, to, fd.lo, fd.hi)
	}
	return lo, hi, nil
}

// headers returns the headers of the full blocks, read once.
func (fd *flowData) headers() ([]index.HeaderRecord, error) {
	if fd.hdrs == nil {
		var err error
		if fd.hdrs, err = fd.db.Headers(fd.lo, fd.hi); err != nil {
			return nil, err
		}
	}
	return fd.hdrs, nil
}

// resolveBound turns one bound into a height.
func (fd *flowData) resolveBound(s string, upper bool) (int32, error) {
	if n, err := strconv.ParseInt(s, 10, 32); err == nil && !strings.Contains(s, "-") {
		if n < 0 {
			return 0, usagef("height %d is negative", n)
		}
		return int32(n), nil
	}
	t, err := parseTime(s)
	if err != nil {
		return 0, usagef("bad --from/--to %q: use a height, a date like 2026-02-01 or a time like "+
			"2026-02-01T12:00:00Z", s)
	}
	if _, derr := time.Parse(time.DateOnly, strings.TrimSpace(s)); derr == nil && upper {
		t = t.Add(24 * time.Hour)
	}
	hdrs, err := fd.headers()
	if err != nil {
		return 0, err
	}
	unix := t.Unix()
	if !upper {
		i := sort.Search(len(hdrs), func(i int) bool { return hdrs[i].Header.Timestamp.Unix() >= unix })
		return fd.lo + int32(i), nil
	}
	// The last block timestamped before the end.
	for i := len(hdrs) - 1; i >= 0; i-- {
		if hdrs[i].Header.Timestamp.Unix() < unix {
			return fd.lo + int32(i), nil
		}
	}
	return fd.lo - 1, nil
}

// blockFlows returns the flow totals of every full block at level, with their times, revenues and (with
// labels) outflow by destination label, and the reserve before the first.
func (fd *flowData) blockFlows(level int) ([]analysis.BlockFlow, error) {
	recs, err := fd.db.BlockFlows(fd.lo, fd.hi)
	if err != nil {
		return nil, err
	}
	if len(recs) != int(fd.hi-fd.lo+1) {
		return nil, fmt.Errorf("%w: %d block flow records for heights %d..%d", index.ErrCorrupt, len(recs),
			fd.lo, fd.hi)
	}
	out := make([]analysis.BlockFlow, len(recs))
	for i := range recs {
		out[i] = recs[i].Flow(level)
	}
	if fd.labels != nil {
		for i := range out {
			out[i].OutflowByLabel = map[string]btcutil.Amount{}
		}
		err := fd.db.FlowTxs(fd.lo, fd.hi, func(tx *index.FlowTx) error {
			parts, err := fd.labelOutflow(tx, level)
			for label, v := range parts {
				out[tx.Height-fd.lo].OutflowByLabel[label] += v
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// labelOutflow splits a transaction's outflow at level over its external outputs' labels ("" for
// unlabelled), in proportion to their values (analysis.SplitOutflow).
func (fd *flowData) labelOutflow(tx *index.FlowTx, level int) (map[string]btcutil.Amount, error) {
	f, err := tx.Flow(level)
	if err != nil || f.Outflow == 0 {
		return nil, err
	}
	var ext []btcutil.Amount
	var labels []string
	for _, o := range tx.Outputs {
		if o.Level != analysis.NotMiner && int(o.Level) <= level {
			continue
		}
		ext = append(ext, o.Value)
		addr, _ := analysis.ScriptAddress(fd.p, o.Script)
		labels = append(labels, fd.labels[addr])
	}
	parts := analysis.SplitOutflow(f.Outflow, ext)
	out := make(map[string]btcutil.Amount)
	for i, v := range parts {
		out[labels[i]] += v
	}
	return out, nil
}

// labelNames returns the labels of the --labels file, sorted, then "" (unlabelled), failing when two
// labels would share a column.
func (fd *flowData) labelNames() ([]string, error) {
	seen := map[string]bool{}
	var names []string
	for _, l := range fd.labels {
		if !seen[l] {
			seen[l] = true
			names = append(names, l)
		}
	}
	sort.Strings(names)
	names = append(names, "")
	cols := map[string]string{}
	for _, n := range names {
		c := labelColumn(n)
		if other, ok := cols[c]; ok {
			return nil, usagef("--labels: labels %q and %q would share the column %s; rename one", other, n, c)
		}
		cols[c] = n
	}
	return names, nil
}

// labelColumn names the CSV/JSON column of a label's outflow.
func labelColumn(label string) string {
	if label == "" {
		return "label_unlabelled_sat"
	}
	var b strings.Builder
	for _, r := range strings.ToLower(label) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return "label_" + b.String() + "_sat"
}

// flowsFromNote explains, when the index's full blocks do not start at genesis, that coins mined below
// are not tracked.
func (fd *flowData) flowsFromNote() string {
	if fd.lo == 0 {
		return ""
	}
	return fmt.Sprintf("note: the index has full blocks from height %d only, so miner scripts and outputs "+
		"are tracked from there: coins mined below are missing from every figure", fd.lo)
}
