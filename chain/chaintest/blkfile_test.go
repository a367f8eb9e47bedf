package chaintest

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// TestMainnetBlocks: the blocks are the real chain from the genesis block.
func TestMainnetBlocks(t *testing.T) {
	t.Parallel()
	blocks, err := MainnetBlocks(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != MainnetTipHeight+1 {
		t.Fatalf("%d blocks", len(blocks))
	}
	var genesis bytes.Buffer
	if err := chaincfg.MainNetParams.GenesisBlock.Serialize(&genesis); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(blocks[0], genesis.Bytes()) {
		t.Error("block 0 is not chaincfg's genesis block")
	}
}

// TestWriteBlkFiles reads the files back byte by byte: records in the
// order given, split before MaxFileSize, obfuscated with the key at each
// byte's file offset, xor.dat holding the key, preallocated zeros raw.
func TestWriteBlkFiles(t *testing.T) {
	t.Parallel()
	blocks, err := MainnetBlocks(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	blocks = blocks[:3000]
	key := []byte{1, 2, 3, 4, 5, 6, 7, 0xff}
	tests := []struct {
		name string
		opts BlkFileOptions
	}{
		{"plain", BlkFileOptions{MaxFileSize: 100 << 10}},
		{"xor, preallocated", BlkFileOptions{XORKey: key, MaxFileSize: 64 << 10, Preallocate: 1 << 16}},
		{"simnet, one file", BlkFileOptions{Net: wire.SimNet, XORKey: make([]byte, 8)}},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		files, err := WriteBlkFiles(dir, blocks, tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		xorKey, err := os.ReadFile(filepath.Join(dir, "xor.dat"))
		if tt.opts.XORKey == nil {
			if !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s: xor.dat written without a key", tt.name)
			}
			xorKey = make([]byte, 8)
		} else if !bytes.Equal(xorKey, tt.opts.XORKey) {
			t.Errorf("%s: xor.dat %x", tt.name, xorKey)
		}
		net := tt.opts.Net
		if net == 0 {
			net = wire.MainNet
		}

		next := 0
		for i := range files {
			data, err := os.ReadFile(filepath.Join(dir, blkName(i)))
			if err != nil {
				t.Fatal(err)
			}
			limit := tt.opts.MaxFileSize
			if limit == 0 {
				limit = CoreMaxBlkFileSize
			}
			pos := 0
			for pos+8 <= len(data) {
				hdr := make([]byte, 8)
				for k := range hdr {
					hdr[k] = data[pos+k] ^ xorKey[(pos+k)%8]
				}
				if binary.LittleEndian.Uint32(hdr) != uint32(net) {
					break // padding
				}
				size := int(binary.LittleEndian.Uint32(hdr[4:]))
				for k := 0; k < size; k++ {
					if data[pos+8+k]^xorKey[(pos+8+k)%8] != blocks[next][k] {
						t.Fatalf("%s: file %d record %d differs at byte %d", tt.name, i, next, k)
					}
				}
				pos += 8 + size
				next++
			}
			if int64(pos) >= limit {
				t.Errorf("%s: file %d holds %d bytes of records, limit %d", tt.name, i, pos, limit)
			}
			pad := data[pos:]
			if last := i == files-1; !last || tt.opts.Preallocate == 0 {
				if len(pad) != 0 {
					t.Errorf("%s: file %d has %d bytes after its records", tt.name, i, len(pad))
				}
			} else if len(data)%int(tt.opts.Preallocate) != 0 || len(bytes.Trim(pad, "\x00")) != 0 {
				t.Errorf("%s: last file is %d bytes with %d of padding", tt.name, len(data), len(pad))
			}
		}
		if next != len(blocks) {
			t.Errorf("%s: %d records in %d files, want %d", tt.name, next, files, len(blocks))
		}
	}
}

func blkName(i int) string {
	return "blk" + string([]byte{'0' + byte(i/10000%10), '0' + byte(i/1000%10), '0' + byte(i/100%10),
		'0' + byte(i/10%10), '0' + byte(i%10)}) + ".dat"
}

// TestBuilderOutputs: coinbases paying P2PK, P2PKH, P2WPKH, P2TR and
// OP_RETURN are accepted by btcd, which classifies each output itself.
func TestBuilderOutputs(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	n := StartSimnet(t)
	b := NewBuilder(n.Params)

	pub := MiningKey().PubKey().SerializeCompressed()
	addrs := []func() (btcutil.Address, error){
		func() (btcutil.Address, error) { return btcutil.NewAddressPubKey(pub, n.Params) },
		func() (btcutil.Address, error) { return MiningAddress(), nil },
		func() (btcutil.Address, error) {
			return btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(pub), n.Params)
		},
		func() (btcutil.Address, error) {
			key := txscript.ComputeTaprootKeyNoScript(MiningKey().PubKey())
			return btcutil.NewAddressTaproot(schnorr.SerializePubKey(key), n.Params)
		},
	}
	var outs []*wire.TxOut
	for i, mk := range addrs {
		a, err := mk()
		if err != nil {
			t.Fatal(err)
		}
		script, err := txscript.PayToAddrScript(a)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, wire.NewTxOut(int64(i+1)*1e8, script))
	}
	nullData, err := txscript.NullDataScript([]byte("minerscope"))
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, wire.NewTxOut(0, nullData))

	// Subsidy 50 BTC: 10 BTC paid, 40 BTC left unclaimed.
	blk, err := b.Next(BlockOpts{Outputs: outs})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.SubmitBlock(ctx, blk); err != nil {
		t.Fatal(err)
	}

	type rawTx struct {
		Vout []struct {
			Value        float64 `json:"value"`
			ScriptPubKey struct {
				Hex  string `json:"hex"`
				Type string `json:"type"`
			} `json:"scriptPubKey"`
		} `json:"vout"`
	}
	var verbose struct {
		RawTx []rawTx `json:"rawtx"` // btcd's name for Core's "tx"
	}
	if err := n.callInto(ctx, &verbose, "getblock", blk.BlockHash().String(), 2); err != nil {
		t.Fatal(err)
	}
	if len(verbose.RawTx) != 1 {
		t.Fatalf("btcd reports %d transactions", len(verbose.RawTx))
	}
	want := []string{"pubkey", "pubkeyhash", "witness_v0_keyhash", "witness_v1_taproot", "nulldata"}
	vout := verbose.RawTx[0].Vout
	if len(vout) != len(want) {
		t.Fatalf("btcd sees %d coinbase outputs, want %d", len(vout), len(want))
	}
	for i, o := range vout {
		if o.ScriptPubKey.Type != want[i] || o.ScriptPubKey.Hex != hex.EncodeToString(outs[i].PkScript) ||
			o.Value != float64(outs[i].Value)/1e8 {
			t.Errorf("output %d: btcd says %+v, want type %s value %d", i, o, want[i], outs[i].Value)
		}
	}

	// One satoshi more than subsidy plus fees is refused.
	over := []*wire.TxOut{wire.NewTxOut(50e8+500+1, MiningScript())}
	if _, err := b.Next(BlockOpts{Outputs: over, Fees: 500}); !errors.Is(err, ErrOverpay) {
		t.Errorf("overpaying coinbase: err = %v, want ErrOverpay", err)
	}
}
