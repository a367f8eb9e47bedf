package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/minerscope/minerscope/chain"
	"github.com/minerscope/minerscope/index"
	"github.com/minerscope/minerscope/report"
)

type statusOptions struct {
	JSON bool
}

// statusReport is the `status --json` document.
type statusReport struct {
	Network      string `json:"network"`
	IndexDir     string `json:"index_dir"`
	IndexHeight  int32  `json:"index_height"`
	IndexTipHash string `json:"index_tip_hash,omitempty"`
	IndexTipTime string `json:"index_tip_time,omitempty"`
	Headers      int64  `json:"headers"`
	FullBlocks   bool   `json:"full_blocks"`
	BlocksFrom   *int32 `json:"blocks_from,omitempty"`
	SizeBytes    int64  `json:"size_bytes"`
	NodeHeight   *int32 `json:"node_height,omitempty"`
	NodeHeaders  *int32 `json:"node_headers,omitempty"`
	NodeIBD      bool   `json:"node_initial_block_download"`
	BehindBlocks *int32 `json:"behind_blocks,omitempty"`
	NodeError    string `json:"node_error,omitempty"`

	// Miner flows, for an index with full blocks.
	Flows *statusFlows `json:"miner_flows,omitempty"`
}

// statusFlows summarises the miner-flow index.
type statusFlows struct {
	Scripts0      int   `json:"scripts_0hop"`
	Scripts1      int   `json:"scripts_1hop"` // including the 0-hop ones
	Outputs0      int   `json:"unspent_outputs_0hop"`
	Outputs1      int   `json:"unspent_outputs_1hop"` // including the 0-hop ones
	Reserve0Sat   int64 `json:"reserve_0hop_sat"`
	Reserve1Sat   int64 `json:"reserve_1hop_sat"`
	FlowTxs       int   `json:"spending_txs"`
	MissingValues int   `json:"txs_missing_input_values"`
}

func newStatusCommand(g *globalOptions) *cobra.Command {
	var opts statusOptions
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the network, node tip, index tip, counts and index size",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStatus(cmd.Context(), g, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func runStatus(ctx context.Context, g *globalOptions, opts statusOptions) error {
	rep := statusReport{IndexHeight: -1}

	// The node is optional for status: an unreachable node is reported, not fatal.
	node, nodeErr := g.dialNode(ctx)
	var info chain.ChainInfo
	if nodeErr == nil {
		info, nodeErr = node.ChainInfo(ctx)
	}
	if nodeErr != nil {
		rep.NodeError = nodeErr.Error()
	}

	var db *index.DB
	var err error
	if node != nil && g.IndexDir == "" {
		g.Network = node.Network().Name
	}
	if db, err = g.openIndexReadOnly(); err != nil {
		return err
	}
	defer db.Close()

	p := db.Params()
	rep.Network = p.Name
	rep.IndexDir = db.Dir()
	if h, hash, ok := db.Tip(); ok {
		rep.IndexHeight = h
		rep.IndexTipHash = hash.String()
		rec, err := db.Header(h)
		if err != nil {
			return err
		}
		rep.IndexTipTime = report.Time(rec.Header.Timestamp.Unix())
	}
	rep.Headers = int64(db.Count())
	if from, full := db.BlocksFrom(); full {
		rep.FullBlocks, rep.BlocksFrom = true, &from
		st, err := db.FlowStats()
		if err != nil {
			return err
		}
		rep.Flows = &statusFlows{Scripts0: st.Scripts[0], Scripts1: st.Scripts[0] + st.Scripts[1],
			Outputs0: st.Outputs[0], Outputs1: st.Outputs[0] + st.Outputs[1], Reserve0Sat: int64(st.Value[0]),
			Reserve1Sat: int64(st.Value[0] + st.Value[1]), FlowTxs: st.FlowTxs, MissingValues: st.MissingValues}
	}
	lsm, vlog := db.Size()
	rep.SizeBytes = lsm + vlog
	if nodeErr == nil {
		rep.NodeHeight, rep.NodeHeaders, rep.NodeIBD = &info.Blocks, &info.Headers, info.InitialBlockDownload
		behind := info.Blocks - rep.IndexHeight
		rep.BehindBlocks = &behind
	}

	if opts.JSON {
		return writeJSON(g.stdout, rep)
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "network\t%s\n", rep.Network)
	fmt.Fprintf(tw, "index\t%s\n", rep.IndexDir)
	fmt.Fprintf(tw, "index tip\theight %d  %s  %s\n", rep.IndexHeight, rep.IndexTipHash, rep.IndexTipTime)
	fmt.Fprintf(tw, "headers indexed\t%d\n", rep.Headers)
	if rep.FullBlocks {
		fmt.Fprintf(tw, "blocks\tfull blocks (coinbase records) from height %d\n", *rep.BlocksFrom)
	} else {
		fmt.Fprintf(tw, "blocks\theaders only\n")
	}
	if f := rep.Flows; f != nil {
		fmt.Fprintf(tw, "miner scripts\t%d 0-hop, %d 1-hop\n", f.Scripts0, f.Scripts1)
		fmt.Fprintf(tw, "miner outputs\t%d 0-hop holding %s, %d 1-hop holding %s\n", f.Outputs0,
			btcString(f.Reserve0Sat), f.Outputs1, btcString(f.Reserve1Sat))
		fmt.Fprintf(tw, "spending txs\t%d", f.FlowTxs)
		if f.MissingValues > 0 {
			fmt.Fprintf(tw, " (%d without their other inputs' values: node without txindex)", f.MissingValues)
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprintf(tw, "index size\t%s\n", humanize.IBytes(uint64(rep.SizeBytes)))
	if rep.NodeError != "" {
		fmt.Fprintf(tw, "node\tunavailable: %s\n", rep.NodeError)
	} else {
		fmt.Fprintf(tw, "node tip\theight %d (%d headers known)\n", info.Blocks, info.Headers)
		if rep.NodeIBD {
			fmt.Fprintf(tw, "node state\tinitial block download\n")
		}
		fmt.Fprintf(tw, "behind node\t%d blocks\n", *rep.BehindBlocks)
	}
	return tw.Flush()
}
