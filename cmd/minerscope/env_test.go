package main

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/minerscope/minerscope/chain/chaintest"
)

// TestConnectionFromEnvironment reaches a real node through each way a self-hoster configures it: the
// MINERSCOPE_* variables, Umbrel's APP_BITCOIN_* variables, and a bitcoind data directory's bitcoin.conf.
func TestConnectionFromEnvironment(t *testing.T) {
	n := chaintest.StartMainnet(t)
	host, port, err := net.SplitHostPort(n.RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	datadir := t.TempDir()
	conf := "# written by the test\nrpcuser=" + n.User + "\nrpcpassword=" + n.Pass + "\nrpcconnect=" + host + "\n[main]\nrpcport=" + port + "\n"
	if err := os.WriteFile(filepath.Join(datadir, "bitcoin.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"MINERSCOPE_ variables", map[string]string{
			"MINERSCOPE_NODE": n.RPCAddr, "MINERSCOPE_RPCUSER": n.User, "MINERSCOPE_RPCPASSWORD": n.Pass,
		}, nil},
		{"Umbrel variables", map[string]string{
			"APP_BITCOIN_NODE_IP": host, "APP_BITCOIN_RPC_PORT": port,
			"APP_BITCOIN_RPC_USER": n.User, "APP_BITCOIN_RPC_PASS": n.Pass,
		}, nil},
		{"bitcoin.conf", nil, []string{"--bitcoin-dir", datadir}},
		{"MINERSCOPE_BITCOIN_DIR", map[string]string{"MINERSCOPE_BITCOIN_DIR": datadir}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{"MINERSCOPE_INDEX": t.TempDir(), "HOME": t.TempDir()}
			for k, v := range c.env {
				env[k] = v
			}
			r := runCLI(t, env, append([]string{"index", "--quiet"}, c.args...)...)
			if r.Code != 0 {
				t.Fatalf("exit %d: %s", r.Code, r.Stderr)
			}
			r = runCLI(t, env, append([]string{"status", "--json"}, c.args...)...)
			var st statusReport
			decodeJSON(t, r.Stdout, &st)
			if st.IndexHeight != chaintest.MainnetTipHeight || st.Network != "mainnet" || st.NodeHeight == nil ||
				*st.NodeHeight != chaintest.MainnetTipHeight || *st.BehindBlocks != 0 {
				t.Fatalf("status after index: %+v (stderr %s)", st, r.Stderr)
			}
		})
	}

	// A wrong password from the environment is refused like one from a flag.
	r := runCLI(t, map[string]string{"MINERSCOPE_NODE": n.RPCAddr, "MINERSCOPE_RPCUSER": n.User,
		"MINERSCOPE_RPCPASSWORD": "nope", "MINERSCOPE_INDEX": t.TempDir()}, "index")
	if r.Code != exitNodeAuth {
		t.Fatalf("wrong password from env: exit %d, want %d: %s", r.Code, exitNodeAuth, r.Stderr)
	}
}
