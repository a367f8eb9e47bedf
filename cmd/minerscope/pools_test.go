package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/minerscope/minerscope/chain/chaintest"
	"github.com/minerscope/minerscope/index"
)

// simnetScripts are output scripts of every common type, paying keys made up for the test.
type simnetScripts struct {
	p2pk, p2pkh, p2wpkh, p2tr, opReturn []byte
	p2pkhAddr, p2wpkhAddr, p2trAddr     string
}

func makeScripts(t *testing.T) simnetScripts {
	t.Helper()
	params := &chaincfg.SimNetParams
	key := func(b byte) *btcec.PublicKey {
		var seed [32]byte
		seed[31] = b
		_, pub := btcec.PrivKeyFromBytes(seed[:])
		return pub
	}
	must := func(s []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	pkh, err := btcutil.NewAddressPubKeyHash(btcutil.Hash160(key(2).SerializeCompressed()), params)
	if err != nil {
		t.Fatal(err)
	}
	wpkh, err := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(key(3).SerializeCompressed()), params)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := btcutil.NewAddressTaproot(schnorr.SerializePubKey(key(4)), params)
	if err != nil {
		t.Fatal(err)
	}
	return simnetScripts{
		p2pk:       must(txscript.NewScriptBuilder().AddData(key(1).SerializeCompressed()).AddOp(txscript.OP_CHECKSIG).Script()),
		p2pkh:      must(txscript.PayToAddrScript(pkh)),
		p2wpkh:     must(txscript.PayToAddrScript(wpkh)),
		p2tr:       must(txscript.PayToAddrScript(tr)),
		opReturn:   must(txscript.NullDataScript([]byte("minerscope test"))),
		p2pkhAddr:  pkh.EncodeAddress(),
		p2wpkhAddr: wpkh.EncodeAddress(),
		p2trAddr:   tr.EncodeAddress(),
	}
}

