package main

import (
	"testing"
	"time"
)

func TestParseWindow(t *testing.T) {
	const day = 24 * time.Hour
	for _, c := range []struct {
		in   string
		want time.Duration // 0: a usage error
	}{
		{"24h", day},
		{"7d", 7 * day},
		{"2w", 14 * day},
		{" 30d ", 30 * day},
		{"90m", 90 * time.Minute},
		{"36h30m", 36*time.Hour + 30*time.Minute},
		{"1.5h", 90 * time.Minute},
		// 100 years of 365 days is the longest window, in every unit.
		{"36500d", 36500 * day},
		{"5214w", 5214 * 7 * day},
		{"876000h", 36500 * day},
		{"52560000m", 36500 * day},
		{"3153600000s", 36500 * day},
		{"36501d", 0},
		{"5215w", 0},
		{"876001h", 0},
		{"3153600001s", 0},
		{"876000h1s", 0},
		// 36500 weeks is 2.2e19 ns, beyond time.Duration's 9.2e18: it must not wrap around.
		{"36500w", 0},
		{"99999999999d", 0},
		{"9223372036854775807s", 0},
		{"2562047h", 0},
		{"0d", 0},
		{"-1d", 0},
		{"-24h", 0},
		{"", 0},
		{"7x", 0},
		{"week", 0},
		{"1ms", 0},
	} {
		got, err := parseWindow(c.in)
		switch {
		case c.want == 0 && err == nil:
			t.Errorf("parseWindow(%q) = %v, want a usage error", c.in, got)
		case c.want == 0 && exitCode(err) != exitUsage:
			t.Errorf("parseWindow(%q): %v exits %d, want %d", c.in, err, exitCode(err), exitUsage)
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
