package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/vipgate/vipgate/gate"
)

const entryCols = `id, gate_id, pattern, kind, pin_salt, pin_sum, label, priority, target, valid_from, valid_until, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanEntry(sc scanner) (*gate.Entry, error) {
	var (
		e                gate.Entry
		kind, target     string
		from, until      sql.NullInt64
		created, updated int64
	)
	if err := sc.Scan(&e.ID, &e.GateID, &e.Pattern, &kind, &e.PIN.Salt, &e.PIN.Sum, &e.Label, &e.Priority, &target, &from, &until, &created, &updated); err != nil {
		return nil, err
	}
	e.Kind = gate.EntryKind(kind)
	if len(e.PIN.Salt) == 0 || len(e.PIN.Sum) == 0 {
		e.PIN = gate.PINHash{}
	}
	if target != "" {
		t, err := gate.ParseTarget(target)
		if err != nil {
			return nil, fmt.Errorf("entry %d: target: %w", e.ID, err)
		}
		e.Target = t
	}
	e.ValidFrom, e.ValidUntil = fromNS(from), fromNS(until)
	e.CreatedAt, e.UpdatedAt = timeNS(created), timeNS(updated)
	return &e, nil
}

// lookupSQL returns the lookup query for numbers of n bytes. The IN list
// holds the keys of gate.Prefixes, computed by SQLite from the one number
// parameter (?2) so that a lookup binds three values instead of one per
// prefix; TestLookupKeysArePrefixes checks that both lists agree.
func lookupSQL(n int) string {
	var b strings.Builder
	b.WriteString(`SELECT ` + entryCols + ` FROM entries WHERE gate_id = ?1 AND pattern IN (?2`)
	for i := n - 1; i >= 1; i-- {
		fmt.Fprintf(&b, `, substr(?2, 1, %d) || '*'`, i)
	}
	b.WriteString(`)
		AND (valid_from IS NULL OR valid_from <= ?3)
		AND (valid_until IS NULL OR valid_until > ?3)
		ORDER BY CASE kind WHEN 'deny' THEN 0 WHEN 'allow' THEN 1 ELSE 2 END, length(rtrim(pattern, '*')) DESC LIMIT 1`)
	return b.String()
}

// maxLookupLen bounds the numbers LookupEntry accepts; E.164 numbers have
// at most 16 bytes with '+', numbers kept as dialled up to 20.
const maxLookupLen = 32

// LookupEntry finds the longest pattern of the gate's table that matches
// number and is valid at at, with one indexed query over the number and
// its prefixes (gate.Prefixes). An exact number beats a prefix of the same
// length.
func (s *Store) LookupEntry(ctx context.Context, gateID, number string, at time.Time) (*gate.Entry, error) {
	if number == "" || len(number) > maxLookupLen {
		return nil, fmt.Errorf("sqlite: lookup entry: %w", gate.ErrNotFound)
	}
	st, err := s.readStmt(ctx, len(number))
	if err != nil {
		return nil, fmt.Errorf("sqlite: lookup entry: %w", dbErr(err))
	}
	e, err := scanEntry(st.QueryRowContext(ctx, gateID, number, clampNS(at)))
	if err != nil {
		return nil, fmt.Errorf("sqlite: lookup entry: %w", dbErr(err))
	}
	return e, nil
}

// GetEntry returns one entry of a gate.
func (s *Store) GetEntry(ctx context.Context, gateID string, id int64) (*gate.Entry, error) {
	e, err := scanEntry(s.r.QueryRowContext(ctx, `SELECT `+entryCols+` FROM entries WHERE id = ? AND gate_id = ?`, id, gateID))
	if err != nil {
		return nil, fmt.Errorf("sqlite: get entry %d: %w", id, dbErr(err))
	}
	return e, nil
}

// prefixRange returns the bounds [lo, hi) of the strings that start with
// p, or ok false if there is no upper bound in byte order.
func prefixRange(p string) (lo, hi string, ok bool) {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return p, string(b[:i+1]), true
		}
	}
	return p, "", false
}

// ListEntries returns a page of the gate's entries ordered by pattern (in
// byte order), and how many match the filter.
func (s *Store) ListEntries(ctx context.Context, gateID string, f gate.EntryFilter) ([]*gate.Entry, int, error) {
	where := `gate_id = ?`
	args := []any{gateID}
	if f.Caller != "" {
		lo, hi, ok := prefixRange(f.Caller)
		if ok {
			where += ` AND pattern >= ? AND pattern < ?`
			args = append(args, lo, hi)
		} else {
			where += ` AND substr(pattern, 1, ?) = ?`
			args = append(args, len(f.Caller), f.Caller)
		}
	}
	limit, offset := f.Limit, max(f.Offset, 0)
	if limit <= 0 {
		limit = 100
	}
	total := -1
	if !f.NoTotal {
		if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM entries WHERE `+where, args...).Scan(&total); err != nil {
			return nil, 0, fmt.Errorf("sqlite: list entries: %w", dbErr(err))
		}
	}
	if f.After != "" {
		where += ` AND pattern > ?`
		args = append(args, f.After)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+entryCols+` FROM entries WHERE `+where+` ORDER BY pattern LIMIT ? OFFSET ?`,
		append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: list entries: %w", dbErr(err))
	}
	defer rows.Close()
	var out []*gate.Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("sqlite: list entries: %w", dbErr(err))
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("sqlite: list entries: %w", dbErr(err))
	}
	return out, total, nil
}

