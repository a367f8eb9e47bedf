package chain

import (
	"errors"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/minerscope/minerscope/analysis"
)

// lookupIn serves Verifier.Lookup from a slice of headers starting at 0.
func lookupIn(headers []wire.BlockHeader) func(int32) (analysis.Header, error) {
	return func(h int32) (analysis.Header, error) {
		if h < 0 || int(h) >= len(headers) {
			return analysis.Header{}, fmt.Errorf("no header %d", h)
		}
		return PlainHeader(h, &headers[h]), nil
	}
}

// TestVerifyRealMainnet verifies every real mainnet header 0-14131, which
// crosses seven retarget heights (2016, 4032, ... 14112).
func TestVerifyRealMainnet(t *testing.T) {
	headers := mainnetHeaders(t)
	v := Verifier{Params: analysis.Mainnet, Lookup: lookupIn(headers)}
	var prev analysis.Header
	var prevHash chainhash.Hash
	for i := range headers {
		h := int32(i)
		if err := v.Verify(h, prev, prevHash, &headers[i]); err != nil {
			t.Fatalf("real header %d: %v", h, err)
		}
		prev, prevHash = PlainHeader(h, &headers[i]), headers[i].BlockHash()
	}
}

func TestVerifyRejectsBadMainnetHeaders(t *testing.T) {
	headers := mainnetHeaders(t)
	at := func(h int32) (analysis.Header, chainhash.Hash, wire.BlockHeader) {
		return PlainHeader(h-1, &headers[h-1]), headers[h-1].BlockHash(), headers[h]
	}
	lookup := lookupIn(headers)

	tests := []struct {
		name   string
		height int32
		mutate func(prev *analysis.Header, prevHash *chainhash.Hash, h *wire.BlockHeader, v *Verifier)
		kind   error // nil: a non-BadHeader error
	}{
		{"genesis is another block", 0, func(_ *analysis.Header, _ *chainhash.Hash, h *wire.BlockHeader, _ *Verifier) {
			*h = headers[1]
		}, ErrBadGenesis},
		{"does not link", 5, func(_ *analysis.Header, prevHash *chainhash.Hash, _ *wire.BlockHeader, _ *Verifier) {
			*prevHash = headers[3].BlockHash()
		}, ErrPrevMismatch},
		{"nonce changed", 100, func(_ *analysis.Header, _ *chainhash.Hash, h *wire.BlockHeader, _ *Verifier) {
			h.Nonce++
		}, ErrBadProofOfWork},
		{"negative target", 100, func(_ *analysis.Header, _ *chainhash.Hash, h *wire.BlockHeader, _ *Verifier) {
			h.Bits = 0x1d80ffff
		}, ErrBadProofOfWork},
		{"target above pow limit", 100, func(_ *analysis.Header, _ *chainhash.Hash, h *wire.BlockHeader, _ *Verifier) {
			h.Bits = 0x1e00ffff
		}, ErrBadProofOfWork},
		{"zero target", 100, func(_ *analysis.Header, _ *chainhash.Hash, h *wire.BlockHeader, _ *Verifier) {
			h.Bits = 0x1d000000
		}, ErrBadProofOfWork},
		// Block 2016 really has bits 0x1d00ffff because epoch 0 took
		// longer than two weeks. Claim it took one week: the rule then
		// demands a harder target, and the real header fails.
		{"retarget bits", 2016, func(_ *analysis.Header, _ *chainhash.Hash, _ *wire.BlockHeader, v *Verifier) {
			v.Lookup = func(int32) (analysis.Header, error) {
				return analysis.Header{Height: 0, Time: headers[2015].Timestamp.Unix() - 7*24*3600,
					Bits: 0x1d00ffff}, nil
			}
		}, ErrBadBits},
		{"lookup fails", 4032, func(_ *analysis.Header, _ *chainhash.Hash, _ *wire.BlockHeader, v *Verifier) {
			v.Lookup = func(int32) (analysis.Header, error) { return analysis.Header{}, errors.New("gone") }
		}, nil},
		{"previous height wrong", 10, func(prev *analysis.Header, _ *chainhash.Hash, _ *wire.BlockHeader, _ *Verifier) {
			prev.Height = 8
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var prev analysis.Header
			var prevHash chainhash.Hash
			h := headers[0]
			if tt.height > 0 {
				prev, prevHash, h = at(tt.height)
			}
			v := Verifier{Params: analysis.Mainnet, Lookup: lookup}
			tt.mutate(&prev, &prevHash, &h, &v)

			err := v.Verify(tt.height, prev, prevHash, &h)
			if err == nil {
				t.Fatal("accepted")
			}
			var bad *BadHeaderError
			if tt.kind == nil {
				if errors.As(err, &bad) {
					t.Fatalf("err = %v, want a non-header error", err)
				}
				return
			}
			if !errors.As(err, &bad) || !errors.Is(err, ErrBadHeader) || !errors.Is(err, tt.kind) {
				t.Fatalf("err = %v, want BadHeaderError of kind %v", err, tt.kind)
			}
			if bad.Height != tt.height || bad.Hash != h.BlockHash() {
				t.Errorf("error names %d %v, want %d %v", bad.Height, bad.Hash, tt.height, h.BlockHash())
			}
		})
	}
}

