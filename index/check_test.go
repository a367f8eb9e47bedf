package index

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/dgraph-io/badger/v4"

	"github.com/minerscope/minerscope/analysis"
)

// The corruptions below are written with Badger directly and with key
// layouts spelled out here from the banner of keys.go, not with the
// package's key helpers, so that a wrong helper cannot hide a wrong check.

// Key builders per the banner of keys.go.
func tkHeight(prefix byte, h int32) []byte {
	return binary.BigEndian.AppendUint32([]byte{prefix}, uint32(h))
}

func tkPos(prefix byte, h, i int32) []byte {
	return binary.BigEndian.AppendUint32(tkHeight(prefix, h), uint32(i))
}

func tkTxid(txid chainhash.Hash) []byte {
	return append([]byte{0x0a}, txid[:]...)
}

func tkOutpoint(op wire.OutPoint) []byte {
	return binary.BigEndian.AppendUint32(append([]byte{0x07}, op.Hash[:]...), op.Index)
}

// mainnetCheckDB is an in-memory index of the real mainnet blocks 0-14131
// kept in full, shared by the tests of this file, which restore every key
// they damage.
var mainnetCheckDB struct {
	once sync.Once
	db   *DB
	err  error
}

func mainnetFullDB(t *testing.T) *DB {
	t.Helper()
	mainnetCheckDB.once.Do(func() {
		db, err := Open("", analysis.Mainnet, Options{InMemory: true})
		if err == nil {
			err = db.SetBlocksFrom(0, true)
		}
		if err == nil {
			err = db.ConnectBlocks(0, MainnetBlockData(t, 0))
		}
		mainnetCheckDB.db, mainnetCheckDB.err = db, err
	})
	if mainnetCheckDB.err != nil {
		t.Fatalf("mainnet index: %v", mainnetCheckDB.err)
	}
	return mainnetCheckDB.db
}

// damage sets key to val in db (deletes it for nil) until the test ends.
func damage(t *testing.T, db *DB, key, val []byte) {
	t.Helper()
	old, had, err := rawGet(db, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := CorruptForTest(db, key, val); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !had {
			old = nil
		}
		if err := CorruptForTest(db, key, old); err != nil {
			t.Errorf("restore key %x: %v", key, err)
		}
	})
}

// rawGet reads key straight from Badger.
func rawGet(db *DB, key []byte) ([]byte, bool, error) {
	var v []byte
	var ok bool
	err := db.bdb.View(func(txn *badger.Txn) error {
		item, err := txn.Get(key)
		if err == badger.ErrKeyNotFound {
			return nil
		}
		if err != nil {
			return err
		}
		ok = true
		v, err = item.ValueCopy(nil)
		return err
	})
	return v, ok, err
}

func mustRawGet(t *testing.T, db *DB, key []byte) []byte {
	t.Helper()
	v, ok, err := rawGet(db, key)
	if err != nil || !ok {
		t.Fatalf("read key %x: %v (present %v)", key, err, ok)
	}
	return v
}

// mustCheck runs CheckInvariants and fails on an error.
func mustCheck(t *testing.T, db *DB) []Problem {
	t.Helper()
	ps, err := db.CheckInvariants(t.Context())
	if err != nil {
		t.Fatalf("CheckInvariants: %v", err)
	}
	return ps
}

// wantNoProblems fails the test with the problems found.
func wantNoProblems(t *testing.T, ps []Problem) {
	t.Helper()
	for i, p := range ps {
		if i == 10 {
			t.Errorf("... %d more", len(ps)-i)
			break
		}
		t.Errorf("unexpected problem: %v", p)
	}
}

// wantProblem fails unless ps has a problem at height whose text contains
// every one of words.
func wantProblem(t *testing.T, ps []Problem, height int32, words ...string) {
	t.Helper()
	for _, p := range ps {
		if p.Height != height {
			continue
		}
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(p.What, w)
		}
		if ok {
			return
		}
	}
	t.Errorf("no problem at height %d mentioning %q among %d: %v", height, words, len(ps), ps)
}

func TestCheckInvariantsMainnet(t *testing.T) {
	db := mainnetFullDB(t)
	start := time.Now()
	wantNoProblems(t, mustCheck(t, db))
	t.Logf("CheckInvariants over %d blocks: %v", MainnetTestHeaders, time.Since(start))
}

