package pinsfile_test

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/pinsfile"
)

func csvHasher(tb testing.TB) *gate.Hasher {
	tb.Helper()
	h, err := gate.NewHasher([]byte("vipgate-csv-test-fixed-key-0123456789"))
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

func csvOpts(tb testing.TB) pinsfile.Options {
	return pinsfile.Options{GateID: "hotline", Region: "DE", Hasher: csvHasher(tb), MinDigits: 4, MaxDigits: 8}
}

// wantEntry is an expected entry: its pattern, the PIN it must check, and
// label and validity.
type wantEntry struct {
	pattern, pin, label string
	from, until         time.Time
}

// wantErr is an expected row error.
type wantRowErr struct {
	row   int
	field string
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func checkRead(t *testing.T, opts pinsfile.Options, input string, entries []*gate.Entry, rowErrs []pinsfile.RowError, want []wantEntry, wantErrs []wantRowErr) {
	t.Helper()
	if len(entries) != len(want) {
		t.Errorf("got %d entries, want %d", len(entries), len(want))
	}
	for i := range min(len(entries), len(want)) {
		e, w := entries[i], want[i]
		if e.Pattern != w.pattern || e.Label != w.label || !e.ValidFrom.Equal(w.from) || !e.ValidUntil.Equal(w.until) || e.GateID != opts.GateID {
			t.Errorf("entry %d = {%s %q %v %v gate %s}, want {%s %q %v %v}", i, e.Pattern, e.Label, e.ValidFrom, e.ValidUntil, e.GateID, w.pattern, w.label, w.from, w.until)
		}
		if !opts.Hasher.Check(e.PIN, w.pin) {
			t.Errorf("entry %d (%s): PIN hash does not check", i, e.Pattern)
		}
		if len(e.PIN.Salt) != 16 || len(e.PIN.Sum) != 32 {
			t.Errorf("entry %d: salt %d bytes, sum %d bytes", i, len(e.PIN.Salt), len(e.PIN.Sum))
		}
	}
	var got []wantRowErr
	for _, re := range rowErrs {
		got = append(got, wantRowErr{re.Row, re.Field})
		if re.Problem == "" {
			t.Errorf("row error %+v has no problem text", re)
		}
	}
	if !slices.Equal(got, wantErrs) {
		t.Errorf("row errors = %v, want %v\n%v", got, wantErrs, rowErrs)
	}
	assertNoPINs(t, input, rowErrs, nil)
}

// pinLike matches digit runs that could be PINs in a test input.
var pinLike = regexp.MustCompile(`[0-9]{4,}`)

// assertNoPINs fails if a row error or err repeats a PIN of the input. In
// the table tests every PIN has at least 4 digits and differs from the
// numbers in problem texts.
func assertNoPINs(t *testing.T, input string, rowErrs []pinsfile.RowError, err error) {
	t.Helper()
	var pins []string
	for _, line := range strings.Split(input, "\n") {
		f := strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ';' || r == '\t' || r == '"' })
		if len(f) > 1 {
			for _, m := range pinLike.FindAllString(f[1], -1) {
				pins = append(pins, m)
			}
		}
	}
	for _, pin := range pins {
		for _, re := range rowErrs {
			if strings.Contains(re.Error(), pin) {
				t.Errorf("row error %q repeats PIN %s", re.Error(), pin)
			}
		}
		if err != nil && strings.Contains(err.Error(), pin) {
			t.Errorf("error %q repeats PIN %s", err, pin)
		}
	}
}

