package analysis

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// TestSumQuantilesGammaSum uses an exact oracle: with a common rate,
// Gamma(a) + Gamma(b) is Gamma(a+b).
func TestSumQuantilesGammaSum(t *testing.T) {
	tests := []struct{ a, b float64 }{
		{1, 1}, {3, 5}, {1, 100000}, {2016, 50}, {7, 7000},
	}
	for _, tt := range tests {
		x := distuv.Gamma{Alpha: tt.a, Beta: 1.0 / 600}
		y := distuv.Gamma{Alpha: tt.b, Beta: 1.0 / 600}
		exact := distuv.Gamma{Alpha: tt.a + tt.b, Beta: 1.0 / 600}
		got := sumQuantiles(x, y, qLo, qMid, qHi)
		for i, p := range []float64{qLo, qMid, qHi} {
			want := exact.Quantile(p)
			// The grid is accurate to a small fraction of the
			// spread; allow 0.2% of the 95% width plus a second.
			tol := 0.002*width(exact) + 1
			if math.Abs(got[i]-want) > tol {
				t.Errorf("Gamma(%v)+Gamma(%v) q%.3f = %v, want %v ± %v",
					tt.a, tt.b, p, got[i], want, tol)
			}
		}
	}
}

// TestSumQuantilesMonteCarlo checks the F + Gamma case the halving uses
// against a seeded Monte Carlo: the empirical CDF at each returned quantile
// must be within 0.4% of its level (the Monte Carlo error is about 0.05%).
func TestSumQuantilesMonteCarlo(t *testing.T) {
	tests := []struct {
		n, m, k int32
	}{
		{1000, 1016, 100000},
		{144, 3, 2},
		{2016, 1, 50},
		{144, 2000, 1},
	}
	for _, tt := range tests {
		f := forecast{n: int(tt.n), perBlock: 612}
		x, y := f.blocks(tt.m), spacing(Mainnet, tt.k)
		got := sumQuantiles(x, y, qLo, qMid, qHi)

		src := rand.NewPCG(uint64(tt.n), uint64(tt.m))
		fd := distuv.F{D1: 2 * float64(tt.m), D2: 2 * float64(tt.n), Src: src}
		gd := distuv.Gamma{Alpha: float64(tt.k), Beta: 1.0 / 600, Src: src}
		const draws = 200000
		sums := make([]float64, draws)
		for i := range sums {
			sums[i] = f.perBlock*float64(tt.m)*fd.Rand() + gd.Rand()
		}
		sort.Float64s(sums)
		for i, p := range []float64{qLo, qMid, qHi} {
			below := float64(sort.SearchFloat64s(sums, got[i])) / draws
			if math.Abs(below-p) > 0.004 {
				t.Errorf("%+v: quantile %.3f = %v has empirical level %.4f",
					tt, p, got[i], below)
			}
		}
	}
}

func TestSolve(t *testing.T) {
	// A step-free but very flat CDF and a nearly discontinuous one.
	tests := []struct {
		name string
		cdf  func(float64) float64
		p    float64
		want float64
	}{
		{"linear", func(s float64) float64 { return s / 1e8 }, 0.025, 2.5e6},
		{"steep", func(s float64) float64 { return 1 / (1 + math.Exp(-(s-5e7)/0.01)) }, 0.5, 5e7},
		{"exponential", func(s float64) float64 { return 1 - math.Exp(-s/600) }, 0.975, -600 * math.Log(0.025)},
	}
	for _, tt := range tests {
		got := solve(tt.cdf, tt.p, 0, 1e8, 0.5)
		if math.Abs(got-tt.want) > 0.5 {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestPoissonInterval(t *testing.T) {
	// Garwood's interval from published tables (e.g. Ulm 1990).
	tests := []struct {
		n      int
		lo, hi float64
	}{
		{0, 0, 3.6889},
		{1, 0.0253, 5.5716},
		{10, 4.7954, 18.3904},
	}
	for _, tt := range tests {
		lo, hi := poissonInterval(tt.n)
		if math.Abs(lo-tt.lo) > 1e-4 || math.Abs(hi-tt.hi) > 1e-4 {
			t.Errorf("n=%d: [%.4f, %.4f], want [%.4f, %.4f]", tt.n, lo, hi,
				tt.lo, tt.hi)
		}
	}
}
