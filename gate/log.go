package gate

import (
	"context"
	"log/slog"
)

// Log keys shared by the Flow and the adapters, so that one call can be
// followed through every log line whatever the transport.
const (
	// LogCall is the call's id: the ARI channel id or the AGI uniqueid
	// (the call log's channel_id).
	LogCall = "call"
	// LogSource is the transport: "ari" or "agi".
	LogSource = "source"
	// LogGate is the id of the gate that screens the call, once known.
	LogGate = "gate"
	// LogKeys lists the keys of ignored dialplan arguments.
	LogKeys = "keys"
)

// CallLogger returns the child of base that logs every line about one
// call: with the call's id (LogCall) and transport (LogSource). The
// adapters log through it and so does the Flow, which adds LogGate.
func CallLogger(base *slog.Logger, info CallInfo) *slog.Logger {
	return with(base, LogCall, info.ID, LogSource, info.Source)
}

// with is base.With(args...), except for a logger that logs nothing (it
// is not enabled even at Error), which is returned as it is: a call costs
// no allocations for a log nobody writes.
func with(base *slog.Logger, args ...any) *slog.Logger {
	if !base.Enabled(context.Background(), slog.LevelError) {
		return base
	}
	return base.With(args...)
}
