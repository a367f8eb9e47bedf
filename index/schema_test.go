package index

import (
	"errors"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/minerscope/minerscope/analysis"
)

// TestWrongNetwork checks that an index refuses to open for another network
// and says which networks and directory are involved.
func TestWrongNetwork(t *testing.T) {
	db, dir := openTemp(t, analysis.Mainnet)
	ConnectHeaders(t, db, MainnetHeaders(t)[:3])
	mustClose(t, db)

	_, err := Open(dir, analysis.Testnet3, Options{})
	var wn *WrongNetworkError
	if !errors.Is(err, ErrWrongNetwork) || !errors.As(err, &wn) {
		t.Fatalf("open for testnet3: %v, want *WrongNetworkError", err)
	}
	if wn.Index != "mainnet" || wn.Node != "testnet3" || wn.Dir != dir {
		t.Errorf("error fields = %+v", wn)
	}
	want := "index at " + dir + " was built for mainnet but the node is " +
		"on testnet3; use --index to choose another directory"
	if err.Error() != want {
		t.Errorf("message = %q, want %q", err, want)
	}

	// The refused open must not have changed anything.
	db, err = Open(dir, analysis.Mainnet, Options{})
	if err != nil {
		t.Fatalf("reopen for mainnet: %v", err)
	}
	if db.Count() != 3 {
		t.Errorf("count = %d, want 3", db.Count())
	}
	mustClose(t, db)
}

// TestOpenExisting checks that a read-only open finds the stored network and
// refuses writes.
func TestOpenExisting(t *testing.T) {
	db, dir := openTemp(t, analysis.Mainnet)
	hdrs := MainnetHeaders(t)[:20]
	ConnectHeaders(t, db, hdrs)
	mustClose(t, db)

	db, p, err := OpenExisting(dir)
	if err != nil {
		t.Fatalf("open existing: %v", err)
	}
	defer mustClose(t, db)
	if p.Name != "mainnet" || p.GenesisHash != analysis.Mainnet.GenesisHash ||
		db.Params().Name != "mainnet" {
		t.Fatalf("params = %s %v", p.Name, p.GenesisHash)
	}
	if h, hash, ok := db.Tip(); !ok || h != 19 || hash != hdrs[19].BlockHash() {
		t.Fatalf("tip = %d %v %v", h, hash, ok)
	}

	// A second reader may share the index.
	db2, _, err := OpenExisting(dir)
	if err != nil {
		t.Fatalf("second read-only open: %v", err)
	}
	mustClose(t, db2)

	if err := db.DisconnectTip(); !errors.Is(err, ErrReadOnly) {
		t.Errorf("disconnect read-only: %v, want ErrReadOnly", err)
	}
	if _, _, err := OpenExisting(t.TempDir()); !errors.Is(err, ErrNoIndex) {
		t.Errorf("open existing empty dir: %v, want ErrNoIndex", err)
	}
}

// TestLocked checks the error when another writer holds the index.
func TestLocked(t *testing.T) {
	db, dir := openTemp(t, analysis.Mainnet)
	defer mustClose(t, db)

	_, err := Open(dir, analysis.Mainnet, Options{})
	want := "index " + dir + " is in use by another minerscope process"
	if !errors.Is(err, ErrLocked) || err.Error() != want {
		t.Fatalf("second open: %v, want %q", err, want)
	}
	if _, _, err := OpenExisting(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("read-only open of a locked index: %v, want ErrLocked", err)
	}
}

// setSchemaVersion overwrites the stored schema version of the index in dir.
func setSchemaVersion(t *testing.T, dir string, version uint32) {
	t.Helper()
	db, err := open(dir, analysis.Mainnet, Options{}, allVersions(version))
	if err != nil {
		t.Fatalf("open to set schema version: %v", err)
	}
	err = db.bdb.Update(func(txn *badger.Txn) error {
		return dbPutSchemaVersion(txn, version)
	})
	if err != nil {
		t.Fatal(err)
	}
	mustClose(t, db)
}

// allVersions returns a migration list that accepts versions up to max.
func allVersions(max uint32) []migration {
	ms := append([]migration(nil), migrations...)
	for v := latestVersion(ms) + 1; v <= max; v++ {
		ms = append(ms, migration{to: v, name: "no-op"})
	}
	return ms
}

