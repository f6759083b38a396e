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
// # The life of a call
//
// Arrival. Asterisk hands a call over in one of two ways: the dialplan runs
// Stasis(vipgate,...) and the ari adapter receives a StasisStart event, or
// it runs AGI(agi://host[/gate],...) and the agi adapter accepts a FastAGI
// session and reads its header. Either way the adapter builds a Dialplan
// (the application's arguments, the FastAGI script path, the extension and a
// lazy reader of the DNID) and a Call, counts the call in its CallGroup (so
// that a stop drains it, DefaultDrainTimeout) and runs the Handler, which is
// Flow.Run in vipgate serve. A call the handler leaves without routing it
// goes back to the dialplan through RouteUndecided with VIPGATE_RESULT set to
// ResultFallback, whatever the transport.
//
// Dialplan arguments. Dialplan.Parse is the one rule for both transports:
// "gate=NAME" and "called=NUMBER" win wherever they stand; other key=value
// arguments are ignored and their keys logged; a dialable argument (1 to 32
// digits, '*' or '#', optional '+') is the called number, anything else a
// gate name; the FastAGI path names the gate when no gate= does; without a
// called number in the arguments the extension is, and when the extension is
// "s", the DNID. The result is the CallInfo: caller ID, called number, gate
// name, channel ID, language and source (ari or agi). Flow.Run makes one
// child logger per call from it (CallLogger, with the fixed keys LogCall,
// LogGate).
//
// Gate lookup. Engine.Decide reads the gate list from the Store (the stores
// keep it cached; when the store fails, the last list read is used and the
// trace says so; with none, the engine's NoGate failure policy applies). A
// gate named by the dialplan (its ID or one of Match.Names) is taken first;
// a named gate that is disabled lets the call pass unscreened rather than
// have another gate screen it. Otherwise the enabled gate whose match
// numbers or prefixes match the called number longest wins, each gate
// reading the number with its own Numbering (prepared once per gate, not per
// call). No gate: the call passes.
//
// Activation. A manual Override in effect decides first (forced active or
// inactive, optionally until a time). Otherwise Activation.Mode: always,
// never, or schedule, where Schedule.ActiveAt evaluates weekly windows
// and closures (holidays and closure dates, whole or part days) in the
// gate's zone; the gate is active inside or outside the windows, as
// Schedule.Active says. An inactive gate
// passes the call without answering it.
//
// Identification. The caller and called numbers are read with the gate's
// Numbering (E.164 for numbers valid in the gate's region, numbers kept as
// dialled by its internal-number rule). Before any PIN is asked, the
// lockout is checked: a caller locked out, or the gate locked out with the
// refuse action, is rejected (PromptLockedOut); a gate-wide lockout with
// the slow action marks the call slowed. When the store cannot tell, this
// instance's own guess counters decide. Then Identification.Mode:
//
//   - static: ask for the gate's one PIN (a keyed hash, StaticPIN).
//   - table: look the caller up in the gate's caller table
//     (Store.LookupEntry: exact number or longest prefix, valid at the
//     time of the call) and ask for that entry's PIN. A caller without an
//     entry, or without a readable number, follows UnknownCaller: reject
//     (the default), pass, or ask for the static PIN.
//   - webhook: ask the gate's webhook through the Authorizer (package
//     webhook; the contract is in docs/webhook.md). Its verdicts:
//     askForPin with the expected PIN (which also sets the PIN's length,
//     and may set retries and the routes on a right or wrong PIN), reject,
//     reject:false (pass) and forward to a target. Answers may be cached
//     per caller and called number (CacheTTL), and a circuit breaker
//     stops asking a webhook that keeps failing.
//   - database: run the gate's read-only query (DatabaseConfig, checked
//     by ParseDatabaseQuery) through EngineConfig.Database (package
//     dbident; the contract is in docs/database.md). Its first row gives
//     the webhook's verdicts, the PIN in clear or as a hash
//     (AnsweredPIN); no row is AnswerUnknown and follows UnknownCaller.
//
// Failure policy. Whatever goes wrong while deciding (the store, the
// schedule, the gate's configuration, the webhook's transport, time-out or
// answer) becomes a decision through the gate's Failure policy, with the
// error and its class in the Decision and the call log: reject (fail
// closed, the default; PromptUnavailable), pass (fail open), forward to a
// target, static (ask for the static PIN) or table (look the caller up in
// the table; refused when the table itself failed). If the policy fails
// too, the call is rejected. Decide always returns a decision, and its
// store steps share one budget (StoreTimeout) so that a slow store cannot
// hold a caller.
//
// The PIN dialogue. For an askForPin decision the Flow first takes a place
// among the PIN dialogues the lockout allows at once (per caller and per
// gate on this instance; over the cap the call is rejected), answers the
// channel, plays the welcome prompt, and for each of up to max_retries
// attempts (1 to 10) plays the ask (then wrong-PIN) prompt and collects
// digits until '#' or a timeout (first digit and between digits,
// DefaultFirstDigitTimeout and DefaultInterDigitTimeout unless the gate
// sets them). Input that is not empty counts as a guess and is reserved in
// the store under the caller's and the gate-wide key before it is judged
// (admit), so parallel calls and instances share one budget; a guess over
// the budget is refused (locked out); in a slowed gate each guess waits
// the slow delay. The digits are always compared in full against the
// expected PIN (a hash check, or the webhook's PIN in constant time); a
// wrong length is wrong. A right PIN gives back what the guess took and
// routes to OnCorrect (by default continue in the dialplan, after the
// connecting prompt if the gate plays one); a wrong PIN that spends a
// budget stores a lockout (a gate-wide one is logged as a warning). When
// the attempts are used up, the call goes to OnIncorrect (by default a
// hang-up with the reject cause, after the rejected prompt if the gate
// announces rejects). The digits a caller typed are never logged or
// stored; the debug log has one record per judged guess without them.
//
// Routing. Before vipgate lets go of a call it sets VIPGATE_RESULT (the
// Outcome), VIPGATE_GATE and VIPGATE_TARGET, plays an announcement if the
// decision has one, and then either hangs up with a cause or continues the
// call: back to the dialplan right after Stasis()/AGI(), or to an
// extension or location (Target). A failure of the transport is recorded
// and the adapter routes the call by its fallback, so no call stays
// parked.
//
// Call log. Flow.Run ends with one CallRecord per call, written through
// Store.LogCall within a bounded time after the call has gone on: time,
// source, channel, caller as received and as read, called number, gate,
// whether it was active, mode, verdict, outcome (passed, forwarded,
// rejected, pin_ok, pin_failed, locked_out, abandoned when the caller hung
// up, failed), target, attempts, error class and the decision's and the
// webhook's latency; never a PIN or typed digits. The Observer (metrics)
// is told, and one "call" line is logged.
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
// or any adapter package; adapters depend on gate, never the reverse. The
// caller-table file format lives beside it in package pinsfile.
package gate
