package index

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math/big"
	"slices"
	"strings"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/dgraph-io/badger/v4"

	"github.com/minerscope/minerscope/analysis"
)

// MaxProblems bounds the problems one check lists; the rest are counted in
// a last problem, so a badly damaged index cannot exhaust memory.
const MaxProblems = 1000

// Problem is one place where the index breaks its own invariants, disagrees
// with the node's blocks or with a fresh sync.
type Problem struct {
	// Height is the block the problem belongs to, -1 for none.
	Height int32

	// What says what is wrong, in one sentence.
	What string
}

// String returns the problem with its height.
func (p Problem) String() string {
	if p.Height < 0 {
		return p.What
	}
	return fmt.Sprintf("height %d: %s", p.Height, p.What)
}

// problems collects up to MaxProblems problems and counts the rest.
type problems struct {
	list []Problem
	more int
}

func (ps *problems) add(height int32, format string, args ...any) {
	if len(ps.list) >= MaxProblems {
		ps.more++
		return
	}
	ps.list = append(ps.list, Problem{Height: height, What: fmt.Sprintf(format, args...)})
}

func (ps *problems) result() []Problem {
	if ps.more == 0 {
		return ps.list
	}
	return append(ps.list, Problem{Height: -1, What: fmt.Sprintf("%d more problems not listed", ps.more)})
}

// ctxEvery is how many rows a check reads between looks at its context.
const ctxEvery = 4096

// -----------------------------------------------------------------------------
// Invariants
// -----------------------------------------------------------------------------

// CheckInvariants reads the whole index once, from one snapshot, and returns
// every way it breaks the rules its writer keeps (keys.go, README "The
// index"):
//   - headers at every height from 0 to the tip, each linking to the one
//     below (the first is the network's genesis), each stored with its own
//     hash and the cumulative work of the chain up to it; the tip record
//     naming the top header;
//   - an undo record for every block, starting with its header row;
//   - no row of a retired keyspace (the height-by-hash rows of schema 3 and
//     before; undo records written then still name them, harmlessly);
//   - for a full index, a coinbase record and block flow totals at every
//     height from BlocksFrom on and none below (none at all, nor any miner
//     flow row, in a headers-only index); each coinbase record consistent
//     (reward the sum of its outputs, the height's subsidy, fees); the
//     totals' time and revenue those of the header and coinbase, their
//     coinbase inflow that of the coinbase's outputs, their outflow,
//     internal, miner fee and spending transactions those of the stored
//     flow transactions;
//   - the reserve identity at both levels: the net changes of all blocks
//     add up to the value of the unspent miner outputs, in total and per
//     origin, and every unspent miner output pays a miner script of its
//     level or lower (checked against a Bloom filter of the scripts, so a
//     missing script goes unseen when its hash collides, about one time
//     in 2,000);
//   - every flow transaction has its txid row pointing back and vice
//     versa; values-wanted markers and input values exist only for flow
//     transactions with inputs of unknown value, exactly one of them each.
//
// It reads every key once, in key order, with no lookups unless something
// is wrong: about 140 MB of index a second on a busy 2-core machine. Its
// memory is about 50 bytes per block and 5 per miner script. Only a
// failure to read the index is an error.
func (db *DB) CheckInvariants(ctx context.Context) ([]Problem, error) {
	var ps problems
	err := db.view(func(txn *badger.Txn) error {
		c := &checker{db: db, txn: txn, ctx: ctx, ps: &ps, seed: maphash.MakeSeed()}
		return c.run()
	})
	return ps.result(), err
}

// checker is one run of CheckInvariants.
type checker struct {
	db   *DB
	txn  *badger.Txn
	ctx  context.Context
	ps   *problems
	mode blockMode
	work workCache
	rows int

	// tipHeight and tipHash are the tip record's (tipOK), -1 for none.
	tipHeight int32
	tipHash   chainhash.Hash
	tipOK     bool

	// hashes are the stored hashes by height up to the tip (zero where
	// unreadable).
	hashes []chainhash.Hash

	// net and byOrigin add up the blocks' reserve changes per level, the
	// latter indexed by origin height.
	net      [2]btcutil.Amount
	byOrigin [2][]btcutil.Amount

	// Cursors over the height-ordered keyspaces, walked in step with the
	// headers.
	undo, coinbase, flows, flowTxs, values, wanted *cursor

	// txidSums add up a hash of each flow transaction's txid and position
	// ([0]) and of each txid row's ([1]), txidCounts count them: equal
	// sums and counts prove the two keyspaces hold the same pairs, and
	// only when they differ are the rows looked up one by one to find
	// where. A lookup per row would cost most of the check.
	seed       maphash.Seed
	txidSums   [2]uint64
	txidCounts [2]int

	// scripts0 and scripts1 filter the level-0 and all miner scripts.
	scripts0, scripts1 bloom
}

// run runs every pass.
func (c *checker) run() error {
	mode, err := dbFetchBlockMode(c.txn)
	if err != nil {
		c.ps.add(-1, "the blocks_from record is unreadable: %v", err)
	}
	c.mode = mode
	c.readTip()

	if err := c.heights(); err != nil {
		return err
	}
	if err := c.retiredRows(); err != nil {
		return err
	}
	if err := c.txidRows(); err != nil {
		return err
	}
	if err := c.scripts(); err != nil {
		return err
	}
	return c.reserve()
}

// tick counts a row read and returns the context's error now and then.
func (c *checker) tick() error {
	c.rows++
	if c.rows%ctxEvery == 0 {
		return c.ctx.Err()
	}
	return nil
}

// cursor walks one keyspace in key order.
type cursor struct {
	it   *badger.Iterator
	name string
}

func newCursor(txn *badger.Txn, prefix byte) *cursor {
	opts := badger.DefaultIteratorOptions
	opts.PrefetchValues = false
	opts.Prefix = []byte{prefix}
	it := txn.NewIterator(opts)
	it.Rewind()
	return &cursor{it: it, name: keyspaceNames[prefix]}
}

