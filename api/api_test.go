package api

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"

	"github.com/minerscope/minerscope/index"
)

// intervalCase is one interval and, written out by hand, its start on the
// test chain, whose tip is stamped 2009-05-12T06:38:31Z.
type intervalCase struct {
	name  string
	start string // "" for before genesis
}

var intervalCases = []intervalCase{
	{"24h", "2009-05-11T06:38:31Z"},
	{"3d", "2009-05-09T06:38:31Z"},
	{"1w", "2009-05-05T06:38:31Z"},
	{"1m", "2009-04-12T06:38:31Z"},
	{"3m", "2009-02-12T06:38:31Z"},
	{"6m", "2008-11-12T06:38:31Z"},
	{"1y", "2008-05-12T06:38:31Z"},
	{"2y", "2007-05-12T06:38:31Z"},
	{"3y", "2006-05-12T06:38:31Z"},
	{"4y", "2005-05-12T06:38:31Z"},
	{"all", ""},
}

// start returns the interval's start as unix seconds.
func (c intervalCase) from() int64 {
	if c.start == "" {
		return math.MinInt64
	}
	t, err := time.Parse(time.RFC3339, c.start)
	if err != nil {
		panic(err)
	}
	return t.Unix()
}

// TestAPI starts a server on the full mainnet index of blocks 0 to 14131 and
// checks every endpoint against figures computed here from the block file.
func TestAPI(t *testing.T) {
	_, ts, hdrs, _ := fullServer(t, testTip+1)
	tipTime := hdrs[testTip].Timestamp.Unix()
	if len(intervalCases) != testIntervals {
		t.Fatalf("the test covers %d intervals, the API has %d", len(intervalCases), testIntervals)
	}

	t.Run("status", func(t *testing.T) { testStatus(t, ts.URL, hdrs) })
	t.Run("mempool hashrate", func(t *testing.T) { testMempoolHashrate(t, ts.URL, hdrs, tipTime) })
	t.Run("mempool difficulty adjustments", func(t *testing.T) { testMempoolAdjustments(t, ts.URL) })
	t.Run("mempool difficulty adjustment", func(t *testing.T) { testMempoolAdjustment(t, ts.URL, hdrs) })
	t.Run("mempool pools", func(t *testing.T) { testMempoolPools(t, ts.URL, hdrs, tipTime) })
	t.Run("mempool rewards", func(t *testing.T) { testMempoolRewards(t, ts.URL, hdrs, tipTime) })
	t.Run("hashrate", func(t *testing.T) { testHashrate(t, ts.URL, hdrs, tipTime) })
	t.Run("hashrate series", func(t *testing.T) { testSeries(t, ts.URL, hdrs, tipTime) })
	t.Run("epochs", func(t *testing.T) { testEpochs(t, ts.URL, hdrs) })
	t.Run("next adjustment", func(t *testing.T) { testNextAdjustment(t, ts.URL, hdrs) })
	t.Run("pools", func(t *testing.T) { testPools(t, ts.URL, hdrs, tipTime) })
	t.Run("outflows and reserve", func(t *testing.T) { testFlows(t, ts.URL, hdrs) })
	t.Run("errors", func(t *testing.T) { testErrors(t, ts.URL) })
	t.Run("metrics", func(t *testing.T) { testMetrics(t, ts.URL, hdrs) })
}

func testStatus(t *testing.T, url string, hdrs []wire.BlockHeader) {
	var st map[string]any
	getJSON(t, url+"/api/v1/minerscope/status", &st)
	checkShape(t, "status", st, map[string]string{
		"network": "string", "index_height": "number", "index_hash": "string", "index_time": "string",
		"blocks_from": "number", "full_blocks": "bool", "node_height": "null", "last_sync": "null",
		"last_error": "string", "sync_errors": "number", "following": "bool",
	})
	want := map[string]any{"network": "mainnet", "index_height": json.Number("14131"),
		"index_hash": hdrs[testTip].BlockHash().String(), "index_time": "2009-05-12T06:38:31Z",
		"blocks_from": json.Number("0"), "full_blocks": true, "following": false}
	for k, v := range want {
		if st[k] != v {
			t.Errorf("status %s = %v, want %v", k, st[k], v)
		}
	}
}

