package sounds_test

import (
	"context"
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/sounds"
)

func TestResolver(t *testing.T) {
	dir := t.TempDir()
	up := sounds.EncodeWAV(sine(440, 8000, 4000, 8000), 8000)
	_, err := sounds.Install(context.Background(), dir, []*gate.PromptFile{
		{GateID: "hotline", Lang: "de", Key: gate.PromptAskPIN, Data: up},
		{GateID: "hotline", Lang: "en", Key: gate.PromptWelcome, Data: up},
		{Lang: "de", Key: gate.PromptWelcome, Data: up}, // for every gate
	})
	if err != nil {
		t.Fatal(err)
	}
	hotline := &gate.Gate{ID: "hotline"}
	german := &gate.Gate{ID: "hotline", Language: "de"}
	custom := &gate.Gate{ID: "hotline", Prompts: gate.Prompts{gate.PromptAskPIN: "custom/ask"}}
	other := &gate.Gate{ID: "sales"}
	tests := []struct {
		name     string
		dir      string
		g        *gate.Gate
		key      gate.PromptKey
		lang     string
		wantName string
		wantLang string
	}{
		{"gate upload in its language", dir, hotline, gate.PromptAskPIN, "de", "vipgate/gates/hotline/ask-pin", "de"},
		{"gate upload for a dialect", dir, hotline, gate.PromptAskPIN, "de_AT", "vipgate/gates/hotline/ask-pin", "de_AT"},
		{"gate language when lang is empty", dir, german, gate.PromptAskPIN, "", "vipgate/gates/hotline/ask-pin", "de"},
		{"no upload in this language", dir, hotline, gate.PromptAskPIN, "en", "vipgate/ask-pin", "en"},
		{"empty lang means en", dir, hotline, gate.PromptAskPIN, "", "vipgate/ask-pin", ""},
		{"other gate gets the default", dir, other, gate.PromptAskPIN, "de", "vipgate/ask-pin", "de"},
		{"configured name wins", dir, custom, gate.PromptAskPIN, "de", "custom/ask", "de"},
		{"gate welcome", dir, hotline, gate.PromptWelcome, "en", "vipgate/gates/hotline/welcome", "en"},
		{"welcome uploaded for every gate", dir, other, gate.PromptWelcome, "de", "vipgate/welcome", "de"},
		{"no welcome at all", dir, other, gate.PromptWelcome, "en", "", "en"},
		{"no directory: defaults", "", hotline, gate.PromptAskPIN, "de", "vipgate/ask-pin", "de"},
		{"no directory: no welcome", "", hotline, gate.PromptWelcome, "en", "", "en"},
		{"missing directory", dir + "/nope", hotline, gate.PromptWrongPIN, "de", "vipgate/wrong-pin", "de"},
		{"unsafe language", dir, hotline, gate.PromptAskPIN, "../de", "vipgate/ask-pin", "../de"},
		{"unsafe gate ID", dir, &gate.Gate{ID: "../hotline"}, gate.PromptAskPIN, "de", "vipgate/ask-pin", "de"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := sounds.NewResolver(tt.dir).Prompt(tt.g, tt.key, tt.lang)
			if p.Name != tt.wantName || p.Lang != tt.wantLang || p.Key != tt.key {
				t.Errorf("Prompt = %+v, want name %q lang %q key %q", p, tt.wantName, tt.wantLang, tt.key)
			}
		})
	}
}

// TestResolverMatchesGatePrompt checks that without a sounds directory
// the resolver gives what gate.Prompt gives, for every key.
func TestResolverMatchesGatePrompt(t *testing.T) {
	gates := []*gate.Gate{
		{ID: "a"},
		{ID: "b", Language: "de", Prompts: gate.Prompts{gate.PromptWelcome: "custom/hello", gate.PromptRejected: "custom/no"}},
	}
	r := sounds.NewResolver("")
	for _, g := range gates {
		for _, k := range gate.PromptKeys {
			for _, lang := range []string{"", "en", "de"} {
				if got, want := r.Prompt(g, k, lang), g.Prompt(k, lang); got != want {
					t.Errorf("gate %s key %s lang %q: resolver %+v, gate.Prompt %+v", g.ID, k, lang, got, want)
				}
			}
		}
	}
}
