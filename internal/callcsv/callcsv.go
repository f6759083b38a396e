// Package callcsv writes the call log as CSV, in the clear or with
// pseudonymised callers, for the admin API's export and the CLI's; its
// Pseudonymiser is the one rule by which every export that leaves vipgate
// without caller numbers (the call log as CSV or JSON, the audit log)
// replaces them. It imports only gate and the standard library.
package callcsv

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// Header is the header row of the export.
var Header = []string{"id", "at", "source", "channel_id", "gate_id", "caller_raw", "caller", "called", "active",
	"mode", "verdict", "attempts", "outcome", "target", "entry_id", "decision_latency_ms", "duration_ms", "webhook_latency_ms", "error_class", "closure"}

// MinKeyLen is the shortest pseudonym key accepted, in bytes.
const MinKeyLen = 16

// Pseudonymiser maps caller numbers to keyed pseudonyms: the same number
// gets the same pseudonym under one key, and without the key a pseudonym
// cannot be linked to a number or to the pseudonym of another key.
type Pseudonymiser struct {
	key []byte
}

// NewPseudonymiser returns a Pseudonymiser under key (at least
// MinKeyLen bytes), or, for a nil key, under a fresh random key that
// nobody keeps.
func NewPseudonymiser(key []byte) (*Pseudonymiser, error) {
	if key == nil {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("pseudonym key: %w", err)
		}
	}
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("pseudonym key: %d bytes, want at least %d", len(key), MinKeyLen)
	}
	return &Pseudonymiser{key: append([]byte(nil), key...)}, nil
}

// Pseudonym returns the pseudonym of number: "p-" and 32 hex digits of
// its HMAC-SHA256. "" stays "" (the number was withheld).
func (p *Pseudonymiser) Pseudonym(number string) string {
	if number == "" {
		return ""
	}
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(number))
	return "p-" + hex.EncodeToString(m.Sum(nil)[:16])
}

// Writer writes call-log rows as CSV.
type Writer struct {
	cw *csv.Writer
	p  *Pseudonymiser
}

// NewWriter returns a Writer to w that writes the header first. With p
// set, caller_raw and caller hold pseudonyms (caller_raw that of the
// normalised number when there is one, so a caller's rows agree however
// the number was presented), and channel_id and entry_id, which lead back
// to the number through Asterisk's records or the caller table, are left
// empty.
func NewWriter(w io.Writer, p *Pseudonymiser) *Writer {
	cw := csv.NewWriter(w)
	_ = cw.Write(Header)
	return &Writer{cw: cw, p: p}
}

// Write writes one row; errors show at Flush.
func (w *Writer) Write(c *gate.CallRecord) {
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 3, 64) }
	entry := ""
	if c.EntryID != 0 {
		entry = strconv.FormatInt(c.EntryID, 10)
	}
	channel, raw, caller := c.ChannelID, csvSafe(c.CallerRaw), c.Caller
	if w.p != nil {
		c = w.p.Call(c)
		channel, entry, raw, caller = c.ChannelID, "", c.CallerRaw, c.Caller
	}
	_ = w.cw.Write([]string{strconv.FormatInt(c.ID, 10), c.At.UTC().Format(time.RFC3339Nano), c.Source, channel, c.GateID,
		raw, caller, csvSafe(c.Called), strconv.FormatBool(c.Active), string(c.Mode), string(c.Verdict),
		strconv.Itoa(c.Attempts), string(c.Outcome), c.Target, entry, ms(c.DecisionLatency), ms(c.Duration),
		ms(c.WebhookLatency), c.ErrorClass, csvSafe(c.Closure)})
}

// Flush writes what is buffered and returns the first error.
func (w *Writer) Flush() error {
	w.cw.Flush()
	return w.cw.Error()
}

// csvSafe defuses spreadsheet formulas in values that callers control
// (caller ID, dialled number): a leading =, +, -, @ is prefixed with a
// quote unless the value is a plain phone number.
func csvSafe(v string) string {
	if v == "" {
		return v
	}
	switch v[0] {
	case '=', '@', '-', '\t', '\r':
		return "'" + v
	case '+':
		for _, c := range v[1:] {
			if c < '0' || c > '9' {
				return "'" + v
			}
		}
	}
	return v
}
