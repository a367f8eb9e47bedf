package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/report"
)

type signalsOptions struct {
	From, To  string
	CSV, JSON bool
}

func newSignalsCommand(g *globalOptions) *cobra.Command {
	var opts signalsOptions
	cmd := &cobra.Command{
		Use:   "signals [ribbons|difficulty-ribbon|capitulations]",
		Short: "Hash Ribbons, capitulation periods and the Difficulty Ribbon, per UTC day",
		Long: `signals derives miner-capitulation signals from the indexed headers, per UTC day.

  signals ribbons            Hash Ribbons: the day's hashrate (work of the blocks stamped that day /
                             86,400 s, with its exact 95% interval), its 30- and 60-day moving
                             averages, and whether miners capitulate (30-day average below the 60-day).
  signals capitulations      the capitulation periods: first and last day, heights, length, and the
                             recovery day when the 30-day average was back at or above the 60-day.
  signals difficulty-ribbon  the difficulty at each day's end (that of the highest block stamped that
                             day, carried over days without blocks) and its 14, 25, 40, 60, 90, 128
                             and 200-day moving averages.
  signals                    a summary: the latest day of both ribbons and every capitulation period
                             (--json: all three series in one object).

Days without blocks count as 0 H/s in the hashrate averages; an average is empty (null in JSON,
blank in CSV) until the chain has its full window of days. The averages are computed over the whole
index before --from/--to cut the days shown, and a capitulation is reported whole if it overlaps
them. --from DATE starts at that UTC day; --to DATE includes that day (an RFC 3339 time or unix
timestamp is an exact bound).`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown signals table %q: use ribbons, capitulations or difficulty-ribbon", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.CSV {
				return usagef("signals --csv needs one table: signals ribbons, capitulations or difficulty-ribbon")
			}
			return runSignals(g, opts, "")
		},
	}
	f := cmd.PersistentFlags()
	f.StringVar(&opts.From, "from", "", "first UTC day (2009-02-01) or time")
	f.StringVar(&opts.To, "to", "", "last UTC day, inclusive, or an exclusive time")
	f.BoolVar(&opts.CSV, "csv", false, "print CSV")
	f.BoolVar(&opts.JSON, "json", false, "print JSON")
	for _, kind := range []struct{ name, short string }{
		{"ribbons", "Hash Ribbons: daily hashrate, its 30- and 60-day averages, capitulation"},
		{"capitulations", "Capitulation periods (30-day average hashrate below the 60-day) and recoveries"},
		{"difficulty-ribbon", "Daily difficulty and its 14- to 200-day moving averages"},
	} {
		cmd.AddCommand(&cobra.Command{
			Use:   kind.name,
			Short: kind.short,
			Args: func(_ *cobra.Command, args []string) error {
				if len(args) > 0 {
					return usagef("signals %s takes no arguments, got %q", kind.name, args[0])
				}
				return nil
			},
			RunE: func(*cobra.Command, []string) error {
				return runSignals(g, opts, kind.name)
			},
		})
	}
	return cmd
}

// signalsData is what every signals table is cut from.
type signalsData struct {
	ribbons    []analysis.RibbonPoint           // days in [from, to)
	caps       []analysis.CapitulationPeriod    // periods overlapping [from, to)
	difficulty []analysis.DifficultyRibbonPoint // days in [from, to)
}

func runSignals(g *globalOptions, opts signalsOptions, kind string) error {
	if opts.CSV && opts.JSON {
		return usagef("--csv and --json exclude each other")
	}
	from, to, err := dayBounds(opts.From, opts.To)
	if err != nil {
		return err
	}
	p, hs, err := g.loadHeaders()
	if err != nil {
		return err
	}
	all := analysis.HashRibbons(p, hs, math.MinInt64/2, math.MaxInt64/2)
	d := signalsData{
		ribbons:    analysis.HashRibbons(p, hs, from, to),
		difficulty: analysis.DifficultyRibbon(p, hs, from, to),
	}
	for _, c := range analysis.Capitulations(all) {
		if c.End+86400 > from && c.Start < to {
			d.caps = append(d.caps, c)
		}
	}
	switch kind {
	case "ribbons":
		return printRibbons(g.stdout, d.ribbons, opts)
	case "capitulations":
		return printCapitulations(g.stdout, d.caps, opts)
	case "difficulty-ribbon":
		return printDifficultyRibbon(g.stdout, d.difficulty, opts)
	}
	if opts.JSON {
		return writeJSON(g.stdout, signalsJSON{Network: p.Name, Ribbons: ribbonRows(d.ribbons),
			Capitulations: capitulationRows(d.caps), DifficultyRibbon: difficultyRows(d.difficulty)})
	}
	return printSignalsSummary(g.stdout, p, d)
}

