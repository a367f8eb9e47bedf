package chain

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// modernBlocks are two real mainnet segwit blocks (1.2 and 2.3 MB, about
// 3,000 transactions) that btcd ships in wire/testdata, named by their hash.
var modernBlocks = []string{
	"0000000000000000001602407ac49862a7bca9d00f7f402db20b7be2f5de59d2",
	"00000000000000000021868c2cefc52a480d173c849412fe81c4e5ab806f94ab",
}

var (
	btcdDirOnce sync.Once
	btcdDir     string
	btcdDirErr  error
)

// readModernBlock returns the serialized block and its published hash.
func readModernBlock(t testing.TB, name string) ([]byte, chainhash.Hash) {
	t.Helper()
	btcdDirOnce.Do(func() {
		var out []byte
		out, btcdDirErr = exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/btcsuite/btcd").Output()
		btcdDir = strings.TrimSpace(string(out))
	})
	if btcdDirErr != nil {
		t.Fatalf("locate btcd module: %v", btcdDirErr)
	}
	raw, err := os.ReadFile(filepath.Join(btcdDir, "wire", "testdata", "block-"+name+".blk"))
	if err != nil {
		t.Fatal(err)
	}
	hash, err := chainhash.NewHashFromStr(name)
	if err != nil {
		t.Fatal(err)
	}
	return raw, *hash
}

// btcdMerkleRoot is btcd's own merkle root of blk's transactions.
func btcdMerkleRoot(blk *wire.MsgBlock) chainhash.Hash {
	txs := make([]*btcutil.Tx, len(blk.Transactions))
	for i, tx := range blk.Transactions {
		txs[i] = btcutil.NewTx(tx)
	}
	return blockchain.CalcMerkleRoot(txs, false)
}

// TestCheckBlockRealBlocks checks real blocks, old and segwit, against
// their published hashes and btcd's merkle root and txids.
func TestCheckBlockRealBlocks(t *testing.T) {
	type named struct {
		raw  []byte
		hash chainhash.Hash
	}
	var blocks []named
	mainnet := mainnetBlocks(t)
	for h := 0; h < len(mainnet); h += 97 {
		blocks = append(blocks, named{mainnet[h], chainhash.DoubleHashH(mainnet[h][:80])})
	}
	for _, name := range modernBlocks {
		raw, hash := readModernBlock(t, name)
		blocks = append(blocks, named{raw, hash})
	}

	segwit := 0
	for _, b := range blocks {
		blk, ids, reason := checkBlock(b.raw, b.hash)
		if reason != "" {
			t.Fatalf("block %v: %s", b.hash, reason)
		}
		if len(ids) != len(blk.Transactions) {
			t.Fatalf("block %v: %d txids for %d transactions", b.hash, len(ids), len(blk.Transactions))
		}
		for i, tx := range blk.Transactions {
			if ids[i] != tx.TxHash() {
				t.Fatalf("block %v tx %d: checkBlock txid %v, btcd %v", b.hash, i, ids[i], tx.TxHash())
			}
		}
		var want wire.MsgBlock
		if err := want.Deserialize(bytes.NewReader(b.raw)); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(blk, &want) {
			t.Fatalf("block %v: decoded block differs from wire's", b.hash)
		}
		if root := btcdMerkleRoot(blk); root != blk.Header.MerkleRoot {
			t.Fatalf("block %v: btcd's merkle root %v, header %v", b.hash, root, blk.Header.MerkleRoot)
		}
		locs, err := new(wire.MsgBlock).DeserializeTxLoc(bytes.NewBuffer(b.raw))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		for i, tx := range blk.Transactions {
			raw := b.raw[locs[i].TxStart : locs[i].TxStart+locs[i].TxLen]
			if got := txid(h, raw, tx); got != tx.TxHash() {
				t.Fatalf("block %v tx %d: txid %v, btcd %v", b.hash, i, got, tx.TxHash())
			}
			if tx.HasWitness() {
				segwit++
			}
		}
	}
	if segwit < 1000 {
		t.Errorf("only %d segwit transactions checked", segwit)
	}
}

