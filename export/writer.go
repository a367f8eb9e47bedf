package export

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
)

// Format is the file format of an export.
type Format string

// The formats an export is written in.
const (
	FormatCSV     Format = "csv"
	FormatParquet Format = "parquet"
)

// ErrFormat reports a format name that is neither csv nor parquet.
var ErrFormat = errors.New("unknown export format")

// ParseFormat parses "csv" or "parquet".
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatCSV, FormatParquet:
		return f, nil
	}
	return "", fmt.Errorf("%w %q: use parquet or csv", ErrFormat, s)
}

// FileName is the name of table's file in format f.
func FileName(table string, f Format) string {
	return table + "." + string(f)
}

// RowGroupRows is the most rows one Parquet row group holds. The writer keeps one row group in memory, so
// this bounds its memory: about 32 MiB for the widest table (blocks), however many rows it has.
const RowGroupRows = 64 * 1024

// Options tune a Writer.
type Options struct {
	// Version is minerscope's version, recorded in each Parquet file's created_by.
	Version string

	// Metadata is stored in each Parquet file's key/value metadata (network, tip, ...).
	Metadata map[string]string
}

// encoder turns rows into one file format.
type encoder[T any] interface {
	write(rows []T) error
	close() error
}

// Writer streams the rows of one table into a file of dir. Nothing is visible under the table's file name
// until Close succeeds.
type Writer[T Row] struct {
	path  string // final path
	tmp   *os.File
	buf   *bufio.Writer
	enc   encoder[T]
	rows  int64
	table string
	done  bool
}

// Create starts the file of T's table in dir, in format f, under a temporary name.
func Create[T Row](dir string, f Format, opts Options) (*Writer[T], error) {
	if _, err := ParseFormat(string(f)); err != nil {
		return nil, err
	}
	var zero T
	table := zero.TableName()
	tmp, err := os.CreateTemp(dir, "."+table+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", table, err)
	}
	w := &Writer[T]{path: filepath.Join(dir, FileName(table, f)), tmp: tmp, table: table,
		buf: bufio.NewWriterSize(tmp, 256<<10)}
	if f == FormatCSV {
		w.enc, err = newCSVEncoder[T](w.buf)
	} else {
		w.enc = newParquetEncoder[T](w.buf, opts)
	}
	if err != nil {
		w.Abort()
		return nil, fmt.Errorf("export %s: %w", table, err)
	}
	return w, nil
}

// Write appends rows to the table.
func (w *Writer[T]) Write(rows ...T) error {
	if w.done {
		return fmt.Errorf("export %s: write after close", w.table)
	}
	if err := w.enc.write(rows); err != nil {
		return fmt.Errorf("export %s: %w", w.table, err)
	}
	w.rows += int64(len(rows))
	return nil
}

// Rows is how many rows were written so far.
func (w *Writer[T]) Rows() int64 { return w.rows }

// Close finishes the file, syncs it to disk and renames it to its table's file name, replacing any file of
// that name. On error the temporary file is removed.
func (w *Writer[T]) Close() error {
	if w.done {
		return nil
	}
	err := w.enc.close()
	if err == nil {
		err = w.buf.Flush()
	}
	if err == nil {
		err = w.tmp.Sync()
	}
	if cerr := w.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(w.tmp.Name(), w.path)
	}
	w.done = true
	if err != nil {
		os.Remove(w.tmp.Name())
		return fmt.Errorf("export %s: %w", w.table, err)
	}
	return syncDir(filepath.Dir(w.path))
}

// Abort discards the file. It does nothing after Close.
func (w *Writer[T]) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.tmp.Close()
	os.Remove(w.tmp.Name())
}

// Entry describes the finished file for the manifest.
func (w *Writer[T]) Entry() TableEntry {
	return TableEntry{Name: w.table, File: filepath.Base(w.path), Rows: w.rows, Columns: planOf[T]().columns()}
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// csvEncoder writes a header row and one record per row.
type csvEncoder[T any] struct {
	cw   *csv.Writer
	plan *plan
	rec  []string
}

func newCSVEncoder[T any](w *bufio.Writer) (*csvEncoder[T], error) {
	p := planOf[T]()
	e := &csvEncoder[T]{cw: csv.NewWriter(w), plan: p, rec: make([]string, len(p.fields))}
	return e, e.cw.Write(p.header())
}

func (e *csvEncoder[T]) write(rows []T) error {
	for i := range rows {
		e.plan.record(reflect.ValueOf(&rows[i]).Elem(), e.rec)
		if err := e.cw.Write(e.rec); err != nil {
			return err
		}
	}
	return nil
}

func (e *csvEncoder[T]) close() error {
	e.cw.Flush()
	return e.cw.Error()
}

// parquetEncoder writes zstd-compressed Parquet, a row group every RowGroupRows rows.
type parquetEncoder[T any] struct {
	pw *parquet.GenericWriter[T]
}

func newParquetEncoder[T any](w *bufio.Writer, opts Options) *parquetEncoder[T] {
	version := opts.Version
	if version == "" {
		version = "unknown"
	}
	po := []parquet.WriterOption{
		parquet.Compression(&zstd.Codec{Level: zstd.DefaultLevel}),
		parquet.MaxRowsPerRowGroup(RowGroupRows),
		parquet.CreatedBy("minerscope", version, ""),
	}
	for _, k := range slices.Sorted(maps.Keys(opts.Metadata)) { // sorted: the same export, the same bytes
		po = append(po, parquet.KeyValueMetadata(k, opts.Metadata[k]))
	}
	return &parquetEncoder[T]{pw: parquet.NewGenericWriter[T](w, po...)}
}

func (e *parquetEncoder[T]) write(rows []T) error {
	_, err := e.pw.Write(rows)
	return err
}

func (e *parquetEncoder[T]) close() error { return e.pw.Close() }
