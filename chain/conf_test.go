package chain

import (
	"errors"
	"strings"
	"testing"
)

func parseConfText(t *testing.T, text string) (*bitcoinConf, error) {
	t.Helper()
	conf := newBitcoinConf()
	return conf, conf.parse(strings.NewReader(text), "bitcoin.conf")
}

// TestConfParseErrors: lines Bitcoin Core refuses (common/config.cpp,
// GetConfigOptions) are refused with file:line.
func TestConfParseErrors(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"no equals", "server=1\nfoo\n", "bitcoin.conf:2:"},
		{"trimmed no equals", "server=1\n\n  foo # c\n", "bitcoin.conf:3:"},
		{"half section", "[regtest\n", "bitcoin.conf:1:"},
		{"leading dash", "-rpcuser=a\n", "without a leading -"},
		{"hash in password", "rpcuser=a\nrpcpassword=se#cret\n", "bitcoin.conf:2: a # in rpcpassword"},
		{"hash in section password", "[test]\nrpcpassword=x # comment\n", "bitcoin.conf:2:"},
		{"hash in prefixed password", "test.rpcpassword=x#y\n", "bitcoin.conf:1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfText(t, tt.text)
			if !errors.Is(err, ErrBadConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrBadConfig containing %q", err, tt.want)
			}
		})
	}
}

// TestConfGet follows Core's precedence: network section beats top level,
// first occurrence wins, top-level rpcport is main-only, # starts comments.
func TestConfGet(t *testing.T) {
	const text = `
# comment line
rpcuser = alice   # trailing comment
rpcuser=ignored-second
rpcport=1111
rpcconnect=10.0.0.1
  rpcpassword =  top secret
regtest.rpcport=2222
test.rpcuser=carol
norpccookiefile=1

[test]
rpcuser=bob
rpcport=3333
[regtest]
rpcport=4444
rpcpassword=regpass
[signet]
main.rpcport=9
`
	conf, err := parseConfText(t, text)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key, section, want string
	}{
		{"rpcuser", "main", "alice"},
		{"rpcuser", "test", "carol"}, // test.rpcuser comes first in the file
		{"rpcuser", "regtest", "alice"},
		{"rpcport", "main", "1111"},
		{"rpcport", "test", "3333"},
		{"rpcport", "regtest", "2222"},
		{"rpcport", "signet", ""}, // top-level rpcport is main-only
		{"rpcport", "testnet4", ""},
		{"rpcconnect", "signet", "10.0.0.1"},
		{"rpcpassword", "main", "top secret"},
		{"rpcpassword", "regtest", "regpass"},
		{"rpccookiefile", "main", ""}, // negated
		{"missing", "main", ""},
	}
	for _, tt := range tests {
		if got := conf.str(tt.key, tt.section); got != tt.want {
			t.Errorf("%s in [%s] = %q, want %q", tt.key, tt.section, got, tt.want)
		}
	}
	if _, found, ignored := conf.get("rpcport", "signet"); found || !ignored {
		t.Errorf("top-level rpcport on signet: found=%v ignored=%v", found, ignored)
	}
}

func TestConfNetwork(t *testing.T) {
	tests := []struct {
		text, want, err string
	}{
		{"", "", ""},
		{"server=1", "", ""},
		{"testnet=1", "testnet3", ""},
		{"testnet=", "testnet3", ""}, // InterpretBool("") is true
		{"testnet=0", "", ""},
		{"testnet=1\ntestnet=0", "", ""}, // last value wins for chain options
		{"notestnet=1", "", ""},
		{"notestnet=0", "testnet3", ""}, // double negative
		{"testnet4=1", "testnet4", ""},
		{"signet=1", "signet", ""},
		{"regtest=1", "regtest", ""},
		{"chain=main", "mainnet", ""},
		{"chain=test", "testnet3", ""},
		{"chain=testnet4", "testnet4", ""},
		{"chain=regtest", "regtest", ""},
		{"[test]\nregtest=1", "", ""}, // chain options only count at top level
		{"regtest=1\ntestnet=1", "", "at most one"},
		{"chain=signet\nsignet=1", "", "at most one"},
		{"chain=bogus", "", "bitcoin.conf:1"},
	}
	for _, tt := range tests {
		conf, err := parseConfText(t, tt.text)
		if err != nil {
			t.Fatal(err)
		}
		got, err := conf.network()
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: err = %v, want %q", tt.text, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: network %q, %v; want %q", tt.text, got, err, tt.want)
		}
	}
}
