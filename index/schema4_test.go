package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/minerscope/minerscope/analysis"
)

// withHashRows turns db, built by today's code, into the index schema
// version (1 to 3) wrote for the same blocks: a height-by-hash row per header
// (<0x03><hash> = <height uint32 BE>), and in each block's undo record an
// entry for it, absent before, right after the header row's (schema 3 wrote
// the two rows in that order). It builds the bytes from keys.go's undo
// layout, not from the index's own encoder, and returns how many rows it
// added. Versions 1 and 2 wrote fewer keyspaces; a caller building one
// of those must leave them empty.
func withHashRows(t *testing.T, db *DB, version int32) int {
	t.Helper()
	kv := Dump(t, db)
	n := 0
	err := db.bdb.Update(func(txn *badger.Txn) error {
		for key, val := range kv {
			if key[0] != 0x02 {
				continue
			}
			height := key[1:]
			hash := val[80:112]
			if err := txn.Set([]byte("\x03"+hash), []byte(height)); err != nil {
				return err
			}
			// The undo record: uvarint count (below 128 for these blocks),
			// then the header row's entry (length 5, key, absent), then the
			// rest.
			undo := kv["\x04"+height]
			header := "\x05\x02" + height + "\x00"
			if undo[0] >= 0x80 || undo[1:1+len(header)] != header {
				return fmt.Errorf("undo record at %x does not start with the header row", height)
			}
			old := []byte{undo[0] + 1}
			old = append(old, header...)
			old = appendAbsent(old, "\x03"+hash)
			old = append(old, undo[1+len(header):]...)
			if err := txn.Set([]byte("\x04"+height), old); err != nil {
				return err
			}
			n++
		}
		return txn.Set([]byte("\x01schema"), binary.BigEndian.AppendUint32(nil, uint32(version)))
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestMigrationFromV3 opens schema 3 indexes (built by today's code, then
// given the rows and undo entries schema 3 wrote) with the current code: the
// upgrade leaves each byte-identical to the index today's code builds from
// the same blocks, passing every invariant, and blocks disconnect and
// connect again over it. The upgrade is also run in pieces: interrupted
// after any step, the next open finishes it.
func TestMigrationFromV3(t *testing.T) {
	all := MainnetBlockData(t, 0)
	const n = 400 // block 170 holds the first flow transaction
	build := func(t *testing.T, mode blockMode) (*DB, string, map[string]string) {
		db, dir := openTemp(t, analysis.Mainnet)
		if err := db.SetBlocksFrom(mode.from, mode.full); err != nil {
			t.Fatal(err)
		}
		ConnectBlocks(t, db, blocksFor(all, mode, n))
		want := Dump(t, db)
		if got := withHashRows(t, db, 3); got != n {
			t.Fatalf("added %d height-by-hash rows, want %d", got, n)
		}
		if kv := Dump(t, db); len(kv) != len(want)+n {
			t.Fatalf("schema 3 index has %d rows, want %d", len(kv), len(want)+n)
		}
		return db, dir, want
	}
	reopen := func(t *testing.T, dir string, want map[string]string) *DB {
		db, err := Open(dir, analysis.Mainnet, Options{})
		if err != nil {
			t.Fatalf("open schema 3: %v", err)
		}
		t.Cleanup(func() { mustClose(t, db) })
		DiffDumps(t, want, Dump(t, db))
		wantNoProblems(t, mustCheck(t, db))
		return db
	}

	for _, mode := range []blockMode{{}, {full: true, from: 0}, {full: true, from: 150}} {
		t.Run(fmt.Sprintf("full %v from %d", mode.full, mode.from), func(t *testing.T) {
			db, dir, want := build(t, mode)
			mustClose(t, db)
			if _, _, err := OpenExisting(dir); !errors.Is(err, ErrSchemaTooOld) {
				t.Fatalf("read-only open of schema 3: %v, want ErrSchemaTooOld", err)
			}
			db = reopen(t, dir, want)

			// Disconnecting over the upgraded undo records and connecting
			// again gives the same index.
			mustDisconnectTo(t, db, 100)
			ConnectBlocks(t, db, blocksFor(all, mode, n)[101:])
			DiffDumps(t, want, Dump(t, db))
		})
	}

	t.Run("interrupted", func(t *testing.T) {
		mode := blockMode{full: true, from: 0}
		steps := []struct {
			name string
			run  func(bdb *badger.DB) error
		}{
			{"undo records from 200 stripped", func(bdb *badger.DB) error {
				return bdb.Update(func(txn *badger.Txn) error {
					_, _, err := stripRetiredUndo(txn, 200, undoRewriteBytes)
					return err
				})
			}},
			{"rows dropped, undo records not stripped", func(bdb *badger.DB) error {
				return bdb.DropPrefix([]byte{0x03})
			}},
			{"all done but the version", func(bdb *badger.DB) error {
				return dropHashRows(bdb, undoRewriteBytes)
			}},
			{"in transactions of 500 bytes", func(bdb *badger.DB) error {
				// Many transactions, each ending on a record boundary.
				return dropHashRows(bdb, 500)
			}},
		}
		for _, step := range steps {
			t.Run(step.name, func(t *testing.T) {
				db, dir, want := build(t, mode)
				if err := step.run(db.bdb); err != nil {
					t.Fatal(err)
				}
				if kv := Dump(t, db); kv["\x01schema"] != be32(3) {
					t.Fatalf("schema %x after the step, want 3", kv["\x01schema"])
				}
				mustClose(t, db)
				reopen(t, dir, want)
			})
		}
	})
}

// TestStripRetiredUndoBudget checks that one transaction of the upgrade
// rewrites records up to the budget and at least one, and says where to go
// on.
func TestStripRetiredUndoBudget(t *testing.T) {
	db, _ := openTemp(t, analysis.Mainnet)
	defer mustClose(t, db)
	ConnectHeaders(t, db, MainnetHeaders(t)[:10])
	withHashRows(t, db, 3)
	// keys.go: a header-only record is 51 bytes, the first (no previous tip)
	// 14; a hash entry adds 1 + 33 + 1.
	for _, tc := range []struct {
		from, budget int
		next         int32
		done         bool
	}{
		{0, 0, 1, false},       // one record at least
		{0, 49, 1, false},      // exactly the first
		{0, 49 + 86, 2, false}, // the first two
		{3, 86*7 - 1, 9, false},
		{3, 86 * 7, 0, true},
		{9, 1, 0, true},
	} {
		txn := db.bdb.NewTransaction(true)
		next, done, err := stripRetiredUndo(txn, int32(tc.from), tc.budget)
		txn.Discard()
		if err != nil {
			t.Fatal(err)
		}
		if next != tc.next || done != tc.done {
			t.Errorf("from %d, budget %d: next %d, done %v; want %d, %v", tc.from, tc.budget,
				next, done, tc.next, tc.done)
		}
	}
}
