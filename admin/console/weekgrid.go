package console

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// The gate editor shows a schedule's weekly windows as a week grid: one
// row per weekday, each with its time ranges as from/to inputs, a remove
// box per range and empty slots to add one. The form posts them as
// w.DAY.N.from, w.DAY.N.to and w.DAY.N.rm; saving turns the rows back into
// windows, one per distinct range with the days that have it ("mon-fri").

// gridDays are the grid's rows, Monday first, as the schedule spells them.
var gridDays = [7]string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

var gridDayNames = [7]string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}

// gridEmptySlots is how many empty slots each row offers to add a range.
const gridEmptySlots = 2

// gridMaxSlots bounds the slots read from a post.
const gridMaxSlots = 50

type gridSlot struct {
	Key            string // "w.mon.0"
	N              int    // 1-based, for the labels
	From, To       string
	Existing       bool // has a remove box
	Remove         bool
	ErrFrom, ErrTo string
}

type gridDay struct {
	Day, Name string
	Slots     []gridSlot
	Hours     [24]bool // the hours a range of the week touches, for the strip
	Err       string
}

// Summary is the row's ranges as text (the strip's text alternative).
func (d gridDay) Summary() string {
	var parts []string
	for _, s := range d.Slots {
		if s.Existing && !s.Remove && (s.From != "" || s.To != "") {
			parts = append(parts, s.From+"–"+s.To)
		}
	}
	return strings.Join(parts, ", ")
}

type weekGrid struct {
	Days []gridDay
	// Err is an error of the windows as a whole.
	Err string
}

// gridRange is a range on one row.
type gridRange struct {
	from, to string
	rm       bool
}

// dayMask reads a window's days (mon..sun or full names, ranges such as
// mon-fri or fri-mon, comma lists; none is every day) into a bit set over
// gridDays. The domain validated the stored gate; what it cannot read
// yields ok false.
func dayMask(days []string) (uint8, bool) {
	if len(days) == 0 {
		return 0x7f, true
	}
	var mask uint8
	for _, list := range days {
		for _, part := range strings.Split(list, ",") {
			a, b, isRange := strings.Cut(part, "-")
			from, ok := gridDayIndex(a)
			to := from
			if isRange {
				var ok2 bool
				to, ok2 = gridDayIndex(b)
				ok = ok && ok2
			}
			if !ok {
				return 0, false
			}
			for d := from; ; d = (d + 1) % 7 {
				mask |= 1 << d
				if d == to {
					break
				}
			}
		}
	}
	return mask, true
}

func gridDayIndex(s string) (int, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for i, d := range gridDays {
		if s == d || s == strings.ToLower(gridDayNames[i]) {
			return i, true
		}
	}
	return 0, false
}

// gridTime is a stored time as a time input shows it: "24:00" (which a
// time input cannot hold) is "00:00", the same end of the day (a range
// whose end is not after its start ends on the next day).
func gridTime(s string) string {
	s = strings.TrimSpace(s)
	if s == "24:00" {
		return "00:00"
	}
	return s
}

// gridFromGate lays a gate's windows (as the API shows them) out on the grid.
func gridFromGate(g map[string]any) *weekGrid {
	var rows [7][]gridRange
	grid := &weekGrid{}
	ws, _ := dig(g, "activation", "schedule", "windows").([]any)
	for i, w := range ws {
		m, _ := w.(map[string]any)
		var days []string
		ds, _ := m["days"].([]any)
		for _, d := range ds {
			days = append(days, str(d))
		}
		mask, ok := dayMask(days)
		if !ok {
			grid.Err = fmt.Sprintf("window %d: days %q cannot be shown", i, strings.Join(days, ","))
			continue
		}
		for d := range gridDays {
			if mask&(1<<d) != 0 {
				rows[d] = append(rows[d], gridRange{from: gridTime(str(m["from"])), to: gridTime(str(m["to"]))})
			}
		}
	}
	grid.Days = layOut(rows, [7][]string{}, nil)
	return grid
}

var gridKeyRE = regexp.MustCompile(`^w\.(mon|tue|wed|thu|fri|sat|sun)\.(\d+)\.(from|to|rm)$`)

// gridForm reads the grid's rows from a post, each row's slots in order.
// keys are the slot keys of each range, for placing errors.
func gridForm(f url.Values) (rows [7][]gridRange, keys [7][]string) {
	var slots [7][gridMaxSlots]gridRange
	var used [7][gridMaxSlots]bool
	for k, vs := range f {
		m := gridKeyRE.FindStringSubmatch(k)
		if m == nil || len(vs) == 0 {
			continue
		}
		d, _ := gridDayIndex(m[1])
		n, err := strconv.Atoi(m[2])
		if err != nil || n >= gridMaxSlots {
			continue
		}
		v := strings.TrimSpace(vs[0])
		switch m[3] {
		case "from":
			slots[d][n].from = v
		case "to":
			slots[d][n].to = v
		case "rm":
			slots[d][n].rm = v == "on"
		}
		used[d][n] = true
	}
	for d := range gridDays {
		for n := range gridMaxSlots {
			if s := slots[d][n]; used[d][n] && (s.from != "" || s.to != "") {
				rows[d] = append(rows[d], s)
				keys[d] = append(keys[d], fmt.Sprintf("w.%s.%d", gridDays[d], n))
			}
		}
	}
	return rows, keys
}