func testMempoolHashrate(t *testing.T, url string, hdrs []wire.BlockHeader, tipTime int64) {
	// Complete UTC days ending (at midnight) in the interval; each day's
	// hashrate is its blocks' work over 86400 s.
	lastMidnight := tipTime / 86400 * 86400
	for _, c := range intervalCases {
		var got map[string]any
		getJSON(t, url+"/api/v1/mining/hashrate/"+c.name, &got)
		checkShape(t, "hashrate/"+c.name, got, map[string]string{
			"hashrates": "array", "difficulty": "array", "currentHashrate": "number", "currentDifficulty": "number"})
		var want []int64 // the midnights ending each day
		for end := lastMidnight; end > c.from() && end-86400 >= genesisTime/86400*86400; end -= 86400 {
			want = append([]int64{end}, want...)
		}
		pts := got["hashrates"].([]any)
		if len(pts) != len(want) {
			t.Errorf("hashrate/%s: %d days, want %d", c.name, len(pts), len(want))
			continue
		}
		for i, p := range pts {
			obj := p.(map[string]any)
			checkShape(t, "hashrates[]", obj, map[string]string{"timestamp": "number", "avgHashrate": "number"})
			n := len(blocksIn(hdrs, testTip, want[i]-86400-1, want[i]-1)) // [S, E)
			if ts := int64(num(t, obj["timestamp"])); ts != want[i] {
				t.Errorf("hashrate/%s day %d: timestamp %d, want %d", c.name, i, ts, want[i])
			}
			if h := num(t, obj["avgHashrate"]); !relClose(h, float64(n)*diff1Work/86400) {
				t.Errorf("hashrate/%s day %d: avgHashrate %v, want %d blocks of work a day = %v", c.name, i, h,
					n, float64(n)*diff1Work/86400)
			}
		}
		// 2009 had no retarget that changed the difficulty: only genesis.
		diff := got["difficulty"].([]any)
		if c.from() < genesisTime {
			if len(diff) != 1 {
				t.Fatalf("hashrate/all: difficulty %v, want the genesis entry only", diff)
			}
			obj := diff[0].(map[string]any)
			checkShape(t, "difficulty[]", obj, map[string]string{"time": "number", "height": "number",
				"difficulty": "number", "adjustment": "number"})
			if num(t, obj["time"]) != genesisTime || num(t, obj["height"]) != 0 || num(t, obj["difficulty"]) != 1 ||
				num(t, obj["adjustment"]) != 0 {
				t.Errorf("hashrate/all: difficulty entry %v, want genesis at difficulty 1", obj)
			}
		} else if len(diff) != 0 {
			t.Errorf("hashrate/%s: difficulty %v, want none", c.name, diff)
		}
		if d := num(t, got["currentDifficulty"]); d != 1 {
			t.Errorf("currentDifficulty %v, want 1", d)
		}
		if h, want := num(t, got["currentHashrate"]), coreHashPS(hdrs, 120, testTip); !relClose(h, want) {
			t.Errorf("currentHashrate %v, want getnetworkhashps(120) = %v", h, want)
		}
	}
}

func testMempoolAdjustments(t *testing.T, url string) {
	for _, c := range append(intervalCases, intervalCase{name: ""}) {
		path := "/api/v1/mining/difficulty-adjustments/" + c.name
		if c.name == "" {
			path = strings.TrimSuffix(path, "/") // mempool's route without an interval: all
		}
		var got [][]json.Number
		getJSON(t, url+path, &got)
		want := 0
		if c.name == "" || c.from() < genesisTime {
			want = 1
		}
		if len(got) != want {
			t.Errorf("%s: %v, want %d entries", path, got, want)
			continue
		}
		if want == 1 && (len(got[0]) != 4 || got[0][0] != "1231006505" || got[0][1] != "0" || got[0][2] != "1" ||
			got[0][3] != "0") {
			t.Errorf("%s: %v, want [[1231006505, 0, 1, 0]]", path, got)
		}
	}
}

