package pinsfile_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/pinsfile"
)

func TestReadEntriesCSVKinds(t *testing.T) {
	in := "caller;pin;label;kind;priority;target\n" +
		"+4971112345;4711;Anna;;3;\n" + // 2: pin by default
		"+4917612345678;;Key account;allow;10;200\n" + // 3
		"+49900*;;Premium;DENY;;\n" + // 4: kinds in any case
		"+4930111;;;allow;;\n" + // 5
		"+4930222;1234;;allow;;\n" + // 6: allow with a PIN
		"+4930333;;;pin;;\n" + // 7: pin without PIN
		"+4930444;;;vip;;\n" + // 8: unknown kind
		"+4930555;;;deny;;200\n" + // 9: target on deny
		"+4930666;;;allow;1001;\n" + // 10: priority out of range
		"+4930777;;;allow;x;\n" + // 11: priority not a number
		"+4930888;;;allow;;a,b\n" // 12: bad target
	got, rowErrs, err := pinsfile.ReadCSV(strings.NewReader(in), csvOpts(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("%d entries, want 4; errors %v", len(got), rowErrs)
	}
	h := csvHasher(t)
	if got[0].Kind != gate.EntryPIN || !h.Check(got[0].PIN, "4711") || got[0].Priority != 3 {
		t.Errorf("row 2: %+v", got[0])
	}
	if got[1].Kind != gate.EntryAllow || got[1].Priority != 10 || got[1].Target.String() != "200" || len(got[1].PIN.Sum) != 0 {
		t.Errorf("row 3: %+v", got[1])
	}
	if got[2].Kind != gate.EntryDeny || got[2].Pattern != "+49900*" || len(got[2].PIN.Sum) != 0 {
		t.Errorf("row 4: %+v", got[2])
	}
	want := []pinsfile.RowError{
		{Row: 6, Field: "pin"}, {Row: 7, Field: "pin"}, {Row: 8, Field: "kind"}, {Row: 9, Field: "target"},
		{Row: 10, Field: "priority"}, {Row: 11, Field: "priority"}, {Row: 12, Field: "target"},
	}
	if len(rowErrs) != len(want) {
		t.Fatalf("row errors %v, want rows/fields %v", rowErrs, want)
	}
	for i, w := range want {
		if rowErrs[i].Row != w.Row || rowErrs[i].Field != w.Field {
			t.Errorf("error %d = %v, want row %d field %s", i, rowErrs[i], w.Row, w.Field)
		}
		if strings.Contains(rowErrs[i].Problem, "1234") {
			t.Errorf("row error repeats the PIN: %v", rowErrs[i])
		}
	}
	// Without a kind column a pin column is still required.
	if _, _, err := pinsfile.ReadCSV(strings.NewReader("caller,label\n+4930111,x\n"), csvOpts(t)); err == nil {
		t.Error("a file without pin and kind columns was accepted")
	}
	// A deny list alone needs no pin column.
	if got, errs, err := pinsfile.ReadCSV(strings.NewReader("caller,kind\n+49900*,deny\n"), csvOpts(t)); err != nil || len(errs) != 0 || len(got) != 1 {
		t.Errorf("deny list: %d entries, %v, %v", len(got), errs, err)
	}
}

func TestReadEntriesJSONKinds(t *testing.T) {
	in := `[{"caller":"+4917612345678","kind":"allow","priority":10,"target":"vip,s,1","label":"Key"},
		{"caller":"+49900*","kind":"deny"},
		{"caller":"+4971112345","pin":"4711","priority":"2"}]`
	got, rowErrs, err := pinsfile.ReadJSON(strings.NewReader(in), csvOpts(t))
	if err != nil || len(rowErrs) != 0 || len(got) != 3 {
		t.Fatalf("%d entries, %v, %v", len(got), rowErrs, err)
	}
	if got[0].Kind != gate.EntryAllow || got[0].Priority != 10 || got[0].Target.String() != "vip,s,1" {
		t.Errorf("allow: %+v", got[0])
	}
	if got[1].Kind != gate.EntryDeny || got[2].Kind != gate.EntryPIN || got[2].Priority != 2 {
		t.Errorf("deny / pin: %+v %+v", got[1], got[2])
	}
}

// An export of allow and deny entries imports again as it is, with kind,
// priority and target.
func TestEntriesCSVKindsRoundTrip(t *testing.T) {
	ext := gate.Target{Kind: gate.TargetExtension, Exten: "200", Priority: 1}
	entries := []*gate.Entry{
		{Pattern: "+4917612345678", Kind: gate.EntryAllow, Label: "Key account", Priority: 10, Target: ext},
		{Pattern: "+49900*", Kind: gate.EntryDeny, Label: "Premium"},
	}
	var buf bytes.Buffer
	if err := pinsfile.WriteCSV(&buf, entries); err != nil {
		t.Fatal(err)
	}
	got, rowErrs, err := pinsfile.ReadCSV(&buf, csvOpts(t))
	if err != nil || len(rowErrs) != 0 || len(got) != 2 {
		t.Fatalf("re-import: %d entries, %v, %v", len(got), rowErrs, err)
	}
	for i, e := range entries {
		g := got[i]
		if g.Pattern != e.Pattern || g.Kind != e.Kind || g.Label != e.Label || g.Priority != e.Priority || g.Target.String() != e.Target.String() {
			t.Errorf("row %d: %+v, want %+v", i, g, e)
		}
	}
}
