// Package calllog is the call-log batch writer that the stores share.
//
// A call's row must never hold up the call: Writer.Add queues a copy and
// returns at once; one goroutine writes queued rows in batches through the
// store's own INSERT (or COPY). While the database refuses rows for now (a
// store that wraps gate.ErrUnavailable: an outage, a lock held past the busy
// timeout) the writer keeps them in memory, at most Config.Keep, and tries
// again after Config.Retry; when that much is held, Add waits for room at
// most Config.AddTimeout (or its context) and then fails with
// gate.ErrUnavailable, so the row that is lost is the one whose caller is
// told. A batch refused for good (any other error) is dropped, and the
// error is kept for the next Flush, Err or Close. Flush writes everything
// queued so far (ListCalls and PruneCalls use it to see their own rows);
// Close stops taking rows, writes what is left, trying for at most
// Config.CloseTimeout, and waits for the goroutine.
//
// Package calllog imports only the domain (gate) and the standard library;
// it knows no SQL.
package calllog
