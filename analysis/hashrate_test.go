package analysis

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/btcsuite/btcd/blockchain"
)

// coreChain is a chain from genesis with its chainwork (nChainWork),
// computed with btcd's CalcWork.
type coreChain struct {
	hs        []Header
	chainWork []*big.Int
}

func newCoreChain(hs []Header) coreChain {
	c := coreChain{hs: hs, chainWork: make([]*big.Int, len(hs))}
	acc := new(big.Int)
	for i, h := range hs {
		acc.Add(acc, blockchain.CalcWork(h.Bits))
		c.chainWork[i] = new(big.Int).Set(acc)
	}
	return c
}

// networkHashPS is Bitcoin Core 25's GetNetworkHashPS (rpc/mining.cpp)
// transcribed line by line, with arith_uint256::getdouble.
func (c coreChain) networkHashPS(lookup, height int) float64 {
	chain := c.hs
	pb := len(chain) - 1 // chainActive.Tip()
	if height >= 0 && height < len(chain)-1 {
		pb = height
	}
	if pb == 0 {
		return 0
	}
	if lookup <= 0 {
		lookup = pb%2016 + 1
	}
	if lookup > pb {
		lookup = pb
	}

	pb0 := pb
	minTime := chain[pb0].Time
	maxTime := minTime
	for i := 0; i < lookup; i++ {
		pb0--
		minTime = min(minTime, chain[pb0].Time)
		maxTime = max(maxTime, chain[pb0].Time)
	}
	if minTime == maxTime {
		return 0
	}
	workDiff := new(big.Int).Sub(c.chainWork[pb], c.chainWork[pb0])
	return getDouble(workDiff) / float64(maxTime-minTime)
}

// getDouble is arith_uint256::getdouble: 32-bit limbs, least significant
// first, accumulated in double precision.
func getDouble(n *big.Int) float64 {
	ret, fact := 0.0, 1.0
	mask := big.NewInt(0xffffffff)
	for i := range 8 {
		limb := new(big.Int).Rsh(n, uint(32*i))
		ret += fact * float64(limb.And(limb, mask).Uint64())
		fact *= 4294967296.0
	}
	return ret
}

// messyChain returns a chain from genesis with retargets, varying bits and
// out-of-order timestamps.
func messyChain(rng *rand.Rand, n int) []Header {
	hs := make([]Header, n)
	t := int64(1231006505)
	bits := uint32(0x1d00ffff)
	for i := range hs {
		if i%2016 == 0 && i > 0 {
			bits = validBits(rng, Mainnet.PowLimit)
		}
		t += int64(rng.IntN(1500)) - 200
		hs[i] = Header{Height: int32(i), Time: t, Bits: bits}
		if rng.IntN(50) == 0 {
			hs[i].Bits = 0x1d00ffff // min-difficulty style block
		}
	}
	return hs
}

func TestNetworkHashPSMatchesCore(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	chains := map[string][]Header{
		"mainnet 0..14131": loadMainnet(t),
		"messy":            messyChain(rng, 9000),
	}
	lookups := []int{-1, 0, 1, 2, 7, 120, 144, 2015, 2016, 2017, 5000, 1 << 20}
	for name, hs := range chains {
		core := newCoreChain(hs)
		tip := len(hs) - 1
		heights := []int{-1, -5, 0, 1, 2, 2015, 2016, 2017, tip - 1, tip, tip + 1, tip + 1000}
		for range 40 {
			heights = append(heights, rng.IntN(tip+1))
		}
		for _, lookup := range lookups {
			for _, height := range heights {
				want := core.networkHashPS(lookup, height)
				got, err := NetworkHashPS(Mainnet, hs, lookup, int32(height))
				if err != nil {
					t.Fatalf("%s lookup %d height %d: %v", name, lookup,
						height, err)
				}
				if !close(got.HashesPerSec, want, 1e-12) {
					t.Fatalf("%s lookup %d height %d: got %v, Core %v",
						name, lookup, height, got.HashesPerSec, want)
				}
			}
		}
	}
}

// close reports whether got is within rel of want, relatively.
func close(got, want, rel float64) bool {
	if want == 0 {
		return got == 0
	}
	return math.Abs(got-want) <= rel*math.Abs(want)
}

