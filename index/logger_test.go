package index

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestBadgerLoggerLevels checks that Badger's warnings reach the log as warnings, except its periodic
// block-cache report (the format strings of badger v4's monitorCache), which is a debug message.
func TestBadgerLoggerLevels(t *testing.T) {
	var buf bytes.Buffer
	l := badgerLogger{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	l.Warningf("%s might be too small. Metrics: %s\n", "Block cache", "hit: 1 miss: 9")
	l.Warningf("Cache life expectancy (in seconds): %+v\n", "{Count:1}")
	l.Warningf("Truncate value log to %d\n", 10)
	l.Errorf("flush: %v", "disk full")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{"level=DEBUG", "level=DEBUG", "level=WARN", "level=ERROR"}
	if len(lines) != len(want) {
		t.Fatalf("%d log lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) || !strings.Contains(lines[i], "badger: ") {
			t.Errorf("line %d = %q, want %s and the badger prefix", i, lines[i], w)
		}
	}
}
