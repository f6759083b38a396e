// Package ari connects vipgate to Asterisk through the Asterisk REST
// Interface: a small typed REST client (Client), typed websocket events
// (DecodeEvent) and the Stasis application (App) that turns every channel
// entering Stasis(vipgate,...) into a gate.Call and runs the configured
// Handler (gate.Flow) on it in a goroutine of its own.
//
// # Calls
//
// The App keeps one events websocket per Asterisk server
// (/ari/events?app=NAME, HTTP Basic auth, subprotocol "ari"). The reader
// goroutine only decodes events and hands them to the call they are about;
// it never waits for a REST request. Each call runs in its own goroutine
// with a context that is cancelled, with gate.ErrHangup as its cause, on
// StasisEnd or ChannelHangupRequest.
//
// The called number and the gate name come from the Stasis arguments and
// the extension where Stasis() ran, by gate.Dialplan's rule, the same as
// FastAGI's (see callInfo). For extension "s" without a number argument the
// dialed number is read once with GET variable CALLERID(dnid). The caller
// is the channel's caller ID number and the language the channel's
// language.
//
// Prompts are played under playback ids vipgate chooses, registered before
// the play request so that no PlaybackFinished is missed. Asterisk does not
// stop an ARI playback on DTMF, so Collect stops it itself on the first
// digit (barge-in). A playback whose end is never reported (unsupported
// media, an event lost during a reconnect) is noticed by polling GET
// /playbacks/{id} and, at the latest, by AppConfig.MaxPlayback. Digits count
// only inside Collect: keys pressed between two Collects are dropped.
// Running playbacks are stopped before continue and hang-up, because
// Asterisk queues those behind a playback. Answer is sent only when the
// Handler asks for it.
//
// # Reconnects and recovery
//
// A dropped websocket is re-dialled with exponential backoff (MinBackoff to
// MaxBackoff). While it is down Asterisk keeps the channels parked in Stasis
// and drops their events; REST requests still work, so running calls go on
// and their events resume after the reconnect. After every connect the App
// lists the application's channels (GET /applications/{app}); each channel
// no call goroutine owns (for instance parked by a vipgate that was
// restarted) gets a fresh call that runs the Handler from the start: the
// PIN dialogue restarts. Its Stasis arguments are read back from the
// channel's dialplan app_data. A channel whose details cannot be read, and
// any call the Handler returns from without routing, is routed by
// AppConfig.Fallback and then continued, so no channel is left parked in
// silence. ApplicationReplaced (another connection took the application
// name) closes the connection and backs off for MaxBackoff.
//
// When Run's context ends, the App drains: new calls are routed by the
// fallback at once, the calls in progress may finish for up to
// AppConfig.DrainTimeout (gate.DefaultDrainTimeout unless set; the wait is
// a gate.CallGroup, as in the FastAGI server). Then the calls still running
// get their contexts cancelled and are routed by the fallback (by default:
// continued in the dialplan with VIPGATE_RESULT=fallback); the websocket is closed with a close handshake and
// Run returns once every call goroutine has finished. Continue and Hangup
// finish their request even when the call's context ends meanwhile (the
// StasisEnd that a continue causes can overtake Asterisk's answer); each
// request is bounded by the request timeout.
//
// # Errors and secrets
//
// REST failures are *Error values that unwrap to gate's sentinels: 404 on a
// channel is gate.ErrHangup, 409 ErrNotInStasis and 412 ErrInvalidState
// (both gate.ErrConflict), 5xx gate.ErrUnavailable. Passwords are Secret
// values, sent only in the Authorization header and never logged; DTMF
// digits are never logged either.
//
// Package ari imports gate and the websocket library; it must not import
// other vipgate adapters (agi, storage, webhook, admin).
package ari
