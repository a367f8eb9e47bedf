// Package analysis turns block headers into the numbers minerscope reports:
// work and difficulty, hashrate estimates with exact 95% intervals,
// difficulty epochs, and projections of the next retarget and halving; and
// it turns coinbases into rewards, fees and pool attributions.
//
// The package is pure: no I/O, no clock, no logging (ParsePools reads the
// reader it is given; the built-in pool list is embedded). Callers pass a
// contiguous slice of Header values (height, timestamp, compact bits), in
// height order and usually ending at the tip, together with the network's
// Params; results are plain values. Heights are int32, times unix seconds
// (UTC), work exact big integers; floats appear only in derived statistics.
//
// # Work and difficulty
//
// CompactToBig, BigToCompact and CalcWork follow btcd and Bitcoin Core
// exactly: a block's work is 2^256/(target+1), the expected number of
// hashes needed to find it, and chainwork is the sum. Difficulty reproduces
// Core's GetDifficulty digit for digit; ExpectedBits reproduces its
// retarget rule, including testnet's minimum-difficulty exception, regtest's
// fixed difficulty and testnet4's BIP94.
//
// # Hashrate over a run of blocks
//
// Each hash finds block i, of work w_i, with probability 1/w_i, so at a
// constant hashrate r the time to find it is exponential with mean w_i/r.
// Over n consecutive intervals, with α_i = (t_i − t_{i−1})/w_i, r·Σα is a
// sum of n unit exponentials, so 2·r·Σα ~ χ²(2n) and the exact 95% interval
// for r is
//
//	[χ²_0.025(2n) / (2·Σα), χ²_0.975(2n) / (2·Σα)].
//
// Miners set timestamps loosely and they are not monotone, but within a run
// of equal difficulty Σα telescopes to (t_last − t_before)/w, so only the
// errors of the timestamps at the ends of each run matter. When Σα <= 0 no
// interval is reported (HasInterval is false).
//
// NetworkHashPS's point estimate is Bitcoin Core's getnetworkhashps, work
// divided by the spread (max − min) of the window's timestamps, so that it
// matches the node; its interval comes from the consecutive-interval model
// above. The two agree closely unless a timestamp near the window's ends is
// an outlier.
//
// # Hashrate over a time window
//
// WindowHashrate counts the N blocks timestamped in (from, to]. At constant
// hashrate and difficulty N is Poisson with mean r·(to−from)/w, and
// Garwood's exact interval for that mean,
//
//	[χ²_0.025(2N)/2, χ²_0.975(2N+2)/2],
//
// scaled by w/(to−from) with w the mean work per block in the window (the
// next block's work when N = 0), bounds r. The interval is conservative
// (coverage at least 95%) and only approximate when the window spans a
// retarget. DailyHashrate and WeeklyHashrate apply it to UTC days and ISO
// weeks in one linear pass, a period [S, E) being the window (S−1, E−1].
//
// # Projecting the retarget and the halving
//
// ProjectNextAdjustment estimates the hashrate from the n intervals of the
// current epoch (at least the last 144, reaching back across the retarget
// if the epoch is younger). The m blocks still to be mined up to the epoch's
// last block, at the epoch's difficulty w, take a time T with r·T/w ~
// Gamma(m, 1); by memorylessness T counts from now, however long ago the tip
// was found. With r·Σα ~ Gamma(n, 1) independent of it,
//
//	T = w·Σα·(m/n)·F,  F ~ F(2m, 2n),
//
// a pivot free of the unknown r. Its 2.5% and 97.5% quantiles give a 95%
// prediction interval for the epoch's end that includes the uncertainty of
// the hashrate estimate as well as the luck of the remaining blocks. Date is
// the median; ExpectedSeconds the mean, w·Σα·m/(n−1).
//
// The retarget then measures (now + T) minus the epoch's first timestamp,
// and ExpectedBits applies the consensus rule (clamp to ×4, ÷4, the
// proof-of-work limit and compact truncation). The new difficulty falls
// monotonically as T grows, so the interval of the change is the image of
// the interval of T, the early date giving the high change.
//
// For the halving, blocks after the retarget are assumed to come at the
// target spacing: the hashrate stays constant after the retarget, and the
// retarget matches it. Those k blocks take Gamma(k, TargetSpacing) seconds,
// independent of T; the quantiles of the sum are computed deterministically
// by numerical convolution (a 512-point quantile grid of the narrower term
// against the exact CDF of the other, solved to the second). On
// NoRetargeting networks the whole way to the halving follows the F pivot.
//
// # Coinbases, rewards and fees
//
// ExtractCoinbase keeps of each block what the reward and pool analyses
// need (a CoinbaseRecord), so that neither ever re-reads blocks. Subsidy is
// Bitcoin Core's GetBlockSubsidy. Fees are the reward minus the subsidy,
// floored at 0, and only a lower bound of what the block's transactions
// paid: a miner may claim less than it is owed and the rest is destroyed
// (in block 501726 the miner claimed nothing, losing 12.5 BTC). The true
// total needs the outputs the transactions spend, which a coinbase does not
// show. RewardSeries sums rewards per UTC day, ISO week or difficulty epoch.
//
// CoinbaseTag extracts the text of a coinbase scriptSig, skipping the
// BIP34 height and other numbers, push lengths and merged-mining hashes;
// see its documentation for the exact rules.
//
// # Pool attribution
//
// A Matcher attributes a block to a pool of a list in mempool.space's
// mining-pools format (ParsePools, or DefaultPools built in) by the first
// of these rules that matches:
//
//  1. Address: an output pays one of the pool's addresses on the block's
//     network (a pay-to-pubkey output counts as its key's P2PKH address).
//     If outputs pay several pools, the pool paid the most in total wins,
//     the lowest id on a tie. An address listed by several pools belongs
//     to the lowest id.
//  2. Tag: one of the pool's tags occurs, ignoring case, in the coinbase
//     text (CoinbaseTag) or in the raw scriptSig read as text, which keeps
//     the spaces and punctuation CoinbaseTag trims. If tags of several
//     pools occur, the longest tag (in characters) wins, so
//     "/ViaBTC/TATMAS Pool/" beats "/ViaBTC/" that it contains; the lowest
//     id wins a tie.
//  3. None: the pool is unknown (id 0, UnknownPool, MatchNone).
//
// Addresses come first because anyone can write any text into a coinbase
// while a payout address shows where the reward went. Attribution is
// computed from stored records, so a new pool list never needs a re-index.
//
// # Pool shares and pool hashrate
//
// PoolShares counts, over the N blocks of a time window, the K of each
// pool. The share K/N gets the exact Clopper–Pearson 95% interval,
//
//	[Beta_0.025(K, N−K+1), Beta_0.975(K+1, N−K)].
//
// The pool's hashrate is its share of WindowHashrate's estimate, K·w̄/T
// with w̄ the mean work per block and T the window's length. Its interval
// uses that the pool's blocks are themselves a Poisson process: if N is
// Poisson with mean λ = r·T/w̄ and each block is the pool's with
// probability π independently, K is Poisson with mean π·λ. Garwood's exact
// interval on K, scaled by w̄/T as WindowHashrate scales N's, therefore
// bounds the pool's hashrate π·r directly; this is the binomial
// uncertainty of the share folded into the Poisson uncertainty of the
// network's count, exactly rather than by propagating two intervals.
package analysis
