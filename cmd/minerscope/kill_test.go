package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minerscope/minerscope/chain/chaintest"
	"github.com/minerscope/minerscope/index"
)

// TestKillNineResumes runs `minerscope index` as a real process against the mainnet node, kills it with
// SIGKILL at 20 or more random moments of the sync (fetching, verifying, committing), checks after each kill
// that the index opens consistent (its tip, the header at the tip and the undo data agree, coinbase rows
// match the mode), and lets it finish: the index is then identical, key for key, to one built in a single
// uninterrupted run, and so is every export (blocks, epochs, outflows per transaction and per day at both
// levels, reserves), byte for byte.
func TestKillNineResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it repeatedly")
	}
	bin := buildBinary(t)
	n := chaintest.StartMainnet(t)
	rng := rand.New(rand.NewPCG(9, 9))
	var dirs []string
	kills := 0
	for round := 0; round == 0 || (kills < 20 && round < 6); round++ {
		dir := t.TempDir()
		dirs = append(dirs, dir)
		args := append([]string{"index", "--quiet"}, nodeArgs(n, dir)...)
		kills += killUntilDone(t, bin, args, dir, func() time.Duration {
			return time.Duration(20+rng.IntN(150)) * time.Millisecond
		})
	}
	if kills < 20 {
		t.Fatalf("only %d kills landed before the syncs finished", kills)
	}
	t.Logf("%d kills over %d syncs", kills, len(dirs))
	fresh := t.TempDir()
	mustRun(t, append([]string{"index", "--quiet"}, nodeArgs(n, fresh)...)...)
	want := exportsOf(t, fresh)
	for _, dir := range dirs {
		assertSameIndex(t, dir, fresh)
		assertSameExports(t, exportsOf(t, dir), want)
	}
}

// TestKillNineDuringReorg kills `minerscope index` while it undoes deep reorgs: a simnet node whose 300
// newest blocks are replaced by a longer branch, as many times as it takes for kills to land. After every kill the index opens consistent, and when the
// sync finally completes the index and its exports equal a fresh sync of the new chain.
func TestKillNineDuringReorg(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it repeatedly")
	}
	bin := buildBinary(t)
	n := chaintest.StartSimnet(t)
	ctx := t.Context()
	b, err := n.Builder(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := n.Params.GenesisBlock.Header.Timestamp.Add(time.Minute)
	if _, err := n.SubmitChain(ctx, b, 600, func(i int) chaintest.BlockOpts {
		return chaintest.BlockOpts{Time: start.Add(time.Duration(i) * time.Minute)}
	}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mustRun(t, append([]string{"index", "--quiet"}, nodeArgs(n, dir)...)...)

	// A reorg of 300 blocks takes the index some tens of milliseconds; reorg again until kills landed.
	rng := rand.New(rand.NewPCG(3, 4))
	args := append([]string{"index", "--quiet"}, nodeArgs(n, dir)...)
	kills := 0
	for round := 0; kills < 3 && round < 6; round++ {
		if _, err := n.Reorg(ctx, b, 300); err != nil {
			t.Fatal(err)
		}
		kills += killUntilDone(t, bin, args, dir, func() time.Duration {
			return time.Duration(rng.IntN(30)) * time.Millisecond
		})
	}
	t.Logf("%d kills during reorgs", kills)
	if kills == 0 {
		t.Fatal("no kill landed during a reorg")
	}
	fresh := t.TempDir()
	mustRun(t, append([]string{"index", "--quiet"}, nodeArgs(n, fresh)...)...)
	assertSameIndex(t, dir, fresh)
	assertSameExports(t, exportsOf(t, dir), exportsOf(t, fresh))
}

// buildBinary builds minerscope into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "minerscope")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// killUntilDone runs the binary with args again and again, killing it after delay() each time, until a run
// finishes by itself; after every run the index in dir must open. Each kill adds 5 ms to the delay, so that
// the runs end even on a machine too loaded to get anything done within the first delays. It returns the
// number of kills.
func killUntilDone(t *testing.T, bin string, args []string, dir string, delay func() time.Duration) int {
	t.Helper()
	kills := 0
	for {
		killed, err := runAndMaybeKill(t, bin, args, delay()+time.Duration(kills)*5*time.Millisecond)
		if err != nil {
			t.Fatalf("index exited with %v after %d kills", err, kills)
		}
		db, _, err := index.OpenExisting(dir)
		if err != nil {
			t.Fatalf("after kill %d: the index does not open: %v", kills, err)
		}
		db.Close()
		if !killed {
			return kills
		}
		kills++
	}
}

// exportsOf runs every export over the index in dir and returns their outputs by command line.
func exportsOf(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, args := range [][]string{
		{"blocks", "--csv"},
		{"epochs", "--csv"},
		{"rewards", "--series", "daily", "--csv"},
		{"outflows", "--tx", "--csv", "--hops", "0"},
		{"outflows", "--tx", "--csv", "--hops", "1"},
		{"outflows", "--series", "daily", "--csv", "--hops", "0"},
		{"outflows", "--series", "daily", "--csv", "--hops", "1"},
		{"outflows", "--series", "epoch", "--by-pool", "--csv"},
		{"reserve", "--json", "--hops", "0"},
		{"reserve", "--json", "--hops", "1", "--by-pool"},
	} {
		r := mustRun(t, append(args, "--index", dir)...)
		out[strings.Join(args, " ")] = r.Stdout
	}
	return out
}

// assertSameExports compares two exportsOf results byte for byte.
func assertSameExports(t *testing.T, got, want map[string]string) {
	t.Helper()
	for cmd, w := range want {
		if got[cmd] != w {
			t.Errorf("minerscope %s differs from a clean run:\n%s", cmd, firstDiff(got[cmd], w))
		}
	}
}

// firstDiff shows the first differing line of two outputs.
func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(la), len(lb)) {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n  got  %q\n  want %q", i+1, x, y)
		}
	}
	return "(equal)"
}

// runAndMaybeKill runs the binary and kills it with SIGKILL after delay unless it exits first; it
// reports whether it was killed and the exit error of a process that ended by itself.
func runAndMaybeKill(t *testing.T, bin string, args []string, delay time.Duration) (bool, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		return false, err
	case <-time.After(delay):
		if err := cmd.Process.Signal(syscall.SIGKILL); errors.Is(err, os.ErrProcessDone) {
			return false, <-exited // it finished just before the kill
		} else if err != nil {
			t.Fatal(err)
		}
		<-exited
		return true, nil
	}
}
