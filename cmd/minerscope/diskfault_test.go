package main

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minerscope/minerscope/chain/chaintest"
	"github.com/minerscope/minerscope/index"
)

// diskFaultHeight is the tip of the partial index each disk fault strikes:
// the sync it interrupts connects the blocks above it, up to 14131.
const diskFaultHeight = 7000

// sigbusSignature is the Go runtime dying on a write into a mapped page a
// full file system cannot back: what Badger did before the index checked
// free space before each commit.
const sigbusSignature = "signal SIGBUS"

// TestIndexDiskFaults runs `minerscope index` as a real process against the mainnet node while the disk
// fails under it, starting from an index that holds blocks 0-7000 so that each fault strikes a sync that
// has work to do: the index directory read-only from the start and made read-only once the index is open,
// a file size limit (RLIMIT_FSIZE, as `ulimit -f` sets it), and, where the test may mount a tmpfs, a file
// system that fills up mid-sync. Each fault must end the run with a non-zero exit and an error naming the
// index directory and the cause, leave the index as it was or consistent, and once the fault is gone a
// plain rerun must resume the sync and build exactly the index, key for key, and the exports of a clean
// sync.
func TestIndexDiskFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it against a btcd node")
	}
	bin := buildBinary(t)
	shareTempRoot(t, filepath.Dir(bin))
	n := chaintest.StartMainnet(t)
	clean := t.TempDir()
	mustRun(t, append([]string{"index", "--quiet"}, nodeArgs(n, clean)...)...)
	partial := indexUpTo(t, n, diskFaultHeight)

	t.Run("read-only", func(t *testing.T) {
		testReadOnlyIndex(t, bin, n, copyIndex(t, partial), clean)
	})
	t.Run("file-size-limit", func(t *testing.T) {
		testFileSizeLimit(t, bin, n, copyIndex(t, partial), clean)
	})
	t.Run("full-filesystem", func(t *testing.T) {
		testFullFilesystem(t, bin, n, partial, clean)
	})
}

// testReadOnlyIndex: an index directory the process cannot write, first from the start, then from the
// moment the index is open.
func testReadOnlyIndex(t *testing.T, bin string, n *chaintest.Node, dir, clean string) {
	user := newChildUser(t, bin)
	user.own(t, dir)
	args := append([]string{"index", "--quiet"}, nodeArgs(n, dir)...)
	t.Cleanup(func() { setWritable(t, dir, true) }) // so that the directory can be removed

	// Read-only before the run: refused at once, nothing touched.
	before := snapshotDir(t, dir)
	setWritable(t, dir, false)
	cmd, stderr := user.command(bin, args...)
	err := cmd.Run()
	checkFaultExit(t, "read-only index directory", err, stderr.String(), dir, "permission denied")
	if after := snapshotDir(t, dir); after != before {
		t.Fatalf("a refused run changed the index directory:\nbefore %s\nafter  %s", before, after)
	}

	// Read-only once the index is open: Badger keeps writing its open files, and fails when it creates the
	// next one (here: when the run ends and its memtable is written out as a table).
	setWritable(t, dir, true)
	cmd, stderr = user.command(bin, args...)
	vlogs := globCount(t, dir, "*.vlog")
	exited := startCmd(t, cmd)
	if !waitFor(func() bool { return globCount(t, dir, "*.vlog") > vlogs }, exited) {
		t.Fatalf("the run ended before the index was open; stderr:\n%s", stderr.String())
	}
	setWritable(t, dir, false)
	// Badger retries a failed memtable flush forever inside its Close; the index gives up after its
	// close timeout with the cause, so the run must end by itself within the minute waitExit allows.
	err, _ = waitExit(t, cmd, exited, stderr, "\x00never printed")
	checkFaultExit(t, "index directory made read-only", err, stderr.String(), dir, "permission denied")

	setWritable(t, dir, true)
	cmd, stderr = user.command(bin, args...)
	if err := cmd.Run(); err != nil {
		t.Fatalf("rerun with the directory writable again: %v\n%s", err, stderr.String())
	}
	assertSameSync(t, dir, clean)
}

