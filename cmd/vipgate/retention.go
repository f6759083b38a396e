package main

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// Call-log retention defaults: serve prunes once firstPrune after it
// starts (the service is up and the first calls are in by then), and then
// every pruneEvery.
var (
	firstPrune = time.Minute
	pruneEvery = time.Hour
)

// retentionFlag adds --call-log-retention to f; after f.parse, the
// returned function reads its value.
func retentionFlag(f *flags) func() (time.Duration, error) {
	v := f.str("call-log-retention", "VIPGATE_CALL_LOG_RETENTION", "90d",
		"delete call-log rows older than this, checked hourly: days (90d) or a duration of at least 24h (36h); 0 keeps every row")
	return func() (time.Duration, error) {
		d, err := parseRetention(*v)
		if err != nil {
			return 0, usagef("--call-log-retention: %v", err)
		}
		return d, nil
	}
}

// auditRetentionFlag adds --audit-retention to f; after f.parse, the
// returned function reads its value, which defaults to the call-log
// retention callLog.
func auditRetentionFlag(f *flags) func(callLog time.Duration) (time.Duration, error) {
	v := f.str("audit-retention", "VIPGATE_AUDIT_RETENTION", "",
		"delete audit-log entries older than this, checked hourly: days or a duration as for --call-log-retention; default the call-log retention; 0 keeps every entry")
	return func(callLog time.Duration) (time.Duration, error) {
		if strings.TrimSpace(*v) == "" {
			return callLog, nil
		}
		d, err := parseRetention(*v)
		if err != nil {
			return 0, usagef("--audit-retention: %v", err)
		}
		return d, nil
	}
}

// auditPrunes lets a callPruner prune the audit log.
type auditPrunes struct{ gate.AuditLog }

func (a auditPrunes) PruneCalls(ctx context.Context, before time.Time) (int64, error) {
	return a.PruneAudit(ctx, before)
}

// parseRetention reads a retention period; see gate.ParseRetention.
func parseRetention(s string) (time.Duration, error) { return gate.ParseRetention(s) }

// callPruner deletes call-log rows older than retention: once delay after
// run starts, then every interval (measured from the end of the previous
// prune, so prunes never overlap), until run's context is done. It runs on
// a goroutine of its own; the store deletes in short batches, so calls
// and their call-log rows never wait for it.
type callPruner struct {
	store interface {
		PruneCalls(ctx context.Context, before time.Time) (int64, error)
	}
	// what is the log pruned, for the log lines; "" means "call log".
	what string
	// gates, when set, is asked for the gates on each prune: a gate with
	// a retention of its own (gate.Gate.Retention) has its rows pruned
	// by it, and the global retention prunes the other gates' rows.
	gates interface {
		ListGates(ctx context.Context) ([]*gate.Gate, error)
		PruneGateCalls(ctx context.Context, before time.Time, scope gate.PruneScope) (int64, error)
	}
	// retention is the global retention; 0 keeps the rows of gates
	// without one of their own.
	retention time.Duration
	delay     time.Duration
	interval  time.Duration
	log       *slog.Logger
	// pruned is told how many rows each prune deleted; nil is allowed.
	pruned func(n int64)
	// now and after are the clock and the timer; nil means time.Now and
	// time.After.
	now   func() time.Time
	after func(time.Duration) <-chan time.Time
}

// run prunes until ctx is done.
func (p *callPruner) run(ctx context.Context) {
	now, after := p.now, p.after
	if now == nil {
		now = time.Now
	}
	if after == nil {
		after = time.After
	}
	wait := p.delay
	for {
		select {
		case <-ctx.Done():
			return
		case <-after(wait):
		}
		p.pruneAt(ctx, now())
		wait = p.interval
	}
}

// pruneAt prunes as of now: each gate with a retention of its own by it,
// then the rest by the global retention.
func (p *callPruner) pruneAt(ctx context.Context, now time.Time) {
	if p.gates == nil {
		if p.retention > 0 {
			p.prune(ctx, now.Add(-p.retention))
		}
		return
	}
	gs, err := p.gates.ListGates(ctx)
	if err != nil {
		if ctx.Err() == nil {
			p.log.Warn("call log prune failed; trying again later", "err", err, "next_in", p.interval)
		}
		return
	}
	var own []string
	for _, g := range gs {
		r := g.CallRetention()
		if r == 0 {
			continue
		}
		own = append(own, g.ID)
		p.report(ctx, now.Add(-r), g.ID, func() (int64, error) {
			return p.gates.PruneGateCalls(ctx, now.Add(-r), gate.PruneScope{GateIDs: []string{g.ID}})
		})
	}
	if p.retention > 0 {
		p.report(ctx, now.Add(-p.retention), "", func() (int64, error) {
			return p.gates.PruneGateCalls(ctx, now.Add(-p.retention), gate.PruneScope{GateIDs: own, Except: true})
		})
	}
}

// prune deletes the rows before before and logs the result: Info when
// rows were deleted, Warn when the store failed (unless ctx ended it).
func (p *callPruner) prune(ctx context.Context, before time.Time) {
	p.report(ctx, before, "", func() (int64, error) { return p.store.PruneCalls(ctx, before) })
}

// report runs one prune and logs it; gateID "" is the global one.
func (p *callPruner) report(ctx context.Context, before time.Time, gateID string, prune func() (int64, error)) {
	start := time.Now()
	what := p.what
	if what == "" {
		what = "call log"
	}
	n, err := prune()
	var gateArg []any
	if gateID != "" {
		gateArg = []any{"gate", gateID}
	}
	if n > 0 {
		args := append([]any{"rows", n, "before", before.UTC().Format(time.RFC3339), "took", time.Since(start).Round(time.Millisecond)}, gateArg...)
		p.log.Info(what+" pruned", args...)
		if p.pruned != nil {
			p.pruned(n)
		}
	}
	if err != nil && ctx.Err() == nil {
		p.log.Warn(what+" prune failed; trying again later", append([]any{"err", err, "next_in", p.interval}, gateArg...)...)
	}
}
