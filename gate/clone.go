package gate

import (
	"maps"
	"slices"
)

// Clone returns a deep copy of g that shares no pointer, slice or map with
// it, so that gates handed out from a cache can be changed by their
// callers. It is written out by hand because stores run it for every gate
// on every call; TestCloneDeep fills every field of Gate by reflection, so
// a reference field added to Gate without a line here fails that test.
func (g *Gate) Clone() *Gate {
	if g == nil {
		return nil
	}
	c := *g
	c.Match.Numbers = slices.Clone(g.Match.Numbers)
	c.Match.Names = slices.Clone(g.Match.Names)
	c.Notify = cloneNotify(g.Notify)
	if n := g.Numbers.InternalMaxLength; n != nil {
		cn := *n
		c.Numbers.InternalMaxLength = &cn
	}
	if s := g.Activation.Schedule; s != nil {
		cs := *s
		cs.Windows = slices.Clone(s.Windows)
		for i := range cs.Windows {
			cs.Windows[i].Days = slices.Clone(s.Windows[i].Days)
		}
		cs.Closures = slices.Clone(s.Closures)
		cs.Holidays = slices.Clone(s.Holidays)
		cs.Calendars = slices.Clone(s.Calendars)
		cs.OnHoliday = cloneAction(s.OnHoliday)
		c.Activation.Schedule = &cs
	}
	if p := g.Identification.StaticPIN; p != nil {
		c.Identification.StaticPIN = &PINHash{Salt: slices.Clone(p.Salt), Sum: slices.Clone(p.Sum)}
	}
	c.Identification.PINSet = cloneSet(g.Identification.PINSet)
	if w := g.Identification.Webhook; w != nil {
		cw := *w
		cw.Headers = maps.Clone(w.Headers)
		c.Identification.Webhook = &cw
	}
	if db := g.Identification.Database; db != nil {
		cd := *db
		c.Identification.Database = &cd
	}
	c.Prompts = maps.Clone(g.Prompts)
	if o := g.Override; o != nil {
		co := *o
		c.Override = &co
	}
	if p := g.PhoneOverride; p != nil {
		cp := *p
		if h := p.PIN; h != nil {
			cp.PIN = &PINHash{Salt: slices.Clone(h.Salt), Sum: slices.Clone(h.Sum)}
		}
		c.PhoneOverride = &cp
	}
	return &c
}
