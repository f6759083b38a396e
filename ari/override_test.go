package ari_test

import (
	"context"
	"sync"
	"testing"

	"github.com/vipgate/vipgate/ari/arifake"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// TestOverrideTableOverARI sends every row of gatetest's phone-override
// table through the fake Asterisk as Stasis(vipgate,<args>) (a row's
// FastAGI script path becomes the first argument; rows with a URL query
// have no Stasis form) and checks what the Handler is told: the same rows
// give the same request over FastAGI (agi's TestOverrideTableOverAGI).
func TestOverrideTableOverARI(t *testing.T) {
	f := newFake(t, arifake.Config{})
	var mu sync.Mutex
	seen := map[string]gate.CallInfo{}
	startApp(t, func(ctx context.Context, c gate.Call) {
		mu.Lock()
		seen[c.Info().ID] = c.Info()
		mu.Unlock()
		_ = c.Continue(ctx, gate.Continue)
	}, nil, f)
	for _, tt := range gatetest.OverrideCases {
		if tt.Query != "" {
			continue
		}
		t.Run(tt.Name, func(t *testing.T) {
			args := tt.Args
			if tt.Path != "" {
				args = append([]string{tt.Path}, args...)
			}
			id, err := f.Call(arifake.CallSpec{Exten: "*55", Caller: "201", Args: args})
			if err != nil {
				t.Fatal(err)
			}
			result(t, f, id)
			mu.Lock()
			info := seen[id]
			mu.Unlock()
			gatetest.CheckOverride(t, tt, info)
		})
	}
}
