package analysis_test

import (
	"fmt"
	"time"

	"github.com/minerscope/minerscope/analysis"
)

// chain returns blocks from..to spaced exactly spacing seconds apart at
// bits, starting at 2024-01-01 00:00 UTC.
func chain(from, to int32, spacing int64, bits uint32) []analysis.Header {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hs := make([]analysis.Header, 0, to-from+1)
	for h := from; h <= to; h++ {
		hs = append(hs, analysis.Header{Height: h,
			Time: t0 + int64(h-from)*spacing, Bits: bits})
	}
	return hs
}

func ExampleDifficulty() {
	fmt.Printf("%.8f\n", analysis.Difficulty(0x1d00ffff))
	fmt.Printf("%.8f\n", analysis.Difficulty(0x1d00d86a)) // block 32256
	fmt.Println(analysis.FormatDifficulty(analysis.Difficulty(0x1b0404cb)))
	// Output:
	// 1.00000000
	// 1.18289953
	// 16.31 k
}

func ExampleNetworkHashPS() {
	// 145 blocks at difficulty 16307.42, exactly ten minutes apart.
	hs := chain(100000, 100144, 600, 0x1b0404cb)

	est, err := analysis.NetworkHashPS(analysis.Mainnet, hs, 144, -1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s over %d blocks (95%%: %s .. %s)\n",
		analysis.FormatHashrate(est.HashesPerSec), est.Intervals,
		analysis.FormatHashrate(est.Lo), analysis.FormatHashrate(est.Hi))
	// Output:
	// 116.73 GH/s over 144 blocks (95%: 98.45 GH/s .. 136.56 GH/s)
}

func ExampleProjectNextAdjustment() {
	// Half an epoch of blocks every nine minutes: the difficulty will rise.
	hs := chain(2016*400-1, 2016*400+1007, 540, 0x1b0404cb)

	pr, err := analysis.ProjectNextAdjustment(analysis.Mainnet, hs, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	day := func(t int64) string {
		return time.Unix(t, 0).UTC().Format("2006-01-02 15:04")
	}
	fmt.Printf("retarget at %d, %d blocks to go\n", pr.NextRetargetHeight,
		pr.BlocksRemaining)
	fmt.Printf("epoch ends %s (95%%: %s .. %s)\n", day(pr.Date),
		day(pr.DateLo), day(pr.DateHi))
	fmt.Printf("difficulty %+.2f%% (95%%: %+.2f%% .. %+.2f%%)\n",
		pr.ChangePct, pr.ChangeLoPct, pr.ChangeHiPct)
	fmt.Printf("halving at %d around %s\n", pr.HalvingHeight,
		day(pr.HalvingDate))
	// Output:
	// retarget at 808416, 1008 blocks to go
	// epoch ends 2024-01-13 14:24 (95%: 2024-01-13 01:45 .. 2024-01-14 04:11)
	// difficulty +11.17% (95%: +6.31% .. +16.02%)
	// halving at 840000 around 2024-08-19 22:39
}
