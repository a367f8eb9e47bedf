package analysis

import (
	"math/big"
)

var (
	bigOne = big.NewInt(1)

	// oneLsh256 is 2^256, the size of the hash space.
	oneLsh256 = new(big.Int).Lsh(bigOne, 256)
)

// CompactToBig expands the compact target encoding used in block headers:
// N = (-1)^sign * mantissa * 256^(exponent-3), with an 8-bit exponent, a sign
// bit (bit 23) and a 23-bit mantissa. The sign bit is honoured, as in btcd
// and Bitcoin Core, although valid targets are never negative.
func CompactToBig(bits uint32) *big.Int {
	mantissa := bits & 0x007fffff
	negative := bits&0x00800000 != 0
	exponent := uint(bits >> 24)

	var n *big.Int
	if exponent <= 3 {
		n = big.NewInt(int64(mantissa >> (8 * (3 - exponent))))
	} else {
		n = big.NewInt(int64(mantissa))
		n.Lsh(n, 8*(exponent-3))
	}
	if negative {
		n.Neg(n)
	}
	return n
}

// BigToCompact is the inverse of CompactToBig: it keeps the 23 most
// significant bits of n (rounding toward zero for n >= 0), so targets
// computed by the retarget rule lose precision exactly as consensus
// requires. Negative values, which valid targets never are, follow btcd:
// the shift rounds toward minus infinity before the sign bit is set.
func BigToCompact(n *big.Int) uint32 {
	if n.Sign() == 0 {
		return 0
	}

	exponent := uint((n.BitLen() + 7) / 8)
	var mantissa uint32
	if exponent <= 3 {
		mantissa = uint32(lowWord(n)) << (8 * (3 - exponent))
	} else {
		shifted := new(big.Int).Rsh(n, 8*(exponent-3))
		mantissa = uint32(lowWord(shifted))
	}

	// A mantissa with bit 23 set would read back as negative: move one
	// byte into the exponent instead.
	if mantissa&0x00800000 != 0 {
		mantissa >>= 8
		exponent++
	}

	compact := uint32(exponent<<24) | mantissa
	if n.Sign() < 0 {
		compact |= 0x00800000
	}
	return compact
}

// lowWord returns the least significant 64 bits of |n|.
func lowWord(n *big.Int) uint64 {
	return new(big.Int).Abs(n).Uint64()
}

// CalcWork returns the expected number of hashes needed to find a block with
// target bits: 2^256 / (target+1), exactly. Chainwork is the sum of these
// values, which is what makes it comparable across difficulty changes. It is
// 0 for a target that is zero or negative.
func CalcWork(bits uint32) *big.Int {
	target := CompactToBig(bits)
	if target.Sign() <= 0 {
		return new(big.Int)
	}
	denominator := target.Add(target, bigOne)
	return denominator.Div(oneLsh256, denominator)
}

// Difficulty returns bits' difficulty relative to the minimum mainnet
// difficulty (0x1d00ffff), computed as Bitcoin Core's GetDifficulty does so
// that it prints the same digits as getdifficulty. Like Core it reads the
// sign bit as part of the mantissa, and a zero mantissa gives +Inf.
func Difficulty(bits uint32) float64 {
	shift := int((bits >> 24) & 0xff)
	diff := float64(0x0000ffff) / float64(bits&0x00ffffff)

	for ; shift < 29; shift++ {
		diff *= 256.0
	}
	for ; shift > 29; shift-- {
		diff /= 256.0
	}
	return diff
}

// ExpectedBits returns the bits the consensus rule requires at height, given
// the previous block's bits, the timestamp of the first block of the ending
// epoch (height-RetargetInterval) and of the previous block (height-1), and
// for BIP94 the bits of the first block of the ending epoch.
//
// It follows Bitcoin Core's GetNextWorkRequired: at a retarget height the
// measured timespan prevTime-epochFirstTime is clamped to
// [TargetTimespan/RetargetFactor, TargetTimespan*RetargetFactor], the old
// target (prevBits, or epochFirstBits under BIP94) is scaled by
// timespan/TargetTimespan with integer division and capped at PowLimit.
// Between retargets the bits must equal prevBits.
//
// checked is false when the rule does not pin the bits from these inputs:
// height <= 0, or a non-retarget height on a ReduceMinDifficulty network
// (where the new block's own timestamp decides); bits is then prevBits.
// Under NoRetargeting the bits at a retarget height are prevBits.
func ExpectedBits(p Params, height int32, prevBits, epochFirstBits uint32,
	epochFirstTime, prevTime int64) (bits uint32, checked bool) {

	if height <= 0 || p.RetargetInterval <= 0 {
		return prevBits, false
	}
	if height%p.RetargetInterval != 0 {
		return prevBits, !p.ReduceMinDifficulty
	}
	if p.NoRetargeting || p.TargetTimespan <= 0 || p.PowLimit == nil {
		return prevBits, true
	}

	timespan := clampTimespan(p, prevTime-epochFirstTime)
	old := prevBits
	if p.EnforceBIP94 {
		old = epochFirstBits
	}

	target := CompactToBig(old)
	target.Mul(target, big.NewInt(timespan))
	target.Div(target, big.NewInt(p.TargetTimespan))
	if target.Cmp(p.PowLimit) > 0 {
		target.Set(p.PowLimit)
	}
	return BigToCompact(target), true
}

// clampTimespan limits a measured epoch timespan to the range the retarget
// rule accepts.
func clampTimespan(p Params, timespan int64) int64 {
	factor := p.RetargetFactor
	if factor <= 0 {
		factor = 1
	}
	lo, hi := p.TargetTimespan/factor, p.TargetTimespan*factor
	return min(max(timespan, lo), hi)
}
