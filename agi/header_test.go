package agi

import (
	"bufio"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
)

func TestReadHeader(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		lim     Limits
		wantErr error
		check   func(t *testing.T, h Header)
	}{
		{
			name: "network script with query and args",
			in: "agi_network: yes\nagi_network_script: /hotline/?v=1\nagi_request: agi://127.0.0.1:4573/hotline?v=1\n" +
				"agi_accountcode: \nagi_arg_2: b\nagi_arg_1: a\n\nSTREAM",
			check: func(t *testing.T, h Header) {
				if h.Script != "hotline" || h.Query != "v=1" {
					t.Errorf("script %q query %q", h.Script, h.Query)
				}
				if !slices.Equal(h.Args, []string{"a", "b"}) {
					t.Errorf("args %q", h.Args)
				}
				if h.Request != "agi://127.0.0.1:4573/hotline?v=1" || h.Get("network") != "yes" || h.Get("agi_accountcode") != "" {
					t.Errorf("vars %v", h.Vars)
				}
			},
		},
		{
			name: "CR LF line ends and values with colons",
			in:   "agi_channel: PJSIP/a:b-0001\r\nagi_callerid: 123\r\n\r\n",
			check: func(t *testing.T, h Header) {
				if h.Get("channel") != "PJSIP/a:b-0001" || h.Get("callerid") != "123" {
					t.Errorf("vars %q", h.Vars)
				}
			},
		},
		{name: "end of input before the empty line", in: "agi_network: yes\n", wantErr: io.ErrUnexpectedEOF},
		{name: "end of input in a line", in: "agi_network: yes\nagi_chan", wantErr: io.ErrUnexpectedEOF},
		{name: "nothing at all", in: "", wantErr: io.ErrUnexpectedEOF},
		{name: "empty header", in: "\n", wantErr: gate.ErrInvalid},
		{name: "not a header line", in: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", wantErr: gate.ErrInvalid},
		{name: "no colon", in: "agi_network yes\n\n", wantErr: gate.ErrInvalid},
		{name: "upper-case name", in: "AGI_NETWORK: yes\n\n", wantErr: gate.ErrInvalid},
		{name: "binary garbage", in: "\x00\x01\x02\xff\xfe\n\n", wantErr: gate.ErrInvalid},
		{name: "bad arg index", in: "agi_arg_x: 1\n\n", wantErr: gate.ErrInvalid},
		{name: "arg index 0", in: "agi_arg_0: 1\n\n", wantErr: gate.ErrInvalid},
		{name: "line too long", in: "agi_x: " + strings.Repeat("a", 100) + "\n\n", lim: Limits{MaxLineLen: 64}, wantErr: ErrLineTooLong},
		{name: "too many lines", in: strings.Repeat("agi_x: 1\n", 5) + "\n", lim: Limits{MaxHeaderLines: 4}, wantErr: gate.ErrInvalid},
		{
			name: "exactly the line limit",
			in:   strings.Repeat("agi_x: 1\n", 4) + "\n",
			lim:  Limits{MaxHeaderLines: 4},
			check: func(t *testing.T, h Header) {
				if h.Get("x") != "1" {
					t.Errorf("vars %v", h.Vars)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bufio.NewReaderSize(strings.NewReader(tt.in), 16)
			h, err := ReadHeader(r, tt.lim)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, h)
		})
	}
}

func TestHeaderCallInfo(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		args []string
		want gate.CallInfo
	}{
		{
			name: "gate from script, called from numeric arg",
			vars: map[string]string{"agi_network_script": "hotline?x=1", "agi_callerid": "+4930123", "agi_calleridname": "Bob", "agi_extension": "200", "agi_uniqueid": "1.2", "agi_language": "de"},
			args: []string{"0301234567"},
			want: gate.CallInfo{ID: "1.2", Source: "agi", Caller: "+4930123", CallerName: "Bob", Called: "0301234567", GateName: "hotline", Language: "de"},
		},
		{
			name: "unknown caller, extension as called",
			vars: map[string]string{"agi_callerid": "unknown", "agi_calleridname": "unknown", "agi_extension": "1000"},
			want: gate.CallInfo{Source: "agi", Called: "1000"},
		},
		{
			name: "s extension uses dnid",
			vars: map[string]string{"agi_extension": "s", "agi_dnid": "0711555"},
			want: gate.CallInfo{Source: "agi", Called: "0711555"},
		},
		{
			name: "s extension with unknown dnid",
			vars: map[string]string{"agi_extension": "s", "agi_dnid": "unknown"},
			want: gate.CallInfo{Source: "agi"},
		},
		{
			name: "gate name from first non-numeric arg when no script",
			vars: map[string]string{"agi_extension": "s", "agi_dnid": "555"},
			args: []string{"", "vip", "+49 30", "+4930555", "other"},
			want: gate.CallInfo{Source: "agi", Called: "+4930555", GateName: "vip"},
		},
		{
			name: "script wins over a name arg",
			vars: map[string]string{"agi_network_script": "/a/", "agi_extension": "77"},
			args: []string{"b"},
			want: gate.CallInfo{Source: "agi", Called: "77", GateName: "a"},
		},
		{
			name: "explicit gate= and called= win",
			vars: map[string]string{"agi_network_script": "a", "agi_extension": "77"},
			args: []string{"123", "gate=vip", "called=+4930999", "x=y"},
			want: gate.CallInfo{Source: "agi", Called: "+4930999", GateName: "vip"},
		},
		{
			name: "star and hash count as a number",
			vars: map[string]string{"agi_extension": "1"},
			args: []string{"*21#"},
			want: gate.CallInfo{Source: "agi", Called: "*21#"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			for k, v := range tt.vars {
				b.WriteString(k + ": " + v + "\n")
			}
			for i, a := range tt.args {
				b.WriteString("agi_arg_" + string(rune('1'+i)) + ": " + a + "\n")
			}
			b.WriteString("\n")
			h, err := ReadHeader(bufio.NewReader(strings.NewReader(b.String())), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if got := h.CallInfo(); got != tt.want {
				t.Errorf("CallInfo() = %+v, want %+v", got, tt.want)
			}
		})
	}
}
