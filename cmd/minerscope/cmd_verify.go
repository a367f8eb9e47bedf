package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/minerscope/minerscope/analysis"
)

// verifyOptions are the flags of the verify subcommands.
type verifyOptions struct {
	At        string
	Window    string
	Blocks    int
	AtHeight  int
	Date      string
	Change    string
	From, To  string
	Hops      int
	Tolerance string
	JSON      bool
}

// verdictError reports a verdict other than consistent, whose result has already been printed, so that
// main exits 1 (inconsistent) or 2 (not verifiable). err, when set, is why verification could not run.
type verdictError struct {
	verdict analysis.Verdict
	err     error
}

func (e verdictError) Error() string {
	if e.err != nil {
		return "cannot verify the claim: " + e.err.Error()
	}
	return "verify: the claim is " + string(e.verdict) + " (details above)"
}

func (e verdictError) Unwrap() error { return e.err }

// verdictExit maps a printed verdict to the command's error.
func verdictExit(v analysis.Verdict) error {
	if v == analysis.VerdictConsistent {
		return nil
	}
	return verdictError{verdict: v}
}

// notVerifiableExit turns an error that would exit 1 (which means "inconsistent" to verify's callers)
// into not-verifiable, exit 2; usage, node, index and interrupt errors keep their codes.
func notVerifiableExit(err error) error {
	var ve verdictError
	if err == nil || errors.As(err, &ve) || exitCode(err) != exitError {
		return err
	}
	return verdictError{verdict: analysis.VerdictNotVerifiable, err: err}
}

const verifyLong = `verify checks a published figure against the chain in the index and prints the claim, what the
chain says (an estimate with its exact 95% interval, or the exact value), the heights and times used
and a verdict:

  consistent       the values the claim stands for meet the chain's interval or exact value (exit 0)
  inconsistent     they do not; the output says by how much (exit 1)
  not-verifiable   the index cannot decide, e.g. it does not reach the date (exit 2; bad input too)

A published figure is rounded, so a claim stands for every value that rounds to it at the precision it
is stated with: "155.97T" means 155.965T to 155.975T, "5000BTC" 4999.5 to 5000.5 BTC, "-11%" -11.5% to
-10.5%. --tolerance 2% widens that by 2% of the claimed value on each side. A hashrate claim is
consistent when that range meets the 95% interval.

  verify hashrate 1.1ZH/s --at 2025-10-15 [--window 7d | --blocks 1008]
  verify difficulty 155.97T --at-height 921312 | --at 2025-10-15
  verify adjustment --date 2026-02-08 [--change -11%]
  verify outflow 5000BTC --from 2026-02-01 --to 2026-02-07 [--hops 0|1]`

func newVerifyCommand(g *globalOptions) *cobra.Command {
	var opts verifyOptions
	cmd := &cobra.Command{
		Use:   "verify hashrate|difficulty|adjustment|outflow",
		Short: "Check a published hashrate, difficulty, retarget or miner-outflow figure against the chain",
		Long:  verifyLong,
		Args:  cobra.ArbitraryArgs,
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("cannot verify %q: name hashrate, difficulty, adjustment or outflow (see minerscope verify --help)", args[0])
			}
			return usagef("name what to verify: hashrate, difficulty, adjustment or outflow (see minerscope verify --help)")
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&opts.Tolerance, "tolerance", "", "widen the claim by this share of its value, e.g. 2%")
	pf.BoolVar(&opts.JSON, "json", false, "print JSON")
	cmd.AddCommand(
		newVerifyHashrateCommand(g, &opts),
		newVerifyDifficultyCommand(g, &opts),
		newVerifyAdjustmentCommand(g, &opts),
		newVerifyOutflowCommand(g, &opts),
	)
	return cmd
}

// claimArgs accepts the claim as one argument ("1.1ZH/s", "1.1 ZH/s" quoted) or as a number and a unit.
func claimArgs(kind, forms string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) < 1 || len(args) > 2 {
			return usagef("give the %s claim as one argument: %s", kind, forms)
		}
		return nil
	}
}

