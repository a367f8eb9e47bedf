// Package index stores verified block headers, and the records derived from
// them, in a Badger database so minerscope can answer questions about the
// chain without asking the node again.
//
// The index follows one chain: a block connects only on top of the current tip
// and every connect writes, in the same Badger transaction as its rows, an undo
// record listing each key it touched and that key's previous value. Disconnecting
// the tip replays the undo record, so a reorg never needs the node. The tip moves
// in that same transaction, which makes every block all-or-nothing on disk.
//
// ConnectHeader commits one block per transaction. ConnectHeaders, which the
// sync loop uses to catch up, writes each block exactly the same way (its rows,
// its own undo record, the tip moved to it) but lets consecutive blocks share a
// transaction: a transaction never holds part of a block, so the index is still
// only ever at a block boundary, and catching up pays Badger's per-transaction
// cost (about 5 µs) once per batch instead of once per block. Following the tip,
// batches are a block or two.
//
// What the index keeps of each block besides its header is set once per index
// with SetBlocksFrom: headers only (the default, and every schema 1 index), or
// full block data from a height on. A full index keeps, for every block at or
// above BlocksFrom, its coinbase record (analysis.CoinbaseRecord: coinbase
// txid, raw scriptSig, every output, reward, subsidy, fees, transaction count,
// size, weight, segwit commitment), written by ConnectBlocks with the block's
// header rows through the same BlockWriter, so DisconnectTip removes it with
// the block. Fees are stored as max(0, reward - subsidy), a lower bound when a
// miner claims less than the subsidy plus the fees. The mode may change only
// while no block it concerns is connected: an index that holds headers is
// never silently turned into one with gaps in its block data.
//
// Crash safety: Badger transactions are atomic. The index runs with
// SyncWrites=false, so a power failure or kernel crash may lose the last few
// committed blocks, but never half a block; a killed process loses nothing that
// was committed. After any crash Open finds a consistent index whose tip is the
// last fully written block, and the sync loop simply resumes from there.
//
// Key and value layouts are documented in keys.go; schema versions and
// migrations in schema.go. The package knows nothing about RPC: callers hand it
// headers and coinbase records they have already fetched and verified.
package index