// pos returns the height and index of the current key (index 0 for a
// height-keyed keyspace); ok is false at the end.
func (cur *cursor) pos() (height, index int32, ok bool) {
	if !cur.it.Valid() {
		return 0, 0, false
	}
	key := cur.it.Item().Key()
	if h, i, ok := keyTxPos(key); ok {
		return h, i, true
	}
	if len(key) == 1+heightSize {
		return keyHeight(key), 0, true
	}
	return -1, -1, true // malformed: reported as a stray
}

func (cur *cursor) value() ([]byte, error) {
	return cur.it.Item().ValueCopy(nil)
}

// take returns the value of the row at (height, index) if the cursor is on
// it and moves past it; rows before it are reported as strays.
func (c *checker) take(cur *cursor, height, index int32) ([]byte, bool, error) {
	for {
		h, i, ok := cur.pos()
		if !ok || h > height || (h == height && i > index) {
			return nil, false, nil
		}
		if h < height || i < index {
			c.stray(cur, h, "has no block or flow transaction it belongs to")
			cur.it.Next()
			continue
		}
		v, err := cur.value()
		cur.it.Next()
		return v, true, err
	}
}

// stray reports the row under the cursor.
func (c *checker) stray(cur *cursor, height int32, why string) {
	c.ps.add(height, "%s %x %s", cur.name, cur.it.Item().Key(), why)
}

// heights walks the headers and, in step with them, every height-ordered
// keyspace.
func (c *checker) heights() error {
	hdrs := newCursor(c.txn, headerPrefix)
	defer hdrs.it.Close()
	c.undo, c.coinbase, c.flows = newCursor(c.txn, undoPrefix), newCursor(c.txn, coinbasePrefix),
		newCursor(c.txn, blockFlowsPrefix)
	c.flowTxs, c.values, c.wanted = newCursor(c.txn, flowTxPrefix), newCursor(c.txn, inputValuesPrefix),
		newCursor(c.txn, needValuesPrefix)
	all := []*cursor{c.undo, c.coinbase, c.flows, c.flowTxs, c.values, c.wanted}
	defer func() {
		for _, cur := range all {
			cur.it.Close()
		}
	}()

	var prev *HeaderRecord
	for ; hdrs.it.Valid(); hdrs.it.Next() {
		if err := c.tick(); err != nil {
			return err
		}
		h, _, _ := hdrs.pos()
		if h < int32(len(c.hashes)) || (c.tipOK && h > c.tipHeight) {
			c.stray(hdrs, h, "is malformed or above the tip record")
			continue
		}
		if h > int32(len(c.hashes)) {
			c.ps.add(int32(len(c.hashes)), "no headers at heights %d-%d", len(c.hashes), h-1)
			c.hashes = append(c.hashes, make([]chainhash.Hash, int(h)-len(c.hashes))...)
			prev = nil
		}
		val, err := hdrs.value()
		if err != nil {
			return err
		}
		rec := c.header(h, val, prev)
		if err := c.block(h, rec); err != nil {
			return err
		}
		prev = rec
	}
	c.tip()
	for _, cur := range all {
		for ; cur.it.Valid(); cur.it.Next() {
			h, _, _ := cur.pos()
			c.stray(cur, h, "lies above the top header")
		}
	}
	return nil
}

// header checks the header record at height h against the one below, prev
// (nil when unreadable or absent), records its hash and returns it, or nil
// when it is unreadable.
func (c *checker) header(h int32, val []byte, prev *HeaderRecord) *HeaderRecord {
	rec, err := deserializeHeaderRecord(h, val)
	if err != nil {
		c.ps.add(h, "the header record is unreadable: %v", err)
		c.hashes = append(c.hashes, chainhash.Hash{})
		return nil
	}
	c.hashes = append(c.hashes, rec.Hash)
	if hash := rec.Header.BlockHash(); hash != rec.Hash {
		c.ps.add(h, "the header hashes to %v but is stored with hash %v", hash, rec.Hash)
	}

	work := new(big.Int).Set(c.work.of(rec.Header.Bits))
	switch {
	case h == 0:
		if rec.Hash != c.db.params.GenesisHash {
			c.ps.add(h, "the first header is %v, not the %s genesis block %v", rec.Hash,
				c.db.params.Name, c.db.params.GenesisHash)
		}
	case prev == nil:
		return &rec // nothing to link to: the gap is reported
	default:
		if rec.Header.PrevBlock != prev.Hash {
			c.ps.add(h, "the header's previous block is %v but the header below is %v",
				rec.Header.PrevBlock, prev.Hash)
		}
		work.Add(work, prev.ChainWork)
	}
	if rec.ChainWork.Cmp(work) != 0 {
		c.ps.add(h, "the stored chain work is %#x, want %#x", rec.ChainWork, work)
	}
	return &rec
}

// readTip reads the tip record; the headers pass checks it.
func (c *checker) readTip() {
	c.tipHeight = -1
	b, ok, err := dbFetch(c.txn, tipKey)
	if err == nil && ok {
		var height int32
		height, c.tipHash, err = deserializeTip(b)
		if err == nil && height >= 0 {
			c.tipHeight, c.tipOK = height, true
		}
	}
	if err != nil {
		c.ps.add(-1, "the tip record is unreadable: %v", err)
	}
}

// tip checks that the tip record names the top header.
func (c *checker) tip() {
	top := int32(len(c.hashes)) - 1
	switch {
	case c.tipHeight != top:
		c.ps.add(max(c.tipHeight, top), "the tip record is at height %d but the top header at %d",
			c.tipHeight, top)
	case top >= 0 && c.tipHash != c.hashes[top]:
		c.ps.add(top, "the tip record is %v but the top header is %v", c.tipHash, c.hashes[top])
	}
}

// block checks the rows of the block at height h other than its header
// (rec, nil when unreadable).
func (c *checker) block(h int32, rec *HeaderRecord) error {
	if err := c.undoRecord(h); err != nil {
		return err
	}
	cb, err := c.coinbaseRecord(h)
	if err != nil {
		return err
	}
	bf, err := c.blockFlows(h, rec, cb)
	if err != nil {
		return err
	}
	txs, err := c.flowTxRows(h)
	if err != nil {
		return err
	}
	if bf != nil {
		c.compareTotals(h, bf, &txs)
	}
	return nil
}

