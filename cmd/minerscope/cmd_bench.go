package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/minerscope/minerscope/chain"
	"github.com/minerscope/minerscope/index"
)

type benchOptions struct {
	Rounds int
	JSON   bool
	Source string
}

// benchResult is the `bench headers --json` document.
type benchResult struct {
	Count        int     `json:"count"` // headers or blocks synced
	Rate         float64 `json:"rate"`
	BaselineRate float64 `json:"baseline_rate"`
	Ratio        float64 `json:"ratio"`
	Unit         string  `json:"unit"`
	Rounds       int     `json:"rounds"`
	BatchSize    int     `json:"batch_size"`
	InFlight     int     `json:"in_flight"`
	CloseSeconds float64 `json:"close_s"` // closing the index after the best sync (memtable flush), not in rate

	// bench blocks only
	MBPerSec         float64 `json:"mb_per_s,omitempty"`
	BaselineMBPerSec float64 `json:"baseline_mb_per_s,omitempty"`
	Source           string  `json:"source,omitempty"`

	// SourceRate is the block source alone (fetch, decode and the hash and merkle checks every source
	// applies, delivered in order), storing nothing; SourceRatio = Rate / SourceRate.
	SourceRate  float64 `json:"source_rate,omitempty"`
	SourceRatio float64 `json:"source_ratio,omitempty"`
}

