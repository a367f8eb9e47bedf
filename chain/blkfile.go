package chain

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/minerscope/minerscope/analysis"
)

// ErrNoBlockFiles means a --blocks-dir holds no blk*.dat files.
var ErrNoBlockFiles = errors.New("no Bitcoin Core block files")

// Bitcoin Core's blocks directory layout.
const (
	blkRecordHeader = 8 // 4-byte network magic, 4-byte little-endian block size
	xorKeySize      = 8 // blocks/xor.dat (Core 28+), serialized without a length
	blkResyncChunk  = 64 << 10
	maxBlkFileSize  = 1<<32 - 1 // offsets are kept as uint32; Core's files stop at 128 MiB
)

// blockMagic is each network's record magic (its P2P message start).
var blockMagic = map[string]wire.BitcoinNet{
	"mainnet":  wire.MainNet,
	"testnet3": wire.TestNet3,
	"testnet4": 0x283f161c,
	"signet":   chaincfg.SigNetParams.Net, // the default signet
	"regtest":  wire.TestNet,
	"simnet":   wire.SimNet,
}

// BlkFileSource reads blocks straight from Bitcoin Core's blocks directory
// (blk00000.dat, …: records of magic, size and block, in the order the node
// received them), for minerscope running beside the node. Core 28+
// obfuscates the files with the 8-byte key in xor.dat: byte i of a file is
// XORed with key[i mod 8].
//
// Blocks are found by hash, not by position: files hold blocks out of height
// order and stale blocks, and only the hashes the caller passes (the
// verified header chain) are read. The first fetch scans the record headers
// of every file (88 bytes per block, not the blocks) into an index of about
// 50 bytes per block (45 MB for mainnet); later fetches rescan only what the
// node appended. The
// node's own block index (LevelDB in blocks/index) is not read: a running
// node holds its lock.
//
// A pruned node deletes its oldest files: a missing run of blocks at the
// start of a fetch is a *PrunedError.
type BlkFileSource struct {
	// BatchSize and InFlight bound the blocks read ahead, as for the RPC
	// source; zero selects DefaultBlockBatchSize and GOMAXPROCS up to 8
	// (reading is cheap, checking and decoding is CPU work). Set them
	// before the first FetchBlocks.
	BatchSize, InFlight int

	// Logger receives a note when unreadable bytes are skipped; nil is
	// silent.
	Logger *slog.Logger

	dir   string
	magic [4]byte
	key   [xorKeySize]byte

	mu       sync.RWMutex
	scanned  map[uint32]int64          // per file: end of the last complete record
	index    map[uint64]blkLoc         // by the first 8 bytes of the hash
	overflow map[chainhash.Hash]blkLoc // hashes whose first 8 bytes collide
	keyOf    func(*chainhash.Hash) uint64
}

// blkLoc is where a block is: file number, offset of the block (past its
// record header) and size. size 0 marks an index slot whose hashes collide.
type blkLoc struct {
	file, off, size uint32
}

// NewBlkFileSource opens Core's blocks directory dir (or a data directory
// holding blocks/) for the network p. It reads xor.dat when present; the
// files are scanned at the first FetchBlocks.
func NewBlkFileSource(dir string, p analysis.Params) (*BlkFileSource, error) {
	net, ok := blockMagic[p.Name]
	if !ok {
		return nil, fmt.Errorf("blk files: unknown network %q", p.Name)
	}
	dir, err := findBlocksDir(dir)
	if err != nil {
		return nil, err
	}
	s := &BlkFileSource{
		dir:      dir,
		scanned:  make(map[uint32]int64),
		index:    make(map[uint64]blkLoc),
		overflow: make(map[chainhash.Hash]blkLoc),
		keyOf:    hashPrefix,
	}
	binary.LittleEndian.PutUint32(s.magic[:], uint32(net))
	if s.key, err = readXORKey(dir); err != nil {
		return nil, err
	}
	return s, nil
}

// findBlocksDir returns dir, or dir/blocks, whichever holds blk files.
func findBlocksDir(dir string) (string, error) {
	for _, d := range []string{dir, filepath.Join(dir, "blocks")} {
		files, err := listBlkFiles(d)
		if err == nil && len(files) > 0 {
			return d, nil
		}
	}
	return "", fmt.Errorf("%w in %s; point --blocks-dir at the node's blocks directory "+
		"(e.g. ~/.bitcoin/blocks), on the machine the node runs on", ErrNoBlockFiles, dir)
}

