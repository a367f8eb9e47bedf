package main

import (
	"testing"

	"github.com/minerscope/minerscope/chain/chaintest"
)

// TestBenchCommands runs both bench commands once against the mainnet node and checks that they report
// what they measured (no timing is asserted: speed is for benchmarks, not tests).
func TestBenchCommands(t *testing.T) {
	n := chaintest.StartMainnet(t)
	node := []string{"--node", n.RPCAddr, "--rpcuser", n.User, "--rpcpassword", n.Pass}
	for _, kind := range []string{"headers", "blocks"} {
		r := mustRun(t, append([]string{"bench", kind, "--rounds", "1", "--json"}, node...)...)
		var res benchResult
		decodeJSON(t, r.Stdout, &res)
		if res.Count != chaintest.MainnetTipHeight+1 || res.Rate <= 0 || res.BaselineRate <= 0 ||
			res.Ratio != res.Rate/res.BaselineRate || res.Unit != kind+"/s" {
			t.Errorf("bench %s: %+v", kind, res)
		}
	}
	if r := runCLI(t, nil, append([]string{"bench", "coffee"}, node...)...); r.Code != exitUsage {
		t.Errorf("bench coffee: exit %d", r.Code)
	}
}
