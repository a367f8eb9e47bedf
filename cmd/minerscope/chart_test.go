package main

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/index"
)

// chartIndexDir builds an on-disk mainnet index with the full blocks 0–14131 (headers, coinbases and miner
// flows), without a node.
func chartIndexDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	db, err := index.Open(dir, analysis.Mainnet, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetBlocksFrom(0, true); err != nil {
		t.Fatal(err)
	}
	index.ConnectBlocks(t, db, index.MainnetBlockData(t, 0))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// svgTexts parses an SVG and returns its text elements' contents; it fails on invalid XML.
func svgTexts(t *testing.T, data []byte) []string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	var texts []string
	inText := false
	root := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = el.Name.Local
			}
			inText = el.Name.Local == "text"
		case xml.CharData:
			if inText {
				texts = append(texts, string(el))
			}
		case xml.EndElement:
			inText = false
		}
	}
	if root != "svg" {
		t.Fatalf("root element %q, want svg", root)
	}
	return texts
}

// TestChartMainnet draws every chart kind from the mainnet 0–14131 index in both formats and checks that
// the files are valid, have the requested size and say what they show. With MINERSCOPE_CHART_DIR set the
// files are kept there for a look.
func TestChartMainnet(t *testing.T) {
	idx := chartIndexDir(t)
	out := os.Getenv("MINERSCOPE_CHART_DIR")
	if out == "" {
		out = t.TempDir()
	}
	// Published facts: genesis was mined on 2009-01-03, block 14131 on 2009-05-14; the first difficulty
	// change came at block 32256, so every retarget in 0–14131 (2016, 4032, ..., 14112) kept difficulty 1.
	cases := []struct {
		file  string
		kind  string
		args  []string
		title string
		texts []string
	}{
		{"hashrate", "hashrate", nil, "Network hashrate, mainnet, blocks 0–14131, daily, 95% interval",
			// The genesis day's single block (about 50 kH/s) and the days of ~7 MH/s span more than a factor
			// of 100, so the axis is logarithmic, each tick with its unit.
			[]string{"Hashrate (log scale)", "1 MH/s", "Date (UTC)", "2016", "14112"}},
		{"hashrate-linear", "hashrate", []string{"--linear", "--from", "2016"}, "Network hashrate, mainnet, blocks",
			[]string{"Hashrate (MH/s)"}},
		{"difficulty", "difficulty", nil, "Difficulty, mainnet, blocks 0–14131, per epoch of 2016 blocks",
			[]string{"Difficulty", "+0.0%"}},
		{"epochs", "epochs", nil, "Difficulty epochs, mainnet, blocks 0–14131: duration and retarget change",
			[]string{"Duration (days)", "Difficulty change (%)"}},
		{"outflows", "outflows", nil, "Miner outflows, mainnet, blocks 0–14131, daily, 0-hop",
			[]string{"BTC per day"}},
		{"outflows-hops1", "outflows", []string{"--hops", "1"}, "Miner outflows, mainnet, blocks 0–14131, daily, 1-hop", nil},
		{"reserve", "reserve", nil, "Miner reserve, mainnet, blocks 0–14131, at each UTC day's end, 0-hop",
			[]string{"Miner reserve (BTC)"}},
		// Mainnet's first 60 full days end in early March 2009, so the 60-day average starts there.
		{"ribbons", "ribbons", nil, "Hash ribbons, mainnet, blocks 0–14131: 30- and 60-day averages of daily hashrate",
			[]string{"Hashrate", "Date (UTC)"}},
		{"hashrate-feb-log", "hashrate", []string{"--from", "2009-02-01", "--to", "2009-02-28", "--log"},
			"Network hashrate, mainnet, blocks", []string{"Hashrate (MH/s, log scale)", "2009-02-09"}},
	}
	for _, tc := range cases {
		for _, ext := range []string{"svg", "png"} {
			name := filepath.Join(out, tc.file+"."+ext)
			args := append([]string{"chart", tc.kind, "--index", idx, "--out", name}, tc.args...)
			if ext == "png" {
				args = append(args, "--width", "1000", "--height", "500")
			}
			r := mustRun(t, args...)
			if !strings.Contains(r.Stdout, "wrote "+name) {
				t.Errorf("%v: stdout %q", args, r.Stdout)
			}
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if ext == "png" {
				img, err := png.Decode(bytes.NewReader(data))
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if b := img.Bounds(); b.Dx() != 1000 || b.Dy() != 500 {
					t.Errorf("%s: %dx%d pixels, want 1000x500", name, b.Dx(), b.Dy())
				}
				continue
			}
			texts := strings.Join(svgTexts(t, data), "\n")
			for _, want := range append([]string{tc.title}, tc.texts...) {
				if !strings.Contains(texts, want) {
					t.Errorf("%s: no text %q in\n%s", name, want, texts)
				}
			}
		}
	}
}

