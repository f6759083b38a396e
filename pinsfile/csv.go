package pinsfile

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/vipgate/vipgate/gate"
)

// Caller tables travel as CSV (or JSON) files: the bulk upload of the admin
// API and `vipgate pins import` read them with ReadCSV and
// ReadJSON, `vipgate pins export` writes them with WriteCSV.
//
// An import file has one caller per row:
//
//	caller,pin,label,valid_from,valid_until,kind,priority,target
//	+4971112345,4711,Anna Müller,,
//	0711 987654,90210,Night shift,2026-01-01,2026-06-30
//	+49711555*,8642,Branch office,,
//	+4917612345678,,Key account,,,allow,10,200
//	+49900*,,Premium numbers,,,deny
//
// label, valid_from, valid_until, kind (pin, allow or deny; empty is pin),
// priority (0 or empty = none) and target (allow entries only) are
// optional; allow and deny rows have no PIN. A file with a kind column may
// leave out the pin column. The header row is
// optional: a first row whose first field has no digit is a header, and its
// column names (in any order; caller, pin, label, valid_from, valid_until,
// and a few aliases such as number, name, from, until) say which column is
// which. Without a header the columns are in the order above. Fields may
// be separated by ',', ';' or a tab (detected from the first line); a
// UTF-8 byte-order mark is skipped; blank rows are skipped.
//
// Exports carry no PINs: the store keeps only keyed hashes, which cannot
// be turned back into PINs. An exported file therefore cannot be imported
// again as it is; add a pin column first.

// Options configures ReadCSV and ReadJSON.
type Options struct {
	// GateID is set on every entry.
	GateID string
	// Region is the default region for national numbers ("DE").
	Region string
	// Numbers are the gate's rules for internal numbers (see gate.Numbering):
	// callers are read as the gate reads them on a call.
	Numbers gate.NumberRules
	// Location is the zone of valid_from/valid_until dates and times
	// written without an offset: the gate's (Gate.Location). nil is UTC.
	Location *time.Location
	// Hasher hashes the PINs; required.
	Hasher *gate.Hasher
	// MinDigits and MaxDigits bound PIN length (0 = gate.MinPINLen, gate.MaxPINLen).
	MinDigits, MaxDigits int
	// RejectWeak refuses weak PINs (see gate.WeakPIN).
	RejectWeak bool
	// Workers is the number of goroutines that normalise and hash rows;
	// 0 means GOMAXPROCS.
	Workers int
	// Progress, if set, is called now and then with the number of rows
	// read so far, from the goroutine that reads the file.
	Progress func(rows int)
	// Partial lets a Stream end with io.EOF although some rows had
	// errors (the good rows are imported). Without it the stream ends
	// with ErrRowErrors then, so that the store undoes the import: all
	// or nothing. ReadCSV and ReadJSON always read the whole file.
	Partial bool
	// Callers, if set, remembers the callers read so far for the
	// duplicate check instead of an index in memory, which grows with
	// the file (about 20 MB per million callers): an import of any size
	// then holds only its batches in flight. The caller of
	// NewCSVStream closes it. nil keeps the index in memory.
	Callers CallerSet
}

// CallerSet remembers the caller patterns of an import with the row each
// was first read in; a Stream asks it about every good row, in file
// order, and reports a pattern it has seen before as a duplicate of that
// first row. sqlite.NewCallerSet keeps them in a temporary database.
type CallerSet interface {
	// Seen records patterns (in row order; rows parallel to them) and
	// returns, parallel to them, the row each pattern was first read in
	// when it was seen before (in an earlier call or earlier in this
	// one), or 0 for a pattern seen for the first time, which it keeps
	// with its row. An error ends the stream.
	Seen(patterns []string, rows []int) ([]int, error)
}

// RowError is a problem with one row of an import file. It never contains
// the PIN or any other value of the row.
type RowError struct {
	// Row is the line number in a CSV file (1 = the first line), or the
	// position in a JSON array (1 = the first element).
	Row int `json:"row"`
	// Field is caller, pin, label, valid_from, valid_until, kind,
	// priority, target, or "row" for
	// a problem with the row as a whole.
	Field   string `json:"field"`
	Problem string `json:"problem"`
}

func (e RowError) Error() string { return fmt.Sprintf("row %d: %s: %s", e.Row, e.Field, e.Problem) }

