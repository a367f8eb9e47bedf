package analysis

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/btcsuite/btcd/btcutil"
)

// The values of Attribution.Match, and the name of the unknown pool.
const (
	MatchAddress = "address" // a coinbase output pays one of the pool's addresses
	MatchTag     = "tag"     // the coinbase text contains one of the pool's tags
	MatchNone    = "none"    // neither: the pool is unknown

	UnknownPool = "unknown" // Attribution.Pool when Match is MatchNone
)

// Attribution says which pool mined a block and which rule decided it.
type Attribution struct {
	PoolID int    // the pool's id; 0 when unknown
	Pool   string // the pool's name; UnknownPool when unknown
	Match  string // MatchAddress, MatchTag or MatchNone
}

// unknownAttribution is the attribution of a block no rule matched.
var unknownAttribution = Attribution{Pool: UnknownPool, Match: MatchNone}

// Matcher attributes blocks to pools by the rules in the package
// documentation. It is immutable and safe for concurrent use.
type Matcher struct {
	pools     []Pool         // id and name of each pool, in the caller's order
	byAddress map[string]int // canonical address → index into pools
	tags      []matcherTag   // longest first, then lowest pool id
}

// matcherTag is one tag, case-folded, with its length in characters.
type matcherTag struct {
	folded string
	runes  int
	pool   int // index into Matcher.pools
}

// NewMatcher prepares pools for attributing blocks of network p. pools must
// pass ParsePools's rules (ErrBadPools otherwise). Addresses are decoded
// for p: those of other networks, and strings that are not addresses, are
// ignored, and an address listed by several pools belongs to the one with
// the lowest id.
func NewMatcher(pools []Pool, p Params) (*Matcher, error) {
	if p.AddrParams == nil {
		return nil, errNoAddrParams(p)
	}
	if err := validatePools(pools); err != nil {
		return nil, err
	}

	m := &Matcher{
		pools:     make([]Pool, len(pools)),
		byAddress: make(map[string]int),
	}
	for i, pool := range pools {
		m.pools[i] = Pool{ID: pool.ID, Name: pool.Name}
		m.addAddresses(i, pool.Addresses, p)
		for _, tag := range pool.Tags {
			m.tags = append(m.tags, matcherTag{
				folded: strings.ToLower(tag),
				runes:  utf8.RuneCountInString(tag),
				pool:   i,
			})
		}
	}
	slices.SortStableFunc(m.tags, func(a, b matcherTag) int {
		return cmp.Or(cmp.Compare(b.runes, a.runes),
			cmp.Compare(m.pools[a.pool].ID, m.pools[b.pool].ID))
	})
	return m, nil
}

// addAddresses maps the addresses of pool i that belong to network p.
func (m *Matcher) addAddresses(i int, addrs []string, p Params) {
	for _, s := range addrs {
		addr, err := btcutil.DecodeAddress(s, p.AddrParams)
		if err != nil || !addr.IsForNet(p.AddrParams) {
			continue
		}
		key := addr.EncodeAddress()
		if j, taken := m.byAddress[key]; taken && m.pools[j].ID < m.pools[i].ID {
			continue
		}
		m.byAddress[key] = i
	}
}

// Attribute names the pool that mined the block of rec: by address, else
// by tag, else unknown. A nil rec is unknown.
func (m *Matcher) Attribute(rec *CoinbaseRecord) Attribution {
	if rec == nil {
		return unknownAttribution
	}
	if i, ok := m.byPayout(rec.Outputs); ok {
		return m.attribution(i, MatchAddress)
	}
	if i, ok := m.byTag(rec.ScriptSig); ok {
		return m.attribution(i, MatchTag)
	}
	return unknownAttribution
}

// attribution is the Attribution of pool i by rule match.
func (m *Matcher) attribution(i int, match string) Attribution {
	return Attribution{PoolID: m.pools[i].ID, Pool: m.pools[i].Name,
		Match: match}
}

// payout is what one pool is paid by a coinbase.
type payout struct {
	pool  int
	value btcutil.Amount
}

// byPayout returns the pool paid the most by outputs to its addresses, the
// lowest id on a tie.
func (m *Matcher) byPayout(outputs []CoinbaseOutput) (int, bool) {
	var paid []payout
	for _, out := range outputs {
		i, ok := m.byAddress[out.Address]
		if !ok {
			continue
		}
		k := slices.IndexFunc(paid, func(p payout) bool { return p.pool == i })
		if k < 0 {
			paid = append(paid, payout{pool: i})
			k = len(paid) - 1
		}
		paid[k].value += out.Value
	}
	if len(paid) == 0 {
		return 0, false
	}
	best := slices.MinFunc(paid, func(a, b payout) int {
		return cmp.Or(cmp.Compare(b.value, a.value),
			cmp.Compare(m.pools[a.pool].ID, m.pools[b.pool].ID))
	})
	return best.pool, true
}

// byTag returns the pool of the longest tag found, case-insensitively, in
// the coinbase text or in the raw scriptSig read as text; the lowest id on
// a tie.
func (m *Matcher) byTag(scriptSig []byte) (int, bool) {
	if len(m.tags) == 0 {
		return 0, false
	}
	tagText := strings.ToLower(CoinbaseTag(scriptSig))
	rawText := strings.ToLower(string(scriptSig))
	for _, t := range m.tags {
		if strings.Contains(tagText, t.folded) ||
			strings.Contains(rawText, t.folded) {

			return t.pool, true
		}
	}
	return 0, false
}
