package index

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/dgraph-io/badger/v4"
	"github.com/minerscope/minerscope/analysis"
)

// migration upgrades an index from schema version to-1 to version to.
//
// run may be interrupted by a crash; the version is bumped only after run
// returns, so run must be idempotent and may batch its work over several
// transactions. The network record layout never changes, so it can be checked
// before migrating.
type migration struct {
	to   uint32
	name string
	run  func(bdb *badger.DB) error
}

// migrations lists every schema version in order. The layout documented in
// keys.go is that of the last version; a new index is created at it directly.
var migrations = []migration{
	{to: 1, name: "headers, height by hash, generic undo"},
	{to: 2, name: "coinbase records by height, blocks_from (schema 1 " +
		"indexes keep headers only)", run: migrateHeadersOnly},
	{to: 3, name: "miner flows (scripts, unspent miner outputs, flow " +
		"transactions, block totals)", run: migrateFlows},
	{to: 4, name: "no height-by-hash rows", run: migrateDropHashRows},
}

// migrateDropHashRows upgrades a schema 3 index to schema 4: it drops the
// height-by-hash rows, which Badger does table by table, at once even for a
// mainnet index. The undo records written before keep their entries for
// those rows (each one "absent before"): disconnecting such a block deletes
// a key that is no longer there, which changes nothing. Rewriting the
// records instead would copy gigabytes of a full mainnet index's undo data
// and need as much free disk, to remove 35 bytes a block.
func migrateDropHashRows(bdb *badger.DB) error {
	return bdb.DropPrefix([]byte{retiredHashPrefix})
}

// migrateFlows upgrades a schema 2 index to schema 3. An index holding no
// full block yet (headers only, or blocks_from above the tip) needs
// nothing. One with full blocks lacks their miner flows, which need every
// block again from the node: it is refused with ErrNeedsRebuild rather than
// opened with flows missing.
func migrateFlows(bdb *badger.DB) error {
	return bdb.View(func(txn *badger.Txn) error {
		if !dbHasKeyFrom(txn, coinbasePrefix, 0) {
			return nil
		}
		return fmt.Errorf("%w: it keeps full blocks but was built by a minerscope "+
			"without miner flows, which need every block again from the node; move "+
			"the directory aside and run `minerscope index` to rebuild it", ErrNeedsRebuild)
	})
}

// migrateHeadersOnly upgrades a schema 1 index to schema 2. Schema 1 kept
// headers only, which schema 2 records as the absence of blocks_from, so
// nothing is rewritten: it only checks that neither blocks_from nor any
// coinbase record exists, which schema 1 could not have written.
func migrateHeadersOnly(bdb *badger.DB) error {
	return bdb.View(func(txn *badger.Txn) error {
		if _, ok, err := dbFetch(txn, blocksFromKey); err != nil {
			return err
		} else if ok {
			return fmt.Errorf("%w: schema 1 index has a blocks_from "+
				"record", ErrCorrupt)
		}
		if dbHasKeyFrom(txn, coinbasePrefix, 0) {
			return fmt.Errorf("%w: schema 1 index has coinbase records",
				ErrCorrupt)
		}
		return nil
	})
}

// latestVersion returns the schema version ms upgrade to.
func latestVersion(ms []migration) uint32 {
	return ms[len(ms)-1].to
}

// storedMeta is what the meta keyspace says about an index.
type storedMeta struct {
	empty      bool
	hasVersion bool
	version    uint32
	hasNetwork bool
	network    string
	genesis    chainhash.Hash
}

// initSchema creates a new index, or checks and upgrades an existing one.
func (db *DB) initSchema(ms []migration) error {
	meta, err := fetchMeta(db.bdb)
	if err != nil {
		return fmt.Errorf("open index %s: %w", db.dir, err)
	}

	if !meta.hasVersion {
		return db.create(meta, latestVersion(ms))
	}
	if err := db.checkSchema(meta, latestVersion(ms)); err != nil {
		return err
	}
	if err := db.checkNetwork(meta); err != nil {
		return err
	}
	if meta.version == latestVersion(ms) {
		return nil
	}
	if db.readOnly {
		return &userError{
			msg: fmt.Sprintf("index at %s uses schema version %d; run "+
				"a sync once to upgrade it to version %d", db.dir,
				meta.version, latestVersion(ms)),
			sentinel: ErrSchemaTooOld,
		}
	}
	return db.migrate(ms, meta.version)
}

// create writes the meta records of a new index.
func (db *DB) create(meta storedMeta, version uint32) error {
	switch {
	case !meta.empty:
		return fmt.Errorf("%w: %s holds data but no schema version; it "+
			"is not a minerscope index", ErrCorrupt, db.dir)

	case db.readOnly:
		return &userError{
			msg: fmt.Sprintf("no minerscope index at %s; run a sync "+
				"first or pass --index", db.dir),
			sentinel: ErrNoIndex,
		}
	}

	err := db.bdb.Update(func(txn *badger.Txn) error {
		if err := dbPutSchemaVersion(txn, version); err != nil {
			return err
		}
		return dbPutNetwork(txn, db.params.Name, &db.params.GenesisHash)
	})
	if err != nil {
		return fmt.Errorf("create index %s: %w", db.dir, err)
	}
	return nil
}