// readXORKey reads Core 28's obfuscation key; without xor.dat the key is
// zero (no obfuscation), as for older nodes.
func readXORKey(dir string) ([xorKeySize]byte, error) {
	var key [xorKeySize]byte
	path := filepath.Join(dir, "xor.dat")
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return key, nil
	case err != nil:
		return key, fmt.Errorf("blk files: %w", err)
	case len(data) != xorKeySize:
		return key, fmt.Errorf("blk files: %s holds %d bytes, not an %d-byte key; "+
			"is %s a Bitcoin Core blocks directory?", path, len(data), xorKeySize, dir)
	}
	copy(key[:], data)
	return key, nil
}

// listBlkFiles returns the numbers of dir's blk?????.dat files in order.
func listBlkFiles(dir string) ([]uint32, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var nums []uint32
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, "blk") || !strings.HasSuffix(name, ".dat") {
			continue
		}
		n, err := strconv.ParseUint(name[3:len(name)-4], 10, 32)
		if err == nil {
			nums = append(nums, uint32(n))
		}
	}
	slices.Sort(nums)
	return nums, nil
}

func (s *BlkFileSource) path(num uint32) string {
	return filepath.Join(s.dir, fmt.Sprintf("blk%05d.dat", num))
}

// Name is "blk".
func (s *BlkFileSource) Name() string { return "blk" }

// Dir returns the blocks directory in use.
func (s *BlkFileSource) Dir() string { return s.dir }

// FetchBlocks implements BlockSource.
func (s *BlkFileSource) FetchBlocks(ctx context.Context, from int32, hashes []chainhash.Hash) (<-chan RawBlock, func() error) {
	return fetchPipeline(ctx, s, from, hashes)
}

func (s *BlkFileSource) limits() (int, int) {
	return orDefault(s.BatchSize, DefaultBlockBatchSize), orDefault(s.InFlight, min(runtime.GOMAXPROCS(0), 8))
}

// prepare makes sure every hash is indexed, scanning what the node wrote
// since the last scan when one is not.
func (s *BlkFileSource) prepare(ctx context.Context, from int32, hashes []chainhash.Hash) error {
	missing := s.missing(hashes)
	if len(missing) == 0 {
		return nil
	}
	if err := s.refresh(ctx); err != nil {
		return err
	}
	if missing = s.missing(hashes); len(missing) == 0 {
		return nil
	}

	first := missing[0]
	if first == 0 && missing[len(missing)-1] == len(missing)-1 && len(missing) < len(hashes) {
		return &PrunedError{FirstAvailable: from + int32(len(missing))}
	}
	return fmt.Errorf("%w: block %d (%v) is not in %s (%d of %d requested blocks missing); "+
		"check that --blocks-dir is the node's own blocks directory",
		ErrBlockNotFound, from+int32(first), hashes[first], s.dir, len(missing), len(hashes))
}

// missing returns the indexes of the hashes not in the index.
func (s *BlkFileSource) missing(hashes []chainhash.Hash) []int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var missing []int
	for i := range hashes {
		if _, ok := s.lookup(&hashes[i]); !ok {
			missing = append(missing, i)
		}
	}
	return missing
}

// lookup finds a block; the caller holds mu.
func (s *BlkFileSource) lookup(hash *chainhash.Hash) (blkLoc, bool) {
	loc, ok := s.index[s.keyOf(hash)]
	if ok && loc.size == 0 {
		loc, ok = s.overflow[*hash]
	}
	return loc, ok
}

// hashPrefix is the index key of a hash: its first 8 bytes, which are
// uniformly random (proof of work zeroes the last ones).
func hashPrefix(hash *chainhash.Hash) uint64 {
	return binary.LittleEndian.Uint64(hash[:8])
}

