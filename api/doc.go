// Package api serves minerscope's figures over HTTP: a JSON API under
// /api/v1/ (mempool.space-compatible mining endpoints and minerscope's own,
// which carry the 95% intervals), Prometheus metrics at /metrics and the
// dashboard at /.
//
// The package knows nothing of the node. The serve command runs the sync
// loop and tells the Server what it did with SetSyncState and TipChanged; the
// Server reads the index only, and never writes to it: every endpoint
// answers GET and HEAD, anything else gets 405.
//
// minerscope's own endpoints answer with the shapes of package report, which
// the commands print with --json too, so an answer and the command's output
// are the same document.
//
// Every figure is computed at the index's tip. The headers are kept in memory
// (16 bytes a block, 15 MB at mainnet scale) and refreshed incrementally when
// the tip moves, a reorg included; computed figures are cached per tip hash,
// so a burst of requests between two blocks costs one computation each.
//
// Intervals (24h, 3d, 1w, 1m, 3m, 6m, 1y, 2y, 3y, 4y, all) end at the tip's
// timestamp, not at the wall clock, so that answers are reproducible: on an
// index of 2009, 1m is the month before its last block. Months and years are
// calendar months and years, as in mempool.space (MySQL's DATE_SUB): the
// interval (T - d, T] holds the blocks timestamped after its start and at or
// before the tip's timestamp T.
package api
