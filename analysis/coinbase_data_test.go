package analysis

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// This file loads real mainnet data for the coinbase tests: btcd's test
// blocks (0-14131 and 277647 with the outputs it spends) and the records of
// testdata/mainnet-coinbases.txt. Every check here is independent of the
// code under test.

var (
	btcdDirOnce sync.Once
	btcdDir     string
	btcdDirErr  error
)

// btcdTestData returns the path of a file in btcd's blockchain/testdata.
func btcdTestData(t testing.TB, name string) string {
	t.Helper()
	btcdDirOnce.Do(func() {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}",
			"github.com/btcsuite/btcd").Output()
		btcdDir, btcdDirErr = strings.TrimSpace(string(out)), err
	})
	if btcdDirErr != nil {
		t.Fatalf("locate the btcd module: %v", btcdDirErr)
	}
	return filepath.Join(btcdDir, "blockchain", "testdata", name)
}

// fileBlock is one block of a block file with its size as recorded there.
type fileBlock struct {
	block *wire.MsgBlock
	size  int // the record's length field
}

var (
	mainnetBlocksOnce sync.Once
	mainnetBlocks     []fileBlock
	mainnetBlocksErr  error
)

// loadMainnetBlocks returns the real mainnet blocks 0..14131 from btcd's
// blk_0_to_14131.dat. Callers must not modify them.
func loadMainnetBlocks(t testing.TB) []fileBlock {
	t.Helper()
	path := btcdTestData(t, "blk_0_to_14131.dat")
	mainnetBlocksOnce.Do(func() {
		f, err := os.Open(path)
		if err != nil {
			mainnetBlocksErr = err
			return
		}
		defer f.Close()
		mainnetBlocks, mainnetBlocksErr = readBlocks(bufio.NewReader(f))
	})
	if mainnetBlocksErr != nil {
		t.Fatalf("read mainnet blocks: %v", mainnetBlocksErr)
	}
	return mainnetBlocks
}

// readBlocks reads records of magic, little-endian length and block until
// EOF or zero padding.
func readBlocks(r io.Reader) ([]fileBlock, error) {
	var blocks []fileBlock
	for {
		var rec [8]byte
		if _, err := io.ReadFull(r, rec[:]); errors.Is(err, io.EOF) {
			return blocks, nil
		} else if err != nil {
			return nil, fmt.Errorf("record %d: %w", len(blocks), err)
		}
		switch binary.LittleEndian.Uint32(rec[:4]) {
		case uint32(wire.MainNet):
		case 0:
			return blocks, nil
		default:
			return nil, fmt.Errorf("record %d: bad magic", len(blocks))
		}
		raw := make([]byte, binary.LittleEndian.Uint32(rec[4:]))
		if _, err := io.ReadFull(r, raw); err != nil {
			return nil, fmt.Errorf("record %d: %w", len(blocks), err)
		}
		var blk wire.MsgBlock
		if err := blk.Deserialize(bytes.NewReader(raw)); err != nil {
			return nil, fmt.Errorf("record %d: %w", len(blocks), err)
		}
		blocks = append(blocks, fileBlock{block: &blk, size: len(raw)})
	}
}

