package index

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/big"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
)

// -----------------------------------------------------------------------------
// The index is one Badger keyspace per record type. Every key starts with a
// one-byte prefix naming its keyspace. Heights are stored as big-endian uint32
// so that Badger's byte-ordered iteration follows the chain. Hashes are stored
// in chainhash.Hash (internal, little-endian) byte order.
//
// Meta records (prefix 0x01) hold single values about the index itself:
//
//   <0x01><name> = <value>
//
//   Key                 Value                                     Size
//   0x01 "schema"       schema version, uint32 big-endian         4 bytes
//   0x01 "network"      genesis hash (32) + network name (ASCII)  33-64 bytes
//   0x01 "tip"          tip height uint32 BE (4) + tip hash (32)  36 bytes
//   0x01 "blocks_from"  first height kept in full, uint32 BE      4 bytes
//                       (schema 2)
//
// The tip record is absent exactly when the index holds no headers. The
// blocks_from record is absent for a headers-only index (every schema 1
// index, and a new index until SetBlocksFrom asks for full blocks); when
// present, every connected block at a height >= it has a coinbase record and
// no block below it has one.
//
// Header by height (prefix 0x02):
//
//   <0x02><height> = <header><hash><chainwork>
//
//   Field           Type              Size
//   prefix          byte              1 byte
//   height          uint32 BE         4 bytes
//   -----
//   Key total: 5 bytes
//
//   Field           Type              Size
//   header          wire.BlockHeader  80 bytes (wire serialization)
//   hash            chainhash.Hash    32 bytes
//   chainwork       uint256 BE        32 bytes (cumulative work 0..height)
//   -----
//   Value total: 144 bytes
//
// Prefix 0x03 is retired. Schemas 1 to 3 kept a height-by-hash row per
// block, <0x03><hash> = <height uint32 BE>, which no command read. Its random
// key cost about a fifth of the index's CPU per 2009 block, so schema 4
// dropped it: upgrading deletes the rows. Undo records written before still
// name each block's row, as an entry "absent before" right after the header
// row's; disconnecting such a block deletes a key that is no longer there.
// The prefix must stay unused: those entries would delete whatever a new
// keyspace kept under it.
//
// Undo by height (prefix 0x04): everything needed to disconnect the block at
// height, written in the same transaction as the block's rows.
//
//   <0x04><height> = <count><entry>...
//
//   Field           Type              Size
//   prefix          byte              1 byte
//   height          uint32 BE         4 bytes
//   -----
//   Key total: 5 bytes
//
//   Field           Type              Size
//   count           uvarint           1-5 bytes (number of entries)
//   entries         see below         variable
//
//   Each entry, in the order the keys were first written by the block:
//
//   Field           Type              Size
//   key length      uvarint           1-5 bytes
//   key             bytes             key length
//   had value       byte              1 byte (0: key was absent, 1: present)
//   value length    uvarint           1-5 bytes, only when had value = 1
//   value           bytes             value length, only when had value = 1
//
// Disconnecting replays the entries: a key that was absent is deleted, a key
// that was present gets its previous value back. The tip record is one of the
// keys, so replaying the undo record also moves the tip back. For a header-only
// block the undo value is 1 + 2 entries (header key: absent; tip key: previous
// tip or absent), 51 bytes; a full block adds an entry for its coinbase
// record, its block flow totals and every miner script, miner output, flow
// transaction and marker it writes or deletes (a 2009 block with only a
// coinbase: 6 entries).
//
// Coinbase record by height (prefix 0x05, schema 2): what the index keeps of a
// block besides its header, an analysis.CoinbaseRecord. Written only for
// heights >= blocks_from, through the block's BlockWriter, so it is undone
// with the block.
//
//   <0x05><height> = <txid><flags><counts><amounts><scriptSig><outputs>
//
//   Field           Type              Size
//   prefix          byte              1 byte
//   height          uint32 BE         4 bytes
//   -----
//   Key total: 5 bytes
//
//   Field           Type              Size
//   txid            chainhash.Hash    32 bytes (coinbase transaction id)
//   flags           byte              1 byte (bit 0: BIP141 witness
//                                     commitment present; other bits 0)
//   tx count        uvarint           1-5 bytes (transactions in the block)
//   size            uvarint           1-5 bytes (serialized block bytes)
//   weight          uvarint           1-5 bytes (block weight, WU)
//   reward          uvarint           1-8 bytes (satoshis, sum of outputs)
//   subsidy         uvarint           1-8 bytes (satoshis)
//   fees            uvarint           1-8 bytes (satoshis, max(0, reward -
//                                     subsidy))
//   scriptSig len   uvarint           1-5 bytes
//   scriptSig       bytes             scriptSig len (raw coinbase input
//                                     script)
//   output count    uvarint           1-5 bytes
//   outputs         see below         variable
//   -----
//   Value total: at least 41 bytes + scriptSig + outputs
//
//   Each output, in transaction order:
//
//   Field           Type              Size
//   value           uvarint           1-8 bytes (satoshis)
//   type            byte              1 byte (script class code, below)
//   type name len   uvarint           1-5 bytes, only when type = 0
//   type name       ASCII             type name len, only when type = 0
//   script len      uvarint           1-5 bytes
//   script          bytes             script len (raw pkScript)
//   address len     uvarint           1-5 bytes
//   address         ASCII             address len ("" when the script has
//                                     no single address)
//   -----
//   Output total: at least 4 bytes + type name + script + address
//
//   Script class codes (txscript.ScriptClass names; the codes are ours, not
//   btcd's enum values, and changing them is a schema change):
//
//   Code  Type name               Code  Type name
//   0     named in the record     6     nulldata
//   1     nonstandard             7     witness_v0_keyhash
//   2     pubkey                  8     witness_v0_scripthash
//   3     pubkeyhash              9     witness_v1_taproot
//   4     scripthash              10    witness_unknown
//   5     multisig
//
// The tag text of the scriptSig (analysis.CoinbaseTag) is derived when read,
// not stored. Empty byte strings decode as nil. A mainnet coinbase of 2009
// (one P2PK output) takes about 170 bytes; one of 2025 (100-byte scriptSig, a
// P2WPKH payout, the witness commitment and two other OP_RETURN outputs)
// about 370.
//
// Miner flows (schema 3) are written by each full block's BlockWriter, so
// they have undo entries like every other row. Definitions: analysis
// (ClassifyTx) and the README. Heights below are uint32 BE, 0xffffffff for
// "none"; levels a byte, 0 or 1, 0xff for "not a miner output/script".
//
// Miner script (prefix 0x06): one per script in the level-1 set (which
// includes the level-0 set), keyed by the script's exact bytes.
//
//   <0x06><script> = <level><since0><since1><origin0><origin1>
//
//   Field           Type              Size
//   level           byte              1 byte (0: level-0 script, 1: only
//                                     in the level-1 set)
//   since0, since1  height            4 + 4 bytes (first height in each set)
//   origin0         height            4 bytes (first coinbase paying it)
//   origin1         height            4 bytes (origin of the transaction
//                                     that made it level 1)
//   -----
//   Value total: 17 bytes
//
// Unspent miner output (prefix 0x07):
//
//   <0x07><txid><vout> = <level><origin><value><script>
//
//   Key: prefix 1 + txid 32 + vout uint32 BE 4 = 37 bytes.
//   Value: level 1, origin height 4, value uvarint 1-8, script length
//   uvarint + script bytes.
//
// Flow transaction (prefix 0x08): a transaction that spends a miner output
// (level 1, which includes level 0), keyed by its position.
//
//   <0x08><height><index> = <txid><inputs><outputs>
//
//   Key: prefix 1 + height 4 + index in block uint32 BE 4 = 9 bytes.
//   Value: txid 32; input count uvarint, then per input: previous txid 32,
//   previous vout uvarint, level byte, and for a miner output its origin
//   (4) and value (uvarint); output count uvarint, then per output: value
//   uvarint, level byte, origin (4, only for a miner script), script
//   length uvarint + script bytes. Values of non-miner inputs are not in
//   the block: see 0x0b.
//
// Block flows (prefix 0x09): every full block's totals at levels 0 and 1.
//
//   <0x09><height> = <time><revenue><level 0 totals><level 1 totals>
//
//   time is the header timestamp (uint32 BE, 4 bytes), revenue the sum of the
//   coinbase outputs (uvarint), both repeated here so that a series reads
//   this keyspace alone. Each level's totals: coinbase inflow, other inflow, outflow, internal, miner fee,
//   lost (uvarints, satoshis), spending transactions (uvarint), origin
//   count (uvarint), then per origin in ascending order: origin height 4,
//   reserve change (zig-zag varint, satoshis), outflow (uvarint). About 20
//   bytes for a block whose only flow is its coinbase.
//
// Flow transaction by txid (prefix 0x0a):
//
//   <0x0a><txid> = <height><index>   (33-byte key, 8-byte value)
//
// Input values (prefix 0x0b): the values of a flow transaction's non-miner
// inputs, in input order, as the node gave them after the block was
// connected (getrawtransaction). Not in the block's undo record: disconnect
// deletes the keys of the height.
//
//   <0x0b><height><index> = <count uvarint><value uvarint>...
//
// Values wanted (prefix 0x0c): an empty marker for each flow transaction
// whose non-miner input values are not yet known; written with the block
// (so undone with it) and deleted when 0x0b is written.
//
//   <0x0c><height><index> = (empty)
// -----------------------------------------------------------------------------

