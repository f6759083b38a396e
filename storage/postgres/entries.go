package postgres

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vipgate/vipgate/gate"
)

const entryColumns = `id, gate_id, pattern, kind, pin_salt, pin_sum, label, priority, target, valid_from, valid_until, created_at, updated_at`

func scanEntry(row pgx.CollectableRow) (*gate.Entry, error) {
	var (
		e            gate.Entry
		kind, target string
		from, till   *time.Time
	)
	if err := row.Scan(&e.ID, &e.GateID, &e.Pattern, &kind, &e.PIN.Salt, &e.PIN.Sum, &e.Label, &e.Priority, &target,
		&from, &till, &e.CreatedAt, &e.UpdatedAt); err != nil {
		return nil, err
	}
	e.Kind = gate.EntryKind(kind)
	if len(e.PIN.Salt) == 0 {
		e.PIN.Salt = nil
	}
	if len(e.PIN.Sum) == 0 {
		e.PIN.Sum = nil
	}
	if target != "" {
		t, err := gate.ParseTarget(target)
		if err != nil {
			return nil, fmt.Errorf("entry %d: target: %w", e.ID, err)
		}
		e.Target = t
	}
	if from != nil {
		e.ValidFrom = from.UTC()
	}
	if till != nil {
		e.ValidUntil = till.UTC()
	}
	e.CreatedAt, e.UpdatedAt = e.CreatedAt.UTC(), e.UpdatedAt.UTC()
	return &e, nil
}

// nullTime maps the zero time to NULL.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// notNil maps a nil byte slice to an empty one (the columns are NOT NULL).
func notNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func one[T any](rows pgx.Rows, scan pgx.RowToFunc[*T]) (*T, error) {
	return pgx.CollectExactlyOneRow(rows, scan)
}

// lookupSQL finds the entry among the number and its prefixes ($2,
// longest first) that is valid at $3: deny before allow before PIN, then
// the longest pattern.
const lookupSQL = `SELECT ` + entryColumns + ` FROM entries
	WHERE gate_id = $1 AND pattern = ANY($2::text[])
	  AND (valid_from IS NULL OR valid_from <= $3) AND (valid_until IS NULL OR valid_until > $3)
	ORDER BY CASE kind WHEN 'deny' THEN 0 WHEN 'allow' THEN 1 ELSE 2 END, array_position($2::text[], pattern::text) LIMIT 1`

// LookupEntry finds the entry for number with one indexed query over the
// number and its prefixes (gate.Prefixes); the longest valid pattern wins.
// It runs within StoreTimeout and fails with ErrUnavailable when the
// database does not answer in time.
func (s *Store) LookupEntry(ctx context.Context, gateID, number string, at time.Time) (*gate.Entry, error) {
	var e *gate.Entry
	err := s.read(ctx, func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, lookupSQL, gateID, gate.Prefixes(number), at)
		if err != nil {
			return err
		}
		e, err = one(rows, scanEntry)
		return err
	})
	if err != nil {
		return nil, wrap(fmt.Sprintf("lookup entry of %s", number), err)
	}
	return e, nil
}