func checkEntry(e *gate.Entry) error {
	if e.Pattern == "" {
		return gate.Invalid("caller", "is empty")
	}
	return e.CheckKind("")
}

// kindArg is the stored kind of e ("" is a PIN entry).
func kindArg(e *gate.Entry) string { return string(e.EntryKind()) }

// blob maps nil to an empty blob (the PIN columns are NOT NULL; allow and
// deny entries have no PIN).
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// targetText is the stored form of an allow entry's target ("" = none).
func targetText(t gate.Target) string {
	if t.IsZero() {
		return ""
	}
	return t.String()
}

// PutEntry inserts (ID 0) or updates (ID set) an entry and sets its ID and
// times.
func (s *Store) PutEntry(ctx context.Context, e *gate.Entry) error {
	if err := checkEntry(e); err != nil {
		return fmt.Errorf("sqlite: put entry: %w", err)
	}
	now := s.stamp()
	if e.ID == 0 {
		var id int64
		err := s.w.QueryRowContext(ctx, `INSERT INTO entries (gate_id, pattern, kind, pin_salt, pin_sum, label, priority, target, valid_from, valid_until, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			e.GateID, e.Pattern, kindArg(e), blob(e.PIN.Salt), blob(e.PIN.Sum), e.Label, e.Priority, targetText(e.Target),
			ns(e.ValidFrom), ns(e.ValidUntil), now.UnixNano(), now.UnixNano()).Scan(&id)
		if err != nil {
			return fmt.Errorf("sqlite: put entry: %w", dbErr(err))
		}
		e.ID, e.CreatedAt, e.UpdatedAt, e.Kind = id, now, now, e.EntryKind()
		return nil
	}
	var created int64
	err := s.w.QueryRowContext(ctx, `UPDATE entries SET pattern = ?, kind = ?, pin_salt = ?, pin_sum = ?, label = ?, priority = ?, target = ?,
			valid_from = ?, valid_until = ?, updated_at = ?
		WHERE id = ? AND gate_id = ? RETURNING created_at`,
		e.Pattern, kindArg(e), blob(e.PIN.Salt), blob(e.PIN.Sum), e.Label, e.Priority, targetText(e.Target),
		ns(e.ValidFrom), ns(e.ValidUntil), now.UnixNano(), e.ID, e.GateID).Scan(&created)
	if err != nil {
		return fmt.Errorf("sqlite: put entry %d: %w", e.ID, dbErr(err))
	}
	e.CreatedAt, e.UpdatedAt, e.Kind = timeNS(created), now, e.EntryKind()
	return nil
}

// DeleteEntry removes one entry of a gate.
func (s *Store) DeleteEntry(ctx context.Context, gateID string, id int64) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM entries WHERE id = ? AND gate_id = ?`, id, gateID)
	if err != nil {
		return fmt.Errorf("sqlite: delete entry %d: %w", id, dbErr(err))
	}
	return affected(res, "sqlite: delete entry %d: %w", id)
}

// affected turns "no row affected" into ErrNotFound.
func affected(res sql.Result, format string, arg any) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf(format, arg, dbErr(err))
	}
	if n == 0 {
		return fmt.Errorf(format, arg, gate.ErrNotFound)
	}
	return nil
}
