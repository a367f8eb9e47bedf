package index

import (
	"context"
	"errors"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Maintain runs Badger's housekeeping until ctx ends, for long-lived
// writers (`index --follow`, `serve`): every interval it asks Badger to
// garbage-collect value-log files of which at least half is stale. The
// index's values are small and live in the LSM tree, whose compaction runs
// on its own, so the value log holds little; this keeps it that way after
// deep reorgs rewrite many records. Errors other than "nothing to collect"
// are logged, never fatal.
func (db *DB) Maintain(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		db.collectValueLog()
	}
}

// collectValueLog runs value-log GC until Badger finds nothing to rewrite.
func (db *DB) collectValueLog() {
	db.closeMu.RLock()
	defer db.closeMu.RUnlock()
	if db.closed || db.readOnly {
		return
	}
	for range 16 {
		err := db.bdb.RunValueLogGC(0.5)
		if errors.Is(err, badger.ErrNoRewrite) || errors.Is(err, badger.ErrRejected) {
			return
		}
		if err != nil {
			db.log.Warn("Value-log garbage collection failed", "dir", db.dir, "err", err)
			return
		}
	}
}
