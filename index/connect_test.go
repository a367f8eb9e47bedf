package index

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/minerscope/minerscope/analysis"
)

// TestMainnetHeaders connects the real mainnet headers 0-14131, reopens the
// index and checks every row against values computed from the raw file.
func TestMainnetHeaders(t *testing.T) {
	raw := rawMainnetHeaders(t)
	hdrs := MainnetHeaders(t)
	if len(hdrs) != MainnetTestHeaders {
		t.Fatalf("read %d headers, want %d", len(hdrs), MainnetTestHeaders)
	}

	db, dir := openTemp(t, analysis.Mainnet)
	ConnectHeaders(t, db, hdrs)
	mustClose(t, db)

	db, err := Open(dir, analysis.Mainnet, Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer mustClose(t, db)

	last := int32(MainnetTestHeaders - 1)
	height, hash, ok := db.Tip()
	if !ok || height != last || hash != dsha(raw[last]) {
		t.Fatalf("tip = %d %v %v, want %d %v", height, hash, ok, last,
			dsha(raw[last]))
	}
	if db.Count() != MainnetTestHeaders {
		t.Fatalf("count = %d, want %d", db.Count(), MainnetTestHeaders)
	}

	checkMainnetRows(t, db, raw)
}

// checkMainnetRows compares every indexed height with the raw headers.
func checkMainnetRows(t *testing.T, db *DB, raw [][]byte) {
	t.Helper()
	last := int32(len(raw) - 1)
	recs, err := db.Headers(0, last)
	if err != nil {
		t.Fatalf("headers: %v", err)
	}
	ahdrs, err := db.AnalysisHeaders(0, last)
	if err != nil {
		t.Fatalf("analysis headers: %v", err)
	}

	work := new(big.Int)
	for h := int32(0); h <= last; h++ {
		want := dsha(raw[h])
		work.Add(work, refWork(leUint32(raw[h][72:])))

		got, err := db.HashAt(h)
		if err != nil || got != want {
			t.Fatalf("HashAt(%d) = %v, %v; want %v", h, got, err, want)
		}

		rec := recs[h]
		if rec.Height != h || rec.Hash != want ||
			!bytes.Equal(headerBytes(t, &rec.Header), raw[h]) ||
			rec.ChainWork.Cmp(work) != 0 {
			t.Fatalf("Headers()[%d] = %+v, want hash %v work %v", h, rec,
				want, work)
		}

		a := ahdrs[h]
		if a.Height != h || a.Time != int64(leUint32(raw[h][68:])) ||
			a.Bits != leUint32(raw[h][72:]) {
			t.Fatalf("AnalysisHeaders()[%d] = %+v", h, a)
		}
	}

	// Every block up to 32255 has bits 0x1d00ffff, whose work is
	// 2^256/(0xffff<<208 + 1) = 0x100010001 (Bitcoin Core's chainwork).
	published := new(big.Int).Mul(big.NewInt(0x100010001), big.NewInt(int64(len(raw))))
	if work.Cmp(published) != 0 || recs[last].ChainWork.Cmp(published) != 0 {
		t.Fatalf("chainwork at %d = %x, want %x", last, recs[last].ChainWork,
			published)
	}
}

// leUint32 decodes a little-endian uint32.
func leUint32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// TestDisconnectReconnect checks that disconnecting N blocks and connecting
// them again restores byte-identical contents, and that disconnecting
// everything leaves only the index's own meta records.
func TestDisconnectReconnect(t *testing.T) {
	hdrs := MainnetHeaders(t)[:3000]
	db := NewTestDB(t, analysis.Mainnet)
	empty := Dump(t, db)
	ConnectHeaders(t, db, hdrs)
	full := Dump(t, db)

	for _, n := range []int{1, 2, 17, 500, 2999} {
		for i := 0; i < n; i++ {
			if err := db.DisconnectTip(); err != nil {
				t.Fatalf("disconnect %d of %d: %v", i, n, err)
			}
		}
		height, hash, ok := db.Tip()
		wantHeight := int32(len(hdrs) - 1 - n)
		if !ok || height != wantHeight || hash != hdrs[wantHeight].BlockHash() {
			t.Fatalf("after %d disconnects tip = %d %v", n, height, hash)
		}
		ConnectHeaders(t, db, hdrs[len(hdrs)-n:])
		DiffDumps(t, full, Dump(t, db))
	}

	for range hdrs {
		if err := db.DisconnectTip(); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, ok := db.Tip(); ok || db.Count() != 0 {
		t.Fatalf("index not empty after disconnecting all")
	}
	DiffDumps(t, empty, Dump(t, db))
	if err := db.DisconnectTip(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("disconnect empty: %v, want ErrNotFound", err)
	}

	ConnectHeaders(t, db, hdrs)
	DiffDumps(t, full, Dump(t, db))
}

// TestConnectErrors checks that headers not extending the tip are refused
// and leave the index unchanged.
func TestConnectErrors(t *testing.T) {
	hdrs := MainnetHeaders(t)[:10]
	db := NewTestDB(t, analysis.Mainnet)

	notGenesis := hdrs[1]
	if err := db.ConnectHeader(0, &notGenesis); !errors.Is(err, ErrNotGenesis) {
		t.Fatalf("connect non-genesis at 0: %v, want ErrNotGenesis", err)
	}
	if err := db.ConnectHeader(1, &hdrs[0]); !errors.Is(err, ErrNotOnTip) {
		t.Fatalf("connect genesis at 1: %v, want ErrNotOnTip", err)
	}
	ConnectHeaders(t, db, hdrs[:5])
	before := Dump(t, db)

	fork := ExtendHeaders(hdrs[3], 1, nil)[0]
	tipHash := hdrs[4].BlockHash()
	tests := []struct {
		name   string
		height int32
		hdr    wire.BlockHeader
	}{
		{"fork", 5, fork},
		{"fork at its own height", 4, fork},
		{"skip a height", 6, hdrs[5]},
		{"same height again", 4, hdrs[4]},
		{"right prev, wrong height", 7, hdrs[5]},
		{"far past tip", 9, hdrs[9]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := db.ConnectHeader(tc.height, &tc.hdr)
			if !errors.Is(err, ErrNotOnTip) {
				t.Fatalf("err = %v, want ErrNotOnTip", err)
			}
			for _, h := range []chainhash.Hash{tipHash, tc.hdr.PrevBlock} {
				if !bytes.Contains([]byte(err.Error()), []byte(h.String())) {
					t.Errorf("error %q does not name %v", err, h)
				}
			}
			DiffDumps(t, before, Dump(t, db))
		})
	}
}

// TestQueryErrors checks the not-found and range errors of the queries.
func TestQueryErrors(t *testing.T) {
	db := NewMainnetTestDB(t, 10)

	if _, err := db.HashAt(10); !errors.Is(err, ErrNotFound) {
		t.Errorf("HashAt(10): %v", err)
	}
	if _, err := db.HashAt(-1); !errors.Is(err, ErrNotFound) {
		t.Errorf("HashAt(-1): %v", err)
	}
	if _, err := db.Headers(5, 10); !errors.Is(err, ErrNotFound) {
		t.Errorf("Headers(5, 10): %v", err)
	}
	if _, err := db.AnalysisHeaders(3, 2); err == nil {
		t.Errorf("AnalysisHeaders(3, 2) succeeded")
	}
	recs, err := db.Headers(9, 9)
	if err != nil || len(recs) != 1 || recs[0].Height != 9 {
		t.Errorf("Headers(9, 9) = %v, %v", recs, err)
	}

	mustClose(t, db)
	if _, err := db.Header(1); !errors.Is(err, ErrClosed) {
		t.Errorf("Header after close: %v", err)
	}
	if err := db.ConnectHeader(10, &wire.BlockHeader{}); !errors.Is(err, ErrClosed) {
		t.Errorf("ConnectHeader after close: %v", err)
	}
}

// TestGenesisHeader checks the genesis headers the fixtures build on.
func TestGenesisHeader(t *testing.T) {
	params := []analysis.Params{analysis.Mainnet, analysis.Testnet3,
		analysis.Testnet4, analysis.Signet, analysis.Regtest, analysis.Simnet}
	for _, p := range params {
		hdr, ok := GenesisHeader(p)
		if !ok || hdr.BlockHash() != p.GenesisHash {
			t.Errorf("%s: genesis %v (ok %v), want %v", p.Name,
				hdr.BlockHash(), ok, p.GenesisHash)
		}
	}
}

// TestConcurrentReaders reads while headers are connected and disconnected,
// and closes while readers run; run with -race.
func TestConcurrentReaders(t *testing.T) {
	hdrs := MainnetHeaders(t)[:2000]
	db := NewTestDB(t, analysis.Mainnet)
	ConnectHeaders(t, db, hdrs[:1])

	done := make(chan struct{})
	errs := make(chan error, 2)
	for r := 0; r < 2; r++ {
		go func() {
			for {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				height, hash, ok := db.Tip()
				if !ok {
					continue
				}
				// The tip may move on, but never below what was read.
				got, err := db.AnalysisHeaders(0, height)
				if err != nil || len(got) != int(height)+1 {
					errs <- fmt.Errorf("analysis headers to %d: %v", height, err)
					return
				}
				if h, err := db.HashAt(height); err != nil || h != hash {
					errs <- fmt.Errorf("HashAt(tip height %d) = %v, %v; want the tip's %v", height, h, err, hash)
					return
				}
			}
		}()
	}

	ConnectHeaders(t, db, hdrs[1:])
	close(done)
	for r := 0; r < 2; r++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestConnectHeadersMatchesConnectHeader connects all real mainnet headers in one call (which Badger must
// split into several transactions) and checks the index equals the one built block by block; a batch with a
// header that does not link writes nothing.
func TestConnectHeadersMatchesConnectHeader(t *testing.T) {
	hdrs := MainnetHeaders(t)
	one := NewTestDB(t, analysis.Mainnet)
	for h := range hdrs {
		if err := one.ConnectHeader(int32(h), &hdrs[h]); err != nil {
			t.Fatal(err)
		}
	}
	all := NewTestDB(t, analysis.Mainnet)
	if err := all.ConnectHeaders(0, hdrs); err != nil {
		t.Fatal(err)
	}
	DiffDumps(t, Dump(t, one), Dump(t, all))

	// Blocks 0-9 connected; a batch 10-19 whose 15th header is broken leaves the index at 9.
	part := NewTestDB(t, analysis.Mainnet)
	if err := part.ConnectHeaders(0, hdrs[:10]); err != nil {
		t.Fatal(err)
	}
	before := Dump(t, part)
	bad := append([]wire.BlockHeader(nil), hdrs[10:20]...)
	bad[5].PrevBlock[0] ^= 1
	if err := part.ConnectHeaders(10, bad); !errors.Is(err, ErrNotOnTip) {
		t.Fatalf("broken batch: %v, want ErrNotOnTip", err)
	}
	if h, _, _ := part.Tip(); h != 9 {
		t.Fatalf("tip %d after a rejected batch, want 9", h)
	}
	DiffDumps(t, before, Dump(t, part))
}

// TestConnectBlocksGivenHash checks BlockData.Hash: the hashes a caller
// computed (here by hand from the raw blocks) give the index computing them
// would, and a wrong one is found by the next block and by the check.
func TestConnectBlocksGivenHash(t *testing.T) {
	data := MainnetBlockData(t, 0)
	all := data[:300]
	raw := rawMainnetBlocks(t)
	want := NewTestDB(t, analysis.Mainnet)
	if err := want.SetBlocksFrom(0, true); err != nil {
		t.Fatal(err)
	}
	ConnectBlocks(t, want, all)

	given := make([]BlockData, len(all))
	for h := range given {
		given[h] = all[h]
		given[h].Hash = dsha(raw[h][:80])
	}
	db := NewTestDB(t, analysis.Mainnet)
	if err := db.SetBlocksFrom(0, true); err != nil {
		t.Fatal(err)
	}
	ConnectBlocks(t, db, given[:150])
	ConnectBlocks(t, db, given[150:])
	DiffDumps(t, Dump(t, want), Dump(t, db))

	// A wrong hash for block 300: the block after it does not link.
	next := data[300:302]
	next[0].Hash = chainhash.Hash{3}
	ConnectBlocks(t, db, next[:1])
	wantProblem(t, mustCheck(t, db), 300, "hashes to")
	if err := db.ConnectBlocks(301, next[1:]); !errors.Is(err, ErrNotOnTip) {
		t.Fatalf("connect after a wrong hash: %v, want ErrNotOnTip", err)
	}
}