// TestCheckBlockRejects: each way a block can be wrong gives a reason.
func TestCheckBlockRejects(t *testing.T) {
	raw, hash := readModernBlock(t, modernBlocks[0])
	var blk wire.MsgBlock
	if err := blk.Deserialize(bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	locs, err := new(wire.MsgBlock).DeserializeTxLoc(bytes.NewBuffer(raw))
	if err != nil {
		t.Fatal(err)
	}

	// A block with an odd number of transactions stays valid-looking when
	// its last transaction is repeated (CVE-2012-2459).
	mainnet := mainnetBlocks(t)
	var odd []byte
	for _, b := range mainnet {
		var m wire.MsgBlock
		if err := m.Deserialize(bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		if len(m.Transactions) == 3 {
			m.Transactions = append(m.Transactions, m.Transactions[2])
			var buf bytes.Buffer
			if err := m.Serialize(&buf); err != nil {
				t.Fatal(err)
			}
			if btcdMerkleRoot(&m) != m.Header.MerkleRoot {
				t.Fatal("repeating the last of 3 transactions changed the merkle root")
			}
			odd = buf.Bytes()
			break
		}
	}
	if odd == nil {
		t.Fatal("no block with 3 transactions in the mainnet test blocks")
	}

	flip := func(i int) []byte {
		b := bytes.Clone(raw)
		b[i] ^= 1
		return b
	}
	tests := []struct {
		name string
		raw  []byte
		hash chainhash.Hash
		want string
	}{
		{"other block", raw, chainhash.Hash{1}, "its header hashes to " + hash.String()},
		{"short", raw[:79], hash, "shorter than a header"},
		{"truncated", raw[:len(raw)-1], hash, "do not decode"},
		{"trailing bytes", append(bytes.Clone(raw), 0), hash, "1 bytes follow"},
		{"tampered tx version", flip(locs[1].TxStart + 1), hash, "merkle root"},
		{"tampered output", flip(lastOutputByte(t, raw, &blk, locs)), hash, "merkle root"},
		{"tampered coinbase", flip(locs[0].TxStart + 50), hash, "merkle root"},
		{"repeated tx", odd, chainhash.DoubleHashH(odd[:80]), "CVE-2012-2459"},
		{"no transactions", append(bytes.Clone(raw[:80]), 0), hash, "no transactions"},
	}
	for _, tt := range tests {
		_, _, reason := checkBlock(tt.raw, tt.hash)
		if !strings.Contains(reason, tt.want) {
			t.Errorf("%s: reason %q, want it to contain %q", tt.name, reason, tt.want)
		}
	}
}

// TestMerkleOfMatchesBtcd compares merkleOf with btcd on random leaves.
func TestMerkleOfMatchesBtcd(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 70; n++ {
		txs := make([]*btcutil.Tx, n)
		ids := make([]chainhash.Hash, n)
		for i := range txs {
			tx := wire.NewMsgTx(1)
			tx.LockTime = rng.Uint32()
			tx.AddTxOut(wire.NewTxOut(rng.Int64N(1e8), []byte{byte(i)}))
			txs[i] = btcutil.NewTx(tx)
			ids[i] = tx.TxHash()
		}
		root, mutated := merkleOf(ids)
		if want := blockchain.CalcMerkleRoot(txs, false); root != want || mutated {
			t.Fatalf("%d leaves: root %v mutated %v, btcd %v", n, root, mutated, want)
		}
	}
}

// TestScanHexBatch: the fast path agrees with decodeBatch where it applies
// and declines everything else.
func TestScanHexBatch(t *testing.T) {
	reqs := []Request{{Method: "getblock"}, {Method: "getblock"}, {Method: "getblock"}}
	tests := []struct {
		name string
		data string
		fast bool
	}{
		{"in order", `[{"result":"00ab","error":null,"id":5},{"result":"01","error":null,"id":6},{"result":"","error":null,"id":7}]`, true},
		{"shuffled, spaced, key order", " [ {\"id\": 7, \"error\" : null, \"result\":\"\"} ,\n{\"error\":null,\"result\":\"01\",\"id\":6},{\"result\":\"00ab\",\"id\":5,\"error\":null}]\r\n", true},
		{"item error", `[{"result":null,"error":{"code":-5,"message":"Block not found"},"id":5},{"result":"01","error":null,"id":6},{"result":"","error":null,"id":7}]`, false},
		{"escape", `[{"result":"0\u0030","error":null,"id":5},{"result":"01","error":null,"id":6},{"result":"","error":null,"id":7}]`, false},
		{"btcd's jsonrpc key, no error key", `[{"jsonrpc":"1.0","result":"00ab","id":5},{"result":"01","error":null,"id":6},{"result":"","error":null,"id":7}]`, true},
		{"extra key", `[{"result":"00","error":null,"id":5,"foo":"2.0"},{"result":"01","error":null,"id":6},{"result":"","error":null,"id":7}]`, false},
		{"missing reply", `[{"result":"00","error":null,"id":5},{"result":"01","error":null,"id":6}]`, false},
		{"duplicate id", `[{"result":"00","error":null,"id":5},{"result":"01","error":null,"id":5},{"result":"","error":null,"id":7}]`, false},
		{"trailing junk", `[{"result":"00","error":null,"id":5},{"result":"01","error":null,"id":6},{"result":"","error":null,"id":7}]x`, false},
		{"single object", `{"result":null,"error":{"code":-32700,"message":"Parse error"},"id":null}`, false},
	}
	for _, tt := range tests {
		fast, ok := scanHexBatch([]byte(tt.data), 5, len(reqs))
		if ok != tt.fast {
			t.Errorf("%s: fast path %v, want %v", tt.name, ok, tt.fast)
			continue
		}
		got, gotErrs, gotErr := decodeHexBatch(reqs, 5, []byte(tt.data))
		want, wantErrs, wantErr := decodeBatch(reqs, 5, []byte(tt.data))
		if ok && !reflect.DeepEqual(fast, want) {
			t.Errorf("%s: fast %q, decodeBatch %q", tt.name, fast, want)
		}
		if !reflect.DeepEqual(got, want) || (gotErr == nil) != (wantErr == nil) || len(gotErrs) != len(wantErrs) {
			t.Errorf("%s: decodeHexBatch %q %v %v, decodeBatch %q %v %v", tt.name, got, gotErrs, gotErr, want, wantErrs, wantErr)
		}
		for i := range wantErrs {
			if (gotErrs[i] == nil) != (wantErrs[i] == nil) {
				t.Errorf("%s: item %d error %v, want %v", tt.name, i, gotErrs[i], wantErrs[i])
			}
		}
	}
}

// TestFetchBlocksInOrder: whatever the batching, concurrency and answer
// order, blocks arrive in height order, byte-identical to what the node
// served, with at most inFlight requests at once.
func TestFetchBlocksInOrder(t *testing.T) {
	blocks := mainnetBlocks(t)[:3000]
	hashes := hashesOf(blocks)
	tests := []struct {
		from, to            int32
		batchSize, inFlight int
		rest                bool
	}{
		{0, 2999, 97, 4, false},
		{1, 2998, 500, 1, false},
		{2500, 2999, 0, 0, false},
		{7, 7, 10, 3, false},
		{0, 2999, 3000, 8, false},
		{100, 1100, 0, 5, true},
		{0, 0, 0, 1, true},
	}
	for _, tt := range tests {
		f := newBlockNode(t, blocks)
		f.shuffle = true
		f.rest.Store(tt.rest)
		// Uneven answer times make later batches overtake earlier ones.
		f.delay = func(n int64) { time.Sleep(time.Duration(n*7%5) * time.Millisecond) }
		c := f.dial(t)

		var src BlockSource = NewRPCBlockSource(c, tt.batchSize, tt.inFlight)
		if tt.rest {
			src = NewRESTBlockSource(c, tt.inFlight)
		}
		want := hashes[tt.from : tt.to+1]
		ch, errf := src.FetchBlocks(testCtx(t), tt.from, want)
		got := collectBlocks(t, tt.from, want, ch)
		if err := errf(); err != nil {
			t.Fatalf("%+v: %v", tt, err)
		}
		sameBlocks(t, src.Name(), tt.from, got, blocks[tt.from:tt.to+1])
		limit := int64(orDefault(tt.inFlight, DefaultBlockInFlight))
		if tt.rest {
			limit = int64(orDefault(tt.inFlight, DefaultRESTInFlight))
		}
		if m := f.maxInFlight.Load(); m > limit {
			t.Errorf("%+v: %d concurrent requests, want <= %d", tt, m, limit)
		}
		if name := src.Name(); tt.rest != (name == "rest") || (tt.rest && f.rpcBlocks.Load() != 0) {
			t.Errorf("%+v: source %s, %d blocks over RPC", tt, name, f.rpcBlocks.Load())
		}
	}
}

// TestFetchBlocksBoundedMemory: a consumer that takes its time never has
// more than batch size × in-flight blocks fetched ahead of it.
func TestFetchBlocksBoundedMemory(t *testing.T) {
	blocks := mainnetBlocks(t)[:600]
	hashes := hashesOf(blocks)
	for _, tt := range []struct{ batch, inFlight int }{{10, 3}, {1, 1}, {7, 1}, {25, 4}} {
		f := newBlockNode(t, blocks)
		c := f.dial(t)
		bound := int64(tt.batch * tt.inFlight)

		// Before taking each block the consumer waits until the node has
		// served the batches the pipeline fetches ahead (the one being
		// delivered and inFlight-1 more), then checks that no more than
		// the bound was served: the fetch must fill and respect it.
		var consumed int64
		ch, errf := NewRPCBlockSource(c, tt.batch, tt.inFlight).FetchBlocks(testCtx(t), 0, hashes)
		for {
			ahead := (consumed/int64(tt.batch) + int64(tt.inFlight)) * int64(tt.batch)
			waitFor(t, func() bool { return f.served.Load() >= min(ahead, int64(len(blocks))) })
			if served := f.served.Load(); served > consumed+bound {
				t.Fatalf("batch %d in flight %d: %d blocks served with %d consumed", tt.batch, tt.inFlight, served, consumed)
			}
			if _, ok := <-ch; !ok {
				break
			}
			consumed++
		}
		if err := errf(); err != nil || consumed != int64(len(blocks)) {
			t.Fatalf("%d blocks, %v", consumed, err)
		}
	}
}

// waitFor polls cond until it holds or the test's deadline passes.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	ctx := testCtx(t)
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatal("condition never held")
		case <-time.After(100 * time.Microsecond):
		}
	}
}

