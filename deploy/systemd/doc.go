// Package systemd holds vipgate's systemd unit (vipgate.service) and an
// example environment file (vipgate.env.example). Its Go code is only a
// test that parses the unit and checks its sandboxing and secret handling,
// and runs systemd-analyze verify when the tool is installed.
//
// Package systemd imports the standard library only; it is never imported.
package systemd
