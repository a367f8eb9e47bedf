package index

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minerscope/minerscope/analysis"
)

// TestOpenAfterKillAtCreate checks that an index whose writer was killed right after creating its memtable
// or value-log file (left empty) opens, read-only and writable, with its data.
func TestOpenAfterKillAtCreate(t *testing.T) {
	for _, name := range []string{"00001.mem", "000009.vlog"} {
		for _, readOnly := range []bool{true, false} {
			dir := t.TempDir()
			db, err := Open(dir, analysis.Simnet, Options{})
			if err != nil {
				t.Fatal(err)
			}
			want := Dump(t, db)
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if readOnly {
				db, _, err = OpenExisting(dir)
			} else {
				db, err = Open(dir, analysis.Simnet, Options{})
			}
			if err != nil {
				t.Fatalf("%s, read-only %v: %v", name, readOnly, err)
			}
			DiffDumps(t, want, Dump(t, db))
			db.Close()
		}
	}
}

// TestMaintain runs the housekeeping loop over an index with data and checks it leaves the index intact and
// stops with its context.
func TestMaintain(t *testing.T) {
	db, err := Open(t.TempDir(), analysis.Mainnet, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ConnectHeaders(t, db, MainnetHeaders(t)[:500])
	want := Dump(t, db)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { db.Maintain(ctx, time.Millisecond); close(done) }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	<-done
	DiffDumps(t, want, Dump(t, db))
}
