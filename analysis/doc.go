// Package analysis turns block headers into the numbers minerscope reports:
// work and difficulty, hashrate estimates with exact 95% intervals,
// difficulty epochs, and projections of the next retarget and halving.
//
// The package is pure: no I/O, no clock, no logging. Callers pass a
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
package analysis
