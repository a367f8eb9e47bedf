package index

import (
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"math/big"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/skl"
	"github.com/dustin/go-humanize"
	"github.com/minerscope/minerscope/analysis"
)

// BlockWriter writes the rows of one block inside that block's transaction
// and records, for every key it touches, the value the key had before the
// block, so that DisconnectTip can undo the block without the node. A new
// record type adds a dbPutX(w, ...) helper built on Put and Delete, called
// from the extra writer connect runs for each block, and gets undo for free.
type BlockWriter struct {
	txn    *badger.Txn
	height int32
	undo   []undoEntry

	// seen indexes the keys of undo by their hash once undo outgrows a
	// linear scan: the position of the first key with that hash. Keys
	// are compared in full, so a collision costs a scan, never a wrong
	// answer.
	seen map[uint64]int32

	// used is what the writes so far take of the transaction's limits.
	used txnUse
}

// txnUse counts a transaction's writes as Badger does against its limits
// (keys, and key and value bytes plus a dozen bytes of overhead each).
type txnUse struct {
	keys, bytes int64
}

func (u *txnUse) add(key, val []byte) {
	u.keys++
	u.bytes += int64(len(key)+len(val)) + 12
}

// set sets key to val, or deletes it when val is nil, counting the write.
func (w *BlockWriter) set(key, val []byte) error {
	w.used.add(key, val)
	if val == nil {
		return w.txn.Delete(key)
	}
	return w.txn.Set(key, val)
}

// seenThreshold is the undo length from which touched uses the index.
const seenThreshold = 16

// seenSeed seeds the hashes of seen.
var seenSeed = maphash.MakeSeed()

// newBlockWriter returns a writer for the block at height.
func newBlockWriter(txn *badger.Txn, height int32) *BlockWriter {
	return &BlockWriter{txn: txn, height: height, undo: make([]undoEntry, 0, 4)}
}

// next readies w for the following block of the same transaction, keeping
// its buffers: the undo record of the block before has been serialized.
func (w *BlockWriter) next(height int32) {
	w.height = height
	clear(w.undo) // drop the references to the last block's keys and values
	w.undo = w.undo[:0]
	clear(w.seen)
}

// Height returns the height of the block being written.
func (w *BlockWriter) Height() int32 {
	return w.height
}

// Put sets key to val. Neither slice may be modified afterwards.
func (w *BlockWriter) Put(key, val []byte) error {
	if err := w.record(key); err != nil {
		return err
	}
	if err := w.set(key, val); err != nil {
		return fmt.Errorf("write key %x at height %d: %w", key, w.height, err)
	}
	return nil
}

// Delete removes key. The slice may not be modified afterwards.
func (w *BlockWriter) Delete(key []byte) error {
	if err := w.record(key); err != nil {
		return err
	}
	if err := w.set(key, nil); err != nil {
		return fmt.Errorf("delete key %x at height %d: %w", key, w.height, err)
	}
	return nil
}

// putKnown is Put for a key whose value before the block the caller already
// knows (existed=false: absent), which saves a read. The key must not have
// been touched by this block yet.
func (w *BlockWriter) putKnown(key, val, prev []byte, existed bool) error {
	w.remember(undoEntry{key: key, prev: prev, existed: existed})
	if err := w.set(key, val); err != nil {
		return fmt.Errorf("write key %x at height %d: %w", key, w.height, err)
	}
	return nil
}

// setKnown sets key to val, or deletes it when val is nil, given the value
// the caller just read for it in this transaction (prev, existed). That read
// is the value before the block unless the block already touched the key,
// in which case the undo record keeps the first one.
func (w *BlockWriter) setKnown(key, val, prev []byte, existed bool) error {
	if len(key) == 0 || key[0] == undoPrefix {
		return fmt.Errorf("key %x is not writable by a block", key)
	}
	if !w.touched(key) {
		w.remember(undoEntry{key: key, prev: prev, existed: existed})
	}
	if err := w.set(key, val); err != nil {
		return fmt.Errorf("write key %x at height %d: %w", key, w.height, err)
	}
	return nil
}

