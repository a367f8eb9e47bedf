package analysis

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

var (
	// ErrBadEfficiency is returned by ParseEfficiency for text that is not
	// a fleet efficiency in one of EfficiencyForms; the message names the
	// text and lists the forms.
	ErrBadEfficiency = errors.New("malformed efficiency")

	// ErrBadPowerPrice is returned by ParsePowerPrice for text that is not
	// a power price in one of PowerPriceForms.
	ErrBadPowerPrice = errors.New("malformed power price")

	// ErrBadBTCPrice is returned by ParseBTCPrice for text that is not a
	// bitcoin price in one of BTCPriceForms.
	ErrBadBTCPrice = errors.New("malformed bitcoin price")
)

// The accepted forms of the energy inputs, as the parsers' errors list them.
const (
	EfficiencyForms = "a decimal number of joules per hash with a unit " +
		"J/H, J/kH, J/MH, J/GH, J/TH or J/PH (e.g. 20J/TH, 20 J/TH, " +
		"0.02J/GH), or a mix of shares of the hashrate summing to 100% " +
		"(e.g. 60%:18J/TH,40%:30J/TH)"
	PowerPriceForms = "a decimal number of US dollars per kWh, optionally " +
		"with a leading $ and a trailing /kWh (e.g. 0.05, $0.05, " +
		"0.05/kWh, $0.05/kWh)"
	BTCPriceForms = "a decimal number of US dollars with at most 8 " +
		"decimals, optionally with a leading $ (e.g. 65000, $65000.50)"
)

// Limits of the inputs: no real fleet or tariff comes near them; they keep
// every product finite.
const (
	minEfficiencyJPerTH = 1e-6 // J/TH: ten million times better than 2025's ASICs
	maxEfficiencyJPerTH = 1e12 // J/TH: ten thousand times a 2009 CPU
	minSharePct         = 1e-3 // percent of a mix
	maxPowerPrice       = 1000 // dollars per kWh
	maxEnergyInputLen   = 1024
	maxMixParts         = 16
)

// efficiencyExp maps the accepted hash units, lower-cased, to the power of
// ten that turns "J per that unit" into J/TH.
var efficiencyExp = map[string]int{"j/h": 12, "j/kh": 9, "j/mh": 6,
	"j/gh": 3, "j/th": 0, "j/ph": -3}

// Efficiency is the energy a mining fleet spends per hash. A fleet of one
// kind of machine has one part with a 100% share; a mix has several, each
// with its share of the fleet's hashrate.
type Efficiency struct {
	Parts []EfficiencyPart
}

// EfficiencyPart is one kind of machine in a fleet: its share of the
// fleet's hashrate, in percent, and its efficiency in joules per terahash
// (equivalently watts per TH/s).
type EfficiencyPart struct {
	SharePct    float64
	JoulesPerTH float64
}

// IsZero reports whether no efficiency was given.
func (e Efficiency) IsZero() bool { return len(e.Parts) == 0 }

// JoulesPerTH is the fleet's mean efficiency, weighted by hashrate: a fleet
// doing r TH/s draws r × JoulesPerTH watts.
func (e Efficiency) JoulesPerTH() float64 {
	var sum float64
	for _, p := range e.Parts {
		sum += p.SharePct / 100 * p.JoulesPerTH
	}
	return sum
}

// JoulesPerHash is JoulesPerTH in joules per hash.
func (e Efficiency) JoulesPerHash() float64 { return e.JoulesPerTH() / 1e12 }

// String writes the efficiency in the form ParseEfficiency reads back to
// the same value: "20 J/TH" or "60%:18 J/TH,40%:30 J/TH".
func (e Efficiency) String() string {
	if len(e.Parts) == 1 && e.Parts[0].SharePct == 100 {
		return plainFloat(e.Parts[0].JoulesPerTH) + " J/TH"
	}
	parts := make([]string, len(e.Parts))
	for i, p := range e.Parts {
		parts[i] = plainFloat(p.SharePct) + "%:" +
			plainFloat(p.JoulesPerTH) + " J/TH"
	}
	return strings.Join(parts, ",")
}

