package main

import (
	"strconv"
	"strings"
	"time"
)

// maxWindow is the longest window parseWindow accepts, 100 years (36500d): longer than the chain, and short
// enough that no time computed from it overflows.
const maxWindow = 100 * 365 * 24 * time.Hour

// parseWindow parses a window length: a positive whole number followed by s, m, h, d or w ("24h", "7d", "2w").
// Go durations ("36h30m") are accepted too. Windows longer than maxWindow are refused, as the API does.
func parseWindow(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, usagef("empty window; use a length like 24h, 7d or 30d")
	}
	tooLong := usagef("window %q out of range: at most 100 years (36500d); use a length like 24h, 7d or 30d", s)
	units := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}
	if u, ok := units[s[len(s)-1]]; ok {
		if n, err := strconv.ParseInt(s[:len(s)-1], 10, 64); err == nil {
			// Compare n with the limit in u's units, so that n * u cannot overflow.
			if n <= 0 || n > int64(maxWindow/u) {
				return 0, tooLong
			}
			return time.Duration(n) * u, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d%time.Second != 0 {
		return 0, usagef("bad window %q; use a length like 24h, 7d or 30d", s)
	}
	if d > maxWindow {
		return 0, tooLong
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

// parseAt parses the time flag a figure is computed or claimed at, as parseTime, and refuses a time before
// 1970 as the API does: no block is that old, and a window ending then could reach before the year 0,
// which no ISO 8601 time holds.
func parseAt(flag, s string) (time.Time, error) {
	t, err := parseTime(s)
	if err == nil && t.Unix() < 0 {
		return t, before1970(flag, s)
	}
	return t, err
}

// before1970 is the usage error for a time flag before 1970.
func before1970(flag, s string) error {
	return usagef("--%s %s is before 1970, long before the genesis block; give a later time", flag, strings.TrimSpace(s))
}