func testMempoolAdjustment(t *testing.T, url string, hdrs []wire.BlockHeader) {
	var got map[string]any
	getJSON(t, url+"/api/v1/difficulty-adjustment", &got)
	fields := []string{"progressPercent", "difficultyChange", "estimatedRetargetDate", "remainingBlocks",
		"remainingTime", "previousRetarget", "previousTime", "nextRetargetHeight", "timeAvg", "adjustedTimeAvg",
		"timeOffset", "expectedBlocks"}
	shape := map[string]string{}
	for _, f := range fields {
		shape[f] = "number"
	}
	checkShape(t, "difficulty-adjustment", got, shape)

	// mempool.space's formula, written out for the tip 14131 (19 blocks
	// into the epoch starting at 14112) with now = the tip's timestamp:
	// early in the epoch it measures the 504 blocks since 13628.
	tm := func(h int) float64 { return float64(hdrs[h].Timestamp.Unix()) }
	now := tm(14131)
	span := now - tm(13628)
	want := map[string]float64{
		"progressPercent":       19.0 / 2016 * 100,
		"remainingBlocks":       1997,
		"nextRetargetHeight":    16128,
		"previousRetarget":      0,
		"previousTime":          tm(14112),
		"expectedBlocks":        (now - tm(14112)) / 600,
		"timeAvg":               math.Floor((now - tm(14112)) / 19 * 1000),
		"adjustedTimeAvg":       math.Floor(span / 503 * 1000),
		"difficultyChange":      (600/(span/504) - 1) * 100,
		"remainingTime":         1997 * math.Floor(span/503*1000),
		"estimatedRetargetDate": 1997*math.Floor(span/503*1000) + now*1000,
		"timeOffset":            0,
	}
	for k, w := range want {
		if g := num(t, got[k]); !relClose(g, w) {
			t.Errorf("difficulty-adjustment %s = %v, want %v", k, g, w)
		}
	}
}

func testMempoolPools(t *testing.T, url string, hdrs []wire.BlockHeader, tipTime int64) {
	for _, c := range intervalCases {
		var got map[string]any
		getJSON(t, url+"/api/v1/mining/pools/"+c.name, &got)
		checkShape(t, "pools/"+c.name, got, map[string]string{"pools": "array", "blockCount": "number",
			"lastEstimatedHashrate": "number", "lastEstimatedHashrate3d": "number", "lastEstimatedHashrate1w": "number"})
		n := len(blocksIn(hdrs, testTip, max(c.from(), genesisTime-1), tipTime))
		if bc := int(num(t, got["blockCount"])); bc != n {
			t.Errorf("pools/%s: blockCount %d, want %d", c.name, bc, n)
		}
		sum, prev := 0, math.MaxInt
		for i, p := range got["pools"].([]any) {
			obj := p.(map[string]any)
			checkShape(t, "pools[]", obj, map[string]string{"poolId": "number", "name": "string", "link": "string",
				"blockCount": "number", "rank": "number", "emptyBlocks": "number", "slug": "string",
				"avgMatchRate": "number|null", "avgFeeDelta": "string|null", "poolUniqueId": "number"})
			bc := int(num(t, obj["blockCount"]))
			if int(num(t, obj["rank"])) != i+1 || bc > prev {
				t.Errorf("pools/%s: pool %d has rank %v and %d blocks after %d", c.name, i, obj["rank"], bc, prev)
			}
			if eb := int(num(t, obj["emptyBlocks"])); eb > bc {
				t.Errorf("pools/%s: %d empty blocks of %d", c.name, eb, bc)
			}
			sum, prev = sum+bc, bc
		}
		if sum != n {
			t.Errorf("pools/%s: pools hold %d blocks, want %d", c.name, sum, n)
		}
		for key, secs := range map[string]int64{"lastEstimatedHashrate": 86400, "lastEstimatedHashrate3d": 3 * 86400,
			"lastEstimatedHashrate1w": 7 * 86400} {
			k := len(blocksIn(hdrs, testTip, tipTime-secs, tipTime))
			if g, w := num(t, got[key]), coreHashPS(hdrs, k, testTip); !relClose(g, w) {
				t.Errorf("pools/%s: %s = %v, want getnetworkhashps(%d) = %v", c.name, key, g, k, w)
			}
		}
	}
}

