package index

import (
	"bufio"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/wire"
	"github.com/minerscope/minerscope/analysis"
)

// crashDirEnv names the index directory the crash child works on.
const crashDirEnv = "MINERSCOPE_INDEX_CRASH_DIR"

// crashBlocksFrom is where the crash test's index starts keeping full
// blocks: the child connects headers alone below it and blocks with their
// coinbase records from it on.
const crashBlocksFrom = 5000

// TestCrashRecovery kills a child process writing the index with SIGKILL at
// random points and checks that every reopen finds a consistent index, and
// that the child resumes from the reopened tip.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	raw := rawMainnetHeaders(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 11))

	db, err := Open(dir, analysis.Mainnet, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetBlocksFrom(crashBlocksFrom, true); err != nil {
		t.Fatal(err)
	}
	mustClose(t, db)

	for round := 0; round < 10; round++ {
		want := reopenTip(t, dir, raw)
		start, lines := runAndKill(t, dir, 1+rng.IntN(40))
		if start != want {
			t.Fatalf("round %d: child resumed at %d, reopened tip was %d",
				round, start, want)
		}
		t.Logf("round %d: resumed at %d, killed after %d progress lines",
			round, start, lines)
	}
	reopenTip(t, dir, raw)
}

// reopenTip opens the index in dir, checks it completely and returns the
// tip height (-1 when empty).
func reopenTip(t *testing.T, dir string, raw [][]byte) int32 {
	t.Helper()
	if hasIndex(dir) {
		// A read-only command may be the first to look after a crash.
		ro, _, err := OpenExisting(dir)
		if err != nil {
			t.Fatalf("read-only reopen after crash: %v", err)
		}
		checkConsistent(t, ro, raw)
		mustClose(t, ro)
	}

	db, err := Open(dir, analysis.Mainnet, Options{})
	if err != nil {
		t.Fatalf("reopen after crash: %v", err)
	}
	defer mustClose(t, db)

	checkConsistent(t, db, raw)
	height, _, ok := db.Tip()
	if !ok {
		return -1
	}
	return height
}

// checkConsistent checks that the index holds exactly the mainnet blocks
// 0..tip: a header and an undo record per height, a coinbase
// record per height from crashBlocksFrom, the miner flows of the blocks
// from crashBlocksFrom as the reference model computes them, the tip record
// and the three other meta records, and no other row.
func checkConsistent(t *testing.T, db *DB, raw [][]byte) {
	t.Helper()
	kv := Dump(t, db)
	height, hash, ok := db.Tip()
	n := int(db.Count())
	if ok && hash != dsha(raw[height]) {
		t.Fatalf("tip %d is %v, want %v", height, hash, dsha(raw[height]))
	}
	if from, full := db.BlocksFrom(); from != crashBlocksFrom || !full {
		t.Fatalf("BlocksFrom = %d %v, want %d true", from, full, crashBlocksFrom)
	}
	checkCrashCoinbases(t, db, n)

	for h := 0; h < n; h++ {
		want := dsha(raw[h])
		val, ok := kv["\x02"+be32(int32(h))]
		if !ok || val[:80] != string(raw[h]) || val[80:112] != string(want[:]) {
			t.Fatalf("header row %d missing or wrong", h)
		}
		if _, ok := kv["\x04"+be32(int32(h))]; !ok {
			t.Fatalf("undo row %d missing", h)
		}
	}

	m := refModel(crashBlocksFrom, MainnetBlocks(t)[crashBlocksFrom:max(n, crashBlocksFrom)])
	checkFlowModel(t, db, m, crashBlocksFrom, int32(n-1))
	flowRows := m.wantFlowRows()
	if got := flowRowCounts(kv); !maps.Equal(got, flowRows) {
		t.Fatalf("flow rows by keyspace %v, want %v", got, flowRows)
	}

	wantRows := 2*n + 3 + max(0, n-crashBlocksFrom)
	if ok {
		wantRows++
	}
	for _, c := range flowRows {
		wantRows += c
	}
	if len(kv) != wantRows {
		t.Fatalf("index has %d rows, want %d for tip %d (orphan rows)",
			len(kv), wantRows, height)
	}
}

