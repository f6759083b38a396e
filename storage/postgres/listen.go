package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Listener timing.
const (
	// listenPing is how long the listener waits for a notification before
	// it checks that its connection still works.
	listenPing = 5 * time.Second
	// listenBackoffMin and listenBackoffMax bound the wait between
	// reconnection attempts.
	listenBackoffMin = 100 * time.Millisecond
	listenBackoffMax = 2 * time.Second
)

// listen keeps a dedicated connection subscribed to Channel until ctx is
// done. After every (re)subscription it reloads all gates, so changes
// missed while it was away are picked up; while it is away the cache is
// not trusted (see ListGates).
func (s *Store) listen(ctx context.Context) {
	backoff := listenBackoffMin
	down := false
	for {
		err := s.listenOnce(ctx, func() {
			backoff = listenBackoffMin
			if down {
				down = false
				s.log.Info("postgres: change listener subscribed again; gates reloaded")
			}
		})
		s.gates.setLive(false)
		if ctx.Err() != nil {
			return
		}
		if !down {
			down = true
			s.log.Warn("postgres: change listener lost; reconnecting", "err", err)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(backoff*2, listenBackoffMax)
	}
}

// listenOnce connects, subscribes, reloads the gates, calls up, and then
// applies notifications until the connection fails or ctx is done.
func (s *Store) listenOnce(ctx context.Context, up func()) error {
	cctx, cancel := s.bound(ctx)
	conn, err := pgx.ConnectConfig(cctx, s.pool.Config().ConnConfig.Copy())
	cancel()
	if err != nil {
		return classify(err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	cctx, cancel = s.bound(ctx)
	_, err = conn.Exec(cctx, `LISTEN `+pgx.Identifier{Channel}.Sanitize())
	if err == nil {
		err = s.reloadGates(cctx, conn)
	}
	cancel()
	if err != nil {
		return classify(err)
	}
	s.listenerPID.Store(conn.PgConn().PID())
	defer s.listenerPID.Store(0)
	s.gates.setLive(true)
	s.gates.recovered(s)
	up()
	prefix := s.schema + ":"
	for {
		wctx, cancel := context.WithTimeout(ctx, listenPing)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			if !errors.Is(err, context.DeadlineExceeded) && !pgconn.Timeout(err) {
				return classify(err)
			}
			pctx, cancel := s.bound(ctx)
			err = conn.Ping(pctx)
			cancel()
			if err != nil {
				return classify(err)
			}
			continue
		}
		id, ok := strings.CutPrefix(n.Payload, prefix)
		if !ok {
			continue // another installation (schema) in this database
		}
		rctx, cancel := s.bound(ctx)
		err = s.reloadGate(rctx, conn, id)
		cancel()
		if err != nil {
			return err
		}
	}
}
