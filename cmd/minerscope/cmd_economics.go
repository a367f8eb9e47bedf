package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/report"
)

type economicsOptions struct {
	Price        string
	BTCPrice     string
	Efficiency   string
	PowerPrice   string
	Unit         string
	PuellMinDays int
	From, To     string
	CSV, JSON    bool
}

// hashpriceUnits are the units --unit accepts, with their hashes per second.
var hashpriceUnits = map[string]float64{"H": 1, "kH": 1e3, "MH": 1e6, "GH": 1e9, "TH": 1e12, "PH": 1e15,
	"EH": 1e18}

func newEconomicsCommand(g *globalOptions) *cobra.Command {
	var opts economicsOptions
	cmd := &cobra.Command{
		Use:   "economics",
		Short: "Miner economics per UTC day: revenue, hashprice, Puell Multiple, energy cost and break-even power price",
		Long: `economics reports, per UTC day of the indexed full blocks (a block counts on the day of its timestamp):

  blocks, hashrate    the work of the day's blocks / the day's seconds, with its exact 95% interval
  subsidy, fees, revenue (sat)   from the coinbases (fees: reward - subsidy, a lower bound)
  hashprice           revenue per unit of hashrate per day, in sat per --unit (default PH) per second
                      per day; with a price also in USD. Its 95% interval follows from the
                      hashrate's (revenue is exact).
  Puell Multiple      the day's issuance (subsidy only) in USD / its 365-day average; needs --price
                      FILE and --puell-min-days days of average (default 365).
  energy, cost        with --efficiency (fleet J/TH, e.g. 20J/TH or 60%:18J/TH,40%:30J/TH) and
                      --power-price ($/kWh): energy = hashrate x efficiency x the day's seconds; cost
                      per BTC issued (subsidy) and per BTC of revenue (fees included).
  break-even          with --efficiency and a price: the power price at which the day's revenue
                      pays for the energy.

Prices: --price FILE (CSV date,price_usd, one price per UTC day) or --btc-price N (every day at N
dollars); the Puell Multiple needs the file. Every input is echoed in the output header (text),
the "inputs" object (JSON) or the columns (CSV). Without an input its columns are empty (null in
JSON); nothing is assumed. --from DATE starts at that UTC day, --to DATE includes that day.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case opts.CSV && opts.JSON:
				return usagef("--csv and --json exclude each other")
			case opts.Price != "" && opts.BTCPrice != "":
				return usagef("--price FILE and --btc-price N exclude each other")
			case opts.PowerPrice != "" && opts.Efficiency == "":
				return usagef("--power-price needs --efficiency (the fleet's J/TH, e.g. 20J/TH)")
			case opts.PuellMinDays < 1 || opts.PuellMinDays > analysis.PuellDays:
				return usagef("--puell-min-days must be 1 to %d, got %d", analysis.PuellDays, opts.PuellMinDays)
			}
			if _, ok := hashpriceUnits[opts.Unit]; !ok {
				return usagef("--unit must be H, kH, MH, GH, TH, PH or EH, got %q", opts.Unit)
			}
			return runEconomics(g, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Price, "price", "", "CSV date,price_usd: USD figures, break-even and the Puell Multiple")
	f.StringVar(&opts.BTCPrice, "btc-price", "", "value every day at this many US dollars per BTC (e.g. 65000)")
	f.StringVar(&opts.Efficiency, "efficiency", "", "fleet efficiency, e.g. 20J/TH or 60%:18J/TH,40%:30J/TH")
	f.StringVar(&opts.PowerPrice, "power-price", "", "power price in US dollars per kWh, e.g. 0.05 or $0.05")
	f.StringVar(&opts.Unit, "unit", "PH", "hashprice per H, kH, MH, GH, TH, PH or EH per second")
	f.IntVar(&opts.PuellMinDays, "puell-min-days", analysis.PuellDays,
		"days of issuance the Puell average needs (it covers at most 365)")
	f.StringVar(&opts.From, "from", "", "first UTC day (2009-02-01) or time")
	f.StringVar(&opts.To, "to", "", "last UTC day, inclusive, or an exclusive time")
	f.BoolVar(&opts.CSV, "csv", false, "print CSV")
	f.BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

// economicsInputs parses the flags into the analysis inputs and their JSON echo.
func economicsInputs(opts economicsOptions) (analysis.EconomicsInputs, economicsInputsJSON, error) {
	in := analysis.EconomicsInputs{PuellMinDays: opts.PuellMinDays}
	echo := economicsInputsJSON{PriceFile: opts.Price, HashpriceUnit: opts.Unit + "/s",
		PuellMinDays: opts.PuellMinDays, PuellWindowDays: analysis.PuellDays}
	var err error
	if in.Prices, err = loadPrices(opts.Price); err != nil {
		return in, echo, err
	}
	if opts.BTCPrice != "" {
		if in.BTCPrice, err = analysis.ParseBTCPrice(opts.BTCPrice); err != nil {
			return in, echo, usagef("--btc-price: %v", err)
		}
		usd := centsString(in.BTCPrice)
		echo.BTCPriceUSD = &usd
	}
	if opts.Efficiency != "" {
		if in.Efficiency, err = analysis.ParseEfficiency(opts.Efficiency); err != nil {
			return in, echo, usagef("--efficiency: %v", err)
		}
		e, j := in.Efficiency.String(), in.Efficiency.JoulesPerTH()
		echo.Efficiency, echo.EfficiencyJTH, echo.EfficiencyInput = &e, &j, opts.Efficiency
	}
	if opts.PowerPrice != "" {
		if in.PowerPrice, err = analysis.ParsePowerPrice(opts.PowerPrice); err != nil {
			return in, echo, usagef("--power-price: %v", err)
		}
		in.HasPowerPrice = true
		echo.PowerPriceUSDPerKWh = &in.PowerPrice
	}
	return in, echo, nil
}

func runEconomics(g *globalOptions, opts economicsOptions) error {
	in, echo, err := economicsInputs(opts)
	if err != nil {
		return err
	}
	from, to, err := dayBounds(opts.From, opts.To)
	if err != nil {
		return err
	}
	db, err := g.openIndexReadOnly()
	if err != nil {
		return err
	}
	defer db.Close()
	p := db.Params()
	lo, hi, hs, err := fullHeaders(db)
	if err != nil {
		return err
	}
	blocks, err := loadRewards(db, hs, lo, hi)
	if err != nil {
		return err
	}
	pts, err := analysis.Economics(p, hs, blocks, from, to, in)
	if err != nil {
		return err
	}
	echo.Network = p.Name
	rows := economicsRows(pts, hashpriceUnits[opts.Unit])
	switch {
	case opts.JSON:
		return writeJSON(g.stdout, economicsJSON{Inputs: echo, Days: rows})
	case opts.CSV:
		return writeEconomicsCSV(g.stdout, echo, rows)
	}
	return printEconomics(g.stdout, echo, rows)
}

// economicsInputsJSON echoes every input; null where not given.
type economicsInputsJSON struct {
	Network             string   `json:"network"`
	PriceFile           string   `json:"price_file,omitempty"`
	BTCPriceUSD         *string  `json:"btc_price_usd"`
	EfficiencyInput     string   `json:"efficiency_input,omitempty"`
	Efficiency          *string  `json:"efficiency"`
	EfficiencyJTH       *float64 `json:"efficiency_j_per_th"`
	PowerPriceUSDPerKWh *float64 `json:"power_price_usd_per_kwh"`
	HashpriceUnit       string   `json:"hashprice_unit"`
	PuellWindowDays     int      `json:"puell_window_days"`
	PuellMinDays        int      `json:"puell_min_days"`
}

// bandJSON is a figure with its 95% interval; null members where undefined.
type bandJSON struct {
	Value *float64 `json:"value"`
	Lo    *float64 `json:"lo"`
	Hi    *float64 `json:"hi"`
}

func toBand(b analysis.Band, k float64) *bandJSON {
	if math.IsNaN(b.Value) {
		return nil
	}
	return &bandJSON{Value: report.OptFloat(b.Value * k), Lo: report.OptFloat(b.Lo * k), Hi: report.OptFloat(b.Hi * k)}
}

// economicsDayJSON is one day of `economics --json`.
type economicsDayJSON struct {
	Day        string    `json:"day"`
	Seconds    int64     `json:"seconds"`
	Blocks     int       `json:"blocks"`
	FromHeight int32     `json:"from_height"`
	ToHeight   int32     `json:"to_height"`
	Hashrate   *bandJSON `json:"hashrate_hs"`
	SubsidySat int64     `json:"subsidy_sat"`
	FeesSat    int64     `json:"fees_sat"`
	RevenueSat int64     `json:"revenue_sat"`
	Complete   bool      `json:"complete"`
	// Hashprice is sat per hashprice_unit per day; HashpriceUSD dollars per hashprice_unit per day.
	Hashprice           *bandJSON `json:"hashprice_sat"`
	PriceUSD            *string   `json:"price_usd"`
	RevenueUSD          *string   `json:"revenue_usd"`
	IssuanceUSD         *string   `json:"issuance_usd"`
	HashpriceUSD        *bandJSON `json:"hashprice_usd"`
	Puell               *float64  `json:"puell"`
	PuellDays           int       `json:"puell_days"`
	EnergyKWh           *bandJSON `json:"energy_kwh"`
	CostUSD             *bandJSON `json:"cost_usd"`
	CostPerBTC          *bandJSON `json:"cost_per_btc_issued_usd"`
	CostPerBTCRevenue   *bandJSON `json:"cost_per_btc_revenue_usd"`
	BreakEvenPowerPrice *bandJSON `json:"break_even_usd_per_kwh"`
}

// economicsJSON is `economics --json`.
type economicsJSON struct {
	Inputs economicsInputsJSON `json:"inputs"`
	Days   []economicsDayJSON  `json:"days"`
}

// economicsRows converts the points; unitHPS is the hashes per second of the hashprice unit.
func economicsRows(pts []analysis.EconomicsPoint, unitHPS float64) []economicsDayJSON {
	perUnit := unitHPS / 1e15 // the analysis gives hashprice per PH/s
	rows := make([]economicsDayJSON, len(pts))
	for i, p := range pts {
		r := economicsDayJSON{Day: dayString(p.Day), Seconds: p.Seconds, Blocks: p.Blocks,
			FromHeight: p.FromHeight, ToHeight: p.ToHeight, Hashrate: toBand(p.Hashrate, 1),
			SubsidySat: int64(p.Subsidy), FeesSat: int64(p.Fees), RevenueSat: int64(p.Revenue),
			Complete: p.Complete, Hashprice: toBand(p.Hashprice, perUnit),
			HashpriceUSD: toBand(p.HashpriceUSD, perUnit), Puell: report.OptFloat(p.Puell), PuellDays: p.PuellWindow,
			EnergyKWh: toBand(p.EnergyKWh, 1), CostUSD: toBand(p.CostUSD, 1), CostPerBTC: toBand(p.CostPerBTC, 1),
			CostPerBTCRevenue: toBand(p.CostPerBTCRevenue, 1), BreakEvenPowerPrice: toBand(p.BreakEvenPowerPrice, 1)}
		if p.HasPrice {
			price, rev, iss := centsString(p.Price), centsString(p.RevenueUSD), centsString(p.IssuanceUSD)
			r.PriceUSD, r.RevenueUSD, r.IssuanceUSD = &price, &rev, &iss
		}
		rows[i] = r
	}
	return rows
}

// economicsCSVHeader: the inputs first (the same on every row), then the day's figures; bands as
// value, lo, hi.
var economicsCSVHeader = []string{"day", "seconds", "blocks", "from_height", "to_height", "hashrate_hs",
	"hashrate_lo_hs", "hashrate_hi_hs", "subsidy_sat", "fees_sat", "revenue_sat", "complete", "hashprice_unit",
	"hashprice_sat", "hashprice_lo_sat", "hashprice_hi_sat", "price_usd", "revenue_usd", "issuance_usd",
	"hashprice_usd", "hashprice_lo_usd", "hashprice_hi_usd", "puell", "puell_days", "efficiency_j_per_th",
	"power_price_usd_per_kwh", "energy_kwh", "energy_lo_kwh", "energy_hi_kwh", "cost_usd", "cost_lo_usd",
	"cost_hi_usd", "cost_per_btc_issued_usd", "cost_per_btc_issued_lo_usd", "cost_per_btc_issued_hi_usd",
	"cost_per_btc_revenue_usd", "cost_per_btc_revenue_lo_usd", "cost_per_btc_revenue_hi_usd",
	"break_even_usd_per_kwh", "break_even_lo_usd_per_kwh", "break_even_hi_usd_per_kwh"}

func bandCells(b *bandJSON) []string {
	if b == nil {
		return []string{"", "", ""}
	}
	return []string{optFloatString(b.Value), optFloatString(b.Lo), optFloatString(b.Hi)}
}

func optString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func writeEconomicsCSV(w io.Writer, in economicsInputsJSON, rows []economicsDayJSON) error {
	recs := make([][]string, len(rows))
	for i, r := range rows {
		rec := []string{r.Day, itoa(r.Seconds), itoa(int64(r.Blocks)), itoa(int64(r.FromHeight)),
			itoa(int64(r.ToHeight))}
		rec = append(rec, bandCells(r.Hashrate)...)
		rec = append(rec, itoa(r.SubsidySat), itoa(r.FeesSat), itoa(r.RevenueSat), strconv.FormatBool(r.Complete),
			in.HashpriceUnit)
		rec = append(rec, bandCells(r.Hashprice)...)
		rec = append(rec, optString(r.PriceUSD), optString(r.RevenueUSD), optString(r.IssuanceUSD))
		rec = append(rec, bandCells(r.HashpriceUSD)...)
		rec = append(rec, optFloatString(r.Puell), itoa(int64(r.PuellDays)), optFloatString(in.EfficiencyJTH),
			optFloatString(in.PowerPriceUSDPerKWh))
		for _, b := range []*bandJSON{r.EnergyKWh, r.CostUSD, r.CostPerBTC, r.CostPerBTCRevenue,
			r.BreakEvenPowerPrice} {
			rec = append(rec, bandCells(b)...)
		}
		recs[i] = rec
	}
	return writeCSV(w, economicsCSVHeader, recs)
}

// printEconomics prints the inputs, then one line per day with the figures the inputs allow.
func printEconomics(w io.Writer, in economicsInputsJSON, rows []economicsDayJSON) error {
	price := "none (no USD figures, break-even or Puell)"
	switch {
	case in.PriceFile != "":
		price = "daily prices from " + in.PriceFile
	case in.BTCPriceUSD != nil:
		price = "$" + *in.BTCPriceUSD + " per BTC every day (no Puell: it needs --price FILE)"
	}
	fleet := "none (no energy, cost or break-even)"
	if in.Efficiency != nil {
		fleet = in.EfficiencyInput + " = " + *in.Efficiency
		if strings.Contains(fleet, "%") {
			fleet += fmt.Sprintf(" (mean %s J/TH)", strconv.FormatFloat(*in.EfficiencyJTH, 'f', -1, 64))
		}
	}
	power := "none (no cost)"
	if in.PowerPriceUSDPerKWh != nil {
		power = "$" + strconv.FormatFloat(*in.PowerPriceUSDPerKWh, 'f', -1, 64) + "/kWh"
	}
	fmt.Fprintf(w, "network %s; BTC price: %s; fleet efficiency: %s; power price: %s\n", in.Network, price,
		fleet, power)
	fmt.Fprintf(w, "hashprice in BTC per %s per day; 95%% intervals from the hashrate's\n", in.HashpriceUnit)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	cols := []string{"day", "blocks", "hashrate", "revenue", "hashprice (95%)"}
	usd := in.PriceFile != "" || in.BTCPriceUSD != nil
	if usd {
		cols = append(cols, "price", "hashprice $")
	}
	if in.PriceFile != "" {
		cols = append(cols, "puell")
	}
	if in.PowerPriceUSDPerKWh != nil {
		cols = append(cols, "cost/BTC issued (95%)")
	}
	if in.Efficiency != nil && usd {
		cols = append(cols, "break-even $/kWh (95%)")
	}
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	for _, r := range rows {
		cells := []string{r.Day, itoa(int64(r.Blocks)), bandRate(r.Hashrate), btcString(r.RevenueSat),
			bandBTC(r.Hashprice)}
		if usd {
			cells = append(cells, dollars(r.PriceUSD), bandText(r.HashpriceUSD, "$", 2, false))
		}
		if in.PriceFile != "" {
			cells = append(cells, optFloatText(r.Puell, 3))
		}
		if in.PowerPriceUSDPerKWh != nil {
			cells = append(cells, bandText(r.CostPerBTC, "$", 2, true))
		}
		if in.Efficiency != nil && usd {
			cells = append(cells, bandText(r.BreakEvenPowerPrice, "$", 4, true))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

func dollars(s *string) string {
	if s == nil {
		return "-"
	}
	return "$" + *s
}

func bandRate(b *bandJSON) string {
	if b == nil || b.Value == nil {
		return "-"
	}
	return analysis.FormatHashrate(*b.Value)
}

// bandBTC prints a hashprice in sat as BTC with six significant digits, and its interval.
func bandBTC(b *bandJSON) string {
	if b == nil || b.Value == nil {
		return "-"
	}
	num := func(sat float64) string { return strconv.FormatFloat(sat/1e8, 'g', 6, 64) }
	s := num(*b.Value) + " BTC"
	if b.Lo != nil && b.Hi != nil {
		s += " (" + num(*b.Lo) + "–" + num(*b.Hi) + ")"
	}
	return s
}

// bandText prints a band with prec decimals (prec significant digits below 1), and its interval when
// withInterval.
func bandText(b *bandJSON, prefix string, prec int, withInterval bool) string {
	if b == nil || b.Value == nil {
		return "-"
	}
	num := func(v float64) string {
		if math.Abs(v) < 1 {
			return strconv.FormatFloat(v, 'g', prec, 64)
		}
		return strconv.FormatFloat(v, 'f', prec, 64)
	}
	s := prefix + num(*b.Value)
	if withInterval && b.Lo != nil && b.Hi != nil {
		s += " (" + num(*b.Lo) + "–" + num(*b.Hi) + ")"
	}
	return s
}
