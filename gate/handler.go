package gate

import "context"

// Handler runs one call that a transport (ARI, FastAGI) hands over. It must
// route the call (Continue or Hangup) before it returns; a call it returns
// from without routing is sent back by RouteUndecided. Flow.Handler is the
// one vipgate serve uses.
type Handler func(ctx context.Context, c Call)

// StateFunc is told when a transport's connection comes up or goes down:
// name is the ARI server's name or the FastAGI listener's address. It must
// not block.
type StateFunc func(name string, up bool)

// Handler returns f.Run as a Handler.
func (f *Flow) Handler() Handler {
	return func(ctx context.Context, c Call) { f.Run(ctx, c) }
}
