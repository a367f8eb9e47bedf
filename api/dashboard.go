package api

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// webFS holds every file the dashboard needs (HTML, script, style, the
// vendored uPlot chart library and its licence), so the page works offline:
// nothing is fetched from a CDN or a font service.
//
//go:embed web
var webFS embed.FS

// dashboardCSP allows the page to load only its own embedded assets and to
// talk only to this server. Inline styles are allowed because the chart
// library sizes its elements with style attributes.
const dashboardCSP = "default-src 'self'; img-src 'self' data:; " +
	"style-src 'self' 'unsafe-inline'; connect-src 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// webAsset is one embedded file with its strong validator.
type webAsset struct {
	data []byte
	etag string
}

// webAssets maps a path below web/ ("index.html", "vendor/uPlot.min.css")
// to its file.
var webAssets = loadWebAssets()

// loadWebAssets reads every embedded file once. The files are compiled into
// the binary, so failing to read one is a build defect.
func loadWebAssets() map[string]webAsset {
	assets := make(map[string]webAsset)
	err := fs.WalkDir(webFS, "web", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := webFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		assets[strings.TrimPrefix(p, "web/")] = webAsset{
			data: data,
			etag: `"` + hex.EncodeToString(sum[:8]) + `"`,
		}
		return nil
	})
	if err != nil {
		panic("api: embedded dashboard assets unreadable: " + err.Error())
	}
	return assets
}

// dashboardHandler serves the dashboard page at / and its assets under
// /assets/. Any other path gets the API's JSON 404, so a mistyped API URL is
// not answered with HTML.
func dashboardHandler() http.Handler {
	return http.HandlerFunc(serveDashboard)
}

func serveDashboard(w http.ResponseWriter, r *http.Request) {
	name, ok := dashboardAsset(r.URL.Path)
	if !ok {
		dashboardError(w, http.StatusNotFound, "no such page: "+r.URL.Path+
			" (the dashboard is at /, the API under /api/v1/)")
		return
	}
	asset, ok := webAssets[name]
	if !ok {
		dashboardError(w, http.StatusNotFound, "no such dashboard asset: "+r.URL.Path)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		dashboardError(w, http.StatusMethodNotAllowed, "the dashboard is read-only: use GET")
		return
	}

	h := w.Header()
	h.Set("ETag", asset.etag)
	h.Set("Cache-Control", "no-cache") // revalidate: a new binary may bring new assets
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if name == "index.html" {
		h.Set("Content-Security-Policy", dashboardCSP)
	}
	http.ServeContent(w, r, path.Base(name), time.Time{}, bytes.NewReader(asset.data))
}

// dashboardAsset maps a request path to the embedded file it names: / to
// index.html, /assets/x to x. ok is false for any other path.
func dashboardAsset(urlPath string) (name string, ok bool) {
	switch {
	case urlPath == "/" || urlPath == "/index.html":
		return "index.html", true
	case strings.HasPrefix(urlPath, "/assets/"):
		name = strings.TrimPrefix(urlPath, "/assets/")
		if name == "" || name == "index.html" || path.Clean("/"+name) != "/"+name {
			return "", false
		}
		return name, true
	}
	return "", false
}

// dashboardError writes the API's JSON error shape.
func dashboardError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Error string `json:"error"`
	}{msg})
}
