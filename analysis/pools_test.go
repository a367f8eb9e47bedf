package analysis

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
)

// upstreamSample is a few entries in the exact layout of mempool.space's
// pools-v2.json (mempool/mining-pools), including its quirks: empty lists,
// an empty link, a tag with a trailing space, non-ASCII tags and a testnet
// address in a mainnet list.
const upstreamSample = `[
  {
    "id": 24,
    "name": "EclipseMC",
    "addresses": [
      "15xiShqUqerfjFdyfgBH1K7Gwp6cbYmsTW",
      "18M9o2mXNjNR96yKe7eyY6pfP6Nx4Nso3d"
    ],
    "tags": [
      "EMC ",
      "EMC:"
    ],
    "link": "https://eclipsemc.com"
  },
  {
    "id": 36,
    "name": "F2Pool",
    "addresses": [
      "1KFHE7w8BhaENAswwryaoccDb6qcT6DbYY",
      "bc1qf274x7penhcd8hsv3jcmwa5xxzjl2a6pa9pxwm"
    ],
    "tags": [
      "七彩神仙鱼",
      "F2Pool",
      "🐟"
    ],
    "link": "https://www.f2pool.com"
  },
  {
    "id": 79,
    "name": "BTPOOL",
    "addresses": [],
    "tags": [
      "/BTPOOL/"
    ],
    "link": ""
  },
  {
    "id": 144,
    "name": "wiz",
    "addresses": [
      "1wizSAYSbuyXbt9d8JV8ytm5acqq2TorC",
      "tb1q548z58kqvwyjqwy8vc2ntmg33d7s2wyfv7ukq4"
    ],
    "tags": [
      "/@wiz/"
    ],
    "link": "https://wiz.biz/"
  },
  {
    "id": 151,
    "name": "Carbon Negative",
    "addresses": [
      "33SAB6pzbhEGPbfY6NVgRDV7jVfspZ3A3Z"
    ],
    "tags": [],
    "link": "https://github.com/bitcoin-data/mining-pools/issues/48"
  }
]
`

// TestParsePoolsUpstream reads the upstream layout.
func TestParsePoolsUpstream(t *testing.T) {
	pools, err := ParsePools(strings.NewReader(upstreamSample))
	if err != nil {
		t.Fatal(err)
	}
	want := []Pool{
		{24, "EclipseMC", []string{"15xiShqUqerfjFdyfgBH1K7Gwp6cbYmsTW",
			"18M9o2mXNjNR96yKe7eyY6pfP6Nx4Nso3d"}, []string{"EMC ", "EMC:"},
			"https://eclipsemc.com"},
		{36, "F2Pool", []string{"1KFHE7w8BhaENAswwryaoccDb6qcT6DbYY",
			"bc1qf274x7penhcd8hsv3jcmwa5xxzjl2a6pa9pxwm"},
			[]string{"七彩神仙鱼", "F2Pool", "🐟"}, "https://www.f2pool.com"},
		{79, "BTPOOL", []string{}, []string{"/BTPOOL/"}, ""},
		{144, "wiz", []string{"1wizSAYSbuyXbt9d8JV8ytm5acqq2TorC",
			"tb1q548z58kqvwyjqwy8vc2ntmg33d7s2wyfv7ukq4"}, []string{"/@wiz/"},
			"https://wiz.biz/"},
		{151, "Carbon Negative", []string{"33SAB6pzbhEGPbfY6NVgRDV7jVfspZ3A3Z"},
			[]string{}, "https://github.com/bitcoin-data/mining-pools/issues/48"},
	}
	if !reflect.DeepEqual(pools, want) {
		t.Fatalf("got %+v\nwant %+v", pools, want)
	}
}

