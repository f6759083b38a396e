package gate

import (
	"context"
	"errors"
	"fmt"
)

// ResultFallback is the value of VarResult on a call that vipgate let go
// of without a decision: the Handler returned (or panicked) without
// routing it or routed it without setting VarResult, vipgate was stopping,
// or a recovered call could not be read. Every adapter sets it, so that a
// fail-closed dialplan can refuse such a call whatever the transport.
const ResultFallback = "fallback"

// RouteUndecided sends a call that has no decision back to the dialplan:
// it sets VarResult to ResultFallback and continues (right after Stasis()
// or AGI()). A failure to set the variable is ignored unless the channel is
// gone; the error is Continue's.
func RouteUndecided(ctx context.Context, c Call) error {
	if err := c.SetVars(ctx, Var{VarResult, ResultFallback}); errors.Is(err, ErrHangup) {
		return fmt.Errorf("set %s: %w", VarResult, err)
	}
	return c.Continue(ctx, Continue)
}
