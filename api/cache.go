package api

import (
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/index"
)

// recentHashes is how many of the last blocks' hashes a snapshot keeps to find
// where a reorg forked; a deeper reorg reloads every header.
const recentHashes = 4032

// maxRefreshAttempts bounds how often a refresh starts over because the index
// moved while it read.
const maxRefreshAttempts = 5

// errIndexMoved says the index changed while a refresh read it.
var errIndexMoved = errors.New("the index changed while it was read")

// snapshot is the chain at one tip: its headers and the figures computed from
// them. It is immutable once built (the memo aside, which is safe for
// concurrent use), so a request keeps using the snapshot it started with
// while the index moves on.
type snapshot struct {
	tipHeight int32
	tipHash   chainhash.Hash

	// hs holds the headers of heights 0 to tipHeight. Snapshots that extend
	// one another share its backing array; a reorg copies it.
	hs []analysis.Header

	// prefixMax[i] is the latest timestamp of hs[0..i], which bounds where a
	// time window can start (see tail).
	prefixMax []int64

	// hashes holds the hashes of heights hashBase to tipHeight.
	hashes   []chainhash.Hash
	hashBase int32

	memo memo
}

// empty reports whether the index held no block when the snapshot was taken.
func (sn *snapshot) empty() bool { return len(sn.hs) == 0 }

// tipTime is the tip's timestamp.
func (sn *snapshot) tipTime() int64 { return sn.hs[len(sn.hs)-1].Time }

// hashAt returns the hash of the block at height if the snapshot keeps it.
func (sn *snapshot) hashAt(height int32) (chainhash.Hash, bool) {
	if height < sn.hashBase || height > sn.tipHeight {
		return chainhash.Hash{}, false
	}
	return sn.hashes[height-sn.hashBase], true
}

// tail returns the shortest suffix of the headers that still holds every
// block timestamped after from, and the block before them, which is what the
// window estimators need for the window (from, to]. Timestamps are not
// monotone, so the cut is found on the running maximum.
func (sn *snapshot) tail(from int64) []analysis.Header {
	// k is the first index whose running maximum exceeds from: no block
	// below k is stamped after from.
	k := sort.Search(len(sn.prefixMax), func(i int) bool { return sn.prefixMax[i] > from })
	return sn.hs[max(0, k-1):]
}

// loadSnapshot builds the snapshot of db at its current tip, reusing prev
// (which may be nil) for the part of the chain they share.
func loadSnapshot(db *index.DB, prev *snapshot) (*snapshot, error) {
	var lastErr error
	for range maxRefreshAttempts {
		height, hash, ok := db.Tip()
		if !ok {
			return &snapshot{tipHeight: -1}, nil
		}
		if prev != nil && !prev.empty() && hash == prev.tipHash {
			return prev, nil
		}
		sn, err := readSnapshot(db, prev, height, hash)
		if err == nil {
			if _, now, _ := db.Tip(); now == hash {
				return sn, nil
			}
			err = errIndexMoved
		}
		lastErr = err
	}
	return nil, fmt.Errorf("read the index at its tip: %w", lastErr)
}

// readSnapshot reads the snapshot at tip (height, hash): the headers above the
// fork with prev when prev's recent hashes find it, else every header.
func readSnapshot(db *index.DB, prev *snapshot, height int32, hash chainhash.Hash) (*snapshot, error) {
	fork := forkPoint(db, prev, height)
	if fork >= 0 && fork == height {
		return truncated(prev, height, hash), nil
	}
	from := fork + 1
	if fork < 0 {
		from = 0
	}
	// The recent hashes come from the header records; below them only
	// times and bits are needed, which AnalysisHeaders reads alone.
	recFrom := max(from, height-recentHashes+1)
	var fresh []analysis.Header
	if recFrom > from {
		var err error
		if fresh, err = db.AnalysisHeaders(from, recFrom-1); err != nil {
			return nil, err
		}
	}
	recs, err := db.Headers(recFrom, height)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 || recs[len(recs)-1].Hash != hash {
		return nil, errIndexMoved
	}
	if fork >= 0 && recFrom == from {
		if want, _ := prev.hashAt(fork); recs[0].Header.PrevBlock != want {
			return nil, errIndexMoved
		}
	}
	for _, r := range recs {
		fresh = append(fresh, analysis.Header{Height: r.Height, Time: r.Header.Timestamp.Unix(), Bits: r.Header.Bits})
	}

	sn := &snapshot{tipHeight: height, tipHash: hash}
	if fork >= 0 && fork == prev.tipHeight {
		// A plain extension: appending to prev's arrays leaves what prev
		// sees untouched.
		sn.hs, sn.prefixMax = prev.hs, prev.prefixMax
	} else if fork >= 0 {
		sn.hs = append(make([]analysis.Header, 0, int(height)+1+1024), prev.hs[:fork+1]...)
		sn.prefixMax = append(make([]int64, 0, int(height)+1+1024), prev.prefixMax[:fork+1]...)
	}
	for _, h := range fresh {
		m := h.Time
		if n := len(sn.prefixMax); n > 0 {
			m = max(m, sn.prefixMax[n-1])
		}
		sn.hs = append(sn.hs, h)
		sn.prefixMax = append(sn.prefixMax, m)
	}
	sn.hashes, sn.hashBase = recentHashList(prev, fork, recs)
	return sn, nil
}