// TestFetchBlocksBadBlock: a block that does not match its hash or merkle
// root stops the fetch with a BadBlockError naming its height, after the
// blocks below it were delivered.
func TestFetchBlocksBadBlock(t *testing.T) {
	blocks := mainnetBlocks(t)[:2000]
	hashes := hashesOf(blocks)
	tests := []struct {
		name    string
		corrupt func(raw []byte) []byte
		reason  string
	}{
		{"merkle", func(raw []byte) []byte { raw[len(raw)-10] ^= 0x40; return raw }, "merkle root"},
		{"hash", func(raw []byte) []byte { raw[0] ^= 1; return raw }, "header hashes to"},
		{"cut", func(raw []byte) []byte { return raw[:len(raw)-3] }, "do not decode"},
	}
	for _, tt := range tests {
		for _, rest := range []bool{false, true} {
			f := newBlockNode(t, blocks)
			f.rest.Store(rest)
			f.corrupt = func(h int32, raw []byte) []byte {
				if h == 1234 {
					return tt.corrupt(raw)
				}
				return raw
			}
			c := f.dial(t)
			var src BlockSource = NewRPCBlockSource(c, 50, 3)
			if rest {
				src = NewRESTBlockSource(c, 4)
			}
			ch, errf := src.FetchBlocks(testCtx(t), 0, hashes)
			got := collectBlocks(t, 0, hashes, ch)
			err := errf()
			var bad *BadBlockError
			if !errors.As(err, &bad) || !errors.Is(err, ErrBadBlock) || bad.Height != 1234 ||
				bad.Hash != hashes[1234] || bad.Source != src.Name() || !strings.Contains(err.Error(), "height 1234") {
				t.Fatalf("%s/%s: err = %v, want a bad block at height 1234", tt.name, src.Name(), err)
			}
			if !strings.Contains(bad.Reason, tt.reason) {
				t.Errorf("%s/%s: reason %q, want %q", tt.name, src.Name(), bad.Reason, tt.reason)
			}
			if len(got) != 1234 {
				t.Errorf("%s/%s: %d blocks delivered before the bad one, want 1234", tt.name, src.Name(), len(got))
			}
		}
	}
}