// remember appends e to the undo record.
func (w *BlockWriter) remember(e undoEntry) {
	w.undo = append(w.undo, e)
	switch {
	case len(w.undo) > seenThreshold:
		w.index(len(w.undo) - 1)
	case len(w.undo) == seenThreshold:
		if w.seen == nil {
			w.seen = make(map[uint64]int32, 4*seenThreshold)
		}
		for i := range w.undo {
			w.index(i)
		}
	}
}

// index adds undo[i] to seen unless a key with its hash is there already.
func (w *BlockWriter) index(i int) {
	h := maphash.Bytes(seenSeed, w.undo[i].key)
	if _, ok := w.seen[h]; !ok {
		w.seen[h] = int32(i)
	}
}

// record remembers the value key had before the block, the first time the
// block touches it.
func (w *BlockWriter) record(key []byte) error {
	if len(key) == 0 || key[0] == undoPrefix {
		return fmt.Errorf("key %x is not writable by a block", key)
	}
	if w.touched(key) {
		return nil
	}

	prev, existed, err := dbFetch(w.txn, key)
	if err != nil {
		return err
	}
	w.remember(undoEntry{key: key, prev: prev, existed: existed})
	return nil
}

// touched reports whether the block already wrote key: a linear scan of a
// short undo record, else a look-up of its hash, confirmed by comparing the
// key (and, on a collision, by the scan).
func (w *BlockWriter) touched(key []byte) bool {
	if len(w.undo) >= seenThreshold {
		i, ok := w.seen[maphash.Bytes(seenSeed, key)]
		if !ok {
			return false
		}
		if bytes.Equal(w.undo[i].key, key) {
			return true
		}
	}
	for i := range w.undo {
		if bytes.Equal(w.undo[i].key, key) {
			return true
		}
	}
	return false
}

// BlockData is one block to connect: its header and, for a full index at
// heights >= BlocksFrom, its coinbase record and the block itself, from
// which the miner flows are indexed.
type BlockData struct {
	// Header is the block header.
	Header wire.BlockHeader

	// Hash is Header's hash, computed when zero. A caller that already
	// hashed the header (a block source checks every block against the
	// hash it asked for) passes it to save hashing it again; a wrong one
	// is found by the next block, whose previous-block hash it must be,
	// and by CheckInvariants.
	Hash chainhash.Hash

	// Coinbase is what the index keeps of the block besides its header;
	// nil for a headers-only index and below BlocksFrom.
	Coinbase *analysis.CoinbaseRecord

	// Block is the whole block, given exactly when Coinbase is; TxIDs
	// are its transactions' txids (computed when nil). Only the flows
	// are kept of it.
	Block *wire.MsgBlock
	TxIDs []chainhash.Hash
}

// ConnectHeader adds the header at height on top of the tip, in one Badger
// transaction that also moves the tip and records the undo data. It fails
// with ErrNotOnTip unless height is tip+1 and hdr.PrevBlock is the tip hash,
// and with ErrNotGenesis if the first header is not the network's genesis.
// A full index refuses, with ErrBlockData, a header at or above BlocksFrom:
// such a block needs its coinbase record (ConnectBlocks).
func (db *DB) ConnectHeader(height int32, hdr *wire.BlockHeader) error {
	return db.connectBlocks(height, []wire.BlockHeader{*hdr}, nil, nil)
}

// ConnectHeaders adds hdrs, the headers of heights height, height+1, ..., on
// top of the tip. Each block is written exactly as ConnectHeader writes it
// (its rows, the tip moved to it, its own undo record), and consecutive
// blocks share one Badger transaction, split where Badger's transaction
// limit requires. A crash therefore leaves the index at a block boundary,
// and catching up costs one commit per batch rather than one per block.
// Nothing is written unless every header links to the one before it.
func (db *DB) ConnectHeaders(height int32, hdrs []wire.BlockHeader) error {
	return db.connectBlocks(height, hdrs, nil, nil)
}

