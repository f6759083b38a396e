package storagetest

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

func testEntryPutGet(t *testing.T, s gate.Store) {
	mustCreate(t, s, tableGate("a"))
	h := hasher(t)
	e := &gate.Entry{GateID: "a", Pattern: "+4971112345", PIN: h.Hash("4711"), Label: "Müller, Anna",
		ValidFrom: t0, ValidUntil: t0.Add(30 * 24 * time.Hour)}
	before := time.Now().Add(-time.Second)
	mustPut(t, s, e)
	if e.ID == 0 {
		t.Fatal("put entry: ID not set")
	}
	if e.CreatedAt.Before(before) || e.UpdatedAt.Before(e.CreatedAt) {
		t.Errorf("put entry: created_at %v updated_at %v, want now", e.CreatedAt, e.UpdatedAt)
	}
	got, err := s.GetEntry(ctx(t), "a", e.ID)
	if err != nil {
		t.Fatalf("get entry: %v", err)
	}
	checkEntry(t, got, e)
	checkTime(t, "created_at", got.CreatedAt, e.CreatedAt)
	if !h.Check(got.PIN, "4711") || h.Check(got.PIN, "4712") {
		t.Error("stored PIN hash does not check the PIN")
	}

	// Update: new label, PIN, validity and pattern.
	upd := &gate.Entry{ID: e.ID, GateID: "a", Pattern: "+4971112346", PIN: h.Hash("9090"), Label: "Anna"}
	mustPut(t, s, upd)
	if upd.ID != e.ID {
		t.Errorf("update changed the ID: %d, want %d", upd.ID, e.ID)
	}
	got, err = s.GetEntry(ctx(t), "a", e.ID)
	if err != nil {
		t.Fatalf("get updated entry: %v", err)
	}
	checkEntry(t, got, upd)
	checkTime(t, "created_at after update", got.CreatedAt, e.CreatedAt)
	if got.UpdatedAt.Before(e.UpdatedAt) {
		t.Errorf("updated_at went back: %v < %v", got.UpdatedAt, e.UpdatedAt)
	}
	if !h.Check(got.PIN, "9090") {
		t.Error("updated PIN hash does not check the new PIN")
	}
	if _, err := s.LookupEntry(ctx(t), "a", "+4971112345", t0); !isNotFound(err) {
		t.Errorf("lookup of the old pattern after update: %v, want not found", err)
	}
}

func testEntryPutErrors(t *testing.T, s gate.Store) {
	mustCreate(t, s, tableGate("a"))
	mustCreate(t, s, tableGate("b"))
	first := mustPut(t, s, entry(t, "a", "+4971112345", "4711"))
	second := mustPut(t, s, entry(t, "a", "+49711*", "4712"))
	inB := mustPut(t, s, entry(t, "b", "+4930123", "4713"))
	tests := []struct {
		name string
		op   func() error
		want error
	}{
		{"insert duplicate pattern", func() error { return s.PutEntry(ctx(t), entry(t, "a", "+4971112345", "1")) }, gate.ErrConflict},
		{"same pattern in other gate", func() error { return s.PutEntry(ctx(t), entry(t, "b", "+4971112345", "1")) }, nil},
		{"insert into missing gate", func() error { return s.PutEntry(ctx(t), entry(t, "missing", "+4971112345", "1")) }, gate.ErrNotFound},
		{"update missing ID", func() error {
			e := entry(t, "a", "+4971100000", "1")
			e.ID = first.ID + second.ID + inB.ID + 1000
			return s.PutEntry(ctx(t), e)
		}, gate.ErrNotFound},
		{"update entry of other gate", func() error {
			e := entry(t, "a", "+4930123", "1")
			e.ID = inB.ID
			return s.PutEntry(ctx(t), e)
		}, gate.ErrNotFound},
		{"update to taken pattern", func() error {
			e := entry(t, "a", "+49711*", "1")
			e.ID = first.ID
			return s.PutEntry(ctx(t), e)
		}, gate.ErrConflict},
		{"get missing", func() error { _, err := s.GetEntry(ctx(t), "a", first.ID+second.ID+inB.ID+1000); return err }, gate.ErrNotFound},
		{"get entry of other gate", func() error { _, err := s.GetEntry(ctx(t), "a", inB.ID); return err }, gate.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.name, tc.op(), tc.want) })
	}
	wantConflictField(t, "insert duplicate pattern", s.PutEntry(ctx(t), entry(t, "a", "+4971112345", "1")), "caller")
	got, err := s.GetEntry(ctx(t), "a", first.ID)
	if err != nil {
		t.Fatalf("get entry: %v", err)
	}
	checkEntry(t, got, first)
}