// TestFetchBlocksPruned: a pruned node's missing blocks give one
// PrunedError with the first available height, upfront or when the node
// prunes during the fetch.
func TestFetchBlocksPruned(t *testing.T) {
	blocks := mainnetBlocks(t)[:3000]
	hashes := hashesOf(blocks)
	for _, rest := range []bool{false, true} {
		f := newBlockNode(t, blocks)
		f.rest.Store(rest)
		f.pruneHeight.Store(1500)
		c := f.dial(t)
		newSrc := func() BlockSource {
			if rest {
				return NewRESTBlockSource(c, 3)
			}
			return NewRPCBlockSource(c, 40, 3)
		}

		first, pruned, err := c.PruneHeight(testCtx(t))
		if err != nil || !pruned || first != 1500 {
			t.Fatalf("PruneHeight = %d %v %v", first, pruned, err)
		}

		// Upfront: nothing is fetched.
		ch, errf := newSrc().FetchBlocks(testCtx(t), 1000, hashes[1000:])
		got := collectBlocks(t, 1000, hashes[1000:], ch)
		err = errf()
		var pe *PrunedError
		if !errors.As(err, &pe) || pe.FirstAvailable != 1500 || !errors.Is(err, ErrPruned) || len(got) != 0 {
			t.Fatalf("rest=%v: %d blocks, err = %v; want PrunedError at 1500", rest, len(got), err)
		}
		if want := "the node has pruned blocks below height 1500; rerun with --from-height 1500"; err.Error() != want {
			t.Errorf("message %q", err.Error())
		}

		// From the first available height on, everything is there.
		ch, errf = newSrc().FetchBlocks(testCtx(t), 1500, hashes[1500:])
		got = collectBlocks(t, 1500, hashes[1500:], ch)
		if err := errf(); err != nil {
			t.Fatal(err)
		}
		sameBlocks(t, "after prune height", 1500, got, blocks[1500:])

		// The node prunes up to 2500 once the fetch has started.
		f.pruneHeight.Store(0)
		base := f.served.Load()
		f.mu.Lock()
		f.observe = func(n int64) {
			if n == base+1 {
				f.pruneHeight.Store(2500)
			}
		}
		f.mu.Unlock()
		ch, errf = newSrc().FetchBlocks(testCtx(t), 2000, hashes[2000:])
		collectBlocks(t, 2000, hashes[2000:], ch)
		if err := errf(); !errors.As(err, &pe) || pe.FirstAvailable != 2500 {
			t.Fatalf("rest=%v: pruned during the fetch: err = %v", rest, err)
		}
		f.mu.Lock()
		f.observe = nil
		f.mu.Unlock()
	}
}

