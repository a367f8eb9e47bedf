package analysis

import (
	"errors"
	"fmt"
	"math"

	"github.com/btcsuite/btcd/btcutil"
)

// ErrBadEconomics is returned by Economics for inputs that contradict each
// other or are out of range; the message names the input.
var ErrBadEconomics = errors.New("invalid economics inputs")

// PuellDays is the window of the Puell Multiple's moving average, in days.
const PuellDays = 365

// Units of the economics figures.
const (
	hashesPerPH  = 1e15
	joulesPerKWh = 3.6e6
)

// EconomicsInputs are the assumptions behind Economics' money and energy
// figures. The zero value assumes nothing: no USD, Puell or cost figures.
type EconomicsInputs struct {
	// Prices values each day at its price (US cents per bitcoin); days
	// missing from it get no USD figures. Only Prices give the Puell
	// Multiple.
	Prices Prices

	// BTCPrice, in cents, values every day at this one price instead; it
	// excludes Prices.
	BTCPrice int64

	// Efficiency of the whole network's fleet. With it and a price,
	// Economics gives the break-even power price; with PowerPrice too,
	// the energy cost.
	Efficiency Efficiency

	// PowerPrice in US dollars per kWh; HasPowerPrice says it is given.
	PowerPrice    float64
	HasPowerPrice bool

	// PuellMinDays is how many days of the moving average the Puell
	// Multiple needs (1 to PuellDays; 0 means PuellDays).
	PuellMinDays int
}

// validate checks the inputs for contradictions and ranges.
func (in EconomicsInputs) validate() error {
	switch {
	case in.Prices != nil && in.BTCPrice != 0:
		return fmt.Errorf("%w: give daily prices or one bitcoin price, "+
			"not both", ErrBadEconomics)
	case in.BTCPrice < 0:
		return fmt.Errorf("%w: bitcoin price %d cents is negative",
			ErrBadEconomics, in.BTCPrice)
	case in.HasPowerPrice && in.Efficiency.IsZero():
		return fmt.Errorf("%w: a power price needs a fleet efficiency",
			ErrBadEconomics)
	case in.HasPowerPrice && !(in.PowerPrice > 0 &&
		in.PowerPrice <= maxPowerPrice):
		return fmt.Errorf("%w: power price %v $/kWh is not in (0, %d]",
			ErrBadEconomics, in.PowerPrice, maxPowerPrice)
	case in.PuellMinDays < 0 || in.PuellMinDays > PuellDays:
		return fmt.Errorf("%w: Puell minimum of %d days is not in 1..%d",
			ErrBadEconomics, in.PuellMinDays, PuellDays)
	}
	j := in.Efficiency.JoulesPerTH()
	if !in.Efficiency.IsZero() && !(j > 0 && j <= maxEfficiencyJPerTH) {
		return fmt.Errorf("%w: efficiency %v J/TH is not in (0, %v]",
			ErrBadEconomics, j, maxEfficiencyJPerTH)
	}
	return nil
}

// Band is a derived figure with its 95% interval. Every Band of an
// EconomicsPoint follows from the interval of the day's hashrate alone, the
// revenue, issuance and prices being exact; a figure that falls as the
// hashrate rises takes its Lo from the hashrate's Hi. NaN where undefined.
type Band struct {
	Value, Lo, Hi float64
}

// nanBand is a Band with no value.
var nanBand = Band{math.NaN(), math.NaN(), math.NaN()}

