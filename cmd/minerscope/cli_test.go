package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/minerscope/minerscope/chain/chaintest"
)

// cliResult is what one minerscope invocation printed and its exit code.
type cliResult struct {
	Stdout, Stderr string
	Code           int
}

// runCLI runs the real root command in-process with args and returns its output and exit code, as main would.
// The environment is empty unless env is given, so the developer's MINERSCOPE_* variables cannot leak in.
func runCLI(t testing.TB, env map[string]string, args ...string) cliResult {
	t.Helper()
	var out, errOut bytes.Buffer
	g := &globalOptions{stdout: &out, stderr: &errOut, getenv: func(k string) string { return env[k] }}
	root := newRootCommandWith(g)
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := root.ExecuteContext(ctx)
	if err != nil {
		errOut.WriteString("minerscope: " + err.Error() + "\n")
	}
	return cliResult{Stdout: out.String(), Stderr: errOut.String(), Code: exitCode(err)}
}

// nodeArgs are the flags that reach node n with an index in dir.
func nodeArgs(n *chaintest.Node, dir string) []string {
	return []string{"--node", n.RPCAddr, "--rpcuser", n.User, "--rpcpassword", n.Pass, "--index", dir}
}

// mustRun runs the CLI and fails the test unless it exits 0.
func mustRun(t testing.TB, args ...string) cliResult {
	t.Helper()
	r := runCLI(t, nil, args...)
	if r.Code != 0 {
		t.Fatalf("minerscope %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return r
}

// decodeJSON decodes s into v or fails the test.
func decodeJSON(t testing.TB, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decode JSON: %v\n%s", err, s)
	}
}

// nodeCall calls the node's RPC directly (independently of the code under test) and decodes the reply.
func nodeCall(t testing.TB, n *chaintest.Node, v any, method string, params ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	raw, err := n.Call(ctx, method, params...)
	if err != nil {
		t.Fatalf("%s %v: %v", method, params, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s %v: decode %s: %v", method, params, raw, err)
	}
}
