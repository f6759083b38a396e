package admin

import (
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vipgate/vipgate/gate"
)

// entryIn is a caller-table entry as clients write it. PIN is the clear
// PIN: write-only, hashed at once. It is required on create; on update nil
// keeps the stored PIN.
type entryIn struct {
	Caller string `json:"caller"`
	// Kind is pin (the default), allow or deny.
	Kind  string  `json:"kind,omitempty"`
	PIN   *string `json:"pin,omitempty"`
	Label string  `json:"label,omitempty"`
	// Priority is 0 (none) or gate.MinPriority..gate.MaxPriority.
	Priority int `json:"priority,omitempty"`
	// Target is an allow entry's own target (gate.ParseTarget's forms).
	Target string `json:"target,omitempty"`
	// ValidFrom and ValidUntil take gate.ParseValidity's forms: an RFC
	// 3339 time, a local time or a date in the gate's zone.
	ValidFrom  string `json:"valid_from,omitempty"`
	ValidUntil string `json:"valid_until,omitempty"`
}

// entryOut is an entry as the API shows it: never its PIN.
type entryOut struct {
	ID         int64     `json:"id"`
	GateID     string    `json:"gate_id"`
	Caller     string    `json:"caller"`
	Kind       string    `json:"kind"`
	Label      string    `json:"label,omitempty"`
	Priority   int       `json:"priority,omitempty"`
	Target     string    `json:"target,omitempty"`
	ValidFrom  time.Time `json:"valid_from,omitzero"`
	ValidUntil time.Time `json:"valid_until,omitzero"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
}

func newEntryOut(e *gate.Entry) entryOut {
	out := entryOut{ID: e.ID, GateID: e.GateID, Caller: e.Pattern, Kind: string(e.EntryKind()), Label: e.Label, Priority: e.Priority,
		ValidFrom: e.ValidFrom, ValidUntil: e.ValidUntil, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
	if !e.Target.IsZero() {
		out.Target = e.Target.String()
	}
	return out
}

// maxLabel bounds an entry's label, in characters.
const maxLabel = 200

// checkPIN validates a clear PIN for gate g; the problem never holds the
// PIN.
func checkPIN(g *gate.Gate, pin string) string {
	if err := gate.ValidatePIN(pin, g.Dialogue.MinDigits, g.Dialogue.MaxDigits); err != nil {
		return err.Error()
	}
	if g.Dialogue.RejectWeak {
		return gate.WeakPIN(pin)
	}
	return ""
}

// toEntry validates in for gate g and builds the entry; prev is the stored
// entry on update.
func (s *server) toEntry(g *gate.Gate, in *entryIn, prev *gate.Entry) (*gate.Entry, error) {
	var errs gate.ValidationErrors
	e := &gate.Entry{GateID: g.ID, Label: strings.TrimSpace(in.Label), Priority: in.Priority}
	kind, kerr := gate.ParseEntryKind(strings.ToLower(strings.TrimSpace(in.Kind)))
	if kerr != nil {
		errs = append(errs, &gate.ValidationError{Field: "kind", Problem: kerr.Error()})
	}
	e.Kind = kind
	if prev != nil {
		e.ID, e.CreatedAt = prev.ID, prev.CreatedAt
		if prev.EntryKind() == gate.EntryPIN {
			// The stored PIN stays when the update gives none.
			e.PIN = prev.PIN
		}
	}
	if t := strings.TrimSpace(in.Target); t != "" {
		if kind != gate.EntryAllow {
			errs = append(errs, &gate.ValidationError{Field: "target", Problem: "is only allowed on allow entries"})
		} else if e.Target, kerr = gate.ParseTarget(t); kerr != nil {
			errs = append(errs, &gate.ValidationError{Field: "target", Problem: kerr.Error()})
		}
	}
	if e.Priority != 0 && (e.Priority < gate.MinPriority || e.Priority > gate.MaxPriority) {
		errs = append(errs, &gate.ValidationError{Field: "priority", Problem: fmt.Sprintf("must be %d to %d (or 0 for none)", gate.MinPriority, gate.MaxPriority)})
	}
	nb, err := s.numberingOf(g)
	if err != nil {
		return nil, err
	}
	if e.ValidFrom, err = gate.ParseValidity(in.ValidFrom, g.Location(), false); err != nil {
		errs = append(errs, &gate.ValidationError{Field: "valid_from", Problem: err.Error()})
	}
	if e.ValidUntil, err = gate.ParseValidity(in.ValidUntil, g.Location(), true); err != nil {
		errs = append(errs, &gate.ValidationError{Field: "valid_until", Problem: err.Error()})
	}
	if strings.TrimSpace(in.Caller) == "" {
		errs = append(errs, &gate.ValidationError{Field: "caller", Problem: "is required (a number in any format, or a prefix ending in '*')"})
	} else if p, err := nb.Pattern(in.Caller); err != nil {
		errs = append(errs, &gate.ValidationError{Field: "caller", Problem: err.Error()})
	} else {
		e.Pattern = p
	}
	switch {
	case kerr != nil:
		// The kind is wrong; what it needs of the PIN is unknown.
	case !kind.HasPIN():
		if in.PIN != nil {
			errs = append(errs, &gate.ValidationError{Field: "pin", Problem: fmt.Sprintf("must be empty for a %s entry", kind)})
		}
		e.PIN = gate.PINHash{}
	case in.PIN == nil && len(e.PIN.Sum) == 0:
		errs = append(errs, &gate.ValidationError{Field: "pin", Problem: "is required for a pin entry"})
	case in.PIN != nil:
		if p := checkPIN(g, *in.PIN); p != "" {
			errs = append(errs, &gate.ValidationError{Field: "pin", Problem: p})
		} else {
			e.PIN = s.hasher.Hash(*in.PIN)
		}
	}
	if utf8.RuneCountInString(e.Label) > maxLabel {
		errs = append(errs, &gate.ValidationError{Field: "label", Problem: fmt.Sprintf("must have at most %d characters", maxLabel)})
	}
	if !e.ValidFrom.IsZero() && !e.ValidUntil.IsZero() && !e.ValidUntil.After(e.ValidFrom) {
		errs = append(errs, &gate.ValidationError{Field: "valid_until", Problem: "must be after valid_from"})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return e, nil
}

// callerFilter reads a caller search: a number in any format, or a prefix
// ending in '*', read by nb as entries are. It returns the normalised
// number or prefix (without '*').
func callerFilter(raw string, nb *gate.Numbering, field string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}
	p, err := nb.Pattern(raw)
	if err != nil {
		return "", invalid(field, "%s", err.Error())
	}
	return strings.TrimSuffix(p, "*"), nil
}

// entriesOut is a page of entries; Caller is the caller search as the
// gate's numbering read it (the normalised number or prefix).
type entriesOut struct {
	pageOut[entryOut]
	Caller string `json:"caller,omitempty"`
	// NextAfter, on a full page, is the after of the next page.
	NextAfter string `json:"next_after,omitempty"`
}

func (s *server) listEntries(w http.ResponseWriter, r *http.Request) {
	g, err := s.gate(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	offset, limit, err := page(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	nb, err := s.numberingOf(g)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	caller, err := callerFilter(r.URL.Query().Get("caller"), nb, "caller")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	after := r.URL.Query().Get("after")
	if len(after) > 200 {
		s.writeError(w, r, invalid("after", "must be a pattern of at most 200 characters (the next_after of the previous page)"))
		return
	}
	noTotal, err := boolParam(r, "no_total")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	es, total, err := s.store.ListEntries(r.Context(), g.ID, gate.EntryFilter{Caller: caller, After: after, NoTotal: noTotal, Offset: offset, Limit: limit})
	if err != nil {
		s.writeError(w, r, fmt.Errorf("list entries of gate %q: %w", g.ID, err))
		return
	}
	out := entriesOut{pageOut: newPage(es, total, offset, limit, newEntryOut), Caller: caller}
	if len(es) == limit {
		out.NextAfter = es[len(es)-1].Pattern
	}
	writeJSON(w, http.StatusOK, out)
}

// entry reads the gate and the entry the URL names.
func (s *server) entry(r *http.Request) (*gate.Gate, *gate.Entry, error) {
	g, id, err := s.gateAndID(r, "entry")
	if err != nil {
		return nil, nil, err
	}
	e, err := s.store.GetEntry(r.Context(), g.ID, id)
	if err != nil {
		return nil, nil, fmt.Errorf("entry %d of gate %q: %w", id, g.ID, err)
	}
	return g, e, nil
}

func (s *server) getEntry(w http.ResponseWriter, r *http.Request) {
	_, e, err := s.entry(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newEntryOut(e))
}

func (s *server) createEntry(w http.ResponseWriter, r *http.Request) {
	var in entryIn
	g, err := s.gateBody(w, r, &in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	e, err := s.toEntry(g, &in, nil)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.store.PutEntry(r.Context(), e); err != nil {
		s.writeError(w, r, fmt.Errorf("create entry %s of gate %q: %w", e.Pattern, g.ID, err))
		return
	}
	s.log.Info("admin: entry created", "gate", g.ID, "entry", e.ID, "by", tokenFrom(r.Context()).ID)
	w.Header().Set("Location", fmt.Sprintf("/api/v1/gates/%s/pins/%d", g.ID, e.ID))
	writeJSON(w, http.StatusCreated, newEntryOut(e))
}

func (s *server) updateEntry(w http.ResponseWriter, r *http.Request) {
	g, prev, err := s.entry(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id := prev.ID
	var in entryIn
	if err := decodeJSON(w, r, s.maxBody, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	e, err := s.toEntry(g, &in, prev)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.store.PutEntry(r.Context(), e); err != nil {
		s.writeError(w, r, fmt.Errorf("update entry %d of gate %q: %w", id, g.ID, err))
		return
	}
	s.log.Info("admin: entry updated", "gate", g.ID, "entry", e.ID, "pin_changed", in.PIN != nil, "by", tokenFrom(r.Context()).ID)
	writeJSON(w, http.StatusOK, newEntryOut(e))
}

func (s *server) deleteEntry(w http.ResponseWriter, r *http.Request) {
	g, id, err := s.gateAndID(r, "entry")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.store.DeleteEntry(r.Context(), g.ID, id); err != nil {
		s.writeError(w, r, fmt.Errorf("delete entry %d of gate %q: %w", id, g.ID, err))
		return
	}
	s.log.Info("admin: entry deleted", "gate", g.ID, "entry", id, "by", tokenFrom(r.Context()).ID)
	w.WriteHeader(http.StatusNoContent)
}
