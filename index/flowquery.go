package index

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/dgraph-io/badger/v4"
)

// BlockFlows returns the flow totals of the blocks [from, to], in height
// order. Heights without full block data have no totals and are skipped.
func (db *DB) BlockFlows(from, to int32) ([]BlockFlows, error) {
	var out []BlockFlows
	if to >= from {
		out = make([]BlockFlows, 0, min(int(to-from)+1, 1<<20))
	}
	err := db.scanHeights(blockFlowsPrefix, from, to, func(height int32, v []byte) error {
		f, err := deserializeBlockFlows(height, v)
		if err == nil {
			out = append(out, f)
		}
		return err
	})
	return out, err
}

// FlowTxs calls fn with every transaction spending a miner output in the
// blocks [from, to], in chain order, with the input values the node gave.
func (db *DB) FlowTxs(from, to int32, fn func(*FlowTx) error) error {
	return db.view(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Prefix = []byte{flowTxPrefix}
		it := txn.NewIterator(opts)
		defer it.Close()
		end := heightKey(flowTxPrefix, to)
		for it.Seek(heightKey(flowTxPrefix, from)); it.Valid(); it.Next() {
			item := it.Item()
			key := item.Key()
			if string(key[:1+heightSize]) > string(end) {
				break
			}
			tx, err := dbReadFlowTx(txn, item)
			if err != nil {
				return err
			}
			if err := fn(&tx); err != nil {
				return err
			}
		}
		return nil
	})
}

// FlowTx returns the flow transaction with txid, or ErrNotFound when no
// indexed transaction with that id spends a miner output.
func (db *DB) FlowTx(txid chainhash.Hash) (FlowTx, error) {
	var tx FlowTx
	err := db.view(func(txn *badger.Txn) error {
		pos, ok, err := dbFetch(txn, txidKey(&txid))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: no indexed transaction %v spends a miner output", ErrNotFound, txid)
		}
		if len(pos) != 2*heightSize {
			return fmt.Errorf("%w: txid record of %v", ErrCorrupt, txid)
		}
		item, err := txn.Get(append([]byte{flowTxPrefix}, pos...))
		if err != nil {
			return fmt.Errorf("%w: transaction %v has a txid record but no flow record: %v",
				ErrCorrupt, txid, err)
		}
		tx, err = dbReadFlowTx(txn, item)
		return err
	})
	return tx, err
}

// dbReadFlowTx decodes a flow transaction record and adds its input values.
func dbReadFlowTx(txn *badger.Txn, item *badger.Item) (FlowTx, error) {
	height, index, ok := keyTxPos(item.Key())
	if !ok {
		return FlowTx{}, fmt.Errorf("%w: flow transaction key %x", ErrCorrupt, item.Key())
	}
	var tx FlowTx
	err := item.Value(func(v []byte) error {
		var err error
		tx, err = deserializeFlowTx(height, index, v)
		return err
	})
	if err != nil {
		return tx, err
	}
	if tx.FeeKnown() {
		return tx, nil
	}
	b, ok, err := dbFetch(txn, txPosKey(inputValuesPrefix, height, index))
	if err != nil || !ok {
		return tx, err
	}
	vs, ok := deserializeValues(b)
	if !ok {
		return tx, fmt.Errorf("%w: input values of %v", ErrCorrupt, tx.TxID)
	}
	return tx, fillValues(&tx, vs)
}

// fillValues sets the unknown input values of tx to vs, in input order.
func fillValues(tx *FlowTx, vs []btcutil.Amount) error {
	n := 0
	for i := range tx.Inputs {
		if !tx.Inputs[i].Known {
			n++
		}
	}
	if n != len(vs) {
		return fmt.Errorf("%w: transaction %v has %d inputs of unknown value, %d values given",
			ErrBlockData, tx.TxID, n, len(vs))
	}
	var in, out btcutil.Amount
	j := 0
	for i := range tx.Inputs {
		e := &tx.Inputs[i]
		if !e.Known {
			e.Value, e.Known = vs[j], true
			j++
		}
		in += e.Value
	}
	for _, o := range tx.Outputs {
		out += o.Value
	}
	if in < out {
		return fmt.Errorf("%w: transaction %v: inputs %d sat < outputs %d sat with the values given",
			ErrBlockData, tx.TxID, in, out)
	}
	return nil
}

