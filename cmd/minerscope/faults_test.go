package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minerscope/minerscope/chain/chaintest"
	"github.com/minerscope/minerscope/index"
)

// TestNodeFaults syncs the mainnet-14k btcd through a proxy that makes the node misbehave the way real nodes
// do, and checks that each fault ends either in a resumed sync whose index equals, key for key and export for
// export, one synced without faults, or in a clear error that leaves only good blocks in the index:
//   - busy: HTTP 503 "Work queue depth exceeded" for the first requests and now and then afterwards;
//   - slow: every reply delayed, by varying amounts so that concurrent replies arrive out of order;
//   - cut: replies cut after half their body, with and without Content-Length, and single replies cut
//     right after an inner object, so that what arrives still ends in a brace;
//   - corrupt block: a getblock reply whose bytes do not hash to the requested block; the sync stops
//     before it with an error naming the height, and resumes once the node serves the right bytes;
//   - restart with new cookie: btcd stopped mid-sync and restarted with a new cookie password under a
//     `minerscope index` process authenticating with --rpccookiefile, which must finish by itself.
func TestNodeFaults(t *testing.T) {
	n := chaintest.StartMainnet(t)
	clean := t.TempDir()
	mustRun(t, append([]string{"index", "--quiet"}, nodeArgs(n, clean)...)...)
	want := faultExports(t, clean)

	// syncThrough runs `minerscope index` through a proxy with faults f and returns the proxy and the
	// index directory.
	syncThrough := func(t *testing.T, f chaintest.Faults) (*chaintest.Proxy, string) {
		p := startProxy(t, n.RPCAddr)
		p.SetFaults(f)
		dir := t.TempDir()
		mustRun(t, append([]string{"index", "--quiet"}, proxyArgs(p, n, dir)...)...)
		t.Logf("proxy: %+v", p.Stats())
		return p, dir
	}
	same := func(t *testing.T, dir string) {
		t.Helper()
		assertSameIndex(t, dir, clean)
		assertSameExports(t, faultExports(t, dir), want)
	}

	t.Run("busy", func(t *testing.T) {
		p, dir := syncThrough(t, chaintest.Faults{Busy: 3, BusyEvery: 250})
		if s := p.Stats(); s.Busy < 3+5 {
			t.Errorf("only %d requests were answered 503", s.Busy)
		}
		same(t, dir)
	})

	t.Run("slow", func(t *testing.T) {
		// 0 to 9 ms on most requests, 50 ms on every 64th: replies overtake each other.
		p, dir := syncThrough(t, chaintest.Faults{Delay: func(i int64) time.Duration {
			if i%64 == 0 {
				return 50 * time.Millisecond
			}
			return time.Duration(i*7%10) * time.Millisecond
		}})
		if s := p.Stats(); s.Forwarded < 1000 {
			t.Errorf("only %d requests went through the slow proxy", s.Forwarded)
		}
		same(t, dir)
	})

	t.Run("cut", func(t *testing.T) {
		var braceCuts atomic.Int32
		p, dir := syncThrough(t, chaintest.Faults{CutAt: func(i int64, body []byte) int {
			if i%150 == 0 {
				return len(body) / 2
			}
			// The first two single replies with an inner object (getblockchaininfo) are cut right after
			// it, so that what arrives still ends in a brace like a whole reply: the first without
			// Content-Length, as btcd replies, the second with it.
			whole := bytes.TrimSpace(body)
			if len(whole) > 0 && whole[0] == '{' {
				k := bytes.IndexByte(whole[1:], '}')
				if k >= 0 && k+2 < len(whole) && braceCuts.Add(1) <= 2 {
					return k + 2
				}
			}
			return -1
		}})
		if s := p.Stats(); s.Cut < 6 || braceCuts.Load() < 2 {
			t.Errorf("only %d replies were cut, %d of them after an inner object", s.Cut, min(braceCuts.Load(), 2))
		}
		same(t, dir)
	})

	t.Run("corrupt block", func(t *testing.T) {
		testCorruptBlock(t, n, clean, want)
	})

	t.Run("restart with new cookie", func(t *testing.T) {
		testRestartNewCookie(t, n, clean, want)
	})
}

// testCorruptBlock makes the proxy corrupt one block, first in its transactions (the merkle root no longer
// matches) and then, higher up, in its header (the block hashes to something else). Each time
// `minerscope index` must fail naming the height, leave an index that reopens with every block below that
// height and nothing else, and on the next run, with the node honest again, carry on.
func testCorruptBlock(t *testing.T, n *chaintest.Node, clean string, want map[string]string) {
	p := startProxy(t, n.RPCAddr)
	dir := t.TempDir()
	args := append([]string{"index", "--quiet"}, proxyArgs(p, n, dir)...)
	cleanBlocks := strings.SplitAfter(want["blocks --csv"], "\n")

	for _, c := range []struct {
		height int32
		offset int    // byte flipped: -1 is the last byte (the last transaction's lock time), 79 the nonce's
		says   string // what the error says is wrong
	}{
		{9000, -1, "merkle root"},
		{12345, 79, "header hashes to"},
	} {
		p.CorruptBlock(nodeHash(t, n, c.height), c.offset)
		before := p.Stats().Corrupted
		r := runCLI(t, nil, args...)
		if r.Code != exitBadNode {
			t.Fatalf("index over a corrupt block at height %d exited %d, want %d\n%s",
				c.height, r.Code, exitBadNode, r.Stderr)
		}
		if p.Stats().Corrupted == before {
			t.Fatalf("the proxy corrupted no reply for block %d", c.height)
		}
		for _, s := range []string{fmt.Sprintf("height %d", c.height), "invalid block", c.says} {
			if !contains(r.Stderr, s) {
				t.Errorf("corrupt block %d: stderr lacks %q:\n%s", c.height, s, r.Stderr)
			}
		}
		t.Logf("corrupt block %d: %s", c.height, strings.TrimSpace(r.Stderr))

		tip := indexTip(t, dir)
		if tip != c.height-1 {
			t.Errorf("after the corrupt block %d the index tip is %d, want %d", c.height, tip, c.height-1)
		}
		got := mustRun(t, "blocks", "--csv", "--index", dir).Stdout
		if prefix := strings.Join(cleanBlocks[:min(int(tip)+2, len(cleanBlocks))], ""); got != prefix {
			t.Errorf("blocks --csv after the corrupt block %d is not the clean index's first %d rows:\n%s",
				c.height, tip+1, firstDiff(got, prefix))
		}
		// The index's own invariants hold, and sampled blocks match the (honest) node.
		mustRun(t, append([]string{"check", "--sample", "20", "--seed", "7"}, nodeArgs(n, dir)...)...)
		p.ClearCorruption()
	}

	mustRun(t, args...)
	assertSameIndex(t, dir, clean)
	assertSameExports(t, faultExports(t, dir), want)
}

