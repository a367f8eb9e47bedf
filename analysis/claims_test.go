package analysis

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
)

func TestParseHashrate(t *testing.T) {
	for _, c := range []struct {
		in          string
		value, step float64
	}{
		{"1.1ZH/s", 1.1e21, 1e20},
		{"1.1 ZH/s", 1.1e21, 1e20},
		{"  650 EH/s ", 650e18, 1e18},
		{"650.00EH/s", 650e18, 1e16},
		{"7.16 MH/s", 7.16e6, 1e4},
		{"12 H/s", 12, 1},
		{"3 kH/s", 3e3, 1e3},
		{"0.5 GH/s", 0.5e9, 1e8},
		{"2 TH/s", 2e12, 1e12},
		{"2 PH/s", 2e15, 1e15},
		{"0 H/s", 0, 1},
		{"007.50 EH/s", 7.5e18, 1e16},
	} {
		f, err := ParseHashrate(c.in)
		if err != nil {
			t.Errorf("ParseHashrate(%q): %v", c.in, err)
			continue
		}
		if f.Value != c.value || !closeTo(f.Step, c.step, 1e-12) || f.Text != strings.TrimSpace(c.in) {
			t.Errorf("ParseHashrate(%q) = %+v, want value %v step %v", c.in, f, c.value, c.step)
		}
	}
}

func TestParseDifficulty(t *testing.T) {
	for _, c := range []struct {
		in          string
		value, step float64
	}{
		{"155.97T", 155.97e12, 1e10},
		{"155.97 T", 155.97e12, 1e10},
		{"1.00", 1, 0.01},
		{"1", 1, 1},
		{"155970000000000", 155.97e12, 1},
		{"2.5k", 2500, 100},
		{"3 M", 3e6, 1e6},
		{"12.3G", 12.3e9, 1e8},
		{"1.5P", 1.5e15, 1e14},
		{"1E", 1e18, 1e18},
		{"0.001Z", 1e18, 1e18},
	} {
		f, err := ParseDifficulty(c.in)
		if err != nil {
			t.Errorf("ParseDifficulty(%q): %v", c.in, err)
			continue
		}
		if f.Value != c.value || !closeTo(f.Step, c.step, 1e-12) {
			t.Errorf("ParseDifficulty(%q) = %+v, want value %v step %v", c.in, f, c.value, c.step)
		}
	}
}

func TestParseAmount(t *testing.T) {
	for _, c := range []struct {
		in          string
		value, step btcutil.Amount
	}{
		{"5000BTC", 5000e8, 1e8},
		{"5000 BTC", 5000e8, 1e8},
		{"0.5 BTC", 0.5e8, 1e7},
		{"10.00000000 BTC", 10e8, 1},
		{"0.00000001BTC", 1, 1},
		{"12345 sat", 12345, 1},
		{"12345 sats", 12345, 1},
		{"0 sat", 0, 1},
		{"21000000 BTC", btcutil.MaxSatoshi, 1e8},
		{"2100000000000000 sat", btcutil.MaxSatoshi, 1},
		{"0000000000000000000000001 BTC", 1e8, 1e8},
	} {
		a, err := ParseAmount(c.in)
		if err != nil {
			t.Errorf("ParseAmount(%q): %v", c.in, err)
			continue
		}
		if a.Value != c.value || a.Step != c.step {
			t.Errorf("ParseAmount(%q) = %+v, want value %d step %d", c.in, a, c.value, c.step)
		}
	}
}

func TestParsePercent(t *testing.T) {
	for _, c := range []struct {
		in          string
		value, step float64
	}{
		{"-11%", -11, 1},
		{"+4.3%", 4.3, 0.1},
		{"4.3%", 4.3, 0.1},
		{"-11.0 %", -11, 0.1},
		{"0%", 0, 1},
		{"2%", 2, 1},
	} {
		f, err := ParsePercent(c.in)
		if err != nil {
			t.Errorf("ParsePercent(%q): %v", c.in, err)
			continue
		}
		if f.Value != c.value || !closeTo(f.Step, c.step, 1e-12) {
			t.Errorf("ParsePercent(%q) = %+v, want value %v step %v", c.in, f, c.value, c.step)
		}
	}
}