// undoRecord checks that the block at h has a readable undo record whose
// first entry is its header row, new with the block.
func (c *checker) undoRecord(h int32) error {
	val, ok, err := c.take(c.undo, h, 0)
	if err != nil || !ok {
		if !ok && err == nil {
			c.ps.add(h, "the block has no undo record")
		}
		return err
	}
	entries, err := deserializeUndo(h, val)
	switch {
	case err != nil:
		c.ps.add(h, "the undo record is unreadable: %v", err)
	case len(entries) == 0 || !bytes.Equal(entries[0].key, heightKey(headerPrefix, h)) || entries[0].existed:
		c.ps.add(h, "the undo record does not start with the block's header row")
	}
	return nil
}

// coinbaseRecord checks that the block at h has a coinbase record exactly
// when the index keeps full blocks there, and that it is consistent; it
// returns the record when there is a readable one.
func (c *checker) coinbaseRecord(h int32) (*analysis.CoinbaseRecord, error) {
	val, ok, err := c.take(c.coinbase, h, 0)
	if err != nil {
		return nil, err
	}
	if !c.present(h, ok, "coinbase record") {
		return nil, nil
	}
	rec, err := deserializeCoinbase(h, val)
	if err != nil {
		c.ps.add(h, "the coinbase record is unreadable: %v", err)
		return nil, nil
	}
	if err := checkCoinbase(c.db.params, h, &rec); err != nil {
		c.ps.add(h, "%s", strings.TrimPrefix(err.Error(), ErrBlockData.Error()+": "))
	}
	return &rec, nil
}

// present reports whether a record the block at h has (ok) should be
// checked, reporting it missing or unexpected against the index's mode.
func (c *checker) present(h int32, ok bool, what string) bool {
	switch keep := c.mode.keeps(h); {
	case keep && !ok:
		c.ps.add(h, "the block has no %s but the index keeps full blocks from height %d", what, c.mode.from)
	case !keep && ok && c.mode.full:
		c.ps.add(h, "the block has a %s but the index keeps full blocks only from height %d", what, c.mode.from)
	case !keep && ok:
		c.ps.add(h, "the block has a %s but the index keeps headers only", what)
	}
	return ok
}

// blockFlows checks the block flow totals at h against the header and the
// coinbase record (each nil when unreadable), adds their reserve changes to
// the identity, and returns them when readable.
func (c *checker) blockFlows(h int32, hdr *HeaderRecord, cb *analysis.CoinbaseRecord) (*BlockFlows, error) {
	val, ok, err := c.take(c.flows, h, 0)
	if err != nil {
		return nil, err
	}
	if !c.present(h, ok, "block flows record") {
		return nil, nil
	}
	bf, err := deserializeBlockFlows(h, val)
	if err != nil {
		c.ps.add(h, "the block flows record is unreadable: %v", err)
		return nil, nil
	}
	if hdr != nil && bf.Time != hdr.Header.Timestamp.Unix() {
		c.ps.add(h, "the block flows record has time %d but the header %d", bf.Time, hdr.Header.Timestamp.Unix())
	}
	if cb != nil {
		c.coinbaseInflow(h, &bf, cb)
	}
	for l := range bf.Levels {
		c.levelFlows(h, l, &bf.Levels[l])
	}
	return &bf, nil
}

// coinbaseInflow checks the revenue and coinbase inflow of bf against the
// coinbase record cb: every non-zero spendable output is a miner output,
// except the genesis block's.
func (c *checker) coinbaseInflow(h int32, bf *BlockFlows, cb *analysis.CoinbaseRecord) {
	if bf.Revenue != cb.Reward {
		c.ps.add(h, "the block flows record has revenue %d sat but the coinbase record %d sat",
			bf.Revenue, cb.Reward)
	}
	var inflow btcutil.Amount
	for _, o := range cb.Outputs {
		if h > 0 && o.Value > 0 && !txscript.IsUnspendable(o.Script) {
			inflow += o.Value
		}
	}
	for l := range bf.Levels {
		if got := bf.Levels[l].CoinbaseInflow; got != inflow {
			c.ps.add(h, "level %d coinbase inflow is %d sat but the coinbase pays %d sat to miner outputs",
				l, got, inflow)
		}
	}
}

// levelFlows checks one level's totals against their origins and adds them
// to the reserve identity.
func (c *checker) levelFlows(h int32, l int, lv *LevelFlows) {
	var change, outflow btcutil.Amount
	for i, o := range lv.Origins {
		if o.Origin < c.mode.from || o.Origin > h {
			c.ps.add(h, "level %d flows name origin %d, outside the full blocks %d-%d", l, o.Origin, c.mode.from, h)
			continue
		}
		if i > 0 && o.Origin <= lv.Origins[i-1].Origin {
			c.ps.add(h, "level %d origins are not in ascending order", l)
		}
		change += o.Change
		outflow += o.Outflow
		c.byOrigin[l] = growTo(c.byOrigin[l], o.Origin)
		c.byOrigin[l][o.Origin] += o.Change
	}
	if net := lv.NetChange(); change != net {
		c.ps.add(h, "level %d net change is %d sat but its origins' changes add up to %d sat", l, net, change)
	}
	if outflow != lv.Outflow {
		c.ps.add(h, "level %d outflow is %d sat but its origins' outflows add up to %d sat", l, lv.Outflow, outflow)
	}
	c.net[l] += lv.NetChange()
}

// growTo returns s long enough to index i.
func growTo(s []btcutil.Amount, i int32) []btcutil.Amount {
	if int(i) < len(s) {
		return s
	}
	return append(s, make([]btcutil.Amount, int(i)+1-len(s))...)
}

// txTotals are the per-level totals the stored flow transactions of one
// block give.
type txTotals struct {
	levels [2]struct {
		outflow, internal, minerFee btcutil.Amount
		spending                    int32
		byOrigin                    map[int32]btcutil.Amount // outflow
	}
}

