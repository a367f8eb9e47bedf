package index

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"

	"github.com/btcsuite/btcd/wire"
	"github.com/dgraph-io/badger/v4"
)

// workingSet is the in-memory part of the miner-flow state: for every miner
// script and every unspent miner output in Badger, a 64-bit hash. It answers
// "certainly not a miner script / output" without touching Badger, which is
// the answer for almost every output and input of a block; a hit is checked
// against Badger, the only authority, so a collision or a stale entry costs a
// read and nothing else. Entries are only ever added (a spent output or a
// disconnected script stays until the index is reopened), so a connect that
// Badger refuses and retries, or a reorg, can never leave out a key that
// exists. Its memory is about 11 bytes per tracked script or output
// (README, "Memory").
type workingSet struct {
	seed    maphash.Seed
	scripts map[uint64]struct{}
	outputs map[uint64]struct{}
	loaded  bool
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
	_, ok := s.scripts[s.scriptHash(script)]
	return ok
}

func (s *workingSet) mayHaveOutput(op *wire.OutPoint) bool {
	_, ok := s.outputs[outpointHash(op)]
	return ok
}

func (s *workingSet) addScript(script []byte) {
	s.scripts[s.scriptHash(script)] = struct{}{}
}

func (s *workingSet) addOutput(op *wire.OutPoint) {
	s.outputs[outpointHash(op)] = struct{}{}
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
	s.scripts = make(map[uint64]struct{})
	s.outputs = make(map[uint64]struct{})
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