// ConnectBlocks adds blocks, those of heights height, height+1, ..., on top
// of the tip, written and batched exactly as ConnectHeaders writes headers;
// each block's coinbase record is written with its header rows by the same
// BlockWriter, so it has its undo entry and DisconnectTip removes it.
//
// What the index keeps decides which records must be given: a full index
// requires Coinbase at every height >= BlocksFrom and nil below it; a
// headers-only index requires nil everywhere. A record must also agree with
// itself and the network: Reward the sum of its outputs, Subsidy that of the
// height (analysis.Subsidy), Fees max(0, Reward-Subsidy), no negative value.
// Any violation fails with ErrBlockData, a header that does not link with
// ErrNotOnTip or ErrNotGenesis; in every case nothing is written.
func (db *DB) ConnectBlocks(height int32, blocks []BlockData) error {
	hdrs := make([]wire.BlockHeader, len(blocks))
	hashes := make([]chainhash.Hash, len(blocks))
	coinbases := make([][]byte, len(blocks))
	bodies := make([]blockBody, len(blocks))
	for i := range blocks {
		b := &blocks[i]
		hdrs[i], hashes[i] = b.Header, b.Hash
		if b.Coinbase == nil && b.Block == nil {
			continue
		}
		body, err := checkBody(height+int32(i), b)
		if err != nil {
			return err
		}
		val, err := coinbaseValue(db.params, height+int32(i), b.Coinbase)
		if err != nil {
			return err
		}
		coinbases[i], bodies[i] = val, body
	}
	return db.connectBodies(height, hdrs, hashes, coinbases, bodies, nil)
}

// blockBody is what flows are indexed from.
type blockBody struct {
	blk *wire.MsgBlock
	ids []chainhash.Hash
}

// checkBody checks that b gives its coinbase record and its block together,
// and that they are the same block, and returns the block with its txids.
func checkBody(height int32, b *BlockData) (blockBody, error) {
	switch {
	case b.Coinbase == nil || b.Block == nil:
		return blockBody{}, fmt.Errorf("%w: block %d must have both its coinbase record and its "+
			"transactions, or neither", ErrBlockData, height)
	case len(b.Block.Transactions) == 0:
		return blockBody{}, fmt.Errorf("%w: block %d has no transactions", ErrBlockData, height)
	case !sameHeader(&b.Block.Header, &b.Header):
		return blockBody{}, fmt.Errorf("%w: block %d: the transactions are of another block",
			ErrBlockData, height)
	}
	ids := b.TxIDs
	if ids == nil {
		ids = make([]chainhash.Hash, len(b.Block.Transactions))
		for i, tx := range b.Block.Transactions {
			ids[i] = tx.TxHash()
		}
	}
	if len(ids) != len(b.Block.Transactions) || ids[0] != b.Coinbase.TxID {
		return blockBody{}, fmt.Errorf("%w: block %d: the coinbase record is not that of the "+
			"block's first transaction", ErrBlockData, height)
	}
	return blockBody{blk: b.Block, ids: ids}, nil
}

// sameHeader reports whether a and b serialize to the same 80 bytes. It
// compares timestamps by their Unix seconds: == on time.Time also compares
// the location, so the same header decoded by wire (local time) and kept
// in UTC would differ.
func sameHeader(a, b *wire.BlockHeader) bool {
	return a.Version == b.Version && a.PrevBlock == b.PrevBlock && a.MerkleRoot == b.MerkleRoot &&
		a.Timestamp.Unix() == b.Timestamp.Unix() && a.Bits == b.Bits && a.Nonce == b.Nonce
}

// connect adds one block: its header rows, whatever extra writes, the tip and
// the undo record, all in one transaction.
func (db *DB) connect(height int32, hdr *wire.BlockHeader,
	extra func(w *BlockWriter) error) error {

	return db.connectBlocks(height, []wire.BlockHeader{*hdr}, nil, extra)
}

// pendingBlock is a block checked and ready to write.
type pendingBlock struct {
	rec HeaderRecord

	// coinbase is the serialized coinbase record, nil for none.
	coinbase []byte

	// body is the block whose flows are connected, zero for none.
	body blockBody
}

