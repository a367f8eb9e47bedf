package main

import (
	"context"
	"testing"
	"time"

	"github.com/minerscope/minerscope/chain/chaintest"
	"github.com/minerscope/minerscope/index"
)

// TestNodeErrors checks that each error a user can hit against a real node gives its clear message and
// exit code, and leaves the existing index exactly as it was.
func TestNodeErrors(t *testing.T) {
	simnet := chaintest.StartSimnet(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := simnet.MineChain(ctx, 20, time.Minute, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mustRun(t, append([]string{"index", "--quiet"}, nodeArgs(simnet, dir)...)...)
	snapshot := func() map[string]string {
		db, _, err := index.OpenExisting(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		return index.Dump(t, db)
	}
	before := snapshot()

	mainnet := chaintest.StartMainnet(t)
	down := chaintest.StartSimnet(t)
	downAddr := down.RPCAddr
	if err := down.Stop(); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		args []string
		code int
		says []string
	}{
		{"wrong password",
			[]string{"index", "--node", simnet.RPCAddr, "--rpcuser", simnet.User, "--rpcpassword", "wrong", "--index", dir},
			exitNodeAuth, []string{"refused the RPC credentials"}},
		{"node down",
			[]string{"index", "--node", downAddr, "--rpcuser", "u", "--rpcpassword", "p", "--index", dir},
			exitNodeDown, []string{downAddr}},
		{"wrong network",
			append([]string{"index"}, nodeArgs(mainnet, dir)...),
			exitWrongIndex, []string{"simnet", "mainnet"}},
		{"bad flag", []string{"index", "--poll", "soon", "--index", dir}, exitUsage, []string{"--poll"}},
		{"bad window", []string{"hashrate", "--index", dir, "--window", "7x"}, exitUsage, []string{"7x"}},
		{"blocks and window", []string{"hashrate", "--index", dir, "--window", "7d", "--blocks", "5"}, exitUsage, []string{"exclude"}},
		{"height above tip", []string{"hashrate", "--index", dir, "--at-height", "999"}, exitUsage, []string{"above the index tip"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, nil, c.args...)
			if r.Code != c.code {
				t.Errorf("exit %d, want %d\nstderr: %s", r.Code, c.code, r.Stderr)
			}
			for _, s := range c.says {
				if !contains(r.Stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, r.Stderr)
				}
			}
			index.DiffDumps(t, before, snapshot())
		})
	}
}

// restartingProgress restarts the node once, after the first batch has been stored.
type restartingProgress struct {
	t       *testing.T
	node    *chaintest.Node
	done    bool
	batches int
}

func (p *restartingProgress) Start(from, to int32) {}
func (p *restartingProgress) Finish()              {}
func (p *restartingProgress) Advance(int32) {
	p.batches++
	if p.done {
		return
	}
	p.done = true
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.node.Restart(ctx); err != nil {
		p.t.Errorf("restart: %v", err)
	}
}

// TestSyncSurvivesNodeRestart restarts btcd in the middle of a header sync; the sync reconnects, resumes and
// ends with every header.
func TestSyncSurvivesNodeRestart(t *testing.T) {
	n := chaintest.StartMainnet(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	client := dialTestNode(t, ctx, n)
	db, err := index.Open(t.TempDir(), client.Network(), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	p := &restartingProgress{t: t, node: n}
	s := newSyncer(client, db, nil, p)
	res, err := s.syncOnce(ctx)
	if err != nil {
		t.Fatalf("sync across a node restart: %v", err)
	}
	if !p.done || p.batches < 2 {
		t.Fatalf("the node was not restarted mid-sync (batches %d)", p.batches)
	}
	if res.IndexHeight != chaintest.MainnetTipHeight {
		t.Fatalf("index height %d, want %d", res.IndexHeight, chaintest.MainnetTipHeight)
	}
	file := index.MainnetHeaders(t)
	for _, h := range []int32{0, 499, 500, 501, 7000, chaintest.MainnetTipHeight} {
		if got, _ := db.HashAt(h); got != file[h].BlockHash() {
			t.Fatalf("height %d: %v, want %v", h, got, file[h].BlockHash())
		}
	}
}
