package analysis

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/btcutil"
)

// ErrBadClaim is returned by the claim parsers (ParseHashrate,
// ParseDifficulty, ParseAmount, ParsePercent) for text that is not a figure
// in one of the accepted forms; the message names the text and lists them.
var ErrBadClaim = errors.New("malformed claim")

// The accepted forms of each kind of claim, as the parsers' errors list them.
const (
	HashrateForms = "a decimal number and a unit H/s, kH/s, MH/s, GH/s, " +
		"TH/s, PH/s, EH/s or ZH/s, e.g. 1.1ZH/s, 650 EH/s or 7.16 MH/s"
	DifficultyForms = "a decimal number alone or with a suffix k, M, G, T, " +
		"P, E or Z, e.g. 155.97T, 155.97 T or 1.00"
	AmountForms = "a decimal number of BTC (at most 8 decimals) or a whole " +
		"number of sat, e.g. 5000BTC, 0.5 BTC, 12345 sat or 12345 sats"
	PercentForms = "a decimal number with an optional sign and %, e.g. " +
		"-11%, +4.3% or -11.0 %"
)

// maxClaimLen bounds the text of a claim; no honest figure is longer.
const maxClaimLen = 64

// Figure is a published figure: its value and its precision, one unit in
// the last digit stated. A published figure is rounded, so "155.97T" stands
// for every value that rounds to it, 155.965T to 155.975T: Value ± Step/2.
//
// Digits are taken literally: "5000 BTC" states whole bitcoins (±0.5 BTC)
// and "5000.0 BTC" tenths. Trailing zeros of a whole number are not read as
// rounding ("5000" is not "about 5 thousand"); pass a tolerance for that.
type Figure struct {
	Text  string  `json:"text"`  // the claim as given, trimmed
	Value float64 `json:"value"` // in base units: H/s, difficulty, percent
	Step  float64 `json:"step"`  // one unit in the last stated digit, base units
}

// Bounds returns the values the figure stands for: Value ± Step/2, widened
// on each side by tol (a fraction: 0.02 for 2%) of |Value|.
func (f Figure) Bounds(tol float64) (lo, hi float64) {
	w := f.Step/2 + tol*math.Abs(f.Value)
	return f.Value - w, f.Value + w
}

// AmountFigure is a published amount of bitcoin, exact in satoshis, with
// the precision it was stated at: "0.5 BTC" is 50,000,000 sat with a Step of
// 10,000,000 sat (±0.05 BTC).
type AmountFigure struct {
	Text  string         `json:"text"`
	Value btcutil.Amount `json:"value_sat"`
	Step  btcutil.Amount `json:"step_sat"`
}

// Bounds returns the amounts the figure stands for, Value ± Step/2 widened
// by tol (a fraction) of Value, as float satoshis: half a satoshi is a bound
// too.
func (a AmountFigure) Bounds(tol float64) (lo, hi float64) {
	v := float64(a.Value)
	w := float64(a.Step)/2 + tol*v
	return v - w, v + w
}

// number is the leading decimal number of a claim.
type number struct {
	neg      bool
	intPart  string // digits before the point, at least one
	fracPart string // digits after the point; empty without a point
	rest     string // what follows, leading spaces removed
}

// siExp maps the SI prefixes minerscope accepts to powers of ten.
var siExp = map[string]int{"": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15,
	"E": 18, "Z": 21}

// badClaim builds the error for text of a kind, saying why and listing the
// accepted forms.
func badClaim(kind, text, why, forms string) error {
	return fmt.Errorf("%w: %s %q: %s; write %s", ErrBadClaim, kind, text,
		why, forms)
}