// flowTxRows checks the flow transactions of the block at h (their txid
// rows, input values and markers) and returns their totals.
func (c *checker) flowTxRows(h int32) (txTotals, error) {
	var t txTotals
	for {
		th, index, ok := c.flowTxs.pos()
		if !ok || th > h {
			return t, nil
		}
		if th < h || index < 0 {
			c.stray(c.flowTxs, th, "has no block it belongs to")
			c.flowTxs.it.Next()
			continue
		}
		if err := c.tick(); err != nil {
			return t, err
		}
		val, err := c.flowTxs.value()
		c.flowTxs.it.Next()
		if err != nil {
			return t, err
		}
		if err := c.flowTx(h, index, val, &t); err != nil {
			return t, err
		}
	}
}

// flowTx checks one flow transaction record and adds it to t.
func (c *checker) flowTx(h, index int32, val []byte, t *txTotals) error {
	tx, err := deserializeFlowTx(h, index, val)
	if err != nil {
		c.ps.add(h, "the flow transaction at index %d is unreadable: %v", index, err)
		return nil
	}
	if !c.mode.keeps(h) {
		c.ps.add(h, "flow transaction %v is stored for a block the index keeps no full data of", tx.TxID)
	}
	if index == 0 || !slices.ContainsFunc(tx.Inputs, func(in FlowTxInput) bool { return in.Level != analysis.NotMiner }) {
		c.ps.add(h, "flow transaction %v (index %d) spends no miner output", tx.TxID, index)
	}
	c.addTxid(0, tx.TxID[:], txPosKey(0, h, index)[1:])
	if err := c.inputValues(&tx); err != nil {
		return err
	}
	for l := range t.levels {
		f, err := tx.Flow(l)
		if err != nil {
			c.ps.add(h, "flow transaction %v does not classify: %v", tx.TxID, err)
			return nil
		}
		if f.FromMiner == 0 {
			continue
		}
		lt := &t.levels[l]
		lt.outflow += f.Outflow
		lt.internal += f.Internal
		lt.minerFee += f.MinerFee
		lt.spending++
		if lt.byOrigin == nil {
			lt.byOrigin = make(map[int32]btcutil.Amount)
		}
		lt.byOrigin[f.Origin] += f.Outflow
	}
	return nil
}

// addTxid adds a (txid, position) pair to side i of the txid sums.
func (c *checker) addTxid(i int, txid, pos []byte) {
	var b [chainhash.HashSize + 2*heightSize]byte
	copy(b[copy(b[:], txid):], pos)
	c.txidSums[i] += maphash.Bytes(c.seed, b[:])
	c.txidCounts[i]++
}

// txidRow checks that the txid row of the flow transaction txid at height
// points to pos.
func (c *checker) txidRow(height int32, txid *chainhash.Hash, pos []byte) error {
	got, ok, err := dbFetch(c.txn, txidKey(txid))
	if err != nil {
		return err
	}
	index := binary.BigEndian.Uint32(pos[heightSize:])
	switch {
	case !ok:
		c.ps.add(height, "flow transaction %v (index %d) has no txid row", txid, index)
	case !bytes.Equal(got, pos):
		c.ps.add(height, "the txid row of flow transaction %v (index %d) points to %x", txid, index, got)
	}
	return nil
}

// inputValues checks that a flow transaction with inputs of unknown value
// has either their values or a marker wanting them, and fills the values in.
func (c *checker) inputValues(tx *FlowTx) error {
	vals, haveVals, err := c.take(c.values, tx.Height, tx.Index)
	if err != nil {
		return err
	}
	_, wanted, err := c.take(c.wanted, tx.Height, tx.Index)
	if err != nil {
		return err
	}
	h := tx.Height
	switch {
	case tx.FeeKnown() && (haveVals || wanted):
		c.ps.add(h, "flow transaction %v has only miner inputs but input values or a marker wanting them", tx.TxID)
	case tx.FeeKnown():
	case haveVals && wanted:
		c.ps.add(h, "flow transaction %v has its input values and still a marker wanting them", tx.TxID)
	case !haveVals && !wanted:
		c.ps.add(h, "flow transaction %v has neither its input values nor a marker wanting them", tx.TxID)
	case haveVals:
		vs, ok := deserializeValues(vals)
		if !ok {
			c.ps.add(h, "the input values of flow transaction %v are unreadable", tx.TxID)
		} else if err := fillValues(tx, vs); err != nil {
			c.ps.add(h, "the input values do not fit: %v", err)
		}
	}
	return nil
}

// compareTotals checks the block flow totals bf against the totals of the
// block's stored flow transactions.
func (c *checker) compareTotals(h int32, bf *BlockFlows, t *txTotals) {
	for l := range bf.Levels {
		lv, lt := &bf.Levels[l], &t.levels[l]
		if lv.Outflow != lt.outflow || lv.Internal != lt.internal || lv.MinerFee != lt.minerFee ||
			lv.SpendingTxs != lt.spending {
			c.ps.add(h, "level %d totals (outflow %d, internal %d, miner fee %d sat, %d spending txs) differ "+
				"from the block's flow transactions' (%d, %d, %d sat, %d)", l, lv.Outflow, lv.Internal,
				lv.MinerFee, lv.SpendingTxs, lt.outflow, lt.internal, lt.minerFee, lt.spending)
		}
		for _, o := range lv.Origins {
			if o.Outflow != lt.byOrigin[o.Origin] {
				c.ps.add(h, "level %d outflow of origin %d is %d sat but the flow transactions' %d sat",
					l, o.Origin, o.Outflow, lt.byOrigin[o.Origin])
			}
		}
	}
}

// scan calls fn with every key of keyspace prefix and its value, in order.
func (c *checker) scan(prefix byte, fn func(cur *cursor, key, val []byte) error) error {
	cur := newCursor(c.txn, prefix)
	defer cur.it.Close()
	for ; cur.it.Valid(); cur.it.Next() {
		if err := c.tick(); err != nil {
			return err
		}
		val, err := cur.value()
		if err != nil {
			return err
		}
		if err := fn(cur, cur.it.Item().Key(), val); err != nil {
			return err
		}
	}
	return nil
}

