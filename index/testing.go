package index

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/dgraph-io/badger/v4"

	"github.com/minerscope/minerscope/analysis"
)

// MainnetTestHeaders is the number of real mainnet blocks (heights 0 to
// 14131) in btcd's blockchain/testdata/blk_0_to_14131.dat.
const MainnetTestHeaders = 14132

// NewTestDB returns an empty in-memory index for p that is closed when the
// test ends.
func NewTestDB(tb testing.TB, p analysis.Params) *DB {
	tb.Helper()
	db, err := Open("", p, Options{InMemory: true})
	if err != nil {
		tb.Fatalf("open in-memory index: %v", err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

// NewMainnetTestDB returns an in-memory mainnet index holding the first n
// real mainnet headers (n <= MainnetTestHeaders).
func NewMainnetTestDB(tb testing.TB, n int) *DB {
	tb.Helper()
	hdrs := MainnetHeaders(tb)
	if n > len(hdrs) {
		tb.Fatalf("only %d mainnet test headers exist, %d asked", len(hdrs), n)
	}
	db := NewTestDB(tb, analysis.Mainnet)
	ConnectHeaders(tb, db, hdrs[:n])
	return db
}

// ConnectHeaders connects hdrs on top of the tip of db, failing the test on
// the first error.
func ConnectHeaders(tb testing.TB, db *DB, hdrs []wire.BlockHeader) {
	tb.Helper()
	height := db.Count()
	for i := range hdrs {
		if err := db.ConnectHeader(height, &hdrs[i]); err != nil {
			tb.Fatalf("connect header at height %d: %v", height, err)
		}
		height++
	}
}

// ExtendHeaders builds n synthetic headers following prev: same version and
// bits, 600 seconds apart, distinct merkle roots and nonces. edit, if not nil,
// may change any field of header i except PrevBlock, which is set afterwards
// so the chain stays linked. The headers carry no proof of work; the index
// does not check it.
func ExtendHeaders(prev wire.BlockHeader, n int, edit func(i int, h *wire.BlockHeader)) []wire.BlockHeader {
	hdrs := make([]wire.BlockHeader, n)
	for i := range hdrs {
		prevHash := prev.BlockHash()

		var seed [chainhash.HashSize + 4]byte
		copy(seed[:], prevHash[:])
		binary.LittleEndian.PutUint32(seed[chainhash.HashSize:], uint32(i))

		h := wire.BlockHeader{
			Version:    prev.Version,
			MerkleRoot: chainhash.DoubleHashH(seed[:]),
			Timestamp:  prev.Timestamp.Add(10 * time.Minute),
			Bits:       prev.Bits,
			Nonce:      uint32(i),
		}
		if edit != nil {
			edit(i, &h)
		}
		h.PrevBlock = prevHash

		hdrs[i] = h
		prev = h
	}
	return hdrs
}

// GenesisHeader returns the genesis block header of the network p; ok is
// false for a network this package does not know.
func GenesisHeader(p analysis.Params) (hdr wire.BlockHeader, ok bool) {
	for _, cp := range []*chaincfg.Params{&chaincfg.MainNetParams,
		&chaincfg.TestNet3Params, &chaincfg.RegressionNetParams,
		&chaincfg.SimNetParams, &chaincfg.SigNetParams} {

		if *cp.GenesisHash == p.GenesisHash {
			return cp.GenesisBlock.Header, true
		}
	}
	if testnet4Genesis.BlockHash() == p.GenesisHash {
		return testnet4Genesis, true
	}
	return wire.BlockHeader{}, false
}

// testnet4Genesis is the BIP94 testnet4 genesis header, which btcd v0.24.2
// does not know.
var testnet4Genesis = wire.BlockHeader{
	Version: 1,
	MerkleRoot: chainhash.Hash{ // 7aa0a7ae1e223414cb807e40cd57e667b718e42aaf9306db9102fe28912b7b4e
		0x4e, 0x7b, 0x2b, 0x91, 0x28, 0xfe, 0x02, 0x91,
		0xdb, 0x06, 0x93, 0xaf, 0x2a, 0xe4, 0x18, 0xb7,
		0x67, 0xe6, 0x57, 0xcd, 0x40, 0x7e, 0x80, 0xcb,
		0x14, 0x34, 0x22, 0x1e, 0xae, 0xa7, 0xa0, 0x7a,
	},
	Timestamp: time.Unix(1714777860, 0),
	Bits:      0x1d00ffff,
	Nonce:     393743547,
}

// MainnetHeaders returns the real mainnet headers 0 to 14131 from btcd's
// test data, failing the test if they cannot be read.
func MainnetHeaders(tb testing.TB) []wire.BlockHeader {
	tb.Helper()
	mainnetOnce.Do(func() {
		var path string
		path, mainnetErr = btcdTestData("blk_0_to_14131.dat")
		if mainnetErr == nil {
			mainnetHdrs, mainnetErr = ReadBlockFile(path, MainnetTestHeaders)
		}
	})
	if mainnetErr != nil {
		tb.Fatalf("read mainnet test headers: %v", mainnetErr)
	}
	return append([]wire.BlockHeader(nil), mainnetHdrs...)
}

var (
	mainnetOnce sync.Once
	mainnetHdrs []wire.BlockHeader
	mainnetErr  error
)

// MainnetBlocks returns the real mainnet blocks 0 to 14131 from btcd's test
// data, failing the test if they cannot be read. The blocks are shared
// between callers and must not be modified.
func MainnetBlocks(tb testing.TB) []*wire.MsgBlock {
	tb.Helper()
	mainnetBlocksOnce.Do(func() {
		var path string
		path, mainnetBlocksErr = btcdTestData("blk_0_to_14131.dat")
		if mainnetBlocksErr == nil {
			mainnetBlocks, mainnetBlocksErr = ReadBlocks(path, MainnetTestHeaders)
		}
	})
	if mainnetBlocksErr != nil {
		tb.Fatalf("read mainnet test blocks: %v", mainnetBlocksErr)
	}
	return mainnetBlocks
}

// MainnetBlockData returns the real mainnet blocks 0 to 14131 as blocks to
// connect: every header, with the coinbase record (analysis.ExtractCoinbase)
// and the block itself at heights >= from. The records are the caller's; the
// blocks are shared (MainnetBlocks) and must not be modified.
func MainnetBlockData(tb testing.TB, from int32) []BlockData {
	tb.Helper()
	blocks := MainnetBlocks(tb)
	data := make([]BlockData, len(blocks))
	for h, blk := range blocks {
		data[h].Header = blk.Header
		if int32(h) < from {
			continue
		}
		rec, err := analysis.ExtractCoinbase(analysis.Mainnet, int32(h), blk)
		if err != nil {
			tb.Fatalf("coinbase of mainnet block %d: %v", h, err)
		}
		data[h].Coinbase, data[h].Block = &rec, blk
	}
	return data
}

// ConnectBlocks connects blocks on top of the tip of db in one call,
// failing the test on error.
func ConnectBlocks(tb testing.TB, db *DB, blocks []BlockData) {
	tb.Helper()
	if err := db.ConnectBlocks(db.Count(), blocks); err != nil {
		tb.Fatalf("connect blocks %d-%d: %v", db.Count(),
			int(db.Count())+len(blocks)-1, err)
	}
}

var (
	mainnetBlocksOnce sync.Once
	mainnetBlocks     []*wire.MsgBlock
	mainnetBlocksErr  error
)

// btcdTestData returns the path of a file in btcd's blockchain/testdata.
func btcdTestData(name string) (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}",
		"github.com/btcsuite/btcd").Output()
	if err != nil {
		return "", fmt.Errorf("locate the btcd module with go list: %w", err)
	}
	dir := strings.TrimSpace(string(out))
	return filepath.Join(dir, "blockchain", "testdata", name), nil
}

// ReadBlockFile reads the headers of up to max blocks from a file in the
// format of btcd's test data (and bitcoind's blk*.dat): for each block a
// 4-byte network magic, a 4-byte little-endian length and the block.
func ReadBlockFile(path string, max int) ([]wire.BlockHeader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	var hdrs []wire.BlockHeader
	r := io.Reader(f)
	for len(hdrs) < max {
		hdr, err := readBlockRecord(r)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: block %d: %w", path, len(hdrs), err)
		}
		hdrs = append(hdrs, hdr)
	}
	return hdrs, nil
}

