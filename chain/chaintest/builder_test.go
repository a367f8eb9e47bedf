package chaintest

import (
	"bufio"
	"errors"
	"io"
	"math"
	"os"
	"testing"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// readFileHeaders reads the headers of the first count blocks of btcd's
// mainnet block file.
func readFileHeaders(t *testing.T, path string, count int) []wire.BlockHeader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := bufio.NewReader(f)

	headers := make([]wire.BlockHeader, count)
	var pre [8]byte
	for i := range headers {
		if _, err := io.ReadFull(r, pre[:]); err != nil {
			t.Fatal(err)
		}
		var blk wire.MsgBlock
		if err := blk.Deserialize(r); err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		headers[i] = blk.Header
	}
	return headers
}

// TestBuilderRulesOnMainnet replays the real mainnet headers 1-14131 (which
// include seven retargets) through the builder: the bits it requires and
// the median time past it computes must admit every real block.
func TestBuilderRulesOnMainnet(t *testing.T) {
	t.Parallel()
	path, err := MainnetBlocksPath(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	headers := readFileHeaders(t, path, MainnetTipHeight+1)

	b := NewBuilder(&chaincfg.MainNetParams)
	if tip, _ := b.Tip(); tip != headers[0].BlockHash() {
		t.Fatalf("builder genesis %v, file genesis %v", tip,
			headers[0].BlockHash())
	}
	for h := int32(1); h <= MainnetTipHeight; h++ {
		hdr := &headers[h]
		bits, err := b.RequiredBits(hdr.PrevBlock, hdr.Timestamp)
		if err != nil {
			t.Fatalf("height %d: %v", h, err)
		}
		if bits != hdr.Bits {
			t.Fatalf("height %d: required bits %08x, block has %08x",
				h, bits, hdr.Bits)
		}
		mtp, err := b.MedianTimePast(hdr.PrevBlock)
		if err != nil {
			t.Fatalf("height %d: %v", h, err)
		}
		if !hdr.Timestamp.After(mtp) {
			t.Fatalf("height %d: time %v not after median %v", h,
				hdr.Timestamp, mtp)
		}
		if err := b.AddHeader(h, hdr); err != nil {
			t.Fatalf("height %d: %v", h, err)
		}
	}
}

// TestBuilderShortHistory checks that a builder seeded mid-chain refuses to
// guess what it cannot know.
func TestBuilderShortHistory(t *testing.T) {
	t.Parallel()
	b := newEmptyBuilder(&chaincfg.SimNetParams)
	hdr := wire.BlockHeader{
		Version:   defaultBlockVersion,
		Timestamp: time.Unix(1700000000, 0),
		Bits:      chaincfg.SimNetParams.PowLimitBits,
	}
	if err := b.AddHeader(2015, &hdr); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts BlockOpts
	}{
		{"retarget", BlockOpts{Time: time.Unix(1700000600, 0)}},
		{"median time", BlockOpts{Bits: 0x207fffff}},
	}
	for _, tc := range tests {
		if _, err := b.Next(tc.opts); !errors.Is(err, ErrShortHistory) {
			t.Errorf("%s: err = %v, want ErrShortHistory", tc.name, err)
		}
	}
	if _, err := b.Next(BlockOpts{Parent: &chainhash.Hash{1}}); !errors.Is(err, ErrUnknownBlock) {
		t.Errorf("unknown parent: err = %v, want ErrUnknownBlock", err)
	}
}

type headerVerbose struct {
	Height     int32   `json:"height"`
	Bits       string  `json:"bits"`
	Difficulty float64 `json:"difficulty"`
	Time       int64   `json:"time"`
}

