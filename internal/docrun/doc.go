// Package docrun holds the test that runs every shell example of README.md
// and docs/*.md as written: each ```sh, ```bash and ```console block, in
// the order of its file, against a live "vipgate serve" built from this
// tree, with SQLite in a temporary state directory and a temporary HOME.
// A block that cannot run on a test machine (systemd, a real Asterisk, the
// test suite itself) carries an HTML comment <!-- not run: reason --> on
// the line before its fence; the test lists those blocks. docs/testing.md
// describes the conventions.
//
// Package docrun has no Go code besides its test and imports nothing of
// vipgate; it runs the binary.
package docrun
