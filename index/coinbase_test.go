package index

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/minerscope/minerscope/analysis"
)

// refCoinbaseValue encodes rec following the coinbase layout documented in
// keys.go, independently of serializeCoinbase.
func refCoinbaseValue(rec *analysis.CoinbaseRecord) []byte {
	codes := map[string]byte{
		"nonstandard": 1, "pubkey": 2, "pubkeyhash": 3, "scripthash": 4,
		"multisig": 5, "nulldata": 6, "witness_v0_keyhash": 7,
		"witness_v0_scripthash": 8, "witness_v1_taproot": 9,
		"witness_unknown": 10,
	}
	var b bytes.Buffer
	uv := func(v uint64) { b.Write(binary.AppendUvarint(nil, v)) }
	str := func(s []byte) { uv(uint64(len(s))); b.Write(s) }

	b.Write(rec.TxID[:])
	if rec.SegwitCommit {
		b.WriteByte(1)
	} else {
		b.WriteByte(0)
	}
	for _, v := range []int64{int64(rec.TxCount), int64(rec.Size),
		int64(rec.Weight), int64(rec.Reward), int64(rec.Subsidy),
		int64(rec.Fees)} {
		uv(uint64(v))
	}
	str(rec.ScriptSig)
	uv(uint64(len(rec.Outputs)))
	for _, o := range rec.Outputs {
		uv(uint64(o.Value))
		code, ok := codes[o.Type]
		b.WriteByte(code)
		if !ok {
			str([]byte(o.Type))
		}
		str(o.Script)
		str([]byte(o.Address))
	}
	return b.Bytes()
}

// TestMainnetCoinbases stores the coinbase records of the real mainnet
// blocks 0-14131, reopens the index read-only and checks every record
// against the record given and against the raw blocks parsed by hand.
func TestMainnetCoinbases(t *testing.T) {
	raw := rawMainnetBlocks(t)
	data := MainnetBlockData(t, 0)

	db, dir := openTemp(t, analysis.Mainnet)
	if err := db.SetBlocksFrom(0, true); err != nil {
		t.Fatal(err)
	}
	ConnectBlocks(t, db, data)
	mustClose(t, db)

	db, _, err := OpenExisting(dir)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer mustClose(t, db)
	if from, full := db.BlocksFrom(); from != 0 || !full {
		t.Fatalf("BlocksFrom = %d %v, want 0 true", from, full)
	}

	next := int32(0)
	err = db.Coinbases(0, MainnetTestHeaders-1, func(h int32, rec *analysis.CoinbaseRecord) error {
		if h != next {
			t.Fatalf("record at height %d, want %d", h, next)
		}
		next++
		if !reflect.DeepEqual(rec, data[h].Coinbase) {
			t.Fatalf("height %d: stored %+v, given %+v", h, rec, data[h].Coinbase)
		}
		checkRawCoinbase(t, h, rec, raw[h])
		return nil
	})
	if err != nil || next != MainnetTestHeaders {
		t.Fatalf("Coinbases stopped at %d: %v", next, err)
	}

	checkGenesisCoinbase(t, db)
	if _, err := db.Coinbase(MainnetTestHeaders); !errors.Is(err, ErrNotFound) {
		t.Errorf("Coinbase above the tip: %v, want ErrNotFound", err)
	}
}

// checkRawCoinbase compares rec with the coinbase of the raw block at h,
// parsed by hand. Every block here predates segwit and the first halving.
func checkRawCoinbase(t *testing.T, h int32, rec *analysis.CoinbaseRecord, block []byte) {
	t.Helper()
	cb := parseRawCoinbase(t, block)
	var reward int64
	for _, v := range cb.values {
		reward += v
	}
	const subsidy = 50 * btcutil.SatoshiPerBitcoin

	switch {
	case rec.TxID != cb.txid:
		t.Fatalf("height %d: txid %v, want %v", h, rec.TxID, cb.txid)
	case !bytes.Equal(rec.ScriptSig, cb.scriptSig):
		t.Fatalf("height %d: scriptSig %x, want %x", h, rec.ScriptSig, cb.scriptSig)
	case len(rec.Outputs) != len(cb.values):
		t.Fatalf("height %d: %d outputs, want %d", h, len(rec.Outputs), len(cb.values))
	case int(rec.TxCount) != cb.txCount || int(rec.Size) != len(block) ||
		int(rec.Weight) != 4*len(block) || rec.SegwitCommit:
		t.Fatalf("height %d: txs %d size %d weight %d segwit %v, want %d %d %d false",
			h, rec.TxCount, rec.Size, rec.Weight, rec.SegwitCommit, cb.txCount,
			len(block), 4*len(block))
	case int64(rec.Reward) != reward || int64(rec.Subsidy) != subsidy ||
		int64(rec.Fees) != max(0, reward-subsidy):
		t.Fatalf("height %d: reward %d subsidy %d fees %d, want %d %d %d", h,
			rec.Reward, rec.Subsidy, rec.Fees, reward, int64(subsidy),
			max(0, reward-subsidy))
	}
	for i, out := range rec.Outputs {
		if int64(out.Value) != cb.values[i] || !bytes.Equal(out.Script, cb.scripts[i]) {
			t.Fatalf("height %d output %d: %d %x, want %d %x", h, i,
				out.Value, out.Script, cb.values[i], cb.scripts[i])
		}
	}
}