// TestSimnetRetarget submits 2020 crafted blocks 150 s apart. Timestamps
// start just after simnet's 2014 genesis, so the first epoch (genesis to
// block 2015) spans 2015*150 s, under a quarter of the two-week target: the
// retarget at 2016 must make blocks exactly four times harder, i.e. the
// 0x207fffff target divided by 4, which in compact form is 0x201fffff.
func TestSimnetRetarget(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	n := StartSimnet(t)

	const (
		count   = 2020
		spacing = 150 * time.Second
	)
	genesis := chaincfg.SimNetParams.GenesisBlock.Header.Timestamp
	b := NewBuilder(n.Params)

	begin := time.Now()
	_, err := n.SubmitChain(ctx, b, count, func(i int) BlockOpts {
		return BlockOpts{Time: genesis.Add(time.Duration(i+1) * spacing)}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built and submitted %d blocks in %v", count, time.Since(begin))

	best, height, err := n.BestBlock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tip, _ := b.Tip(); height != count || best != tip {
		t.Fatalf("node tip %v at %d, want %v at %d", best, height, tip, count)
	}

	tests := []struct {
		height int32
		bits   string
	}{
		{1, "207fffff"},
		{2015, "207fffff"},
		{2016, "201fffff"},
		{count, "201fffff"},
	}
	for _, tc := range tests {
		hash, err := n.BlockHash(ctx, tc.height)
		if err != nil {
			t.Fatal(err)
		}
		got := callJSON[headerVerbose](t, ctx, n, "getblockheader",
			hash.String(), true)
		if got.Bits != tc.bits {
			t.Errorf("height %d: bits %s, want %s", tc.height,
				got.Bits, tc.bits)
		}
	}

	before := difficultyAt(t, n, 2015)
	after := difficultyAt(t, n, 2016)
	if r := after / before; math.Abs(r-4) > 1e-5 {
		t.Errorf("difficulty ratio across retarget = %v, want 4", r)
	}
}

func difficultyAt(t *testing.T, n *Node, height int32) float64 {
	t.Helper()
	ctx := testCtx(t)
	hash, err := n.BlockHash(ctx, height)
	if err != nil {
		t.Fatal(err)
	}
	return callJSON[headerVerbose](t, ctx, n, "getblockheader",
		hash.String(), true).Difficulty
}

// TestSimnetFork builds a side branch three blocks below the tip: the node
// keeps its tip while the branch has less or equal work and switches when
// it gets longer; invalidateblock and reconsiderblock switch it back and
// forth.
func TestSimnetFork(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	n := StartSimnet(t)

	start := time.Now().Add(-24 * time.Hour).Truncate(time.Second)
	if err := n.MineChain(ctx, 20, 10*time.Minute, start); err != nil {
		t.Fatal(err)
	}
	oldTip, height, err := n.BestBlock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if height != 20 {
		t.Fatalf("height after MineChain = %d, want 20", height)
	}
	b, err := n.Builder(ctx)
	if err != nil {
		t.Fatal(err)
	}

	const depth = 3
	fork, err := n.BlockHash(ctx, height-depth)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetTip(fork); err != nil {
		t.Fatal(err)
	}
	var side []*wire.MsgBlock
	for i := range depth + 1 {
		blk, err := b.Next(BlockOpts{CoinbaseScript: []byte("side")})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.SubmitBlock(ctx, blk); err != nil {
			t.Fatalf("side block %d: %v", i, err)
		}
		side = append(side, blk)

		best, _, err := n.BestBlock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := oldTip
		if i == depth {
			want = blk.BlockHash()
		}
		if best != want {
			t.Fatalf("after side block %d: tip %v, want %v", i, best, want)
		}
	}
	for i, blk := range side {
		got, err := n.BlockHash(ctx, height-depth+1+int32(i))
		if err != nil {
			t.Fatal(err)
		}
		if got != blk.BlockHash() {
			t.Errorf("height %d: %v, want side block %v",
				height-depth+1+int32(i), got, blk.BlockHash())
		}
	}

	// Invalidating the branch's first block returns the node to the old
	// tip; reconsidering it brings the branch back.
	if err := n.InvalidateBlock(ctx, side[0].BlockHash()); err != nil {
		t.Fatal(err)
	}
	if best, _, _ := n.BestBlock(ctx); best != oldTip {
		t.Fatalf("after invalidateblock: tip %v, want %v", best, oldTip)
	}
	if err := n.ReconsiderBlock(ctx, side[0].BlockHash()); err != nil {
		t.Fatal(err)
	}
	if best, _, _ := n.BestBlock(ctx); best != side[depth].BlockHash() {
		t.Fatalf("after reconsiderblock: tip %v, want %v", best,
			side[depth].BlockHash())
	}

	// The Reorg helper does the same in one call.
	blocks, err := n.Reorg(ctx, b, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 3 {
		t.Fatalf("Reorg built %d blocks, want 3", len(blocks))
	}
	if _, h, _ := n.BestBlock(ctx); h != height+2 {
		t.Fatalf("height after Reorg = %d, want %d", h, height+2)
	}
}

// TestSubmitBlockErrors checks that rejections and orphans surface as errors.
func TestSubmitBlockErrors(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	n := StartSimnet(t)
	b := NewBuilder(n.Params)

	genesis := chaincfg.SimNetParams.GenesisBlock.Header.Timestamp
	bad, err := b.Next(BlockOpts{Time: genesis}) // not after median time
	if err != nil {
		t.Fatal(err)
	}
	if err := n.SubmitBlock(ctx, bad); !errors.Is(err, ErrRejected) {
		t.Errorf("old timestamp: err = %v, want ErrRejected", err)
	}

	b = NewBuilder(n.Params)
	first, err := b.Next(BlockOpts{})
	if err != nil {
		t.Fatal(err)
	}
	second, err := b.Next(BlockOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.SubmitBlock(ctx, second); !errors.Is(err, ErrOrphan) {
		t.Errorf("unknown parent: err = %v, want ErrOrphan", err)
	}
	if err := n.SubmitBlock(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := n.SubmitBlock(ctx, first); !errors.Is(err, ErrRejected) {
		t.Errorf("duplicate: err = %v, want ErrRejected", err)
	}
}

// TestBuilderBlockSanity checks crafted blocks with btcd's own context-free
// validation, the BIP34 height push, the witness commitment and the
// coinbase value (simnet pays 50 BTC until height 210000).
func TestBuilderBlockSanity(t *testing.T) {
	t.Parallel()
	spend := wire.NewMsgTx(2)
	spend.AddTxIn(&wire.TxIn{
		PreviousOutPoint: wire.OutPoint{Hash: chainhash.Hash{7}},
		Witness:          wire.TxWitness{[]byte{1, 2, 3}},
	})
	spend.AddTxOut(wire.NewTxOut(1000, []byte{txscript.OP_TRUE}))

	tests := []struct {
		name      string
		opts      BlockOpts
		value     int64
		witnessed bool
	}{
		{"empty", BlockOpts{}, 50e8, false},
		{"tagged", BlockOpts{CoinbaseScript: []byte("/pool/")}, 50e8, false},
		{"witness tx with fee", BlockOpts{Txs: []*wire.MsgTx{spend},
			Fees: 250}, 50e8 + 250, true},
	}
	b := NewBuilder(&chaincfg.SimNetParams)
	timeSource := blockchain.NewMedianTime()
	for i, tc := range tests {
		blk, err := b.Next(tc.opts)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		ublk := btcutil.NewBlock(blk)
		err = blockchain.CheckBlockSanity(ublk,
			chaincfg.SimNetParams.PowLimit, timeSource)
		if err != nil {
			t.Errorf("%s: CheckBlockSanity: %v", tc.name, err)
		}
		coinbase := ublk.Transactions()[0]
		if err := blockchain.CheckSerializedHeight(coinbase, int32(i+1)); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if got := blk.Transactions[0].TxOut[0].Value; got != tc.value {
			t.Errorf("%s: coinbase value %d, want %d", tc.name, got,
				tc.value)
		}
		_, has := blockchain.ExtractWitnessCommitment(coinbase)
		if has != tc.witnessed {
			t.Errorf("%s: witness commitment present = %v", tc.name, has)
		}
		if err := blockchain.ValidateWitnessCommitment(ublk); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
