// Package nettest is test support: servers on loopback for tests of
// clients that speak to the network themselves (SMTP, raw HTTP).
package nettest

import (
	"net"
	"sync"
	"testing"
)

// Serve listens on a loopback TCP port and serves each connection it
// accepts with serve, in a goroutine of its own, closing the connection
// when serve returns. When the test ends it stops listening and waits for
// the connections in service. It returns the address it listens on.
func Serve(t testing.TB, serve func(c net.Conn)) net.Addr {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				serve(c)
			})
		}
	})
	return l.Addr()
}