// connectBlocks checks that hdrs extend the tip and that the coinbase
// records (coinbases[i] for hdrs[i]; a nil slice for none at all) are those
// the index keeps, then commits the blocks in as few transactions as Badger
// allows, moving the cached tip after each commit.
func (db *DB) connectBlocks(height int32, hdrs []wire.BlockHeader,
	coinbases [][]byte, extra func(w *BlockWriter) error) error {

	return db.connectBodies(height, hdrs, nil, coinbases, nil, extra)
}

// connectBodies is connectBlocks with the headers' hashes (hashes[i] for
// hdrs[i], computed where zero; a nil slice computes them all) and the
// blocks' bodies (bodies[i] for hdrs[i], zero for none; a nil slice for none
// at all), whose flows are connected with them.
func (db *DB) connectBodies(height int32, hdrs []wire.BlockHeader, hashes []chainhash.Hash,
	coinbases [][]byte, bodies []blockBody, extra func(w *BlockWriter) error) error {

	tip, unlock, err := db.lockWriter()
	if err != nil {
		return err
	}
	defer unlock()

	blocks, err := db.pendingBlocks(tip, height, hdrs, hashes, coinbases)
	if err != nil {
		return err
	}
	if err := db.checkDisk(); err != nil {
		return err
	}
	if bodies != nil {
		for i := range blocks {
			blocks[i].body = bodies[i]
		}
		if err := db.ws.load(db.bdb); err != nil {
			return err
		}
	}
	for len(blocks) > 0 {
		n, err := db.commitBlocks(tip, blocks, extra)
		if err != nil {
			return err
		}
		last := &blocks[n-1].rec
		tip = tipState{ok: true, height: last.Height, hash: last.Hash, work: last.ChainWork}
		db.setTip(tip)
		blocks = blocks[n:]
	}
	return nil
}

// pendingBlocks builds the header records of hdrs (whose hashes are
// hashes[i], where given and not zero), checking that each extends the one
// before it, the first extending tip, and pairs them with their coinbase
// records, checking those against the index's mode.
func (db *DB) pendingBlocks(tip tipState, height int32, hdrs []wire.BlockHeader,
	hashes []chainhash.Hash, coinbases [][]byte) ([]pendingBlock, error) {

	mode := db.blockMode()
	blocks := make([]pendingBlock, len(hdrs))
	for i := range hdrs {
		h, hdr := height+int32(i), &hdrs[i]
		var hash chainhash.Hash
		if hashes != nil {
			hash = hashes[i]
		}
		if hash == (chainhash.Hash{}) {
			hash = hdr.BlockHash()
		}
		if err := db.checkExtendsTip(tip, h, hdr, &hash); err != nil {
			return nil, err
		}
		b := &blocks[i]
		b.rec = HeaderRecord{
			Height:    h,
			Hash:      hash,
			Header:    *hdr,
			ChainWork: new(big.Int).Add(tip.work, db.work.of(hdr.Bits)),
		}
		if coinbases != nil {
			b.coinbase = coinbases[i]
		}
		if err := db.checkBlockData(mode, &b.rec, b.coinbase != nil); err != nil {
			return nil, err
		}
		tip = tipState{ok: true, height: h, hash: hash, work: b.rec.ChainWork}
	}
	return blocks, nil
}

// commitBlocks commits a prefix of blocks in one transaction and returns its
// length: the blocks up to the one that fills half the transaction's
// limits, or half as many each time Badger finds the transaction too big
// all the same.
func (db *DB) commitBlocks(prevTip tipState, blocks []pendingBlock,
	extra func(w *BlockWriter) error) (int, error) {

	n := len(blocks)
	for {
		stored, err := db.commitBlockRange(prevTip, blocks[:n], extra)
		if errors.Is(err, badger.ErrTxnTooBig) && n > 1 {
			db.txnRetries++
			n /= 2
			continue
		}
		if errors.Is(err, badger.ErrTxnTooBig) {
			o := db.bdb.Opts()
			return 0, fmt.Errorf("%w: block %d writes more rows than one index transaction holds "+
				"(%d keys or %s); no real block comes near this, please report it: %w", ErrBlockData,
				blocks[0].rec.Height, maxTxnKeys(o), humanize.IBytes(uint64(maxTxnBytes(o))), err)
		}
		if err != nil {
			return 0, err
		}
		return stored, nil
	}
}