// Keyspace prefixes. Changing any of these is a schema change.
var (
	// metaPrefix is the keyspace of single-value records about the index.
	metaPrefix byte = 0x01

	// headerPrefix is the keyspace of headers by height.
	headerPrefix byte = 0x02

	// retiredHashPrefix was the keyspace of heights by block hash, up to
	// schema 3. Never reuse it.
	retiredHashPrefix byte = 0x03

	// undoPrefix is the keyspace of undo records by height.
	undoPrefix byte = 0x04

	// coinbasePrefix is the keyspace of coinbase records by height.
	coinbasePrefix byte = 0x05

	// scriptPrefix is the keyspace of miner scripts by script.
	scriptPrefix byte = 0x06

	// utxoPrefix is the keyspace of unspent miner outputs by outpoint.
	utxoPrefix byte = 0x07

	// flowTxPrefix is the keyspace of flow transactions by position.
	flowTxPrefix byte = 0x08

	// blockFlowsPrefix is the keyspace of block flow totals by height.
	blockFlowsPrefix byte = 0x09

	// txidPrefix is the keyspace of flow transaction positions by txid.
	txidPrefix byte = 0x0a

	// inputValuesPrefix is the keyspace of non-miner input values of flow
	// transactions by position.
	inputValuesPrefix byte = 0x0b

	// needValuesPrefix marks flow transactions whose non-miner input
	// values are not known yet.
	needValuesPrefix byte = 0x0c
)

