package analysis_test

import (
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/minerscope/minerscope/analysis"
)

func ExampleClassifyTx() {
	// Block 170: block 9's coinbase pays 10 BTC to Hal Finney's new key
	// and 40 BTC back to its own key, a miner script.
	ins := []analysis.FlowInput{{Value: 50e8, Level: 0, Origin: 9}}
	outs := []analysis.FlowOutput{
		{Value: 10e8, Level: analysis.NotMiner},
		{Value: 40e8, Level: 0},
	}
	f, err := analysis.ClassifyTx(0, ins, outs)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("outflow", f.Outflow, "internal", f.Internal, "origin", f.Origin)
	// Output:
	// outflow 10 BTC internal 40 BTC origin 9
}

func ExampleSplitOutflow() {
	// 7 sat leave over outputs of 5, 3 and 2 sat: 3.5, 2.1 and 1.4 sat,
	// the largest remainder rounding up.
	fmt.Println(analysis.SplitOutflow(7, []btcutil.Amount{5, 3, 2}))
	// Output:
	// [0.00000004 BTC 0.00000002 BTC 0.00000001 BTC]
}

func ExampleParsePrices() {
	prices, err := analysis.ParsePrices(strings.NewReader(
		"date,price_usd\n2024-01-01,42265.19\n2024-01-02,44167.333\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(prices["2024-01-01"], prices["2024-01-02"])
	// Output:
	// 4226519 4416733
}
