//go:build unix

package index

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"
)

// minFreeSpace is the free space below which the index stops writing.
// Badger creates its memtable (128 MB: twice memTableSize) and value-log
// (16 MB) files sparse and writes them through memory maps, so a file system
// that fills up does not return "no space" to a write: the process dies
// with SIGBUS. Stopping while this much is left turns that into an error
// between two commits.
const minFreeSpace = 256 << 20

// probeEvery is how often checkDisk tries to create a file in the index
// directory. Creating and removing one costs about half a millisecond on an
// overlay file system, which at 500 small blocks per commit was 6% of the
// index's CPU; a read-only remount or a revoked permission is still caught
// within a second.
const probeEvery = time.Second

// checkDisk fails with ErrDiskFull when the index's file system has less
// than minFreeSpace free, or ErrNotWritable when the index directory can no
// longer be written. It runs before each commit of a batch of blocks, under
// the writer lock; free space is read every time, writability probed at
// most once per probeEvery.
func (db *DB) checkDisk() error {
	if db.dir == "" {
		return nil
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(db.dir, &st); err == nil {
		free := uint64(st.Bavail) * uint64(st.Bsize)
		if free < minFreeSpace {
			return fmt.Errorf("%w: no space left on device: %s free on the file system of %s, and minerscope "+
				"stops below %s; free space and run again (the index is consistent up to its tip)",
				ErrDiskFull, humanize.IBytes(free), db.dir, humanize.IBytes(minFreeSpace))
		}
	}
	now := time.Now()
	if now.Sub(db.probed) < probeEvery {
		return nil
	}
	probe, err := os.CreateTemp(db.dir, ".write-probe-*")
	if err != nil {
		return fmt.Errorf("%w: %w; make %s writable and run again (the index is consistent up to its tip)",
			ErrNotWritable, err, db.dir)
	}
	probe.Close()
	if err := os.Remove(filepath.Join(db.dir, filepath.Base(probe.Name()))); err != nil {
		return fmt.Errorf("%w: %w; make %s writable and run again (the index is consistent up to its tip)",
			ErrNotWritable, err, db.dir)
	}
	db.probed = now
	return nil
}