func TestNetworkHashPSFields(t *testing.T) {
	// Three blocks at difficulty 1 after genesis, spaced 100 s, 300 s
	// and 200 s: 3·(2^32+2^16+1) hashes over 600 s.
	hs := []Header{
		{0, 1000, 0x1d00ffff},
		{1, 1100, 0x1d00ffff},
		{2, 1400, 0x1d00ffff},
		{3, 1600, 0x1d00ffff},
	}
	est, err := NetworkHashPS(Mainnet, hs, 3, -1)
	if err != nil {
		t.Fatal(err)
	}
	want := 3 * 4295032833.0 / 600
	if est.HashesPerSec != want || est.FromHeight != 0 || est.ToHeight != 3 ||
		est.FromTime != 1000 || est.ToTime != 1600 || est.Intervals != 3 ||
		est.Seconds != 600 || est.Work.Cmp(big.NewInt(3*4295032833)) != 0 {

		t.Errorf("got %+v, want rate %v over heights 0..3", est, want)
	}

	// Σα = 600/w; the interval is χ²(6) quantiles (1.2373, 14.4494,
	// from standard tables) over 2Σα.
	sumAlpha := 600 / 4295032833.0
	if !est.HasInterval || !close(est.Lo, 1.237344/(2*sumAlpha), 1e-5) ||
		!close(est.Hi, 14.449375/(2*sumAlpha), 1e-5) {

		t.Errorf("interval [%v, %v], want [%v, %v]", est.Lo, est.Hi,
			1.237344/(2*sumAlpha), 14.449375/(2*sumAlpha))
	}

	// Genesis: zero, no interval.
	est, err = NetworkHashPS(Mainnet, hs[:1], -1, -1)
	if err != nil || est.HashesPerSec != 0 || est.HasInterval ||
		est.Work.Sign() != 0 {
		t.Errorf("genesis: %+v, %v", est, err)
	}

	// Equal timestamps: zero rate and no interval.
	flat := []Header{{10, 500, 0x1d00ffff}, {11, 500, 0x1d00ffff}}
	est, err = NetworkHashPS(Mainnet, flat, 1, -1)
	if err != nil || est.HashesPerSec != 0 || est.HasInterval {
		t.Errorf("flat: %+v, %v", est, err)
	}
}

func TestNetworkHashPSErrors(t *testing.T) {
	hs := []Header{{100, 0, 0x1d00ffff}, {101, 600, 0x1d00ffff}, {102, 1200, 0x1d00ffff}}

	_, err := NetworkHashPS(Mainnet, hs, 5, -1)
	var he *HeadersError
	if !errors.As(err, &he) || !errors.Is(err, ErrNeedHeaders) ||
		he.Height != 97 || he.First != 100 || he.Last != 102 {
		t.Errorf("short lookback: err = %v", err)
	}
	if _, err := NetworkHashPS(Mainnet, hs, 2, -1); err != nil {
		t.Errorf("exact lookback: %v", err)
	}
	if _, err := NetworkHashPS(Mainnet, hs, 1, 50); !errors.Is(err, ErrNeedHeaders) {
		t.Errorf("height before the slice: err = %v", err)
	}
	if _, err := NetworkHashPS(Mainnet, nil, 1, -1); !errors.Is(err, ErrNeedHeaders) {
		t.Errorf("no headers: err = %v", err)
	}
	gap := []Header{hs[0], hs[2]}
	if _, err := NetworkHashPS(Mainnet, gap, 1, -1); !errors.Is(err, ErrNotContiguous) {
		t.Errorf("gap: err = %v", err)
	}
}

// simBits returns random, valid mainnet-like bits.
func simBits(rng *rand.Rand) uint32 {
	exponent := uint32(0x18 + rng.IntN(5))
	mantissa := uint32(0x008000 + rng.IntN(0x7f8000))
	return exponent<<24 | mantissa
}

// simChain fills hs with blocks from height h0 at time t0 mined at a
// constant hashrate: exponential intervals with mean meanSec. Timestamps are
// the true times rounded down to the second.
func simChain(rng *rand.Rand, hs []Header, h0 int32, t0 int64, bits uint32,
	meanSec float64) {

	real := float64(t0)
	for i := range hs {
		if i > 0 {
			real += rng.ExpFloat64() * meanSec
		}
		hs[i] = Header{Height: h0 + int32(i), Time: int64(real), Bits: bits}
	}
}

// TestNetworkHashPSCoverage simulates chains at a known constant hashrate r
// and checks the 95% interval covers r in 95% ± 2% of 4000 windows.
func TestNetworkHashPSCoverage(t *testing.T) {
	for _, n := range []int{10, 2016} {
		rng := rand.New(rand.NewPCG(9, uint64(n)))
		const trials = 4000
		hs := make([]Header, n+1)
		covered := 0
		for range trials {
			bits := simBits(rng)
			meanSec := 60 + 6000*rng.Float64()
			r := toFloat(CalcWork(bits)) / meanSec
			simChain(rng, hs, 500000, 1600000000, bits, meanSec)

			est, err := NetworkHashPS(Mainnet, hs, n, -1)
			if err != nil {
				t.Fatal(err)
			}
			if !est.HasInterval || est.Lo >= est.Hi {
				t.Fatalf("n=%d: bad interval %+v", n, est)
			}
			if est.Lo <= r && r <= est.Hi {
				covered++
			}
		}
		rate := float64(covered) / trials
		t.Logf("n=%d: coverage %.4f", n, rate)
		if math.Abs(rate-0.95) > 0.02 {
			t.Errorf("n=%d: coverage %.4f, want 0.95 ± 0.02", n, rate)
		}
	}
}

