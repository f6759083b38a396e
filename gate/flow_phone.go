package gate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Values of VarResult after a phone override call.
const (
	// ResultOverrideOn, ResultOverrideOff and ResultOverrideSchedule: the
	// PIN was right and the gate is now forced on, forced off, or back on
	// its schedule.
	ResultOverrideOn       = "override_on"
	ResultOverrideOff      = "override_off"
	ResultOverrideSchedule = "override_schedule"
	// ResultOverrideWrongPIN: every attempt was wrong.
	ResultOverrideWrongPIN = "override_pin_failed"
	// ResultOverrideLockedOut: the caller or the gate is locked out.
	ResultOverrideLockedOut = "override_locked_out"
	// ResultOverrideRefused: the request cannot be served (no such gate,
	// no override PIN, a caller that is not internal, an unknown action)
	// or the override could not be stored.
	ResultOverrideRefused = "override_refused"
)

// PhoneActor is the audit actor of an override set from a phone:
// "phone:<caller number as Asterisk gave it>".
func PhoneActor(caller string) string {
	if caller == "" {
		caller = AnonymousCaller
	}
	return "phone:" + caller
}

// overrideCall is what the Engine found for a phone override call.
type overrideCall struct {
	d *Decision // Gate, Caller, LockedOut, Slowed, budget
	// refused says why the call is refused ("" when it may go on).
	refused string
}

// prepareOverride selects the gate a phone override call names (by name
// only: a called number selects no gate here), reads the caller's number
// and checks that the caller may ask and is not locked out, as the
// screening of a call does.
func (e *Engine) prepareOverride(ctx context.Context, info CallInfo, now time.Time) overrideCall {
	d := &Decision{budget: newBudget(e.cfg.StoreTimeout)}
	oc := overrideCall{d: d}
	req := info.Override
	if req.Problem != "" {
		oc.refused = req.Problem
		return oc
	}
	var gates []*Gate
	err := d.budget.do(ctx, func(ctx context.Context) (err error) {
		gates, err = e.cfg.Store.ListGates(ctx)
		return err
	})
	if err != nil {
		oc.refused = fmt.Sprintf("gates cannot be read: %v", err)
		return oc
	}
	name := strings.ToLower(req.Gate)
	for _, g := range gates {
		if g.ID == name || contains(g.Match.Names, req.Gate) {
			d.Gate = g
			break
		}
	}
	g := d.Gate
	switch {
	case g == nil:
		oc.refused = fmt.Sprintf("no gate is named %q", req.Gate)
		return oc
	case g.PhoneOverride == nil || g.PhoneOverride.PIN == nil:
		oc.refused = "the gate has no phone_override PIN"
		return oc
	case e.cfg.Hasher == nil:
		oc.refused = "no PIN hasher is configured"
		return oc
	}
	p := e.prepared(g)
	if p.err != nil {
		oc.refused = fmt.Sprintf("gate configuration: %v", p.err)
		return oc
	}
	n, nerr := p.numbering.Number(info.Caller)
	if nerr == nil {
		d.Caller = n.Value
	}
	if g.PhoneOverride.Callers != PhoneCallersAny && (nerr != nil || n.Class != ClassInternal) {
		oc.refused = "the caller is not an internal number (phone_override.callers: internal)"
		return oc
	}
	keys := lockoutKeys(g, d.Caller)
	if len(keys) == 0 {
		return oc
	}
	callers := make([]string, len(keys))
	for i, k := range keys {
		callers[i] = k.Caller
	}
	var st CallState
	err = d.budget.do(ctx, func(ctx context.Context) (err error) {
		st, err = e.cfg.Store.ReadCall(ctx, g.ID, callers, "", now)
		return err
	})
	e.lockedOut(d, g, keys, st.Lockouts, err, now)
	return oc
}

