package agi

import (
	"errors"
	"maps"
	"testing"

	"github.com/vipgate/vipgate/gate"
)

func TestParseReply(t *testing.T) {
	tests := []struct {
		line    string
		want    Reply
		wantErr bool
	}{
		{line: "200 result=0", want: Reply{Code: 200, ResultText: "0", ResultOK: true, EndPos: -1}},
		{line: "200 result=1 (the value (with parens))", want: Reply{Code: 200, Result: 1, ResultText: "1", ResultOK: true, Data: "the value (with parens)", EndPos: -1}},
		{line: "200 result=-1 endpos=0", want: Reply{Code: 200, Result: -1, ResultText: "-1", ResultOK: true, EndPos: 0}},
		{line: "200 result=49 endpos=123456\r", want: Reply{Code: 200, Result: 49, ResultText: "49", ResultOK: true, EndPos: 123456}},
		{line: "200 result=0123 (timeout)", want: Reply{Code: 200, Result: 123, ResultText: "0123", ResultOK: true, Data: "timeout", EndPos: -1}},
		{line: "200 result=", want: Reply{Code: 200, EndPos: -1}},
		{line: "200 result=1 (digit) digit=1 endpos=80", want: Reply{Code: 200, Result: 1, ResultText: "1", ResultOK: true, Data: "digit", EndPos: 80, Extra: map[string]string{"digit": "1"}}},
		{line: "200 result=1 ()", want: Reply{Code: 200, Result: 1, ResultText: "1", ResultOK: true, EndPos: -1}},
		{line: "510 Invalid or unknown command", want: Reply{Code: 510, Text: "Invalid or unknown command", EndPos: -1}},
		{line: "511 Command Not Permitted on a dead channel or intercept routine", want: Reply{Code: 511, Text: "Command Not Permitted on a dead channel or intercept routine", EndPos: -1}},
		{line: "520 Invalid command syntax.  Proper usage not available.", want: Reply{Code: 520, Text: "Invalid command syntax.  Proper usage not available.", EndPos: -1}},
		{line: "520-Invalid command syntax.  Proper usage follows:", want: Reply{Code: 520, More: true, Text: "Invalid command syntax.  Proper usage follows:", EndPos: -1}},
		{line: "HANGUP", want: Reply{Hangup: true, EndPos: -1}},
		{line: "", wantErr: true},
		{line: "20", wantErr: true},
		{line: "200", wantErr: true},
		{line: "200 ok", wantErr: true},
		{line: "200 result=1 (unclosed", wantErr: true},
		{line: "200 result=1 endpos=x", wantErr: true},
		{line: "200 result=1 junk", wantErr: true},
		{line: "200-result=1", wantErr: true},
		{line: "300 result=1", wantErr: true},
		{line: "+20 result=1", wantErr: true},
		{line: "hangup", wantErr: true},
		{line: "agi_network: yes", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got, err := ParseReply(tt.line)
			if tt.wantErr {
				if !errors.Is(err, gate.ErrInvalid) {
					t.Fatalf("ParseReply(%q) = %+v, %v; want an error wrapping ErrInvalid", tt.line, got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Code != tt.want.Code || got.Result != tt.want.Result || got.ResultText != tt.want.ResultText ||
				got.ResultOK != tt.want.ResultOK || got.Data != tt.want.Data || got.EndPos != tt.want.EndPos ||
				got.Text != tt.want.Text || got.More != tt.want.More || got.Hangup != tt.want.Hangup ||
				!maps.Equal(got.Extra, tt.want.Extra) {
				t.Errorf("ParseReply(%q) = %+v, want %+v", tt.line, got, tt.want)
			}
		})
	}
}

func TestQuoteAndArg(t *testing.T) {
	tests := []struct {
		in, quoted, arg string
		argErr          bool
	}{
		{in: "vipgate/ask-pin", quoted: `"vipgate/ask-pin"`, arg: "vipgate/ask-pin"},
		{in: "", quoted: `""`, arg: `""`},
		{in: "a b", quoted: `"a b"`, arg: `"a b"`},
		{in: `say "hi" \o/`, quoted: `"say \"hi\" \\o/"`, arg: `"say \"hi\" \\o/"`},
		{in: "x\nHANGUP", quoted: "\"x\nHANGUP\"", argErr: true},
		{in: "x\ry", quoted: "\"x\ry\"", argErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := quote(tt.in); got != tt.quoted {
				t.Errorf("quote = %s, want %s", got, tt.quoted)
			}
			got, err := arg(tt.in)
			if tt.argErr != (err != nil) || got != tt.arg {
				t.Errorf("arg = %q, %v; want %q, error %v", got, err, tt.arg, tt.argErr)
			}
		})
	}
}
