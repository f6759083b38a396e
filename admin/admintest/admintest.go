// Package admintest is the test support that the admin API's tests and
// the web console's share: a store on a fresh SQLite file, the tests'
// PIN hasher and admin tokens written into a store.
//
// It is for tests only; production code must not import it.
package admintest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/vipgate/vipgate/admin"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/storage/sqlite"
)

// HasherKey is the PIN hasher key of the tests.
const HasherKey = "0123456789abcdef0123456789abcdef"

// Store returns the SQLite store on a fresh file in the test's temporary
// directory; it is closed when the test ends, and a failed close fails it.
func Store(tb testing.TB) gate.Store {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "vipgate.db"), sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := st.Close(); err != nil {
			tb.Error(err)
		}
	})
	return st
}

// Hasher returns a PIN hasher under HasherKey.
func Hasher(tb testing.TB) *gate.Hasher {
	tb.Helper()
	h, err := gate.NewHasher([]byte(HasherKey))
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// Token creates a token of role named name, created at at, in st and
// returns its clear text (what a client sends) and the stored token.
func Token(tb testing.TB, st gate.Store, role gate.Role, name string, at time.Time) (string, *gate.Token) {
	tb.Helper()
	clear, tok, err := admin.NewToken(role, name)
	if err != nil {
		tb.Fatal(err)
	}
	tok.CreatedAt = at
	if err := st.CreateToken(context.Background(), tok); err != nil {
		tb.Fatal(err)
	}
	return clear, tok
}

// Roles are the token roles, from the least allowed.
var Roles = []gate.Role{gate.RoleViewer, gate.RoleOperator, gate.RoleAdmin}