// usageClaim marks a parser's error as bad input.
func usageClaim(err error) error {
	if err == nil {
		return nil
	}
	return usageError{err}
}

// tolerance parses --tolerance into a fraction.
func (o *verifyOptions) tolerance() (float64, error) {
	if o.Tolerance == "" {
		return 0, nil
	}
	f, err := analysis.ParsePercent(o.Tolerance)
	if err != nil {
		return 0, usagef("--tolerance: %v", err)
	}
	if f.Value < 0 {
		return 0, usagef("--tolerance %s is negative; give a share like 2%%", o.Tolerance)
	}
	return f.Value / 100, nil
}

// parseDate parses a UTC date, strictly 2006-01-02, into the unix time of its start.
func parseDate(flag, s string) (int64, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return 0, usagef("--%s %q is not a date; write an ISO date like 2026-02-08 (UTC)", flag, s)
	}
	if t.Unix() < 0 {
		return 0, before1970(flag, s)
	}
	return t.Unix(), nil
}

func newVerifyHashrateCommand(g *globalOptions, opts *verifyOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hashrate CLAIM [--at T] [--window W | --blocks N]",
		Short: "Check a hashrate figure (e.g. 1.1ZH/s) against the exact 95% interval",
		Long: `hashrate checks a hashrate claim such as 1.1ZH/s or "650 EH/s" (units H/s, kH/s, MH/s, GH/s,
TH/s, PH/s, EH/s, ZH/s).

  --at T       the time the claim is about: a date (its 00:00:00 UTC) or an RFC 3339 time; default the
               index tip's time
  --window W   the blocks stamped in (T-W, T], as minerscope hashrate --window (default 7d)
  --blocks N   the N blocks ending at the last block stamped at or before T, as getnetworkhashps(N)`,
		Args: claimArgs("hashrate", analysis.HashrateForms),
		RunE: func(cmd *cobra.Command, args []string) error {
			return notVerifiableExit(runVerifyHashrate(g, opts, cmd.Flags().Changed("blocks"), strings.Join(args, " ")))
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.At, "at", "", "time of the claim (2025-10-15 or 2025-10-15T12:00:00Z; default: index tip)")
	f.StringVar(&opts.Window, "window", "", "time window ending at --at, e.g. 24h, 7d (default 7d)")
	f.IntVar(&opts.Blocks, "blocks", 0, "number of blocks ending at --at, as getnetworkhashps")
	return cmd
}

func runVerifyHashrate(g *globalOptions, opts *verifyOptions, blocksSet bool, text string) error {
	claim, err := analysis.ParseHashrate(text)
	if err != nil {
		return usageClaim(err)
	}
	tol, err := opts.tolerance()
	if err != nil {
		return err
	}
	var window int64
	switch {
	case blocksSet && opts.Window != "":
		return usagef("--blocks and --window exclude each other")
	case blocksSet && opts.Blocks <= 0:
		return usagef("--blocks must be a positive number of blocks, got %d", opts.Blocks)
	case !blocksSet:
		w := opts.Window
		if w == "" {
			w = "7d"
		}
		d, err := parseWindow(w)
		if err != nil {
			return err
		}
		window = int64(d / time.Second)
	}
	var at time.Time
	if opts.At != "" {
		if at, err = parseAt("at", opts.At); err != nil {
			return err
		}
	}

	p, hs, err := g.loadHeaders()
	if err != nil {
		return err
	}
	atUnix := hs[len(hs)-1].Time
	if opts.At != "" {
		atUnix = at.Unix()
	}
	blocks := 0
	if blocksSet {
		blocks = opts.Blocks
	}
	res, err := analysis.VerifyHashrate(p, hs, claim, tol, atUnix, window, blocks)
	if err != nil {
		return err
	}
	return printVerification(g, opts, res)
}

