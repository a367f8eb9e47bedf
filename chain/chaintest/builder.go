package chaintest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/mining"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

const (
	// medianTimeBlocks is the number of blocks in the median time past.
	medianTimeBlocks = 11

	// defaultBlockVersion signals BIP9 with no deployment bits set.
	defaultBlockVersion = 0x20000000
)

var (
	// ErrUnknownBlock is returned when a block is not in the builder.
	ErrUnknownBlock = errors.New("chaintest: block unknown to builder")

	// ErrShortHistory is returned when the builder lacks the ancestors
	// the difficulty rule needs; seed it with more headers.
	ErrShortHistory = errors.New("chaintest: builder history too short")

	// ErrNoSolution is returned when no nonce satisfies the target.
	ErrNoSolution = errors.New("chaintest: no nonce solves the block")
)

// BlockOpts choose the contents of one crafted block. The zero value builds
// a valid empty block on the builder's tip, ten minutes after its parent.
type BlockOpts struct {
	// Parent is the block to build on; nil means the builder's tip.
	Parent *chainhash.Hash

	// Time is the header timestamp (whole seconds); zero means the
	// parent's time plus the network's target spacing, raised above the
	// median time past if needed. A given time is used as is, even if the
	// node must reject it.
	Time time.Time

	// CoinbaseScript follows the BIP34 height push in the coinbase
	// signature script. nil means a push of a builder-wide counter, which
	// keeps blocks on different branches distinct; a non-nil script is
	// used exactly (the script must total at least two bytes).
	CoinbaseScript []byte

	// PayTo is the coinbase output script; nil means MiningScript().
	PayTo []byte

	// Outputs, when not nil, are the coinbase outputs, used as given in
	// place of PayTo (so a block can pay P2PK, P2WPKH, P2TR, OP_RETURN, …
	// or split the reward): their values must sum to at most the subsidy
	// plus Fees. A witness commitment, when needed, is appended after them.
	Outputs []*wire.TxOut

	// Txs are added after the coinbase.
	Txs []*wire.MsgTx

	// Fees is the sum of Txs' fees, added to the coinbase value.
	Fees btcutil.Amount

	// Bits is the header's compact target; zero means the bits the
	// consensus rules require.
	Bits uint32

	// Version is the header version; zero means 0x20000000.
	Version int32
}

// blockInfo is what the builder remembers about one block.
type blockInfo struct {
	hash   chainhash.Hash
	height int32
	time   int64
	bits   uint32
	parent *blockInfo // nil below the builder's known history
}

// Builder crafts valid simnet (or regtest) blocks with chosen timestamps,
// coinbase scripts and outputs, and solves their proof of work. It follows
// any number of branches: every block it built or was given can be a parent,
// and each branch keeps its own ancestry for the retarget and median time
// rules, so side chains for reorg tests are built the same way as the main
// chain. A Builder is not safe for concurrent use.
type Builder struct {
	// Params are the network's consensus parameters.
	Params *chaincfg.Params

	blocks  map[chainhash.Hash]*blockInfo
	tip     *blockInfo
	counter uint64
}

// NewBuilder returns a builder that knows the network's genesis block, which
// is also its tip.
func NewBuilder(params *chaincfg.Params) *Builder {
	g := params.GenesisBlock.Header
	b := &Builder{Params: params, blocks: make(map[chainhash.Hash]*blockInfo)}
	b.tip = b.add(g.BlockHash(), 0, g.Timestamp.Unix(), g.Bits, nil)
	return b
}

// newEmptyBuilder returns a builder with no history.
func newEmptyBuilder(params *chaincfg.Params) *Builder {
	return &Builder{Params: params, blocks: make(map[chainhash.Hash]*blockInfo)}
}

func (b *Builder) add(hash chainhash.Hash, height int32, t int64, bits uint32,
	parent *blockInfo) *blockInfo {

	bi := &blockInfo{hash: hash, height: height, time: t, bits: bits,
		parent: parent}
	b.blocks[hash] = bi
	return bi
}

// AddHeader tells the builder about a block built elsewhere, e.g. by the
// node's own miner. Its parent must be known unless the builder is empty
// (the first header seeds the history). The new block becomes the tip.
func (b *Builder) AddHeader(height int32, h *wire.BlockHeader) error {
	parent := b.blocks[h.PrevBlock]
	if parent == nil && len(b.blocks) > 0 {
		return fmt.Errorf("%w: parent %v of height %d", ErrUnknownBlock,
			h.PrevBlock, height)
	}
	if parent != nil && parent.height+1 != height {
		return fmt.Errorf("chaintest: header at height %d has parent "+
			"at height %d", height, parent.height)
	}
	b.tip = b.add(h.BlockHash(), height, h.Timestamp.Unix(), h.Bits, parent)
	return nil
}

// Tip returns the hash and height of the builder's tip: the last block it
// built or was given, or the one chosen with SetTip.
func (b *Builder) Tip() (chainhash.Hash, int32) {
	return b.tip.hash, b.tip.height
}

