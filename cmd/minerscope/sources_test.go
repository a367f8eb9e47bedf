package main

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/minerscope/minerscope/chain/chaintest"
	"github.com/minerscope/minerscope/index"
)

// TestBlockSourcesBuildTheSameIndex indexes the real mainnet blocks 0–14131 once over RPC and once from
// Bitcoin Core-format blk files (obfuscated with an xor.dat key, blocks out of height order): the two
// indexes are identical key for key. Then a full index that starts at --from-height holds headers below it
// and blocks from it, and a headers-only index refuses to become a full one.
func TestBlockSourcesBuildTheSameIndex(t *testing.T) {
	n := chaintest.StartMainnet(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	raw, err := chaintest.MainnetBlocks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Core stores blocks in the order it received them: shuffle them within windows of 50 heights.
	order := make([][]byte, len(raw))
	copy(order, raw)
	rng := rand.New(rand.NewPCG(3, 4))
	for lo := 0; lo < len(order); lo += 50 {
		hi := min(lo+50, len(order))
		rng.Shuffle(hi-lo, func(i, j int) { order[lo+i], order[lo+j] = order[lo+j], order[lo+i] })
	}
	datadir := t.TempDir()
	if _, err := chaintest.WriteBlkFiles(filepath.Join(datadir, "blocks"), order, chaintest.BlkFileOptions{
		XORKey: []byte{0x5a, 0x11, 0x83, 0x07, 0xc4, 0xee, 0x29, 0x90}, MaxFileSize: 1 << 20,
	}); err != nil {
		t.Fatal(err)
	}

	viaRPC, viaBlk := t.TempDir(), t.TempDir()
	mustRun(t, append([]string{"index", "--quiet", "--source", "rpc"}, nodeArgs(n, viaRPC)...)...)
	mustRun(t, append([]string{"index", "--quiet", "--source", "blk", "--blocks-dir", filepath.Join(datadir, "blocks")}, nodeArgs(n, viaBlk)...)...)
	assertSameIndex(t, viaRPC, viaBlk)

	// --from-height: headers for every height, coinbase records from 10000 on.
	partial := t.TempDir()
	mustRun(t, append([]string{"index", "--quiet", "--from-height", "10000"}, nodeArgs(n, partial)...)...)
	db, _, err := index.OpenExisting(partial)
	if err != nil {
		t.Fatal(err)
	}
	from, full := db.BlocksFrom()
	_, errBelow := db.Coinbase(9999)
	rec, errAt := db.Coinbase(10000)
	tip, _, _ := db.Tip()
	db.Close()
	if !full || from != 10000 || tip != chaintest.MainnetTipHeight || errBelow == nil || errAt != nil || rec.Reward != 50e8 {
		t.Fatalf("--from-height 10000: full %v from %d tip %d, below: %v, at: %v %+v", full, from, tip, errBelow, errAt, rec)
	}
	r := mustRun(t, "blocks", "--index", partial, "--json")
	var rows []blockJSON
	decodeJSON(t, r.Stdout, &rows)
	if len(rows) != chaintest.MainnetTipHeight-10000+1 || rows[0].Height != 10000 {
		t.Fatalf("blocks on a partial index: %d rows from %d", len(rows), rows[0].Height)
	}

	// A headers-only index cannot silently start keeping blocks.
	headers := t.TempDir()
	mustRun(t, append([]string{"index", "--quiet", "--headers-only"}, nodeArgs(n, headers)...)...)
	r = runCLI(t, nil, append([]string{"index"}, nodeArgs(n, headers)...)...)
	if r.Code != exitWrongIndex || !contains(r.Stderr, "holds headers only") {
		t.Fatalf("full index over a headers-only one: exit %d, %s", r.Code, r.Stderr)
	}
	r = runCLI(t, nil, "blocks", "--index", headers)
	if r.Code == 0 || !contains(r.Stderr, "holds headers only") {
		t.Fatalf("blocks on a headers-only index: exit %d, %s", r.Code, r.Stderr)
	}
}
