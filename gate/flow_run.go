package gate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"
)

// Channel variables the Flow sets before it lets go of a call, so that the
// dialplan and CDRs can use the result.
const (
	VarResult = "VIPGATE_RESULT" // the Outcome
	VarGate   = "VIPGATE_GATE"   // the gate ID ("" when no gate matched)
	VarTarget = "VIPGATE_TARGET" // the target's text form
	// VarLabel and VarPriority are the matched entry's label and priority,
	// set only when the call goes on (passed, forwarded, correct PIN) and
	// the entry has them.
	VarLabel    = "VIPGATE_LABEL"
	VarPriority = "VIPGATE_PRIORITY"
)

// logTimeout bounds writing the call-log row after the call has gone on.
const logTimeout = 2 * time.Second

func (f *Flow) run(ctx context.Context, c Call) *CallRecord {
	info := c.Info()
	startWall := f.cfg.Now()
	start := time.Now()
	if f.cfg.Observer != nil {
		f.cfg.Observer.CallStarted(info.Source)
	}
	d := f.engine.Decide(ctx, info, startWall)
	log := CallLogger(f.log, info)
	if d.Gate != nil {
		log = with(log, LogGate, d.Gate.ID)
	}
	rec := &CallRecord{
		Closure:         d.Closure,
		At:              startWall,
		Source:          info.Source,
		ChannelID:       info.ID,
		CallerRaw:       info.Caller,
		Caller:          d.Caller,
		Called:          info.Called,
		Active:          d.Active,
		Mode:            d.Mode,
		Verdict:         d.Verdict,
		DecisionLatency: time.Since(start),
		WebhookLatency:  d.WebhookLatency,
		ErrorClass:      d.ErrClass,
	}
	if d.Gate != nil {
		rec.GateID = d.Gate.ID
	}
	if d.Entry != nil {
		rec.EntryID = d.Entry.ID
	}
	if !d.Active {
		rec.Mode = ""
	}

	err := f.carry(ctx, log, c, d, rec)
	switch {
	case err == nil:
		// Routed. The call's context may be cancelled right after (the
		// adapter lets go of the channel); that is no hangup.
	case ctx.Err() != nil && !errors.Is(context.Cause(ctx), ErrHangup):
		// Cancelled for another reason than a hangup: vipgate is
		// stopping and the adapter routes the call by its fallback.
		rec.Outcome = OutcomeFailed
		rec.ErrorClass = "shutdown"
	case errors.Is(err, ErrHangup) || ctx.Err() != nil:
		rec.Outcome = OutcomeAbandoned
	case err != nil:
		// The transport failed; record it. The adapter owns the channel
		// from here and routes it by its fallback.
		if rec.Outcome == "" {
			rec.Outcome = OutcomeFailed
		}
		rec.ErrorClass = "transport"
		log.Warn("call routing failed", "err", err)
	}
	rec.Duration = time.Since(start)
	f.finish(ctx, log, d, rec)
	return rec
}

// carry carries decision d out on c and fills rec.Outcome, Target and
// Attempts.
func (f *Flow) carry(ctx context.Context, log *slog.Logger, c Call, d *Decision, rec *CallRecord) error {
	g := d.Gate
	if g == nil {
		g = &Gate{}
	}
	lang := g.Language
	if lang == "" {
		lang = c.Info().Language
	}
	failed := func(o Outcome) Outcome {
		if d.Err != nil {
			return OutcomeFailed
		}
		return o
	}
	if d.AnnounceSound != "" {
		// A closure's own announcement, then its route.
		rec.Outcome = failed(OutcomeForwarded)
		if d.Verdict == VerdictReject {
			rec.Outcome = failed(OutcomeRejected)
		}
		return f.routeAfter(ctx, log, c, g, d.Target, &Prompt{Key: PromptClosure, Name: d.AnnounceSound, Lang: lang}, rec)
	}
	switch d.Verdict {
	case VerdictAskPIN:
		return f.dialogue(ctx, log, c, d, g, lang, rec)
	case VerdictReject:
		rec.Outcome = failed(OutcomeRejected)
		if d.LockedOut {
			rec.Outcome = OutcomeLockedOut
		}
		if d.Denied {
			rec.Outcome = OutcomeDenied
		}
		return f.route(ctx, log, c, g, lang, d.Target, d.Announce, rec)
	case VerdictForward:
		rec.Outcome = failed(OutcomeForwarded)
		return f.route(ctx, log, c, g, lang, d.Target, "", rec, entryVars(d)...)
	default:
		rec.Outcome = failed(OutcomePassed)
		return f.route(ctx, log, c, g, lang, d.Target, "", rec, entryVars(d)...)
	}
}

