package analysis

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// TestParsePrices checks accepted files, rounding by hand.
func TestParsePrices(t *testing.T) {
	tests := []struct {
		name, file string
		want       Prices
	}{
		{"rounding", "date,price_usd\n" +
			"2024-01-02,42000\n" + // 4,200,000 cents
			"2024-01-01,0.005\n" + // half a cent rounds up: 1
			"2024-01-03,0.00499999\n" + // just below half: 0
			"2024-01-04,1.23456789\n" + // 123.456789 cents: 123
			"2024-01-05,99.995\n" + // 9999.5 cents: 10000
			"2024-01-06,007.10\n", // leading zeros: 710
			Prices{"2024-01-01": 1, "2024-01-02": 4_200_000,
				"2024-01-03": 0, "2024-01-04": 123, "2024-01-05": 10_000,
				"2024-01-06": 710}},
		{"header case, quotes, CRLF, BOM", "\ufeffDATE,Price_USD\r\n" +
			"\"2009-01-03\",\"0\"\r\n\r\n2024-02-29,61000.5\r\n",
			Prices{"2009-01-03": 0, "2024-02-29": 6_100_050}},
		{"header only", "date,price_usd\n", Prices{}},
	}
	for _, tc := range tests {
		got, err := ParsePrices(strings.NewReader(tc.file))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !maps.Equal(got, tc.want) || got == nil {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestParsePricesErrors checks that each bad file is refused with an error
// naming its line.
func TestParsePricesErrors(t *testing.T) {
	tests := []struct {
		name, file, want string
	}{
		{"empty", "", "empty"},
		{"no header", "2024-01-01,5\n", "line 1"},
		{"wrong header", "day,price\n", "line 1"},
		{"three columns in header", "date,price_usd,x\n", "line 1"},
		{"duplicate", "date,price_usd\n2024-01-01,5\n2024-01-02,6\n" +
			"2024-01-01,5\n", "line 4: date 2024-01-01 is already on line 2"},
		{"bad date", "date,price_usd\n2024-13-01,5\n", "line 2"},
		{"29 February 2023", "date,price_usd\n2023-02-29,5\n", "line 2"},
		{"short date", "date,price_usd\n2024-1-01,5\n", "line 2"},
		{"negative", "date,price_usd\n2024-01-01,-5\n", "line 2: price \"-5\" is negative"},
		{"plus", "date,price_usd\n2024-01-01,+5\n", "line 2"},
		{"exponent", "date,price_usd\n2024-01-01,1e3\n", "line 2"},
		{"nine decimals", "date,price_usd\n2024-01-01,1.123456789\n", "line 2"},
		{"bare dot", "date,price_usd\n2024-01-01,5.\n", "line 2"},
		{"no integer part", "date,price_usd\n2024-01-01,.5\n", "line 2"},
		{"empty price", "date,price_usd\n2024-01-01,\n", "line 2"},
		{"space", "date,price_usd\n2024-01-01, 5\n", "line 2"},
		{"thousands separator", "date,price_usd\n2024-01-01,\"42,000\"\n", "line 2"},
		{"too large", "date,price_usd\n2024-01-01,92233720368547758\n", "line 2"},
		{"one column", "date,price_usd\n2024-01-01,5\n2024-01-02\n", "line 3"},
		{"three columns", "date,price_usd\n2024-01-01,5,6\n", "line 2"},
		{"bare quote", "date,price_usd\n2024-01-01,5\"\n", "line 2"},
	}
	for _, tc := range tests {
		_, err := ParsePrices(strings.NewReader(tc.file))
		if !errors.Is(err, ErrBadPriceFile) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrBadPriceFile with %q", tc.name, err,
				tc.want)
		}
	}
}

// Published addresses besides match_test.go's genesisAddr and genesisKey
// (the genesis block's public key, whose P2PKH address genesisAddr is):
// BIP 173's P2WPKH example, the Bitcoin wiki's P2SH example and a testnet
// P2PKH address.
const (
	bip173Addr = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
	p2shAddr   = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"
	testnetP2  = "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn"
)

// TestParseLabels checks accepted files: canonical encodings (lower-case
// bech32, a public key as its P2PKH address) and repeated rows.
func TestParseLabels(t *testing.T) {
	file := "Address,LABEL\n" +
		genesisAddr + ",Satoshi\n" +
		strings.ToUpper(bip173Addr) + ",\"Exchange, hot\"\n" +
		p2shAddr + ",exchange\n" +
		genesisKey + ",Satoshi\n" + // the same address, same label
		bip173Addr + ",\"Exchange, hot\"\n"
	got, err := ParseLabels(strings.NewReader(file), Mainnet)
	if err != nil {
		t.Fatal(err)
	}
	want := Labels{genesisAddr: "Satoshi", bip173Addr: "Exchange, hot",
		p2shAddr: "exchange"}
	if !maps.Equal(got, want) {
		t.Fatalf("%v, want %v", got, want)
	}

	got, err = ParseLabels(strings.NewReader("address,label\n"+testnetP2+
		",faucet\n"), Testnet3)
	if err != nil || got[testnetP2] != "faucet" {
		t.Fatalf("testnet3: %v, %v", got, err)
	}
}

// TestParseLabelsErrors checks that each bad file is refused with an error
// naming its line (both lines for a conflict).
func TestParseLabelsErrors(t *testing.T) {
	tests := []struct {
		name, file, want string
	}{
		{"empty", "", "empty"},
		{"wrong header", "addr,label\n", "line 1"},
		{"testnet address", "address,label\n" + testnetP2 + ",x\n", "line 2"},
		{"bad checksum", "address,label\n1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb,x\n",
			"line 2"},
		{"not an address", "address,label\nhello,x\n", "line 2"},
		{"empty label", "address,label\n" + genesisAddr + ",\n", "line 2"},
		{"blank label", "address,label\n" + genesisAddr + ",\"  \"\n", "line 2"},
		{"invalid UTF-8", "address,label\n" + genesisAddr + ",\xff\n", "line 2"},
		{"conflict", "address,label\n" + genesisAddr + ",a\n" + p2shAddr +
			",b\n" + genesisKey + ",c\n", "line 4"},
		{"one column", "address,label\n" + genesisAddr + "\n", "line 2"},
	}
	for _, tc := range tests {
		_, err := ParseLabels(strings.NewReader(tc.file), Mainnet)
		if !errors.Is(err, ErrBadLabelFile) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrBadLabelFile with %q", tc.name, err,
				tc.want)
		}
	}

	_, err := ParseLabels(strings.NewReader("address,label\n"+genesisAddr+
		",a\n"+genesisAddr+",b\n"), Mainnet)
	if err == nil || !strings.Contains(err.Error(), "line 3") ||
		!strings.Contains(err.Error(), "line 2") {
		t.Errorf("conflict names both lines: %v", err)
	}
	if _, err := ParseLabels(strings.NewReader("address,label\n"), Params{}); !errors.Is(err, ErrBadParams) {
		t.Errorf("zero params: %v", err)
	}
}

