package chain

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"hash"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// Block fetch defaults, measured against btcd (see BenchmarkFetchBlocks).
const (
	// DefaultBlockBatchSize is the number of blocks per getblock batch.
	// With DefaultBlockInFlight it bounds the blocks held ahead of the
	// consumer to 32: about 200 MB at today's 1.5 MB blocks, counting
	// the hex reply, the bytes and the decoded block.
	DefaultBlockBatchSize = 8

	// DefaultBlockInFlight is the number of batches fetched at once.
	DefaultBlockInFlight = 4

	// DefaultRESTInFlight is the number of REST requests in flight:
	// twice bitcoind's default rpcthreads keeps its threads busy while
	// staying well inside its default rpcworkqueue of 16.
	DefaultRESTInFlight = 8
)

// RawBlock is one block as the source delivered it.
type RawBlock struct {
	Height int32
	Hash   chainhash.Hash
	Bytes  []byte           // serialized as the node stores it, witnesses included
	Block  *wire.MsgBlock   // Bytes decoded
	TxIDs  []chainhash.Hash // Block.Transactions' txids, as the merkle check computed them
}

// BlockSource delivers the blocks with the given hashes, at heights from,
// from+1, …, in order, with a bounded number in flight. Each delivered block
// is checked: its header hashes to the requested hash and its transactions
// to its merkle root (a *BadBlockError naming the height otherwise).
//
// The channel is closed when every block is delivered or on the first error;
// the error function then waits for the fetch to end and reports that error
// (ctx's error when ctx ended it). A consumer that stops early must cancel
// ctx. At most batch size × in-flight blocks are fetched but not yet
// consumed, whatever their size.
type BlockSource interface {
	FetchBlocks(ctx context.Context, from int32, hashes []chainhash.Hash) (<-chan RawBlock, func() error)
	Name() string // "rpc", "rest", "blk"
}

var (
	_ BlockSource = (*RPCBlockSource)(nil)
	_ BlockSource = (*RESTBlockSource)(nil)
	_ BlockSource = (*BlkFileSource)(nil)
)

// fetcher is what the shared pipeline needs of a source.
type fetcher interface {
	Name() string

	// limits returns the blocks per batch and the batches in flight.
	limits() (batchSize, inFlight int)

	// prepare runs once per FetchBlocks before the first batch.
	prepare(ctx context.Context, from int32, hashes []chainhash.Hash) error

	// fetchBatch returns the serialized blocks with the given hashes,
	// at heights from, from+1, …, unchecked. With an error it may return
	// the blocks below the failing one.
	fetchBatch(ctx context.Context, from int32, hashes []chainhash.Hash) ([][]byte, error)
}

