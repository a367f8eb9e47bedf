package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/minerscope/minerscope/index"
)

// Bounds on waits for the page: they stop a hung test, they assert nothing
// about speed.
const (
	pageLoadLimit   = 20 * time.Second
	pageUpdateLimit = 20 * time.Second
)

// btStatus is the part of /api/v1/minerscope/status the test reads.
type btStatus struct {
	IndexHeight int32  `json:"index_height"`
	IndexHash   string `json:"index_hash"`
}

// btNext is the part of /api/v1/minerscope/next-adjustment the test reads.
type btNext struct {
	TipHeight          int32   `json:"tip_height"`
	NextRetargetHeight int32   `json:"next_retarget_height"`
	BlocksRemaining    int32   `json:"blocks_remaining"`
	CurrentDifficulty  float64 `json:"current_difficulty"`
	ChangePct          float64 `json:"change_pct"`
	Date               string  `json:"date"`
}

// btSeries is the part of /api/v1/minerscope/hashrate/series the test reads.
type btSeries struct {
	Points []struct {
		HashrateHS float64 `json:"hashrate_hs"`
	} `json:"points"`
}

// pageReady is true once the page has loaded every figure for the tip at
// height and drawn every chart (or an explicit empty state).
func pageReady(height int32) string {
	return fmt.Sprintf(`document.body.dataset.state === 'ready' &&
		document.body.dataset.height === '%d' &&
		['chart-hashrate', 'chart-difficulty', 'chart-outflow'].every(
			(id) => ['true', 'empty'].includes(document.getElementById(id).dataset.drawn)) &&
		document.getElementById('pools').dataset.rows !== '0'`, height)
}

// TestDashboardBrowser loads the dashboard in headless Chromium from a server
// on the mainnet index of blocks 0 to 14000, checks that the figures on the
// page are the API's, that nothing failed and that nothing was fetched from
// elsewhere, takes screenshots at desktop and phone width, then connects
// blocks 14001 to 14131 and waits for the page to show the new tip.
func TestDashboardBrowser(t *testing.T) {
	db, data := browserIndex(t, 14001)
	handler, tipChanged := browserAPI(t, db)
	ts := httptest.NewServer(handler)
	t.Cleanup(ts.Close)
	artifacts := artifactDir(t)

	ctx := newBrowser(t)
	probs := watchPage(t, ctx, ts.URL, nil)
	url := ts.URL + "/?poll=200"

	// Desktop.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(url)); err != nil {
		t.Fatalf("load the dashboard: %v", err)
	}
	waitPage(t, ctx, "the page at height 14000", pageReady(14000), pageLoadLimit)
	checkFigures(t, ctx, ts.URL, 14000, data[14000].Header.BlockHash().String())
	checkCharts(t, ctx, ts.URL)
	shootPage(t, ctx, artifacts, "dashboard-desktop.png")
	probs.check(t, "desktop")

	// Another interval: the charts are fetched again for it.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#interval-picker button[data-interval="3m"]`))); err != nil {
		t.Fatalf("pick 3m: %v", err)
	}
	series := apiGet[btSeries](t, ts.URL+"/api/v1/minerscope/hashrate/series/3m?period=daily")
	waitPage(t, ctx, "the 3m charts", fmt.Sprintf(`document.body.dataset.state === 'ready' &&
		document.getElementById('chart-hashrate').dataset.points === '%d'`, len(series.Points)), pageLoadLimit)
	probs.check(t, "3m interval")

	// Phone: a 390 px wide viewport, no horizontal scrolling.
	err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(url))
	if err != nil {
		t.Fatalf("load the dashboard at phone width: %v", err)
	}
	waitPage(t, ctx, "the page at phone width", pageReady(14000), pageLoadLimit)
	if w := evalJS[int](t, ctx, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("at 390 px the page is %d px wide: it scrolls sideways", w)
	}
	// Nor does a table inside its panel: every column of the epochs table, with the hashrate's 95% interval,
	// must be on screen.
	if over := evalJS[int](t, ctx, `(() => { const w = document.querySelector('#epochs-table').parentElement;
		return w.scrollWidth - w.clientWidth; })()`); over > 0 {
		t.Errorf("at 390 px the epochs table is %d px wider than its panel: it scrolls sideways", over)
	}
	checkFigures(t, ctx, ts.URL, 14000, data[14000].Header.BlockHash().String())
	shootPage(t, ctx, artifacts, "dashboard-phone.png")
	probs.check(t, "phone")

	// A new block arrives (here: 131 of them at once). The page notices on its
	// next status poll and shows the new tip.
	index.ConnectBlocks(t, db, data[14001:])
	tipChanged()
	waitPage(t, ctx, "the page at height 14131", pageReady(14131), pageUpdateLimit)
	checkFigures(t, ctx, ts.URL, 14131, data[14131].Header.BlockHash().String())
	probs.check(t, "after the new blocks")
}