// TestCheckInvariantsHeadersOnly checks a headers-only index and one that
// keeps full blocks from a height above genesis.
func TestCheckInvariantsModes(t *testing.T) {
	wantNoProblems(t, mustCheck(t, NewMainnetTestDB(t, MainnetTestHeaders)))

	db := NewTestDB(t, analysis.Mainnet)
	if err := db.SetBlocksFrom(1000, true); err != nil {
		t.Fatal(err)
	}
	ConnectBlocks(t, db, MainnetBlockData(t, 1000)[:3000])
	wantNoProblems(t, mustCheck(t, db))
}

// TestCheckInvariantsScenario checks the hand-worked flow scenario (a
// repeated coinbase txid, level changes, inputs of unknown value) before
// and after its input values are given.
func TestCheckInvariantsScenario(t *testing.T) {
	sc := newFlowScenario(t)
	db := newFlowDB(t, sc.c, 1)
	sc.c.connect(t, db, 1, 8)
	wantNoProblems(t, mustCheck(t, db))

	if err := db.SetInputValues(7, 1, sc.tx["t7"].TxHash(), []btcutil.Amount{2 * btc}); err != nil {
		t.Fatal(err)
	}
	wantNoProblems(t, mustCheck(t, db))

	// The values and a marker both present, then neither.
	damage(t, db, tkPos(0x0c, 7, 1), []byte{})
	wantProblem(t, mustCheck(t, db), 7, "input values and still a marker")
	damage(t, db, tkPos(0x0b, 7, 1), nil)
	damage(t, db, tkPos(0x0c, 7, 1), nil)
	wantProblem(t, mustCheck(t, db), 7, "neither its input values nor a marker")
}

// TestCheckInvariantsRandomChains runs the check over random chains of
// crafted blocks, connected and partly disconnected again: the index the
// writer keeps never breaks an invariant.
func TestCheckInvariantsRandomChains(t *testing.T) {
	for seed := uint64(1); seed <= 12; seed++ {
		rng := rand.New(rand.NewPCG(seed, 0xc4ec))
		c := newTestChain(t, analysis.Simnet)
		g := newFlowGen(rng, c)
		from := int32(seed % 2)
		db := newFlowDB(t, c, from)
		for step := 0; step < 30; step++ {
			tip := c.tip()
			if tip > from && rng.IntN(10) < 3 {
				to := tip - 1 - int32(rng.IntN(int(min(3, tip-from))))
				mustDisconnectTo(t, db, to)
				g.truncate(to)
			} else {
				for range 1 + rng.IntN(3) {
					g.block()
				}
				c.connect(t, db, tip+1, c.tip())
			}
			if ps := mustCheck(t, db); len(ps) > 0 {
				wantNoProblems(t, ps)
				t.Fatalf("seed %d, step %d", seed, step)
			}
		}
	}
}

