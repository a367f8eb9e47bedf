package analysis

import (
	"errors"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
)

// TestAttributeMainnet attributes real blocks with the built-in list. The
// sig records name the pool their source attributed the block to; the
// others are known from their coinbase texts and from the addresses
// mempool.space lists for the pool.
func TestAttributeMainnet(t *testing.T) {
	m, err := NewMatcher(DefaultPools(), Mainnet)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kind        string
		height      int32
		pool, match string
	}{
		// Pays 1NS4gbx1G2D5rc9PnvVsPys12nKxGiQg72, one of AntPool's.
		{"block", 501728, "AntPool", MatchAddress},
		// No text, no known address.
		{"block", 501726, UnknownPool, MatchNone},
		{"tx", 840000, "ViaBTC", MatchTag},
		// "/F2Pool/s" and the 🐟 of its merged-mining nonce: the longer
		// tag decides, and both are F2Pool's.
		{"tx", 877777, "F2Pool", MatchTag},
		// Pays 32BfKjhByDSxx3BM5vUkQ3NQq9csZR6nt6, Luxor's.
		{"tx", 877780, "Luxor", MatchAddress},
		// Its reward goes to an unlisted P2WSH address, but 546 sats go
		// to bc1p8k4v4…, one of Foundry's.
		{"tx", 877792, "Foundry USA", MatchAddress},
		{"tx", 890688, "AntPool", MatchTag},
	}
	for _, tc := range tests {
		f := fixtureAt(t, tc.kind, tc.height)
		block := f.block
		if block == nil {
			block = blockOf(f.tx)
		}
		rec, err := ExtractCoinbase(Mainnet, tc.height, block)
		if err != nil {
			t.Fatal(err)
		}
		a := m.Attribute(&rec)
		if a.Pool != tc.pool || a.Match != tc.match {
			t.Errorf("%d: %+v, want %s by %s", tc.height, a, tc.pool,
				tc.match)
		}
	}

	// The scriptSigs of blocks 966077-966088, by tag, against the pools
	// their source names.
	n := 0
	for _, f := range loadFixtures(t) {
		if f.kind != "sig" {
			continue
		}
		n++
		a := m.Attribute(&CoinbaseRecord{ScriptSig: f.sig})
		if a.Pool != f.id || a.Match != MatchTag {
			t.Errorf("%d: %+v, source says %s", f.height, a, f.id)
		}
	}
	if n != 12 {
		t.Fatalf("%d scriptSig records, want 12", n)
	}
}

// Addresses used by the rule tests: published pool addresses and the
// genesis key's.
const (
	antPoolAddr = "1NS4gbx1G2D5rc9PnvVsPys12nKxGiQg72"
	luxorAddr   = "32BfKjhByDSxx3BM5vUkQ3NQq9csZR6nt6"
	foundryAddr = "bc1p8k4v4xuz55dv49svzjg43qjxq2whur7ync9tm0xgl5t4wjl9ca9snxgmlt"
	genesisAddr = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
	genesisKey  = "04678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5f"
)

// ruleTestPools exercise the conflict rules.
var ruleTestPools = []Pool{
	{ID: 72, Name: "TATMAS Pool", Tags: []string{"/ViaBTC/TATMAS Pool/"}},
	{ID: 73, Name: "ViaBTC", Tags: []string{"/ViaBTC/"}},
	{ID: 24, Name: "EclipseMC", Tags: []string{"EMC "}},
	{ID: 44, Name: "AntPool", Addresses: []string{antPoolAddr},
		Tags: []string{"Mined by AntPool"}},
	{ID: 4, Name: "Luxor", Addresses: []string{luxorAddr},
		Tags: []string{"Luxor Tech"}},
	{ID: 111, Name: "Foundry USA", Addresses: []string{foundryAddr},
		Tags: []string{"Foundry USA Pool"}},
	{ID: 200, Name: "Same length B", Tags: []string{"twin-tag-b"}},
	{ID: 199, Name: "Same length A", Tags: []string{"twin-tag-a", "twin"}},
	{ID: 300, Name: "Satoshi", Addresses: []string{genesisKey}},
	{ID: 301, Name: "Shares an address", Addresses: []string{luxorAddr}},
}

