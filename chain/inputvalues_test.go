package chain

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// valuesNode is a fakeNode whose intercept answers every request with
// handle, framed as bitcoind frames it: a batch gets HTTP 200 and an array of
// replies (here in reverse order, so the client must match them by id), a
// single request that fails gets HTTP 500. It returns a client that has not
// been dialled: the calls under test need no network.
func valuesNode(t *testing.T, handle func(fakeReq) fakeReply) (*fakeNode, *Client) {
	t.Helper()
	f := newFakeNode(t, nil)
	f.intercept = func(w http.ResponseWriter, r *http.Request, _ int64) bool {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return true
		}
		w.Header().Set("Content-Type", "application/json")
		if bytes.HasPrefix(bytes.TrimSpace(body), []byte("[")) {
			var reqs []fakeReq
			if err := json.Unmarshal(body, &reqs); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return true
			}
			replies := make([]fakeReply, len(reqs))
			for i, req := range reqs {
				f.countMethod(req.Method)
				replies[len(reqs)-1-i] = handle(req)
			}
			_ = json.NewEncoder(w).Encode(replies)
			return true
		}
		var req fakeReq
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return true
		}
		f.countMethod(req.Method)
		reply := handle(req)
		if reply.Error != nil {
			w.WriteHeader(http.StatusInternalServerError)
		}
		_ = json.NewEncoder(w).Encode(reply)
		return true
	}
	return f, f.client(t, f.config())
}

// countMethod counts a request the intercept answered, for fakeNode.count.
func (f *fakeNode) countMethod(method string) {
	v, _ := f.methods.LoadOrStore(method, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

// rawTxs answers getrawtransaction <txid> 0 from txs (keyed by the txid
// asked for, so a test can answer with another transaction), like bitcoind
// with txindex=1; unknown txids get bitcoind's error -5.
func rawTxs(txs map[chainhash.Hash]*wire.MsgTx) func(fakeReq) fakeReply {
	return func(req fakeReq) fakeReply {
		reply := fakeReply{ID: req.ID}
		var s string
		var verbose int
		if req.Method != "getrawtransaction" || len(req.Params) != 2 ||
			json.Unmarshal(req.Params[0], &s) != nil || json.Unmarshal(req.Params[1], &verbose) != nil ||
			verbose != 0 {
			reply.Error = &fakeError{-1, "bad request"}
			return reply
		}
		h, err := chainhash.NewHashFromStr(s)
		tx, ok := txs[*h]
		if err != nil || !ok {
			reply.Error = &fakeError{-5, "No such mempool or blockchain transaction. " +
				"Use gettransaction for wallet transactions."}
			return reply
		}
		var buf bytes.Buffer
		if err := tx.Serialize(&buf); err != nil { // with witness, as bitcoind sends it
			panic(err)
		}
		reply.Result = hex.EncodeToString(buf.Bytes())
		return reply
	}
}

// testTx returns a transaction spending a made-up outpoint into outputs of
// the given values; witness adds witness data, so its txid and wtxid differ.
func testTx(tag byte, witness bool, values ...int64) *wire.MsgTx {
	tx := wire.NewMsgTx(2)
	in := wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{tag}, Index: uint32(tag)}, []byte{tag}, nil)
	if witness {
		in.SignatureScript = nil
		in.Witness = wire.TxWitness{{tag, 1, 2, 3}, {tag}}
	}
	tx.AddTxIn(in)
	for i, v := range values {
		tx.AddTxOut(wire.NewTxOut(v, []byte{0x51, tag, byte(i)}))
	}
	return tx
}

