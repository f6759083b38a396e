package gate

import (
	"context"
	"log/slog"
	"time"
)

// Observer is told about calls, for metrics. Methods must not block.
type Observer interface {
	// CallStarted is called when a call arrives.
	CallStarted(source string)
	// CallFinished is called with the call's log row when vipgate lets go.
	CallFinished(r *CallRecord)
}

// FlowConfig wires a Flow.
type FlowConfig struct {
	// Log records one row per call; nil records nothing.
	Log CallLog
	// Counters keep lockout counters; nil disables lockouts.
	Counters Counters
	// Observer is told about calls; nil is allowed.
	Observer Observer
	// Prompt resolves the prompt to play for key at gate g in language
	// lang (e.g. a gate's uploaded announcement); nil means g.Prompt.
	Prompt func(g *Gate, key PromptKey, lang string) Prompt
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger, nil means discard.
	Logger *slog.Logger
}

// Flow runs decisions on live calls.
type Flow struct {
	engine *Engine
	cfg    FlowConfig
	log    *slog.Logger
}

// NewFlow returns a Flow that decides with e.
func NewFlow(e *Engine, cfg FlowConfig) *Flow {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Prompt == nil {
		cfg.Prompt = func(g *Gate, key PromptKey, lang string) Prompt { return g.Prompt(key, lang) }
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Flow{engine: e, cfg: cfg, log: log}
}

// Run decides and carries out the decision on c: the PIN dialogue, the
// route, the channel variables, and the call-log row, which it returns. It
// returns when vipgate has let go of the call (continued or hung up), the
// caller has hung up, or the transport failed; in the last case the
// adapter routes the call by its fallback, so no call is left parked. A
// phone override call (CallInfo.Override) runs the override dialogue
// instead and is not written to the call log.
func (f *Flow) Run(ctx context.Context, c Call) *CallRecord {
	if c.Info().Override != nil {
		return f.runOverride(ctx, c)
	}
	return f.run(ctx, c)
}
