package gate

import (
	"context"
	"time"
)

// ConsoleSession is a web console login as a store keeps it. Key is the
// SHA-256 of the session id in hex: the id itself (the cookie's value) is
// never stored.
type ConsoleSession struct {
	Key     string
	TokenID string
	// CreatedAt bounds the absolute lifetime, SeenAt the idle one. A
	// one-time login link is kept as a session whose key starts with
	// LoginLinkPrefix and whose SeenAt is when the link expires.
	CreatedAt time.Time
	SeenAt    time.Time
}

// LoginLinkPrefix starts the key of a one-time login link.
const LoginLinkPrefix = "link:"

// ConsoleSessions keeps web console sessions, so that they survive a
// restart and are shared by every instance on one store. The SQLite and
// PostgreSQL stores and gatetest's fake implement it.
type ConsoleSessions interface {
	// CreateConsoleSession stores a new session.
	CreateConsoleSession(ctx context.Context, s *ConsoleSession) error
	// GetConsoleSession returns the session of key, or ErrNotFound.
	GetConsoleSession(ctx context.Context, key string) (*ConsoleSession, error)
	// TouchConsoleSession sets the session's SeenAt; ErrNotFound when it
	// is gone.
	TouchConsoleSession(ctx context.Context, key string, seen time.Time) error
	// ClaimConsoleSession removes the session of key and returns it, in
	// one step, so that of two claims only one gets it (one-time login
	// links); ErrNotFound when it is gone.
	ClaimConsoleSession(ctx context.Context, key string) (*ConsoleSession, error)
	// DeleteConsoleSession removes a session (logout); none is no error.
	DeleteConsoleSession(ctx context.Context, key string) error
	// PruneConsoleSessions removes the sessions last seen before
	// seenBefore or created before createdBefore, and returns how many.
	PruneConsoleSessions(ctx context.Context, seenBefore, createdBefore time.Time) (int, error)
}