func TestOutputValuesBatch(t *testing.T) {
	a := testTx(1, false, 5_000_000_000, 1, 2_099_999_997_690_000)
	b := testTx(2, true, 12_345, 0, 700)
	c := testTx(3, false, 42)
	if b.TxHash() == b.WitnessHash() {
		t.Fatal("the witness test transaction has no witness")
	}
	f, client := valuesNode(t, rawTxs(map[chainhash.Hash]*wire.MsgTx{
		a.TxHash(): a, b.TxHash(): b, c.TxHash(): c,
	}))

	op := func(tx *wire.MsgTx, i uint32) wire.OutPoint { return wire.OutPoint{Hash: tx.TxHash(), Index: i} }
	ops := []wire.OutPoint{op(b, 2), op(a, 0), op(a, 2), op(c, 0), op(b, 0), op(a, 1), op(b, 1), op(a, 0)}
	want := []btcutil.Amount{700, 5_000_000_000, 2_099_999_997_690_000, 42, 12_345, 1, 0, 5_000_000_000}

	got, err := client.OutputValues(testCtx(t), ops)
	if err != nil {
		t.Fatalf("OutputValues: %v", err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("values %v, want %v", got, want)
	}
	// One request per distinct transaction, in one HTTP request.
	if n := f.count("getrawtransaction"); n != 3 {
		t.Errorf("%d getrawtransaction requests, want 3", n)
	}
	if n := f.requests.Load(); n != 1 {
		t.Errorf("%d HTTP requests, want 1 batch", n)
	}

	if got, err := client.OutputValues(testCtx(t), nil); err != nil || len(got) != 0 {
		t.Errorf("OutputValues(nil) = %v, %v; want nothing", got, err)
	}
}

func TestOutputValuesErrors(t *testing.T) {
	a := testTx(1, false, 1000, 2000)
	b := testTx(2, true, 3000)
	tests := []struct {
		name    string
		txs     map[chainhash.Hash]*wire.MsgTx
		ops     []wire.OutPoint
		noValue bool   // want ErrNoInputValues
		msg     string // in the error message
	}{{
		name: "another transaction",
		txs:  map[chainhash.Hash]*wire.MsgTx{a.TxHash(): b, b.TxHash(): b},
		ops:  []wire.OutPoint{{Hash: b.TxHash()}, {Hash: a.TxHash()}},
		msg:  a.TxHash().String() + " returned transaction " + b.TxHash().String(),
	}, {
		name: "vout out of range",
		txs:  map[chainhash.Hash]*wire.MsgTx{a.TxHash(): a, b.TxHash(): b},
		ops:  []wire.OutPoint{{Hash: a.TxHash(), Index: 1}, {Hash: b.TxHash(), Index: 1}},
		msg:  "no output 1",
	}, {
		name:    "no txindex",
		txs:     map[chainhash.Hash]*wire.MsgTx{},
		ops:     []wire.OutPoint{{Hash: a.TxHash()}},
		noValue: true,
	}, {
		// bitcoind without txindex still finds mempool transactions.
		name:    "no txindex, one in the mempool",
		txs:     map[chainhash.Hash]*wire.MsgTx{b.TxHash(): b},
		ops:     []wire.OutPoint{{Hash: b.TxHash()}, {Hash: a.TxHash()}},
		noValue: true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, client := valuesNode(t, rawTxs(tt.txs))
			got, err := client.OutputValues(testCtx(t), tt.ops)
			if err == nil {
				t.Fatalf("OutputValues = %v, want an error", got)
			}
			if errors.Is(err, ErrNoInputValues) != tt.noValue {
				t.Errorf("err = %v; errors.Is(ErrNoInputValues) = %v, want %v", err,
					errors.Is(err, ErrNoInputValues), tt.noValue)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v, want it to mention %q", err, tt.msg)
			}
		})
	}
}

// coreBlock3 is a getblock <hash> 3 reply shaped like Bitcoin Core 23+'s,
// trimmed to the fields around the ones read, with the amounts as Core
// prints them (8 decimals). %[1]s is the spending transaction's txid,
// %[2]s and %[3]s the txids it spends, %[4]s a decoy transaction's txid.
const coreBlock3 = `{
  "hash": "0000000000000000000000000000000000000000000000000000000000000abc",
  "confirmations": 1, "height": 800000, "version": 536870912,
  "tx": [
    {"txid": "%[4]s", "hash": "%[4]s", "version": 2, "size": 100, "vsize": 100, "weight": 400, "locktime": 0,
     "vin": [{"coinbase": "0300350c", "txinwitness": ["00"], "sequence": 4294967295}],
     "vout": [{"value": 6.25000000, "n": 0, "scriptPubKey": {"hex": "51", "type": "nonstandard"}}]},
    {"txid": "%[1]s", "hash": "%[1]s", "version": 2, "size": 200, "vsize": 200, "weight": 800, "locktime": 0,
     "vin": [
       {"txid": "%[2]s", "vout": 3, "scriptSig": {"asm": "", "hex": ""}, "txinwitness": ["00"],
        "prevout": {"generated": true, "height": 1, "value": 50.00000000,
                    "scriptPubKey": {"hex": "51", "type": "nonstandard"}}, "sequence": 4294967295},
       {"txid": "%[3]s", "vout": 0, "scriptSig": {"asm": "", "hex": ""},
        "prevout": {"generated": false, "height": 799999, "value": 0.00012345,
                    "scriptPubKey": {"hex": "51", "type": "nonstandard"}}, "sequence": 4294967293},
       {"txid": "%[3]s", "vout": 1, "scriptSig": {"asm": "", "hex": ""},
        "prevout": {"generated": false, "height": 799999, "value": 0.00000001,
                    "scriptPubKey": {"hex": "51", "type": "nonstandard"}}, "sequence": 4294967293},
       {"txid": "%[4]s", "vout": 7, "scriptSig": {"asm": "", "hex": ""},
        "prevout": {"generated": false, "height": 12, "value": 20999999.97690000,
                    "scriptPubKey": {"hex": "51", "type": "nonstandard"}}, "sequence": 4294967293}
     ],
     "vout": [{"value": 0.1, "n": 0, "scriptPubKey": {"hex": "51", "type": "nonstandard"}}],
     "fee": 0.00001000}
  ]
}`

