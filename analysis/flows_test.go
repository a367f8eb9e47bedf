package analysis

import (
	"errors"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
)

// TestClassifyTx checks hand-worked transactions; the arithmetic of each
// is written out beside it.
func TestClassifyTx(t *testing.T) {
	tests := []struct {
		name  string
		level int
		ins   []FlowInput
		outs  []FlowOutput
		want  TxFlow
	}{{
		// Block 170 spends block 9's coinbase: 10 BTC to a new key,
		// 40 BTC back to the miner's key, no fee. Outflow = min(10, 50)
		// = 10; Internal = min(40, 50-10) = 40; Inflow = 40-40 = 0;
		// MinerFee = 50-10-40 = 0.
		name:  "block 170",
		level: 0,
		ins:   []FlowInput{{50 * btc, 0, 9}},
		outs:  []FlowOutput{{10 * btc, NotMiner}, {40 * btc, 0}},
		want: TxFlow{FromMiner: 50 * btc, ToMiner: 40 * btc,
			ToExternal: 10 * btc, Outflow: 10 * btc, Internal: 40 * btc,
			Origin: 9},
	}, {
		// The same at level 1, where the new key is a 1-hop script:
		// ToMiner = 50, Outflow = min(0, 50) = 0, Internal = 50.
		name:  "block 170, level 1",
		level: 1,
		ins:   []FlowInput{{50 * btc, 0, 9}},
		outs:  []FlowOutput{{10 * btc, 1}, {40 * btc, 0}},
		want: TxFlow{FromMiner: 50 * btc, ToMiner: 50 * btc,
			Internal: 50 * btc, Origin: 9},
	}, {
		// 3 BTC of miner value and 7 of other value pay 9 external and
		// 0.5 to a miner script; fee 10-9.5 = 0.5. Outflow = min(9, 3)
		// = 3; Internal = min(0.5, 3-3) = 0; Inflow = 0.5; MinerFee =
		// 3-3-0 = 0: the fee is paid from the other inputs.
		name:  "mixed inputs",
		level: 0,
		ins:   []FlowInput{{3 * btc, 0, 100}, {7 * btc, NotMiner, -1}},
		outs:  []FlowOutput{{9 * btc, NotMiner}, {btc / 2, 0}},
		want: TxFlow{FromMiner: 3 * btc, OtherInput: 7 * btc,
			ToMiner: btc / 2, ToExternal: 9 * btc, Fee: btc / 2,
			Outflow: 3 * btc, Inflow: btc / 2, Origin: 100},
	}, {
		// Consolidation of 1 + 2 + 1.5 BTC into 4.4, fee 0.1.
		// Outflow 0; Internal = min(4.4, 4.5) = 4.4; MinerFee = 0.1.
		// Origin 5 holds 1+1.5 = 2.5 against origin 7's 2.
		name:  "consolidation",
		level: 0,
		ins: []FlowInput{{1 * btc, 0, 5}, {2 * btc, 0, 7},
			{3 * btc / 2, 0, 5}},
		outs: []FlowOutput{{44 * btc / 10, 0}},
		want: TxFlow{FromMiner: 45 * btc / 10, ToMiner: 44 * btc / 10,
			Fee: btc / 10, Internal: 44 * btc / 10, MinerFee: btc / 10,
			Origin: 5},
	}, {
		// Two origins of 1 BTC each: the lower, 10, wins the tie
		// although 20 comes first.
		name:  "origin tie",
		level: 0,
		ins:   []FlowInput{{btc, 0, 20}, {btc, 0, 10}},
		outs:  []FlowOutput{{2 * btc, NotMiner}},
		want: TxFlow{FromMiner: 2 * btc, ToExternal: 2 * btc,
			Outflow: 2 * btc, Origin: 10},
	}, {
		// No miner input: 5 BTC pay 2 to a miner script and 2.9 away,
		// fee 0.1. Everything paid to the miner is Inflow.
		name:  "inflow only",
		level: 0,
		ins:   []FlowInput{{5 * btc, NotMiner, -1}},
		outs:  []FlowOutput{{2 * btc, 0}, {29 * btc / 10, NotMiner}},
		want: TxFlow{OtherInput: 5 * btc, ToMiner: 2 * btc,
			ToExternal: 29 * btc / 10, Fee: btc / 10, Inflow: 2 * btc,
			Origin: -1},
	}, {
		// Miner 10 and other 5 sat pay 4 external, 8 to miners, fee 3.
		// Outflow = min(4, 10) = 4; Internal = min(8, 10-4) = 6;
		// Inflow = 8-6 = 2; MinerFee = 10-4-6 = 0.
		// Check: ToMiner-FromMiner = -2 = Inflow-Outflow-MinerFee.
		name:  "miner value runs out before the fee",
		level: 0,
		ins:   []FlowInput{{10, 0, 1}, {5, NotMiner, -1}},
		outs:  []FlowOutput{{4, NotMiner}, {8, 0}},
		want: TxFlow{FromMiner: 10, OtherInput: 5, ToMiner: 8,
			ToExternal: 4, Fee: 3, Outflow: 4, Internal: 6, Inflow: 2,
			Origin: 1},
	}, {
		// Miner 10 sat pay 4 external and 3 to miners, fee 3:
		// Outflow 4, Internal = min(3, 6) = 3, MinerFee = 10-4-3 = 3.
		name:  "miner pays the fee",
		level: 0,
		ins:   []FlowInput{{10, 0, 1}},
		outs:  []FlowOutput{{4, NotMiner}, {3, 0}},
		want: TxFlow{FromMiner: 10, ToMiner: 3, ToExternal: 4, Fee: 3,
			Outflow: 4, Internal: 3, MinerFee: 3, Origin: 1},
	}, {
		// A 1-hop-only input is not a miner input at level 0.
		name:  "level-1 input at level 0",
		level: 0,
		ins:   []FlowInput{{5, 1, 3}},
		outs:  []FlowOutput{{5, NotMiner}},
		want:  TxFlow{OtherInput: 5, ToExternal: 5, Origin: -1},
	}, {
		name:  "level-1 input at level 1",
		level: 1,
		ins:   []FlowInput{{5, 1, 3}},
		outs:  []FlowOutput{{5, NotMiner}},
		want:  TxFlow{FromMiner: 5, ToExternal: 5, Outflow: 5, Origin: 3},
	}, {
		// A miner output worth 0 still names the origin.
		name:  "zero-value miner input",
		level: 0,
		ins:   []FlowInput{{0, 0, 42}, {7, NotMiner, -1}},
		outs:  []FlowOutput{{7, NotMiner}},
		want:  TxFlow{OtherInput: 7, ToExternal: 7, Origin: 42},
	}, {
		name:  "empty",
		level: 1,
		want:  TxFlow{Origin: -1},
	}}

	for _, tc := range tests {
		got, err := ClassifyTx(tc.level, tc.ins, tc.outs)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
		if spends := Spends(tc.level, tc.ins); spends != (tc.want.Origin != -1) {
			t.Errorf("%s: Spends = %v", tc.name, spends)
		}
	}
}

