package analysis

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// Pool is one mining pool in the JSON format of mempool.space's
// mining-pools list (pools-v2.json): the addresses it pays its rewards to
// and the texts it writes into its coinbases.
type Pool struct {
	ID        int      `json:"id"` // > 0; 0 is the unknown pool
	Name      string   `json:"name"`
	Addresses []string `json:"addresses"`
	Tags      []string `json:"tags"`
	Link      string   `json:"link"`
}

// poolEntry is one element of the JSON array as written, with pointers so
// that missing fields can be told from empty ones.
type poolEntry struct {
	ID        *int64    `json:"id"`
	Name      *string   `json:"name"`
	Addresses *[]string `json:"addresses"`
	Tags      *[]string `json:"tags"`
	Link      *string   `json:"link"`
}

// ParsePools reads a pool list in the mining-pools format: a JSON array of
// {"id", "name", "addresses", "tags", "link"}. It is strict where a mistake
// would silently change attributions: id, name, addresses and tags must be
// present, ids positive and unique, names, tags and addresses non-blank.
// link is optional and fields it does not know are ignored, so newer
// versions of the upstream file still load. Addresses are not decoded here:
// the list may mix networks (the upstream file holds a few testnet
// addresses), and NewMatcher keeps those of its network.
//
// Errors wrap ErrBadPools and name the entry (counting from 1), its id and
// its name.
func ParsePools(r io.Reader) ([]Pool, error) {
	dec := json.NewDecoder(r)
	var raw []json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%w: not a JSON array of pools: %w",
			ErrBadPools, err)
	}
	if raw == nil {
		return nil, fmt.Errorf("%w: not a JSON array of pools (got null)",
			ErrBadPools)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: unexpected data after the array of "+
			"pools", ErrBadPools)
	}

	pools := make([]Pool, len(raw))
	for i, msg := range raw {
		p, err := parsePoolEntry(msg)
		if err != nil {
			return nil, fmt.Errorf("%w: entry %d%s: %w", ErrBadPools, i+1,
				entryLabel(p), err)
		}
		pools[i] = p
	}
	if err := validatePools(pools); err != nil {
		return nil, err
	}
	return pools, nil
}

// parsePoolEntry decodes one entry and checks that its required fields are
// present. It returns what it could read even on error, to name the entry.
func parsePoolEntry(msg json.RawMessage) (Pool, error) {
	var e poolEntry
	if err := json.Unmarshal(msg, &e); err != nil {
		return Pool{}, fmt.Errorf("not a pool object: %w", err)
	}

	var p Pool
	if e.Name != nil {
		p.Name = *e.Name
	}
	if e.Link != nil {
		p.Link = *e.Link
	}
	if e.ID != nil {
		if *e.ID <= 0 || *e.ID > math.MaxInt32 {
			return p, fmt.Errorf("id %d is not between 1 and %d", *e.ID,
				math.MaxInt32)
		}
		p.ID = int(*e.ID)
	}

	switch {
	case e.ID == nil:
		return p, errors.New(`"id" is missing`)
	case e.Name == nil:
		return p, errors.New(`"name" is missing`)
	case e.Addresses == nil:
		return p, errors.New(`"addresses" is missing (use [] for none)`)
	case e.Tags == nil:
		return p, errors.New(`"tags" is missing (use [] for none)`)
	}
	p.Addresses = slices.Clone(*e.Addresses)
	p.Tags = slices.Clone(*e.Tags)
	if p.Addresses == nil {
		p.Addresses = []string{}
	}
	if p.Tags == nil {
		p.Tags = []string{}
	}
	return p, nil
}

// entryLabel names a pool in an error: ` (id 4, "Luxor")`.
func entryLabel(p Pool) string {
	switch {
	case p.ID != 0 && p.Name != "":
		return fmt.Sprintf(" (id %d, %q)", p.ID, p.Name)
	case p.ID != 0:
		return fmt.Sprintf(" (id %d)", p.ID)
	case p.Name != "":
		return fmt.Sprintf(" (%q)", p.Name)
	}
	return ""
}

// validatePools checks the rules ParsePools and NewMatcher share: ids
// positive and unique, names, tags and addresses not blank, tags valid
// text.
func validatePools(pools []Pool) error {
	seen := make(map[int]int, len(pools))
	for i, p := range pools {
		if err := validatePool(p); err != nil {
			return fmt.Errorf("%w: entry %d%s: %w", ErrBadPools, i+1,
				entryLabel(p), err)
		}
		if j, dup := seen[p.ID]; dup {
			return fmt.Errorf("%w: entries %d and %d both have id %d",
				ErrBadPools, j+1, i+1, p.ID)
		}
		seen[p.ID] = i
	}
	return nil
}

// validatePool checks one pool.
func validatePool(p Pool) error {
	if p.ID <= 0 || p.ID > math.MaxInt32 {
		return fmt.Errorf("id %d is not between 1 and %d", p.ID,
			math.MaxInt32)
	}
	if strings.TrimSpace(p.Name) == "" {
		return errors.New("the name is empty")
	}
	for _, tag := range p.Tags {
		if strings.TrimSpace(tag) == "" {
			return errors.New("a tag is empty; it would match every block")
		}
		if !utf8.ValidString(tag) || strings.ContainsRune(tag, utf8.RuneError) {
			return fmt.Errorf("tag %q is not valid text", tag)
		}
	}
	for _, addr := range p.Addresses {
		if addr == "" || strings.TrimSpace(addr) != addr ||
			strings.ContainsAny(addr, " \t\r\n") {

			return fmt.Errorf("address %q is blank or has spaces", addr)
		}
	}
	return nil
}

// defaultPoolsJSON is the built-in pool list; see DefaultPools.
//
//go:embed pools_default.json
var defaultPoolsJSON []byte

// defaultPools parses defaultPoolsJSON once. The tests parse it too, so a
// broken file cannot ship.
var defaultPools = sync.OnceValue(func() []Pool {
	pools, err := ParsePools(bytes.NewReader(defaultPoolsJSON))
	if err != nil {
		panic("analysis: built-in pool list: " + err.Error())
	}
	return pools
})

// DefaultPools returns minerscope's built-in pool list: the pools that find
// most of today's blocks, with the ids and names of mempool.space's list so
// attributions compare across tools. Each tag was checked against real
// mainnet coinbases that carry it, and each address against a real coinbase
// of the pool that pays it; unverified tags and addresses are left out, so
// the list is short on addresses and callers wanting more coverage pass the
// full upstream file to ParsePools. The result is a fresh copy.
func DefaultPools() []Pool {
	return clonePools(defaultPools())
}

// clonePools deep-copies pools.
func clonePools(pools []Pool) []Pool {
	out := make([]Pool, len(pools))
	for i, p := range pools {
		p.Addresses = slices.Clone(p.Addresses)
		p.Tags = slices.Clone(p.Tags)
		out[i] = p
	}
	return out
}
