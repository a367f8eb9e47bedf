package chaintest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// This file crafts blocks shaped like today's mainnet for benchmarks that
// need a real node to serve them: segwit transactions whose inputs have the
// size and weight of P2WPKH spends, valid without keys, in blocks of up to
// the full 4,000,000 weight units.

// SegwitVersion is a block version that signals the segwit deployment
// (BIP9 bit 1 on simnet and regtest).
const SegwitVersion int32 = defaultBlockVersion | 1<<1

// maxWeight is the weight the crafted transactions of one block may use:
// the consensus limit less room for the header, the coinbase and the
// witness commitment.
const maxWeight = blockchain.MaxBlockWeight - 4000

var (
	// ErrNoActivation is returned by ActivateSegwit when segwit is not
	// active after the blocks BIP9 needs to lock it in and activate it.
	ErrNoActivation = errors.New("chaintest: segwit did not activate")

	// ErrNoMatureCoinbase is returned by FlowChain when no unspent
	// coinbase is old enough to spend (100 blocks).
	ErrNoMatureCoinbase = errors.New("chaintest: no mature coinbase to spend")

	// ErrTooHeavy is returned by FlowChain when a block would exceed the
	// consensus weight limit; ask for fewer transactions.
	ErrTooHeavy = errors.New("chaintest: block exceeds the weight limit")

	// ErrNoCoins is returned by FlowChain.Block when too few coins exist
	// for the transactions asked for; call Fund first.
	ErrNoCoins = errors.New("chaintest: not enough coins; fund the chain first")
)

// SegwitStatus returns the node's BIP9 state of the segwit deployment for
// the block after its tip: "defined", "started", "lockedin", "active" or
// "failed".
func (n *Node) SegwitStatus(ctx context.Context) (string, error) {
	var info struct {
		Forks map[string]struct {
			Status string `json:"status"`
		} `json:"bip9_softforks"`
	}
	if err := n.callInto(ctx, &info, "getblockchaininfo"); err != nil {
		return "", err
	}
	fork, ok := info.Forks["segwit"]
	if !ok {
		return "", fmt.Errorf("chaintest: getblockchaininfo lists no segwit deployment")
	}
	return fork.Status, nil
}

// ActivateSegwit builds blocks with b on the node's tip, each signalling
// segwit (opts(i) chooses everything else about the i-th block, from 0), and
// submits them until the node reports segwit active for the next block. On
// simnet (a 100-block window) that takes the blocks up to height 299:
// the window 100-199 signals, 200-299 is locked in.
func (n *Node) ActivateSegwit(ctx context.Context, b *Builder,
	opts func(i int) BlockOpts) ([]*wire.MsgBlock, error) {

	limit := 4*int(b.Params.MinerConfirmationWindow) + 1
	var blocks []*wire.MsgBlock
	for i := 0; ; i++ {
		status, err := n.SegwitStatus(ctx)
		if err != nil {
			return blocks, err
		}
		if status == "active" {
			return blocks, nil
		}
		if i == limit {
			return blocks, fmt.Errorf("%w after %d blocks: %s",
				ErrNoActivation, i, status)
		}
		o := opts(i)
		o.Version = SegwitVersion
		blk, err := b.Next(o)
		if err != nil {
			return blocks, err
		}
		if err := n.SubmitBlock(ctx, blk); err != nil {
			return blocks, err
		}
		blocks = append(blocks, blk)
	}
}

// WitnessTrue is a P2WSH output anyone can spend. Its witness script is
// `<tag> OP_DROP OP_2DROP OP_TRUE`, spent with the witness [71-byte pad,
// 33-byte pad, witness script]: the pads stand where a P2WPKH spend has a
// DER signature and a compressed public key, so a spend has nearly the size
// and weight of a P2WPKH spend (13 witness bytes more) and needs no keys.
// Distinct tags give distinct scripts.
type WitnessTrue struct {
	// PkScript is the output script, OP_0 <sha256(Script)>.
	PkScript []byte

	// Script is the witness script.
	Script []byte
}

// witnessTrueScript returns `<8-byte tag> OP_DROP OP_2DROP OP_TRUE`.
func witnessTrueScript(tag uint64) []byte {
	s := make([]byte, 0, 12)
	s = append(s, txscript.OP_DATA_8)
	s = binary.BigEndian.AppendUint64(s, tag)
	return append(s, txscript.OP_DROP, txscript.OP_2DROP, txscript.OP_TRUE)
}

