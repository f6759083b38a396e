package gate

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// loadZone returns the IANA time zone name. It reads the zone database on
// every call; the Engine loads a gate's zone once, when it prepares the
// gate (see compileSchedule).
func loadZone(name string) (*time.Location, error) {
	switch name {
	case "":
		return nil, errors.New("time zone is required")
	case "Local":
		return nil, errors.New(`"Local" depends on the machine; name an IANA time zone such as "Europe/Berlin"`)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	return loc, nil
}

// inside implements Schedule.Inside: it compiles s and evaluates it once.
func (s *Schedule) inside(t time.Time) (bool, string, error) {
	if s == nil {
		return false, "no schedule", fmt.Errorf("schedule: no schedule set: %w", ErrInvalid)
	}
	cs, err := compileSchedule(s)
	if err != nil {
		return false, "invalid schedule", fmt.Errorf("schedule: %w", err)
	}
	in, why, _ := cs.inside(t)
	return in, why, nil
}

// closureHit is the closure or holiday that decided a schedule: its label
// and its action (nil: behave as outside business hours).
type closureHit struct {
	label  string
	action *ClosureAction
}

// inside reports whether t falls inside the windows and not on a
// closure, with the reason for the trace and the closure or holiday that
// decided (nil if none did).
func (cs *compiledSchedule) inside(t time.Time) (bool, string, *closureHit) {
	c := newClock(cs.loc, t)
	when := cs.when(t)
	for i := range cs.closures {
		if c.inClosure(&cs.closures[i]) {
			return false, cs.closures[i].label + when, &closureHit{label: cs.closures[i].label, action: cs.closures[i].action}
		}
	}
	if cs.holidays != nil {
		if label := c.inHoliday(cs.holidays); label != "" {
			return false, label + when, &closureHit{label: label, action: cs.holidays.action}
		}
	}
	for i := range cs.windows {
		if c.inWindow(&cs.windows[i]) {
			return true, "inside window " + cs.windows[i].label + when, nil
		}
	}
	return false, "outside all windows" + when, nil
}

// when is t as the trace shows it: the zone and the local time.
func (cs *compiledSchedule) when(t time.Time) string {
	return " (" + cs.zone + ", " + t.In(cs.loc).Format("Mon 15:04 MST") + ")"
}

// activeAt is Schedule.ActiveAt for the compiled form.
func (cs *compiledSchedule) activeAt(t time.Time) (bool, string) {
	active, why, _ := cs.decide(t)
	return active, why
}

// decide is activeAt with the closure or holiday that decided.
func (cs *compiledSchedule) decide(t time.Time) (bool, string, *closureHit) {
	in, why, hit := cs.inside(t)
	if cs.activeInside {
		return in, why, hit
	}
	return !in, why, hit
}

// compiledSchedule is a parsed Schedule, built once per gate by the
// Engine (see prepare) and immutable after. It keeps a copy of the fields
// it was parsed from, so that a changed gate is compiled again.
type compiledSchedule struct {
	src          Schedule // a deep copy of the schedule it was parsed from
	zone         string
	loc          *time.Location
	activeInside bool
	windows      []windowSpec
	closures     []closureSpec
	holidays     *holidays // nil without holiday sets
}

// sameAs reports whether s and o hold the same zone, activity, windows
// and closures.
func (s *Schedule) sameAs(o *Schedule) bool {
	if s.TimeZone != o.TimeZone || s.Active != o.Active || len(s.Windows) != len(o.Windows) || len(s.Closures) != len(o.Closures) ||
		!slices.Equal(s.Holidays, o.Holidays) || !sameAction(s.OnHoliday, o.OnHoliday) {
		return false
	}
	for i := range s.Windows {
		a, b := &s.Windows[i], &o.Windows[i]
		if a.From != b.From || a.To != b.To || !slices.Equal(a.Days, b.Days) {
			return false
		}
	}
	for i := range s.Closures {
		if s.Closures[i] != o.Closures[i] {
			return false
		}
	}
	return true
}

func cloneAction(a *ClosureAction) *ClosureAction {
	if a == nil {
		return nil
	}
	c := *a
	return &c
}

func sameAction(a, b *ClosureAction) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// compileSchedule parses s. It fails with the first problem as a
// *ValidationError (fields relative to s); Validate reports them all. The
// result holds copies of everything it read.
func compileSchedule(s *Schedule) (*compiledSchedule, error) {
	zone := strings.TrimSpace(s.TimeZone)
	loc, err := loadZone(zone)
	if err != nil {
		return nil, &ValidationError{Field: "time_zone", Problem: err.Error()}
	}
	cs := &compiledSchedule{
		src:          Schedule{TimeZone: s.TimeZone, Active: s.Active, Windows: make([]Window, len(s.Windows)), Closures: slices.Clone(s.Closures), Holidays: slices.Clone(s.Holidays), OnHoliday: cloneAction(s.OnHoliday)},
		zone:         zone,
		loc:          loc,
		activeInside: strings.EqualFold(strings.TrimSpace(s.Active), Inside),
		windows:      make([]windowSpec, len(s.Windows)),
		closures:     make([]closureSpec, len(s.Closures)),
	}
	for i := range s.Closures {
		c, field, err := parseClosure(&s.Closures[i])
		if err != nil {
			return nil, &ValidationError{Field: fmt.Sprintf("closures[%d].%s", i, field), Problem: err.Error()}
		}
		c.label = closureLabel(&s.Closures[i])
		if a := s.Closures[i].ClosureAction; a.set() {
			c.action = &a
		}
		cs.closures[i] = c
	}
	var bad int
	if cs.holidays, bad, err = compileHolidays(s.Holidays); err != nil {
		return nil, &ValidationError{Field: fmt.Sprintf("holidays[%d]", bad), Problem: err.Error()}
	}
	if cs.holidays != nil && s.OnHoliday != nil && s.OnHoliday.set() {
		a := *s.OnHoliday
		cs.holidays.action = &a
	}
	for i := range s.Windows {
		w, field, err := parseWindow(&s.Windows[i])
		if err != nil {
			return nil, &ValidationError{Field: fmt.Sprintf("windows[%d].%s", i, field), Problem: err.Error()}
		}
		w.label = windowLabel(&s.Windows[i])
		cs.windows[i] = w
		cs.src.Windows[i] = Window{Days: slices.Clone(s.Windows[i].Days), From: s.Windows[i].From, To: s.Windows[i].To}
	}
	return cs, nil
}

// clock evaluates wall-clock boundaries around one instant in one zone.
type clock struct {
	loc *time.Location
	now int64 // the instant, Unix seconds
	day int64 // its local calendar day, days since 1970-01-01
	off int64 // its UTC offset, seconds
	// fast is set when no zone transition lies within a few days of now:
	// every wall time near now is then one instant, wall - off.
	fast bool
	// dates are the calendar dates of day-1, day and day+1.
	dates [3]struct {
		y    int64
		m, d int
	}
}

func newClock(loc *time.Location, t time.Time) clock {
	lt := t.In(loc)
	y, m, d := lt.Date()
	_, off := lt.Zone()
	c := clock{loc: loc, now: t.Unix(), day: daysFromCivil(int64(y), int(m), d), off: int64(off)}
	// Boundaries lie within three days of now (a window starting yesterday
	// may end tomorrow) and offsets differ by less than two days, so five
	// days of margin make every nearby wall time unambiguous.
	const margin = 5 * 86400
	start, end := lt.ZoneBounds()
	c.fast = (start.IsZero() || start.Unix() <= c.now-margin) && (end.IsZero() || end.Unix() > c.now+margin)
	for i := range c.dates {
		k := &c.dates[i]
		k.y, k.m, k.d = civilFromDays(c.day - 1 + int64(i))
	}
	return c
}

// at returns the instant of minute min (which may pass 1440 into the next
// days) of calendar day day.
func (c *clock) at(day int64, min int) int64 {
	wall := day*86400 + int64(min)*60
	if c.fast {
		return wall - c.off
	}
	return resolveWall(c.loc, wall)
}

// covers reports whether now lies in [min start, min end) of day.
func (c *clock) covers(day int64, start, end int) bool {
	return c.now >= c.at(day, start) && c.now < c.at(day, end)
}

// lastDay is the last day whose boundaries can start at or before now: the
// local day of now, or the day after when clocks going back across
// midnight could put the next day's first minutes before now.
func (c *clock) lastDay() int64 {
	if c.fast {
		return c.day
	}
	return c.day + 1
}

func (c *clock) inWindow(w *windowSpec) bool {
	for d := c.day - 1; d <= c.lastDay(); d++ {
		if w.days&(1<<weekdayOf(d)) != 0 && c.covers(d, w.start, w.end) {
			return true
		}
	}
	return false
}

func (c *clock) inClosure(cs *closureSpec) bool {
	for d := c.day - 1; d <= c.lastDay(); d++ {
		k := &c.dates[d-c.day+1]
		if cs.on(k.y, k.m, k.d) && c.covers(d, cs.start, cs.end) {
			return true
		}
	}
	return false
}

// inHoliday returns the label of the holiday now falls on ("" if none):
// a holiday closes its whole calendar day.
func (c *clock) inHoliday(h *holidays) string {
	for d := c.day - 1; d <= c.lastDay(); d++ {
		k := &c.dates[d-c.day+1]
		if label := h.on(k.y, k.m, k.d); label != "" && c.covers(d, 0, 1440) {
			return label
		}
	}
	return ""
}

// resolveWall returns the instant at which the clocks of loc show wall
// (seconds since 1970-01-01 of a wall date and time, read as if UTC). A
// wall time that happens twice resolves to its first occurrence; one that
// does not exist resolves to the end of the gap, the instant the clocks
// jump past it.
func resolveWall(loc *time.Location, wall int64) int64 {
	// An instant that shows wall lies within the largest UTC offset of
	// wall. Walk the zone periods that cover that span, oldest first.
	const span = 30 * 3600
	x := wall - span
	var prevOff int64
	gap, havePrev, haveGap := int64(0), false, false
	for range 64 {
		lt := time.Unix(x, 0).In(loc)
		_, o := lt.Zone()
		off := int64(o)
		zs, ze := lt.ZoneBounds()
		start, end := int64(math.MinInt64), int64(math.MaxInt64)
		if !zs.IsZero() {
			start = zs.Unix()
		}
		if !ze.IsZero() {
			end = ze.Unix()
		}
		if u := wall - off; start <= u && u < end {
			return u // the oldest period that shows wall holds its first occurrence
		}
		if havePrev && !haveGap && start+prevOff <= wall && wall < start+off {
			gap, haveGap = start, true // clocks jumped from before wall to after it at start
		}
		if end == math.MaxInt64 || end > wall+span {
			break
		}
		prevOff, havePrev, x = off, true, end
	}
	if haveGap {
		return gap
	}
	// Not reached with real zone data; fall back to the offset at wall.
	_, o := time.Unix(wall, 0).In(loc).Zone()
	return wall - int64(o)
}

// windowSpec is a parsed Window.
type windowSpec struct {
	days       uint8  // bit time.Weekday set for each day the window starts on
	start, end int    // minutes after midnight of the start day; end > start
	label      string // "mon-fri 08:00-18:00"
}

// parseWindow reads w. On error it names the bad field relative to w.
func parseWindow(w *Window) (windowSpec, string, error) {
	var ws windowSpec
	days, bad, err := parseDays(w.Days)
	if err != nil {
		return ws, fmt.Sprintf("days[%d]", bad), err
	}
	ws.days = days
	if ws.start, err = parseClock(w.From, false); err != nil {
		return ws, "from", err
	}
	if ws.end, err = parseClock(w.To, true); err != nil {
		return ws, "to", err
	}
	if ws.end <= ws.start {
		ws.end += 1440
	}
	return ws, "", nil
}

// closureSpec is a parsed Closure.
type closureSpec struct {
	yearly bool
	// first and last are YYYYMMDD, or MMDD when yearly (then last may be
	// before first: the range crosses the new year).
	first, last int64
	start, end  int    // minutes after midnight of each day; end > start
	label       string // `closure "Christmas Eve" from 12:00`
	action      *ClosureAction
}

// parseClosure reads c. On error it names the bad field relative to c.
func parseClosure(c *Closure) (closureSpec, string, error) {
	cs := closureSpec{yearly: c.Yearly, start: 0, end: 1440}
	y, m, d, err := parseDate(c.Date)
	if err != nil {
		return cs, "date", err
	}
	if y == 0 && !c.Yearly {
		return cs, "date", errors.New(`a date without a year ("MM-DD") needs yearly`)
	}
	cs.first = dateKey(y, m, d, c.Yearly)
	cs.last = cs.first
	if strings.TrimSpace(c.Until) != "" {
		uy, um, ud, err := parseDate(c.Until)
		if err != nil {
			return cs, "until", err
		}
		if uy == 0 && !c.Yearly {
			return cs, "until", errors.New(`a date without a year ("MM-DD") needs yearly`)
		}
		cs.last = dateKey(uy, um, ud, c.Yearly)
		if !c.Yearly && cs.last < cs.first {
			return cs, "until", errors.New("is before date")
		}
	}
	if strings.TrimSpace(c.From) != "" {
		if cs.start, err = parseClock(c.From, false); err != nil {
			return cs, "from", err
		}
	}
	if strings.TrimSpace(c.To) != "" {
		if cs.end, err = parseClock(c.To, true); err != nil {
			return cs, "to", err
		}
	}
	if cs.end <= cs.start {
		cs.end += 1440
	}
	return cs, "", nil
}

func dateKey(y int64, m, d int, yearly bool) int64 {
	if yearly {
		return int64(m*100 + d)
	}
	return y*10000 + int64(m*100+d)
}

// on reports whether the closure covers the calendar day y-m-d.
func (cs closureSpec) on(y int64, m, d int) bool {
	if cs.yearly {
		md := int64(m*100 + d)
		if cs.first <= cs.last {
			return cs.first <= md && md <= cs.last
		}
		return md >= cs.first || md <= cs.last
	}
	k := dateKey(y, m, d, false)
	return cs.first <= k && k <= cs.last
}

// parseClock reads "HH:MM" (or "H:MM") as minutes after midnight; "24:00"
// (1440) only when allow24.
func parseClock(s string, allow24 bool) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New(`is required ("HH:MM")`)
	}
	i := strings.IndexByte(s, ':')
	h, m := atoi2(s[:max(i, 0)]), -1
	if i >= 0 && len(s)-i == 3 {
		m = atoi2(s[i+1:])
	}
	if h < 0 || m < 0 {
		return 0, fmt.Errorf("%q is not a time of day (want HH:MM)", s)
	}
	switch {
	case h == 24 && m == 0 && allow24:
		return 1440, nil
	case h == 24 && m == 0:
		return 0, errors.New(`"24:00" is allowed only as an end time`)
	case h > 23 || m > 59:
		return 0, fmt.Errorf("%q is out of range (00:00 to 23:59)", s)
	}
	return h*60 + m, nil
}