func testMempoolRewards(t *testing.T, url string, hdrs []wire.BlockHeader, tipTime int64) {
	blocks := index.MainnetBlocks(t)
	buckets := map[string]int64{"24h": 1, "3d": 1, "1w": 300, "1m": 1800, "3m": 7200, "6m": 10800, "1y": 28800,
		"2y": 28800, "3y": 43200, "4y": 43200, "all": 86400}
	for _, c := range intervalCases {
		var got []map[string]any
		getJSON(t, url+"/api/v1/mining/blocks/rewards/"+c.name, &got)
		// Group the window's blocks by time / bucket, as mempool's SQL does.
		type acc struct{ n, heights, times, rewards int64 }
		groups := map[int64]*acc{}
		var keys []int64
		for _, h := range blocksIn(hdrs, testTip, c.from(), tipTime) {
			ts := hdrs[h].Timestamp.Unix()
			k := ts / buckets[c.name]
			if groups[k] == nil {
				groups[k] = &acc{}
				keys = append(keys, k)
			}
			g := groups[k]
			g.n, g.heights, g.times = g.n+1, g.heights+int64(h), g.times+ts
			for _, out := range blocks[h].Transactions[0].TxOut {
				g.rewards += out.Value
			}
		}
		if len(got) != len(groups) {
			t.Errorf("rewards/%s: %d buckets, want %d", c.name, len(got), len(groups))
			continue
		}
		for i, obj := range got {
			checkShape(t, "rewards[]", obj, map[string]string{"avgHeight": "number", "timestamp": "number",
				"avgRewards": "number", "USD": "number|null"})
			ts := int64(num(t, obj["timestamp"]))
			g := groups[ts/buckets[c.name]]
			if g == nil {
				t.Errorf("rewards/%s[%d]: timestamp %d is in no bucket of the window", c.name, i, ts)
				continue
			}
			if mh := math.Round(float64(g.heights) / float64(g.n)); num(t, obj["avgHeight"]) != mh {
				t.Errorf("rewards/%s[%d]: avgHeight %v, want %v", c.name, i, obj["avgHeight"], mh)
			}
			if mr := math.Round(float64(g.rewards) / float64(g.n)); num(t, obj["avgRewards"]) != mr {
				t.Errorf("rewards/%s[%d]: avgRewards %v, want %v", c.name, i, obj["avgRewards"], mr)
			}
			if mt := math.Round(float64(g.times) / float64(g.n)); float64(ts) != mt {
				t.Errorf("rewards/%s[%d]: timestamp %v, want %v", c.name, i, ts, mt)
			}
		}
	}
}