// RowsWithErrors counts the distinct rows among errs: a row with two bad
// fields is one row.
func RowsWithErrors(errs []RowError) int {
	seen := map[int]bool{}
	for _, e := range errs {
		seen[e.Row] = true
	}
	return len(seen)
}

// DescribeRowErrors summarises errs for an import's answer: the number of
// rows and, for the first few, the fields at fault ("2 rows have errors
// (row 3: caller, pin; row 5: pin)"). It holds no value of any row.
func DescribeRowErrors(errs []RowError) string {
	const shown = 5
	n := RowsWithErrors(errs)
	var b strings.Builder
	if n == 1 {
		b.WriteString("1 row has errors (")
	} else {
		fmt.Fprintf(&b, "%d rows have errors (", n)
	}
	rows := 0
	for i, e := range errs {
		if i > 0 && errs[i-1].Row == e.Row {
			b.WriteString(", " + e.Field)
			continue
		}
		if rows == shown {
			fmt.Fprintf(&b, "; %d more", n-shown)
			break
		}
		if rows > 0 {
			b.WriteString("; ")
		}
		rows++
		fmt.Fprintf(&b, "row %d: %s", e.Row, e.Field)
	}
	b.WriteString(")")
	return b.String()
}

const (
	colCaller = iota
	colPIN
	colLabel
	colFrom
	colUntil
	colKind
	colPriority
	colTarget
	numCols
)

var colNames = [numCols]string{"caller", "pin", "label", "valid_from", "valid_until", "kind", "priority", "target"}

// colAliases maps header names (lower case, '_' for ' ' and '-') to columns.
var colAliases = map[string]int{
	"caller": colCaller, "number": colCaller, "phone": colCaller, "pattern": colCaller, "caller_id": colCaller,
	"callerid": colCaller, "caller_number": colCaller, "rufnummer": colCaller, "anrufer": colCaller, "nummer": colCaller,
	"pin": colPIN, "pin_code": colPIN, "code": colPIN,
	"label": colLabel, "name": colLabel, "comment": colLabel, "description": colLabel, "bezeichnung": colLabel,
	"valid_from": colFrom, "from": colFrom, "gueltig_ab": colFrom,
	"valid_until": colUntil, "until": colUntil, "to": colUntil, "gueltig_bis": colUntil,
	"kind": colKind, "type": colKind, "art": colKind,
	"priority": colPriority, "prio": colPriority, "prioritaet": colPriority,
	"target": colTarget, "ziel": colTarget,
}

// rawRow is one row as read, before validation.
type rawRow struct {
	row    int
	fields [numCols]string
	// problem is set when the row could not be read as a whole.
	problem string
}

// ReadCSV reads a caller table from CSV (see the file format above)
// and returns the good rows as entries with hashed PINs, in file order, and
// a RowError for each problem. Callers are normalised with
// the gate's numbering (Region and Numbers; gate.Numbering.Pattern), PINs
// checked with gate.ValidatePIN (and gate.WeakPIN when
// RejectWeak). A caller that occurs more than once is an error on every
// occurrence after the first; the first is kept. A date-only valid_until
// ("2026-06-30") includes that day; dates and times without an offset are
// read in opts.Location (see gate.ParseValidity).
//
// The error is for problems with the file as a whole: it cannot be read,
// or its header lacks a caller or pin column.
func ReadCSV(r io.Reader, opts Options) ([]*gate.Entry, []RowError, error) {
	opts.Partial = true
	return readAll(NewCSVStream(r, opts))
}

// NewCSVStream is ReadCSV as a Stream: the file is read, checked and
// hashed as the stream's batches are taken, and only those in flight are
// held in memory.
func NewCSVStream(r io.Reader, opts Options) *Stream {
	return newStream(opts, func(p *pipeline) error { return readCSV(r, p) })
}

