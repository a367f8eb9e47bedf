package index

import (
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/minerscope/minerscope/analysis"
)

var (
	// ErrNotFound is returned when a height or hash is not in the index.
	ErrNotFound = errors.New("not found in the index")

	// ErrNotOnTip is returned when a header does not extend the index tip.
	ErrNotOnTip = errors.New("header does not extend the index tip")

	// ErrNotGenesis is returned when the first header connected to an empty
	// index is not the genesis block of the index's network.
	ErrNotGenesis = errors.New("first header is not the network's genesis block")

	// ErrWrongNetwork is returned (inside a *WrongNetworkError) when the
	// index was built for another network than the one asked for.
	ErrWrongNetwork = errors.New("index was built for another network")

	// ErrSchemaTooNew is returned when the index was written by a newer
	// minerscope whose layout this code does not understand.
	ErrSchemaTooNew = errors.New("index schema is newer than this minerscope")

	// ErrSchemaTooOld is returned when a read-only open finds an index that
	// needs a migration, which only a writable open may run.
	ErrSchemaTooOld = errors.New("index schema needs an upgrade")

	// ErrLocked is returned when another process holds the index open.
	ErrLocked = errors.New("index is in use by another process")

	// ErrNoIndex is returned when a read-only open finds no index.
	ErrNoIndex = errors.New("no index in directory")

	// ErrCorrupt is returned when stored data breaks the index invariants.
	ErrCorrupt = errors.New("index is corrupt")

	// ErrReadOnly is returned when a write is attempted on a read-only index.
	ErrReadOnly = errors.New("index is open read-only")

	// ErrClosed is returned when the index is used after Close.
	ErrClosed = errors.New("index is closed")

	// ErrModeChange is returned when SetBlocksFrom asks an index to keep
	// other block data than the blocks it already holds were stored with.
	ErrModeChange = errors.New("index keeps other block data")

	// ErrNeedsRebuild is returned when an index written by an older
	// schema lacks data the upgrade cannot derive without the node.
	ErrNeedsRebuild = errors.New("index must be rebuilt")

	// ErrDiskFull is returned before a commit when the index's file
	// system is nearly full.
	ErrDiskFull = errors.New("disk nearly full")

	// ErrNotWritable is returned before a commit when the index
	// directory can no longer be written.
	ErrNotWritable = errors.New("index directory not writable")

	// ErrBlockData is returned when a block to connect carries a coinbase
	// record the index must not keep, lacks one it must keep, or carries
	// one that contradicts itself.
	ErrBlockData = errors.New("block data does not fit the index")
)

// WrongNetworkError reports an index built for another network than the
// node's; it matches ErrWrongNetwork with errors.Is.
type WrongNetworkError struct {
	// Index is the network the index was built for.
	Index string

	// Node is the network that was asked for.
	Node string

	// Dir is the index directory.
	Dir string
}

// Error returns a message telling the user how to proceed.
func (e *WrongNetworkError) Error() string {
	return fmt.Sprintf("index at %s was built for %s but the node is on %s; "+
		"use --index to choose another directory", e.Dir, e.Index, e.Node)
}

// Is lets errors.Is match ErrWrongNetwork.
func (e *WrongNetworkError) Is(target error) bool {
	return target == ErrWrongNetwork
}

// userError carries a one-sentence message for the user while matching a
// package sentinel and, if any, the underlying cause.
type userError struct {
	msg      string
	sentinel error
	cause    error
}

// Error returns the user-facing message.
func (e *userError) Error() string {
	if e.cause == nil {
		return e.msg
	}
	return e.msg + ": " + e.cause.Error()
}

// Unwrap exposes the sentinel and the cause to errors.Is and errors.As.
func (e *userError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.sentinel}
	}
	return []error{e.sentinel, e.cause}
}