// loadBlock277647 returns mainnet block 277647 from btcd's test data and
// the values of the outputs it spends, from its utxostore file.
func loadBlock277647(t testing.TB) (*wire.MsgBlock, map[wire.OutPoint]int64) {
	t.Helper()
	f, err := os.Open(btcdTestData(t, "277647.dat.bz2"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	blocks, err := readBlocks(bzip2.NewReader(f))
	if err != nil || len(blocks) != 1 {
		t.Fatalf("277647.dat.bz2: %d blocks, %v", len(blocks), err)
	}

	u, err := os.Open(btcdTestData(t, "277647.utxostore.bz2"))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	spent, err := readUtxoStore(bzip2.NewReader(u))
	if err != nil {
		t.Fatalf("277647.utxostore.bz2: %v", err)
	}
	return blocks[0].block, spent
}

// readUtxoStore reads btcd's utxostore test format: records of txid,
// little-endian output index, little-endian length and a serialized utxo
// entry (VARINT header code, VARINT compressed amount, compressed script),
// in Bitcoin Core's encodings. Only the amounts are decoded.
func readUtxoStore(r io.Reader) (map[wire.OutPoint]int64, error) {
	values := make(map[wire.OutPoint]int64)
	for {
		var op wire.OutPoint
		if _, err := io.ReadFull(r, op.Hash[:]); errors.Is(err, io.EOF) {
			return values, nil
		} else if err != nil {
			return nil, err
		}
		var head [8]byte
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return nil, err
		}
		op.Index = binary.LittleEndian.Uint32(head[:4])
		entry := make([]byte, binary.LittleEndian.Uint32(head[4:]))
		if _, err := io.ReadFull(r, entry); err != nil {
			return nil, err
		}
		_, n := coreVarInt(entry)
		compressed, _ := coreVarInt(entry[n:])
		values[op] = int64(coreDecompressAmount(compressed))
	}
}

// coreVarInt decodes Bitcoin Core's VARINT (serialize.h ReadVarInt): base
// 128, most significant group first, each continuation adding one.
func coreVarInt(b []byte) (uint64, int) {
	var n uint64
	for i, c := range b {
		n = n<<7 | uint64(c&0x7f)
		if c&0x80 == 0 {
			return n, i + 1
		}
		n++
	}
	return n, len(b)
}

// coreDecompressAmount inverts Bitcoin Core's CompressAmount
// (compressor.cpp): x = 0 is 0; else with x−1 = 10·q + e, e < 9 gives
// n = (q/9)·10 + q%9 + 1 and e = 9 gives n = q + 1; the amount is n·10^e.
func coreDecompressAmount(x uint64) uint64 {
	if x == 0 {
		return 0
	}
	x--
	e := x % 10
	x /= 10
	var n uint64
	if e < 9 {
		n = (x/9)*10 + x%9 + 1
	} else {
		n = x + 1
	}
	for ; e > 0; e-- {
		n *= 10
	}
	return n
}

// fixture is one record of testdata/mainnet-coinbases.txt.
type fixture struct {
	kind   string // "block", "tx" or "sig"
	height int32
	id     string // block hash, txid or pool name
	block  *wire.MsgBlock
	tx     *wire.MsgTx
	sig    []byte
}

var (
	fixturesOnce sync.Once
	fixtures     []fixture
	fixturesErr  error
)

// loadFixtures returns the checked records of mainnet-coinbases.txt.
func loadFixtures(t testing.TB) []fixture {
	t.Helper()
	fixturesOnce.Do(func() {
		fixtures, fixturesErr = parseFixtures("testdata/mainnet-coinbases.txt")
	})
	if fixturesErr != nil {
		t.Fatalf("mainnet-coinbases.txt: %v", fixturesErr)
	}
	return fixtures
}

// fixtureAt returns the record of kind at height.
func fixtureAt(t testing.TB, kind string, height int32) fixture {
	t.Helper()
	for _, f := range loadFixtures(t) {
		if f.kind == kind && f.height == height {
			return f
		}
	}
	t.Fatalf("no %s at height %d in mainnet-coinbases.txt", kind, height)
	return fixture{}
}

// parseFixtures reads and checks every record.
func parseFixtures(path string) ([]fixture, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []fixture
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f, err := parseFixture(line)
		if err != nil {
			return nil, fmt.Errorf("%.40s...: %w", line, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// parseFixture decodes one record and checks it against its id and height.
func parseFixture(line string) (fixture, error) {
	fields := strings.Fields(line)
	if len(fields) != 4 {
		return fixture{}, errors.New("want 4 fields")
	}
	h, err := strconv.ParseInt(fields[1], 10, 32)
	if err != nil {
		return fixture{}, err
	}
	raw, err := hex.DecodeString(fields[3])
	if err != nil {
		return fixture{}, err
	}
	f := fixture{kind: fields[0], height: int32(h), id: fields[2]}

	switch f.kind {
	case "block":
		f.block = new(wire.MsgBlock)
		if err := f.block.Deserialize(bytes.NewReader(raw)); err != nil {
			return f, err
		}
		if err := checkBlockFixture(f.block, f.id); err != nil {
			return f, err
		}
		f.tx = f.block.Transactions[0]
		f.sig = f.tx.TxIn[0].SignatureScript

	case "tx":
		f.tx = new(wire.MsgTx)
		if err := f.tx.Deserialize(bytes.NewReader(raw)); err != nil {
			return f, err
		}
		if got := f.tx.TxHash().String(); got != f.id {
			return f, fmt.Errorf("txid %s, want %s", got, f.id)
		}
		f.sig = f.tx.TxIn[0].SignatureScript

	case "sig":
		f.sig = raw
		f.id = strings.ReplaceAll(f.id, "_", " ")

	default:
		return f, fmt.Errorf("unknown kind %q", f.kind)
	}
	if got, ok := bip34Height(f.sig); !ok || got != f.height {
		return f, fmt.Errorf("scriptSig starts with height %d, want %d",
			got, f.height)
	}
	return f, nil
}

// checkBlockFixture verifies that blk hashes to want, meets the target of
// its own bits and has a single transaction whose txid is the merkle root.
func checkBlockFixture(blk *wire.MsgBlock, want string) error {
	hash := blk.BlockHash()
	if hash.String() != want {
		return fmt.Errorf("hash %s, want %s", hash, want)
	}
	if hashToBig(hash).Cmp(targetOf(blk.Header.Bits)) > 0 {
		return fmt.Errorf("hash %s above the target of bits %08x", hash,
			blk.Header.Bits)
	}
	if len(blk.Transactions) != 1 ||
		blk.Transactions[0].TxHash() != blk.Header.MerkleRoot {
		return errors.New("merkle root is not the coinbase txid")
	}
	return nil
}

// bip34Height decodes the height BIP34 puts first in a coinbase scriptSig:
// a push of 1-4 bytes of a little-endian number.
func bip34Height(sig []byte) (int32, bool) {
	if len(sig) == 0 || sig[0] < 1 || sig[0] > 4 || len(sig) < 1+int(sig[0]) {
		return 0, false
	}
	var h int32
	for i := int(sig[0]); i >= 1; i-- {
		h = h<<8 | int32(sig[i])
	}
	return h, true
}

// hashToBig reads a block hash as the number it is compared with.
func hashToBig(h chainhash.Hash) *big.Int {
	var be [chainhash.HashSize]byte
	for i, b := range h {
		be[len(h)-1-i] = b
	}
	return new(big.Int).SetBytes(be[:])
}

// targetOf decodes compact bits with a positive mantissa: mantissa ·
// 256^(exponent−3).
func targetOf(bits uint32) *big.Int {
	mantissa := big.NewInt(int64(bits & 0x007fffff))
	exp := int(bits >> 24)
	if exp <= 3 {
		return mantissa.Rsh(mantissa, uint(8*(3-exp)))
	}
	return mantissa.Lsh(mantissa, uint(8*(exp-3)))
}

// merkleRoot computes a block's merkle root from its txids as Bitcoin
// does: pairwise double SHA-256, the last hash paired with itself on odd
// levels.
func merkleRoot(ids []chainhash.Hash) chainhash.Hash {
	level := append([]chainhash.Hash(nil), ids...)
	for len(level) > 1 {
		if len(level)%2 == 1 {
			level = append(level, level[len(level)-1])
		}
		next := level[:0]
		for i := 0; i < len(level); i += 2 {
			first := sha256.Sum256(append(level[i][:], level[i+1][:]...))
			next = append(next, sha256.Sum256(first[:]))
		}
		level = next
	}
	return level[0]
}

// blockOf wraps a coinbase into a one-transaction block, for records whose
// block the fixtures do not hold.
func blockOf(tx *wire.MsgTx) *wire.MsgBlock {
	return &wire.MsgBlock{Transactions: []*wire.MsgTx{tx}}
}