// readCSV reads CSV rows from r into p.
func readCSV(r io.Reader, p *pipeline) error {
	br := bufio.NewReaderSize(r, 64<<10)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.Comma = sniffComma(br)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true

	cols := []int{colCaller, colPIN, colLabel, colFrom, colUntil, colKind, colPriority, colTarget}
	first := true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				// ParseError names line and column, never the text.
				if !p.add(rawRow{row: pe.StartLine, problem: "cannot be read as CSV: " + pe.Err.Error()}) {
					return errStopped
				}
				continue
			}
			return fmt.Errorf("read caller table: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if blank(rec) {
			continue
		}
		if first {
			first = false
			if isHeader(rec) {
				cols, err = headerColumns(rec)
				if err != nil {
					return fmt.Errorf("read caller table: %w", err)
				}
				continue
			}
		}
		row := rawRow{row: line}
		for i, v := range rec {
			if i >= len(cols) {
				if strings.TrimSpace(v) != "" {
					row.problem = fmt.Sprintf("has %d fields, want at most %d (caller,pin,label,valid_from,valid_until,kind,priority,target)", len(rec), len(cols))
				}
				continue
			}
			if cols[i] >= 0 {
				row.fields[cols[i]] = v
			}
		}
		if !p.add(row) {
			return errStopped
		}
	}
	return nil
}

// ReadJSON reads a caller table from a JSON array of objects with
// the keys caller, pin, label, valid_from, valid_until, kind, priority and
// target (string values; priority may be a number), with the same rules
// as ReadCSV. PINs must be JSON strings, so that leading zeros survive.
func ReadJSON(r io.Reader, opts Options) ([]*gate.Entry, []RowError, error) {
	opts.Partial = true
	return readAll(newStream(opts, func(p *pipeline) error { return readJSON(r, p) }))
}

// readJSON reads the elements of a JSON array from r into p.
func readJSON(r io.Reader, p *pipeline) error {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("read caller table: %w", jsonErr(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return errors.New("read caller table: want a JSON array of objects")
	}
	for n := 1; dec.More(); n++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("read caller table: element %d: %w", n, jsonErr(err))
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
			if !p.add(rawRow{row: n, problem: "is not a JSON object"}) {
				return errStopped
			}
			continue
		}
		row := rawRow{row: n}
		// A key given twice (or two names of one column) would silently
		// keep one of the values.
		if col, dup := duplicateColumn(raw); dup {
			row.problem = "has the key " + colNames[col] + " more than once"
			if !p.add(row) {
				return errStopped
			}
			continue
		}
		for k, v := range obj {
			col, ok := colAliases[headerKey(k)]
			if !ok {
				row.problem = "has an unknown key (want caller, pin, label, valid_from, valid_until, kind, priority, target)"
				continue
			}
			if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
				continue
			}
			var s string
			var num json.Number
			if col == colPriority && json.Unmarshal(v, &num) == nil {
				row.fields[col] = num.String()
				continue
			}
			if err := json.Unmarshal(v, &s); err != nil {
				row.problem = colNames[col] + " is not a JSON string"
				if col == colPIN {
					row.problem = "pin is not a JSON string (write PINs in quotes, so leading zeros survive)"
				}
				continue
			}
			row.fields[col] = s
		}
		if !p.add(row) {
			return errStopped
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("read caller table: %w", jsonErr(err))
	}
	return nil
}

// duplicateColumn reports a column named twice by the keys of the JSON
// object raw (a key repeated, or two aliases of one column).
func duplicateColumn(raw json.RawMessage) (int, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // '{'
		return 0, false
	}
	seen := map[int]bool{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return 0, false
		}
		k, _ := kt.(string)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return 0, false
		}
		col, ok := colAliases[headerKey(k)]
		if !ok {
			continue
		}
		if seen[col] {
			return col, true
		}
		seen[col] = true
	}
	return 0, false
}

// jsonErr keeps JSON syntax errors from quoting input: it returns the
// error class and offset only.
func jsonErr(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("JSON syntax error at byte %d", se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return errors.New("JSON ends early")
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("JSON %s where an array of objects was expected", te.Value)
	}
	return errors.New("JSON cannot be read")
}

// WriteCSV writes entries as CSV with the header
// caller,label,valid_from,valid_until,kind,priority,target (times in RFC
// 3339, UTC; priority empty when none). It writes no PINs: stores keep
// only keyed hashes. Allow and deny rows import again as they are; for
// pin rows add a pin column first. A label that
// starts with '=', '+', '-', '@' or a tab is written with a leading "'"
// so that spreadsheet programs do not run it as a formula.
func WriteCSV(w io.Writer, entries []*gate.Entry) error {
	return writeTable(w, "caller table", []string{"caller", "label", "valid_from", "valid_until", "kind", "priority", "target"}, len(entries), func(i int) []string {
		e := entries[i]
		target := ""
		if !e.Target.IsZero() {
			target = e.Target.String()
		}
		return []string{e.Pattern, csvSafe(e.Label), csvTime(e.ValidFrom), csvTime(e.ValidUntil), string(e.EntryKind()), csvPriority(e.Priority), target}
	})
}

