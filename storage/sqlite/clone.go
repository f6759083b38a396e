package sqlite

import (
	"maps"
	"slices"
	"time"

	"github.com/vipgate/vipgate/gate"
)

var timeZero time.Time

// cloneGate returns a deep copy of a cached gate, so callers may modify
// what they get. It copies every reference field of gate.Gate; a new
// reference field in gate.Gate must be added here (TestCloneGateDeep
// catches a missed one).
func cloneGate(g *gate.Gate) *gate.Gate {
	c := *g
	c.Match.Numbers = slices.Clone(g.Match.Numbers)
	c.Match.Names = slices.Clone(g.Match.Names)
	if s := g.Activation.Schedule; s != nil {
		cs := *s
		cs.Windows = slices.Clone(s.Windows)
		for i := range cs.Windows {
			cs.Windows[i].Days = slices.Clone(s.Windows[i].Days)
		}
		cs.Closures = slices.Clone(s.Closures)
		c.Activation.Schedule = &cs
	}
	if p := g.Identification.StaticPIN; p != nil {
		c.Identification.StaticPIN = &gate.PINHash{Salt: slices.Clone(p.Salt), Sum: slices.Clone(p.Sum)}
	}
	if w := g.Identification.Webhook; w != nil {
		cw := *w
		cw.Headers = maps.Clone(w.Headers)
		c.Identification.Webhook = &cw
	}
	c.Prompts = maps.Clone(g.Prompts)
	if g.Override != nil {
		o := *g.Override
		c.Override = &o
	}
	return &c
}