// coreBlock22 is the same block as Bitcoin Core before 23 answers
// verbosity 3 (as 2): inputs without prevout.
const coreBlock22 = `{
  "hash": "0000000000000000000000000000000000000000000000000000000000000abc",
  "tx": [
    {"txid": "%[4]s", "vin": [{"coinbase": "0300350c", "sequence": 4294967295}], "vout": []},
    {"txid": "%[1]s", "vin": [
       {"txid": "%[2]s", "vout": 3, "scriptSig": {"asm": "", "hex": ""}, "sequence": 4294967295},
       {"txid": "%[3]s", "vout": 0, "scriptSig": {"asm": "", "hex": ""}, "sequence": 4294967293}
     ], "vout": []}
  ]
}`

// blockReply answers getblock <block> 3 with body, formatted with the
// txids, or with the RPC error rpcErr when it is not nil.
func blockReply(t *testing.T, block chainhash.Hash, body string, ids []any,
	rpcErr *fakeError) func(fakeReq) fakeReply {

	return func(req fakeReq) fakeReply {
		reply := fakeReply{ID: req.ID}
		var h string
		var verbosity int
		if req.Method != "getblock" || len(req.Params) != 2 || json.Unmarshal(req.Params[0], &h) != nil ||
			json.Unmarshal(req.Params[1], &verbosity) != nil || h != block.String() || verbosity != 3 {
			t.Errorf("unexpected request %s %s", req.Method, req.Params)
			reply.Error = &fakeError{-1, "bad request"}
			return reply
		}
		if rpcErr != nil {
			reply.Error = rpcErr
			return reply
		}
		reply.Result = json.RawMessage(fmt.Sprintf(body, ids...))
		return reply
	}
}

func TestSpentValues(t *testing.T) {
	block := chainhash.Hash{0xab, 0xc}
	spender, prev1, prev2, decoy := chainhash.Hash{1}, chainhash.Hash{2}, chainhash.Hash{3}, chainhash.Hash{4}
	ids := []any{spender.String(), prev1.String(), prev2.String(), decoy.String()}

	_, client := valuesNode(t, blockReply(t, block, coreBlock3, ids, nil))
	ops := []wire.OutPoint{{Hash: prev2, Index: 1}, {Hash: prev1, Index: 3}, {Hash: decoy, Index: 7},
		{Hash: prev2, Index: 0}}
	got, err := client.SpentValues(testCtx(t), block, spender, ops)
	if err != nil {
		t.Fatalf("SpentValues: %v", err)
	}
	// 0.00000001, 50, 20999999.9769 and 0.00012345 BTC.
	want := []btcutil.Amount{1, 5_000_000_000, 2_099_999_997_690_000, 12_345}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("values %v, want %v", got, want)
	}
}

