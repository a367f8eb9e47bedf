package main

import (
	"fmt"
	"os"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/index"
)

// blockRow is one block of a full index: its header fields, its coinbase record and its pool.
type blockRow struct {
	Height   int32
	Hash     string
	Time     int64
	Bits     uint32
	Coinbase analysis.CoinbaseRecord
	Pool     analysis.Attribution
}

// poolsFlagUsage documents --pools wherever it appears.
const poolsFlagUsage = "pool definitions in mempool.space's pools-v2.json format (default: built in)"

// openWithMatcher opens the index read-only with a pool matcher for its network, built from the --pools
// file or the built-in list. The caller closes the index.
func (g *globalOptions) openWithMatcher(poolsFile string) (*index.DB, *analysis.Matcher, error) {
	pools, err := loadPools(poolsFile)
	if err != nil {
		return nil, nil, err
	}
	db, err := g.openIndexReadOnly()
	if err != nil {
		return nil, nil, err
	}
	m, err := analysis.NewMatcher(pools, db.Params())
	if err != nil {
		db.Close()
		return nil, nil, usagef("--pools: %v", err)
	}
	return db, m, nil
}

// loadPools reads a pools file in mempool.space's pools-v2.json format, or returns the built-in list.
func loadPools(file string) ([]analysis.Pool, error) {
	if file == "" {
		return analysis.DefaultPools(), nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, usagef("--pools: %v", err)
	}
	defer f.Close()
	pools, err := analysis.ParsePools(f)
	if err != nil {
		return nil, usagef("--pools %s: %v", file, err)
	}
	return pools, nil
}

// fullRange checks that the index keeps full blocks and clamps [from, to] (to < 0: the tip) to what it has.
func fullRange(db *index.DB, from, to int) (int32, int32, error) {
	blocksFrom, full := db.BlocksFrom()
	tip, _, ok := db.Tip()
	if !full {
		return 0, 0, fmt.Errorf("index %s holds headers only; index full blocks into a new --index directory "+
			"(minerscope index without --headers-only)", db.Dir())
	}
	if !ok || tip < blocksFrom {
		return 0, 0, fmt.Errorf("%w: no full block indexed yet; run `minerscope index` first", index.ErrNoIndex)
	}
	lo, hi := max(int32(from), blocksFrom), tip
	if to >= 0 {
		hi = min(int32(to), tip)
	}
	if lo > hi {
		return 0, 0, usagef("no indexed block in heights %d..%d (the index has full blocks %d..%d)", from, to, blocksFrom, tip)
	}
	return lo, hi, nil
}

// fullHeaders checks that db keeps full blocks and returns the first full height, the tip and every header up
// to the tip.
func fullHeaders(db *index.DB) (lo, hi int32, hs []analysis.Header, err error) {
	if lo, hi, err = fullRange(db, 0, -1); err != nil {
		return 0, 0, nil, err
	}
	hs, err = db.AnalysisHeaders(0, hi)
	return lo, hi, hs, err
}

// blockAttributions returns the attributions of the rows whose timestamps in accepts, for PoolShares.
func blockAttributions(rows []blockRow, in func(t int64) bool) []analysis.BlockAttribution {
	var out []analysis.BlockAttribution
	for _, r := range rows {
		if in(r.Time) {
			out = append(out, analysis.BlockAttribution{Height: r.Height, Time: r.Time, Bits: r.Bits,
				Attribution: r.Pool, TxCount: r.Coinbase.TxCount})
		}
	}
	return out
}

// loadRewards reads the coinbase rewards of heights lo..hi, stamped with their headers' times (hs holds
// heights 0..hi at least).
func loadRewards(db *index.DB, hs []analysis.Header, lo, hi int32) ([]analysis.BlockReward, error) {
	blocks := make([]analysis.BlockReward, 0, hi-lo+1)
	err := db.Coinbases(lo, hi, func(height int32, rec *analysis.CoinbaseRecord) error {
		blocks = append(blocks, analysis.BlockReward{Height: height, Time: hs[height].Time,
			Subsidy: rec.Subsidy, Fees: rec.Fees, Reward: rec.Reward})
		return nil
	})
	if err == nil && len(blocks) != int(hi-lo+1) {
		err = fmt.Errorf("%w: %d coinbase records for heights %d..%d", index.ErrCorrupt, len(blocks), lo, hi)
	}
	return blocks, err
}

// loadBlockRows reads heights [from, to] of a full index and attributes each block to a pool.
func loadBlockRows(db *index.DB, from, to int32, m *analysis.Matcher) ([]blockRow, error) {
	hdrs, err := db.Headers(from, to)
	if err != nil {
		return nil, err
	}
	rows := make([]blockRow, len(hdrs))
	for i, h := range hdrs {
		rows[i] = blockRow{Height: h.Height, Hash: h.Hash.String(), Time: h.Header.Timestamp.Unix(), Bits: h.Header.Bits}
	}
	err = db.Coinbases(from, to, func(height int32, rec *analysis.CoinbaseRecord) error {
		r := &rows[height-from]
		r.Coinbase = *rec
		r.Pool = m.Attribute(rec)
		return nil
	})
	return rows, err
}
