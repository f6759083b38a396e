// Package gatetest holds hand-written fakes for testing vipgate: a scripted
// Call that plays the caller's part, and an in-memory Store.
//
// It imports only gate and the standard library; production code must not
// import it.
package gatetest
