package storagetest

import (
	"errors"
	"testing"

	"github.com/vipgate/vipgate/gate"
)

// kindEntries is a gate's table with entries of every kind; see
// testEntryKindsLookup for what each caller finds.
func kindEntries(t *testing.T, s gate.Store) map[string]*gate.Entry {
	h := hasher(t)
	ext := gate.Target{Kind: gate.TargetExtension, Exten: "200"}
	loc := gate.Target{Kind: gate.TargetLocation, Context: "vip", Exten: "s", Priority: 2}
	es := map[string]*gate.Entry{
		"deny area":  {Pattern: "+49711*", Kind: gate.EntryDeny, Label: "blocked"},
		"pin branch": {Pattern: "+4971155*", Kind: gate.EntryPIN, PIN: h.Hash("5555"), Priority: 3},
		"allow long": {Pattern: "+49711551234", Kind: gate.EntryAllow, Target: ext},
		"allow vip":  {Pattern: "+4917612345678", Kind: gate.EntryAllow, Label: "Anna", Priority: 10, Target: loc},
		"pin berlin": {Pattern: "+4930*", PIN: h.Hash("3030")},
		"allow 3012": {Pattern: "+493012*", Kind: gate.EntryAllow},
		"deny exact": {Pattern: "+49301234567", Kind: gate.EntryDeny},
	}
	for _, e := range es {
		e.GateID = "a"
		mustPut(t, s, e)
	}
	return es
}

func checkKind(t *testing.T, what string, got, want *gate.Entry) {
	t.Helper()
	checkEntry(t, got, want)
	// Targets compare by their text form: "200" is extension 200 at
	// priority 1 however it was built.
	if got.EntryKind() != want.EntryKind() || got.Priority != want.Priority || got.Target.String() != want.Target.String() {
		t.Errorf("%s: kind %q priority %d target %v, want %q %d %v", what, got.Kind, got.Priority, got.Target,
			want.EntryKind(), want.Priority, want.Target)
	}
	if got.Kind != want.EntryKind() {
		t.Errorf("%s: stored kind %q, want %q (an unset kind is stored as pin)", what, got.Kind, want.EntryKind())
	}
}