// EconomicsPoint holds one UTC day of miner economics.
type EconomicsPoint struct {
	Day     int64 // unix time of the day's 00:00 UTC
	Seconds int64 // seconds of the day covered: 86,400 except at the ends of the chain

	// Blocks, FromHeight and ToHeight count the blocks stamped in the day
	// (heights -1 when none); Hashrate is DailyHashrate's estimate, H/s.
	Blocks               int
	FromHeight, ToHeight int32
	Hashrate             Band

	// Subsidy, Fees and Revenue sum the coinbases of those blocks (fees a
	// lower bound, see CoinbaseRecord).
	Subsidy, Fees, Revenue btcutil.Amount

	// Complete is true when the rewards of every block counted in the
	// hashrate are known; the figures that divide revenue by hashrate are
	// NaN otherwise.
	Complete bool

	// Hashprice is the revenue per PH/s per day, in satoshis: Revenue ×
	// 86,400/Seconds divided by the hashrate in PH/s. NaN on a day
	// without blocks.
	Hashprice Band

	// Price is the day's price of a bitcoin in cents and HasPrice whether
	// there is one; RevenueUSD (cents, rounded half up) and HashpriceUSD
	// (dollars per PH/s per day) need it.
	Price        int64
	HasPrice     bool
	RevenueUSD   int64
	HashpriceUSD Band

	// IssuanceUSD is the value of the day's subsidy in cents, with a
	// price. Puell is IssuanceUSD over its mean across the PuellWindow
	// days ending with this one (PuellWindow = min(PuellDays, days since
	// the first block's)). Puell needs daily Prices, PuellWindow of at
	// least the inputs' PuellMinDays, and a price on every day of the
	// window with blocks; it is NaN otherwise. Days without blocks issue 0.
	IssuanceUSD int64
	Puell       float64
	PuellWindow int

	// EnergyKWh is what the fleet of the given efficiency used over the
	// day's Seconds at the estimated hashrate. With a power price,
	// CostUSD is its price in dollars, CostPerBTC that cost per bitcoin
	// of subsidy (newly issued coins) and CostPerBTCRevenue per bitcoin of
	// revenue (fees included). With a bitcoin price, BreakEvenPowerPrice
	// is the power price in $/kWh at which the day's revenue pays for the
	// energy. All NaN without the inputs they need.
	EnergyKWh           Band
	CostUSD             Band
	CostPerBTC          Band
	CostPerBTCRevenue   Band
	BreakEvenPowerPrice Band
}

// Economics returns one point per UTC day that meets [from, to), from the
// day of the first block of blocks to that of its last, empty days
// included: blocks, hashrate, revenue, hashprice and, as the inputs allow,
// their USD values, the Puell Multiple, the fleet's energy cost and the
// break-even power price.
//
// blocks must be contiguous (ErrNotContiguous); hs must be contiguous and
// should reach back to genesis or at least to the day before blocks'
// first, so that each day's hashrate counts the same blocks as its revenue
// (see Complete). Days follow DailyHashrate and RewardSeries: a block
// belongs to the UTC day of its timestamp. The Puell average is computed
// over every day of blocks before the cut to [from, to).
func Economics(p Params, hs []Header, blocks []BlockReward, from, to int64,
	in EconomicsInputs) ([]EconomicsPoint, error) {

	if err := in.validate(); err != nil {
		return nil, err
	}
	if len(blocks) == 0 {
		return nil, nil
	}
	if err := checkHeaders(hs); err != nil {
		return nil, err
	}
	rewards, err := RewardSeries(p, blocks, PeriodDaily)
	if err != nil {
		return nil, err
	}
	first := rewards[0].Start
	rates := DailyHashrate(p, hs, first, rewards[len(rewards)-1].End)
	byDay := make(map[int64]SeriesPoint, len(rates))
	for _, r := range rates {
		byDay[dayStart(r.Start)] = r
	}

	pts := make([]EconomicsPoint, len(rewards))
	for i, rw := range rewards {
		pts[i] = economicsDay(rw, byDay[rw.Start], in)
	}
	puell(pts, in)
	lo, hi := cutDays(len(pts), func(i int) int64 { return pts[i].Day }, from, to)
	return pts[lo:hi], nil
}