// csvSafe keeps spreadsheet programs from running a label as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// sniffComma picks the field separator from the first line: the most
// frequent of ',', ';' and tab (',' on a tie).
func sniffComma(br *bufio.Reader) rune {
	head, _ := br.Peek(4096)
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	best, n := ',', bytes.Count(head, []byte{','})
	for _, c := range []rune{';', '\t'} {
		if m := bytes.Count(head, []byte(string(c))); m > n {
			best, n = c, m
		}
	}
	return best
}

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// isHeader reports whether rec is a header: its first field has no digit
// (every caller has one).
func isHeader(rec []string) bool {
	return !strings.ContainsAny(rec[0], "0123456789")
}

func headerKey(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.NewReplacer(" ", "_", "-", "_").Replace(s)
}

// headerColumns maps header fields to columns (-1 for an empty one).
func headerColumns(rec []string) ([]int, error) {
	cols := make([]int, len(rec))
	var seen [numCols]bool
	for i, name := range rec {
		k := headerKey(name)
		if k == "" {
			cols[i] = -1
			continue
		}
		c, ok := colAliases[k]
		if !ok {
			return nil, fmt.Errorf("header column %d is not one of caller, pin, label, valid_from, valid_until, kind, priority, target", i+1)
		}
		if seen[c] {
			return nil, fmt.Errorf("header names the %s column twice", colNames[c])
		}
		seen[c], cols[i] = true, c
	}
	if !seen[colCaller] {
		return nil, errors.New("header has no caller column")
	}
	if !seen[colPIN] && !seen[colKind] {
		return nil, errors.New("header has no pin column (an export of vipgate carries no PINs; add a pin column to import it)")
	}
	return cols, nil
}

// errStopped ends a reading loop whose stream was closed.
var errStopped = errors.New("stream closed")

// ErrRowErrors is what a Stream without Options.Partial returns at its end
// when rows had errors: the import must not be committed. The row errors
// are in Stream.RowErrors.
var ErrRowErrors = errors.New("rows have errors")

// StreamBatch is the most entries one Stream.Next returns.
const StreamBatch = 1 << 14

// Stream reads a caller table batch by batch (NewCSVStream): rows are
// read on a goroutine of their own, checked and hashed on worker
// goroutines, and Next returns them in file order. Memory holds the
// batches in flight and one index of the callers read so far (for the
// duplicate check; none with Options.Callers), not the file. Close it
// when done.
type Stream struct {
	p       *pipeline
	done    chan struct{} // closed when the reading goroutine has ended
	readErr error         // set before done is closed
	first   CallerSet
	// checked has the batches of p.ordered in order, with the answer of
	// first.Seen: the duplicate check runs on a goroutine of its own,
	// beside the store that takes the batches of Next.
	checked chan checkedBatch
	errs    []RowError
	entries int
	err     error // what Next returned last (besides a batch)
}

func newStream(opts Options, read func(*pipeline) error) *Stream {
	s := &Stream{done: make(chan struct{}), first: opts.Callers}
	if s.first == nil {
		s.first = newCallerIndex()
	}
	if opts.Hasher == nil {
		s.err = errors.New("read caller table: no PIN hasher")
		close(s.done)
		return s
	}
	nb, err := gate.NewNumbering(opts.Region, opts.Numbers)
	if err != nil {
		s.err = fmt.Errorf("read caller table: %w", err)
		close(s.done)
		return s
	}
	s.p = newPipeline(opts, nb)
	s.checked = make(chan checkedBatch, 4)
	go func() {
		defer close(s.done)
		err := read(s.p)
		s.p.flush()
		s.p.stop()
		if err != errStopped {
			s.readErr = err
		}
	}()
	go s.check()
	return s
}

// checkedBatch is a processed batch with, parallel to its good entries,
// their rows and the rows they were first seen in (0: new caller).
type checkedBatch struct {
	b      *rowBatch
	rows   []int
	firsts []int
	err    error
}

