package main

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/wire"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/chain/chaintest"
	"github.com/minerscope/minerscope/index"
)

// checkJSON is what the tests read of `check --json`.
type checkJSON struct {
	IndexTip       int32  `json:"index_tip"`
	NodeTip        int32  `json:"node_tip"`
	Mode           string `json:"mode"`
	Seed           *uint64
	CheckedHeights int   `json:"checked_heights"`
	CheckedBlocks  int   `json:"checked_blocks"`
	InvariantsOK   bool  `json:"invariants_ok"`
	NodeOK         bool  `json:"node_ok"`
	RebuildOK      *bool `json:"rebuild_ok"`
	Problems       []struct {
		Height *int32 `json:"height"`
		Source string `json:"source"`
		What   string `json:"what"`
	} `json:"problems"`
}

// TestCheckMainnet indexes the real mainnet blocks 0-14131 from btcd and checks the index against the node by
// sample and in full; then it damages the index the way a bug or a disk could, in places the node's blocks
// prove wrong (a coinbase record that agrees with itself but not with its block) or the index's own
// invariants do (a deleted unspent miner output), and expects each reported at its height with exit code 1.
func TestCheckMainnet(t *testing.T) {
	n := chaintest.StartMainnet(t)
	dir := t.TempDir()
	mustRun(t, append([]string{"index", "--quiet"}, nodeArgs(n, dir)...)...)
	check := func(args ...string) (checkJSON, cliResult) {
		t.Helper()
		r := runCLI(t, nil, append(append([]string{"check", "--json"}, args...), nodeArgs(n, dir)...)...)
		var rep checkJSON
		decodeJSON(t, r.Stdout, &rep)
		return rep, r
	}

	rep, r := check("--sample", "50", "--seed", "7")
	if r.Code != 0 || !rep.InvariantsOK || !rep.NodeOK || len(rep.Problems) != 0 || rep.Mode != "sample" ||
		rep.CheckedHeights != 51 || rep.CheckedBlocks != 51 || rep.IndexTip != 14131 || rep.NodeTip != 14131 ||
		rep.Seed == nil || *rep.Seed != 7 {
		t.Fatalf("check --sample 50: exit %d, %+v\n%s", r.Code, rep, r.Stderr)
	}
	r = mustRun(t, append([]string{"check", "--sample", "50"}, nodeArgs(n, dir)...)...)
	if !strings.Contains(r.Stdout, "invariants: ok") || !strings.Contains(r.Stdout, "--seed ") {
		t.Errorf("check --sample 50 printed\n%s", r.Stdout)
	}

	rep, r = check("--full")
	if r.Code != 0 || !rep.InvariantsOK || !rep.NodeOK || rep.RebuildOK == nil || !*rep.RebuildOK ||
		rep.CheckedHeights != index.MainnetTestHeaders || rep.CheckedBlocks != index.MainnetTestHeaders {
		t.Fatalf("check --full: exit %d, %+v\n%s", r.Code, rep, r.Stderr)
	}

	// The tip's coinbase record with one byte of its scriptSig changed: consistent in itself, so only the
	// node's block shows it. The tip is in every sample.
	blocks := index.MainnetBlocks(t)
	tip := int32(len(blocks) - 1)
	rec, err := analysis.ExtractCoinbase(analysis.Mainnet, tip, blocks[tip])
	if err != nil {
		t.Fatal(err)
	}
	rec.ScriptSig = slices.Clone(rec.ScriptSig)
	rec.ScriptSig[len(rec.ScriptSig)-1] ^= 1
	damageIndex(t, dir, heightKeyOf(0x05, tip), encodeCoinbaseRecord(rec))

	rep, r = check("--sample", "3")
	if r.Code != 1 || !rep.InvariantsOK || rep.NodeOK || !hasProblem(rep, tip, "node", "coinbase record") {
		t.Fatalf("check after changing the tip's coinbase record: exit %d, %+v", r.Code, rep)
	}

	// Block 3000's coinbase output, unspent in 2010, deleted from the miner outputs: the reserve identity
	// breaks for its origin.
	op := wire.OutPoint{Hash: blocks[3000].Transactions[0].TxHash()}
	damageIndex(t, dir, binary.BigEndian.AppendUint32(append([]byte{0x07}, op.Hash[:]...), op.Index), nil)
	rep, r = check("--sample", "0")
	if r.Code != 1 || rep.InvariantsOK || !hasProblem(rep, 3000, "index", "origin 3000") ||
		!hasProblem(rep, tip, "node", "coinbase record") {
		t.Fatalf("check after deleting a miner output: exit %d, %+v", r.Code, rep)
	}
	if !strings.Contains(r.Stderr, "problems in the index") {
		t.Errorf("stderr %q", r.Stderr)
	}

	// A fresh sync differs from the damaged index at both places.
	rep, r = check("--full")
	if r.Code != 1 || rep.RebuildOK == nil || *rep.RebuildOK || !hasProblem(rep, tip, "rebuild", "coinbase record differs") ||
		!hasProblem(rep, 3000, "rebuild", "unspent miner output "+op.String()+" is missing") {
		t.Fatalf("check --full after the damage: exit %d, %+v", r.Code, rep)
	}
	r = runCLI(t, nil, append([]string{"check", "--sample", "0"}, nodeArgs(n, dir)...)...)
	if r.Code != 1 || !strings.Contains(r.Stdout, "height 3000: ") || !strings.Contains(r.Stdout, "height 14131: ") {
		t.Errorf("check (text) after the damage: exit %d\n%s", r.Code, r.Stdout)
	}
}

