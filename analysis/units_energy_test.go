package analysis

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// TestParseEfficiency checks accepted forms, values converted by hand.
func TestParseEfficiency(t *testing.T) {
	one := func(j float64) []EfficiencyPart {
		return []EfficiencyPart{{SharePct: 100, JoulesPerTH: j}}
	}
	for _, tc := range []struct {
		in      string
		parts   []EfficiencyPart
		meanJTH float64
		canon   string
	}{
		{"20J/TH", one(20), 20, "20 J/TH"},
		{"20 J/TH", one(20), 20, "20 J/TH"},
		{" 17.5 j/th ", one(17.5), 17.5, "17.5 J/TH"},
		{"0.02J/GH", one(20), 20, "20 J/TH"},
		{"20000J/PH", one(20), 20, "20 J/TH"},
		{"0.00002J/MH", one(20), 20, "20 J/TH"},
		{"0.00000000002J/H", one(20), 20, "20 J/TH"},
		{"0.00000002J/kH", one(20), 20, "20 J/TH"},
		{"100%:25J/TH", one(25), 25, "25 J/TH"},
		{"60%:18J/TH,40%:30J/TH",
			[]EfficiencyPart{{60, 18}, {40, 30}}, 0.6*18 + 0.4*30,
			"60%:18 J/TH,40%:30 J/TH"},
		{"60% : 18 J/TH, 40%:0.03J/GH",
			[]EfficiencyPart{{60, 18}, {40, 30}}, 22.8,
			"60%:18 J/TH,40%:30 J/TH"},
		{"33.3%:10J/TH,33.3%:20J/TH,33.4%:30J/TH",
			[]EfficiencyPart{{33.3, 10}, {33.3, 20}, {33.4, 30}},
			3.33 + 6.66 + 10.02, "33.3%:10 J/TH,33.3%:20 J/TH,33.4%:30 J/TH"},
	} {
		e, err := ParseEfficiency(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if len(e.Parts) != len(tc.parts) {
			t.Errorf("%q: parts %v, want %v", tc.in, e.Parts, tc.parts)
			continue
		}
		for i := range e.Parts {
			if !sigNearly(e.Parts[i].SharePct, tc.parts[i].SharePct, 1e-15) ||
				!sigNearly(e.Parts[i].JoulesPerTH, tc.parts[i].JoulesPerTH, 1e-15) {
				t.Errorf("%q: parts %v, want %v", tc.in, e.Parts, tc.parts)
			}
		}
		if !sigNearly(e.JoulesPerTH(), tc.meanJTH, 1e-14) ||
			!sigNearly(e.JoulesPerHash(), tc.meanJTH*1e-12, 1e-14) {
			t.Errorf("%q: mean %v J/TH, want %v", tc.in, e.JoulesPerTH(),
				tc.meanJTH)
		}
		if e.String() != tc.canon {
			t.Errorf("%q: String() = %q, want %q", tc.in, e.String(), tc.canon)
		}
	}
}

// TestParseEfficiencyErrors checks that each bad form is refused with an
// error that says why and lists the accepted forms.
func TestParseEfficiencyErrors(t *testing.T) {
	for _, tc := range []struct{ in, why string }{
		{"", "no unit"},
		{"20", "no unit"},
		{"J/TH", "plain decimal"},
		{"20 W", "no unit"},
		{"20 J/TH/s", "unknown unit"},
		{"20 TH/J", "unknown unit"},
		{"-20J/TH", "plain decimal"},
		{"+20J/TH", "plain decimal"},
		{"2e1J/TH", "plain decimal"},
		{"1,000J/TH", "plain decimal"},
		{".5J/TH", "plain decimal"},
		{"5.J/TH", "plain decimal"},
		{"0J/TH", "not at least"},
		{"0.0000001J/TH", "not at least"},
		{"2000000000000J/TH", "above"},
		{"60%:18J/TH", "sum to 60%"},
		{"60%:18J/TH,50%:30J/TH", "sum to 110%"},
		{"60:18J/TH,40%:30J/TH", "must end with %"},
		{"60%18J/TH", "SHARE%:EFFICIENCY"},
		{"0%:18J/TH,100%:30J/TH", "percentage from 0.001"},
		{"101%:18J/TH", "percentage from 0.001"},
		{"60%:18J/TH,,40%:30J/TH", "SHARE%:EFFICIENCY"},
		{"60%:18J/TH;40%:30J/TH", "unknown unit"},
		{"60%:x,40%:30J/TH", "no unit"},
		{strings.Repeat("5%:1J/TH,", 20) + "0%:1J/TH", "at most 16 parts"},
		{strings.Repeat("9", 1100) + "J/TH", "too long"},
	} {
		_, err := ParseEfficiency(tc.in)
		if !errors.Is(err, ErrBadEfficiency) {
			t.Errorf("%q: error %v, want ErrBadEfficiency", tc.in, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.why) || !strings.Contains(msg, EfficiencyForms) {
			t.Errorf("%q: error %q does not say %q and list the forms", tc.in,
				msg, tc.why)
		}
	}
}

// TestParsePowerPrice checks the accepted and refused forms.
func TestParsePowerPrice(t *testing.T) {
	for in, want := range map[string]float64{
		"0.05": 0.05, "$0.05": 0.05, " 0.05/kWh": 0.05, "$0.05/kWh": 0.05,
		"0.05 $/kWh": 0.05, "0.05 USD/kWh": 0.05, "1": 1, "1000": 1000,
		"0.0001": 0.0001,
	} {
		got, err := ParsePowerPrice(in)
		if err != nil || got != want {
			t.Errorf("%q: got %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "$", "0", "0.00", "-0.05", "+0.05",
		"5e-2", "0.05/MWh", "0,05", "$$0.05", "0.05$", "1000.01", "USD 0.05",
		"5c", ".05", "0.05 /kWh/kWh", "NaN", "Inf"} {
		_, err := ParsePowerPrice(in)
		if !errors.Is(err, ErrBadPowerPrice) ||
			!strings.Contains(err.Error(), PowerPriceForms) {
			t.Errorf("%q: error %v, want ErrBadPowerPrice listing the forms",
				in, err)
		}
	}
}

// TestParseBTCPrice checks the accepted and refused forms, in cents.
func TestParseBTCPrice(t *testing.T) {
	for in, want := range map[string]int64{
		"65000": 6_500_000, "$65000.50": 6_500_050, " 0.01 ": 1,
		"0.005": 1, "0.00499999": 0, "100000.123": 10_000_012,
	} {
		got, err := ParseBTCPrice(in)
		if want == 0 {
			if !errors.Is(err, ErrBadBTCPrice) {
				t.Errorf("%q: got %v, %v; want an error", in, got, err)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("%q: got %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-5", "6.5e4", "65,000", "$",
		"1.123456789", "€65000"} {
		_, err := ParseBTCPrice(in)
		if !errors.Is(err, ErrBadBTCPrice) ||
			!strings.Contains(err.Error(), BTCPriceForms) {
			t.Errorf("%q: error %v, want ErrBadBTCPrice listing the forms", in, err)
		}
	}
}

// FuzzParseEfficiency checks that ParseEfficiency never panics, that what
// it accepts is a positive finite efficiency whose shares sum to 100, and
// that String reads back to the same parts.
func FuzzParseEfficiency(f *testing.F) {
	for _, s := range []string{"20J/TH", "20 J/TH", "0.02J/GH", "60%:18J/TH,40%:30J/TH",
		"100%:1J/PH", "1e3J/TH", "-1J/TH", "50%:1J/H,50%:2J/kH", "%:", ",,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseEfficiency(s)
		if err != nil {
			if !errors.Is(err, ErrBadEfficiency) {
				t.Fatalf("%q: error %v does not wrap ErrBadEfficiency", s, err)
			}
			return
		}
		var total float64
		for _, p := range e.Parts {
			if !(p.SharePct >= minSharePct && p.SharePct <= 100) ||
				!(p.JoulesPerTH >= minEfficiencyJPerTH && p.JoulesPerTH <= maxEfficiencyJPerTH) {
				t.Fatalf("%q: part %+v out of range", s, p)
			}
			total += p.SharePct
		}
		if math.Abs(total-100) > 1e-9 || !(e.JoulesPerTH() > 0) ||
			math.IsInf(e.JoulesPerTH(), 0) {
			t.Fatalf("%q: shares %v, mean %v", s, total, e.JoulesPerTH())
		}
		again, err := ParseEfficiency(e.String())
		if err != nil || len(again.Parts) != len(e.Parts) {
			t.Fatalf("%q: String %q reads back as %v, %v", s, e.String(), again, err)
		}
		for i := range e.Parts {
			if again.Parts[i] != e.Parts[i] {
				t.Fatalf("%q: String %q reads back as %v", s, e.String(), again)
			}
		}
	})
}

// FuzzParsePowerPrice checks that ParsePowerPrice and ParseBTCPrice never
// panic, accept only values in range, and that an accepted power price
// reads back from its plain decimal.
func FuzzParsePowerPrice(f *testing.F) {
	for _, s := range []string{"0.05", "$0.05", "0.05/kWh", "$0.05 USD/kWh",
		"1000", "0", "-1", "5e-2", "65000.12345678", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParsePowerPrice(s)
		if err != nil {
			if !errors.Is(err, ErrBadPowerPrice) {
				t.Fatalf("%q: error %v does not wrap ErrBadPowerPrice", s, err)
			}
		} else {
			if !(v > 0 && v <= maxPowerPrice) {
				t.Fatalf("%q: accepted %v", s, v)
			}
			if again, err := ParsePowerPrice(plainFloat(v)); err != nil || again != v {
				t.Fatalf("%q: %v reads back as %v, %v", s, v, again, err)
			}
		}
		c, err := ParseBTCPrice(s)
		switch {
		case err != nil && !errors.Is(err, ErrBadBTCPrice):
			t.Fatalf("%q: error %v does not wrap ErrBadBTCPrice", s, err)
		case err == nil && c <= 0:
			t.Fatalf("%q: accepted %d cents", s, c)
		}
	})
}