// TestDashboardHeadersOnly checks that on an index of headers only, where the
// API answers 404 for outflows and reserve, the page says so plainly
// instead of showing an error.
func TestDashboardHeadersOnly(t *testing.T) {
	db := index.NewMainnetTestDB(t, index.MainnetTestHeaders)
	handler, _ := browserAPI(t, db)
	ts := httptest.NewServer(handler)
	t.Cleanup(ts.Close)

	ctx := newBrowser(t)
	// The 404s for outflows, reserve and pools (all need full blocks) are the
	// API's answer, expected here; anything else is not.
	probs := watchPage(t, ctx, ts.URL, func(s string) bool {
		return strings.Contains(s, "404") &&
			(strings.Contains(s, "/api/v1/minerscope/outflows/") || strings.Contains(s, "/api/v1/minerscope/reserve") ||
				strings.Contains(s, "/api/v1/minerscope/pools/"))
	})
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(ts.URL+"/")); err != nil {
		t.Fatalf("load the dashboard: %v", err)
	}
	waitPage(t, ctx, "the page at height 14131", pageReady(14131), pageLoadLimit)

	if got := evalJS[string](t, ctx, `document.getElementById('chart-outflow').dataset.drawn`); got != "empty" {
		t.Errorf("outflow chart state %q, want empty", got)
	}
	if evalJS[bool](t, ctx, `document.getElementById('outflow-empty').hidden`) {
		t.Error("the no-full-blocks notice of the outflow panel is hidden")
	}
	if got := evalJS[string](t, ctx, `document.getElementById('outflow-empty').innerText`); !strings.Contains(got, "No full blocks indexed") {
		t.Errorf("outflow panel says %q, want it to say No full blocks indexed", got)
	}
	if got := evalJS[string](t, ctx, `document.getElementById('reserve-btc').dataset.state`); got != "empty" {
		t.Errorf("reserve state %q, want empty", got)
	}
	if got := evalJS[string](t, ctx, `document.getElementById('reserve-btc').textContent`); got != "no full blocks indexed" {
		t.Errorf("reserve shows %q, want %q", got, "no full blocks indexed")
	}
	if got := evalJS[string](t, ctx, `document.getElementById('pools').dataset.rows`); got != "empty" {
		t.Errorf("pools panel state %q, want empty", got)
	}
	shootPage(t, ctx, artifactDir(t), "dashboard-headers-only.png")
	probs.check(t, "headers only")
}