// dayBounds resolves --from/--to into [from, to): a date is its 00:00 UTC, and as --to the end of that day.
func dayBounds(fromS, toS string) (int64, int64, error) {
	from, to := int64(math.MinInt64/2), int64(math.MaxInt64/2)
	if fromS != "" {
		t, err := parseTime(fromS)
		if err != nil {
			return 0, 0, err
		}
		from = t.Unix()
	}
	if toS != "" {
		t, err := parseTime(toS)
		if err != nil {
			return 0, 0, err
		}
		to = t.Unix()
		if _, derr := time.Parse(time.DateOnly, strings.TrimSpace(toS)); derr == nil {
			to += 86400
		}
	}
	if to <= from {
		return 0, 0, usagef("--to %q is not after --from %q", toS, fromS)
	}
	return from, to, nil
}

// signalsJSON is `signals --json`.
type signalsJSON struct {
	Network          string             `json:"network"`
	Ribbons          []ribbonJSON       `json:"ribbons"`
	Capitulations    []capitulationJSON `json:"capitulations"`
	DifficultyRibbon []difficultyJSON   `json:"difficulty_ribbon"`
}

// ribbonJSON is one day of `signals ribbons`; the CSV has the same columns, blank where JSON has null.
type ribbonJSON struct {
	Day          string   `json:"day"`
	Blocks       int      `json:"blocks"`
	HashrateHS   float64  `json:"hashrate_hs"`
	LoHS         *float64 `json:"lo_hs"`
	HiHS         *float64 `json:"hi_hs"`
	MA30HS       *float64 `json:"ma30_hs"`
	MA60HS       *float64 `json:"ma60_hs"`
	Capitulation bool     `json:"capitulation"`
	FromHeight   int32    `json:"from_height"`
	ToHeight     int32    `json:"to_height"`
}

var ribbonCSVHeader = []string{"day", "blocks", "hashrate_hs", "lo_hs", "hi_hs", "ma30_hs", "ma60_hs",
	"capitulation", "from_height", "to_height"}

func dayString(t int64) string { return time.Unix(t, 0).UTC().Format(time.DateOnly) }

func ribbonRows(pts []analysis.RibbonPoint) []ribbonJSON {
	out := make([]ribbonJSON, len(pts))
	for i, p := range pts {
		out[i] = ribbonJSON{Day: dayString(p.Day), Blocks: p.Blocks, HashrateHS: p.Hashrate,
			MA30HS: report.OptFloat(p.MA30), MA60HS: report.OptFloat(p.MA60), Capitulation: p.Capitulation,
			FromHeight: p.FromHeight, ToHeight: p.ToHeight}
		if p.HasInterval {
			out[i].LoHS, out[i].HiHS = report.OptFloat(p.Lo), report.OptFloat(p.Hi)
		}
	}
	return out
}

func ribbonRecord(r ribbonJSON) []string {
	return []string{r.Day, itoa(int64(r.Blocks)), fmtFloat(r.HashrateHS), optFloatString(r.LoHS),
		optFloatString(r.HiHS), optFloatString(r.MA30HS), optFloatString(r.MA60HS), fmt.Sprint(r.Capitulation),
		itoa(int64(r.FromHeight)), itoa(int64(r.ToHeight))}
}

