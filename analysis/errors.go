package analysis

import (
	"errors"
	"fmt"
)

var (
	// ErrNeedHeaders is returned when the headers passed in do not reach
	// far enough back (or forward) for the requested computation. The
	// error is usually a *HeadersError naming the missing height.
	ErrNeedHeaders = errors.New("headers missing")

	// ErrNotContiguous is returned when hs[i].Height != hs[0].Height+i.
	ErrNotContiguous = errors.New("headers are not contiguous")

	// ErrBadWindow is returned for a time window whose end is not after
	// its start.
	ErrBadWindow = errors.New("time window is empty")

	// ErrNoRate is returned by ProjectNextAdjustment when the recent
	// blocks give no usable hashrate: fewer than two blocks, or
	// timestamps that do not advance.
	ErrNoRate = errors.New("no hashrate estimate available")

	// ErrBadCoinbase is returned by ExtractCoinbase for a block whose
	// first transaction is missing, is not a coinbase, or pays invalid
	// amounts: a block the node would not have accepted.
	ErrBadCoinbase = errors.New("invalid coinbase")

	// ErrBadPools is returned for a pool list that is not in the
	// mining-pools JSON format (an array of {id, name, addresses, tags,
	// link}) or breaks its rules; the message names the entry.
	ErrBadPools = errors.New("invalid pool list")

	// ErrUnknownPeriod is returned by RewardSeries for a period other than
	// daily, weekly or epoch.
	ErrUnknownPeriod = errors.New("unknown period")

	// ErrNegativeFee is returned by ClassifyTx for a transaction whose
	// outputs are worth more than its inputs.
	ErrNegativeFee = errors.New("transaction outputs exceed its inputs")

	// ErrBadLevel is returned by ClassifyTx for a level other than 0 or 1,
	// or an input or output level other than 0, 1 or NotMiner.
	ErrBadLevel = errors.New("invalid miner level")

	// ErrBadAmount is returned by ClassifyTx for a value below 0 or above
	// MaxSatoshi, alone or in total.
	ErrBadAmount = errors.New("invalid amount")

	// ErrBadPriceFile is returned by ParsePrices for a file that is not a
	// CSV of date,price_usd; the message names the line.
	ErrBadPriceFile = errors.New("invalid price file")

	// ErrBadLabelFile is returned by ParseLabels for a file that is not a
	// CSV of address,label for the network; the message names the line.
	ErrBadLabelFile = errors.New("invalid label file")
)

// HeadersError reports the height an analysis needed and the range it was
// given, so the caller can load more headers and retry.
type HeadersError struct {
	Height      int32 // the height that is needed
	First, Last int32 // heights of the headers given
}

// Error says which header is missing and what to do about it.
func (e *HeadersError) Error() string {
	if e.Height > e.Last {
		return fmt.Sprintf("need headers beyond height %d (the newest "+
			"given); sync further or end the window earlier", e.Last)
	}
	return fmt.Sprintf("need the header at height %d but only heights "+
		"%d..%d were given; load headers from height %d", e.Height,
		e.First, e.Last, e.Height)
}

// Unwrap makes errors.Is(err, ErrNeedHeaders) hold.
func (e *HeadersError) Unwrap() error {
	return ErrNeedHeaders
}

// checkHeaders verifies hs is non-empty and contiguous by height.
func checkHeaders(hs []Header) error {
	if len(hs) == 0 {
		return fmt.Errorf("%w: no headers given", ErrNeedHeaders)
	}
	first, last := hs[0].Height, hs[len(hs)-1].Height
	if int64(last)-int64(first) != int64(len(hs)-1) {
		return fmt.Errorf("%w: %d headers span heights %d..%d",
			ErrNotContiguous, len(hs), first, last)
	}
	return nil
}

// heightRange returns the headers at heights from..to inclusive, or a
// *HeadersError for the first height outside hs. hs must be contiguous.
func heightRange(hs []Header, from, to int32) ([]Header, error) {
	first, last := hs[0].Height, hs[len(hs)-1].Height
	switch {
	case from < first:
		return nil, &HeadersError{Height: from, First: first, Last: last}
	case to > last:
		return nil, &HeadersError{Height: to, First: first, Last: last}
	}
	return hs[from-first : to-first+1], nil
}