// economicsDay computes one day from its rewards and its hashrate point
// (zero when hs does not cover the day).
func economicsDay(rw RewardPoint, hr SeriesPoint, in EconomicsInputs) EconomicsPoint {
	e := hr.Estimate
	pt := EconomicsPoint{Day: rw.Start, Seconds: e.Seconds, Blocks: rw.Blocks,
		FromHeight: rw.FromHeight, ToHeight: rw.ToHeight,
		Hashrate: nanBand, Subsidy: rw.Subsidy, Fees: rw.Fees, Revenue: rw.Reward,
		Hashprice: nanBand, HashpriceUSD: nanBand, Puell: math.NaN(),
		EnergyKWh: nanBand, CostUSD: nanBand, CostPerBTC: nanBand,
		CostPerBTCRevenue: nanBand, BreakEvenPowerPrice: nanBand}
	if e.Seconds > 0 {
		pt.Hashrate = Band{e.HashesPerSec, math.NaN(), math.NaN()}
		if e.HasInterval {
			pt.Hashrate.Lo, pt.Hashrate.Hi = e.Lo, e.Hi
		}
	}
	pt.Complete = e.Seconds > 0 && hr.Blocks == rw.Blocks &&
		(rw.Blocks == 0 || e.FromHeight == rw.FromHeight &&
			e.ToHeight == rw.ToHeight)

	pt.Price, pt.HasPrice = dayPrice(rw.Start, in)
	if pt.HasPrice {
		var okR, okI bool
		pt.RevenueUSD, okR = usdCents(pt.Revenue, pt.Price)
		pt.IssuanceUSD, okI = usdCents(pt.Subsidy, pt.Price)
		if !okR || !okI { // beyond int64 cents: no USD figures
			pt.Price, pt.HasPrice, pt.RevenueUSD, pt.IssuanceUSD = 0, false, 0, 0
		}
	}
	if !pt.Complete || pt.Blocks == 0 {
		return pt
	}

	// Revenue per unit of work, scaled to PH/s over a day; it falls as
	// the hashrate rises.
	perDay := float64(day) / float64(pt.Seconds)
	pt.Hashprice = inverse(pt.Hashrate, float64(pt.Revenue)*perDay*hashesPerPH)
	if pt.HasPrice {
		pt.HashpriceUSD = scale(pt.Hashprice, float64(pt.Price)/100/1e8)
	}
	cost(&pt, in)
	return pt
}

// dayPrice is the price of a bitcoin on the day starting at t, in cents.
func dayPrice(t int64, in EconomicsInputs) (int64, bool) {
	if in.BTCPrice > 0 {
		return in.BTCPrice, true
	}
	c, ok := in.Prices[dayLabel(t)]
	return c, ok
}

// cost sets the energy, cost and break-even figures of a complete day with
// blocks.
func cost(pt *EconomicsPoint, in EconomicsInputs) {
	if in.Efficiency.IsZero() {
		return
	}
	kWhPerHashRate := in.Efficiency.JoulesPerHash() * float64(pt.Seconds) /
		joulesPerKWh
	pt.EnergyKWh = scale(pt.Hashrate, kWhPerHashRate)
	if in.HasPowerPrice {
		pt.CostUSD = scale(pt.EnergyKWh, in.PowerPrice)
		if pt.Subsidy > 0 {
			pt.CostPerBTC = scale(pt.CostUSD, 1e8/float64(pt.Subsidy))
		}
		if pt.Revenue > 0 {
			pt.CostPerBTCRevenue = scale(pt.CostUSD, 1e8/float64(pt.Revenue))
		}
	}
	if pt.HasPrice {
		revenueUSD := float64(pt.Revenue) / 1e8 * float64(pt.Price) / 100
		pt.BreakEvenPowerPrice = inverse(pt.EnergyKWh, revenueUSD)
	}
}

// scale multiplies a band by k >= 0.
func scale(b Band, k float64) Band {
	return Band{b.Value * k, b.Lo * k, b.Hi * k}
}

// inverse is k / b, its bounds swapped: k/Hi to k/Lo.
func inverse(b Band, k float64) Band {
	return Band{k / b.Value, k / b.Hi, k / b.Lo}
}

// puell sets IssuanceUSD's moving average, Puell and PuellWindow. The
// points are the consecutive days from the first block's.
func puell(pts []EconomicsPoint, in EconomicsInputs) {
	minDays := in.PuellMinDays
	if minDays == 0 {
		minDays = PuellDays
	}
	value := make([]float64, len(pts))
	for d := range pts {
		pt := &pts[d]
		pt.PuellWindow = min(PuellDays, d+1)
		switch {
		case pt.Blocks == 0:
			value[d] = 0
		case in.Prices == nil || !pt.HasPrice:
			value[d] = math.NaN()
		default:
			value[d] = float64(pt.IssuanceUSD)
		}
	}
	if in.Prices == nil {
		return
	}
	means := windowMeans(value, PuellDays, true)
	for d := range pts {
		if pt := &pts[d]; pt.PuellWindow >= minDays {
			pt.Puell = nanRatio(value[d], means[d])
		}
	}
}
