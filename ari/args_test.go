package ari

import (
	"testing"

	"github.com/vipgate/vipgate/gate/gatetest"
)

// TestCallInfo runs the dialplan table of gatetest (the one gate and the
// FastAGI adapter run too) through the ARI adapter's callInfo.
func TestCallInfo(t *testing.T) {
	ch := func(exten string) *Channel {
		return &Channel{ID: "c1", Caller: CallerID{Number: "0176 1234", Name: "Bob"}, Language: "de", Dialplan: DialplanCEP{Context: "from-external", Exten: exten, Priority: 2}}
	}
	for _, tt := range gatetest.DialplanCases {
		t.Run(tt.Name, func(t *testing.T) {
			info := callInfo(ch(tt.Exten), tt.Args, func() string { return tt.DNID }, nil)
			if info.Called != tt.Called || info.GateName != tt.Gate {
				t.Errorf("called %q gate %q, want %q %q", info.Called, info.GateName, tt.Called, tt.Gate)
			}
			if info.ID != "c1" || info.Source != "ari" || info.Caller != "0176 1234" || info.CallerName != "Bob" || info.Language != "de" {
				t.Errorf("info = %+v", info)
			}
		})
	}
}

func TestStasisArgs(t *testing.T) {
	tests := []struct {
		app, data string
		want      []string
	}{
		{"Stasis", "vipgate,hotline,4930", []string{"hotline", "4930"}},
		{"Stasis", "vipgate", []string{}},
		{"Stasis", "", nil},
		{"Dial", "PJSIP/100", nil},
	}
	for _, tt := range tests {
		got := stasisArgs(&Channel{Dialplan: DialplanCEP{AppName: tt.app, AppData: tt.data}})
		if len(got) != len(tt.want) {
			t.Errorf("%s(%s): got %q, want %q", tt.app, tt.data, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s(%s): got %q, want %q", tt.app, tt.data, got, tt.want)
			}
		}
	}
}

func TestMediaURI(t *testing.T) {
	tests := map[string]string{
		"vipgate/ask-pin":     "sound:vipgate/ask-pin",
		"sound:custom/x":      "sound:custom/x",
		"tone:ring":           "tone:ring",
		"digits:123":          "digits:123",
		"/var/spool/prompt-1": "sound:/var/spool/prompt-1",
	}
	for in, want := range tests {
		if got := mediaURI(in); got != want {
			t.Errorf("mediaURI(%q) = %q, want %q", in, got, want)
		}
	}
}
