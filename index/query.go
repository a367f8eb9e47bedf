package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"path/filepath"
	"strings"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/dgraph-io/badger/v4"
	"github.com/minerscope/minerscope/analysis"
)

// HeaderRecord is one indexed header with the values derived from it.
type HeaderRecord struct {
	// Height is the block height.
	Height int32

	// Hash is the block hash.
	Hash chainhash.Hash

	// Header is the block header.
	Header wire.BlockHeader

	// ChainWork is the total work of the chain up to and including this
	// block.
	ChainWork *big.Int
}

// Tip returns the height and hash of the last connected block; ok is false
// for an empty index.
func (db *DB) Tip() (height int32, hash chainhash.Hash, ok bool) {
	db.tipMu.RLock()
	defer db.tipMu.RUnlock()
	return db.tip.height, db.tip.hash, db.tip.ok
}

// Count returns the number of headers in the index.
func (db *DB) Count() int32 {
	db.tipMu.RLock()
	defer db.tipMu.RUnlock()
	if !db.tip.ok {
		return 0
	}
	return db.tip.height + 1
}

// HashAt returns the hash of the block at height, or ErrNotFound.
func (db *DB) HashAt(height int32) (chainhash.Hash, error) {
	rec, err := db.Header(height)
	return rec.Hash, err
}

// Header returns the header record at height, or ErrNotFound.
func (db *DB) Header(height int32) (HeaderRecord, error) {
	var rec HeaderRecord
	err := db.view(func(txn *badger.Txn) error {
		var err error
		rec, err = dbFetchHeader(txn, height)
		return err
	})
	return rec, err
}

// Headers returns the header records from height from to height to,
// inclusive. It fails with ErrNotFound unless every height is indexed.
func (db *DB) Headers(from, to int32) ([]HeaderRecord, error) {
	var recs []HeaderRecord
	err := db.viewRange(from, to, func(height int32, val []byte) error {
		rec, err := deserializeHeaderRecord(height, val)
		if err != nil {
			return err
		}
		recs = append(recs, rec)
		return nil
	})
	return recs, err
}

// AnalysisHeaders returns the height, time and bits of the headers from
// height from to height to, inclusive, reading only those fields. It fails
// with ErrNotFound unless every height is indexed.
func (db *DB) AnalysisHeaders(from, to int32) ([]analysis.Header, error) {
	var hdrs []analysis.Header
	err := db.viewRange(from, to, func(height int32, val []byte) error {
		if len(val) != headerValueSize {
			return fmt.Errorf("%w: header record at height %d is %d "+
				"bytes", ErrCorrupt, height, len(val))
		}
		hdrs = append(hdrs, analysis.Header{
			Height: height,
			Time:   int64(binary.LittleEndian.Uint32(val[timeOffset:])),
			Bits:   binary.LittleEndian.Uint32(val[bitsOffset:]),
		})
		return nil
	})
	return hdrs, err
}

// Size returns the bytes the index occupies on disk: the LSM tree (sst
// files) and the logs (value log and memtable write-ahead logs). Badger
// preallocates its logs as sparse files, so only allocated blocks count.
func (db *DB) Size() (lsm, vlog int64) {
	if db.dir == "" {
		return 0, 0
	}
	_ = filepath.WalkDir(db.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		switch {
		case strings.HasSuffix(path, ".sst"):
			lsm += diskUsage(info)
		case strings.HasSuffix(path, ".vlog"), strings.HasSuffix(path, ".mem"):
			vlog += diskUsage(info)
		}
		return nil
	})
	return lsm, vlog
}

// viewRange calls fn with the header value of every height from..to, in
// order, failing with ErrNotFound on a gap. val is only valid during fn.
func (db *DB) viewRange(from, to int32, fn func(height int32, val []byte) error) error {
	if from < 0 || to < from {
		return fmt.Errorf("invalid height range %d-%d", from, to)
	}

	return db.view(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Prefix = []byte{headerPrefix}
		it := txn.NewIterator(opts)
		defer it.Close()

		want := from
		for it.Seek(heightKey(headerPrefix, from)); it.Valid() && want <= to; it.Next() {
			item := it.Item()
			if height := keyHeight(item.Key()); height != want {
				break
			}
			err := item.Value(func(val []byte) error { return fn(want, val) })
			if err != nil {
				return err
			}
			want++
		}
		if want <= to {
			return fmt.Errorf("header at height %d: %w", want, ErrNotFound)
		}
		return nil
	})
}

// view runs fn in a read transaction unless the index is closed.
func (db *DB) view(fn func(txn *badger.Txn) error) error {
	db.closeMu.RLock()
	defer db.closeMu.RUnlock()
	if db.closed {
		return ErrClosed
	}
	return db.bdb.View(fn)
}

// dbFetchHeader reads the header record at height, or ErrNotFound.
func dbFetchHeader(txn *badger.Txn, height int32) (HeaderRecord, error) {
	if height < 0 {
		return HeaderRecord{}, fmt.Errorf("header at height %d: %w",
			height, ErrNotFound)
	}
	item, err := txn.Get(heightKey(headerPrefix, height))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return HeaderRecord{}, fmt.Errorf("header at height %d: %w",
			height, ErrNotFound)
	}
	if err != nil {
		return HeaderRecord{}, fmt.Errorf("read header at height %d: %w",
			height, err)
	}

	var rec HeaderRecord
	err = item.Value(func(val []byte) error {
		rec, err = deserializeHeaderRecord(height, val)
		return err
	})
	return rec, err
}

// Dir is the directory the index lives in, for messages and status.
func (db *DB) Dir() string {
	return db.dir
}
