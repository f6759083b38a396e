package gate

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// AuditEntry is one administrative change: who made it, what and when,
// and the fields it changed. Secrets (PINs, PIN hashes, webhook
// credentials, token hashes) are never in it: a changed secret shows as
// RedactedChange on both sides.
type AuditEntry struct {
	ID int64     `json:"id"`
	At time.Time `json:"at"`
	// Actor says who: "token:<id> (<name>)" for the admin API, "cli:<user>"
	// for the command line.
	Actor string `json:"actor"`
	// Action is what: gate.create, gate.update, gate.delete,
	// entry.create, entry.update, entry.delete, entries.import,
	// override.set, override.clear, prompt.put, prompt.delete,
	// lockout.clear, caller.erase, token.create, token.revoke,
	// grant.create, grant.delete.
	Action string `json:"action"`
	// GateID is the gate the change concerns, if any.
	GateID string `json:"gate_id,omitempty"`
	// Object names the changed thing within the gate (an entry id, a
	// prompt "lang/key", a caller) or outside (a token id).
	Object  string        `json:"object,omitempty"`
	Changes []AuditChange `json:"changes"`
}

// AuditChange is one changed field, with its values before and after as
// JSON (null when the field did not exist).
type AuditChange struct {
	Field  string          `json:"field"`
	Before json.RawMessage `json:"before"`
	After  json.RawMessage `json:"after"`
}

// RedactedChange stands for a secret's value in an AuditChange.
const RedactedChange = `"[secret]"`

// AuditFilter selects audit entries.
type AuditFilter struct {
	GateID string
	Actor  string
	Action string
	Object string
	From   time.Time // inclusive
	To     time.Time // exclusive
	// BeforeID, if set, lists only entries with a smaller ID: the ID of
	// the last entry of the previous page (keyset paging).
	BeforeID int64
	Limit    int // 0 means 100
}

// AuditLog keeps the audit entries.
type AuditLog interface {
	// AppendAudit stores an entry and sets its ID (and At when zero).
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// ListAudit returns a page of the entries that match, newest (highest
	// ID) first.
	ListAudit(ctx context.Context, f AuditFilter) ([]*AuditEntry, error)
	// PruneAudit deletes the entries whose At is before before and
	// returns how many it deleted.
	PruneAudit(ctx context.Context, before time.Time) (int64, error)
}

// AuditDiff compares two JSON documents of the same object (before and
// after a change; nil for one that did not exist) and returns the changed
// fields: the leaves of objects by dotted path, arrays as a whole. Fields
// named in secret (dotted paths; "a.b.*" names every field under a.b)
// that differ are reported with RedactedChange on both sides.
func AuditDiff(before, after any, secret ...string) []AuditChange {
	b, a := flatten(before), flatten(after)
	isSecret := func(k string) bool {
		for _, s := range secret {
			if k == s || (strings.HasSuffix(s, ".*") && strings.HasPrefix(k, s[:len(s)-1])) {
				return true
			}
		}
		return false
	}
	var out []AuditChange
	seen := map[string]bool{}
	keys := make([]string, 0, len(b)+len(a))
	for k := range b {
		keys = append(keys, k)
	}
	for k := range a {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		bv, bok := b[k]
		av, aok := a[k]
		if bok && aok && string(bv) == string(av) {
			continue
		}
		c := AuditChange{Field: k, Before: json.RawMessage("null"), After: json.RawMessage("null")}
		if bok {
			c.Before = bv
		}
		if aok {
			c.After = av
		}
		if isSecret(k) {
			if bok {
				c.Before = json.RawMessage(RedactedChange)
			}
			if aok {
				c.After = json.RawMessage(RedactedChange)
			}
		}
		out = append(out, c)
	}
	if out == nil {
		out = []AuditChange{}
	}
	return out
}

// flatten marshals v and returns its leaves by dotted path.
func flatten(v any) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	if v == nil {
		return out
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return out
	}
	var walk func(prefix string, raw json.RawMessage)
	walk = func(prefix string, raw json.RawMessage) {
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) == nil && obj != nil && len(raw) > 0 && raw[0] == '{' {
			for k, v := range obj {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, v)
			}
			return
		}
		if prefix != "" && string(raw) != "null" {
			out[prefix] = raw
		}
	}
	walk("", raw)
	return out
}
