package chain

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/minerscope/minerscope/chain/chaintest"
)

// reportBlocks adds blocks/s and MB/s (serialized bytes) to a benchmark
// that handles blocks blocks of size bytes per iteration.
func reportBlocks(b *testing.B, blocks int, size int64) {
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(blocks)/sec, "blocks/s")
	b.ReportMetric(float64(size)/sec/1e6, "MB/s")
	b.ReportMetric(0, "ns/op")
}

func totalSize(blocks [][]byte) int64 {
	var n int64
	for _, b := range blocks {
		n += int64(len(b))
	}
	return n
}

// drainSource fetches hashes from src and fails unless all arrive.
func drainSource(b *testing.B, ctx context.Context, src BlockSource, from int32, hashes []chainhash.Hash) {
	st, err := drain(ctx, src, from, hashes)
	if err != nil || st.Blocks != len(hashes) {
		b.Fatalf("%s: %d blocks, %v", src.Name(), st.Blocks, err)
	}
}

// BenchmarkFetchBlocks fetches the real mainnet blocks 0-14131 (3.2 MB)
// from a real btcd with the RPC source and with BaselineBlocks (same
// requests, batching and concurrency; decoding only), for several batch
// sizes and concurrency levels. It chose DefaultBlockBatchSize and
// DefaultBlockInFlight.
//
//	go test ./chain/ -run '^$' -bench FetchBlocks -benchtime 5x
func BenchmarkFetchBlocks(b *testing.B) {
	blocks := mainnetBlocks(b)
	hashes := hashesOf(blocks)
	size := totalSize(blocks)
	n := chaintest.StartMainnet(b)
	ctx := b.Context()
	c := dialNode(b, ctx, n, nil)

	for _, inFlight := range []int{1, 2, 4, 8} {
		for _, batch := range []int{1, 4, 8, 16, 64, 256} {
			src := NewRPCBlockSource(c, batch, inFlight)
			name := fmt.Sprintf("inflight=%d/batch=%d", inFlight, batch)
			b.Run("rpc/"+name, func(b *testing.B) {
				for b.Loop() {
					drainSource(b, ctx, src, 0, hashes)
				}
				reportBlocks(b, len(hashes), size)
			})
			b.Run("baseline/"+name, func(b *testing.B) {
				for b.Loop() {
					if st, err := BaselineBlocks(ctx, src, 0, hashes); err != nil || st.Blocks != len(hashes) {
						b.Fatalf("%+v, %v", st, err)
					}
				}
				reportBlocks(b, len(hashes), size)
			})
		}
	}
}

// modernChain returns count hashes cycling through the two real 1.2 and
// 2.3 MB segwit blocks, a fake node serving them, and their total size.
func modernChain(b *testing.B, count int) (*blockNode, []chainhash.Hash, int64) {
	var blocks [][]byte
	var hashes []chainhash.Hash
	var size int64
	for _, name := range modernBlocks {
		raw, hash := readModernBlock(b, name)
		blocks = append(blocks, raw)
		hashes = append(hashes, hash)
	}
	f := newBlockNode(b, append([][]byte{mainnetBlocks(b)[0]}, blocks...))
	f.rest.Store(true)
	var chain []chainhash.Hash
	for i := range count {
		chain = append(chain, hashes[i%2])
		size += int64(len(blocks[i%2]))
	}
	return f, chain, size
}

// BenchmarkFetchBlocksModern fetches today's block sizes (the two real
// segwit blocks, 1.2 and 2.3 MB, about 3,000 transactions each, 48 blocks)
// from an in-process node: the client-side cost per block at mainnet
// scale, with the JSON fast path (rpc) and without it (rpc-json), over REST
// and as BaselineBlocks.
func BenchmarkFetchBlocksModern(b *testing.B) {
	f, hashes, size := modernChain(b, 48)
	c := f.dial(b)
	ctx := b.Context()
	slow := &jsonRPCSource{NewRPCBlockSource(c, 0, 0)}
	for _, src := range []BlockSource{NewRPCBlockSource(c, 0, 0), slow, NewRESTBlockSource(c, 0)} {
		b.Run(src.Name(), func(b *testing.B) {
			for b.Loop() {
				drainSource(b, ctx, src, 0, hashes)
			}
			reportBlocks(b, len(hashes), size)
		})
		b.Run("baseline-"+src.Name(), func(b *testing.B) {
			for b.Loop() {
				if st, err := BaselineBlocks(ctx, src, 0, hashes); err != nil || st.Blocks != len(hashes) {
					b.Fatalf("%+v, %v", st, err)
				}
			}
			reportBlocks(b, len(hashes), size)
		})
	}
}