func TestReadEntriesCSV(t *testing.T) {
	h := csvHasher(t)
	tests := []struct {
		name    string
		opts    func(*pinsfile.Options)
		input   string
		want    []wantEntry
		wantErr []wantRowErr
	}{
		{
			name:  "two columns, no header",
			input: "+4971112345,4711\n004930123456,08150\n",
			want:  []wantEntry{{pattern: "+4971112345", pin: "4711"}, {pattern: "+4930123456", pin: "08150"}},
		},
		{
			name: "every column, no header",
			input: "+4971112345,4711,Anna Müller,2026-01-01,2026-06-30\n" +
				"0711 987654,90210,\"Night shift, weekends\",2026-01-01T08:00:00+01:00,\n" +
				"0711 555*,8642,Branch,,2027-01-01T00:00:00Z\n",
			want: []wantEntry{
				{pattern: "+4971112345", pin: "4711", label: "Anna Müller", from: day(2026, 1, 1), until: day(2026, 7, 1)},
				{pattern: "+49711987654", pin: "90210", label: "Night shift, weekends", from: time.Date(2026, 1, 1, 7, 0, 0, 0, time.UTC)},
				{pattern: "+49711555*", pin: "8642", label: "Branch", until: day(2027, 1, 1)},
			},
		},
		{
			name:  "header in another order with aliases",
			input: "Name;PIN;Rufnummer;Until\nAnna;4711;+4971112345;2026-12-31\n\n;;;\nBob;5812;0711 4444;\n",
			want: []wantEntry{
				{pattern: "+4971112345", pin: "4711", label: "Anna", until: day(2027, 1, 1)},
				{pattern: "+497114444", pin: "5812", label: "Bob"},
			},
		},
		{
			name:  "byte-order mark and tabs",
			input: "\ufeffcaller\tpin\tlabel\n+4971112345\t4711\tAnna\n",
			want:  []wantEntry{{pattern: "+4971112345", pin: "4711", label: "Anna"}},
		},
		{
			name:  "windows line ends and spaces",
			input: "caller, pin , label\r\n +49 711 12345 , 4711 , Anna \r\n",
			want:  []wantEntry{{pattern: "+4971112345", pin: "4711", label: "Anna"}},
		},
		{
			name: "row problems",
			input: "caller,pin,label,valid_from,valid_until\n" +
				"+4971112345,4711,ok,,\n" + // 2
				"not-a-number,4712,,,\n" + // 3
				",4713,,,\n" + // 4
				"+4971112346,47a9,,,\n" + // 5
				"+4971112347,123,,,\n" + // 6
				"+4971112348,,,,\n" + // 7
				"+4971112349,4714,,someday,\n" + // 8
				"+4971112350,4715,,,2026-13-01\n" + // 9
				"+4971112351,4716,,2026-06-01,2026-05-01\n" + // 10
				"+4971112352,4717,," + strings.Repeat("x", 0) + ",,extra\n" + // 11
				"0711 12345,9182,duplicate,,\n" + // 12
				"+4971112353,918273645,too long,,\n" + // 13
				"+4971112354,5555,weak allowed,,\n", // 14
			want: []wantEntry{
				{pattern: "+4971112345", pin: "4711", label: "ok"},
				{pattern: "+4971112354", pin: "5555", label: "weak allowed"},
			},
			wantErr: []wantRowErr{
				{3, "caller"}, {4, "caller"}, {5, "pin"}, {6, "pin"}, {7, "pin"}, {8, "valid_from"}, {9, "valid_until"},
				{10, "valid_until"}, {11, "row"}, {12, "caller"}, {13, "pin"},
			},
		},
		{
			name:  "weak PINs rejected",
			opts:  func(o *pinsfile.Options) { o.RejectWeak = true },
			input: "+4971112345,0000\n+4971112346,1234\n+4971112347,9876\n+4971112348,4711\n",
			want:  []wantEntry{{pattern: "+4971112348", pin: "4711"}},
			wantErr: []wantRowErr{
				{1, "pin"}, {2, "pin"}, {3, "pin"},
			},
		},
		{
			name:    "label too long",
			input:   "+4971112345,4711," + strings.Repeat("é", gate.MaxLabelLen+1) + "\n+4971112346,4711," + strings.Repeat("é", gate.MaxLabelLen) + "\n",
			want:    []wantEntry{{pattern: "+4971112346", pin: "4711", label: strings.Repeat("é", gate.MaxLabelLen)}},
			wantErr: []wantRowErr{{1, "label"}},
		},
		{
			name:    "broken quotes",
			input:   "+4971112345,4711\n+4971112346,\"47\"12\n+4971112347,4713\n",
			want:    []wantEntry{{pattern: "+4971112345", pin: "4711"}, {pattern: "+4971112347", pin: "4713"}},
			wantErr: []wantRowErr{{2, "row"}},
		},
		{
			name:    "duplicate in other forms",
			input:   "+4971112345,4711\n004971112345,4712\n0711/123 45,4713\n+49711*,4714\n0711*,4715\n",
			want:    []wantEntry{{pattern: "+4971112345", pin: "4711"}, {pattern: "+49711*", pin: "4714"}},
			wantErr: []wantRowErr{{2, "caller"}, {3, "caller"}, {5, "caller"}},
		},
		{
			name:  "empty file",
			input: "",
		},
		{
			name:  "header only",
			input: "caller,pin\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := csvOpts(t)
			opts.Hasher = h
			if tc.opts != nil {
				tc.opts(&opts)
			}
			entries, rowErrs, err := pinsfile.ReadCSV(strings.NewReader(tc.input), opts)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			checkRead(t, opts, tc.input, entries, rowErrs, tc.want, tc.wantErr)
		})
	}
}

func TestReadEntriesCSVFileErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		opts  func(*pinsfile.Options)
		want  string
	}{
		{"no pin column", "caller,label\n+4971112345,Anna\n", nil, "no pin column"},
		{"export is not importable", "caller,label,valid_from,valid_until\n+4971112345,Anna,,\n", nil, "carries no PINs"},
		{"no caller column", "pin,label\n4711,Anna\n", nil, "no caller column"},
		{"unknown column", "caller,pin,secret1234\n+4971112345,4711,x\n", nil, "column 3"},
		{"column twice", "caller,pin,number\n+4971112345,4711,+4971112346\n", nil, "twice"},
		{"no hasher", "+4971112345,4711\n", func(o *pinsfile.Options) { o.Hasher = nil }, "no PIN hasher"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := csvOpts(t)
			if tc.opts != nil {
				tc.opts(&opts)
			}
			entries, rowErrs, err := pinsfile.ReadCSV(strings.NewReader(tc.input), opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if entries != nil || rowErrs != nil {
				t.Errorf("a failed read returned %d entries and %d row errors", len(entries), len(rowErrs))
			}
			assertNoPINs(t, tc.input, nil, err)
		})
	}
	t.Run("reader error", func(t *testing.T) {
		boom := errors.New("disk on fire")
		r := iotestErrReader{data: "+4971112345,4711\n", err: boom}
		_, _, err := pinsfile.ReadCSV(&r, csvOpts(t))
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want %v", err, boom)
		}
	})
}

type iotestErrReader struct {
	data string
	err  error
}