func TestCheckFlags(t *testing.T) {
	for _, args := range [][]string{
		{"check", "--sample", "-1"},
		{"check", "--full", "--sample", "5"},
		{"check", "--full", "--seed", "5"},
		{"check", "--rebuild-dir", "/tmp"},
	} {
		if r := runCLI(t, nil, args...); r.Code != exitUsage {
			t.Errorf("%v: exit %d, want %d\n%s", args, r.Code, exitUsage, r.Stderr)
		}
	}
}

// TestSampleHeights checks that a sample holds distinct heights in range, ascending, with the top, that a seed
// repeats it, and that asking for more heights than exist gives them all.
func TestSampleHeights(t *testing.T) {
	for seed := range uint64(20) {
		top, n := int32(rand.N(5000)), rand.N(200)
		hs := sampleHeights(rand.New(rand.NewPCG(seed, seed)), top, n)
		again := sampleHeights(rand.New(rand.NewPCG(seed, seed)), top, n)
		// n heights, or n+1 when the top was not drawn and added.
		want := min(n, int(top)+1)
		switch {
		case !slices.Equal(hs, again):
			t.Fatalf("seed %d: %v then %v", seed, hs, again)
		case (len(hs) != want && (len(hs) != want+1 || want > int(top))) || hs[len(hs)-1] != top || hs[0] < 0:
			t.Fatalf("seed %d, top %d, n %d: %d heights %v", seed, top, n, len(hs), hs)
		case !slices.IsSorted(hs) || len(slices.Compact(slices.Clone(hs))) != len(hs):
			t.Fatalf("seed %d: not ascending and distinct: %v", seed, hs)
		}
	}
	if hs := sampleHeights(rand.New(rand.NewPCG(1, 1)), 9, 50); len(hs) != 10 {
		t.Fatalf("50 of 10 heights: %v", hs)
	}
}

// hasProblem reports whether rep lists a problem from source at height whose text contains word.
func hasProblem(rep checkJSON, height int32, source, word string) bool {
	for _, p := range rep.Problems {
		if p.Height != nil && *p.Height == height && p.Source == source && strings.Contains(p.What, word) {
			return true
		}
	}
	return false
}

// damageIndex opens the index in dir and sets key to val (deletes it for nil).
func damageIndex(t *testing.T, dir string, key, val []byte) {
	t.Helper()
	db, err := index.Open(dir, analysis.Mainnet, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := index.CorruptForTest(db, key, val); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// heightKeyOf is a height-keyed index key: its prefix and the height as uint32 big-endian (index/keys.go).
func heightKeyOf(prefix byte, h int32) []byte {
	return binary.BigEndian.AppendUint32([]byte{prefix}, uint32(h))
}

// encodeCoinbaseRecord writes rec in the layout of the coinbase keyspace documented in index/keys.go,
// independently of the index's own encoder.
func encodeCoinbaseRecord(rec analysis.CoinbaseRecord) []byte {
	codes := map[string]byte{"nonstandard": 1, "pubkey": 2, "pubkeyhash": 3, "scripthash": 4, "multisig": 5,
		"nulldata": 6, "witness_v0_keyhash": 7, "witness_v0_scripthash": 8, "witness_v1_taproot": 9,
		"witness_unknown": 10}
	bytesField := func(b, v []byte) []byte { return append(binary.AppendUvarint(b, uint64(len(v))), v...) }
	b := append([]byte(nil), rec.TxID[:]...)
	flags := byte(0)
	if rec.SegwitCommit {
		flags = 1
	}
	b = append(b, flags)
	for _, v := range []int64{int64(rec.TxCount), int64(rec.Size), int64(rec.Weight), int64(rec.Reward),
		int64(rec.Subsidy), int64(rec.Fees)} {
		b = binary.AppendUvarint(b, uint64(v))
	}
	b = bytesField(b, rec.ScriptSig)
	b = binary.AppendUvarint(b, uint64(len(rec.Outputs)))
	for _, o := range rec.Outputs {
		b = binary.AppendUvarint(b, uint64(o.Value))
		code := codes[o.Type]
		b = append(b, code)
		if code == 0 {
			b = bytesField(b, []byte(o.Type))
		}
		b = bytesField(b, o.Script)
		b = bytesField(b, []byte(o.Address))
	}
	return b
}
