package api

import (
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/wire"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/index"
)

// Independent facts about the mainnet test chain (blocks 0 to 14131): every
// block has bits 0x1d00ffff, difficulty 1, whose work is
// 2^256 / (0x00ffff * 2^208 + 1) = 4295032833 hashes, and pays 50 BTC.
const (
	testTip       = 14131
	diff1Work     = 4295032833
	genesisTime   = 1231006505 // 2009-01-03T18:15:05Z
	testIntervals = 11
)

// fullServer returns a server on an in-memory full index of mainnet blocks
// 0 to upto-1, the headers read straight from the block file, and the block
// data (for connecting more).
func fullServer(t *testing.T, upto int) (*Server, *httptest.Server, []wire.BlockHeader, []index.BlockData) {
	t.Helper()
	data := index.MainnetBlockData(t, 0)
	db := index.NewTestDB(t, analysis.Mainnet)
	if err := db.SetBlocksFrom(0, true); err != nil {
		t.Fatalf("keep full blocks: %v", err)
	}
	index.ConnectBlocks(t, db, data[:upto])
	srv := New(db, Options{})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return srv, ts, index.MainnetHeaders(t), data
}

// fetch GETs url and returns the status, content type and body.
func fetch(t *testing.T, method, url string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

// getJSON GETs url, requires a 200 JSON answer and decodes it into v.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	status, ctype, body := fetch(t, http.MethodGet, url)
	if status != http.StatusOK || ctype != "application/json" {
		t.Fatalf("GET %s: status %d, %s: %s", url, status, ctype, body)
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("GET %s: decode: %v\n%s", url, err, body)
	}
}

// wantError requires a JSON error with status want and a non-empty message.
func wantError(t *testing.T, method, url string, want int) string {
	t.Helper()
	status, ctype, body := fetch(t, method, url)
	var e struct {
		Error string `json:"error"`
	}
	if status != want || ctype != "application/json" || json.Unmarshal(body, &e) != nil || e.Error == "" {
		t.Errorf("%s %s: got %d %s %q, want %d with a JSON error", method, url, status, ctype, body, want)
	}
	return e.Error
}

// jsonKind names the JSON type of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "?"
}

// checkShape requires obj to have exactly the fields of shape, each of the
// JSON type shape names ("number", "string|null", ...).
func checkShape(t *testing.T, what string, obj map[string]any, shape map[string]string) {
	t.Helper()
	for k, want := range shape {
		v, ok := obj[k]
		if !ok {
			t.Errorf("%s: field %q missing", what, k)
			continue
		}
		if got := jsonKind(v); !strings.Contains("|"+want+"|", "|"+got+"|") {
			t.Errorf("%s: field %q is %s, want %s", what, k, got, want)
		}
	}
	for k := range obj {
		if _, ok := shape[k]; !ok {
			t.Errorf("%s: unexpected field %q", what, k)
		}
	}
}

// num reads a json.Number as float64.
func num(t *testing.T, v any) float64 {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("%v is not a number", v)
	}
	f, err := n.Float64()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// blocksIn returns the heights of the headers (0 to tip) stamped in (from, to].
func blocksIn(hdrs []wire.BlockHeader, tip int, from, to int64) []int {
	var out []int
	for h := 0; h <= tip; h++ {
		if ts := hdrs[h].Timestamp.Unix(); ts > from && ts <= to {
			out = append(out, h)
		}
	}
	return out
}

// coreHashPS is Bitcoin Core's getnetworkhashps(n, height) on a chain of
// difficulty-1 blocks: n blocks of work over the spread of the timestamps of
// blocks height-n to height.
func coreHashPS(hdrs []wire.BlockHeader, n, height int) float64 {
	lo, hi := hdrs[height].Timestamp.Unix(), hdrs[height].Timestamp.Unix()
	for h := height - n; h <= height; h++ {
		ts := hdrs[h].Timestamp.Unix()
		lo, hi = min(lo, ts), max(hi, ts)
	}
	return float64(n) * diff1Work / float64(hi-lo)
}

// relClose reports whether a and b agree to 1e-9 relative.
func relClose(a, b float64) bool {
	if a == b {
		return true
	}
	d := a - b
	if d < 0 {
		d = -d
	}
	return d <= 1e-9*max(abs(a), abs(b))
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// TestDiff1Work checks the constant the tests rely on from its definition.
func TestDiff1Work(t *testing.T) {
	target := new(big.Int).Lsh(big.NewInt(0xffff), 208)
	work := new(big.Int).Div(new(big.Int).Lsh(big.NewInt(1), 256), target.Add(target, big.NewInt(1)))
	if work.Int64() != diff1Work {
		t.Fatalf("work of difficulty 1 is %v, the tests assume %d", work, diff1Work)
	}
}

// independentReserve replays the mainnet test blocks to the tip with the
// definition of the README: a non-zero coinbase output makes its script a
// miner script (hops 0); the reserve is the value of the unspent outputs
// paid to miner scripts once they are miner scripts. The genesis coinbase is
// left out: consensus never made its output spendable.
func independentReserve(t *testing.T) int64 {
	t.Helper()
	scripts := map[string]bool{}
	utxos := map[wire.OutPoint]int64{}
	for _, blk := range index.MainnetBlocks(t)[1 : testTip+1] {
		for i, tx := range blk.Transactions {
			txid := tx.TxHash()
			if i > 0 {
				for _, in := range tx.TxIn {
					delete(utxos, in.PreviousOutPoint)
				}
			}
			for n, out := range tx.TxOut {
				spendable := len(out.PkScript) > 0 && out.PkScript[0] != 0x6a // OP_RETURN
				if i == 0 && out.Value > 0 && spendable {
					scripts[string(out.PkScript)] = true
				}
				if scripts[string(out.PkScript)] && out.Value > 0 {
					utxos[wire.OutPoint{Hash: txid, Index: uint32(n)}] = out.Value
				}
			}
		}
	}
	var total int64
	for _, v := range utxos {
		total += v
	}
	return total
}