// checkFigures compares the figures on the page with the API's JSON, fetched
// here in Go, and the tip with the block the test connected last.
func checkFigures(t *testing.T, ctx context.Context, base string, height int32, hash string) {
	t.Helper()
	st := apiGet[btStatus](t, base+"/api/v1/minerscope/status")
	if st.IndexHeight != height || st.IndexHash != hash {
		t.Fatalf("API status: tip %d %s, want %d %s", st.IndexHeight, st.IndexHash, height, hash)
	}
	text := func(id string) string {
		return evalJS[string](t, ctx, fmt.Sprintf(`document.getElementById(%q).textContent`, id))
	}
	data := func(id, key string) string {
		return evalJS[string](t, ctx, fmt.Sprintf(`document.getElementById(%q).dataset[%q] || ''`, id, key))
	}
	expect := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s: page shows %q, want %q", what, got, want)
		}
	}

	expect("index height", data("index-height", "value"), strconv.Itoa(int(height)))
	expect("index height text", text("index-height"), groupThousands(int64(height)))

	hr := apiGet[struct {
		HashrateHS float64 `json:"hashrate_hs"`
	}](t, base+"/api/v1/minerscope/hashrate?window=7d")
	if got, err := strconv.ParseFloat(data("hashrate-current", "value"), 64); err != nil || got != hr.HashrateHS {
		t.Errorf("hashrate value: page has %v (%v), API %v", got, err, hr.HashrateHS)
	}
	expect("hashrate text", text("hashrate-current"), wantHashrate(hr.HashrateHS))

	na := apiGet[btNext](t, base+"/api/v1/minerscope/next-adjustment")
	// Independently of the API: the epoch of the tip ends at the next
	// multiple of 2016, less one.
	next := (height/2016 + 1) * 2016
	if na.TipHeight != height || na.NextRetargetHeight != next || na.BlocksRemaining != next-1-height {
		t.Errorf("API next-adjustment: tip %d, retarget at %d, %d blocks remaining; want %d, %d, %d",
			na.TipHeight, na.NextRetargetHeight, na.BlocksRemaining, height, next, next-1-height)
	}
	expect("blocks remaining", data("blocks-remaining", "value"), strconv.Itoa(int(na.BlocksRemaining)))
	expect("blocks remaining text", text("blocks-remaining"), groupThousands(int64(na.BlocksRemaining)))
	expect("projected date", data("adjustment-date", "value"), na.Date)
	expect("projected date text", text("adjustment-date"), wantTime(t, na.Date))
	expect("projected change text", text("adjustment-change"), wantPct(na.ChangePct))
	// Mainnet difficulty stayed 1 until block 32256.
	if na.CurrentDifficulty != 1 {
		t.Errorf("API difficulty at height %d: %v, want 1", height, na.CurrentDifficulty)
	}
	expect("difficulty text", text("difficulty-current"), "1.00")

	if resp, err := http.Get(base + "/api/v1/minerscope/reserve"); err == nil && resp.StatusCode == http.StatusOK {
		resp.Body.Close()
		res := apiGet[struct {
			Height     int32 `json:"height"`
			ReserveSat int64 `json:"reserve_sat"`
		}](t, base+"/api/v1/minerscope/reserve")
		if res.Height != height {
			t.Errorf("API reserve at height %d, want %d", res.Height, height)
		}
		expect("reserve sat", data("reserve-btc", "sat"), strconv.FormatInt(res.ReserveSat, 10))
		expect("reserve text", text("reserve-btc"), wantBTC(res.ReserveSat))
	} else {
		t.Errorf("GET reserve: %v %v", err, resp)
	}
}

// checkCharts checks that each chart drew the API's points and says where
// its interval comes from.
func checkCharts(t *testing.T, ctx context.Context, base string) {
	t.Helper()
	series := apiGet[btSeries](t, base+"/api/v1/minerscope/hashrate/series/1y?period=weekly")
	if got := evalJS[string](t, ctx, `document.getElementById('chart-hashrate').dataset.points`); got != strconv.Itoa(len(series.Points)) {
		t.Errorf("hashrate chart has %s points, the API %d", got, len(series.Points))
	}
	for _, id := range []string{"explain-hashrate", "explain-difficulty", "explain-pools", "explain-outflow"} {
		got := evalJS[string](t, ctx, fmt.Sprintf(`document.getElementById(%q).textContent`, id))
		if got == "" {
			t.Errorf("#%s: no explanation under the chart", id)
		}
	}
	got := evalJS[string](t, ctx, `document.getElementById('explain-hashrate').textContent`)
	if !strings.Contains(got, "95% interval from the Poisson model of block discovery; blocks ") {
		t.Errorf("hashrate chart explanation %q does not say where its band comes from", got)
	}
	// uPlot draws into a canvas; a drawn chart has a canvas of the panel's size.
	for _, id := range []string{"chart-hashrate", "chart-difficulty", "chart-outflow"} {
		w := evalJS[int](t, ctx, fmt.Sprintf(`(document.querySelector('#%s canvas') || {width: 0}).width`, id))
		if w < 200 {
			t.Errorf("#%s: canvas %d px wide, want a drawn chart", id, w)
		}
	}
}