// TestSchemaTooNew checks that an index from a newer minerscope is refused.
func TestSchemaTooNew(t *testing.T) {
	db, dir := openTemp(t, analysis.Mainnet)
	mustClose(t, db)
	setSchemaVersion(t, dir, 7)

	_, err := Open(dir, analysis.Mainnet, Options{})
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("open: %v, want ErrSchemaTooNew", err)
	}
	for _, s := range []string{dir, "version 7", "upgrade minerscope"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message %q does not contain %q", err, s)
		}
	}
	if _, _, err := OpenExisting(dir); !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("open existing: %v, want ErrSchemaTooNew", err)
	}
}

// TestMigrations checks that pending migrations run once, in order, before
// the version is bumped, and that a failed one leaves the version alone.
func TestMigrations(t *testing.T) {
	db, dir := openTemp(t, analysis.Mainnet)
	ConnectHeaders(t, db, MainnetHeaders(t)[:5])
	mustClose(t, db)

	// Two fake migrations after the shipped ones; the second fails once.
	v := latestVersion(migrations)
	var ran []uint32
	fail := true
	fake := func(to uint32) migration {
		return migration{to: to, name: "fake", run: func(bdb *badger.DB) error {
			if to == v+2 && fail {
				return errors.New("fake failure")
			}
			ran = append(ran, to)
			return bdb.Update(func(txn *badger.Txn) error {
				return txn.Set(metaKey("fake"), []byte{byte(to)})
			})
		}}
	}
	ms := append(append([]migration(nil), migrations...), fake(v+1), fake(v+2))

	if _, err := open(dir, analysis.Mainnet, Options{ReadOnly: true}, ms); !errors.Is(err, ErrSchemaTooOld) {
		t.Fatalf("read-only open needing migration: %v, want ErrSchemaTooOld", err)
	}
	if _, err := open(dir, analysis.Mainnet, Options{}, ms); err == nil ||
		!strings.Contains(err.Error(), "fake failure") {
		t.Fatalf("open with failing migration: %v", err)
	}
	fail = false
	db, err := open(dir, analysis.Mainnet, Options{}, ms)
	if err != nil {
		t.Fatalf("open with migrations: %v", err)
	}
	// The first succeeded during the failed open and is not run again.
	if len(ran) != 2 || ran[0] != v+1 || ran[1] != v+2 {
		t.Errorf("migrations ran %v, want [%d %d]", ran, v+1, v+2)
	}
	if db.Count() != 5 {
		t.Errorf("count after migration = %d", db.Count())
	}
	mustClose(t, db)

	// Reopening at the latest version runs nothing.
	ran = nil
	db, err = open(dir, analysis.Mainnet, Options{}, ms)
	if err != nil || len(ran) != 0 {
		t.Fatalf("reopen: %v, ran %v", err, ran)
	}
	mustClose(t, db)

	// The code without the fake migrations now sees a newer schema.
	if _, err := Open(dir, analysis.Mainnet, Options{}); !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("open with old code: %v, want ErrSchemaTooNew", err)
	}
}

// TestMigrationList checks the shipped migrations are numbered 1, 2, ...
func TestMigrationList(t *testing.T) {
	for i, m := range migrations {
		if m.to != uint32(i+1) || m.name == "" {
			t.Errorf("migration %d = %+v", i, m)
		}
	}
}

// TestCorruptTip checks that open notices a tip record that disagrees with
// the header rows.
func TestCorruptTip(t *testing.T) {
	hdrs := MainnetHeaders(t)[:5]
	tests := []struct {
		name   string
		mutate func(txn *badger.Txn) error
	}{
		{"tip hash differs", func(txn *badger.Txn) error {
			h := hdrs[2].BlockHash()
			return txn.Set(tipKey, serializeTip(4, &h))
		}},
		{"header above tip", func(txn *badger.Txn) error {
			h := hdrs[2].BlockHash()
			return txn.Set(tipKey, serializeTip(2, &h))
		}},
		{"tip header missing", func(txn *badger.Txn) error {
			return txn.Delete(heightKey(headerPrefix, 4))
		}},
		{"tip missing", func(txn *badger.Txn) error {
			return txn.Delete(tipKey)
		}},
		{"undo missing", func(txn *badger.Txn) error {
			return txn.Delete(heightKey(undoPrefix, 4))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, dir := openTemp(t, analysis.Mainnet)
			ConnectHeaders(t, db, hdrs)
			if err := db.bdb.Update(tc.mutate); err != nil {
				t.Fatal(err)
			}
			mustClose(t, db)

			_, err := Open(dir, analysis.Mainnet, Options{})
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("open: %v, want ErrCorrupt", err)
			}
		})
	}
}
