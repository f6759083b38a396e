// Package e2e runs a real Asterisk for end-to-end tests of vipgate's
// transports. Start writes a complete, throw-away Asterisk configuration
// (every writable directory in a temporary directory; modules and the
// documentation XML from the installation, without which Stasis() refuses to
// start), starts `asterisk -f`, waits for ARI and stops Asterisk when the
// test ends. Calls are Local channels originated over ARI; their ;2 half
// runs the [test-caller] context, which answers, waits and sends the DTMF
// under test; the screened ;1 half enters Stasis already answered.
// OriginateARI instead leaves the screened channel ringing, as a real
// inbound call arrives (the tests of the shipped ARI dialplan use it, so
// that "never answered" can be checked). The dialplan writes one line per
// event into a results file that WaitResult reads.
//
// The tests that use it are skipped unless VIPGATE_TEST_ASTERISK names the
// asterisk binary (e.g. /opt/asterisk/sbin/asterisk). The module and data
// directories are derived from it (<prefix>/lib/asterisk/modules and
// <prefix>/var/lib/asterisk) unless VIPGATE_TEST_ASTERISK_MODDIR and
// VIPGATE_TEST_ASTERISK_DATADIR say otherwise. English core prompts are
// linked from VIPGATE_TEST_ASTERISK_SOUNDS (default
// /usr/share/asterisk/sounds).
//
// Package e2e is test support: only tests import it. Like cmd/vipgate it
// wires real pieces together (ari, agi, gate, storage/sqlite) to start
// vipgate beside Asterisk; no production package imports it.
package e2e