// orDefault returns n, or def when n is not positive.
func orDefault(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

// fetchPipeline runs f's batches through orderedFetch, checking and decoding the blocks in the fetching
// goroutines, and delivers them in height order.
func fetchPipeline(ctx context.Context, f fetcher, from int32, hashes []chainhash.Hash) (<-chan RawBlock, func() error) {
	size, inFlight := f.limits()
	out, wait := orderedFetch(ctx, len(hashes), size, inFlight,
		func(ctx context.Context) error { return f.prepare(ctx, from, hashes) },
		func(ctx context.Context, lo, hi int) ([]RawBlock, error) {
			return fetchChecked(ctx, f, from+int32(lo), hashes[lo:hi])
		})
	return out, func() error {
		complete, err := wait()
		if err == nil && !complete {
			err = fmt.Errorf("fetch blocks %d-%d: stopped early: %w", from, from+int32(len(hashes))-1, ctx.Err())
		}
		return err
	}
}

// fetchChecked fetches one batch and checks and decodes its blocks. With
// an error it returns the good blocks below the failing one.
func fetchChecked(ctx context.Context, f fetcher, from int32, hashes []chainhash.Hash) ([]RawBlock, error) {
	raws, err := f.fetchBatch(ctx, from, hashes)
	switch {
	case len(raws) > len(hashes):
		raws, err = nil, fmt.Errorf("fetch blocks %d-%d: %d blocks for %d hashes",
			from, from+int32(len(hashes))-1, len(raws), len(hashes))
	case err == nil && len(raws) < len(hashes):
		err = fmt.Errorf("fetch blocks %d-%d: %d blocks for %d hashes",
			from, from+int32(len(hashes))-1, len(raws), len(hashes))
	}
	blocks := make([]RawBlock, 0, len(raws))
	for i, raw := range raws {
		height := from + int32(i)
		blk, ids, reason := checkBlock(raw, hashes[i])
		if reason != "" {
			return blocks, &BadBlockError{Source: f.Name(), Height: height, Hash: hashes[i], Reason: reason}
		}
		blocks = append(blocks, RawBlock{Height: height, Hash: hashes[i], Bytes: raw, Block: blk, TxIDs: ids})
	}
	return blocks, err
}

// checkBlock decodes raw and checks that it is the block with hash want:
// its header hashes to want and its transactions to the header's merkle
// root. It returns the block and its txids, or why not.
func checkBlock(raw []byte, want chainhash.Hash) (*wire.MsgBlock, []chainhash.Hash, string) {
	if len(raw) < wire.MaxBlockHeaderPayload {
		return nil, nil, fmt.Sprintf("it is %d bytes long, shorter than a header", len(raw))
	}
	if got := chainhash.DoubleHashH(raw[:wire.MaxBlockHeaderPayload]); got != want {
		return nil, nil, fmt.Sprintf("its header hashes to %v", got)
	}

	blk := new(wire.MsgBlock)
	buf := bytes.NewBuffer(raw)
	locs, err := blk.DeserializeTxLoc(buf)
	switch {
	case err != nil:
		return nil, nil, fmt.Sprintf("its bytes do not decode: %v", err)
	case buf.Len() != 0:
		return nil, nil, fmt.Sprintf("%d bytes follow its last transaction", buf.Len())
	case len(locs) == 0:
		return nil, nil, "it has no transactions"
	}

	ids := txids(raw, blk.Transactions, locs)
	root, mutated := merkleOf(append(make([]chainhash.Hash, 0, len(ids)+1), ids...))
	switch {
	case mutated:
		return nil, nil, "it repeats transactions in its merkle tree (CVE-2012-2459)"
	case root != blk.Header.MerkleRoot:
		return nil, nil, fmt.Sprintf("its transactions hash to merkle root %v, not the header's %v",
			root, blk.Header.MerkleRoot)
	}
	return blk, ids, ""
}

// txids computes the txids of the transactions of a block from their
// serialized bytes (locs, as DeserializeTxLoc gives them), without
// serializing them again.
func txids(raw []byte, txs []*wire.MsgTx, locs []wire.TxLoc) []chainhash.Hash {
	ids := make([]chainhash.Hash, len(locs))
	h := sha256.New()
	for i, loc := range locs {
		ids[i] = txid(h, raw[loc.TxStart:loc.TxStart+loc.TxLen], txs[i])
	}
	return ids
}

// txid hashes the serialization of tx without witness. raw is tx as the
// block serialized it: when its input count is the segwit marker 0 (wire
// then requires the flag 1), the txid covers the version, the inputs and
// outputs and the lock time, skipping marker, flag and witnesses. Varints
// are canonical (wire rejects others), so the stripped size locates the
// witnesses exactly.
func txid(h hash.Hash, raw []byte, tx *wire.MsgTx) chainhash.Hash {
	if len(raw) < 6 || raw[4] != 0 {
		return chainhash.DoubleHashH(raw)
	}
	body := tx.SerializeSizeStripped() - 8 // inputs and outputs
	if 6+body > len(raw)-4 {
		return tx.TxHash() // cannot happen for a decoded tx
	}
	h.Reset()
	h.Write(raw[:4])
	h.Write(raw[6 : 6+body])
	h.Write(raw[len(raw)-4:])
	var first [sha256.Size]byte
	return chainhash.Hash(sha256.Sum256(h.Sum(first[:0])))
}

// merkleOf folds a level of hashes into the root, duplicating the last hash
// of odd levels, and reports equal siblings (Bitcoin Core's CVE-2012-2459
// check: two equal sibling hashes let a block with repeated transactions
// share the root of a valid one). It reuses level's storage.
func merkleOf(level []chainhash.Hash) (root chainhash.Hash, mutated bool) {
	var pair [2 * chainhash.HashSize]byte
	for len(level) > 1 {
		for i := 0; i+1 < len(level); i += 2 {
			if level[i] == level[i+1] {
				mutated = true
			}
		}
		if len(level)%2 == 1 {
			level = append(level, level[len(level)-1])
		}
		for i := range len(level) / 2 {
			copy(pair[:chainhash.HashSize], level[2*i][:])
			copy(pair[chainhash.HashSize:], level[2*i+1][:])
			level[i] = chainhash.DoubleHashH(pair[:])
		}
		level = level[:len(level)/2]
	}
	return level[0], mutated
}

// DecodeBlock decodes the serialized block raw and checks it is the block with hash want, exactly as every
// block source does: its header hashes to want and its transactions to the header's merkle root.
func DecodeBlock(raw []byte, height int32, want chainhash.Hash) (*wire.MsgBlock, error) {
	blk, _, reason := checkBlock(raw, want)
	if reason != "" {
		return nil, &BadBlockError{Source: "bytes", Height: height, Hash: want, Reason: reason}
	}
	return blk, nil
}