// maxTxnBytes and maxTxnKeys are Badger's limits on one transaction, which
// it derives from the memtable size.
func maxTxnBytes(o badger.Options) int64 { return 15 * o.MemTableSize / 100 }
func maxTxnKeys(o badger.Options) int64  { return maxTxnBytes(o) / int64(skl.MaxNodeSize) }

// commitBlockRange writes the blocks of blocks (rows, coinbase record, extra
// rows, tip, undo record) in one transaction, stopping after the block that
// takes the transaction past half its limits, so that a batch of large
// blocks commits in a few transactions instead of failing whole and being
// written again in halves. It returns how many blocks it stored.
func (db *DB) commitBlockRange(prevTip tipState, blocks []pendingBlock,
	extra func(w *BlockWriter) error) (int, error) {

	txn := db.bdb.NewTransaction(true)
	defer txn.Discard()

	o := db.bdb.Opts()
	keysLeft, bytesLeft := maxTxnKeys(o)/2, maxTxnBytes(o)/2
	var w *BlockWriter
	var tip []byte // the tip record once the blocks so far are written
	n := 0
	for n < len(blocks) {
		rec := &blocks[n].rec
		if w == nil {
			w = newBlockWriter(txn, rec.Height)
		} else {
			w.next(rec.Height)
		}
		if err := dbPutHeader(w, rec); err != nil {
			return 0, err
		}
		tip = dbMoveTip(w, prevTip, tip, rec)
		if err := dbPutCoinbase(w, blocks[n].coinbase); err != nil {
			return 0, err
		}
		if body := &blocks[n].body; body.blk != nil {
			if err := connectFlows(&db.flows, w, &db.ws, body.blk, body.ids); err != nil {
				return 0, err
			}
		}
		if extra != nil {
			if err := extra(w); err != nil {
				return 0, err
			}
		}
		if err := dbPutUndo(w); err != nil {
			return 0, err
		}
		prevTip = tipState{ok: true, height: rec.Height, hash: rec.Hash, work: rec.ChainWork}
		n++
		if w.used.keys >= keysLeft || w.used.bytes >= bytesLeft {
			break
		}
	}

	// Each block's undo record has the tip it moved from; the record itself
	// is written once, with the last block's.
	if err := w.set(tipKey, tip); err != nil {
		return 0, fmt.Errorf("write the tip record at height %d: %w", w.height, err)
	}
	if err := txn.Commit(); err != nil {
		first, last := &blocks[0].rec, &blocks[n-1].rec
		return 0, fmt.Errorf("connect blocks %d-%d (%v): %w", first.Height,
			last.Height, last.Hash, err)
	}
	return n, nil
}

// checkExtendsTip verifies that the header at height connects on tip.
func (db *DB) checkExtendsTip(tip tipState, height int32, hdr *wire.BlockHeader,
	hash *chainhash.Hash) error {

	if !tip.ok {
		if height != 0 {
			return fmt.Errorf("%w: index is empty so the first header must "+
				"be at height 0, not %d (hash %v)", ErrNotOnTip, height, hash)
		}
		if *hash != db.params.GenesisHash {
			return fmt.Errorf("%w: header %v is not the %s genesis block %v",
				ErrNotGenesis, hash, db.params.Name, db.params.GenesisHash)
		}
		return nil
	}

	if height != tip.height+1 || hdr.PrevBlock != tip.hash {
		return fmt.Errorf("%w: header %v at height %d has previous block "+
			"%v but the tip is %v at height %d", ErrNotOnTip, hash, height,
			hdr.PrevBlock, tip.hash, tip.height)
	}
	return nil
}

