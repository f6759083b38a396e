package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/internal/callcsv"
)

// outcomes are the call outcomes the call-log filter accepts.
var outcomes = []gate.Outcome{gate.OutcomePassed, gate.OutcomeForwarded, gate.OutcomeRejected, gate.OutcomePINOK,
	gate.OutcomePINFailed, gate.OutcomeAbandoned, gate.OutcomeLockedOut, gate.OutcomeDenied, gate.OutcomeFailed}

// maxCSVCalls bounds a CSV export of the call log.
const maxCSVCalls = 100_000

// callFilter reads the call-log filter from the query, and the
// Pseudonymiser of pseudonymise=true (nil without it).
func (s *server) callFilter(r *http.Request) (gate.CallFilter, *callcsv.Pseudonymiser, error) {
	var f gate.CallFilter
	var errs gate.ValidationErrors
	q := r.URL.Query()
	add := func(field, format string, args ...any) {
		errs = append(errs, &gate.ValidationError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	var g *gate.Gate
	if f.GateID = q.Get("gate"); f.GateID != "" {
		if !gate.ValidID(f.GateID) {
			add("gate", "is not a valid gate ID")
		} else if gg, err := s.store.GetGate(r.Context(), f.GateID); err == nil {
			g = gg
		}
	}
	if c := q.Get("caller"); c != "" {
		if nb, err := s.numberingOf(g); err != nil {
			return f, nil, err
		} else if n, err := nb.Number(c); err != nil {
			add("caller", "%s", err.Error())
		} else {
			f.Caller = n.Value
		}
	}
	if o := q.Get("outcome"); o != "" {
		f.Outcome = gate.Outcome(o)
		ok := false
		for _, v := range outcomes {
			ok = ok || v == f.Outcome
		}
		if !ok {
			add("outcome", "must be one of passed, forwarded, rejected, pin_ok, pin_failed, abandoned, locked_out, failed")
		}
	}
	timeRange(q, "from", "to", &f.From, &f.To, add)
	off, lim, err := page(r)
	var pageErrs gate.ValidationErrors
	if errors.As(err, &pageErrs) {
		errs = append(errs, pageErrs...)
	}
	f.Offset, f.Limit = off, lim
	switch q.Get("format") {
	case "", "json", "csv":
	default:
		add("format", "must be json or csv")
	}
	p, err := pseudonymiserFor(q, add)
	if err != nil {
		return f, nil, err
	}
	return f, p, errs.Err()
}

func (s *server) listCalls(w http.ResponseWriter, r *http.Request) {
	f, p, err := s.callFilter(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if r.URL.Query().Get("format") == "csv" {
		s.exportCalls(w, r, f, p)
		return
	}
	rs, total, err := s.store.ListCalls(r.Context(), f)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("list calls: %w", err))
		return
	}
	if rs == nil {
		rs = []*gate.CallRecord{}
	}
	if p != nil {
		for i, c := range rs {
			rs[i] = p.Call(c)
		}
	}
	writeJSON(w, http.StatusOK, pageOut[*gate.CallRecord]{Items: rs, Total: total, Offset: f.Offset, Limit: f.Limit})
}

// exportCalls writes every row matching f (from f.Offset, at most
// maxCSVCalls) as CSV, reading the store page by page; with p set, the
// callers are pseudonymised.
func (s *server) exportCalls(w http.ResponseWriter, r *http.Request, f gate.CallFilter, p *callcsv.Pseudonymiser) {
	const pageSize = 1000
	f.Limit = pageSize
	first, total, err := s.store.ListCalls(r.Context(), f)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("export calls: %w", err))
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="vipgate-calls.csv"`)
	cw := callcsv.NewWriter(w, p)
	written := 0
	for rs := first; len(rs) > 0; {
		for _, c := range rs {
			cw.Write(c)
		}
		written += len(rs)
		f.Offset += len(rs)
		if written >= maxCSVCalls || len(rs) < pageSize || f.Offset >= total {
			break
		}
		rs, _, err = s.store.ListCalls(r.Context(), f)
		if err != nil {
			s.log.Error("admin: export calls: page failed; export is cut short", "offset", f.Offset, "err", err)
			break
		}
	}
	_ = cw.Flush()
}

// timeRange reads the RFC 3339 times of the query parameters fromName
// and toName into from and to (left zero when absent); a bad time, or a
// to that is not after from, goes to add under the parameter's name.
func timeRange(q url.Values, fromName, toName string, from, to *time.Time, add func(field, format string, args ...any)) {
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{fromName, from}, {toName, to}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				add(p.name, "must be an RFC 3339 time such as 2026-01-31T08:00:00Z")
			}
			*p.dst = t
		}
	}
	if !from.IsZero() && !to.IsZero() && !to.After(*from) {
		add(toName, "must be after %s", fromName)
	}
}

// pseudonymiserFor reads pseudonymise (true or false) from q: a
// Pseudonymiser under a fresh random key that nobody keeps for true, nil
// for false or none; a bad value goes to add.
func pseudonymiserFor(q url.Values, add func(field, format string, args ...any)) (*callcsv.Pseudonymiser, error) {
	v := q.Get("pseudonymise")
	if v == "" {
		return nil, nil
	}
	on, err := strconv.ParseBool(v)
	if err != nil {
		add("pseudonymise", "must be true or false")
		return nil, nil
	}
	if !on {
		return nil, nil
	}
	return callcsv.NewPseudonymiser(nil)
}

// callSummary is the answer of GET /api/v1/calls/summary.
type callSummary struct {
	// Outcomes counts the matching calls by outcome; every outcome is
	// listed, with 0 when there were none.
	Outcomes map[gate.Outcome]int `json:"outcomes"`
	Total    int                  `json:"total"`
}

// summarizeCalls counts the calls the filter selects by outcome, in one
// store query (the console's overview shows the last 24 hours).
func (s *server) summarizeCalls(w http.ResponseWriter, r *http.Request) {
	f, _, err := s.callFilter(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	counts, err := s.store.CountCalls(r.Context(), f)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("count calls: %w", err))
		return
	}
	out := callSummary{Outcomes: map[gate.Outcome]int{}}
	for _, o := range outcomes {
		out.Outcomes[o] = counts[o]
	}
	for _, n := range counts {
		out.Total += n
	}
	writeJSON(w, http.StatusOK, out)
}
