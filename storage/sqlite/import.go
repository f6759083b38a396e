package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// importBatch is the number of rows per multi-row INSERT. With 9
// parameters per row it stays below SQLite's limit of 32766 host
// parameters. (Numbered parameters such as ?1 would save binding work but
// SQLite resolves them by a linear search, which is slower at this size.)
const importBatch = 1000

// ImportEntries upserts entries by pattern in one transaction. An entry
// without pattern, or whose PIN hash, target or priority does not fit its
// kind (gate.Entry.CheckKind), fails the import with ErrInvalid, a pattern
// that occurs twice with ErrConflict; nothing is written then. The entries'
// IDs are not set.
func (s *Store) ImportEntries(ctx context.Context, gateID string, entries []*gate.Entry, opts gate.ImportOptions) (gate.ImportResult, error) {
	return s.ImportEntriesFrom(ctx, gateID, gate.EntryBatches(entries), opts)
}

// ImportEntriesFrom is ImportEntries batch by batch, all in one
// transaction: memory holds one batch, whatever the size of the import.
// Each batch is sorted by pattern before it is written (in pattern order
// the unique index grows at its end instead of at random places, which
// touches far fewer pages). Into a gate with entries, the imported
// patterns are also kept in a temporary table, which finds a pattern
// repeated in a later batch (the upsert would silently take it) and,
// with opts.Replace, says which entries to delete. An error from next
// rolls the transaction back.
func (s *Store) ImportEntriesFrom(ctx context.Context, gateID string, next func() ([]*gate.Entry, error), opts gate.ImportOptions) (gate.ImportResult, error) {
	var res gate.ImportResult
	now := s.stamp().UnixNano()
	err := inTx(ctx, s.w, func(tx *sql.Tx) error {
		if err := gateExists(ctx, tx, gateID); err != nil {
			return err
		}
		var before int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM entries WHERE gate_id = ?`, gateID).Scan(&before); err != nil {
			return err
		}
		upsert := before > 0
		if upsert {
			if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS import_keep (pattern TEXT PRIMARY KEY) WITHOUT ROWID`); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM temp.import_keep`); err != nil {
				return err
			}
		}
		total := 0
		for {
			batch, err := next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			sorted, err := sortBatch(batch, total)
			if err != nil {
				return err
			}
			total += len(batch)
			if upsert {
				if err := keepPatterns(ctx, tx, sorted); err != nil {
					return err
				}
			}
			if err := insertEntries(ctx, tx, gateID, now, sorted, upsert); err != nil {
				return err
			}
		}
		if !upsert {
			res.Inserted = total
			return nil
		}
		var after int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM entries WHERE gate_id = ?`, gateID).Scan(&after); err != nil {
			return err
		}
		res.Inserted = after - before
		res.Updated = total - res.Inserted
		if opts.Replace {
			r, err := tx.ExecContext(ctx, `DELETE FROM entries WHERE gate_id = ? AND pattern NOT IN (SELECT pattern FROM temp.import_keep)`, gateID)
			if err != nil {
				return err
			}
			n, err := r.RowsAffected()
			if err != nil {
				return err
			}
			res.Deleted = int(n)
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM temp.import_keep`)
		return err
	})
	if err != nil {
		return gate.ImportResult{}, fmt.Errorf("sqlite: import entries into %s: %w", gateID, dbErr(err))
	}
	return res, nil
}

// sortBatch checks a batch and returns it sorted by pattern; offset is
// the number of entries in the batches before it (for the entry numbers
// of errors).
func sortBatch(batch []*gate.Entry, offset int) ([]*gate.Entry, error) {
	type keyed struct {
		pattern string
		i       int
		e       *gate.Entry
	}
	ks := make([]keyed, len(batch))
	for i, e := range batch {
		if err := checkEntry(e); err != nil {
			return nil, fmt.Errorf("entry %d: %w", offset+i+1, err)
		}
		ks[i] = keyed{e.Pattern, i, e}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		if c := strings.Compare(a.pattern, b.pattern); c != 0 {
			return c
		}
		return a.i - b.i
	})
	sorted := make([]*gate.Entry, len(ks))
	for j, k := range ks {
		if j > 0 && k.pattern == ks[j-1].pattern {
			return nil, fmt.Errorf("entry %d: %w", offset+k.i+1, &gate.ConflictError{Field: "caller", Problem: "occurs twice in the import: " + k.pattern})
		}
		sorted[j] = k.e
	}
	return sorted, nil
}

// keepPatterns adds the patterns of a batch to temp.import_keep; a
// pattern already there (from an earlier batch) is a unique violation.
func keepPatterns(ctx context.Context, tx *sql.Tx, entries []*gate.Entry) error {
	args := make([]any, 0, importBatch)
	for start := 0; start < len(entries); start += importBatch {
		chunk := entries[start:min(start+importBatch, len(entries))]
		args = args[:0]
		for _, e := range chunk {
			args = append(args, e.Pattern)
		}
		q := `INSERT INTO temp.import_keep (pattern) VALUES (?)` + strings.Repeat(`,(?)`, len(chunk)-1)
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			if errors.Is(dbErr(err), gate.ErrConflict) {
				return gate.Translated(&gate.ConflictError{Field: "caller", Problem: "occurs twice in the import"}, err)
			}
			return err
		}
	}
	return nil
}

// insertEntries writes entries with multi-row INSERT statements, prepared
// once per transaction. With upsert an existing pattern is updated.
func insertEntries(ctx context.Context, tx *sql.Tx, gateID string, now int64, entries []*gate.Entry, upsert bool) error {
	build := func(rows int) string {
		var b strings.Builder
		b.WriteString(`INSERT INTO entries (gate_id, pattern, kind, pin_salt, pin_sum, label, priority, target, valid_from, valid_until, created_at, updated_at) VALUES `)
		for i := range rows {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?)")
		}
		if upsert {
			b.WriteString(` ON CONFLICT (gate_id, pattern) DO UPDATE SET kind = excluded.kind, pin_salt = excluded.pin_salt, pin_sum = excluded.pin_sum,
				label = excluded.label, priority = excluded.priority, target = excluded.target,
				valid_from = excluded.valid_from, valid_until = excluded.valid_until, updated_at = excluded.updated_at`)
		}
		return b.String()
	}
	var full *sql.Stmt
	// Values shared by every row are boxed once: a million rows would
	// otherwise allocate millions of interface values.
	gateArg, nowArg := any(gateID), any(now)
	timeArg := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return clampNS(t)
	}
	args := make([]any, 0, 12*importBatch)
	for start := 0; start < len(entries); start += importBatch {
		chunk := entries[start:min(start+importBatch, len(entries))]
		args = args[:0]
		for _, e := range chunk {
			args = append(args, gateArg, e.Pattern, kindArg(e), blob(e.PIN.Salt), blob(e.PIN.Sum), e.Label, e.Priority, targetText(e.Target),
				timeArg(e.ValidFrom), timeArg(e.ValidUntil), nowArg, nowArg)
		}
		if len(chunk) < importBatch {
			if _, err := tx.ExecContext(ctx, build(len(chunk)), args...); err != nil {
				return err
			}
			continue
		}
		if full == nil {
			st, err := tx.PrepareContext(ctx, build(importBatch))
			if err != nil {
				return err
			}
			defer st.Close()
			full = st
		}
		if _, err := full.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}
