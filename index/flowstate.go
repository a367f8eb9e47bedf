package index

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"slices"

	"github.com/btcsuite/btcd/wire"
	"github.com/dgraph-io/badger/v4"
)

// workingSet is the in-memory part of the miner-flow state: a blocked Bloom
// filter over the 64-bit hashes of every miner script and every unspent
// miner output in Badger. It answers "certainly not a miner script / output"
// without touching Badger, which is the answer for almost every output and
// input of a block, from a few megabytes that stay in the processor's cache;
// a hit is checked against Badger, the only authority, so a false positive,
// a collision or a stale entry costs a read and nothing else. Entries are
// only ever added (a spent output or a disconnected script stays until the
// index is reopened), so a connect that Badger refuses and retries, or a
// reorg, can never leave out a key that exists. Its memory is about 11 bytes
// per tracked script or output (README, "Memory").
type workingSet struct {
	seed    maphash.Seed
	scripts bloom
	outputs bloom
	loaded  bool

	// recent holds what the block being connected added, so that the
	// screen taken at its start (screen) stays exact for its later
	// transactions; cleared by screen.
	recent recentSet

	// Buffers of screen, kept between blocks.
	hashes []uint64
	owner  []int32
	first  []int32
	maybe  []bool
	sink   uint64 // keeps screen's loads from being optimized away
}

// scriptHash is the working-set hash of an output script.
func (s *workingSet) scriptHash(script []byte) uint64 {
	return maphash.Bytes(s.seed, script)
}

// outpointHash is the working-set hash of an outpoint. Txids are uniformly
// distributed, so their first eight bytes mixed with the index suffice.
func outpointHash(op *wire.OutPoint) uint64 {
	return binary.LittleEndian.Uint64(op.Hash[:8]) ^ uint64(op.Index)*0x9e3779b97f4a7c15
}

func (s *workingSet) mayHaveScript(script []byte) bool {
	return s.scripts.mayHave(s.scriptHash(script))
}

func (s *workingSet) mayHaveOutput(op *wire.OutPoint) bool {
	return s.outputs.mayHave(outpointHash(op))
}

func (s *workingSet) addScript(script []byte) {
	h := s.scriptHash(script)
	s.scripts.add(h)
	s.recent.add(h)
}

func (s *workingSet) addOutput(op *wire.OutPoint) {
	h := outpointHash(op)
	s.outputs.add(h)
	s.recent.add(h)
}

// screen decides, for each transaction of blk after the coinbase, whether it
// may spend a miner output or pay a miner script as the set stands before
// the block, and forgets what earlier blocks added to recent. It probes
// every input and output of the block in one pass, loading the filter's
// cache lines a run at a time so that their misses overlap, where probing
// transaction by transaction waited for each miss in turn; the connect then
// skips the transactions it clears without looking at them again. At
// today's 3,000 transactions a block (BenchmarkSyntheticFlows) this cut
// the flow writer's CPU by about a fifth. mayTouch combines its answer
// with what the block added since.
func (s *workingSet) screen(blk *wire.MsgBlock) {
	txs := blk.Transactions
	s.recent.reset()
	s.hashes, s.owner = s.hashes[:0], s.owner[:0]
	s.first = append(s.first[:0], 0)
	s.maybe = slices.Grow(s.maybe[:0], len(txs))[:len(txs)]
	clear(s.maybe)
	// Inputs first, then outputs, of each transaction: first[i] is where
	// transaction i's hashes start, and they end where i+1's start.
	for i, tx := range txs {
		if i > 0 {
			for _, in := range tx.TxIn {
				s.hashes = append(s.hashes, outpointHash(&in.PreviousOutPoint))
				s.owner = append(s.owner, int32(i))
			}
			for _, out := range tx.TxOut {
				s.hashes = append(s.hashes, s.scriptHash(out.PkScript))
				s.owner = append(s.owner, -int32(i)-1) // negative: an output of transaction i
			}
		}
		s.first = append(s.first, int32(len(s.hashes)))
	}
	const run = 256 // probes whose cache lines are requested together
	for lo := 0; lo < len(s.hashes); lo += run {
		hi := min(lo+run, len(s.hashes))
		hs, owner := s.hashes[lo:hi], s.owner[lo:hi]
		var sum uint64
		for j, h := range hs {
			if owner[j] >= 0 {
				sum += s.outputs.firstWord(h)
			} else {
				sum += s.scripts.firstWord(h)
			}
		}
		s.sink += sum
		for j, h := range hs {
			if o := owner[j]; o >= 0 {
				if !s.maybe[o] && s.outputs.mayHave(h) {
					s.maybe[o] = true
				}
			} else if o = -o - 1; !s.maybe[o] && s.scripts.mayHave(h) {
				s.maybe[o] = true
			}
		}
	}
}

// mayTouch reports whether transaction i of the block last screened may
// spend a miner output or pay a miner script: it did before the block, or
// one of its outpoints or scripts may have been added by the block since.
func (s *workingSet) mayTouch(i int) bool {
	if s.maybe[i] {
		return true
	}
	if s.recent.empty() {
		return false
	}
	for _, h := range s.hashes[s.first[i]:s.first[i+1]] {
		if s.recent.mayHave(h) {
			return true
		}
	}
	return false
}

