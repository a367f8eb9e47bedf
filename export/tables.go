package export

import (
	"time"
)

// SchemaVersion numbers the layout of the exported tables. It changes whenever a column is renamed, removed
// or changes type; adding a table or appending a column does not.
const SchemaVersion = 1

// Table names, which are also the file names without their extension.
const (
	TableBlocks        = "blocks"
	TableEpochs        = "epochs"
	TableHashrateDaily = "hashrate_daily"
	TableRewardsDaily  = "rewards_daily"
	TableOutflowTxs    = "outflow_txs"
	TableFlowsDaily    = "flows_daily"
	TablePoolsDaily    = "pools_daily"
)

// Date is a UTC day, stored as the days since 1970-01-01: a Parquet DATE. It is a number rather than a
// time.Time because parquet-go v0.32.0's GenericWriter writes a time.Time tagged date as nanoseconds.
type Date int32

// DateOf is the UTC day holding t.
func DateOf(t time.Time) Date {
	const day = 86400
	s := t.Unix()
	d := s / day
	if s%day < 0 {
		d--
	}
	return Date(d)
}

// Time is the day's 00:00 UTC.
func (d Date) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// String formats the day as 2009-01-03.
func (d Date) String() string { return d.Time().Format(DateLayout) }

// Row is the set of row types a Writer accepts: one per table.
type Row interface {
	Block | Epoch | HashrateDay | RewardDay | OutflowTx | FlowDay | PoolDay
	TableName() string
}

// Block is one row of the blocks table: a block of a full index with its coinbase and pool, the columns of
// `minerscope blocks --csv`.
type Block struct {
	Height           int32     `parquet:"height" doc:"block height"`
	Hash             string    `parquet:"hash" doc:"block hash, hex as explorers show it"`
	Time             time.Time `parquet:"time,timestamp(millisecond:utc)" doc:"header timestamp"`
	Bits             string    `parquet:"bits" doc:"compact target, 8 hex digits"`
	Difficulty       float64   `parquet:"difficulty" doc:"difficulty as Bitcoin Core's getdifficulty"`
	TxCount          int32     `parquet:"tx_count" doc:"transactions, coinbase included"`
	Size             int32     `parquet:"size" doc:"serialized size in bytes, witness included"`
	Weight           int32     `parquet:"weight" doc:"block weight (WU)"`
	CoinbaseTxID     string    `parquet:"coinbase_txid" doc:"txid of the coinbase"`
	CoinbaseTag      string    `parquet:"coinbase_tag" doc:"printable text of the coinbase scriptSig"`
	RewardSat        int64     `parquet:"reward_sat" doc:"sum of the coinbase outputs (sat)"`
	SubsidySat       int64     `parquet:"subsidy_sat" doc:"subsidy the consensus rules allow at this height (sat)"`
	FeesSat          int64     `parquet:"fees_sat" doc:"max(0, reward - subsidy): a lower bound of the fees (sat)"`
	Pool             string    `parquet:"pool,dict" doc:"pool the block is attributed to, or unknown"`
	PoolMatch        string    `parquet:"pool_match,dict" doc:"what decided the pool: address, tag or none"`
	SegwitCommitment bool      `parquet:"segwit_commitment" doc:"the coinbase carries a BIP141 witness commitment"`
}

// TableName names the table of Block rows.
func (Block) TableName() string { return TableBlocks }

// Epoch is one row of the epochs table: a difficulty period of 2016 blocks, the columns of
// `minerscope epochs --csv`.
type Epoch struct {
	Epoch        int32     `parquet:"epoch" doc:"epoch number: start_height / 2016"`
	StartHeight  int32     `parquet:"start_height" doc:"first height of the epoch"`
	EndHeight    int32     `parquet:"end_height" doc:"last height (so far, for the unfinished epoch)"`
	StartTime    time.Time `parquet:"start_time,timestamp(millisecond:utc)" doc:"timestamp of the first block"`
	EndTime      time.Time `parquet:"end_time,timestamp(millisecond:utc)" doc:"timestamp of the last block"`
	Bits         string    `parquet:"bits" doc:"compact target of the epoch's first block, 8 hex digits"`
	Difficulty   float64   `parquet:"difficulty" doc:"difficulty of bits"`
	ChangePct    float64   `parquet:"change_pct" doc:"difficulty change from the previous epoch, percent (0 for epoch 0)"`
	DurationS    int64     `parquet:"duration_s" doc:"end_time - start_time in seconds, the timespan the retarget measures"`
	HashrateHS   float64   `parquet:"hashrate_hs" doc:"average hashrate (H/s), as getnetworkhashps(2016, end_height)"`
	HashrateLoHS *float64  `parquet:"hashrate_lo_hs,optional" doc:"lower bound of its exact 95% interval; null when undefined"`
	HashrateHiHS *float64  `parquet:"hashrate_hi_hs,optional" doc:"upper bound of its exact 95% interval; null when undefined"`
	Complete     bool      `parquet:"complete" doc:"false for the unfinished last epoch"`
}

