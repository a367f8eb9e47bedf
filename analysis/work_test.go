package analysis

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// randomCompact returns compact values biased toward the interesting
// corners: small exponents, the sign bit, and mantissas with bit 23 set.
func randomCompact(rng *rand.Rand) uint32 {
	switch rng.IntN(4) {
	case 0:
		return rng.Uint32()
	case 1:
		return uint32(rng.IntN(6))<<24 | rng.Uint32()&0x00ffffff
	default:
		return uint32(rng.IntN(0x22))<<24 | rng.Uint32()&0x00ffffff
	}
}

// randomBig returns signed integers of 0..300 bits, including zero.
func randomBig(rng *rand.Rand) *big.Int {
	n := new(big.Int)
	for range rng.IntN(10) {
		n.Lsh(n, 32)
		n.Or(n, big.NewInt(int64(rng.Uint32())))
	}
	n.Rsh(n, uint(rng.IntN(32)))
	if rng.IntN(4) == 0 {
		n.Neg(n)
	}
	return n
}

// TestCompactMatchesBtcd uses btcd's blockchain package as the oracle.
func TestCompactMatchesBtcd(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		bits := randomCompact(rng)
		if got, want := CompactToBig(bits), blockchain.CompactToBig(bits); got.Cmp(want) != 0 {
			t.Fatalf("CompactToBig(%08x) = %v, want %v", bits, got, want)
		}
		if got, want := CalcWork(bits), blockchain.CalcWork(bits); got.Cmp(want) != 0 {
			t.Fatalf("CalcWork(%08x) = %v, want %v", bits, got, want)
		}

		n := randomBig(rng)
		if got, want := BigToCompact(n), blockchain.BigToCompact(n); got != want {
			t.Fatalf("BigToCompact(%v) = %08x, want %08x", n, got, want)
		}
	}
}

func TestCompactTable(t *testing.T) {
	tests := []struct {
		name   string
		bits   uint32
		target string // hex
	}{
		{"mainnet limit", 0x1d00ffff, "ffff" + zeros(52)},
		{"regtest limit", 0x207fffff, "7fffff" + zeros(58)},
		{"block 100000", 0x1b04864c, "4864c" + zeros(48)},
		{"small exponent", 0x01123456, "12"},
		{"exponent 2", 0x02123456, "1234"},
		{"negative", 0x04923456, "-12345600"},
		{"zero", 0x00000000, "0"},
	}
	for _, tt := range tests {
		want, _ := new(big.Int).SetString(tt.target, 16)
		if got := CompactToBig(tt.bits); got.Cmp(want) != 0 {
			t.Errorf("%s: CompactToBig(%08x) = %x, want %x", tt.name,
				tt.bits, got, want)
		}
	}
}

func zeros(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '0'
	}
	return string(b)
}

// TestCalcWorkFacts checks published values: the work of a
// difficulty-1 block is 2^32+2^16+1 hashes (chainwork 0x100010001 per
// early block), and chainwork is 2^256/(target+1) exactly.
func TestCalcWorkFacts(t *testing.T) {
	if got := CalcWork(0x1d00ffff); got.Cmp(big.NewInt(4295032833)) != 0 {
		t.Errorf("CalcWork(0x1d00ffff) = %v, want 4295032833", got)
	}
	// Regtest: target 0x7fffff<<232, work 2 (bitcoind reports chainwork
	// 0x02 per block on regtest).
	if got := CalcWork(0x207fffff); got.Cmp(big.NewInt(2)) != 0 {
		t.Errorf("CalcWork(0x207fffff) = %v, want 2", got)
	}
	for _, bits := range []uint32{0, 0x04923456, 0x01003456} {
		if got := CalcWork(bits); got.Sign() != 0 {
			t.Errorf("CalcWork(%08x) = %v, want 0", bits, got)
		}
	}
}

// TestDifficultyFacts uses Bitcoin Core's own test values
// (src/test/blockchain_tests.cpp, checked there to 1e-6 absolute or
// relative) and the Bitcoin wiki's worked example.
func TestDifficultyFacts(t *testing.T) {
	tests := []struct {
		bits uint32
		want float64
	}{
		{0x1d00ffff, 1},
		{0x1b0404cb, 16307.420938523983}, // wiki "Difficulty"
		{0x1f111111, 0.000001},
		{0x1ef88f6f, 0.000016},
		{0x1df88f6f, 0.004023},
		{0x1cf88f6f, 1.029916},
		{0x12345678, 5913134931067755359633408.0},
	}
	for _, tt := range tests {
		got := Difficulty(tt.bits)
		if math.Abs(got-tt.want) > 1e-6*math.Max(1, tt.want) {
			t.Errorf("Difficulty(%08x) = %v, want %v", tt.bits, got, tt.want)
		}
	}
}

