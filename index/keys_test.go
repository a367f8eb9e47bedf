package index

import (
	"bytes"
	"errors"
	"math/big"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/btcsuite/btcd/wire"
	"github.com/minerscope/minerscope/analysis"
)

// TestUndoRoundTrip checks that random undo records decode to what was
// encoded, and that truncated records are reported as corrupt.
func TestUndoRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	randBytes := func(max int) []byte {
		b := make([]byte, rng.IntN(max))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}

	for i := 0; i < 500; i++ {
		entries := make([]undoEntry, rng.IntN(6))
		for j := range entries {
			entries[j].key = append([]byte{byte(1 + rng.IntN(200))}, randBytes(300)...)
			if entries[j].existed = rng.IntN(2) == 0; entries[j].existed {
				entries[j].prev = randBytes(400)
			}
		}

		b := serializeUndo(entries)
		got, err := deserializeUndo(7, b)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if len(got) != len(entries) {
			t.Fatalf("decoded %d entries, want %d", len(got), len(entries))
		}
		for j := range got {
			e := entries[j]
			if !bytes.Equal(got[j].key, e.key) || got[j].existed != e.existed ||
				!bytes.Equal(got[j].prev, e.prev) {
				t.Fatalf("entry %d = %+v, want %+v", j, got[j], e)
			}
		}
		if len(b) > 1 {
			cut := 1 + rng.IntN(len(b)-1)
			if _, err := deserializeUndo(7, b[:cut]); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("truncated at %d of %d: %v", cut, len(b), err)
			}
		}
	}
}

// TestHeaderRecordRoundTrip checks the 144-byte header value layout.
func TestHeaderRecordRoundTrip(t *testing.T) {
	hdr := MainnetHeaders(t)[1000]
	work := new(big.Int).Lsh(big.NewInt(3), 200)
	rec := HeaderRecord{Height: 1000, Hash: hdr.BlockHash(), Header: hdr, ChainWork: work}

	b, err := serializeHeaderRecord(&rec)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 144 || !bytes.Equal(b[:80], headerBytes(t, &hdr)) ||
		!bytes.Equal(b[80:112], rec.Hash[:]) ||
		new(big.Int).SetBytes(b[112:]).Cmp(work) != 0 {
		t.Fatalf("layout wrong: %x", b)
	}
	got, err := deserializeHeaderRecord(1000, b)
	if err != nil || !reflect.DeepEqual(got, rec) {
		t.Fatalf("round trip = %+v, %v", got, err)
	}

	rec.ChainWork = new(big.Int).Lsh(big.NewInt(1), 256)
	if _, err := serializeHeaderRecord(&rec); err == nil {
		t.Fatal("257-bit chain work accepted")
	}
}

// TestBlockWriterUndo checks the generic undo that future record writers
// rely on: overwrites, deletes of present and absent keys and repeated
// writes of one key are all undone exactly.
func TestBlockWriterUndo(t *testing.T) {
	db := NewTestDB(t, analysis.Simnet)
	genesis, _ := GenesisHeader(analysis.Simnet)
	hdrs := append([]wire.BlockHeader{genesis}, ExtendHeaders(genesis, 1, nil)...)
	key := func(s string) []byte { return append([]byte{0x7f}, s...) }
	empty := Dump(t, db)

	err := db.connect(0, &hdrs[0], func(w *BlockWriter) error {
		if w.Height() != 0 {
			t.Errorf("height = %d", w.Height())
		}
		return errors.Join(w.Put(key("a"), []byte("1")), w.Put(key("b"), []byte("2")))
	})
	if err != nil {
		t.Fatal(err)
	}
	afterGenesis := Dump(t, db)

	block1 := func(w *BlockWriter) error {
		return errors.Join(
			w.Put(key("a"), []byte("3")),
			w.Delete(key("b")),
			w.Put(key("c"), []byte("4")),
			w.Put(key("c"), []byte("5")),
			w.Delete(key("absent")),
			w.Put(key("b"), []byte("6")),
		)
	}
	if err := db.connect(1, &hdrs[1], block1); err != nil {
		t.Fatal(err)
	}
	afterBlock1 := Dump(t, db)
	if afterBlock1[string(key("c"))] != "5" || afterBlock1[string(key("b"))] != "6" {
		t.Fatalf("block 1 rows wrong: %q", afterBlock1)
	}

	mustDisconnect(t, db)
	DiffDumps(t, afterGenesis, Dump(t, db))
	if err := db.connect(1, &hdrs[1], block1); err != nil {
		t.Fatal(err)
	}
	DiffDumps(t, afterBlock1, Dump(t, db))

	// A failing record writer leaves nothing behind.
	mustDisconnect(t, db)
	boom := errors.New("boom")
	err = db.connect(1, &hdrs[1], func(w *BlockWriter) error {
		_ = w.Put(key("z"), []byte("x"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("connect with failing writer: %v", err)
	}
	DiffDumps(t, afterGenesis, Dump(t, db))
	if h, _, _ := db.Tip(); h != 0 {
		t.Fatalf("tip moved to %d", h)
	}

	// Undo records are not writable by blocks.
	err = db.connect(1, &hdrs[1], func(w *BlockWriter) error {
		return w.Put(heightKey(undoPrefix, 0), nil)
	})
	if err == nil {
		t.Fatal("block overwrote an undo record")
	}

	mustDisconnect(t, db)
	DiffDumps(t, empty, Dump(t, db))
}

// mustDisconnect disconnects the tip, failing the test on error.
func mustDisconnect(t *testing.T, db *DB) {
	t.Helper()
	if err := db.DisconnectTip(); err != nil {
		t.Fatalf("disconnect: %v", err)
	}
}
