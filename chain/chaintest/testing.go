package chaintest

import (
	"context"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
)

// testStartTimeout bounds building btcd, importing the mainnet template and
// starting the node in the test helpers.
const testStartTimeout = 5 * time.Minute

// StartMainnet starts a btcd mainnet node holding the real blocks 0-14131
// (tip MainnetTipHeight) in its own copy of the data directory, so the test
// may mutate it. The node is stopped and its directory removed when the test
// ends, pass or fail.
func StartMainnet(t testing.TB) *Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testStartTimeout)
	defer cancel()

	tmpl, err := MainnetTemplate(ctx, t.Logf)
	if err != nil {
		t.Fatalf("mainnet template: %v", err)
	}
	dir := t.TempDir()
	if err := CopyDataDir(dir, tmpl); err != nil {
		t.Fatalf("copy mainnet template: %v", err)
	}
	return startForTest(t, ctx, Options{
		Net:     &chaincfg.MainNetParams,
		DataDir: dir,
	})
}

// StartSimnet starts an empty btcd simnet node (tip: genesis) that pays
// generated blocks to MiningAddress. It is stopped and its directory removed
// when the test ends, pass or fail.
func StartSimnet(t testing.TB) *Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testStartTimeout)
	defer cancel()

	return startForTest(t, ctx, Options{
		Net:     &chaincfg.SimNetParams,
		DataDir: t.TempDir(),
	})
}

// startForTest starts a node and registers its shutdown. The data directory
// must come from t.TempDir before this call, so that its removal runs after
// the shutdown registered here.
func startForTest(t testing.TB, ctx context.Context, opts Options) *Node {
	t.Helper()
	opts.Logf = t.Logf
	n, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("start btcd: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("btcd output tail (%s):\n%s", n.OutputPath(),
				n.outputTail(0))
		}
		if err := n.Stop(); err != nil {
			t.Errorf("stop btcd: %v", err)
		}
	})
	return n
}
