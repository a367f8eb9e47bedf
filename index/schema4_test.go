package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
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

// withoutRetired returns kv without its height-by-hash rows: what the
// upgrade to schema 4 leaves of an index that had them.
func withoutRetired(kv map[string]string) map[string]string {
	out := make(map[string]string, len(kv))
	for k, v := range kv {
		if k[0] != 0x03 {
			out[k] = v
		}
	}
	return out
}

// TestMigrationFromV3 opens schema 3 indexes (built by today's code, then
// given the rows and undo entries schema 3 wrote) with the current code. The
// upgrade drops the height-by-hash rows and nothing else: every other row is
// the one today's code writes, but for the undo records, which keep their
// entries for the dropped rows. The index passes every invariant, and
// blocks disconnect over those records and connect again to the index
// today's code builds. An upgrade interrupted after the drop, before the
// version is recorded, is finished by the next open.
func TestMigrationFromV3(t *testing.T) {
	all := MainnetBlockData(t, 0)
	const n = 400 // block 170 holds the first flow transaction
	latest := be32(int32(latestVersion(migrations)))
	// build returns the schema 3 index, its directory, what today's code
	// writes for the same blocks, and what the upgrade must leave.
	build := func(t *testing.T, mode blockMode) (*DB, string, map[string]string, map[string]string) {
		db, dir := openTemp(t, analysis.Mainnet)
		if err := db.SetBlocksFrom(mode.from, mode.full); err != nil {
			t.Fatal(err)
		}
		ConnectBlocks(t, db, blocksFor(all, mode, n))
		today := Dump(t, db)
		if got := withHashRows(t, db, 3); got != n {
			t.Fatalf("added %d height-by-hash rows, want %d", got, n)
		}
		v3 := Dump(t, db)
		if len(v3) != len(today)+n {
			t.Fatalf("schema 3 index has %d rows, want %d", len(v3), len(today)+n)
		}
		upgraded := withoutRetired(v3)
		upgraded["\x01schema"] = latest
		for k, v := range upgraded {
			if k[0] != 0x04 && today[k] != v {
				t.Fatalf("key %x: the schema 3 index holds %x, today's code %x", k, v, today[k])
			}
		}
		return db, dir, today, upgraded
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
			db, dir, today, upgraded := build(t, mode)
			mustClose(t, db)
			if _, _, err := OpenExisting(dir); !errors.Is(err, ErrSchemaTooOld) {
				t.Fatalf("read-only open of schema 3: %v, want ErrSchemaTooOld", err)
			}
			db = reopen(t, dir, upgraded)

			// Disconnect over the old undo records, and connect again: the
			// blocks above 100 get today's undo records, those below keep
			// theirs.
			mustDisconnectTo(t, db, 100)
			wantNoProblems(t, mustCheck(t, db))
			ConnectBlocks(t, db, blocksFor(all, mode, n)[101:])
			want := maps.Clone(today)
			want["\x01schema"] = latest
			for h := int32(0); h <= 100; h++ {
				k := "\x04" + be32(h)
				want[k] = upgraded[k]
			}
			DiffDumps(t, want, Dump(t, db))
		})
	}

	t.Run("interrupted before the version", func(t *testing.T) {
		db, dir, _, upgraded := build(t, blockMode{full: true, from: 0})
		if err := migrateDropHashRows(db.bdb); err != nil {
			t.Fatal(err)
		}
		if kv := Dump(t, db); kv["\x01schema"] != be32(3) {
			t.Fatalf("schema %x after the drop, want 3", kv["\x01schema"])
		}
		mustClose(t, db)
		reopen(t, dir, upgraded)
	})
}