// truncated is prev cut back to height, after the index disconnected the
// blocks above it.
func truncated(prev *snapshot, height int32, hash chainhash.Hash) *snapshot {
	n := int(height) + 1
	return &snapshot{
		tipHeight: height,
		tipHash:   hash,
		hs:        append(make([]analysis.Header, 0, n+1024), prev.hs[:n]...),
		prefixMax: append(make([]int64, 0, n+1024), prev.prefixMax[:n]...),
		hashes:    append([]chainhash.Hash(nil), prev.hashes[:height-prev.hashBase+1]...),
		hashBase:  prev.hashBase,
	}
}

// forkPoint is the highest height at or below height where prev and the
// index hold the same block, or -1 when prev's recent hashes do not reach it
// (or there is no prev).
func forkPoint(db *index.DB, prev *snapshot, height int32) int32 {
	if prev == nil || prev.empty() {
		return -1
	}
	for h := min(height, prev.tipHeight); h >= prev.hashBase; h-- {
		got, err := db.HashAt(h)
		if err != nil {
			return -1
		}
		if want, _ := prev.hashAt(h); got == want {
			return h
		}
	}
	return -1
}

// recentHashList joins prev's hashes up to fork with those of recs and keeps
// the last recentHashes of them.
func recentHashList(prev *snapshot, fork int32, recs []index.HeaderRecord) ([]chainhash.Hash, int32) {
	var hashes []chainhash.Hash
	base := recs[0].Height
	if fork >= 0 && recs[0].Height == fork+1 {
		keep := prev.hashes[:fork-prev.hashBase+1]
		hashes = append(hashes, keep...)
		base = prev.hashBase
	}
	for _, r := range recs {
		hashes = append(hashes, r.Hash)
	}
	if n := len(hashes); n > recentHashes {
		base += int32(n - recentHashes)
		hashes = append([]chainhash.Hash(nil), hashes[n-recentHashes:]...)
	}
	return hashes, base
}

// memo computes each figure of a snapshot once, however many requests ask
// for it at the same time. Failures are not kept: the next request tries
// again.
type memo struct {
	mu    sync.Mutex
	cells map[string]*memoCell
}

type memoCell struct {
	done chan struct{}
	val  any
	err  error
}

// get returns the value of key, calling compute if no request has yet.
func (m *memo) get(key string, compute func() (any, error)) (any, error) {
	m.mu.Lock()
	if m.cells == nil {
		m.cells = make(map[string]*memoCell)
	}
	c, ok := m.cells[key]
	if !ok {
		c = &memoCell{done: make(chan struct{})}
		m.cells[key] = c
	}
	m.mu.Unlock()
	if ok {
		<-c.done
		return c.val, c.err
	}

	// Waiters are released even if compute panics; the panic goes on up.
	c.err = errComputePanicked
	defer func() {
		if c.err != nil {
			m.mu.Lock()
			delete(m.cells, key)
			m.mu.Unlock()
		}
		close(c.done)
	}()
	c.val, c.err = compute()
	return c.val, c.err
}

// errComputePanicked is what waiters get when the computation they waited
// for panicked.
var errComputePanicked = errors.New("computing the figure failed")

// memoized is memo.get with the value's type.
func memoized[T any](sn *snapshot, key string, compute func() (T, error)) (T, error) {
	v, err := sn.memo.get(key, func() (any, error) { return compute() })
	if err != nil {
		var zero T
		return zero, err
	}
	return v.(T), nil
}