// NewWitnessTrue returns the WitnessTrue script with the given tag.
func NewWitnessTrue(tag uint64) WitnessTrue {
	script := witnessTrueScript(tag)
	h := sha256.Sum256(script)
	return WitnessTrue{PkScript: append([]byte{txscript.OP_0, txscript.OP_DATA_32}, h[:]...), Script: script}
}

// Out returns an output paying value satoshis to w.
func (w WitnessTrue) Out(value int64) *wire.TxOut {
	return wire.NewTxOut(value, w.PkScript)
}

// In returns an input spending op, an output paying w.
func (w WitnessTrue) In(op wire.OutPoint) *wire.TxIn {
	return witnessIn(op, w.Script)
}

// witnessIn returns an input spending op, which pays the P2WSH of script.
func witnessIn(op wire.OutPoint, script []byte) *wire.TxIn {
	sig := make([]byte, 71)
	sig[0], sig[1], sig[70] = 0x30, 0x44, byte(txscript.SigHashAll)
	key := make([]byte, 33)
	key[0] = 0x02
	return &wire.TxIn{
		PreviousOutPoint: op,
		Witness:          wire.TxWitness{sig, key, script},
		Sequence:         wire.MaxTxInSequenceNum - 1,
	}
}

// flowFeeRate is the fee of crafted transactions, satoshis per virtual byte.
const flowFeeRate = 2

// flowPools is the number of pool scripts FlowChain's coinbases pay.
const flowPools = 10

// flowCoin is an unspent output of a WitnessTrue script.
type flowCoin struct {
	op    wire.OutPoint
	value int64
	tag   uint64
}

func (c flowCoin) in() *wire.TxIn { return witnessIn(c.op, witnessTrueScript(c.tag)) }

// payout is one transaction paying n outputs of value each to the scripts
// with tags tag, tag+1, ….
type payout struct {
	hash  chainhash.Hash
	tag   uint64
	n     int
	value int64
}

// FlowChain crafts and submits a chain whose blocks look like today's
// mainnet to a miner-flow indexer. Every block's coinbase pays one of ten
// pool scripts; payouts spend a mature coinbase to many new scripts (pool
// payouts to miners); Fund creates coins outside the miners' reach (a
// coinbase goes through one intermediate script before it fans out), which
// Block spends in unrelated transactions and, with one payout output each,
// in mixed transactions. Every script is a WitnessTrue, so btcd validates
// every block in full. Crafting is deterministic for a seed. A FlowChain is
// not safe for concurrent use.
type FlowChain struct {
	n     *Node
	b     *Builder
	rng   *rand.Rand
	tag   uint64 // next unused script tag
	pools []WitnessTrue

	coinbases []flowCoin // unspent coinbase outputs, oldest first
	cbHeights []int32    // their heights

	payouts []payout // every payout, for mixed spends
	paidOut []int    // cumulative output counts of payouts
	spent   map[wire.OutPoint]struct{}

	coins []flowCoin // unspent coins that are no miner output
}

// NewFlowChain activates segwit on the node (an empty simnet or regtest
// node; see ActivateSegwit), paying the coinbases to its pool scripts.
func NewFlowChain(ctx context.Context, n *Node, seed uint64) (*FlowChain, error) {
	b, err := n.Builder(ctx)
	if err != nil {
		return nil, err
	}
	c := &FlowChain{n: n, b: b, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		spent: make(map[wire.OutPoint]struct{})}
	for range flowPools {
		c.pools = append(c.pools, c.newScript())
	}
	_, tip0 := b.Tip()
	blocks, err := n.ActivateSegwit(ctx, b, func(int) BlockOpts {
		_, tip := b.Tip()
		return BlockOpts{PayTo: c.pool(tip + 1).PkScript}
	})
	if err != nil {
		return nil, err
	}
	for i, blk := range blocks {
		c.addCoinbase(blk, tip0+1+int32(i))
	}
	return c, nil
}

// Tip returns the height of the last block submitted.
func (c *FlowChain) Tip() int32 {
	_, h := c.b.Tip()
	return h
}

// MinerOutputs returns the number of payout outputs not yet spent.
func (c *FlowChain) MinerOutputs() int {
	if len(c.paidOut) == 0 {
		return 0
	}
	return c.paidOut[len(c.paidOut)-1] - len(c.spent)
}

// Coins returns the number of unspent coins that are no miner output.
func (c *FlowChain) Coins() int { return len(c.coins) }

