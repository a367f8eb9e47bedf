package index

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/dgraph-io/badger/v4"
	"github.com/minerscope/minerscope/analysis"
)

// blocksFor returns the first n mainnet blocks as an index in mode must be
// given them: a coinbase record exactly at the heights it keeps.
func blocksFor(all []BlockData, mode blockMode, n int) []BlockData {
	blocks := make([]BlockData, n)
	for h := range blocks {
		blocks[h].Header = all[h].Header
		if mode.keeps(int32(h)) {
			blocks[h].Coinbase, blocks[h].Block = all[h].Coinbase, all[h].Block
		}
	}
	return blocks
}

// TestSetBlocksFrom checks which mode changes are allowed, the message of a
// refused one, and that an allowed one is stored.
func TestSetBlocksFrom(t *testing.T) {
	all := MainnetBlockData(t, 0)
	headersOnly := blockMode{}
	full := func(from int32) blockMode { return blockMode{full: true, from: from} }

	const (
		toFull    = "index DIR holds headers only; rebuild it in a new --index directory to keep full blocks"
		toHeaders = "index DIR keeps full blocks from height 5; rebuild it in a new --index directory to keep headers only"
		to12      = "index DIR keeps full blocks from height 5; rebuild it in a new --index directory to keep them from height 12"
		to9       = "index DIR keeps full blocks from height 20; rebuild it in a new --index directory to keep them from height 9"
	)
	tests := []struct {
		name   string
		have   blockMode
		blocks int
		want   blockMode
		err    string
	}{
		{"empty: headers-only to full", headersOnly, 0, full(0), ""},
		{"empty: full to headers-only", full(0), 0, headersOnly, ""},
		{"empty: full to full elsewhere", full(0), 0, full(100), ""},
		{"headers-only: same", headersOnly, 10, headersOnly, ""},
		{"headers-only: full above the tip", headersOnly, 10, full(10), ""},
		{"headers-only: full at the tip", headersOnly, 10, full(9), toFull},
		{"headers-only: full from 0", headersOnly, 10, full(0), toFull},
		{"full: same", full(5), 10, full(5), ""},
		{"full: to headers-only", full(5), 10, headersOnly, toHeaders},
		{"full: later start", full(5), 10, full(12), to12},
		{"full above the tip: earlier start above the tip", full(20), 10, full(10), ""},
		{"full above the tip: start at the tip", full(20), 10, full(9), to9},
		{"full above the tip: to headers-only", full(20), 10, headersOnly, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, dir := openTemp(t, analysis.Mainnet)
			if err := db.SetBlocksFrom(tc.have.from, tc.have.full); err != nil {
				t.Fatal(err)
			}
			ConnectBlocks(t, db, blocksFor(all, tc.have, tc.blocks))
			before := Dump(t, db)

			err := db.SetBlocksFrom(tc.want.from, tc.want.full)
			if tc.err != "" {
				want := strings.ReplaceAll(tc.err, "DIR", dir)
				if !errors.Is(err, ErrModeChange) || err.Error() != want {
					t.Fatalf("err = %v, want %q", err, want)
				}
				DiffDumps(t, before, Dump(t, db))
				checkMode(t, db, tc.have)
				mustClose(t, db)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkMode(t, db, tc.want)

			// The new mode is stored, and the next blocks connect under it.
			mustClose(t, db)
			db, err = Open(dir, analysis.Mainnet, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer mustClose(t, db)
			checkMode(t, db, tc.want)
			next := blocksFor(all, tc.want, tc.blocks+20)[tc.blocks:]
			ConnectBlocks(t, db, next)
		})
	}
}

// checkMode compares BlocksFrom with want.
func checkMode(t *testing.T, db *DB, want blockMode) {
	t.Helper()
	if from, full := db.BlocksFrom(); from != want.from || full != want.full {
		t.Fatalf("BlocksFrom = %d %v, want %d %v", from, full, want.from, want.full)
	}
}

// TestSetBlocksFromErrors checks the refusals that are not mode changes.
func TestSetBlocksFromErrors(t *testing.T) {
	db, dir := openTemp(t, analysis.Mainnet)
	if err := db.SetBlocksFrom(-1, true); err == nil || errors.Is(err, ErrModeChange) {
		t.Errorf("negative height: %v", err)
	}
	mustClose(t, db)
	if err := db.SetBlocksFrom(0, true); !errors.Is(err, ErrClosed) {
		t.Errorf("after close: %v, want ErrClosed", err)
	}

	ro, _, err := OpenExisting(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer mustClose(t, ro)
	if err := ro.SetBlocksFrom(0, true); !errors.Is(err, ErrReadOnly) {
		t.Errorf("read-only: %v, want ErrReadOnly", err)
	}
}

// TestConnectBlocksRules checks that blocks whose coinbase records do not
// fit the index, or contradict themselves, are refused and change nothing.
func TestConnectBlocksRules(t *testing.T) {
	all := MainnetBlockData(t, 0)
	db := NewTestDB(t, analysis.Mainnet)
	mode := blockMode{full: true, from: 5}
	if err := db.SetBlocksFrom(mode.from, mode.full); err != nil {
		t.Fatal(err)
	}
	ConnectBlocks(t, db, blocksFor(all, mode, 3))
	before := Dump(t, db)
	good := blocksFor(all, mode, 12)[3:]

	// edit returns a copy of good with block i changed by f; the block
	// itself is a shallow copy, whose header f may change.
	edit := func(i int, f func(b *BlockData)) []BlockData {
		blocks := append([]BlockData(nil), good...)
		if blocks[i].Coinbase != nil {
			rec := *blocks[i].Coinbase
			rec.Outputs = append([]analysis.CoinbaseOutput(nil), rec.Outputs...)
			blocks[i].Coinbase = &rec
		}
		if blocks[i].Block != nil {
			blk := *blocks[i].Block
			blocks[i].Block = &blk
		}
		f(&blocks[i])
		return blocks
	}
	tests := []struct {
		name   string
		blocks []BlockData
		want   error
		msg    string
	}{
		{"record below blocks_from", edit(0, func(b *BlockData) {
			b.Coinbase, b.Block = all[3].Coinbase, all[3].Block
		}), ErrBlockData, "keeps full blocks only from height 5"},
		{"no record at blocks_from", edit(2, func(b *BlockData) { b.Coinbase, b.Block = nil, nil }),
			ErrBlockData, "has no coinbase record"},
		{"no record above blocks_from", edit(8, func(b *BlockData) { b.Coinbase, b.Block = nil, nil }),
			ErrBlockData, "at height 11 has no coinbase record"},
		{"record without its block", edit(4, func(b *BlockData) { b.Block = nil }),
			ErrBlockData, "block 7 must have both its coinbase record and its transactions"},
		{"block without its record", edit(4, func(b *BlockData) { b.Coinbase = nil }),
			ErrBlockData, "block 7 must have both its coinbase record and its transactions"},
		{"block below blocks_from", edit(0, func(b *BlockData) { b.Block = all[3].Block }),
			ErrBlockData, "block 3 must have both"},
		{"block of another height", edit(4, func(b *BlockData) { b.Block = all[8].Block }),
			ErrBlockData, "block 7: the transactions are of another block"},
		{"record of another block", edit(4, func(b *BlockData) { b.Coinbase = all[8].Coinbase }),
			ErrBlockData, "block 7: the coinbase record is not that of the block's first transaction"},
		{"txids of another block", edit(4, func(b *BlockData) {
			b.TxIDs = []chainhash.Hash{all[8].Block.Transactions[0].TxHash()}
		}), ErrBlockData, "block 7: the coinbase record is not that of the block's first transaction"},
		{"too few txids", edit(4, func(b *BlockData) { b.TxIDs = []chainhash.Hash{} }),
			ErrBlockData, "block 7: the coinbase record is not that of the block's first transaction"},
		{"block with no transactions", edit(4, func(b *BlockData) { b.Block.Transactions = nil }),
			ErrBlockData, "block 7 has no transactions"},
		{"reward is not the sum", edit(4, func(b *BlockData) { b.Coinbase.Reward++ }),
			ErrBlockData, "not the sum of the outputs"},
		{"wrong subsidy", edit(4, func(b *BlockData) {
			b.Coinbase.Subsidy /= 2
			b.Coinbase.Fees = b.Coinbase.Reward - b.Coinbase.Subsidy
		}), ErrBlockData, "subsidy 2500000000, want 5000000000"},
		{"wrong fees", edit(4, func(b *BlockData) { b.Coinbase.Fees = 1 }),
			ErrBlockData, "fees 1, want 0"},
		{"negative output", edit(4, func(b *BlockData) {
			b.Coinbase.Outputs[0].Value = -1
			b.Coinbase.Reward = -1
		}), ErrBlockData, "output 0 has value -1"},
		{"no transactions", edit(4, func(b *BlockData) { b.Coinbase.TxCount = 0 }),
			ErrBlockData, "0 transactions"},
		{"broken link", edit(6, func(b *BlockData) {
			b.Header.Nonce++
			b.Block.Header = b.Header
		}), ErrNotOnTip, "previous block"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := db.ConnectBlocks(3, tc.blocks)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.want, tc.msg)
			}
			DiffDumps(t, before, Dump(t, db))
		})
	}

	// A header alone cannot connect where the index keeps full blocks.
	hdrs := []wire.BlockHeader{good[0].Header, good[1].Header, good[2].Header}
	if err := db.ConnectHeaders(3, hdrs); !errors.Is(err, ErrBlockData) {
		t.Fatalf("ConnectHeaders across blocks_from: %v, want ErrBlockData", err)
	}
	if err := db.ConnectHeaders(3, hdrs[:2]); err != nil {
		t.Fatalf("ConnectHeaders below blocks_from: %v", err)
	}
	ConnectBlocks(t, db, good[2:])

	// A headers-only index takes no record at all.
	ho := NewTestDB(t, analysis.Mainnet)
	err := ho.ConnectBlocks(0, all[:2])
	if !errors.Is(err, ErrBlockData) || !strings.Contains(err.Error(), "keeps headers only") {
		t.Fatalf("record on a headers-only index: %v", err)
	}
}

