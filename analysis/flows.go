package analysis

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"

	"github.com/btcsuite/btcd/btcutil"
)

// NotMiner is the Level of an input or output that is not a miner output
// at any level.
const NotMiner int8 = -1

// FlowInput is what ClassifyTx needs of one spent output.
type FlowInput struct {
	Value btcutil.Amount

	// Level is the lowest level at which the spent output is a miner
	// output (0 implies 1), or NotMiner. It was fixed when the output was
	// created.
	Level int8

	// Origin is the height of the coinbase whose pool owns the output,
	// -1 for NotMiner.
	Origin int32
}

// FlowOutput is what ClassifyTx needs of one output of the transaction.
type FlowOutput struct {
	Value btcutil.Amount

	// Level is the lowest level whose miner set holds the paid script
	// when the output is created (the transaction's own effect on the
	// level-1 set included), or NotMiner.
	Level int8
}

// TxFlow is the flow of one non-coinbase transaction at one level. The
// parts satisfy
//
//	FromMiner + OtherInput = ToMiner + ToExternal + Fee
//	ToMiner − FromMiner    = Inflow − Outflow − MinerFee
//
// and none is negative.
type TxFlow struct {
	// FromMiner and OtherInput split the inputs, ToMiner and ToExternal
	// the outputs, into miner outputs at the level and the rest. Fee is
	// the transaction's whole fee.
	FromMiner, OtherInput, ToMiner, ToExternal, Fee btcutil.Amount

	// Outflow is the value leaving the miner set: the external outputs,
	// counted up to FromMiner. Internal is the miner value that stays in
	// the set, Inflow the value entering it from other inputs, MinerFee
	// the part of the fee paid from miner value.
	Outflow, Internal, Inflow, MinerFee btcutil.Amount

	// Origin is the origin holding the most of the miner inputs' value
	// (the lowest on a tie), -1 when no input is a miner output.
	Origin int32
}

// ClassifyTx computes the flow of one non-coinbase transaction at level 0
// or 1 (ErrBadLevel otherwise). An input or output counts as miner when its
// Level is between 0 and level. Then
//
//	Outflow  = min(ToExternal, FromMiner)
//	Internal = min(ToMiner, FromMiner − Outflow)
//	Inflow   = ToMiner − Internal
//	MinerFee = FromMiner − Outflow − Internal
//
// so miner value is spent on external outputs first, then on miner outputs,
// and only what remains pays the fee: a transaction mixing miner and other
// inputs sells at most the miner value it spends, and never counts its
// change as selling.
//
// Values must be valid amounts (0 to MaxSatoshi, also in total) and levels
// 0, 1 or NotMiner (ErrBadAmount, ErrBadLevel); outputs worth more than the
// inputs give ErrNegativeFee.
func ClassifyTx(level int, ins []FlowInput, outs []FlowOutput) (TxFlow, error) {
	if level != 0 && level != 1 {
		return TxFlow{}, fmt.Errorf("%w %d: use 0 or 1", ErrBadLevel, level)
	}

	var f TxFlow
	for i, in := range ins {
		if err := checkFlowValue("input", i, in.Value, in.Level); err != nil {
			return TxFlow{}, err
		}
		if isMiner(in.Level, level) {
			f.FromMiner += in.Value
		} else {
			f.OtherInput += in.Value
		}
		if f.FromMiner+f.OtherInput > btcutil.MaxSatoshi {
			return TxFlow{}, fmt.Errorf("%w: inputs total more than %d sat",
				ErrBadAmount, int64(btcutil.MaxSatoshi))
		}
	}
	for i, out := range outs {
		if err := checkFlowValue("output", i, out.Value, out.Level); err != nil {
			return TxFlow{}, err
		}
		if isMiner(out.Level, level) {
			f.ToMiner += out.Value
		} else {
			f.ToExternal += out.Value
		}
		if f.ToMiner+f.ToExternal > btcutil.MaxSatoshi {
			return TxFlow{}, fmt.Errorf("%w: outputs total more than %d sat",
				ErrBadAmount, int64(btcutil.MaxSatoshi))
		}
	}

	in, out := f.FromMiner+f.OtherInput, f.ToMiner+f.ToExternal
	if out > in {
		return TxFlow{}, fmt.Errorf("%w: outputs of %d sat exceed inputs "+
			"of %d sat", ErrNegativeFee, int64(out), int64(in))
	}
	f.Fee = in - out
	f.Outflow = min(f.ToExternal, f.FromMiner)
	f.Internal = min(f.ToMiner, f.FromMiner-f.Outflow)
	f.Inflow = f.ToMiner - f.Internal
	f.MinerFee = f.FromMiner - f.Outflow - f.Internal
	f.Origin = mainOrigin(level, ins)
	return f, nil
}

// Spends reports whether any of ins is a miner output at level, so that
// transactions touching no miner output can skip ClassifyTx unless they pay
// a miner script. An input worth 0 counts.
func Spends(level int, ins []FlowInput) bool {
	for _, in := range ins {
		if isMiner(in.Level, level) {
			return true
		}
	}
	return false
}

