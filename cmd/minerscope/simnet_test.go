package main

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/minerscope/minerscope/chain/chaintest"
	"github.com/minerscope/minerscope/index"
)

// TestSimnetRetargetsAndReorg crafts a simnet chain across two retargets (one clamped at x4 harder, one
// easier), indexes it, checks the epochs against the node, then reorgs the node and checks that `index`
// leaves exactly the index a fresh sync builds.
func TestSimnetRetargetsAndReorg(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	n := chaintest.StartSimnet(t)
	b, err := n.Builder(ctx)
	if err != nil {
		t.Fatal(err)
	}
	genesis := n.Params.GenesisBlock.Header.Timestamp
	spacing := func(h int) time.Duration {
		switch {
		case h < 2016:
			return 150 * time.Second // a quarter of the target: the first retarget is clamped at x4
		case h < 4032:
			return 1000 * time.Second // slower than target: the second retarget eases by 2015000/1209600
		default:
			return 300 * time.Second
		}
	}
	times := map[int]time.Time{0: genesis}
	if _, err := n.SubmitChain(ctx, b, 4100, func(i int) chaintest.BlockOpts {
		h := i + 1
		times[h] = times[h-1].Add(spacing(h))
		return chaintest.BlockOpts{Time: times[h]}
	}); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	mustRun(t, append([]string{"index", "--quiet"}, nodeArgs(n, dir)...)...)

	r := mustRun(t, "epochs", "--index", dir, "--json")
	var eps []epochJSON
	decodeJSON(t, r.Stdout, &eps)
	if len(eps) != 3 {
		t.Fatalf("%d epochs, want 3", len(eps))
	}
	for _, e := range eps {
		hash := nodeHash(t, n, e.StartHeight)
		var hdr struct {
			Bits       string
			Difficulty float64
			Time       int64
		}
		nodeCall(t, n, &hdr, "getblockheader", hash.String(), true)
		if e.Bits != hdr.Bits {
			t.Errorf("epoch %d bits %s, node %s", e.Epoch, e.Bits, hdr.Bits)
		}
		// btcd reports simnet difficulty relative to simnet's proof-of-work limit, Bitcoin Core (and
		// minerscope) relative to 0x1d00ffff on every network: compare the ratios to epoch 0.
		if got, want := e.Difficulty/eps[0].Difficulty, hdr.Difficulty/node0Diff(t, n); !closeRel(got, want, 1e-8) {
			t.Errorf("epoch %d difficulty ratio %v, node %v", e.Epoch, got, want)
		}
		var want float64
		if e.Complete {
			nodeCall(t, n, &want, "getnetworkhashps", 2016, e.EndHeight)
		} else {
			nodeCall(t, n, &want, "getnetworkhashps", -1, e.EndHeight)
		}
		if !closeRel(e.HashrateHS, want, 1e-9) {
			t.Errorf("epoch %d hashrate %v, node %v", e.Epoch, e.HashrateHS, want)
		}
	}
	// The difficulty changes follow from the crafted timestamps: x4 (clamped), then 1209600/2015000.
	if d := eps[1].ChangePct; !closeRel(d, 300, 1e-6) {
		t.Errorf("epoch 1 change %v%%, want +300%%", d)
	}
	if d, want := eps[2].ChangePct, (1209600.0/2015000.0-1)*100; !closeRel(d, want, 1e-4) {
		t.Errorf("epoch 2 change %v%%, want %v%% (up to compact rounding)", d, want)
	}
	if eps[1].DurationS != 2015*1000 {
		t.Errorf("epoch 1 duration %d, want %d", eps[1].DurationS, 2015*1000)
	}

	for _, depth := range []int32{3, 12} {
		t.Run("reorg depth "+strconv.Itoa(int(depth)), func(t *testing.T) {
			var tip int32
			nodeCall(t, n, &tip, "getblockcount")
			before := nodeHash(t, n, tip-depth+1)
			if _, err := n.Reorg(ctx, b, depth); err != nil {
				t.Fatal(err)
			}
			if after := nodeHash(t, n, tip-depth+1); after == before {
				t.Fatal("the node did not switch branch")
			}
			r := mustRun(t, append([]string{"index"}, nodeArgs(n, dir)...)...)
			if want := fmt.Sprintf("reorg: undid %d block(s)", depth); !contains(r.Stderr, want) {
				t.Errorf("index output lacks %q:\n%s", want, r.Stderr)
			}
			fresh := t.TempDir()
			mustRun(t, append([]string{"index", "--quiet"}, nodeArgs(n, fresh)...)...)
			assertSameIndex(t, dir, fresh)
		})
	}
}

// node0Diff is the difficulty btcd reports for the genesis block.
func node0Diff(t testing.TB, n *chaintest.Node) float64 {
	var hdr struct{ Difficulty float64 }
	nodeCall(t, n, &hdr, "getblockheader", n.Params.GenesisHash.String(), true)
	return hdr.Difficulty
}

func nodeHash(t testing.TB, n *chaintest.Node, h int32) chainhash.Hash {
	t.Helper()
	var s string
	nodeCall(t, n, &s, "getblockhash", h)
	hash, err := chainhash.NewHashFromStr(s)
	if err != nil {
		t.Fatal(err)
	}
	return *hash
}

// assertSameIndex compares every key and value of two indexes.
func assertSameIndex(t testing.TB, dirA, dirB string) {
	t.Helper()
	a, _, err := index.OpenExisting(dirA)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	bdb, _, err := index.OpenExisting(dirB)
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	index.DiffDumps(t, index.Dump(t, bdb), index.Dump(t, a))
}
