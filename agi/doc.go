// Package agi is vipgate's FastAGI server: it accepts the connections that
// Asterisk's AGI() application opens (agi://host:4573/<gate>), reads the
// agi_* header, turns it into a gate.CallInfo, and drives the live channel
// as a gate.Call for the handler (the cmd wires the handler to gate.Flow).
// Header.CallInfo documents how the gate name, the called and the calling
// number are taken from the header and the AGI() arguments.
//
// # Protocol
//
// Asterisk writes the header, one "agi_name: value" line each, ended by an
// empty line; then vipgate sends one command per line and reads one reply.
// The session never pipelines: a mutex guards a strict write-then-read round
// trip, because a second command on the socket aborts a running STREAM FILE
// without any reply. Replies are "200 result=<n>[ (data)][ endpos=<n>]",
// "510" (unknown command), "511" (command not permitted on a dead channel)
// and "520" (usage; the multi-line form is read up to its "520 " line).
//
// # Hangups
//
// Asterisk writes the line "HANGUP" when the channel hangs up, and it can
// show up where a reply was expected. The session notes it, keeps reading
// for the real reply, cancels the call's context with gate.ErrHangup as the
// cause, and from then on every operation returns an error wrapping
// gate.ErrHangup without sending anything. End of file, a 511 reply and a
// broken connection mean the same. The session reads only while it waits
// for a reply, so a hangup that happens between two commands (for example
// during a webhook call of the Flow) is noticed at the next command.
//
// # Prompts and digits
//
// Collect reads a whole input with one GET DATA <prompt> <timeout>
// <maxdigits>: Asterisk plays the prompt, any DTMF key interrupts it
// (barge-in: that key counts), and Asterisk itself reads the keys
// (ast_readstring_full) up to '#' (not returned), maxdigits keys or the
// timeout. Asterisk's AGI loop reads and drops every frame that arrives
// while no command runs (run_agi in res/res_agi.c), so a key that reached
// Asterisk between two commands was lost when Collect sent one WAIT FOR
// DIGIT per key (5 of 100 right PINs typed during 200 calls at once on a
// busy 2-core machine); within one GET DATA no key can fall between two
// commands. The reply is "200 result=<keys>" ('#' or maxdigits ended the
// input, told apart by the number of keys; '#' alone gives no keys),
// "200 result=<keys> (timeout)", or "200 result=-1" (hangup or missing
// prompt). The keys are kept as text (a leading 0 stays), and the
// number of keys asked for is capped at 64 (Asterisk's buffer holds
// 1023).
//
// One difference from ARI, which no single AGI command avoids: GET DATA
// has one timeout, used both after the prompt and after each key (a
// timeout of 0 would mean Asterisk's fixed 6 s and 2 s). Collect gives it
// the longer of CollectOptions.FirstDigit and InterDigit, so no caller is
// cut off sooner than over ARI; but a caller who stops typing without
// '#' waits that longer timeout (by default the 10 s first-digit timeout
// instead of the 5 s inter-digit one) before the input ends. A PIN ended
// with '#' is not affected. Two other sequences were rejected: a GET DATA
// for the first key and another for the rest opens the gap again between
// them, and the Read application (whose TIMEOUT(response) and
// TIMEOUT(digit) would give both timeouts) writes the typed digits to
// Asterisk's verbose log ("User entered ...") and to a channel variable.
//
// GET DATA knows only '#' as terminator. For another one Collect falls
// back to STREAM FILE with the escape digits "0123456789*#" (and the
// terminator keys) and one WAIT FOR DIGIT per further key, with the
// first-digit timeout for the first key after the prompt and the
// inter-digit timeout after that; a key that reaches Asterisk between two
// of these commands is lost. gate.Flow always asks for '#'. Digits arrive
// there as ASCII codes. Play uses STREAM FILE with no escape digits.
//
// GET DATA and STREAM FILE answer -1 both for a missing sound file and
// for a hangup during the prompt. The session tells them apart with a
// probe: after a -1 it sends CHANNEL STATUS, a command Asterisk refuses
// on a dead channel. A hangup shows as a HANGUP line and/or a 511 reply
// and becomes gate.ErrHangup; a normal reply means the channel is up, so
// the prompt is missing: the session logs a Warn line with the prompt
// name and goes on (Collect reads the keys with a GET DATA without a
// prompt). Note that after a missing Play prompt Asterisk ends the AGI
// with AGISTATUS=FAILURE even when vipgate lets the call go on (a failed
// STREAM FILE counts, a failed GET DATA does not), so the dialplan must
// branch on VIPGATE_RESULT, not on AGISTATUS alone.
//
// # Letting go
//
// Continue with gate.Continue closes the connection, and the dialplan goes
// on after AGI(). An extension or location target is sent as SET CONTEXT,
// SET EXTENSION and SET PRIORITY before the close (SET PRIORITY is needed:
// without it Asterisk resumes at the current priority + 1). Hangup runs
// EXEC Hangup "<Q.850 cause>", which hangs the channel up with that cause.
// gate.Flow sets VIPGATE_RESULT (the outcome), VIPGATE_GATE and
// VIPGATE_TARGET before it lets go. A call without a decision gets
// VIPGATE_RESULT=fallback (gate.ResultFallback), as over ARI: one a
// handler lets go of without setting VIPGATE_RESULT, and one the handler
// returns from (or panics in) without letting go of it, which the session
// sends back to the dialplan with gate.RouteUndecided while the channel and
// the connection are up. So the dialplan can tell "vipgate decided" (an
// outcome), "vipgate did not decide" (fallback) and "vipgate was not
// reached" (empty).
// The variables are set before the decision is carried out, so a call
// whose connection ends in between (vipgate stopped during the "rejected"
// announcement) also goes on after AGI() with a result set; a fail-closed
// dialplan therefore lets a call through only with VIPGATE_TARGET
// "continue". See deploy/asterisk/extensions-agi.conf.
//
// # Secrets
//
// Typed digits are never logged. Protocol traffic is logged at Debug with
// the results of GET DATA, of STREAM FILE with escape digits and of WAIT
// FOR DIGIT redacted; digits are reported as digits_len only.
//
// # Limits
//
// The server bounds the number of sessions (over the limit a connection is
// closed as soon as its header has arrived, so Asterisk goes on with the
// dialplan right away instead of waiting in the listen backlog) and, if
// configured, the sessions per remote IP. Connections that have not sent
// their whole header do not count as sessions: they are bounded apart (in
// all and per IP), and a new one over the bound closes the oldest, so idle
// connections cannot hold the places of calls. It also bounds the time to
// read the header, the time to wait for each reply, the length of a line and the
// number of header lines. Junk (a line that is not an agi_* header line,
// binary garbage, an over-long line, an unparsable reply) closes the
// connection. Each session costs one goroutine (the handler's; replies are
// read synchronously) and a 512-byte read buffer.
//
// When the context given to Serve is done, the server stops accepting,
// lets running calls finish for up to DrainTimeout (gate.DefaultDrainTimeout
// unless set; the wait is a gate.CallGroup, as in the ARI adapter), then
// cancels their contexts.
//
// Package agi imports only the standard library and gate (its tests also
// gate/gatetest). It must not import the ari package, a store or an HTTP
// router.
package agi
