package zzexp

import (
	"context"
	"encoding/binary"
	"os"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/minerscope/minerscope/chain"
	"github.com/minerscope/minerscope/index"
)

func TestSim(t *testing.T) {
	debug.SetGCPercent(400)
	ctx := context.Background()
	c, _ := chain.Dial(ctx, chain.Config{Host: "127.0.0.1:43307", User: "minerscope", Pass: "2938316b2efaedba6aeaeb5a0f1e2845"})
	best := map[string]time.Duration{}
	for round := 0; round < 6; round++ {
		st := time.Now()
		chain.BaselineFetch(ctx, c.Addr(), "minerscope", "2938316b2efaedba6aeaeb5a0f1e2845", 0, 14131, 500, 4)
		upd := func(k string, d time.Duration) {
			if best[k] == 0 || d < best[k] {
				best[k] = d
			}
		}
		upd("baseline", time.Since(st))
		// managed per-block async
		{
			dir, _ := os.MkdirTemp("", "bb")
			o := badger.DefaultOptions(dir).WithLogger(nil).WithDetectConflicts(false).WithNumVersionsToKeep(1).WithMemTableSize(16 << 20).WithMetricsEnabled(false)
			db, _ := badger.OpenManaged(o)
			st = time.Now()
			ch, errf := c.FetchHeaders(ctx, 0, 14131, 500, 4)
			i := 0
			var wg sync.WaitGroup
			for b := range ch {
				for j := range b.Headers {
					hh := b.Headers[j].BlockHash()
					txn := db.NewTransactionAt(uint64(i), true)
					for k := 0; k < 4; k++ {
						key := make([]byte, 5)
						key[0] = byte(k)
						binary.BigEndian.PutUint32(key[1:], uint32(i))
						if k == 2 {
							key = []byte{9, 't', 'i', 'p'}
						}
						val := make([]byte, 144)
						copy(val, hh[:])
						txn.Set(key, val)
					}
					wg.Add(1)
					txn.CommitAt(uint64(i+1), func(error) { wg.Done() })
					i++
				}
			}
			errf()
			wg.Wait()
			upd("managed-per-block-async", time.Since(st))
			db.Close()
			os.RemoveAll(dir)
		}
		{
			dir, _ := os.MkdirTemp("", "exp")
			db, _ := index.Open(dir, c.Network(), index.Options{})
			st = time.Now()
			ch, errf := c.FetchHeaders(ctx, 0, 14131, 500, 4)
			for b := range ch {
				db.ConnectHeaders(b.From, b.Headers)
			}
			errf()
			upd("index-batched", time.Since(st))
			db.Close()
			os.RemoveAll(dir)
		}
		{
			dir, _ := os.MkdirTemp("", "exp")
			db, _ := index.Open(dir, c.Network(), index.Options{})
			st = time.Now()
			ch, errf := c.FetchHeaders(ctx, 0, 14131, 500, 4)
			for b := range ch {
				for j := range b.Headers {
					db.ConnectHeader(b.From+int32(j), &b.Headers[j])
				}
			}
			errf()
			upd("index-per-block-sync", time.Since(st))
			db.Close()
			os.RemoveAll(dir)
		}
	}
	for k, v := range best {
		t.Logf("%s: %v ratio %.2f", k, v, float64(best["baseline"])/float64(v))
	}
}