// ReadBlocks reads up to max whole blocks from a file in the format
// ReadBlockFile reads.
func ReadBlocks(path string, max int) ([]*wire.MsgBlock, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	var blocks []*wire.MsgBlock
	r := bufio.NewReaderSize(f, 1<<20)
	for len(blocks) < max {
		raw, err := readRawBlock(r)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: block %d: %w", path, len(blocks), err)
		}
		var blk wire.MsgBlock
		if err := blk.Deserialize(bytes.NewReader(raw)); err != nil {
			return nil, fmt.Errorf("%s: block %d: %w", path, len(blocks), err)
		}
		blocks = append(blocks, &blk)
	}
	return blocks, nil
}

// readBlockRecord reads one magic+length+block record and returns the
// block's header.
func readBlockRecord(r io.Reader) (wire.BlockHeader, error) {
	var hdr wire.BlockHeader
	block, err := readRawBlock(r)
	if err != nil {
		return hdr, err
	}
	err = hdr.Deserialize(bytes.NewReader(block[:headerSize]))
	return hdr, err
}

// readRawBlock reads one magic+length+block record and returns the block's
// bytes.
func readRawBlock(r io.Reader) ([]byte, error) {
	var prefix [8]byte
	if _, err := io.ReadFull(r, prefix[:]); err != nil {
		return nil, err
	}
	size := binary.LittleEndian.Uint32(prefix[4:])
	if size < headerSize || size > wire.MaxBlockPayload {
		return nil, fmt.Errorf("block length %d out of range", size)
	}

	block := make([]byte, size)
	if _, err := io.ReadFull(r, block); err != nil {
		return nil, fmt.Errorf("truncated block: %w", err)
	}
	return block, nil
}

// Dump returns every key and value in the database.
func Dump(t testing.TB, db *DB) map[string]string {
	t.Helper()
	kv := make(map[string]string)
	err := db.bdb.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			kv[string(it.Item().KeyCopy(nil))] = string(v)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("dump index: %v", err)
	}
	return kv
}

// DiffDumps fails the test with the first few differences between want and
// got.
func DiffDumps(t testing.TB, want, got map[string]string) {
	t.Helper()
	n := 0
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("key %x: want %x, got %x (present %v)", k, v, g, ok)
			n++
		}
		if n > 5 {
			break
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected key %x = %x", k, v)
			n++
		}
		if n > 10 {
			break
		}
	}
	if n > 0 {
		t.FailNow()
	}
}