// InputRef names a non-miner input whose value the index lacks.
type InputRef struct {
	Height, Index int32
	TxID          chainhash.Hash
	PrevOuts      []wire.OutPoint // the inputs of unknown value, in order
}

// MissingInputValues returns up to limit flow transactions whose non-miner
// input values are not known yet, lowest first.
func (db *DB) MissingInputValues(limit int) ([]InputRef, error) {
	var refs []InputRef
	err := db.view(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Prefix = []byte{needValuesPrefix}
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid() && len(refs) < limit; it.Next() {
			height, index, ok := keyTxPos(it.Item().Key())
			if !ok {
				return fmt.Errorf("%w: values-wanted key %x", ErrCorrupt, it.Item().Key())
			}
			item, err := txn.Get(txPosKey(flowTxPrefix, height, index))
			if err != nil {
				return fmt.Errorf("%w: values wanted for a missing flow transaction at %d/%d: %v",
					ErrCorrupt, height, index, err)
			}
			tx, err := dbReadFlowTx(txn, item)
			if err != nil {
				return err
			}
			ref := InputRef{Height: height, Index: index, TxID: tx.TxID}
			for _, in := range tx.Inputs {
				if !in.Known {
					ref.PrevOuts = append(ref.PrevOuts, in.PrevOut)
				}
			}
			refs = append(refs, ref)
		}
		return nil
	})
	return refs, err
}

