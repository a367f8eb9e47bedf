package api

import (
	"fmt"
	"math"
	"time"
)

// intervalNames lists the intervals every /:interval endpoint accepts, in
// increasing length: mempool.space's, "all" last.
var intervalNames = []string{"24h", "3d", "1w", "1m", "3m", "6m", "1y", "2y", "3y", "4y", "all"}

// errBadInterval is the 400 answer for an unknown interval.
func errBadInterval(s string) error {
	return badRequest(fmt.Sprintf("unknown interval %q; use one of 24h, 3d, 1w, 1m, 3m, 6m, 1y, 2y, 3y, 4y or all", s))
}

// intervalStart returns the start of the interval name ending at end (unix
// seconds): the interval is (start, end]. "all" starts at math.MinInt64.
func intervalStart(name string, end int64) (int64, error) {
	t := time.Unix(end, 0).UTC()
	switch name {
	case "24h":
		return end - 86400, nil
	case "3d":
		return end - 3*86400, nil
	case "1w":
		return end - 7*86400, nil
	case "1m":
		return monthsBefore(t, 1), nil
	case "3m":
		return monthsBefore(t, 3), nil
	case "6m":
		return monthsBefore(t, 6), nil
	case "1y":
		return monthsBefore(t, 12), nil
	case "2y":
		return monthsBefore(t, 24), nil
	case "3y":
		return monthsBefore(t, 36), nil
	case "4y":
		return monthsBefore(t, 48), nil
	case "all":
		return math.MinInt64, nil
	}
	return 0, errBadInterval(name)
}

// monthsBefore is t minus n calendar months as MySQL's DATE_SUB computes it:
// a day that does not exist in the target month becomes its last day
// (March 31 minus one month is February 28 or 29), where Go's AddDate would
// overflow into March.
func monthsBefore(t time.Time, n int) int64 {
	y, m, d := t.Date()
	first := time.Date(y, m-time.Month(n), 1, t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1).Unix()
}
