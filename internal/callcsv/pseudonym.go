package callcsv

import (
	"encoding/json"
	"strings"

	"github.com/vipgate/vipgate/gate"
)

// Call returns a copy of c without what leads back to the caller:
// CallerRaw and Caller hold pseudonyms (CallerRaw that of the normalised
// number when there is one, so a caller's rows agree however the number
// was presented), and ChannelID and EntryID, which lead back to the
// number through Asterisk's records or the caller table, are cleared.
func (p *Pseudonymiser) Call(c *gate.CallRecord) *gate.CallRecord {
	out := *c
	out.ChannelID, out.EntryID = "", 0
	out.Caller = p.Pseudonym(c.Caller)
	out.CallerRaw = out.Caller
	if out.Caller == "" {
		out.CallerRaw = p.Pseudonym(c.CallerRaw)
	}
	return &out
}

// Audit returns a copy of e without caller numbers: the caller of a
// caller-table entry (the "caller" field of the changes of entry.create,
// entry.update and entry.delete, before and after) and the caller whose
// lockout was cleared (the Object of lockout.clear, unless it names every
// caller) hold pseudonyms, the same Call gives that number.
func (p *Pseudonymiser) Audit(e *gate.AuditEntry) *gate.AuditEntry {
	out := *e
	switch {
	case strings.HasPrefix(e.Action, "entry."):
		out.Changes = make([]gate.AuditChange, len(e.Changes))
		for i, c := range e.Changes {
			if c.Field == "caller" {
				c.Before, c.After = p.rawJSON(c.Before), p.rawJSON(c.After)
			}
			out.Changes[i] = c
		}
	case e.Action == "lockout.clear" && e.Object != gate.AnyCaller:
		out.Object = p.Pseudonym(e.Object)
	}
	return &out
}

// rawJSON returns the pseudonym of a JSON string as JSON; anything else
// (null, an empty string, a value that is no string) stays as it is.
func (p *Pseudonymiser) rawJSON(v json.RawMessage) json.RawMessage {
	var s string
	if json.Unmarshal(v, &s) != nil || s == "" {
		return v
	}
	b, _ := json.Marshal(p.Pseudonym(s))
	return b
}