// jsonRPCSource is the RPC source decoding replies with encoding/json only.
type jsonRPCSource struct{ *RPCBlockSource }

func (s *jsonRPCSource) Name() string { return "rpc-json" }

func (s *jsonRPCSource) FetchBlocks(ctx context.Context, from int32, hashes []chainhash.Hash) (<-chan RawBlock, func() error) {
	return fetchPipeline(ctx, s, from, hashes)
}

func (s *jsonRPCSource) fetchBatch(ctx context.Context, from int32, hashes []chainhash.Hash) ([][]byte, error) {
	reqs := make([]Request, len(hashes))
	for i := range hashes {
		reqs[i] = Request{Method: "getblock", Params: []any{hashes[i].String(), 0}}
	}
	results, err := s.c.CallBatch(ctx, reqs)
	if err != nil {
		return nil, err
	}
	blocks := make([][]byte, len(results))
	for i, res := range results {
		var hexStr string
		if err := jsonUnmarshal(res, &hexStr); err != nil {
			return nil, err
		}
		if blocks[i], err = hexDecode(hexStr); err != nil {
			return nil, err
		}
	}
	return blocks, nil
}

// BenchmarkCheckBlock measures the per-block work of every source on the
// two real segwit blocks: decode plus hash and merkle checks (checkBlock),
// against a plain wire decode.
func BenchmarkCheckBlock(b *testing.B) {
	for _, name := range modernBlocks {
		raw, hash := readModernBlock(b, name)
		b.Run("check/"+name[len(name)-8:], func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if _, _, reason := checkBlock(raw, hash); reason != "" {
					b.Fatal(reason)
				}
			}
		})
		b.Run("decode/"+name[len(name)-8:], func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				var blk wire.MsgBlock
				if err := blk.Deserialize(bytes.NewReader(raw)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBlkFileSource reads the mainnet blocks 0-14131 from blk files
// (obfuscated, in a syncing node's order, with stale blocks) with the blk
// source (first fetch: scan included), BaselineBlocks, and a plain
// sequential decode of the same files.
func BenchmarkBlkFileSource(b *testing.B) {
	blocks := mainnetBlocks(b)
	hashes := hashesOf(blocks)
	size := totalSize(blocks)
	key := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	dir := b.TempDir()
	files, err := chaintest.WriteBlkFiles(dir, nodeOrder(b, blocks, 9), chaintest.BlkFileOptions{XORKey: key, MaxFileSize: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	open := func(b *testing.B) *BlkFileSource {
		s, err := NewBlkFileSource(dir, mainnetParams)
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	b.Run("source", func(b *testing.B) {
		for b.Loop() {
			s := open(b)
			drainSource(b, ctx, s, 0, hashes)
		}
		reportBlocks(b, len(hashes), size)
	})
	b.Run("baseline", func(b *testing.B) {
		for b.Loop() {
			s := open(b)
			if st, err := BaselineBlocks(ctx, s, 0, hashes); err != nil || st.Blocks != len(hashes) {
				b.Fatalf("%+v, %v", st, err)
			}
		}
		reportBlocks(b, len(hashes), size)
	})
	b.Run("plain-decode", func(b *testing.B) {
		for b.Loop() {
			if got := plainDecode(b, dir, files, key); got < len(hashes) {
				b.Fatalf("%d blocks", got)
			}
		}
		reportBlocks(b, len(hashes), size)
	})
}

// plainDecode reads the blk files front to back, removes the obfuscation
// and decodes every record: the least any blk reader must do.
func plainDecode(b *testing.B, dir string, files int, key []byte) int {
	n := 0
	for i := range files {
		data, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("blk%05d.dat", i)))
		if err != nil {
			b.Fatal(err)
		}
		for j := range data {
			data[j] ^= key[j%8]
		}
		r := bufio.NewReader(bytes.NewReader(data))
		var hdr [8]byte
		for {
			if _, err := io.ReadFull(r, hdr[:]); err != nil {
				break
			}
			var blk wire.MsgBlock
			lr := io.LimitReader(r, int64(binary.LittleEndian.Uint32(hdr[4:])))
			if err := blk.Deserialize(lr); err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
	return n
}

func jsonUnmarshal(raw []byte, v any) error { return json.Unmarshal(raw, v) }

func hexDecode(s string) ([]byte, error) { return hex.DecodeString(s) }
