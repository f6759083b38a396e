package gate

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/at"
	"github.com/rickar/cal/v2/ch"
	"github.com/rickar/cal/v2/de"
	"github.com/rickar/cal/v2/gb"
	"github.com/rickar/cal/v2/us"
)

// holidaySets are the public-holiday sets a schedule can name
// (Schedule.Holidays): a country, or a country and region, as ISO 3166
// codes in lower case. The dates come from github.com/rickar/cal, computed
// for any year (Easter and the feasts that move with it included). Each
// regional set holds the national holidays too.
var holidaySets = map[string][]*cal.Holiday{
	"at": at.Holidays,

	"ch": ch.Holidays, "ch-ag": ch.HolidaysAG, "ch-ai": ch.HolidaysAI, "ch-ar": ch.HolidaysAR,
	"ch-be": ch.HolidaysBE, "ch-bl": ch.HolidaysBL, "ch-bs": ch.HolidaysBS, "ch-fr": ch.HolidaysFR,
	"ch-ge": ch.HolidaysGE, "ch-gl": ch.HolidaysGL, "ch-gr": ch.HolidaysGR, "ch-ju": ch.HolidaysJU,
	"ch-lu": ch.HolidaysLU, "ch-ne": ch.HolidaysNE, "ch-nw": ch.HolidaysNW, "ch-ow": ch.HolidaysOW,
	"ch-sg": ch.HolidaysSG, "ch-sh": ch.HolidaysSH, "ch-so": ch.HolidaysSO, "ch-sz": ch.HolidaysSZ,
	"ch-tg": ch.HolidaysTG, "ch-ti": ch.HolidaysTI, "ch-ur": ch.HolidaysUR, "ch-vd": ch.HolidaysVD,
	"ch-vs": ch.HolidaysVS, "ch-zg": ch.HolidaysZG, "ch-zh": ch.HolidaysZH,

	"de": de.Holidays, "de-bb": de.HolidaysBB, "de-be": de.HolidaysBE, "de-bw": de.HolidaysBW,
	"de-by": de.HolidaysBY, "de-hb": de.HolidaysHB, "de-he": de.HolidaysHE, "de-hh": de.HolidaysHH,
	"de-mv": de.HolidaysMV, "de-ni": de.HolidaysNI, "de-nw": de.HolidaysNW, "de-rp": de.HolidaysRP,
	"de-sh": de.HolidaysSH, "de-sl": de.HolidaysSL, "de-sn": de.HolidaysSN, "de-st": de.HolidaysST,
	"de-th": de.HolidaysTH,

	// The library's British list is that of England and Wales.
	"gb-eng": gb.Holidays, "gb-wls": gb.Holidays,

	// Federal holidays.
	"us": us.Holidays,
}

// HolidaySets returns the names of the holiday sets a schedule can name,
// sorted.
func HolidaySets() []string {
	names := make([]string, 0, len(holidaySets))
	for n := range holidaySets {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// lookupHolidaySet returns the set name (case and spaces ignored), or an
// error that says which sets exist.
func lookupHolidaySet(name string) (string, []*cal.Holiday, error) {
	key := strings.ToLower(strings.TrimSpace(name))
	if set, ok := holidaySets[key]; ok {
		return key, set, nil
	}
	country, _, _ := strings.Cut(key, "-")
	var near []string
	for _, n := range HolidaySets() {
		if c, _, _ := strings.Cut(n, "-"); c == country {
			near = append(near, n)
		}
	}
	if len(near) > 0 {
		return "", nil, fmt.Errorf("%q is not a known holiday set; for this country: %s", name, strings.Join(near, ", "))
	}
	return "", nil, fmt.Errorf("%q is not a known holiday set (known countries: at, ch, de, gb, us; regions as de-by, ch-zh, gb-eng)", name)
}

// holidays is a schedule's holiday sets, compiled: the days of each year
// are computed once, on first use, and kept with the compiled schedule.
type holidays struct {
	sets  []string // the set names, normalised
	lists [][]*cal.Holiday
	years sync.Map // int64 year → map[int]string (MMDD → label)
	// action is Schedule.OnHoliday, nil without one.
	action *ClosureAction
}

func compileHolidays(names []string) (*holidays, int, error) {
	if len(names) == 0 {
		return nil, 0, nil
	}
	h := &holidays{}
	for i, n := range names {
		key, set, err := lookupHolidaySet(n)
		if err != nil {
			return nil, i, err
		}
		h.sets = append(h.sets, key)
		h.lists = append(h.lists, set)
	}
	return h, 0, nil
}

// on returns the label of the holiday on y-m-d ("" if none): the first
// set that has one, in the order the schedule names them.
func (h *holidays) on(y int64, m, d int) string {
	v, ok := h.years.Load(y)
	if !ok {
		v, _ = h.years.LoadOrStore(y, h.year(y))
	}
	return v.(map[int]string)[m*100+d]
}

// year computes the holidays of year y. A holiday that falls on a
// weekend and is observed on a weekday (a substitute day, as in the
// United Kingdom and the United States) closes both days.
func (h *holidays) year(y int64) map[int]string {
	days := map[int]string{}
	if y < 2 || y > 9998 {
		return days
	}
	add := func(t time.Time, label string) {
		if !t.IsZero() && int64(t.Year()) == y {
			k := int(t.Month())*100 + t.Day()
			if _, taken := days[k]; !taken {
				days[k] = label
			}
		}
	}
	for i, list := range h.lists {
		for _, hol := range list {
			label := fmt.Sprintf("holiday %q (%s)", hol.Name, h.sets[i])
			// A day observed in place of one in the next or the last year
			// (1 January on a Saturday, observed on 31 December) belongs
			// to y too.
			for yy := y - 1; yy <= y+1; yy++ {
				actual, observed := hol.Calc(int(yy))
				add(actual, label)
				if !observed.Equal(actual) {
					add(observed, label+", observed")
				}
			}
		}
	}
	return days
}