// TestChartUsage checks that bad kinds, files, flags and ranges exit 2 without creating a file, and that a
// failed chart leaves an existing file as it was.
func TestChartUsage(t *testing.T) {
	dir := t.TempDir()
	hdrs := filepath.Join(dir, "headers-index")
	db, err := index.Open(hdrs, analysis.Mainnet, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	index.ConnectHeaders(t, db, index.MainnetHeaders(t)[:3000])
	db.Close()

	out := filepath.Join(dir, "c.png")
	cases := []struct {
		args []string
		msg  string
	}{
		{[]string{"chart", "--out", out}, "name one chart"},
		{[]string{"chart", "pie", "--out", out}, "name one chart"},
		{[]string{"chart", "hashrate", "difficulty", "--out", out}, "name one chart"},
		{[]string{"chart", "hashrate"}, "--out"},
		{[]string{"chart", "hashrate", "--out", filepath.Join(dir, "c.pdf")}, ".svg or .png"},
		{[]string{"chart", "hashrate", "--out", filepath.Join(dir, "c")}, ".svg or .png"},
		{[]string{"chart", "hashrate", "--out", out, "--log", "--linear"}, "exclude"},
		{[]string{"chart", "epochs", "--out", out, "--log"}, "--log and --linear apply"},
		{[]string{"chart", "hashrate", "--out", out, "--hops", "1"}, "--hops applies"},
		{[]string{"chart", "outflows", "--out", out, "--hops", "2"}, "--hops must be 0 or 1"},
		{[]string{"chart", "hashrate", "--out", out, "--width", "10"}, "pixels"},
		{[]string{"chart", "hashrate", "--out", out, "--from", "yesterday"}, "bad --from/--to"},
		{[]string{"chart", "hashrate", "--out", out, "--from", "2010-01-01"}, "no indexed block"},
		{[]string{"chart", "hashrate", "--out", out, "--to", "2008-12-31"}, "no indexed block"},
		{[]string{"chart", "hashrate", "--out", out, "--from", "999999"}, "outside the index"},
	}
	for _, tc := range cases {
		args := append(tc.args, "--index", hdrs)
		r := runCLI(t, nil, args...)
		if r.Code != exitUsage || !strings.Contains(r.Stderr, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, r.Code, r.Stderr, tc.msg)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("files left behind: %v", ents)
	}

	// A headers-only index has no miner flows: the chart fails and the existing file is untouched.
	if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "chart", "outflows", "--index", hdrs, "--out", out)
	if r.Code == 0 {
		t.Fatalf("outflows from a headers-only index: exit 0")
	}
	if b, _ := os.ReadFile(out); string(b) != "old" {
		t.Errorf("failed chart changed the existing file: %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("files after the failure: %v", ents)
	}
	// A directory that does not exist: an error, no file.
	r = runCLI(t, nil, "chart", "hashrate", "--index", hdrs, "--out", filepath.Join(dir, "no", "c.svg"))
	if r.Code == 0 || !strings.Contains(r.Stderr, "cannot write the chart") {
		t.Errorf("missing directory: exit %d, %q", r.Code, r.Stderr)
	}
	// Success replaces the file.
	mustRun(t, "chart", "difficulty", "--index", hdrs, "--out", out, "-q")
	if b, _ := os.ReadFile(out); !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("file after success starts %q", b[:min(8, len(b))])
	}
}
