package agi

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"

	"github.com/vipgate/vipgate/gate"
)

// source is gate.CallInfo.Source of a FastAGI call.
const source = "agi"

// Default limits of the protocol reader.
const (
	DefaultMaxLineLen     = 8 << 10
	DefaultMaxHeaderLines = 128
)

// Limits bound what ReadHeader (and the reply reader) accept.
type Limits struct {
	// MaxLineLen is the longest line accepted, without the newline
	// (default 8 KiB).
	MaxLineLen int
	// MaxHeaderLines is the most header lines accepted before the empty
	// line (default 128).
	MaxHeaderLines int
}

func (l Limits) withDefaults() Limits {
	if l.MaxLineLen <= 0 {
		l.MaxLineLen = DefaultMaxLineLen
	}
	if l.MaxHeaderLines <= 0 {
		l.MaxHeaderLines = DefaultMaxHeaderLines
	}
	return l
}

// Errors of the protocol reader. They wrap gate.ErrInvalid.
var (
	ErrLineTooLong = fmt.Errorf("line too long: %w", gate.ErrInvalid)
	ErrBadHeader   = fmt.Errorf("malformed agi header: %w", gate.ErrInvalid)
)

// Header is the agi_* environment Asterisk sends when a FastAGI connection
// opens.
type Header struct {
	// Vars holds every header line by its full name ("agi_callerid"),
	// including the agi_arg_N lines.
	Vars map[string]string
	// Args are agi_arg_1..agi_arg_N in order: the AGI() arguments after
	// the URL.
	Args []string
	// Script is agi_network_script without its ?query and without leading
	// or trailing slashes: "hotline" for agi://host:4573/hotline?v=1.
	Script string
	// Query is the part of agi_network_script after '?', if any.
	Query string
	// Request is agi_request, the full first AGI() argument.
	Request string
}

// Get returns the header variable name ("agi_" may be left off).
func (h Header) Get(name string) string {
	if !strings.HasPrefix(name, "agi_") {
		name = "agi_" + name
	}
	return h.Vars[name]
}

// ReadHeader reads the agi_* header up to and including the empty line that
// ends it. Lines may end in "\n" or "\r\n". It fails with an error wrapping
// gate.ErrInvalid on a line that is not "agi_<name>: <value>", a line longer
// than lim.MaxLineLen, or more than lim.MaxHeaderLines lines, and with
// io.ErrUnexpectedEOF when the input ends before the empty line.
func ReadHeader(r *bufio.Reader, lim Limits) (Header, error) {
	lim = lim.withDefaults()
	h := Header{Vars: make(map[string]string)}
	args := map[int]string{}
	for n := 0; ; n++ {
		line, err := readLine(r, lim.MaxLineLen)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return Header{}, fmt.Errorf("agi: read header: %w", err)
		}
		if line == "" {
			break
		}
		if n >= lim.MaxHeaderLines {
			return Header{}, fmt.Errorf("agi: read header: more than %d lines: %w", lim.MaxHeaderLines, ErrBadHeader)
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !validVarName(name) {
			return Header{}, fmt.Errorf("agi: read header: line %d is not an agi_* variable: %w", n+1, ErrBadHeader)
		}
		value = strings.TrimPrefix(value, " ")
		h.Vars[name] = value
		if rest, ok := strings.CutPrefix(name, "agi_arg_"); ok {
			i, err := strconv.Atoi(rest)
			if err != nil || i < 1 || i > lim.MaxHeaderLines {
				return Header{}, fmt.Errorf("agi: read header: bad argument name %q: %w", name, ErrBadHeader)
			}
			args[i] = value
		}
	}
	if len(h.Vars) == 0 {
		return Header{}, fmt.Errorf("agi: read header: empty header: %w", ErrBadHeader)
	}
	if len(args) > 0 {
		idx := make([]int, 0, len(args))
		for i := range args {
			idx = append(idx, i)
		}
		sort.Ints(idx)
		for _, i := range idx {
			h.Args = append(h.Args, args[i])
		}
	}
	h.Request = h.Vars["agi_request"]
	script, query, _ := strings.Cut(h.Vars["agi_network_script"], "?")
	h.Script = strings.Trim(script, "/")
	h.Query = query
	return h, nil
}

// validVarName reports whether s is "agi_" followed by lower-case letters,
// digits and underscores.
func validVarName(s string) bool {
	rest, ok := strings.CutPrefix(s, "agi_")
	if !ok || rest == "" {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// readLine reads one line of at most max bytes (without "\n" or "\r\n").
// Lines longer than r's buffer are assembled, up to max.
func readLine(r *bufio.Reader, max int) (string, error) {
	b, err := r.ReadSlice('\n')
	var long []byte
	for errors.Is(err, bufio.ErrBufferFull) {
		if len(long)+len(b) > max+1 {
			return "", ErrLineTooLong
		}
		long = append(long, b...)
		b, err = r.ReadSlice('\n')
	}
	if err != nil {
		if errors.Is(err, io.EOF) && len(long)+len(b) > 0 {
			return "", io.ErrUnexpectedEOF
		}
		return "", err
	}
	if long != nil {
		b = append(long, b...)
	}
	b = bytes.TrimSuffix(b[:len(b)-1], []byte{'\r'})
	if len(b) > max {
		return "", ErrLineTooLong
	}
	return string(b), nil
}

// CallInfo turns the header into what vipgate knows about the call:
//
//   - ID is agi_uniqueid; Source is "agi"; Language is agi_language.
//   - Caller is agi_callerid and CallerName agi_calleridname; Asterisk's
//     "unknown" (no caller ID) becomes "".
//   - GateName and Called follow gate.Dialplan's rule, the same as over
//     ARI, with the AGI() arguments after the URL (agi_arg_N), the script
//     path of the URL as the gate name given by the address
//     (agi://host:4573/hotline?v=1 gives "hotline"), agi_extension as the
//     extension and agi_dnid ("unknown" is none) as the dialed number.
//   - A phone override (script path "override", or "override" as the first
//     argument) also reads the URL's query
//     (agi://host/override?gate=hotline&action=toggle), by the same rule
//     as over ARI; see gate.Dialplan.
func (h Header) CallInfo() gate.CallInfo { return h.callInfo(nil) }

// callInfo is CallInfo; ignored arguments are logged on log.
func (h Header) callInfo(log *slog.Logger) gate.CallInfo {
	info := gate.CallInfo{
		ID:         h.Vars["agi_uniqueid"],
		Source:     source,
		Caller:     known(h.Vars["agi_callerid"]),
		CallerName: known(h.Vars["agi_calleridname"]),
		Language:   h.Vars["agi_language"],
	}
	d := gate.Dialplan{
		Path:  h.Script,
		Query: h.Query,
		Args:  h.Args,
		Exten: h.Vars["agi_extension"],
		DNID:  func() string { return known(h.Vars["agi_dnid"]) },
	}
	return d.CallInfo(info, log)
}

// known returns s, or "" for Asterisk's "unknown".
func known(s string) string {
	if s == "unknown" {
		return ""
	}
	return s
}
