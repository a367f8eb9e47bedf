package main

import (
	"context"
	"testing"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/chain"
	"github.com/minerscope/minerscope/chain/chaintest"
	"strings"
	"time"

	"github.com/btcsuite/btcd/wire"
)

type wireHeader = wire.BlockHeader

func isoTimeUTC(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }

type coinbaseRecord = analysis.CoinbaseRecord

// dialTestNode connects minerscope's chain client to the test node n.
func dialTestNode(tb testing.TB, ctx context.Context, n *chaintest.Node) *chain.Client {
	tb.Helper()
	client, err := chain.Dial(ctx, chain.Config{Host: n.RPCAddr, User: n.User, Pass: n.Pass})
	if err != nil {
		tb.Fatal(err)
	}
	return client
}
