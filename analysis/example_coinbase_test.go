package analysis_test

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/minerscope/minerscope/analysis"
)

func ExampleSubsidy() {
	for _, h := range []int32{0, 210000, 840000} {
		s := analysis.Subsidy(analysis.Mainnet, h)
		fmt.Printf("%d: %d sat (%v)\n", h, int64(s), s)
	}
	// Output:
	// 0: 5000000000 sat (50 BTC)
	// 210000: 2500000000 sat (25 BTC)
	// 840000: 312500000 sat (3.12500000 BTC)
}

func ExampleCoinbaseTag() {
	// The genesis block's scriptSig: the compact target, a 1-byte push
	// and the headline.
	sig, _ := hex.DecodeString("04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73")
	fmt.Println(analysis.CoinbaseTag(sig))
	// Output:
	// The Times 03/Jan/2009 Chancellor on brink of second bailout for banks
}

func ExampleMatcher_Attribute() {
	m, err := analysis.NewMatcher(analysis.DefaultPools(), analysis.Mainnet)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Block 966085's scriptSig: the height, a timestamp, then raw text.
	sig, _ := hex.DecodeString("03c5bd0e048e9901172f466f756e6472792055534120506f6f6c202364726f70676f6c642f2a1140d11d2c000000000000")
	a := m.Attribute(&analysis.CoinbaseRecord{ScriptSig: sig})
	fmt.Printf("%s by %s\n", a.Pool, a.Match)

	// The same text, but the coinbase pays one of AntPool's addresses.
	rec := analysis.CoinbaseRecord{ScriptSig: sig, Outputs: []analysis.CoinbaseOutput{
		{Value: 312500000, Address: "1NS4gbx1G2D5rc9PnvVsPys12nKxGiQg72"}}}
	a = m.Attribute(&rec)
	fmt.Printf("%s by %s\n", a.Pool, a.Match)
	// Output:
	// Foundry USA by tag
	// AntPool by address
}

func ExampleParsePools() {
	list := `[{"id": 1, "name": "Example Pool", "addresses": [], "tags": ["/example/"], "link": ""},
	          {"id": 2, "name": "Broken Pool", "addresses": [], "tags": [""], "link": ""}]`
	_, err := analysis.ParsePools(strings.NewReader(list))
	fmt.Println(err)
	// Output:
	// invalid pool list: entry 2 (id 2, "Broken Pool"): a tag is empty; it would match every block
}
