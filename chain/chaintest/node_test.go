package chaintest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
)

// genesisHash is the well-known mainnet genesis block hash.
const genesisHash = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"

// fileBlockHashes hashes every block header in btcd's mainnet block file
// directly (double SHA-256 of the 80 header bytes), independently of btcd's
// wire package and of the code under test.
func fileBlockHashes(t *testing.T, path string, count int) []chainhash.Hash {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := bufio.NewReader(f)

	hashes := make([]chainhash.Hash, 0, count)
	var rec [8 + 80]byte
	for range count {
		if _, err := io.ReadFull(r, rec[:]); err != nil {
			t.Fatalf("record %d: %v", len(hashes), err)
		}
		if got := binary.LittleEndian.Uint32(rec[:4]); got != 0xd9b4bef9 {
			t.Fatalf("record %d: magic %#x", len(hashes), got)
		}
		size := binary.LittleEndian.Uint32(rec[4:8])
		first := sha256.Sum256(rec[8:])
		hashes = append(hashes, chainhash.Hash(sha256.Sum256(first[:])))
		if _, err := r.Discard(int(size) - 80); err != nil {
			t.Fatalf("record %d: %v", len(hashes), err)
		}
	}
	return hashes
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func callJSON[T any](t *testing.T, ctx context.Context, n *Node,
	method string, params ...any) T {

	t.Helper()
	raw, err := n.Call(ctx, method, params...)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: decode %s: %v", method, raw, err)
	}
	return v
}

func TestMainnet(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)

	begin := time.Now()
	n := StartMainnet(t)
	t.Logf("mainnet node up in %v", time.Since(begin))

	path, err := MainnetBlocksPath(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := fileBlockHashes(t, path, MainnetTipHeight+1)
	if got := want[0].String(); got != genesisHash {
		t.Fatalf("file block 0 hash = %s, want genesis %s", got, genesisHash)
	}

	if got := callJSON[int32](t, ctx, n, "getblockcount"); got != MainnetTipHeight {
		t.Fatalf("getblockcount = %d, want %d", got, MainnetTipHeight)
	}
	for _, h := range []int{0, 1, 11111, MainnetTipHeight} {
		got := callJSON[string](t, ctx, n, "getblockhash", h)
		if got != want[h].String() {
			t.Errorf("getblockhash %d = %s, want %s", h, got, want[h])
		}
	}
}

func TestSimnetStartRestart(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)

	n := StartSimnet(t)
	if got := callJSON[int32](t, ctx, n, "getblockcount"); got != 0 {
		t.Fatalf("getblockcount = %d, want 0", got)
	}
	gen := callJSON[[]string](t, ctx, n, "generate", 3)
	if len(gen) != 3 {
		t.Fatalf("generate 3 returned %d hashes", len(gen))
	}

	addr := n.RPCAddr
	begin := time.Now()
	if err := n.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("restart took %v (rpc %s -> %s)", time.Since(begin), addr, n.RPCAddr)
	if got := callJSON[int32](t, ctx, n, "getblockcount"); got != 3 {
		t.Fatalf("getblockcount after restart = %d, want 3", got)
	}
	if got := callJSON[string](t, ctx, n, "getbestblockhash"); got != gen[2] {
		t.Fatalf("best block after restart = %s, want %s", got, gen[2])
	}
}

// TestStartFailure checks that a btcd that cannot start is reported with
// its own words, and that Close cleans up the directory Start made.
func TestStartFailure(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)

	_, err := Start(ctx, Options{ExtraArgs: []string{"--nosuchflag"}})
	if !errors.Is(err, ErrExited) {
		t.Fatalf("err = %v, want ErrExited", err)
	}
	if !strings.Contains(err.Error(), "nosuchflag") {
		t.Errorf("error does not quote btcd's output: %v", err)
	}

	n, err := Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !n.Running() {
		t.Fatal("node not running after Start")
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if n.Running() {
		t.Error("node still running after Close")
	}
	if _, err := os.Stat(n.DataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data dir %s not removed: %v", n.DataDir, err)
	}
}

func TestCopyBlockRecords(t *testing.T) {
	t.Parallel()
	record := func(magic uint32, payload string) []byte {
		b := binary.LittleEndian.AppendUint32(nil, magic)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(payload)))
		return append(b, payload...)
	}
	main := uint32(0xd9b4bef9)
	two := append(record(main, "block0"), record(main, "blk1")...)

	tests := []struct {
		name    string
		file    []byte
		want    int
		wantErr bool
	}{
		{"exact", two, 2, false},
		{"padding after", append(two, make([]byte, 64)...), 2, false},
		{"prefix", two, 1, false},
		{"padding hit", append(two, make([]byte, 64)...), 3, true},
		{"truncated", two[:len(two)-1], 2, true},
		{"end of file", two, 3, true},
		{"testnet magic", record(0x0709110b, "x"), 1, true},
	}
	for _, tc := range tests {
		path := filepath.Join(t.TempDir(), "blk.dat")
		if err := os.WriteFile(path, tc.file, 0o600); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		n, err := copyBlockRecords(&out, path, tc.want)
		if tc.wantErr {
			if !errors.Is(err, ErrBadBlockFile) {
				t.Errorf("%s: err = %v, want ErrBadBlockFile", tc.name, err)
			}
			continue
		}
		if err != nil || n != tc.want {
			t.Errorf("%s: copied %d, %v; want %d", tc.name, n, err, tc.want)
			continue
		}
		if want := two[:out.Len()]; !bytes.Equal(out.Bytes(), want) ||
			(tc.want == 2 && out.Len() != len(two)) {
			t.Errorf("%s: copied %q", tc.name, out.Bytes())
		}
	}
}