func testHashrate(t *testing.T, url string, hdrs []wire.BlockHeader, tipTime int64) {
	shape := map[string]string{"hashrate_hs": "number", "lo_hs": "number", "hi_hs": "number",
		"has_interval": "bool", "from_height": "number", "to_height": "number", "from_time": "string",
		"to_time": "string", "intervals": "number", "seconds": "number", "work": "string", "method": "string",
		"window_start": "string", "window_end": "string"}
	for _, c := range []struct {
		query   string
		from    int64
		to      int64
		seconds int64
	}{
		{"", tipTime - 7*86400, tipTime, 7 * 86400},
		{"?window=24h", tipTime - 86400, tipTime, 86400},
		{"?window=3d&at=2009-03-01", 1235865600 - 3*86400, 1235865600, 3 * 86400},
		{"?window=36h&at=2009-02-01T12:00:00Z", 1233489600 - 36*3600, 1233489600, 36 * 3600},
	} {
		var got map[string]any
		getJSON(t, url+"/api/v1/minerscope/hashrate"+c.query, &got)
		checkShape(t, "hashrate"+c.query, got, shape)
		n := len(blocksIn(hdrs, testTip, c.from, c.to))
		if int(num(t, got["intervals"])) != n {
			t.Errorf("hashrate%s: %v blocks, want %d", c.query, got["intervals"], n)
		}
		want := float64(n) * diff1Work / float64(c.seconds)
		if h := num(t, got["hashrate_hs"]); !relClose(h, want) {
			t.Errorf("hashrate%s: %v H/s, want %v", c.query, h, want)
		}
		if lo, hi, h := num(t, got["lo_hs"]), num(t, got["hi_hs"]), num(t, got["hashrate_hs"]); !(lo < h && h < hi) {
			t.Errorf("hashrate%s: interval %v..%v does not hold %v", c.query, lo, hi, h)
		}
	}
	// getnetworkhashps(N, H).
	for _, c := range []struct {
		query     string
		n, height int
	}{{"?blocks=120", 120, testTip}, {"?blocks=500&at_height=10000", 500, 10000}, {"?at_height=2016", 120, 2016}} {
		var got map[string]any
		getJSON(t, url+"/api/v1/minerscope/hashrate"+c.query, &got)
		if h, w := num(t, got["hashrate_hs"]), coreHashPS(hdrs, c.n, c.height); !relClose(h, w) {
			t.Errorf("hashrate%s: %v, want %v", c.query, h, w)
		}
	}
}

func testSeries(t *testing.T, url string, hdrs []wire.BlockHeader, tipTime int64) {
	for _, c := range intervalCases {
		for _, period := range []string{"", "daily", "weekly"} {
			q := ""
			if period != "" {
				q = "?period=" + period
			}
			var got struct {
				Interval, Period, From, To string
				Points                     []struct {
					Start, End string
					Blocks     int
					HashrateHS float64 `json:"hashrate_hs"`
					LoHS       float64 `json:"lo_hs"`
					HiHS       float64 `json:"hi_hs"`
				}
			}
			getJSON(t, url+"/api/v1/minerscope/hashrate/series/"+c.name+q, &got)
			if got.Interval != c.name || (got.Period != period && period != "") {
				t.Errorf("series/%s%s: interval %q period %q", c.name, q, got.Interval, got.Period)
			}
			// The points tile the interval's blocks: every block in
			// (from, tip] is in exactly one of them.
			total := 0
			for i, p := range got.Points {
				s, _ := time.Parse(time.RFC3339, p.Start)
				e, _ := time.Parse(time.RFC3339, p.End)
				n := len(blocksIn(hdrs, testTip, s.Unix()-1, e.Unix()-1))
				if n != p.Blocks {
					t.Errorf("series/%s%s[%d]: %d blocks, the block file has %d in [%s, %s)", c.name, q, i, p.Blocks,
						n, p.Start, p.End)
				}
				if !relClose(p.HashrateHS, float64(n)*diff1Work/float64(e.Unix()-s.Unix())) {
					t.Errorf("series/%s%s[%d]: %v H/s for %d blocks in %d s", c.name, q, i, p.HashrateHS, n,
						e.Unix()-s.Unix())
				}
				if i > 0 && got.Points[i-1].End != p.Start {
					t.Errorf("series/%s%s: gap before point %d", c.name, q, i)
				}
				total += n
			}
			if want := len(blocksIn(hdrs, testTip, c.from(), tipTime)); total != want {
				t.Errorf("series/%s%s: points hold %d blocks, the interval %d", c.name, q, total, want)
			}
		}
	}
}