// SetTip makes a known block the parent of the next block built without
// BlockOpts.Parent.
func (b *Builder) SetTip(hash chainhash.Hash) error {
	bi, err := b.lookup(hash)
	if err != nil {
		return err
	}
	b.tip = bi
	return nil
}

// Height returns the height of a known block.
func (b *Builder) Height(hash chainhash.Hash) (int32, error) {
	bi, err := b.lookup(hash)
	if err != nil {
		return 0, err
	}
	return bi.height, nil
}

// Ancestor returns the hash of the block at height on hash's branch.
func (b *Builder) Ancestor(hash chainhash.Hash, height int32) (chainhash.Hash, error) {
	bi, err := b.lookup(hash)
	if err != nil {
		return chainhash.Hash{}, err
	}
	anc := bi.ancestor(height)
	if anc == nil {
		return chainhash.Hash{}, fmt.Errorf("%w: no height %d below %v",
			ErrShortHistory, height, hash)
	}
	return anc.hash, nil
}

func (b *Builder) lookup(hash chainhash.Hash) (*blockInfo, error) {
	bi := b.blocks[hash]
	if bi == nil {
		return nil, fmt.Errorf("%w: %v", ErrUnknownBlock, hash)
	}
	return bi, nil
}

// ancestor walks back to height; nil if it is not known.
func (bi *blockInfo) ancestor(height int32) *blockInfo {
	for bi != nil && bi.height > height {
		bi = bi.parent
	}
	if bi == nil || bi.height != height {
		return nil
	}
	return bi
}

// MedianTimePast returns the median time of the last 11 blocks ending at
// hash, as the consensus rules compute it; a child must be later than it.
func (b *Builder) MedianTimePast(hash chainhash.Hash) (time.Time, error) {
	bi, err := b.lookup(hash)
	if err != nil {
		return time.Time{}, err
	}
	mtp, err := medianTimePast(bi)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(mtp, 0).UTC(), nil
}

// medianTimePast is the median of the timestamps of bi and its ten
// ancestors (fewer near genesis).
func medianTimePast(bi *blockInfo) (int64, error) {
	times := make([]int64, 0, medianTimeBlocks)
	for it := bi; it != nil && len(times) < medianTimeBlocks; it = it.parent {
		times = append(times, it.time)
	}
	if len(times) < medianTimeBlocks && int(bi.height)+1 > len(times) {
		return 0, fmt.Errorf("%w: median time past at height %d",
			ErrShortHistory, bi.height)
	}
	slices.Sort(times)
	return times[len(times)/2], nil
}

// RequiredBits returns the compact target the consensus rules require of a
// child of parent with timestamp t.
func (b *Builder) RequiredBits(parent chainhash.Hash, t time.Time) (uint32, error) {
	bi, err := b.lookup(parent)
	if err != nil {
		return 0, err
	}
	return b.requiredBits(bi, t.Unix())
}

// requiredBits implements the retarget rule (btcd's
// calcNextRequiredDifficulty) independently of minerscope's analysis
// package.
func (b *Builder) requiredBits(parent *blockInfo, t int64) (uint32, error) {
	p := b.Params
	if p.PoWNoRetargeting {
		return p.PowLimitBits, nil
	}
	interval := int32(p.TargetTimespan / p.TargetTimePerBlock)

	if (parent.height+1)%interval != 0 {
		if !p.ReduceMinDifficulty {
			return parent.bits, nil
		}
		if t > parent.time+int64(p.MinDiffReductionTime/time.Second) {
			return p.PowLimitBits, nil
		}
		// The last block that did not use the minimum-difficulty
		// exception sets the difficulty.
		it := parent
		for it.height%interval != 0 && it.bits == p.PowLimitBits {
			if it.parent == nil {
				return 0, fmt.Errorf("%w: no full-difficulty "+
					"block below height %d", ErrShortHistory,
					it.height)
			}
			it = it.parent
		}
		return it.bits, nil
	}

	// Retarget: scale the last target by the time the last interval-1
	// block gaps took (the consensus off-by-one), clamped to a factor.
	first := parent.ancestor(parent.height - (interval - 1))
	if first == nil {
		return 0, fmt.Errorf("%w: retarget at height %d needs height %d",
			ErrShortHistory, parent.height+1, parent.height-(interval-1))
	}
	timespan := int64(p.TargetTimespan / time.Second)
	factor := p.RetargetAdjustmentFactor
	actual := min(max(parent.time-first.time, timespan/factor),
		timespan*factor)

	target := blockchain.CompactToBig(parent.bits)
	target.Mul(target, big.NewInt(actual))
	target.Div(target, big.NewInt(timespan))
	if target.Cmp(p.PowLimit) > 0 {
		target.Set(p.PowLimit)
	}
	return blockchain.BigToCompact(target), nil
}

