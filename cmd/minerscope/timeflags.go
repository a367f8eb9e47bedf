package main

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/minerscope/minerscope/analysis"
)

// parseWindow parses a window length as analysis.ParseWindow does ("24h", "7d", "2w", "36h30m"; at most 100
// years), with the CLI's usage errors.
func parseWindow(s string) (time.Duration, error) {
	d, err := analysis.ParseWindow(s)
	switch {
	case err == nil:
		return d, nil
	case strings.TrimSpace(s) == "":
		return 0, usagef("empty window; use a length like 24h, 7d or 30d")
	case errors.Is(err, analysis.ErrWindowTooLong):
		return 0, usagef("window %q out of range: at most 100 years (36500d); use a length like 24h, 7d or 30d", s)
	default:
		return 0, usagef("bad window %q; use a length like 24h, 7d or 30d", s)
	}
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