// TestAttributeRules checks the conflict rules of the package
// documentation on crafted coinbases.
func TestAttributeRules(t *testing.T) {
	m, err := NewMatcher(ruleTestPools, Mainnet)
	if err != nil {
		t.Fatal(err)
	}
	pay := func(addr string, v btcutil.Amount) CoinbaseOutput {
		return CoinbaseOutput{Value: v, Address: addr}
	}
	tests := []struct {
		name    string
		sig     string
		outputs []CoinbaseOutput
		poolID  int
		match   string
	}{
		{"tag", "\x03\x01\x02\x03\x10Mined by AntPool", nil, 44, MatchTag},
		{"tag in any case", "\xffMINED BY antpool", nil, 44, MatchTag},
		{"address beats a disagreeing tag", "\xffMined by AntPool",
			[]CoinbaseOutput{pay(foundryAddr, 546)}, 111, MatchAddress},
		{"largest payout wins", "",
			[]CoinbaseOutput{pay(antPoolAddr, 5), pay(luxorAddr, 3),
				pay(luxorAddr, 3)}, 4, MatchAddress},
		{"payout tie: lowest id", "",
			[]CoinbaseOutput{pay(antPoolAddr, 5), pay(foundryAddr, 5)},
			44, MatchAddress},
		{"zero payout still matches", "\xffMined by AntPool",
			[]CoinbaseOutput{pay(foundryAddr, 0)}, 111, MatchAddress},
		{"unknown address then tag", "\xffLuxor Tech",
			[]CoinbaseOutput{pay("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", 9)},
			4, MatchTag},
		{"longest tag wins", "\xff/ViaBTC/TATMAS Pool/", nil, 72, MatchTag},
		{"shorter tag alone", "\xff/ViaBTC/Mined by x/", nil, 73, MatchTag},
		{"tag length tie: lowest id", "\xfftwin-tag-b twin-tag-a", nil, 199,
			MatchTag},
		// "EMC " keeps its space: the tag text trims it, the raw text has it.
		{"raw text", "\xffEMC \x01", nil, 24, MatchTag},
		{"trimmed tag text misses it", "\xffEMC", nil, 0, MatchNone},
		// "Mined by" and "AntPool" are separate runs joined by a space in
		// the tag text; the raw bytes have a NUL between them.
		{"tag text", "\xffMined by\x00AntPool", nil, 44, MatchTag},
		// P2PK outputs carry their key's P2PKH address; a pool listing the
		// key itself matches them.
		{"pubkey listed as hex", "", []CoinbaseOutput{pay(genesisAddr, 50)},
			300, MatchAddress},
		// An address listed by two pools belongs to the lower id.
		{"shared address", "", []CoinbaseOutput{pay(luxorAddr, 1)}, 4,
			MatchAddress},
		{"nothing", "\x03\x01\x02\x03", nil, 0, MatchNone},
	}
	for _, tc := range tests {
		rec := &CoinbaseRecord{ScriptSig: []byte(tc.sig), Outputs: tc.outputs}
		a := m.Attribute(rec)
		if a.PoolID != tc.poolID || a.Match != tc.match {
			t.Errorf("%s: %+v, want pool %d by %s", tc.name, a, tc.poolID,
				tc.match)
		}
		if tc.match == MatchNone && a.Pool != UnknownPool {
			t.Errorf("%s: unknown pool named %q", tc.name, a.Pool)
		}
	}
	if a := m.Attribute(nil); a != unknownAttribution {
		t.Errorf("nil record: %+v", a)
	}
}

// TestMatcherNetworks checks that addresses count only on their network.
func TestMatcherNetworks(t *testing.T) {
	regtestAddr := "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
	pools := []Pool{
		{ID: 1, Name: "Mainnet pool", Addresses: []string{antPoolAddr}},
		{ID: 2, Name: "Regtest pool", Addresses: []string{regtestAddr}},
		{ID: 3, Name: "Testnet pool",
			Addresses: []string{"tb1q548z58kqvwyjqwy8vc2ntmg33d7s2wyfv7ukq4"}},
		{ID: 4, Name: "Not an address", Addresses: []string{"hello"}},
	}
	tests := []struct {
		p      Params
		addr   string
		poolID int
	}{
		{Mainnet, antPoolAddr, 1},
		{Mainnet, regtestAddr, 0},
		{Regtest, regtestAddr, 2},
		{Regtest, antPoolAddr, 0},
		{Testnet4, "tb1q548z58kqvwyjqwy8vc2ntmg33d7s2wyfv7ukq4", 3},
		{Mainnet, "hello", 0},
	}
	for _, tc := range tests {
		m, err := NewMatcher(pools, tc.p)
		if err != nil {
			t.Fatal(err)
		}
		rec := &CoinbaseRecord{Outputs: []CoinbaseOutput{
			{Value: 1, Address: tc.addr}}}
		if a := m.Attribute(rec); a.PoolID != tc.poolID {
			t.Errorf("%s pays %s: %+v, want pool %d", tc.p.Name, tc.addr, a,
				tc.poolID)
		}
	}
}

// TestNewMatcherErrors checks the refusals.
func TestNewMatcherErrors(t *testing.T) {
	if _, err := NewMatcher(nil, Params{}); !errors.Is(err, ErrBadParams) {
		t.Errorf("zero params: %v", err)
	}
	bad := [][]Pool{
		{{ID: 0, Name: "zero"}},
		{{ID: 1, Name: ""}},
		{{ID: 1, Name: "a", Tags: []string{""}}},
		{{ID: 1, Name: "a"}, {ID: 1, Name: "b"}},
	}
	for _, pools := range bad {
		if _, err := NewMatcher(pools, Mainnet); !errors.Is(err, ErrBadPools) {
			t.Errorf("%+v: %v", pools, err)
		}
	}
	m, err := NewMatcher(nil, Mainnet)
	if err != nil || m.Attribute(&CoinbaseRecord{ScriptSig: []byte("x")}) !=
		unknownAttribution {
		t.Errorf("empty list: %v", err)
	}
}

// BenchmarkAttribute measures attributing one block by tag with the
// built-in list, the slower rule.
func BenchmarkAttribute(b *testing.B) {
	m, err := NewMatcher(DefaultPools(), Mainnet)
	if err != nil {
		b.Fatal(err)
	}
	f := fixtureAt(b, "tx", 890688)
	rec, err := ExtractCoinbase(Mainnet, 890688, blockOf(f.tx))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		m.Attribute(&rec)
	}
}