// testFileSizeLimit: a file size limit below the size Badger gives a new memtable file (128 MiB), so the
// run fails with EFBIG (SIGXFSZ ignored, as Go does) when it opens the index and creates one. Badger
// writes through memory maps of files sized when they are created, so that is the only moment a file
// size limit can strike: here when the index opens, in a sync writing more than a memtable (64 MiB; the
// whole index here is 14 MiB) also whenever a full memtable is replaced.
func testFileSizeLimit(t *testing.T, bin string, n *chaintest.Node, dir, clean string) {
	args := append([]string{"index", "--quiet"}, nodeArgs(n, dir)...)
	const limit = 16 << 20 // bytes; ulimit -f counts 512-byte blocks
	cmd := exec.Command("sh", append([]string{"-c", `trap '' XFSZ; ulimit -f "$0" && exec "$@"`,
		strconv.Itoa(limit / 512), bin}, args...)...)
	var stderr syncBuffer
	cmd.Stderr, cmd.Env = &stderr, append(os.Environ(), "HOME="+t.TempDir())
	err := cmd.Run()
	checkFaultExit(t, "file size limit", err, stderr.String(), dir, "file too large")
	if got := openTip(t, dir); got != diskFaultHeight {
		t.Fatalf("after the failed run the index tip is %d, want %d", got, diskFaultHeight)
	}

	mustRun(t, args...)
	assertSameSync(t, dir, clean)
}

// testFullFilesystem: the partial index on a tmpfs with 2 MiB left, so that the sync fills it; then the
// tmpfs is grown (space freed, more than the 256 MiB the index keeps free) and the sync rerun. It needs the right to mount (root, with
// CAP_SYS_ADMIN), and is skipped without it.
func testFullFilesystem(t *testing.T, bin string, n *chaintest.Node, partial, clean string) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", dirSize(t, partial)+2<<20)); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	copyFiles(t, partial, dir)
	args := append([]string{"index", "--quiet"}, nodeArgs(n, dir)...)

	cmd := exec.Command(bin, args...)
	var stderr syncBuffer
	cmd.Stderr, cmd.Env = &stderr, append(os.Environ(), "HOME="+t.TempDir())
	err := cmd.Run()
	if strings.Contains(stderr.String(), sigbusSignature) {
		t.Fatalf("minerscope index died with SIGBUS on a full file system instead of stopping with an "+
			"error: %s", firstLines(stderr.String(), 3))
	}
	checkFaultExit(t, "full file system", err, stderr.String(), dir, "no space left on device")

	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_REMOUNT, "size=512m"); err != nil {
		t.Fatalf("grow the tmpfs: %v", err)
	}
	if tip := openTip(t, dir); tip < diskFaultHeight || tip > chaintest.MainnetTipHeight {
		t.Fatalf("after the fault the index tip is %d, outside %d-%d", tip, diskFaultHeight, chaintest.MainnetTipHeight)
	}
	mustRun(t, args...)
	assertSameSync(t, dir, clean)
}

// checkFaultExit fails unless a run hit by fault exited non-zero with an error that names the index
// directory and cause.
func checkFaultExit(t *testing.T, fault string, err error, stderr, dir, cause string) {
	t.Helper()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() <= 0 {
		t.Fatalf("%s: exit %v, want a non-zero exit code; stderr:\n%s", fault, err, stderr)
	}
	i := strings.LastIndex(stderr, "minerscope: ")
	if i < 0 || !strings.Contains(stderr[i:], dir) || !strings.Contains(stderr[i:], cause) {
		t.Fatalf("%s: the error does not name the index directory %s and %q:\n%s", fault, dir, cause, stderr)
	}
}

// indexUpTo returns a closed index of the node's blocks 0 to height, built while the node's chain is cut
// back there (invalidateblock); the node's tip is restored before it returns.
func indexUpTo(t *testing.T, n *chaintest.Node, height int32) string {
	t.Helper()
	ctx := t.Context()
	next := nodeHash(t, n, height+1)
	if err := n.InvalidateBlock(ctx, next); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mustRun(t, append([]string{"index", "--quiet"}, nodeArgs(n, dir)...)...)
	if err := n.ReconsiderBlock(ctx, next); err != nil {
		t.Fatal(err)
	}
	if _, tip, err := n.BestBlock(ctx); err != nil || tip != chaintest.MainnetTipHeight {
		t.Fatalf("node tip %d after reconsiderblock, want %d (%v)", tip, chaintest.MainnetTipHeight, err)
	}
	if got := openTip(t, dir); got != height {
		t.Fatalf("partial index tip %d, want %d", got, height)
	}
	return dir
}

// openTip opens the index in dir, which must be consistent, and returns its tip height.
func openTip(t *testing.T, dir string) int32 {
	t.Helper()
	db, _, err := index.OpenExisting(dir)
	if err != nil {
		t.Fatalf("the index does not open: %v", err)
	}
	defer db.Close()
	tip, _, ok := db.Tip()
	if !ok {
		return -1
	}
	return tip
}

