package analysis

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/btcsuite/btcd/btcutil"
)

// Prices maps a UTC day, "2006-01-02", to the price of one bitcoin that
// day in US cents.
type Prices map[string]int64

// maxPriceDecimals is how many decimals ParsePrices accepts in a price.
const maxPriceDecimals = 8

// ParsePrices reads a CSV file of daily prices (RFC 4180) whose first row
// is the header date,price_usd (any case). Each further row holds an ISO
// date (2024-01-31) and a plain decimal price in dollars, without sign or
// exponent and with at most 8 decimals, which is rounded half up to whole
// cents. Rows may come in any order; a date may appear only once.
//
// Errors wrap ErrBadPriceFile and name the line. A file with only the
// header gives no prices.
func ParsePrices(r io.Reader) (Prices, error) {
	cr := newCSVReader(r)
	if err := readCSVHeader(cr, "date", "price_usd"); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPriceFile, err)
	}

	prices := Prices{}
	lines := map[string]int{}
	for {
		row, line, err := readCSVRow(cr, 2)
		if errors.Is(err, io.EOF) {
			return prices, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadPriceFile, err)
		}
		date, err := parseDate(row[0])
		var cents int64
		if err == nil {
			cents, err = parsePrice(row[1])
		}
		if prev, dup := lines[date]; err == nil && dup {
			err = fmt.Errorf("date %s is already on line %d", date, prev)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrBadPriceFile, line,
				err)
		}
		prices[date], lines[date] = cents, line
	}
}

// parseDate checks that s is an ISO date and returns it.
func parseDate(s string) (string, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Format(time.DateOnly) != s {
		return "", fmt.Errorf("%q is not a date like 2024-01-31", s)
	}
	return s, nil
}

// parsePrice reads a decimal number of dollars as cents, rounded half up.
func parsePrice(s string) (int64, error) {
	whole, frac, dot := strings.Cut(s, ".")
	switch {
	case strings.HasPrefix(s, "-"):
		return 0, fmt.Errorf("price %q is negative", s)
	case !isDigits(whole) || dot && !isDigits(frac) ||
		len(frac) > maxPriceDecimals:
		return 0, fmt.Errorf("price %q is not a number of dollars like "+
			"42000.17 (no sign or exponent, at most %d decimals)", s,
			maxPriceDecimals)
	}

	dollars, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || dollars > (1<<63-1)/100-1 {
		return 0, fmt.Errorf("price %q is too large", s)
	}
	// The decimals in units of 1e-8 dollar, 1e6 to the cent.
	units, _ := strconv.ParseInt((frac + "00000000")[:maxPriceDecimals],
		10, 64)
	cents := units / 1e6
	if units%1e6 >= 5e5 {
		cents++
	}
	return dollars*100 + cents, nil
}

// isDigits reports whether s is one or more ASCII digits.
func isDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// Labels maps an address, in its canonical encoding (EncodeAddress), to a
// label naming its owner, such as an exchange.
type Labels map[string]string

// ParseLabels reads a CSV file (RFC 4180) whose first row is the header
// address,label (any case). Every address must be one of p's network
// (btcutil.DecodeAddress and IsForNet); it is kept in its canonical
// encoding, so a public key in hex counts as its pay-to-pubkey-hash address.
// Labels must be valid UTF-8 and not blank. An address may appear again
// with the same label, not with another.
//
// Errors wrap ErrBadLabelFile and name the line. A file with only the
// header gives no labels.
func ParseLabels(r io.Reader, p Params) (Labels, error) {
	if p.AddrParams == nil {
		return nil, fmt.Errorf("%w: %q has no address encoding",
			ErrBadParams, p.Name)
	}
	cr := newCSVReader(r)
	if err := readCSVHeader(cr, "address", "label"); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadLabelFile, err)
	}

	labels := Labels{}
	lines := map[string]int{}
	for {
		row, line, err := readCSVRow(cr, 2)
		if errors.Is(err, io.EOF) {
			return labels, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadLabelFile, err)
		}
		addr, label := row[0], row[1]
		key, err := canonicalAddress(addr, p)
		switch {
		case err != nil:
		case strings.TrimSpace(label) == "" || !utf8.ValidString(label):
			err = fmt.Errorf("the label of %s is blank or not UTF-8", addr)
		case lines[key] != 0 && labels[key] != label:
			err = fmt.Errorf("%s is labelled %q here but %q on line %d",
				addr, label, labels[key], lines[key])
		}
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrBadLabelFile, line,
				err)
		}
		if lines[key] == 0 {
			labels[key], lines[key] = label, line
		}
	}
}

// canonicalAddress decodes addr for p's network and encodes it again.
func canonicalAddress(addr string, p Params) (string, error) {
	a, err := btcutil.DecodeAddress(addr, p.AddrParams)
	if err != nil || !a.IsForNet(p.AddrParams) {
		return "", fmt.Errorf("%q is not a %s address", addr, p.Name)
	}
	return a.EncodeAddress(), nil
}

// newCSVReader reads RFC 4180 records of any length, checked by the
// caller so that every error names its line the same way.
func newCSVReader(r io.Reader) *csv.Reader {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	return cr
}

// readCSVHeader reads the first row and checks that it names the columns,
// ignoring case and a UTF-8 byte order mark.
func readCSVHeader(cr *csv.Reader, names ...string) error {
	want := strings.Join(names, ",")
	row, err := cr.Read()
	switch {
	case errors.Is(err, io.EOF):
		return fmt.Errorf("the file is empty; its first line must be %s",
			want)
	case err != nil:
		return err
	}
	row[0] = strings.TrimPrefix(row[0], "\ufeff")
	ok := len(row) == len(names)
	for i := 0; ok && i < len(names); i++ {
		ok = strings.EqualFold(row[i], names[i])
	}
	if !ok {
		line, _ := cr.FieldPos(0)
		return fmt.Errorf("line %d: the header is %q; it must be %s", line,
			strings.Join(row, ","), want)
	}
	return nil
}

// readCSVRow reads the next row, which must have n columns, and returns it
// with its line number; io.EOF at the end.
func readCSVRow(cr *csv.Reader, n int) ([]string, int, error) {
	row, err := cr.Read()
	if err != nil {
		return nil, 0, err
	}
	line, _ := cr.FieldPos(0)
	if len(row) != n {
		return nil, line, fmt.Errorf("line %d: %d columns instead of %d",
			line, len(row), n)
	}
	return row, line, nil
}
