package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minerscope/minerscope/analysis"
	"github.com/minerscope/minerscope/api"
	"github.com/minerscope/minerscope/index"
)

// Load benchmark parameters: the requests of one run and the clients sending them at once.
const (
	loadRequests    = 10_000
	loadConcurrency = 32
)

// loadPaths are the endpoints the load benchmark cycles through: every API endpoint (several intervals),
// the metrics and the dashboard.
var loadPaths = []string{
	"/api/v1/minerscope/status",
	"/api/v1/difficulty-adjustment",
	"/api/v1/mining/hashrate/1m",
	"/api/v1/mining/hashrate/all",
	"/api/v1/mining/difficulty-adjustments/all",
	"/api/v1/mining/pools/1w",
	"/api/v1/mining/blocks/rewards/1m",
	"/api/v1/minerscope/hashrate",
	"/api/v1/minerscope/hashrate?window=24h",
	"/api/v1/minerscope/hashrate?blocks=2016",
	"/api/v1/minerscope/hashrate/series/3m",
	"/api/v1/minerscope/hashrate/series/all?period=weekly",
	"/api/v1/minerscope/epochs",
	"/api/v1/minerscope/next-adjustment",
	"/api/v1/minerscope/pools/1m",
	"/api/v1/minerscope/outflows/3m",
	"/api/v1/minerscope/outflows/all?hops=1&period=weekly",
	"/api/v1/minerscope/reserve",
	"/metrics",
	"/",
}

// BenchmarkServeLoad sends 10,000 requests from 32 loopback clients across the endpoints to a server on
// the full mainnet index of 2009 while the index follows new blocks (blocks 13,000 to 14,131 are connected
// one at a time during the run, each followed by TipChanged), and reports the latency percentiles and the
// throughput. Any request that fails or answers other than 200 fails the benchmark.
//
//	go test ./cmd/minerscope -run '^$' -bench BenchmarkServeLoad -benchtime 1x
func BenchmarkServeLoad(b *testing.B) {
	data := index.MainnetBlockData(b, 0)
	for b.Loop() {
		b.StopTimer()
		db := index.NewTestDB(b, analysis.Mainnet)
		if err := db.SetBlocksFrom(0, true); err != nil {
			b.Fatal(err)
		}
		index.ConnectBlocks(b, db, data[:13000])
		srv := api.New(db, api.Options{})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		hs := &http.Server{Handler: srv.Handler()}
		go hs.Serve(ln)
		base := "http://" + ln.Addr().String()
		b.StartTimer()

		lat, errs, took := loadRun(b, base, srv, db, data[13000:])

		b.StopTimer()
		_ = hs.Shutdown(context.Background())
		if errs > 0 {
			b.Fatalf("%d of %d requests failed", errs, loadRequests)
		}
		slices.Sort(lat)
		pct := func(p float64) float64 { return lat[int(p*float64(len(lat)-1))].Seconds() * 1000 }
		b.ReportMetric(pct(0.50), "p50-ms")
		b.ReportMetric(pct(0.99), "p99-ms")
		b.ReportMetric(lat[len(lat)-1].Seconds()*1000, "max-ms")
		b.ReportMetric(float64(loadRequests)/took.Seconds(), "req/s")
		b.StartTimer()
	}
}

// loadRun sends the requests while a goroutine connects more blocks, and returns each request's latency,
// the number of failed requests and the wall time.
func loadRun(b *testing.B, base string, srv *api.Server, db *index.DB, more []index.BlockData) ([]time.Duration, int64, time.Duration) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: loadConcurrency}}
	var next, errs atomic.Int64
	lat := make([]time.Duration, loadRequests)
	stopBlocks := make(chan struct{})
	blocksDone := make(chan struct{})
	go func() {
		defer close(blocksDone)
		for i := range more {
			select {
			case <-stopBlocks:
				return
			case <-time.After(2 * time.Millisecond):
			}
			if err := db.ConnectBlocks(db.Count(), more[i:i+1]); err != nil {
				b.Error(err)
				return
			}
			srv.TipChanged()
		}
	}()

	start := time.Now()
	var wg sync.WaitGroup
	for range loadConcurrency {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= loadRequests {
					return
				}
				path := loadPaths[int(i)%len(loadPaths)]
				t0 := time.Now()
				if err := loadGet(client, base+path); err != nil {
					if errs.Add(1) <= 5 {
						b.Logf("GET %s: %v", path, err)
					}
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	close(stopBlocks)
	<-blocksDone
	return lat, errs.Load(), took
}

// loadGet GETs url and reads the whole answer; anything but a 200 is an error.
func loadGet(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
