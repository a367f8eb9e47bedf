package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseWindow parses a window length: a positive whole number followed by s, m, h, d or w ("24h", "7d", "2w").
// Go durations ("36h30m") are accepted too.
func parseWindow(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, usagef("empty window; use a length like 24h, 7d or 30d")
	}
	units := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}
	if u, ok := units[s[len(s)-1]]; ok {
		if n, err := strconv.ParseInt(s[:len(s)-1], 10, 64); err == nil {
			if n <= 0 || n > 100*365 {
				return 0, usagef("window %q out of range; use a length like 24h, 7d or 30d", s)
			}
			return time.Duration(n) * u, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d%time.Second != 0 {
		return 0, usagef("bad window %q; use a length like 24h, 7d or 30d", s)
	}
	return d, nil
}

// parseTime parses a UTC instant: RFC 3339 ("2025-10-15T00:00:00Z", offsets allowed and converted to UTC),
// a date alone ("2025-10-15", meaning 00:00:00 UTC), or a unix timestamp in seconds.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.UTC(), nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, usagef("bad time %q; use 2025-10-15, 2025-10-15T12:00:00Z or a unix timestamp", s)
}

// fmtWindow prints a duration in the units parseWindow accepts.
func fmtWindow(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	default:
		return d.String()
	}
}
