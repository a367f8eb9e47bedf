package main

import (
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/wire"

	"github.com/minerscope/minerscope/chain/chaintest"
	"github.com/minerscope/minerscope/index"
)

// TestMainnetFullBlocks indexes the real mainnet blocks 0–14131 with their coinbases from a real btcd and
// checks every row of `blocks --csv` and the epoch rewards against figures computed here from the raw block
// file with btcd's wire decoder.
func TestMainnetFullBlocks(t *testing.T) {
	n := chaintest.StartMainnet(t)
	dir := t.TempDir()
	mustRun(t, append([]string{"index", "--quiet", "--source", "rpc"}, nodeArgs(n, dir)...)...)
	blocks := index.MainnetBlocks(t)

	r := mustRun(t, "blocks", "--index", dir, "--csv")
	rows, err := csv.NewReader(strings.NewReader(r.Stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rows[0], ","); !strings.HasPrefix(got,
		"height,hash,time,bits,difficulty,tx_count,size,weight,coinbase_txid,coinbase_tag,reward_sat,subsidy_sat,fees_sat,pool,pool_match") {
		t.Fatalf("CSV header %q", got)
	}
	if len(rows) != len(blocks)+1 {
		t.Fatalf("%d rows, want %d", len(rows)-1, len(blocks))
	}
	col := make(map[string]int)
	for i, name := range rows[0] {
		col[name] = i
	}
	for h, blk := range blocks {
		row := rows[h+1]
		want := expectedBlockRow(h, blk)
		for name, v := range want {
			if row[col[name]] != v {
				t.Fatalf("height %d %s = %q, want %q\nrow %v", h, name, row[col[name]], v, row)
			}
		}
	}
	// The genesis coinbase carries the newspaper headline: a published chain fact.
	if tag := rows[1][col["coinbase_tag"]]; !strings.Contains(tag, "The Times 03/Jan/2009 Chancellor on brink of second bailout for banks") {
		t.Errorf("genesis coinbase tag %q", tag)
	}

	// Rewards per epoch, summed here from the raw blocks.
	r = mustRun(t, "rewards", "--index", dir, "--series", "epoch", "--csv")
	recs, err := csv.NewReader(strings.NewReader(r.Stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, rec := range recs[1:] {
		from, to := i*2016, min(i*2016+2015, len(blocks)-1)
		var reward, fees int64
		for h := from; h <= to; h++ {
			v := coinbaseValue(blocks[h])
			reward += v
			fees += max(0, v-50e8)
		}
		subsidy := int64(to-from+1) * 50e8
		want := []string{strconv.Itoa(from), strconv.Itoa(to), strconv.Itoa(to - from + 1), fmt.Sprint(subsidy), fmt.Sprint(fees), fmt.Sprint(reward)}
		got := []string{rec[3], rec[4], rec[5], rec[6], rec[7], rec[8]}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("epoch %d: from,to,blocks,subsidy,fees,reward = %v, want %v", i, got, want)
		}
	}
}

// expectedBlockRow is what `blocks --csv` must say about block blk at height h, computed from the block alone.
func expectedBlockRow(h int, blk *wire.MsgBlock) map[string]string {
	cb := blk.Transactions[0]
	reward := coinbaseValue(blk)
	size := blk.SerializeSize()
	weight := blk.SerializeSizeStripped()*3 + size
	return map[string]string{
		"height":        strconv.Itoa(h),
		"hash":          blk.BlockHash().String(),
		"bits":          fmt.Sprintf("%08x", blk.Header.Bits),
		"tx_count":      strconv.Itoa(len(blk.Transactions)),
		"size":          strconv.Itoa(size),
		"weight":        strconv.Itoa(weight),
		"coinbase_txid": cb.TxHash().String(),
		"reward_sat":    strconv.FormatInt(reward, 10),
		"subsidy_sat":   strconv.FormatInt(int64(50*btcutil.SatoshiPerBitcoin), 10),
		"fees_sat":      strconv.FormatInt(max(0, reward-50e8), 10),
	}
}

func coinbaseValue(blk *wire.MsgBlock) int64 {
	var v int64
	for _, out := range blk.Transactions[0].TxOut {
		v += out.Value
	}
	return v
}