// TestCheckInvariantsCorruption damages one row at a time of the mainnet
// index and expects the damage reported at its height.
func TestCheckInvariantsCorruption(t *testing.T) {
	db := mainnetFullDB(t)
	blocks := MainnetBlocks(t)
	tx170 := blocks[170].Transactions[1].TxHash()

	tests := []struct {
		name   string
		damage func(t *testing.T)
		height int32
		words  []string
	}{
		{"header whose previous block breaks", func(t *testing.T) {
			v := bytes.Clone(mustRawGet(t, db, tkHeight(0x02, 1000)))
			v[4] ^= 1 // PrevBlock is bytes 4-35 of the wire header
			damage(t, db, tkHeight(0x02, 1000), v)
		}, 1000, []string{"previous block"}},
		{"header stored with another hash", func(t *testing.T) {
			v := bytes.Clone(mustRawGet(t, db, tkHeight(0x02, 1001)))
			v[80] ^= 1
			damage(t, db, tkHeight(0x02, 1001), v)
		}, 1001, []string{"hashes to"}},
		{"chain work off by one", func(t *testing.T) {
			v := bytes.Clone(mustRawGet(t, db, tkHeight(0x02, 1002)))
			v[143]++
			damage(t, db, tkHeight(0x02, 1002), v)
		}, 1002, []string{"chain work"}},
		{"missing header", func(t *testing.T) {
			damage(t, db, tkHeight(0x02, 1003), nil)
		}, 1003, []string{"no headers"}},
		{"tip record one block low", func(t *testing.T) {
			hash := blocks[14130].BlockHash()
			damage(t, db, append([]byte{0x01}, "tip"...), append(binary.BigEndian.AppendUint32(nil, 14130), hash[:]...))
		}, 14131, []string{"above the tip record"}},
		{"missing undo record", func(t *testing.T) {
			damage(t, db, tkHeight(0x04, 500), nil)
		}, 500, []string{"no undo record"}},
		{"coinbase record with a changed reward", func(t *testing.T) {
			rec := MainnetBlockData(t, 2000)[2000].Coinbase
			rec.Reward++
			damage(t, db, tkHeight(0x05, 2000), mustSerializeCoinbase(t, rec))
		}, 2000, []string{"reward"}},
		{"missing coinbase record", func(t *testing.T) {
			damage(t, db, tkHeight(0x05, 2001), nil)
		}, 2001, []string{"no coinbase record"}},
		{"missing block flows", func(t *testing.T) {
			damage(t, db, tkHeight(0x09, 2002), nil)
		}, 2002, []string{"no block flows record"}},
		{"deleted miner output", func(t *testing.T) {
			// Block 3000's coinbase output is unspent in 2009-2010.
			op := wire.OutPoint{Hash: blocks[3000].Transactions[0].TxHash()}
			mustRawGet(t, db, tkOutpoint(op))
			damage(t, db, tkOutpoint(op), nil)
		}, 3000, []string{"level 0 unspent miner outputs of origin 3000 fall"}},
		{"miner script missing", func(t *testing.T) {
			script := blocks[3000].Transactions[0].TxOut[0].PkScript
			mustRawGet(t, db, append([]byte{0x06}, script...))
			damage(t, db, append([]byte{0x06}, script...), nil)
		}, 3000, []string{"which is no miner script"}},
		{"flow transaction without its txid row", func(t *testing.T) {
			damage(t, db, tkTxid(tx170), nil)
		}, 170, []string{"no txid row"}},
		{"txid row without its flow transaction", func(t *testing.T) {
			damage(t, db, tkTxid(chainhash.Hash{1}), tkPos(0, 170, 2)[1:])
		}, 170, []string{"txid row"}},
		{"values-wanted marker of a transaction with only miner inputs", func(t *testing.T) {
			damage(t, db, tkPos(0x0c, 170, 1), []byte{})
		}, 170, []string{"only miner inputs"}},
		{"input values of no flow transaction", func(t *testing.T) {
			damage(t, db, tkPos(0x0b, 171, 1), []byte{0})
		}, 171, []string{"no block or flow transaction"}},
		{"flow transaction missing", func(t *testing.T) {
			damage(t, db, tkPos(0x08, 170, 1), nil)
		}, 170, []string{"differ from the block's flow transactions"}},
		{"height-by-hash row of schema 3", func(t *testing.T) {
			hash := blocks[1004].BlockHash()
			damage(t, db, append([]byte{0x03}, hash[:]...), binary.BigEndian.AppendUint32(nil, 1004))
		}, 1004, []string{"height-by-hash row", "retired in schema 4"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.damage(t)
			wantProblem(t, mustCheck(t, db), tc.height, tc.words...)
		})
	}
	// Every damage was undone.
	wantNoProblems(t, mustCheck(t, db))
}