func newVerifyDifficultyCommand(g *globalOptions, opts *verifyOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "difficulty CLAIM --at-height H | --at T",
		Short: "Check a difficulty figure (e.g. 155.97T) against a block's exact difficulty",
		Long: `difficulty checks a difficulty claim such as 155.97T, "155.97 T" or 1.00 (suffixes k, M, G, T,
P, E, Z, or a plain number) against the exact difficulty of a block, as the node's getblockheader
reports it:

  --at-height H  the block at height H
  --at T         the block in effect at T (a date, its 00:00:00 UTC, or an RFC 3339 time): the last
                 block stamped at or before T, the block verify hashrate --at T --blocks N ends at`,
		Args: claimArgs("difficulty", analysis.DifficultyForms),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch height, at := cmd.Flags().Changed("at-height"), cmd.Flags().Changed("at"); {
			case height && at:
				return usagef("--at-height and --at exclude each other; give one")
			case !height && !at:
				return usagef("give the block with --at-height H or --at T")
			}
			return notVerifiableExit(runVerifyDifficulty(g, opts, strings.Join(args, " ")))
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.AtHeight, "at-height", -1, "height of the block whose difficulty is claimed")
	f.StringVar(&opts.At, "at", "", "time of the claim: the block in effect then (2025-10-15 or 2025-10-15T12:00:00Z)")
	return cmd
}

func runVerifyDifficulty(g *globalOptions, opts *verifyOptions, text string) error {
	claim, err := analysis.ParseDifficulty(text)
	if err != nil {
		return usageClaim(err)
	}
	tol, err := opts.tolerance()
	if err != nil {
		return err
	}
	var at time.Time
	if opts.At != "" {
		if at, err = parseAt("at", opts.At); err != nil {
			return err
		}
	} else if opts.AtHeight < 0 || opts.AtHeight > math.MaxInt32 {
		return usagef("--at-height %d is not a block height", opts.AtHeight)
	}
	_, hs, err := g.loadHeaders()
	if err != nil {
		return err
	}
	var res analysis.Verification
	if opts.At != "" {
		res, err = analysis.VerifyDifficultyAt(hs, claim, tol, at.Unix())
	} else {
		res, err = analysis.VerifyDifficulty(hs, claim, tol, int32(opts.AtHeight))
	}
	if err != nil {
		return err
	}
	return printVerification(g, opts, res)
}