func printRibbons(w io.Writer, pts []analysis.RibbonPoint, opts signalsOptions) error {
	if done, err := writeRows(w, opts.JSON, opts.CSV, ribbonRows(pts), ribbonCSVHeader, ribbonRecord); done {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "day\tblocks\thashrate\t95% interval\t30-day avg\t60-day avg\tsignal\theights")
	for _, p := range pts {
		signal := ""
		if p.Capitulation {
			signal = "capitulation"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", dayString(p.Day), p.Blocks,
			analysis.FormatHashrate(p.Hashrate), rateInterval(p.HasInterval, p.Lo, p.Hi), optRate(p.MA30),
			optRate(p.MA60), signal, heightsText(p.FromHeight, p.ToHeight))
	}
	return tw.Flush()
}

func rateInterval(ok bool, lo, hi float64) string {
	if !ok {
		return "n/a"
	}
	return analysis.FormatHashrate(lo) + " – " + analysis.FormatHashrate(hi)
}

// optRate prints a hashrate, "-" for NaN.
func optRate(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return analysis.FormatHashrate(v)
}

// capitulationJSON is one period of `signals capitulations`; the CSV has the same columns.
type capitulationJSON struct {
	Start          string   `json:"start"`
	End            string   `json:"end"`
	Days           int      `json:"days"`
	FromHeight     int32    `json:"from_height"`
	ToHeight       int32    `json:"to_height"`
	Ongoing        bool     `json:"ongoing"`
	RecoveryDay    *string  `json:"recovery_day"`
	RecoveryHeight int32    `json:"recovery_height"`
	Truncated      bool     `json:"starts_before_index"`
	MinRatio       *float64 `json:"min_ma_ratio"`
	MinRatioDay    string   `json:"min_ma_ratio_day"`
}

var capitulationCSVHeader = []string{"start", "end", "days", "from_height", "to_height", "ongoing",
	"recovery_day", "recovery_height", "starts_before_index", "min_ma_ratio", "min_ma_ratio_day"}

func capitulationRows(cs []analysis.CapitulationPeriod) []capitulationJSON {
	out := make([]capitulationJSON, len(cs))
	for i, c := range cs {
		out[i] = capitulationJSON{Start: dayString(c.Start), End: dayString(c.End), Days: c.Days,
			FromHeight: c.FromHeight, ToHeight: c.ToHeight, Ongoing: c.Ongoing, RecoveryHeight: c.RecoveryHeight,
			Truncated: c.Truncated, MinRatio: report.OptFloat(c.MinRatio), MinRatioDay: dayString(c.MinRatioDay)}
		if !c.Ongoing {
			day := dayString(c.RecoveryDay)
			out[i].RecoveryDay = &day
		}
	}
	return out
}

func capitulationRecord(r capitulationJSON) []string {
	return []string{r.Start, r.End, itoa(int64(r.Days)), itoa(int64(r.FromHeight)), itoa(int64(r.ToHeight)),
		fmt.Sprint(r.Ongoing), optString(r.RecoveryDay), itoa(int64(r.RecoveryHeight)), fmt.Sprint(r.Truncated),
		optFloatString(r.MinRatio), r.MinRatioDay}
}

func printCapitulations(w io.Writer, cs []analysis.CapitulationPeriod, opts signalsOptions) error {
	rows := capitulationRows(cs)
	if done, err := writeRows(w, opts.JSON, opts.CSV, rows, capitulationCSVHeader, capitulationRecord); done {
		return err
	}
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "no capitulation period (30-day average below the 60-day) in these days")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "start\tend\tdays\theights\tdeepest 30/60\trecovery")
	for _, r := range rows {
		rec := "ongoing"
		if r.RecoveryDay != nil {
			rec = *r.RecoveryDay
			if r.RecoveryHeight >= 0 {
				rec += fmt.Sprintf(" (height %d)", r.RecoveryHeight)
			}
		}
		start := r.Start
		if r.Truncated {
			start += "*"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s on %s\t%s\n", start, r.End, r.Days,
			heightsText(r.FromHeight, r.ToHeight), optFloatText(r.MinRatio, 3), r.MinRatioDay, rec)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if rows[0].Truncated {
		_, err := fmt.Fprintln(w, "* the averages are in capitulation from the first day they exist")
		return err
	}
	return nil
}

