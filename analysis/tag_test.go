package analysis

import (
	"encoding/hex"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestCoinbaseTagMainnet checks the tags of real coinbases. The expected
// texts were read off the scriptSig bytes by hand, following the rules in
// CoinbaseTag's documentation; the comments show the decisive bytes.
func TestCoinbaseTagMainnet(t *testing.T) {
	tests := []struct {
		kind   string
		height int32
		want   string
	}{
		// 03 dea707 | 05 5a478cb801 | b8 (OP_NOP9) then raw 01 00 00 'n' ...
		{"block", 501726, ""},
		// 03 e0a707 | 17 "Mined by AntPooln" 06 " ZG" 8f "G" | b1 raw "C<"
		{"block", 501728, "Mined by AntPooln"},
		// 19 "/ViaBTC/Mined by buzz120/" | 2c fabe6d6d… | 10 X a4 c9 … ã … I
		{"tx", 840000, "/ViaBTC/Mined by buzz120/"},
		// 2c fabe6d6d… 10000000 🐟 | 09 "/F2Pool/s" | OP_0… | 05 00 "g?" 08 "K"
		{"tx", 877777, "/F2Pool/s"},
		// 1d "Powered by Luxor Tech$" 00 "2" 02 "8Ҏ" bc | fa… raw
		{"tx", 877780, "Powered by Luxor Tech$"},
		// 04 84397967 (a number) | 2f: a 47-byte push that does not fit, so
		// raw: "/Foundry USA Pool #dropgold/#DV" df "=ao" 00…
		{"tx", 877792, "/Foundry USA Pool #dropgold/#DV =ao"},
		// 1c "Mined by AntPool959M" 00 "k" … | fa… raw 08 … f8 "`" 8d "m"
		{"tx", 890688, "Mined by AntPool959M"},
		// 10 "binance/}" 00 ac 03 "h" c0 b3 ";" | fa… raw … "7" …
		{"sig", 966077, "binance/}"},
		{"sig", 966078, "/ViaBTC/Mined by ecgbtc/"},
		// 04 a806a06a | 7c (OP_SWAP): raw text, with regional indicators
		{"sig", 966079, "| MARA Made in USA 🇺🇸 |v05"},
		{"sig", 966080, "Mined by AntPool959"},
		{"sig", 966081, "/Foundry USA Pool #dropgold/"},
		{"sig", 966082, "/Foundry USA Pool #dropgold/"},
		// 2c fabe6d6d… | 0c "/f2pool.kz/c" | …
		{"sig", 966083, "/ViaBTC/"},
		{"sig", 966084, "/f2pool.kz/c"},
		{"sig", 966085, "/Foundry USA Pool #dropgold/*"},
		// 19 "Mined by AntPool " 00 00 "#" 00 8b "O" a0 "!": trimmed
		{"sig", 966086, "Mined by AntPool"},
		// 9c (OP_NUMEQUALVERIFY): raw "h" db "," ab … "+" … "/NiceHashMining/"
		{"sig", 966087, "/NiceHashMining/"},
		{"sig", 966088, "/F2Pool/e"},
	}
	for _, tc := range tests {
		f := fixtureAt(t, tc.kind, tc.height)
		if got := CoinbaseTag(f.sig); got != tc.want {
			t.Errorf("%s %d: tag %q, want %q", tc.kind, tc.height, got,
				tc.want)
		}
	}
}

// TestCoinbaseTagRules checks each rule on crafted scriptSigs.
func TestCoinbaseTagRules(t *testing.T) {
	tests := []struct {
		name, sig, want string
	}{
		{"empty", "", ""},
		{"height only", "03a0bb0d", ""},
		{"small-number height", "51", ""},
		{"text push", "03a0bb0d" + "06" + hexOf("/pool/"), "/pool/"},
		{"four-byte push is a number", "03a0bb0d" + "04" + hexOf("abcd"), ""},
		{"five-byte push is text", "03a0bb0d" + "05" + hexOf("abcde"), "abcde"},
		{"pushdata1", "4c03" + hexOf("xyz") + "4c05" + hexOf("hello"), "hello"},
		{"pushdata2", "4d0500" + hexOf("hello"), "hello"},
		{"pushdata4", "4e05000000" + hexOf("hello"), "hello"},
		{"pushdata4 too long", "4effffffff" + hexOf("hello"), "hello"},
		// The length byte 0x45 is 'E' but is not text.
		{"push length byte", "45" + hexOf(strings.Repeat("x", 69)),
			strings.Repeat("x", 69)},
		{"pushes are separate runs", "06" + hexOf("abcdef") + "06" + hexOf("ghijkl"),
			"abcdef ghijkl"},
		{"raw after a non-push", "03a0bb0d" + "ff" + hexOf("Mined by X"),
			"Mined by X"},
		{"truncated push is raw", "03a0bb0d" + hexOf("/slush/"), "/slush/"},
		{"short runs dropped", "ff" + hexOf("ab") + "00" + hexOf("cde"), "cde"},
		{"trimmed before counting", "ff" + hexOf("  ab  ") + "00" + hexOf(" x y "),
			"x y"},
		{"inner spaces kept", "ff" + hexOf("a  b"), "a  b"},
		{"merged mining hash skipped", "ff" + hexOf("tag") + "fabe6d6d" +
			hexOf(strings.Repeat("Z", 32)) + hexOf("after"), "tag after"},
		{"merged mining at the end", "ff" + hexOf("tag") + "fabe6d6d" + hexOf("ZZZ"),
			"tag"},
		{"utf-8", "ff" + hexOf("七彩神仙鱼"), "七彩神仙鱼"},
		{"utf-8 counts characters", "ff" + hexOf("鱼鱼") + "00" + hexOf("🐟🐟🐟"),
			"🐟🐟🐟"},
		{"invalid utf-8 breaks runs", "ff" + hexOf("abc") + "c3" + hexOf("def"),
			"abc def"},
		{"replacement character is not text", "ff" + hexOf("ab\uFFFDcd"), ""},
		{"controls break runs", "ff" + hexOf("abc\tdef\x7fghi"), "abc def ghi"},
	}
	for _, tc := range tests {
		sig, err := hex.DecodeString(tc.sig)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := CoinbaseTag(sig); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// hexOf is s as hex.
func hexOf(s string) string {
	return hex.EncodeToString([]byte(s))
}

// FuzzCoinbaseTag checks the properties every tag has: valid, printable,
// trimmed text no longer than the input whose characters all come from the
// input in order, the same on every call. The seeds in
// testdata/fuzz/FuzzCoinbaseTag are real and crafted scriptSigs.
func FuzzCoinbaseTag(f *testing.F) {
	f.Add([]byte{})
	for _, fx := range loadFixtures(f) {
		f.Add(fx.sig)
	}
	m, err := NewMatcher(DefaultPools(), Mainnet)
	if err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, sig []byte) {
		tag := CoinbaseTag(sig)
		checkTag(t, sig, tag)
		if again := CoinbaseTag(sig); again != tag {
			t.Fatalf("%q then %q", tag, again)
		}
		a := m.Attribute(&CoinbaseRecord{ScriptSig: sig})
		if a.Match == MatchAddress {
			t.Fatalf("address match without outputs: %+v", a)
		}
	})
}

// checkTag checks the properties of tag, the tag of sig.
func checkTag(t *testing.T, sig []byte, tag string) {
	t.Helper()
	if !utf8.ValidString(tag) || len(tag) > len(sig) ||
		strings.TrimSpace(tag) != tag {
		t.Fatalf("tag %q of %x: invalid, too long or untrimmed", tag, sig)
	}
	for _, r := range tag {
		if !unicode.IsPrint(r) || r == utf8.RuneError {
			t.Fatalf("tag %q of %x: unprintable %q", tag, sig, r)
		}
	}
	// Without the joining spaces, the tag's bytes are a subsequence of
	// the input's.
	rest := sig
	for _, b := range []byte(strings.ReplaceAll(tag, " ", "")) {
		i := indexByte(rest, b)
		if i < 0 {
			t.Fatalf("tag %q is not drawn from %x", tag, sig)
		}
		rest = rest[i+1:]
	}
}

// indexByte is bytes.IndexByte, spelled out to keep the check obvious.
func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}