// TestFetchBlocksNotFound: a hash the node does not know (reorganised
// away) gives ErrBlockNotFound with its height.
func TestFetchBlocksNotFound(t *testing.T) {
	blocks := mainnetBlocks(t)[:300]
	hashes := hashesOf(blocks)
	hashes[123] = chainhash.Hash{9}
	for _, rest := range []bool{false, true} {
		f := newBlockNode(t, blocks)
		f.rest.Store(rest)
		c := f.dial(t)
		var src BlockSource = NewRPCBlockSource(c, 20, 2)
		if rest {
			src = NewRESTBlockSource(c, 2)
		}
		ch, errf := src.FetchBlocks(testCtx(t), 0, hashes)
		got := collectBlocks(t, 0, hashes, ch)
		err := errf()
		if !errors.Is(err, ErrBlockNotFound) || !strings.Contains(err.Error(), "block 123 ") || len(got) != 123 {
			t.Errorf("%s: %d blocks, err = %v", src.Name(), len(got), err)
		}
	}
}

// TestRESTFallsBackToRPC: without REST the REST source fetches over
// JSON-RPC, whether REST was missing from the start or went away.
func TestRESTFallsBackToRPC(t *testing.T) {
	blocks := mainnetBlocks(t)[:500]
	hashes := hashesOf(blocks)
	ctx := testCtx(t)

	f := newBlockNode(t, blocks)
	c := f.dial(t)
	if c.RESTAvailable(ctx) {
		t.Fatal("RESTAvailable with REST off")
	}
	src := AutoBlockSource(c)
	ch, errf := src.FetchBlocks(ctx, 0, hashes)
	got := collectBlocks(t, 0, hashes, ch)
	if err := errf(); err != nil {
		t.Fatal(err)
	}
	sameBlocks(t, "fallback", 0, got, blocks)
	if src.Name() != "rpc" || f.rpcBlocks.Load() != int64(len(blocks)) {
		t.Errorf("source %q, %d blocks over RPC", src.Name(), f.rpcBlocks.Load())
	}

	// REST on, then off after 100 blocks.
	f = newBlockNode(t, blocks)
	f.rest.Store(true)
	c = f.dial(t)
	if !c.RESTAvailable(ctx) {
		t.Fatal("RESTAvailable with REST on")
	}
	f.observe = func(n int64) {
		if n == 100 {
			f.rest.Store(false)
		}
	}
	rs := NewRESTBlockSource(c, 1)
	ch, errf = rs.FetchBlocks(ctx, 0, hashes)
	got = collectBlocks(t, 0, hashes, ch)
	if err := errf(); err != nil {
		t.Fatal(err)
	}
	sameBlocks(t, "fallback midway", 0, got, blocks)
	if rs.Name() != "rpc" || f.rpcBlocks.Load() != int64(len(blocks)-100) {
		t.Errorf("source %q, %d blocks over RPC, want %d", rs.Name(), f.rpcBlocks.Load(), len(blocks)-100)
	}
}

