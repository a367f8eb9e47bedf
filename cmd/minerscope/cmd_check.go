package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/spf13/cobra"

	"github.com/minerscope/minerscope/chain"
	"github.com/minerscope/minerscope/index"
)

type checkOptions struct {
	Sample     int
	Full       bool
	Seed       uint64
	seedSet    bool
	RebuildDir string
	JSON       bool
}

// checkReport is the `check --json` document.
type checkReport struct {
	IndexDir string `json:"index_dir"`
	Network  string `json:"network"`
	IndexTip int32  `json:"index_tip"` // -1 for an empty index
	NodeTip  int32  `json:"node_tip"`
	Mode     string `json:"mode"` // "sample" or "full"

	// Seed draws the sample; the same seed over the same index draws the same heights.
	Seed *uint64 `json:"seed,omitempty"`

	// CheckedHeights are the heights whose hash was compared with the node's, CheckedBlocks the blocks
	// whose rows were compared with the node's block.
	CheckedHeights int `json:"checked_heights"`
	CheckedBlocks  int `json:"checked_blocks"`

	InvariantsOK bool  `json:"invariants_ok"`
	NodeOK       bool  `json:"node_ok"`
	RebuildOK    *bool `json:"rebuild_ok,omitempty"` // --full only

	Problems []checkProblem `json:"problems"`
	Seconds  float64        `json:"seconds"`

	mu sync.Mutex
}

// checkProblem is one problem found: in the index itself ("index"), against the node's chain and blocks
// ("node") or against a fresh sync ("rebuild").
type checkProblem struct {
	Height *int32 `json:"height"` // null when the problem belongs to no block
	Source string `json:"source"`
	What   string `json:"what"`
}

// add records problems found by source; safe for concurrent use.
func (r *checkReport) add(source string, ps ...index.Problem) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range ps {
		cp := checkProblem{Source: source, What: p.What}
		if p.Height >= 0 {
			h := p.Height
			cp.Height = &h
		}
		r.Problems = append(r.Problems, cp)
	}
}

// count returns the number of problems found by source.
func (r *checkReport) count(source string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, p := range r.Problems {
		if p.Source == source {
			n++
		}
	}
	return n
}

