package index

import (
	"os"
	"path/filepath"
	"testing"

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
