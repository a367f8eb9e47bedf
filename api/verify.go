package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/minerscope/minerscope/analysis"
)

// verifyParams lists, for each kind of claim GET
// /api/v1/minerscope/verify/{kind} checks, the query parameters it takes:
// the flags of `minerscope verify <kind>`, spelled as the other endpoints
// spell them.
var verifyParams = map[string][]string{
	"hashrate":   {"claim", "at", "window", "blocks", "tolerance"},
	"difficulty": {"claim", "at_height", "at", "tolerance"},
	"adjustment": {"date", "change", "tolerance"},
	"outflow":    {"claim", "from", "to", "hops", "tolerance"},
}

// handleVerify checks a published figure against the chain and answers the
// analysis.Verification that `minerscope verify <kind> --json` prints. Every
// verdict, not-verifiable included, is a 200: the verdict is in the body. A
// malformed claim or parameter is a 400; an outflow claim on an index of
// headers only is a 404.
func (s *Server) handleVerify(r *http.Request, sn *snapshot) (any, error) {
	kind := r.PathValue("kind")
	allowed, ok := verifyParams[kind]
	if !ok {
		return nil, badRequest(fmt.Sprintf("cannot verify %q: use verify/hashrate, verify/difficulty, "+
			"verify/adjustment or verify/outflow", kind))
	}
	q := r.URL.Query()
	if err := verifyOnly(q, kind, allowed); err != nil {
		return nil, err
	}
	tol, err := toleranceParam(q)
	if err != nil {
		return nil, err
	}

	var v analysis.Verification
	switch kind {
	case "hashrate":
		v, err = s.verifyHashrate(q, sn, tol)
	case "difficulty":
		v, err = verifyDifficulty(q, sn, tol)
	case "adjustment":
		v, err = s.verifyAdjustment(q, sn, tol)
	case "outflow":
		v, err = s.verifyOutflow(q, sn, tol)
	}
	if errors.Is(err, analysis.ErrBadVerify) {
		return nil, badRequest(err.Error())
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

// verifyOnly refuses the parameters kind does not take and any parameter
// given twice.
func verifyOnly(q url.Values, kind string, allowed []string) error {
	for k, vs := range q {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		switch {
		case !ok:
			return badRequest(fmt.Sprintf("unknown parameter %q: verify/%s takes %s", k, kind,
				strings.Join(allowed, ", ")))
		case len(vs) > 1:
			return badRequest(fmt.Sprintf("parameter %q is given %d times: give it once", k, len(vs)))
		}
	}
	return nil
}

// toleranceParam parses ?tolerance=2% into a fraction, 0 by default.
func toleranceParam(q url.Values) (float64, error) {
	if !q.Has("tolerance") {
		return 0, nil
	}
	f, err := analysis.ParsePercent(q.Get("tolerance"))
	if err != nil {
		return 0, badRequest("tolerance: " + err.Error())
	}
	if f.Value < 0 {
		return 0, badRequest(fmt.Sprintf("tolerance %s is negative: give a share like 2%%", f.Text))
	}
	return f.Value / 100, nil
}

// claimParam returns ?claim=, a 400 naming the forms when it is missing.
func claimParam(q url.Values, kind, forms string) (string, error) {
	if !q.Has("claim") {
		return "", badRequest(fmt.Sprintf("give the %s claim with ?claim=: %s", kind, forms))
	}
	return q.Get("claim"), nil
}

// verifyHashrate is `minerscope verify hashrate CLAIM [--at T] [--window W |
// --blocks N]`: the window defaults to 7d, the time to the tip's timestamp.
func (s *Server) verifyHashrate(q url.Values, sn *snapshot, tol float64) (analysis.Verification, error) {
	text, err := claimParam(q, "hashrate", analysis.HashrateForms)
	if err != nil {
		return analysis.Verification{}, err
	}
	claim, err := analysis.ParseHashrate(text)
	if err != nil {
		return analysis.Verification{}, badRequest(err.Error())
	}

	var window int64
	blocks := 0
	switch {
	case q.Has("blocks") && q.Has("window"):
		return analysis.Verification{}, badRequest("blocks and window exclude each other: give one")
	case q.Has("blocks"):
		n, err := strconv.Atoi(q.Get("blocks"))
		if err != nil || n <= 0 {
			return analysis.Verification{}, badRequest(fmt.Sprintf("bad blocks %q: give a positive number of blocks",
				q.Get("blocks")))
		}
		blocks = n
	default:
		win := 7 * 24 * time.Hour
		if q.Has("window") {
			if win, err = parseWindow(q.Get("window")); err != nil {
				return analysis.Verification{}, err
			}
		}
		window = int64(win / time.Second)
	}

	at := sn.tipTime()
	if q.Has("at") {
		if at, err = atParam(q.Get("at")); err != nil {
			return analysis.Verification{}, err
		}
	}
	return analysis.VerifyHashrate(s.p, sn.hs, claim, tol, at, window, blocks)
}

// verifyDifficulty is `minerscope verify difficulty CLAIM --at-height H |
// --at T`.
func verifyDifficulty(q url.Values, sn *snapshot, tol float64) (analysis.Verification, error) {
	text, err := claimParam(q, "difficulty", analysis.DifficultyForms)
	if err != nil {
		return analysis.Verification{}, err
	}
	claim, err := analysis.ParseDifficulty(text)
	if err != nil {
		return analysis.Verification{}, badRequest(err.Error())
	}
	switch {
	case q.Has("at_height") && q.Has("at"):
		return analysis.Verification{}, badRequest("at_height and at exclude each other: give one")
	case q.Has("at"):
		at, err := atParam(q.Get("at"))
		if err != nil {
			return analysis.Verification{}, err
		}
		return analysis.VerifyDifficultyAt(sn.hs, claim, tol, at)
	case !q.Has("at_height"):
		return analysis.Verification{}, badRequest("give the block with ?at_height=H or ?at=T")
	}
	h, err := strconv.ParseInt(q.Get("at_height"), 10, 32)
	if err != nil || h < 0 {
		return analysis.Verification{}, badRequest(fmt.Sprintf("bad at_height %q: give a block height",
			q.Get("at_height")))
	}
	return analysis.VerifyDifficulty(sn.hs, claim, tol, int32(h))
}

// verifyAdjustment is `minerscope verify adjustment --date D [--change P]`.
func (s *Server) verifyAdjustment(q url.Values, sn *snapshot, tol float64) (analysis.Verification, error) {
	if !q.Has("date") {
		return analysis.Verification{}, badRequest("give the date with ?date=, e.g. date=2026-02-08")
	}
	day, err := dateParam("date", q.Get("date"))
	if err != nil {
		return analysis.Verification{}, err
	}
	var change *analysis.Figure
	if q.Has("change") {
		f, err := analysis.ParsePercent(q.Get("change"))
		if err != nil {
			return analysis.Verification{}, badRequest("change: " + err.Error())
		}
		change = &f
	}
	return analysis.VerifyAdjustment(s.p, sn.hs, day, change, tol)
}

// verifyOutflow is `minerscope verify outflow CLAIM --from D --to D
// [--hops 0|1]`, over the flows of every full block.
func (s *Server) verifyOutflow(q url.Values, sn *snapshot, tol float64) (analysis.Verification, error) {
	text, err := claimParam(q, "amount", analysis.AmountForms)
	if err != nil {
		return analysis.Verification{}, err
	}
	claim, err := analysis.ParseAmount(text)
	if err != nil {
		return analysis.Verification{}, badRequest(err.Error())
	}
	hops, err := hopsParam(q.Get("hops"))
	if err != nil {
		return analysis.Verification{}, err
	}
	if !q.Has("from") || !q.Has("to") {
		return analysis.Verification{}, badRequest("give the days with ?from= and ?to=, e.g. " +
			"from=2026-02-01&to=2026-02-07")
	}
	from, err := dateParam("from", q.Get("from"))
	if err != nil {
		return analysis.Verification{}, err
	}
	to, err := dateParam("to", q.Get("to"))
	if err != nil {
		return analysis.Verification{}, err
	}
	if to < from {
		return analysis.Verification{}, badRequest(fmt.Sprintf("to %s is before from %s", q.Get("to"),
			q.Get("from")))
	}

	fl, err := s.flows(sn)
	if err != nil {
		return analysis.Verification{}, err
	}
	return analysis.VerifyOutflow(fl[hops], claim, tol, from, to, hops)
}

// dateParam parses a UTC date, strictly 2006-01-02, into the unix time of
// its start.
func dateParam(name, s string) (int64, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return 0, badRequest(fmt.Sprintf("bad %s %q: give an ISO date like 2026-02-08 (UTC)", name, s))
	}
	return t.Unix(), notBefore1970(name, s, t.Unix())
}
