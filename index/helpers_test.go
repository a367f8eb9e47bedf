package index

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"math/big"
	"os"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/minerscope/minerscope/analysis"
)

// The helpers here compute expected values independently of the package:
// hashes with crypto/sha256 over raw header bytes, work with math/big.

// rawMainnet holds the raw 80-byte headers of the btcd mainnet test file,
// read without the package's ReadBlockFile.
var rawMainnet struct {
	once sync.Once
	hdrs [][]byte
	err  error
}

// rawMainnetHeaders returns the first MainnetTestHeaders raw headers.
func rawMainnetHeaders(t testing.TB) [][]byte {
	t.Helper()
	rawMainnet.once.Do(func() {
		path, err := btcdTestData("blk_0_to_14131.dat")
		if err != nil {
			rawMainnet.err = err
			return
		}
		data, err := os.ReadFile(path)
		if err != nil {
			rawMainnet.err = err
			return
		}
		for len(rawMainnet.hdrs) < MainnetTestHeaders {
			if len(data) < 8 {
				rawMainnet.err = io.ErrUnexpectedEOF
				return
			}
			size := binary.LittleEndian.Uint32(data[4:8])
			rawMainnet.hdrs = append(rawMainnet.hdrs, data[8:8+80])
			data = data[8+size:]
		}
	})
	if rawMainnet.err != nil {
		t.Fatalf("read raw mainnet headers: %v", rawMainnet.err)
	}
	return rawMainnet.hdrs
}

// dsha returns the double SHA-256 of b as a chainhash.Hash.
func dsha(b []byte) chainhash.Hash {
	first := sha256.Sum256(b)
	return chainhash.Hash(sha256.Sum256(first[:]))
}

// refWork computes 2^256 / (target+1) from compact bits with math/big only.
func refWork(bits uint32) *big.Int {
	mantissa := int64(bits & 0x007fffff)
	exponent := int(bits >> 24)
	target := big.NewInt(mantissa)
	if exponent <= 3 {
		target.Rsh(target, uint(8*(3-exponent)))
	} else {
		target.Lsh(target, uint(8*(exponent-3)))
	}
	if bits&0x00800000 != 0 || target.Sign() <= 0 {
		return new(big.Int)
	}
	num := new(big.Int).Lsh(big.NewInt(1), 256)
	return num.Div(num, target.Add(target, big.NewInt(1)))
}

// headerBytes returns the 80-byte wire serialization of h.
func headerBytes(t testing.TB, h *wire.BlockHeader) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := h.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// openTemp opens a writable on-disk index in a new temporary directory.
func openTemp(t testing.TB, p analysis.Params) (*DB, string) {
	t.Helper()
	dir := t.TempDir()
	db, err := Open(dir, p, Options{})
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	return db, dir
}

// mustClose closes db, failing the test on error.
func mustClose(t testing.TB, db *DB) {
	t.Helper()
	if err := db.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

// rawBlocks holds the raw bytes of the btcd mainnet test blocks, read
// without the package's readers.
var rawBlocks struct {
	once   sync.Once
	blocks [][]byte
	err    error
}

// rawMainnetBlocks returns the raw bytes of the first MainnetTestHeaders
// blocks.
func rawMainnetBlocks(t testing.TB) [][]byte {
	t.Helper()
	rawBlocks.once.Do(func() {
		path, err := btcdTestData("blk_0_to_14131.dat")
		if err != nil {
			rawBlocks.err = err
			return
		}
		data, err := os.ReadFile(path)
		if err != nil {
			rawBlocks.err = err
			return
		}
		for len(rawBlocks.blocks) < MainnetTestHeaders {
			if len(data) < 8 {
				rawBlocks.err = io.ErrUnexpectedEOF
				return
			}
			size := binary.LittleEndian.Uint32(data[4:8])
			rawBlocks.blocks = append(rawBlocks.blocks, data[8:8+size])
			data = data[8+size:]
		}
	})
	if rawBlocks.err != nil {
		t.Fatalf("read raw mainnet blocks: %v", rawBlocks.err)
	}
	return rawBlocks.blocks
}

// rawCoinbase is a coinbase transaction parsed by hand from a raw block.
type rawCoinbase struct {
	txCount   int
	txid      chainhash.Hash
	scriptSig []byte
	values    []int64
	scripts   [][]byte
}

// parseRawCoinbase reads the transaction count and the coinbase of a raw
// pre-segwit block: header, compact size, then version, one input, outputs
// and lock time, all in Bitcoin's wire encoding.
func parseRawCoinbase(t testing.TB, block []byte) rawCoinbase {
	t.Helper()
	p := rawParser{t: t, b: block[80:]}
	var cb rawCoinbase
	cb.txCount = int(p.compact())

	start := p.b
	p.take(4) // version
	if n := p.compact(); n != 1 {
		t.Fatalf("coinbase has %d inputs (a segwit marker?)", n)
	}
	p.take(36) // null outpoint
	cb.scriptSig = p.take(int(p.compact()))
	p.take(4) // sequence
	for n := p.compact(); n > 0; n-- {
		cb.values = append(cb.values, int64(binary.LittleEndian.Uint64(p.take(8))))
		cb.scripts = append(cb.scripts, p.take(int(p.compact())))
	}
	p.take(4) // lock time
	cb.txid = dsha(start[:len(start)-len(p.b)])
	return cb
}

// rawParser consumes raw wire bytes, failing the test when they run out.
type rawParser struct {
	t testing.TB
	b []byte
}

// take consumes n bytes.
func (p *rawParser) take(n int) []byte {
	if n > len(p.b) {
		p.t.Fatalf("raw block truncated: need %d bytes, have %d", n, len(p.b))
	}
	v := p.b[:n]
	p.b = p.b[n:]
	return v
}

// compact consumes a Bitcoin compact size integer.
func (p *rawParser) compact() uint64 {
	switch c := p.take(1)[0]; c {
	case 0xfd:
		return uint64(binary.LittleEndian.Uint16(p.take(2)))
	case 0xfe:
		return uint64(binary.LittleEndian.Uint32(p.take(4)))
	case 0xff:
		return binary.LittleEndian.Uint64(p.take(8))
	default:
		return uint64(c)
	}
}