// Meta record keys.
var (
	// schemaVersionKey holds the layout version of the whole index.
	schemaVersionKey = metaKey("schema")

	// networkKey holds the network the index was built for.
	networkKey = metaKey("network")

	// tipKey holds the height and hash of the last connected block.
	tipKey = metaKey("tip")

	// blocksFromKey holds the first height with full block data; absent
	// in a headers-only index.
	blocksFromKey = metaKey("blocks_from")

	// recoveryKey is never stored: recovering a crashed index deletes it,
	// which makes Badger flush its memtable (see recoverIndex).
	recoveryKey = metaKey("recovery")
)

const (
	// heightSize is the serialized size of a height.
	heightSize = 4

	// headerSize is the wire size of a block header.
	headerSize = 80

	// chainWorkSize is the serialized size of cumulative chain work.
	chainWorkSize = 32

	// headerValueSize is the size of a header-by-height value.
	headerValueSize = headerSize + chainhash.HashSize + chainWorkSize

	// tipValueSize is the size of the tip record.
	tipValueSize = heightSize + chainhash.HashSize

	// maxNetworkName bounds the stored network name.
	maxNetworkName = 32

	// Offsets of the fields the estimators need inside a header value.
	timeOffset = 68
	bitsOffset = 72
)

// metaKey returns the key of the meta record called name.
func metaKey(name string) []byte {
	return append([]byte{metaPrefix}, name...)
}

// heightKey returns the key of height in the keyspace prefix.
func heightKey(prefix byte, height int32) []byte {
	key := make([]byte, 1+heightSize)
	key[0] = prefix
	binary.BigEndian.PutUint32(key[1:], uint32(height))
	return key
}

// keyHeight decodes the height of a height-keyed record.
func keyHeight(key []byte) int32 {
	return int32(binary.BigEndian.Uint32(key[1:]))
}

// serializeHeight returns height as a 4-byte big-endian value.
func serializeHeight(height int32) []byte {
	b := make([]byte, heightSize)
	binary.BigEndian.PutUint32(b, uint32(height))
	return b
}

// deserializeHeight decodes a 4-byte big-endian height.
func deserializeHeight(b []byte) (int32, error) {
	if len(b) != heightSize {
		return 0, fmt.Errorf("%w: height value is %d bytes, want %d",
			ErrCorrupt, len(b), heightSize)
	}
	return int32(binary.BigEndian.Uint32(b)), nil
}

// serializeTip returns the tip record value.
func serializeTip(height int32, hash *chainhash.Hash) []byte {
	b := make([]byte, tipValueSize)
	binary.BigEndian.PutUint32(b, uint32(height))
	copy(b[heightSize:], hash[:])
	return b
}

// deserializeTip decodes the tip record value.
func deserializeTip(b []byte) (int32, chainhash.Hash, error) {
	var hash chainhash.Hash
	if len(b) != tipValueSize {
		return 0, hash, fmt.Errorf("%w: tip record is %d bytes, want %d",
			ErrCorrupt, len(b), tipValueSize)
	}
	copy(hash[:], b[heightSize:])
	return int32(binary.BigEndian.Uint32(b)), hash, nil
}

// serializeNetwork returns the network record value.
func serializeNetwork(name string, genesis *chainhash.Hash) []byte {
	b := make([]byte, 0, chainhash.HashSize+len(name))
	b = append(b, genesis[:]...)
	return append(b, name...)
}

