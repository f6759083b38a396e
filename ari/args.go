package ari

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/vipgate/vipgate/gate"
)

// dnidVar is the channel function that holds the dialed number.
const dnidVar = "CALLERID(dnid)"

// callInfo builds what vipgate knows about a call from its channel and the
// Stasis arguments, by gate.Dialplan's rule (the same as FastAGI's): the
// arguments after the application name, the channel's dialplan extension
// (where Stasis() ran) and, for extension "s", the dialed number that dnid
// returns. So Stasis(vipgate), Stasis(vipgate,${EXTEN}),
// Stasis(vipgate,hotline) and Stasis(vipgate,gate=hotline,called=${EXTEN})
// all work. The caller is the channel's caller ID number, the language the
// channel's language. Ignored arguments are logged on log.
func callInfo(ch *Channel, args []string, dnid func() string, log *slog.Logger) gate.CallInfo {
	info := gate.CallInfo{
		ID:         ch.ID,
		Source:     "ari",
		Caller:     ch.Caller.Number,
		CallerName: ch.Caller.Name,
		Language:   ch.Language,
	}
	return gate.Dialplan{Args: args, Exten: ch.Dialplan.Exten, DNID: dnid}.CallInfo(info, log)
}

// dnid returns a function that reads CALLERID(dnid) of the channel, for
// callInfo: one GET, made only when the dialplan gave no number. An unset
// DNID is ""; a failure to read it is logged and is "" too.
func (c *call) dnid(ctx context.Context) func() string {
	return func() string {
		v, err := c.cl.GetVar(ctx, c.id, dnidVar)
		if err != nil && !errors.Is(err, gate.ErrNotFound) {
			c.log.Debug("ari: read dialed number failed", "err", err)
		}
		return strings.TrimSpace(v)
	}
}

// stasisArgs recovers the Stasis arguments of a channel that is parked in
// Stasis from its dialplan app_data ("vipgate,hotline,1000"): everything
// after the application name. A recovered call has no StasisStart, so this
// is the only place its arguments are still known.
func stasisArgs(ch *Channel) []string {
	if !strings.EqualFold(ch.Dialplan.AppName, "Stasis") || ch.Dialplan.AppData == "" {
		return nil
	}
	parts := strings.Split(ch.Dialplan.AppData, ",")
	return parts[1:]
}
