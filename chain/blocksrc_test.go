package chain

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/chain/chaintest"
)

// fetchAll runs src over hashes and returns the delivered bytes.
func fetchAll(t *testing.T, ctx context.Context, src BlockSource, from int32, hashes []chainhash.Hash) [][]byte {
	t.Helper()
	ch, errf := src.FetchBlocks(ctx, from, hashes)
	got := collectBlocks(t, from, hashes, ch)
	if err := errf(); err != nil {
		t.Fatalf("%s: %v", src.Name(), err)
	}
	return got
}

// TestBlockSourcesBtcdMainnet: the three sources deliver the real mainnet
// blocks 0-14131 byte-identical to btcd's block file: JSON-RPC from a real
// btcd, REST from a server serving the bytes that btcd returns for
// getblock <hash> 0 (btcd has no REST), and blk files in Core's format.
func TestBlockSourcesBtcdMainnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts btcd")
	}
	blocks := mainnetBlocks(t)
	n := chaintest.StartMainnet(t)
	ctx := nodeCtx(t)
	c := dialNode(t, ctx, n, nil)

	hashes, err := c.BlockHashes(ctx, 0, mainnetTip)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(hashes, hashesOf(blocks)) {
		t.Fatal("btcd's chain differs from its block file")
	}

	rpc := fetchAll(t, ctx, NewRPCBlockSource(c, 0, 0), 0, hashes)
	sameBlocks(t, "rpc", 0, rpc, blocks)

	front := newBtcdFront(t, n, blocks)
	front.rest.Store(true)
	restSrc := NewRESTBlockSource(front.dial(t), 0)
	rest := fetchAll(t, ctx, restSrc, 0, hashes)
	sameBlocks(t, "rest", 0, rest, rpc)
	if restSrc.Name() != "rest" || front.rpcBlocks.Load() != 0 {
		t.Errorf("REST source %q fetched %d blocks over RPC", restSrc.Name(), front.rpcBlocks.Load())
	}

	key := []byte{0x31, 0x41, 0x59, 0x26, 0x53, 0x58, 0x97, 0x93}
	blk, _ := newBlkSource(t, nodeOrder(t, blocks, 4),
		chaintest.BlkFileOptions{XORKey: key, MaxFileSize: 512 << 10, Preallocate: chaintest.CoreBlkChunkSize})
	sameBlocks(t, "blk", 0, fetchAll(t, ctx, blk, 0, hashes), rpc)

	t.Run("RESTFallsBackOnBtcd", func(t *testing.T) {
		if c.RESTAvailable(ctx) {
			t.Fatal("btcd claims to serve REST")
		}
		src := NewRESTBlockSource(c, 0)
		got := fetchAll(t, ctx, src, 14000, hashes[14000:])
		sameBlocks(t, "rest→rpc", 14000, got, blocks[14000:])
		if src.Name() != "rpc" {
			t.Errorf("source %q", src.Name())
		}
	})

	t.Run("Pruned", func(t *testing.T) {
		f := newBtcdFront(t, n, blocks)
		f.rest.Store(true)
		f.pruneHeight.Store(7000)
		fc := f.dial(t)
		for _, src := range []BlockSource{NewRPCBlockSource(fc, 0, 0), NewRESTBlockSource(fc, 0)} {
			ch, errf := src.FetchBlocks(ctx, 0, hashes)
			got := collectBlocks(t, 0, hashes, ch)
			var pe *PrunedError
			if err := errf(); !errors.As(err, &pe) || pe.FirstAvailable != 7000 || len(got) != 0 {
				t.Errorf("%s: %d blocks, err = %v; want PrunedError at 7000", src.Name(), len(got), err)
			}
			sameBlocks(t, src.Name(), 7000, fetchAll(t, ctx, src, 7000, hashes[7000:7100]), blocks[7000:7100])
		}
	})

	t.Run("BadBlock", func(t *testing.T) {
		f := newBtcdFront(t, n, blocks)
		f.rest.Store(true)
		f.corrupt = func(h int32, raw []byte) []byte {
			if h == 9999 {
				raw[len(raw)-5] ^= 0x80 // the coinbase's lock time: the merkle root changes
			}
			return raw
		}
		fc := f.dial(t)
		for _, src := range []BlockSource{NewRPCBlockSource(fc, 0, 0), NewRESTBlockSource(fc, 0)} {
			ch, errf := src.FetchBlocks(ctx, 9990, hashes[9990:10010])
			got := collectBlocks(t, 9990, hashes[9990:10010], ch)
			var bad *BadBlockError
			if err := errf(); !errors.As(err, &bad) || bad.Height != 9999 || len(got) != 9 {
				t.Errorf("%s: %d blocks, err = %v; want a bad block at 9999", src.Name(), len(got), err)
			}
		}
	})

	t.Run("Baseline", func(t *testing.T) {
		var size int64
		for _, b := range blocks {
			size += int64(len(b))
		}
		for _, src := range []BlockSource{NewRPCBlockSource(c, 0, 0), blk} {
			st, err := BaselineBlocks(ctx, src, 0, hashes)
			if err != nil || st.Blocks != mainnetTip+1 || st.Bytes != size {
				t.Errorf("%s baseline: %+v, %v; want %d blocks, %d bytes", src.Name(), st, err, mainnetTip+1, size)
			}
		}
	})
}

