package chain

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestResolveConfig(t *testing.T) {
	// "$DIR" in the case's strings stands for the case's datadir.
	tests := []struct {
		name   string
		conf   string // bitcoin.conf; "" = none
		files  map[string]string
		env    map[string]string
		in     Config // BitcoinDir "$DIR" = the temp datadir
		want   Config // compared: Host, User, Pass, CookieFile, Network
		errIs  error
		errHas string
	}{
		{
			name: "defaults: mainnet cookie in datadir root",
			in:   Config{BitcoinDir: "$DIR"},
			want: Config{Host: "127.0.0.1:8332", CookieFile: "$DIR/.cookie"},
		},
		{
			name: "no datadir at all",
			in:   Config{},
			want: Config{Host: "127.0.0.1:8332"},
		},
		{
			name: "network hint picks port and cookie subdir",
			in:   Config{BitcoinDir: "$DIR", Network: "testnet"},
			want: Config{Host: "127.0.0.1:18332", CookieFile: "$DIR/testnet3/.cookie", Network: "testnet3"},
		},
		{
			name: "testnet4",
			in:   Config{BitcoinDir: "$DIR", Network: "testnet4"},
			want: Config{Host: "127.0.0.1:48332", CookieFile: "$DIR/testnet4/.cookie", Network: "testnet4"},
		},
		{
			name: "conf selects signet, section overrides top level",
			conf: "signet=1\nrpcuser=top\nrpcpassword=toppass\nrpcport=1\n[signet]\nrpcuser=sig\nrpcport=39999\n",
			in:   Config{BitcoinDir: "$DIR"},
			want: Config{Host: "127.0.0.1:39999", User: "sig", Pass: "toppass", Network: "signet"},
		},
		{
			name: "top-level rpcport ignored on regtest",
			conf: "regtest=1\nrpcport=1234\n",
			in:   Config{BitcoinDir: "$DIR"},
			want: Config{Host: "127.0.0.1:18443", CookieFile: "$DIR/regtest/.cookie", Network: "regtest"},
		},
		{
			name: "top-level rpcport used on mainnet",
			conf: "rpcport=1234\n",
			in:   Config{BitcoinDir: "$DIR"},
			want: Config{Host: "127.0.0.1:1234", CookieFile: "$DIR/.cookie"},
		},
		{
			name: "rpcconnect with port; rpcport beats it",
			conf: "rpcconnect=192.168.1.5:7777\n",
			in:   Config{BitcoinDir: "$DIR"},
			want: Config{Host: "192.168.1.5:7777", CookieFile: "$DIR/.cookie"},
		},
		{
			name: "rpcport beats port in rpcconnect",
			conf: "rpcconnect=192.168.1.5:7777\nrpcport=8888\n",
			in:   Config{BitcoinDir: "$DIR"},
			want: Config{Host: "192.168.1.5:8888", CookieFile: "$DIR/.cookie"},
		},
		{
			name: "ipv6 rpcconnect",
			conf: "rpcconnect=[::1]\n",
			in:   Config{BitcoinDir: "$DIR"},
			want: Config{Host: "[::1]:8332", CookieFile: "$DIR/.cookie"},
		},
		{
			name: "rpccookiefile relative to network dir",
			conf: "testnet=1\nrpccookiefile=auth/cookie\n",
			in:   Config{BitcoinDir: "$DIR"},
			want: Config{Host: "127.0.0.1:18332", CookieFile: "$DIR/testnet3/auth/cookie", Network: "testnet3"},
		},
		{
			name: "includeconf",
			conf: "includeconf=extra.conf\n",
			files: map[string]string{
				"extra.conf": "rpcuser=inc\nrpcpassword=incpass\n",
			},
			in:   Config{BitcoinDir: "$DIR"},
			want: Config{Host: "127.0.0.1:8332", User: "inc", Pass: "incpass"},
		},
		{
			name:  "missing includeconf",
			conf:  "includeconf=nope.conf\n",
			in:    Config{BitcoinDir: "$DIR"},
			errIs: ErrBadConfig, errHas: "bitcoin.conf:1",
		},
		{
			name: "umbrel environment",
			env: map[string]string{
				"APP_BITCOIN_NODE_IP": "10.21.21.8", "APP_BITCOIN_RPC_PORT": "8332",
				"APP_BITCOIN_RPC_USER": "umbrel", "APP_BITCOIN_RPC_PASS": "moneyprintergobrrr",
			},
			conf: "rpcuser=conf\nrpcpassword=confpass\nrpcport=1\nrpcconnect=1.2.3.4\n",
			in:   Config{BitcoinDir: "$DIR"},
			want: Config{Host: "10.21.21.8:8332", User: "umbrel", Pass: "moneyprintergobrrr"},
		},
		{
			name: "explicit fields beat umbrel and conf",
			env: map[string]string{
				"APP_BITCOIN_NODE_IP": "10.21.21.8", "APP_BITCOIN_RPC_PORT": "8332",
				"APP_BITCOIN_RPC_USER": "umbrel", "APP_BITCOIN_RPC_PASS": "x",
			},
			conf: "rpcuser=conf\nrpcpassword=confpass\n",
			in:   Config{BitcoinDir: "$DIR", Host: "node.local:9000", User: "me", Pass: "mine"},
			want: Config{Host: "node.local:9000", User: "me", Pass: "mine"},
		},
		{
			name: "explicit host without port takes the conf port",
			conf: "rpcport=9999\n",
			in:   Config{BitcoinDir: "$DIR", Host: "node.local"},
			want: Config{Host: "node.local:9999", CookieFile: "$DIR/.cookie"},
		},
		{
			name: "explicit cookie beats conf password",
			conf: "rpcuser=conf\nrpcpassword=confpass\n",
			in:   Config{BitcoinDir: "$DIR", CookieFile: "/run/bitcoind/.cookie"},
			want: Config{Host: "127.0.0.1:8332", CookieFile: "/run/bitcoind/.cookie"},
		},
		{
			name: "explicit user with conf password",
			conf: "rpcuser=conf\nrpcpassword=confpass\n",
			in:   Config{BitcoinDir: "$DIR", User: "me"},
			want: Config{Host: "127.0.0.1:8332", User: "me", Pass: "confpass"},
		},
		{
			name:   "hint disagrees with conf",
			conf:   "testnet=1\n",
			in:     Config{BitcoinDir: "$DIR", Network: "signet"},
			errIs:  ErrBadConfig,
			errHas: "signet",
		},
		{
			name: "hint agrees with conf",
			conf: "chain=signet\n",
			in:   Config{BitcoinDir: "$DIR", Network: "signet"},
			want: Config{Host: "127.0.0.1:38332", CookieFile: "$DIR/signet/.cookie", Network: "signet"},
		},
		{
			name:   "unknown network",
			in:     Config{Network: "dogecoin"},
			errHas: "unknown network",
		},
		{
			name:   "missing datadir",
			in:     Config{BitcoinDir: "$DIR/nope"},
			errHas: "--bitcoin-dir",
		},
		{
			name:   "bad port",
			in:     Config{Host: "node:http"},
			errHas: "not a port",
		},
		{
			name:   "https",
			in:     Config{Host: "https://node:8332"},
			errHas: "TLS",
		},
		{
			name:   "malformed conf",
			conf:   "server=1\nrpcuser\n",
			in:     Config{BitcoinDir: "$DIR"},
			errIs:  ErrBadConfig,
			errHas: "bitcoin.conf:2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			expand := func(s string) string { return filepath.FromSlash(strings.ReplaceAll(s, "$DIR", dir)) }
			if tt.conf != "" {
				writeFile(t, filepath.Join(dir, "bitcoin.conf"), tt.conf)
			}
			for name, text := range tt.files {
				writeFile(t, filepath.Join(dir, name), text)
			}
			in := tt.in
			in.BitcoinDir = expand(in.BitcoinDir)
			env := func(k string) string { return tt.env[k] }

			got, err := ResolveConfig(in, env)
			if tt.errIs != nil || tt.errHas != "" {
				if err == nil || (tt.errIs != nil && !errors.Is(err, tt.errIs)) ||
					!strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("err = %v, want %v containing %q", err, tt.errIs, tt.errHas)
				}
				return
			}
			if err != nil {
				t.Fatalf("ResolveConfig: %v", err)
			}
			want := tt.want
			want.CookieFile = expand(want.CookieFile)
			if got.Host != want.Host || got.User != want.User || got.Pass != want.Pass ||
				got.CookieFile != want.CookieFile || got.Network != want.Network {
				t.Errorf("got  host=%q user=%q pass=%q cookie=%q network=%q\n"+
					"want host=%q user=%q pass=%q cookie=%q network=%q",
					got.Host, got.User, got.Pass, got.CookieFile, got.Network,
					want.Host, want.User, want.Pass, want.CookieFile, want.Network)
			}
		})
	}
}

