package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/dgraph-io/badger/v4"
	"github.com/minerscope/minerscope/analysis"
)

// scriptClassNames are the output types stored as a one-byte code: the name
// at index i has code i+1; code 0 means the name follows in the record. The
// layout is documented in keys.go; changing this list is a schema change.
var scriptClassNames = [...]string{
	"nonstandard",
	"pubkey",
	"pubkeyhash",
	"scripthash",
	"multisig",
	"nulldata",
	"witness_v0_keyhash",
	"witness_v0_scripthash",
	"witness_v1_taproot",
	"witness_unknown",
}

// segwitCommitFlag is the flags bit set when the coinbase carries a BIP141
// witness commitment.
const segwitCommitFlag = 0x01

// scriptClassCode returns the one-byte code of the output type name, 0 when
// it has none.
func scriptClassCode(name string) byte {
	for i, n := range scriptClassNames {
		if n == name {
			return byte(i + 1)
		}
	}
	return 0
}

// Coinbase returns the coinbase record of the block at height, or
// ErrNotFound when the index holds none there (a height below BlocksFrom, a
// headers-only index, or above the tip).
func (db *DB) Coinbase(height int32) (analysis.CoinbaseRecord, error) {
	var rec analysis.CoinbaseRecord
	if height < 0 {
		return rec, fmt.Errorf("coinbase record at height %d: %w", height,
			ErrNotFound)
	}
	err := db.view(func(txn *badger.Txn) error {
		b, ok, err := dbFetch(txn, heightKey(coinbasePrefix, height))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("coinbase record at height %d: %w", height,
				ErrNotFound)
		}
		rec, err = deserializeCoinbase(height, b)
		return err
	})
	return rec, err
}

// Coinbases calls fn with the coinbase record of every block from height
// from to height to, inclusive, in height order, all read from one snapshot
// of the index. Heights without a record (below BlocksFrom, above the tip)
// are skipped. The record is fn's to keep. An error from fn stops the
// iteration and is returned unchanged.
func (db *DB) Coinbases(from, to int32,
	fn func(height int32, rec *analysis.CoinbaseRecord) error) error {

	if from < 0 || to < from {
		return fmt.Errorf("invalid height range %d-%d", from, to)
	}

	return db.view(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte{coinbasePrefix}
		it := txn.NewIterator(opts)
		defer it.Close()

		for it.Seek(heightKey(coinbasePrefix, from)); it.Valid(); it.Next() {
			item := it.Item()
			height := keyHeight(item.Key())
			if height > to {
				break
			}
			var rec analysis.CoinbaseRecord
			err := item.Value(func(val []byte) error {
				var err error
				rec, err = deserializeCoinbase(height, val)
				return err
			})
			if err != nil {
				return err
			}
			if err := fn(height, &rec); err != nil {
				return err
			}
		}
		return nil
	})
}

// dbPutCoinbase writes the serialized coinbase record val of the block being
// written, if any. The key is new, like the header's: nothing is stored
// above the tip (checked at open and kept by undo).
func dbPutCoinbase(w *BlockWriter, val []byte) error {
	if val == nil {
		return nil
	}
	return w.putKnown(heightKey(coinbasePrefix, w.Height()), val, nil, false)
}

// coinbaseValue checks rec as the coinbase record of the block at height on
// network p and returns its serialized value.
func coinbaseValue(p analysis.Params, height int32,
	rec *analysis.CoinbaseRecord) ([]byte, error) {

	if err := checkCoinbase(p, height, rec); err != nil {
		return nil, err
	}
	return serializeCoinbase(rec)
}