// easyParams are mainnet's rules with simnet's proof-of-work limit, so
// tests can mine headers with chosen bits.
func easyParams() analysis.Params {
	p := analysis.Mainnet
	p.PowLimit = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(1))
	p.PowLimitBits = 0x207fffff
	return p
}

// mine finds a nonce that makes h meet its own bits.
func mine(t *testing.T, h *wire.BlockHeader) {
	t.Helper()
	target := analysis.CompactToBig(h.Bits)
	for h.Nonce = 0; h.Nonce < 1000; h.Nonce++ {
		hash := h.BlockHash()
		if hashToBig(&hash).Cmp(target) <= 0 {
			return
		}
	}
	t.Fatalf("no nonce for bits %08x", h.Bits)
}

func TestVerifyDifficultyRule(t *testing.T) {
	p := easyParams()
	const t0 = 1_700_000_000
	first := analysis.Header{Height: 0, Time: t0, Bits: 0x207fffff}
	lookup := func(int32) (analysis.Header, error) { return first, nil }

	tests := []struct {
		name   string
		params analysis.Params
		height int32
		prev   analysis.Header
		bits   uint32
		ok     bool
	}{
		{"unchanged between retargets", p, 100,
			analysis.Header{Height: 99, Time: t0 + 600, Bits: 0x207fffff}, 0x207fffff, true},
		{"changed between retargets", p, 100,
			analysis.Header{Height: 99, Time: t0 + 600, Bits: 0x207fffff}, 0x207ffffe, false},
		// An epoch of half the target timespan halves the target:
		// 0x7fffff<<(8*29) / 2 = 0x3fffff80<<(8*28), compact 0x203fffff.
		{"retarget to half target", p, 2016,
			analysis.Header{Height: 2015, Time: t0 + p.TargetTimespan/2, Bits: 0x207fffff}, 0x203fffff, true},
		{"retarget ignored", p, 2016,
			analysis.Header{Height: 2015, Time: t0 + p.TargetTimespan/2, Bits: 0x207fffff}, 0x207fffff, false},
		// A slow epoch cannot go easier than the limit.
		{"retarget capped at limit", p, 2016,
			analysis.Header{Height: 2015, Time: t0 + 3*p.TargetTimespan, Bits: 0x207fffff}, 0x207fffff, true},
		// Simnet's min-difficulty rule leaves non-retarget bits unchecked.
		{"simnet free bits", analysis.Simnet, 100,
			analysis.Header{Height: 99, Time: t0 + 600, Bits: 0x207fffff}, 0x207ffffe, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prevHash := chainhash.Hash{0xaa}
			h := wire.BlockHeader{
				Version:   4,
				PrevBlock: prevHash,
				Timestamp: time.Unix(tt.prev.Time+600, 0),
				Bits:      tt.bits,
			}
			mine(t, &h)
			v := Verifier{Params: tt.params, Lookup: lookup}
			err := v.Verify(tt.height, tt.prev, prevHash, &h)
			if tt.ok && err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrBadBits) {
				t.Fatalf("err = %v, want ErrBadBits", err)
			}
		})
	}
}
