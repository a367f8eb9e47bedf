package main

import (
	"context"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/minerscope/minerscope/chain"
	"github.com/minerscope/minerscope/chain/chaintest"
	"github.com/minerscope/minerscope/index"
)

// TestFollowTracksNewBlocksAndReorgs runs the --follow loop against a simnet node while the test mines blocks
// and then forces a reorg; the index follows both and ends equal to a fresh sync.
func TestFollowTracksNewBlocksAndReorgs(t *testing.T) {
	n := chaintest.StartSimnet(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now().Add(-10 * time.Hour).Truncate(time.Second)
	if err := n.MineChain(ctx, 30, time.Minute, start); err != nil {
		t.Fatal(err)
	}

	client := dialTestNode(t, ctx, n)
	dir := t.TempDir()
	db, err := index.Open(dir, client.Network(), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetBlocksFrom(0, true); err != nil {
		t.Fatal(err)
	}
	reports := make(chan syncResult, 100)
	followCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		s := newSyncer(client, db, nil, nil)
		s.blocks = chain.NewRPCBlockSource(client, 0, 0)
		done <- s.follow(followCtx, 20*time.Millisecond,
			func(r syncResult) { reports <- r }, func(err error) { t.Logf("retry: %v", err) })
	}()
	waitFor := func(what string, ok func(syncResult) bool) syncResult {
		t.Helper()
		for {
			select {
			case r := <-reports:
				if ok(r) {
					return r
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	waitFor("initial sync", func(r syncResult) bool { return r.IndexHeight == 30 })

	if err := n.MineChain(ctx, 5, time.Minute, start.Add(31*time.Minute)); err != nil {
		t.Fatal(err)
	}
	waitFor("5 new blocks", func(r syncResult) bool { return r.IndexHeight == 35 })

	b, err := n.Builder(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Reorg(ctx, b, 4); err != nil {
		t.Fatal(err)
	}
	r := waitFor("the reorg", func(r syncResult) bool { return r.Disconnected > 0 })
	if r.Disconnected != 4 || r.ForkHeight != 31 || r.IndexHeight != 36 {
		t.Fatalf("reorg pass: %+v; want 4 blocks undone above 31 and tip 36", r)
	}
	if got, want := mustHashAt(t, db, 36), nodeHash(t, n, 36); got != want {
		t.Fatalf("tip %v, node %v", got, want)
	}

	stop()
	if err := <-done; err != context.Canceled {
		t.Fatalf("follow ended with %v, want context.Canceled", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	fresh := t.TempDir()
	mustRun(t, append([]string{"index", "--quiet"}, nodeArgs(n, fresh)...)...)
	assertSameIndex(t, dir, fresh)
}

func mustHashAt(t testing.TB, db *index.DB, h int32) chainhash.Hash {
	t.Helper()
	hash, err := db.HashAt(h)
	if err != nil {
		t.Fatal(err)
	}
	return hash
}
