package analysis

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// ErrBadParams is returned when a Params value cannot drive the analysis
// (zero retarget interval, spacing or timespan, or no proof-of-work limit),
// which usually means a zero Params{} was passed by mistake.
var ErrBadParams = errors.New("invalid network parameters")

// Header is the plain view of one block header the estimators need.
type Header struct {
	Height int32
	Time   int64  // header timestamp, unix seconds
	Bits   uint32 // compact target
}

// Params are the consensus parameters the analysis needs for one network.
//
// The package-level values share their PowLimit; treat it as read-only.
type Params struct {
	Name                   string // "mainnet", "testnet3", "testnet4", "signet", "regtest", "simnet"
	GenesisHash            chainhash.Hash
	PowLimit               *big.Int
	PowLimitBits           uint32
	TargetTimespan         int64  // seconds, 1209600
	TargetSpacing          int64  // seconds, 600
	RetargetInterval       int32  // 2016
	RetargetFactor         int64  // 4
	ReduceMinDifficulty    bool   // testnet-style 20-minute rule (non-boundary blocks may have PowLimitBits)
	NoRetargeting          bool   // regtest under bitcoind: bits never change
	EnforceBIP94           bool   // testnet4: retarget from the epoch's first block bits
	SubsidyHalvingInterval int32  // 210000 (regtest 150)
	DefaultRPCPort         string // the node's default JSON-RPC port (btcd's for simnet)

	// AddrParams encodes addresses for the network (bech32 HRP, base58
	// prefixes). The package-level values point at btcd's chaincfg
	// parameters (a copy of testnet3's for testnet4); treat them as
	// read-only.
	AddrParams *chaincfg.Params
}

// Mainnet, Testnet3, Testnet4, Signet, Regtest and Simnet are the networks
// minerscope knows. All but Testnet4 are derived from btcd's chaincfg;
// Testnet4 (BIP94) is not in btcd v0.24 and is written out from Bitcoin
// Core's chainparams. Regtest follows Bitcoin Core (no retargeting, 150-block
// halvings); Simnet is btcd-only and retargets like mainnet but allows
// minimum-difficulty blocks.
var (
	Mainnet  = fromChaincfg(&chaincfg.MainNetParams, "8332")
	Testnet3 = fromChaincfg(&chaincfg.TestNet3Params, "18332")
	Testnet4 = testnet4()
	Signet   = fromChaincfg(&chaincfg.SigNetParams, "38332")
	Regtest  = regtest()
	Simnet   = fromChaincfg(&chaincfg.SimNetParams, "18556")
)

// allParams lists the known networks in lookup order.
var allParams = []*Params{&Mainnet, &Testnet3, &Testnet4, &Signet, &Regtest, &Simnet}

// nameAliases maps the chain names bitcoind reports in getblockchaininfo to
// ours.
var nameAliases = map[string]string{
	"main":    "mainnet",
	"test":    "testnet3",
	"testnet": "testnet3",
}

// fromChaincfg converts btcd's parameters, copying the mutable big.Int.
func fromChaincfg(c *chaincfg.Params, rpcPort string) Params {
	return Params{
		Name:                   c.Name,
		GenesisHash:            *c.GenesisHash,
		PowLimit:               new(big.Int).Set(c.PowLimit),
		PowLimitBits:           c.PowLimitBits,
		TargetTimespan:         int64(c.TargetTimespan.Seconds()),
		TargetSpacing:          int64(c.TargetTimePerBlock.Seconds()),
		RetargetInterval:       int32(c.TargetTimespan / c.TargetTimePerBlock),
		RetargetFactor:         c.RetargetAdjustmentFactor,
		ReduceMinDifficulty:    c.ReduceMinDifficulty,
		NoRetargeting:          c.PoWNoRetargeting,
		SubsidyHalvingInterval: c.SubsidyReductionInterval,
		DefaultRPCPort:         rpcPort,
		AddrParams:             c,
	}
}

// regtest is btcd's regtest with Bitcoin Core's RPC port. Both nodes agree
// on the genesis block, the 150-block halving and the absence of
// retargeting.
func regtest() Params {
	p := fromChaincfg(&chaincfg.RegressionNetParams, "18443")
	p.NoRetargeting = true
	p.ReduceMinDifficulty = true
	p.SubsidyHalvingInterval = 150
	return p
}

// testnet4 is Bitcoin Core's testnet4 (BIP94): testnet3's proof-of-work
// limit and 20-minute rule, plus retargeting from the epoch's first block.
func testnet4() Params {
	genesis, err := chainhash.NewHashFromStr(
		"00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043")
	if err != nil {
		panic(err)
	}
	p := fromChaincfg(&chaincfg.TestNet3Params, "48332")
	p.Name = "testnet4"
	p.GenesisHash = *genesis
	p.EnforceBIP94 = true
	p.AddrParams = testnet4AddrParams(genesis)
	return p
}

// testnet4Magic is testnet4's network magic, the bytes 1c 16 3f 28 on the
// wire read as a little-endian uint32 like btcd's wire.BitcoinNet values.
const testnet4Magic wire.BitcoinNet = 0x283f161c

// testnet4AddrParams is testnet3's address encoding under testnet4's name,
// magic and genesis: the two networks share "tb" and the m/n/2 prefixes.
// Fields that would describe testnet3's chain (genesis block, checkpoints,
// seeds) are cleared rather than left wrong.
func testnet4AddrParams(genesis *chainhash.Hash) *chaincfg.Params {
	c := chaincfg.TestNet3Params
	c.Name = "testnet4"
	c.Net = testnet4Magic
	c.DefaultPort = "48333"
	c.GenesisHash = genesis
	c.GenesisBlock = nil
	c.Checkpoints = nil
	c.DNSSeeds = nil
	return &c
}

// ParamsByGenesis returns the network whose genesis block hash is h; a node's
// getblockhash 0 is the reliable way to tell networks apart.
func ParamsByGenesis(h chainhash.Hash) (Params, bool) {
	for _, p := range allParams {
		if p.GenesisHash == h {
			return *p, true
		}
	}
	return Params{}, false
}

// ParamsByName returns the network called name. Besides our own names it
// accepts the chain names bitcoind reports: "main", "test" (testnet3).
func ParamsByName(name string) (Params, bool) {
	if alias, ok := nameAliases[name]; ok {
		name = alias
	}
	for _, p := range allParams {
		if p.Name == name {
			return *p, true
		}
	}
	return Params{}, false
}

// validate rejects parameters that would divide by zero.
func (p Params) validate() error {
	if p.RetargetInterval <= 0 || p.TargetSpacing <= 0 ||
		p.TargetTimespan <= 0 || p.RetargetFactor <= 0 || p.PowLimit == nil {

		return fmt.Errorf("%w: %q has retarget interval %d, spacing %d s, "+
			"timespan %d s, factor %d", ErrBadParams, p.Name,
			p.RetargetInterval, p.TargetSpacing, p.TargetTimespan,
			p.RetargetFactor)
	}
	return nil
}
