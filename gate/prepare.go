package gate

import (
	"errors"
	"slices"
	"strings"
	"time"
)

// prepared is what the Engine derives from a gate once, not per call: the
// gate's Numbering and its match numbers, normalised. It is immutable once
// built and shared by the calls that use the gate.
type prepared struct {
	// The inputs it was built from: a gate whose inputs differ (it was
	// changed) is prepared again.
	numbers []string
	region  string
	rules   NumberRules
	maxLen  int // *rules.InternalMaxLength, -1 if nil

	// numbering reads the gate's numbers; err is set when the gate's rules
	// are invalid, and numbering then has the default rules, so that gate
	// selection still works and identification fails by the failure
	// policy.
	numbering *Numbering
	err       error
	match     []matchPattern

	// sched is the gate's schedule compiled (nil without one); schedErr
	// is why it did not compile, the schedule failure of every call that
	// needs it.
	sched    *compiledSchedule
	schedErr error
}

// matchPattern is one of a gate's match numbers, prepared.
type matchPattern struct {
	text    string // as configured, for the trace
	dialled string // without separators and '*'
	norm    string // normalised by the gate's Numbering, without '*'; "" if it cannot be
	prefix  bool
}

func intOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

// prepare builds the prepared form of g with region (the gate's own or the
// engine's default).
func prepare(g *Gate, region string) *prepared {
	p := &prepared{
		numbers: slices.Clone(g.Match.Numbers),
		region:  region,
		rules:   g.Numbers,
		maxLen:  intOr(g.Numbers.InternalMaxLength, -1),
	}
	p.numbering, p.err = NewNumbering(region, g.Numbers)
	if p.err != nil {
		p.numbering, _ = NewNumbering(region, NumberRules{})
	}
	for _, pat := range g.Match.Numbers {
		m := matchPattern{text: pat, dialled: cleanNumber(pat)}
		m.prefix = strings.HasSuffix(m.dialled, "*")
		m.dialled = strings.TrimSuffix(m.dialled, "*")
		if np, err := p.numbering.Pattern(pat); err == nil {
			m.norm = strings.TrimSuffix(np, "*")
		}
		p.match = append(p.match, m)
	}
	if s := g.Activation.Schedule; s != nil {
		p.sched, p.schedErr = compileSchedule(s)
		if p.schedErr != nil {
			// Keep the source to notice a change of a schedule that
			// did not compile.
			p.sched = &compiledSchedule{src: *cloneSchedule(s)}
		}
	}
	return p
}

// cloneSchedule returns a deep copy of s.
func cloneSchedule(s *Schedule) *Schedule {
	c := *s
	c.Windows = make([]Window, len(s.Windows))
	for i, w := range s.Windows {
		c.Windows[i] = Window{Days: slices.Clone(w.Days), From: w.From, To: w.To}
	}
	c.Closures = slices.Clone(s.Closures)
	c.Holidays = slices.Clone(s.Holidays)
	c.OnHoliday = cloneAction(s.OnHoliday)
	c.Calendars = slices.Clone(s.Calendars)
	return &c
}

// sameSchedule reports whether p was prepared from schedule s.
func (p *prepared) sameSchedule(s *Schedule) bool {
	if p.sched == nil || s == nil {
		return p.sched == nil && s == nil
	}
	return p.sched.src.sameAs(s)
}

// activeAt reports whether the gate's compiled schedule makes it active
// at t, with the reason for the trace.
// The closure or holiday that decided, if any, comes with it.
// cal, when not nil, returns the calendar event that covers t (checked
// when no closure or holiday decided), with the calendars' problems.
func (p *prepared) activeAt(t time.Time, cal func() (*closureHit, []string)) (bool, string, *closureHit, error) {
	if p.schedErr != nil {
		return false, "invalid schedule", nil, p.schedErr
	}
	if p.sched == nil {
		return false, "no schedule", nil, errors.New("schedule mode without a schedule")
	}
	active, why, hit := p.sched.decide(t)
	if hit == nil && cal != nil {
		chit, problems := cal()
		if chit != nil {
			// An event closes the gate: it behaves as outside the
			// windows.
			active, hit = !p.sched.activeInside, chit
			why = chit.label + p.sched.when(t)
		}
		for _, pr := range problems {
			why += "; " + pr
		}
	}
	return active, why, hit, nil
}

// current reports whether p was prepared from g as it is now.
func (p *prepared) current(g *Gate, region string) bool {
	return p.region == region && p.rules.InternalPattern == g.Numbers.InternalPattern &&
		p.maxLen == intOr(g.Numbers.InternalMaxLength, -1) && slices.Equal(p.numbers, g.Match.Numbers) &&
		p.sameSchedule(g.Activation.Schedule)
}

// match returns the length of the best match of the gate's numbers
// against the called number as dialled and as normalised, the pattern
// that matched, or -1. Exact matches rank above prefix matches of the
// same length.
func (p *prepared) matchCalled(called, normCalled string) (int, string) {
	best, bestPat := -1, ""
	for i := range p.match {
		if n := p.match[i].matchLen(called, normCalled); n > best {
			best, bestPat = n, p.match[i].text
		}
	}
	return best, bestPat
}

func (m *matchPattern) matchLen(called, normCalled string) int {
	if m.dialled == "" || called == "" {
		return -1
	}
	best := -1
	try := func(pat, num string) {
		if num == "" || pat == "" {
			return
		}
		switch {
		case !m.prefix && pat == num:
			best = max(best, 2*len(pat)+1)
		case m.prefix && strings.HasPrefix(num, pat):
			best = max(best, 2*len(pat))
		}
	}
	try(m.dialled, called)
	try(m.dialled, normCalled)
	try(m.norm, normCalled)
	return best
}
