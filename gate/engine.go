package gate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// EngineConfig wires an Engine.
type EngineConfig struct {
	// Store is required.
	Store Store
	// Hasher checks hashed PINs; required for static and table gates.
	Hasher *Hasher
	// Authorizer answers for webhook gates; nil makes webhook gates follow
	// their failure policy.
	Authorizer Authorizer
	// Database answers for database gates (package dbident); nil makes
	// them follow their failure policy.
	Database Authorizer
	// Region is the default region for caller-number normalisation ("DE").
	Region string
	// StoreTimeout is the time all store steps of one call may take
	// together (gate list, lockout checks, caller lookup, guess
	// counters; default 2s). When it is spent, the call goes on with what
	// is in memory: the last-known gates, this instance's guess counters.
	StoreTimeout time.Duration
	// NoGate is the failure policy used when the gates themselves cannot be
	// read and none were ever read (default reject).
	NoGate FailurePolicy
	// Logger, nil means discard.
	Logger *slog.Logger
	// Calendars gives the events of the iCalendar calendars schedules
	// name; nil leaves them unread (noted in the trace).
	Calendars CalendarEvents
}

// Engine decides what happens to calls. It is safe for concurrent use.
//
// The Engine keeps the last gate list it read successfully; when the store
// fails, it selects gates from that list (last-known-good) and notes it in
// the trace.
type Engine struct {
	cfg EngineConfig
	log *slog.Logger

	mu        sync.RWMutex
	lastGates []*Gate

	guard *guard
	// prep holds each gate's prepared form by gate ID (see prepare).
	prep map[string]*prepared
}