// layOut makes the grid's rows: the ranges (with their errors, keyed by
// the slot key they were posted under) and empty slots after them.
func layOut(rows [7][]gridRange, keys [7][]string, errs map[string]string) []gridDay {
	out := make([]gridDay, 7)
	for d := range gridDays {
		day := gridDay{Day: gridDays[d], Name: gridDayNames[d], Err: errs["w."+gridDays[d]]}
		for i, r := range rows[d] {
			s := gridSlot{From: r.from, To: r.to, Existing: true, Remove: r.rm}
			if i < len(keys[d]) {
				s.ErrFrom, s.ErrTo = errs[keys[d][i]+".from"], errs[keys[d][i]+".to"]
			}
			day.Slots = append(day.Slots, s)
		}
		for range gridEmptySlots {
			day.Slots = append(day.Slots, gridSlot{})
		}
		for i := range day.Slots {
			day.Slots[i].Key = fmt.Sprintf("w.%s.%d", gridDays[d], i)
			day.Slots[i].N = i + 1
		}
		out[d] = day
	}
	// The strip: every hour a range touches, a range past midnight
	// running into the next row.
	for d := range gridDays {
		for _, r := range rows[d] {
			start, ok1 := minutes(r.from)
			end, ok2 := minutes(r.to)
			if r.rm || !ok1 || !ok2 {
				continue
			}
			if end <= start {
				end += 1440
			}
			for h := 0; h < 48; h++ {
				if h*60 < end && (h+1)*60 > start {
					out[(d+h/24)%7].Hours[h%24] = true
				}
			}
		}
	}
	return out
}

// minutes reads "HH:MM" (or "24:00") for the strip.
func minutes(s string) (int, bool) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 {
		return 0, false
	}
	return hh*60 + mm, true
}

// gridWindows turns the grid's rows into the schedule's windows: one per
// distinct from/to pair, on the days that have it, in the order the rows
// show them. slots[i] are the slot keys window i came from.
func gridWindows(rows [7][]gridRange, keys [7][]string) (windows []any, slots [][]string) {
	type group struct {
		from, to string
		mask     uint8
		slots    []string
	}
	var groups []*group
	for d := range gridDays {
		for i, r := range rows[d] {
			if r.rm {
				continue
			}
			var g *group
			for _, x := range groups {
				if x.from == r.from && x.to == r.to {
					g = x
				}
			}
			if g == nil {
				g = &group{from: r.from, to: r.to}
				groups = append(groups, g)
			}
			g.mask |= 1 << d
			g.slots = append(g.slots, keys[d][i])
		}
	}
	for _, g := range groups {
		windows = append(windows, map[string]any{"days": dayRuns(g.mask), "from": g.from, "to": g.to})
		slots = append(slots, g.slots)
	}
	return windows, slots
}

// dayRuns spells a set of days as runs, Monday first: "mon-fri", "sat".
func dayRuns(mask uint8) []string {
	var out []string
	for d := 0; d < 7; d++ {
		if mask&(1<<d) == 0 {
			continue
		}
		e := d
		for e+1 < 7 && mask&(1<<(e+1)) != 0 {
			e++
		}
		if e == d {
			out = append(out, gridDays[d])
		} else {
			out = append(out, gridDays[d]+"-"+gridDays[e])
		}
		d = e
	}
	return out
}

var windowErrRE = regexp.MustCompile(`^activation\.schedule\.windows\[(\d+)\](?:\.(from|to|.*))?$`)

// gridErrors files the API's window errors under the grid's slots (by
// slot key, ".from"/".to") or rows ("w.DAY"); the others are returned.
func gridErrors(api map[string]string, slots [][]string) (grid, rest map[string]string) {
	grid, rest = map[string]string{}, map[string]string{}
	add := func(m map[string]string, k, v string) {
		if m[k] != "" {
			m[k] += "; "
		}
		m[k] += v
	}
	for field, p := range api {
		m := windowErrRE.FindStringSubmatch(field)
		i := -1
		if m != nil {
			i, _ = strconv.Atoi(m[1])
		}
		if m == nil || i >= len(slots) {
			rest[field] = p
			continue
		}
		for _, key := range slots[i] {
			switch m[2] {
			case "from", "to":
				add(grid, key+"."+m[2], p)
			default:
				day := strings.Split(key, ".")[1]
				add(grid, "w."+day, p)
			}
		}
	}
	return grid, rest
}