// check asks s.first about the callers of every batch, in order, and
// hands the batches on to Next through s.checked, which it closes at the
// end. After an error of s.first it hands on that error and drops the
// rest; once the stream is closed it asks nothing more.
func (s *Stream) check() {
	defer close(s.checked)
	failed := false
	var patterns []string
	for b := range s.p.ordered {
		<-b.done
		select {
		case <-s.p.quit:
			failed = true
		default:
		}
		if failed {
			continue
		}
		c := checkedBatch{b: b}
		patterns = patterns[:0]
		for i, e := range b.entries {
			if e != nil {
				patterns = append(patterns, e.Pattern)
				c.rows = append(c.rows, b.rows[i].row)
			}
		}
		if len(patterns) > 0 {
			c.firsts, c.err = s.first.Seen(patterns, c.rows)
			failed = c.err != nil
		}
		s.checked <- c
	}
}

// Next returns the next batch of good entries (at most StreamBatch, in
// file order; never an empty batch), or io.EOF at the end. The error is a
// problem with the file as a whole (it cannot be read, its header lacks a
// caller or pin column), or, without Options.Partial, ErrRowErrors when
// any row had errors. Its signature fits a store's ImportEntriesFrom.
func (s *Stream) Next() ([]*gate.Entry, error) {
	if s.err != nil {
		return nil, s.err
	}
	var out []*gate.Entry
	for c := range s.checked {
		if c.err != nil {
			s.err = fmt.Errorf("read caller table: duplicate check: %w", c.err)
			return nil, s.err
		}
		b := c.b
		start := len(s.errs)
		j := 0
		for _, e := range b.entries {
			if e == nil {
				continue
			}
			row, prev := c.rows[j], c.firsts[j]
			j++
			if prev != 0 {
				s.errs = append(s.errs, RowError{Row: row, Field: "caller", Problem: fmt.Sprintf("occurs again (first in row %d)", prev)})
				continue
			}
			if out == nil {
				out = make([]*gate.Entry, 0, StreamBatch)
			}
			out = append(out, e)
		}
		s.errs = append(s.errs, b.errs...)
		sortRowErrors(s.errs[start:])
		if len(out)+batchSize > StreamBatch {
			break
		}
	}
	if len(out) > 0 {
		s.entries += len(out)
		return out, nil
	}
	<-s.done
	switch {
	case s.readErr != nil:
		s.err = s.readErr
	case len(s.errs) > 0 && !s.p.opts.Partial:
		s.err = ErrRowErrors
	default:
		s.err = io.EOF
	}
	if s.p.opts.Progress != nil {
		s.p.opts.Progress(s.p.rows)
	}
	return nil, s.err
}

// RowErrors returns the row errors found so far, in row order; after Next
// has returned io.EOF or ErrRowErrors, all of them.
func (s *Stream) RowErrors() []RowError { return s.errs }

// Err returns the error that ended the stream: nil while it runs or after
// io.EOF, ErrRowErrors, or a problem with the file as a whole.
func (s *Stream) Err() error {
	if s.err == io.EOF {
		return nil
	}
	return s.err
}

// Entries returns the number of good entries Next has returned.
func (s *Stream) Entries() int { return s.entries }

// Close stops reading and waits for the stream's goroutines. It is safe
// to call more than once and after the end.
func (s *Stream) Close() {
	if s.p == nil {
		return
	}
	s.p.quitOnce.Do(func() { close(s.p.quit) })
	for c := range s.checked { // let the reader see quit
		_ = c
	}
	<-s.done
}

// callerIndex remembers the first row of each caller pattern read so far,
// for the duplicate check. A pattern of up to 17 digits, with or without
// '+' and a final '*' (every E.164 number and prefix, most internal
// numbers), is packed into one uint64, so a million callers take about
// 20 MB instead of about 100 MB as strings; other patterns are kept as
// strings. The packing is exact: equal keys are equal patterns.
type callerIndex struct {
	packed map[uint64]int32
	other  map[string]int32
}

func newCallerIndex() callerIndex {
	return callerIndex{packed: map[uint64]int32{}, other: map[string]int32{}}
}

// Seen implements CallerSet.
func (c callerIndex) Seen(patterns []string, rows []int) ([]int, error) {
	firsts := make([]int, len(patterns))
	for i, p := range patterns {
		if prev, dup := c.add(p, rows[i]); dup {
			firsts[i] = prev
		}
	}
	return firsts, nil
}

