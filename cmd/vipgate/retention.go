package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strconv"
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

// maxDays is the longest retention in days that a time.Duration holds
// (about 292 years).
const maxDays = math.MaxInt64 / int64(24*time.Hour)

// parseRetention reads a retention period: a whole number of days ("90d")
// or a Go duration ("2160h", "36h30m"). "0" (or "0d") means keep every row.
func parseRetention(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n < 0 || n > maxDays || strings.HasPrefix(days, "+") {
			return 0, fmt.Errorf("want a whole number of days such as 90d, got %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("want days such as 90d or a duration such as 36h (0 keeps every row), got %q", s)
	}
	if d > 0 && d < minRetention {
		// 90m or 90s is more likely a slip for 90 days (or months) than
		// a wish to keep an hour and a half of calls.
		return 0, fmt.Errorf("%q is less than %v; give days such as 90d (0 keeps every row)", s, minRetention)
	}
	return d, nil
}

// minRetention is the shortest retention accepted other than 0.
const minRetention = 24 * time.Hour

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
	what      string
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
		p.prune(ctx, now().Add(-p.retention))
		wait = p.interval
	}
}

// prune deletes the rows before before and logs the result: Info when
// rows were deleted, Warn when the store failed (unless ctx ended it).
func (p *callPruner) prune(ctx context.Context, before time.Time) {
	start := time.Now()
	what := p.what
	if what == "" {
		what = "call log"
	}
	n, err := p.store.PruneCalls(ctx, before)
	if n > 0 {
		p.log.Info(what+" pruned", "rows", n, "before", before.UTC().Format(time.RFC3339), "took", time.Since(start).Round(time.Millisecond))
		if p.pruned != nil {
			p.pruned(n)
		}
	}
	if err != nil && ctx.Err() == nil {
		p.log.Warn(what+" prune failed; trying again later", "err", err, "next_in", p.interval)
	}
}