// runOverride runs a phone override call: the override PIN dialogue, the
// new override through the Engine's store (audited as PhoneActor), the
// device state on the channel, the spoken confirmation and the hang-up.
// It writes no call-log row (the audit log has the change) and logs one
// Info line.
func (f *Flow) runOverride(ctx context.Context, c Call) *CallRecord {
	info := c.Info()
	start := time.Now()
	now := f.cfg.Now()
	log := CallLogger(f.log, info)
	oc := f.engine.prepareOverride(ctx, info, now)
	d := oc.d
	g := d.Gate
	if g == nil {
		g = &Gate{}
	} else {
		log = with(log, LogGate, g.ID)
	}
	rec := &CallRecord{At: now, Source: info.Source, ChannelID: info.ID, GateID: g.ID, CallerRaw: info.Caller, Caller: d.Caller, Called: info.Called}
	lang := g.Language
	if lang == "" {
		lang = info.Language
	}
	result, state, err := f.overrideDialogue(ctx, log, c, oc, g, lang, rec)
	switch {
	case err == nil:
	case errors.Is(err, ErrHangup) || ctx.Err() != nil:
		rec.Outcome = OutcomeAbandoned
	default:
		rec.Outcome, rec.ErrorClass = OutcomeFailed, "transport"
		log.Warn("phone override call failed", "err", err)
	}
	rec.Duration = time.Since(start)
	attrs := []any{"caller", rec.Caller, "action", string(info.Override.Action), "result", result, "attempts", rec.Attempts, "duration", rec.Duration}
	if state != "" {
		attrs = append(attrs, "state", string(state))
	}
	if oc.refused != "" {
		attrs = append(attrs, "refused", oc.refused)
	}
	log.Info("phone override", attrs...)
	return rec
}