// TestParsePoolsErrors checks that each broken list is refused with a
// message naming the entry.
func TestParsePoolsErrors(t *testing.T) {
	tests := []struct {
		name, json, msg string
	}{
		{"empty input", ``, "not a JSON array"},
		{"object", `{"coinbase_tags": {}}`, "not a JSON array"},
		{"null", `null`, "got null"},
		{"trailing data", `[] []`, "after the array"},
		{"not an object", `["x"]`, "entry 1: not a pool object"},
		{"missing id", `[{"name":"A","addresses":[],"tags":[]}]`,
			`entry 1 ("A"): "id" is missing`},
		{"zero id", `[{"id":0,"name":"A","addresses":[],"tags":[]}]`,
			`entry 1 ("A"): id 0`},
		{"negative id", `[{"id":-3,"name":"A","addresses":[],"tags":[]}]`,
			"id -3"},
		{"huge id", `[{"id":4294967296,"name":"A","addresses":[],"tags":[]}]`,
			"id 4294967296"},
		{"fractional id", `[{"id":1.5,"name":"A","addresses":[],"tags":[]}]`,
			"entry 1: not a pool object"},
		{"string id", `[{"id":"1","name":"A","addresses":[],"tags":[]}]`,
			"entry 1: not a pool object"},
		{"missing name", `[{"id":1,"addresses":[],"tags":[]}]`,
			`entry 1 (id 1): "name" is missing`},
		{"blank name", `[{"id":1,"name":" ","addresses":[],"tags":[]}]`,
			"entry 1 (id 1, \" \"): the name is empty"},
		{"misspelt addresses", `[{"id":1,"name":"A","adresses":[],"tags":[]}]`,
			`entry 1 (id 1, "A"): "addresses" is missing`},
		{"null tags", `[{"id":1,"name":"A","addresses":[],"tags":null}]`,
			`"tags" is missing`},
		{"tag not a string", `[{"id":1,"name":"A","addresses":[],"tags":[1]}]`,
			"entry 1: not a pool object"},
		{"empty tag", `[{"id":1,"name":"A","addresses":[],"tags":[""]}]`,
			"would match every block"},
		{"blank tag", `[{"id":1,"name":"A","addresses":[],"tags":["  "]}]`,
			"would match every block"},
		{"replacement character", `[{"id":1,"name":"A","addresses":[],"tags":["a\ufffd"]}]`,
			"not valid text"},
		{"blank address", `[{"id":1,"name":"A","addresses":[""],"tags":[]}]`,
			"blank or has spaces"},
		{"address with space", `[{"id":1,"name":"A","addresses":["1abc def"],"tags":[]}]`,
			"blank or has spaces"},
		{"duplicate id", `[{"id":7,"name":"A","addresses":[],"tags":[]},
			{"id":7,"name":"B","addresses":[],"tags":[]}]`,
			"entries 1 and 2 both have id 7"},
		{"second entry", `[{"id":1,"name":"A","addresses":[],"tags":[]},
			{"id":2,"name":"B","addresses":[],"tags":[""]}]`,
			`entry 2 (id 2, "B")`},
	}
	for _, tc := range tests {
		_, err := ParsePools(strings.NewReader(tc.json))
		if !errors.Is(err, ErrBadPools) {
			t.Errorf("%s: error %v, want ErrBadPools", tc.name, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %q does not say %q", tc.name, err, tc.msg)
		}
	}
}

// TestParsePoolsLenient checks what is accepted on purpose: an empty list,
// a missing or null link, and fields the format may gain.
func TestParsePoolsLenient(t *testing.T) {
	pools, err := ParsePools(strings.NewReader(`[]`))
	if err != nil || pools == nil || len(pools) != 0 {
		t.Errorf("empty list: %v, %v", pools, err)
	}
	pools, err = ParsePools(strings.NewReader(`[
		{"id":1,"name":"A","addresses":[],"tags":["a"]},
		{"id":2,"name":"B","addresses":[],"tags":["b"],"link":null,"slug":"b"}]`))
	if err != nil || len(pools) != 2 || pools[0].Link != "" || pools[1].Link != "" {
		t.Errorf("optional link, unknown field: %+v, %v", pools, err)
	}
}

// TestDefaultPools checks the built-in list: it parses, ids are mempool's
// (kept in ascending order), every pool has a tag, every address decodes on
// mainnet, and callers get their own copy.
func TestDefaultPools(t *testing.T) {
	pools := DefaultPools()
	if len(pools) < 10 {
		t.Fatalf("only %d built-in pools", len(pools))
	}
	for i, p := range pools {
		if i > 0 && p.ID <= pools[i-1].ID {
			t.Errorf("pool %d (id %d) out of order", i, p.ID)
		}
		if len(p.Tags) == 0 || p.Link == "" {
			t.Errorf("pool %q has no tag or link", p.Name)
		}
		for _, a := range p.Addresses {
			addr, err := btcutil.DecodeAddress(a, Mainnet.AddrParams)
			if err != nil || !addr.IsForNet(Mainnet.AddrParams) {
				t.Errorf("pool %q: %q is not a mainnet address", p.Name, a)
			}
		}
	}

	pools[0].Tags[0] = "changed"
	pools[0].Name = "changed"
	if again := DefaultPools(); again[0].Tags[0] == "changed" ||
		again[0].Name == "changed" {
		t.Fatal("DefaultPools returns shared memory")
	}
}

// FuzzParsePools checks that ParsePools never panics, that whatever it
// accepts a Matcher accepts too, and that accepted lists survive a round
// trip through encoding/json unchanged. The seeds in
// testdata/fuzz/FuzzParsePools cover the upstream layout and the errors.
func FuzzParsePools(f *testing.F) {
	f.Add([]byte(upstreamSample))
	f.Add([]byte(`[]`))
	f.Add(defaultPoolsJSON)

	f.Fuzz(func(t *testing.T, data []byte) {
		pools, err := ParsePools(strings.NewReader(string(data)))
		if err != nil {
			if !errors.Is(err, ErrBadPools) {
				t.Fatalf("error %v does not wrap ErrBadPools", err)
			}
			return
		}
		if _, err := NewMatcher(pools, Mainnet); err != nil {
			t.Fatalf("NewMatcher refuses a parsed list: %v", err)
		}
		out, err := json.Marshal(pools)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParsePools(strings.NewReader(string(out)))
		if err != nil {
			t.Fatalf("round trip: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(pools, again) {
			t.Fatalf("round trip changed %+v into %+v", pools, again)
		}
	})
}
