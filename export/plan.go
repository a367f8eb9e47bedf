package export

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Column describes one column of a table: its name, its type as Parquet stores it and as DuckDB and Spark read
// it, and whether it may be null.
type Column struct {
	Name     string `json:"name"`
	Parquet  string `json:"parquet_type"`
	DuckDB   string `json:"duckdb_type"`
	Spark    string `json:"spark_type"`
	Nullable bool   `json:"nullable"`
	Doc      string `json:"-"`
}

// colKind is what a field holds, which decides its Parquet type and its CSV text.
type colKind int

const (
	kindInt32 colKind = iota
	kindInt64
	kindFloat64
	kindString
	kindBool
	kindTimestamp
	kindDate
)

// kindTypes names each kind's type in Parquet, DuckDB and Spark SQL.
var kindTypes = [...][3]string{
	kindInt32:     {"INT32", "INTEGER", "int"},
	kindInt64:     {"INT64", "BIGINT", "bigint"},
	kindFloat64:   {"DOUBLE", "DOUBLE", "double"},
	kindString:    {"BYTE_ARRAY (STRING)", "VARCHAR", "string"},
	kindBool:      {"BOOLEAN", "BOOLEAN", "boolean"},
	kindTimestamp: {"INT64 (TIMESTAMP(MILLIS, UTC))", "TIMESTAMP WITH TIME ZONE", "timestamp"},
	kindDate:      {"INT32 (DATE)", "DATE", "date"},
}

// field is one column of a row struct.
type field struct {
	index    int
	name     string
	kind     colKind
	nullable bool
	doc      string
}

// plan is how the rows of one struct type become columns.
type plan struct {
	fields []field
}

var plans sync.Map // reflect.Type -> *plan

// planOf returns the plan of T, built once. It panics on a field it cannot export: the row types are this
// package's own, and a test builds the plan of each.
func planOf[T any]() *plan {
	t := reflect.TypeFor[T]()
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	p, err := buildPlan(t)
	if err != nil {
		panic(err)
	}
	plans.Store(t, p)
	return p
}

var (
	timeType = reflect.TypeFor[time.Time]()
	dateType = reflect.TypeFor[Date]()
)

func buildPlan(t reflect.Type) (*plan, error) {
	p := &plan{}
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := strings.Split(sf.Tag.Get("parquet"), ",")
		if tag[0] == "" {
			return nil, fmt.Errorf("export: %v.%s has no parquet column name", t, sf.Name)
		}
		f := field{index: i, name: tag[0], doc: sf.Tag.Get("doc")}
		ft := sf.Type
		if ft.Kind() == reflect.Pointer {
			f.nullable, ft = true, ft.Elem()
			if !hasOption(tag, "optional") {
				return nil, fmt.Errorf("export: %v.%s is a pointer without the optional tag", t, sf.Name)
			}
		}
		switch {
		case ft == dateType && hasOption(tag, "date"):
			f.kind = kindDate
		case ft == timeType && hasOption(tag, "timestamp(millisecond:utc)"):
			f.kind = kindTimestamp
		case ft.Kind() == reflect.Int32:
			f.kind = kindInt32
		case ft.Kind() == reflect.Int64:
			f.kind = kindInt64
		case ft.Kind() == reflect.Float64:
			f.kind = kindFloat64
		case ft.Kind() == reflect.String:
			f.kind = kindString
		case ft.Kind() == reflect.Bool:
			f.kind = kindBool
		default:
			return nil, fmt.Errorf("export: %v.%s: unsupported type %v with tag %q", t, sf.Name, sf.Type,
				sf.Tag.Get("parquet"))
		}
		p.fields = append(p.fields, f)
	}
	return p, nil
}

func hasOption(tag []string, opt string) bool {
	for _, o := range tag[1:] {
		if o == opt {
			return true
		}
	}
	return false
}

// columns describes the plan's columns.
func (p *plan) columns() []Column {
	cols := make([]Column, len(p.fields))
	for i, f := range p.fields {
		ty := kindTypes[f.kind]
		cols[i] = Column{Name: f.name, Parquet: ty[0], DuckDB: ty[1], Spark: ty[2], Nullable: f.nullable, Doc: f.doc}
	}
	return cols
}

// header returns the column names.
func (p *plan) header() []string {
	names := make([]string, len(p.fields))
	for i, f := range p.fields {
		names[i] = f.name
	}
	return names
}

// TimestampLayout is how CSV files write a timestamp: RFC 3339 in UTC with milliseconds.
const TimestampLayout = "2006-01-02T15:04:05.000Z07:00"

// DateLayout is how CSV files write a day.
const DateLayout = time.DateOnly

// record formats one row as CSV fields into rec, which has one entry per field.
func (p *plan) record(v reflect.Value, rec []string) {
	for i, f := range p.fields {
		fv := v.Field(f.index)
		if f.nullable {
			if fv.IsNil() {
				rec[i] = ""
				continue
			}
			fv = fv.Elem()
		}
		rec[i] = formatField(f.kind, fv)
	}
}

func formatField(k colKind, v reflect.Value) string {
	switch k {
	case kindDate:
		return Date(v.Int()).String()
	case kindInt32, kindInt64:
		return strconv.FormatInt(v.Int(), 10)
	case kindFloat64:
		return formatFloat(v.Float())
	case kindString:
		return v.String()
	case kindBool:
		return strconv.FormatBool(v.Bool())
	default: // kindTimestamp
		return v.Interface().(time.Time).UTC().Format(TimestampLayout)
	}
}

// formatFloat prints a float with the fewest digits that read back to the same value; NaN and infinities as
// DuckDB and Spark read them.
func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
