package pinsfile_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/pinsfile"
)

func accountsGate() *gate.Gate {
	return &gate.Gate{ID: "hotline", Dialogue: gate.Dialogue{MinDigits: 4, MaxDigits: 8, RejectWeak: true}}
}

func TestReadAccountsCSV(t *testing.T) {
	h, err := gate.NewHasher([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	in := "Number;PIN;Label;Priority;Account code;valid_until\n" +
		"10042;8642;Anna;5;CUST-42;2027-01-31\n" +
		"\n" +
		"20077;1234;weak;;;\n" + // row 4: weak PIN
		"3x;8642;;;;\n" + // row 5: letters
		"10042;9753;again;;;\n" + // row 6: number twice
		"40000;9753;;high;;\n" // row 7: priority
	got, errs, err := pinsfile.ReadAccountsCSV(strings.NewReader(in), h, accountsGate())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Number != "10042" || got[0].Label != "Anna" || got[0].Priority != 5 || got[0].Code != "CUST-42" || !h.Check(got[0].PIN, "8642") {
		t.Fatalf("accounts %+v", got)
	}
	if want := time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC); !got[0].ValidUntil.Equal(want) {
		t.Errorf("valid_until %v, want %v (the whole day)", got[0].ValidUntil, want)
	}
	want := map[int]string{4: "pin", 5: "number", 6: "number", 7: "priority"}
	if len(errs) != len(want) {
		t.Fatalf("row errors %v, want rows %v", errs, want)
	}
	for _, e := range errs {
		if want[e.Row] != e.Field {
			t.Errorf("row error %v, want field %s", e, want[e.Row])
		}
		for _, v := range []string{"8642", "1234", "9753", "3x", "high"} {
			if strings.Contains(e.Problem, v) {
				t.Errorf("row error %v holds a value of the row", e)
			}
		}
	}
	for _, bad := range []string{"", "number,label\n1,x\n", "number,pin,colour\n", "number,pin,pin\n"} {
		if _, _, err := pinsfile.ReadAccountsCSV(strings.NewReader(bad), h, accountsGate()); err == nil {
			t.Errorf("file %q read without an error", bad)
		}
	}
}

func TestWriteAccountsCSV(t *testing.T) {
	h, err := gate.NewHasher([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	a := &gate.Account{Number: "10042", PIN: h.Hash("8642"), Label: "=cmd", Priority: 5, Code: "C-1"}
	if err := pinsfile.WriteAccountsCSV(&b, []*gate.Account{a}); err != nil {
		t.Fatal(err)
	}
	want := "number,label,priority,account_code,valid_from,valid_until\n10042,'=cmd,5,C-1,,\n"
	if b.String() != want {
		t.Errorf("wrote %q, want %q", b.String(), want)
	}
	if strings.Contains(b.String(), a.PIN.String()) {
		t.Error("the export holds the PIN hash")
	}
}
