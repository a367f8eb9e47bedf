package chaintest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/wire"
)

// Bitcoin Core's block file limits (node/blockstorage.h).
const (
	// CoreMaxBlkFileSize is MAX_BLOCKFILE_SIZE: Core starts a new blk
	// file before one would reach 128 MiB.
	CoreMaxBlkFileSize = 128 << 20

	// CoreBlkChunkSize is BLOCKFILE_CHUNK_SIZE: Core grows the file it
	// writes in 16 MiB steps of zeros, and truncates it when it moves on.
	CoreBlkChunkSize = 16 << 20
)

// BlkFileOptions shape the blocks directory WriteBlkFiles writes.
type BlkFileOptions struct {
	// Net is the record magic; zero means mainnet.
	Net wire.BitcoinNet

	// XORKey, when not nil, is written to xor.dat (8 bytes, as Core 28+
	// does) and obfuscates every byte of the files: byte i of a file is
	// XORed with XORKey[i%8]. An all-zero key is what Core 28 writes with
	// -blocksxor=0. nil writes no xor.dat, like Core before 28.
	XORKey []byte

	// MaxFileSize starts a new file when a record would bring the current
	// one to this size; zero means CoreMaxBlkFileSize.
	MaxFileSize int64

	// Preallocate pads the last file with zero bytes (not obfuscated, as
	// Core's preallocation) up to a multiple of this size; zero pads
	// nothing. Core pads in CoreBlkChunkSize steps.
	Preallocate int64
}

// WriteBlkFiles writes the serialized blocks, in the order given, as Bitcoin
// Core's blocks directory: dir/blk00000.dat, blk00001.dat, …, each a run of
// records (4-byte magic, 4-byte little-endian size, block). The order is the
// caller's: Core stores blocks as they arrive, out of height order and with
// stale blocks. It returns the number of files written.
func WriteBlkFiles(dir string, blocks [][]byte, opts BlkFileOptions) (int, error) {
	if opts.Net == 0 {
		opts.Net = wire.MainNet
	}
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = CoreMaxBlkFileSize
	}
	if opts.XORKey != nil && len(opts.XORKey) != 8 {
		return 0, fmt.Errorf("chaintest: XOR key of %d bytes, want 8", len(opts.XORKey))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, fmt.Errorf("chaintest: %w", err)
	}
	if opts.XORKey != nil {
		if err := os.WriteFile(filepath.Join(dir, "xor.dat"), opts.XORKey, 0o600); err != nil {
			return 0, fmt.Errorf("chaintest: %w", err)
		}
	}

	var files [][]byte
	var cur []byte
	for _, blk := range blocks {
		rec := blkRecord(opts.Net, blk)
		if len(cur) > 0 && int64(len(cur)+len(rec)) >= opts.MaxFileSize {
			files = append(files, cur)
			cur = nil
		}
		cur = append(cur, rec...)
	}
	files = append(files, cur)

	for i, data := range files {
		xorFile(data, opts.XORKey)
		if last := i == len(files)-1; last && opts.Preallocate > 0 {
			pad := (opts.Preallocate - int64(len(data))%opts.Preallocate) % opts.Preallocate
			data = append(data, make([]byte, pad)...)
		}
		path := filepath.Join(dir, fmt.Sprintf("blk%05d.dat", i))
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return i, fmt.Errorf("chaintest: %w", err)
		}
	}
	return len(files), nil
}

// blkRecord frames one block as Core stores it.
func blkRecord(net wire.BitcoinNet, blk []byte) []byte {
	rec := make([]byte, 8, 8+len(blk))
	binary.LittleEndian.PutUint32(rec[:4], uint32(net))
	binary.LittleEndian.PutUint32(rec[4:], uint32(len(blk)))
	return append(rec, blk...)
}

// xorFile obfuscates a whole file in place.
func xorFile(data, key []byte) {
	if key == nil {
		return
	}
	for i := range data {
		data[i] ^= key[i%len(key)]
	}
}

var (
	mainnetBlocksOnce sync.Once
	mainnetBlocks     [][]byte
	mainnetBlocksErr  error
)

// MainnetBlocks returns the serialized real mainnet blocks 0-14131 in height
// order, read once per process from btcd's blk_0_to_14131.dat and checked to
// link from the genesis block. Callers must not modify them.
func MainnetBlocks(ctx context.Context) ([][]byte, error) {
	mainnetBlocksOnce.Do(func() {
		var path string
		if path, mainnetBlocksErr = MainnetBlocksPath(ctx); mainnetBlocksErr == nil {
			mainnetBlocks, mainnetBlocksErr = readMainnetBlocks(path)
		}
	})
	return mainnetBlocks, mainnetBlocksErr
}

func readMainnetBlocks(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("chaintest: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)

	blocks := make([][]byte, 0, MainnetTipHeight+1)
	prev := *chaincfg.MainNetParams.GenesisHash
	for h := range MainnetTipHeight + 1 {
		var hdr [8]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return nil, fmt.Errorf("%w: %s: record %d: %w", ErrBadBlockFile, path, h, err)
		}
		if wire.BitcoinNet(binary.LittleEndian.Uint32(hdr[:4])) != wire.MainNet {
			return nil, fmt.Errorf("%w: %s: record %d: bad magic", ErrBadBlockFile, path, h)
		}
		blk := make([]byte, binary.LittleEndian.Uint32(hdr[4:]))
		if _, err := io.ReadFull(r, blk); err != nil {
			return nil, fmt.Errorf("%w: %s: record %d: %w", ErrBadBlockFile, path, h, err)
		}
		var bh wire.BlockHeader
		if err := bh.Deserialize(bytes.NewReader(blk)); err != nil {
			return nil, fmt.Errorf("%w: %s: record %d: %w", ErrBadBlockFile, path, h, err)
		}
		if h > 0 && bh.PrevBlock != prev {
			return nil, fmt.Errorf("%w: %s: record %d does not build on record %d", ErrBadBlockFile, path, h, h-1)
		}
		if h == 0 && bh.BlockHash() != prev {
			return nil, fmt.Errorf("%w: %s: record 0 is not the genesis block", ErrBadBlockFile, path)
		}
		prev = bh.BlockHash()
		blocks = append(blocks, blk)
	}
	return blocks, nil
}