// checkGenesisCoinbase checks the published facts of the genesis coinbase.
func checkGenesisCoinbase(t *testing.T, db *DB) {
	t.Helper()
	rec, err := db.Coinbase(0)
	if err != nil {
		t.Fatal(err)
	}
	txid, _ := chainhash.NewHashFromStr("4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b")
	headline := "The Times 03/Jan/2009 Chancellor on brink of second bailout for banks"
	if rec.TxID != *txid || !bytes.Contains(rec.ScriptSig, []byte(headline)) ||
		rec.Reward != 50*btcutil.SatoshiPerBitcoin || rec.Fees != 0 ||
		len(rec.Outputs) != 1 || rec.Outputs[0].Type != "pubkey" {
		t.Errorf("genesis coinbase = %+v", rec)
	}
}

// TestCoinbaseLayout checks that the stored value of every real mainnet
// coinbase, and of random records, is the layout documented in keys.go, that
// it decodes to the record, and that damaged values are reported as corrupt.
func TestCoinbaseLayout(t *testing.T) {
	var recs []*analysis.CoinbaseRecord
	for _, d := range MainnetBlockData(t, 0) {
		recs = append(recs, d.Coinbase)
	}
	rng := rand.New(rand.NewPCG(3, 5))
	for i := 0; i < 2000; i++ {
		recs = append(recs, randomCoinbase(rng))
	}

	for i, rec := range recs {
		b, err := serializeCoinbase(rec)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if want := refCoinbaseValue(rec); !bytes.Equal(b, want) {
			t.Fatalf("record %d: value\n%x\nwant\n%x", i, b, want)
		}
		got, err := deserializeCoinbase(int32(i), b)
		if err != nil || !reflect.DeepEqual(&got, rec) {
			t.Fatalf("record %d: decoded %+v, %v; want %+v", i, got, err, rec)
		}
		if i%7 == 0 {
			checkDamaged(t, b, rng)
		}
	}
}

// checkDamaged checks that truncated or padded values and bad flags or type
// codes are reported as corrupt.
func checkDamaged(t *testing.T, b []byte, rng *rand.Rand) {
	t.Helper()
	bad := [][]byte{
		b[:rng.IntN(len(b))],
		append(bytes.Clone(b), 0),
	}
	flags := bytes.Clone(b)
	flags[chainhash.HashSize] |= 0x80
	bad = append(bad, flags)

	for _, v := range bad {
		if _, err := deserializeCoinbase(1, v); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("damaged value %x: %v, want ErrCorrupt", v, err)
		}
	}
}

