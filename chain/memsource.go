package chain

import (
	"context"
	"fmt"
	"runtime"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
)

// MemBlockSource serves serialized blocks held in memory through the same
// pipeline as the node's sources: batches fetched concurrently, each block
// checked against its hash and merkle root in the fetching goroutines, and
// delivered in order. Benchmarks use it to measure the indexing of blocks
// no node can serve (synthetic blocks shaped like today's mainnet).
type MemBlockSource struct {
	// Blocks maps a block hash to its serialized block.
	Blocks map[chainhash.Hash][]byte

	// BatchSize and InFlight are the pipeline's limits; 0 means
	// DefaultBlockBatchSize and GOMAXPROCS.
	BatchSize, InFlight int
}

var _ BlockSource = (*MemBlockSource)(nil)

// Name returns "mem".
func (s *MemBlockSource) Name() string { return "mem" }

// FetchBlocks delivers the blocks with the given hashes in order.
func (s *MemBlockSource) FetchBlocks(ctx context.Context, from int32, hashes []chainhash.Hash) (<-chan RawBlock, func() error) {
	return fetchPipeline(ctx, s, from, hashes)
}

func (s *MemBlockSource) limits() (int, int) {
	return orDefault(s.BatchSize, DefaultBlockBatchSize), orDefault(s.InFlight, runtime.GOMAXPROCS(0))
}

func (s *MemBlockSource) prepare(context.Context, int32, []chainhash.Hash) error { return nil }

func (s *MemBlockSource) fetchBatch(_ context.Context, from int32, hashes []chainhash.Hash) ([][]byte, error) {
	raws := make([][]byte, 0, len(hashes))
	for i, h := range hashes {
		raw, ok := s.Blocks[h]
		if !ok {
			return raws, fmt.Errorf("block %v at height %d: %w", h, from+int32(i), ErrBlockNotFound)
		}
		raws = append(raws, raw)
	}
	return raws, nil
}
