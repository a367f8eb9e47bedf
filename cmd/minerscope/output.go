package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeCSV prints a header row and the rows; it fails on the first write error.
func writeCSV(w io.Writer, header []string, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}

// writeRows prints rows as JSON (asJSON) or as CSV, the header and one record a row (asCSV); it reports
// whether it printed, false when the caller prints its text table.
func writeRows[T any](w io.Writer, asJSON, asCSV bool, rows []T, header []string, record func(T) []string) (bool, error) {
	switch {
	case asJSON:
		return true, writeJSON(w, rows)
	case asCSV:
		recs := make([][]string, len(rows))
		for i, r := range rows {
			recs[i] = record(r)
		}
		return true, writeCSV(w, header, recs)
	}
	return false, nil
}

// fmtFloat prints a derived statistic with enough digits to round-trip.
func fmtFloat(f float64) string {
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// btcString prints satoshis as BTC with all eight decimals, exactly (no float).
func btcString(sat int64) string {
	sign := ""
	if sat < 0 {
		sign, sat = "-", -sat
	}
	return fmt.Sprintf("%s%d.%08d BTC", sign, sat/1e8, sat%1e8)
}