// dialogue runs the PIN dialogue and routes the call. Every guess is
// counted before it is judged (see admit), so parallel calls share the
// caller's and the gate's budget of guesses.
func (f *Flow) dialogue(ctx context.Context, log *slog.Logger, c Call, d *Decision, g *Gate, lang string, rec *CallRecord) error {
	a := d.AskPIN
	perCaller, perGate := g.Lockout.parallel()
	leave, capped := f.engine.guard.enter(g.ID, LockoutKey(d.Caller), perCaller, perGate)
	if leave == nil {
		log.Warn("too many PIN dialogues at once; call rejected", "cap", capped)
		rec.Outcome = OutcomeRejected
		return f.route(ctx, log, c, g, lang, rejectTarget(g), g.rejectAnnounce(PromptRejected), rec)
	}
	defer leave()
	if err := c.Answer(ctx); err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	if welcome := f.cfg.Prompt(g, PromptWelcome, lang); welcome.Name != "" {
		if err := c.Play(ctx, welcome); err != nil {
			return fmt.Errorf("play welcome: %w", err)
		}
	}
	opts := CollectOptions{
		// Input ends with '#' or a timeout, not at the PIN's length: a PIN
		// followed by extra digits is wrong rather than cut short and
		// accepted, and no leftover digits spill into the next attempt.
		MaxDigits:  MaxPINLen + 1,
		FirstDigit: g.Dialogue.FirstDigitTimeout.D(),
		InterDigit: g.Dialogue.InterDigitTimeout.D(),
		Terminator: "#",
	}
	opts = opts.WithDefaults()
	prompt := f.cfg.Prompt(g, PromptAskPIN, lang)
	acct, _ := a.Expected.(*accountCheck)
	if !a.Account {
		acct = nil
	}
	if acct != nil {
		prompt = f.cfg.Prompt(g, PromptAskAccount, lang)
	}
	for attempt := 1; attempt <= a.MaxRetries; attempt++ {
		rec.Attempts = attempt
		accountKey := ""
		if acct != nil {
			// An account number first; a wrong one counts as a wrong
			// PIN, and its PIN is asked for all the same.
			step, err := f.accountStep(ctx, log, c, d, g, acct, prompt, opts)
			if err != nil {
				return err
			}
			switch {
			case step.policy != nil && step.policy.Verdict != VerdictAskPIN:
				rec.ErrorClass = step.policy.ErrClass
				return f.carry(ctx, log, c, step.policy, rec)
			case step.policy != nil:
				// The failure policy asks for the static PIN instead.
				rec.ErrorClass = step.policy.ErrClass
				a, acct = step.policy.AskPIN, nil
			case step.locked:
				rec.Outcome = OutcomeLockedOut
				return f.route(ctx, log, c, g, lang, rejectTarget(g), g.rejectAnnounce(PromptLockedOut), rec)
			case step.key == "":
				prompt = f.cfg.Prompt(g, PromptWrongAccount, lang)
				continue
			}
			accountKey = step.key
			prompt = f.cfg.Prompt(g, PromptAskPIN, lang)
		}
		in, err := c.Collect(ctx, prompt, opts)
		if err != nil {
			return fmt.Errorf("collect: %w", err)
		}
		var adm admission
		if in.Digits != "" {
			// Nothing typed is no guess; anything else is counted
			// before it is judged.
			adm = f.admit(ctx, log, d, g, accountKey)
			if adm.refused {
				rec.Outcome = OutcomeLockedOut
				return f.route(ctx, log, c, g, lang, rejectTarget(g), g.rejectAnnounce(PromptLockedOut), rec)
			}
			if adm.slow {
				if err := sleep(ctx, g.Lockout.slowDelay()); err != nil {
					return fmt.Errorf("slowed judgement: %w", err)
				}
			}
		}
		ok := len(in.Digits) >= a.MinDigits && len(in.Digits) <= a.MaxDigits
		// Always compare, so the time taken does not depend on the length.
		// The Debug record below is one per judged guess (never the
		// digits); gatetest.Judgements counts guesses by it.
		match := a.Expected.Match(in.Digits)
		var used *Grant
		if a.granted != nil {
			if gr := a.granted.match(in.Digits); ok && !match && gr != nil {
				used = f.useGrant(ctx, log, d, g, gr)
				match = used != nil
			}
		}
		log.Debug("pin attempt", "attempt", attempt, "input", in, "correct", ok && match)
		if ok && match {
			rec.Outcome = OutcomePINOK
			f.release(ctx, log, d, g, adm)
			var vars []Var
			if acct != nil {
				vars = accountVars(acct.account)
			} else {
				vars = append(entryVars(d), pinVars(a.Expected)...)
			}
			vars = append(vars, grantVars(used)...)
			var announce PromptKey
			if g.Routes.Connecting && a.OnCorrect.Kind != TargetHangup {
				announce = PromptConnecting
			}
			return f.route(ctx, log, c, g, lang, a.OnCorrect, announce, rec, vars...)
		}
		f.lockIfSpent(ctx, log, d, g, adm)
		prompt = f.cfg.Prompt(g, PromptWrongPIN, lang)
		if acct != nil {
			prompt = f.cfg.Prompt(g, PromptWrongAccount, lang)
		}
	}
	rec.Outcome = OutcomePINFailed
	var announce PromptKey
	if a.OnIncorrect.Kind == TargetHangup && g.Routes.Reject.Announce {
		announce = PromptRejected
	}
	return f.route(ctx, log, c, g, lang, a.OnIncorrect, announce, rec)
}

