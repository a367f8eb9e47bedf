package analysis

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPoolSharesCounts checks the counting, the sort order and the
// relations between the fields on a hand-made window of ten blocks.
func TestPoolSharesCounts(t *testing.T) {
	ant := Attribution{44, "AntPool", MatchAddress}
	antTag := Attribution{44, "AntPool", MatchTag}
	via := Attribution{73, "ViaBTC", MatchTag}
	f2 := Attribution{36, "F2Pool", MatchTag}
	var window []BlockAttribution
	for i, a := range []Attribution{ant, ant, antTag, via, unknownAttribution,
		ant, via, antTag, f2, unknownAttribution} {

		window = append(window, BlockAttribution{Height: int32(100 + i),
			Attribution: a, TxCount: int32(1 + i%3)})
	}
	network := Estimate{HashesPerSec: 1e18}

	shares := PoolShares(network, window)
	want := []struct {
		id, blocks, byAddr, byTag, empty int
		name                             string
	}{
		{44, 5, 3, 2, 1, "AntPool"}, // heights 100-102, 105, 107; 100 empty
		{0, 2, 0, 0, 1, UnknownPool},
		{73, 2, 0, 2, 2, "ViaBTC"}, // heights 103 and 106, both empty
		{36, 1, 0, 1, 0, "F2Pool"},
	}
	if len(shares) != len(want) {
		t.Fatalf("%d shares, want %d: %+v", len(shares), len(want), shares)
	}
	var shareSum, rateSum float64
	for i, w := range want {
		s := shares[i]
		if s.PoolID != w.id || s.Pool != w.name || s.Blocks != w.blocks ||
			s.ByAddress != w.byAddr || s.ByTag != w.byTag || s.Empty != w.empty {
			t.Errorf("share %d: %+v, want %+v", i, s, w)
		}
		if s.Share != float64(w.blocks)/10 ||
			math.Abs(s.Hashrate-s.Share*1e18) > 1e3 {
			t.Errorf("%s: share %v hashrate %v", s.Pool, s.Share, s.Hashrate)
		}
		if !(s.ShareLo < s.Share && s.Share < s.ShareHi) ||
			!(s.HashrateLo < s.Hashrate && s.Hashrate < s.HashrateHi) {
			t.Errorf("%s: estimate outside its interval: %+v", s.Pool, s)
		}
		shareSum += s.Share
		rateSum += s.Hashrate
	}
	if math.Abs(shareSum-1) > 1e-12 || math.Abs(rateSum-1e18) > 1e6 {
		t.Errorf("shares sum to %v, hashrates to %v", shareSum, rateSum)
	}
	if PoolShares(network, nil) != nil {
		t.Error("empty window gave shares")
	}
}

// TestPoolSharesExactIntervals checks the intervals against their
// definitions, by summing the binomial and Poisson probabilities directly:
// Clopper–Pearson's bounds put 2.5% in each tail of Binomial(n, p), and
// Garwood's put 2.5% in each tail of Poisson(μ).
func TestPoolSharesExactIntervals(t *testing.T) {
	cases := []struct{ k, n int }{
		{1, 1}, {0, 10}, {1, 10}, {5, 20}, {10, 10}, {3, 144}, {72, 144},
		{140, 144}, {250, 1008},
	}
	for _, c := range cases {
		var window []BlockAttribution
		for i := range c.n {
			a := unknownAttribution
			if i < c.k {
				a = Attribution{1, "A", MatchTag}
			}
			window = append(window, BlockAttribution{Attribution: a})
		}
		unit := 1e9
		var s PoolShare
		for _, sh := range PoolShares(Estimate{HashesPerSec: unit * float64(c.n)}, window) {
			if sh.PoolID == 1 {
				s = sh
			}
		}
		if c.k == 0 {
			lo, hi := binomialInterval(0, c.n)
			s = PoolShare{ShareLo: lo, ShareHi: hi}
		}

		// Clopper–Pearson.
		if c.k == 0 && s.ShareLo != 0 || c.k == c.n && s.ShareHi != 1 {
			t.Errorf("k=%d n=%d: share interval [%v, %v]", c.k, c.n,
				s.ShareLo, s.ShareHi)
		}
		if c.k > 0 {
			checkTail(t, "P(X >= k | lo)", binomialAtLeast(c.k, c.n, s.ShareLo))
		}
		if c.k < c.n {
			checkTail(t, "P(X <= k | hi)", 1-binomialAtLeast(c.k+1, c.n, s.ShareHi))
		}

		// Garwood, in units of one block's hashrate.
		if c.k == 0 {
			continue
		}
		checkTail(t, "P(Y >= k | lo)", 1-poissonAtMost(c.k-1, s.HashrateLo/unit))
		checkTail(t, "P(Y <= k | hi)", poissonAtMost(c.k, s.HashrateHi/unit))
	}
}

