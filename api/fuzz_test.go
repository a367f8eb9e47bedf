package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/index"
)

// fuzzBlocks is how many mainnet blocks the fuzz index holds: past the
// first retarget (2016) and the first coinbase spends (block 170 on).
const fuzzBlocks = 2100

// maxFuzzSegment and maxFuzzQuery bound the fuzzed path segment and query.
const (
	maxFuzzSegment = 48
	maxFuzzQuery   = 192
)

// fuzzRoutes are the endpoints FuzzQueryParams sends requests to; "{}" is
// where the fuzzed path segment goes.
var fuzzRoutes = []string{
	"/api/v1/mining/hashrate/{}",
	"/api/v1/mining/difficulty-adjustments/{}",
	"/api/v1/mining/pools/{}",
	"/api/v1/mining/blocks/rewards/{}",
	"/api/v1/minerscope/hashrate/series/{}",
	"/api/v1/minerscope/pools/{}",
	"/api/v1/minerscope/outflows/{}",
	"/api/v1/minerscope/verify/{}",
	"/api/v1/difficulty-adjustment",
	"/api/v1/mining/difficulty-adjustments",
	"/api/v1/minerscope/status",
	"/api/v1/minerscope/hashrate",
	"/api/v1/minerscope/epochs",
	"/api/v1/minerscope/next-adjustment",
	"/api/v1/minerscope/reserve",
}

// FuzzQueryParams sends GET requests with a fuzzed path segment (an
// interval, or a verify kind) and a fuzzed raw query string to the endpoint
// route picks, on a small full index, and requires that the server never
// panics and answers valid JSON with status 200, 400, 404 or 503, never 500,
// with a message when it is not a 200. The handler is called directly, so a
// panic fails the fuzz target instead of being recovered by net/http.
func FuzzQueryParams(f *testing.F) {
	data := index.MainnetBlockData(f, 0)
	db := index.NewTestDB(f, analysis.Mainnet)
	if err := db.SetBlocksFrom(0, true); err != nil {
		f.Fatalf("keep full blocks: %v", err)
	}
	index.ConnectBlocks(f, db, data[:fuzzBlocks])
	h := New(db, Options{}).Handler()

	seeds := []struct {
		route uint8
		seg   string
		query string
	}{
		{0, "1m", ""}, {0, "all", ""}, {1, "3d", ""}, {2, "1w", ""}, {3, "24h", ""},
		{4, "1m", "period=weekly"}, {4, "all", "period=hourly"}, {5, "6m", ""},
		{6, "all", "hops=1&period=epoch"}, {6, "1y", "hops=2"},
		{7, "hashrate", "claim=7+MH%2Fs&at=2009-01-20&window=24h"},
		{7, "hashrate", "claim=7MH/s&blocks=1008&tolerance=2%25"},
		{7, "difficulty", "claim=1.00&at_height=2016"},
		{7, "adjustment", "date=2009-01-27&change=-11%25"},
		{7, "outflow", "claim=10BTC&from=2009-01-12&to=2009-01-12&hops=1"},
		{7, "outflow", "claim=0.00000001+BTC&from=2009-01-03&to=2009-01-03"},
		{8, "", "now=2009-02-01T00:00:00Z"}, {8, "", "now=1234567890"}, {9, "", ""},
		{10, "", ""}, {11, "", "window=7d&at=2009-01-20"}, {11, "", "blocks=120&at_height=2000"},
		{11, "", "blocks=-1"}, {12, "", "interval=1w"}, {13, "", "now=2009-01-31"}, {14, "", "hops=1"},
		{0, "%zz", "a=%zz&b"}, {7, "verify", "claim=1&claim=2;x=y"},
		// Extremes.
		{8, "", "now=1099511627775"}, {13, "", "now=9999-12-31T23:59:59Z"},
		{11, "", "at=0000-01-01T00:00:00Z&window=2562047h"}, {11, "", "at=9999-12-31T23:59:59-23:59"},
		{11, "", "blocks=9223372036854775807&at_height=2147483647"}, {11, "", "blocks=-9223372036854775808"},
		{7, "hashrate", "claim=99999999999999999999999999999999999999999999999999ZH/s&tolerance=9999999999999999999999%25"},
		{7, "hashrate", "claim=0H/s&at=0000-01-01&window=36500w"}, {7, "hashrate", "claim=0.0001H/s&blocks=9223372036854775807&at=1"},
		{7, "difficulty", "claim=0&at_height=2147483647"}, {7, "adjustment", "date=0000-01-01&change=-100%25"},
		{7, "adjustment", "date=9999-12-31&change=+0.0000000000000000000000000001%25&tolerance=0%25"},
		{7, "outflow", "claim=21000000BTC&from=0000-01-01&to=9999-12-31&tolerance=1e3%25"},
		{7, "outflow", "claim=0sat&from=1970-01-01&to=1970-01-01"},
	}
	for _, s := range seeds {
		f.Add(s.route, s.seg, s.query)
	}

	f.Fuzz(func(t *testing.T, route uint8, seg, query string) {
		if len(seg) > maxFuzzSegment || len(query) > maxFuzzQuery {
			// Longer inputs reach no other parsing code (a claim is
			// at most 64 bytes), and minimizing them takes the
			// fuzzer's whole time.
			t.Skip()
		}
		pattern := fuzzRoutes[int(route)%len(fuzzRoutes)]
		escaped := pattern
		if n := len(pattern) - len("{}"); pattern[n:] == "{}" {
			escaped = pattern[:n] + url.PathEscape(seg)
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.RawPath = escaped
		if p, err := url.PathUnescape(escaped); err == nil {
			req.URL.Path = p
		}
		req.URL.RawQuery = query
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		if escaped != pattern && (seg == "." || seg == "..") {
			// A path with a dot segment is cleaned by a redirect, as
			// for any Go server; real clients clean it themselves.
			if rec.Code != http.StatusTemporaryRedirect {
				t.Errorf("GET %s?%s: %d, want a redirect to the clean path", escaped, query, rec.Code)
			}
			return
		}
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusNotFound, http.StatusServiceUnavailable:
		default:
			t.Errorf("GET %s?%s: status %d: %s", escaped, query, rec.Code, rec.Body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("GET %s?%s: Content-Type %q", escaped, query, ct)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Errorf("GET %s?%s: invalid JSON: %q", escaped, query, rec.Body)
		}
		if rec.Code != http.StatusOK {
			var e struct {
				Error string `json:"error"`
			}
			if json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error == "" {
				t.Errorf("GET %s?%s: %d without a message: %s", escaped, query, rec.Code, rec.Body)
			}
		}
	})
}