// overrideDialogue carries out the phone override call and returns the
// VarResult value it set and, on success, the gate's new state.
func (f *Flow) overrideDialogue(ctx context.Context, log *slog.Logger, c Call, oc overrideCall, g *Gate, lang string, rec *CallRecord) (string, OverrideState, error) {
	d := oc.d
	end := func(result string, o Outcome, p Prompt) error {
		rec.Outcome = o
		rec.Target = Hangup(CauseNormal).String()
		if err := setVars(ctx, log, c, []Var{{VarResult, result}, {VarGate, g.ID}}); err != nil {
			return err
		}
		if err := c.Answer(ctx); err != nil {
			return fmt.Errorf("answer: %w", err)
		}
		if p.Name != "" {
			if err := c.Play(ctx, p); err != nil {
				return fmt.Errorf("play %s: %w", p.Key, err)
			}
		}
		if err := c.Hangup(ctx, CauseNormal); err != nil {
			return fmt.Errorf("hangup: %w", err)
		}
		return nil
	}
	if oc.refused != "" {
		return ResultOverrideRefused, "", end(ResultOverrideRefused, OutcomeRejected, f.cfg.Prompt(g, PromptUnavailable, lang))
	}
	if d.LockedOut {
		return ResultOverrideLockedOut, "", end(ResultOverrideLockedOut, OutcomeLockedOut, f.cfg.Prompt(g, PromptLockedOut, lang))
	}
	perCaller, perGate := g.Lockout.parallel()
	leave, capped := f.engine.guard.enter(g.ID, LockoutKey(d.Caller), perCaller, perGate)
	if leave == nil {
		log.Warn("too many PIN dialogues at once; phone override refused", "cap", capped)
		return ResultOverrideRefused, "", end(ResultOverrideRefused, OutcomeRejected, f.cfg.Prompt(g, PromptRejected, lang))
	}
	defer leave()
	if err := c.Answer(ctx); err != nil {
		return "", "", fmt.Errorf("answer: %w", err)
	}
	opts := CollectOptions{
		MaxDigits:  MaxPINLen + 1,
		FirstDigit: g.Dialogue.FirstDigitTimeout.D(),
		InterDigit: g.Dialogue.InterDigitTimeout.D(),
		Terminator: "#",
	}.WithDefaults()
	expected := HashedPIN{Hasher: f.engine.cfg.Hasher, Hash: *g.PhoneOverride.PIN}
	retries := min(max(g.Dialogue.MaxRetries, 1), maxRetriesLimit)
	prompt := f.cfg.Prompt(g, PromptAskPIN, lang)
	for attempt := 1; attempt <= retries; attempt++ {
		rec.Attempts = attempt
		in, err := c.Collect(ctx, prompt, opts)
		if err != nil {
			return "", "", fmt.Errorf("collect: %w", err)
		}
		prompt = f.cfg.Prompt(g, PromptWrongPIN, lang)
		if in.Digits == "" {
			continue
		}
		adm := f.admit(ctx, log, d, g, "")
		if adm.refused {
			return ResultOverrideLockedOut, "", end(ResultOverrideLockedOut, OutcomeLockedOut, f.cfg.Prompt(g, PromptLockedOut, lang))
		}
		if adm.slow {
			if err := sleep(ctx, g.Lockout.slowDelay()); err != nil {
				return "", "", fmt.Errorf("slowed judgement: %w", err)
			}
		}
		match := expected.Match(in.Digits)
		log.Debug("override pin attempt", "attempt", attempt, "input", in, "correct", match)
		if !match {
			f.lockIfSpent(ctx, log, d, g, adm)
			continue
		}
		f.release(ctx, log, d, g, adm)
		state, err := f.setPhoneOverride(ctx, c.Info(), g)
		if err != nil {
			log.Error("phone override: set override", "err", err)
			return ResultOverrideRefused, "", end(ResultOverrideRefused, OutcomeFailed, f.cfg.Prompt(g, PromptUnavailable, lang))
		}
		// The hint follows from the call itself too: over FastAGI there
		// is no other way to reach Asterisk's device states.
		if err := setVars(ctx, log, c, []Var{{"DEVICE_STATE(" + g.Device() + ")", state.DeviceState()}}); err != nil {
			return "", state, err
		}
		result := map[OverrideState]string{OverrideForcedOn: ResultOverrideOn, OverrideForcedOff: ResultOverrideOff, OverrideNone: ResultOverrideSchedule}[state]
		return result, state, end(result, OutcomePINOK, g.confirmPrompt(state, lang))
	}
	return ResultOverrideWrongPIN, "", end(ResultOverrideWrongPIN, OutcomePINFailed, f.cfg.Prompt(g, PromptRejected, lang))
}

// setPhoneOverride sets the override the call asks for at g through the
// Engine's store, as PhoneActor of the caller, and returns the gate's new
// override state. The gate is read again first, so that a toggle sees the
// override as it is now.
func (f *Flow) setPhoneOverride(ctx context.Context, info CallInfo, g *Gate) (OverrideState, error) {
	ctx = WithActor(context.WithoutCancel(ctx), PhoneActor(info.Caller))
	ctx, cancel := context.WithTimeout(ctx, f.engine.cfg.StoreTimeout)
	defer cancel()
	cur, err := f.engine.cfg.Store.GetGate(ctx, g.ID)
	if err != nil {
		return "", fmt.Errorf("read gate: %w", err)
	}
	now := f.cfg.Now()
	active, _, _, err := activeAt(cur, f.engine.prepared(cur), now, f.engine.cfg.Calendars)
	if err != nil {
		return "", fmt.Errorf("schedule: %w", err)
	}
	if cur.Override.InEffect(now) {
		// activeAt reports the override's state; toggle needs it only
		// when no override is in effect.
		active = cur.Override.Active
	}
	o, err := cur.phoneOverride(info.Override.Action, active, now, f.engine.cfg.Calendars)
	if err != nil {
		return "", err
	}
	if err := f.engine.cfg.Store.SetOverride(ctx, cur.ID, o); err != nil {
		return "", err
	}
	cur.Override = o
	return cur.OverrideStateAt(now), nil
}
