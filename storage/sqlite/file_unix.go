//go:build unix

package sqlite

import "syscall"

// writable reports whether this process may write path (access(2) with
// W_OK; the database file must not be opened a second time to find out,
// because closing that descriptor would drop SQLite's POSIX locks).
func writable(path string) error {
	const wOK = 2
	return syscall.Access(path, wOK)
}