func TestSpentValuesErrors(t *testing.T) {
	block := chainhash.Hash{0xab, 0xc}
	spender, prev1, prev2, decoy := chainhash.Hash{1}, chainhash.Hash{2}, chainhash.Hash{3}, chainhash.Hash{4}
	ids := []any{spender.String(), prev1.String(), prev2.String(), decoy.String()}
	tests := []struct {
		name   string
		body   string
		rpcErr *fakeError
		txid   chainhash.Hash
		ops    []wire.OutPoint
	}{{
		name: "Core before 23: no prevout",
		body: coreBlock22,
		txid: spender,
		ops:  []wire.OutPoint{{Hash: prev1, Index: 3}},
	}, {
		name: "an outpoint the transaction does not spend",
		body: coreBlock3,
		txid: spender,
		ops:  []wire.OutPoint{{Hash: prev1, Index: 3}, {Hash: prev2, Index: 2}},
	}, {
		name: "a transaction the block does not hold",
		body: coreBlock3,
		txid: chainhash.Hash{9},
		ops:  []wire.OutPoint{{Hash: prev1, Index: 3}},
	}, {
		name:   "pruned block",
		rpcErr: &fakeError{-1, "Block not available (pruned data)"},
		txid:   spender,
		ops:    []wire.OutPoint{{Hash: prev1, Index: 3}},
	}, {
		// btcd answers verbosity 3 with "rawtx", not "tx".
		name: "btcd",
		body: `{"hash": "abc", "rawtx": [{"txid": "%[1]s", "vin": [{"txid": "%[2]s", "vout": 3}]}]}`,
		txid: spender,
		ops:  []wire.OutPoint{{Hash: prev1, Index: 3}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, client := valuesNode(t, blockReply(t, block, tt.body, ids, tt.rpcErr))
			got, err := client.SpentValues(testCtx(t), block, tt.txid, tt.ops)
			if !errors.Is(err, ErrNoInputValues) {
				t.Fatalf("SpentValues = %v, %v; want ErrNoInputValues", got, err)
			}
			if !strings.Contains(err.Error(), block.String()) {
				t.Errorf("err = %v, want it to name the block", err)
			}
		})
	}
}

func TestParseBTC(t *testing.T) {
	tests := []struct {
		in   string
		want btcutil.Amount
		ok   bool
	}{
		{"0", 0, true},
		{"0.00000001", 1, true},
		{"20999999.97690000", 2_099_999_997_690_000, true},
		{"50", 5_000_000_000, true},
		{"50.00000000", 5_000_000_000, true},
		{"0.00012345", 12_345, true},
		{"0.1", 10_000_000, true},
		{"21000000", btcutil.MaxSatoshi, true},
		{"21000000.00000000", btcutil.MaxSatoshi, true},

		{"", 0, false},
		{"-1", 0, false},
		{"1e8", 0, false},
		{"0.000000001", 0, false},
		{"21000001", 0, false},
		{"21000000.00000001", 0, false},
		{"99999999999999999999999999", 0, false},
		{"1.2.3", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{".5", 0, false},
		{"+1", 0, false},
		{"0x10", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseBTC(tt.in)
		switch {
		case tt.ok && (err != nil || got != tt.want):
			t.Errorf("ParseBTC(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		case !tt.ok && err == nil:
			t.Errorf("ParseBTC(%q) = %d, want an error", tt.in, got)
		}
	}
}

// FuzzParseBTC checks that every accepted amount is in range, equals the
// decimal's exact value times 10^8 (computed with big.Rat) and survives
// formatting back with 8 decimals.
func FuzzParseBTC(f *testing.F) {
	for _, s := range []string{"0", "0.00000001", "20999999.97690000", "50", "50.00000000", "0.1",
		"21000000", "21000001", "1e8", "-1", "1.2.3", "00.5", "1.", ".5", "0.000000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sat, err := ParseBTC(s)
		if err != nil {
			return
		}
		if sat < 0 || sat > btcutil.MaxSatoshi {
			t.Fatalf("ParseBTC(%q) = %d, out of range", s, sat)
		}
		if r, ok := new(big.Rat).SetString(s); ok {
			exact := r.Mul(r, big.NewRat(btcutil.SatoshiPerBitcoin, 1))
			if !exact.IsInt() || exact.Num().Int64() != int64(sat) {
				t.Fatalf("ParseBTC(%q) = %d, want %v", s, sat, exact)
			}
		}
		back := fmt.Sprintf("%d.%08d", sat/btcutil.SatoshiPerBitcoin, sat%btcutil.SatoshiPerBitcoin)
		again, err := ParseBTC(back)
		if err != nil || again != sat {
			t.Fatalf("ParseBTC(%q) = %d; its formatting %q parses as %d, %v", s, sat, back, again, err)
		}
	})
}