// Options tune how an index is opened. The zero value opens a writable
// on-disk index with logging discarded.
type Options struct {
	// ReadOnly opens the index without write access, allowing other
	// read-only opens at the same time.
	ReadOnly bool

	// InMemory keeps the whole index in memory (for tests); dir is ignored.
	InMemory bool

	// Logger receives Badger's warnings and errors and the index's
	// migration notes. Nil discards them.
	Logger *slog.Logger
}

// DB is a header index for one network. Its methods are safe for concurrent
// use; writes are serialized.
type DB struct {
	bdb      *badger.DB
	params   analysis.Params
	dir      string
	log      *slog.Logger
	readOnly bool

	// writeMu serializes connects and disconnects.
	writeMu sync.Mutex

	// closeMu guards closed. Every read and write holds it shared for its
	// whole duration, so Close waits for them.
	closeMu sync.RWMutex
	closed  bool

	// tipMu guards tip, the in-memory copy of the tip record, so connect
	// never reads it from Badger, and mode, that of the blocks_from record.
	tipMu sync.RWMutex
	tip   tipState
	mode  blockMode

	// work caches the work of the latest bits.
	work workCache

	// ws is the miner-flow working set, loaded by the first block
	// connected with its flows; guarded by the writer lock.
	ws workingSet

	// flows is the flow writer of the block being connected, kept for its
	// maps and buffers; guarded by the writer lock.
	flows flowBlock

	// probed is when checkDisk last probed that the directory is
	// writable; guarded by the writer lock.
	probed time.Time

	// txnRetries counts the block ranges Badger refused as too big and
	// that were written again in halves (tests); guarded by the writer
	// lock.
	txnRetries int
}

// tipState is the in-memory copy of the tip record plus its chain work.
type tipState struct {
	ok     bool
	height int32
	hash   chainhash.Hash
	work   *big.Int
}

// Open opens the index in dir for the network p, creating it if needed. An
// index built for another network is refused with a *WrongNetworkError.
// Pending schema migrations run before Open returns.
func Open(dir string, p analysis.Params, opts Options) (*DB, error) {
	return open(dir, p, opts, migrations)
}

// OpenExisting opens the index in dir read-only for commands that do not talk
// to the node, and returns the parameters of the network it was built for.
func OpenExisting(dir string) (*DB, analysis.Params, error) {
	var p analysis.Params
	log := discardLogger()
	bdb, err := openBadger(dir, Options{ReadOnly: true}, log)
	if err != nil {
		return nil, p, err
	}

	p, err = storedParams(bdb, dir)
	if err != nil {
		_ = bdb.Close()
		return nil, p, err
	}
	db, err := newDB(bdb, dir, p, Options{ReadOnly: true}, log, migrations)
	return db, p, err
}

// open is Open with an explicit migration list, so tests can add migrations.
func open(dir string, p analysis.Params, opts Options, ms []migration) (*DB, error) {
	log := opts.Logger
	if log == nil {
		log = discardLogger()
	}
	if opts.InMemory {
		dir = ""
	}

	bdb, err := openBadger(dir, opts, log)
	if err != nil {
		return nil, err
	}
	return newDB(bdb, dir, p, opts, log, ms)
}

// newDB wraps an open Badger database, closing it if the index is unusable.
func newDB(bdb *badger.DB, dir string, p analysis.Params, opts Options,
	log *slog.Logger, ms []migration) (*DB, error) {

	db := &DB{
		bdb:      bdb,
		params:   p,
		dir:      dir,
		log:      log,
		readOnly: opts.ReadOnly,
	}
	if err := db.init(ms); err != nil {
		_ = bdb.Close()
		return nil, err
	}
	return db, nil
}

// init prepares a freshly opened Badger database: schema, network, tip and
// the block data it keeps.
func (db *DB) init(ms []migration) error {
	if err := db.initSchema(ms); err != nil {
		return err
	}
	tip, err := loadTip(db.bdb)
	if err != nil {
		return fmt.Errorf("open index %s: %w", db.dir, err)
	}
	mode, err := loadBlockMode(db.bdb, tip)
	if err != nil {
		return fmt.Errorf("open index %s: %w", db.dir, err)
	}
	db.tip, db.mode = tip, mode
	return nil
}

