package gate

import (
	"cmp"
	"context"
	"log/slog"
	"time"
)

// admission is what admit decided about one guess.
type admission struct {
	// keys are the counters the guess was counted under, counts their
	// counts including it.
	keys   []GuessKey
	counts []int
	at     time.Time
	// account is the key of the account number the guess is for ("" if
	// none); it is counted like the caller's key.
	account string
	// local is set when the store could not be reached and the guess was
	// counted by this instance only.
	local bool
	// refused: a budget is spent; the guess must not be judged.
	refused bool
	// slow: wait the gate's slow delay before judging.
	slow bool
}

// admit counts one guess of the call before it is judged: under the
// caller's key and the gate-wide key, atomically in the store, so that no
// number of parallel calls and instances gets more guesses than the
// lockout allows. When the store cannot be reached (or the call's store
// time is spent), this instance's counters decide. During a gate-wide
// lockout with the slow action the guess is counted under the caller's key
// only and judged after the slow delay.
//
// A guess at an account's PIN (account, an AccountKey, not "") is counted
// under the account's key too, with the caller's limit: the lockout
// applies per account and per caller.
func (f *Flow) admit(ctx context.Context, log *slog.Logger, d *Decision, g *Gate, account string) admission {
	ad := admission{at: f.cfg.Now(), slow: d.Slowed, account: account}
	if f.cfg.Counters == nil {
		return ad
	}
	callerMax, gateMax := g.Guesses()
	if callerMax > 0 {
		ad.keys = append(ad.keys, GuessKey{Caller: LockoutKey(d.Caller), Limit: callerMax})
		if account != "" {
			ad.keys = append(ad.keys, GuessKey{Caller: account, Limit: callerMax})
		}
	}
	if gateMax > 0 && !ad.slow {
		ad.keys = append(ad.keys, GuessKey{Caller: AnyCaller, Limit: gateMax})
	}
	if len(ad.keys) == 0 {
		return ad
	}
	ok := f.reserve(ctx, log, d, g, &ad)
	if !ok && g.Lockout.GateAction == GateSlow && ad.keys[len(ad.keys)-1].Caller == AnyCaller &&
		ad.counts[len(ad.keys)-1] >= gateMax && belowLimits(ad.keys[:len(ad.keys)-1], ad.counts) {
		// The gate-wide budget ran out during this call; the gate slows
		// guesses down instead of refusing them.
		ad.slow = true
		ad.keys = ad.keys[:len(ad.keys)-1]
		if len(ad.keys) == 0 {
			ad.counts = nil
			return ad
		}
		ok = f.reserve(ctx, log, d, g, &ad)
	}
	ad.refused = !ok
	return ad
}

// belowLimits reports whether each of keys has fewer guesses (counts, in
// the same order) than its limit.
func belowLimits(keys []GuessKey, counts []int) bool {
	for i, k := range keys {
		if counts[i] >= k.Limit {
			return false
		}
	}
	return true
}

// reserve reserves ad's guess in the store, or in memory when the store
// fails, and reports whether it may be judged.
func (f *Flow) reserve(ctx context.Context, log *slog.Logger, d *Decision, g *Gate, ad *admission) bool {
	window := g.Lockout.Window.D()
	var ok bool
	err := d.budget.do(context.WithoutCancel(ctx), func(ctx context.Context) (err error) {
		ad.counts, ok, err = f.cfg.Counters.ReserveGuess(ctx, g.ID, ad.keys, ad.at, window)
		return err
	})
	if err != nil {
		log.Warn("count PIN guess in the store failed; this instance counts it", "err", err)
		ad.local = true
		ad.counts, ok = f.engine.guard.reserve(g.ID, ad.keys, ad.at, window, false)
		return ok
	}
	if ok {
		// Keep this instance's counters in step, for an outage later on.
		f.engine.guard.reserve(g.ID, ad.keys, ad.at, window, true)
	}
	return ok
}

// release gives back what a correct guess took: the caller's count is
// reset and the gate-wide key forgets this guess.
func (f *Flow) release(ctx context.Context, log *slog.Logger, d *Decision, g *Gate, ad admission) {
	if f.cfg.Counters == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	callerMax, _ := g.Guesses()
	if callerMax > 0 {
		for _, k := range []string{LockoutKey(d.Caller), ad.account} {
			if k == "" {
				continue
			}
			f.engine.guard.reset(g.ID, k)
			if err := d.budget.do(ctx, func(ctx context.Context) error { return f.cfg.Counters.ResetFailures(ctx, g.ID, k) }); err != nil {
				log.Warn("reset PIN failures", "err", err)
			}
		}
	}
	for _, k := range ad.keys {
		if k.Caller != AnyCaller {
			continue
		}
		f.engine.guard.release(g.ID, AnyCaller, ad.at)
		if ad.local {
			continue
		}
		if err := d.budget.do(ctx, func(ctx context.Context) error { return f.cfg.Counters.ReleaseGuess(ctx, g.ID, AnyCaller, ad.at) }); err != nil {
			log.Warn("release PIN guess", "err", err)
		}
	}
}

// lockIfSpent stores a lockout for each key whose budget the wrong guess
// ad used up, so that later calls are turned away before they are
// answered (or, gate-wide with the slow action, slowed) and the admin API
// lists it. A gate-wide lockout is logged as a warning: it affects every
// caller of the gate.
func (f *Flow) lockIfSpent(ctx context.Context, log *slog.Logger, d *Decision, g *Gate, ad admission) {
	ctx = context.WithoutCancel(ctx)
	for i, k := range ad.keys {
		if ad.counts[i] < k.Limit {
			continue
		}
		l := &Lockout{GateID: g.ID, Caller: k.Caller, Until: ad.at.Add(g.Lockout.Duration.D()), Failures: ad.counts[i], At: ad.at}
		if !ad.local {
			if err := d.budget.do(ctx, func(ctx context.Context) error { return f.cfg.Counters.SetLockout(ctx, l) }); err != nil {
				log.Warn("set lockout", "err", err)
			}
		}
		if k.Caller == AnyCaller {
			log.Warn("gate-wide lockout", "guesses", l.Failures, "until", l.Until,
				"action", string(cmp.Or(g.Lockout.GateAction, GateRefuse)), "local", ad.local)
			continue
		}
		log.Info("lockout", "caller", k.Caller, "guesses", l.Failures, "until", l.Until, "local", ad.local)
	}
}
