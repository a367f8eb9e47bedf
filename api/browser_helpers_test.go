package api

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/index"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

var (
	chromiumOnce sync.Once
	chromiumErr  error
)

// needChromium returns the path of Debian's chromium, installing the package
// with apt-get when it is missing and the test runs as root. It fails the test
// (never skips it) when the browser cannot be had.
func needChromium(t *testing.T) string {
	t.Helper()
	chromiumOnce.Do(func() { chromiumErr = installChromium(t) })
	if chromiumErr != nil {
		t.Fatal(chromiumErr)
	}
	return chromiumPath
}

func installChromium(t *testing.T) error {
	if _, err := os.Stat(chromiumPath); err == nil {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("the dashboard browser test needs Debian's chromium at %s and cannot "+
			"install it without root: run `apt-get install -y chromium` as root and rerun", chromiumPath)
	}
	t.Logf("%s is missing: installing Debian's chromium package with apt-get", chromiumPath)
	if out, err := aptGet("install", "-y", "chromium"); err != nil {
		t.Logf("apt-get install failed (%v), running apt-get update first:\n%s", err, aptTail(out))
		if out, err := aptGet("update"); err != nil {
			return fmt.Errorf("apt-get update: %w\n%s", err, aptTail(out))
		}
		if out, err := aptGet("install", "-y", "chromium"); err != nil {
			return fmt.Errorf("apt-get install -y chromium: %w\n%s", err, aptTail(out))
		}
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		return fmt.Errorf("apt-get installed chromium but %s is missing: %w", chromiumPath, err)
	}
	return nil
}

func aptGet(args ...string) ([]byte, error) {
	cmd := exec.Command("apt-get", args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	return cmd.CombinedOutput()
}

// tail returns the last lines of command output for an error message.
func aptTail(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

// newBrowser starts a headless Chromium with a fresh profile and returns a
// chromedp context for one tab. The flags keep Chromium from reaching out to
// Google's services, whose connections this closed network refuses.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	exe := needChromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// Start the browser now, without a deadline: a timeout on the first run
	// would stop the whole browser when it expires.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// pageProblems collects what a clean page load must not produce: console
// errors, uncaught exceptions, failed requests, HTTP errors and requests to
// any other host than the server's (the page must work offline).
type pageProblems struct {
	base     string // the server's URL
	mu       sync.Mutex
	problems []string
	allow    func(string) bool // an expected problem, e.g. the 404 of a headers-only index
}

// watch starts collecting the problems of the tab of ctx, which shows pages
// of the server at base.
func watchPage(t *testing.T, ctx context.Context, base string, allow func(string) bool) *pageProblems {
	t.Helper()
	p := &pageProblems{base: base, allow: allow}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				p.add("console." + string(ev.Type) + ": " + strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			p.add(fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber, msg))
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				p.add(fmt.Sprintf("console (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		case *network.EventRequestWillBeSent:
			u := ev.Request.URL
			if !strings.HasPrefix(u, p.base+"/") && !strings.HasPrefix(u, "data:") {
				p.add("request to another host: " + u)
			}
		case *network.EventLoadingFailed:
			p.add(fmt.Sprintf("request %s failed: %s %s", ev.RequestID, ev.ErrorText, ev.BlockedReason))
		case *network.EventResponseReceived:
			if ev.Response.Status >= 400 {
				p.add(fmt.Sprintf("HTTP %d for %s", ev.Response.Status, ev.Response.URL))
			}
		}
	})
	if err != nil {
		t.Fatalf("listen to the page: %v", err)
	}
	return p
}

func (p *pageProblems) add(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.allow != nil && p.allow(s) {
		return
	}
	p.problems = append(p.problems, s)
}

// check fails the test for every problem seen so far.
func (p *pageProblems) check(t *testing.T, when string) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.problems {
		t.Errorf("%s: %s", when, s)
	}
	p.problems = nil
}

// artifactDir is where screenshots go: $MINERSCOPE_ARTIFACTS if set, else a
// directory of the test.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("MINERSCOPE_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifact directory: %v", err)
	}
	return dir
}

