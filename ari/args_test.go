package ari

import "testing"

func TestCallInfo(t *testing.T) {
	ch := func(exten string) *Channel {
		return &Channel{ID: "c1", Caller: CallerID{Number: "0176 1234", Name: "Bob"}, Language: "de", Dialplan: DialplanCEP{Context: "from-external", Exten: exten, Priority: 2}}
	}
	tests := []struct {
		name   string
		exten  string
		args   []string
		called string
		gate   string
	}{
		{"no args uses exten", "4930123", nil, "4930123", ""},
		{"number arg", "s", []string{"4930999"}, "4930999", ""},
		{"plus number arg", "1000", []string{"+4930999"}, "+4930999", ""},
		{"gate name", "1000", []string{"hotline"}, "1000", "hotline"},
		{"gate and number", "1000", []string{"hotline", "4930999"}, "4930999", "hotline"},
		{"number then gate", "1000", []string{"4930999", "hotline"}, "4930999", "hotline"},
		{"explicit keys", "1000", []string{"called=555", "gate=night"}, "555", "night"},
		{"explicit gate with digits", "1000", []string{"gate=2024"}, "1000", "2024"},
		{"empty args skipped", "1000", []string{"", " ", "hotline"}, "1000", "hotline"},
		{"first of a kind wins", "1000", []string{"a", "b", "1", "2"}, "1", "a"},
		{"s exten is not a number", "s", nil, "", ""},
		{"lone plus is a name", "1000", []string{"+"}, "1000", "+"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := callInfo(ch(tt.exten), tt.args)
			if info.Called != tt.called || info.GateName != tt.gate {
				t.Errorf("called %q gate %q, want %q %q", info.Called, info.GateName, tt.called, tt.gate)
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
