package analysis

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// The intervals are two-sided 95%: 2.5% in each tail.
const (
	qLo  = 0.025
	qMid = 0.5
	qHi  = 0.975
)

// rateInterval returns the exact 95% interval for a constant hashrate r given
// n block intervals with sumAlpha = Σ (t_i - t_{i-1}) / w_i: 2·r·sumAlpha is
// χ²(2n), so r lies in [χ²_0.025(2n), χ²_0.975(2n)] / (2·sumAlpha).
func rateInterval(n int, sumAlpha float64) (lo, hi float64, ok bool) {
	if n <= 0 || !(sumAlpha > 0) || math.IsInf(sumAlpha, 0) {
		return 0, 0, false
	}
	chi := distuv.ChiSquared{K: float64(2 * n)}
	return chi.Quantile(qLo) / (2 * sumAlpha),
		chi.Quantile(qHi) / (2 * sumAlpha), true
}

// poissonInterval is Garwood's exact 95% interval for the mean of a Poisson
// count n: [χ²_0.025(2n)/2, χ²_0.975(2n+2)/2], with 0 as the lower bound
// for n = 0.
func poissonInterval(n int) (lo, hi float64) {
	if n > 0 {
		lo = distuv.ChiSquared{K: float64(2 * n)}.Quantile(qLo) / 2
	}
	hi = distuv.ChiSquared{K: float64(2*n + 2)}.Quantile(qHi) / 2
	return lo, hi
}

// dist is the part of a gonum distribution the convolution needs.
type dist interface {
	CDF(x float64) float64
	Quantile(p float64) float64
}

// scaled is d multiplied by a positive constant k.
type scaled struct {
	d dist
	k float64
}

// CDF implements dist.
func (s scaled) CDF(x float64) float64 { return s.d.CDF(x / s.k) }

// Quantile implements dist.
func (s scaled) Quantile(p float64) float64 { return s.k * s.d.Quantile(p) }

// sumGrid is the number of quantile points used to discretise one summand.
const sumGrid = 512

// sumQuantiles returns the quantiles ps of X+Y for independent non-negative
// X and Y. It is deterministic: the summand with the narrower 95% range is
// replaced by sumGrid equally likely points at its mid-quantiles, the other
// keeps its exact CDF, and each quantile is solved for to within a second
// (the values are times in seconds).
func sumQuantiles(x, y dist, ps ...float64) []float64 {
	if width(x) > width(y) {
		x, y = y, x
	}
	points := make([]float64, sumGrid)
	for i := range points {
		points[i] = x.Quantile((float64(i) + 0.5) / sumGrid)
	}
	cdf := func(s float64) float64 {
		total := 0.0
		for _, p := range points {
			if s > p {
				total += y.CDF(s - p)
			}
		}
		return total / sumGrid
	}

	out := make([]float64, len(ps))
	for i, p := range ps {
		// X, Y >= 0 puts the quantile at or above both summands'; and
		// P(X+Y <= a+b) >= P(X <= a)·P(Y <= b) bounds it above.
		lo := max(x.Quantile(p), y.Quantile(p))
		hi := x.Quantile(math.Sqrt(p)) + y.Quantile(math.Sqrt(p))
		out[i] = solve(cdf, p, lo, hi, 0.5)
	}
	return out
}

// width is the length of d's central 95% range.
func width(d dist) float64 {
	return d.Quantile(qHi) - d.Quantile(qLo)
}

// solve finds s in [lo, hi] with cdf(s) = p to within about tol, for a
// non-decreasing cdf with cdf(lo) <= p <= cdf(hi). It uses the Illinois
// variant of false position and stops when the bracket is narrower than tol
// or the secant puts the root within tol/4 of the last point; after 40
// steps it falls back to bisection, so it ends on any cdf.
func solve(cdf func(float64) float64, p, lo, hi, tol float64) float64 {
	flo, fhi := cdf(lo)-p, cdf(hi)-p
	if flo >= 0 {
		return lo
	}
	if fhi <= 0 {
		return hi
	}

	side := 0
	for step := 0; hi-lo > tol; step++ {
		s := lo + (hi-lo)/2
		if step < 40 {
			s = lo - flo*(hi-lo)/(fhi-flo)
		}
		if !(s > lo && s < hi) {
			s = lo + (hi-lo)/2
		}

		fs := cdf(s) - p
		slope := (fhi - flo) / (hi - lo)
		if math.Abs(fs) <= slope*tol/4 {
			return s
		}
		if fs < 0 {
			lo, flo = s, fs
			if side == -1 {
				fhi /= 2
			}
			side = -1
		} else {
			hi, fhi = s, fs
			if side == 1 {
				flo /= 2
			}
			side = 1
		}
	}
	return lo + (hi-lo)/2
}

// quantilesOf returns d's quantiles at ps.
func quantilesOf(d dist, ps ...float64) []float64 {
	out := make([]float64, len(ps))
	for i, p := range ps {
		out[i] = d.Quantile(p)
	}
	return out
}

// binomialInterval is the Clopper–Pearson exact 95% interval for the
// probability of success given k successes in n trials:
// [Beta_0.025(k, n−k+1), Beta_0.975(k+1, n−k)], with 0 as the lower bound
// for k = 0 and 1 as the upper for k = n.
func binomialInterval(k, n int) (lo, hi float64) {
	lo, hi = 0, 1
	if k > 0 {
		lo = distuv.Beta{Alpha: float64(k), Beta: float64(n - k + 1)}.Quantile(qLo)
	}
	if k < n {
		hi = distuv.Beta{Alpha: float64(k + 1), Beta: float64(n - k)}.Quantile(qHi)
	}
	return lo, hi
}