// saveScreenshot writes png to the artifact directory and, for people
// looking at the page while developing, to testdata/screenshots too when git
// ignores that directory (a test must not leave untracked files behind).
func saveScreenshot(t *testing.T, dir, name string, png []byte) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("save screenshot: %v", err)
	}
	t.Logf("screenshot: %s", path)

	local := filepath.Join("testdata", "screenshots", name)
	if exec.Command("git", "check-ignore", "-q", local).Run() != nil {
		return // not ignored, or no git: keep the artifact only
	}
	if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
		t.Fatalf("screenshot directory: %v", err)
	}
	if err := os.WriteFile(local, png, 0o644); err != nil {
		t.Fatalf("save screenshot: %v", err)
	}
}

// apiGet fetches url and decodes its JSON body into a value of type T.
func apiGet[T any](t *testing.T, url string) T {
	t.Helper()
	var v T
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("GET %s: decode: %v", url, err)
	}
	return v
}

// waitFor polls the JavaScript expression until it is true, or fails the test
// after limit (a bound on a hang, not a timing assertion).
func waitPage(t *testing.T, ctx context.Context, what, expr string, limit time.Duration) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(limit)))
	if err != nil {
		t.Fatalf("wait for %s (%s): %v", what, expr, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func evalJS[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// wantHashrate is the text the page must show for a hashrate: the value
// scaled by powers of 1000 to below 1000, three significant digits, with its
// unit.
func wantHashrate(hs float64) string {
	units := []string{"H/s", "kH/s", "MH/s", "GH/s", "TH/s", "PH/s", "EH/s", "ZH/s", "YH/s"}
	i := 0
	for math.Abs(hs) >= 1000 && i < len(units)-1 {
		hs /= 1000
		i++
	}
	prec := 2
	switch a := math.Abs(hs); {
	case a >= 100:
		prec = 0
	case a >= 10:
		prec = 1
	}
	return fmt.Sprintf("%.*f %s", prec, hs, units[i])
}

// wantTime is the text the page must show for an ISO 8601 time:
// "2009-05-12 14:03 UTC".
func wantTime(t *testing.T, iso string) string {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, iso)
	if err != nil {
		t.Fatalf("API time %q: %v", iso, err)
	}
	return tm.UTC().Format("2006-01-02 15:04 UTC")
}

// wantPct is the text the page must show for a change in percent: signed,
// two decimals.
func wantPct(p float64) string {
	sign := ""
	switch {
	case p > 0:
		sign = "+"
	case p < 0:
		sign = "−"
	}
	return fmt.Sprintf("%s%.2f%%", sign, math.Abs(p))
}

// wantBTC is the text the page must show for an amount of satoshis: BTC
// rounded to two decimals, thousands separated by commas.
func wantBTC(sat int64) string {
	sign := ""
	if sat < 0 {
		sign, sat = "−", -sat
	}
	cents := (sat + 500_000) / 1_000_000
	return fmt.Sprintf("%s%s.%02d BTC", sign, groupThousands(cents/100), cents%100)
}

// groupThousands writes n with commas between groups of three digits.
func groupThousands(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// browserAPI is the server the browser tests load the page from: the real
// API over the test index, and the function to call after connecting blocks.
func browserAPI(t *testing.T, db *index.DB) (http.Handler, func()) {
	t.Helper()
	srv := New(db, Options{})
	return srv.Handler(), srv.TipChanged
}

// browserIndex returns an in-memory mainnet index with full blocks 0 to
// upto-1 and the real block data of all 14,132 test blocks, so the caller can
// connect the rest later.
func browserIndex(t *testing.T, upto int) (*index.DB, []index.BlockData) {
	t.Helper()
	data := index.MainnetBlockData(t, 0)
	db := index.NewTestDB(t, analysis.Mainnet)
	if err := db.SetBlocksFrom(0, true); err != nil {
		t.Fatalf("keep full blocks: %v", err)
	}
	index.ConnectBlocks(t, db, data[:upto])
	return db, data
}
