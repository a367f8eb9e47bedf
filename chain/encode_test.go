package chain

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestEncodeBatchMatchesEncodingJSON checks the hand-rolled batch encoder against encoding/json.
func TestEncodeBatchMatchesEncodingJSON(t *testing.T) {
	reqs := []Request{
		{Method: "getblockhash", Params: []any{int32(0)}},
		{Method: "getblockheader", Params: []any{"00000000839a8e6886ab5951d76f411475428afc90947ee320161bbf18eb6048", false}},
		{Method: "getnetworkhashps", Params: []any{-1, int64(123456)}},
		{Method: "odd", Params: []any{"quote \" backslash \\ tab \t é <>&", 1.5, nil, []int{1, 2}, map[string]int{"a": 1}}},
		{Method: "noparams"},
	}
	got, err := encodeBatch(7, reqs)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]wireRequest, len(reqs))
	for i, r := range reqs {
		p := r.Params
		if p == nil {
			p = []any{}
		}
		want[i] = wireRequest{"1.0", 7 + uint64(i), r.Method, p}
	}
	wantJSON, _ := json.Marshal(want)
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatalf("encoded batch is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal(wantJSON, &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("encodeBatch:\n got %s\nwant %s", got, wantJSON)
	}
}