// TestClassifyTxErrors checks the refusals.
func TestClassifyTxErrors(t *testing.T) {
	const maxSat btcutil.Amount = btcutil.MaxSatoshi
	tests := []struct {
		name  string
		level int
		ins   []FlowInput
		outs  []FlowOutput
		want  error
	}{
		{"level 2", 2, nil, nil, ErrBadLevel},
		{"level -1", -1, nil, nil, ErrBadLevel},
		{"input level 2", 1, []FlowInput{{1, 2, 0}}, nil, ErrBadLevel},
		{"output level -2", 0, []FlowInput{{1, 0, 0}},
			[]FlowOutput{{1, -2}}, ErrBadLevel},
		{"negative input", 0, []FlowInput{{-1, 0, 0}}, nil, ErrBadAmount},
		{"input above MaxSatoshi", 0, []FlowInput{{maxSat + 1, 0, 0}}, nil,
			ErrBadAmount},
		{"inputs above MaxSatoshi", 0,
			[]FlowInput{{maxSat, 0, 0}, {1, NotMiner, -1}}, nil, ErrBadAmount},
		{"negative output", 0, []FlowInput{{5, 0, 0}},
			[]FlowOutput{{-1, 0}}, ErrBadAmount},
		{"outputs above MaxSatoshi", 0, []FlowInput{{maxSat, 0, 0}},
			[]FlowOutput{{maxSat, 0}, {1, 0}}, ErrBadAmount},
		{"negative fee", 0, []FlowInput{{5, 0, 0}},
			[]FlowOutput{{3, 0}, {3, NotMiner}}, ErrNegativeFee},
	}
	for _, tc := range tests {
		if _, err := ClassifyTx(tc.level, tc.ins, tc.outs); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// randomTx makes a valid transaction of up to 6 inputs and outputs at
// random levels; values span small and large amounts.
func randomTx(rng *rand.Rand) ([]FlowInput, []FlowOutput) {
	levels := []int8{NotMiner, 0, 1}
	value := func(limit int64) btcutil.Amount {
		if limit <= 0 {
			return 0
		}
		if rng.IntN(4) == 0 {
			return btcutil.Amount(rng.Int64N(min(limit, 1000) + 1))
		}
		return btcutil.Amount(rng.Int64N(limit + 1))
	}

	ins := make([]FlowInput, rng.IntN(7))
	var total int64
	for i := range ins {
		l := levels[rng.IntN(3)]
		origin := int32(-1)
		if l != NotMiner {
			origin = int32(rng.IntN(4))
		}
		ins[i] = FlowInput{value(int64(btcutil.MaxSatoshi) / 8), l, origin}
		total += int64(ins[i].Value)
	}
	outs := make([]FlowOutput, rng.IntN(7))
	for i := range outs {
		outs[i] = FlowOutput{value(total), levels[rng.IntN(3)]}
		total -= int64(outs[i].Value)
	}
	return ins, outs
}

// TestClassifyTxProperties checks, on random transactions at both
// levels, the balance and identity of the contract, that no part is
// negative, the bounds of Outflow, Inflow and MinerFee, the widening from
// level 0 to 1, and Origin against a brute-force search.
func TestClassifyTxProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 1))
	for range 5000 {
		ins, outs := randomTx(rng)
		var flows [2]TxFlow
		for level := range 2 {
			f, err := ClassifyTx(level, ins, outs)
			if err != nil {
				t.Fatalf("level %d, %+v -> %+v: %v", level, ins, outs, err)
			}
			checkTxFlow(t, level, ins, outs, f)
			flows[level] = f
		}
		if flows[1].FromMiner < flows[0].FromMiner ||
			flows[1].ToMiner < flows[0].ToMiner {
			t.Fatalf("level 1 is narrower than level 0: %+v, %+v",
				flows[0], flows[1])
		}

		// With every output a 1-hop script nothing leaves at level 1.
		all1 := slices.Clone(outs)
		for i := range all1 {
			all1[i].Level = 1
		}
		if f, _ := ClassifyTx(1, ins, all1); f.Outflow != 0 ||
			f.ToExternal != 0 {
			t.Fatalf("outflow %d with all outputs at level 1", f.Outflow)
		}
	}
}

