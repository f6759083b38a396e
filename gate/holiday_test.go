package gate_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// TestHolidaySets checks public holidays of several sets over several
// years: days that move with Easter, regional days, and holidays on a
// weekend that are observed on a weekday.
func TestHolidaySets(t *testing.T) {
	tests := []struct {
		sets   []string
		zone   string
		day    string // YYYY-MM-DD, local
		closed string // the holiday's name in the reason; "" = open
	}{
		// Easter-dependent days, three years (Easter 2026-04-05, 2027-03-28, 2028-04-16).
		{[]string{"de"}, "Europe/Berlin", "2026-04-03", "Karfreitag"},
		{[]string{"de"}, "Europe/Berlin", "2026-04-06", "Ostermontag"},
		{[]string{"de"}, "Europe/Berlin", "2027-03-26", "Karfreitag"},
		{[]string{"de"}, "Europe/Berlin", "2027-03-29", "Ostermontag"},
		{[]string{"de"}, "Europe/Berlin", "2027-05-06", "Christi Himmelfahrt"},
		{[]string{"de"}, "Europe/Berlin", "2028-04-14", "Karfreitag"},
		{[]string{"de"}, "Europe/Berlin", "2028-06-05", "Pfingstmontag"},
		{[]string{"de"}, "Europe/Berlin", "2028-04-13", ""}, // Maundy Thursday is no holiday
		{[]string{"de"}, "Europe/Berlin", "2035-10-03", "Tag der Deutschen Einheit"},
		// Regional days.
		{[]string{"de-by"}, "Europe/Berlin", "2026-06-04", "Fronleichnam"},
		{[]string{"de"}, "Europe/Berlin", "2026-06-04", ""},
		{[]string{"de-be"}, "Europe/Berlin", "2026-06-04", ""},
		{[]string{"de-by"}, "Europe/Berlin", "2027-01-06", "Heilige Drei Könige"},
		{[]string{"de-be"}, "Europe/Berlin", "2027-01-06", ""},
		{[]string{"de-be"}, "Europe/Berlin", "2027-03-08", "Frauentag"},
		{[]string{"de-sn"}, "Europe/Berlin", "2026-10-31", "Reformationstag"},
		{[]string{"de-by"}, "Europe/Berlin", "2026-10-31", ""},
		{[]string{"at"}, "Europe/Vienna", "2026-10-26", "Nationalfeiertag"},
		{[]string{"at"}, "Europe/Vienna", "2026-12-08", "Mariä Empfängnis"},
		{[]string{"ch-zh"}, "Europe/Zurich", "2026-08-01", "Bundesfeiertag"},
		{[]string{"ch-be"}, "Europe/Zurich", "2026-01-02", "Berchtoldstag"},
		{[]string{"ch-zh"}, "Europe/Zurich", "2026-01-02", ""},
		// A holiday on a weekend: the day itself and the weekday it is observed on.
		{[]string{"gb-eng"}, "Europe/London", "2027-12-25", "Christmas Day"},
		{[]string{"gb-eng"}, "Europe/London", "2027-12-27", "Christmas Day\" (gb-eng), observed"},
		{[]string{"gb-eng"}, "Europe/London", "2027-12-28", "Boxing Day\" (gb-eng), observed"},
		{[]string{"gb-eng"}, "Europe/London", "2026-05-04", "Early May"},
		{[]string{"us"}, "America/New_York", "2026-07-03", "Independence Day\" (us), observed"},
		{[]string{"us"}, "America/New_York", "2026-07-04", "Independence Day"},
		{[]string{"us"}, "America/New_York", "2026-11-26", "Thanksgiving"},
		{[]string{"us"}, "America/New_York", "2021-12-31", "New Year"}, // 2022-01-01, a Saturday, observed the year before
		// Two sets: the first that has the day names it.
		{[]string{"de-by", "at"}, "Europe/Berlin", "2026-10-26", "(at)"},
		{[]string{"de-by", "at"}, "Europe/Berlin", "2026-10-03", "(de-by)"},
		{[]string{" DE-SL"}, "Europe/Berlin", "2026-08-15", "Mariä Himmelfahrt"},
		{[]string{"de-by"}, "Europe/Berlin", "2026-08-15", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.sets, "+")+" "+tt.day, func(t *testing.T) {
			s := &gate.Schedule{TimeZone: tt.zone, Active: gate.Inside, Windows: []gate.Window{weekly("", "00:00", "24:00")}, Holidays: tt.sets}
			loc, err := time.LoadLocation(tt.zone)
			if err != nil {
				t.Fatal(err)
			}
			day, err := time.ParseInLocation(time.DateOnly, tt.day, loc)
			if err != nil {
				t.Fatal(err)
			}
			// The first and the last minute of the day.
			for _, at := range []time.Time{day, day.AddDate(0, 0, 1).Add(-time.Minute)} {
				in, why, err := s.Inside(at)
				if err != nil {
					t.Fatal(err)
				}
				if tt.closed == "" {
					if !in {
						t.Fatalf("%s: closed (%s), want open", at, why)
					}
					continue
				}
				if in || !strings.Contains(why, tt.closed) || !strings.HasPrefix(why, "holiday ") {
					t.Fatalf("%s: inside=%v (%s), want closed by holiday %s", at, in, why, tt.closed)
				}
			}
			// The day before and after are not closed by this holiday.
			_, why, _ := s.Inside(day)
			label, _, _ := strings.Cut(why, " ("+tt.zone)
			for _, at := range []time.Time{day.Add(-time.Minute), day.AddDate(0, 0, 1)} {
				if _, other, _ := s.Inside(at); tt.closed != "" && strings.HasPrefix(other, label+" (") {
					t.Fatalf("%s: %s, want the holiday to end with its day", at, other)
				}
			}
		})
	}
}

// TestHolidaySetValidation checks that an unknown set is a validation
// error that names the field and the sets of that country.
func TestHolidaySetValidation(t *testing.T) {
	for _, tt := range []struct{ name, field, want string }{
		{"de-xx", "activation.schedule.holidays[1]", "de-by"},
		{"gb-sct", "activation.schedule.holidays[1]", "gb-eng"},
		{"atlantis", "activation.schedule.holidays[1]", "known countries"},
	} {
		g := validStaticGate(t)
		g.Activation.Schedule.Holidays = []string{"de-by", tt.name}
		err := g.Validate()
		var ves gate.ValidationErrors
		if !errors.As(err, &ves) {
			t.Fatalf("%s: Validate = %v, want validation errors", tt.name, err)
		}
		found := false
		for _, ve := range ves {
			if ve.Field == tt.field && strings.Contains(ve.Problem, tt.name) && strings.Contains(ve.Problem, tt.want) {
				found = true
			}
		}
		if !found {
			t.Fatalf("%s: %v, want %s naming %q and %q", tt.name, err, tt.field, tt.name, tt.want)
		}
		if _, _, err := g.Activation.Schedule.Inside(time.Now()); err == nil || !errors.Is(err, gate.ErrInvalid) {
			t.Fatalf("%s: Inside error = %v, want ErrInvalid", tt.name, err)
		}
	}
	g := validStaticGate(t)
	g.Activation.Schedule.Holidays = []string{"de-by", "ch-zh", "us"}
	var ves gate.ValidationErrors
	errors.As(g.Validate(), &ves)
	for _, ve := range ves {
		if strings.Contains(ve.Field, "holidays") {
			t.Fatalf("known sets: %v", ve)
		}
	}
	if _, _, err := g.Activation.Schedule.Inside(time.Now()); err != nil {
		t.Fatalf("known sets: Inside: %v", err)
	}
}