// fetchBatch reads the blocks, opening each file once for its run of
// blocks: a node's blocks directory holds thousands of files, more than a
// process may keep open.
func (s *BlkFileSource) fetchBatch(ctx context.Context, from int32, hashes []chainhash.Hash) ([][]byte, error) {
	blocks := make([][]byte, 0, len(hashes))
	var f *os.File
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	for i := range hashes {
		if err := ctx.Err(); err != nil {
			return blocks, err
		}
		s.mu.RLock()
		loc, ok := s.lookup(&hashes[i])
		s.mu.RUnlock()
		if !ok {
			return blocks, fmt.Errorf("%w: block %d (%v) left %s", ErrBlockNotFound, from+int32(i), hashes[i], s.dir)
		}
		if f == nil || f.Name() != s.path(loc.file) {
			if f != nil {
				f.Close()
			}
			var err error
			if f, err = os.Open(s.path(loc.file)); err != nil {
				return blocks, fmt.Errorf("%w: block %d (%v): %w", ErrBlockNotFound, from+int32(i), hashes[i], err)
			}
		}

		buf := make([]byte, loc.size)
		if _, err := f.ReadAt(buf, int64(loc.off)); err != nil {
			return blocks, fmt.Errorf("block %d (%v): read %s: %w", from+int32(i), hashes[i], f.Name(), err)
		}
		xorAt(buf, &s.key, int64(loc.off))
		blocks = append(blocks, buf)
	}
	return blocks, nil
}