func mustSerializeCoinbase(t *testing.T, rec *analysis.CoinbaseRecord) []byte {
	t.Helper()
	b, err := serializeCoinbase(rec)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCheckBlock compares every stored block with the real blocks, then
// damages rows the invariants alone cannot see.
func TestCheckBlock(t *testing.T) {
	db := mainnetFullDB(t)
	blocks := MainnetBlocks(t)
	check := func(t *testing.T, h int32) []Problem {
		t.Helper()
		c, err := db.NewBlockChecker(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		ps, err := c.CheckBlock(h, blocks[h], nil)
		if err != nil {
			t.Fatal(err)
		}
		return ps
	}

	c, err := db.NewBlockChecker(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for h, blk := range blocks {
		ps, err := c.CheckBlock(int32(h), blk, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantNoProblems(t, ps)
	}
	t.Logf("CheckBlock over %d blocks: %v", len(blocks), time.Since(start))

	// A spend of an output made by a stored flow transaction, found here
	// by scanning the stored rows.
	spender, spent := findChainedSpend(t, db)

	t.Run("another block's header", func(t *testing.T) {
		ps, err := c.CheckBlock(5, blocks[6], nil)
		if err != nil {
			t.Fatal(err)
		}
		wantProblem(t, ps, 5, "the node's block is "+blocks[6].BlockHash().String())
	})
	t.Run("coinbase record of consistent but wrong content", func(t *testing.T) {
		rec := MainnetBlockData(t, 9)[9].Coinbase
		rec.ScriptSig = append(rec.ScriptSig, 0)
		damage(t, db, tkHeight(0x05, 9), mustSerializeCoinbase(t, rec))
		wantNoProblems(t, mustCheck(t, db)) // the record agrees with itself
		wantProblem(t, check(t, 9), 9, "scriptSig")
	})
	t.Run("flow transaction output changed", func(t *testing.T) {
		v := bytes.Clone(mustRawGet(t, db, tkPos(0x08, 170, 1)))
		v[len(v)-1] ^= 1 // the last byte of the last output's script
		damage(t, db, tkPos(0x08, 170, 1), v)
		wantProblem(t, check(t, 170), 170, "output 1 pays")
	})
	t.Run("spent output still unspent", func(t *testing.T) {
		op := wire.OutPoint{Hash: blocks[9].Transactions[0].TxHash()}
		v := mustRawGet(t, db, tkOutpoint(wire.OutPoint{Hash: blocks[3000].Transactions[0].TxHash()}))
		damage(t, db, tkOutpoint(op), v)
		wantProblem(t, check(t, 170), 170, "unspent miner output")
	})
	t.Run("spend of a miner output not stored", func(t *testing.T) {
		damage(t, db, tkPos(0x08, spender.Height, spender.Index), nil)
		wantProblem(t, check(t, spender.Height), spender.Height, "not stored")
	})
	t.Run("miner input of another value", func(t *testing.T) {
		tx := *spender
		tx.Inputs = append([]FlowTxInput(nil), tx.Inputs...)
		tx.Inputs[spent].Value++
		damage(t, db, tkPos(0x08, tx.Height, tx.Index), serializeFlowTx(&tx))
		wantProblem(t, check(t, tx.Height), tx.Height, "the output it spends")
	})
}

// findChainedSpend returns a stored flow transaction with an input that
// spends an output of an earlier stored flow transaction, and that input's
// index.
func findChainedSpend(t *testing.T, db *DB) (*FlowTx, int) {
	t.Helper()
	byID := make(map[chainhash.Hash]FlowTx)
	var found *FlowTx
	var input int
	err := db.FlowTxs(0, MainnetTestHeaders, func(tx *FlowTx) error {
		for i, in := range tx.Inputs {
			prev, ok := byID[in.PrevOut.Hash]
			if found == nil && ok && prev.Outputs[in.PrevOut.Index].Level != analysis.NotMiner {
				cp := *tx
				found, input = &cp, i
			}
		}
		byID[tx.TxID] = *tx
		return nil
	})
	if err != nil || found == nil {
		t.Fatalf("no chained spend among the mainnet flow transactions (%v)", err)
	}
	return found, input
}

// TestDiff compares two indexes of the same blocks, then with one key
// changed, missing or extra.
func TestDiff(t *testing.T) {
	data := MainnetBlockData(t, 0)[:300]
	build := func() *DB {
		db := NewTestDB(t, analysis.Mainnet)
		if err := db.SetBlocksFrom(0, true); err != nil {
			t.Fatal(err)
		}
		ConnectBlocks(t, db, data)
		return db
	}
	a, b := build(), build()
	diff := func() []Problem {
		ps, err := a.Diff(t.Context(), b)
		if err != nil {
			t.Fatal(err)
		}
		return ps
	}
	wantNoProblems(t, diff())

	t.Run("changed", func(t *testing.T) {
		v := bytes.Clone(mustRawGet(t, a, tkHeight(0x09, 250)))
		v[0] ^= 1
		damage(t, a, tkHeight(0x09, 250), v)
		wantProblem(t, diff(), 250, "block flows record differs")
	})
	t.Run("missing", func(t *testing.T) {
		damage(t, a, tkHeight(0x04, 251), nil)
		wantProblem(t, diff(), 251, "undo record is missing")
	})
	t.Run("extra", func(t *testing.T) {
		damage(t, a, tkPos(0x0c, 252, 3), []byte{})
		wantProblem(t, diff(), 252, "values-wanted marker at index 3 is not in a fresh sync")
	})
	wantNoProblems(t, diff())
}
