// Package report holds the JSON shapes minerscope prints and serves, and
// builds them from the analysis values in one place: the rows of `minerscope
// hashrate|epochs|next-adjustment|pools|outflows --json` are the answers of
// the API endpoints of the same names, so the two cannot drift apart.
//
// Like analysis it does no I/O; it imports only the standard library and
// analysis. Times are ISO 8601 UTC strings; figures JSON cannot carry (NaN,
// infinities) become 0, or null where a field is a pointer.
package report
