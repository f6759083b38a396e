package gatetest_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/vipgate/vipgate/gate/gatetest"
)

// TestLogsConcurrentWriters writes from many goroutines while reading
// (run with -race) and finds every line afterwards.
func TestLogsConcurrentWriters(t *testing.T) {
	var l gatetest.Logs
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				fmt.Fprintf(&l, "w%d-%d\n", i, j)
				_ = l.String()
			}
		}()
	}
	wg.Wait()
	if n := strings.Count(l.String(), "\n"); n != 400 {
		t.Errorf("%d lines, want 400", n)
	}
	b := l.Bytes()
	b[0] = 'X'
	if l.String()[0] == 'X' {
		t.Error("Bytes returned the buffer itself, not a copy")
	}
}
