//go:build unix

package webhook

import (
	"errors"
	"syscall"
)

// stale reports whether the server wrote to or closed the connection while
// it was idle: bytes no request asked for (a 408 before an idle close, a
// stray body after a 204) would be read as the next request's answer, and
// a closed connection would fail it. It peeks at the socket without
// blocking and without consuming anything: the descriptor is non-blocking,
// so "nothing there" is EAGAIN. Under TLS any byte counts (a close_notify
// alert, a record nobody asked for).
func (pc *pconn) stale() bool {
	if pc.br.Buffered() > 0 {
		return true
	}
	sc, ok := pc.raw.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var buf [1]byte
	stale := false
	err = rc.Read(func(fd uintptr) bool {
		_, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK)
		// n > 0: stray bytes; n == 0 without an error: the server closed;
		// any error but "nothing to read": the connection is broken.
		stale = !errors.Is(rerr, syscall.EAGAIN) && !errors.Is(rerr, syscall.EWOULDBLOCK) && !errors.Is(rerr, syscall.EINTR)
		return true
	})
	return stale || err != nil
}

// peekSupported tells tests that stale peeks at the socket.
const peekSupported = true
