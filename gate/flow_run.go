package gate

import "context"

func (f *Flow) run(ctx context.Context, c Call) *CallRecord {
	info := c.Info()
	now := f.cfg.Now()
	d := f.engine.Decide(ctx, info, now)
	_ = c.Continue(ctx, d.Target)
	return &CallRecord{At: now, Source: info.Source, CallerRaw: info.Caller, Called: info.Called, Outcome: OutcomePassed, Target: d.Target.String()}
}