// TableName names the table of Epoch rows.
func (Epoch) TableName() string { return TableEpochs }

// HashrateDay is one row of the hashrate_daily table: the hashrate over one UTC day, the points of
// `minerscope hashrate --series daily`.
type HashrateDay struct {
	Day        Date      `parquet:"day,date" doc:"UTC day"`
	Start      time.Time `parquet:"start,timestamp(millisecond:utc)" doc:"start of the window: the day's 00:00, or later on the first day of the chain"`
	End        time.Time `parquet:"end,timestamp(millisecond:utc)" doc:"end of the window (exclusive): the next day's 00:00, or the second after the tip's timestamp"`
	Blocks     int32     `parquet:"blocks" doc:"blocks timestamped in [start, end)"`
	HashrateHS float64   `parquet:"hashrate_hs" doc:"work of those blocks / (end - start), H/s"`
	LoHS       *float64  `parquet:"lo_hs,optional" doc:"lower bound of the exact 95% interval; null when undefined"`
	HiHS       *float64  `parquet:"hi_hs,optional" doc:"upper bound of the exact 95% interval; null when undefined"`
	FromHeight *int32    `parquet:"from_height,optional" doc:"lowest height counted; null on a day without blocks"`
	ToHeight   *int32    `parquet:"to_height,optional" doc:"highest height counted; null on a day without blocks"`
}

// TableName names the table of HashrateDay rows.
func (HashrateDay) TableName() string { return TableHashrateDaily }

// RewardDay is one row of the rewards_daily table: the coinbases of one UTC day summed, the rows of
// `minerscope rewards --series daily`.
type RewardDay struct {
	Day        Date    `parquet:"day,date" doc:"UTC day; blocks count by their own timestamps"`
	FromHeight *int32  `parquet:"from_height,optional" doc:"lowest height counted; null on a day without blocks"`
	ToHeight   *int32  `parquet:"to_height,optional" doc:"highest height counted; null on a day without blocks"`
	Blocks     int32   `parquet:"blocks" doc:"blocks timestamped that day"`
	SubsidySat int64   `parquet:"subsidy_sat" doc:"sum of the subsidies (sat)"`
	FeesSat    int64   `parquet:"fees_sat" doc:"sum of the fees, a lower bound (sat)"`
	RewardSat  int64   `parquet:"reward_sat" doc:"sum of the coinbase outputs (sat)"`
	FeeShare   float64 `parquet:"fee_share" doc:"fees_sat / reward_sat, 0 when reward_sat is 0"`
}

// TableName names the table of RewardDay rows.
func (RewardDay) TableName() string { return TableRewardsDaily }

// OutflowTx is one row of the outflow_txs table: a transaction spending miner outputs, seen with the miner
// set of one hop level; the rows of `minerscope outflows --tx --hops N --csv` for N = 0 and 1.
type OutflowTx struct {
	Hops          int32     `parquet:"hops" doc:"miner set: 0 (coinbase scripts) or 1 (and the scripts they pay)"`
	TxID          string    `parquet:"txid" doc:"transaction id"`
	Height        int32     `parquet:"height" doc:"height of the block holding it"`
	Time          time.Time `parquet:"time,timestamp(millisecond:utc)" doc:"timestamp of that block"`
	FromMinerSat  int64     `parquet:"from_miner_sat" doc:"value of the miner outputs it spends (sat)"`
	OtherInputSat *int64    `parquet:"other_input_sat,optional" doc:"value of its other inputs (sat); null when the node could not tell"`
	ToMinerSat    int64     `parquet:"to_miner_sat" doc:"paid to miner scripts (sat)"`
	ToExternalSat int64     `parquet:"to_external_sat" doc:"paid to other scripts (sat)"`
	FeeSat        *int64    `parquet:"fee_sat,optional" doc:"fee (sat); null when the other inputs are unknown"`
	OutflowSat    int64     `parquet:"outflow_sat" doc:"value leaving the miner set, at most from_miner_sat (sat)"`
	InternalSat   int64     `parquet:"internal_sat" doc:"miner value moved between miner scripts (sat)"`
	Pool          string    `parquet:"pool,dict" doc:"pool of the coinbase owning most of the miner value it spends"`
}

// TableName names the table of OutflowTx rows.
func (OutflowTx) TableName() string { return TableOutflowTxs }