// TestConnectBlocksMatchesConnectHeaders checks that ConnectBlocks writes
// headers as ConnectHeaders does, and that connecting all real mainnet
// blocks in one call (which Badger must split) equals connecting them one
// by one.
func TestConnectBlocksMatchesConnectHeaders(t *testing.T) {
	all := MainnetBlockData(t, 0)

	byHeaders := NewMainnetTestDB(t, MainnetTestHeaders)
	byBlocks := NewTestDB(t, analysis.Mainnet)
	ConnectBlocks(t, byBlocks, blocksFor(all, blockMode{}, len(all)))
	DiffDumps(t, Dump(t, byHeaders), Dump(t, byBlocks))

	mode := blockMode{full: true, from: 7000}
	one := NewTestDB(t, analysis.Mainnet)
	batch := NewTestDB(t, analysis.Mainnet)
	for _, db := range []*DB{one, batch} {
		if err := db.SetBlocksFrom(mode.from, true); err != nil {
			t.Fatal(err)
		}
	}
	blocks := blocksFor(all, mode, len(all))
	for h := range blocks {
		ConnectBlocks(t, one, blocks[h:h+1])
	}
	ConnectBlocks(t, batch, blocks)
	DiffDumps(t, Dump(t, one), Dump(t, batch))
}