// Next builds and solves a block per opts and makes it the builder's tip.
// It does not submit it anywhere.
func (b *Builder) Next(opts BlockOpts) (*wire.MsgBlock, error) {
	parent := b.tip
	if opts.Parent != nil {
		var err error
		if parent, err = b.lookup(*opts.Parent); err != nil {
			return nil, err
		}
	}
	height := parent.height + 1

	t, err := b.blockTime(parent, opts.Time)
	if err != nil {
		return nil, err
	}
	bits := opts.Bits
	if bits == 0 {
		if bits, err = b.requiredBits(parent, t); err != nil {
			return nil, err
		}
	}
	version := opts.Version
	if version == 0 {
		version = defaultBlockVersion
	}

	coinbase, err := b.coinbase(height, opts)
	if err != nil {
		return nil, err
	}
	txs := append([]*wire.MsgTx{coinbase}, opts.Txs...)
	utxs := make([]*btcutil.Tx, len(txs))
	for i, tx := range txs {
		utxs[i] = btcutil.NewTx(tx)
	}
	if slices.ContainsFunc(opts.Txs, (*wire.MsgTx).HasWitness) {
		mining.AddWitnessCommitment(utxs[0], utxs)
	}

	blk := &wire.MsgBlock{
		Header: wire.BlockHeader{
			Version:    version,
			PrevBlock:  parent.hash,
			MerkleRoot: blockchain.CalcMerkleRoot(utxs, false),
			Timestamp:  time.Unix(t, 0),
			Bits:       bits,
		},
		Transactions: txs,
	}
	if err := solve(&blk.Header); err != nil {
		return nil, err
	}
	b.tip = b.add(blk.BlockHash(), height, t, bits, parent)
	return blk, nil
}

// blockTime returns the timestamp for a child of parent: want if set, else
// the parent's time plus the target spacing, above the median time past.
func (b *Builder) blockTime(parent *blockInfo, want time.Time) (int64, error) {
	if !want.IsZero() {
		return want.Unix(), nil
	}
	mtp, err := medianTimePast(parent)
	if err != nil {
		return 0, err
	}
	t := parent.time + int64(b.Params.TargetTimePerBlock/time.Second)
	return max(t, mtp+1), nil
}

// coinbase returns the coinbase transaction of a block at height.
func (b *Builder) coinbase(height int32, opts BlockOpts) (*wire.MsgTx, error) {
	sb := txscript.NewScriptBuilder().AddInt64(int64(height))
	if opts.CoinbaseScript == nil {
		b.counter++
		var extra [8]byte
		binary.LittleEndian.PutUint64(extra[:], b.counter)
		sb.AddData(extra[:])
	}
	script, err := sb.Script()
	if err != nil {
		return nil, fmt.Errorf("chaintest: coinbase script: %w", err)
	}
	script = append(script, opts.CoinbaseScript...)

	value := blockchain.CalcBlockSubsidy(height, b.Params) + int64(opts.Fees)
	outputs, err := coinbaseOutputs(opts, value)
	if err != nil {
		return nil, fmt.Errorf("chaintest: coinbase at height %d: %w", height, err)
	}

	tx := wire.NewMsgTx(wire.TxVersion)
	tx.AddTxIn(&wire.TxIn{
		PreviousOutPoint: *wire.NewOutPoint(&chainhash.Hash{},
			wire.MaxPrevOutIndex),
		SignatureScript: script,
		Sequence:        wire.MaxTxInSequenceNum,
	})
	tx.TxOut = outputs
	return tx, nil
}

// ErrOverpay is returned when BlockOpts.Outputs claim more than the subsidy
// plus fees.
var ErrOverpay = errors.New("chaintest: coinbase outputs exceed subsidy plus fees")

// coinbaseOutputs returns copies of opts.Outputs, or one output paying value
// to PayTo (default MiningScript).
func coinbaseOutputs(opts BlockOpts, value int64) ([]*wire.TxOut, error) {
	if opts.Outputs == nil {
		payTo := opts.PayTo
		if payTo == nil {
			payTo = MiningScript()
		}
		return []*wire.TxOut{wire.NewTxOut(value, payTo)}, nil
	}
	outs := make([]*wire.TxOut, len(opts.Outputs))
	var sum int64
	for i, o := range opts.Outputs {
		if o.Value < 0 {
			return nil, fmt.Errorf("chaintest: coinbase output %d has value %d", i, o.Value)
		}
		sum += o.Value
		outs[i] = wire.NewTxOut(o.Value, slices.Clone(o.PkScript))
	}
	if sum > value {
		return nil, fmt.Errorf("%w: %d > %d", ErrOverpay, sum, value)
	}
	return outs, nil
}

// solve searches the nonce space for a header hash at or below its target.
func solve(h *wire.BlockHeader) error {
	target := blockchain.CompactToBig(h.Bits)
	if target.Sign() <= 0 {
		return fmt.Errorf("%w: bits %08x give no target", ErrNoSolution,
			h.Bits)
	}
	for nonce := uint64(0); nonce <= math.MaxUint32; nonce++ {
		h.Nonce = uint32(nonce)
		hash := h.BlockHash()
		if blockchain.HashToBig(&hash).Cmp(target) <= 0 {
			return nil
		}
	}
	return fmt.Errorf("%w: bits %08x", ErrNoSolution, h.Bits)
}