// randomCoinbase returns a record with random fields, including type names
// without a code, empty strings and amounts near the limits. Empty byte
// strings are nil, as they decode.
func randomCoinbase(rng *rand.Rand) *analysis.CoinbaseRecord {
	randBytes := func(max int) []byte {
		n := rng.IntN(max + 1)
		if n == 0 {
			return nil
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	types := []string{"pubkey", "pubkeyhash", "witness_v1_taproot", "nulldata",
		"witness_unknown", "", "some_future_type", "nonstandard"}
	amount := func() btcutil.Amount {
		if rng.IntN(4) == 0 {
			return btcutil.MaxSatoshi - btcutil.Amount(rng.IntN(2))
		}
		return btcutil.Amount(rng.Int64N(btcutil.MaxSatoshi))
	}

	rec := &analysis.CoinbaseRecord{
		ScriptSig:    randBytes(100),
		Reward:       amount(),
		Subsidy:      amount(),
		Fees:         amount(),
		TxCount:      rng.Int32(),
		Size:         rng.Int32(),
		Weight:       rng.Int32(),
		SegwitCommit: rng.IntN(2) == 0,
	}
	for i := range rec.TxID {
		rec.TxID[i] = byte(rng.Uint32())
	}
	for n := rng.IntN(5); n > 0; n-- {
		rec.Outputs = append(rec.Outputs, analysis.CoinbaseOutput{
			Value:   amount(),
			Script:  randBytes(80),
			Address: hex.EncodeToString(randBytes(20)),
			Type:    types[rng.IntN(len(types))],
		})
	}
	return rec
}

// TestCoinbaseDisconnectReconnect checks that disconnecting blocks removes
// their coinbase records with them and that connecting them again restores
// byte-identical contents, on an index that keeps full blocks from 1000.
func TestCoinbaseDisconnectReconnect(t *testing.T) {
	const from, n = 1000, 3000
	data := MainnetBlockData(t, from)[:n]
	db := NewTestDB(t, analysis.Mainnet)
	if err := db.SetBlocksFrom(from, true); err != nil {
		t.Fatal(err)
	}
	empty := Dump(t, db)

	// Batches of irregular sizes, as fetches deliver them.
	for h := 0; h < n; {
		end := min(n, h+1+h%701)
		ConnectBlocks(t, db, data[h:end])
		h = end
	}
	full := Dump(t, db)
	checkUndoOfFullBlock(t, full, 1500)
	blocks := make([]*wire.MsgBlock, 0, n-from)
	for _, d := range data[from:] {
		blocks = append(blocks, d.Block)
	}
	checkFlowModel(t, db, refModel(from, blocks), from, n-1)

	for _, k := range []int{1, 2, 17, 500, 2000, 2999} {
		for i := 0; i < k; i++ {
			mustDisconnect(t, db)
		}
		tip := int32(n - 1 - k)
		if got, _, _ := db.Tip(); got != tip {
			t.Fatalf("tip %d after %d disconnects, want %d", got, k, tip)
		}
		if _, err := db.Coinbase(tip + 1); !errors.Is(err, ErrNotFound) {
			t.Fatalf("coinbase above the tip after disconnect: %v", err)
		}
		if tip >= from {
			if _, err := db.Coinbase(tip); err != nil {
				t.Fatalf("coinbase at the tip %d: %v", tip, err)
			}
		}
		ConnectBlocks(t, db, data[n-k:])
		DiffDumps(t, full, Dump(t, db))
	}

	for i := 0; i < n; i++ {
		mustDisconnect(t, db)
	}
	DiffDumps(t, empty, Dump(t, db))
}

// checkUndoOfFullBlock checks the undo record of the block at h, whose
// only transaction is a coinbase paying one key no earlier full block paid
// (checked on the raw block by the caller's choice of h): its entries are,
// in the order the block writes them, the header row (absent before), the tip (the previous block), the coinbase record, the
// coinbase's miner output, its miner script and the block's flow totals
// (all absent before), encoded as keys.go documents and built here from
// the raw blocks.
func checkUndoOfFullBlock(t *testing.T, kv map[string]string, h int32) {
	t.Helper()
	raw := rawMainnetBlocks(t)
	cb := parseRawCoinbase(t, raw[h])
	if cb.txCount != 1 || len(cb.values) != 1 {
		t.Fatalf("block %d has %d transactions, %d coinbase outputs; want 1, 1", h,
			cb.txCount, len(cb.values))
	}
	prev := dsha(raw[h-1][:80])
	tipKey, prevTip := "\x01tip", be32(h-1)+string(prev[:])

	undo := []byte{6}
	undo = appendAbsent(undo, "\x02"+be32(h))
	undo = append(undo, byte(len(tipKey)))
	undo = append(undo, tipKey...)
	undo = append(undo, 1, byte(len(prevTip)))
	undo = append(undo, prevTip...)
	undo = appendAbsent(undo, "\x05"+be32(h))
	undo = appendAbsent(undo, "\x07"+string(cb.txid[:])+be32(0))
	undo = appendAbsent(undo, "\x06"+string(cb.scripts[0]))
	undo = appendAbsent(undo, "\x09"+be32(h))
	if got := kv["\x04"+be32(h)]; got != string(undo) {
		t.Fatalf("undo record at %d =\n%x\nwant\n%x", h, got, undo)
	}
}

// TestCoinbasesQuery checks the ranges Coinbases visits and its errors.
func TestCoinbasesQuery(t *testing.T) {
	db := NewTestDB(t, analysis.Mainnet)
	if err := db.SetBlocksFrom(10, true); err != nil {
		t.Fatal(err)
	}
	ConnectBlocks(t, db, MainnetBlockData(t, 10)[:30])

	tests := []struct {
		from, to int32
		want     []int32
	}{
		{0, 100, span(10, 29)},
		{0, 9, nil},
		{15, 17, span(15, 17)},
		{29, 29, span(29, 29)},
		{30, 40, nil},
	}
	for _, tc := range tests {
		var got []int32
		err := db.Coinbases(tc.from, tc.to, func(h int32, rec *analysis.CoinbaseRecord) error {
			got = append(got, h)
			return nil
		})
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Coinbases(%d, %d) visited %v, %v; want %v", tc.from,
				tc.to, got, err, tc.want)
		}
	}

	stop := errors.New("stop")
	calls := 0
	err := db.Coinbases(0, 100, func(int32, *analysis.CoinbaseRecord) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		t.Errorf("Coinbases with a failing fn: %v after %d calls", err, calls)
	}
	if err := db.Coinbases(5, 4, nil); err == nil {
		t.Error("Coinbases(5, 4) succeeded")
	}
	for _, h := range []int32{-1, 9, 30} {
		if _, err := db.Coinbase(h); !errors.Is(err, ErrNotFound) {
			t.Errorf("Coinbase(%d): %v, want ErrNotFound", h, err)
		}
	}

	mustClose(t, db)
	if _, err := db.Coinbase(10); !errors.Is(err, ErrClosed) {
		t.Errorf("Coinbase after close: %v", err)
	}
}

// span returns the heights from..to.
func span(from, to int32) []int32 {
	var hs []int32
	for h := from; h <= to; h++ {
		hs = append(hs, h)
	}
	return hs
}
