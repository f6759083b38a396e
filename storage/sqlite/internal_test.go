package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

func openInternal(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "vipgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestLookupKeysArePrefixes checks that the keys the lookup query computes
// are exactly gate.Prefixes of the number.
func TestLookupKeysArePrefixes(t *testing.T) {
	s := openInternal(t)
	for _, number := range []string{"+1", "+12", "+491", "+4971112345", "+4917612345678", "+12125550100", strings.Repeat("9", maxLookupLen)} {
		t.Run(number, func(t *testing.T) {
			q := lookupSQL(len(number))
			list := q[strings.Index(q, "IN (")+4 : strings.Index(q, ")\n")]
			list = strings.ReplaceAll(list, "?2", "?1")
			var got []string
			rows, err := s.r.QueryContext(t.Context(), "SELECT value FROM json_each(json_array("+list+"))", number)
			if err != nil {
				t.Fatalf("query keys: %v", err)
			}
			defer rows.Close()
			for rows.Next() {
				var k string
				if err := rows.Scan(&k); err != nil {
					t.Fatal(err)
				}
				got = append(got, k)
			}
			if want := gate.Prefixes(number); !slices.Equal(got, want) {
				t.Errorf("keys = %q, want gate.Prefixes = %q", got, want)
			}
		})
	}
}

// TestLookupUsesIndex checks the plan of the lookup query: a search of
// the (gate_id, pattern) index, no table scan.
func TestLookupUsesIndex(t *testing.T) {
	s := openInternal(t)
	rows, err := s.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+lookupSQL(14), "g", "+4971112345678", int64(0))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	joined := strings.Join(plan, "; ")
	t.Logf("plan: %s", joined)
	if !strings.Contains(joined, "USING INDEX entries_gate_pattern (gate_id=? AND pattern=?)") || strings.Contains(joined, "SCAN entries") {
		t.Errorf("lookup plan = %s, want a search of entries_gate_pattern", joined)
	}
}

// fill sets every field reachable from v to a non-zero value: pointers
// to new values, slices and maps to one element.
func fill(v reflect.Value, depth int) {
	if depth > 8 {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), depth+1)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Unix(1, 0)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth+1)
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), depth+1)
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, depth+1)
		fill(e, depth+1)
		v.SetMapIndex(k, e)
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint8, reflect.Uint, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1)
	}
}

// shared reports the first path at which a and b share memory.
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
	case reflect.Struct:
		for i := range a.NumField() {
			if a.Type().Field(i).IsExported() {
				if p := shared(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); p != "" {
					return p
				}
			}
		}
	case reflect.Slice:
		if a.Len() == 0 {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return path
		}
		for i := range a.Len() {
			if p := shared(a.Index(i), b.Index(i), path+"[i]"); p != "" {
				return p
			}
		}
	case reflect.Map:
		if a.Len() > 0 && a.Pointer() == b.Pointer() {
			return path
		}
	}
	return ""
}

// TestLogCallDoesNotWaitForTheWriter holds the only write connection, as
// a long import does, and checks that LogCall still returns at once and
// that the rows are written when the connection is free again.
func TestLogCallDoesNotWaitForTheWriter(t *testing.T) {
	s := openInternal(t)
	ctx := context.Background()
	held, err := s.w.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close() // also on failure, so that Close can finish
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := range 10 {
		c, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		err := s.LogCall(c, &gate.CallRecord{At: at.Add(time.Duration(i) * time.Second), Source: "ari", Outcome: gate.OutcomePassed})
		cancel()
		if err != nil {
			t.Fatalf("log call %d while the writer is busy: %v", i, err)
		}
	}
	listed := make(chan int, 1)
	go func() {
		_, n, err := s.ListCalls(ctx, gate.CallFilter{})
		if err != nil {
			t.Errorf("list calls: %v", err)
		}
		listed <- n
	}()
	select {
	case n := <-listed:
		t.Fatalf("list calls returned %d rows while the writer was held; want it to wait for the queued rows", n)
	case <-time.After(100 * time.Millisecond):
	}
	held.Close()
	if n := <-listed; n != 10 {
		t.Errorf("list calls = %d rows, want 10", n)
	}
}

// TestCloseWritesQueuedCalls checks that Close writes every queued row and
// that LogCall after Close fails.
func TestCloseWritesQueuedCalls(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vipgate.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000 // more than one batch
	for i := range n {
		if err := s.LogCall(ctx, &gate.CallRecord{Source: "agi", GateID: "g", Outcome: gate.OutcomeRejected, Attempts: i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := s.LogCall(ctx, &gate.CallRecord{Source: "agi"}); !errors.Is(err, gate.ErrUnavailable) {
		t.Errorf("log call after close = %v, want unavailable", err)
	}
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, total, err := s.ListCalls(ctx, gate.CallFilter{GateID: "g"}); err != nil || total != n {
		t.Errorf("after reopen: %d rows, %v; want %d", total, err, n)
	}
}