// TestParseClaimsReject tries every malformed form: each is refused with ErrBadClaim, and the message
// names the text, says why and lists the accepted forms.
func TestParseClaimsReject(t *testing.T) {
	long := strings.Repeat("1", 70) + " H/s"
	for _, c := range []struct {
		parse func(string) error
		forms string
		in    string
		why   string
	}{
		{hashrateErr, HashrateForms, "", "empty"},
		{hashrateErr, HashrateForms, "   ", "empty"},
		{hashrateErr, HashrateForms, "1.1", "unit is missing"},
		{hashrateErr, HashrateForms, "ZH/s", "does not start with a number"},
		{hashrateErr, HashrateForms, "1.1ZH", "unknown unit"},
		{hashrateErr, HashrateForms, "1.1 zh/s", "unknown unit"},
		{hashrateErr, HashrateForms, "1.1 mH/s", "unknown unit"},
		{hashrateErr, HashrateForms, "1.1 YH/s", "unknown unit"},
		{hashrateErr, HashrateForms, "1.1 ZH/s/s", "unknown unit"},
		{hashrateErr, HashrateForms, "1.1 Z H/s", "unknown unit"},
		{hashrateErr, HashrateForms, "-1 EH/s", "does not start with a number"},
		{hashrateErr, HashrateForms, "+1 EH/s", "does not start with a number"},
		{hashrateErr, HashrateForms, "1e21 H/s", "exponents"},
		{hashrateErr, HashrateForms, "1E21 H/s", "exponents"},
		{hashrateErr, HashrateForms, "1,100 EH/s", "separators"},
		{hashrateErr, HashrateForms, "1_100 EH/s", "separators"},
		{hashrateErr, HashrateForms, "1.1.1 EH/s", "separators"},
		{hashrateErr, HashrateForms, ".5 EH/s", "does not start with a number"},
		{hashrateErr, HashrateForms, "5. EH/s", "followed by digits"},
		{hashrateErr, HashrateForms, "NaN H/s", "does not start with a number"},
		{hashrateErr, HashrateForms, "Inf H/s", "does not start with a number"},
		{hashrateErr, HashrateForms, "1.1\tZH/s", "unknown unit"},
		{hashrateErr, HashrateForms, long, "longer than"},
		{difficultyErr, DifficultyForms, "155.97X", "unknown suffix"},
		{difficultyErr, DifficultyForms, "155.97 TH/s", "unknown suffix"},
		{difficultyErr, DifficultyForms, "155.97t", "unknown suffix"},
		{difficultyErr, DifficultyForms, "1.5e14", "exponents"},
		{difficultyErr, DifficultyForms, "-1", "does not start with a number"},
		{difficultyErr, DifficultyForms, "T", "does not start with a number"},
		{difficultyErr, DifficultyForms, "", "empty"},
		{amountErr, AmountForms, "5000", "unit is missing"},
		{amountErr, AmountForms, "5000 btc", "unknown unit"},
		{amountErr, AmountForms, "5000 XBT", "unknown unit"},
		{amountErr, AmountForms, "1e3BTC", "exponents"},
		{amountErr, AmountForms, "-5 BTC", "does not start with a number"},
		{amountErr, AmountForms, "0.000000001 BTC", "at most 8 decimals"},
		{amountErr, AmountForms, "1.5 sat", "whole numbers"},
		{amountErr, AmountForms, "21000000.00000001 BTC", "supply limit"},
		{amountErr, AmountForms, "99999999999999999999 BTC", "supply limit"},
		{amountErr, AmountForms, "2100000000000001 sat", "supply limit"},
		{amountErr, AmountForms, "9223372036854775808 sat", "supply limit"},
		{amountErr, AmountForms, "5,000 BTC", "separators"},
		{amountErr, AmountForms, "NaN BTC", "does not start with a number"},
		{amountErr, AmountForms, "", "empty"},
		{percentErr, PercentForms, "-11", "% sign is missing"},
		{percentErr, PercentForms, "-11 percent", "is not %"},
		{percentErr, PercentForms, "--11%", "does not start with a number"},
		{percentErr, PercentForms, "- 11%", "does not start with a number"},
		{percentErr, PercentForms, "-11%%", "is not %"},
		{percentErr, PercentForms, "1e1%", "exponents"},
		{percentErr, PercentForms, "%", "does not start with a number"},
	} {
		err := c.parse(c.in)
		switch {
		case err == nil:
			t.Errorf("%q accepted", c.in)
		case !errors.Is(err, ErrBadClaim):
			t.Errorf("%q: error %v is not ErrBadClaim", c.in, err)
		case !strings.Contains(err.Error(), c.why) || !strings.Contains(err.Error(), c.forms):
			t.Errorf("%q: error %q does not say %q and list the forms", c.in, err, c.why)
		case len(c.in) < 60 && strings.TrimSpace(c.in) != "" && !strings.Contains(err.Error(), strconv.Quote(strings.TrimSpace(c.in))):
			t.Errorf("%q: error %q does not quote the claim", c.in, err)
		}
	}
}

