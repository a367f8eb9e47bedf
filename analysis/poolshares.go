package analysis

import (
	"cmp"
	"slices"
)

// BlockAttribution is one block of a time window with the pool it is
// attributed to. PoolShares reads the attribution and TxCount; Time and
// Bits let callers select the window and estimate its hashrate from the
// same values.
type BlockAttribution struct {
	Height      int32
	Time        int64  // header timestamp, unix seconds
	Bits        uint32 // compact target
	Attribution Attribution
	TxCount     int32 // 1 for an empty block (coinbase only)
}

// PoolShare is one pool's part of the blocks of a window.
type PoolShare struct {
	PoolID int    // 0 for the unknown pool
	Pool   string // name; UnknownPool for blocks no rule matched
	Blocks int

	// Share is Blocks over the window's blocks, with its exact
	// Clopper–Pearson 95% interval.
	Share, ShareLo, ShareHi float64

	// Hashrate is Share × the network's hashrate in the window (H/s),
	// with Garwood's exact 95% interval on the pool's block count (see
	// the package documentation); all 0 when the network estimate is 0.
	Hashrate, HashrateLo, HashrateHi float64

	ByAddress, ByTag int // blocks attributed by address and by tag
	Empty            int // blocks with no transaction besides the coinbase
}

// PoolShares splits the blocks of a window among their pools. attributed
// must be the blocks network was estimated from, WindowHashrate over the
// same (from, to]: the per-block unit network.HashesPerSec/len(attributed)
// is then the window's mean work per block over its length, the scale
// WindowHashrate uses. The result is sorted by blocks, most first, then by
// pool id; nil when attributed is empty.
func PoolShares(network Estimate, attributed []BlockAttribution) []PoolShare {
	n := len(attributed)
	if n == 0 {
		return nil
	}

	var shares []PoolShare
	index := make(map[int]int)
	for _, b := range attributed {
		a := b.Attribution
		i, ok := index[a.PoolID]
		if !ok {
			i = len(shares)
			index[a.PoolID] = i
			shares = append(shares, PoolShare{PoolID: a.PoolID, Pool: a.Pool})
		}
		shares[i].count(b)
	}

	unit := network.HashesPerSec / float64(n)
	for i := range shares {
		shares[i].estimate(n, unit)
	}
	slices.SortFunc(shares, func(a, b PoolShare) int {
		return cmp.Or(cmp.Compare(b.Blocks, a.Blocks),
			cmp.Compare(a.PoolID, b.PoolID))
	})
	return shares
}

// count adds block b to the share.
func (s *PoolShare) count(b BlockAttribution) {
	s.Blocks++
	switch b.Attribution.Match {
	case MatchAddress:
		s.ByAddress++
	case MatchTag:
		s.ByTag++
	}
	if b.TxCount == 1 {
		s.Empty++
	}
}

// estimate fills the share and hashrate of a pool with s.Blocks of the n
// blocks, each block standing for unit H/s.
func (s *PoolShare) estimate(n int, unit float64) {
	k := s.Blocks
	s.Share = float64(k) / float64(n)
	s.ShareLo, s.ShareHi = binomialInterval(k, n)

	lo, hi := poissonInterval(k)
	s.Hashrate = float64(k) * unit
	s.HashrateLo = lo * unit
	s.HashrateHi = hi * unit
}