func testEpochs(t *testing.T, url string, hdrs []wire.BlockHeader) {
	var all []map[string]any
	getJSON(t, url+"/api/v1/minerscope/epochs", &all)
	if len(all) != 8 {
		t.Fatalf("%d epochs, want 8 (0 to 7)", len(all))
	}
	for i, e := range all {
		checkShape(t, "epoch", e, map[string]string{"epoch": "number", "start_height": "number",
			"end_height": "number", "start_time": "string", "end_time": "string", "bits": "string",
			"difficulty": "number", "change_pct": "number", "duration_s": "number", "hashrate_hs": "number",
			"hashrate_lo_hs": "number", "hashrate_hi_hs": "number", "complete": "bool"})
		start, end := i*2016, min(i*2016+2015, testTip)
		dur := hdrs[end].Timestamp.Unix() - hdrs[start].Timestamp.Unix()
		if int(num(t, e["start_height"])) != start || int(num(t, e["end_height"])) != end || e["bits"] != "1d00ffff" ||
			num(t, e["difficulty"]) != 1 || int64(num(t, e["duration_s"])) != dur || e["complete"] != (i < 7) {
			t.Errorf("epoch %d: %v; want heights %d-%d, difficulty 1, %d s", i, e, start, end, dur)
		}
	}
	for _, c := range intervalCases {
		var got []map[string]any
		getJSON(t, url+"/api/v1/minerscope/epochs?interval="+c.name, &got)
		want := 0
		for i := range 8 {
			end := min(i*2016+2015, testTip)
			if hdrs[end].Timestamp.Unix() > c.from() || i == 7 {
				want++
			}
		}
		if len(got) != want {
			t.Errorf("epochs?interval=%s: %d epochs, want %d", c.name, len(got), want)
		}
	}
}

func testNextAdjustment(t *testing.T, url string, hdrs []wire.BlockHeader) {
	var got map[string]any
	getJSON(t, url+"/api/v1/minerscope/next-adjustment", &got)
	checkShape(t, "next-adjustment", got, map[string]string{"now": "string", "tip_height": "number",
		"next_retarget_height": "number", "blocks_remaining": "number", "current_difficulty": "number",
		"projected_difficulty": "number", "change_pct": "number", "change_lo_pct": "number",
		"change_hi_pct": "number", "date": "string", "date_lo": "string", "date_hi": "string", "rate": "object",
		"halving_height": "number", "halving_blocks_remaining": "number", "halving_date": "string",
		"halving_date_lo": "string", "halving_date_hi": "string"})
	for k, w := range map[string]float64{"tip_height": 14131, "next_retarget_height": 16128,
		"blocks_remaining": 16127 - 14131, "current_difficulty": 1, "halving_height": 210000,
		"halving_blocks_remaining": 210000 - 14131} {
		if g := num(t, got[k]); g != w {
			t.Errorf("next-adjustment %s = %v, want %v", k, g, w)
		}
	}
	if got["now"] != "2009-05-12T06:38:31Z" {
		t.Errorf("now = %v, want the tip's timestamp", got["now"])
	}
	lo, mid, hi := num(t, got["change_lo_pct"]), num(t, got["change_pct"]), num(t, got["change_hi_pct"])
	if !(lo <= mid && mid <= hi) {
		t.Errorf("change interval %v..%v does not hold %v", lo, hi, mid)
	}
	var later map[string]any
	getJSON(t, url+"/api/v1/minerscope/next-adjustment?now=2009-05-20", &later)
	if later["now"] != "2009-05-20T00:00:00Z" {
		t.Errorf("?now=2009-05-20: now = %v", later["now"])
	}
}

func testPools(t *testing.T, url string, hdrs []wire.BlockHeader, tipTime int64) {
	for _, c := range intervalCases {
		var got []map[string]any
		getJSON(t, url+"/api/v1/minerscope/pools/"+c.name, &got)
		total, share := 0, 0.0
		for _, p := range got {
			checkShape(t, "pool", p, map[string]string{"pool": "string", "blocks": "number", "share": "number",
				"share_lo": "number", "share_hi": "number", "hashrate_hs": "number", "hashrate_lo_hs": "number",
				"hashrate_hi_hs": "number", "by_address": "number", "by_tag": "number", "empty_blocks": "number"})
			total += int(num(t, p["blocks"]))
			share += num(t, p["share"])
			if lo, s, hi := num(t, p["share_lo"]), num(t, p["share"]), num(t, p["share_hi"]); !(lo <= s && s <= hi) {
				t.Errorf("pools/%s %v: share interval %v..%v does not hold %v", c.name, p["pool"], lo, hi, s)
			}
		}
		n := len(blocksIn(hdrs, testTip, c.from(), tipTime))
		if total != n || (n > 0 && math.Abs(share-1) > 1e-9) {
			t.Errorf("pools/%s: %d blocks with shares summing to %v, want %d and 1", c.name, total, share, n)
		}
	}
}