// testEntryKindsRoundTrip checks that kind, priority and target survive
// put, get, list and update, and that an allow or deny entry has no PIN.
func testEntryKindsRoundTrip(t *testing.T, s gate.Store) {
	mustCreate(t, s, tableGate("a"))
	es := kindEntries(t, s)
	for name, e := range es {
		got, err := s.GetEntry(ctx(t), "a", e.ID)
		if err != nil {
			t.Fatalf("get %s: %v", name, err)
		}
		checkKind(t, name, got, e)
		if !got.EntryKind().HasPIN() && (len(got.PIN.Salt) != 0 || len(got.PIN.Sum) != 0) {
			t.Errorf("%s: has a PIN hash", name)
		}
	}
	list, total, err := s.ListEntries(ctx(t), "a", gate.EntryFilter{})
	if err != nil || total != len(es) {
		t.Fatalf("list: %d entries, %v; want %d", total, err, len(es))
	}
	byID := map[int64]*gate.Entry{}
	for _, e := range es {
		byID[e.ID] = e
	}
	for _, got := range list {
		checkKind(t, "listed "+got.Pattern, got, byID[got.ID])
	}
	// A PIN entry becomes an allow entry and back.
	h := hasher(t)
	e := es["pin berlin"]
	upd := &gate.Entry{ID: e.ID, GateID: "a", Pattern: e.Pattern, Kind: gate.EntryAllow, Priority: 7, Label: "now allowed"}
	mustPut(t, s, upd)
	got, err := s.GetEntry(ctx(t), "a", e.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkKind(t, "pin entry updated to allow", got, upd)
	back := &gate.Entry{ID: e.ID, GateID: "a", Pattern: e.Pattern, Kind: gate.EntryPIN, PIN: h.Hash("4040")}
	mustPut(t, s, back)
	if got, err = s.GetEntry(ctx(t), "a", e.ID); err != nil || !h.Check(got.PIN, "4040") || got.Kind != gate.EntryPIN || got.Priority != 0 {
		t.Errorf("allow entry updated to pin: %+v, %v", got, err)
	}
}

// testEntryKindsLookup checks the lookup order: a deny entry wins over
// an allow entry and an allow entry over a PIN entry, whatever their
// lengths; within a kind the longest pattern wins.
func testEntryKindsLookup(t *testing.T, s gate.Store) {
	mustCreate(t, s, tableGate("a"))
	es := kindEntries(t, s)
	tests := []struct{ number, want string }{
		{"+49711551234", "deny area"},   // deny prefix beats a longer allow
		{"+49711559999", "deny area"},   // deny prefix beats a longer pin
		{"+4917612345678", "allow vip"}, // exact allow
		{"+4930127777", "allow 3012"},   // allow prefix beats a shorter pin prefix
		{"+4930555555", "pin berlin"},   // pin prefix
		{"+49301234567", "deny exact"},  // exact deny beats an allow prefix
	}
	for _, tt := range tests {
		got, err := s.LookupEntry(ctx(t), "a", tt.number, t0)
		if err != nil {
			t.Errorf("lookup %s: %v, want %s", tt.number, err, tt.want)
			continue
		}
		checkKind(t, "lookup "+tt.number, got, es[tt.want])
	}
	// An expired deny entry no longer wins.
	d := es["deny area"]
	d.ValidUntil = t0
	mustPut(t, s, d)
	got, err := s.LookupEntry(ctx(t), "a", "+49711551234", t0)
	if err != nil {
		t.Fatalf("lookup after the deny entry expired: %v", err)
	}
	checkKind(t, "lookup after the deny entry expired", got, es["allow long"])
}

// testEntryKindsInvalid checks that a store refuses entries whose PIN,
// target or priority does not fit their kind, naming the field, and that
// an import of such an entry writes nothing.
func testEntryKindsInvalid(t *testing.T, s gate.Store) {
	mustCreate(t, s, tableGate("a"))
	h := hasher(t)
	tests := []struct {
		name  string
		e     *gate.Entry
		field string
	}{
		{"allow with a PIN", &gate.Entry{Pattern: "+491", Kind: gate.EntryAllow, PIN: h.Hash("1234")}, "pin"},
		{"deny with a target", &gate.Entry{Pattern: "+492", Kind: gate.EntryDeny, Target: gate.Continue}, "target"},
		{"pin without PIN", &gate.Entry{Pattern: "+493", Kind: gate.EntryPIN}, "pin"},
		{"unknown kind", &gate.Entry{Pattern: "+494", Kind: "vip"}, "kind"},
		{"priority out of range", &gate.Entry{Pattern: "+495", Kind: gate.EntryAllow, Priority: gate.MaxPriority + 1}, "priority"},
	}
	for _, tt := range tests {
		tt.e.GateID = "a"
		err := s.PutEntry(ctx(t), tt.e)
		var ve *gate.ValidationError
		if !errors.Is(err, gate.ErrInvalid) || !errors.As(err, &ve) || !hasSuffix(ve.Field, tt.field) {
			t.Errorf("put %s: %v, want ErrInvalid naming %s", tt.name, err, tt.field)
		}
		ok := &gate.Entry{GateID: "a", Pattern: "+4999", Kind: gate.EntryDeny}
		if _, err := s.ImportEntries(ctx(t), "a", []*gate.Entry{ok, tt.e}, gate.ImportOptions{}); !errors.Is(err, gate.ErrInvalid) {
			t.Errorf("import with %s: %v, want ErrInvalid", tt.name, err)
		}
	}
	if _, total, err := s.ListEntries(ctx(t), "a", gate.EntryFilter{}); err != nil || total != 0 {
		t.Errorf("after refused puts and imports: %d entries, %v; want none", total, err)
	}
}

// testEntryKindsImport checks that an import writes and updates kinds,
// priorities and targets.
func testEntryKindsImport(t *testing.T, s gate.Store) {
	mustCreate(t, s, tableGate("a"))
	h := hasher(t)
	for round, upsert := range []bool{false, true} {
		ext := gate.Target{Kind: gate.TargetExtension, Exten: "300"}
		in := []*gate.Entry{
			{Pattern: "+4911", Kind: gate.EntryDeny, Label: "spam"},
			{Pattern: "+4912", Kind: gate.EntryAllow, Priority: 9, Target: ext},
			{Pattern: "+4913", PIN: h.Hash("1313"), Priority: 1},
		}
		if upsert {
			// Swap the kinds so the update must write each column.
			in = []*gate.Entry{
				{Pattern: "+4911", Kind: gate.EntryAllow, Priority: 2},
				{Pattern: "+4912", PIN: h.Hash("1212")},
				{Pattern: "+4913", Kind: gate.EntryDeny},
			}
		}
		if _, err := s.ImportEntries(ctx(t), "a", in, gate.ImportOptions{}); err != nil {
			t.Fatalf("import round %d: %v", round, err)
		}
		for _, want := range in {
			got, err := s.LookupEntry(ctx(t), "a", want.Pattern, t0)
			if err != nil {
				t.Fatalf("round %d lookup %s: %v", round, want.Pattern, err)
			}
			want.ID, want.GateID = got.ID, "a"
			checkKind(t, "imported "+want.Pattern, got, want)
		}
	}
}

func hasSuffix(s, suffix string) bool {
	return len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix
}