func (c *FlowChain) newScript() WitnessTrue {
	w := NewWitnessTrue(c.tag)
	c.tag++
	return w
}

func (c *FlowChain) pool(height int32) WitnessTrue {
	return c.pools[int(height)%len(c.pools)]
}

// addCoinbase records the coinbase output of a submitted block at height.
func (c *FlowChain) addCoinbase(blk *wire.MsgBlock, height int32) {
	cb := blk.Transactions[0]
	// Pool scripts have tags 0-9.
	c.coinbases = append(c.coinbases, flowCoin{op: wire.OutPoint{Hash: cb.TxHash()},
		value: cb.TxOut[0].Value, tag: uint64(int(height) % flowPools)})
	c.cbHeights = append(c.cbHeights, height)
}

// matureCoinbase takes the oldest unspent coinbase a block at height may
// spend.
func (c *FlowChain) matureCoinbase(height int32) (flowCoin, error) {
	maturity := int32(c.b.Params.CoinbaseMaturity)
	if len(c.coinbases) == 0 || height-c.cbHeights[0] < maturity {
		return flowCoin{}, fmt.Errorf("%w at height %d", ErrNoMatureCoinbase, height)
	}
	cb := c.coinbases[0]
	c.coinbases, c.cbHeights = c.coinbases[1:], c.cbHeights[1:]
	return cb, nil
}

// weight is the consensus weight of tx.
func weight(tx *wire.MsgTx) int {
	return tx.SerializeSizeStripped()*(blockchain.WitnessScaleFactor-1) + tx.SerializeSize()
}

// fee is the fee of tx at flowFeeRate, whatever its output values.
func fee(tx *wire.MsgTx) int64 {
	vsize := (weight(tx) + blockchain.WitnessScaleFactor - 1) / blockchain.WitnessScaleFactor
	return int64(vsize * flowFeeRate)
}

// split sets the values of tx's outputs to total in random shares.
func (c *FlowChain) split(tx *wire.MsgTx, total int64) {
	weights := make([]int64, len(tx.TxOut))
	var sum int64
	for i := range weights {
		weights[i] = 1 + int64(c.rng.Uint32N(1000))
		sum += weights[i]
	}
	left := total
	for i, out := range tx.TxOut[:len(tx.TxOut)-1] {
		out.Value = total * weights[i] / sum
		left -= out.Value
	}
	tx.TxOut[len(tx.TxOut)-1].Value = left
}

// spendAll sets tx's outputs to share in, less the fee, and returns the fee.
func (c *FlowChain) spendAll(tx *wire.MsgTx, in int64) int64 {
	f := min(fee(tx), in)
	c.split(tx, in-f)
	return f
}

// newPayout spends a mature coinbase to outputs new scripts in equal shares.
func (c *FlowChain) newPayout(height int32, outputs int) (*wire.MsgTx, payout, int64, error) {
	cb, err := c.matureCoinbase(height)
	if err != nil {
		return nil, payout{}, 0, err
	}
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(witnessIn(cb.op, witnessTrueScript(cb.tag)))
	p := payout{tag: c.tag, n: outputs}
	for range outputs {
		tx.AddTxOut(c.newScript().Out(0))
	}
	f := fee(tx)
	p.value = (cb.value - f) / int64(outputs)
	for _, out := range tx.TxOut {
		out.Value = p.value
	}
	p.hash = tx.TxHash()
	return tx, p, cb.value - p.value*int64(outputs), nil
}

// addPayout records a submitted payout.
func (c *FlowChain) addPayout(p payout) {
	total := p.n
	if len(c.paidOut) > 0 {
		total += c.paidOut[len(c.paidOut)-1]
	}
	c.payouts = append(c.payouts, p)
	c.paidOut = append(c.paidOut, total)
}

// submit builds a block of txs paying fees on the tip, submits it and
// records its coinbase.
func (c *FlowChain) submit(ctx context.Context, txs []*wire.MsgTx, fees int64) (*wire.MsgBlock, error) {
	_, tip := c.b.Tip()
	blk, err := c.b.Next(BlockOpts{PayTo: c.pool(tip + 1).PkScript, Txs: txs, Fees: btcutil.Amount(fees)})
	if err != nil {
		return nil, err
	}
	if w := blockchain.GetBlockWeight(btcutil.NewBlock(blk)); w > blockchain.MaxBlockWeight {
		return nil, fmt.Errorf("%w: height %d weighs %d", ErrTooHeavy, tip+1, w)
	}
	if err := c.n.SubmitBlock(ctx, blk); err != nil {
		return nil, err
	}
	c.addCoinbase(blk, tip+1)
	return blk, nil
}