func testFlows(t *testing.T, url string, hdrs []wire.BlockHeader) {
	for _, hops := range []string{"0", "1"} {
		var res map[string]any
		getJSON(t, url+"/api/v1/minerscope/reserve?hops="+hops, &res)
		checkShape(t, "reserve", res, map[string]string{"height": "number", "time": "string", "hops": "number",
			"reserve_sat": "number", "tracked_from_height": "number"})
		reserve := int64(num(t, res["reserve_sat"]))
		if hops == "0" {
			if want := independentReserve(t); reserve != want {
				t.Errorf("reserve: %d sat, the blocks say %d", reserve, want)
			}
		}
		for _, period := range []string{"daily", "weekly", "epoch"} {
			var all struct {
				Points []map[string]any `json:"points"`
			}
			getJSON(t, url+"/api/v1/minerscope/outflows/all?hops="+hops+"&period="+period, &all)
			var net int64
			for _, p := range all.Points {
				checkShape(t, "outflow point", p, map[string]string{"period": "string", "start": "string",
					"end": "string", "from_height": "number", "to_height": "number", "blocks": "number",
					"outflow_sat": "number", "internal_sat": "number", "inflow_sat": "number",
					"coinbase_inflow_sat": "number", "miner_fee_sat": "number", "lost_sat": "number",
					"reserve_sat": "number", "net_change_sat": "number", "revenue_sat": "number",
					"outflow_multiple": "number|null", "ma_days": "number", "outflow_revenue_ratio": "number|null",
					"spending_txs": "number"})
				net += int64(num(t, p["net_change_sat"]))
			}
			last := all.Points[len(all.Points)-1]
			if net != reserve || int64(num(t, last["reserve_sat"])) != reserve {
				t.Errorf("outflows hops=%s %s: net changes sum to %d, last reserve %v, /reserve says %d", hops, period,
					net, last["reserve_sat"], reserve)
			}
		}
	}
	for _, c := range intervalCases {
		var got struct {
			Interval string
			Hops     int
			Period   string
			Points   []struct{ End string }
		}
		getJSON(t, url+"/api/v1/minerscope/outflows/"+c.name, &got)
		if got.Interval != c.name || got.Hops != 0 || got.Period != "daily" || len(got.Points) == 0 {
			t.Errorf("outflows/%s: %+v", c.name, got)
		}
		for _, p := range got.Points {
			if e, _ := time.Parse(time.RFC3339, p.End); e.Unix() <= c.from() {
				t.Errorf("outflows/%s: a day ending %s, before the interval", c.name, p.End)
			}
		}
	}
}

