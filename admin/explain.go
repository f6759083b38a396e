package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// explainIn asks what the Engine would decide for a call.
type explainIn struct {
	// Gate is the name the dialplan would pass; empty selects by Called.
	Gate   string `json:"gate,omitempty"`
	Caller string `json:"caller"`
	Called string `json:"called"`
	// At is the moment to decide for, in one of gate.ParseTime's forms
	// (a time without an offset is the gate's local time); "" means now.
	At string `json:"at,omitempty"`
	// Account is the account number the caller would type, for a gate
	// that asks for one; the trace says what it would lead to.
	Account string `json:"account,omitempty"`
}

// explainOut is a decision as the API shows it. It never holds a PIN:
// ask_pin says only which PIN the caller would be asked for.
type explainOut struct {
	At       time.Time      `json:"at"`
	AtNote   string         `json:"at_note,omitempty"`
	Verdict  gate.Verdict   `json:"verdict"`
	Target   string         `json:"target,omitempty"`
	Announce gate.PromptKey `json:"announce,omitempty"`
	// AnnounceSound is a closure's own announcement, played before Target.
	AnnounceSound string `json:"announce_sound,omitempty"`
	// Closure names the closure or holiday that decided the schedule.
	Closure string         `json:"closure,omitempty"`
	AskPIN  *askPINOut     `json:"ask_pin,omitempty"`
	Gate    string         `json:"gate,omitempty"`
	Active  bool           `json:"active"`
	Mode    gate.IdentMode `json:"mode,omitempty"`
	Caller  string         `json:"caller,omitempty"`
	// CallerRule says which rule classified the caller: "internal (≤ 6
	// digits, kept as dialled)", "E.164 (region DE)".
	CallerRule string    `json:"caller_rule,omitempty"`
	Called     string    `json:"called,omitempty"`
	CalledRule string    `json:"called_rule,omitempty"`
	Entry      *entryRef `json:"entry,omitempty"`
	LockedOut  bool      `json:"locked_out"`
	// Denied is true when a deny entry rejected the call.
	Denied   bool             `json:"denied,omitempty"`
	Error    string           `json:"error,omitempty"`
	ErrClass string           `json:"error_class,omitempty"`
	Webhook  string           `json:"webhook_latency,omitempty"`
	Trace    []gate.TraceStep `json:"trace"`
}

type askPINOut struct {
	// Expects says whose PIN is expected, never the PIN.
	Expects     string `json:"expects"`
	OnCorrect   string `json:"on_correct"`
	OnIncorrect string `json:"on_incorrect"`
	MaxRetries  int    `json:"max_retries"`
	MinDigits   int    `json:"min_digits"`
	MaxDigits   int    `json:"max_digits"`
}

type entryRef struct {
	ID       int64  `json:"id"`
	Caller   string `json:"caller"`
	Kind     string `json:"kind"`
	Label    string `json:"label,omitempty"`
	Priority int    `json:"priority,omitempty"`
}

func newExplainOut(d *gate.Decision, at time.Time) explainOut {
	out := explainOut{At: at, Verdict: d.Verdict, Target: d.Target.String(), Announce: d.Announce, AnnounceSound: d.AnnounceSound, Closure: d.Closure,
		Active: d.Active, Mode: d.Mode, Caller: d.Caller, CallerRule: d.CallerRule, Called: d.Called, CalledRule: d.CalledRule, LockedOut: d.LockedOut, Denied: d.Denied, ErrClass: d.ErrClass, Trace: d.Trace}
	if out.Trace == nil {
		out.Trace = []gate.TraceStep{}
	}
	if d.Gate != nil {
		out.Gate = d.Gate.ID
	}
	if d.Entry != nil {
		out.Entry = &entryRef{ID: d.Entry.ID, Caller: d.Entry.Pattern, Kind: string(d.Entry.EntryKind()), Label: d.Entry.Label, Priority: d.Entry.Priority}
	}
	if d.Err != nil {
		out.Error = d.Err.Error()
	}
	if d.WebhookLatency > 0 {
		out.Webhook = d.WebhookLatency.String()
	}
	if a := d.AskPIN; a != nil {
		out.AskPIN = &askPINOut{Expects: expects(d), OnCorrect: a.OnCorrect.String(), OnIncorrect: a.OnIncorrect.String(),
			MaxRetries: a.MaxRetries, MinDigits: a.MinDigits, MaxDigits: a.MaxDigits}
	}
	return out
}

// expects describes the expected PIN without revealing it.
func expects(d *gate.Decision) string {
	switch d.AskPIN.Expected.(type) {
	case gate.ClearPIN:
		if d.Mode == gate.IdentDatabase {
			return "the PIN the database query answered with"
		}
		return "the PIN the webhook answered with"
	case gate.AnsweredPIN:
		return "the PIN hash the database query answered with"
	case gate.HashedPIN, *gate.HashedPIN:
		if d.Entry != nil {
			return fmt.Sprintf("the PIN of caller entry #%d", d.Entry.ID)
		}
		return "the gate's static PIN"
	}
	return "a PIN"
}

func (s *server) explain(w http.ResponseWriter, r *http.Request) {
	if s.engine == nil {
		s.writeError(w, r, fmt.Errorf("explain: no engine configured: %w", gate.ErrUnavailable))
		return
	}
	var in explainIn
	if err := decodeJSON(w, r, s.maxBody, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	var errs gate.ValidationErrors
	in.Gate, in.Caller, in.Called = strings.TrimSpace(in.Gate), strings.TrimSpace(in.Caller), strings.TrimSpace(in.Called)
	if in.Gate != "" && !gate.ValidID(in.Gate) {
		errs = append(errs, &gate.ValidationError{Field: "gate", Problem: "is not a valid gate name"})
	}
	if len(in.Caller) > 40 {
		errs = append(errs, &gate.ValidationError{Field: "caller", Problem: "is too long"})
	}
	if in.Called == "" && in.Gate == "" {
		errs = append(errs, &gate.ValidationError{Field: "called", Problem: "is required when no gate is named"})
	}
	if len(in.Called) > 80 {
		errs = append(errs, &gate.ValidationError{Field: "called", Problem: "is too long"})
	}
	if in.Account = strings.TrimSpace(in.Account); in.Account != "" {
		if err := gate.ValidAccountNumber(in.Account); err != nil {
			errs = append(errs, &gate.ValidationError{Field: "account", Problem: err.Error()})
		}
	}
	if len(errs) > 0 {
		s.writeError(w, r, errs)
		return
	}
	var d *gate.Decision
	at, note := s.now(), ""
	if strings.TrimSpace(in.At) == "" {
		d = s.engine.Explain(r.Context(), in.Gate, in.Caller, in.Called, at)
	} else {
		var err error
		if d, at, note, err = s.engine.ExplainAt(r.Context(), in.Gate, in.Caller, in.Called, in.At); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if d == nil {
		s.writeError(w, r, errors.New("explain: engine returned no decision"))
		return
	}
	if in.Account != "" {
		s.engine.ExplainAccount(r.Context(), d, in.Account, at)
	}
	out := newExplainOut(d, at)
	out.AtNote = note
	writeJSON(w, http.StatusOK, out)
}