// assertSameSync compares the index in dir with the clean one, key for key, and their block and flow
// exports byte for byte.
func assertSameSync(t *testing.T, dir, clean string) {
	t.Helper()
	assertSameIndex(t, dir, clean)
	for _, args := range [][]string{
		{"blocks", "--csv"},
		{"outflows", "--tx", "--csv", "--hops", "1"},
	} {
		got := mustRun(t, append(args, "--index", dir)...).Stdout
		want := mustRun(t, append(args, "--index", clean)...).Stdout
		if got != want {
			t.Errorf("minerscope %s differs from a clean sync:\n%s", strings.Join(args, " "), firstDiff(got, want))
		}
	}
}

// copyIndex copies the closed index in src to a new directory, as a backup would.
func copyIndex(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	copyFiles(t, src, dst)
	return dst
}

func copyFiles(t *testing.T, src, dst string) {
	t.Helper()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// dirSize is the total size of the files in dir.
func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		size += fi.Size()
	}
	return size
}

// snapshotDir describes every file in dir by name, mode and content hash.
func snapshotDir(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %x; ", e.Name(), sha256.Sum256(data))
	}
	return b.String()
}

// setWritable adds or removes write permission on dir and its files, for everyone.
func setWritable(t *testing.T, dir string, writable bool) {
	t.Helper()
	err := filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		mode := fi.Mode().Perm() &^ 0o222
		if writable {
			mode |= 0o200
		}
		return os.Chmod(path, mode)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func globCount(t *testing.T, dir, pattern string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}

// waitFor polls cond until it holds (true) or the process ends (false, and its exit is put back).
func waitFor(cond func() bool, exited chan error) bool {
	for {
		if cond() {
			return true
		}
		select {
		case err := <-exited:
			exited <- err
			return false
		case <-time.After(time.Millisecond):
		}
	}
}

// startCmd starts cmd and returns a channel that receives its exit.
func startCmd(t *testing.T, cmd *exec.Cmd) chan error {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	return exited
}

// waitExit waits for cmd to exit and returns its exit error, unless stderr first shows sig: then it kills
// the process and reports hung. A process that does neither within a minute is killed and fails the test.
func waitExit(t *testing.T, cmd *exec.Cmd, exited chan error, stderr *syncBuffer, sig string) (err error, hung bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(stderr.String(), sig) {
		select {
		case err := <-exited:
			return err, false
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			t.Fatalf("neither exited nor failed within a minute; stderr:\n%s", stderr.String())
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	return nil, true
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

// syncBuffer is a bytes.Buffer safe for a process writing while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// childUser runs the binary as a user that file permissions apply to: the test's own, or, when the test
// runs as root (whom permissions do not stop), the unprivileged uid and gid 65534 (nobody).
type childUser struct {
	cred *syscall.Credential
	home string
}

func newChildUser(t *testing.T, bin string) *childUser {
	t.Helper()
	u := &childUser{home: t.TempDir()}
	if os.Geteuid() != 0 {
		return u
	}
	u.cred = &syscall.Credential{Uid: 65534, Gid: 65534}
	u.own(t, u.home)
	if cmd, stderr := u.command(bin, "--help"); cmd.Run() != nil {
		t.Skipf("cannot run the binary as uid 65534 (%v): %s", cmd.ProcessState, stderr.String())
	}
	return u
}

// own gives dir and its files to the user.
func (u *childUser) own(t *testing.T, dir string) {
	t.Helper()
	if u.cred == nil {
		return
	}
	shareTempRoot(t, dir)
	err := filepath.Walk(dir, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(u.cred.Uid), int(u.cred.Gid))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// command returns the binary's command run as the user, with its stderr collected.
func (u *childUser) command(bin string, args ...string) (*exec.Cmd, *syncBuffer) {
	cmd := exec.Command(bin, args...)
	var stderr syncBuffer
	cmd.Stderr, cmd.Env = &stderr, append(os.Environ(), "HOME="+u.home)
	if u.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: u.cred}
	}
	return cmd, &stderr
}

// shareTempRoot lets other users through the test's temporary root directory (created 0700), which
// holds dir, so that a child running as another user reaches dir.
func shareTempRoot(t *testing.T, dir string) {
	t.Helper()
	if err := os.Chmod(filepath.Dir(dir), 0o711); err != nil {
		t.Fatal(err)
	}
}
