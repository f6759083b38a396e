// Package devstate shows each gate's override as the state of an Asterisk
// device, so that a BLF key on a phone (a hint such as
// exten => *55,hint,Custom:vipgate-hotline) lights while the gate is
// forced: INUSE forced on, ONHOLD forced off, NOT_INUSE on schedule (the
// mapping is gate.OverrideState.DeviceState; the device is gate.Gate.Device).
//
// A Syncer reads the gates every interval (1 s by default) and sets the
// device of each gate whose state differs from what it last set, so that
// a change from any path is shown: the admin API, the web console, the
// command line (another process), a phone override, another instance on
// the same database, and an override that expires. All devices are set
// at start-up, after Resync (cmd/vipgate calls it when an ARI connection
// comes up), every refresh period, and after a failed set. The device of
// a gate that is deleted is set to NOT_INUSE once.
//
// The devices are set through ARI (ari.App.SetDeviceState). A FastAGI
// connection can set a device only from within a call, so without ARI
// only a phone override call itself updates its gate's device (gate.Flow
// sets DEVICE_STATE() on the channel).
//
// Package devstate imports only gate and the standard library.
package devstate
