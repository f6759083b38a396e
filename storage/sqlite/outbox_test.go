package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/storage/sqlite"
	"github.com/vipgate/vipgate/storage/storagetest"
)

// TestOutboxConformance runs the outbox suite; the second handle is a
// second Store on the same file, as a second process would open it.
func TestOutboxConformance(t *testing.T) {
	storagetest.RunOutbox(t, func(t *testing.T) (gate.Outbox, gate.Outbox) {
		path := filepath.Join(t.TempDir(), "vipgate.db")
		open := func() *sqlite.Store {
			s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
		return open(), open()
	})
}
