package gate

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

func isErr(err, target error) bool { return errors.Is(err, target) }

// EngineConfig wires an Engine.
type EngineConfig struct {
	// Store is required.
	Store Store
	// Hasher checks hashed PINs; required for static and table gates.
	Hasher *Hasher
	// Authorizer answers for webhook gates; nil makes webhook gates follow
	// their failure policy.
	Authorizer Authorizer
	// Region is the default region for caller-number normalisation ("DE").
	Region string
	// StoreTimeout bounds each store call on the call path (default 2s).
	StoreTimeout time.Duration
	// Logger, nil means discard.
	Logger *slog.Logger
}

// Engine decides what happens to calls. It is safe for concurrent use.
type Engine struct {
	cfg EngineConfig
	log *slog.Logger
}

// NewEngine returns an Engine.
func NewEngine(cfg EngineConfig) *Engine {
	if cfg.StoreTimeout <= 0 {
		cfg.StoreTimeout = 2 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Engine{cfg: cfg, log: log}
}

// Decide decides what happens to the call described by info at now. It
// always returns a decision: internal failures become decisions through the
// gate's failure policy, with Err set.
func (e *Engine) Decide(ctx context.Context, info CallInfo, now time.Time) *Decision {
	d := &Decision{Verdict: VerdictPass, Target: Continue}
	d.trace("gate", "no gate matched; pass")
	return d
}