func newCheckCommand(g *globalOptions) *cobra.Command {
	opts := checkOptions{Sample: 100}
	cmd := &cobra.Command{
		Use:   "check [--sample N | --full]",
		Short: "Prove the index matches the node: its own invariants, then hashes, coinbases and flows per block",
		Long: `check reads the whole index once and checks its invariants: headers linked from genesis to the
tip with their hashes and chain work, undo data for every block, a coinbase record and flow totals for
every full block, the reserve identity (the blocks' net changes add up to the unspent miner outputs, in
total and per origin), and the flow transactions' rows. Then it asks the node: for --sample N random
heights and the tip (the seed is printed; --seed repeats a sample) or every height (--full), the node's
best-chain hash must be the stored one, and the node's block must give the stored coinbase record and
flow transactions. --full also syncs a fresh index from the node into a temporary directory
(--rebuild-dir, default the system's) and compares the two key for key. Every problem is listed with its
height; the exit code is 1 if there is any.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			switch {
			case opts.Sample < 0:
				return usagef("--sample must not be negative, got %d", opts.Sample)
			case opts.Full && (f.Changed("sample") || f.Changed("seed")):
				return usagef("--full checks every height; drop --sample and --seed")
			case !opts.Full && f.Changed("rebuild-dir"):
				return usagef("--rebuild-dir is for --full")
			}
			opts.seedSet = f.Changed("seed")
			return runCheck(cmd.Context(), g, opts)
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.Sample, "sample", 100, "check this many random heights (and the tip) against the node")
	f.BoolVar(&opts.Full, "full", false, "check every height and compare with a fresh sync")
	f.Uint64Var(&opts.Seed, "seed", 0, "seed of the sample (default: random, printed)")
	f.StringVar(&opts.RebuildDir, "rebuild-dir", "", "where --full builds the fresh index (default: the system's temporary directory)")
	f.BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func runCheck(ctx context.Context, g *globalOptions, opts checkOptions) error {
	start := time.Now()
	node, err := g.dialNode(ctx)
	if err != nil {
		return err
	}
	db, err := g.openIndexReadOnly()
	if err != nil {
		return err
	}
	defer db.Close()
	if p := db.Params(); p.GenesisHash != node.Network().GenesisHash {
		return &index.WrongNetworkError{Index: p.Name, Node: node.Network().Name, Dir: db.Dir()}
	}

	rep := &checkReport{IndexDir: db.Dir(), Network: db.Params().Name, IndexTip: -1, Mode: "sample"}
	if opts.Full {
		rep.Mode = "full"
	}
	c := &nodeCheck{g: g, opts: opts, node: node, db: db, rep: rep}
	if err := c.run(ctx); err != nil {
		return err
	}
	rep.Seconds = time.Since(start).Seconds()
	if rep.Problems == nil {
		rep.Problems = []checkProblem{}
	}

	if opts.JSON {
		if err := writeJSON(g.stdout, rep); err != nil {
			return err
		}
	} else {
		c.print(g.stdout)
	}
	if n := len(rep.Problems); n > 0 {
		return fmt.Errorf("found %d problems in the index at %s; if the node reorganized since the last "+
			"sync, run `minerscope index` and check again, otherwise move the index aside and rebuild it "+
			"with `minerscope index`", n, db.Dir())
	}
	return nil
}

// nodeCheck is one run of `check`.
type nodeCheck struct {
	g    *globalOptions
	opts checkOptions
	node *chain.Client
	db   *index.DB
	rep  *checkReport

	top      int32          // highest height both the index and the node hold
	mismatch map[int32]bool // heights whose stored hash is not the node's

	invSeconds, nodeSeconds, rebuildSeconds float64
}

// run checks the invariants, then the heights against the node, then (--full) a fresh sync.
func (c *nodeCheck) run(ctx context.Context) error {
	start := time.Now()
	ps, err := c.db.CheckInvariants(ctx)
	if err != nil {
		return err
	}
	c.rep.add("index", ps...)
	c.rep.InvariantsOK = len(ps) == 0
	c.invSeconds = time.Since(start).Seconds()

	tip, _, ok := c.db.Tip()
	if !ok {
		return nil
	}
	c.rep.IndexTip = tip
	if c.rep.NodeTip, err = c.node.BlockCount(ctx); err != nil {
		return err
	}
	c.top = min(tip, c.rep.NodeTip)
	if c.rep.NodeTip < tip {
		c.rep.add("node", index.Problem{Height: c.rep.NodeTip + 1, What: fmt.Sprintf("the node's best chain "+
			"ends at height %d, below the index tip %d; check again once the node has caught up",
			c.rep.NodeTip, tip)})
	}

	start = time.Now()
	if err := c.againstNode(ctx); err != nil {
		return err
	}
	c.nodeSeconds = time.Since(start).Seconds()
	c.rep.NodeOK = c.rep.count("node") == 0
	if !c.opts.Full {
		return nil
	}

	start = time.Now()
	err = c.rebuild(ctx)
	c.rebuildSeconds = time.Since(start).Seconds()
	return err
}

// heights returns the heights to compare with the node, ascending.
func (c *nodeCheck) heights() []int32 {
	if c.opts.Full {
		hs := make([]int32, c.top+1)
		for i := range hs {
			hs[i] = int32(i)
		}
		return hs
	}
	seed := c.opts.Seed
	if !c.opts.seedSet {
		seed = rand.Uint64()
	}
	c.rep.Seed = &seed
	return sampleHeights(rand.New(rand.NewPCG(seed, seed)), c.top, c.opts.Sample)
}

// sampleHeights draws n distinct heights uniformly from [0, top] (all of them if n is larger; Floyd's
// algorithm, so the cost does not depend on top) and adds top.
func sampleHeights(rng *rand.Rand, top int32, n int) []int32 {
	total := int(top) + 1
	chosen := make(map[int32]bool, min(n, total)+1)
	for j := total - min(n, total); j < total; j++ {
		h := int32(rng.IntN(j + 1))
		if chosen[h] {
			h = int32(j)
		}
		chosen[h] = true
	}
	chosen[top] = true
	hs := make([]int32, 0, len(chosen))
	for h := range chosen {
		hs = append(hs, h)
	}
	slices.Sort(hs)
	return hs
}

// againstNode compares the stored hashes of the chosen heights with the node's best chain and, in a
// sample, the rows of each matching full block with the node's block (--full compares the blocks during
// the rebuild, which fetches them anyway).
func (c *nodeCheck) againstNode(ctx context.Context) error {
	heights := c.heights()
	c.rep.CheckedHeights = len(heights)
	c.mismatch = make(map[int32]bool)
	var checker *index.BlockChecker
	if !c.opts.Full {
		var err error
		if checker, err = c.db.NewBlockChecker(ctx); err != nil {
			return err
		}
	}
	src := chain.NewRPCBlockSource(c.node, 0, 0)
	for _, run := range consecutiveRuns(heights, hashChunk) {
		hashes, err := c.compareHashes(ctx, run[0], run[len(run)-1])
		if err != nil {
			return err
		}
		if checker == nil {
			continue
		}
		if err := c.checkBlocks(ctx, src, checker, run[0], hashes); err != nil {
			return err
		}
	}
	return nil
}

// consecutiveRuns splits ascending heights into runs of consecutive heights of at most max each.
func consecutiveRuns(heights []int32, max int) [][]int32 {
	var runs [][]int32
	for i := 0; i < len(heights); {
		j := i + 1
		for j < len(heights) && heights[j] == heights[j-1]+1 && j-i < max {
			j++
		}
		runs = append(runs, heights[i:j])
		i = j
	}
	return runs
}

// compareHashes compares the stored hashes of [from, to] with the node's and returns the node's.
func (c *nodeCheck) compareHashes(ctx context.Context, from, to int32) ([]chainhash.Hash, error) {
	hashes, err := c.node.BlockHashes(ctx, from, to)
	if err != nil {
		return nil, err
	}
	if len(hashes) != int(to-from+1) {
		return nil, fmt.Errorf("block hashes %d-%d: %w: the node's chain ends at %d; it reorganized or "+
			"restarted during the check, run it again", from, to, chain.ErrHeightOutOfRange, from+int32(len(hashes))-1)
	}
	recs, err := c.db.Headers(from, to)
	if err != nil {
		return nil, err
	}
	for i := range recs {
		if recs[i].Hash != hashes[i] {
			c.mismatch[from+int32(i)] = true
			c.rep.add("node", index.Problem{Height: from + int32(i), What: fmt.Sprintf("the index holds block "+
				"%v but the node's best chain has %v", recs[i].Hash, hashes[i])})
		}
	}
	return hashes, nil
}

// checkBlocks fetches the node's blocks from from on (hashes) that the index keeps in full and whose hash
// matched, and compares their rows.
func (c *nodeCheck) checkBlocks(ctx context.Context, src chain.BlockSource, checker *index.BlockChecker,
	from int32, hashes []chainhash.Hash) error {

	blocksFrom, full := c.db.BlocksFrom()
	if !full {
		return nil
	}
	if skip := blocksFrom - from; skip > 0 {
		if int(skip) >= len(hashes) {
			return nil
		}
		from, hashes = blocksFrom, hashes[skip:]
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	blocks, wait := src.FetchBlocks(ctx, from, hashes)
	for b := range blocks {
		if err := c.checkBlock(checker, &b); err != nil {
			return err
		}
	}
	return wait()
}

// checkBlock compares the stored rows of one node block, unless its hash already differed.
func (c *nodeCheck) checkBlock(checker *index.BlockChecker, b *chain.RawBlock) error {
	if c.mismatch[b.Height] {
		return nil
	}
	ps, err := checker.CheckBlock(b.Height, b.Block, b.TxIDs)
	if err != nil {
		return err
	}
	c.rep.add("node", ps...)
	c.rep.mu.Lock()
	c.rep.CheckedBlocks++
	c.rep.mu.Unlock()
	return nil
}

// rebuild syncs heights [0, top] from the node into a fresh index with the sync's own code, comparing each
// full block's rows with the stored ones as it passes, and then compares the two indexes key for key.
func (c *nodeCheck) rebuild(ctx context.Context) error {
	ok := false
	c.rep.RebuildOK = &ok
	if c.rep.NodeTip < c.rep.IndexTip {
		return nil // reported: the fresh index could not reach the tip
	}
	dir, err := os.MkdirTemp(c.opts.RebuildDir, "minerscope-check-")
	if err != nil {
		return fmt.Errorf("directory for the fresh index: %w; pass --rebuild-dir", err)
	}
	defer os.RemoveAll(dir)
	fresh, err := index.Open(dir, c.node.Network(), index.Options{Logger: c.g.logger()})
	if err != nil {
		return err
	}
	defer fresh.Close()

	s := newSyncer(c.node, fresh, c.g.logger(), newProgress(c.g))
	if from, full := c.db.BlocksFrom(); full {
		if err := fresh.SetBlocksFrom(from, true); err != nil {
			return err
		}
		checker, err := c.db.NewBlockChecker(ctx)
		if err != nil {
			return err
		}
		s.blocks = &checkingSource{BlockSource: chain.NewRPCBlockSource(c.node, 0, 0), check: func(b *chain.RawBlock) error {
			return c.checkBlock(checker, b)
		}}
	}
	var res syncResult
	if err := s.connect(ctx, 0, c.top, &res); err != nil {
		return fmt.Errorf("syncing a fresh index to compare with: %w", err)
	}
	if _, full := c.db.BlocksFrom(); full {
		if err := s.fillInputValues(ctx, &res); err != nil {
			return fmt.Errorf("syncing a fresh index to compare with: %w", err)
		}
	}
	c.rep.NodeOK = c.rep.count("node") == 0

	ps, err := c.db.Diff(ctx, fresh)
	if err != nil {
		return err
	}
	c.rep.add("rebuild", ps...)
	ok = len(ps) == 0
	return nil
}

// checkingSource passes the blocks of a source on unchanged, running check on each first.
type checkingSource struct {
	chain.BlockSource
	check func(b *chain.RawBlock) error
}

// FetchBlocks implements chain.BlockSource.
func (s *checkingSource) FetchBlocks(ctx context.Context, from int32, hashes []chainhash.Hash) (<-chan chain.RawBlock, func() error) {
	in, wait := s.BlockSource.FetchBlocks(ctx, from, hashes)
	out := make(chan chain.RawBlock)
	done := make(chan struct{})
	var checkErr error
	go func() {
		defer close(done)
		defer close(out)
		for b := range in {
			if checkErr == nil {
				checkErr = s.check(&b)
			}
			select {
			case out <- b:
			case <-ctx.Done():
				for range in {
				}
				return
			}
		}
	}()
	return out, func() error {
		<-done
		if err := wait(); err != nil {
			return err
		}
		return checkErr
	}
}

// print writes the problems and a summary of the run.
func (c *nodeCheck) print(w io.Writer) {
	r := c.rep
	for _, p := range r.Problems {
		if p.Height != nil {
			fmt.Fprintf(w, "height %d: %s\n", *p.Height, p.What)
		} else {
			fmt.Fprintln(w, p.What)
		}
	}
	if c.g.Quiet {
		return
	}
	fmt.Fprintf(w, "index %s (%s, tip %d), checked in %.2f s\n", r.IndexDir, r.Network, r.IndexTip, r.Seconds)
	fmt.Fprintf(w, "  invariants: %s (%.2f s)\n", verdict(c.rep.count("index")), c.invSeconds)
	if r.IndexTip < 0 {
		return
	}
	what := fmt.Sprintf("every height 0-%d", c.top)
	if r.Seed != nil {
		what = fmt.Sprintf("%d heights (a sample of %d and the tip; seed %d, repeat with --seed %d)",
			r.CheckedHeights, c.opts.Sample, *r.Seed, *r.Seed)
	}
	blocks := fmt.Sprintf("%d blocks", r.CheckedBlocks)
	if c.opts.Full {
		blocks += " (compared during the rebuild)"
	}
	fmt.Fprintf(w, "  node:       %s, %s: %s (%.2f s)\n", what, blocks, verdict(c.rep.count("node")), c.nodeSeconds)
	if r.RebuildOK != nil {
		fmt.Fprintf(w, "  rebuild:    a fresh sync of heights 0-%d, compared key for key: %s (%.2f s)\n", c.top,
			verdict(c.rep.count("rebuild")), c.rebuildSeconds)
	}
}

// verdict summarises n problems.
func verdict(n int) string {
	if n == 0 {
		return "ok"
	}
	return fmt.Sprintf("%d problems", n)
}
