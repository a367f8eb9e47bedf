// Package export writes minerscope's tables as CSV or Parquet files that DuckDB, Spark, pandas or any
// engine reading Parquet can load: one file per table in one directory, and a manifest.json written last.
//
// Every table has a typed row struct (Block, Epoch, HashrateDay, RewardDay, OutflowTx, FlowDay, PoolDay) whose
// `parquet` struct tags name the columns of both formats. Amounts are int64 satoshis, heights int32,
// timestamps UTC instants stored as Parquet TIMESTAMP(MILLIS, isAdjustedToUTC=true) and written in CSV as
// RFC 3339 with milliseconds ("2009-01-03T18:15:05.000Z"), days as Parquet DATE and CSV 2009-01-03.
// Pointer fields are the nullable columns: Parquet OPTIONAL, an empty CSV cell.
//
// A Writer streams rows to one file: the Parquet writer flushes a row group every RowGroupRows rows, so
// memory stays bounded however long the table. Each file is written under a temporary name in the
// directory and renamed into place by Close, after an fsync; WriteManifest is meant to run after every table
// is closed, so a directory without manifest.json (or whose manifest does not list a table) holds an
// interrupted export.
//
// The package knows nothing of the index or the node: callers build the rows.
package export