// sizedWeight is the weight of a transaction with inputs WitnessTrue
// inputs and outputs WitnessTrue outputs.
func sizedWeight(inputs, outputs int) int {
	w := NewWitnessTrue(0)
	tx := wire.NewMsgTx(2)
	for range inputs {
		tx.AddTxIn(w.In(wire.OutPoint{}))
	}
	for range outputs {
		tx.AddTxOut(w.Out(0))
	}
	return weight(tx)
}

// perBlock returns how many units of weight w fit in one block's weight.
func perBlock(w int, what string) (int, error) {
	n := maxWeight / w
	if n == 0 {
		return 0, fmt.Errorf("%w: one %s weighs %d", ErrTooHeavy, what, w)
	}
	return n, nil
}

// Payouts submits count payouts of outputs outputs each (as many per block
// as the weight limit allows) and returns the blocks. Each spends the
// oldest mature coinbase.
func (c *FlowChain) Payouts(ctx context.Context, count, outputs int) ([]*wire.MsgBlock, error) {
	fit, err := perBlock(sizedWeight(1, outputs), "payout")
	if err != nil {
		return nil, err
	}
	var blocks []*wire.MsgBlock
	for count > 0 {
		height := c.Tip() + 1
		var (
			txs  []*wire.MsgTx
			ps   []payout
			fees int64
		)
		for ; count > 0 && len(txs) < fit; count-- {
			tx, p, f, err := c.newPayout(height, outputs)
			if err != nil {
				return blocks, err
			}
			txs, ps, fees = append(txs, tx), append(ps, p), fees+f
		}
		blk, err := c.submit(ctx, txs, fees)
		if err != nil {
			return blocks, err
		}
		for _, p := range ps {
			c.addPayout(p)
		}
		blocks = append(blocks, blk)
	}
	return blocks, nil
}

// Fund submits coinbases coinbase spends, each to one new script whose
// coin then fans out to perTx new scripts in the same block, so that the
// fanned-out coins are two hops from a coinbase (no miner output at either
// level of a 1-hop miner-flow index). It returns the blocks.
func (c *FlowChain) Fund(ctx context.Context, coinbases, perTx int) ([]*wire.MsgBlock, error) {
	fit, err := perBlock(sizedWeight(1, 1)+sizedWeight(1, perTx), "fan-out")
	if err != nil {
		return nil, err
	}
	var blocks []*wire.MsgBlock
	for coinbases > 0 {
		height := c.Tip() + 1
		var (
			txs   []*wire.MsgTx
			coins []flowCoin
			fees  int64
		)
		for ; coinbases > 0 && len(txs) < 2*fit; coinbases-- {
			cb, err := c.matureCoinbase(height)
			if err != nil {
				return blocks, err
			}
			hop := c.newScript()
			a := wire.NewMsgTx(2)
			a.AddTxIn(witnessIn(cb.op, witnessTrueScript(cb.tag)))
			a.AddTxOut(hop.Out(0))
			fa := c.spendAll(a, cb.value)

			fan := wire.NewMsgTx(2)
			fan.AddTxIn(hop.In(wire.OutPoint{Hash: a.TxHash()}))
			first := c.tag
			for range perTx {
				fan.AddTxOut(c.newScript().Out(0))
			}
			ff := c.spendAll(fan, a.TxOut[0].Value)
			h := fan.TxHash()
			for i, out := range fan.TxOut {
				coins = append(coins, flowCoin{op: wire.OutPoint{Hash: h, Index: uint32(i)},
					value: out.Value, tag: first + uint64(i)})
			}
			txs, fees = append(txs, a, fan), fees+fa+ff
		}
		blk, err := c.submit(ctx, txs, fees)
		if err != nil {
			return blocks, err
		}
		c.coins = append(c.coins, coins...)
		blocks = append(blocks, blk)
	}
	return blocks, nil
}

// BlockShape is the content of one mainnet-shaped block besides its
// coinbase.
type BlockShape struct {
	// Txs is the number of transactions, coinbase included.
	Txs int

	// PayoutOutputs, when positive, adds a payout spending a mature
	// coinbase to that many new scripts.
	PayoutOutputs int

	// Mixed transactions each spend one unspent payout output from an
	// earlier block together with a coin from Fund, to two new scripts.
	Mixed int
}

