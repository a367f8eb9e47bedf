package analysis

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// MaxWindow is the longest window ParseWindow accepts, 100 years (36500d):
// longer than the chain, and short enough that no time computed from it
// overflows.
const MaxWindow = 100 * 365 * 24 * time.Hour

var (
	// ErrWindowSyntax is returned by ParseWindow for text that is no
	// window length.
	ErrWindowSyntax = errors.New("not a window length")

	// ErrWindowTooLong is returned by ParseWindow for a window longer than
	// MaxWindow.
	ErrWindowTooLong = errors.New("window longer than 100 years")
)

// windowUnits are the units of a window written as a whole number and a
// letter.
var windowUnits = map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour,
	'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}

// ParseWindow parses a window length, as --window and ?window= take it: a
// positive whole number followed by s, m, h, d or w ("24h", "7d", "2w"), or a
// Go duration of whole seconds ("36h30m"), surrounding spaces ignored. It
// fails with ErrWindowSyntax, or ErrWindowTooLong past MaxWindow, checked
// so that no multiplication overflows.
func ParseWindow(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, ErrWindowSyntax
	}
	if u, ok := windowUnits[s[len(s)-1]]; ok {
		if n, err := strconv.ParseInt(s[:len(s)-1], 10, 64); err == nil {
			switch {
			case n <= 0:
				return 0, ErrWindowSyntax
			case n > int64(MaxWindow/u): // n * u cannot overflow below this
				return 0, ErrWindowTooLong
			}
			return time.Duration(n) * u, nil
		}
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil, d <= 0, d%time.Second != 0:
		return 0, ErrWindowSyntax
	case d > MaxWindow:
		return 0, ErrWindowTooLong
	}
	return d, nil
}