// TestDifficultyExact compares with the exact rational
// 0xffff·256^(29-exponent)/mantissa, rounded once. Core scales by powers of
// two, which is exact away from underflow and overflow, so the two must
// agree to the last bit.
func TestDifficultyExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		exponent := uint32(rng.IntN(60))
		mantissa := 1 + rng.Uint32()%0x00ffffff
		bits := exponent<<24 | mantissa

		r := new(big.Rat).SetFrac64(0xffff, int64(mantissa))
		scale := new(big.Rat).SetInt(new(big.Int).Lsh(bigOne,
			uint(8*abs(29-int(exponent)))))
		if exponent < 29 {
			r.Mul(r, scale)
		} else {
			r.Quo(r, scale)
		}
		want, _ := r.Float64()
		if got := Difficulty(bits); got != want {
			t.Fatalf("Difficulty(%08x) = %v, want %v", bits, got, want)
		}
	}
	if got := Difficulty(0x1d000000); !math.IsInf(got, 1) {
		t.Errorf("Difficulty of zero mantissa = %v, want +Inf", got)
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestExpectedBitsCore runs Bitcoin Core's pow_tests.cpp cases, which use
// real mainnet timestamps and bits.
func TestExpectedBitsCore(t *testing.T) {
	tests := []struct {
		name                string
		height              int32
		prevBits            uint32
		firstTime, prevTime int64
		want                uint32
	}{
		{"get_next_work", 32256, 0x1d00ffff, 1261130161, 1262152739, 0x1d00d86a},
		{"pow_limit", 2016, 0x1d00ffff, 1231006505, 1233061996, 0x1d00ffff},
		{"lower_limit_actual", 68544, 0x1c05a3f4, 1279008237, 1279297671, 0x1c0168fd},
		{"upper_limit_actual", 46368, 0x1c387f6f, 1263163443, 1269211443, 0x1d00e1fd},
	}
	for _, tt := range tests {
		got, checked := ExpectedBits(Mainnet, tt.height, tt.prevBits,
			tt.prevBits, tt.firstTime, tt.prevTime)
		if !checked || got != tt.want {
			t.Errorf("%s: got %08x checked=%v, want %08x", tt.name, got,
				checked, tt.want)
		}
	}
}

// TestExpectedBitsMainnetChain checks every block of the real chain
// 0..14131 (six retargets, all capped at the proof-of-work limit).
func TestExpectedBitsMainnetChain(t *testing.T) {
	hs := loadMainnet(t)
	for h := int32(1); h < int32(len(hs)); h++ {
		first := hs[max(0, h-2016)]
		got, checked := ExpectedBits(Mainnet, h, hs[h-1].Bits, first.Bits,
			first.Time, hs[h-1].Time)
		if !checked || got != hs[h].Bits {
			t.Fatalf("height %d: got %08x checked=%v, block has %08x", h,
				got, checked, hs[h].Bits)
		}
	}
}

// TestExpectedBitsBtcdOracle compares random retargets and non-retarget
// blocks with btcd's header validation (CheckBlockHeaderContext), which
// runs btcd's own calcNextRequiredDifficulty.
func TestExpectedBitsBtcdOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	networks := []struct {
		p Params
		c *chaincfg.Params
	}{
		{Mainnet, &chaincfg.MainNetParams},
		{Testnet3, &chaincfg.TestNet3Params},
		{Signet, &chaincfg.SigNetParams},
		{Simnet, &chaincfg.SimNetParams},
	}
	for _, net := range networks {
		for i := range 3000 {
			height := int32(2016 * (1 + rng.IntN(400)))
			if i%3 == 0 && !net.p.ReduceMinDifficulty {
				height += int32(1 + rng.IntN(2015))
			}
			prevBits := validBits(rng, net.p.PowLimit)
			firstTime := int64(1231006505 + rng.IntN(5e8))
			prevTime := firstTime + int64(rng.IntN(6*1209600)) - 300000

			got, checked := ExpectedBits(net.p, height, prevBits, prevBits,
				firstTime, prevTime)
			if !checked {
				t.Fatalf("%s height %d: unchecked", net.p.Name, height)
			}
			err := btcdCheck(net.c, height, prevBits, firstTime, prevTime, got)
			if err != nil {
				t.Fatalf("%s height %d prev %08x span %d: got %08x, btcd: %v",
					net.p.Name, height, prevBits, prevTime-firstTime, got, err)
			}
			// The oracle must also reject a wrong answer.
			if btcdCheck(net.c, height, prevBits, firstTime, prevTime, got+1) == nil {
				t.Fatalf("%s: btcd accepted a wrong value", net.p.Name)
			}
		}
	}
}