// rejectTarget is the hang-up of a rejected call at g.
func rejectTarget(g *Gate) Target {
	return Hangup(cmp.Or(g.Routes.Reject.Cause, CauseBusy))
}

// rejectAnnounce returns key if g announces rejects, else "".
func (g *Gate) rejectAnnounce(key PromptKey) PromptKey {
	if g.Routes.Reject.Announce {
		return key
	}
	return ""
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// entryVars returns VarLabel and VarPriority from the matched entry, each
// if it has one, for a call that goes on.
func entryVars(d *Decision) []Var {
	if d.Entry == nil || d.Err != nil {
		return nil
	}
	var vars []Var
	if d.Entry.Label != "" {
		vars = append(vars, Var{VarLabel, d.Entry.Label})
	}
	if d.Entry.Priority != 0 {
		vars = append(vars, Var{VarPriority, strconv.Itoa(d.Entry.Priority)})
	}
	return vars
}

// setVars sets the channel variables vars in one SetVars. A name given
// twice is set once, to its last value, as setting them one after the
// other would leave it. A variable that cannot be set is logged and
// skipped; only a hangup is an error.
func setVars(ctx context.Context, log *slog.Logger, c Call, vars []Var) error {
	if len(vars) == 0 {
		return nil
	}
	var uniq []Var
	for _, v := range vars {
		if i := slices.IndexFunc(uniq, func(u Var) bool { return u.Name == v.Name }); i >= 0 {
			uniq[i].Value = v.Value
			continue
		}
		uniq = append(uniq, v)
	}
	if err := c.SetVars(ctx, uniq...); err != nil {
		if errors.Is(err, ErrHangup) {
			return fmt.Errorf("set variables: %w", err)
		}
		log.Warn("set variable failed", "err", err)
	}
	return nil
}

// pinVars returns VarLabel and VarAccount from the set PIN that matched,
// if one did.
func pinVars(expected PINCheck) []Var {
	sc, ok := expected.(*staticCheck)
	if !ok || sc.matched == nil {
		return nil
	}
	vars := []Var{{VarLabel, sc.matched.Label}}
	if sc.matched.Account != "" {
		vars = append(vars, Var{VarAccount, sc.matched.Account})
	}
	return vars
}

// route sets vars and the result variables, plays announce if set, and
// sends the call to t.
func (f *Flow) route(ctx context.Context, log *slog.Logger, c Call, g *Gate, lang string, t Target, announce PromptKey, rec *CallRecord, vars ...Var) error {
	var p *Prompt
	if announce != "" {
		pr := f.cfg.Prompt(g, announce, lang)
		p = &pr
	}
	return f.routeAfter(ctx, log, c, g, t, p, rec, vars...)
}

// routeAfter is route with the prompt to play (nil: none). The variables
// go in one SetVars, so that over ARI they cost one request.
func (f *Flow) routeAfter(ctx context.Context, log *slog.Logger, c Call, g *Gate, t Target, announce *Prompt, rec *CallRecord, vars ...Var) error {
	rec.Target = t.String()
	vars = append(vars, Var{VarResult, string(rec.Outcome)}, Var{VarGate, g.ID}, Var{VarTarget, rec.Target})
	if err := setVars(ctx, log, c, vars); err != nil {
		return err
	}
	if announce != nil {
		if err := c.Answer(ctx); err != nil {
			return fmt.Errorf("answer: %w", err)
		}
		if err := c.Play(ctx, *announce); err != nil {
			return fmt.Errorf("play %s: %w", announce.Key, err)
		}
	}
	if t.Kind == TargetHangup {
		if err := c.Hangup(ctx, t.Cause); err != nil {
			return fmt.Errorf("hangup: %w", err)
		}
		return nil
	}
	if err := c.Continue(ctx, t); err != nil {
		return fmt.Errorf("continue: %w", err)
	}
	return nil
}

// finish writes the call-log row, tells the observer and logs one line.
func (f *Flow) finish(ctx context.Context, log *slog.Logger, d *Decision, rec *CallRecord) {
	if f.cfg.Log != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), logTimeout)
		if err := f.cfg.Log.LogCall(cctx, rec); err != nil {
			log.Error("write call log", "err", err)
		}
		cancel()
	}
	if f.cfg.Observer != nil {
		f.cfg.Observer.CallFinished(rec)
	}
	attrs := []any{
		"caller", rec.Caller, "called", rec.Called, "active", rec.Active,
		"verdict", rec.Verdict, "outcome", rec.Outcome, "attempts", rec.Attempts,
		"target", rec.Target, "decision", rec.DecisionLatency, "duration", rec.Duration,
	}
	if d.Err != nil {
		attrs = append(attrs, "error_class", d.ErrClass, "err", d.Err)
	}
	log.Info("call", attrs...)
}