// NewEngine returns an Engine.
func NewEngine(cfg EngineConfig) *Engine {
	if cfg.StoreTimeout <= 0 {
		cfg.StoreTimeout = defaultStoreTimeout
	}
	if cfg.NoGate.Action == "" {
		cfg.NoGate.Action = FailReject
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Engine{cfg: cfg, log: log, guard: newGuard(), prep: map[string]*prepared{}}
}

// Region returns the engine's default region.
func (e *Engine) Region() string { return e.cfg.Region }

// Decide decides what happens to the call described by info at now. It
// always returns a decision: internal failures become decisions through the
// gate's failure policy, with Err set. Its store steps take at most
// StoreTimeout together; add the webhook timeout.
func (e *Engine) Decide(ctx context.Context, info CallInfo, now time.Time) *Decision {
	d := &Decision{budget: newBudget(e.cfg.StoreTimeout)}
	g, err := e.selectGate(ctx, d, info)
	if err != nil {
		e.fail(ctx, d, nil, info, now, err, "store")
		return d
	}
	if g == nil {
		d.pass("no gate guards this call")
		return d
	}
	d.Gate = g
	d.Mode = g.Identification.Mode

	active, why, hit, err := activeAt(g, e.prepared(g), now, e.cfg.Calendars)
	if err != nil {
		e.fail(ctx, d, g, info, now, err, "schedule")
		return d
	}
	d.Active = active
	d.trace("activation", "%s", why)
	if hit != nil {
		d.Closure = hit.label
		if hit.action != nil {
			closureAction(d, g, hit)
			return d
		}
	}
	if !active {
		d.pass("gate is inactive")
		return d
	}
	e.identify(ctx, d, g, info, now)
	return d
}

// Explain is Decide for a dry run: it decides as of at for the given
// numbers and names the gate, without a live call.
func (e *Engine) Explain(ctx context.Context, gateName, caller, called string, at time.Time) *Decision {
	return e.Decide(ctx, CallInfo{Source: "explain", Caller: caller, Called: called, GateName: gateName}, at)
}

// ExplainAt is Explain for a time written as text, in one of ParseTime's
// forms: a time without an offset is wall-clock time in the zone of the
// gate the call selects (Gate.Location). It returns the decision, the
// instant it was made for, and ParseTime's note (a wall time that does not
// exist or happens twice). The error, a *ValidationError for field "at",
// is for text that is not a time; nothing is decided then.
func (e *Engine) ExplainAt(ctx context.Context, gateName, caller, called, at string) (*Decision, time.Time, string, error) {
	info := CallInfo{Source: "explain", Caller: caller, Called: called, GateName: gateName}
	// Selection does not depend on the time; a store failure here is
	// decided (and reported) by Decide below.
	g, _ := e.selectGate(ctx, &Decision{}, info)
	when, note, err := ParseTime(at, g.Location(), false)
	if err != nil {
		return nil, time.Time{}, "", &ValidationError{Field: "at", Problem: err.Error()}
	}
	return e.Decide(ctx, info, when), when, note, nil
}

func (d *Decision) pass(why string) {
	d.Verdict, d.Target = VerdictPass, Continue
	d.trace("verdict", "pass: %s", why)
}

func (d *Decision) reject(g *Gate, prompt PromptKey, why string) {
	d.Verdict = VerdictReject
	d.Target = Hangup(g.Routes.Reject.Cause)
	if d.Target.Cause == "" {
		d.Target.Cause = CauseBusy
	}
	if g.Routes.Reject.Announce {
		d.Announce = prompt
	}
	d.trace("verdict", "reject (%s): %s", d.Target.Cause, why)
}

func (d *Decision) forward(g *Gate, t Target, why string) {
	d.Verdict, d.Target = VerdictForward, t.Resolve(g.Routes.ForwardContext)
	if d.Target.Kind == TargetHangup {
		d.Verdict = VerdictReject
	}
	if d.Target.Kind == TargetContinue {
		d.Verdict = VerdictPass
	}
	d.trace("verdict", "%s to %s: %s", d.Verdict, d.Target, why)
}

// selectGate finds the gate for the call: by the name the dialplan passed,
// else by the called number (longest match over all enabled gates).
func (e *Engine) selectGate(ctx context.Context, d *Decision, info CallInfo) (*Gate, error) {
	var gates []*Gate
	err := d.budget.do(ctx, func(ctx context.Context) (err error) {
		gates, err = e.cfg.Store.ListGates(ctx)
		return err
	})
	if err != nil {
		e.mu.RLock()
		gates = e.lastGates
		e.mu.RUnlock()
		if gates == nil {
			return nil, fmt.Errorf("list gates: %w", err)
		}
		d.trace("gate", "store unavailable (%v); using the last-known gate list", err)
	} else {
		e.mu.Lock()
		e.lastGates = gates
		e.mu.Unlock()
		e.forgetGates(gates)
	}
	if info.GateName != "" {
		name := strings.ToLower(info.GateName)
		for _, g := range gates {
			if g.ID != name && !contains(g.Match.Names, info.GateName) {
				continue
			}
			if !g.Enabled {
				// The dialplan named this gate: another gate must not
				// screen the call in its place.
				d.trace("gate", "gate %q (named %q) is disabled", g.ID, info.GateName)
				return nil, nil
			}
			d.trace("gate", "gate %q selected by name %q", g.ID, info.GateName)
			return g, nil
		}
		d.trace("gate", "no gate is named %q; matching by called number", info.GateName)
	}
	called := cleanNumber(info.Called)
	var best *Gate
	bestLen := -1
	var bestPat string
	// Gates that read numbers alike share one reading of the called number.
	norms := map[string]string{}
	for _, g := range gates {
		if !g.Enabled {
			continue
		}
		p := e.prepared(g)
		k := p.numbering.key()
		normCalled, ok := norms[k]
		if !ok {
			n, _ := p.numbering.Number(called)
			normCalled, norms[k] = n.Value, n.Value
		}
		if n, pat := p.matchCalled(called, normCalled); n > bestLen {
			best, bestLen, bestPat = g, n, pat
		}
	}
	if best != nil {
		d.trace("gate", "gate %q selected: called number %q matches %q", best.ID, info.Called, bestPat)
	} else {
		d.trace("gate", "no enabled gate matches called number %q", info.Called)
	}
	return best, nil
}

// prepared returns the prepared form of g, preparing it when g is new or
// was changed since.
func (e *Engine) prepared(g *Gate) *prepared {
	region := e.region(g)
	e.mu.RLock()
	p := e.prep[g.ID]
	e.mu.RUnlock()
	if p != nil && p.current(g, region) {
		return p
	}
	p = prepare(g, region)
	e.mu.Lock()
	e.prep[g.ID] = p
	e.mu.Unlock()
	return p
}

// forgetGates drops the prepared forms of gates that are no longer in
// gates.
func (e *Engine) forgetGates(gates []*Gate) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.prep) <= len(gates) {
		return
	}
	keep := make(map[string]bool, len(gates))
	for _, g := range gates {
		keep[g.ID] = true
	}
	for id := range e.prep {
		if !keep[id] {
			delete(e.prep, id)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (e *Engine) region(g *Gate) string {
	if g != nil && g.Identification.Region != "" {
		return g.Identification.Region
	}
	return e.cfg.Region
}

// closureAction decides d by the action of the closure or holiday hit:
// its announcement, then its route (by default a hang-up with the gate's
// reject cause).
func closureAction(d *Decision, g *Gate, hit *closureHit) {
	a := hit.action
	d.Target = a.Route.Resolve(g.Routes.ForwardContext)
	if d.Target == (Target{}) {
		d.Target = rejectTarget(g)
	}
	d.Verdict = VerdictForward
	if d.Target.Kind == TargetHangup {
		d.Verdict = VerdictReject
	}
	d.AnnounceSound = a.Announce
	if a.Announce != "" {
		d.trace("verdict", "%s: %s after the announcement %q", hit.label, d.Target, a.Announce)
		return
	}
	d.trace("verdict", "%s: %s", hit.label, d.Target)
}

// activeAt applies the override, then the activation mode, with the
// schedule as p compiled it. The closure or holiday that decided a
// schedule comes with it.
func activeAt(g *Gate, p *prepared, now time.Time, cal CalendarEvents) (bool, string, *closureHit, error) {
	if o := g.Override; o.InEffect(now) {
		state := "inactive"
		if o.Active {
			state = "active"
		}
		why := fmt.Sprintf("manual override: forced %s", state)
		if !o.Until.IsZero() {
			why += " until " + o.Until.Format(time.RFC3339)
			if o.UntilChange {
				why += ", the schedule's next change"
			}
		}
		if o.Reason != "" {
			why += fmt.Sprintf(" (%s)", o.Reason)
		}
		return o.Active, why, nil, nil
	}
	switch g.Activation.Mode {
	case ActiveAlways, "":
		return true, "activation mode always", nil, nil
	case ActiveNever:
		return false, "activation mode never", nil, nil
	case ActiveSchedule:
		if g.Activation.Schedule == nil {
			return false, "", nil, errors.New("schedule mode without a schedule")
		}
		active, why, hit, err := p.activeAt(now, func() (*closureHit, []string) { return calendarHit(cal, g, now) })
		if err != nil {
			return false, why, nil, fmt.Errorf("schedule: %w", err)
		}
		state := "inactive"
		if active {
			state = "active"
		}
		return active, fmt.Sprintf("schedule (active %s the windows): %s → %s", g.Activation.Schedule.Active, why, state), hit, nil
	}
	return false, "", nil, fmt.Errorf("unknown activation mode %q", g.Activation.Mode)
}

func (e *Engine) identify(ctx context.Context, d *Decision, g *Gate, info CallInfo, now time.Time) {
	p := e.prepared(g)
	if p.err != nil {
		e.fail(ctx, d, g, info, now, p.err, "config")
		return
	}
	e.readNumbers(d, p.numbering, info)
	keys := lockoutKeys(g, d.Caller)
	// The caller's entry is read in every mode: deny and allow entries
	// apply to all of them. The lockouts and the entry come in one read
	// (one round trip to a database server).
	number := d.Caller
	var st CallState
	var err error
	if len(keys) > 0 || number != "" {
		callers := make([]string, len(keys))
		for i, k := range keys {
			callers[i] = k.Caller
		}
		err = d.budget.do(ctx, func(ctx context.Context) (err error) {
			st, err = e.cfg.Store.ReadCall(ctx, g.ID, callers, number, now)
			return err
		})
	}
	// Entries are judged first, in every mode: deny, then allow (neither
	// asks for a PIN, so the lockout does not apply), then the mode.
	if err == nil && st.Entry != nil && st.Entry.EntryKind() != EntryPIN {
		e.lookup(ctx, d, g, info, now, st.Entry, nil)
		return
	}
	withheld := d.Caller == "" && g.Identification.Withheld != WithheldMode && g.Identification.Withheld != ""
	if withheld && g.Identification.Withheld == WithheldReject {
		d.trace("rule", "withheld=reject")
		d.reject(g, PromptRejected, "caller number withheld or unreadable")
		return
	}
	if e.lockedOut(d, g, keys, st.Lockouts, err, now) {
		return
	}
	if withheld && g.Identification.Withheld == WithheldStatic {
		d.trace("rule", "withheld=static")
		e.askStatic(d, g, now, "static PIN for a caller without a number")
		return
	}
	if withheld && g.Identification.Withheld == WithheldAccount {
		d.trace("rule", "withheld=account")
		e.askAccount(d, g, "account number and its PIN, for a caller without a number")
		return
	}
	switch g.Identification.Mode {
	case IdentStatic:
		entryUnused(d, st.Entry, err, "the gate asks for its static PIN")
		e.askStatic(d, g, now, "static PIN")
	case IdentTable:
		e.lookup(ctx, d, g, info, now, st.Entry, err)
	case IdentWebhook:
		entryUnused(d, st.Entry, err, "the webhook decides")
		e.webhook(ctx, d, g, info, now)
	case IdentDatabase:
		entryUnused(d, st.Entry, err, "the database query decides")
		e.authorize(ctx, d, g, info, now, e.cfg.Database, "database")
	case IdentAccount:
		entryUnused(d, st.Entry, err, "the gate identifies callers by account number")
		e.askAccount(d, g, "account number and its PIN")
	default:
		e.fail(ctx, d, g, info, now, fmt.Errorf("unknown identification mode %q", g.Identification.Mode), "config")
	}
}

// readNumbers reads the caller and called numbers of the call with the
// gate's numbering into d, and says in the trace which rule classified
// each.
func (e *Engine) readNumbers(d *Decision, nb *Numbering, info CallInfo) {
	if n, err := nb.Number(info.Caller); err == nil {
		d.Caller, d.CallerRule = n.Value, n.Rule
		d.trace("caller", "raw %q → %s: %s", info.Caller, n.Value, n.Rule)
	} else {
		d.trace("caller", "raw %q not normalised: %v", info.Caller, err)
	}
	if n, err := nb.Number(info.Called); err == nil {
		d.Called, d.CalledRule = n.Value, n.Rule
		d.trace("called", "raw %q → %s: %s", info.Called, n.Value, n.Rule)
	} else if info.Called != "" {
		d.trace("called", "raw %q not normalised: %v", info.Called, err)
	}
}

// lockoutKeys returns the counter keys of g's lockout policy for a call
// from caller (normalised; "" for a withheld number): the caller's and
// the gate-wide key, each if its limit is set.
func lockoutKeys(g *Gate, caller string) []GuessKey {
	callerMax, gateMax := g.Guesses()
	var keys []GuessKey
	if callerMax > 0 {
		keys = append(keys, GuessKey{Caller: LockoutKey(caller), Limit: callerMax})
	}
	if gateMax > 0 {
		keys = append(keys, GuessKey{Caller: AnyCaller, Limit: gateMax})
	}
	return keys
}

// lockedOut rejects the call when the caller or the gate is locked out,
// or marks it slowed during a gate-wide lockout with the slow action;
// lockouts are those the store found among keys, or readErr if the store
// could not tell. Then this instance's own guess counters decide: an
// outage neither opens the gate nor stops screening.
func (e *Engine) lockedOut(d *Decision, g *Gate, keys []GuessKey, lockouts []*Lockout, readErr error, now time.Time) bool {
	window := g.Lockout.Window.D()
	for _, k := range keys {
		var l *Lockout
		for _, x := range lockouts {
			if x.Caller == k.Caller {
				l = x
			}
		}
		if readErr == nil && l == nil {
			continue
		}
		until := ""
		if readErr != nil {
			if !e.guard.full(g.ID, k, now, window) {
				d.trace("lockout", "store unavailable (%v); %s is within this instance's guess counter", readErr, k.Caller)
				continue
			}
			until = "(counted by this instance while the store is unavailable)"
		} else {
			until = "until " + l.Until.Format(time.RFC3339)
		}
		if k.Caller == AnyCaller && g.Lockout.GateAction == GateSlow {
			d.Slowed = true
			d.trace("lockout", "gate-wide lockout %s: each guess waits %s before it is judged", until, g.Lockout.slowDelay())
			continue
		}
		d.LockedOut = true
		who := "caller"
		if k.Caller == AnyCaller {
			who = "gate (too many failures from all callers)"
		}
		d.reject(g, PromptLockedOut, fmt.Sprintf("%s locked out %s", who, until))
		return true
	}
	return false
}

func (e *Engine) askStatic(d *Decision, g *Gate, now time.Time, why string) {
	if !g.Identification.hasStatic() || e.cfg.Hasher == nil {
		d.Err = errors.New("static PIN is not set")
		d.ErrClass = "config"
		d.reject(g, PromptUnavailable, "static PIN required but none is set")
		return
	}
	if len(g.Identification.PINSet) == 0 {
		d.ask(g, HashedPIN{Hasher: e.cfg.Hasher, Hash: *g.Identification.StaticPIN}, g.Routes.OnCorrect, g.Routes.OnIncorrect, 0, why)
		return
	}
	check, valid := newStaticCheck(e.cfg.Hasher, g, now)
	if check.static == nil && valid == 0 {
		d.trace("pin set", "none of the %d PINs of the set is valid now", len(g.Identification.PINSet))
		d.Err = errors.New("no PIN of the set is valid now")
		d.ErrClass = "config"
		d.reject(g, PromptUnavailable, "static PIN required but no PIN of the set is valid now")
		return
	}
	d.trace("pin set", "%d of %d PINs of the set valid now", valid, len(g.Identification.PINSet))
	d.ask(g, check, g.Routes.OnCorrect, g.Routes.OnIncorrect, 0, why)
}

func (d *Decision) ask(g *Gate, expected PINCheck, onCorrect, onIncorrect Target, retries int, why string) {
	if retries <= 0 {
		retries = g.Dialogue.MaxRetries
	}
	retries = min(max(retries, 1), 10)
	if onCorrect.IsZero() {
		onCorrect = Continue
	}
	if onIncorrect.IsZero() {
		onIncorrect = Hangup(g.Routes.Reject.Cause)
		if onIncorrect.Cause == "" {
			onIncorrect.Cause = CauseBusy
		}
	}
	minD, maxD := g.Dialogue.MinDigits, g.Dialogue.MaxDigits
	if minD <= 0 {
		minD = MinPINLen
	}
	if maxD <= 0 {
		maxD = MaxPINLen
	}
	d.Verdict = VerdictAskPIN
	d.AskPIN = &AskPIN{
		Expected:    expected,
		OnCorrect:   onCorrect.Resolve(g.Routes.ForwardContext),
		OnIncorrect: onIncorrect.Resolve(g.Routes.ForwardContext),
		MaxRetries:  retries,
		MinDigits:   minD,
		MaxDigits:   maxD,
	}
	d.trace("verdict", "ask for the PIN (%s), %d attempts; correct → %s, incorrect → %s", why, retries, d.AskPIN.OnCorrect, d.AskPIN.OnIncorrect)
}

// entryUnused notes in the trace why a static or webhook gate does not
// use the caller's PIN entry, or that the entries could not be read.
func entryUnused(d *Decision, ent *Entry, readErr error, why string) {
	switch {
	case readErr != nil:
		d.trace("entry", "deny and allow entries unavailable (%v); %s", readErr, why)
	case ent != nil:
		d.trace("entry", "pin entry #%d is not used: %s", ent.ID, why)
	}
}

// lookup decides a call by the caller's entry ent, which the store read
// with the lockouts (nil: none matches; deny before allow before PIN,
// see EntryStore.LookupEntry), or readErr if it could not: a deny entry
// rejects, an allow entry passes (or forwards to its target), a PIN
// entry asks for its PIN; no entry follows unknown_caller.
func (e *Engine) lookup(ctx context.Context, d *Decision, g *Gate, info CallInfo, now time.Time, ent *Entry, readErr error) {
	switch {
	case d.Caller == "":
		e.unknown(d, g, now, "caller number missing or unreadable")
		return
	case readErr != nil:
		e.fail(ctx, d, g, info, now, fmt.Errorf("lookup entry: %w", readErr), "store")
		return
	case ent == nil:
		d.trace("entry", "no entry matches %s", d.Caller)
		e.unknown(d, g, now, "caller has no entry")
		return
	}
	label := ""
	if ent.Label != "" {
		label = fmt.Sprintf(" (%s)", ent.Label)
	}
	kind := ent.EntryKind()
	switch kind {
	case EntryDeny:
		d.Entry = ent
		d.trace("entry", "%s matches %s entry #%d %s%s", d.Caller, kind, ent.ID, ent.Pattern, label)
		d.Denied = true
		d.reject(g, PromptRejected, fmt.Sprintf("deny entry #%d", ent.ID))
	case EntryAllow:
		d.Entry = ent
		d.trace("entry", "%s matches %s entry #%d %s%s", d.Caller, kind, ent.ID, ent.Pattern, label)
		if ent.Target.IsZero() {
			d.pass(fmt.Sprintf("allow entry #%d", ent.ID))
		} else {
			d.forward(g, ent.Target, fmt.Sprintf("allow entry #%d", ent.ID))
		}
	default:
		if e.cfg.Hasher == nil {
			e.fail(ctx, d, g, info, now, errors.New("no PIN hasher configured"), "config")
			return
		}
		d.Entry = ent
		d.trace("entry", "%s matches %s entry #%d %s%s", d.Caller, kind, ent.ID, ent.Pattern, label)
		d.ask(g, HashedPIN{Hasher: e.cfg.Hasher, Hash: ent.PIN}, g.Routes.OnCorrect, g.Routes.OnIncorrect, 0, fmt.Sprintf("PIN of entry #%d", ent.ID))
	}
}

func (e *Engine) unknown(d *Decision, g *Gate, now time.Time, why string) {
	switch g.Identification.UnknownCaller {
	case UnknownPass:
		d.trace("rule", "unknown_caller=pass")
		d.pass(why)
	case UnknownStatic:
		d.trace("rule", "unknown_caller=static")
		e.askStatic(d, g, now, "static PIN for an unknown caller")
	default:
		d.trace("rule", "unknown_caller=reject")
		d.reject(g, PromptRejected, why)
	}
}

func (e *Engine) webhook(ctx context.Context, d *Decision, g *Gate, info CallInfo, now time.Time) {
	e.authorize(ctx, d, g, info, now, e.cfg.Authorizer, "webhook")
}

// authorize decides d by the answer of auth, the webhook or the database
// query (named by source in the trace and errors).
func (e *Engine) authorize(ctx context.Context, d *Decision, g *Gate, info CallInfo, now time.Time, auth Authorizer, source string) {
	if auth == nil {
		e.fail(ctx, d, g, info, now, fmt.Errorf("no %s authorizer configured", source), "config")
		return
	}
	req := AuthRequest{Caller: d.Caller, Called: d.Called, CallID: info.ID, CallerRaw: info.Caller, CallerKnown: d.Caller != ""}
	if req.Caller == "" {
		req.Caller = info.Caller
	}
	if req.Called == "" {
		req.Called = info.Called
	}
	ans, err := auth.Authorize(ctx, g, req)
	d.WebhookLatency = ans.Latency
	if err != nil {
		// The Authorizer's errors name it ("webhook: request: ...",
		// "database: query: ...").
		e.fail(ctx, d, g, info, now, err, "")
		return
	}
	cached := ""
	if ans.Cached {
		cached = ", cached"
	}
	label := ""
	if ans.Label != "" {
		label = fmt.Sprintf(" for %q", ans.Label)
	}
	d.trace(source, "answered %s%s in %s%s", ans.Kind, label, ans.Latency.Round(time.Microsecond), cached)
	switch ans.Kind {
	case AnswerAskPIN:
		if ans.Expected != nil {
			d.ask(g, AnsweredPIN{ans.Expected}, ans.OnCorrect, ans.OnIncorrect, ans.MaxRetries, "PIN hash from the "+source)
			return
		}
		if err := ValidatePIN(string(ans.PIN), 0, 0); err != nil {
			e.fail(ctx, d, g, info, now, fmt.Errorf("%s: expected PIN: %w", source, err), "answer")
			return
		}
		d.ask(g, ans.PIN, ans.OnCorrect, ans.OnIncorrect, ans.MaxRetries, "PIN from the "+source)
		// The webhook's PIN sets the length, whatever the gate's limits.
		d.AskPIN.MinDigits = min(d.AskPIN.MinDigits, len(ans.PIN))
		d.AskPIN.MaxDigits = max(d.AskPIN.MaxDigits, len(ans.PIN))
	case AnswerReject:
		d.reject(g, PromptRejected, source+" answered reject")
	case AnswerPass:
		d.pass(source + " answered pass")
	case AnswerForward:
		d.forward(g, ans.Forward, source+" answered forward")
	case AnswerUnknown:
		e.unknown(d, g, now, source+" does not know the caller")
	default:
		e.fail(ctx, d, g, info, now, fmt.Errorf("%s: unknown answer kind %q", source, ans.Kind), "answer")
	}
}

// fail applies the failure policy of g (or the engine's NoGate policy)
// after err.
func (e *Engine) fail(ctx context.Context, d *Decision, g *Gate, info CallInfo, now time.Time, err error, class string) {
	again := d.Err != nil
	d.Err = err
	if class == "" {
		class = ErrorClass(err)
	}
	d.ErrClass = class
	d.trace("failure", "%v", err)
	pol := e.cfg.NoGate
	if g != nil {
		pol = g.Failure
	}
	if pol.Action == "" {
		pol.Action = FailReject
	}
	d.trace("rule", "failure policy %s", pol.Action)
	if g == nil {
		g = &Gate{}
	}
	if again {
		d.reject(g, PromptUnavailable, "the failure policy failed too")
		return
	}
	switch pol.Action {
	case FailPass:
		d.pass("failure policy (fail open)")
	case FailForward:
		d.forward(g, pol.Target, "failure policy")
	case FailStatic:
		e.askStatic(d, g, now, "static PIN by failure policy")
	case FailTable:
		if g.Identification.Mode == IdentTable {
			d.reject(g, PromptUnavailable, "failure policy table, but the table itself failed")
			return
		}
		var ent *Entry
		var err error
		if d.Caller != "" {
			err = d.budget.do(ctx, func(ctx context.Context) error {
				st, err := e.cfg.Store.ReadCall(ctx, g.ID, nil, d.Caller, now)
				ent = st.Entry
				return err
			})
		}
		e.lookup(ctx, d, g, info, now, ent, err)
	default:
		d.reject(g, PromptUnavailable, "failure policy (fail closed)")
	}
}

// ActiveAt reports whether gate g screens calls at now and why: the
// override when one is in effect, then the activation mode and schedule.
// It is the rule Decide applies; the web console shows its answer.
func ActiveAt(g *Gate, now time.Time) (bool, string, error) {
	active, why, _, err := activeAt(g, prepare(g, ""), now, nil) // calendars are the Engine's; the trace names them unread
	return active, why, err
}
