package main

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/minerscope/minerscope/chain/chaintest"
	"github.com/minerscope/minerscope/index"
)

// TestKillNineResumes runs `minerscope index` as a real process against the mainnet node, kills it with
// SIGKILL at random moments of the sync, checks after each kill that the index opens consistent (its tip,
// the header at the tip and the undo data agree, coinbase rows match the mode), and finally lets it finish:
// the index is then identical, key for key, to one built in a single uninterrupted run.
func TestKillNineResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it repeatedly")
	}
	bin := filepath.Join(t.TempDir(), "minerscope")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	n := chaintest.StartMainnet(t)
	rng := rand.New(rand.NewPCG(9, 9))
	var dirs []string
	kills := 0
	for round := range 2 {
		dir := t.TempDir()
		dirs = append(dirs, dir)
		args := append([]string{"index", "--quiet"}, nodeArgs(n, dir)...)
		for done := false; !done; {
			killed, err := runAndMaybeKill(t, bin, args, time.Duration(30+rng.IntN(220))*time.Millisecond)
			if err != nil {
				t.Fatalf("round %d: index exited with %v", round, err)
			}
			done = !killed
			if killed {
				kills++
			}
			db, _, err := index.OpenExisting(dir)
			if err != nil {
				t.Fatalf("round %d, after kill %d: the index does not open: %v", round, kills, err)
			}
			tip, _, _ := db.Tip()
			db.Close()
			t.Logf("round %d: tip %d (killed %v)", round, tip, killed)
		}
	}
	if kills < 4 {
		t.Fatalf("only %d kills landed before the syncs finished", kills)
	}
	fresh := t.TempDir()
	mustRun(t, append([]string{"index", "--quiet"}, nodeArgs(n, fresh)...)...)
	for _, dir := range dirs {
		assertSameIndex(t, dir, fresh)
	}
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
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-exited
		return true, nil
	}
}