// openBadger opens Badger with options sized for a header index.
func openBadger(dir string, opts Options, log *slog.Logger) (*badger.DB, error) {
	if opts.ReadOnly && !opts.InMemory && !hasIndex(dir) {
		return nil, &userError{
			msg: fmt.Sprintf("no minerscope index at %s; run a sync "+
				"first or pass --index", dir),
			sentinel: ErrNoIndex,
		}
	}

	bdb, err := badger.Open(badgerOptions(dir, opts, log))
	if err != nil && !opts.ReadOnly && emptyFileAtCrash(err) {
		// The failed open sized the empty file; the second one reads it.
		log.Warn("Index was not closed cleanly; opening it again", "dir", dir, "err", err)
		bdb, err = badger.Open(badgerOptions(dir, opts, log))
	}
	if err != nil && opts.ReadOnly && needsRecovery(err) {
		if err := recoverIndex(dir, opts, log); err != nil {
			return nil, err
		}
		bdb, err = badger.Open(badgerOptions(dir, opts, log))
	}
	switch {
	case err == nil:
		return bdb, nil

	case strings.Contains(err.Error(), "Cannot acquire directory lock"):
		return nil, &userError{
			msg: fmt.Sprintf("index %s is in use by another minerscope "+
				"process", dir),
			sentinel: ErrLocked,
		}

	default:
		return nil, fmt.Errorf("open index %s: %w", dir, err)
	}
}

// needsRecovery reports whether Badger's refusal of a read-only open may be
// a writer killed mid-write, which a writable open repairs: its write-ahead
// log must be truncated ("truncate required"), or a memtable or value-log
// file was being created or sized when it died ("invalid argument",
// "Create a new file"). Anything but the directory lock of a live writer
// qualifies; if the writable open fails too, its error is the one reported.
func needsRecovery(err error) bool {
	return !strings.Contains(err.Error(), "Cannot acquire directory lock")
}

// emptyFileAtCrash reports whether Badger refused to open because a writer
// died right after creating a memtable or value-log file, leaving it empty:
// Badger takes an empty existing file for a new one it did not ask for
// ("Create a new file"), and sizes it while failing, so that opening again
// works. The file holds no data, so nothing is lost.
func emptyFileAtCrash(err error) bool {
	return strings.Contains(err.Error(), "Create a new file")
}

// recoverIndex opens the index writable once, letting Badger replay and
// truncate its logs after a crash, so that read-only opens work again.
func recoverIndex(dir string, opts Options, log *slog.Logger) error {
	log.Warn("Index was not closed cleanly; recovering it", "dir", dir)
	opts.ReadOnly = false
	bdb, err := openBadger(dir, opts, log)
	if err != nil {
		return err
	}
	// A writer killed while creating its memtable file leaves it empty,
	// which a read-only open cannot map and a writable one keeps as long as
	// the memtable stays empty: write a tombstone so that Close flushes the
	// memtable and removes its file. The key is never stored otherwise.
	err = bdb.Update(func(txn *badger.Txn) error { return txn.Delete(recoveryKey) })
	if err != nil {
		_ = bdb.Close()
		return fmt.Errorf("recover index %s: %w", dir, err)
	}
	if err := bdb.Close(); err != nil {
		return fmt.Errorf("recover index %s: %w", dir, err)
	}
	return nil
}

// hasIndex reports whether dir holds a Badger database.
func hasIndex(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, badger.ManifestFilename))
	return err == nil
}

// memTableSize is the size of each of Badger's two memtables. It also bounds
// one transaction, which holds one block at least (15% of it, 9.6 MB and
// 104,857 keys): a transaction paying 32,000 new 1-hop miner scripts, as many
// outputs as a block's 1,000,000 non-witness bytes hold, writes 64,000 keys
// and an undo record of 2 MB (TestConnectLargestPayout). 16 MB memtables held
// 26,214 keys, which a large pool payout could pass, and the index could
// then never store that block.
const memTableSize = 64 << 20