func TestWindowHashrateHandComputed(t *testing.T) {
	w := 4295032833.0
	hs := []Header{
		{10, 900, 0x1d00ffff},
		{11, 1000, 0x1d00ffff}, // on the open edge: excluded
		{12, 1300, 0x1d00ffff},
		{13, 1250, 0x1d00ffff}, // out of order but inside
		{14, 2000, 0x1d00ffff}, // on the closed edge: included
		{15, 2100, 0x1d00ffff},
	}
	est, err := WindowHashrate(Mainnet, hs, 1000, 2000)
	if err != nil {
		t.Fatal(err)
	}
	if est.Intervals != 3 || est.HashesPerSec != 3*w/1000 ||
		est.FromHeight != 12 || est.ToHeight != 14 || est.Seconds != 1000 {
		t.Errorf("got %+v, want 3 blocks, heights 12..14", est)
	}
	// Garwood for N=3: [χ²_0.025(6)/2, χ²_0.975(8)/2] = [0.6187, 8.7673]
	// (standard tables).
	if !close(est.Lo, 0.618672*w/1000, 1e-5) || !close(est.Hi, 8.767273*w/1000, 1e-5) {
		t.Errorf("interval [%v, %v], want [%v, %v]", est.Lo, est.Hi,
			0.618672*w/1000, 8.767273*w/1000)
	}

	// Empty window: rate 0, upper bound from the next block's work:
	// χ²_0.975(2)/2 = -ln(0.025).
	// The lowest block after the window is height 12 (1300), although
	// height 13 carries an earlier timestamp.
	hs[2].Bits = 0x1c00ffff
	est, err = WindowHashrate(Mainnet, hs, 1050, 1200)
	if err != nil {
		t.Fatal(err)
	}
	wNext := toFloat(blockchain.CalcWork(0x1c00ffff))
	if est.Intervals != 0 || est.HashesPerSec != 0 || est.Lo != 0 ||
		!close(est.Hi, -math.Log(0.025)*wNext/150, 1e-9) ||
		est.FromHeight != -1 || est.ToHeight != -1 {
		t.Errorf("empty window: %+v", est)
	}
}

func TestWindowHashrateErrors(t *testing.T) {
	hs := []Header{{10, 1000, 0x1d00ffff}, {11, 1600, 0x1d00ffff}}
	tests := []struct {
		name     string
		hs       []Header
		from, to int64
		want     error
		height   int32
	}{
		{"inverted", hs, 1200, 1200, ErrBadWindow, 0},
		{"starts before the headers", hs, 999, 1500, ErrNeedHeaders, 9},
		{"ends after the tip", hs, 1000, 1601, ErrNeedHeaders, 12},
		{"genesis covers any start", []Header{{0, 1000, 0x1d00ffff}, {1, 1600, 0x1d00ffff}}, 0, 1600, nil, 0},
		{"gap", []Header{hs[0], {13, 1700, 0x1d00ffff}}, 1000, 1600, ErrNotContiguous, 0},
	}
	for _, tt := range tests {
		_, err := WindowHashrate(Mainnet, tt.hs, tt.from, tt.to)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
		var he *HeadersError
		if errors.As(err, &he) && he.Height != tt.height {
			t.Errorf("%s: needs height %d, want %d", tt.name, he.Height,
				tt.height)
		}
	}
}

// TestWindowHashrateCoverage checks the Garwood interval on simulated
// Poisson block arrivals at a known rate, over windows of half a day to two
// days.
func TestWindowHashrateCoverage(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	const trials = 4000
	covered := 0
	for range trials {
		bits := simBits(rng)
		meanSec := 600.0
		r := toFloat(CalcWork(bits)) / meanSec
		length := int64(43200 + rng.IntN(3*86400/2))
		from := int64(1700000000)
		to := from + length

		// Enough blocks to pass the window's end by ~40 hours; the first
		// block is an hour before the window, as WindowHashrate requires.
		hs := make([]Header, int(float64(length)/meanSec)+250)
		simChain(rng, hs, 800000, from-3600, bits, meanSec)

		est, err := WindowHashrate(Mainnet, hs, from, to)
		if err != nil {
			t.Fatal(err)
		}
		if est.Lo <= r && r <= est.Hi {
			covered++
		}
	}
	rate := float64(covered) / trials
	t.Logf("window coverage %.4f", rate)
	// Garwood's interval is exact in the conservative sense: coverage is
	// at least 95%, a little more for a discrete count.
	if rate < 0.93 || rate > 0.97 {
		t.Errorf("coverage %.4f, want 0.95 ± 0.02", rate)
	}
}
