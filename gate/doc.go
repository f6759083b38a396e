// Package gate is the domain of vipgate: gates, activation schedules, caller
// identification, decisions and the call flow that carries a decision out on a
// live channel.
//
// A Gate guards one or more called numbers (or a name the dialplan passes).
// The Engine decides what happens to a call: pass, reject, forward, or ask for
// a PIN. The Flow runs that decision on a Call, the transport-neutral view of one
// live channel that the ari and agi adapters implement, and records one call-log
// row through the Store.
//
// What the ari and agi adapters share is written here once: the rule that
// reads the dialplan arguments (Dialplan), the digit-timeout defaults
// (CollectOptions.WithDefaults), the channel variables and the mark of a
// call without a decision (VarResult, ResultFallback, RouteUndecided), the
// drain (CallGroup, DefaultDrainTimeout), the Handler and StateFunc types,
// and the log keys with the per-call logger (LogCall, CallLogger).
//
// Package gate imports only the standard library and small pure libraries
// (phone-number parsing). It must not import a database driver, an HTTP router,
// or any adapter package; adapters depend on gate, never the reverse.
package gate
