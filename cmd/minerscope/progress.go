package main

import (
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// barProgress draws a progress bar on a terminal; it is nil (no output) otherwise or with --quiet.
type barProgress struct {
	w    io.Writer
	bar  *progressbar.ProgressBar
	from int32
}

// newProgress returns a progress bar for headers, or nil when stderr is not a terminal or --quiet is set.
func newProgress(g *globalOptions) syncProgress {
	if g.Quiet {
		return nil
	}
	f, ok := g.stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &barProgress{w: f}
}

func (p *barProgress) Start(from, to int32) {
	p.from = from
	p.bar = progressbar.NewOptions64(int64(to-from+1),
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription("headers"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("hdr"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionFullWidth(),
		progressbar.OptionClearOnFinish(),
	)
}

func (p *barProgress) Advance(height int32) {
	if p.bar != nil {
		_ = p.bar.Set64(int64(height - p.from + 1))
	}
}

func (p *barProgress) Finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
