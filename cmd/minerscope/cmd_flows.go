package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/spf13/cobra"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/index"
	"github.com/minerscope/minerscope/report"
)

type flowsOptions struct {
	TxID  string
	Pools string
	JSON  bool
}

// flowsJSON is the output of `flows --json`.
type flowsJSON struct {
	TxID    string            `json:"txid"`
	Height  int32             `json:"height"`
	Index   int32             `json:"index"`
	Time    string            `json:"time"`
	Inputs  []flowsInputJSON  `json:"inputs"`
	Outputs []flowsOutputJSON `json:"outputs"`
	Levels  []flowsLevelJSON  `json:"levels"`
}

type flowsInputJSON struct {
	PrevOut string `json:"prevout"`
	// Miner is "0-hop", "1-hop" or "" for an output of no miner script.
	Miner    string `json:"miner"`
	ValueSat *int64 `json:"value_sat"` // null when unknown
	Origin   *int32 `json:"coinbase_height,omitempty"`
	Pool     string `json:"pool,omitempty"`
}

type flowsOutputJSON struct {
	Index    int    `json:"index"`
	ValueSat int64  `json:"value_sat"`
	Address  string `json:"address,omitempty"`
	Type     string `json:"type"`
	Miner    string `json:"miner"` // "0-hop", "1-hop" or "" (external at both levels)
	Pool     string `json:"pool,omitempty"`
}

type flowsLevelJSON struct {
	Hops          int    `json:"hops"`
	FromMinerSat  int64  `json:"from_miner_sat"`
	OtherInputSat *int64 `json:"other_input_sat"`
	ToMinerSat    int64  `json:"to_miner_sat"`
	ToExternalSat int64  `json:"to_external_sat"`
	FeeSat        *int64 `json:"fee_sat"`
	OutflowSat    int64  `json:"outflow_sat"`
	InternalSat   int64  `json:"internal_sat"`
	InflowSat     int64  `json:"inflow_sat"`
	Pool          string `json:"pool"`
}

func newFlowsCommand(g *globalOptions) *cobra.Command {
	var opts flowsOptions
	cmd := &cobra.Command{
		Use:   "flows --txid TXID",
		Short: "Explain one transaction spending miner outputs: which inputs were miner outputs, where each output went",
		Long: `flows explains how minerscope counts one transaction that spends a miner output: each input
(a miner output, with the height of the coinbase whose pool owns it, or another coin), each output
(paid to a 0-hop or 1-hop miner script, or external) and the resulting figures at both levels.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.TxID == "" {
				return usagef("--txid is required")
			}
			return runFlows(cmd.Context(), g, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.TxID, "txid", "", "transaction id (hex)")
	f.StringVar(&opts.Pools, "pools", "", poolsFlagUsage)
	f.BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func minerText(level int8) string {
	if level == analysis.NotMiner {
		return ""
	}
	return fmt.Sprintf("%d-hop", level)
}

func runFlows(ctx context.Context, g *globalOptions, opts flowsOptions) error {
	txid, err := chainhash.NewHashFromStr(opts.TxID)
	if err != nil || len(opts.TxID) != 2*chainhash.HashSize {
		return usagef("--txid %q is not a transaction id (64 hex digits)", opts.TxID)
	}
	fd, err := g.openFlows(opts.Pools, "")
	if err != nil {
		return err
	}
	defer fd.Close()
	tx, err := fd.db.FlowTx(*txid)
	if errors.Is(err, index.ErrNotFound) {
		return usagef("transaction %v spends no miner output in the indexed blocks %d..%d (only such "+
			"transactions are kept)", txid, fd.lo, fd.hi)
	}
	if err != nil {
		return err
	}
	out, err := explainFlow(fd, &tx)
	if err != nil {
		return err
	}
	if opts.JSON {
		return writeJSON(g.stdout, out)
	}
	return printFlows(g, out)
}

func explainFlow(fd *flowData, tx *index.FlowTx) (flowsJSON, error) {
	hdr, err := fd.db.Header(tx.Height)
	if err != nil {
		return flowsJSON{}, err
	}
	out := flowsJSON{TxID: tx.TxID.String(), Height: tx.Height, Index: tx.Index,
		Time: report.Time(hdr.Header.Timestamp.Unix())}
	for _, in := range tx.Inputs {
		j := flowsInputJSON{PrevOut: in.PrevOut.String(), Miner: minerText(in.Level)}
		if in.Known {
			v := int64(in.Value)
			j.ValueSat = &v
		}
		if in.Level != analysis.NotMiner {
			origin := in.Origin
			j.Origin = &origin
			if j.Pool, err = fd.pool(origin); err != nil {
				return out, err
			}
		}
		out.Inputs = append(out.Inputs, j)
	}
	for i, o := range tx.Outputs {
		addr, typ := analysis.ScriptAddress(fd.p, o.Script)
		j := flowsOutputJSON{Index: i, ValueSat: int64(o.Value), Address: addr, Type: typ, Miner: minerText(o.Level)}
		if o.Level != analysis.NotMiner {
			if j.Pool, err = fd.pool(o.Origin); err != nil {
				return out, err
			}
		}
		out.Outputs = append(out.Outputs, j)
	}
	for level := range 2 {
		f, err := tx.Flow(level)
		if err != nil {
			return out, err
		}
		pool, err := fd.pool(f.Origin)
		if err != nil {
			return out, err
		}
		l := flowsLevelJSON{Hops: level, FromMinerSat: int64(f.FromMiner), ToMinerSat: int64(f.ToMiner),
			ToExternalSat: int64(f.ToExternal), OutflowSat: int64(f.Outflow), InternalSat: int64(f.Internal),
			InflowSat: int64(f.Inflow), Pool: pool}
		if tx.FeeKnown() {
			other, fee := int64(f.OtherInput), int64(f.Fee)
			l.OtherInputSat, l.FeeSat = &other, &fee
		}
		out.Levels = append(out.Levels, l)
	}
	return out, nil
}

func printFlows(g *globalOptions, out flowsJSON) error {
	w := g.stdout
	fmt.Fprintf(w, "transaction %s\nblock %d (transaction %d), %s\n\ninputs\n", out.TxID, out.Height, out.Index,
		out.Time)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, in := range out.Inputs {
		v := "value unknown"
		if in.ValueSat != nil {
			v = btcString(*in.ValueSat)
		}
		what := "not a miner output"
		if in.Miner != "" {
			what = fmt.Sprintf("%s miner output, coinbase height %d (%s)", in.Miner, *in.Origin, in.Pool)
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\n", i, in.PrevOut, v, what)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\noutputs")
	for _, o := range out.Outputs {
		dest := o.Address
		if dest == "" {
			dest = o.Type
		}
		what := "external"
		if o.Miner != "" {
			what = fmt.Sprintf("%s miner script (%s)", o.Miner, o.Pool)
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\n", o.Index, btcString(o.ValueSat), dest, what)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprintln(tw, "level\tfrom miner\tother inputs\tto miner\tto external\tfee\toutflow\tinternal\tpool")
	for _, l := range out.Levels {
		other, fee := "unknown", "unknown"
		if l.FeeSat != nil {
			other, fee = btcString(*l.OtherInputSat), btcString(*l.FeeSat)
		}
		fmt.Fprintf(tw, "%d-hop\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.Hops, btcString(l.FromMinerSat), other,
			btcString(l.ToMinerSat), btcString(l.ToExternalSat), fee, btcString(l.OutflowSat),
			btcString(l.InternalSat), l.Pool)
	}
	return tw.Flush()
}
