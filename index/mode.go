package index

import (
	"fmt"
	"math"

	"github.com/dgraph-io/badger/v4"
)

// blockMode is what the index keeps of each block: its header only, or also
// its coinbase record from height from on. It mirrors the blocks_from meta
// record.
type blockMode struct {
	full bool
	from int32
}

// firstFull returns the first height that keeps block data, math.MaxInt32
// for a headers-only index.
func (m blockMode) firstFull() int32 {
	if !m.full {
		return math.MaxInt32
	}
	return m.from
}

// keeps reports whether the block at height has a coinbase record.
func (m blockMode) keeps(height int32) bool {
	return height >= m.firstFull()
}

// BlocksFrom returns from which height the index keeps full block data
// (coinbase records): full is false for a headers-only index, and height is
// then 0. Every schema 1 index, and a new index until SetBlocksFrom, keeps
// headers only.
func (db *DB) BlocksFrom() (height int32, full bool) {
	mode := db.blockMode()
	return mode.from, mode.full
}

// SetBlocksFrom records whether the index keeps full block data, and from
// which height (ignored when full is false). Asking for what the index
// already keeps does nothing. A change is allowed only while no block at or
// above the lower of the old and new first full heights is connected, so
// that the rule "a coinbase record for every block at or above BlocksFrom,
// none below" stays true: any mode on an empty index, full blocks above the
// tip of a headers-only index. Otherwise it fails with ErrModeChange and a
// message telling the user to rebuild the index in a new directory.
func (db *DB) SetBlocksFrom(height int32, full bool) error {
	if full && height < 0 {
		return fmt.Errorf("keep full blocks from height %d: height is "+
			"negative", height)
	}
	want := blockMode{full: full}
	if full {
		want.from = height
	}

	tip, unlock, err := db.lockWriter()
	if err != nil {
		return err
	}
	defer unlock()

	have := db.blockMode()
	if have == want {
		return nil
	}
	if tip.ok && tip.height >= min(have.firstFull(), want.firstFull()) {
		return db.modeChangeError(have, want)
	}

	err = db.bdb.Update(func(txn *badger.Txn) error {
		return dbPutBlockMode(txn, want)
	})
	if err != nil {
		return fmt.Errorf("record in %s which blocks are kept in full: %w",
			db.dir, err)
	}
	db.tipMu.Lock()
	db.mode = want
	db.tipMu.Unlock()
	return nil
}

// modeChangeError explains why the index cannot switch from have to want.
func (db *DB) modeChangeError(have, want blockMode) error {
	var msg string
	switch {
	case !have.full:
		msg = fmt.Sprintf("index %s holds headers only; rebuild it in a "+
			"new --index directory to keep full blocks", db.dir)
	case !want.full:
		msg = fmt.Sprintf("index %s keeps full blocks from height %d; "+
			"rebuild it in a new --index directory to keep headers only",
			db.dir, have.from)
	default:
		msg = fmt.Sprintf("index %s keeps full blocks from height %d; "+
			"rebuild it in a new --index directory to keep them from "+
			"height %d", db.dir, have.from, want.from)
	}
	return &userError{msg: msg, sentinel: ErrModeChange}
}

// blockMode returns the cached blocks_from record.
func (db *DB) blockMode() blockMode {
	db.tipMu.RLock()
	defer db.tipMu.RUnlock()
	return db.mode
}

// checkBlockData fails unless the block rec has a coinbase record exactly
// when the index keeps one at its height.
func (db *DB) checkBlockData(mode blockMode, rec *HeaderRecord, hasCoinbase bool) error {
	switch want := mode.keeps(rec.Height); {
	case want == hasCoinbase:
		return nil

	case !mode.full:
		return fmt.Errorf("%w: block %v at height %d comes with a "+
			"coinbase record but index %s keeps headers only",
			ErrBlockData, rec.Hash, rec.Height, db.dir)

	case want:
		return fmt.Errorf("%w: block %v at height %d has no coinbase "+
			"record but index %s keeps full blocks from height %d",
			ErrBlockData, rec.Hash, rec.Height, db.dir, mode.from)

	default:
		return fmt.Errorf("%w: block %v at height %d comes with a "+
			"coinbase record but index %s keeps full blocks only from "+
			"height %d", ErrBlockData, rec.Hash, rec.Height, db.dir,
			mode.from)
	}
}

// loadBlockMode reads the blocks_from record at open and checks that the
// coinbase records agree with it and with tip: none in a headers-only index,
// none below blocks_from, and one at the tip and at blocks_from when the tip
// is at or above it. Rows above the tip are checked by loadTip.
func loadBlockMode(bdb *badger.DB, tip tipState) (blockMode, error) {
	var mode blockMode
	err := bdb.View(func(txn *badger.Txn) error {
		var err error
		if mode, err = dbFetchBlockMode(txn); err != nil {
			return err
		}
		return dbCheckCoinbaseRows(txn, mode, tip)
	})
	return mode, err
}

// dbCheckCoinbaseRows checks the coinbase keyspace against mode and tip.
func dbCheckCoinbaseRows(txn *badger.Txn, mode blockMode, tip tipState) error {
	first, ok, err := dbFirstHeight(txn, coinbasePrefix)
	switch {
	case err != nil:
		return err

	case ok && !mode.full:
		return fmt.Errorf("%w: headers-only index has a coinbase record "+
			"at height %d", ErrCorrupt, first)

	case ok && first < mode.from:
		return fmt.Errorf("%w: coinbase record at height %d is below "+
			"blocks_from %d", ErrCorrupt, first, mode.from)
	}

	if !tip.ok || !mode.keeps(tip.height) {
		return nil
	}
	for _, h := range []int32{mode.from, tip.height} {
		_, ok, err := dbFetch(txn, heightKey(coinbasePrefix, h))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: no coinbase record at height %d "+
				"(blocks_from %d, tip %d)", ErrCorrupt, h, mode.from,
				tip.height)
		}
	}
	return nil
}

// dbFirstHeight returns the lowest height of the height-keyed keyspace
// prefix; ok is false when it is empty.
func dbFirstHeight(txn *badger.Txn, prefix byte) (int32, bool, error) {
	opts := badger.DefaultIteratorOptions
	opts.PrefetchValues = false
	opts.Prefix = []byte{prefix}
	it := txn.NewIterator(opts)
	defer it.Close()

	it.Rewind()
	if !it.Valid() {
		return 0, false, nil
	}
	key := it.Item().Key()
	if len(key) != 1+heightSize {
		return 0, false, fmt.Errorf("%w: key %x has no height", ErrCorrupt, key)
	}
	return keyHeight(key), true, nil
}

// dbPutBlockMode stores mode: the blocks_from record, or its absence.
func dbPutBlockMode(txn *badger.Txn, mode blockMode) error {
	if !mode.full {
		return txn.Delete(blocksFromKey)
	}
	return txn.Set(blocksFromKey, serializeHeight(mode.from))
}

// dbFetchBlockMode reads the blocks_from record.
func dbFetchBlockMode(txn *badger.Txn) (blockMode, error) {
	b, ok, err := dbFetch(txn, blocksFromKey)
	if err != nil || !ok {
		return blockMode{}, err
	}
	from, err := deserializeHeight(b)
	if err != nil {
		return blockMode{}, fmt.Errorf("blocks_from record: %w", err)
	}
	if from < 0 {
		return blockMode{}, fmt.Errorf("%w: blocks_from record is %d",
			ErrCorrupt, from)
	}
	return blockMode{full: true, from: from}, nil
}
