//go:build !unix

package webhook

// stale reports whether bytes that no request asked for wait in the
// connection's buffer. Without a way to peek at the socket here, a
// connection the server closed while idle is noticed by the request that
// takes it, which is then sent again on a new connection.
func (pc *pconn) stale() bool { return pc.br.Buffered() > 0 }

// peekSupported tells tests that stale cannot peek at the socket.
const peekSupported = false