func testErrors(t *testing.T, url string) {
	bad := []string{
		"/api/v1/mining/hashrate/5y", "/api/v1/mining/pools/1d", "/api/v1/mining/blocks/rewards/week",
		"/api/v1/mining/difficulty-adjustments/ALL", "/api/v1/minerscope/hashrate/series/1m?period=hourly",
		"/api/v1/minerscope/hashrate/series/2w", "/api/v1/minerscope/hashrate?window=7x",
		"/api/v1/minerscope/hashrate?window=-1d", "/api/v1/minerscope/hashrate?at=yesterday",
		"/api/v1/minerscope/hashrate?blocks=ten", "/api/v1/minerscope/hashrate?at_height=99999",
		"/api/v1/minerscope/hashrate?blocks=10&window=1d", "/api/v1/minerscope/hashrate?windw=1d",
		"/api/v1/minerscope/epochs?interval=5d", "/api/v1/minerscope/next-adjustment?now=2009-01-01",
		"/api/v1/minerscope/next-adjustment?now=soon", "/api/v1/minerscope/pools/7d",
		"/api/v1/minerscope/outflows/1m?hops=2", "/api/v1/minerscope/outflows/1m?period=monthly",
		"/api/v1/minerscope/reserve?hops=-1", "/api/v1/difficulty-adjustment?now=0",
	}
	for _, p := range bad {
		wantError(t, http.MethodGet, url+p, http.StatusBadRequest)
	}
	for _, p := range []string{"/api/v1/nothing", "/api/v2/minerscope/status", "/api/v1/mining/hashrate/",
		"/api/v1/minerscope/hashrate/series/", "/nothing-here"} {
		wantError(t, http.MethodGet, url+p, http.StatusNotFound)
	}
	every := []string{"/api/v1/difficulty-adjustment", "/api/v1/mining/hashrate/1m",
		"/api/v1/mining/difficulty-adjustments/1m", "/api/v1/mining/pools/1m", "/api/v1/mining/blocks/rewards/1m",
		"/api/v1/minerscope/status", "/api/v1/minerscope/hashrate", "/api/v1/minerscope/hashrate/series/1m",
		"/api/v1/minerscope/epochs", "/api/v1/minerscope/next-adjustment", "/api/v1/minerscope/pools/1m",
		"/api/v1/minerscope/outflows/1m", "/api/v1/minerscope/reserve", "/metrics", "/", "/api/v1/nothing"}
	for _, p := range every {
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
			wantError(t, m, url+p, http.StatusMethodNotAllowed)
		}
		if status, _, body := fetch(t, http.MethodHead, url+p); p != "/api/v1/nothing" && (status != 200 || len(body) != 0) {
			t.Errorf("HEAD %s: %d with %d bytes", p, status, len(body))
		}
	}
}

func testMetrics(t *testing.T, url string, hdrs []wire.BlockHeader) {
	status, ctype, body := fetch(t, http.MethodGet, url+"/metrics")
	if status != 200 || !strings.HasPrefix(ctype, "text/plain") {
		t.Fatalf("/metrics: %d %s", status, ctype)
	}
	text := string(body)
	values := map[string]float64{}
	for _, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		var v float64
		i := strings.LastIndexByte(line, ' ')
		if _, err := fmt.Sscan(line[i+1:], &v); err == nil {
			values[line[:i]] = v
		}
	}
	tipTime := hdrs[testTip].Timestamp.Unix()
	n1d := len(blocksIn(hdrs, testTip, tipTime-86400, tipTime))
	n7d := len(blocksIn(hdrs, testTip, tipTime-7*86400, tipTime))
	want := map[string]float64{
		"minerscope_index_height":                                                      14131,
		"minerscope_difficulty":                                                        1,
		"minerscope_blocks_to_retarget":                                                1996,
		"minerscope_sync_errors_total":                                                 0,
		`minerscope_hashrate_hs{bound="estimate",window="1d"}`:                         float64(n1d) * diff1Work / 86400,
		`minerscope_hashrate_hs{bound="estimate",window="7d"}`:                         float64(n7d) * diff1Work / (7 * 86400),
		`minerscope_reserve_sat{hops="0"}`:                                             float64(independentReserve(t)),
		`minerscope_http_requests_total{code="200",route="/api/v1/minerscope/status"}`: -1, // present
	}
	for k, w := range want {
		g, ok := values[k]
		switch {
		case !ok:
			t.Errorf("/metrics lacks %s", k)
		case w >= 0 && !relClose(g, w):
			t.Errorf("/metrics %s = %v, want %v", k, g, w)
		}
	}
	for _, name := range []string{"minerscope_seconds_since_last_block", "minerscope_projected_difficulty_change_pct",
		`minerscope_hashrate_hs{bound="lo",window="7d"}`, `minerscope_hashrate_hs{bound="hi",window="1d"}`,
		`minerscope_outflow_last_day_sat{hops="1"}`, `minerscope_reserve_sat{hops="1"}`,
		`minerscope_http_request_duration_seconds_count{route="/api/v1/mining/hashrate/{interval}"}`,
		"go_goroutines", "process_cpu_seconds_total"} {
		if _, ok := values[name]; !ok {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	if _, ok := values["minerscope_node_height"]; ok {
		t.Errorf("/metrics has a node height before any sync")
	}
}