// lookupFixture is a caller table with nested prefixes, an exact number
// and prefix of the same length, and validity windows.
func lookupFixture(t testing.TB, gateID string) map[string]*gate.Entry {
	h := hasher(t)
	es := []*gate.Entry{
		{Pattern: "+49711*", Label: "stuttgart"},
		{Pattern: "+4971112*", Label: "office"},
		{Pattern: "+4971112345", Label: "anna"},
		{Pattern: "+4930*", Label: "berlin later", ValidFrom: t0.Add(time.Hour)},
		{Pattern: "+493012*", Label: "berlin expired", ValidUntil: t0},
		{Pattern: "+49301234", Label: "window", ValidFrom: t0.Add(-time.Hour), ValidUntil: t0.Add(time.Hour)},
		{Pattern: "+4989123", Label: "munich exact"},
		{Pattern: "+498912*", Label: "munich prefix"},
		{Pattern: "+1*", Label: "nanp"},
	}
	m := map[string]*gate.Entry{}
	for i, e := range es {
		e.GateID = gateID
		e.PIN = h.Hash(fmt.Sprintf("%04d", 1000+i))
		m[e.Label] = e
	}
	return m
}

func testEntryLookup(t *testing.T, s gate.Store) {
	mustCreate(t, s, tableGate("a"))
	fx := lookupFixture(t, "a")
	for _, e := range fx {
		mustPut(t, s, e)
	}
	tests := []struct {
		number string
		at     time.Time
		want   string // label, "" = not found
	}{
		{"+4971112345", t0, "anna"},
		{"+4971112399", t0, "office"},
		{"+4971112", t0, "stuttgart"}, // "+4971112*" needs a digit after the prefix
		{"+49711123", t0, "office"},
		{"+4971199999", t0, "stuttgart"},
		{"+4971", t0, ""},
		{"+4989123", t0, "munich exact"},
		{"+4989124", t0, "munich prefix"},
		{"+12125550100", t0, "nanp"},
		{"+4930129999", t0.Add(-time.Minute), "berlin expired"},
		{"+4930129999", t0, ""},
		{"+4930129999", t0.Add(time.Hour), "berlin later"},
		{"+49301234", t0.Add(-time.Hour), "window"},
		{"+49301234", t0, "window"},
		{"+49301234", t0.Add(-time.Hour - time.Millisecond), "berlin expired"},
		{"+49301234", t0.Add(time.Hour), "berlin later"},
		{"+4940123", t0, ""},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s@%s", tc.number, tc.at.Format(time.TimeOnly)), func(t *testing.T) {
			got, err := s.LookupEntry(ctx(t), "a", tc.number, tc.at)
			if tc.want == "" {
				if !isNotFound(err) {
					t.Fatalf("lookup = %v, %v; want not found", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("lookup: %v", err)
			}
			checkEntry(t, got, fx[tc.want])
			if !hasher(t).Check(got.PIN, fmt.Sprintf("%04d", 1000+slices.IndexFunc(labels, func(l string) bool { return l == tc.want }))) {
				t.Error("looked-up PIN hash does not check")
			}
		})
	}
	wantErr(t, "lookup in missing gate", func() error { _, err := s.LookupEntry(ctx(t), "missing", "+4971112345", t0); return err }(), gate.ErrNotFound)
}

