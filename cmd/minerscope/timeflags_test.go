package main

import (
	"strings"
	"testing"
	"time"
)

// TestParseWindow checks the CLI's wrapper of analysis.ParseWindow (whose own table test covers the
// syntax and every unit's limit): a window, or a usage error saying what was wrong.
func TestParseWindow(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration // 0: a usage error containing msg
		msg  string
	}{
		{"7d", 7 * 24 * time.Hour, ""},
		{" 36h30m ", 36*time.Hour + 30*time.Minute, ""},
		{"36501d", 0, "out of range: at most 100 years"},
		{"36500w", 0, "out of range: at most 100 years"},
		{"7x", 0, `bad window "7x"`},
		{"-1d", 0, `bad window "-1d"`},
		{"", 0, "empty window"},
	} {
		got, err := parseWindow(c.in)
		switch {
		case c.want == 0 && (err == nil || exitCode(err) != exitUsage || !strings.Contains(err.Error(), c.msg)):
			t.Errorf("parseWindow(%q) = %v, %v; want a usage error with %q", c.in, got, err, c.msg)
		case c.want != 0 && (err != nil || got != c.want):
			t.Errorf("parseWindow(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

func TestParseAt(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1970-01-01", 0, true},
		{"1970-01-01T00:00:00Z", 0, true},
		{"0", 0, true},
		{"2009-01-03T18:15:05Z", 1231006505, true},
		{"2009-01-03T19:15:05+01:00", 1231006505, true},
		{"1969-12-31T23:59:59Z", 0, false},
		{"1970-01-01T00:59:59+01:00", 0, false},
		{"1969-12-31", 0, false},
		{"0000-01-01", 0, false},
	} {
		got, err := parseAt("at", c.in)
		switch {
		case !c.ok && (err == nil || exitCode(err) != exitUsage):
			t.Errorf("parseAt(%q) = %v, %v; want a usage error", c.in, got, err)
		case !c.ok && !contains(err.Error(), "before 1970"):
			t.Errorf("parseAt(%q): %q does not say it is before 1970", c.in, err)
		case c.ok && (err != nil || got.Unix() != c.want):
			t.Errorf("parseAt(%q) = %v, %v; want unix %d", c.in, got, err, c.want)
		}
	}
	// A negative unix timestamp is no time at all.
	if _, err := parseAt("at", "-1"); exitCode(err) != exitUsage || !contains(err.Error(), "unix timestamp") {
		t.Errorf("parseAt(-1): %v, want a usage error naming the forms", err)
	}
}