// checkSchema refuses an index written by a newer minerscope.
func (db *DB) checkSchema(meta storedMeta, latest uint32) error {
	if meta.version == 0 {
		return fmt.Errorf("%w: %s has schema version 0", ErrCorrupt, db.dir)
	}
	if meta.version <= latest {
		return nil
	}
	return &userError{
		msg: fmt.Sprintf("index at %s uses schema version %d but this "+
			"minerscope understands up to version %d; upgrade minerscope "+
			"or use --index to choose another directory", db.dir,
			meta.version, latest),
		sentinel: ErrSchemaTooNew,
	}
}

// checkNetwork refuses an index built for another network.
func (db *DB) checkNetwork(meta storedMeta) error {
	if !meta.hasNetwork {
		return fmt.Errorf("%w: %s has no network record", ErrCorrupt, db.dir)
	}
	if meta.network == db.params.Name && meta.genesis == db.params.GenesisHash {
		return nil
	}
	return &WrongNetworkError{
		Index: meta.network,
		Node:  db.params.Name,
		Dir:   db.dir,
	}
}

// migrate runs, in order, every migration past version from.
func (db *DB) migrate(ms []migration, from uint32) error {
	for _, m := range ms {
		if m.to <= from {
			continue
		}
		db.log.Info("Upgrading index", "dir", db.dir, "version", m.to,
			"migration", m.name)

		if m.run != nil {
			if err := m.run(db.bdb); err != nil {
				return fmt.Errorf("upgrade index %s to schema version "+
					"%d (%s): %w", db.dir, m.to, m.name, err)
			}
		}
		err := db.bdb.Update(func(txn *badger.Txn) error {
			return dbPutSchemaVersion(txn, m.to)
		})
		if err != nil {
			return fmt.Errorf("record schema version %d in %s: %w",
				m.to, db.dir, err)
		}
	}
	return nil
}

// storedParams returns the parameters of the network an index was built for.
func storedParams(bdb *badger.DB, dir string) (analysis.Params, error) {
	meta, err := fetchMeta(bdb)
	if err != nil {
		return analysis.Params{}, fmt.Errorf("open index %s: %w", dir, err)
	}
	if !meta.hasNetwork {
		return analysis.Params{}, &userError{
			msg: fmt.Sprintf("no minerscope index at %s; run a sync "+
				"first or pass --index", dir),
			sentinel: ErrNoIndex,
		}
	}

	p, ok := analysis.ParamsByName(meta.network)
	if !ok || p.GenesisHash != meta.genesis {
		return p, fmt.Errorf("%w: index at %s is for unknown network %q "+
			"(genesis %v)", ErrCorrupt, dir, meta.network, meta.genesis)
	}
	return p, nil
}

// fetchMeta reads the schema and network records.
func fetchMeta(bdb *badger.DB) (storedMeta, error) {
	var meta storedMeta
	err := bdb.View(func(txn *badger.Txn) error {
		var err error
		meta.empty = dbIsEmpty(txn)
		meta.version, meta.hasVersion, err = dbFetchSchemaVersion(txn)
		if err != nil {
			return err
		}
		meta.network, meta.genesis, meta.hasNetwork, err = dbFetchNetwork(txn)
		return err
	})
	return meta, err
}

// dbIsEmpty reports whether the database holds no keys at all.
func dbIsEmpty(txn *badger.Txn) bool {
	opts := badger.DefaultIteratorOptions
	opts.PrefetchValues = false
	it := txn.NewIterator(opts)
	defer it.Close()
	it.Rewind()
	return !it.Valid()
}

// dbPutSchemaVersion stores the schema version.
func dbPutSchemaVersion(txn *badger.Txn, version uint32) error {
	return txn.Set(schemaVersionKey, binary.BigEndian.AppendUint32(nil, version))
}

// dbFetchSchemaVersion returns the schema version; ok=false if none.
func dbFetchSchemaVersion(txn *badger.Txn) (uint32, bool, error) {
	b, ok, err := dbFetch(txn, schemaVersionKey)
	if err != nil || !ok {
		return 0, false, err
	}
	if len(b) != 4 {
		return 0, false, fmt.Errorf("%w: schema version is %d bytes",
			ErrCorrupt, len(b))
	}
	return binary.BigEndian.Uint32(b), true, nil
}

// dbPutNetwork stores the network the index is built for.
func dbPutNetwork(txn *badger.Txn, name string, genesis *chainhash.Hash) error {
	if len(name) == 0 || len(name) > maxNetworkName {
		return fmt.Errorf("network name %q must be 1-%d bytes", name,
			maxNetworkName)
	}
	return txn.Set(networkKey, serializeNetwork(name, genesis))
}

// dbFetchNetwork returns the stored network; ok=false if none.
func dbFetchNetwork(txn *badger.Txn) (string, chainhash.Hash, bool, error) {
	b, ok, err := dbFetch(txn, networkKey)
	if err != nil || !ok {
		return "", chainhash.Hash{}, false, err
	}
	name, genesis, err := deserializeNetwork(b)
	return name, genesis, err == nil, err
}

// dbFetch returns a copy of the value of key; ok=false if it is absent.
func dbFetch(txn *badger.Txn, key []byte) ([]byte, bool, error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read key %x: %w", key, err)
	}
	b, err := item.ValueCopy(nil)
	if err != nil {
		return nil, false, fmt.Errorf("read value of key %x: %w", key, err)
	}
	return b, true, nil
}