// TestFetchBlocksCancel: cancelling stops the fetch and errf reports it.
func TestFetchBlocksCancel(t *testing.T) {
	blocks := mainnetBlocks(t)[:3000]
	hashes := hashesOf(blocks)
	f := newBlockNode(t, blocks)
	c := f.dial(t)
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()

	ch, errf := NewRPCBlockSource(c, 20, 3).FetchBlocks(ctx, 0, hashes)
	n := 0
	for range ch {
		if n++; n == 30 {
			cancel()
		}
	}
	if err := errf(); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n >= 3000 || f.served.Load() > int64(30+3*20+20) {
		t.Errorf("%d delivered, %d served despite cancel", n, f.served.Load())
	}

	ch, errf = NewRPCBlockSource(c, 20, 3).FetchBlocks(testCtx(t), 5, nil)
	if _, ok := <-ch; ok || errf() != nil {
		t.Errorf("empty fetch: %v", errf())
	}
}

// TestBaselineBlocks counts what the baseline fetched.
func TestBaselineBlocks(t *testing.T) {
	blocks := mainnetBlocks(t)[:1000]
	hashes := hashesOf(blocks)
	var size int64
	for _, b := range blocks[10:] {
		size += int64(len(b))
	}
	f := newBlockNode(t, blocks)
	f.rest.Store(true)
	c := f.dial(t)
	for _, src := range []BlockSource{NewRPCBlockSource(c, 33, 3), NewRESTBlockSource(c, 3), otherSource{NewRPCBlockSource(c, 0, 0)}} {
		st, err := BaselineBlocks(testCtx(t), src, 10, hashes[10:])
		if err != nil || st.Blocks != 990 || st.Bytes != size {
			t.Errorf("%s: %+v, %v; want 990 blocks, %d bytes", src.Name(), st, err, size)
		}
	}
	f.pruneHeight.Store(50)
	_, err := BaselineBlocks(testCtx(t), NewRPCBlockSource(c, 0, 0), 10, hashes[10:])
	if !errors.Is(err, ErrPruned) {
		t.Errorf("baseline on a pruned node: %v", err)
	}
}