// TestSimnetCoinbasesAndPools crafts simnet blocks with known tags and outputs of every common type, indexes
// them, and checks the stored outputs, the pool attribution rules (address before tag, largest payout among
// addresses), and that a reorg replacing one pool's blocks with another's moves the pool counts.
func TestSimnetCoinbasesAndPools(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n := chaintest.StartSimnet(t)
	s := makeScripts(t)
	b, err := n.Builder(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const subsidy = 50 * btcutil.SatoshiPerBitcoin
	pay := func(script []byte, v int64) *wire.TxOut { return wire.NewTxOut(v, script) }
	type blockSpec struct {
		tag     string
		outputs []*wire.TxOut
		pool    string // expected attribution
		match   string
	}
	specs := []blockSpec{
		{"/AlphaPool/", []*wire.TxOut{pay(s.p2wpkh, subsidy)}, "Alpha", "address"},
		{"/AlphaPool/", []*wire.TxOut{pay(s.p2wpkh, subsidy)}, "Alpha", "address"},
		{"mined by BetaMiner", []*wire.TxOut{pay(s.p2tr, subsidy)}, "Beta", "tag"},
		// The tag says Alpha but the payout goes to Beta's address: the address wins.
		{"/AlphaPool/", []*wire.TxOut{pay(s.p2pkh, subsidy)}, "Beta", "address"},
		// Both pools' addresses are paid: the larger payout decides.
		{"", []*wire.TxOut{pay(s.p2wpkh, subsidy/4), pay(s.p2pkh, subsidy/2)}, "Beta", "address"},
		{"hello", []*wire.TxOut{pay(s.p2pk, subsidy-1000), pay(s.opReturn, 0)}, "unknown", "none"},
	}
	start := time.Now().Add(-5 * time.Hour).Truncate(time.Second)
	if _, err := n.SubmitChain(ctx, b, len(specs), func(i int) chaintest.BlockOpts {
		return chaintest.BlockOpts{Time: start.Add(time.Duration(i) * 10 * time.Minute),
			CoinbaseScript: append([]byte{}, specs[i].tag+"  "...), Outputs: specs[i].outputs}
	}); err != nil {
		t.Fatal(err)
	}

	poolsFile := filepath.Join(t.TempDir(), "pools.json")
	pools := []map[string]any{
		{"id": 1, "name": "Alpha", "addresses": []string{s.p2wpkhAddr}, "tags": []string{"/AlphaPool/"}, "link": "https://alpha.example"},
		{"id": 2, "name": "Beta", "addresses": []string{s.p2pkhAddr}, "tags": []string{"BetaMiner"}, "link": "https://beta.example"},
	}
	data, _ := json.Marshal(pools)
	if err := os.WriteFile(poolsFile, data, 0o600); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	mustRun(t, append([]string{"index", "--quiet"}, nodeArgs(n, dir)...)...)
	r := mustRun(t, "blocks", "--index", dir, "--json", "--from", "1", "--pools", poolsFile)
	var rows []blockJSON
	decodeJSON(t, r.Stdout, &rows)
	if len(rows) != len(specs) {
		t.Fatalf("%d blocks, want %d", len(rows), len(specs))
	}
	for i, spec := range specs {
		got := rows[i]
		var reward int64
		for _, o := range spec.outputs {
			reward += o.Value
		}
		if got.Pool != spec.pool || got.PoolMatch != spec.match || got.RewardSat != reward ||
			got.SubsidySat != subsidy || got.FeesSat != 0 || got.TxCount != 1 {
			t.Errorf("block %d: %+v; want pool %s by %s, reward %d", i+1, got, spec.pool, spec.match, reward)
		}
		if spec.tag != "" && !contains(got.CoinbaseTag, spec.tag) {
			t.Errorf("block %d tag %q lacks %q", i+1, got.CoinbaseTag, spec.tag)
		}
	}

	// The stored outputs keep their scripts, types and addresses.
	last := openCoinbase(t, dir, int32(len(specs)))
	if len(last.Outputs) != 2 || last.Outputs[0].Type != "pubkey" || last.Outputs[1].Type != "nulldata" ||
		last.Outputs[1].Address != "" || string(last.Outputs[0].Script) != string(s.p2pk) {
		t.Errorf("P2PK/OP_RETURN outputs stored as %+v", last.Outputs)
	}
	first := openCoinbase(t, dir, 1)
	third := openCoinbase(t, dir, 3)
	if first.Outputs[0].Type != "witness_v0_keyhash" || first.Outputs[0].Address != s.p2wpkhAddr ||
		third.Outputs[0].Type != "witness_v1_taproot" || third.Outputs[0].Address != s.p2trAddr {
		t.Errorf("P2WPKH/P2TR outputs stored as %+v / %+v", first.Outputs, third.Outputs)
	}

	// Pools over the whole crafted span: Alpha 2, Beta 3, unknown 1.
	counts := poolCounts(t, dir, poolsFile)
	if counts["Alpha"] != 2 || counts["Beta"] != 3 || counts["unknown"] != 1 {
		t.Fatalf("pool counts before the reorg: %v", counts)
	}

	// Replace the last two blocks (Beta by address, unknown) with three of Alpha's.
	tip, err := b.Ancestor(mustTip(t, b), int32(len(specs)-2))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetTip(tip); err != nil {
		t.Fatal(err)
	}
	if _, err := n.SubmitChain(ctx, b, 3, func(i int) chaintest.BlockOpts {
		return chaintest.BlockOpts{Time: start.Add(time.Duration(4+i)*10*time.Minute + time.Minute),
			CoinbaseScript: []byte("/AlphaPool/ again"), Outputs: []*wire.TxOut{pay(s.p2wpkh, subsidy)}}
	}); err != nil {
		t.Fatal(err)
	}
	mustRun(t, append([]string{"index", "--quiet"}, nodeArgs(n, dir)...)...)
	counts = poolCounts(t, dir, poolsFile)
	if counts["Alpha"] != 5 || counts["Beta"] != 2 || counts["unknown"] != 0 {
		t.Fatalf("pool counts after the reorg: %v", counts)
	}
	fresh := t.TempDir()
	mustRun(t, append([]string{"index", "--quiet"}, nodeArgs(n, fresh)...)...)
	assertSameIndex(t, dir, fresh)
}

func mustTip(t *testing.T, b *chaintest.Builder) chainhash.Hash {
	hash, _ := b.Tip()
	return hash
}

func openCoinbase(t *testing.T, dir string, h int32) coinbaseRecord {
	t.Helper()
	db, _, err := index.OpenExisting(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rec, err := db.Coinbase(h)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// poolCounts runs `pools --json` over the last day and returns blocks per pool.
func poolCounts(t *testing.T, dir, poolsFile string) map[string]int {
	t.Helper()
	r := mustRun(t, "pools", "--index", dir, "--json", "--window", "1d", "--pools", poolsFile)
	var rows []poolJSON
	decodeJSON(t, r.Stdout, &rows)
	counts := make(map[string]int)
	for _, row := range rows {
		counts[row.Pool] = row.Blocks
	}
	return counts
}