// checkTail checks that a tail probability is 2.5%.
func checkTail(t *testing.T, what string, p float64) {
	t.Helper()
	if math.Abs(p-0.025) > 1e-9 {
		t.Errorf("%s = %.12f, want 0.025", what, p)
	}
}

// binomialAtLeast is P(X >= k) for X ~ Binomial(n, p), summed term by term.
func binomialAtLeast(k, n int, p float64) float64 {
	sum := 0.0
	for i := k; i <= n; i++ {
		sum += math.Exp(logChoose(n, i) + float64(i)*math.Log(p) +
			float64(n-i)*math.Log1p(-p))
	}
	return sum
}

// logChoose is log C(n, k).
func logChoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}

// poissonAtMost is P(Y <= k) for Y ~ Poisson(mu), summed term by term.
func poissonAtMost(k int, mu float64) float64 {
	sum, term := 0.0, math.Exp(-mu)
	for i := 0; i <= k; i++ {
		sum += term
		term *= mu / float64(i+1)
	}
	return sum
}

// TestPoolSharesCoverage simulates days of blocks at a known hashrate, two
// pools holding 30% and 5% of it, and checks that the 95% intervals of
// their share and hashrate cover the truth in at least 95% of the days,
// up to three standard errors of the simulation. Blocks are a Poisson
// process at constant difficulty; each block belongs to a pool with its
// share. The network estimate is WindowHashrate over each day.
func TestPoolSharesCoverage(t *testing.T) {
	const (
		trials  = 2000
		bits    = 0x1d00ffff
		spacing = 600.0 // mean seconds between blocks
		from    = int64(1_700_000_000)
		to      = from + 86400
	)
	rate := toFloat(CalcWork(bits)) / spacing
	pools := []struct {
		id    int
		share float64
	}{{1, 0.30}, {2, 0.05}}

	rng := rand.New(rand.NewPCG(3, 4))
	coveredShare := make([]int, len(pools))
	coveredRate := make([]int, len(pools))
	for range trials {
		hs, window := simulateDay(rng, bits, spacing, from, to, func() Attribution {
			u := rng.Float64()
			for _, p := range pools {
				if u < p.share {
					return Attribution{p.id, "", MatchTag}
				}
				u -= p.share
			}
			return unknownAttribution
		})
		est, err := WindowHashrate(Mainnet, hs, from, to)
		if err != nil {
			t.Fatal(err)
		}
		shares := PoolShares(est, window)
		for i, p := range pools {
			for _, s := range shares {
				if s.PoolID != p.id {
					continue
				}
				if s.ShareLo <= p.share && p.share <= s.ShareHi {
					coveredShare[i]++
				}
				truth := p.share * rate
				if s.HashrateLo <= truth && truth <= s.HashrateHi {
					coveredRate[i]++
				}
			}
		}
	}

	floor := 0.95 - 3*math.Sqrt(0.95*0.05/trials)
	for i, p := range pools {
		for what, n := range map[string]int{"share": coveredShare[i],
			"hashrate": coveredRate[i]} {

			cov := float64(n) / trials
			t.Logf("pool at %.0f%%: %s interval covers %.4f", 100*p.share,
				what, cov)
			if cov < floor || cov > 0.995 {
				t.Errorf("pool at %.0f%%: %s coverage %.4f outside [%.4f, 0.995]",
					100*p.share, what, cov, floor)
			}
		}
	}
}

// simulateDay returns headers of a Poisson process of blocks covering
// (from, to] and the attributions of the blocks inside it.
func simulateDay(rng *rand.Rand, bits uint32, spacing float64, from, to int64,
	attribute func() Attribution) ([]Header, []BlockAttribution) {

	hs := []Header{{Height: 1000, Time: from - 1, Bits: bits}}
	var window []BlockAttribution
	clock := float64(from - 1)
	for hs[len(hs)-1].Time < to {
		clock += rng.ExpFloat64() * spacing
		h := Header{Height: hs[len(hs)-1].Height + 1,
			Time: int64(math.Round(clock)), Bits: bits}
		hs = append(hs, h)
		if h.Time > from && h.Time <= to {
			window = append(window, BlockAttribution{Height: h.Height,
				Time: h.Time, Bits: bits, Attribution: attribute()})
		}
	}
	return hs, window
}