// scanNumber splits s into its leading decimal number and the rest. signed
// allows a leading + or -. Only plain decimals are accepted: digits, an
// optional point followed by digits; no exponent, no thousands separator.
func scanNumber(s string, signed bool) (number, string) {
	var n number
	i := 0
	if signed && i < len(s) && (s[i] == '+' || s[i] == '-') {
		n.neg = s[i] == '-'
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	n.intPart = s[start:i]
	if n.intPart == "" {
		return n, "it does not start with a number"
	}
	if i < len(s) && s[i] == '.' {
		i++
		fstart := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		n.fracPart = s[fstart:i]
		if n.fracPart == "" {
			return n, "a decimal point must be followed by digits"
		}
	}
	if i < len(s) {
		switch s[i] {
		case 'e', 'E':
			// "1e3" but not "1EH/s": an exponent follows directly.
			if i+1 < len(s) && (isDigit(s[i+1]) || s[i+1] == '-' || s[i+1] == '+') {
				return n, "exponents are not accepted"
			}
		case ',', '_', '.':
			return n, "write the number without separators"
		}
	}
	n.rest = strings.TrimLeft(s[i:], " ")
	return n, ""
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// float returns the number times 10^exp, correctly rounded, and one unit in
// its last digit.
func (n number) float(exp int) (value, step float64) {
	lit := n.intPart + "." + n.fracPart + "0e" + strconv.Itoa(exp)
	value, _ = strconv.ParseFloat(lit, 64) // the literal is well-formed
	if n.neg {
		value = -value
	}
	step = math.Pow10(exp - len(n.fracPart))
	return value, step
}

// trimClaim trims s and checks its length and that it is not empty.
func trimClaim(kind, s, forms string) (string, error) {
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return "", badClaim(kind, s, "it is empty", forms)
	case len(t) > maxClaimLen:
		return "", badClaim(kind, t[:maxClaimLen]+"…",
			fmt.Sprintf("it is longer than %d characters", maxClaimLen), forms)
	}
	return t, nil
}

// ParseHashrate parses a hashrate claim such as "1.1ZH/s" or "650 EH/s":
// a plain decimal number, optional spaces and a unit from H/s to ZH/s with
// an SI prefix (k, M, G, T, P, E, Z; case matters: "m" would be milli).
// The value is in H/s and keeps the stated precision (see Figure).
// Malformed text gives ErrBadClaim with the accepted forms.
func ParseHashrate(s string) (Figure, error) {
	const kind = "hashrate"
	t, err := trimClaim(kind, s, HashrateForms)
	if err != nil {
		return Figure{}, err
	}
	n, why := scanNumber(t, false)
	if why != "" {
		return Figure{}, badClaim(kind, t, why, HashrateForms)
	}
	prefix, ok := strings.CutSuffix(n.rest, "H/s")
	exp, known := siExp[prefix]
	if !ok || !known {
		why := fmt.Sprintf("unknown unit %q", n.rest)
		if n.rest == "" {
			why = "the unit is missing"
		}
		return Figure{}, badClaim(kind, t, why, HashrateForms)
	}
	return newFigure(kind, t, n, exp, HashrateForms)
}

// ParseDifficulty parses a difficulty claim such as "155.97T", "155.97 T"
// (as FormatDifficulty prints it) or a plain number "1.00": a plain decimal
// with an optional SI suffix k, M, G, T, P, E or Z. The value keeps the
// stated precision (see Figure).
func ParseDifficulty(s string) (Figure, error) {
	const kind = "difficulty"
	t, err := trimClaim(kind, s, DifficultyForms)
	if err != nil {
		return Figure{}, err
	}
	n, why := scanNumber(t, false)
	if why != "" {
		return Figure{}, badClaim(kind, t, why, DifficultyForms)
	}
	exp, ok := siExp[n.rest]
	if !ok {
		return Figure{}, badClaim(kind, t,
			fmt.Sprintf("unknown suffix %q", n.rest), DifficultyForms)
	}
	return newFigure(kind, t, n, exp, DifficultyForms)
}

// ParsePercent parses a percentage such as "-11%", "+4.3%" or "-11.0 %":
// an optionally signed plain decimal, optional spaces and "%". The value is
// in percent (-11 for "-11%") and keeps the stated precision.
func ParsePercent(s string) (Figure, error) {
	const kind = "percentage"
	t, err := trimClaim(kind, s, PercentForms)
	if err != nil {
		return Figure{}, err
	}
	n, why := scanNumber(t, true)
	if why != "" {
		return Figure{}, badClaim(kind, t, why, PercentForms)
	}
	if n.rest != "%" {
		why := fmt.Sprintf("%q is not %%", n.rest)
		if n.rest == "" {
			why = "the % sign is missing"
		}
		return Figure{}, badClaim(kind, t, why, PercentForms)
	}
	return newFigure(kind, t, n, 0, PercentForms)
}

// newFigure converts a scanned number scaled by 10^exp.
func newFigure(kind, t string, n number, exp int, forms string) (Figure, error) {
	v, step := n.float(exp)
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return Figure{}, badClaim(kind, t, "the number is out of range", forms)
	}
	return Figure{Text: t, Value: v, Step: step}, nil
}

// ParseAmount parses an amount of bitcoin: "5000BTC", "5000 BTC", "0.5 BTC"
// (at most 8 decimals, the satoshi), or "12345 sat" / "12345 sats" (whole
// satoshis). Amounts are exact: no floating point is involved. Negative
// amounts, amounts above the 21 million BTC supply limit (MaxSatoshi),
// exponents ("1e3BTC": a published amount is written out) and thousands
// separators are refused with ErrBadClaim.
func ParseAmount(s string) (AmountFigure, error) {
	const kind = "amount"
	t, err := trimClaim(kind, s, AmountForms)
	if err != nil {
		return AmountFigure{}, err
	}
	n, why := scanNumber(t, false)
	if why != "" {
		return AmountFigure{}, badClaim(kind, t, why, AmountForms)
	}
	var decimals int
	switch n.rest {
	case "BTC":
		decimals = 8
		if len(n.fracPart) > 8 {
			return AmountFigure{}, badClaim(kind, t,
				"BTC has at most 8 decimals (1 sat = 0.00000001 BTC)", AmountForms)
		}
	case "sat", "sats":
		if n.fracPart != "" {
			return AmountFigure{}, badClaim(kind, t,
				"sat are whole numbers", AmountForms)
		}
	case "":
		return AmountFigure{}, badClaim(kind, t, "the unit is missing", AmountForms)
	default:
		return AmountFigure{}, badClaim(kind, t,
			fmt.Sprintf("unknown unit %q", n.rest), AmountForms)
	}
	sat, ok := satoshis(n.intPart, n.fracPart, decimals)
	if !ok {
		return AmountFigure{}, badClaim(kind, t,
			"it exceeds the 21 million BTC supply limit", AmountForms)
	}
	step := int64(1)
	for range decimals - len(n.fracPart) {
		step *= 10
	}
	return AmountFigure{Text: t, Value: btcutil.Amount(sat), Step: btcutil.Amount(step)}, nil
}

// satoshis converts intPart.fracPart of a unit worth 10^decimals sat, false
// beyond MaxSatoshi. len(fracPart) <= decimals.
func satoshis(intPart, fracPart string, decimals int) (int64, bool) {
	digits := strings.TrimLeft(intPart+fracPart+strings.Repeat("0", decimals-len(fracPart)), "0")
	if len(digits) > 16 { // MaxSatoshi has 16 digits
		return 0, false
	}
	if digits == "" {
		return 0, true
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || v > btcutil.MaxSatoshi {
		return 0, false
	}
	return v, true
}