func (r *iotestErrReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// bigCSV returns an n-row file with a problem in every 97th row and a
// duplicate in every 101st.
func bigCSV(n int) string {
	var b strings.Builder
	b.WriteString("caller,pin,label\n")
	for i := range n {
		switch {
		case i%97 == 5:
			fmt.Fprintf(&b, "+49711%07d,12x4,bad\n", i)
		case i%101 == 7:
			fmt.Fprintf(&b, "+49711%07d,4711,dup\n", i-1)
		default:
			fmt.Fprintf(&b, "+49711%07d,%04d,row %d\n", i, 1000+i%9000, i)
		}
	}
	return b.String()
}

func TestReadEntriesCSVWorkersKeepOrder(t *testing.T) {
	input := bigCSV(5000)
	type result struct {
		patterns []string
		errs     []pinsfile.RowError
	}
	var results []result
	for _, workers := range []int{1, 3, 8} {
		opts := csvOpts(t)
		opts.Workers = workers
		var progress []int
		opts.Progress = func(n int) { progress = append(progress, n) }
		entries, rowErrs, err := pinsfile.ReadCSV(strings.NewReader(input), opts)
		if err != nil {
			t.Fatalf("workers %d: %v", workers, err)
		}
		var r result
		for i, e := range entries {
			r.patterns = append(r.patterns, e.Pattern)
			if i > 0 && e.Pattern <= entries[i-1].Pattern {
				t.Fatalf("workers %d: entry %d (%s) out of file order", workers, i, e.Pattern)
			}
		}
		r.errs = rowErrs
		results = append(results, r)
		if len(entries)+len(rowErrs) != 5000 {
			t.Errorf("workers %d: %d entries + %d errors, want 5000 rows", workers, len(entries), len(rowErrs))
		}
		if len(progress) == 0 || progress[len(progress)-1] != 5000 || !slices.IsSorted(progress) {
			t.Errorf("workers %d: progress %v, want increasing to 5000", workers, progress)
		}
		for i := 1; i < len(rowErrs); i++ {
			if rowErrs[i].Row < rowErrs[i-1].Row {
				t.Fatalf("workers %d: row errors out of order at %d", workers, i)
			}
		}
	}
	for i := 1; i < len(results); i++ {
		if !slices.Equal(results[i].patterns, results[0].patterns) || !slices.Equal(results[i].errs, results[0].errs) {
			t.Errorf("result with workers #%d differs from 1 worker", i)
		}
	}
}

func TestWriteEntriesCSV(t *testing.T) {
	h := csvHasher(t)
	entries := []*gate.Entry{
		{Pattern: "+4971112345", PIN: h.Hash("4711"), Label: "Anna, \"the boss\"", ValidFrom: day(2026, 1, 1), ValidUntil: time.Date(2026, 7, 1, 0, 0, 0, 0, time.FixedZone("CEST", 7200))},
		{Pattern: "+49711*", PIN: h.Hash("8642"), Label: "=HYPERLINK(\"x\")"},
	}
	var buf bytes.Buffer
	if err := pinsfile.WriteCSV(&buf, entries); err != nil {
		t.Fatal(err)
	}
	want := "caller,label,valid_from,valid_until,kind,priority,target\n" +
		"+4971112345,\"Anna, \"\"the boss\"\"\",2026-01-01T00:00:00Z,2026-06-30T22:00:00Z,pin,,\n" +
		"+49711*,\"'=HYPERLINK(\"\"x\"\")\",,,pin,,\n"
	if buf.String() != want {
		t.Errorf("export =\n%s\nwant\n%s", buf.String(), want)
	}
	for _, e := range entries {
		if strings.Contains(buf.String(), e.PIN.String()) || bytes.Contains(buf.Bytes(), []byte("4711")) {
			t.Error("export holds a PIN or PIN hash")
		}
	}
	// The export's pin rows do not import as they are: they lack PINs.
	if got, rowErrs, err := pinsfile.ReadCSV(&buf, csvOpts(t)); err != nil || len(got) != 0 || len(rowErrs) != 2 || rowErrs[0].Field != "pin" {
		t.Errorf("export imported as %d entries, %v, %v; want every pin row refused for its missing PIN", len(got), rowErrs, err)
	}
	// With a pin column added, it imports again.
	var in strings.Builder
	for i, line := range strings.Split(strings.TrimSuffix(want, "\n"), "\n")[:2] {
		pin := "pin"
		if i > 0 {
			pin = "4711"
		}
		in.WriteString(line + "," + pin + "\n")
	}
	got, rowErrs, err := pinsfile.ReadCSV(strings.NewReader(in.String()), csvOpts(t))
	if err != nil || len(rowErrs) != 0 || len(got) != 1 || got[0].Pattern != entries[0].Pattern || got[0].Label != entries[0].Label ||
		!got[0].ValidFrom.Equal(entries[0].ValidFrom) || !got[0].ValidUntil.Equal(entries[0].ValidUntil) {
		t.Errorf("re-import = %v, %v, %v", got, rowErrs, err)
	}
}

func TestReadEntriesJSON(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    []wantEntry
		wantErr []wantRowErr
		fatal   string
	}{
		{
			name: "good and bad elements",
			input: `[
				{"caller": "+4971112345", "pin": "4711", "label": "Anna", "valid_until": "2026-06-30"},
				{"caller": "0711 987654", "pin": 90210},
				{"caller": "0711*", "pin": "0042", "valid_from": "2026-01-01T00:00:00Z", "label": null},
				{"caller": "+4930123", "pin": "5812", "secret": "x"},
				42,
				{"caller": "+49711*", "pin": "7777"},
				{"pin": "8888"}
			]`,
			want: []wantEntry{
				{pattern: "+4971112345", pin: "4711", label: "Anna", until: day(2026, 7, 1)},
				{pattern: "+49711*", pin: "0042", from: day(2026, 1, 1)},
			},
			wantErr: []wantRowErr{{2, "row"}, {4, "row"}, {5, "row"}, {6, "caller"}, {7, "caller"}},
		},
		{
			name: "a key twice is a row error, not the last value",
			input: `[
				{"caller": "+4930999", "pin": "1111", "pin": "2222"},
				{"caller": "+4930111", "number": "+4930222", "pin": "3333"},
				{"caller": "+4930333", "pin": "4444"}
			]`,
			want:    []wantEntry{{pattern: "+4930333", pin: "4444"}},
			wantErr: []wantRowErr{{1, "row"}, {2, "row"}},
		},
		{name: "empty array", input: `[]`},
		{name: "not an array", input: `{"caller": "+4971112345", "pin": "4711"}`, fatal: "array"},
		{name: "syntax error", input: `[{"caller": "+4971112345", "pin": 4711123}, {"caller": 9182736455x}]`, fatal: "syntax error at byte"},
		{name: "cut short", input: `[{"caller": "+4971112345", "pin": "4711"}`, fatal: "ends early"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := csvOpts(t)
			entries, rowErrs, err := pinsfile.ReadJSON(strings.NewReader(tc.input), opts)
			if tc.fatal != "" {
				if err == nil || !strings.Contains(err.Error(), tc.fatal) {
					t.Fatalf("err = %v, want one containing %q", err, tc.fatal)
				}
				for _, pin := range pinLike.FindAllString(tc.input, -1) {
					if strings.Contains(err.Error(), pin) {
						t.Errorf("error %q repeats input %s", err, pin)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			checkRead(t, opts, "", entries, rowErrs, tc.want, tc.wantErr)
			for _, re := range rowErrs {
				for _, pin := range []string{"4711", "90210", "0042", "5812", "7777", "8888"} {
					if strings.Contains(re.Error(), pin) {
						t.Errorf("row error %q repeats PIN %s", re.Error(), pin)
					}
				}
			}
		})
	}
}

// FuzzReadEntriesCSV checks that no input makes the reader panic, that the
// results are consistent, and that no error repeats a PIN-like value of
// the input.
func FuzzReadEntriesCSV(f *testing.F) {
	for _, s := range []string{
		"+4971112345,4711\n",
		"caller,pin,label,valid_from,valid_until\n+4971112345,4711,Anna,2026-01-01,2026-06-30\n0711*,918273,x,,\n",
		"Name;PIN;Rufnummer\nAnna;4711;+4971112345\n",
		"\ufeffcaller\tpin\n0049711 123-45\t123456789\n",
		"+4971112345,\"47\"11\n\"unterminated,918273645\n",
		"+4971112345,4711,a,b,c,d,e\n,,,\n\n+4971112345,4711\n",
	} {
		f.Add([]byte(s))
	}
	h := csvHasher(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := pinsfile.Options{GateID: "g", Region: "DE", Hasher: h, MinDigits: 4, MaxDigits: 12, RejectWeak: len(data)%2 == 0, Workers: 2}
		entries, rowErrs, err := pinsfile.ReadCSV(bytes.NewReader(data), opts)
		if err != nil && (entries != nil || rowErrs != nil) {
			t.Fatalf("error %v with results", err)
		}
		seen := map[string]bool{}
		for _, e := range entries {
			if e.Pattern == "" || seen[e.Pattern] || len(e.PIN.Sum) != 32 {
				t.Fatalf("bad entry %+v", e)
			}
			seen[e.Pattern] = true
		}
		// Any run of 6 or more characters of the input that holds a digit
		// might be a PIN; no error may repeat it.
		for _, tok := range strings.FieldsFunc(string(data), func(r rune) bool {
			return strings.ContainsRune(",;\t\r\n\" ", r)
		}) {
			if len(tok) < 6 || !strings.ContainsAny(tok, "0123456789") {
				continue
			}
			for _, re := range rowErrs {
				if strings.Contains(re.Field+" "+re.Problem, tok) {
					t.Fatalf("row error %q repeats input %q", re.Error(), tok)
				}
			}
			if err != nil && strings.Contains(err.Error(), tok) {
				t.Fatalf("error %q repeats input %q", err, tok)
			}
		}
	})
}

// BenchmarkReadEntriesCSV reads a 100,000-row file: normalising callers
// and hashing PINs.
func BenchmarkReadEntriesCSV(b *testing.B) {
	const n = 100_000
	var buf bytes.Buffer
	buf.WriteString("caller,pin,label\n")
	for i := range n {
		fmt.Fprintf(&buf, "+4915%09d,%06d,Caller %d\n", i*7919%1_000_000_000, i%1_000_000, i)
	}
	opts := csvOpts(b)
	opts.MaxDigits = 12
	b.ReportAllocs()
	for b.Loop() {
		entries, rowErrs, err := pinsfile.ReadCSV(bytes.NewReader(buf.Bytes()), opts)
		if err != nil || len(rowErrs) != 0 || len(entries) != n {
			b.Fatalf("read: %d entries, %d row errors, %v", len(entries), len(rowErrs), err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// TestReadEntriesCSVInternalNumbers checks that an import reads callers as
// the gate reads them on a call: internal extensions and numbers not valid
// in the region are kept as dialled, E.164 numbers in any form are one
// entry, and the gate's own rules apply. An export writes them as kept.
func TestReadEntriesCSVInternalNumbers(t *testing.T) {
	opts := csvOpts(t)
	in := "caller,pin\n201,4711\n1004,4712\n0201,4713\n5550805,4714\n+49201,4715\n004917612345678,4716\n+4917612345678,4717\n017612345678,4718\n2*,4719\n"
	entries, rowErrs, err := pinsfile.ReadCSV(strings.NewReader(in), opts)
	if err != nil {
		t.Fatal(err)
	}
	checkRead(t, opts, in, entries, rowErrs,
		[]wantEntry{{"201", "4711", "", time.Time{}, time.Time{}}, {"1004", "4712", "", time.Time{}, time.Time{}},
			{"0201", "4713", "", time.Time{}, time.Time{}}, {"5550805", "4714", "", time.Time{}, time.Time{}},
			{"+49201", "4715", "", time.Time{}, time.Time{}}, {"+4917612345678", "4716", "", time.Time{}, time.Time{}},
			{"2*", "4719", "", time.Time{}, time.Time{}}},
		[]wantRowErr{{8, "caller"}, {9, "caller"}}) // the same E.164 number twice more
	var out bytes.Buffer
	if err := pinsfile.WriteCSV(&out, entries); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\n201,", "\n1004,", "\n0201,", "\n5550805,", "\n+49201,"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("export lacks %q:\n%s", want, out.String())
		}
	}

	three := 3
	opts.Numbers = gate.NumberRules{InternalMaxLength: &three}
	entries, _, err = pinsfile.ReadCSV(strings.NewReader("caller,pin\n201,4711\n1004,4712\n"), opts)
	if err != nil || len(entries) != 2 || entries[0].Pattern != "201" || entries[1].Pattern != "1004" {
		t.Fatalf("with internal_max_length 3: %v, %v", entries, err)
	}
	bad := -1
	opts.Numbers = gate.NumberRules{InternalMaxLength: &bad}
	if _, _, err := pinsfile.ReadCSV(strings.NewReader("201,4711\n"), opts); err == nil || !strings.Contains(err.Error(), "numbers.internal_max_length") {
		t.Fatalf("bad rules: %v, want an error naming numbers.internal_max_length", err)
	}
}
