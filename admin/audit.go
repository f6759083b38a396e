package admin

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/vipgate/vipgate/gate"
)

// maxAuditPage caps limit on GET /api/v1/audit.
const maxAuditPage = 1000

// auditPage is the answer of GET /api/v1/audit. Next, when set, is the
// before value that fetches the following (older) page.
type auditPage struct {
	Items []*gate.AuditEntry `json:"items"`
	Next  string             `json:"next,omitempty"`
}

// listAudit answers GET /api/v1/audit: the audit log, newest first,
// filtered by since/until (RFC 3339), actor, kind (the action), gate and
// object, paged by before (the next of the previous page) and limit; with
// pseudonymise=true the caller numbers in it are keyed pseudonyms.
func (s *server) listAudit(w http.ResponseWriter, r *http.Request) {
	var (
		f    gate.AuditFilter
		errs gate.ValidationErrors
	)
	q := r.URL.Query()
	add := func(field, format string, args ...any) {
		errs = append(errs, &gate.ValidationError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	f.Actor, f.Action, f.GateID, f.Object = q.Get("actor"), q.Get("kind"), q.Get("gate"), q.Get("object")
	timeRange(q, "since", "until", &f.From, &f.To, add)
	if v := q.Get("before"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			add("before", "must be a positive entry ID (the next of the previous page)")
		}
		f.BeforeID = id
	}
	f.Limit = 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxAuditPage {
			add("limit", "must be a whole number from 1 to %d", maxAuditPage)
		}
		f.Limit = n
	}
	p, err := pseudonymiserFor(q, add)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("list audit: %w", err))
		return
	}
	if err := errs.Err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	items, err := s.store.ListAudit(r.Context(), f)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("list audit: %w", err))
		return
	}
	if p != nil {
		for i, e := range items {
			items[i] = p.Audit(e)
		}
	}
	out := auditPage{Items: items}
	if out.Items == nil {
		out.Items = []*gate.AuditEntry{}
	}
	if len(items) == f.Limit {
		out.Next = strconv.FormatInt(items[len(items)-1].ID, 10)
	}
	writeJSON(w, http.StatusOK, out)
}