// testRestartNewCookie runs `minerscope index --rpccookiefile` as a process through a slowed proxy, stops
// btcd mid-sync, and starts it again on the same data directory with a new cookie, as bitcoind does at
// every start. btcd has no cookie: the cookie's user and password become btcd's --rpcuser and --rpcpass
// (the Node's User and Pass, which its readiness probe uses too).
// The process must ride out the downtime (connection dropped, retried), re-read the cookie on the 401 and
// finish with the same index as a clean sync.
func testRestartNewCookie(t *testing.T, n *chaintest.Node, clean string, want map[string]string) {
	bin := buildBinary(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cookie := filepath.Join(t.TempDir(), ".cookie")
	restart := func(pass string) {
		t.Helper()
		if err := n.Stop(); err != nil {
			t.Fatal(err)
		}
		// bitcoind removes its cookie at shutdown and writes a new one before its RPC server listens.
		if err := os.Remove(cookie); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		if err := os.WriteFile(cookie, []byte("__cookie__:"+pass), 0o600); err != nil {
			t.Fatal(err)
		}
		n.User, n.Pass = "__cookie__", pass
		if err := n.Restart(ctx); err != nil {
			t.Fatal(err)
		}
	}
	restart("3a9f0c1e-first")

	p := startProxy(t, n.RPCAddr)
	p.SetFaults(chaintest.Faults{Delay: func(int64) time.Duration { return 3 * time.Millisecond }})
	dir := t.TempDir()
	cmd := exec.Command(bin, "index", "--quiet", "--node", p.Addr, "--rpccookiefile", cookie, "--index", dir)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	ended := false
	defer func() {
		if !ended {
			_ = cmd.Process.Kill()
			<-exited
		}
	}()

	// Restart once a third of the sync's requests went through.
	for p.Stats().Forwarded < 600 {
		select {
		case err := <-exited:
			ended = true
			t.Fatalf("index ended (%v) before the node was restarted; slow the proxy down\n%s", err, stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	stoppedAt := p.Stats()
	restart("7d24b6e8-second")
	p.SetTarget(n.RPCAddr) // Restart falls back to new ports if the old ones were taken

	select {
	case err := <-exited:
		ended = true
		if err != nil {
			t.Fatalf("index across the restart: %v\n%s", err, stderr.String())
		}
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-exited
		ended = true
		t.Fatalf("index did not finish within 2 minutes of the restart\n%s", stderr.String())
	}
	s := p.Stats()
	t.Logf("proxy at the stop: %+v; at the end: %+v", stoppedAt, s)
	if s.Down == stoppedAt.Down {
		t.Error("no request found the node down: the restart was not mid-sync")
	}
	if s.Refused == stoppedAt.Refused {
		t.Error("the restarted node refused no request: the client never met the stale cookie")
	}
	assertSameIndex(t, dir, clean)
	assertSameExports(t, faultExports(t, dir), want)
}

// startProxy starts a fault-injecting proxy in front of the node at addr for the rest of the test.
func startProxy(t *testing.T, addr string) *chaintest.Proxy {
	t.Helper()
	p, err := chaintest.StartProxy(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// proxyArgs are the flags that reach node n through proxy p with an index in dir.
func proxyArgs(p *chaintest.Proxy, n *chaintest.Node, dir string) []string {
	return []string{"--node", p.Addr, "--rpcuser", n.User, "--rpcpassword", n.Pass, "--index", dir}
}

// faultExports are the exports the fault tests compare with a clean sync's: every block row, and every
// transaction moving miner coins one hop out.
func faultExports(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, args := range [][]string{
		{"blocks", "--csv"},
		{"outflows", "--tx", "--csv", "--hops", "1"},
	} {
		out[strings.Join(args, " ")] = mustRun(t, append(args, "--index", dir)...).Stdout
	}
	return out
}

// indexTip reopens the index in dir, which must open cleanly, and returns its tip height.
func indexTip(t *testing.T, dir string) int32 {
	t.Helper()
	db, _, err := index.OpenExisting(dir)
	if err != nil {
		t.Fatalf("the index does not reopen: %v", err)
	}
	defer db.Close()
	tip, _, ok := db.Tip()
	if !ok {
		return -1
	}
	return tip
}