// validBits returns the compact form of a random target at or below limit.
func validBits(rng *rand.Rand, limit *big.Int) uint32 {
	n := new(big.Int).Rsh(limit, uint(rng.IntN(60)))
	n.Mul(n, big.NewInt(int64(1+rng.IntN(1000))))
	n.Div(n, big.NewInt(1000))
	return BigToCompact(n)
}

// btcdCheck asks btcd whether a block at height with bits is valid after a
// previous block (prevBits, prevTime) whose epoch started at firstTime.
func btcdCheck(c *chaincfg.Params, height int32, prevBits uint32,
	firstTime, prevTime int64, bits uint32) error {

	first := &fakeNode{height: height - 2016, bits: prevBits, ts: firstTime}
	prev := &fakeNode{height: height - 1, bits: prevBits, ts: prevTime,
		epochFirst: first}
	header := &wire.BlockHeader{
		Version:   4,
		Timestamp: time.Unix(prevTime+1, 0),
		Bits:      bits,
	}
	return blockchain.CheckBlockHeaderContext(header, prev, 0,
		fakeChain{c}, true)
}

// fakeNode is a block index entry that knows only its epoch's first block.
type fakeNode struct {
	height     int32
	bits       uint32
	ts         int64
	epochFirst *fakeNode
}

func (n *fakeNode) Height() int32                { return n.height }
func (n *fakeNode) Bits() uint32                 { return n.bits }
func (n *fakeNode) Timestamp() int64             { return n.ts }
func (n *fakeNode) Parent() blockchain.HeaderCtx { return nil }
func (n *fakeNode) RelativeAncestorCtx(d int32) blockchain.HeaderCtx {
	if n.epochFirst == nil || n.height-d != n.epochFirst.height {
		return nil
	}
	return n.epochFirst
}

// fakeChain supplies btcd's retarget parameters.
type fakeChain struct{ c *chaincfg.Params }

func (f fakeChain) ChainParams() *chaincfg.Params { return f.c }
func (f fakeChain) BlocksPerRetarget() int32 {
	return int32(f.c.TargetTimespan / f.c.TargetTimePerBlock)
}
func (f fakeChain) MinRetargetTimespan() int64 {
	return int64(f.c.TargetTimespan/time.Second) / f.c.RetargetAdjustmentFactor
}
func (f fakeChain) MaxRetargetTimespan() int64 {
	return int64(f.c.TargetTimespan/time.Second) * f.c.RetargetAdjustmentFactor
}
func (f fakeChain) VerifyCheckpoint(int32, *chainhash.Hash) bool { return true }
func (f fakeChain) FindPreviousCheckpoint() (blockchain.HeaderCtx, error) {
	return nil, nil
}

var _ blockchain.ChainCtx = fakeChain{}

// TestExpectedBitsRules covers the network-specific branches.
func TestExpectedBitsRules(t *testing.T) {
	const epoch = 1209600
	tests := []struct {
		name        string
		p           Params
		height      int32
		prev, first uint32
		span        int64
		want        uint32
		checked     bool
	}{
		{"genesis", Mainnet, 0, 0x1d00ffff, 0x1d00ffff, 0, 0x1d00ffff, false},
		{"mainnet between retargets", Mainnet, 4033, 0x1c05a3f4, 0, 0, 0x1c05a3f4, true},
		{"testnet3 between retargets", Testnet3, 4033, 0x1d00ffff, 0, 0, 0x1d00ffff, false},
		{"regtest between retargets", Regtest, 7, 0x207fffff, 0, 0, 0x207fffff, false},
		{"regtest retarget keeps bits", Regtest, 2016, 0x1e0fffff, 0x1e0fffff, 1, 0x1e0fffff, true},
		// BIP94: a min-difficulty last block must not leak into the
		// retarget; the epoch's first bits are halved (even mantissa).
		{"testnet4 uses first bits", Testnet4, 4032, 0x1d00ffff, 0x1c05a3f4, epoch / 2, 0x1c02d1fa, true},
		// testnet3 scales the last block's bits: 0xffff<<208 / 2.
		{"testnet3 uses last bits", Testnet3, 4032, 0x1d00ffff, 0x1c05a3f4, epoch / 2, 0x1c7fff80, true},
		{"clamp fast", Mainnet, 4032, 0x1c05a3f4, 0x1c05a3f4, 1, 0x1c0168fd, true},
		{"exact timespan", Mainnet, 4032, 0x1c05a3f4, 0x1c05a3f4, epoch, 0x1c05a3f4, true},
	}
	for _, tt := range tests {
		got, checked := ExpectedBits(tt.p, tt.height, tt.prev, tt.first,
			1000, 1000+tt.span)
		if got != tt.want || checked != tt.checked {
			t.Errorf("%s: got %08x checked=%v, want %08x checked=%v",
				tt.name, got, checked, tt.want, tt.checked)
		}
	}
}