// labels lists the lookupFixture labels in insertion order.
var labels = []string{"stuttgart", "office", "anna", "berlin later", "berlin expired", "window", "munich exact", "munich prefix", "nanp"}

func testEntryLookupIsolated(t *testing.T, s gate.Store) {
	mustCreate(t, s, tableGate("a"))
	mustCreate(t, s, tableGate("b"))
	mustCreate(t, s, tableGate("c"))
	a := mustPut(t, s, entry(t, "a", "+4971112345", "1111"))
	b := mustPut(t, s, entry(t, "b", "+49711*", "2222"))
	tests := []struct {
		gate, number string
		want         *gate.Entry
	}{
		{"a", "+4971112345", a},
		{"a", "+4971112346", nil},
		{"b", "+4971112345", b},
		{"c", "+4971112345", nil},
	}
	for _, tc := range tests {
		got, err := s.LookupEntry(ctx(t), tc.gate, tc.number, t0)
		if tc.want == nil {
			if !isNotFound(err) {
				t.Errorf("lookup %s in %s = %v, %v; want not found", tc.number, tc.gate, got, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("lookup %s in %s: %v", tc.number, tc.gate, err)
		}
		checkEntry(t, got, tc.want)
	}
}

// testEntryLookupDialled checks numbers kept as dialled (internal
// extensions, see gate.Numbering): they match only entries written the same
// way, prefixes down to one digit included, and never an E.164 entry that
// ends in the same digits, nor the other way round.
func testEntryLookupDialled(t *testing.T, s gate.Store) {
	mustCreate(t, s, tableGate("a"))
	for _, p := range []string{"201", "0201", "3*", "+49201*", "+4930123"} {
		mustPut(t, s, entry(t, "a", p, "1111"))
	}
	tests := []struct{ number, want string }{
		{"201", "201"},
		{"0201", "0201"},
		{"2010", ""},
		{"20", ""},
		{"399", "3*"},
		{"3", ""}, // "3*" needs a digit after the prefix
		{"+49201", ""},
		{"+492011", "+49201*"},
		{"30123", "3*"}, // not the E.164 entry +4930123
		{"+4930123", "+4930123"},
		{"+4930*", ""},
	}
	for _, tc := range tests {
		got, err := s.LookupEntry(ctx(t), "a", tc.number, t0)
		if tc.want == "" {
			if !isNotFound(err) {
				t.Errorf("lookup %s = %v, %v; want not found", tc.number, got, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("lookup %s: %v", tc.number, err)
			continue
		}
		if got.Pattern != tc.want {
			t.Errorf("lookup %s = entry %s, want %s", tc.number, got.Pattern, tc.want)
		}
	}
}

func testEntryList(t *testing.T, s gate.Store) {
	mustCreate(t, s, tableGate("a"))
	mustCreate(t, s, tableGate("b"))
	var patterns []string
	for i := range 25 {
		p := fmt.Sprintf("+49711%05d", (i*7919)%100000)
		if i%5 == 0 {
			p = fmt.Sprintf("+4930%d*", i)
		}
		patterns = append(patterns, p)
		mustPut(t, s, entry(t, "a", p, "4711"))
	}
	patterns = append(patterns, "+49711*")
	mustPut(t, s, entry(t, "a", "+49711*", "4711"))
	for i := range 4 {
		mustPut(t, s, entry(t, "b", fmt.Sprintf("+49711%05d", i), "4711"))
	}
	sorted := slices.Clone(patterns)
	slices.Sort(sorted)
	filter := func(prefix string) []string {
		var out []string
		for _, p := range sorted {
			if strings.HasPrefix(p, prefix) {
				out = append(out, p)
			}
		}
		return out
	}
	tests := []struct {
		name string
		f    gate.EntryFilter
		all  []string // every match, in order
		from int
		n    int
	}{
		{"default limit", gate.EntryFilter{}, sorted, 0, len(sorted)},
		{"first page", gate.EntryFilter{Limit: 10}, sorted, 0, 10},
		{"second page", gate.EntryFilter{Offset: 10, Limit: 10}, sorted, 10, 10},
		{"last page", gate.EntryFilter{Offset: 20, Limit: 10}, sorted, 20, len(sorted) - 20},
		{"past the end", gate.EntryFilter{Offset: 100, Limit: 10}, sorted, 0, 0},
		{"caller prefix", gate.EntryFilter{Caller: "+49711"}, filter("+49711"), 0, len(filter("+49711"))},
		{"caller prefix paged", gate.EntryFilter{Caller: "+49711", Offset: 3, Limit: 5}, filter("+49711"), 3, 5},
		{"caller berlin", gate.EntryFilter{Caller: "+4930"}, filter("+4930"), 0, 5},
		{"caller no match", gate.EntryFilter{Caller: "+33"}, nil, 0, 0},
		// Keyset paging: the page after a pattern; total counts all matches.
		{"after", gate.EntryFilter{After: sorted[9], Limit: 10}, sorted, 10, 10},
		{"after the last", gate.EntryFilter{After: sorted[len(sorted)-1], Limit: 10}, sorted, 0, 0},
		{"after with caller", gate.EntryFilter{Caller: "+49711", After: filter("+49711")[2], Limit: 2}, filter("+49711"), 3, 2},
		{"after a pattern not stored", gate.EntryFilter{After: sorted[4] + "0", Limit: 3}, sorted, 5, 3},
		{"no total", gate.EntryFilter{After: sorted[9], Limit: 10, NoTotal: true}, sorted, 10, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, total, err := s.ListEntries(ctx(t), "a", tc.f)
			if err != nil {
				t.Fatalf("list entries: %v", err)
			}
			if wantTotal := len(tc.all); total != wantTotal && !(tc.f.NoTotal && total == -1) {
				t.Errorf("total = %d, want %d", total, wantTotal)
			} else if tc.f.NoTotal && total != -1 {
				t.Errorf("NoTotal: total = %d, want -1", total)
			}
			var want []string
			if tc.n > 0 {
				want = tc.all[tc.from : tc.from+tc.n]
			}
			var gotP []string
			for _, e := range got {
				gotP = append(gotP, e.Pattern)
				if e.GateID != "a" || e.ID == 0 {
					t.Errorf("entry %s: gate %q id %d", e.Pattern, e.GateID, e.ID)
				}
			}
			if !slices.Equal(gotP, want) {
				t.Errorf("patterns = %v, want %v", gotP, want)
			}
		})
	}
}

func testEntryDelete(t *testing.T, s gate.Store) {
	mustCreate(t, s, tableGate("a"))
	mustCreate(t, s, tableGate("b"))
	e := mustPut(t, s, entry(t, "a", "+4971112345", "4711"))
	keep := mustPut(t, s, entry(t, "a", "+4971112346", "4711"))
	wantErr(t, "delete from other gate", s.DeleteEntry(ctx(t), "b", e.ID), gate.ErrNotFound)
	wantErr(t, "delete", s.DeleteEntry(ctx(t), "a", e.ID), nil)
	wantErr(t, "delete again", s.DeleteEntry(ctx(t), "a", e.ID), gate.ErrNotFound)
	wantErr(t, "get deleted", func() error { _, err := s.GetEntry(ctx(t), "a", e.ID); return err }(), gate.ErrNotFound)
	wantErr(t, "lookup deleted", func() error { _, err := s.LookupEntry(ctx(t), "a", "+4971112345", t0); return err }(), gate.ErrNotFound)
	got, err := s.GetEntry(ctx(t), "a", keep.ID)
	if err != nil {
		t.Fatalf("get kept entry: %v", err)
	}
	checkEntry(t, got, keep)
	// The pattern is free again.
	mustPut(t, s, entry(t, "a", "+4971112345", "4711"))
}

func listPatterns(t testing.TB, s gate.Store, gateID string) map[string]*gate.Entry {
	t.Helper()
	es, total, err := s.ListEntries(ctx(t), gateID, gate.EntryFilter{Limit: 1000})
	if err != nil {
		t.Fatalf("list entries: %v", err)
	}
	if total != len(es) {
		t.Fatalf("list entries: total %d, got %d", total, len(es))
	}
	m := map[string]*gate.Entry{}
	for _, e := range es {
		m[e.Pattern] = e
	}
	return m
}

// importer is ImportEntries, or ImportEntriesFrom with the entries
// given in batches.
type importer struct {
	name string
	run  func(s gate.Store, t *testing.T, gateID string, entries []*gate.Entry, opts gate.ImportOptions) (gate.ImportResult, error)
}

// inBatches returns a next function for ImportEntriesFrom that yields
// entries n at a time (an empty batch first, which stores must take).
func inBatches(entries []*gate.Entry, n int) func() ([]*gate.Entry, error) {
	first := true
	return func() ([]*gate.Entry, error) {
		if first {
			first = false
			return []*gate.Entry{}, nil
		}
		if len(entries) == 0 {
			return nil, io.EOF
		}
		b := entries[:min(n, len(entries))]
		entries = entries[len(b):]
		return b, nil
	}
}

var importers = []importer{
	{"ImportEntries", func(s gate.Store, t *testing.T, id string, es []*gate.Entry, o gate.ImportOptions) (gate.ImportResult, error) {
		return s.ImportEntries(ctx(t), id, es, o)
	}},
	{"ImportEntriesFrom", func(s gate.Store, t *testing.T, id string, es []*gate.Entry, o gate.ImportOptions) (gate.ImportResult, error) {
		return s.ImportEntriesFrom(ctx(t), id, inBatches(es, 1), o)
	}},
}

func testEntryImport(t *testing.T, s gate.Store) {
	for n, imp := range importers {
		t.Run(imp.name, func(t *testing.T) { testEntryImportWith(t, s, imp, n) })
	}
}

func testEntryImportWith(t *testing.T, s gate.Store, imp importer, n int) {
	h := hasher(t)
	mk := func(pattern, pin, label string) *gate.Entry {
		return &gate.Entry{Pattern: pattern, PIN: h.Hash(pin), Label: label}
	}
	tests := []struct {
		name     string
		existing []*gate.Entry
		imp      []*gate.Entry
		opts     gate.ImportOptions
		want     gate.ImportResult
		after    map[string]string // pattern -> label
	}{
		{
			name:  "insert into empty table",
			imp:   []*gate.Entry{mk("+4971112345", "1111", "a"), mk("+49711*", "2222", "b"), {Pattern: "+4930123", PIN: h.Hash("3333"), Label: "c", ValidFrom: t0, ValidUntil: t0.Add(time.Hour)}},
			want:  gate.ImportResult{Inserted: 3},
			after: map[string]string{"+4971112345": "a", "+49711*": "b", "+4930123": "c"},
		},
		{
			name:     "update by pattern",
			existing: []*gate.Entry{mk("+4971112345", "1111", "a"), mk("+49711*", "2222", "b")},
			imp:      []*gate.Entry{mk("+49711*", "9999", "b2"), mk("+4930123", "3333", "c")},
			want:     gate.ImportResult{Inserted: 1, Updated: 1},
			after:    map[string]string{"+4971112345": "a", "+49711*": "b2", "+4930123": "c"},
		},
		{
			name:     "replace deletes the others",
			existing: []*gate.Entry{mk("+4971112345", "1111", "a"), mk("+49711*", "2222", "b"), mk("+4930123", "3333", "c")},
			imp:      []*gate.Entry{mk("+49711*", "9999", "b2"), mk("+4940*", "4444", "d")},
			opts:     gate.ImportOptions{Replace: true},
			want:     gate.ImportResult{Inserted: 1, Updated: 1, Deleted: 2},
			after:    map[string]string{"+49711*": "b2", "+4940*": "d"},
		},
		{
			name:     "replace with nothing empties the table",
			existing: []*gate.Entry{mk("+4971112345", "1111", "a"), mk("+49711*", "2222", "b")},
			opts:     gate.ImportOptions{Replace: true},
			want:     gate.ImportResult{Deleted: 2},
			after:    map[string]string{},
		},
		{
			name:     "empty import changes nothing",
			existing: []*gate.Entry{mk("+4971112345", "1111", "a")},
			want:     gate.ImportResult{},
			after:    map[string]string{"+4971112345": "a"},
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("g%d-%d", n, i)
			mustCreate(t, s, tableGate(id))
			mustCreate(t, s, tableGate(id+"-other"))
			mustPut(t, s, entry(t, id+"-other", "+4971112345", "5555"))
			for _, e := range tc.existing {
				e.GateID = id
				mustPut(t, s, e)
			}
			res, err := imp.run(s, t, id, tc.imp, tc.opts)
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			if res != tc.want {
				t.Errorf("import result = %+v, want %+v", res, tc.want)
			}
			got := listPatterns(t, s, id)
			if len(got) != len(tc.after) {
				t.Errorf("after import: %d entries, want %d", len(got), len(tc.after))
			}
			for p, label := range tc.after {
				e, ok := got[p]
				if !ok {
					t.Errorf("after import: %s missing", p)
					continue
				}
				if e.Label != label {
					t.Errorf("after import: %s label %q, want %q", p, e.Label, label)
				}
				for _, in := range tc.imp {
					if in.Pattern == p {
						full, err := s.GetEntry(ctx(t), id, e.ID)
						if err != nil {
							t.Fatalf("get imported entry: %v", err)
						}
						want := *in
						want.ID, want.GateID = e.ID, id
						checkEntry(t, full, &want)
					}
				}
				number := p
				if strings.HasSuffix(p, "*") {
					number = strings.TrimSuffix(p, "*") + "55"
				}
				if _, err := s.LookupEntry(ctx(t), id, number, t0.Add(time.Minute)); err != nil {
					t.Errorf("lookup of imported %s: %v", p, err)
				}
			}
			if other := listPatterns(t, s, id+"-other"); len(other) != 1 {
				t.Errorf("import touched another gate: %d entries there, want 1", len(other))
			}
		})
	}
	t.Run("missing gate", func(t *testing.T) {
		_, err := imp.run(s, t, "missing", []*gate.Entry{mk("+4971112345", "1111", "a")}, gate.ImportOptions{})
		wantErr(t, "import into missing gate", err, gate.ErrNotFound)
	})
}

func testEntryImportAllOrNothing(t *testing.T, s gate.Store) {
	for n, imp := range importers {
		t.Run(imp.name, func(t *testing.T) { testEntryImportAllOrNothingWith(t, s, imp, fmt.Sprintf("a%d", n)) })
	}
	// A stream that fails after some batches (a file with bad rows, read
	// as it is imported) undoes the batches before it, in an empty gate
	// and in one with entries.
	h := hasher(t)
	errSource := errors.New("the file has bad rows")
	for _, existing := range []bool{false, true} {
		id := fmt.Sprintf("fail-%v", existing)
		mustCreate(t, s, tableGate(id))
		if existing {
			mustPut(t, s, &gate.Entry{GateID: id, Pattern: "+4971112345", PIN: h.Hash("1111"), Label: "orig"})
		}
		batches := inBatches([]*gate.Entry{
			{Pattern: "+4930111", PIN: h.Hash("2222")}, {Pattern: "+4930112", PIN: h.Hash("2222")}, {Pattern: "+4971112345", PIN: h.Hash("3333"), Label: "changed"},
		}, 2)
		calls := 0
		next := func() ([]*gate.Entry, error) {
			if calls++; calls == 4 {
				return nil, errSource
			}
			return batches()
		}
		res, err := s.ImportEntriesFrom(ctx(t), id, next, gate.ImportOptions{Replace: true})
		if !errors.Is(err, errSource) || res != (gate.ImportResult{}) {
			t.Errorf("existing %v: import with a failing source = %+v, %v, want the source's error", existing, res, err)
		}
		if calls != 4 {
			t.Errorf("existing %v: next called %d times, want 4", existing, calls)
		}
		got := listPatterns(t, s, id)
		if existing && (len(got) != 1 || got["+4971112345"] == nil || got["+4971112345"].Label != "orig") || !existing && len(got) != 0 {
			t.Errorf("existing %v: after the failed import: %v", existing, got)
		}
	}
	// A pattern in two batches is a conflict as in one.
	for _, existing := range []bool{false, true} {
		id := fmt.Sprintf("dup-%v", existing)
		mustCreate(t, s, tableGate(id))
		if existing {
			mustPut(t, s, &gate.Entry{GateID: id, Pattern: "+4971112345", PIN: h.Hash("1111"), Label: "orig"})
		}
		_, err := s.ImportEntriesFrom(ctx(t), id, inBatches([]*gate.Entry{
			{Pattern: "+4930111", PIN: h.Hash("2222")}, {Pattern: "+4930112", PIN: h.Hash("2222")}, {Pattern: "+4930111", PIN: h.Hash("3333")},
		}, 2), gate.ImportOptions{})
		wantErr(t, fmt.Sprintf("existing %v: pattern in two batches", existing), err, gate.ErrConflict)
		if got := listPatterns(t, s, id); existing && len(got) != 1 || !existing && len(got) != 0 {
			t.Errorf("existing %v: after the refused import: %d entries", existing, len(got))
		}
	}
}

func testEntryImportAllOrNothingWith(t *testing.T, s gate.Store, imp importer, a string) {
	h := hasher(t)
	mustCreate(t, s, tableGate(a))
	orig := mustPut(t, s, &gate.Entry{GateID: a, Pattern: "+4971112345", PIN: h.Hash("1111"), Label: "orig"})
	tests := []struct {
		name string
		imp  []*gate.Entry
		opts gate.ImportOptions
		want error
	}{
		{"duplicate pattern in import", []*gate.Entry{
			{Pattern: "+4971112345", PIN: h.Hash("2222"), Label: "changed"},
			{Pattern: "+4930123", PIN: h.Hash("3333"), Label: "new"},
			{Pattern: "+4930123", PIN: h.Hash("4444"), Label: "new again"},
		}, gate.ImportOptions{Replace: true}, gate.ErrConflict},
		{"entry without pattern", []*gate.Entry{
			{Pattern: "+4971112345", PIN: h.Hash("2222"), Label: "changed"},
			{Pattern: "+4930123", PIN: h.Hash("3333"), Label: "new"},
			{Pattern: "", PIN: h.Hash("4444")},
		}, gate.ImportOptions{}, gate.ErrInvalid},
		{"entry without PIN hash", []*gate.Entry{
			{Pattern: "+4971112345", PIN: h.Hash("2222"), Label: "changed"},
			{Pattern: "+4930123", Label: "no pin"},
		}, gate.ImportOptions{Replace: true}, gate.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := imp.run(s, t, a, tc.imp, tc.opts)
			wantErr(t, "import", err, tc.want)
			if res != (gate.ImportResult{}) {
				t.Errorf("failed import reports %+v, want zero", res)
			}
			got := listPatterns(t, s, a)
			if len(got) != 1 || got["+4971112345"] == nil {
				t.Fatalf("after failed import: %v, want only the original entry", got)
			}
			e, err := s.GetEntry(ctx(t), a, orig.ID)
			if err != nil {
				t.Fatalf("get entry: %v", err)
			}
			checkEntry(t, e, orig)
		})
	}
}
