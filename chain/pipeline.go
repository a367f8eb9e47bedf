package chain

import (
	"context"
	"sync"
)

// orderedFetch is the pipeline behind FetchHeaders and every block source. It splits n items into
// batches of size, runs fetch on up to inFlight batches at once and delivers their items in order on the
// returned channel. pending queues the batches in order and the deliverer holds one more, so inFlight
// bounds the batches fetched but not yet delivered, whatever their size.
//
// prepare, when not nil, runs once before the first batch. A batch that fails delivers the items it
// returned before the failure, then ends the pipeline; the channel is closed on the first error or when
// all items are delivered. The returned function waits for the end and reports the first error, and
// whether every batch was delivered (false after a cancellation). A consumer that stops early must
// cancel ctx.
func orderedFetch[T any](ctx context.Context, n, size, inFlight int, prepare func(context.Context) error,
	fetch func(ctx context.Context, lo, hi int) ([]T, error)) (<-chan T, func() (complete bool, err error)) {

	size, inFlight = max(size, 1), max(inFlight, 1)
	type result struct {
		items []T
		err   error
	}
	ctx, cancel := context.WithCancel(ctx)
	out := make(chan T)
	done := make(chan struct{})
	pending := make(chan chan result, inFlight-1)
	var wg sync.WaitGroup

	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(pending)
		queue := func(r chan result) bool {
			select {
			case pending <- r:
				return true
			case <-ctx.Done():
				return false
			}
		}
		if prepare != nil {
			if err := prepare(ctx); err != nil {
				r := make(chan result, 1)
				r <- result{err: err}
				queue(r)
				return
			}
		}
		for lo := 0; lo < n; lo += size {
			r := make(chan result, 1)
			if !queue(r) {
				return
			}
			hi := min(lo+size, n)
			wg.Add(1)
			go func() {
				defer wg.Done()
				items, err := fetch(ctx, lo, hi)
				r <- result{items, err}
			}()
		}
	}()

	var (
		firstErr error
		batches  int
	)
	go func() {
		defer func() {
			cancel()
			wg.Wait()
			close(out)
			close(done)
		}()
		for r := range pending {
			res := <-r
			for i := range res.items {
				select {
				case out <- res.items[i]:
					var zero T
					res.items[i] = zero // the consumer owns it now
				case <-ctx.Done():
					firstErr = ctx.Err()
					return
				}
			}
			if res.err != nil {
				firstErr = res.err
				return
			}
			batches++
		}
	}()

	want := (n + size - 1) / size
	return out, func() (bool, error) {
		<-done
		return firstErr == nil && batches == want, firstErr
	}
}