// isMiner reports whether an input or output of the given Level is a miner
// output at level.
func isMiner(l int8, level int) bool {
	return l != NotMiner && int(l) <= level
}

// checkFlowValue checks the value and level of input or output i.
func checkFlowValue(what string, i int, v btcutil.Amount, l int8) error {
	if v < 0 || v > btcutil.MaxSatoshi {
		return fmt.Errorf("%w: %s %d is worth %d sat", ErrBadAmount, what,
			i, int64(v))
	}
	if l != NotMiner && l != 0 && l != 1 {
		return fmt.Errorf("%w: %s %d has level %d (want 0, 1 or %d)",
			ErrBadLevel, what, i, l, NotMiner)
	}
	return nil
}

// mainOrigin is the origin whose miner inputs hold the most value, the
// lowest on a tie, or -1 when no input is a miner output at level.
func mainOrigin(level int, ins []FlowInput) int32 {
	var (
		found   bool
		best    = int32(-1)
		bestSum btcutil.Amount
		sums    map[int32]btcutil.Amount // once a second origin shows
	)
	for _, in := range ins {
		if !isMiner(in.Level, level) {
			continue
		}
		switch {
		case !found:
			found, best, bestSum = true, in.Origin, in.Value
		case sums == nil && in.Origin == best:
			bestSum += in.Value
		default:
			if sums == nil {
				sums = map[int32]btcutil.Amount{best: bestSum}
			}
			sums[in.Origin] += in.Value
		}
	}
	if sums == nil {
		return best
	}
	found = false
	for o, s := range sums {
		if !found || s > bestSum || s == bestSum && o < best {
			found, best, bestSum = true, o, s
		}
	}
	return best
}

// SplitOutflow allocates outflow over the external outputs of a transaction
// in proportion to their values, in whole satoshis, by the largest
// remainder (ties to the lower index). The parts sum to outflow exactly;
// ClassifyTx's Outflow never exceeds Σ external, so no part exceeds its
// output. Of two non-negative values, the larger never gets the smaller
// part.
//
// Negative values weigh 0; when every weight is 0 the outputs share
// equally. outflow <= 0 or no outputs gives parts of 0.
func SplitOutflow(outflow btcutil.Amount, external []btcutil.Amount) []btcutil.Amount {
	parts := make([]btcutil.Amount, len(external))
	if outflow <= 0 || len(external) == 0 {
		return parts
	}
	weights, total := splitWeights(external)

	// part_i = outflow·w_i/total, floored, in 128 bits: both factors
	// may reach 2^63. The quotient never exceeds outflow.
	rems := make([]uint64, len(external))
	var given uint64
	for i, w := range weights {
		hi, lo := bits.Mul64(uint64(outflow), w)
		q, r := bits.Div64(hi, lo, total)
		parts[i], rems[i] = btcutil.Amount(q), r
		given += q
	}

	order := make([]int, len(external))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(rems[b], rems[a])
	})
	for _, i := range order[:uint64(outflow)-given] {
		parts[i]++
	}
	return parts
}

// splitWeights returns the weights of SplitOutflow and their positive total.
// Negative values weigh 0, all-zero weights become equal, and weights too
// large to sum in 64 bits (impossible for one transaction's outputs) are
// halved until they fit, which keeps the proportions only roughly.
func splitWeights(external []btcutil.Amount) ([]uint64, uint64) {
	weights := make([]uint64, len(external))
	for i, v := range external {
		weights[i] = uint64(max(v, 0))
	}
	for {
		var total, carry uint64
		for _, w := range weights {
			total, carry = bits.Add64(total, w, carry)
			if carry != 0 {
				break
			}
		}
		switch {
		case carry != 0:
			for i := range weights {
				weights[i] /= 2
			}
		case total == 0:
			for i := range weights {
				weights[i] = 1
			}
		default:
			return weights, total
		}
	}
}

// BlockFlow is one block's flow totals at one level, what the index keeps
// per block and level.
type BlockFlow struct {
	Height int32
	Time   int64 // header timestamp, unix seconds

	// Revenue is the coinbase reward, the sum of all coinbase outputs.
	Revenue btcutil.Amount

	// CoinbaseInflow is the value of the coinbase's miner outputs;
	// OtherInflow, Outflow, Internal and MinerFee sum the TxFlows of the
	// block's other transactions. Lost is the value of miner outputs
	// overwritten by a duplicate coinbase txid (BIP30; mainnet blocks
	// 91842 and 91880), which leaves the set without being spent.
	CoinbaseInflow, OtherInflow, Outflow, Internal, MinerFee, Lost btcutil.Amount

	// SpendingTxs counts the transactions with FromMiner > 0.
	SpendingTxs int32

	// OutflowByLabel splits Outflow by the label of the destination
	// (SplitOutflow over each transaction's external outputs; the key ""
	// holds unlabelled destinations). It is nil without labels.
	OutflowByLabel map[string]btcutil.Amount
}

// NetChange is the change of the miner reserve over the block:
// CoinbaseInflow + OtherInflow − Outflow − MinerFee − Lost.
func (b *BlockFlow) NetChange() btcutil.Amount {
	return b.CoinbaseInflow + b.OtherInflow - b.Outflow - b.MinerFee - b.Lost
}