// shoot saves a screenshot of the whole page.
func shootPage(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	saveScreenshot(t, dir, name, png)
}

// TestDashboardHandler checks the embedded assets are served with their
// types and validators, that the page references only embedded assets, and
// that other paths get the API's JSON 404.
func TestDashboardHandler(t *testing.T) {
	ts := httptest.NewServer(dashboardHandler())
	t.Cleanup(ts.Close)

	tests := []struct {
		path   string
		status int
		ctype  string
	}{
		{"/", 200, "text/html; charset=utf-8"},
		{"/index.html", 200, "text/html; charset=utf-8"},
		{"/assets/app.js", 200, "text/javascript; charset=utf-8"},
		{"/assets/style.css", 200, "text/css; charset=utf-8"},
		{"/assets/favicon.svg", 200, "image/svg+xml"},
		{"/assets/vendor/uPlot.iife.min.js", 200, "text/javascript; charset=utf-8"},
		{"/assets/vendor/uPlot.min.css", 200, "text/css; charset=utf-8"},
		{"/assets/vendor/uPlot.LICENSE", 200, "text/plain; charset=utf-8"},
		{"/assets/", 404, "application/json"},
		{"/assets/index.html", 404, "application/json"},
		{"/assets/../dashboard.go", 404, "application/json"},
		{"/assets/nope.js", 404, "application/json"},
		{"/nope", 404, "application/json"},
		{"/api/v1/nope", 404, "application/json"},
	}
	for _, tc := range tests {
		resp, err := http.Get(ts.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != tc.ctype {
			t.Errorf("GET %s: %d %q, want %d %q", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), tc.status, tc.ctype)
		}
		if tc.status == 404 && !strings.HasPrefix(string(body), `{"error":`) {
			t.Errorf("GET %s: body %q, want a JSON error", tc.path, body)
		}
		if tc.status == 200 && resp.Header.Get("ETag") == "" {
			t.Errorf("GET %s: no ETag", tc.path)
		}
	}

	// A validator that matches gives 304.
	resp, err := http.Get(ts.URL + "/assets/app.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/assets/app.js", nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("GET with a matching If-None-Match: %d, want 304", resp.StatusCode)
	}

	resp, err = http.Post(ts.URL+"/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d, want 405", resp.StatusCode)
	}

	// Every asset the page names is embedded, and nothing comes from
	// another host.
	page := string(webAssets["index.html"].data)
	for _, ref := range []string{"/assets/app.js", "/assets/style.css", "/assets/favicon.svg",
		"/assets/vendor/uPlot.iife.min.js", "/assets/vendor/uPlot.min.css"} {
		if !strings.Contains(page, `"`+ref+`"`) {
			t.Errorf("index.html does not reference %s", ref)
		}
		if _, ok := webAssets[strings.TrimPrefix(ref, "/assets/")]; !ok {
			t.Errorf("%s is not embedded", ref)
		}
	}
	for _, name := range []string{"index.html", "app.js", "style.css"} {
		s := string(webAssets[name].data)
		if strings.Contains(s, "http://") || strings.Contains(s, "https://") || strings.Contains(s, "@import") {
			t.Errorf("%s refers to another host or imports a stylesheet", name)
		}
	}
}
