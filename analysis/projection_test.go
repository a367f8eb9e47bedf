package analysis

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/btcsuite/btcd/blockchain"
	"gonum.org/v1/gonum/stat/distuv"
)

// regularChain returns heights from..to with blocks exactly spacing
// seconds apart at bits, block `from` at time t0.
func regularChain(from, to int32, t0, spacing int64, bits uint32) []Header {
	hs := make([]Header, to-from+1)
	for i := range hs {
		hs[i] = Header{Height: from + int32(i), Time: t0 + int64(i)*spacing,
			Bits: bits}
	}
	return hs
}

// TestProjectionRegular uses a chain with blocks exactly 600 s apart and
// the tip in the middle of the epoch (n = m = 1008), where F(2m, 2n) has
// median 1, so every number has a closed form.
func TestProjectionRegular(t *testing.T) {
	const bits = 0x1b0404cb
	epochStart := int32(2016 * 50)
	hs := regularChain(epochStart-1, epochStart+1007, 1500000000, 600, bits)
	tip := hs[len(hs)-1]

	pr, err := ProjectNextAdjustment(Mainnet, hs, 0)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Now != tip.Time || pr.TipHeight != tip.Height ||
		pr.NextRetargetHeight != epochStart+2016 || pr.BlocksRemaining != 1008 {
		t.Fatalf("got %+v", pr)
	}

	w := toFloat(blockchain.CalcWork(bits))
	if pr.Rate.Intervals != 1008 || !close(pr.Rate.HashesPerSec, w/600, 1e-12) {
		t.Errorf("rate %+v, want w/600 over 1008 intervals", pr.Rate)
	}
	if got, want := pr.Date, tip.Time+1008*600; abs64(got-want) > 1 {
		t.Errorf("Date = %d, want %d", got, want)
	}
	if want := 600 * 1008 * 1008 / 1007.0; !close(pr.ExpectedSeconds, want, 1e-9) {
		t.Errorf("ExpectedSeconds = %v, want %v", pr.ExpectedSeconds, want)
	}
	// The date interval is the F(2016, 2016) interval times 600·1008 s.
	fLo, fHi := fQuantile(2016, 2016, qLo), fQuantile(2016, 2016, qHi)
	if abs64(pr.DateLo-tip.Time-int64(math.Round(604800*fLo))) > 1 ||
		abs64(pr.DateHi-tip.Time-int64(math.Round(604800*fHi))) > 1 {
		t.Errorf("dates [%d, %d], want offsets [%v, %v]", pr.DateLo,
			pr.DateHi, 604800*fLo, 604800*fHi)
	}

	// 2015 intervals of 600 s: the difficulty rises by 1209600/1209000
	// (less the truncation of the compact encoding, < 4e-6 here).
	if pr.CurrentDifficulty != Difficulty(bits) ||
		!close(pr.ProjectedDifficulty, Difficulty(bits)*1209600/1209000, 1e-5) ||
		!close(pr.ChangePct, (1209600.0/1209000-1)*100, 1e-2) {
		t.Errorf("difficulty %v -> %v (%v%%)", pr.CurrentDifficulty,
			pr.ProjectedDifficulty, pr.ChangePct)
	}
	if !(pr.ChangeLoPct < pr.ChangePct && pr.ChangePct < pr.ChangeHiPct) {
		t.Errorf("change interval [%v, %v] around %v", pr.ChangeLoPct,
			pr.ChangeHiPct, pr.ChangePct)
	}

	// Halving at 210000: 210000-(epochStart+2015) blocks at 600 s after
	// the epoch. The sum's median is near the sum of the parts' medians.
	after := int64(210000 - (epochStart + 2015))
	if pr.HalvingHeight != 210000 || pr.HalvingBlocksRemaining != 210000-tip.Height {
		t.Errorf("halving %d in %d blocks", pr.HalvingHeight,
			pr.HalvingBlocksRemaining)
	}
	gammaMedian := distGammaQuantile(float64(after), 600, 0.5)
	if want := float64(pr.Date) + gammaMedian; math.Abs(float64(pr.HalvingDate)-want) > 2000 {
		t.Errorf("HalvingDate = %d, want about %v", pr.HalvingDate, want)
	}
	if !(pr.HalvingDateLo < pr.HalvingDate && pr.HalvingDate < pr.HalvingDateHi) {
		t.Errorf("halving dates %d %d %d", pr.HalvingDateLo, pr.HalvingDate,
			pr.HalvingDateHi)
	}

	// A later reference time shifts every date by the same amount.
	later, err := ProjectNextAdjustment(Mainnet, hs, tip.Time+3600)
	if err != nil {
		t.Fatal(err)
	}
	if later.Now != tip.Time+3600 || later.Date != pr.Date+3600 ||
		later.DateLo != pr.DateLo+3600 || later.ChangePct >= pr.ChangePct {
		t.Errorf("later: %+v", later)
	}
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestProjectionEpochComplete: with the tip at the epoch's last block the
// retarget is already determined. Core's pow_tests case (blocks 30240 and
// 32255) gives 0x1d00d86a, difficulty 1.18289953 (the first rise).
func TestProjectionEpochComplete(t *testing.T) {
	// Heights 30239..32255, evenly spread between the two real
	// timestamps; only those two enter the retarget.
	hs := regularChain(30239, 32255, 0, 0, 0x1d00ffff)
	for i := range hs {
		hs[i].Time = 1261130161 + int64(i-1)*(1262152739-1261130161)/2015
	}
	hs[len(hs)-1].Time = 1262152739

	pr, err := ProjectNextAdjustment(Mainnet, hs, 1262153000)
	if err != nil {
		t.Fatal(err)
	}
	want := Difficulty(0x1d00d86a)
	if pr.BlocksRemaining != 0 || pr.NextRetargetHeight != 32256 ||
		pr.Date != 1262152739 || pr.DateLo != pr.Date || pr.DateHi != pr.Date ||
		pr.ExpectedSeconds != 0 || pr.ProjectedDifficulty != want ||
		pr.ChangeLoPct != pr.ChangePct || pr.ChangeHiPct != pr.ChangePct {
		t.Errorf("got %+v, want difficulty %v", pr, want)
	}
	if math.Abs(pr.ProjectedDifficulty-1.18289953) > 1e-8 {
		t.Errorf("difficulty %v, want 1.18289953", pr.ProjectedDifficulty)
	}
	// The halving is then all target-spacing blocks from now.
	k := float64(210000 - 32255)
	if want := 1262153000 + distGammaQuantile(k, 600, 0.5); math.Abs(float64(pr.HalvingDate)-want) > 1 {
		t.Errorf("HalvingDate = %d, want %v", pr.HalvingDate, want)
	}
}

func TestProjectionRules(t *testing.T) {
	// Regtest: no retargeting; the halving (150) comes at the estimated
	// hashrate, not the target spacing.
	hs := regularChain(0, 100, 1600000000, 1, 0x207fffff)
	pr, err := ProjectNextAdjustment(Regtest, hs, 0)
	if err != nil {
		t.Fatal(err)
	}
	if pr.ChangePct != 0 || pr.ChangeLoPct != 0 || pr.ChangeHiPct != 0 ||
		pr.HalvingHeight != 150 || pr.HalvingBlocksRemaining != 50 {
		t.Errorf("regtest: %+v", pr)
	}
	if d := pr.HalvingDate - hs[100].Time; d < 25 || d > 100 {
		t.Errorf("regtest halving in %d s, want about 50", d)
	}

	// Blocks 4× too fast: the rise is clamped at ×4 even at the early
	// end of the interval.
	fast := regularChain(2015, 3100, 1600000000, 60, 0x1b0404cb)
	pr, err = ProjectNextAdjustment(Mainnet, fast, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !close(pr.ChangeHiPct, 300, 1e-4) || !close(pr.ChangePct, 300, 1e-4) {
		t.Errorf("clamped change %v%% .. %v%%, want 300%%", pr.ChangePct,
			pr.ChangeHiPct)
	}

	// A young epoch borrows intervals from the previous one.
	young := regularChain(4000, 4040, 1600000000, 600, 0x1b0404cb)
	if _, err := ProjectNextAdjustment(Mainnet, young, 0); !errors.Is(err, ErrNeedHeaders) {
		t.Errorf("young epoch without 144 blocks: err = %v", err)
	}
	young = regularChain(3800, 4040, 1600000000, 600, 0x1b0404cb)
	pr, err = ProjectNextAdjustment(Mainnet, young, 0)
	if err != nil || pr.Rate.Intervals != 144 || pr.Rate.FromHeight != 4040-144 {
		t.Errorf("young epoch: %+v, %v", pr.Rate, err)
	}

	// Missing epoch start.
	if _, err := ProjectNextAdjustment(Mainnet, fast[100:], 0); !errors.Is(err, ErrNeedHeaders) {
		t.Errorf("no epoch start: err = %v", err)
	}

	// No time has passed.
	flat := regularChain(0, 200, 1600000000, 0, 0x207fffff)
	if _, err := ProjectNextAdjustment(Simnet, flat, 0); !errors.Is(err, ErrNoRate) {
		t.Errorf("flat: err = %v", err)
	}
	if _, err := ProjectNextAdjustment(Mainnet, flat[:1], 0); !errors.Is(err, ErrNoRate) {
		t.Errorf("genesis only: err = %v", err)
	}
}

// TestProjectionCoverage simulates epochs at a known constant hashrate and
// checks the 95% interval for the epoch's last block covers the simulated
// time in 95% ± 2.5% of 2000 trials per configuration.
func TestProjectionCoverage(t *testing.T) {
	// The halving is set inside the epoch so every trial stays cheap; the
	// convolution used beyond the epoch has its own tests.
	p := Mainnet
	p.SubsidyHalvingInterval = 4031

	tests := []struct {
		name string
		tip  int32 // the epoch starts at 2016
	}{
		{"young epoch (144 intervals across the retarget)", 2016 + 10},
		{"mid epoch", 2016 + 999},
		{"five blocks left", 2016 + 2010},
	}
	for i, tt := range tests {
		rng := rand.New(rand.NewPCG(20, uint64(i)))
		const trials = 2000
		covered, halvingCovered := 0, 0
		n := max(int(tt.tip%2016)+1, 144)
		hs := make([]Header, n+1)
		for range trials {
			bits := simBits(rng)
			meanSec := 100 + 1000*rng.Float64()
			simChain(rng, hs, tt.tip-int32(n), 1600000000, bits, meanSec)

			pr, err := ProjectNextAdjustment(p, hs, 0)
			if err != nil {
				t.Fatal(err)
			}
			end := float64(hs[n].Time)
			for range pr.BlocksRemaining {
				end += rng.ExpFloat64() * meanSec
			}
			if float64(pr.DateLo) <= end && end <= float64(pr.DateHi) {
				covered++
			}
			halving := float64(hs[n].Time)
			for range pr.HalvingBlocksRemaining {
				halving += rng.ExpFloat64() * meanSec
			}
			if float64(pr.HalvingDateLo) <= halving && halving <= float64(pr.HalvingDateHi) {
				halvingCovered++
			}
		}
		for what, c := range map[string]int{"date": covered, "halving": halvingCovered} {
			rate := float64(c) / trials
			t.Logf("%s: %s coverage %.4f", tt.name, what, rate)
			if math.Abs(rate-0.95) > 0.025 {
				t.Errorf("%s: %s coverage %.4f, want 0.95 ± 0.025",
					tt.name, what, rate)
			}
		}
	}
}

// TestProjectionHalvingCoverage runs the full model beyond the retarget:
// the remaining epoch at the simulated hashrate, then target-spacing blocks
// to the halving. It is costlier per trial, hence fewer trials and a wider
// band.
func TestProjectionHalvingCoverage(t *testing.T) {
	p := Mainnet
	p.SubsidyHalvingInterval = 2016 * 3

	rng := rand.New(rand.NewPCG(30, 31))
	const trials = 600
	covered := 0
	tip := int32(2016 + 1500)
	n := int(tip%2016) + 1
	hs := make([]Header, n+1)
	for range trials {
		bits := simBits(rng)
		meanSec := 300 + 600*rng.Float64()
		simChain(rng, hs, tip-int32(n), 1600000000, bits, meanSec)

		pr, err := ProjectNextAdjustment(p, hs, 0)
		if err != nil {
			t.Fatal(err)
		}
		at := float64(hs[n].Time)
		for range pr.BlocksRemaining {
			at += rng.ExpFloat64() * meanSec
		}
		for range pr.HalvingHeight - pr.NextRetargetHeight + 1 {
			at += rng.ExpFloat64() * float64(p.TargetSpacing)
		}
		if float64(pr.HalvingDateLo) <= at && at <= float64(pr.HalvingDateHi) {
			covered++
		}
	}
	rate := float64(covered) / trials
	t.Logf("halving coverage %.4f", rate)
	if math.Abs(rate-0.95) > 0.03 {
		t.Errorf("halving coverage %.4f, want 0.95 ± 0.03", rate)
	}
}

// fQuantile and distGammaQuantile restate the distributions by their
// textbook parameters.
func fQuantile(d1, d2, p float64) float64 {
	return distuv.F{D1: d1, D2: d2}.Quantile(p)
}

func distGammaQuantile(shape, scale, p float64) float64 {
	return distuv.Gamma{Alpha: shape, Beta: 1 / scale}.Quantile(p)
}
