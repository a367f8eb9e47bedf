package api

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/index"
)

// TestSnapshotFollowsTheIndex moves the index forward, back (a reorg onto a
// branch of synthetic headers) and forward again, and checks after every move
// that the incrementally refreshed snapshot equals one read from scratch.
func TestSnapshotFollowsTheIndex(t *testing.T) {
	hdrs := index.MainnetHeaders(t)
	db := index.NewMainnetTestDB(t, 5000)
	srv := New(db, Options{})

	check := func(what string) {
		t.Helper()
		srv.TipChanged()
		got, err := srv.current()
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := loadSnapshot(db, nil)
		if err != nil {
			t.Fatal(err)
		}
		tip, hash, _ := db.Tip()
		switch {
		case got.tipHeight != tip || got.tipHash != hash:
			t.Fatalf("%s: snapshot at %d %v, index at %d %v", what, got.tipHeight, got.tipHash, tip, hash)
		case !reflect.DeepEqual(got.hs, fresh.hs) || !reflect.DeepEqual(got.prefixMax, fresh.prefixMax):
			t.Fatalf("%s: headers differ from a fresh read", what)
		}
		// A snapshot cut back by a disconnect keeps fewer recent hashes
		// than a fresh read; those it keeps must be the index's.
		for h := got.hashBase; h <= got.tipHeight; h++ {
			want, err := db.HashAt(h)
			if g, _ := got.hashAt(h); err != nil || g != want {
				t.Fatalf("%s: recent hash at %d is %v, the index has %v", what, h, g, want)
			}
		}
		for h := range got.hs {
			if got.hs[h].Time != hdrs[h].Timestamp.Unix() && h <= 5010 && what != "branch" {
				t.Fatalf("%s: height %d has time %d, the block file %d", what, h, got.hs[h].Time,
					hdrs[h].Timestamp.Unix())
			}
		}
	}
	check("start")
	old := srv.snap

	index.ConnectHeaders(t, db, hdrs[5000:5010])
	check("10 more")
	if len(old.hs) != 5000 {
		t.Fatalf("extending the snapshot changed the old one: %d headers", len(old.hs))
	}

	// Reorg: undo 4 blocks, connect a 6-block branch with other times.
	for range 4 {
		if err := db.DisconnectTip(); err != nil {
			t.Fatal(err)
		}
	}
	check("disconnected")
	branch := index.ExtendHeaders(hdrs[5005], 6, func(i int, h *wire.BlockHeader) {
		h.Timestamp = hdrs[5005].Timestamp.Add(time.Duration(i+1) * 7 * time.Minute)
	})
	index.ConnectHeaders(t, db, branch)
	check("branch")

	// A reorg deeper than the recent hashes reloads everything.
	for range recentHashes + 10 {
		if err := db.DisconnectTip(); err != nil {
			t.Fatal(err)
		}
	}
	index.ConnectHeaders(t, db, hdrs[int(db.Count()):5100])
	check("deep reorg")
}

// TestHeadersOnlyAndEmpty checks the answers of an index without full blocks
// (404 where blocks are needed) and of an empty one (503, status still 200).
func TestHeadersOnlyAndEmpty(t *testing.T) {
	ts := httptest.NewServer(New(index.NewMainnetTestDB(t, 3000), Options{}).Handler())
	defer ts.Close()
	for _, p := range []string{"/api/v1/minerscope/outflows/1m", "/api/v1/minerscope/reserve",
		"/api/v1/minerscope/pools/1w", "/api/v1/mining/pools/1w", "/api/v1/mining/blocks/rewards/1m"} {
		wantError(t, http.MethodGet, ts.URL+p, http.StatusNotFound)
	}
	var st map[string]any
	getJSON(t, ts.URL+"/api/v1/minerscope/status", &st)
	if st["full_blocks"] != false || st["blocks_from"] != nil {
		t.Errorf("headers-only status: %v", st)
	}
	var m map[string]any
	getJSON(t, ts.URL+"/api/v1/mining/hashrate/1m", &m) // headers suffice

	empty := httptest.NewServer(New(index.NewTestDB(t, analysis.Mainnet), Options{}).Handler())
	defer empty.Close()
	for _, p := range []string{"/api/v1/difficulty-adjustment", "/api/v1/mining/hashrate/1m",
		"/api/v1/minerscope/hashrate", "/api/v1/minerscope/epochs", "/api/v1/minerscope/next-adjustment"} {
		wantError(t, http.MethodGet, empty.URL+p, http.StatusServiceUnavailable)
	}
	getJSON(t, empty.URL+"/api/v1/minerscope/status", &st)
	if st["index_height"] != nil || st["network"] != "mainnet" {
		t.Errorf("empty status: %v", st)
	}
	if status, _, _ := fetch(t, http.MethodGet, empty.URL+"/metrics"); status != 200 {
		t.Errorf("/metrics on an empty index: %d", status)
	}
}

func TestIntervalStart(t *testing.T) {
	at := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.Unix()
	}
	for _, c := range []struct{ iv, end, want string }{
		{"24h", "2024-03-01T00:00:00Z", "2024-02-29T00:00:00Z"},
		{"1w", "2024-03-01T12:00:00Z", "2024-02-23T12:00:00Z"},
		{"1m", "2024-03-31T10:00:00Z", "2024-02-29T10:00:00Z"}, // MySQL clamps to the month's last day
		{"1m", "2023-03-31T10:00:00Z", "2023-02-28T10:00:00Z"},
		{"3m", "2024-05-31T00:00:00Z", "2024-02-29T00:00:00Z"},
		{"6m", "2024-01-15T08:30:00Z", "2023-07-15T08:30:00Z"},
		{"1y", "2024-02-29T00:00:00Z", "2023-02-28T00:00:00Z"},
		{"4y", "2024-02-29T00:00:00Z", "2020-02-29T00:00:00Z"},
		{"1m", "2024-01-31T23:59:59Z", "2023-12-31T23:59:59Z"},
	} {
		got, err := intervalStart(c.iv, at(c.end))
		if err != nil || got != at(c.want) {
			t.Errorf("%s before %s: %v (%v), want %s", c.iv, c.end, time.Unix(got, 0).UTC(), err, c.want)
		}
	}
	for _, bad := range []string{"", "1d", "1M", "all ", "5y", "24H"} {
		if _, err := intervalStart(bad, 0); err == nil {
			t.Errorf("interval %q accepted", bad)
		}
	}
}
