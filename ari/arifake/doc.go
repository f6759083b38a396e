// Package arifake is an in-process fake of Asterisk's ARI for tests: an
// httptest server with the REST resources vipgate uses and the events
// websocket, behaving like Asterisk 22 where vipgate depends on it:
//
//   - commands on a channel run one at a time on a channel "thread"; a
//     playback occupies it, so a continue sent during a playback takes effect
//     only after the playback ends; answer and set-variable answer only when
//     they have run;
//   - DTMF does not stop a playback; it only produces ChannelDtmfReceived;
//   - setting a channel variable produces ChannelVarset, as for a channel
//     Asterisk has subscribed the application to; POST
//     /channels/{id}/variables sets several (Asterisk 22.10 and later;
//     Config.NoSetVariables makes it an older one without it);
//   - DELETE /playbacks/{id} stops a playback (PlaybackFinished "done");
//     a hang-up during a playback finishes it "failed";
//   - a missing sound file gives PlaybackFinished "failed"; media with an
//     unsupported scheme gives PlaybackStarted and no PlaybackFinished, and
//     the playback is forgotten (GET /playbacks/{id} answers 404);
//   - "tone:" media plays until stopped;
//   - a dropped websocket deactivates the application: channels stay parked
//     in Stasis, their events are lost, new calls are refused (the dialplan
//     would see STASISSTATUS=FAILED); GET /applications/{app} lists the
//     parked channels; a second connection for the same application gets the
//     events and the first receives ApplicationReplaced;
//   - device states: PUT /deviceStates/{name} for "Stasis:" devices only
//     (409 "Uncontrolled device specified" for others, such as "Custom:"),
//     DEVICE_STATE(Custom:...) written as a global variable (POST
//     /asterisk/variable), GET /deviceStates/{name} for any device;
//   - errors are 404 "Channel not found", 409 "Channel not in Stasis
//     application", 412 "Channel in invalid state" with {"message":...}
//     bodies; timestamps are written as 2006-01-02T15:04:05.000-0700.
//
// Tests drive the caller's side with Call, SendDTMF and CallerHangup and
// read where each channel ended with WaitResult. arifake imports only the
// standard library and the websocket library; it must not import vipgate's
// packages, so that it checks the ari package rather than echoing it.
package arifake