// difficultyJSON is one day of `signals difficulty-ribbon`; the CSV has the same columns.
type difficultyJSON struct {
	Day        string              `json:"day"`
	Difficulty float64             `json:"difficulty"`
	Height     int32               `json:"height"`
	MA         map[string]*float64 `json:"ma"` // "14d" … "200d"
}

func maName(days int) string { return fmt.Sprintf("%dd", days) }

func difficultyRows(pts []analysis.DifficultyRibbonPoint) []difficultyJSON {
	out := make([]difficultyJSON, len(pts))
	for i, p := range pts {
		out[i] = difficultyJSON{Day: dayString(p.Day), Difficulty: p.Difficulty, Height: p.Height,
			MA: make(map[string]*float64, len(p.MA))}
		for k, w := range analysis.DifficultyRibbonWindows {
			out[i].MA[maName(w)] = report.OptFloat(p.MA[k])
		}
	}
	return out
}

// difficultyCSVHeader: the day's columns, then one per moving average ("ma14" … "ma200").
func difficultyCSVHeader() []string {
	header := []string{"day", "difficulty", "height"}
	for _, d := range analysis.DifficultyRibbonWindows {
		header = append(header, "ma"+itoa(int64(d)))
	}
	return header
}

func difficultyRecord(r difficultyJSON) []string {
	rec := []string{r.Day, fmtFloat(r.Difficulty), itoa(int64(r.Height))}
	for _, d := range analysis.DifficultyRibbonWindows {
		rec = append(rec, optFloatString(r.MA[maName(d)]))
	}
	return rec
}

func printDifficultyRibbon(w io.Writer, pts []analysis.DifficultyRibbonPoint, opts signalsOptions) error {
	if done, err := writeRows(w, opts.JSON, opts.CSV, difficultyRows(pts), difficultyCSVHeader(), difficultyRecord); done {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "day\tdifficulty")
	for _, d := range analysis.DifficultyRibbonWindows {
		fmt.Fprintf(tw, "\t%dd", d)
	}
	fmt.Fprintln(tw)
	for _, p := range pts {
		fmt.Fprintf(tw, "%s\t%s", dayString(p.Day), analysis.FormatDifficulty(p.Difficulty))
		for _, m := range p.MA {
			fmt.Fprintf(tw, "\t%s", optDifficulty(m))
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

func optDifficulty(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return analysis.FormatDifficulty(v)
}

// printSignalsSummary prints the latest day of both ribbons and the capitulation periods.
func printSignalsSummary(w io.Writer, p analysis.Params, d signalsData) error {
	if len(d.ribbons) == 0 {
		_, err := fmt.Fprintln(w, "no indexed day in --from/--to")
		return err
	}
	r := d.ribbons[len(d.ribbons)-1]
	state := "no signal (the 30-day average is at or above the 60-day)"
	switch {
	case math.IsNaN(r.MA60):
		state = "not enough days for the 60-day average yet"
	case r.Capitulation:
		state = "capitulation (the 30-day average is below the 60-day)"
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "network\t%s\n", p.Name)
	fmt.Fprintf(tw, "days\t%s .. %s (%d)\n", dayString(d.ribbons[0].Day), dayString(r.Day), len(d.ribbons))
	fmt.Fprintf(tw, "hash ribbons on %s\tday %s, 30-day %s, 60-day %s: %s\n", dayString(r.Day),
		analysis.FormatHashrate(r.Hashrate), optRate(r.MA30), optRate(r.MA60), state)
	if n := len(d.difficulty); n > 0 {
		dr := d.difficulty[n-1]
		var mas []string
		for k, w := range analysis.DifficultyRibbonWindows {
			mas = append(mas, fmt.Sprintf("%dd %s", w, optDifficulty(dr.MA[k])))
		}
		fmt.Fprintf(tw, "difficulty ribbon on %s\t%s; %s\n", dayString(dr.Day),
			analysis.FormatDifficulty(dr.Difficulty), strings.Join(mas, ", "))
	}
	fmt.Fprintf(tw, "capitulation periods\t%d\n", len(d.caps))
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(d.caps) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	return printCapitulations(w, d.caps, signalsOptions{})
}