func hashrateErr(s string) error   { _, err := ParseHashrate(s); return err }
func difficultyErr(s string) error { _, err := ParseDifficulty(s); return err }
func amountErr(s string) error     { _, err := ParseAmount(s); return err }
func percentErr(s string) error    { _, err := ParsePercent(s); return err }

// TestParseRoundTrip formats random values the way minerscope and others print them and parses them
// back: the parsed figure stands for the original value (within half a unit of the last digit).
func TestParseRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for range 2000 {
		x := math.Pow(10, rng.Float64()*24) // 1 H/s .. 1 YH/s-ish
		s := FormatHashrate(x)
		f, err := ParseHashrate(s)
		if err != nil {
			t.Fatalf("ParseHashrate(FormatHashrate(%v) = %q): %v", x, s, err)
		}
		if lo, hi := f.Bounds(0); !(lo*(1-1e-12) <= x && x <= hi*(1+1e-12)) {
			t.Fatalf("%q stands for [%v, %v], not %v", s, lo, hi, x)
		}

		d := math.Pow(10, rng.Float64()*23)
		s = FormatDifficulty(d)
		f, err = ParseDifficulty(s)
		if err != nil {
			t.Fatalf("ParseDifficulty(FormatDifficulty(%v) = %q): %v", d, s, err)
		}
		if lo, hi := f.Bounds(0); !(lo*(1-1e-12) <= d && d <= hi*(1+1e-12)) {
			t.Fatalf("%q stands for [%v, %v], not %v", s, lo, hi, d)
		}

		sat := rng.Int64N(btcutil.MaxSatoshi + 1)
		for _, s := range []string{
			fmt.Sprintf("%d.%08d BTC", sat/1e8, sat%1e8),
			fmt.Sprintf("%d sat", sat),
			strings.TrimRight(strings.TrimRight(fmt.Sprintf("%d.%08d", sat/1e8, sat%1e8), "0"), ".") + "BTC",
		} {
			a, err := ParseAmount(s)
			if err != nil || a.Value != btcutil.Amount(sat) {
				t.Fatalf("ParseAmount(%q) = %+v, %v; want %d sat", s, a, err, sat)
			}
		}

		pct := (rng.Float64() - 0.5) * 200
		for dec := range 4 {
			s := strconv.FormatFloat(pct, 'f', dec, 64) + "%"
			if rng.IntN(2) == 0 && pct >= 0 {
				s = "+" + s
			}
			f, err := ParsePercent(s)
			if err != nil {
				t.Fatalf("ParsePercent(%q): %v", s, err)
			}
			if lo, hi := f.Bounds(0); !(lo-1e-9 <= pct && pct <= hi+1e-9) {
				t.Fatalf("%q stands for [%v, %v], not %v", s, lo, hi, pct)
			}
		}
	}
}