// checkTxFlow checks one classification against the contract.
func checkTxFlow(t *testing.T, level int, ins []FlowInput,
	outs []FlowOutput, f TxFlow) {

	t.Helper()
	var in, out btcutil.Amount
	for _, x := range ins {
		in += x.Value
	}
	for _, x := range outs {
		out += x.Value
	}
	parts := []btcutil.Amount{f.FromMiner, f.OtherInput, f.ToMiner,
		f.ToExternal, f.Fee, f.Outflow, f.Internal, f.Inflow, f.MinerFee}
	for _, v := range parts {
		if v < 0 {
			t.Fatalf("negative part in %+v", f)
		}
	}
	switch {
	case f.FromMiner+f.OtherInput != in || f.ToMiner+f.ToExternal != out ||
		f.Fee != in-out:
		t.Fatalf("level %d: %+v does not balance %d in, %d out", level, f,
			in, out)
	case f.ToMiner-f.FromMiner != f.Inflow-f.Outflow-f.MinerFee:
		t.Fatalf("level %d: identity fails for %+v", level, f)
	case f.Outflow > f.FromMiner || f.Outflow > f.ToExternal:
		t.Fatalf("level %d: outflow beyond its bounds in %+v", level, f)
	case f.Outflow != min(f.FromMiner, f.ToExternal):
		t.Fatalf("level %d: external outputs not served first: %+v",
			level, f)
	case f.Outflow+f.Internal+f.MinerFee != f.FromMiner:
		t.Fatalf("level %d: miner value not accounted for: %+v", level, f)
	case f.Inflow > f.OtherInput || f.MinerFee > f.Fee ||
		f.Internal > f.ToMiner:
		t.Fatalf("level %d: inflow, miner fee or internal too large: %+v",
			level, f)
	}
	if want := bruteOrigin(level, ins); f.Origin != want {
		t.Fatalf("level %d: origin %d, want %d for %+v", level, f.Origin,
			want, ins)
	}
}

// bruteOrigin tries every origin of a miner input and keeps the one whose
// inputs sum highest, the lowest on a tie.
func bruteOrigin(level int, ins []FlowInput) int32 {
	best, bestSum := int32(-1), btcutil.Amount(-1)
	for _, cand := range ins {
		if cand.Level == NotMiner || int(cand.Level) > level {
			continue
		}
		var sum btcutil.Amount
		for _, in := range ins {
			if in.Level != NotMiner && int(in.Level) <= level &&
				in.Origin == cand.Origin {
				sum += in.Value
			}
		}
		if sum > bestSum || sum == bestSum && cand.Origin < best {
			best, bestSum = cand.Origin, sum
		}
	}
	return best
}