// deserializeNetwork decodes the network record value.
func deserializeNetwork(b []byte) (string, chainhash.Hash, error) {
	var genesis chainhash.Hash
	n := len(b) - chainhash.HashSize
	if n < 1 || n > maxNetworkName {
		return "", genesis, fmt.Errorf("%w: network record is %d bytes",
			ErrCorrupt, len(b))
	}
	copy(genesis[:], b)
	return string(b[chainhash.HashSize:]), genesis, nil
}

// serializeHeaderRecord returns the header-by-height value of rec.
func serializeHeaderRecord(rec *HeaderRecord) ([]byte, error) {
	if rec.ChainWork.Sign() < 0 || rec.ChainWork.BitLen() > 8*chainWorkSize {
		return nil, fmt.Errorf("chain work %v at height %d does not fit "+
			"in %d bytes", rec.ChainWork, rec.Height, chainWorkSize)
	}

	b := make([]byte, headerValueSize)
	if err := rec.Header.Serialize(bytes.NewBuffer(b[:0])); err != nil {
		return nil, fmt.Errorf("serialize header %v: %w", rec.Hash, err)
	}
	copy(b[headerSize:], rec.Hash[:])
	rec.ChainWork.FillBytes(b[headerSize+chainhash.HashSize:])
	return b, nil
}

// deserializeHeaderRecord decodes the header-by-height value b.
func deserializeHeaderRecord(height int32, b []byte) (HeaderRecord, error) {
	rec := HeaderRecord{Height: height}
	if len(b) != headerValueSize {
		return rec, fmt.Errorf("%w: header record at height %d is %d "+
			"bytes, want %d", ErrCorrupt, height, len(b), headerValueSize)
	}
	err := rec.Header.Deserialize(bytes.NewReader(b[:headerSize]))
	if err != nil {
		return rec, fmt.Errorf("%w: header at height %d: %v", ErrCorrupt,
			height, err)
	}
	copy(rec.Hash[:], b[headerSize:])
	rec.ChainWork = new(big.Int).SetBytes(b[headerSize+chainhash.HashSize:])
	return rec, nil
}

// undoEntry is one key a block wrote and the value it had before.
type undoEntry struct {
	key     []byte
	prev    []byte
	existed bool
}

// serializeUndo returns the undo record value of entries.
func serializeUndo(entries []undoEntry) []byte {
	size := binary.MaxVarintLen32
	for _, e := range entries {
		size += 2*binary.MaxVarintLen32 + 1 + len(e.key) + len(e.prev)
	}

	b := make([]byte, 0, size)
	b = binary.AppendUvarint(b, uint64(len(entries)))
	for _, e := range entries {
		b = binary.AppendUvarint(b, uint64(len(e.key)))
		b = append(b, e.key...)
		if !e.existed {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		b = binary.AppendUvarint(b, uint64(len(e.prev)))
		b = append(b, e.prev...)
	}
	return b
}

// deserializeUndo decodes the undo record value of the block at height.
func deserializeUndo(height int32, b []byte) ([]undoEntry, error) {
	corrupt := func(what string) error {
		return fmt.Errorf("%w: undo record at height %d: %s", ErrCorrupt,
			height, what)
	}

	r := valueReader{b: b}
	n, ok := r.uvarint()
	if !ok || n > uint64(len(b)) {
		return nil, corrupt("bad entry count")
	}
	entries := make([]undoEntry, 0, n)
	for i := uint64(0); i < n; i++ {
		var e undoEntry
		if e.key, ok = r.bytes(); !ok || len(e.key) == 0 {
			return nil, corrupt("bad key")
		}
		flag, ok := r.byte()
		if !ok || flag > 1 {
			return nil, corrupt("bad presence flag")
		}
		if e.existed = flag == 1; e.existed {
			if e.prev, ok = r.bytes(); !ok {
				return nil, corrupt("bad previous value")
			}
		}
		entries = append(entries, e)
	}
	if len(r.b) != 0 {
		return nil, corrupt("trailing bytes")
	}
	return entries, nil
}

// valueReader consumes a stored value: an undo or coinbase record.
type valueReader struct {
	b []byte
}

// uvarint reads one uvarint.
func (r *valueReader) uvarint() (uint64, bool) {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		return 0, false
	}
	r.b = r.b[n:]
	return v, true
}

// byte reads one byte.
func (r *valueReader) byte() (byte, bool) {
	if len(r.b) == 0 {
		return 0, false
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c, true
}

// bytes reads a uvarint length and that many bytes, copied.
func (r *valueReader) bytes() ([]byte, bool) {
	n, ok := r.uvarint()
	if !ok || n > uint64(len(r.b)) {
		return nil, false
	}
	v := bytes.Clone(r.b[:n])
	r.b = r.b[n:]
	if v == nil {
		v = []byte{}
	}
	return v, true
}
