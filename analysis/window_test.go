package analysis

import (
	"errors"
	"testing"
	"time"
)

func TestParseWindow(t *testing.T) {
	const day = 24 * time.Hour
	for _, c := range []struct {
		in   string
		want time.Duration
		err  error
	}{
		{"24h", day, nil},
		{"7d", 7 * day, nil},
		{"2w", 14 * day, nil},
		{" 30d ", 30 * day, nil},
		{"90m", 90 * time.Minute, nil},
		{"36h30m", 36*time.Hour + 30*time.Minute, nil},
		{"1.5h", 90 * time.Minute, nil},
		// 100 years of 365 days (3,153,600,000 s) is the longest window, in every unit.
		{"36500d", 36500 * day, nil},
		{"5214w", 5214 * 7 * day, nil},
		{"876000h", 36500 * day, nil},
		{"52560000m", 36500 * day, nil},
		{"3153600000s", 36500 * day, nil},
		{"36501d", 0, ErrWindowTooLong},
		{"5215w", 0, ErrWindowTooLong},
		{"876001h", 0, ErrWindowTooLong},
		{"3153600001s", 0, ErrWindowTooLong},
		{"876000h1s", 0, ErrWindowTooLong},
		// 36500 weeks is 2.2e19 ns and 20000 weeks 1.2e19, beyond time.Duration's 9.2e18: neither
		// may wrap around to a short or negative window.
		{"36500w", 0, ErrWindowTooLong},
		{"20000w", 0, ErrWindowTooLong},
		{"99999999999d", 0, ErrWindowTooLong},
		{"9223372036854775807s", 0, ErrWindowTooLong},
		{"0d", 0, ErrWindowSyntax},
		{"-1d", 0, ErrWindowSyntax},
		{"-24h", 0, ErrWindowSyntax},
		{"", 0, ErrWindowSyntax},
		{"  ", 0, ErrWindowSyntax},
		{"7x", 0, ErrWindowSyntax},
		{"week", 0, ErrWindowSyntax},
		{"1ms", 0, ErrWindowSyntax},
		{"3000000h30m", 0, ErrWindowSyntax}, // overflows time.ParseDuration itself
	} {
		got, err := ParseWindow(c.in)
		if got != c.want || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("ParseWindow(%q) = %v, %v; want %v, %v", c.in, got, err, c.want, c.err)
		}
	}
}
