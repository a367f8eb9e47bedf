package chain

import (
	"fmt"
	"math/big"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/minerscope/minerscope/analysis"
)

// Verifier checks headers before they are stored: linkage, proof of work
// and the difficulty rule. It does not check timestamps (median time past,
// future limit) or versions: the node has done that, and minerscope only
// guards against a node serving headers inconsistent with the chain it
// already stored.
type Verifier struct {
	Params analysis.Params

	// Lookup returns an already verified header (stored, or earlier in the
	// current batch). It is needed only at retarget heights, for the
	// first block of the ending epoch.
	Lookup func(height int32) (analysis.Header, error)
}

// PlainHeader is the analysis view of the header at height.
func PlainHeader(height int32, h *wire.BlockHeader) analysis.Header {
	return analysis.Header{Height: height, Time: h.Timestamp.Unix(), Bits: h.Bits}
}

// Verify checks that h, at height, extends prev (whose hash is prevHash),
// meets its own target, and carries the bits the consensus rule requires
// where the rule pins them. At height 0 it checks that h is the network's
// genesis block and ignores prev. Failures are *BadHeaderError.
func (v *Verifier) Verify(height int32, prev analysis.Header, prevHash chainhash.Hash, h *wire.BlockHeader) error {
	return v.VerifyHashed(height, prev, prevHash, h, h.BlockHash())
}

// VerifyHashed is Verify for a header whose hash the caller has already checked (a block source checks
// every block against the hash it asked for), saving the double SHA-256.
func (v *Verifier) VerifyHashed(height int32, prev analysis.Header, prevHash chainhash.Hash, h *wire.BlockHeader,
	hash chainhash.Hash) error {

	bad := func(kind error, format string, args ...any) error {
		return &BadHeaderError{Height: height, Hash: hash, Kind: kind,
			Reason: fmt.Sprintf(format, args...)}
	}

	if height == 0 {
		if hash != v.Params.GenesisHash {
			return bad(ErrBadGenesis, "it is not the %s genesis block %v",
				v.Params.Name, v.Params.GenesisHash)
		}
		return nil
	}
	if prev.Height != height-1 {
		return fmt.Errorf("verify header %d: previous header has height %d", height, prev.Height)
	}
	if h.PrevBlock != prevHash {
		return bad(ErrPrevMismatch, "it builds on %v, not on block %d %v",
			h.PrevBlock, prev.Height, prevHash)
	}
	if reason := checkProofOfWork(&hash, h.Bits, v.Params.PowLimit); reason != "" {
		return bad(ErrBadProofOfWork, "%s", reason)
	}

	want, checked, err := v.expectedBits(height, prev)
	if err != nil {
		return err
	}
	if checked && h.Bits != want {
		return bad(ErrBadBits, "its bits %08x differ from the %08x the difficulty rule requires",
			h.Bits, want)
	}
	return nil
}

// expectedBits asks analysis for the required bits, looking up the first
// block of the ending epoch at retarget heights.
func (v *Verifier) expectedBits(height int32, prev analysis.Header) (uint32, bool, error) {
	var first analysis.Header
	interval := v.Params.RetargetInterval
	if interval > 0 && height%interval == 0 {
		if v.Lookup == nil {
			return 0, false, fmt.Errorf("verify header %d: no Lookup for the epoch's first block",
				height)
		}
		var err error
		if first, err = v.Lookup(height - interval); err != nil {
			return 0, false, fmt.Errorf("verify header %d: epoch's first block %d: %w",
				height, height-interval, err)
		}
	}
	bits, checked := analysis.ExpectedBits(v.Params, height, prev.Bits, first.Bits,
		first.Time, prev.Time)
	return bits, checked, nil
}

// checkProofOfWork returns why hash does not satisfy bits, or "".
func checkProofOfWork(hash *chainhash.Hash, bits uint32, powLimit *big.Int) string {
	target := analysis.CompactToBig(bits)
	switch {
	case target.Sign() <= 0:
		return fmt.Sprintf("its target (bits %08x) is not positive", bits)
	case powLimit != nil && target.Cmp(powLimit) > 0:
		return fmt.Sprintf("its target (bits %08x) is easier than the network's limit", bits)
	case hashToBig(hash).Cmp(target) > 0:
		return fmt.Sprintf("its hash is above its target (bits %08x)", bits)
	}
	return ""
}

// hashToBig reads a block hash as the little-endian number PoW compares.
func hashToBig(hash *chainhash.Hash) *big.Int {
	var buf [chainhash.HashSize]byte
	for i, b := range hash {
		buf[chainhash.HashSize-1-i] = b
	}
	return new(big.Int).SetBytes(buf[:])
}