// TestFigureBounds checks the rounding rule and the tolerance on figures whose bounds are known.
func TestFigureBounds(t *testing.T) {
	f, _ := ParseDifficulty("155.97T")
	lo, hi := f.Bounds(0)
	if !closeTo(lo, 155.965e12, 1e-15) || !closeTo(hi, 155.975e12, 1e-15) {
		t.Errorf("155.97T stands for [%v, %v]", lo, hi)
	}
	lo, hi = f.Bounds(0.02)
	if !closeTo(lo, 155.965e12-0.02*155.97e12, 1e-15) || !closeTo(hi, 155.975e12+0.02*155.97e12, 1e-15) {
		t.Errorf("155.97T ±2%% stands for [%v, %v]", lo, hi)
	}
	p, _ := ParsePercent("-11%")
	if lo, hi := p.Bounds(0); lo != -11.5 || hi != -10.5 {
		t.Errorf("-11%% stands for [%v, %v]", lo, hi)
	}
	a, _ := ParseAmount("5000BTC")
	if lo, hi := a.Bounds(0); lo != 4999.5e8 || hi != 5000.5e8 {
		t.Errorf("5000BTC stands for [%v, %v]", lo, hi)
	}
}

func closeTo(got, want, tol float64) bool {
	return got == want || math.Abs(got-want) <= tol*math.Max(math.Abs(got), math.Abs(want))
}

// checkFigure holds for every figure a parser accepts: finite, a positive step that is a power of ten,
// the trimmed text kept, and parsing the text again gives the same figure.
func checkFigure(t *testing.T, s string, f Figure, parse func(string) (Figure, error)) {
	t.Helper()
	if math.IsNaN(f.Value) || math.IsInf(f.Value, 0) || !(f.Step > 0) || math.IsInf(f.Step, 0) {
		t.Fatalf("%q: %+v", s, f)
	}
	if e := math.Log10(f.Step); math.Abs(e-math.Round(e)) > 1e-9 {
		t.Fatalf("%q: step %v is not a power of ten", s, f.Step)
	}
	if f.Text != strings.TrimSpace(s) {
		t.Fatalf("%q: text %q", s, f.Text)
	}
	again, err := parse(f.Text)
	if err != nil || again != f {
		t.Fatalf("%q parses to %+v, its text %q to %+v, %v", s, f, f.Text, again, err)
	}
	if lo, hi := f.Bounds(0); !(lo <= f.Value && f.Value <= hi) {
		t.Fatalf("%q: bounds [%v, %v] miss %v", s, lo, hi, f.Value)
	}
}

// checkNumber compares a parsed value with strconv's reading of the leading number, scaled.
func checkNumber(t *testing.T, s string, f Figure, num string, scale float64) {
	t.Helper()
	want, err := strconv.ParseFloat(num, 64)
	if err != nil {
		t.Fatalf("%q accepted, but strconv refuses its number %q: %v", s, num, err)
	}
	if !closeTo(f.Value, want*scale, 1e-14) {
		t.Fatalf("%q: value %v, strconv reads %v × %v", s, f.Value, want, scale)
	}
}

// leadingNumber returns the number at the start of a trimmed claim and the rest after spaces.
func leadingNumber(s string) (string, string) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return !(r >= '0' && r <= '9' || r == '.' || r == '+' || r == '-') })
	if i < 0 {
		i = len(t)
	}
	return t[:i], strings.TrimLeft(t[i:], " ")
}