// add records pattern's first row; for a pattern seen before it returns
// the row it was first seen in and true.
func (c callerIndex) add(pattern string, row int) (int, bool) {
	if k, ok := packPattern(pattern); ok {
		if prev, dup := c.packed[k]; dup {
			return int(prev), true
		}
		c.packed[k] = int32(row)
		return 0, false
	}
	if prev, dup := c.other[pattern]; dup {
		return int(prev), true
	}
	// A copy: the pattern may share memory with the row as read, which
	// also holds the clear PIN.
	c.other[strings.Clone(pattern)] = int32(row)
	return 0, false
}

// packPattern packs [+]digits[*] with 1 to 17 digits: the digits' value
// (< 10^17 < 2^57), their count (5 bits: leading zeros count), and one bit
// each for '+' and '*'.
func packPattern(p string) (uint64, bool) {
	var plus, star uint64
	if strings.HasPrefix(p, "+") {
		plus, p = 1, p[1:]
	}
	if strings.HasSuffix(p, "*") {
		star, p = 1, p[:len(p)-1]
	}
	if len(p) == 0 || len(p) > 17 {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v<<7 | uint64(len(p))<<2 | plus<<1 | star, true
}

// readAll collects a stream whose Options.Partial is set.
func readAll(s *Stream) ([]*gate.Entry, []RowError, error) {
	defer s.Close()
	var entries []*gate.Entry
	for {
		batch, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, batch...)
	}
	if entries == nil {
		entries = []*gate.Entry{}
	}
	return entries, s.RowErrors(), nil
}

// pipeline validates, normalises and hashes rows on worker goroutines in
// batches; ordered hands the batches on in row order, each to be waited
// for (done) before it is read.
type pipeline struct {
	opts     Options
	numbers  *gate.Numbering
	work     chan *rowBatch
	ordered  chan *rowBatch
	quit     chan struct{}
	quitOnce sync.Once
	wg       sync.WaitGroup
	cur      *rowBatch
	rows     int
}

type rowBatch struct {
	rows    []rawRow
	entries []*gate.Entry // parallel to rows; nil for a row with errors
	errs    []RowError
	done    chan struct{}
}

const batchSize = 512

func newPipeline(opts Options, nb *gate.Numbering) *pipeline {
	n := opts.Workers
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	p := &pipeline{opts: opts, numbers: nb, work: make(chan *rowBatch, 2*n), ordered: make(chan *rowBatch, 4*n+StreamBatch/batchSize),
		quit: make(chan struct{})}
	for range n {
		p.wg.Go(func() {
			for b := range p.work {
				p.process(b)
				close(b.done)
			}
		})
	}
	return p
}

// add queues one row; false when the stream was closed.
func (p *pipeline) add(r rawRow) bool {
	if p.cur == nil {
		p.cur = &rowBatch{rows: make([]rawRow, 0, batchSize), done: make(chan struct{})}
	}
	p.cur.rows = append(p.cur.rows, r)
	p.rows++
	if len(p.cur.rows) == batchSize {
		if !p.flush() {
			return false
		}
		if p.opts.Progress != nil {
			p.opts.Progress(p.rows)
		}
	}
	return true
}

// flush hands the current batch to the workers and to the reader of
// ordered; false when the stream was closed.
func (p *pipeline) flush() bool {
	if p.cur == nil {
		return true
	}
	b := p.cur
	p.cur = nil
	select {
	case p.ordered <- b:
	case <-p.quit:
		return false
	}
	p.work <- b // workers never block on anything but work
	return true
}

// stop ends the workers once every queued batch is processed and closes
// ordered; the reading goroutine calls it once.
func (p *pipeline) stop() {
	close(p.work)
	p.wg.Wait()
	close(p.ordered)
}

// sortRowErrors orders errors by row, keeping the order within a row.
func sortRowErrors(errs []RowError) {
	slices.SortStableFunc(errs, func(a, b RowError) int { return a.Row - b.Row })
}

