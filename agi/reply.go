package agi

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vipgate/vipgate/gate"
)

// Reply codes Asterisk sends.
const (
	CodeOK            = 200
	CodeInvalid       = 510 // invalid or unknown command
	CodeDeadChannel   = 511 // command not permitted on a dead channel
	CodeUsage         = 520 // invalid command syntax
	hangupLine        = "HANGUP"
	maxReplyDataBytes = 1 << 16
)

// ErrBadReply is returned for a line that is not an AGI reply. It wraps
// gate.ErrInvalid.
var ErrBadReply = fmt.Errorf("malformed agi reply: %w", gate.ErrInvalid)

// Reply is one parsed reply line.
type Reply struct {
	// Code is 200, 510, 511 or 520 (0 for a HANGUP line).
	Code int
	// Result is the result=<n> value of a 200 reply; ResultText is the
	// same value as sent (GET DATA sends digits that an int would lose).
	// ResultOK is false when the value is not an integer.
	Result     int
	ResultText string
	ResultOK   bool
	// Data is the text in parentheses after the result, e.g. "timeout" or
	// a variable's value.
	Data string
	// EndPos is the endpos=<n> value (-1 when absent).
	EndPos int64
	// Extra holds any other key=value pairs after the result.
	Extra map[string]string
	// Text is the text after the code of a 510/511/520 reply.
	Text string
	// More is true on the first line of a multi-line 520 reply
	// ("520-..."); the reply goes on up to a line that starts with "520 ".
	More bool
	// Hangup is true for the line "HANGUP".
	Hangup bool
}

// ParseReply parses one reply line (without its newline): "HANGUP",
// "200 result=<n>[ (data)][ key=value...]", "510 ...", "511 ...",
// "520 ..." or the first line of a multi-line usage, "520-...".
func ParseReply(line string) (Reply, error) {
	line = strings.TrimSuffix(line, "\r")
	r := Reply{EndPos: -1}
	if line == hangupLine {
		r.Hangup = true
		return r, nil
	}
	if len(line) < 3 {
		return Reply{}, fmt.Errorf("agi: parse reply: %w", ErrBadReply)
	}
	code, err := strconv.Atoi(line[:3])
	if err != nil || code < 100 || line[0] == '+' || line[0] == '-' {
		return Reply{}, fmt.Errorf("agi: parse reply: bad code: %w", ErrBadReply)
	}
	r.Code = code
	rest := line[3:]
	switch {
	case rest == "":
	case rest[0] == ' ':
		rest = rest[1:]
	case rest[0] == '-' && code == CodeUsage:
		r.More = true
		rest = rest[1:]
	default:
		return Reply{}, fmt.Errorf("agi: parse reply: bad separator after code: %w", ErrBadReply)
	}
	if code != CodeOK {
		switch code {
		case CodeInvalid, CodeDeadChannel, CodeUsage:
		default:
			return Reply{}, fmt.Errorf("agi: parse reply: unknown code %d: %w", code, ErrBadReply)
		}
		r.Text = rest
		return r, nil
	}
	v, ok := strings.CutPrefix(rest, "result=")
	if !ok {
		return Reply{}, fmt.Errorf("agi: parse reply: no result: %w", ErrBadReply)
	}
	val, tail, _ := strings.Cut(v, " ")
	r.ResultText = val
	if n, err := strconv.Atoi(val); err == nil {
		r.Result, r.ResultOK = n, true
	}
	tail = strings.TrimLeft(tail, " ")
	if strings.HasPrefix(tail, "(") {
		end := strings.LastIndexByte(tail, ')')
		if end < 0 {
			return Reply{}, fmt.Errorf("agi: parse reply: unbalanced parenthesis: %w", ErrBadReply)
		}
		// key=value pairs never contain ')', so the last one closes the data.
		r.Data = tail[1:end]
		if len(r.Data) > maxReplyDataBytes {
			return Reply{}, fmt.Errorf("agi: parse reply: data too long: %w", ErrBadReply)
		}
		tail = tail[end+1:]
	}
	for f := range strings.FieldsSeq(tail) {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return Reply{}, fmt.Errorf("agi: parse reply: bad field: %w", ErrBadReply)
		}
		if k == "endpos" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return Reply{}, fmt.Errorf("agi: parse reply: bad endpos: %w", ErrBadReply)
			}
			r.EndPos = n
			continue
		}
		if r.Extra == nil {
			r.Extra = make(map[string]string)
		}
		r.Extra[k] = v
	}
	return r, nil
}

// String writes the reply in wire form, the inverse of ParseReply for the
// fields that ParseReply fills.
func (r Reply) String() string {
	if r.Hangup {
		return hangupLine
	}
	if r.Code != CodeOK {
		sep := " "
		if r.More {
			sep = "-"
		}
		return strconv.Itoa(r.Code) + sep + r.Text
	}
	var b strings.Builder
	b.WriteString("200 result=")
	b.WriteString(r.ResultText)
	if r.Data != "" {
		b.WriteString(" (" + r.Data + ")")
	}
	if r.EndPos >= 0 {
		b.WriteString(" endpos=" + strconv.FormatInt(r.EndPos, 10))
	}
	return b.String()
}