// writeCSV writes a header and the rows of m sorted by key, each value
// formatted by f.
func writeCSV[V any](header []string, m map[string]V, f func(V) string) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(header)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		w.Write([]string{k, f(m[k])})
	}
	w.Flush()
	return buf.Bytes()
}

// FuzzParsePrices checks that ParsePrices never panics, that its errors
// wrap ErrBadPriceFile, and that accepted files survive a round trip
// through a CSV of whole cents unchanged.
func FuzzParsePrices(f *testing.F) {
	f.Add([]byte("date,price_usd\n2024-01-02,42000.17\n2024-01-01,0.005\n"))
	f.Add([]byte("\ufeffDate,Price_usd\r\n\"2010-07-18\",\"0.0858\"\r\n"))
	f.Add([]byte("date,price_usd\n2024-01-01,5\n2024-01-01,6\n"))
	f.Add([]byte("date,price_usd\n2024-02-30,1.123456789\n"))
	f.Add([]byte(""))

	f.Fuzz(func(t *testing.T, data []byte) {
		prices, err := ParsePrices(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrBadPriceFile) {
				t.Fatalf("error %v does not wrap ErrBadPriceFile", err)
			}
			return
		}
		out := writeCSV([]string{"date", "price_usd"}, prices,
			func(c int64) string {
				return fmt.Sprintf("%d.%02d", c/100, c%100)
			})
		again, err := ParsePrices(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("round trip: %v\n%s", err, out)
		}
		if !maps.Equal(prices, again) {
			t.Fatalf("round trip changed %v into %v", prices, again)
		}
	})
}

// FuzzParseLabels checks that ParseLabels never panics, that its errors
// wrap ErrBadLabelFile, that every accepted address is canonical on
// mainnet, and that accepted files survive a round trip unchanged.
func FuzzParseLabels(f *testing.F) {
	f.Add([]byte("address,label\n" + genesisAddr + ",Satoshi\n" +
		strings.ToUpper(bip173Addr) + ",\"Exchange, \"\"hot\"\"\"\n"))
	f.Add([]byte("address,label\n" + genesisKey + ",a\n" + genesisAddr +
		",b\n"))
	f.Add([]byte("address,label\n" + testnetP2 + ", leading space\n"))
	f.Add([]byte("ADDRESS,Label\r\n" + p2shAddr + ",\"multi\nline\"\r\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		labels, err := ParseLabels(bytes.NewReader(data), Mainnet)
		if err != nil {
			if !errors.Is(err, ErrBadLabelFile) {
				t.Fatalf("error %v does not wrap ErrBadLabelFile", err)
			}
			return
		}
		for addr := range labels {
			if c, err := canonicalAddress(addr, Mainnet); err != nil || c != addr {
				t.Fatalf("%q is not canonical: %q, %v", addr, c, err)
			}
		}
		out := writeCSV([]string{"address", "label"}, labels,
			func(s string) string { return s })
		again, err := ParseLabels(bytes.NewReader(out), Mainnet)
		if err != nil {
			t.Fatalf("round trip: %v\n%s", err, out)
		}
		if !maps.Equal(labels, again) {
			t.Fatalf("round trip changed %q into %q", labels, again)
		}
	})
}
