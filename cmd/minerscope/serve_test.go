package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minerscope/minerscope/chain/chaintest"
	"github.com/minerscope/minerscope/index"
)

// apiWait bounds how long a test waits for the API to show a change. It stops a hung test; it asserts
// nothing about speed.
const apiWait = time.Minute

// serveStatus is the part of /api/v1/minerscope/status the tests read.
type serveStatus struct {
	IndexHeight *int32 `json:"index_height"`
	IndexHash   string `json:"index_hash"`
	NodeHeight  *int32 `json:"node_height"`
	Following   bool   `json:"following"`
	LastSync    string `json:"last_sync"`
}

// apiJSON GETs base+path and decodes a 200 answer into v; it reports whether it could.
func apiJSON(base, path string, v any) error {
	resp, err := http.Get(base + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return json.Unmarshal(body, v)
}

// waitStatus polls the status endpoint until ok holds.
func waitStatus(t *testing.T, base, what string, ok func(serveStatus) bool) serveStatus {
	t.Helper()
	deadline := time.Now().Add(apiWait)
	var last serveStatus
	var lastErr error
	for time.Now().Before(deadline) {
		var st serveStatus
		if lastErr = apiJSON(base, "/api/v1/minerscope/status", &st); lastErr == nil {
			last = st
			if ok(st) {
				return st
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the API did not show %s within %v; last status %+v, last error %v", what, apiWait, last, lastErr)
	return last
}

// nodeBlocks24h lists "height@time" for the node's main-chain blocks stamped in the 24 hours up to its
// tip's timestamp, from the node's own RPC.
func nodeBlocks24h(t *testing.T, ctx context.Context, n *chaintest.Node) []string {
	t.Helper()
	_, tip, err := n.BestBlock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var times []int64
	for h := int32(0); h <= tip; h++ {
		hash, err := n.BlockHash(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		hdr, err := n.BlockHeader(ctx, hash)
		if err != nil {
			t.Fatal(err)
		}
		times = append(times, hdr.Timestamp.Unix())
	}
	var out []string
	for h, ts := range times {
		if ts > times[tip]-86400 && ts <= times[tip] {
			out = append(out, fmt.Sprintf("%d@%d", h, ts))
		}
	}
	sort.Strings(out)
	return out
}

// apiBlocks24h lists "height@time" from /api/v1/mining/blocks/rewards/24h, whose buckets are one second
// wide: one block each when no two blocks share a timestamp.
func apiBlocks24h(t *testing.T, base string) []string {
	t.Helper()
	var rows []struct {
		AvgHeight int64 `json:"avgHeight"`
		Timestamp int64 `json:"timestamp"`
	}
	if err := apiJSON(base, "/api/v1/mining/blocks/rewards/24h", &rows); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%d@%d", r.AvgHeight, r.Timestamp))
	}
	sort.Strings(out)
	return out
}

// TestServeFollowsAndReorgs runs serve in-process against a simnet btcd while the test mines blocks and
// forces a reorg: the API shows each new tip, and after the reorg the replaced blocks are gone from it.
func TestServeFollowsAndReorgs(t *testing.T) {
	n := chaintest.StartSimnet(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now().Add(-10 * time.Hour).Truncate(time.Second)
	if err := n.MineChain(ctx, 30, time.Minute, start); err != nil {
		t.Fatal(err)
	}

	var stderr syncBuffer
	g := &globalOptions{Node: n.RPCAddr, RPCUser: n.User, RPCPassword: n.Pass, IndexDir: t.TempDir(), Quiet: true,
		stdout: io.Discard, stderr: &stderr, getenv: func(string) string { return "" }}
	opts := serveOptions{indexOptions: defaultIndexOptions(), Listen: "127.0.0.1:0"}
	opts.Poll = 50 * time.Millisecond
	addr := make(chan string, 1)
	opts.listening = func(a string) { addr <- a }
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- runServe(sctx, g, opts) }()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("serve ended before listening: %v\n%s", err, stderr.String())
	}

	st := waitStatus(t, base, "the initial sync", func(s serveStatus) bool {
		return s.IndexHeight != nil && *s.IndexHeight == 30
	})
	if !st.Following || st.NodeHeight == nil || *st.NodeHeight != 30 || st.LastSync == "" ||
		st.IndexHash != nodeHash(t, n, 30).String() {
		t.Fatalf("status after the initial sync: %+v; want following, node and index at 30", st)
	}
	// Passes that find nothing new still say when the node was last reached.
	first := st.LastSync
	waitStatus(t, base, "a later pass at the same tip", func(s serveStatus) bool {
		return s.LastSync != first && *s.IndexHeight == 30
	})

	if err := n.MineChain(ctx, 5, time.Minute, start.Add(31*time.Minute)); err != nil {
		t.Fatal(err)
	}
	tip35 := nodeHash(t, n, 35).String()
	waitStatus(t, base, "block 35", func(s serveStatus) bool { return s.IndexHash == tip35 })
	before := apiBlocks24h(t, base)
	if want := nodeBlocks24h(t, ctx, n); strings.Join(before, " ") != strings.Join(want, " ") {
		t.Fatalf("blocks in the API before the reorg:\n%v\nthe node's:\n%v", before, want)
	}

	// Replace blocks 32 to 35 by a longer branch (32 to 36).
	replaced := map[string]bool{}
	for h := int32(32); h <= 35; h++ {
		replaced[nodeHash(t, n, h).String()] = true
	}
	b, err := n.Builder(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Reorg(ctx, b, 4); err != nil {
		t.Fatal(err)
	}
	tip36 := nodeHash(t, n, 36).String()
	st = waitStatus(t, base, "the reorg to block 36", func(s serveStatus) bool { return s.IndexHash == tip36 })
	if *st.IndexHeight != 36 || replaced[st.IndexHash] {
		t.Fatalf("status after the reorg: %+v", st)
	}
	after := apiBlocks24h(t, base)
	if want := nodeBlocks24h(t, ctx, n); strings.Join(after, " ") != strings.Join(want, " ") {
		t.Fatalf("blocks in the API after the reorg:\n%v\nthe node's:\n%v", after, want)
	}
	var pools struct {
		BlockCount int `json:"blockCount"`
	}
	if err := apiJSON(base, "/api/v1/mining/pools/all", &pools); err != nil || pools.BlockCount != 37 {
		t.Fatalf("pools/all after the reorg: %d blocks (%v), want 37 (heights 0 to 36)", pools.BlockCount, err)
	}
	var next struct {
		TipHeight int32 `json:"tip_height"`
	}
	if err := apiJSON(base, "/api/v1/minerscope/next-adjustment", &next); err != nil || next.TipHeight != 36 {
		t.Fatalf("next-adjustment after the reorg: tip %d (%v), want 36", next.TipHeight, err)
	}

	stop()
	if err := <-done; err != nil {
		t.Fatalf("serve ended with %v after its context was cancelled, want nil\n%s", err, stderr.String())
	}
	db, _, err := index.OpenExisting(g.IndexDir)
	if err != nil {
		t.Fatalf("the index does not reopen after serve stopped: %v", err)
	}
	defer db.Close()
	if h, hash, _ := db.Tip(); h != 36 || hash.String() != tip36 {
		t.Fatalf("index tip %d %v after serve stopped, want 36 %s", h, hash, tip36)
	}
}

// TestServeSIGTERM starts the built binary, waits for the API to answer at the node's tip, sends SIGTERM
// and expects exit status 0 and an index that reopens cleanly.
func TestServeSIGTERM(t *testing.T) {
	n := chaintest.StartSimnet(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := n.MineChain(ctx, 20, time.Minute, time.Now().Add(-time.Hour).Truncate(time.Second)); err != nil {
		t.Fatal(err)
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--poll", "100ms"},
		nodeArgs(n, dir)...)...)
	cmd.Env = []string{"HOME=" + t.TempDir()}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	serving := regexp.MustCompile(`serving http://([0-9.:]+)/`)
	deadline := time.Now().Add(apiWait)
	var base string
	for base == "" {
		if m := serving.FindStringSubmatch(stderr.String()); m != nil {
			base = "http://" + m[1]
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("serve exited before listening: %v\n%s", err, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("serve did not listen within %v:\n%s", apiWait, stderr.String())
		}
	}
	tip := nodeHash(t, n, 20).String()
	waitStatus(t, base, "block 20", func(s serveStatus) bool { return s.IndexHash == tip })

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM, want status 0\n%s", err, stderr.String())
		}
	case <-time.After(apiWait):
		_ = cmd.Process.Kill()
		t.Fatalf("serve did not exit within %v of SIGTERM\n%s", apiWait, stderr.String())
	}
	db, _, err := index.OpenExisting(dir)
	if err != nil {
		t.Fatalf("the index does not reopen after SIGTERM: %v", err)
	}
	defer db.Close()
	if h, hash, _ := db.Tip(); h != 20 || hash.String() != tip {
		t.Fatalf("index tip %d %v after SIGTERM, want 20 %s", h, hash, tip)
	}
}