// TestBlockSourcesBtcdSimnet: blocks with several coinbase outputs and a
// segwit spend, accepted by btcd, come back from the RPC and blk sources
// byte-identical to what was submitted.
func TestBlockSourcesBtcdSimnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts btcd")
	}
	n := chaintest.StartSimnet(t)
	ctx := nodeCtx(t)
	built := buildSegwitChain(t, ctx, n)
	c := dialNode(t, ctx, n, nil)

	hashes, err := c.BlockHashes(ctx, 1, int32(len(built)))
	if err != nil {
		t.Fatal(err)
	}
	var want [][]byte
	for i, blk := range built {
		if blk.BlockHash() != hashes[i] {
			t.Fatalf("node's block %d is not the one submitted", i+1)
		}
		var buf bytes.Buffer
		if err := blk.Serialize(&buf); err != nil {
			t.Fatal(err)
		}
		want = append(want, buf.Bytes())
	}
	if !built[len(built)-1].Transactions[1].HasWitness() {
		t.Fatal("the last block carries no segwit spend")
	}

	rpc := fetchAll(t, ctx, NewRPCBlockSource(c, 16, 3), 1, hashes)
	sameBlocks(t, "rpc", 1, rpc, want)

	dir := t.TempDir()
	all := append([][]byte{genesisBytes(t, &chaincfg.SimNetParams)}, rpc...)
	if _, err := chaintest.WriteBlkFiles(dir, all, chaintest.BlkFileOptions{Net: wire.SimNet, XORKey: []byte{9, 8, 7, 6, 5, 4, 3, 2}}); err != nil {
		t.Fatal(err)
	}
	blk, err := NewBlkFileSource(dir, analysis.Simnet)
	if err != nil {
		t.Fatal(err)
	}
	sameBlocks(t, "blk", 1, fetchAll(t, ctx, blk, 1, hashes), want)
}

func genesisBytes(t *testing.T, p *chaincfg.Params) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := p.GenesisBlock.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// buildSegwitChain mines 101 simnet blocks whose coinbases pay P2PK, P2PKH,
// P2WPKH, P2TR and OP_RETURN outputs, then a block spending block 1's
// P2WPKH output with a witness, and returns the blocks submitted.
func buildSegwitChain(t *testing.T, ctx context.Context, n *chaintest.Node) []*wire.MsgBlock {
	t.Helper()
	key := chaintest.MiningKey()
	pub := key.PubKey()
	p2pk, _ := btcutil.NewAddressPubKey(pub.SerializeCompressed(), n.Params)
	wpkh, _ := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(pub.SerializeCompressed()), n.Params)
	tr, _ := btcutil.NewAddressTaproot(schnorr.SerializePubKey(txscript.ComputeTaprootKeyNoScript(pub)), n.Params)
	script := func(a btcutil.Address) []byte {
		s, err := txscript.PayToAddrScript(a)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	nullData, _ := txscript.NullDataScript([]byte("minerscope"))
	outputs := []*wire.TxOut{
		{Value: 10e8, PkScript: script(p2pk)},
		{Value: 10e8, PkScript: chaintest.MiningScript()},
		{Value: 20e8, PkScript: script(wpkh)},
		{Value: 9e8, PkScript: script(tr)},
		{Value: 0, PkScript: nullData},
	}

	b, err := n.Builder(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
	blocks, err := n.SubmitChain(ctx, b, 101, func(i int) chaintest.BlockOpts {
		return chaintest.BlockOpts{Time: start.Add(time.Duration(i) * time.Minute), Outputs: outputs,
			CoinbaseScript: []byte("/minerscope test pool/")}
	})
	if err != nil {
		t.Fatal(err)
	}

	// Spend block 1's P2WPKH output (index 2) back to P2WPKH, 1000 sat fee.
	cb := blocks[0].Transactions[0]
	spend := wire.NewMsgTx(2)
	spend.AddTxIn(wire.NewTxIn(wire.NewOutPoint(ptr(cb.TxHash()), 2), nil, nil))
	spend.AddTxOut(wire.NewTxOut(20e8-1000, script(wpkh)))
	fetcher := txscript.NewCannedPrevOutputFetcher(cb.TxOut[2].PkScript, cb.TxOut[2].Value)
	wit, err := txscript.WitnessSignature(spend, txscript.NewTxSigHashes(spend, fetcher), 0,
		cb.TxOut[2].Value, cb.TxOut[2].PkScript, txscript.SigHashAll, key, true)
	if err != nil {
		t.Fatal(err)
	}
	spend.TxIn[0].Witness = wit
	last, err := n.SubmitChain(ctx, b, 1, func(int) chaintest.BlockOpts {
		return chaintest.BlockOpts{Time: start.Add(101 * time.Minute), Txs: []*wire.MsgTx{spend}, Fees: 1000}
	})
	if err != nil {
		t.Fatal(err)
	}
	return append(blocks, last...)
}

func ptr[T any](v T) *T { return &v }