// refresh scans new files and what was appended to known ones, and forgets
// files the node deleted (pruning).
func (s *BlkFileSource) refresh(ctx context.Context) error {
	nums, err := listBlkFiles(s.dir)
	if err != nil {
		return fmt.Errorf("blk files: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	s.forgetDeleted(nums)
	for _, num := range nums {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.scanFile(num); err != nil {
			return err
		}
	}
	return nil
}

// forgetDeleted drops the files not in nums and their blocks.
func (s *BlkFileSource) forgetDeleted(nums []uint32) {
	for num := range s.scanned {
		if _, ok := slices.BinarySearch(nums, num); ok {
			continue
		}
		delete(s.scanned, num)
		for k, loc := range s.index {
			if loc.file == num && loc.size != 0 {
				delete(s.index, k)
			}
		}
		for h, loc := range s.overflow {
			if loc.file == num {
				delete(s.overflow, h)
			}
		}
	}
}

// scanFile indexes the records of file num past its last scan.
func (s *BlkFileSource) scanFile(num uint32) error {
	f, err := os.Open(s.path(num))
	if errors.Is(err, fs.ErrNotExist) {
		return nil // pruned meanwhile
	}
	if err != nil {
		return fmt.Errorf("blk files: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("blk files: %w", err)
	}
	size, start := fi.Size(), s.scanned[num]
	if size > maxBlkFileSize {
		return fmt.Errorf("blk files: %s is %d bytes, larger than Bitcoin Core writes", f.Name(), size)
	}
	if size <= start {
		return nil
	}

	var skipped int64
	end, err := scanBlk(f, size, start, s.magic, &s.key, func(r blkRecord) error {
		skipped += r.skipped
		return s.add(r.hash, blkLoc{file: num, off: uint32(r.off), size: r.size})
	})
	if err != nil {
		return fmt.Errorf("blk files: scan %s: %w", f.Name(), err)
	}
	if skipped > 0 {
		loggerOrDiscard(s.Logger).Warn("skipped unreadable bytes in a block file",
			"file", f.Name(), "bytes", skipped)
	}
	s.scanned[num] = end
	return nil
}

// add indexes one record; the caller holds mu. Two different blocks whose
// hashes share the index key both move to the overflow map.
func (s *BlkFileSource) add(hash chainhash.Hash, loc blkLoc) error {
	k := s.keyOf(&hash)
	old, ok := s.index[k]
	switch {
	case !ok:
		s.index[k] = loc
		return nil
	case old.size == 0:
		if _, dup := s.overflow[hash]; !dup {
			s.overflow[hash] = loc
		}
		return nil
	}
	oldHash, err := s.recordHash(old)
	if err != nil {
		return err
	}
	if oldHash != hash {
		s.overflow[oldHash] = old
		s.overflow[hash] = loc
		s.index[k] = blkLoc{}
	}
	return nil // else the node stored the block twice: keep the first
}

// recordHash rereads the header of an indexed block.
func (s *BlkFileSource) recordHash(loc blkLoc) (chainhash.Hash, error) {
	var hdr [wire.MaxBlockHeaderPayload]byte
	f, err := os.Open(s.path(loc.file))
	if err != nil {
		return chainhash.Hash{}, fmt.Errorf("blk files: %w", err)
	}
	defer f.Close()
	if _, err := f.ReadAt(hdr[:], int64(loc.off)); err != nil {
		return chainhash.Hash{}, fmt.Errorf("blk files: %w", err)
	}
	xorAt(hdr[:], &s.key, int64(loc.off))
	return chainhash.DoubleHashH(hdr[:]), nil
}

// blkRecord is one block record scanBlk found.
type blkRecord struct {
	off     int64 // of the block, past the record header
	size    uint32
	hash    chainhash.Hash
	skipped int64 // unreadable bytes skipped before the record
}

// scanBlk reads the records of a blk file of size bytes from offset start
// and calls fn for each. It returns where the next scan should start: past
// the last complete record. A record cut short (the node is writing it)
// ends the scan, as does Core's preallocated zero tail; any other byte that
// does not start a record is skipped up to the next magic, as Core's
// -reindex does.
func scanBlk(r io.ReaderAt, size, start int64, magic [4]byte, key *[xorKeySize]byte, fn func(blkRecord) error) (int64, error) {
	var hdr [blkRecordHeader + wire.MaxBlockHeaderPayload]byte
	end := start
	var skipped int64
	var scratch []byte
	for pos := start; pos+int64(len(hdr)) <= size; {
		if err := readAtXOR(r, hdr[:], pos, key); err != nil {
			return end, eofIsEnd(err)
		}
		n := int64(binary.LittleEndian.Uint32(hdr[4:8]))
		if [4]byte(hdr[:4]) != magic || n < wire.MaxBlockHeaderPayload || n > wire.MaxBlockPayload {
			next, err := findMagic(r, pos+1, size, magic, key, &scratch)
			if err != nil || next < 0 {
				return end, eofIsEnd(err)
			}
			skipped += next - pos
			pos = next
			continue
		}
		if pos+blkRecordHeader+n > size {
			break // cut short
		}
		rec := blkRecord{
			off:     pos + blkRecordHeader,
			size:    uint32(n),
			hash:    chainhash.DoubleHashH(hdr[blkRecordHeader:]),
			skipped: skipped,
		}
		if err := fn(rec); err != nil {
			return end, err
		}
		skipped = 0
		pos += blkRecordHeader + n
		end = pos
	}
	return end, nil
}

// eofIsEnd treats a file shorter than its size a moment ago (truncated by
// the node) as ending there.
func eofIsEnd(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// findMagic returns the offset of the next magic at or after from, or -1.
// It reads 256 bytes first and doubles the reads up to 64 KiB, so finding
// a magic costs in proportion to the bytes skipped.
// buf is scratch space, grown as needed.
func findMagic(r io.ReaderAt, from, size int64, magic [4]byte, key *[xorKeySize]byte, buf *[]byte) (int64, error) {
	n := int64(256)
	for pos := from; pos+int64(len(magic)) <= size; {
		if int64(cap(*buf)) < n {
			*buf = make([]byte, n)
		}
		chunk := (*buf)[:min(n, size-pos)]
		if err := readAtXOR(r, chunk, pos, key); err != nil {
			return -1, err
		}
		if i := bytes.Index(chunk, magic[:]); i >= 0 {
			return pos + int64(i), nil
		}
		pos += int64(len(chunk) - len(magic) + 1) // a magic may straddle chunks
		n = min(2*n, blkResyncChunk)
	}
	return -1, nil
}

// readAtXOR fills buf from offset off and removes the obfuscation.
func readAtXOR(r io.ReaderAt, buf []byte, off int64, key *[xorKeySize]byte) error {
	if _, err := r.ReadAt(buf, off); err != nil {
		return err
	}
	xorAt(buf, key, off)
	return nil
}

// xorAt applies Core's obfuscation to buf, which starts at file offset off.
func xorAt(buf []byte, key *[xorKeySize]byte, off int64) {
	if *key == ([xorKeySize]byte{}) {
		return
	}
	// Rotate the key to off and XOR eight bytes at a time.
	var rot [xorKeySize]byte
	for i := range rot {
		rot[i] = key[(off+int64(i))%xorKeySize]
	}
	k := binary.LittleEndian.Uint64(rot[:])
	i := 0
	for ; i+xorKeySize <= len(buf); i += xorKeySize {
		binary.LittleEndian.PutUint64(buf[i:], binary.LittleEndian.Uint64(buf[i:])^k)
	}
	for ; i < len(buf); i++ {
		buf[i] ^= rot[i%xorKeySize]
	}
}
