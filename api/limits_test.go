package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minerscope/minerscope/analysis"
)

// TestTimeLimits checks the answers to times no RFC 3339 string holds (before
// the year 0 through a window ending before 1970, after the year 9999 through
// ?now=) and verify/difficulty?at=, on the full mainnet index of blocks 0 to
// 14131, against the block file.
func TestTimeLimits(t *testing.T) {
	_, ts, hdrs, _ := fullServer(t, testTip+1)
	get := func(path string) (int, string) {
		status, _, body := fetch(t, http.MethodGet, ts.URL+path)
		return status, string(body)
	}
	for _, c := range []struct{ path, want string }{
		{"/api/v1/minerscope/hashrate?at=0000-01-01", "before 1970"},
		{"/api/v1/minerscope/hashrate?at=1969-12-31T23:59:59Z&window=24h", "before 1970"},
		{"/api/v1/minerscope/verify/hashrate?claim=1MH/s&at=1969-12-31&blocks=10", "before 1970"},
		{"/api/v1/minerscope/verify/difficulty?claim=1&at=1969-12-31", "before 1970"},
		{"/api/v1/minerscope/verify/adjustment?date=1969-12-31", "before 1970"},
		{"/api/v1/minerscope/verify/outflow?claim=1BTC&from=1969-12-31&to=2009-01-10", "before 1970"},
		{"/api/v1/minerscope/next-adjustment?now=1000000000000", "after the year 9999"},
		{"/api/v1/minerscope/next-adjustment?now=253402300800", "after the year 9999"}, // 10000-01-01
		{"/api/v1/difficulty-adjustment?now=253402300800", "after the year 9999"},
		{"/api/v1/minerscope/next-adjustment?now=9999-12-31T23:59:59Z", "pass the year 9999"},
		{"/api/v1/minerscope/next-adjustment?now=9999-01-01", "pass the year 9999"},
		{"/api/v1/minerscope/verify/difficulty?claim=1&at=2009-03-01&at_height=5", "exclude each other"},
		{"/api/v1/minerscope/verify/difficulty?claim=1", "?at=T"},
		// 20000 weeks overflows time.Duration; 1000000h is a valid Go duration of 114 years.
		{"/api/v1/minerscope/hashrate?window=20000w", "at most 100 years"},
		{"/api/v1/minerscope/hashrate?window=1000000h", "at most 100 years"},
		{"/api/v1/minerscope/verify/hashrate?claim=1MH/s&window=36501d", "at most 100 years"},
	} {
		if status, body := get(c.path); status != http.StatusBadRequest || !strings.Contains(body, c.want) {
			t.Errorf("GET %s: %d %s; want 400 and %q", c.path, status, body, c.want)
		}
	}

	// 1970-01-01 itself is a time: no block is stamped in the day before it.
	var est map[string]any
	getJSON(t, ts.URL+"/api/v1/minerscope/hashrate?at=1970-01-01&window=24h", &est)
	if est["window_end"] != "1970-01-01T00:00:00Z" || num(t, est["intervals"]) != 0 {
		t.Errorf("hashrate at 1970-01-01: %v", est)
	}
	// Far, but every projected date still has four digits.
	var next map[string]any
	getJSON(t, ts.URL+"/api/v1/minerscope/next-adjustment?now=9000-01-01", &next)
	for _, k := range []string{"now", "date", "date_lo", "date_hi", "halving_date", "halving_date_lo", "halving_date_hi"} {
		s, _ := next[k].(string)
		if d, err := time.Parse(time.RFC3339, s); err != nil || d.Year() < 9000 || d.Year() > 9999 {
			t.Errorf("next-adjustment now=9000-01-01: %s %q (%v)", k, s, err)
		}
	}

	// verify/difficulty?at=T judges the block in effect at T: the highest
	// height the block file has stamped at or before T.
	inEffect := func(at int64) int {
		h := -1
		for i := range hdrs {
			if hdrs[i].Timestamp.Unix() <= at {
				h = i
			}
		}
		return h
	}
	for _, at := range []int64{genesisTime, genesisTime + 86400*7, hdrs[11111].Timestamp.Unix(),
		hdrs[11111].Timestamp.Unix() - 1, hdrs[testTip].Timestamp.Unix()} {
		h := inEffect(at)
		q := url.Values{"claim": {"1"}, "at": {time.Unix(at, 0).UTC().Format(time.RFC3339)}}
		var v analysis.Verification
		getJSON(t, ts.URL+"/api/v1/minerscope/verify/difficulty?"+q.Encode(), &v)
		if v.Verdict != analysis.VerdictConsistent || v.Span.FromHeight != int32(h) || v.Chain.Value != 1 ||
			v.Span.FromTime.Unix() != hdrs[h].Timestamp.Unix() {
			b, _ := json.Marshal(v)
			t.Errorf("verify/difficulty at %d: %s; want block %d at difficulty 1", at, b, h)
		}
	}
	for _, at := range []string{"2009-01-02", fmt.Sprint(hdrs[testTip].Timestamp.Unix() + 1)} {
		var v analysis.Verification
		getJSON(t, ts.URL+"/api/v1/minerscope/verify/difficulty?claim=1&at="+at, &v)
		if v.Verdict != analysis.VerdictNotVerifiable {
			t.Errorf("verify/difficulty at %s: verdict %s, want not verifiable", at, v.Verdict)
		}
	}
}