// FlowDay is one row of the flows_daily table: the miner flows of one UTC day at one hop level, the rows of
// `minerscope outflows --series daily --hops N --csv` for N = 0 and 1.
type FlowDay struct {
	Hops                int32    `parquet:"hops" doc:"miner set: 0 or 1, as in outflow_txs"`
	Day                 Date     `parquet:"day,date" doc:"UTC day; blocks count by their own timestamps"`
	FromHeight          *int32   `parquet:"from_height,optional" doc:"lowest height counted; null on a day without blocks"`
	ToHeight            *int32   `parquet:"to_height,optional" doc:"highest height counted; null on a day without blocks"`
	Blocks              int32    `parquet:"blocks" doc:"blocks timestamped that day"`
	OutflowSat          int64    `parquet:"outflow_sat" doc:"value leaving the miner set (sat)"`
	InternalSat         int64    `parquet:"internal_sat" doc:"transfers between miner scripts (sat)"`
	InflowSat           int64    `parquet:"inflow_sat" doc:"value entering the miner set: coinbase_inflow_sat plus value from other inputs (sat)"`
	CoinbaseInflowSat   int64    `parquet:"coinbase_inflow_sat" doc:"of which coinbase outputs (sat)"`
	MinerFeeSat         int64    `parquet:"miner_fee_sat" doc:"fees paid from miner value (sat)"`
	LostSat             int64    `parquet:"lost_sat" doc:"miner outputs destroyed without a spend: overwritten by a duplicate coinbase (BIP30) (sat)"`
	ReserveSat          int64    `parquet:"reserve_sat" doc:"unspent miner value at the end of the day (sat)"`
	NetChangeSat        int64    `parquet:"net_change_sat" doc:"inflow - outflow - miner_fee - lost (sat)"`
	RevenueSat          int64    `parquet:"revenue_sat" doc:"coinbase rewards of the day's blocks (sat)"`
	OutflowMultiple     *float64 `parquet:"outflow_multiple,optional" doc:"outflow / its ma_days-day mean; null when the mean is 0"`
	MADays              int32    `parquet:"ma_days" doc:"days in that mean: 365, fewer early in the chain"`
	OutflowRevenueRatio *float64 `parquet:"outflow_revenue_ratio,optional" doc:"outflow / revenue; null when revenue is 0"`
	SpendingTxs         int64    `parquet:"spending_txs" doc:"transactions spending miner outputs"`
}

// TableName names the table of FlowDay rows.
func (FlowDay) TableName() string { return TableFlowsDaily }

// PoolDay is one row of the pools_daily table: one pool's blocks on one UTC day, as `minerscope pools
// --from DAY --to DAY+1` reports them.
type PoolDay struct {
	Day          Date    `parquet:"day,date" doc:"UTC day; blocks count by their own timestamps"`
	Pool         string  `parquet:"pool,dict" doc:"pool name, or unknown"`
	Blocks       int32   `parquet:"blocks" doc:"blocks attributed to the pool that day"`
	Share        float64 `parquet:"share" doc:"blocks / the day's blocks"`
	ShareLo      float64 `parquet:"share_lo" doc:"lower bound of the exact (Clopper-Pearson) 95% interval"`
	ShareHi      float64 `parquet:"share_hi" doc:"upper bound of that interval"`
	HashrateHS   float64 `parquet:"hashrate_hs" doc:"share x the day's hashrate_hs in hashrate_daily (H/s)"`
	HashrateLoHS float64 `parquet:"hashrate_lo_hs" doc:"lower bound of its exact 95% interval (H/s)"`
	HashrateHiHS float64 `parquet:"hashrate_hi_hs" doc:"upper bound of its exact 95% interval (H/s)"`
	ByAddress    int32   `parquet:"by_address" doc:"blocks attributed by payout address"`
	ByTag        int32   `parquet:"by_tag" doc:"blocks attributed by coinbase tag"`
	EmptyBlocks  int32   `parquet:"empty_blocks" doc:"blocks with no transaction but the coinbase"`
}

// TableName names the table of PoolDay rows.
func (PoolDay) TableName() string { return TablePoolsDaily }

// Table describes one table for the documentation and the manifest.
type Table struct {
	Name    string   `json:"name"`
	Doc     string   `json:"-"`
	Columns []Column `json:"columns"`
}

// Tables lists every table in the order minerscope exports them.
func Tables() []Table {
	return []Table{
		tableOf[Block]("one row per block of a full index"),
		tableOf[Epoch]("one row per difficulty epoch (2016 blocks)"),
		tableOf[HashrateDay]("network hashrate per UTC day with its exact 95% interval"),
		tableOf[RewardDay]("miner revenue per UTC day"),
		tableOf[OutflowTx]("one row per transaction spending miner outputs, per hop level"),
		tableOf[FlowDay]("miner flows per UTC day, per hop level"),
		tableOf[PoolDay]("one row per pool and UTC day"),
	}
}

// TableNames lists the names of Tables, in order.
func TableNames() []string {
	ts := Tables()
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Name
	}
	return names
}

func tableOf[T Row](doc string) Table {
	var zero T
	return Table{Name: zero.TableName(), Doc: doc, Columns: planOf[T]().columns()}
}