func newBenchCommand(g *globalOptions) *cobra.Command {
	var opts benchOptions
	cmd := &cobra.Command{
		Use:   "bench headers|blocks",
		Short: "Measure header or full-block sync speed against a fetch-only baseline on the same node",
		Long: `bench headers syncs every header from the node into a fresh temporary index (fetch, verify,
store) and, in the same run, times a minimal client that only fetches the same headers with the same
batching. bench blocks builds a full index (headers, blocks, coinbase records) against a baseline that
makes the same block requests (getblockhash, then the source's block requests with the same batching and
concurrency) and decodes every block, storing nothing. Both print the rates and their ratio; the best
of --rounds runs of each counts.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Rounds < 1 {
				return usagef("--rounds must be at least 1")
			}
			switch args[0] {
			case "headers":
				return runBench(cmd.Context(), g, opts)
			case "blocks":
				switch opts.Source {
				case "auto", "rpc", "rest":
				default:
					return usagef("--source must be rpc, rest or auto, got %q", opts.Source)
				}
				return runBenchBlocks(cmd.Context(), g, opts)
			}
			return usagef("unknown benchmark %q; use headers or blocks", args[0])
		},
	}
	cmd.Flags().IntVar(&opts.Rounds, "rounds", 3, "runs of each side; the best counts")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&opts.Source, "source", "auto", "bench blocks: rpc, rest or auto")
	return cmd
}

func runBench(ctx context.Context, g *globalOptions, opts benchOptions) error {
	node, err := g.dialNode(ctx)
	if err != nil {
		return err
	}
	res, err := benchHeaders(ctx, node, opts.Rounds)
	if err != nil {
		return err
	}
	if opts.JSON {
		return writeJSON(g.stdout, res)
	}
	fmt.Fprintf(g.stdout, "header sync: %.0f headers/s; fetch-only baseline: %.0f headers/s; ratio %.2f (%d headers, best of %d; closing the index took %.0f ms more)\n",
		res.Rate, res.BaselineRate, res.Ratio, res.Count, res.Rounds, res.CloseSeconds*1000)
	return nil
}

// benchHeaders alternates the baseline and the full sync rounds times on the same node.
func benchHeaders(ctx context.Context, node *chain.Client, rounds int) (benchResult, error) {
	tip, err := node.BlockCount(ctx)
	if err != nil {
		return benchResult{}, err
	}
	res := benchResult{Count: int(tip) + 1, Unit: "headers/s", Rounds: rounds,
		BatchSize: chain.DefaultBatchSize, InFlight: chain.DefaultInFlight}
	user, pass := node.Credentials()
	for range rounds {
		start := time.Now()
		n, err := chain.BaselineFetch(ctx, node.Addr(), user, pass, 0, tip, res.BatchSize, res.InFlight)
		if err != nil {
			return res, fmt.Errorf("baseline: %w", err)
		}
		res.BaselineRate = max(res.BaselineRate, float64(n)/time.Since(start).Seconds())

		rate, closing, err := benchSyncOnce(ctx, node, nil)
		if err != nil {
			return res, err
		}
		if rate > res.Rate {
			res.Rate, res.CloseSeconds = rate, closing.Seconds()
		}
	}
	res.Ratio = res.Rate / res.BaselineRate
	return res, nil
}

// benchSyncOnce syncs every header into a fresh index on disk and returns headers per second until the last
// header is committed (stored, readable and crash-consistent), and how long closing the index then took.
// With a block source it builds a full index (headers, blocks and coinbase records).
func benchSyncOnce(ctx context.Context, node *chain.Client, src chain.BlockSource) (float64, time.Duration, error) {
	dir, err := os.MkdirTemp("", "minerscope-bench-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	db, err := index.Open(filepath.Join(dir, "index"), node.Network(), index.Options{})
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	s := newSyncer(node, db, nil, nil)
	if src != nil {
		s.blocks = src
		if err := db.SetBlocksFrom(0, true); err != nil {
			return 0, 0, err
		}
	}
	start := time.Now()
	r, err := s.syncOnce(ctx)
	if err != nil {
		return 0, 0, err
	}
	rate := float64(r.Connected) / time.Since(start).Seconds()
	start = time.Now()
	if err := db.Close(); err != nil {
		return 0, 0, err
	}
	return rate, time.Since(start), nil
}

func runBenchBlocks(ctx context.Context, g *globalOptions, opts benchOptions) error {
	node, err := g.dialNode(ctx)
	if err != nil {
		return err
	}
	o := indexOptions{Source: opts.Source}
	src, err := openBlockSource(node, o, probeREST(ctx, node, o))
	if err != nil {
		return err
	}
	res, err := benchBlocks(ctx, node, src, opts.Rounds)
	if err != nil {
		return err
	}
	if opts.JSON {
		return writeJSON(g.stdout, res)
	}
	fmt.Fprintf(g.stdout, "full index: %.0f blocks/s (%.1f MB/s); block source alone (fetch, decode, check): %.0f "+
		"blocks/s, ratio %.2f; fetch-and-decode baseline: %.0f blocks/s (%.1f MB/s), ratio %.2f (%d blocks from %s, "+
		"best of %d; closing the index took %.0f ms more)\n",
		res.Rate, res.MBPerSec, res.SourceRate, res.SourceRatio, res.BaselineRate, res.BaselineMBPerSec, res.Ratio,
		res.Count, res.Source, res.Rounds, res.CloseSeconds*1000)
	return nil
}

// benchBlocks alternates the fetch-and-decode baseline and a full index of every block rounds times.
// The baseline makes the same requests as the full sync's block path (getblockhash a chunk ahead, then the
// source's block requests with its batching and concurrency) and decodes every block, but checks and
// stores nothing; it does not fetch headers, which the full index takes from the blocks themselves.
func benchBlocks(ctx context.Context, node *chain.Client, src chain.BlockSource, rounds int) (benchResult, error) {
	tip, err := node.BlockCount(ctx)
	if err != nil {
		return benchResult{}, err
	}
	res := benchResult{Count: int(tip) + 1, Unit: "blocks/s", Rounds: rounds, Source: src.Name(),
		BatchSize: chain.DefaultBlockBatchSize, InFlight: chain.DefaultBlockInFlight}
	var bytes int64
	for range rounds {
		start := time.Now()
		st, err := baselineBlocks(ctx, node, src, 0, tip)
		if err != nil {
			return res, fmt.Errorf("baseline: %w", err)
		}
		bytes = st.Bytes
		res.BaselineRate = max(res.BaselineRate, float64(st.Blocks)/time.Since(start).Seconds())

		start = time.Now()
		n, err := sourceBlocks(ctx, node, src, 0, tip)
		if err != nil {
			return res, fmt.Errorf("source baseline: %w", err)
		}
		res.SourceRate = max(res.SourceRate, float64(n)/time.Since(start).Seconds())

		rate, closing, err := benchSyncOnce(ctx, node, src)
		if err != nil {
			return res, err
		}
		if rate > res.Rate {
			res.Rate, res.CloseSeconds = rate, closing.Seconds()
		}
	}
	mbPerBlock := float64(bytes) / float64(res.Count) / 1e6
	res.Ratio = res.Rate / res.BaselineRate
	res.SourceRatio = res.Rate / res.SourceRate
	res.MBPerSec, res.BaselineMBPerSec = res.Rate*mbPerBlock, res.BaselineRate*mbPerBlock
	return res, nil
}

// sourceBlocks drains the block source for blocks from..to exactly as the full sync reads it, storing nothing,
// and returns the number of blocks.
func sourceBlocks(ctx context.Context, node *chain.Client, src chain.BlockSource, from, to int32) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := 0
	for c := range prefetchHashes(ctx, node, from, to) {
		if c.err != nil {
			return n, c.err
		}
		blocks, wait := src.FetchBlocks(ctx, c.from, c.hashes)
		for range blocks {
			n++
		}
		if err := wait(); err != nil {
			return n, err
		}
	}
	return n, nil
}

// baselineBlocks fetches and decodes blocks from..to the way the full sync requests them, and nothing else.
func baselineBlocks(ctx context.Context, node *chain.Client, src chain.BlockSource, from, to int32) (chain.BaselineStats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var total chain.BaselineStats
	for c := range prefetchHashes(ctx, node, from, to) {
		if c.err != nil {
			return total, c.err
		}
		st, err := chain.BaselineBlocks(ctx, src, c.from, c.hashes)
		if err != nil {
			return total, err
		}
		total.Blocks += st.Blocks
		total.Bytes += st.Bytes
	}
	return total, nil
}
