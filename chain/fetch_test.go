package chain

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"
)

// collect drains a FetchHeaders channel, checking that batches are
// contiguous from from, and returns the headers.
func collect(t *testing.T, from int32, ch <-chan HeaderBatch) []wire.BlockHeader {
	t.Helper()
	var got []wire.BlockHeader
	next := from
	for b := range ch {
		if b.From != next {
			t.Fatalf("batch starts at %d, want %d", b.From, next)
		}
		if len(b.Headers) != len(b.Hashes) || len(b.Headers) == 0 {
			t.Fatalf("batch at %d: %d headers, %d hashes", b.From, len(b.Headers), len(b.Hashes))
		}
		for i := range b.Headers {
			if b.Headers[i].BlockHash() != b.Hashes[i] {
				t.Fatalf("height %d: hash does not match header", b.From+int32(i))
			}
		}
		got = append(got, b.Headers...)
		next += int32(len(b.Headers))
	}
	return got
}

func TestFetchHeadersInOrder(t *testing.T) {
	headers := mainnetHeaders(t)[:3000]
	tests := []struct {
		from, to             int32
		batchSize, inFlight  int
		wantMaxConcurrentReq int64
	}{
		{0, 2999, 97, 4, 4},
		{1, 2998, 500, 1, 1},
		{2500, 2999, 0, 0, DefaultInFlight},
		{7, 7, 10, 3, 1},
		{0, 2999, 3000, 8, 1},
	}
	for _, tt := range tests {
		f := newFakeNode(t, headers)
		// Uneven answer times make later batches overtake earlier ones.
		f.delay = func(n int64) { time.Sleep(time.Duration(n*7%5) * time.Millisecond) }
		c := f.dial(t, f.config())

		ch, errf := c.FetchHeaders(testCtx(t), tt.from, tt.to, tt.batchSize, tt.inFlight)
		got := collect(t, tt.from, ch)
		if err := errf(); err != nil {
			t.Fatalf("%+v: %v", tt, err)
		}
		want := headers[tt.from : tt.to+1]
		if len(got) != len(want) {
			t.Fatalf("%+v: %d headers, want %d", tt, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%+v: header %d differs", tt, int(tt.from)+i)
			}
		}
		if m := f.maxInFlight.Load(); m > tt.wantMaxConcurrentReq {
			t.Errorf("%+v: %d concurrent requests, want <= %d", tt, m, tt.wantMaxConcurrentReq)
		}
	}
}

func TestFetchHeadersEmptyRange(t *testing.T) {
	f := newFakeNode(t, mainnetHeaders(t)[:10])
	c := f.dial(t, f.config())
	ch, errf := c.FetchHeaders(testCtx(t), 5, 4, 10, 2)
	if got := collect(t, 5, ch); len(got) != 0 || errf() != nil {
		t.Errorf("%d headers, err %v", len(got), errf())
	}
}

func TestFetchHeadersStopsAtFirstError(t *testing.T) {
	headers := mainnetHeaders(t)[:2000]
	f := newFakeNode(t, headers)
	c := f.dial(t, f.config())
	// The node serves block 1001's header when asked for block 1000.
	f.mu.Lock()
	f.hashes[headers[1000].BlockHash()] = 1001
	f.mu.Unlock()

	ch, errf := c.FetchHeaders(testCtx(t), 0, 1999, 100, 4)
	got := collect(t, 0, ch)
	err := errf()
	var bad *BadHeaderError
	if !errors.As(err, &bad) || bad.Height != 1000 || !errors.Is(err, ErrHashMismatch) {
		t.Fatalf("err = %v, want hash mismatch at 1000", err)
	}
	if len(got) != 1000 {
		t.Errorf("%d headers delivered before the error, want 1000", len(got))
	}
}

func TestFetchHeadersPastTip(t *testing.T) {
	f := newFakeNode(t, mainnetHeaders(t)[:100])
	c := f.dial(t, f.config())
	ch, errf := c.FetchHeaders(testCtx(t), 0, 150, 40, 2)
	got := collect(t, 0, ch)
	if err := errf(); !errors.Is(err, ErrHeightOutOfRange) {
		t.Fatalf("err = %v, want ErrHeightOutOfRange", err)
	}
	if len(got) != 80 {
		t.Errorf("%d headers, want the 2 full batches (80)", len(got))
	}
}

func TestFetchHeadersCancel(t *testing.T) {
	f := newFakeNode(t, mainnetHeaders(t)[:3000])
	c := f.dial(t, f.config())
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()

	ch, errf := c.FetchHeaders(ctx, 0, 2999, 50, 3)
	n := 0
	for range ch {
		if n++; n == 2 {
			cancel()
		}
	}
	// errf returns only once every fetching goroutine has ended.
	if err := errf(); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n >= 60 {
		t.Errorf("all %d batches delivered despite cancel", n)
	}
}