func TestParams(t *testing.T) {
	tests := []struct {
		p            Params
		genesis      *chainhash.Hash
		port         string
		halving      int32
		limitBits    uint32
		minDiff      bool
		noRetarget   bool
		bip94        bool
		chainNameAka string
	}{
		{Mainnet, chaincfg.MainNetParams.GenesisHash, "8332", 210000, 0x1d00ffff, false, false, false, "main"},
		{Testnet3, chaincfg.TestNet3Params.GenesisHash, "18332", 210000, 0x1d00ffff, true, false, false, "test"},
		{Testnet4, mustHash("00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043"), "48332", 210000, 0x1d00ffff, true, false, true, "testnet4"},
		{Signet, chaincfg.SigNetParams.GenesisHash, "38332", 210000, 0x1e0377ae, false, false, false, "signet"},
		{Regtest, chaincfg.RegressionNetParams.GenesisHash, "18443", 150, 0x207fffff, true, true, false, "regtest"},
		{Simnet, chaincfg.SimNetParams.GenesisHash, "18556", 210000, 0x207fffff, true, false, false, "simnet"},
	}
	for _, tt := range tests {
		p := tt.p
		if p.GenesisHash != *tt.genesis || p.DefaultRPCPort != tt.port ||
			p.SubsidyHalvingInterval != tt.halving ||
			p.PowLimitBits != tt.limitBits ||
			p.ReduceMinDifficulty != tt.minDiff ||
			p.NoRetargeting != tt.noRetarget || p.EnforceBIP94 != tt.bip94 ||
			p.TargetTimespan != 1209600 || p.TargetSpacing != 600 ||
			p.RetargetInterval != 2016 || p.RetargetFactor != 4 {

			t.Errorf("%s: unexpected %+v", p.Name, p)
		}
		if BigToCompact(p.PowLimit) != p.PowLimitBits {
			t.Errorf("%s: PowLimit %x does not encode to %08x", p.Name,
				p.PowLimit, p.PowLimitBits)
		}
		if got, ok := ParamsByGenesis(*tt.genesis); !ok || got.Name != p.Name {
			t.Errorf("ParamsByGenesis(%v) = %q, %v", tt.genesis, got.Name, ok)
		}
		for _, name := range []string{p.Name, tt.chainNameAka} {
			if got, ok := ParamsByName(name); !ok || got.Name != p.Name {
				t.Errorf("ParamsByName(%q) = %q, %v", name, got.Name, ok)
			}
		}
	}
	if _, ok := ParamsByName("litecoin"); ok {
		t.Error("ParamsByName accepted an unknown network")
	}
	if _, ok := ParamsByGenesis(chainhash.Hash{}); ok {
		t.Error("ParamsByGenesis accepted the zero hash")
	}

	// The genesis hashes come from btcd's genesis blocks, so check one
	// by hashing the block header itself.
	if h := chaincfg.MainNetParams.GenesisBlock.BlockHash(); h != Mainnet.GenesisHash {
		t.Errorf("mainnet genesis hash %v, header hashes to %v",
			Mainnet.GenesisHash, h)
	}

	// The exported values must not share btcd's mutable limit.
	if Mainnet.PowLimit == chaincfg.MainNetParams.PowLimit {
		t.Error("Mainnet.PowLimit aliases chaincfg's big.Int")
	}
	_, err := NetworkHashPS(Params{}, []Header{{}}, 1, 0)
	if !errors.Is(err, ErrBadParams) {
		t.Errorf("zero Params: err = %v, want ErrBadParams", err)
	}
}

func mustHash(s string) *chainhash.Hash {
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		panic(err)
	}
	return h
}