// atoi2 reads one or two decimal digits, -1 if s is anything else.
func atoi2(s string) int {
	if len(s) < 1 || len(s) > 2 {
		return -1
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return -1
		}
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// parseDate reads "YYYY-MM-DD" or "MM-DD" (year 0).
func parseDate(s string) (y int64, m, d int, err error) {
	s = strings.TrimSpace(s)
	bad := func() (int64, int, int, error) {
		return 0, 0, 0, fmt.Errorf("%q is not a date (want YYYY-MM-DD, or MM-DD with yearly)", s)
	}
	switch {
	case len(s) == 10 && s[4] == '-' && s[7] == '-':
		yy, err := strconv.Atoi(s[:4])
		if err != nil || yy < 1 || s[0] == '+' || s[0] == '-' {
			return bad()
		}
		y, s = int64(yy), s[5:]
	case len(s) == 5 && s[2] == '-':
	case s == "":
		return 0, 0, 0, errors.New("is required (YYYY-MM-DD, or MM-DD with yearly)")
	default:
		return bad()
	}
	m, d = atoi2(s[:2]), atoi2(s[3:])
	if len(s) != 5 || s[2] != '-' || m < 1 || m > 12 || d < 1 {
		return bad()
	}
	ly := y
	if ly == 0 {
		ly = 2000 // a leap year: a yearly 02-29 is allowed
	}
	if d > daysIn(ly, m) {
		return 0, 0, 0, fmt.Errorf("%q is not a day of the calendar", s)
	}
	return y, m, d, nil
}

func daysIn(y int64, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
var fullDayNames = [7]string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// parseDays reads Window.Days into a bit set of weekdays. No days means
// every day. On error it returns the index of the bad entry.
func parseDays(days []string) (uint8, int, error) {
	if len(days) == 0 {
		return 0x7f, 0, nil
	}
	var mask uint8
	for j, s := range days {
		m, err := parseDayList(s)
		if err != nil {
			return 0, j, err
		}
		mask |= m
	}
	return mask, 0, nil
}

// parseDayList reads "mon", "mon-fri" or a comma list of those.
func parseDayList(s string) (uint8, error) {
	var mask uint8
	for rest := s; ; {
		part, tail, more := strings.Cut(rest, ",")
		if strings.TrimSpace(part) == "" {
			return 0, fmt.Errorf("%q: empty day (want mon..sun or a range such as mon-fri)", s)
		}
		a, b, isRange := strings.Cut(part, "-")
		from, ok := dayIndex(a)
		to := from
		if isRange {
			var ok2 bool
			to, ok2 = dayIndex(b)
			ok = ok && ok2
		}
		if !ok {
			return 0, fmt.Errorf("%q is not a day (want mon..sun or a range such as mon-fri)", strings.TrimSpace(part))
		}
		for d := from; ; d = (d + 1) % 7 {
			mask |= 1 << d
			if d == to {
				break
			}
		}
		if !more {
			return mask, nil
		}
		rest = tail
	}
}

func dayIndex(s string) (int, bool) {
	s = strings.TrimSpace(s)
	for i := range dayNames {
		if strings.EqualFold(s, dayNames[i]) || strings.EqualFold(s, fullDayNames[i]) {
			return i, true
		}
	}
	return 0, false
}

// daysFromCivil returns the number of days from 1970-01-01 to y-m-d in the
// proleptic Gregorian calendar (H. Hinnant's algorithm).
func daysFromCivil(y int64, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := int64((m + 9) % 12)
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (int64, int, int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := int(doy - (153*mp+2)/5 + 1)
	m := int(mp + 3)
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// weekdayOf returns the weekday of a day counted from 1970-01-01 (a
// Thursday).
func weekdayOf(day int64) time.Weekday {
	w := (day + 4) % 7
	if w < 0 {
		w += 7
	}
	return time.Weekday(w)
}

// windowLabel writes w for the trace: "mon-fri 08:00-18:00".
func windowLabel(w *Window) string {
	days := "daily"
	if len(w.Days) > 0 {
		parts := make([]string, len(w.Days))
		for i, d := range w.Days {
			parts[i] = strings.ToLower(strings.TrimSpace(d))
		}
		days = strings.Join(parts, ",")
	}
	return days + " " + strings.TrimSpace(w.From) + "-" + strings.TrimSpace(w.To)
}

// closureLabel writes c for the trace: `closure "Christmas Eve" from 12:00`.
func closureLabel(c *Closure) string {
	var b strings.Builder
	b.WriteString("closure ")
	if name := strings.TrimSpace(c.Name); name != "" {
		b.WriteString(strconv.Quote(name))
	} else {
		if c.Yearly {
			b.WriteString("yearly ")
		}
		b.WriteString(strings.TrimSpace(c.Date))
		if u := strings.TrimSpace(c.Until); u != "" {
			b.WriteString("..")
			b.WriteString(u)
		}
	}
	if f := strings.TrimSpace(c.From); f != "" {
		b.WriteString(" from ")
		b.WriteString(f)
	}
	if t := strings.TrimSpace(c.To); t != "" {
		b.WriteString(" to ")
		b.WriteString(t)
	}
	return b.String()
}