func newVerifyAdjustmentCommand(g *globalOptions, opts *verifyOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "adjustment --date D [--change P]",
		Short: "Check that the difficulty was retargeted on a UTC date, and by how much",
		Long: `adjustment checks that a retarget (the first block of a 2016-block epoch, by its header
timestamp) falls on the UTC date --date, and with --change -11% that the difficulty changed by that
much. Without one on that date the nearest retargets before and after are named.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("adjustment takes no argument; give --date 2026-02-08 [--change -11%%]")
			}
			return nil
		},
		RunE: func(*cobra.Command, []string) error {
			return notVerifiableExit(runVerifyAdjustment(g, opts))
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Date, "date", "", "UTC date of the claimed retarget, e.g. 2026-02-08")
	f.StringVar(&opts.Change, "change", "", "claimed difficulty change, e.g. -11% or +4.3%")
	return cmd
}

func runVerifyAdjustment(g *globalOptions, opts *verifyOptions) error {
	if opts.Date == "" {
		return usagef("give the date with --date, e.g. --date 2026-02-08")
	}
	day, err := parseDate("date", opts.Date)
	if err != nil {
		return err
	}
	var change *analysis.Figure
	if opts.Change != "" {
		f, err := analysis.ParsePercent(opts.Change)
		if err != nil {
			return usagef("--change: %v", err)
		}
		change = &f
	}
	tol, err := opts.tolerance()
	if err != nil {
		return err
	}
	p, hs, err := g.loadHeaders()
	if err != nil {
		return err
	}
	res, err := analysis.VerifyAdjustment(p, hs, day, change, tol)
	if err != nil {
		return err
	}
	return printVerification(g, opts, res)
}

func newVerifyOutflowCommand(g *globalOptions, opts *verifyOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "outflow CLAIM --from D --to D [--hops 0|1]",
		Short: "Check a miner-outflow figure (e.g. 5000BTC) over UTC days against the exact chain sum",
		Long: `outflow checks a claim of miner outflow such as 5000BTC, "0.5 BTC" or "12345 sat" over the UTC
days --from to --to, both included, against the exact sum of the daily series of minerscope outflows
(blocks counted by their timestamps). --hops 0 (default) counts coins leaving coinbase scripts, --hops 1
coins leaving them and the scripts they pay. Needs an index of full blocks from genesis.`,
		Args: claimArgs("amount", analysis.AmountForms),
		RunE: func(_ *cobra.Command, args []string) error {
			return notVerifiableExit(runVerifyOutflow(g, opts, strings.Join(args, " ")))
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.From, "from", "", "first UTC date, e.g. 2026-02-01")
	f.StringVar(&opts.To, "to", "", "last UTC date, included, e.g. 2026-02-07")
	f.IntVar(&opts.Hops, "hops", 0, "miner set: 0 (coinbase scripts) or 1 (and the scripts they pay)")
	return cmd
}

func runVerifyOutflow(g *globalOptions, opts *verifyOptions, text string) error {
	claim, err := analysis.ParseAmount(text)
	if err != nil {
		return usageClaim(err)
	}
	tol, err := opts.tolerance()
	if err != nil {
		return err
	}
	if err := checkHops(opts.Hops); err != nil {
		return err
	}
	if opts.From == "" || opts.To == "" {
		return usagef("give the days with --from and --to, e.g. --from 2026-02-01 --to 2026-02-07")
	}
	from, err := parseDate("from", opts.From)
	if err != nil {
		return err
	}
	to, err := parseDate("to", opts.To)
	if err != nil {
		return err
	}
	if to < from {
		return usagef("--to %s is before --from %s", opts.To, opts.From)
	}

	fd, err := g.openFlows("", "")
	if err != nil {
		return err
	}
	defer fd.Close()
	blocks, err := fd.blockFlows(opts.Hops)
	if err != nil {
		return err
	}
	res, err := analysis.VerifyOutflow(blocks, claim, tol, from, to, opts.Hops)
	if err != nil {
		return err
	}
	return printVerification(g, opts, res)
}

// printVerification prints the result as JSON or text and returns the verdict's error.
func printVerification(g *globalOptions, opts *verifyOptions, v analysis.Verification) error {
	var err error
	if opts.JSON {
		err = writeJSON(g.stdout, v)
	} else {
		err = writeVerification(g.stdout, v)
	}
	if err != nil {
		return err
	}
	return verdictExit(v.Verdict)
}

// writeVerification prints the claim, the chain's value, the blocks used, the method and the verdict.
func writeVerification(w io.Writer, v analysis.Verification) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	claim := v.Kind + " " + v.Claim
	if v.Kind == "adjustment" {
		claim = v.Claim
	}
	if c := v.Claimed; c != nil {
		claim += fmt.Sprintf("  (stands for %s – %s", fmtVerifyValue(v.Unit, c.Lo), fmtVerifyValue(v.Unit, c.Hi))
		if v.TolerancePct > 0 {
			claim += fmt.Sprintf(" with the %s%% tolerance", fmtFloat(v.TolerancePct))
		}
		claim += ")"
	}
	fmt.Fprintf(tw, "claim\t%s\n", claim)
	if c := v.Chain; c != nil {
		if c.Exact {
			fmt.Fprintf(tw, "chain\t%s  (exact)\n", fmtVerifyValue(v.Unit, c.Value))
		} else {
			fmt.Fprintf(tw, "chain\t%s  (95%% interval %s – %s)\n", fmtVerifyValue(v.Unit, c.Value),
				fmtVerifyValue(v.Unit, c.Lo), fmtVerifyValue(v.Unit, c.Hi))
		}
	}
	writeSpan(tw, v.Span)
	writeAdjustmentDetail(tw, v.Adjustment)
	if v.Method != "" {
		fmt.Fprintf(tw, "method\t%s\n", v.Method)
	}
	verdict := string(v.Verdict)
	switch {
	case v.Reason != "":
		verdict += ": " + v.Reason
	case v.Off != "":
		verdict += ": " + v.Off
	}
	fmt.Fprintf(tw, "verdict\t%s\n", verdict)
	return tw.Flush()
}

// writeSpan prints the heights and times behind the chain's value.
func writeSpan(w io.Writer, s *analysis.VerifySpan) {
	switch {
	case s == nil:
	case s.FromHeight >= 0 && s.FromHeight == s.ToHeight && s.FromTime.Equal(s.ToTime):
		fmt.Fprintf(w, "block\t%d\n", s.FromHeight)
		fmt.Fprintf(w, "time\t%s\n", s.FromTime.Format(time.RFC3339))
	default:
		blocks := fmt.Sprintf("%d..%d", s.FromHeight, s.ToHeight)
		if s.FromHeight < 0 {
			blocks = "none"
		}
		fmt.Fprintf(w, "blocks\t%s  (%d blocks)\n", blocks, s.Blocks)
		fmt.Fprintf(w, "times\t%s .. %s\n", s.FromTime.Format(time.RFC3339), s.ToTime.Format(time.RFC3339))
	}
}

// writeAdjustmentDetail lists the retargets on the date, or the nearest ones.
func writeAdjustmentDetail(w io.Writer, d *analysis.AdjustmentDetail) {
	if d == nil {
		return
	}
	line := func(label string, ev analysis.AdjustmentEvent) {
		fmt.Fprintf(w, "%s\theight %d at %s: difficulty %s -> %s (%+.4f%%)\n", label, ev.Height,
			ev.Time.Format(time.RFC3339), fmtFloat(ev.PrevDifficulty), fmtFloat(ev.Difficulty), ev.ChangePct)
	}
	for _, ev := range d.Retargets {
		line("retarget", ev)
	}
	if len(d.Retargets) > 0 {
		return
	}
	if d.Before != nil {
		line("before", *d.Before)
	}
	if d.After != nil {
		line("after", *d.After)
	}
}

// siPrefixes are the prefixes fmtVerifyValue scales by, 1000 apart.
var siPrefixes = []string{"", "k", "M", "G", "T", "P", "E", "Z"}

// fmtVerifyValue prints a value of the unit with seven significant digits, so that a claim's rounding
// bounds stay distinct: "1.05 ZH/s", "155.965 T", "-11.5%", "4999.50000000 BTC".
func fmtVerifyValue(unit string, x float64) string {
	switch unit {
	case "%":
		return strconv.FormatFloat(x, 'g', 7, 64) + "%"
	case "sat":
		return fmtSatBound(x)
	}
	i := 0
	for i < len(siPrefixes)-1 && math.Abs(x) >= 1000 {
		x /= 1000
		i++
	}
	s := strconv.FormatFloat(x, 'g', 7, 64)
	if unit == "" {
		if siPrefixes[i] == "" {
			return s
		}
		return s + " " + siPrefixes[i]
	}
	return s + " " + siPrefixes[i] + unit
}

// fmtSatBound prints satoshis as BTC; a rounding bound may fall on half a satoshi, printed as a ninth
// decimal 5.
func fmtSatBound(x float64) string {
	halves := int64(math.Round(x * 2))
	sign := ""
	if halves < 0 {
		sign, halves = "-", -halves
	}
	s := sign + btcString(halves/2)
	if halves%2 == 1 {
		s = strings.TrimSuffix(s, " BTC") + "5 BTC"
	}
	return s
}