// TestMigrationFromV1 builds a schema 1 index with the schema 1 code path
// (the migration list stopping at version 1: no blocks_from, no coinbase
// keyspace) and the height-by-hash rows schema 1 wrote, opens it with the
// current code and checks it became a headers-only index of the latest
// schema (through 2 and 3, where a headers-only index needs nothing, and 4,
// which drops those rows) that refuses to keep full blocks for the heights
// it has.
func TestMigrationFromV1(t *testing.T) {
	all := MainnetBlockData(t, 0)
	dir := t.TempDir()
	v1, err := open(dir, analysis.Mainnet, Options{}, migrations[:1])
	if err != nil {
		t.Fatal(err)
	}
	ConnectHeaders(t, v1, MainnetHeaders(t)[:100])
	withHashRows(t, v1, 1)
	want := Dump(t, v1)
	mustClose(t, v1)
	if want["\x01schema"] != be32(1) {
		t.Fatalf("schema 1 code wrote schema %x", want["\x01schema"])
	}

	// Only a writable open may migrate.
	if _, _, err := OpenExisting(dir); !errors.Is(err, ErrSchemaTooOld) {
		t.Fatalf("read-only open of schema 1: %v, want ErrSchemaTooOld", err)
	}
	db, err := Open(dir, analysis.Mainnet, Options{})
	if err != nil {
		t.Fatalf("open schema 1: %v", err)
	}
	defer mustClose(t, db)

	// Schema 4 dropped the height-by-hash rows; the undo records keep their
	// entries for them (TestMigrationFromV3).
	want = withoutRetired(want)
	want["\x01schema"] = be32(int32(latestVersion(migrations)))
	DiffDumps(t, want, Dump(t, db))
	checkMode(t, db, blockMode{})

	msg := "index " + dir + " holds headers only; rebuild it in a new --index directory to keep full blocks"
	if err := db.SetBlocksFrom(0, true); !errors.Is(err, ErrModeChange) || err.Error() != msg {
		t.Fatalf("keep full blocks from 0: %v, want %q", err, msg)
	}
	if err := db.ConnectBlocks(100, all[100:101]); !errors.Is(err, ErrBlockData) {
		t.Fatalf("connect a record: %v, want ErrBlockData", err)
	}
	ConnectBlocks(t, db, blocksFor(all, blockMode{}, 110)[100:])

	// Full blocks may start above the tip.
	if err := db.SetBlocksFrom(200, true); err != nil {
		t.Fatal(err)
	}
	ConnectBlocks(t, db, blocksFor(all, blockMode{full: true, from: 200}, 210)[110:])
	if rec, err := db.Coinbase(209); err != nil || rec.TxID != all[209].Coinbase.TxID {
		t.Fatalf("coinbase 209 = %v, %v", rec.TxID, err)
	}
}

