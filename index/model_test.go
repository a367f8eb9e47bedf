package index

import (
	"encoding/binary"
	"errors"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/minerscope/minerscope/analysis"
)

// model is a reference implementation of the index contents, built from the
// layout documented in keys.go with independent encoders.
type model struct {
	t     *testing.T
	p     analysis.Params
	chain []wire.BlockHeader
	works []*big.Int
	kv    map[string]string
}

// newModel returns the contents of a fresh index for p.
func newModel(t *testing.T, p analysis.Params) *model {
	m := &model{t: t, p: p, kv: make(map[string]string)}
	version := []byte{0, 0, 0, byte(latestVersion(migrations))}
	m.kv["\x01schema"] = string(version)
	m.kv["\x01network"] = string(p.GenesisHash[:]) + p.Name
	return m
}

// be32 returns v as 4 big-endian bytes.
func be32(v int32) string {
	return string(binary.BigEndian.AppendUint32(nil, uint32(v)))
}

// connect applies a connect of hdr at the next height.
func (m *model) connect(hdr wire.BlockHeader) {
	height := int32(len(m.chain))
	raw := headerBytes(m.t, &hdr)
	hash := dsha(raw)

	work := refWork(hdr.Bits)
	if height > 0 {
		work.Add(work, m.works[height-1])
	}
	workBytes := work.FillBytes(make([]byte, 32))

	headerKey := "\x02" + be32(height)
	tipKey := "\x01tip"

	// Undo: header key absent, tip key as before.
	undo := []byte{2}
	undo = appendAbsent(undo, headerKey)
	if prev, ok := m.kv[tipKey]; ok {
		undo = append(undo, byte(len(tipKey)))
		undo = append(undo, tipKey...)
		undo = append(undo, 1, byte(len(prev)))
		undo = append(undo, prev...)
	} else {
		undo = appendAbsent(undo, tipKey)
	}

	m.kv[headerKey] = string(raw) + string(hash[:]) + string(workBytes)
	m.kv[tipKey] = be32(height) + string(hash[:])
	m.kv["\x04"+be32(height)] = string(undo)
	m.chain = append(m.chain, hdr)
	m.works = append(m.works, work)
}

// appendAbsent appends an undo entry for a key that did not exist.
func appendAbsent(b []byte, key string) []byte {
	b = append(b, byte(len(key)))
	b = append(b, key...)
	return append(b, 0)
}

// disconnect applies a disconnect of the tip.
func (m *model) disconnect() {
	height := int32(len(m.chain) - 1)
	delete(m.kv, "\x02"+be32(height))
	delete(m.kv, "\x04"+be32(height))
	m.chain = m.chain[:height]
	m.works = m.works[:height]
	if height == 0 {
		delete(m.kv, "\x01tip")
		return
	}
	prev := m.chain[height-1].BlockHash()
	m.kv["\x01tip"] = be32(height-1) + string(prev[:])
}

// next returns a new header on top of the model's tip.
func (m *model) next(rng *rand.Rand) wire.BlockHeader {
	if len(m.chain) == 0 {
		hdr, ok := GenesisHeader(m.p)
		if !ok {
			m.t.Fatalf("no genesis header for %s", m.p.Name)
		}
		return hdr
	}
	bits := []uint32{0x207fffff, 0x1d00ffff, 0x1b0404cb, 0x170331db}
	return ExtendHeaders(m.chain[len(m.chain)-1], 1, func(_ int, h *wire.BlockHeader) {
		h.Bits = bits[rng.IntN(len(bits))]
		h.Nonce = rng.Uint32()
	})[0]
}

// TestModel runs random sequences of connects, disconnects (so forks of
// random depth) and refused connects, and after each step compares the whole
// database with the reference model.
func TestModel(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 0x5eed))
		db := NewTestDB(t, analysis.Simnet)
		m := newModel(t, analysis.Simnet)

		for step := 0; step < 150; step++ {
			modelStep(t, rng, db, m)
			DiffDumps(t, m.kv, Dump(t, db))
			checkTip(t, db, m)
		}
		mustClose(t, db)
	}
}

// modelStep applies one random operation to both db and m.
func modelStep(t *testing.T, rng *rand.Rand, db *DB, m *model) {
	height := int32(len(m.chain))
	switch op := rng.IntN(10); {
	case op < 6:
		hdr := m.next(rng)
		if err := db.ConnectHeader(height, &hdr); err != nil {
			t.Fatalf("connect at %d: %v", height, err)
		}
		m.connect(hdr)

	case op < 9 && height > 0:
		for n := rng.IntN(int(height)) + 1; n > 0; n-- {
			if err := db.DisconnectTip(); err != nil {
				t.Fatalf("disconnect at %d: %v", len(m.chain)-1, err)
			}
			m.disconnect()
		}

	case height > 1:
		// A header on a block below the tip must be refused.
		base := m.chain[rng.IntN(int(height-1))]
		hdr := ExtendHeaders(base, 1, nil)[0]
		err := db.ConnectHeader(height, &hdr)
		if !errors.Is(err, ErrNotOnTip) {
			t.Fatalf("stale connect at %d: %v, want ErrNotOnTip", height, err)
		}
	}
}

// checkTip compares the cached tip with the model.
func checkTip(t *testing.T, db *DB, m *model) {
	t.Helper()
	height, hash, ok := db.Tip()
	if len(m.chain) == 0 {
		if ok {
			t.Fatalf("tip %d %v on an empty model", height, hash)
		}
		return
	}
	want := chainhash.Hash(dsha(headerBytes(t, &m.chain[len(m.chain)-1])))
	if !ok || height != int32(len(m.chain)-1) || hash != want {
		t.Fatalf("tip = %d %v %v, want %d %v", height, hash, ok,
			len(m.chain)-1, want)
	}
}
