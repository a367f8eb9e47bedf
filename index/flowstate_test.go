package index

import (
	"math/rand/v2"
	"testing"
)

// TestBloom checks that the working-set filter never forgets a hash, across the rebuilds as it grows, and
// that its false-positive rate on fresh hashes stays near its design (about 1 in 2,000 when full).
func TestBloom(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	var f bloom
	if f.mayHave(rng.Uint64()) {
		t.Fatal("empty filter has a hash")
	}
	added := make([]uint64, 0, 300_000)
	for range cap(added) {
		h := rng.Uint64()
		f.add(h)
		added = append(added, h)
	}
	for _, h := range added {
		if !f.mayHave(h) {
			t.Fatalf("filter forgot %x", h)
		}
	}
	fp := 0
	const probes = 1_000_000
	for range probes {
		if f.mayHave(rng.Uint64()) {
			fp++
		}
	}
	// Independent bound: a blocked filter at >= 20 bits per entry with 7 bits set errs well under 1 in 500.
	if rate := float64(fp) / probes; rate > 1.0/500 {
		t.Fatalf("false-positive rate %.5f over 1/500 (%d of %d)", rate, fp, probes)
	} else {
		t.Logf("false-positive rate %.6f with %d entries in %d bytes", rate, len(added), f.size())
	}
}