// checkCrashCoinbases checks that the coinbase records of the n blocks
// connected are exactly those of the heights from crashBlocksFrom, each with
// the txid of the raw block's coinbase parsed by hand.
func checkCrashCoinbases(t *testing.T, db *DB, n int) {
	t.Helper()
	blocks := rawMainnetBlocks(t)
	next := int32(crashBlocksFrom)
	err := db.Coinbases(0, MainnetTestHeaders, func(h int32, rec *analysis.CoinbaseRecord) error {
		if h != next {
			t.Fatalf("coinbase record at %d, want %d", h, next)
		}
		if want := parseRawCoinbase(t, blocks[h]).txid; rec.TxID != want {
			t.Fatalf("coinbase record at %d has txid %v, want %v", h, rec.TxID, want)
		}
		next++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := max(crashBlocksFrom, int32(n)); next != want {
		t.Fatalf("coinbase records end at %d, want %d", next, want)
	}
}

// runAndKill starts the crash child on dir, kills it with SIGKILL after it
// has reported kill progress lines, and returns the height it started from.
func runAndKill(t *testing.T, dir string, kill int) (int32, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	start := int32(-2)
	lines := 0
	sc := bufio.NewScanner(out)
	for lines < kill && sc.Scan() {
		line := sc.Text()
		if s, ok := strings.CutPrefix(line, "start "); ok {
			v, _ := strconv.Atoi(s)
			start = int32(v)
			continue
		}
		if strings.HasPrefix(line, "tip ") {
			lines++
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatalf("kill child: %v", err)
	}
	_ = cmd.Wait()
	if lines < kill {
		t.Fatalf("child stopped after %d progress lines", lines)
	}
	return start, lines
}

// TestCrashChild is the child process of TestCrashRecovery: it connects and
// disconnects real mainnet blocks until it is killed, with ConnectHeader and
// ConnectHeaders below crashBlocksFrom and ConnectBlocks everywhere.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("run by TestCrashRecovery")
	}
	hdrs := MainnetHeaders(t)
	blocks := MainnetBlockData(t, crashBlocksFrom)
	db, err := Open(dir, analysis.Mainnet, Options{})
	if err != nil {
		t.Fatalf("child open: %v", err)
	}
	height, _, ok := db.Tip()
	if !ok {
		height = -1
	}
	fmt.Printf("start %d\n", height)

	rng := rand.New(rand.NewPCG(uint64(os.Getpid()), 3))
	for {
		next := db.Count()
		if next > 0 && (rng.IntN(3) == 0 || int(next) == len(hdrs)) {
			for n := 1 + rng.IntN(min(300, int(next))); n > 0; n-- {
				if err := db.DisconnectTip(); err != nil {
					t.Fatalf("child disconnect: %v", err)
				}
			}
		} else {
			end := min(len(hdrs), int(next)+1+rng.IntN(600))
			if err := crashConnect(rng, db, next, end, hdrs, blocks); err != nil {
				t.Fatalf("child connect %d-%d: %v", next, end-1, err)
			}
		}
		fmt.Printf("tip %d\n", db.Count()-1)
	}
}

// crashConnect connects the blocks of heights next..end-1 in one of the ways
// the sync loop may: several blocks per transaction, or one per transaction;
// as headers when all are below crashBlocksFrom, else as blocks.
func crashConnect(rng *rand.Rand, db *DB, next int32, end int,
	hdrs []wire.BlockHeader, blocks []BlockData) error {

	switch headersOnly := end <= crashBlocksFrom; {
	case rng.IntN(2) == 0 && headersOnly:
		return db.ConnectHeaders(next, hdrs[next:end])

	case rng.IntN(2) == 0:
		return db.ConnectBlocks(next, blocks[next:end])

	case headersOnly:
		for h := next; int(h) < end; h++ {
			if err := db.ConnectHeader(h, &hdrs[h]); err != nil {
				return err
			}
		}

	default:
		for h := next; int(h) < end; h++ {
			if err := db.ConnectBlocks(h, blocks[h:h+1]); err != nil {
				return err
			}
		}
	}
	return nil
}