// otherSource hides the pipeline from BaselineBlocks.
type otherSource struct{ BlockSource }

// TestDecodeHexBatchOnBlocks: getblock batches of real 2.3 MB blocks take
// the fast path.
func TestDecodeHexBatchOnBlocks(t *testing.T) {
	raw, hash := readModernBlock(t, modernBlocks[1])
	f := newBlockNode(t, [][]byte{mainnetBlocks(t)[0], raw})
	c := f.dial(t)
	reqs := []Request{{Method: "getblock", Params: []any{hash.String(), 0}}, {Method: "getblock", Params: []any{hash.String(), 0}}}
	body, _ := encodeBatch(1, reqs)
	data, err := c.exchange(testCtx(t), body)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := scanHexBatch(data, 1, 2); !ok {
		t.Fatalf("fast path declined a getblock batch: %.200s", data)
	}
	var replies []json.RawMessage
	if err := json.Unmarshal(data, &replies); err != nil || len(replies) != 2 {
		t.Fatal(err)
	}
}

// lastOutputByte is the offset in raw of the last byte of the last output
// script of the block's second transaction (covered by its txid).
func lastOutputByte(t *testing.T, raw []byte, blk *wire.MsgBlock, locs []wire.TxLoc) int {
	t.Helper()
	tx := blk.Transactions[1]
	end := locs[1].TxStart + locs[1].TxLen - 4 // lock time
	if tx.HasWitness() {
		end -= tx.SerializeSize() - tx.SerializeSizeStripped() - 2 // witnesses
	}
	if last := tx.TxOut[len(tx.TxOut)-1].PkScript; raw[end-1] != last[len(last)-1] {
		t.Fatal("lastOutputByte: offset does not hold the script's last byte")
	}
	return end - 1
}

// TestRESTStatus classifies bitcoind's REST replies (rest.cpp) and what a
// node without REST answers.
func TestRESTStatus(t *testing.T) {
	c := &Client{addr: "node:8332"}
	const hash = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
	tests := []struct {
		status int
		body   string
		want   error // nil: the body is the block
	}{
		{200, "\x01\x00", nil},
		{503, "Service temporarily unavailable: Loading block index…", ErrBusy},
		{404, hash + " not found\r\n", ErrBlockNotFound},
		{404, hash + " not available (pruned data)\r\n", ErrBlockNotFound},
		{404, "", errNoREST},
		{404, "<html><body>404 Not Found</body></html>", errNoREST},
		{403, "", errNoREST},
		{401, "", errNoREST},
		{400, "Invalid hash: xyz", ErrProtocol},
	}
	for _, tt := range tests {
		body, err := c.restStatus(tt.status, []byte(tt.body))
		if tt.want == nil {
			if err != nil || string(body) != tt.body {
				t.Errorf("%d %q: %q, %v", tt.status, tt.body, body, err)
			}
		} else if !errors.Is(err, tt.want) {
			t.Errorf("%d %q: err = %v, want %v", tt.status, tt.body, err, tt.want)
		}
	}
}
