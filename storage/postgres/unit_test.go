package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"syscall"
	"testing"
	"time"

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

// fill sets every exported field reachable from v to a non-zero value,
// so that a copy that shares memory with v can be caught.
func fill(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		fill(k, depth+1)
		e := reflect.New(v.Type().Elem()).Elem()
		fill(e, depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth+1)
			}
		}
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", depth))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(depth + 1))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(depth + 1))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(depth) + 0.5)
	}
}

// shared reports the path of the first pointer, slice or map that a and b
// share.
func shared(a, b reflect.Value, path string) string {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return path
		}
		return shared(a.Elem(), b.Elem(), path)
	case reflect.Slice:
		if a.Len() > 0 && a.Pointer() == b.Pointer() {
			return path
		}
		for i := range a.Len() {
			if p := shared(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	case reflect.Map:
		if a.Len() > 0 && a.Pointer() == b.Pointer() {
			return path
		}
		it := a.MapRange()
		for it.Next() {
			if p := shared(it.Value(), b.MapIndex(it.Key()), fmt.Sprintf("%s[%v]", path, it.Key())); p != "" {
				return p
			}
		}
	case reflect.Struct:
		for i := range a.NumField() {
			if a.Type().Field(i).IsExported() {
				if p := shared(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); p != "" {
					return p
				}
			}
		}
	}
	return ""
}

func TestMigrations(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatal("no embedded migrations")
	}
	for i, m := range ms {
		if m.version != i+1 {
			t.Errorf("migration %s has version %d, want %d (no gaps)", m.name, m.version, i+1)
		}
	}
}
