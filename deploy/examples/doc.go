// Package examples holds example gates for vipgate to import
// (after-hours.yaml, premium-support.yaml with premium-support-pins.csv,
// webhook-gate.yaml), the files the admin API examples upload
// (callers.csv, and ask-pin.wav and welcome.wav: 8 kHz mono 16-bit PCM)
// and, in webhook/, an example webhook service. The Go
// code here is only the tests that keep the examples valid: every YAML
// file must decode into a gate.Gate that validates once its write-only
// static_pin has been hashed, as "vipgate gates import" does.
//
// Package examples imports gate only; it is never imported.
package examples