// TestSplitOutflow checks hand-worked allocations.
func TestSplitOutflow(t *testing.T) {
	const maxSat btcutil.Amount = btcutil.MaxSatoshi
	tests := []struct {
		name     string
		outflow  btcutil.Amount
		external []btcutil.Amount
		want     []btcutil.Amount
	}{
		// 10/3 = 3.33 each: floors 3+3+3 = 9, remainders tie, the
		// first output gets the last satoshi.
		{"thirds", 10, []btcutil.Amount{1, 1, 1}, []btcutil.Amount{4, 3, 3}},
		// 7 over 5:3:2 = 3.5, 2.1, 1.4: floors 3+2+1 = 6, the largest
		// remainder (.5) takes the 7th.
		{"largest remainder", 7, []btcutil.Amount{5, 3, 2},
			[]btcutil.Amount{4, 2, 1}},
		// 2 over four equal outputs: 0.5 each, the first two get one.
		{"ties to the lower index", 2, []btcutil.Amount{1, 1, 1, 1},
			[]btcutil.Amount{1, 1, 0, 0}},
		{"one output", 100, []btcutil.Amount{100}, []btcutil.Amount{100}},
		{"part of one output", 40, []btcutil.Amount{100},
			[]btcutil.Amount{40}},
		{"zero outflow", 0, []btcutil.Amount{5, 6}, []btcutil.Amount{0, 0}},
		// 5 over two zero-value outputs: equal shares 2.5 each.
		{"zero values", 5, []btcutil.Amount{0, 0}, []btcutil.Amount{3, 2}},
		{"no outputs", 3, nil, []btcutil.Amount{}},
		// MaxSatoshi·(MaxSatoshi-1)/MaxSatoshi is exact: no rounding,
		// and the product needs 128 bits.
		{"whole supply", maxSat, []btcutil.Amount{maxSat - 1, 1},
			[]btcutil.Amount{maxSat - 1, 1}},
		// 1e15 over 2e15:1e15: 666666666666666.67 and 333333333333333.33;
		// floors sum to 999999999999999, the larger remainder (.67)
		// takes the last satoshi.
		{"large thirds", 1e15, []btcutil.Amount{2e15, 1e15},
			[]btcutil.Amount{666666666666667, 333333333333333}},
		// Weights past 64 bits in total are halved: 2^62-1, 2^62-1, 1
		// over 2^63-1 gives 4.99.., 4.99.., 0.00..: floors 4+4+0, the
		// two large remainders take the other two.
		{"weights past 64 bits", 10,
			[]btcutil.Amount{1<<63 - 1, 1<<63 - 1, 2},
			[]btcutil.Amount{5, 5, 0}},
	}
	for _, tc := range tests {
		got := SplitOutflow(tc.outflow, tc.external)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestSplitOutflowProperties checks on random outputs that the parts sum
// to the outflow exactly, stay within a satoshi of the exact share
// (computed with rationals), never exceed their output and are monotone
// in value.
func TestSplitOutflowProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for range 3000 {
		ext := make([]btcutil.Amount, 1+rng.IntN(12))
		var total btcutil.Amount
		for i := range ext {
			switch rng.IntN(4) {
			case 0:
				ext[i] = 0
			case 1:
				ext[i] = btcutil.Amount(rng.Int64N(10))
			default:
				ext[i] = btcutil.Amount(rng.Int64N(int64(btcutil.MaxSatoshi) / 12))
			}
			total += ext[i]
		}
		if total == 0 {
			continue
		}
		outflow := btcutil.Amount(rng.Int64N(int64(total) + 1))
		parts := SplitOutflow(outflow, ext)

		var sum btcutil.Amount
		for i, p := range parts {
			sum += p
			exact := new(big.Rat).SetFrac(
				new(big.Int).Mul(big.NewInt(int64(outflow)),
					big.NewInt(int64(ext[i]))),
				big.NewInt(int64(total)))
			diff := new(big.Rat).Sub(new(big.Rat).SetInt64(int64(p)), exact)
			if diff.Abs(diff).Cmp(big.NewRat(1, 1)) >= 0 || p > ext[i] {
				t.Fatalf("part %d = %d of %d over %v: exact %s", i, p,
					outflow, ext, exact.FloatString(3))
			}
			for j := range ext {
				if ext[i] > ext[j] && parts[i] < parts[j] {
					t.Fatalf("%d over %v: not monotone: %v", outflow, ext,
						parts)
				}
			}
		}
		if sum != outflow {
			t.Fatalf("%d over %v: parts %v sum to %d", outflow, ext, parts,
				sum)
		}
	}
}

// TestBlockFlowNetChange checks the reserve change of one block by hand:
// 50 + 5 − 20 − 1 − 7 = 27.
func TestBlockFlowNetChange(t *testing.T) {
	b := BlockFlow{CoinbaseInflow: 50, OtherInflow: 5, Outflow: 20,
		Internal: 100, MinerFee: 1, Lost: 7, Revenue: 60}
	if got := b.NetChange(); got != 27 {
		t.Fatalf("NetChange = %d, want 27", got)
	}
}