// process validates and hashes one batch. Salts are drawn for the whole
// batch at once.
func (p *pipeline) process(b *rowBatch) {
	b.entries = make([]*gate.Entry, len(b.rows))
	salts := make([]byte, 16*len(b.rows))
	rand.Read(salts)
	sums := make([]byte, sha256.Size*len(b.rows))
	hb := p.opts.Hasher.Batch()
	for i := range b.rows {
		e, errs := p.row(&b.rows[i])
		if len(errs) > 0 {
			b.errs = append(b.errs, errs...)
			continue
		}
		if e.EntryKind().HasPIN() {
			pin := strings.TrimSpace(b.rows[i].fields[colPIN])
			e.PIN = hb.HashWithSalt(salts[16*i:16*i+16:16*i+16], pin, sums[sha256.Size*i:sha256.Size*(i+1)])
		}
		b.entries[i] = e
	}
}

// row validates one row and returns its entry without the PIN hash.
func (p *pipeline) row(r *rawRow) (*gate.Entry, []RowError) {
	var errs []RowError
	bad := func(field, problem string) { errs = append(errs, RowError{Row: r.row, Field: field, Problem: problem}) }
	if r.problem != "" {
		bad("row", r.problem)
		return nil, errs
	}
	e := &gate.Entry{GateID: p.opts.GateID}

	caller := strings.TrimSpace(r.fields[colCaller])
	if caller == "" {
		bad("caller", "is empty")
	} else if pat, err := p.numbers.Pattern(caller); err != nil {
		bad("caller", unquote(err.Error()))
	} else {
		e.Pattern = pat
	}

	kind, kerr := gate.ParseEntryKind(strings.ToLower(strings.TrimSpace(r.fields[colKind])))
	if kerr != nil {
		bad("kind", kerr.Error())
	}
	e.Kind = kind
	pin := strings.TrimSpace(r.fields[colPIN])
	if kerr != nil {
		// What the kind needs of the PIN is unknown.
	} else if !kind.HasPIN() {
		if pin != "" {
			bad("pin", fmt.Sprintf("must be empty for a %s entry", kind))
		}
	} else if pin == "" {
		bad("pin", "is missing")
	} else if err := gate.ValidatePIN(pin, p.opts.MinDigits, p.opts.MaxDigits); err != nil {
		bad("pin", err.Error())
	} else if p.opts.RejectWeak {
		if why := gate.WeakPIN(pin); why != "" {
			bad("pin", why)
		}
	}

	// A label is a substring of the CSV record, which also holds the
	// clear PIN; a copy lets the record (and the PIN) be collected.
	e.Label = strings.Clone(strings.TrimSpace(r.fields[colLabel]))
	if !utf8.ValidString(e.Label) {
		bad("label", "is not valid UTF-8")
	} else if n := utf8.RuneCountInString(e.Label); n > gate.MaxLabelLen {
		bad("label", fmt.Sprintf("has %d characters, at most %d allowed", n, gate.MaxLabelLen))
	}

	if v := strings.TrimSpace(r.fields[colPriority]); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || (n != 0 && (n < gate.MinPriority || n > gate.MaxPriority)) {
			bad("priority", fmt.Sprintf("is not a number from %d to %d (or 0 for none)", gate.MinPriority, gate.MaxPriority))
		} else {
			e.Priority = n
		}
	}
	if v := strings.TrimSpace(r.fields[colTarget]); v != "" {
		if kind != gate.EntryAllow {
			bad("target", "is only allowed on allow entries")
		} else if t, err := gate.ParseTarget(v); err != nil {
			bad("target", "is not a target (continue, an extension, or context,exten,priority)")
		} else {
			e.Target = t
		}
	}

	var err error
	if e.ValidFrom, err = gate.ParseValidity(r.fields[colFrom], p.opts.Location, false); err != nil {
		bad("valid_from", err.Error())
	}
	if e.ValidUntil, err = gate.ParseValidity(r.fields[colUntil], p.opts.Location, true); err != nil {
		bad("valid_until", err.Error())
	}
	if !e.ValidFrom.IsZero() && !e.ValidUntil.IsZero() && !e.ValidUntil.After(e.ValidFrom) {
		bad("valid_until", "is not after valid_from")
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return e, nil
}

// unquote removes the quoted input from a normalisation error, so that a
// RowError never repeats a value of the row.
func unquote(msg string) string {
	i, j := strings.IndexByte(msg, '"'), strings.LastIndexByte(msg, '"')
	if i >= 0 && j > i {
		msg = strings.Join(strings.Fields(msg[:i]+msg[j+1:]), " ")
	}
	return msg
}
