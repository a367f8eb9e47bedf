package api

import (
	"fmt"

	"github.com/minerscope/minerscope/analysis"
)

// windowBlock is one block of a time window with its coinbase.
type windowBlock struct {
	height   int32
	time     int64
	coinbase analysis.CoinbaseRecord
}

// fullFrom returns the first height with full block data, or a 404 when the
// index keeps headers only or no full block yet.
func (s *Server) fullFrom(sn *snapshot) (int32, error) {
	from, full := s.db.BlocksFrom()
	switch {
	case !full:
		return 0, notFound("the index holds headers only: pools, rewards, outflows and reserve need full blocks " +
			"(index into a new directory without --headers-only)")
	case from > sn.tipHeight:
		return 0, notFound(fmt.Sprintf("no full block indexed yet: full blocks start at height %d", from))
	}
	return from, nil
}

// windowBlocks returns the blocks stamped in (from, tip's time] with their
// coinbases; a 404 when the window reaches below the first full block.
func (s *Server) windowBlocks(sn *snapshot, from int64) ([]windowBlock, error) {
	lo, err := s.fullFrom(sn)
	if err != nil {
		return nil, err
	}
	to := sn.tipTime()
	var blocks []windowBlock
	for _, h := range sn.tail(from) {
		if h.Time > from && h.Time <= to {
			blocks = append(blocks, windowBlock{height: h.Height, time: h.Time})
		}
	}
	if len(blocks) == 0 {
		return nil, nil
	}
	first, last := blocks[0].height, blocks[len(blocks)-1].height
	if first < lo {
		return nil, notFound(fmt.Sprintf("the interval starts before height %d, the first block with full data; "+
			"choose a shorter one", lo))
	}
	// blocks is in height order, each height once: index it by height.
	at := make(map[int32]int, len(blocks))
	for i, b := range blocks {
		at[b.height] = i
	}
	seen := 0
	err = s.db.Coinbases(first, last, func(height int32, rec *analysis.CoinbaseRecord) error {
		if i, ok := at[height]; ok {
			blocks[i].coinbase = *rec
			seen++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if seen != len(blocks) {
		return nil, errIndexMoved
	}
	return blocks, nil
}

// poolWindow is the attribution of an interval's blocks.
type poolWindow struct {
	from, to   int64
	network    analysis.Estimate
	attributed []analysis.BlockAttribution
	shares     []analysis.PoolShare
}

// poolWindow attributes the blocks of interval iv and counts the pools'
// shares, once per tip.
func (s *Server) poolWindow(sn *snapshot, iv string) (*poolWindow, error) {
	from, err := intervalStart(iv, sn.tipTime())
	if err != nil {
		return nil, err
	}
	return memoized(sn, "pools:"+iv, func() (*poolWindow, error) {
		to := sn.tipTime()
		wfrom := max(from, sn.hs[0].Time-1) // "all": from just before genesis
		network, err := analysis.WindowHashrate(s.p, sn.tail(wfrom), wfrom, to)
		if err != nil {
			return nil, err
		}
		blocks, err := s.windowBlocks(sn, wfrom)
		if err != nil {
			return nil, err
		}
		pw := &poolWindow{from: wfrom, to: to, network: network}
		for _, b := range blocks {
			pw.attributed = append(pw.attributed, analysis.BlockAttribution{Height: b.height, Time: b.time,
				Bits: sn.hs[b.height].Bits, Attribution: s.matcher.Attribute(&b.coinbase), TxCount: b.coinbase.TxCount})
		}
		pw.shares = analysis.PoolShares(network, pw.attributed)
		return pw, nil
	})
}

// flows returns every full block's flow totals at levels 0 and 1, read once
// per tip.
func (s *Server) flows(sn *snapshot) ([2][]analysis.BlockFlow, error) {
	return memoized(sn, "flows", func() ([2][]analysis.BlockFlow, error) {
		var out [2][]analysis.BlockFlow
		lo, err := s.fullFrom(sn)
		if err != nil {
			return out, err
		}
		recs, err := s.db.BlockFlows(lo, sn.tipHeight)
		if err != nil {
			return out, err
		}
		if len(recs) != int(sn.tipHeight-lo+1) {
			return out, errIndexMoved
		}
		for level := range out {
			out[level] = make([]analysis.BlockFlow, len(recs))
			for i := range recs {
				out[level][i] = recs[i].Flow(level)
			}
		}
		return out, nil
	})
}

// reserveAt sums the net changes of the miner set at level hops up to the tip.
func (s *Server) reserveAt(sn *snapshot, hops int) (int64, int32, error) {
	fl, err := s.flows(sn)
	if err != nil {
		return 0, 0, err
	}
	var total int64
	for i := range fl[hops] {
		total += int64(fl[hops][i].NetChange())
	}
	return total, fl[hops][0].Height, nil
}

// outflowLastDay sums the outflow of the blocks stamped in the day before the
// tip's timestamp.
func (s *Server) outflowLastDay(sn *snapshot, hops int) (int64, error) {
	fl, err := s.flows(sn)
	if err != nil {
		return 0, err
	}
	from := sn.tipTime() - 86400
	var total int64
	blocks := fl[hops]
	for i := len(blocks) - 1; i >= 0; i-- {
		b := &blocks[i]
		if b.Time > from && b.Time <= sn.tipTime() {
			total += int64(b.Outflow)
		}
		if sn.prefixMax[b.Height] <= from {
			break // no earlier block is stamped in the day
		}
	}
	return total, nil
}