var testSIScale = map[string]float64{"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18, "Z": 1e21}

// FuzzParseHashrate: ParseHashrate never panics, refuses with ErrBadClaim, and what it accepts is a
// well-formed figure whose value strconv agrees with. Seeds in testdata/fuzz/FuzzParseHashrate.
func FuzzParseHashrate(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		fig, err := ParseHashrate(s)
		if err != nil {
			if !errors.Is(err, ErrBadClaim) || !strings.Contains(err.Error(), HashrateForms) {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		checkFigure(t, s, fig, ParseHashrate)
		num, unit := leadingNumber(s)
		checkNumber(t, s, fig, num, testSIScale[strings.TrimSuffix(unit, "H/s")])
	})
}

// FuzzParseDifficulty: as FuzzParseHashrate, for difficulties. Seeds in
// testdata/fuzz/FuzzParseDifficulty.
func FuzzParseDifficulty(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		fig, err := ParseDifficulty(s)
		if err != nil {
			if !errors.Is(err, ErrBadClaim) || !strings.Contains(err.Error(), DifficultyForms) {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		checkFigure(t, s, fig, ParseDifficulty)
		num, suffix := leadingNumber(s)
		scale, ok := testSIScale[suffix]
		if !ok {
			t.Fatalf("%q accepted with suffix %q", s, suffix)
		}
		checkNumber(t, s, fig, num, scale)
	})
}

// FuzzParsePercent: as FuzzParseHashrate, for signed percentages. Seeds in
// testdata/fuzz/FuzzParsePercent.
func FuzzParsePercent(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		fig, err := ParsePercent(s)
		if err != nil {
			if !errors.Is(err, ErrBadClaim) || !strings.Contains(err.Error(), PercentForms) {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		checkFigure(t, s, fig, ParsePercent)
		num, rest := leadingNumber(s)
		if rest != "%" {
			t.Fatalf("%q accepted with %q after the number", s, rest)
		}
		checkNumber(t, s, fig, num, 1)
	})
}

// FuzzParseAmount: ParseAmount never panics, refuses with ErrBadClaim, and what it accepts is an exact
// amount in [0, MaxSatoshi] that is a whole number of its step (a power of ten up to 1 BTC), agreeing
// with btcutil.NewAmount on the number of BTC where float64 is exact enough. Seeds in
// testdata/fuzz/FuzzParseAmount.
func FuzzParseAmount(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAmount(s)
		if err != nil {
			if !errors.Is(err, ErrBadClaim) || !strings.Contains(err.Error(), AmountForms) {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if a.Value < 0 || a.Value > btcutil.MaxSatoshi || a.Step < 1 || a.Step > 1e8 ||
			a.Value%a.Step != 0 || 1e8%a.Step != 0 {
			t.Fatalf("%q: %+v", s, a)
		}
		again, err := ParseAmount(a.Text)
		if err != nil || again != a || a.Text != strings.TrimSpace(s) {
			t.Fatalf("%q parses to %+v, its text to %+v, %v", s, a, again, err)
		}
		num, unit := leadingNumber(s)
		x, err := strconv.ParseFloat(num, 64)
		if err != nil {
			t.Fatalf("%q accepted, but strconv refuses %q", s, num)
		}
		want := btcutil.Amount(x)
		if unit == "BTC" {
			if want, err = btcutil.NewAmount(x); err != nil {
				t.Fatalf("%q: btcutil.NewAmount(%v): %v", s, x, err)
			}
		}
		// float64 holds every amount up to 2^53 sat exactly, but a decimal BTC figure only to about
		// 15-16 significant digits: allow a satoshi of rounding beyond 10^15 sat.
		if d := a.Value - want; d != 0 && !(a.Value > 1e15 && d >= -1 && d <= 1) {
			t.Fatalf("%q: %d sat, btcutil reads %d", s, a.Value, want)
		}
	})
}

func ExampleParseDifficulty() {
	f, _ := ParseDifficulty("155.97T")
	lo, hi := f.Bounds(0)
	fmt.Printf("%.0f stands for %.0f to %.0f\n", f.Value, lo, hi)
	lo, hi = f.Bounds(0.02)
	fmt.Printf("with a 2%% tolerance: %.6g to %.6g\n", lo, hi)
	// Output:
	// 155970000000000 stands for 155965000000000 to 155975000000000
	// with a 2% tolerance: 1.52846e+14 to 1.59094e+14
}