// TestResolveConfigDefaultDatadir: with no --bitcoin-dir, Core's default
// datadir is used, and datadir= in its bitcoin.conf moves the data.
func TestResolveConfigDefaultDatadir(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("default datadir layout tested on linux")
	}
	home := t.TempDir()
	data := t.TempDir()
	writeFile(t, filepath.Join(home, ".bitcoin", "bitcoin.conf"), "testnet=1\ndatadir="+data+"\n")
	env := func(k string) string {
		if k == "HOME" {
			return home
		}
		return ""
	}
	got, err := ResolveConfig(Config{}, env)
	if err != nil {
		t.Fatal(err)
	}
	if got.BitcoinDir != data || got.CookieFile != filepath.Join(data, "testnet3", ".cookie") {
		t.Errorf("datadir %q cookie %q", got.BitcoinDir, got.CookieFile)
	}

	// An explicit datadir is not moved by its bitcoin.conf.
	dir := filepath.Join(home, ".bitcoin")
	got, err = ResolveConfig(Config{BitcoinDir: dir}, env)
	if err != nil {
		t.Fatal(err)
	}
	if got.BitcoinDir != dir || got.CookieFile != filepath.Join(dir, "testnet3", ".cookie") {
		t.Errorf("explicit: datadir %q cookie %q", got.BitcoinDir, got.CookieFile)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestReadCookie(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		text, user, pass string
		ok               bool
	}{
		{"__cookie__:abc123", "__cookie__", "abc123", true},
		{"__cookie__:abc123\n", "__cookie__", "abc123", true},
		{"user:pa:ss", "user", "pa:ss", true},
		{"garbage", "", "", false},
	}
	for i, tt := range tests {
		path := filepath.Join(dir, "c"+string(rune('0'+i)))
		writeFile(t, path, tt.text)
		user, pass, err := readCookie(path)
		if (err == nil) != tt.ok || user != tt.user || pass != tt.pass {
			t.Errorf("%q: %q %q %v", tt.text, user, pass, err)
		}
	}
}