// DisconnectTip removes the tip block by replaying its undo record, and moves
// the tip back, in one transaction. It fails with ErrNotFound on an empty
// index.
func (db *DB) DisconnectTip() error {
	tip, unlock, err := db.lockWriter()
	if err != nil {
		return err
	}
	defer unlock()
	if !tip.ok {
		return fmt.Errorf("%w: cannot disconnect from an empty index",
			ErrNotFound)
	}

	var newTip tipState
	var restored []undoEntry
	err = db.bdb.Update(func(txn *badger.Txn) error {
		var err error
		newTip, restored, err = dbDisconnectBlock(txn, tip)
		return err
	})
	if err != nil {
		return fmt.Errorf("disconnect header %v at height %d: %w", tip.hash,
			tip.height, err)
	}

	for _, e := range restored {
		if e.existed {
			db.ws.addKey(e.key)
		}
	}
	db.setTip(newTip)
	return nil
}

// dbDisconnectBlock undoes the tip block and returns the tip it restored and
// the undo entries it replayed.
func dbDisconnectBlock(txn *badger.Txn, tip tipState) (tipState, []undoEntry, error) {
	undoKey := heightKey(undoPrefix, tip.height)
	b, ok, err := dbFetch(txn, undoKey)
	if err != nil {
		return tipState{}, nil, err
	}
	if !ok {
		return tipState{}, nil, fmt.Errorf("%w: no undo record at height %d",
			ErrCorrupt, tip.height)
	}
	entries, err := deserializeUndo(tip.height, b)
	if err != nil {
		return tipState{}, nil, err
	}

	if err := dbReplayUndo(txn, entries); err != nil {
		return tipState{}, nil, err
	}
	// Input values the node gave after the block was connected are not in
	// its undo record.
	if err := dbDeleteHeight(txn, inputValuesPrefix, tip.height); err != nil {
		return tipState{}, nil, err
	}
	if err := txn.Delete(undoKey); err != nil {
		return tipState{}, nil, err
	}
	newTip, err := dbFetchTipState(txn)
	return newTip, entries, err
}

// dbDeleteHeight deletes every key of a per-transaction keyspace at height.
func dbDeleteHeight(txn *badger.Txn, prefix byte, height int32) error {
	opts := badger.DefaultIteratorOptions
	opts.PrefetchValues = false
	opts.Prefix = heightKey(prefix, height)
	it := txn.NewIterator(opts)
	var keys [][]byte
	for it.Rewind(); it.Valid(); it.Next() {
		keys = append(keys, it.Item().KeyCopy(nil))
	}
	it.Close()
	for _, k := range keys {
		if err := txn.Delete(k); err != nil {
			return fmt.Errorf("delete key %x: %w", k, err)
		}
	}
	return nil
}

// dbReplayUndo restores every key of an undo record, last write first.
func dbReplayUndo(txn *badger.Txn, entries []undoEntry) error {
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		var err error
		if e.existed {
			err = txn.Set(e.key, e.prev)
		} else {
			err = txn.Delete(e.key)
		}
		if err != nil {
			return fmt.Errorf("restore key %x: %w", e.key, err)
		}
	}
	return nil
}

// dbPutHeader writes the header-by-height row of rec. The key is new:
// nothing is stored above the tip (checked at open and kept by undo).
func dbPutHeader(w *BlockWriter, rec *HeaderRecord) error {
	val, err := serializeHeaderRecord(rec)
	if err != nil {
		return err
	}
	return w.putKnown(heightKey(headerPrefix, rec.Height), val, nil, false)
}

// dbMoveTip moves the tip from prev, whose record is prevVal (serialized
// here when nil), to rec, and returns rec's tip record. It records the
// move in the block's undo record; the caller writes the record of the
// transaction's last block.
func dbMoveTip(w *BlockWriter, prev tipState, prevVal []byte, rec *HeaderRecord) []byte {
	if prevVal == nil && prev.ok {
		prevVal = serializeTip(prev.height, &prev.hash)
	}
	w.remember(undoEntry{key: tipKey, prev: prevVal, existed: prev.ok})
	return serializeTip(rec.Height, &rec.Hash)
}