// MissingInputValuesCount returns the number of flow transactions whose
// non-miner input values are not known yet.
func (db *DB) MissingInputValuesCount() (int, error) {
	n := 0
	err := db.view(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Prefix = []byte{needValuesPrefix}
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	return n, err
}

// SetInputValues records the values of the non-miner inputs of the flow
// transaction txid at height/index, in input order, as the node gave them.
// It fails with ErrNotFound if that transaction is no longer indexed there
// (a reorg removed it) and with ErrBlockData if the values do not fit it.
func (db *DB) SetInputValues(height, index int32, txid chainhash.Hash, vs []btcutil.Amount) error {
	ref := InputRef{Height: height, Index: index, TxID: txid}
	return db.SetInputValuesOf([]InputRef{ref}, [][]btcutil.Amount{vs})
}

// SetInputValuesOf is SetInputValues for refs[i] and values[i], in one
// transaction: all are recorded or, on the first that fails, none.
func (db *DB) SetInputValuesOf(refs []InputRef, values [][]btcutil.Amount) error {
	if len(refs) != len(values) {
		return fmt.Errorf("%w: %d flow transactions and %d lists of input values", ErrBlockData,
			len(refs), len(values))
	}
	_, unlock, err := db.lockWriter()
	if err != nil {
		return err
	}
	defer unlock()
	return db.bdb.Update(func(txn *badger.Txn) error {
		for i, ref := range refs {
			if err := dbSetInputValues(txn, ref.Height, ref.Index, ref.TxID, values[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// dbSetInputValues is SetInputValues inside txn.
func dbSetInputValues(txn *badger.Txn, height, index int32, txid chainhash.Hash, vs []btcutil.Amount) error {
	item, err := txn.Get(txPosKey(flowTxPrefix, height, index))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return fmt.Errorf("%w: no flow transaction at height %d index %d", ErrNotFound, height, index)
	}
	if err != nil {
		return err
	}
	tx, err := dbReadFlowTx(txn, item)
	if err != nil {
		return err
	}
	if tx.TxID != txid {
		return fmt.Errorf("%w: the flow transaction at height %d index %d is %v, not %v",
			ErrNotFound, height, index, tx.TxID, txid)
	}
	if tx.FeeKnown() {
		return nil
	}
	if err := fillValues(&tx, vs); err != nil {
		return err
	}
	if err := txn.Set(txPosKey(inputValuesPrefix, height, index), serializeValues(vs)); err != nil {
		return err
	}
	return txn.Delete(txPosKey(needValuesPrefix, height, index))
}

// MinerOutputs calls fn with every unspent miner output, in outpoint order.
func (db *DB) MinerOutputs(fn func(*MinerOutput) error) error {
	return db.view(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Prefix = []byte{utxoPrefix}
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			op, ok := keyOutpoint(item.Key())
			if !ok {
				return fmt.Errorf("%w: miner output key %x", ErrCorrupt, item.Key())
			}
			var u MinerOutput
			err := item.Value(func(v []byte) error {
				var err error
				u, err = deserializeUTXO(op, v)
				return err
			})
			if err != nil {
				return err
			}
			if err := fn(&u); err != nil {
				return err
			}
		}
		return nil
	})
}

// MinerScriptOf returns the miner-script record of script, or ErrNotFound.
func (db *DB) MinerScriptOf(script []byte) (MinerScript, error) {
	var s MinerScript
	err := db.view(func(txn *badger.Txn) error {
		b, ok, err := dbFetch(txn, scriptKey(script))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: script %x is no miner script", ErrNotFound, script)
		}
		s, err = deserializeScript(script, b)
		return err
	})
	return s, err
}

// MinerScriptCount returns the number of scripts in the level-1 set and,
// of those, in the level-0 set.
func (db *DB) MinerScriptCount() (level1, level0 int, err error) {
	err = db.view(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte{scriptPrefix}
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			level1++
			err := it.Item().Value(func(v []byte) error {
				if len(v) > 0 && v[0] == 0 {
					level0++
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return level1, level0, err
}

// scanHeights calls fn with the value of every key of a by-height keyspace
// in [from, to].
func (db *DB) scanHeights(prefix byte, from, to int32, fn func(int32, []byte) error) error {
	return db.view(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false // values are small and in the LSM tree
		opts.Prefix = []byte{prefix}
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Seek(heightKey(prefix, from)); it.Valid(); it.Next() {
			item := it.Item()
			h := int32(binary.BigEndian.Uint32(item.Key()[1:]))
			if h > to {
				break
			}
			if err := item.Value(func(v []byte) error { return fn(h, v) }); err != nil {
				return err
			}
		}
		return nil
	})
}

// FlowStats summarises the miner-flow keyspaces.
type FlowStats struct {
	Scripts       [2]int            // miner scripts whose level is 0, 1
	Outputs       [2]int            // unspent miner outputs whose level is 0, 1
	Value         [2]btcutil.Amount // their value
	FlowTxs       int               // transactions spending a miner output
	MissingValues int               // of those, how many still lack non-miner input values
}

// FlowStats counts the miner scripts, unspent miner outputs (with their
// value) and flow transactions. The reserve at the tip at level L is the
// value of the outputs of level <= L.
func (db *DB) FlowStats() (FlowStats, error) {
	var st FlowStats
	err := db.view(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		count := func(prefix byte, fn func(*badger.Item) error) error {
			opts.Prefix = []byte{prefix}
			it := txn.NewIterator(opts)
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				if err := fn(it.Item()); err != nil {
					return err
				}
			}
			return nil
		}
		err := count(scriptPrefix, func(item *badger.Item) error {
			return item.Value(func(v []byte) error {
				if len(v) == 0 || v[0] > 1 {
					return fmt.Errorf("%w: miner script record %x", ErrCorrupt, v)
				}
				st.Scripts[v[0]]++
				return nil
			})
		})
		if err != nil {
			return err
		}
		err = count(utxoPrefix, func(item *badger.Item) error {
			op, ok := keyOutpoint(item.Key())
			if !ok {
				return fmt.Errorf("%w: miner output key %x", ErrCorrupt, item.Key())
			}
			return item.Value(func(v []byte) error {
				u, err := deserializeUTXO(op, v)
				if err == nil {
					st.Outputs[u.Level]++
					st.Value[u.Level] += u.Value
				}
				return err
			})
		})
		if err != nil {
			return err
		}
		if err := count(flowTxPrefix, func(*badger.Item) error { st.FlowTxs++; return nil }); err != nil {
			return err
		}
		return count(needValuesPrefix, func(*badger.Item) error { st.MissingValues++; return nil })
	})
	return st, err
}
