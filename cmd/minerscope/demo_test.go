package main

import (
	"strings"
	"testing"
)

// TestDemo runs `minerscope demo` end to end: build btcd, import the real mainnet blocks, serve, index, report.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo imports 14,132 blocks")
	}
	r := runCLI(t, nil, "demo", "--quiet")
	if r.Code != 0 {
		t.Fatalf("demo: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	for _, want := range []string{
		"== status ==", "index tip        height 14131  00000000b3e750f37fdb42e1018799a9f44b546d393b130b369590a072430a1c",
		"== difficulty epochs ==", "14112–14131*", "== hashrate", "95% interval", "== next adjustment ==", "height 16128",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("demo output:\n%s", r.Stdout)
	}
}
