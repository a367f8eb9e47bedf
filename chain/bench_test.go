package chain

import (
	"fmt"
	"testing"

	"github.com/minerscope/minerscope/chain/chaintest"
)

// BenchmarkFetchHeaders fetches mainnet headers 0-14131 from a real btcd
// with several batch sizes and concurrency levels, against BaselineFetch
// with the same settings. It chose DefaultBatchSize and DefaultInFlight.
//
//	go test ./chain/ -run '^$' -bench FetchHeaders -benchtime 5x
func BenchmarkFetchHeaders(b *testing.B) {
	n := chaintest.StartMainnet(b)
	ctx := b.Context()
	c := dialNode(b, ctx, n, nil)

	for _, inFlight := range []int{1, 2, 4, 8} {
		for _, size := range []int{50, 100, 250, 500, 1000, 2000, 5000} {
			name := fmt.Sprintf("inflight=%d/batch=%d", inFlight, size)
			b.Run("client/"+name, func(b *testing.B) {
				for b.Loop() {
					ch, errf := c.FetchHeaders(ctx, 0, mainnetTip, size, inFlight)
					got := 0
					for batch := range ch {
						got += len(batch.Headers)
					}
					if err := errf(); err != nil || got != mainnetTip+1 {
						b.Fatalf("%d headers, %v", got, err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(mainnetTip+1), "ns/header")
			})
			b.Run("baseline/"+name, func(b *testing.B) {
				for b.Loop() {
					got, err := BaselineFetch(ctx, n.RPCAddr, n.User, n.Pass, 0, mainnetTip, size, inFlight)
					if err != nil || got != mainnetTip+1 {
						b.Fatalf("%d headers, %v", got, err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(mainnetTip+1), "ns/header")
			})
		}
	}
}
