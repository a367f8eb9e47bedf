package chain

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// ErrNoInputValues is returned when the node cannot give the value of a
// spent output: bitcoind without -txindex answers getrawtransaction only for
// its mempool, and btcd needs --txindex. Bitcoin Core 23+ gives them anyway
// through getblock verbosity 3, which OutputValues tries next.
var ErrNoInputValues = errors.New("the node cannot give the values of spent outputs " +
	"(start it with txindex=1)")

// OutputValues returns the values of the spent outputs ops, asking
// getrawtransaction for each distinct previous transaction in one batch,
// which needs the node's transaction index. Without it, it fails with
// ErrNoInputValues; SpentValues then asks block by block.
func (c *Client) OutputValues(ctx context.Context, ops []wire.OutPoint) ([]btcutil.Amount, error) {
	var reqs []Request
	at := make(map[chainhash.Hash]int)
	for _, op := range ops {
		if _, ok := at[op.Hash]; !ok {
			at[op.Hash] = len(reqs)
			reqs = append(reqs, Request{Method: "getrawtransaction", Params: []any{op.Hash.String(), 0}})
		}
	}
	raws, err := c.CallBatch(ctx, reqs)
	if err != nil {
		var rpcErr *RPCError
		if errors.As(err, &rpcErr) && rpcErr.Code == codeNoTx {
			return nil, fmt.Errorf("%w: %v", ErrNoInputValues, rpcErr)
		}
		return nil, err
	}
	txs := make([]*wire.MsgTx, len(raws))
	for i, raw := range raws {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("getrawtransaction: %w", err)
		}
		b, err := hex.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("getrawtransaction: %w", err)
		}
		tx := new(wire.MsgTx)
		if err := tx.Deserialize(bytes.NewReader(b)); err != nil {
			return nil, fmt.Errorf("getrawtransaction: transaction does not decode: %w", err)
		}
		txs[i] = tx
	}
	vs := make([]btcutil.Amount, len(ops))
	for i, op := range ops {
		tx := txs[at[op.Hash]]
		if got := tx.TxHash(); got != op.Hash {
			return nil, fmt.Errorf("getrawtransaction %v returned transaction %v", op.Hash, got)
		}
		if int(op.Index) >= len(tx.TxOut) {
			return nil, fmt.Errorf("transaction %v has no output %d", op.Hash, op.Index)
		}
		vs[i] = btcutil.Amount(tx.TxOut[op.Index].Value)
	}
	return vs, nil
}

// verboseBlock is the part of getblock verbosity 3 valuesByBlock reads.
type verboseBlock struct {
	Tx []struct {
		TxID string `json:"txid"`
		Vin  []struct {
			TxID    string `json:"txid"`
			Vout    uint32 `json:"vout"`
			Prevout *struct {
				Value json.Number `json:"value"`
			} `json:"prevout"`
		} `json:"vin"`
	} `json:"tx"`
}

// SpentValues returns the values of the outputs ops spent by the
// transaction txid of the block with hash block, from getblock verbosity 3
// (Bitcoin Core 23+, which reads them from its undo data, so no transaction
// index is needed). It fails with ErrNoInputValues when the node cannot.
func (c *Client) SpentValues(ctx context.Context, block, txid chainhash.Hash,
	ops []wire.OutPoint) ([]btcutil.Amount, error) {

	raw, err := c.Call(ctx, "getblock", block.String(), 3)
	if err != nil {
		var rpcErr *RPCError
		if errors.As(err, &rpcErr) {
			return nil, fmt.Errorf("%w (getblock %v 3: %v)", ErrNoInputValues, block, rpcErr)
		}
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var vb verboseBlock
	if err := dec.Decode(&vb); err != nil {
		return nil, fmt.Errorf("%w (getblock %v 3: %v)", ErrNoInputValues, block, err)
	}
	want := make(map[wire.OutPoint]btcutil.Amount)
	for _, tx := range vb.Tx {
		if tx.TxID != txid.String() {
			continue
		}
		for _, in := range tx.Vin {
			h, err := chainhash.NewHashFromStr(in.TxID)
			if err != nil || in.Prevout == nil {
				continue
			}
			v, err := ParseBTC(string(in.Prevout.Value))
			if err != nil {
				return nil, fmt.Errorf("getblock %v 3: prevout value: %w", block, err)
			}
			want[wire.OutPoint{Hash: *h, Index: in.Vout}] = v
		}
	}
	vs := make([]btcutil.Amount, len(ops))
	for i, op := range ops {
		v, ok := want[op]
		if !ok {
			return nil, fmt.Errorf("%w (getblock %v 3 gives no prevout %v of %v)",
				ErrNoInputValues, block, op, txid)
		}
		vs[i] = v
	}
	return vs, nil
}

// ParseBTC parses a JSON BTC amount ("0.5", "50.00000000") exactly into
// satoshis, without going through a float.
func ParseBTC(s string) (btcutil.Amount, error) {
	whole, frac, _ := bytes.Cut([]byte(s), []byte("."))
	if len(whole) == 0 || len(frac) > 8 {
		return 0, fmt.Errorf("amount %q is not a BTC amount with at most 8 decimals", s)
	}
	var sat int64
	for _, d := range append(whole, append(frac, bytes.Repeat([]byte("0"), 8-len(frac))...)...) {
		if d < '0' || d > '9' || sat > btcutil.MaxSatoshi {
			return 0, fmt.Errorf("amount %q is not a BTC amount with at most 8 decimals", s)
		}
		sat = sat*10 + int64(d-'0')
	}
	if sat > btcutil.MaxSatoshi {
		return 0, fmt.Errorf("amount %q exceeds 21 million BTC", s)
	}
	return btcutil.Amount(sat), nil
}
