package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/sounds"
)

// promptIndex knows which prompts were uploaded for which gate and
// language, so a gate's own announcement replaces the default. It is
// refreshed in the background, never on the call path.
type promptIndex struct {
	mu  sync.RWMutex
	set map[string]bool // gate \x00 lang \x00 key
}

func promptKey(gateID, lang string, key gate.PromptKey) string {
	return gateID + "\x00" + lang + "\x00" + string(key)
}

// refresh re-reads the uploaded prompts every interval until ctx is done.
func (p *promptIndex) refresh(ctx context.Context, st gate.PromptStore, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		list, err := st.ListPrompts(rctx, "")
		cancel()
		if err == nil {
			set := make(map[string]bool, len(list))
			for _, pf := range list {
				set[promptKey(pf.GateID, pf.Lang, pf.Key)] = true
			}
			p.mu.Lock()
			p.set = set
			p.mu.Unlock()
		} else if ctx.Err() == nil {
			log.Warn("refresh uploaded prompts", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// prompt is the gate.FlowConfig.Prompt resolver: a prompt named in the
// gate's configuration wins, then the gate's upload for the language, then
// the shared name (the default, or an upload for every gate).
func (p *promptIndex) prompt(g *gate.Gate, key gate.PromptKey, lang string) gate.Prompt {
	pr := g.Prompt(key, lang)
	if _, named := g.Prompts[key]; named || g.ID == "" {
		return pr
	}
	p.mu.RLock()
	own := p.set[promptKey(g.ID, pr.Lang, key)]
	shared := p.set[promptKey("", pr.Lang, key)]
	p.mu.RUnlock()
	switch {
	case own:
		pr.Name = sounds.Name(g.ID, key, true)
	case key == gate.PromptWelcome && shared:
		pr.Name = sounds.Name("", key, false)
	}
	return pr
}