// GetEntry returns one entry of a gate, or ErrNotFound.
func (s *Store) GetEntry(ctx context.Context, gateID string, id int64) (*gate.Entry, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT `+entryColumns+` FROM entries WHERE gate_id = $1 AND id = $2`, gateID, id)
	if err != nil {
		return nil, wrap("get entry", err)
	}
	e, err := one(rows, scanEntry)
	if err != nil {
		return nil, wrap(fmt.Sprintf("get entry %d", id), err)
	}
	return e, nil
}

// likePrefix returns a LIKE pattern matching strings that start with p.
func likePrefix(p string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(p) + "%"
}

// ListEntries returns a page of a gate's entries ordered by pattern, and
// how many match the filter.
func (s *Store) ListEntries(ctx context.Context, gateID string, f gate.EntryFilter) ([]*gate.Entry, int, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	like := ""
	if p := strings.TrimSuffix(f.Caller, "*"); p != "" {
		like = likePrefix(p)
	}
	const where = ` FROM entries WHERE gate_id = $1 AND ($2 = '' OR pattern LIKE $2)`
	total := -1
	if !f.NoTotal {
		if err := s.pool.QueryRow(ctx, `SELECT count(*)`+where, gateID, like).Scan(&total); err != nil {
			return nil, 0, wrap("list entries", err)
		}
	}
	rows, err := s.pool.Query(ctx, `SELECT `+entryColumns+where+` AND ($5 = '' OR pattern > $5) ORDER BY pattern LIMIT $3 OFFSET $4`,
		gateID, like, limit, max(f.Offset, 0), f.After)
	if err != nil {
		return nil, 0, wrap("list entries", err)
	}
	es, err := pgx.CollectRows(rows, scanEntry)
	if err != nil {
		return nil, 0, wrap("list entries", err)
	}
	if es == nil {
		es = []*gate.Entry{}
	}
	return es, total, nil
}

func checkEntry(field string, e *gate.Entry) error {
	if e.Pattern == "" {
		return gate.Invalid(field+".caller", "is empty")
	}
	return e.CheckKind(field + ".")
}

// targetText is the stored form of an allow entry's target ("" = none).
func targetText(t gate.Target) string {
	if t.IsZero() {
		return ""
	}
	return t.String()
}

// PutEntry inserts (ID 0) or updates an entry and sets its ID and times.
// Inserting a pattern the gate has is ErrConflict; an unknown gate or ID is
// ErrNotFound.
func (s *Store) PutEntry(ctx context.Context, e *gate.Entry) error {
	if err := checkEntry("entry", e); err != nil {
		return fmt.Errorf("postgres: put entry: %w", err)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	now := s.now()
	if e.ID == 0 {
		var id int64
		// Selecting from gates FOR KEY SHARE makes an unknown gate "no
		// rows" (ErrNotFound) and keeps the gate from being deleted until
		// the entry is in.
		err := s.pool.QueryRow(ctx, `INSERT INTO entries
			(gate_id, pattern, pin_salt, pin_sum, label, valid_from, valid_until, created_at, updated_at, kind, priority, target)
			SELECT id, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11 FROM gates WHERE id = $1 FOR KEY SHARE RETURNING id`,
			e.GateID, e.Pattern, notNil(e.PIN.Salt), notNil(e.PIN.Sum), e.Label,
			nullTime(e.ValidFrom), nullTime(e.ValidUntil), now, string(e.EntryKind()), e.Priority, targetText(e.Target)).Scan(&id)
		if err != nil {
			return wrap(fmt.Sprintf("put entry %s", e.Pattern), err)
		}
		e.ID, e.CreatedAt, e.UpdatedAt, e.Kind = id, now, now, e.EntryKind()
		return nil
	}
	var created time.Time
	err := s.pool.QueryRow(ctx, `UPDATE entries SET pattern = $3, pin_salt = $4, pin_sum = $5, label = $6,
			valid_from = $7, valid_until = $8, updated_at = $9, kind = $10, priority = $11, target = $12
		WHERE gate_id = $1 AND id = $2 RETURNING created_at`,
		e.GateID, e.ID, e.Pattern, notNil(e.PIN.Salt), notNil(e.PIN.Sum), e.Label,
		nullTime(e.ValidFrom), nullTime(e.ValidUntil), now, string(e.EntryKind()), e.Priority, targetText(e.Target)).Scan(&created)
	if err != nil {
		return wrap(fmt.Sprintf("put entry %d", e.ID), err)
	}
	e.CreatedAt, e.UpdatedAt, e.Kind = created.UTC(), now, e.EntryKind()
	return nil
}

// DeleteEntry removes one entry; ErrNotFound if the gate has no such entry.
func (s *Store) DeleteEntry(ctx context.Context, gateID string, id int64) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `DELETE FROM entries WHERE gate_id = $1 AND id = $2`, gateID, id)
	if err != nil {
		return wrap(fmt.Sprintf("delete entry %d", id), err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete entry %d: %w", id, gate.ErrNotFound)
	}
	return nil
}

// ImportEntries upserts entries by pattern in one transaction: the rows go
// into a temporary table with COPY, then one INSERT … ON CONFLICT merges
// them, and with opts.Replace one DELETE removes the gate's other entries.
// Into a gate without entries, they are copied straight into the table.
// A pattern that appears twice in entries is ErrConflict; an unknown gate
// is ErrNotFound. It is bounded by ctx only (not StoreTimeout): imports of
// a million rows take seconds.
func (s *Store) ImportEntries(ctx context.Context, gateID string, entries []*gate.Entry, opts gate.ImportOptions) (gate.ImportResult, error) {
	return s.ImportEntriesFrom(ctx, gateID, gate.EntryBatches(entries), opts)
}

// ImportEntriesFrom is ImportEntries batch by batch: one COPY takes the
// rows of every batch as next returns them, so memory holds one batch and
// the rows of the next batch are read (and hashed, by a stream that does)
// while the server stores the last. Each batch goes to the server in
// pattern order: the unique index then grows at its right edge instead of
// splitting pages all over. An error from next ends the COPY and rolls the
// transaction back.
func (s *Store) ImportEntriesFrom(ctx context.Context, gateID string, next func() ([]*gate.Entry, error), opts gate.ImportOptions) (gate.ImportResult, error) {
	var res gate.ImportResult
	now := s.now()
	start := time.Now()
	var copied time.Duration
	total := 0
	// srcErr is the error of next or of an entry check: pgx sends it to
	// the server as the COPY's failure and returns the server's answer,
	// which has lost it.
	var srcErr error
	rows := func(prefix ...any) pgx.CopyFromSource {
		var (
			batch []*gate.Entry
			i     int
			row   = make([]any, 0, len(prefix)+9)
		)
		return pgx.CopyFromFunc(func() ([]any, error) {
			for i == len(batch) {
				b, err := next()
				if err == io.EOF {
					return nil, nil
				}
				if err != nil {
					srcErr = err
					return nil, err
				}
				for j, e := range b {
					if err := checkEntry(fmt.Sprintf("entries[%d]", total+j), e); err != nil {
						srcErr = err
						return nil, err
					}
				}
				total += len(b)
				batch = slices.Clone(b)
				slices.SortFunc(batch, func(a, b *gate.Entry) int { return strings.Compare(a.Pattern, b.Pattern) })
				i = 0
			}
			e := batch[i]
			batch[i] = nil
			i++
			row = append(append(row[:0], prefix...), e.Pattern, notNil(e.PIN.Salt), notNil(e.PIN.Sum), e.Label,
				nullTime(e.ValidFrom), nullTime(e.ValidUntil), string(e.EntryKind()), e.Priority, targetText(e.Target))
			return row, nil
		})
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var existing bool
		// FOR KEY SHARE keeps the gate from being deleted meanwhile.
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM entries WHERE gate_id = g.id)
			FROM gates g WHERE g.id = $1 FOR KEY SHARE OF g`, gateID).Scan(&existing); err != nil {
			return err
		}
		if !existing {
			// A gate without entries: COPY straight into the table. A
			// pattern twice in the import is a unique violation
			// (ErrConflict) and undoes the transaction.
			n, err := tx.CopyFrom(ctx, pgx.Identifier{"entries"},
				[]string{"gate_id", "created_at", "updated_at", "pattern", "pin_salt", "pin_sum", "label", "valid_from", "valid_until", "kind", "priority", "target"},
				rows(gateID, now, now))
			res.Inserted = int(n)
			copied = time.Since(start)
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE vipgate_import (
				pattern text COLLATE "C" NOT NULL, pin_salt bytea NOT NULL, pin_sum bytea NOT NULL,
				label text NOT NULL, valid_from timestamptz, valid_until timestamptz,
				kind text NOT NULL, priority integer NOT NULL, target text NOT NULL) ON COMMIT DROP`); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"vipgate_import"},
			[]string{"pattern", "pin_salt", "pin_sum", "label", "valid_from", "valid_until", "kind", "priority", "target"}, rows()); err != nil {
			return err
		}
		copied = time.Since(start)
		if _, err := tx.Exec(ctx, `ANALYZE vipgate_import`); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `WITH up AS (
				INSERT INTO entries AS e (gate_id, pattern, pin_salt, pin_sum, label, valid_from, valid_until, created_at, updated_at, kind, priority, target)
				SELECT $1, pattern, pin_salt, pin_sum, label, valid_from, valid_until, $2, $2, kind, priority, target FROM vipgate_import ORDER BY pattern
				ON CONFLICT (gate_id, pattern) DO UPDATE SET pin_salt = EXCLUDED.pin_salt, pin_sum = EXCLUDED.pin_sum,
					label = EXCLUDED.label, valid_from = EXCLUDED.valid_from, valid_until = EXCLUDED.valid_until,
					updated_at = EXCLUDED.updated_at, kind = EXCLUDED.kind, priority = EXCLUDED.priority, target = EXCLUDED.target
				RETURNING (xmax = 0) AS inserted)
			SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up`,
			gateID, now).Scan(&res.Inserted, &res.Updated); err != nil {
			return err
		}
		if opts.Replace {
			tag, err := tx.Exec(ctx, `DELETE FROM entries e WHERE e.gate_id = $1
				AND NOT EXISTS (SELECT 1 FROM vipgate_import i WHERE i.pattern = e.pattern)`, gateID)
			if err != nil {
				return err
			}
			res.Deleted = int(tag.RowsAffected())
		}
		return nil
	})
	if srcErr != nil {
		err = srcErr
	}
	if err != nil {
		return gate.ImportResult{}, wrap(fmt.Sprintf("import entries of %q", gateID), err)
	}
	s.log.Debug("postgres: entries imported", "gate", gateID, "rows", total, "inserted", res.Inserted,
		"updated", res.Updated, "deleted", res.Deleted, "copy", copied, "total", time.Since(start))
	return res, nil
}