// plainFloat is the shortest decimal that reads back as f, never with an
// exponent.
func plainFloat(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// ParseEfficiency reads a fleet efficiency in one of EfficiencyForms. The
// number is a plain decimal (no sign, exponent or separators) worth 1e-6 to
// 1e12 J/TH; units are case-insensitive and may follow spaces. In a mix each
// part is SHARE%:EFFICIENCY, parts are separated by commas (spaces around
// them allowed), shares are 0.001% to 100% and sum to 100% (within 1e-9).
func ParseEfficiency(s string) (Efficiency, error) {
	text := strings.TrimSpace(s)
	if len(text) > maxEnergyInputLen {
		return Efficiency{}, badEfficiency(text[:32]+"…", "it is too long")
	}
	if !strings.Contains(text, "%") {
		v, why := parseJPerTH(text)
		if why != "" {
			return Efficiency{}, badEfficiency(text, why)
		}
		return Efficiency{Parts: []EfficiencyPart{{SharePct: 100, JoulesPerTH: v}}}, nil
	}

	items := strings.Split(text, ",")
	if len(items) > maxMixParts {
		return Efficiency{}, badEfficiency(text, fmt.Sprintf(
			"a mix has at most %d parts", maxMixParts))
	}
	var e Efficiency
	var total float64
	for _, item := range items {
		part, why := parseMixPart(strings.TrimSpace(item))
		if why != "" {
			return Efficiency{}, badEfficiency(text, why)
		}
		e.Parts = append(e.Parts, part)
		total += part.SharePct
	}
	if math.Abs(total-100) > 1e-9 {
		return Efficiency{}, badEfficiency(text, fmt.Sprintf(
			"the shares sum to %s%%, not 100%%", plainFloat(total)))
	}
	return e, nil
}

// parseMixPart reads SHARE%:EFFICIENCY.
func parseMixPart(item string) (EfficiencyPart, string) {
	share, eff, ok := strings.Cut(item, ":")
	if !ok {
		return EfficiencyPart{}, fmt.Sprintf(
			"part %q is not SHARE%%:EFFICIENCY", item)
	}
	share = strings.TrimSpace(share)
	num, pct := strings.CutSuffix(share, "%")
	if !pct {
		return EfficiencyPart{}, fmt.Sprintf(
			"share %q must end with %%", share)
	}
	v, ok := plainDecimal(strings.TrimSpace(num), 0)
	if !ok || v < minSharePct || v > 100 {
		return EfficiencyPart{}, fmt.Sprintf(
			"share %q is not a percentage from %s to 100", share,
			plainFloat(minSharePct))
	}
	j, why := parseJPerTH(strings.TrimSpace(eff))
	if why != "" {
		return EfficiencyPart{}, why
	}
	return EfficiencyPart{SharePct: v, JoulesPerTH: j}, ""
}

// parseJPerTH reads NUMBER[ ]UNIT as J/TH, or says why it cannot. The
// unit starts at the first J.
func parseJPerTH(s string) (float64, string) {
	i := strings.IndexAny(s, "Jj")
	if i < 0 {
		return 0, fmt.Sprintf("%q has no unit", s)
	}
	exp, ok := efficiencyExp[strings.ToLower(s[i:])]
	if !ok {
		return 0, fmt.Sprintf("unknown unit in %q", s)
	}
	v, ok := plainDecimal(strings.TrimRight(s[:i], " "), exp)
	switch {
	case !ok:
		return 0, fmt.Sprintf("%q does not start with a plain decimal number", s)
	case v < minEfficiencyJPerTH:
		return 0, fmt.Sprintf("%q is not at least %s J/TH", s,
			plainFloat(minEfficiencyJPerTH))
	case v > maxEfficiencyJPerTH:
		return 0, fmt.Sprintf("%q is above %s J/TH", s,
			plainFloat(maxEfficiencyJPerTH))
	}
	return v, ""
}

// plainDecimal reads digits with an optional point and fraction ("20",
// "0.02", not ".5", "5.", "1e3" or "+1") times 10^exp, correctly rounded.
func plainDecimal(s string, exp int) (float64, bool) {
	whole, frac, dot := strings.Cut(s, ".")
	if !isDigits(whole) || dot && !isDigits(frac) {
		return 0, false
	}
	v, err := strconv.ParseFloat(s+"e"+strconv.Itoa(exp), 64)
	return v, err == nil && !math.IsInf(v, 0)
}

// badEfficiency builds ParseEfficiency's error.
func badEfficiency(text, why string) error {
	return fmt.Errorf("%w %q: %s; write %s", ErrBadEfficiency, text, why,
		EfficiencyForms)
}

// ParsePowerPrice reads a power price in one of PowerPriceForms and returns
// it in US dollars per kWh: above 0 and at most 1000.
func ParsePowerPrice(s string) (float64, error) {
	text := strings.TrimSpace(s)
	if len(text) > maxEnergyInputLen {
		text = text[:32] + "…"
	}
	num := strings.TrimPrefix(text, "$")
	for _, suffix := range []string{"USD/kWh", "$/kWh", "/kWh"} {
		if n, ok := strings.CutSuffix(num, suffix); ok {
			num = strings.TrimRight(n, " ")
			break
		}
	}
	v, ok := plainDecimal(num, 0)
	switch {
	case !ok:
		return 0, badPowerPrice(text, "it is not a plain decimal number")
	case v <= 0:
		return 0, badPowerPrice(text, "it is not above 0")
	case v > maxPowerPrice:
		return 0, badPowerPrice(text, fmt.Sprintf("it is above $%d/kWh",
			maxPowerPrice))
	}
	return v, nil
}

// badPowerPrice builds ParsePowerPrice's error.
func badPowerPrice(text, why string) error {
	return fmt.Errorf("%w %q: %s; write %s", ErrBadPowerPrice, text, why,
		PowerPriceForms)
}

// ParseBTCPrice reads the price of one bitcoin in one of BTCPriceForms and
// returns it in US cents, rounded half up, above 0.
func ParseBTCPrice(s string) (int64, error) {
	text := strings.TrimSpace(s)
	if len(text) > maxEnergyInputLen {
		text = text[:32] + "…"
	}
	cents, err := parsePrice(strings.TrimPrefix(text, "$"))
	if err == nil && cents <= 0 {
		err = errors.New("it is not above 0")
	}
	if err != nil {
		return 0, fmt.Errorf("%w %q: %w; write %s", ErrBadBTCPrice, text,
			err, BTCPriceForms)
	}
	return cents, nil
}
