package agi

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
)

// FuzzReadHeader checks that any input either parses into a header that
// keeps the limits, or fails with a parse error or an unexpected end; it
// must never panic. Seeds are in testdata/fuzz/FuzzReadHeader.
func FuzzReadHeader(f *testing.F) {
	f.Add([]byte(testHeader))
	f.Add([]byte("agi_arg_2: b\nagi_arg_1: a\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{MaxLineLen: 256, MaxHeaderLines: 16}
		h, err := ReadHeader(bufio.NewReaderSize(strings.NewReader(string(data)), 16), lim)
		if err != nil {
			if !errors.Is(err, gate.ErrInvalid) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if len(h.Vars) == 0 || len(h.Vars) > lim.MaxHeaderLines {
			t.Fatalf("%d vars", len(h.Vars))
		}
		for k, v := range h.Vars {
			if !validVarName(k) || len(k)+len(v) > lim.MaxLineLen || strings.ContainsAny(v, "\n") {
				t.Fatalf("bad var %q: %q", k, v)
			}
		}
		if len(h.Args) > lim.MaxHeaderLines {
			t.Fatalf("%d args", len(h.Args))
		}
		_ = h.CallInfo()
	})
}

// FuzzParseReply checks that ParseReply never panics, that errors wrap
// gate.ErrInvalid, and that a parsed 200 reply writes back to a line that
// parses the same. Seeds are in testdata/fuzz/FuzzParseReply.
func FuzzParseReply(f *testing.F) {
	for _, s := range []string{"200 result=0", "200 result=-1 endpos=0", "200 result=1 (v)", "511 x", "520-u", "HANGUP"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r, err := ParseReply(line)
		if err != nil {
			if !errors.Is(err, gate.ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if r.Hangup || r.Code != CodeOK || len(r.Extra) > 0 || strings.ContainsAny(r.ResultText+r.Data, " ()\r") {
			return
		}
		again, err := ParseReply(r.String())
		if err != nil {
			t.Fatalf("ParseReply(%q) = %v (from %q)", r.String(), err, line)
		}
		if again.Result != r.Result || again.ResultText != r.ResultText || again.Data != r.Data || again.EndPos != r.EndPos {
			t.Fatalf("round trip %q -> %+v -> %q -> %+v", line, r, r.String(), again)
		}
	})
}
