package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vipgate/vipgate/gate"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error // nil: no sentinel
	}{
		{"no rows", pgx.ErrNoRows, gate.ErrNotFound},
		{"wrapped no rows", fmt.Errorf("scan: %w", pgx.ErrNoRows), gate.ErrNotFound},
		{"unique violation", &pgconn.PgError{Code: "23505"}, gate.ErrConflict},
		{"row upserted twice", &pgconn.PgError{Code: "21000"}, gate.ErrConflict},
		{"serialization failure", &pgconn.PgError{Code: "40001"}, gate.ErrConflict},
		{"foreign key to missing gate", &pgconn.PgError{Code: "23503"}, gate.ErrNotFound},
		{"not null violation", &pgconn.PgError{Code: "23502"}, gate.ErrInvalid},
		{"invalid text", &pgconn.PgError{Code: "22P02"}, gate.ErrInvalid},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, gate.ErrUnavailable},
		{"cannot connect now", &pgconn.PgError{Code: "57P03"}, gate.ErrUnavailable},
		{"too many connections", &pgconn.PgError{Code: "53300"}, gate.ErrUnavailable},
		{"connection failure", &pgconn.PgError{Code: "08006"}, gate.ErrUnavailable},
		{"deadline", context.DeadlineExceeded, gate.ErrUnavailable},
		{"refused", fmt.Errorf("dial: %w", syscall.ECONNREFUSED), gate.ErrUnavailable},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), gate.ErrUnavailable},
		{"eof", io.ErrUnexpectedEOF, gate.ErrUnavailable},
		{"syntax error", &pgconn.PgError{Code: "42601"}, nil},
		{"other", errors.New("boom"), nil},
		{"already a sentinel", fmt.Errorf("x: %w", gate.ErrNotFound), gate.ErrNotFound},
	}
	sentinels := []error{gate.ErrNotFound, gate.ErrConflict, gate.ErrInvalid, gate.ErrUnavailable}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := wrap("op", tc.err)
			for _, s := range sentinels {
				if is := errors.Is(got, s); is != (s == tc.want) {
					t.Errorf("errors.Is(%v, %v) = %v, want %v", got, s, is, s == tc.want)
				}
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("%v lost the original error %v", got, tc.err)
			}
		})
	}
	if wrap("op", nil) != nil {
		t.Error("wrap(nil) is not nil")
	}
}

func TestMigrations(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatal("no embedded migrations")
	}
	// Numbers are handed out ahead of merging, so a number may be missing
	// for a while; they must start at 1 and increase.
	if ms[0].version != 1 {
		t.Errorf("first migration %s has version %d, want 1", ms[0].name, ms[0].version)
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].version <= ms[i-1].version {
			t.Errorf("migration %s has version %d, not above %s", ms[i].name, ms[i].version, ms[i-1].name)
		}
	}
}

// TestConstraintErrorTexts checks that constraint violations read as the
// domain's words, naming the store and operation once and the field, with
// none of PostgreSQL's own text.
func TestConstraintErrorTexts(t *testing.T) {
	tests := []struct {
		err  *pgconn.PgError
		want string
	}{
		{&pgconn.PgError{Code: "23505", TableName: "entries", ConstraintName: "entries_gate_id_pattern_key", Message: `duplicate key value violates unique constraint "entries_gate_id_pattern_key"`},
			"postgres: put entry: caller: the gate has an entry for this caller already"},
		{&pgconn.PgError{Code: "23505", TableName: "gates", Message: `duplicate key value violates unique constraint "gates_pkey"`},
			"postgres: put entry: id: another gate has this ID already"},
		{&pgconn.PgError{Code: "23503", TableName: "entries", Message: `insert or update on table "entries" violates foreign key constraint`},
			"postgres: put entry: gate: not found"},
	}
	for _, tc := range tests {
		if got := wrap("put entry", tc.err).Error(); got != tc.want {
			t.Errorf("wrap(%s) = %q, want %q", tc.err.Code, got, tc.want)
		}
	}
}
