// Package arch holds no code: its test checks that vipgate's packages keep
// the layout the README describes. Dependencies point inward: the domain
// (gate) imports no transport, driver or router; the adapters (ari, agi,
// webhook, admin, storage/sqlite, storage/postgres) never import each other;
// the caller-table file format (pinsfile) imports the domain and nothing
// that talks to the outside; the live-event hub (events) imports only the
// domain and the standard library;
// the admin API reaches a database only through gate.Store; only the binary
// (cmd/vipgate) and test support wire everything together.
//
// Package arch must not be imported by anything.
package arch
