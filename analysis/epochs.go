package analysis

import "fmt"

// Epoch summarises one difficulty period of RetargetInterval blocks.
type Epoch struct {
	Number                 int32
	StartHeight, EndHeight int32
	StartTime, EndTime     int64   // header timestamps of start and end block
	Bits                   uint32  // bits of the epoch's first block
	Difficulty             float64 // Difficulty(Bits)
	ChangePct              float64 // vs previous epoch's difficulty; 0 for epoch 0
	DurationS              int64   // EndTime − StartTime: the timespan the retarget rule measures (2015 intervals)
	Complete               bool    // the epoch's last block is in the chain

	// Hashrate is NetworkHashPS(2016, EndHeight) for a complete epoch and
	// NetworkHashPS(-1, tip) for the current one, both of which start at
	// the last block of the previous epoch.
	Hashrate Estimate
}

// Epochs splits the chain into difficulty epochs, the last of which may be
// incomplete. hs must run contiguously from height 0 to the tip. It runs in
// O(len(hs)): each epoch's hashrate reads only its own blocks.
func Epochs(p Params, hs []Header) ([]Epoch, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if err := checkHeaders(hs); err != nil {
		return nil, err
	}
	if hs[0].Height != 0 {
		return nil, &HeadersError{Height: 0, First: hs[0].Height,
			Last: hs[len(hs)-1].Height}
	}

	tip := hs[len(hs)-1].Height
	size := p.RetargetInterval
	epochs := make([]Epoch, 0, tip/size+1)
	for start := int32(0); start <= tip; start += size {
		e, err := epochAt(p, hs, start, tip)
		if err != nil {
			return nil, err
		}
		if n := len(epochs); n > 0 {
			e.ChangePct = pctChange(epochs[n-1].Difficulty, e.Difficulty)
		}
		epochs = append(epochs, e)
	}
	return epochs, nil
}

// epochAt builds the epoch starting at height start; hs starts at height 0.
func epochAt(p Params, hs []Header, start, tip int32) (Epoch, error) {
	size := p.RetargetInterval
	end := min(start+size-1, tip)
	first, last := hs[start], hs[end]
	e := Epoch{
		Number:      start / size,
		StartHeight: start,
		EndHeight:   end,
		StartTime:   first.Time,
		EndTime:     last.Time,
		Bits:        first.Bits,
		Difficulty:  Difficulty(first.Bits),
		DurationS:   last.Time - first.Time,
		Complete:    end == start+size-1,
	}

	// Hand NetworkHashPS only the blocks it reads, so the whole pass
	// stays linear; the sub-slice ends at end, which becomes its tip.
	from := max(start-1, 0)
	lookup := int(size)
	if !e.Complete {
		lookup = -1
	}
	var err error
	e.Hashrate, err = NetworkHashPS(p, hs[from:end+1], lookup, end)
	if err != nil {
		return Epoch{}, fmt.Errorf("epoch %d hashrate: %w", e.Number, err)
	}
	return e, nil
}

// pctChange is the percentage change from old to cur.
func pctChange(old, cur float64) float64 {
	if old == 0 {
		return 0
	}
	return (cur/old - 1) * 100
}
