package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"text/tabwriter"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/spf13/cobra"

	"github.com/minerscope/minerscope/report"
)

type reserveOptions struct {
	AtHeight int
	At       string
	ByPool   bool
	Hops     int
	Pools    string
	JSON     bool
}

// reserveJSON is the output of `reserve --json`.
type reserveJSON struct {
	Height     int32             `json:"height"`
	Time       string            `json:"time"`
	Hops       int               `json:"hops"`
	ReserveSat int64             `json:"reserve_sat"`
	FromHeight int32             `json:"tracked_from_height"`
	Pools      []reservePoolJSON `json:"pools,omitempty"`
}

type reservePoolJSON struct {
	Pool       string `json:"pool"`
	ReserveSat int64  `json:"reserve_sat"`
}

func newReserveCommand(g *globalOptions) *cobra.Command {
	opts := reserveOptions{AtHeight: -1}
	cmd := &cobra.Command{
		Use:   "reserve",
		Short: "Miner reserve: the value of the unspent outputs miner scripts hold, at a height or date",
		Long: `reserve sums the unspent miner outputs after a block (default: the tip; --at-height H, or
--at DATE for the last block timestamped before that instant; a date alone means its 00:00 UTC).
--by-pool splits it by the pool whose coinbase paid each script, from the coinbase attribution
(--pools FILE to use other pool definitions: nothing is re-indexed). --hops 0|1 as in outflows.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("at-height") && opts.At != "" {
				return usagef("--at-height and --at exclude each other")
			}
			if cmd.Flags().Changed("at-height") && opts.AtHeight < 0 {
				return usagef("--at-height must not be negative")
			}
			if err := checkHops(opts.Hops); err != nil {
				return err
			}
			return runReserve(cmd.Context(), g, opts)
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.AtHeight, "at-height", -1, "after the block at this height (default: the tip)")
	f.StringVar(&opts.At, "at", "", "at this UTC instant or date")
	f.BoolVar(&opts.ByPool, "by-pool", false, "split by pool")
	f.IntVar(&opts.Hops, "hops", 0, "miner set: 0 or 1 (see outflows)")
	f.StringVar(&opts.Pools, "pools", "", poolsFlagUsage)
	f.BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func runReserve(ctx context.Context, g *globalOptions, opts reserveOptions) error {
	fd, err := g.openFlows(opts.Pools, "")
	if err != nil {
		return err
	}
	defer fd.Close()
	at := fd.hi
	switch {
	case opts.AtHeight >= 0:
		if int32(opts.AtHeight) < fd.lo || int32(opts.AtHeight) > fd.hi {
			return usagef("--at-height %d is outside the index's full blocks %d..%d", opts.AtHeight, fd.lo, fd.hi)
		}
		at = int32(opts.AtHeight)
	case opts.At != "":
		t, err := parseTime(opts.At)
		if err != nil {
			return err
		}
		if at, err = fd.resolveBound(t.Format("2006-01-02T15:04:05Z"), true); err != nil {
			return err
		}
		if at < fd.lo {
			return usagef("no indexed block is timestamped before %s (full blocks start at height %d)",
				report.Time(t.Unix()), fd.lo)
		}
	}
	recs, err := fd.db.BlockFlows(fd.lo, at)
	if err != nil {
		return err
	}
	var total btcutil.Amount
	byOrigin := map[int32]btcutil.Amount{}
	for i := range recs {
		l := &recs[i].Levels[opts.Hops]
		total += l.NetChange()
		if opts.ByPool {
			for _, o := range l.Origins {
				byOrigin[o.Origin] += o.Change
			}
		}
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	hdr, err := fd.db.Header(at)
	if err != nil {
		return err
	}
	out := reserveJSON{Height: at, Time: report.Time(hdr.Header.Timestamp.Unix()), Hops: opts.Hops,
		ReserveSat: int64(total), FromHeight: fd.lo}
	if opts.ByPool {
		byPool := map[string]btcutil.Amount{}
		for origin, v := range byOrigin {
			name, err := fd.pool(origin)
			if err != nil {
				return err
			}
			byPool[name] += v
		}
		for name, v := range byPool {
			if v != 0 {
				out.Pools = append(out.Pools, reservePoolJSON{Pool: name, ReserveSat: int64(v)})
			}
		}
		slices.SortFunc(out.Pools, func(a, b reservePoolJSON) int {
			return cmp.Or(cmp.Compare(b.ReserveSat, a.ReserveSat), cmp.Compare(a.Pool, b.Pool))
		})
	}
	if opts.JSON {
		return writeJSON(g.stdout, out)
	}
	if note := fd.flowsFromNote(); note != "" {
		fmt.Fprintln(g.stderr, note)
	}
	fmt.Fprintf(g.stdout, "miner reserve (%d-hop) after block %d (%s): %s\n", opts.Hops, out.Height, out.Time,
		btcString(out.ReserveSat))
	if !opts.ByPool {
		return nil
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "pool\treserve\tshare")
	for _, p := range out.Pools {
		share := 0.0
		if out.ReserveSat != 0 {
			share = 100 * float64(p.ReserveSat) / float64(out.ReserveSat)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.2f%%\n", p.Pool, btcString(p.ReserveSat), share)
	}
	return tw.Flush()
}
