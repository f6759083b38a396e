package storagetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// Run runs the conformance suite. open must return a fresh, empty store for
// each call and arrange for it to be closed (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) gate.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s gate.Store)
	}{
		{"Ping", testPing},
		{"Gates/CreateGetList", testGateCreateGetList},
		{"Gates/RoundTrip", testGateRoundTrip},
		{"Gates/Errors", testGateErrors},
		{"Gates/UpdateKeepsOverride", testGateUpdateKeepsOverride},
		{"Gates/SetOverride", testGateSetOverride},
		{"Gates/DeleteCascades", testGateDeleteCascades},
		{"Gates/ReturnedCopies", testGateReturnedCopies},
		{"Entries/PutGet", testEntryPutGet},
		{"Entries/PutErrors", testEntryPutErrors},
		{"Entries/Lookup", testEntryLookup},
		{"Entries/LookupIsolatedPerGate", testEntryLookupIsolated},
		{"Entries/LookupKeptAsDialled", testEntryLookupDialled},
		{"Entries/List", testEntryList},
		{"Entries/Delete", testEntryDelete},
		{"Entries/Import", testEntryImport},
		{"Entries/ImportAllOrNothing", testEntryImportAllOrNothing},
		{"Entries/KindsRoundTrip", testEntryKindsRoundTrip},
		{"Entries/KindsLookup", testEntryKindsLookup},
		{"Entries/KindsInvalid", testEntryKindsInvalid},
		{"Entries/KindsImport", testEntryKindsImport},
		{"Accounts/CRUD", testAccountCRUD},
		{"Accounts/List", testAccountList},
		{"Accounts/Import", testAccountImport},
		{"Accounts/ReadAccount", testReadAccount},
		{"Calls/RoundTrip", testCallRoundTrip},
		{"Calls/List", testCallList},
		{"Calls/Prune", testCallPrune},
		{"Calls/EraseCaller", testEraseCaller},
		{"Grants/EraseCaller", testEraseGrants},
		{"Calls/PruneGateCalls", testPruneGateCalls},
		{"Secrets/NoClearPIN", testNoClearPIN},
		{"Counters/Failures", testFailures},
		{"Counters/Lockouts", testLockouts},
		{"Counters/ReserveGuess", testReserveGuess},
		{"Counters/ReadCall", testReadCall},
		{"Grants/CreateListDelete", testGrants},
		{"Grants/Use", testGrantUse},
		{"Grants/Limit", testGrantLimit},
		{"Concurrent/UseGrant", testConcurrentGrantUse},
		{"Prompts", testPrompts},
		{"Calendars", testCalendars},
		{"Tokens", testTokens},
		{"ConsoleSessions", testConsoleSessions},
		{"Audit", testAudit},
		{"Concurrent/Writers", testConcurrentWriters},
		{"Concurrent/Failures", testConcurrentFailures},
		{"Concurrent/ReserveGuess", testConcurrentReserveGuess},
		{"Context/Cancelled", testCancelled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

// testKey is the fixed installation secret the suite hashes PINs with.
var testKey = []byte("vipgate-storagetest-fixed-key-0123456789")

// t0 is the suite's reference time.
var t0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func hasher(t testing.TB) *gate.Hasher {
	t.Helper()
	h, err := gate.NewHasher(testKey)
	if err != nil {
		t.Fatalf("new hasher: %v", err)
	}
	return h
}

func ctx(t testing.TB) context.Context {
	return t.Context()
}

// fullGate returns a gate with every field set.
func fullGate(t testing.TB, id string) *gate.Gate {
	t.Helper()
	pin := hasher(t).Hash("4711")
	return &gate.Gate{
		ID:       id,
		Name:     "Hotline " + id,
		Enabled:  true,
		Match:    gate.Match{Numbers: []string{"+4971112345", "+49711999*"}, Names: []string{"hotline", "support"}},
		Language: "de",
		Activation: gate.Activation{Mode: gate.ActiveSchedule, Schedule: &gate.Schedule{
			TimeZone: "Europe/Berlin",
			Windows: []gate.Window{
				{Days: []string{"mon-fri"}, From: "08:00", To: "18:00"},
				{Days: []string{"sat"}, From: "22:00", To: "02:00"},
			},
			Active: gate.Outside,
			Closures: []gate.Closure{
				{Name: "Christmas Eve", Date: "12-24", Yearly: true, From: "12:00", To: "24:00"},
				{Name: "Inventory", Date: "2026-07-01", Until: "2026-07-03"},
			},
		}},
		Identification: gate.Identification{
			Mode:      gate.IdentWebhook,
			StaticPIN: &pin,
			PINSet: []gate.SetPIN{
				{Label: "November", PIN: hasher(t).Hash("1111"), Account: "ACC-11", ValidFrom: t0, ValidUntil: t0.Add(30 * 24 * time.Hour)},
				{Label: "December", PIN: hasher(t).Hash("1212"), ValidFrom: t0.Add(30 * 24 * time.Hour)},
			},
			UnknownCaller: gate.UnknownStatic,
			Withheld:      gate.WithheldStatic,
			Region:        "DE",
			Webhook: &gate.WebhookConfig{
				URL:             "https://crm.example/check?caller=###CALLER_NUMBER###&called=###CALLED_NUMBER###",
				Method:          "POST",
				Headers:         map[string]string{"X-Tenant": "42", "Accept": "application/json"},
				Body:            `{"caller":"###CALLER_NUMBER###"}`,
				Timeout:         gate.Duration(2500 * time.Millisecond),
				MaxConcurrent:   16,
				CAFile:          "/etc/vipgate/ca.pem",
				SecretFile:      "/etc/vipgate/hook.key",
				CacheTTL:        gate.Duration(time.Minute),
				BreakerFailures: 7,
				BreakerCooldown: gate.Duration(45 * time.Second),
			},
		},
		Dialogue: gate.Dialogue{
			MaxRetries: 4, MinDigits: 4, MaxDigits: 8,
			FirstDigitTimeout: gate.Duration(8 * time.Second),
			InterDigitTimeout: gate.Duration(3 * time.Second),
			RejectWeak:        true,
		},
		Prompts: gate.Prompts{gate.PromptAskPIN: "custom/ask", gate.PromptWrongPIN: "custom/wrong"},
		Routes: gate.Routes{
			ForwardContext: "from-vipgate",
			OnCorrect:      gate.Target{Kind: gate.TargetExtension, Exten: "200", Priority: 1},
			OnIncorrect:    gate.Target{Kind: gate.TargetLocation, Context: "ivr", Exten: "s", Priority: 2},
			Reject:         gate.RejectStyle{Cause: gate.CauseRejected, Announce: true},
			Connecting:     true,
		},
		Failure: gate.FailurePolicy{Action: gate.FailForward, Target: gate.Target{Kind: gate.TargetHangup, Cause: gate.CauseCongestion}},
		Lockout: gate.LockoutPolicy{
			MaxFailures: 5, Window: gate.Duration(10 * time.Minute),
			Duration: gate.Duration(time.Hour), GateMaxFailures: 50,
		},
		Retention: "30d",
	}
}

// tableGate returns a small table-mode gate.
func tableGate(id string) *gate.Gate {
	return &gate.Gate{
		ID:             id,
		Name:           "Table " + id,
		Enabled:        true,
		Activation:     gate.Activation{Mode: gate.ActiveAlways},
		Identification: gate.Identification{Mode: gate.IdentTable, UnknownCaller: gate.UnknownReject, Region: "DE"},
	}
}

func mustCreate(t testing.TB, s gate.Store, g *gate.Gate) {
	t.Helper()
	if err := s.CreateGate(ctx(t), g); err != nil {
		t.Fatalf("create gate %s: %v", g.ID, err)
	}
}

func mustPut(t testing.TB, s gate.Store, e *gate.Entry) *gate.Entry {
	t.Helper()
	if err := s.PutEntry(ctx(t), e); err != nil {
		t.Fatalf("put entry %s/%s: %v", e.GateID, e.Pattern, err)
	}
	return e
}

func entry(t testing.TB, gateID, pattern, pin string) *gate.Entry {
	return &gate.Entry{GateID: gateID, Pattern: pattern, PIN: hasher(t).Hash(pin), Label: "label " + pattern}
}

func wantErr(t testing.TB, what string, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("%s: unexpected error %v", what, err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
	noDriverText(t, what, err)
}

// driverWords are pieces of SQLite's and PostgreSQL's own messages; a
// store translates such errors at its boundary, so none may appear in the
// text of an error it returns for a refused request.
var driverWords = []string{"constraint", "UNIQUE", "FOREIGN KEY", "SQLSTATE", "duplicate key", "violates", "pgx", "sqlite3"}

func noDriverText(t testing.TB, what string, err error) {
	t.Helper()
	for _, w := range driverWords {
		if strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q carries the driver's text (%q)", what, err, w)
		}
	}
}

// wantConflictField checks that err is a *gate.ConflictError naming field.
func wantConflictField(t testing.TB, what string, err error, field string) {
	t.Helper()
	var ce *gate.ConflictError
	if !errors.As(err, &ce) || ce.Field != field {
		t.Errorf("%s: error %v, want a gate.ConflictError for field %q", what, err, field)
	}
	noDriverText(t, what, err)
}

// sameTime compares times at millisecond precision (PostgreSQL keeps
// microseconds, SQLite whatever the store writes).
func sameTime(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero() == b.IsZero()
	}
	return a.Truncate(time.Millisecond).Equal(b.Truncate(time.Millisecond))
}

func checkTime(t testing.TB, what string, got, want time.Time) {
	t.Helper()
	if !sameTime(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// comparableGate returns a copy of g that can be compared with
// reflect.DeepEqual: store-set times are cleared and override times
// checked separately.
func comparableGate(g *gate.Gate) *gate.Gate {
	b, err := json.Marshal(g)
	if err != nil {
		panic(err)
	}
	var c gate.Gate
	if err := json.Unmarshal(b, &c); err != nil {
		panic(err)
	}
	c.CreatedAt, c.UpdatedAt = time.Time{}, time.Time{}
	if c.Override != nil {
		c.Override.Until, c.Override.SetAt = time.Time{}, time.Time{}
	}
	return &c
}

func checkGate(t testing.TB, got, want *gate.Gate) {
	t.Helper()
	if got == nil {
		t.Fatalf("gate %s: got nil", want.ID)
	}
	if !reflect.DeepEqual(comparableGate(got), comparableGate(want)) {
		gb, _ := json.MarshalIndent(got, "", " ")
		wb, _ := json.MarshalIndent(want, "", " ")
		t.Fatalf("gate %s differs:\ngot  %s\nwant %s", want.ID, gb, wb)
	}
	checkOverride(t, got.Override, want.Override)
}

func checkOverride(t testing.TB, got, want *gate.Override) {
	t.Helper()
	if (got == nil) != (want == nil) {
		t.Fatalf("override = %+v, want %+v", got, want)
	}
	if got == nil {
		return
	}
	if got.Active != want.Active || got.Reason != want.Reason {
		t.Errorf("override = %+v, want %+v", got, want)
	}
	checkTime(t, "override.until", got.Until, want.Until)
	checkTime(t, "override.set_at", got.SetAt, want.SetAt)
}

func checkEntry(t testing.TB, got, want *gate.Entry) {
	t.Helper()
	if got == nil {
		t.Fatalf("entry %s: got nil", want.Pattern)
	}
	if got.ID != want.ID || got.GateID != want.GateID || got.Pattern != want.Pattern || got.Label != want.Label {
		t.Errorf("entry = {id %d gate %q pattern %q label %q}, want {id %d gate %q pattern %q label %q}",
			got.ID, got.GateID, got.Pattern, got.Label, want.ID, want.GateID, want.Pattern, want.Label)
	}
	if !bytes.Equal(got.PIN.Salt, want.PIN.Salt) || !bytes.Equal(got.PIN.Sum, want.PIN.Sum) {
		t.Errorf("entry %s: PIN hash differs", want.Pattern)
	}
	checkTime(t, "entry "+want.Pattern+" valid_from", got.ValidFrom, want.ValidFrom)
	checkTime(t, "entry "+want.Pattern+" valid_until", got.ValidUntil, want.ValidUntil)
}

// assertNoSecret walks v and fails if any string or byte slice in it
// contains secret.
func assertNoSecret(t testing.TB, what string, v any, secret string) {
	t.Helper()
	var walk func(path string, rv reflect.Value)
	walk = func(path string, rv reflect.Value) {
		switch rv.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !rv.IsNil() {
				walk(path, rv.Elem())
			}
		case reflect.Struct:
			for i := range rv.NumField() {
				walk(path+"."+rv.Type().Field(i).Name, rv.Field(i))
			}
		case reflect.Slice, reflect.Array:
			if rv.Type().Elem().Kind() == reflect.Uint8 {
				if bytes.Contains(rv.Bytes(), []byte(secret)) {
					t.Errorf("%s%s holds the PIN in clear", what, path)
				}
				return
			}
			for i := range rv.Len() {
				walk(fmt.Sprintf("%s[%d]", path, i), rv.Index(i))
			}
		case reflect.Map:
			it := rv.MapRange()
			for it.Next() {
				walk(path+"[key]", it.Key())
				walk(fmt.Sprintf("%s[%v]", path, it.Key()), it.Value())
			}
		case reflect.String:
			if strings.Contains(rv.String(), secret) {
				t.Errorf("%s%s = %q holds the PIN in clear", what, path, rv.String())
			}
		}
	}
	walk("", reflect.ValueOf(v))
	if b, err := json.Marshal(v); err == nil && bytes.Contains(b, []byte(secret)) {
		t.Errorf("%s: JSON form holds the PIN in clear: %s", what, b)
	}
}

func testPing(t *testing.T, s gate.Store) {
	if err := s.Ping(ctx(t)); err != nil {
		t.Fatalf("ping: %v", err)
	}
}

func testCancelled(t *testing.T, s gate.Store) {
	mustCreate(t, s, tableGate("a"))
	c, cancel := context.WithCancel(ctx(t))
	cancel()
	if err := s.PutEntry(c, entry(t, "a", "+4971112345", "4711")); err == nil {
		t.Fatal("put entry with a cancelled context: no error")
	}
	if _, n, err := s.ListEntries(ctx(t), "a", gate.EntryFilter{}); err != nil || n != 0 {
		t.Fatalf("list entries after cancelled put: %d entries, %v; want 0, nil", n, err)
	}
}