// badgerOptions returns Badger options for a small, single-writer index.
// Every value stays in the LSM tree (they are all far below the value
// threshold), so the value log is only ever a few bytes.
func badgerOptions(dir string, opts Options, log *slog.Logger) badger.Options {
	o := badger.DefaultOptions(dir).
		WithInMemory(opts.InMemory).
		WithReadOnly(opts.ReadOnly).
		WithLogger(badgerLogger{log}).
		WithLoggingLevel(badger.WARNING).
		WithMetricsEnabled(false).
		WithDetectConflicts(false).
		WithNumVersionsToKeep(1).
		WithSyncWrites(false).
		WithMemTableSize(memTableSize).
		WithNumMemtables(2).
		WithBaseTableSize(8 << 20).
		WithNumCompactors(2).
		WithCompression(options.None).
		WithCompactL0OnClose(false).
		WithBlockCacheSize(64 << 20).
		WithValueLogFileSize(16 << 20)
	// Tables of one size (8 MB) at every level, uncompressed: compaction builds up to a dozen tables at
	// once, each in a buffer that grows past twice the table size, and with Badger's default (sizes
	// doubling with depth, Snappy) deep compactions of a mainnet index held several hundred megabytes.
	// Uncompressed values cost about a third more disk (README, "The index").
	o.TableSizeMultiplier = 1
	if opts.InMemory {
		// Tests open hundreds of in-memory indexes side by side, each of
		// whose memtables is allocated whole in the Go heap; none holds a
		// block of tens of thousands of keys.
		o.MemTableSize = 16 << 20
	}
	return o
}

// Close flushes and closes the index. It waits for reads in progress.
func (db *DB) Close() error {
	db.closeMu.Lock()
	defer db.closeMu.Unlock()

	if db.closed {
		return nil
	}
	db.closed = true
	done := make(chan error, 1)
	go func() { done <- db.bdb.Close() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("close index %s: %w", db.dir, err)
		}
		return nil
	case <-time.After(closeTimeout):
		// Badger retries a failed memtable flush forever (a directory made
		// read-only, a full disk). Everything committed is in its
		// write-ahead log and is replayed at the next open.
		cause := "Badger cannot flush its memtable"
		db.probed = time.Time{} // probe now, whenever the last commit probed
		if err := db.checkDisk(); err != nil {
			cause = err.Error()
		}
		return fmt.Errorf("close index %s: gave up after %v: %s; the index is consistent up to the last "+
			"block committed", db.dir, closeTimeout, cause)
	}
}

// closeTimeout bounds how long Close waits for Badger.
const closeTimeout = 15 * time.Second

// Params returns the parameters of the network the index is built for.
func (db *DB) Params() analysis.Params {
	return db.params
}

// discardLogger returns a logger that drops everything.
func discardLogger() *slog.Logger {
	return slog.New(slog.DiscardHandler)
}

// badgerLogger routes Badger's warnings and errors to slog and drops the
// rest.
type badgerLogger struct {
	log *slog.Logger
}

// Errorf logs a Badger error.
func (l badgerLogger) Errorf(format string, args ...any) {
	l.log.Error("badger: " + strings.TrimSpace(fmt.Sprintf(format, args...)))
}

// Warningf logs a Badger warning. Badger's block-cache report ("Block cache
// might be too small", with the cache's life expectancy) is a debug message
// here: a sync streams every block through the cache once, so it fires
// every minute of a long sync and asks for nothing the user can change.
func (l badgerLogger) Warningf(format string, args ...any) {
	msg := "badger: " + strings.TrimSpace(fmt.Sprintf(format, args...))
	if strings.Contains(format, "might be too small") || strings.HasPrefix(format, "Cache life expectancy") {
		l.log.Debug(msg)
		return
	}
	l.log.Warn(msg)
}

// Infof drops Badger's informational messages.
func (badgerLogger) Infof(string, ...any) {}

// Debugf drops Badger's debug messages.
func (badgerLogger) Debugf(string, ...any) {}