// retiredRows reports rows of a retired keyspace: the height-by-hash rows,
// which the upgrade to schema 4 deleted.
func (c *checker) retiredRows() error {
	return c.scan(retiredHashPrefix, func(cur *cursor, key, val []byte) error {
		c.stray(cur, keyBlockHeight(key, val), "belongs to a keyspace retired in schema 4")
		return nil
	})
}

// txidRows checks that the txid rows and the flow transactions point to
// each other: by their sums, and row by row only when those differ.
func (c *checker) txidRows() error {
	err := c.scan(txidPrefix, func(cur *cursor, key, pos []byte) error {
		if len(pos) != 2*heightSize || len(key) != 1+chainhash.HashSize {
			c.stray(cur, -1, "is malformed")
		} else {
			c.addTxid(1, key[1:], pos)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if c.txidSums[0] == c.txidSums[1] && c.txidCounts[0] == c.txidCounts[1] {
		return nil
	}
	if err := c.txidRowsOfFlowTxs(); err != nil {
		return err
	}
	return c.flowTxsOfTxidRows()
}

// txidRowsOfFlowTxs looks up the txid row of every flow transaction.
func (c *checker) txidRowsOfFlowTxs() error {
	return c.scan(flowTxPrefix, func(_ *cursor, key, val []byte) error {
		h, _, ok := keyTxPos(key)
		if !ok || len(val) < chainhash.HashSize {
			return nil // reported by the heights pass
		}
		txid := chainhash.Hash(val[:chainhash.HashSize])
		return c.txidRow(h, &txid, key[1:])
	})
}

// flowTxsOfTxidRows looks up the flow transaction of every txid row.
func (c *checker) flowTxsOfTxidRows() error {
	return c.scan(txidPrefix, func(_ *cursor, key, pos []byte) error {
		if len(pos) != 2*heightSize || len(key) != 1+chainhash.HashSize {
			return nil // reported already
		}
		val, ok, err := dbFetch(c.txn, append([]byte{flowTxPrefix}, pos...))
		if err != nil {
			return err
		}
		if !ok || len(val) < chainhash.HashSize || !bytes.Equal(val[:chainhash.HashSize], key[1:]) {
			c.ps.add(int32(binary.BigEndian.Uint32(pos)), "the txid row of %v points to index %d, which holds "+
				"no flow transaction with that txid", chainhash.Hash(key[1:]), binary.BigEndian.Uint32(pos[heightSize:]))
		}
		return nil
	})
}

// scripts checks that every miner script record is readable, and that a
// headers-only index has none, and fills the script filters.
func (c *checker) scripts() error {
	n, err := c.count(scriptPrefix)
	if err != nil {
		return err
	}
	c.scripts0.rebuild(max(n, 1))
	c.scripts1.rebuild(max(n, 1))
	return c.scan(scriptPrefix, func(_ *cursor, key, val []byte) error {
		s, err := deserializeScript(bytes.Clone(key[1:]), val)
		switch {
		case err != nil:
			c.ps.add(-1, "%v", err)
			return nil
		case !c.mode.full:
			c.ps.add(s.Since1, "headers-only index has miner script %x", s.Script)
		}
		h := maphash.Bytes(c.seed, s.Script)
		c.scripts1.set(h)
		if s.Level == 0 {
			c.scripts0.set(h)
		}
		return nil
	})
}

// count returns the number of keys in keyspace prefix.
func (c *checker) count(prefix byte) (int, error) {
	cur := newCursor(c.txn, prefix)
	defer cur.it.Close()
	n := 0
	for ; cur.it.Valid(); cur.it.Next() {
		if err := c.tick(); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// reserve checks the reserve identity against the unspent miner outputs.
func (c *checker) reserve() error {
	var total [2]btcutil.Amount
	cur := newCursor(c.txn, utxoPrefix)
	defer cur.it.Close()
	for ; cur.it.Valid(); cur.it.Next() {
		if err := c.tick(); err != nil {
			return err
		}
		u, ok, err := c.minerOutput(cur)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		for l := int(u.Level); l < len(total); l++ {
			total[l] += u.Value
			c.byOrigin[l] = growTo(c.byOrigin[l], u.Origin)
			c.byOrigin[l][u.Origin] -= u.Value
		}
	}
	for l := range total {
		if total[l] != c.net[l] {
			c.ps.add(-1, "level %d reserve identity: the blocks' net changes add up to %d sat but the "+
				"unspent miner outputs to %d sat", l, c.net[l], total[l])
		}
		for origin, d := range c.byOrigin[l] {
			switch {
			case d > 0:
				c.ps.add(int32(origin), "the level %d unspent miner outputs of origin %d fall %d sat short of "+
					"the blocks' reserve changes", l, origin, d)
			case d < 0:
				c.ps.add(int32(origin), "the level %d unspent miner outputs of origin %d exceed the blocks' "+
					"reserve changes by %d sat", l, origin, -d)
			}
		}
	}
	return nil
}

// minerOutput reads and checks the unspent miner output under cur; ok is
// false when it cannot count in the identity.
func (c *checker) minerOutput(cur *cursor) (MinerOutput, bool, error) {
	op, ok := keyOutpoint(cur.it.Item().Key())
	if !ok {
		c.stray(cur, -1, "is malformed")
		return MinerOutput{}, false, nil
	}
	val, err := cur.value()
	if err != nil {
		return MinerOutput{}, false, err
	}
	u, err := deserializeUTXO(op, val)
	if err != nil {
		c.ps.add(-1, "%v", err)
		return u, false, nil
	}
	if !c.mode.full || u.Origin < c.mode.from || int(u.Origin) >= len(c.hashes) {
		c.ps.add(u.Origin, "unspent miner output %v has origin %d, not a full block of the index", op, u.Origin)
		return u, false, nil
	}
	f := &c.scripts1
	if u.Level == 0 {
		f = &c.scripts0
	}
	if f.mayHave(maphash.Bytes(c.seed, u.Script)) {
		return u, true, nil
	}
	b, ok, err := dbFetch(c.txn, scriptKey(u.Script))
	if err != nil {
		return u, false, err
	}
	if !ok {
		c.ps.add(u.Origin, "unspent miner output %v pays %x, which is no miner script", op, u.Script)
	} else if s, err := deserializeScript(u.Script, b); err == nil && s.Level > u.Level {
		c.ps.add(u.Origin, "unspent miner output %v is of level %d but pays a level-%d script", op, u.Level, s.Level)
	}
	return u, true, nil
}

// keyspaceNames name the keyspaces in problems.
var keyspaceNames = map[byte]string{
	metaPrefix:        "meta record",
	headerPrefix:      "header",
	retiredHashPrefix: "height-by-hash row",
	undoPrefix:        "undo record",
	coinbasePrefix:    "coinbase record",
	scriptPrefix:      "miner script",
	utxoPrefix:        "unspent miner output",
	flowTxPrefix:      "flow transaction",
	blockFlowsPrefix:  "block flows record",
	txidPrefix:        "flow txid row",
	inputValuesPrefix: "input values record",
	needValuesPrefix:  "values-wanted marker",
}

// -----------------------------------------------------------------------------
// Blocks from the node
// -----------------------------------------------------------------------------

// BlockChecker compares the rows the index holds for a block with the block
// itself, as the node serves it. It is safe for concurrent use.
type BlockChecker struct {
	db *DB

	// outputs and txids filter the outpoints of the unspent miner outputs
	// and the txids of the flow transactions, so that the inputs of a
	// block cost a lookup only when they may concern a miner.
	outputs, txids bloom
}

// NewBlockChecker returns a checker for db's blocks. It reads the keys of
// the unspent miner outputs and flow transactions once (about 3 bytes of
// memory each).
func (db *DB) NewBlockChecker(ctx context.Context) (*BlockChecker, error) {
	c := &BlockChecker{db: db}
	err := db.view(func(txn *badger.Txn) error {
		err := fillBloom(ctx, txn, utxoPrefix, &c.outputs, func(key []byte) (uint64, bool) {
			op, ok := keyOutpoint(key)
			return outpointHash(&op), ok
		})
		if err != nil {
			return err
		}
		return fillBloom(ctx, txn, txidPrefix, &c.txids, func(key []byte) (uint64, bool) {
			return txidHash(key[1:]), len(key) == 1+chainhash.HashSize
		})
	})
	return c, err
}

// txidHash is the filter hash of a txid.
func txidHash(txid []byte) uint64 {
	return binary.LittleEndian.Uint64(txid)
}

// fillBloom sizes f for the keys of keyspace prefix and adds their hashes.
func fillBloom(ctx context.Context, txn *badger.Txn, prefix byte, f *bloom,
	hash func(key []byte) (uint64, bool)) error {

	opts := badger.DefaultIteratorOptions
	opts.PrefetchValues = false
	opts.Prefix = []byte{prefix}
	n := 0
	for pass := range 2 {
		it := txn.NewIterator(opts)
		for it.Rewind(); it.Valid(); it.Next() {
			if n++; n%ctxEvery == 0 && ctx.Err() != nil {
				it.Close()
				return ctx.Err()
			}
			if h, ok := hash(it.Item().Key()); ok && pass == 1 {
				f.set(h)
			}
		}
		it.Close()
		if pass == 0 {
			f.rebuild(max(n, 1))
		}
	}
	return nil
}

// CheckBlock compares what the index holds at height with blk, the node's
// block there, whose txids are ids (computed when nil):
//   - the stored header is blk's header;
//   - the stored coinbase record is the one analysis.ExtractCoinbase makes
//     of blk (and there is one exactly when the index keeps full blocks);
//   - every stored flow transaction at the height is blk's transaction at
//     its index, with the same txid, inputs' previous outpoints and
//     outputs' values and scripts;
//   - no transaction of blk spends an output the index holds as unspent,
//     and every transaction spending an output a stored flow transaction
//     made a miner output is stored, with that input's level, origin and
//     value. (Miner outputs made by coinbases would need the history of
//     the chain, which only a rebuild reads.)
func (c *BlockChecker) CheckBlock(height int32, blk *wire.MsgBlock, ids []chainhash.Hash) ([]Problem, error) {
	if ids == nil {
		ids = make([]chainhash.Hash, len(blk.Transactions))
		for i, tx := range blk.Transactions {
			ids[i] = tx.TxHash()
		}
	}
	var ps problems
	err := c.db.view(func(txn *badger.Txn) error {
		if !c.checkHeader(txn, &ps, height, blk) {
			return nil
		}
		if err := c.checkCoinbase(txn, &ps, height, blk); err != nil {
			return err
		}
		stored, err := c.checkFlowTxs(txn, &ps, height, blk, ids)
		if err != nil {
			return err
		}
		return c.checkSpends(txn, &ps, height, blk, stored)
	})
	return ps.result(), err
}

// checkHeader compares the stored header at height with blk's; false when
// there is nothing more to compare.
func (c *BlockChecker) checkHeader(txn *badger.Txn, ps *problems, height int32, blk *wire.MsgBlock) bool {
	rec, err := dbFetchHeader(txn, height)
	hash := blk.BlockHash()
	switch {
	case err != nil:
		ps.add(height, "the index has no readable header for the node's block %v: %v", hash, err)
		return false
	case rec.Hash != hash || !sameHeader(&rec.Header, &blk.Header):
		ps.add(height, "the index holds block %v but the node's block is %v", rec.Hash, hash)
		return false
	}
	return true
}

// checkCoinbase compares the stored coinbase record at height with blk's.
func (c *BlockChecker) checkCoinbase(txn *badger.Txn, ps *problems, height int32, blk *wire.MsgBlock) error {
	stored, ok, err := dbFetch(txn, heightKey(coinbasePrefix, height))
	if err != nil {
		return err
	}
	keeps := c.db.blockMode().keeps(height)
	switch {
	case !keeps && ok:
		ps.add(height, "the index holds a coinbase record where it keeps no full block")
		return nil
	case !keeps:
		return nil
	case !ok:
		ps.add(height, "the index has no coinbase record")
		return nil
	}
	rec, err := analysis.ExtractCoinbase(c.db.params, height, blk)
	if err != nil {
		ps.add(height, "the node's block has no valid coinbase: %v", err)
		return nil
	}
	want, err := serializeCoinbase(&rec)
	if err != nil {
		return err
	}
	if !bytes.Equal(stored, want) {
		ps.add(height, "the coinbase record differs from the node's block: %s", coinbaseDiff(height, stored, &rec))
	}
	return nil
}

// coinbaseDiff names the first field where the stored record differs from
// want.
func coinbaseDiff(height int32, stored []byte, want *analysis.CoinbaseRecord) string {
	got, err := deserializeCoinbase(height, stored)
	if err != nil {
		return err.Error()
	}
	fields := []struct {
		name      string
		got, want any
	}{
		{"txid", got.TxID, want.TxID},
		{"reward", got.Reward, want.Reward},
		{"fees", got.Fees, want.Fees},
		{"transactions", got.TxCount, want.TxCount},
		{"size", got.Size, want.Size},
		{"weight", got.Weight, want.Weight},
		{"scriptSig", fmt.Sprintf("%x", got.ScriptSig), fmt.Sprintf("%x", want.ScriptSig)},
		{"outputs", len(got.Outputs), len(want.Outputs)},
	}
	for _, f := range fields {
		if f.got != f.want {
			return fmt.Sprintf("%s is %v in the index, %v in the block", f.name, f.got, f.want)
		}
	}
	return "an output differs"
}

// checkFlowTxs compares the stored flow transactions at height with blk's
// transactions and returns them by index.
func (c *BlockChecker) checkFlowTxs(txn *badger.Txn, ps *problems, height int32, blk *wire.MsgBlock,
	ids []chainhash.Hash) (map[int32]*FlowTx, error) {

	stored := make(map[int32]*FlowTx)
	opts := badger.DefaultIteratorOptions
	opts.Prefix = heightKey(flowTxPrefix, height)
	it := txn.NewIterator(opts)
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		tx, err := dbReadFlowTx(txn, it.Item())
		if err != nil {
			ps.add(height, "a flow transaction is unreadable: %v", err)
			continue
		}
		if tx.Index <= 0 || int(tx.Index) >= len(blk.Transactions) {
			ps.add(height, "flow transaction %v is stored at index %d, which is no spending transaction of "+
				"the node's block (%d transactions)", tx.TxID, tx.Index, len(blk.Transactions))
			continue
		}
		if why := flowTxDiff(&tx, blk.Transactions[tx.Index], &ids[tx.Index]); why != "" {
			ps.add(height, "flow transaction %v at index %d differs from the node's block: %s", tx.TxID, tx.Index, why)
		}
		stored[tx.Index] = &tx
	}
	return stored, nil
}

// flowTxDiff says how the stored tx differs from msg, whose txid is id, or
// "" when it does not.
func flowTxDiff(tx *FlowTx, msg *wire.MsgTx, id *chainhash.Hash) string {
	switch {
	case tx.TxID != *id:
		return fmt.Sprintf("the block's transaction there is %v", id)
	case len(tx.Inputs) != len(msg.TxIn) || len(tx.Outputs) != len(msg.TxOut):
		return fmt.Sprintf("%d inputs and %d outputs stored, %d and %d in the block",
			len(tx.Inputs), len(tx.Outputs), len(msg.TxIn), len(msg.TxOut))
	}
	for i, in := range msg.TxIn {
		if tx.Inputs[i].PrevOut != in.PreviousOutPoint {
			return fmt.Sprintf("input %d spends %v in the index, %v in the block", i, tx.Inputs[i].PrevOut,
				in.PreviousOutPoint)
		}
	}
	for i, out := range msg.TxOut {
		o := &tx.Outputs[i]
		if int64(o.Value) != out.Value || !bytes.Equal(o.Script, out.PkScript) {
			return fmt.Sprintf("output %d pays %d sat to %x in the index, %d sat to %x in the block", i,
				o.Value, o.Script, out.Value, out.PkScript)
		}
	}
	return ""
}

// checkSpends checks the inputs of blk's transactions against the miner
// outputs the index knows: none may still be unspent, and every spend of an
// output a stored flow transaction made a miner output must be stored.
func (c *BlockChecker) checkSpends(txn *badger.Txn, ps *problems, height int32, blk *wire.MsgBlock,
	stored map[int32]*FlowTx) error {

	for i := 1; i < len(blk.Transactions); i++ {
		for j, in := range blk.Transactions[i].TxIn {
			op := &in.PreviousOutPoint
			if err := c.checkUnspent(txn, ps, height, op); err != nil {
				return err
			}
			if !c.txids.mayHave(txidHash(op.Hash[:])) {
				continue
			}
			made, err := madeMinerOutput(txn, op, height, int32(i))
			if err != nil || made == nil {
				return err
			}
			c.checkMinerInput(ps, height, int32(i), j, stored[int32(i)], made)
		}
	}
	return nil
}

// checkUnspent reports op when the index holds it as an unspent miner
// output although the block spends it.
func (c *BlockChecker) checkUnspent(txn *badger.Txn, ps *problems, height int32, op *wire.OutPoint) error {
	if !c.outputs.mayHave(outpointHash(op)) {
		return nil
	}
	_, ok, err := dbFetch(txn, utxoKey(op))
	if ok {
		ps.add(height, "the node's block spends %v, which the index holds as an unspent miner output", op)
	}
	return err
}

// madeMinerOutput returns the output op as a stored flow transaction made
// it before position (height, index), when it is a miner output; nil
// otherwise.
func madeMinerOutput(txn *badger.Txn, op *wire.OutPoint, height, index int32) (*FlowTxOutput, error) {
	pos, ok, err := dbFetch(txn, txidKey(&op.Hash))
	if err != nil || !ok || len(pos) != 2*heightSize {
		return nil, err
	}
	h, i := int32(binary.BigEndian.Uint32(pos)), int32(binary.BigEndian.Uint32(pos[heightSize:]))
	if cmp.Or(cmp.Compare(h, height), cmp.Compare(i, index)) >= 0 {
		return nil, nil
	}
	item, err := txn.Get(append([]byte{flowTxPrefix}, pos...))
	if err != nil {
		return nil, nil // the invariants report the dangling txid row
	}
	tx, err := dbReadFlowTx(txn, item)
	if err != nil || int(op.Index) >= len(tx.Outputs) {
		return nil, nil
	}
	o := &tx.Outputs[op.Index]
	if o.Level == analysis.NotMiner || o.Value == 0 {
		return nil, nil
	}
	return o, nil
}

// checkMinerInput checks that input j of the transaction at (height, index),
// stored as tx (nil when not stored), spends the miner output made.
func (c *BlockChecker) checkMinerInput(ps *problems, height, index int32, j int, tx *FlowTx, made *FlowTxOutput) {
	if tx == nil {
		ps.add(height, "the transaction at index %d spends a miner output but is not stored", index)
		return
	}
	in := &tx.Inputs[j]
	if in.Level != made.Level || in.Origin != made.Origin || in.Value != made.Value {
		ps.add(height, "input %d of flow transaction %v is stored as level %d, origin %d, %d sat; the output "+
			"it spends is level %d, origin %d, %d sat", j, tx.TxID, in.Level, in.Origin, in.Value,
			made.Level, made.Origin, made.Value)
	}
}

// -----------------------------------------------------------------------------
// Two indexes
// -----------------------------------------------------------------------------

// Diff compares db with want (typically a fresh sync of the same chain) key
// for key, walking both in key order from one snapshot each, and returns
// every key that is missing, extra or different in db, with the height it
// belongs to where the key or value says. Its cost is linear in the size of
// the two indexes and its memory constant.
func (db *DB) Diff(ctx context.Context, want *DB) ([]Problem, error) {
	var ps problems
	err := db.view(func(txn *badger.Txn) error {
		return want.view(func(wtxn *badger.Txn) error {
			return diffTxns(ctx, txn, wtxn, &ps)
		})
	})
	return ps.result(), err
}

// diffTxns walks two snapshots in step.
func diffTxns(ctx context.Context, got, want *badger.Txn, ps *problems) error {
	opts := badger.DefaultIteratorOptions
	opts.PrefetchValues = false
	a, b := got.NewIterator(opts), want.NewIterator(opts)
	defer a.Close()
	defer b.Close()
	a.Rewind()
	b.Rewind()
	for n := 1; a.Valid() || b.Valid(); n++ {
		if n%ctxEvery == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		order := 0
		switch {
		case !a.Valid():
			order = 1
		case !b.Valid():
			order = -1
		default:
			order = bytes.Compare(a.Item().Key(), b.Item().Key())
		}
		var err error
		switch {
		case order < 0:
			err = diffOne(ps, a.Item(), "is not in a fresh sync")
			a.Next()
		case order > 0:
			err = diffOne(ps, b.Item(), "is missing")
			b.Next()
		default:
			err = diffValues(ps, a.Item(), b.Item())
			a.Next()
			b.Next()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// diffValues reports the key of items a and b when their values differ.
func diffValues(ps *problems, a, b *badger.Item) error {
	va, err := a.ValueCopy(nil)
	if err != nil {
		return err
	}
	vb, err := b.ValueCopy(nil)
	if err != nil {
		return err
	}
	if !bytes.Equal(va, vb) {
		ps.add(keyBlockHeight(a.Key(), va), "%s differs from a fresh sync", describeKey(a.Key()))
	}
	return nil
}

// diffOne reports the key of item as extra or missing.
func diffOne(ps *problems, item *badger.Item, how string) error {
	v, err := item.ValueCopy(nil)
	if err != nil {
		return err
	}
	ps.add(keyBlockHeight(item.Key(), v), "%s %s", describeKey(item.Key()), how)
	return nil
}

// describeKey names a key for a problem.
func describeKey(key []byte) string {
	name, ok := keyspaceNames[key[0]]
	if !ok {
		return fmt.Sprintf("key %x", key)
	}
	switch key[0] {
	case metaPrefix:
		return fmt.Sprintf("%s %q", name, key[1:])
	case flowTxPrefix, inputValuesPrefix, needValuesPrefix:
		if _, i, ok := keyTxPos(key); ok {
			return fmt.Sprintf("%s at index %d", name, i)
		}
	case utxoPrefix:
		if op, ok := keyOutpoint(key); ok {
			return fmt.Sprintf("%s %v", name, op)
		}
	case retiredHashPrefix, txidPrefix:
		if len(key) == 1+chainhash.HashSize {
			return fmt.Sprintf("%s %v", name, chainhash.Hash(key[1:]))
		}
	case headerPrefix, undoPrefix, coinbasePrefix, blockFlowsPrefix:
		return name
	}
	return fmt.Sprintf("%s %x", name, key[1:])
}

// keyBlockHeight returns the height of the block a key belongs to, from
// the key or its value val, -1 when neither says.
func keyBlockHeight(key, val []byte) int32 {
	switch key[0] {
	case headerPrefix, undoPrefix, coinbasePrefix, blockFlowsPrefix:
		if len(key) == 1+heightSize {
			return keyHeight(key)
		}
	case flowTxPrefix, inputValuesPrefix, needValuesPrefix:
		if h, _, ok := keyTxPos(key); ok {
			return h
		}
	case retiredHashPrefix, txidPrefix:
		if len(val) >= heightSize {
			return int32(binary.BigEndian.Uint32(val))
		}
	case utxoPrefix:
		if len(val) >= 1+heightSize {
			return int32(binary.BigEndian.Uint32(val[1:])) // its origin
		}
	}
	return -1
}

// -----------------------------------------------------------------------------
// Tests
// -----------------------------------------------------------------------------

// CorruptForTest sets key to val in db, or deletes it when val is nil,
// bypassing every rule of the index. It exists so that tests of other
// packages can damage an index the way a bug or a disk would and see the
// damage found; nothing else may call it.
func CorruptForTest(db *DB, key, val []byte) error {
	_, unlock, err := db.lockWriter()
	if err != nil {
		return err
	}
	defer unlock()
	return db.bdb.Update(func(txn *badger.Txn) error {
		if val == nil {
			return txn.Delete(key)
		}
		return txn.Set(key, val)
	})
}
