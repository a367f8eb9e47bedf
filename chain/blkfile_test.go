package chain

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/chain/chaintest"
)

// staleCopy returns a competitor of blk: same parent, another coinbase,
// so another merkle root and hash (its proof of work is not valid, which
// a blk-file reader never checks).
func staleCopy(t testing.TB, raw []byte) []byte {
	t.Helper()
	var blk wire.MsgBlock
	if err := blk.Deserialize(bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	cb := blk.Transactions[0].Copy()
	cb.TxIn[0].SignatureScript = append(cb.TxIn[0].SignatureScript, 0x51)
	blk.Transactions[0] = cb
	txs := make([]*btcutil.Tx, len(blk.Transactions))
	for i, tx := range blk.Transactions {
		txs[i] = btcutil.NewTx(tx)
	}
	blk.Header.MerkleRoot = blockchain.CalcMerkleRoot(txs, false)
	var buf bytes.Buffer
	if err := blk.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// nodeOrder arranges blocks the way a syncing Core node stores them: in
// windows of 64 heights received out of order, with stale blocks mixed in
// and one block stored twice.
func nodeOrder(t testing.TB, blocks [][]byte, seed uint64) [][]byte {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	var out [][]byte
	for lo := 0; lo < len(blocks); lo += 64 {
		window := slices.Clone(blocks[lo:min(lo+64, len(blocks))])
		if lo%1024 == 0 && lo > 0 {
			window = append(window, staleCopy(t, blocks[lo+3]))
		}
		rng.Shuffle(len(window), func(i, j int) { window[i], window[j] = window[j], window[i] })
		out = append(out, window...)
	}
	return append(out, blocks[len(blocks)/3])
}

var mainnetParams = analysis.Mainnet

// newBlkSource writes blocks into a new directory and opens it.
func newBlkSource(t testing.TB, blocks [][]byte, opts chaintest.BlkFileOptions) (*BlkFileSource, string) {
	t.Helper()
	dir := t.TempDir()
	if _, err := chaintest.WriteBlkFiles(dir, blocks, opts); err != nil {
		t.Fatal(err)
	}
	s, err := NewBlkFileSource(dir, mainnetParams)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

// TestBlkFileSourceMainnet reads the real mainnet blocks 0-14131 from blk
// files in Core's format, before and after Core 28's obfuscation, in order
// and as a syncing node stores them.
func TestBlkFileSourceMainnet(t *testing.T) {
	blocks := mainnetBlocks(t)
	hashes := hashesOf(blocks)
	key := []byte{0x9a, 0x01, 0xff, 0x3c, 0x00, 0x5e, 0x71, 0xd4}
	tests := []struct {
		name  string
		order [][]byte
		opts  chaintest.BlkFileOptions
		files int
	}{
		{"core 27, one file", blocks, chaintest.BlkFileOptions{}, 1},
		{"core 28 -blocksxor=0", blocks, chaintest.BlkFileOptions{XORKey: make([]byte, 8), MaxFileSize: 300 << 10}, 10},
		{"core 28 xor, node order, stale, preallocated", nodeOrder(t, blocks, 1),
			chaintest.BlkFileOptions{XORKey: key, MaxFileSize: 256 << 10, Preallocate: 1 << 20}, 12},
		{"xor, 1 MiB files", nodeOrder(t, blocks, 2), chaintest.BlkFileOptions{XORKey: key, MaxFileSize: 1 << 20}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, dir := newBlkSource(t, tt.order, tt.opts)
			if files, _ := filepath.Glob(filepath.Join(dir, "blk*.dat")); len(files) < tt.files {
				t.Fatalf("%d blk files, want at least %d", len(files), tt.files)
			}
			s.BatchSize, s.InFlight = 13, 3
			fds := openFiles(t)
			ch, errf := s.FetchBlocks(testCtx(t), 0, hashes)
			got := collectBlocks(t, 0, hashes, ch)
			if err := errf(); err != nil {
				t.Fatal(err)
			}
			sameBlocks(t, "blk", 0, got, blocks)
			if after := openFiles(t); after > fds {
				t.Errorf("%d files open after the fetch, %d before", after, fds)
			}

			// A later range reuses the index.
			ch, errf = s.FetchBlocks(testCtx(t), 9000, hashes[9000:9100])
			got = collectBlocks(t, 9000, hashes[9000:9100], ch)
			if err := errf(); err != nil {
				t.Fatal(err)
			}
			sameBlocks(t, "blk again", 9000, got, blocks[9000:9100])
		})
	}
}

// firstHeightIn returns the height of the first block of a blk file,
// reading it independently of the code under test.
func firstHeightIn(t *testing.T, path string, key []byte, heights map[chainhash.Hash]int) int32 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	hdr := bytes.Clone(data[:88])
	for i := range hdr {
		hdr[i] ^= key[i%8]
	}
	h, ok := heights[chainhash.DoubleHashH(hdr[8:88])]
	if !ok {
		t.Fatalf("first block of %s unknown", path)
	}
	return int32(h)
}

// TestBlkFileSourcePruned: a pruned node's blocks directory lacks its
// first files; the first available height comes from the remaining ones.
func TestBlkFileSourcePruned(t *testing.T) {
	blocks := mainnetBlocks(t)
	hashes := hashesOf(blocks)
	heights := make(map[chainhash.Hash]int, len(hashes))
	for i, h := range hashes {
		heights[h] = i
	}
	key := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	s, dir := newBlkSource(t, blocks, chaintest.BlkFileOptions{XORKey: key, MaxFileSize: 512 << 10})
	for _, name := range []string{"blk00000.dat", "blk00001.dat"} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	first := firstHeightIn(t, filepath.Join(dir, "blk00002.dat"), key, heights)
	if first < 1000 {
		t.Fatalf("first available height %d", first)
	}

	ch, errf := s.FetchBlocks(testCtx(t), 0, hashes)
	got := collectBlocks(t, 0, hashes, ch)
	var pe *PrunedError
	if err := errf(); !errors.As(err, &pe) || pe.FirstAvailable != first || len(got) != 0 {
		t.Fatalf("%d blocks, err = %v; want PrunedError at %d", len(got), err, first)
	}
	ch, errf = s.FetchBlocks(testCtx(t), first, hashes[first:])
	got = collectBlocks(t, first, hashes[first:], ch)
	if err := errf(); err != nil {
		t.Fatal(err)
	}
	sameBlocks(t, "after prune", first, got, blocks[first:])

	// A block missing after the first available one is not pruning.
	holed := slices.Clone(hashes[first:])
	holed[10] = chainhash.Hash{7}
	ch, errf = s.FetchBlocks(testCtx(t), first, holed)
	collectBlocks(t, first, holed, ch)
	if err := errf(); !errors.Is(err, ErrBlockNotFound) || errors.Is(err, ErrPruned) ||
		!strings.Contains(err.Error(), "block "+strconv.Itoa(int(first+10))+" ") {
		t.Errorf("hole: err = %v", err)
	}

	// The node prunes another file while minerscope runs.
	if err := os.Remove(filepath.Join(dir, "blk00002.dat")); err != nil {
		t.Fatal(err)
	}
	next := firstHeightIn(t, filepath.Join(dir, "blk00003.dat"), key, heights)
	ch, errf = s.FetchBlocks(testCtx(t), first, append(slices.Clone(hashes[first:]), chainhash.Hash{8}))
	collectBlocks(t, first, hashes[first:], ch)
	if err := errf(); !errors.Is(err, ErrBlockNotFound) {
		t.Errorf("unknown block after pruning: err = %v", err)
	}
	ch, errf = s.FetchBlocks(testCtx(t), first, hashes[first:])
	collectBlocks(t, first, hashes[first:], ch)
	if err := errf(); !errors.As(err, &pe) || pe.FirstAvailable != next {
		t.Errorf("pruned meanwhile: err = %v, want PrunedError at %d", err, next)
	}
}

// TestBlkFileSourceGrowing: blocks the node appends after the first scan,
// including one it was still writing during a scan, are found by later
// fetches.
func TestBlkFileSourceGrowing(t *testing.T) {
	blocks := mainnetBlocks(t)
	hashes := hashesOf(blocks)
	key := []byte{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4}
	opts := chaintest.BlkFileOptions{XORKey: key, MaxFileSize: 1 << 20, Preallocate: 1 << 20}
	s, dir := newBlkSource(t, blocks[:10000], opts)
	fetch := func(from, to int32) error {
		ch, errf := s.FetchBlocks(testCtx(t), from, hashes[from:to+1])
		got := collectBlocks(t, from, hashes[from:to+1], ch)
		if err := errf(); err != nil {
			return err
		}
		sameBlocks(t, "growing", from, got, blocks[from:to+1])
		return nil
	}
	if err := fetch(0, 9999); err != nil {
		t.Fatal(err)
	}

	// The node has written up to 14000 and half of 14001: with no zeros
	// after it, the record is cut short and not indexed.
	if _, err := chaintest.WriteBlkFiles(dir, blocks[:14001], chaintest.BlkFileOptions{XORKey: key, MaxFileSize: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	last := lastBlkFile(t, dir)
	data, err := os.ReadFile(last)
	if err != nil {
		t.Fatal(err)
	}
	rec := binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, uint32(wire.MainNet)), uint32(len(blocks[14001])))
	rec = append(rec, blocks[14001]...)
	partial := append(bytes.Clone(data), rec[:len(rec)/2]...)
	for i := len(data); i < len(partial); i++ {
		partial[i] ^= key[i%8]
	}
	if err := os.WriteFile(last, partial, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := fetch(10000, 14001); !errors.Is(err, ErrBlockNotFound) || !strings.Contains(err.Error(), "block 14001 ") {
		t.Fatalf("half-written block: err = %v", err)
	}

	// In a preallocated file the half-written record is indexed where it
	// will be (its header is complete) ...
	if err := os.WriteFile(last, append(partial, make([]byte, 1<<16)...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := fetch(10000, 14000); err != nil {
		t.Fatal(err)
	}
	// ... and read once the node has finished it and gone on.
	if _, err := chaintest.WriteBlkFiles(dir, blocks, opts); err != nil {
		t.Fatal(err)
	}
	if err := fetch(14001, mainnetTip); err != nil {
		t.Fatal(err)
	}
}

func lastBlkFile(t *testing.T, dir string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "blk*.dat"))
	if err != nil || len(files) == 0 {
		t.Fatal(files, err)
	}
	slices.Sort(files)
	return files[len(files)-1]
}

// TestBlkFileSourceCollisions: blocks whose index keys collide are all
// found (the real key is 8 hash bytes; here it is 2 bits).
func TestBlkFileSourceCollisions(t *testing.T) {
	blocks := mainnetBlocks(t)[:3000]
	hashes := hashesOf(blocks)
	order := nodeOrder(t, blocks, 3)
	s, _ := newBlkSource(t, order, chaintest.BlkFileOptions{XORKey: []byte{8, 7, 6, 5, 4, 3, 2, 1}, MaxFileSize: 200 << 10})
	s.keyOf = func(h *chainhash.Hash) uint64 { return uint64(h[0] & 3) }
	ch, errf := s.FetchBlocks(testCtx(t), 0, hashes)
	got := collectBlocks(t, 0, hashes, ch)
	if err := errf(); err != nil {
		t.Fatal(err)
	}
	sameBlocks(t, "collisions", 0, got, blocks)
	if len(s.index) != 4 || len(s.overflow) < len(blocks) {
		t.Errorf("index %d keys, overflow %d", len(s.index), len(s.overflow))
	}
}

// TestBlkFileSourceBadBlock: a damaged block in the files is reported
// with its height.
func TestBlkFileSourceBadBlock(t *testing.T) {
	blocks := slices.Clone(mainnetBlocks(t)[:2000])
	hashes := hashesOf(blocks)
	blocks[777] = bytes.Clone(blocks[777])
	blocks[777][len(blocks[777])-20] ^= 0x10
	s, _ := newBlkSource(t, blocks, chaintest.BlkFileOptions{XORKey: []byte{1, 1, 1, 1, 1, 1, 1, 1}})
	ch, errf := s.FetchBlocks(testCtx(t), 0, hashes)
	got := collectBlocks(t, 0, hashes, ch)
	var bad *BadBlockError
	if err := errf(); !errors.As(err, &bad) || bad.Height != 777 || bad.Source != "blk" ||
		!strings.Contains(bad.Reason, "merkle root") || len(got) != 777 {
		t.Fatalf("%d blocks, err = %v", len(got), err)
	}
}

func TestNewBlkFileSource(t *testing.T) {
	blocks := mainnetBlocks(t)[:10]
	datadir := t.TempDir()
	blocksDir := filepath.Join(datadir, "blocks")
	if _, err := chaintest.WriteBlkFiles(blocksDir, blocks, chaintest.BlkFileOptions{XORKey: make([]byte, 8)}); err != nil {
		t.Fatal(err)
	}
	s, err := NewBlkFileSource(datadir, mainnetParams)
	if err != nil || s.Dir() != blocksDir {
		t.Fatalf("data dir: %v, %v", s, err)
	}

	if _, err := NewBlkFileSource(t.TempDir(), mainnetParams); !errors.Is(err, ErrNoBlockFiles) ||
		!strings.Contains(err.Error(), "--blocks-dir") {
		t.Errorf("empty dir: %v", err)
	}
	if err := os.WriteFile(filepath.Join(blocksDir, "xor.dat"), []byte{1, 2, 3}, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewBlkFileSource(blocksDir, mainnetParams); err == nil || !strings.Contains(err.Error(), "xor.dat") {
		t.Errorf("short xor.dat: %v", err)
	}
	if _, err := NewBlkFileSource(blocksDir, analysis.Params{Name: "moonnet"}); err == nil {
		t.Error("unknown network accepted")
	}

	// Blocks of another network are not found.
	s, _ = newBlkSource(t, blocks, chaintest.BlkFileOptions{Net: wire.TestNet3})
	ch, errf := s.FetchBlocks(testCtx(t), 0, hashesOf(blocks))
	collectBlocks(t, 0, hashesOf(blocks), ch)
	if err := errf(); !errors.Is(err, ErrBlockNotFound) {
		t.Errorf("testnet magic: %v", err)
	}
}

// TestXorAt compares the word-at-a-time XOR with the byte-wise definition
// at every alignment.
func TestXorAt(t *testing.T) {
	key := [8]byte{1, 2, 4, 8, 16, 32, 64, 128}
	data := make([]byte, 53)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for off := int64(0); off < 20; off++ {
		for n := 0; n <= len(data); n++ {
			got := bytes.Clone(data[:n])
			xorAt(got, &key, off)
			for i := range got {
				if got[i] != data[i]^key[(off+int64(i))%8] {
					t.Fatalf("off %d len %d byte %d", off, n, i)
				}
			}
		}
	}
}

// blkMagicMain is mainnet's record magic as it appears in a file.
var blkMagicMain = [4]byte{0xf9, 0xbe, 0xb4, 0xd9}

// FuzzScanBlk: on any bytes scanBlk neither panics nor reports a record
// outside the data, and on well-formed files — whatever the key, the block
// sizes and where the node's writing stopped — it finds exactly the records
// written, also when resuming a scan cut short.
func FuzzScanBlk(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, key uint64, cut uint16) {
		var k [8]byte
		binary.LittleEndian.PutUint64(k[:], key)

		// Arbitrary bytes.
		var prevEnd int64
		end, err := scanBlk(bytes.NewReader(data), int64(len(data)), 0, blkMagicMain, &k, func(r blkRecord) error {
			if r.off-blkRecordHeader < prevEnd || r.off+int64(r.size) > int64(len(data)) || r.size < 80 {
				t.Fatalf("record at %d size %d outside the data (%d bytes, previous end %d)", r.off, r.size, len(data), prevEnd)
			}
			hdr := bytes.Clone(data[r.off : r.off+80])
			xorAt(hdr, &k, r.off)
			if chainhash.DoubleHashH(hdr) != r.hash {
				t.Fatalf("record at %d: wrong hash", r.off)
			}
			prevEnd = r.off + int64(r.size)
			return nil
		})
		if err != nil || end != prevEnd {
			t.Fatalf("end %d, last record ends at %d, err %v", end, prevEnd, err)
		}

		// A well-formed file: blocks cut from data, 80 to 335 bytes each.
		var file []byte
		var want []blkRecord
		for rest := data; len(rest) > 0; {
			n := 80 + int(rest[0])
			blk := make([]byte, n)
			copy(blk, rest)
			rest = rest[min(len(rest), n):]
			want = append(want, blkRecord{off: int64(len(file) + 8), size: uint32(n), hash: chainhash.DoubleHashH(blk[:80])})
			file = binary.LittleEndian.AppendUint32(file, uint32(wire.MainNet))
			file = binary.LittleEndian.AppendUint32(file, uint32(n))
			file = append(file, blk...)
		}
		xorAt(file, &k, 0)
		file = append(file, make([]byte, int(cut)%300)...) // preallocated zeros

		scan := func(start, size int64) ([]blkRecord, int64) {
			var got []blkRecord
			end, err := scanBlk(bytes.NewReader(file[:size]), size, start, blkMagicMain, &k, func(r blkRecord) error {
				got = append(got, r)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return got, end
		}
		stop := int64(cut) % int64(len(file)+1)
		first, end1 := scan(0, stop)
		second, _ := scan(end1, int64(len(file)))
		got := append(first, second...)
		if len(got) != len(want) {
			t.Fatalf("%d records, want %d (stop at %d)", len(got), len(want), stop)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("record %d: %+v, want %+v", i, got[i], want[i])
			}
		}
	})
}

// openFiles counts the process's open files (Linux; 0 elsewhere).
func openFiles(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(entries)
}