// TestMigrationFromEmptyV1 checks that an empty schema 1 index may keep
// full blocks once migrated.
func TestMigrationFromEmptyV1(t *testing.T) {
	dir := t.TempDir()
	v1, err := open(dir, analysis.Mainnet, Options{}, migrations[:1])
	if err != nil {
		t.Fatal(err)
	}
	mustClose(t, v1)

	db, err := Open(dir, analysis.Mainnet, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer mustClose(t, db)
	if err := db.SetBlocksFrom(0, true); err != nil {
		t.Fatal(err)
	}
	ConnectBlocks(t, db, MainnetBlockData(t, 0)[:3])
}

// TestMigrationFromV2 builds schema 2 indexes with the schema 2 code path
// (the migration list stopping at version 2, and the height-by-hash rows
// schema 2 wrote) and opens them with the current code. An empty or headers-only one becomes a schema 3 index,
// unchanged but for its version, that keeps full blocks with their flows
// above its tip. One that keeps full blocks lacks the flows, which need
// every block again: it is refused with ErrNeedsRebuild and a message
// saying how to rebuild, and left as it was.
func TestMigrationFromV2(t *testing.T) {
	all := MainnetBlockData(t, 0)
	// build returns the index's directory and what it holds without the
	// height-by-hash rows: what the upgrade to the latest schema leaves
	// (with the undo records' entries for them, TestMigrationFromV3).
	build := func(t *testing.T, mode blockMode, n int) (string, map[string]string) {
		dir := t.TempDir()
		v2, err := open(dir, analysis.Mainnet, Options{}, migrations[:2])
		if err != nil {
			t.Fatal(err)
		}
		if err := v2.SetBlocksFrom(mode.from, mode.full); err != nil {
			t.Fatal(err)
		}
		ConnectBlocks(t, v2, blocksFor(all, mode, n))
		// Schema 2 wrote no flows: drop those today's code wrote.
		err = v2.bdb.DropPrefix([]byte{scriptPrefix}, []byte{utxoPrefix}, []byte{flowTxPrefix},
			[]byte{blockFlowsPrefix}, []byte{txidPrefix}, []byte{needValuesPrefix})
		if err != nil {
			t.Fatal(err)
		}
		withHashRows(t, v2, 2)
		kv := Dump(t, v2)
		if kv["\x01schema"] != be32(2) || len(flowRowCounts(kv)) != 0 {
			t.Fatalf("schema 2 index: schema %x, flow rows %v", kv["\x01schema"], flowRowCounts(kv))
		}
		mustClose(t, v2)
		return dir, withoutRetired(kv)
	}
	latest := be32(int32(latestVersion(migrations)))

	for _, n := range []int{0, 100} {
		t.Run(fmt.Sprintf("headers-only, %d headers", n), func(t *testing.T) {
			dir, want := build(t, blockMode{}, n)
			if _, _, err := OpenExisting(dir); !errors.Is(err, ErrSchemaTooOld) {
				t.Fatalf("read-only open of schema 2: %v, want ErrSchemaTooOld", err)
			}
			db, err := Open(dir, analysis.Mainnet, Options{})
			if err != nil {
				t.Fatalf("open schema 2: %v", err)
			}
			defer mustClose(t, db)
			want["\x01schema"] = latest
			DiffDumps(t, want, Dump(t, db))
			checkMode(t, db, blockMode{})

			if err := db.SetBlocksFrom(int32(n), true); err != nil {
				t.Fatal(err)
			}
			ConnectBlocks(t, db, blocksFor(all, blockMode{full: true, from: int32(n)}, n+200)[n:])
			var blocks []*wire.MsgBlock
			for _, d := range all[n : n+200] {
				blocks = append(blocks, d.Block)
			}
			checkFlowModel(t, db, refModel(int32(n), blocks), int32(n), int32(n+199))
		})
	}

	// Full blocks kept from above the tip: no block lacks its flows yet, so it migrates and indexes them.
	t.Run("full from 1000, 100 blocks", func(t *testing.T) {
		mode := blockMode{full: true, from: 1000}
		dir, want := build(t, mode, 100)
		db, err := Open(dir, analysis.Mainnet, Options{})
		if err != nil {
			t.Fatalf("open schema 2 with blocks_from above the tip: %v", err)
		}
		defer mustClose(t, db)
		want["\x01schema"] = latest
		DiffDumps(t, want, Dump(t, db))
		checkMode(t, db, mode)
	})

	for _, mode := range []blockMode{{full: true, from: 0}, {full: true, from: 60}} {
		t.Run(fmt.Sprintf("full from %d, 100 blocks", mode.from), func(t *testing.T) {
			dir, _ := build(t, mode, 100)
			db, err := open(dir, analysis.Mainnet, Options{}, migrations[:2])
			if err != nil {
				t.Fatal(err)
			}
			want := Dump(t, db)
			mustClose(t, db)

			_, err = Open(dir, analysis.Mainnet, Options{})
			if !errors.Is(err, ErrNeedsRebuild) || !strings.Contains(err.Error(), "run `minerscope index` to rebuild it") {
				t.Fatalf("open schema 2 with full blocks: %v, want ErrNeedsRebuild", err)
			}
			if _, _, err := OpenExisting(dir); !errors.Is(err, ErrSchemaTooOld) {
				t.Fatalf("read-only open of schema 2: %v, want ErrSchemaTooOld", err)
			}
			db, err = open(dir, analysis.Mainnet, Options{}, migrations[:2])
			if err != nil {
				t.Fatal(err)
			}
			defer mustClose(t, db)
			DiffDumps(t, want, Dump(t, db))
		})
	}
}

// TestCorruptCoinbaseRows checks that open notices coinbase records and a
// blocks_from record that disagree with each other or with the tip.
func TestCorruptCoinbaseRows(t *testing.T) {
	all := MainnetBlockData(t, 0)
	rec0, err := serializeCoinbase(all[0].Coinbase)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mode   blockMode
		mutate func(txn *badger.Txn) error
	}{
		{"record in a headers-only index", blockMode{}, func(txn *badger.Txn) error {
			return txn.Set(heightKey(coinbasePrefix, 2), rec0)
		}},
		{"record below blocks_from", blockMode{full: true, from: 3}, func(txn *badger.Txn) error {
			return txn.Set(heightKey(coinbasePrefix, 1), rec0)
		}},
		{"record above the tip", blockMode{full: true, from: 3}, func(txn *badger.Txn) error {
			return txn.Set(heightKey(coinbasePrefix, 5), rec0)
		}},
		{"no record at the tip", blockMode{full: true, from: 3}, func(txn *badger.Txn) error {
			return txn.Delete(heightKey(coinbasePrefix, 4))
		}},
		{"no record at blocks_from", blockMode{full: true, from: 3}, func(txn *badger.Txn) error {
			return txn.Delete(heightKey(coinbasePrefix, 3))
		}},
		{"blocks_from lowered under a headers-only block", blockMode{full: true, from: 3}, func(txn *badger.Txn) error {
			return txn.Set(blocksFromKey, serializeHeight(2))
		}},
		{"blocks_from removed", blockMode{full: true, from: 3}, func(txn *badger.Txn) error {
			return txn.Delete(blocksFromKey)
		}},
		{"blocks_from malformed", blockMode{full: true, from: 3}, func(txn *badger.Txn) error {
			return txn.Set(blocksFromKey, []byte{1})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, dir := openTemp(t, analysis.Mainnet)
			if err := db.SetBlocksFrom(tc.mode.from, tc.mode.full); err != nil {
				t.Fatal(err)
			}
			ConnectBlocks(t, db, blocksFor(all, tc.mode, 5))
			if err := db.bdb.Update(tc.mutate); err != nil {
				t.Fatal(err)
			}
			mustClose(t, db)

			if _, err := Open(dir, analysis.Mainnet, Options{}); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("open: %v, want ErrCorrupt", err)
			}
		})
	}
}

// TestSubsidyRule checks the subsidy ConnectBlocks demands against the
// published schedule: 50 BTC halving every 210,000 blocks on mainnet.
func TestSubsidyRule(t *testing.T) {
	tests := []struct {
		height int32
		want   btcutil.Amount
	}{
		{0, 50e8}, {209999, 50e8}, {210000, 25e8}, {420000, 12.5e8},
		{630000, 6.25e8}, {840000, 3.125e8}, {6930000, 0},
	}
	for _, tc := range tests {
		rec := &analysis.CoinbaseRecord{
			TxCount: 1,
			Outputs: []analysis.CoinbaseOutput{{Value: tc.want + 7}},
			Reward:  tc.want + 7,
			Subsidy: tc.want,
			Fees:    7,
		}
		if err := checkCoinbase(analysis.Mainnet, tc.height, rec); err != nil {
			t.Errorf("height %d: %v", tc.height, err)
		}
		rec.Subsidy, rec.Fees = tc.want+1, 6
		if err := checkCoinbase(analysis.Mainnet, tc.height, rec); !errors.Is(err, ErrBlockData) {
			t.Errorf("height %d, subsidy off by one: %v", tc.height, err)
		}
	}
}