// checkCoinbase returns why rec cannot be the coinbase record of the block at
// height on network p: a negative or impossible count or amount, a reward
// that is not the sum of the outputs, a subsidy other than the height's, or
// fees other than max(0, reward - subsidy).
func checkCoinbase(p analysis.Params, height int32, rec *analysis.CoinbaseRecord) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: coinbase record %v at height %d: %s",
			ErrBlockData, rec.TxID, height, fmt.Sprintf(format, args...))
	}

	switch {
	case rec.TxCount < 1:
		return bad("%d transactions", rec.TxCount)
	case rec.Size < 0 || rec.Weight < 0:
		return bad("size %d, weight %d", rec.Size, rec.Weight)
	}

	var sum btcutil.Amount
	for i, out := range rec.Outputs {
		if out.Value < 0 || out.Value > btcutil.MaxSatoshi {
			return bad("output %d has value %d", i, out.Value)
		}
		if sum += out.Value; sum > btcutil.MaxSatoshi {
			return bad("outputs pay more than %d", btcutil.Amount(btcutil.MaxSatoshi))
		}
	}
	if rec.Reward != sum {
		return bad("reward %d is not the sum of the outputs, %d", rec.Reward, sum)
	}
	if want := analysis.Subsidy(p, height); rec.Subsidy != want {
		return bad("subsidy %d, want %d on %s", rec.Subsidy, want, p.Name)
	}
	if want := max(0, rec.Reward-rec.Subsidy); rec.Fees != want {
		return bad("fees %d, want %d", rec.Fees, want)
	}
	return nil
}

// serializeCoinbase returns the coinbase-by-height value of rec. Counts and
// amounts must not be negative.
func serializeCoinbase(rec *analysis.CoinbaseRecord) ([]byte, error) {
	for _, v := range []int64{int64(rec.TxCount), int64(rec.Size),
		int64(rec.Weight), int64(rec.Reward), int64(rec.Subsidy),
		int64(rec.Fees)} {

		if v < 0 {
			return nil, fmt.Errorf("coinbase record %v has a negative "+
				"count or amount, %d", rec.TxID, v)
		}
	}

	size := chainhash.HashSize + 1 + 3*binary.MaxVarintLen32 +
		3*binary.MaxVarintLen64 + 2*binary.MaxVarintLen32 + len(rec.ScriptSig)
	for i := range rec.Outputs {
		out := &rec.Outputs[i]
		size += binary.MaxVarintLen64 + 1 + 3*binary.MaxVarintLen32 +
			len(out.Type) + len(out.Script) + len(out.Address)
	}

	b := make([]byte, 0, size)
	b = append(b, rec.TxID[:]...)
	var flags byte
	if rec.SegwitCommit {
		flags |= segwitCommitFlag
	}
	b = append(b, flags)
	for _, v := range []int64{int64(rec.TxCount), int64(rec.Size),
		int64(rec.Weight), int64(rec.Reward), int64(rec.Subsidy),
		int64(rec.Fees)} {

		b = binary.AppendUvarint(b, uint64(v))
	}
	b = appendBytes(b, rec.ScriptSig)

	b = binary.AppendUvarint(b, uint64(len(rec.Outputs)))
	for i := range rec.Outputs {
		out := &rec.Outputs[i]
		if out.Value < 0 {
			return nil, fmt.Errorf("coinbase record %v: output %d has "+
				"value %d", rec.TxID, i, out.Value)
		}
		b = binary.AppendUvarint(b, uint64(out.Value))
		code := scriptClassCode(out.Type)
		b = append(b, code)
		if code == 0 {
			b = appendBytes(b, []byte(out.Type))
		}
		b = appendBytes(b, out.Script)
		b = appendBytes(b, []byte(out.Address))
	}
	return b, nil
}

// appendBytes appends the uvarint length of v and v.
func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// errCoinbaseLayout is the reason inside ErrCorrupt for a coinbase value
// that does not follow the layout.
var errCoinbaseLayout = errors.New("bad layout")

// deserializeCoinbase decodes the coinbase-by-height value b of height. The
// record shares no memory with b.
func deserializeCoinbase(height int32, b []byte) (analysis.CoinbaseRecord, error) {
	rec, err := decodeCoinbase(&valueReader{b: b})
	if err != nil {
		return analysis.CoinbaseRecord{}, fmt.Errorf("%w: coinbase record "+
			"at height %d: %v", ErrCorrupt, height, err)
	}
	return rec, nil
}