// dbPutUndo writes the undo record of the block at height.
func dbPutUndo(w *BlockWriter) error {
	key, val := heightKey(undoPrefix, w.height), serializeUndo(w.undo)
	w.used.add(key, val)
	if err := w.txn.Set(key, val); err != nil {
		return fmt.Errorf("write undo record at height %d: %w", w.height, err)
	}
	return nil
}

// dbFetchTipState reads the tip record and the chain work of the tip header.
func dbFetchTipState(txn *badger.Txn) (tipState, error) {
	b, ok, err := dbFetch(txn, tipKey)
	if err != nil || !ok {
		return tipState{work: new(big.Int)}, err
	}
	height, hash, err := deserializeTip(b)
	if err != nil {
		return tipState{}, err
	}

	rec, err := dbFetchHeader(txn, height)
	if errors.Is(err, ErrNotFound) {
		return tipState{}, fmt.Errorf("%w: tip %v at height %d has no "+
			"header", ErrCorrupt, hash, height)
	}
	if err != nil {
		return tipState{}, err
	}
	if rec.Hash != hash {
		return tipState{}, fmt.Errorf("%w: tip is %v but the header at "+
			"height %d is %v", ErrCorrupt, hash, height, rec.Hash)
	}
	return tipState{ok: true, height: height, hash: hash, work: rec.ChainWork}, nil
}

// loadTip reads the tip at open and checks that the rows around it agree:
// the header at the tip height is the tip, nothing is stored above it, and an
// empty index has no rows at all.
func loadTip(bdb *badger.DB) (tipState, error) {
	var tip tipState
	err := bdb.View(func(txn *badger.Txn) error {
		var err error
		if tip, err = dbFetchTipState(txn); err != nil {
			return err
		}
		return dbCheckNothingAbove(txn, tip)
	})
	return tip, err
}

// dbCheckNothingAbove fails if a header, undo or coinbase record exists above
// the tip, or a block row exists in an empty index.
func dbCheckNothingAbove(txn *badger.Txn, tip tipState) error {
	next := int32(0)
	if tip.ok {
		next = tip.height + 1
		if _, ok, err := dbFetch(txn, heightKey(undoPrefix, tip.height)); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("%w: tip at height %d has no undo record",
				ErrCorrupt, tip.height)
		}
	}

	for _, prefix := range []byte{headerPrefix, undoPrefix, coinbasePrefix, flowTxPrefix,
		blockFlowsPrefix, inputValuesPrefix, needValuesPrefix} {
		if dbHasKeyFrom(txn, prefix, next) {
			return fmt.Errorf("%w: rows with prefix %#x exist above the "+
				"tip (next height %d)", ErrCorrupt, prefix, next)
		}
	}
	return nil
}

// dbHasKeyFrom reports whether keyspace prefix has a key at or after the
// big-endian height from.
func dbHasKeyFrom(txn *badger.Txn, prefix byte, from int32) bool {
	opts := badger.DefaultIteratorOptions
	opts.PrefetchValues = false
	opts.Prefix = []byte{prefix}
	it := txn.NewIterator(opts)
	defer it.Close()

	it.Seek(heightKey(prefix, from))
	return it.ValidForPrefix([]byte{prefix})
}

// lockWriter takes the writer lock and returns the cached tip and the
// function releasing the lock, or why the index cannot be written.
func (db *DB) lockWriter() (tipState, func(), error) {
	db.writeMu.Lock()
	db.closeMu.RLock()
	unlock := func() {
		db.closeMu.RUnlock()
		db.writeMu.Unlock()
	}

	switch {
	case db.closed:
		unlock()
		return tipState{}, nil, ErrClosed
	case db.readOnly:
		unlock()
		return tipState{}, nil, ErrReadOnly
	}

	db.tipMu.RLock()
	defer db.tipMu.RUnlock()
	return db.tip, unlock, nil
}

// setTip replaces the cached tip after a commit.
func (db *DB) setTip(tip tipState) {
	db.tipMu.Lock()
	db.tip = tip
	db.tipMu.Unlock()
}