// recentSet is a small Bloom filter (two bits per entry in 64 Kbit, 8 KB:
// it stays in the first-level cache) over the hashes one block added.
// Wrong only towards "maybe", which sends a transaction down the exact
// path; a block that adds thousands of entries just screens less.
type recentSet struct {
	bits [1024]uint64
	n    int
}

func (r *recentSet) add(h uint64) {
	a, b := h&0xffff, (h>>16)&0xffff
	r.bits[a>>6] |= 1 << (a & 63)
	r.bits[b>>6] |= 1 << (b & 63)
	r.n++
}

func (r *recentSet) mayHave(h uint64) bool {
	a, b := h&0xffff, (h>>16)&0xffff
	return r.bits[a>>6]&(1<<(a&63)) != 0 && r.bits[b>>6]&(1<<(b&63)) != 0
}

func (r *recentSet) empty() bool { return r.n == 0 }

func (r *recentSet) reset() {
	if r.n > 0 {
		clear(r.bits[:])
		r.n = 0
	}
}

// bloom is a blocked Bloom filter over 64-bit hashes: each hash sets bloomK
// bits inside one 512-bit block (one cache line), at bloomBits bits per
// entry, so a lookup reads one cache line and, full, is wrong about 1 time
// in 2,000 (half as often at the usual half load).
// It keeps the hashes themselves so that it can double and rebuild when it
// fills. The zero value is an empty filter.
type bloom struct {
	blocks []bloomBlock
	hashes []uint64
}

type bloomBlock [8]uint64

const (
	bloomBits    = 20 // bits per entry at capacity
	bloomK       = 7  // bits set per entry: 7 × 9 bits of one mixed hash
	bloomMinSize = 1 << 16
)

// bloomBlockOf returns the block of h and the mixed hash whose 9-bit groups
// are the positions of its bits in that block.
func (f *bloom) bloomBlockOf(h uint64) (*bloomBlock, uint64) {
	return &f.blocks[(h>>32)*uint64(len(f.blocks))>>32], h * 0xc4ceb9fe1a85ec53
}

// mayHave reports whether h may have been added.
func (f *bloom) mayHave(h uint64) bool {
	if len(f.blocks) == 0 {
		return false
	}
	b, x := f.bloomBlockOf(h)
	for range bloomK {
		bit := x & 511
		if b[bit>>6]&(1<<(bit&63)) == 0 {
			return false
		}
		x >>= 9
	}
	return true
}

// firstWord returns the first word of h's block: screen loads the blocks
// of a run of hashes this way, in a loop whose loads do not wait for one
// another, so that the probes that follow find them in the cache.
func (f *bloom) firstWord(h uint64) uint64 {
	if len(f.blocks) == 0 {
		return 0
	}
	return f.blocks[(h>>32)*uint64(len(f.blocks))>>32][0]
}

// add adds h, growing the filter when it is full.
func (f *bloom) add(h uint64) {
	f.hashes = append(f.hashes, h)
	if len(f.hashes)*bloomBits > len(f.blocks)*512 {
		f.rebuild(max(2*len(f.hashes), bloomMinSize))
		return
	}
	f.set(h)
}

func (f *bloom) set(h uint64) {
	b, x := f.bloomBlockOf(h)
	for range bloomK {
		bit := x & 511
		b[bit>>6] |= 1 << (bit & 63)
		x >>= 9
	}
}

// rebuild sizes the filter for capacity entries and sets every hash again.
func (f *bloom) rebuild(capacity int) {
	f.blocks = make([]bloomBlock, (capacity*bloomBits+511)/512)
	for _, h := range f.hashes {
		f.set(h)
	}
}

// size returns the filter's memory in bytes.
func (f *bloom) size() int {
	return len(f.blocks)*64 + cap(f.hashes)*8
}

// addKey adds a miner-script or miner-output key restored by a disconnect.
func (s *workingSet) addKey(key []byte) {
	if !s.loaded || len(key) == 0 {
		return
	}
	switch key[0] {
	case scriptPrefix:
		s.addScript(key[1:])
	case utxoPrefix:
		if op, ok := keyOutpoint(key); ok {
			s.addOutput(&op)
		}
	}
}

// load fills the working set from Badger's keys, once per open index.
func (s *workingSet) load(bdb *badger.DB) error {
	if s.loaded {
		return nil
	}
	s.seed = maphash.MakeSeed()
	s.scripts, s.outputs = bloom{}, bloom{}
	err := bdb.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		for _, prefix := range []byte{scriptPrefix, utxoPrefix} {
			opts.Prefix = []byte{prefix}
			it := txn.NewIterator(opts)
			for it.Rewind(); it.Valid(); it.Next() {
				key := it.Item().Key()
				if prefix == scriptPrefix {
					s.addScript(key[1:])
					continue
				}
				op, ok := keyOutpoint(key)
				if !ok {
					it.Close()
					return fmt.Errorf("%w: miner output key %x", ErrCorrupt, key)
				}
				s.addOutput(&op)
			}
			it.Close()
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load the miner working set: %w", err)
	}
	s.loaded = true
	return nil
}