// Block submits one block shaped per s and returns it. Its other
// transactions spend two random coins (from Fund or from earlier blocks'
// unrelated and mixed transactions) to three new scripts: with 3,000
// transactions, about 1.4 MB and 3.4 million weight units.
func (c *FlowChain) Block(ctx context.Context, s BlockShape) (*wire.MsgBlock, error) {
	height := c.Tip() + 1
	payouts := 0
	if s.PayoutOutputs > 0 {
		payouts = 1
	}
	need := s.Mixed + 2*max(0, s.Txs-1-payouts-s.Mixed)
	if need > len(c.coins) || s.Mixed > c.MinerOutputs() {
		return nil, fmt.Errorf("%w: block %d needs %d coins and %d payout outputs, have %d and %d",
			ErrNoCoins, height, need, s.Mixed, len(c.coins), c.MinerOutputs())
	}

	var (
		txs      []*wire.MsgTx
		fees     int64
		total    int
		newCoins []flowCoin
		p        payout
	)
	add := func(tx *wire.MsgTx, f int64) {
		txs, fees, total = append(txs, tx), fees+f, total+weight(tx)
	}
	if payouts > 0 {
		tx, pp, f, err := c.newPayout(height, s.PayoutOutputs)
		if err != nil {
			return nil, err
		}
		p = pp
		add(tx, f)
	}
	for range s.Mixed {
		mo, value := c.takeMinerOutput()
		coin := c.takeCoin()
		tx, f := c.spendTx(2, value+coin.value, mo, coin.in())
		add(tx, f)
		newCoins = c.created(newCoins, tx)
	}
	for len(txs) < s.Txs-1 {
		a, b := c.takeCoin(), c.takeCoin()
		tx, f := c.spendTx(3, a.value+b.value, a.in(), b.in())
		add(tx, f)
		newCoins = c.created(newCoins, tx)
	}
	if total > maxWeight {
		return nil, fmt.Errorf("%w: %d transactions weigh %d", ErrTooHeavy, len(txs), total)
	}

	blk, err := c.submit(ctx, txs, fees)
	if err != nil {
		return nil, err
	}
	if p.n > 0 {
		c.addPayout(p)
	}
	c.coins = append(c.coins, newCoins...)
	return blk, nil
}

// spendTx returns a transaction spending ins, worth in, to outputs new
// scripts in random shares, and its fee.
func (c *FlowChain) spendTx(outputs int, in int64, ins ...*wire.TxIn) (*wire.MsgTx, int64) {
	tx := wire.NewMsgTx(2)
	for _, txIn := range ins {
		tx.AddTxIn(txIn)
	}
	for range outputs {
		tx.AddTxOut(c.newScript().Out(0))
	}
	return tx, c.spendAll(tx, in)
}

// created appends tx's outputs, which pay the last len(tx.TxOut) scripts
// made, to coins.
func (c *FlowChain) created(coins []flowCoin, tx *wire.MsgTx) []flowCoin {
	h := tx.TxHash()
	first := c.tag - uint64(len(tx.TxOut))
	for i, out := range tx.TxOut {
		coins = append(coins, flowCoin{op: wire.OutPoint{Hash: h, Index: uint32(i)},
			value: out.Value, tag: first + uint64(i)})
	}
	return coins
}

// takeCoin removes a random coin from the pool.
func (c *FlowChain) takeCoin() flowCoin {
	i := c.rng.IntN(len(c.coins))
	coin := c.coins[i]
	c.coins[i] = c.coins[len(c.coins)-1]
	c.coins = c.coins[:len(c.coins)-1]
	return coin
}

// takeMinerOutput marks a random unspent payout output spent and returns an
// input spending it, with its value.
func (c *FlowChain) takeMinerOutput() (*wire.TxIn, int64) {
	total := c.paidOut[len(c.paidOut)-1]
	for {
		k := c.rng.IntN(total)
		i := sort.SearchInts(c.paidOut, k+1)
		p := c.payouts[i]
		idx := k
		if i > 0 {
			idx -= c.paidOut[i-1]
		}
		op := wire.OutPoint{Hash: p.hash, Index: uint32(idx)}
		if _, ok := c.spent[op]; ok {
			continue
		}
		c.spent[op] = struct{}{}
		return witnessIn(op, witnessTrueScript(p.tag+uint64(idx))), p.value
	}
}
