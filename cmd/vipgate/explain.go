package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/vipgate/vipgate/calendar"
	"github.com/vipgate/vipgate/gate"
)

func cmdExplain(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "explain", "--caller N --called N [--gate G] [--at TIME] [--account N] [--json] [--fetch-calendars]")
	c := f.common()
	gateName := f.str("gate", "", "", "gate name or ID (as the dialplan would pass it)")
	caller := f.str("caller", "", "", "caller number, in any form")
	called := f.str("called", "", "", "called number / DID")
	at := f.str("at", "", "", "time to decide at: RFC 3339 (2026-12-24T19:00:00+01:00), or a local time (2026-12-24T19:00, 2026-12-24 19:00, 2026-12-24) in the gate's time zone (default now)")
	account := f.str("account", "", "", "account number the caller would type, for a gate that asks for one (the trace says what it leads to; never a PIN)")
	asJSON := f.boolean("json", "", "print JSON")
	fetch := f.boolean("fetch-calendars", "", "read the gates' iCalendar calendars from their sources first (up to 30 s each); by default the last good copies serve keeps in the database are used")
	if err := f.parse(args); err != nil {
		return err
	}
	if *gateName == "" && *called == "" {
		return usagef("explain: give --gate or --called")
	}
	d, err := c.open(ctx, e, false)
	if err != nil {
		return err
	}
	defer d.Close()
	// The gates' calendars: the store's last good copies, as serve uses
	// them; with --fetch-calendars refreshed from their sources first (a
	// calendar that fails or has no copy is named in the trace).
	calendars := storeCalendars(d, !*fetch)
	if gates, err := d.store.ListGates(ctx); err == nil {
		calendars.Sync(ctx, gates)
	}
	dbAuth := newDatabaseAuthorizer(d.hasher, d.log)
	defer dbAuth.Close()
	eng := gate.NewEngine(gate.EngineConfig{Store: d.store, Hasher: d.hasher, Authorizer: newAuthorizer(d.log), Database: dbAuth, Region: d.region, Logger: d.log, Calendars: calendars})
	var dec *gate.Decision
	when, note := time.Now(), ""
	if *at == "" {
		dec = eng.Explain(ctx, *gateName, *caller, *called, when)
	} else if dec, when, note, err = eng.ExplainAt(ctx, *gateName, *caller, *called, *at); err != nil {
		var ve *gate.ValidationError
		if errors.As(err, &ve) {
			return usagef("--at: %s", ve.Problem)
		}
		return err
	}
	if *account != "" {
		if err := gate.ValidAccountNumber(*account); err != nil {
			return usagef("--account: %v", err)
		}
		eng.ExplainAccount(ctx, dec, *account, when)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		x := explainJSON(dec, when)
		x.AtNote = note
		return enc.Encode(x)
	}
	printExplain(e.stdout, dec, when, note)
	return nil
}

// explained is the JSON form of a decision. It never carries a PIN.
type explained struct {
	At time.Time `json:"at"`
	// AtNote says how a local time that does not exist or happens twice
	// was read.
	AtNote string `json:"at_note,omitempty"`
	Gate   string `json:"gate,omitempty"`
	Active bool   `json:"active"`
	Caller string `json:"caller,omitempty"`
	// CallerRule and CalledRule say which rule classified each number.
	CallerRule string       `json:"caller_rule,omitempty"`
	Called     string       `json:"called,omitempty"`
	CalledRule string       `json:"called_rule,omitempty"`
	Verdict    gate.Verdict `json:"verdict"`
	Target     string       `json:"target,omitempty"`
	// Closure names the closure or holiday that decided the schedule;
	// AnnounceSound is its own announcement, played before Target.
	Closure       string           `json:"closure,omitempty"`
	AnnounceSound string           `json:"announce_sound,omitempty"`
	AskPIN        *explainedAsk    `json:"ask_pin,omitempty"`
	Entry         *explainedEntry  `json:"entry,omitempty"`
	Error         string           `json:"error,omitempty"`
	Trace         []gate.TraceStep `json:"trace"`
}

type explainedAsk struct {
	OnCorrect   string `json:"on_correct"`
	OnIncorrect string `json:"on_incorrect"`
	MaxRetries  int    `json:"max_retries"`
}

type explainedEntry struct {
	ID       int64  `json:"id"`
	Pattern  string `json:"caller"`
	Kind     string `json:"kind"`
	Label    string `json:"label,omitempty"`
	Priority int    `json:"priority,omitempty"`
}

func explainJSON(d *gate.Decision, at time.Time) explained {
	x := explained{At: at, Active: d.Active, Caller: d.Caller, CallerRule: d.CallerRule, Called: d.Called, CalledRule: d.CalledRule, Verdict: d.Verdict, Trace: d.Trace, Closure: d.Closure, AnnounceSound: d.AnnounceSound}
	if d.Gate != nil {
		x.Gate = d.Gate.ID
	}
	if d.Verdict != gate.VerdictAskPIN {
		x.Target = d.Target.String()
	}
	if a := d.AskPIN; a != nil {
		x.AskPIN = &explainedAsk{OnCorrect: a.OnCorrect.String(), OnIncorrect: a.OnIncorrect.String(), MaxRetries: a.MaxRetries}
	}
	if d.Entry != nil {
		x.Entry = &explainedEntry{ID: d.Entry.ID, Pattern: d.Entry.Pattern, Kind: string(d.Entry.EntryKind()), Label: d.Entry.Label, Priority: d.Entry.Priority}
	}
	if d.Err != nil {
		x.Error = d.ErrClass + ": " + d.Err.Error()
	}
	return x
}

func printExplain(w io.Writer, d *gate.Decision, at time.Time, note string) {
	if note != "" {
		note = " (" + note + ")"
	}
	fmt.Fprintf(w, "%-12s %s%s\n", "at:", at.Format(time.RFC3339), note)
	for _, s := range d.Trace {
		fmt.Fprintf(w, "%-12s %s\n", s.Step+":", s.Detail)
	}
	switch {
	case d.AskPIN != nil:
		fmt.Fprintf(w, "%-12s ask for the PIN (%d attempts); correct → %s, incorrect → %s\n", "decision:", d.AskPIN.MaxRetries, d.AskPIN.OnCorrect, d.AskPIN.OnIncorrect)
	default:
		fmt.Fprintf(w, "%-12s %s → %s\n", "decision:", d.Verdict, d.Target)
	}
}

// storeCalendars returns the calendars of the gates as the store's last
// good copies give them (storeOnly), or refreshed from their sources;
// Sync them before use.
func storeCalendars(d *deps, storeOnly bool) *calendar.Fetcher {
	calStore, _ := d.store.(gate.CalendarStore)
	return calendar.NewFetcher(calendar.FetcherConfig{Store: calStore, Logger: d.log, StoreOnly: storeOnly})
}
