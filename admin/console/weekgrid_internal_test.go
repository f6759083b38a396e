package console

import (
	"maps"
	"slices"
	"testing"
)

// The domain's window errors go to the grid's slots the window came
// from: a time to its cell on every row that shares the window, anything
// else (its days) to those rows; an index the grid did not send, and
// other fields, are left for the form's fields.
func TestGridErrorsGoToTheirSlots(t *testing.T) {
	slots := [][]string{{"w.mon.0", "w.tue.0"}, {"w.sat.1"}}
	grid, rest := gridErrors(map[string]string{
		"activation.schedule.windows[0].from":    "bad from",
		"activation.schedule.windows[1].to":      "bad to",
		"activation.schedule.windows[1].days[0]": "bad day",
		"activation.schedule.windows[7].from":    "no such window",
		"activation.schedule.time_zone":          "bad zone",
	}, slots)
	want := map[string]string{"w.mon.0.from": "bad from", "w.tue.0.from": "bad from", "w.sat.1.to": "bad to", "w.sat": "bad day"}
	if !maps.Equal(grid, want) {
		t.Errorf("grid errors %v, want %v", grid, want)
	}
	if len(rest) != 2 || rest["activation.schedule.time_zone"] == "" || rest["activation.schedule.windows[7].from"] == "" {
		t.Errorf("other errors %v", rest)
	}
}

func TestDayRunsAndMask(t *testing.T) {
	for _, c := range []struct {
		days []string
		want []string
	}{
		{nil, []string{"mon-sun"}},
		{[]string{"fri-mon"}, []string{"mon", "fri-sun"}},
		{[]string{"Monday", "wed,THU"}, []string{"mon", "wed-thu"}},
		{[]string{"sun"}, []string{"sun"}},
	} {
		m, ok := dayMask(c.days)
		if got := dayRuns(m); !ok || !slices.Equal(got, c.want) {
			t.Errorf("%q: %q (%v), want %q", c.days, got, ok, c.want)
		}
	}
	if _, ok := dayMask([]string{"someday"}); ok {
		t.Error("an unknown day was read")
	}
}
