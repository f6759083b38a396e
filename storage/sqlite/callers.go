package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// callerSetCacheKiB is the page cache of a CallerSet: its table spills to
// a temporary file beyond it, so an import's duplicate check holds at
// most this much, whatever the number of callers.
const callerSetCacheKiB = 4 << 10

// callerSetChunk is the most patterns one statement of a CallerSet takes
// (2 parameters each, far below SQLite's limit).
const callerSetChunk = 1000

// CallerSet keeps the callers of one import with the row each was first
// read in, for pinsfile's duplicate check (pinsfile.Options.Callers), in
// a private temporary SQLite database of its own: pages beyond a small
// cache go to a temporary file, which SQLite removes from its directory
// as soon as it creates it (on Unix), so that nothing is left behind even
// when the process is killed; its space is freed when the set is closed. Memory stays the same whatever the size of the import. It is
// not the store's database and not part of the import's transaction, so
// a stream can use it while the store's writer imports. Not safe for
// concurrent use; Close it when done.
type CallerSet struct {
	db   *sql.DB
	conn *sql.Conn // the temporary database lives as long as its connection
	ctx  context.Context
	full *sql.Stmt // the INSERT of callerSetChunk rows
}

// NewCallerSet opens an empty CallerSet. ctx bounds every later call.
func NewCallerSet(ctx context.Context) (*CallerSet, error) {
	// An empty file name is a private temporary database on disk.
	db, err := sql.Open("sqlite", "")
	if err != nil {
		return nil, callerSetErr(err)
	}
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, callerSetErr(err)
	}
	c := &CallerSet{db: db, conn: conn, ctx: ctx}
	for _, q := range []string{
		`PRAGMA journal_mode = OFF`,
		`PRAGMA synchronous = OFF`,
		`PRAGMA temp_store = FILE`,
		`PRAGMA mmap_size = 0`,
		fmt.Sprintf(`PRAGMA cache_size = -%d`, callerSetCacheKiB),
		`CREATE TABLE callers (pattern TEXT PRIMARY KEY, row INTEGER NOT NULL) WITHOUT ROWID`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			c.Close()
			return nil, callerSetErr(err)
		}
	}
	return c, nil
}

// Seen implements pinsfile.CallerSet: it returns, parallel to patterns,
// the row a pattern was first recorded with (in an earlier call or
// earlier in this one), or 0 for a new pattern, which it records with its
// row. Rows must be distinct.
func (c *CallerSet) Seen(patterns []string, rows []int) ([]int, error) {
	if len(patterns) != len(rows) {
		return nil, fmt.Errorf("sqlite: caller set: %d patterns, %d rows", len(patterns), len(rows))
	}
	firsts := make([]int, len(patterns))
	for start := 0; start < len(patterns); start += callerSetChunk {
		end := min(start+callerSetChunk, len(patterns))
		if err := c.seen(patterns[start:end], rows[start:end], firsts[start:end]); err != nil {
			return nil, callerSetErr(err)
		}
	}
	return firsts, nil
}

// seen is Seen for at most callerSetChunk patterns.
func (c *CallerSet) seen(patterns []string, rows, firsts []int) error {
	// A pattern repeated within the chunk is a repeat of its first
	// occurrence here (or of what that one repeats).
	firstAt := make(map[string]int, len(patterns))
	uniq := make([]int, 0, len(patterns))
	for i, p := range patterns {
		if _, ok := firstAt[p]; !ok {
			firstAt[p] = i
			uniq = append(uniq, i)
		}
	}
	args := make([]any, 0, 2*len(uniq))
	for _, i := range uniq {
		args = append(args, patterns[i], rows[i])
	}
	var res sql.Result
	var err error
	if len(uniq) == callerSetChunk {
		if c.full == nil {
			if c.full, err = c.conn.PrepareContext(c.ctx, insertCallers(callerSetChunk)); err != nil {
				return err
			}
		}
		res, err = c.full.ExecContext(c.ctx, args...)
	} else {
		res, err = c.conn.ExecContext(c.ctx, insertCallers(len(uniq)), args...)
	}
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if int(n) < len(uniq) {
		// Some were there before: their stored row is not their own.
		in := make([]any, len(uniq))
		for k, i := range uniq {
			in[k] = patterns[i]
		}
		q := `SELECT pattern, row FROM callers WHERE pattern IN (?` + strings.Repeat(`,?`, len(uniq)-1) + `)`
		rs, err := c.conn.QueryContext(c.ctx, q, in...)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var p string
			var row int
			if err := rs.Scan(&p, &row); err != nil {
				return err
			}
			if i := firstAt[p]; rows[i] != row {
				firsts[i] = row
			}
		}
		if err := rs.Err(); err != nil {
			return err
		}
	}
	for i, p := range patterns {
		if f := firstAt[p]; f != i {
			firsts[i] = firsts[f]
			if firsts[i] == 0 {
				firsts[i] = rows[f]
			}
		}
	}
	return nil
}

// callerSetErr says where the set's temporary file is: a full disk there
// ends an import that the store itself has room for.
func callerSetErr(err error) error {
	return fmt.Errorf("sqlite: temporary database of callers (a deleted file in $SQLITE_TMPDIR, $TMPDIR or /var/tmp): %w", err)
}

func insertCallers(n int) string {
	return `INSERT INTO callers (pattern, row) VALUES (?,?)` + strings.Repeat(`,(?,?)`, n-1) + ` ON CONFLICT (pattern) DO NOTHING`
}

// Close deletes the set. It is safe to call more than once.
func (c *CallerSet) Close() error {
	if c.full != nil {
		c.full.Close()
		c.full = nil
	}
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
	return c.db.Close()
}