// decodeCoinbase reads a whole coinbase record from r.
func decodeCoinbase(r *valueReader) (analysis.CoinbaseRecord, error) {
	var rec analysis.CoinbaseRecord
	if len(r.b) < chainhash.HashSize+1 {
		return rec, fmt.Errorf("%w: %d bytes", errCoinbaseLayout, len(r.b))
	}
	copy(rec.TxID[:], r.b)
	flags := r.b[chainhash.HashSize]
	if flags&^segwitCommitFlag != 0 {
		return rec, fmt.Errorf("%w: flags %#x", errCoinbaseLayout, flags)
	}
	rec.SegwitCommit = flags&segwitCommitFlag != 0
	r.b = r.b[chainhash.HashSize+1:]

	counts := []*int32{&rec.TxCount, &rec.Size, &rec.Weight}
	for _, c := range counts {
		v, ok := r.uvarint()
		if !ok || v > math.MaxInt32 {
			return rec, fmt.Errorf("%w: bad count", errCoinbaseLayout)
		}
		*c = int32(v)
	}
	for _, a := range []*btcutil.Amount{&rec.Reward, &rec.Subsidy, &rec.Fees} {
		var ok bool
		if *a, ok = readAmount(r); !ok {
			return rec, fmt.Errorf("%w: bad amount", errCoinbaseLayout)
		}
	}

	var ok bool
	if rec.ScriptSig, ok = readBytes(r); !ok {
		return rec, fmt.Errorf("%w: bad scriptSig", errCoinbaseLayout)
	}
	outputs, err := decodeOutputs(r)
	if err != nil {
		return rec, err
	}
	rec.Outputs = outputs
	if len(r.b) != 0 {
		return rec, fmt.Errorf("%w: %d trailing bytes", errCoinbaseLayout,
			len(r.b))
	}
	return rec, nil
}

// decodeOutputs reads the output count and the outputs; none decodes as nil.
func decodeOutputs(r *valueReader) ([]analysis.CoinbaseOutput, error) {
	// Each output takes at least 4 bytes, which bounds the allocation.
	n, ok := r.uvarint()
	if !ok || n > uint64(len(r.b)/4) {
		return nil, fmt.Errorf("%w: bad output count", errCoinbaseLayout)
	}
	if n == 0 {
		return nil, nil
	}

	outs := make([]analysis.CoinbaseOutput, n)
	for i := range outs {
		if err := decodeOutput(r, &outs[i]); err != nil {
			return nil, fmt.Errorf("output %d: %w", i, err)
		}
	}
	return outs, nil
}

// decodeOutput reads one output into out.
func decodeOutput(r *valueReader, out *analysis.CoinbaseOutput) error {
	var ok bool
	if out.Value, ok = readAmount(r); !ok {
		return fmt.Errorf("%w: bad value", errCoinbaseLayout)
	}

	code, ok := r.byte()
	switch {
	case !ok || int(code) > len(scriptClassNames):
		return fmt.Errorf("%w: bad type code", errCoinbaseLayout)
	case code > 0:
		out.Type = scriptClassNames[code-1]
	default:
		name, ok := readBytes(r)
		if !ok {
			return fmt.Errorf("%w: bad type name", errCoinbaseLayout)
		}
		out.Type = string(name)
	}

	if out.Script, ok = readBytes(r); !ok {
		return fmt.Errorf("%w: bad script", errCoinbaseLayout)
	}
	addr, ok := readBytes(r)
	if !ok {
		return fmt.Errorf("%w: bad address", errCoinbaseLayout)
	}
	out.Address = string(addr)
	return nil
}

// readAmount reads a uvarint amount of at most btcutil.MaxSatoshi.
func readAmount(r *valueReader) (btcutil.Amount, bool) {
	v, ok := r.uvarint()
	if !ok || v > btcutil.MaxSatoshi {
		return 0, false
	}
	return btcutil.Amount(v), true
}

// readBytes reads a length-prefixed byte string, copied; empty is nil.
func readBytes(r *valueReader) ([]byte, bool) {
	v, ok := r.bytes()
	if len(v) == 0 {
		v = nil
	}
	return v, ok
}
