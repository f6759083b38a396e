package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vipgate/vipgate/gate"
)

func cmdOverride(ctx context.Context, e *env, args []string) error {
	const synopsis = "override set --gate G --active on|off [--until TIME | --until-change] [--reason R] | clear --gate G"
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(e.stderr, "Usage: vipgate "+synopsis)
		if len(args) == 0 {
			return usagef("override: give set or clear")
		}
		return nil
	}
	sub, rest := args[0], args[1:]
	if sub != "set" && sub != "clear" {
		return usagef("override: unknown subcommand %q (set or clear)", sub)
	}
	f := newFlags(e, "override "+sub, "")
	c := f.common()
	id := f.str("gate", "", "", "gate ID")
	active := f.str("active", "", "", "on forces the gate active, off inactive (set)")
	until := f.str("until", "", "", "when the override ends: RFC 3339, or a local time or date in the gate's time zone (set; default: until cleared)")
	untilChange := f.boolean("until-change", "", "end the override when the gate's schedule next turns it on or off by itself (set)")
	reason := f.str("reason", "", "", "why, for the trace and the log (set)")
	if err := f.parse(rest); err != nil {
		return err
	}
	if *id == "" {
		return usagef("override %s: --gate is required", sub)
	}
	d, err := c.open(ctx, e, false)
	if err != nil {
		return err
	}
	defer d.Close()
	g, err := d.store.GetGate(ctx, *id)
	if err != nil {
		return fmt.Errorf("override %s: %w", sub, err)
	}
	if sub == "clear" {
		if err := d.store.SetOverride(ctx, g.ID, nil); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "override of gate %s cleared\n", g.ID)
		return nil
	}
	var cal gate.CalendarEvents
	if *untilChange {
		// The next change counts the calendars' events, as a call's
		// decision does: from the last good copies serve keeps.
		f := storeCalendars(d, true)
		f.Sync(ctx, []*gate.Gate{g})
		cal = f
	}
	o, err := newOverride(g, *active, *until, *untilChange, *reason, time.Now().Truncate(time.Second), cal)
	if err != nil {
		return usagef("override set: %v", err)
	}
	if err := d.store.SetOverride(ctx, g.ID, o); err != nil {
		return err
	}
	state := "inactive"
	if o.Active {
		state = "active"
	}
	switch {
	case o.UntilChange:
		fmt.Fprintf(e.stdout, "gate %s forced %s until %s (the schedule's next change)\n", g.ID, state, o.Until.Format(time.RFC3339))
	case !o.Until.IsZero():
		fmt.Fprintf(e.stdout, "gate %s forced %s until %s\n", g.ID, state, o.Until.Format(time.RFC3339))
	default:
		fmt.Fprintf(e.stdout, "gate %s forced %s until cleared\n", g.ID, state)
	}
	return nil
}

// newOverride builds the override that "override set" stores, by the
// rules of the admin API: until in the future, until-change not with until.
// cal gives the gate's calendar events for --until-change (nil: none).
func newOverride(g *gate.Gate, active, until string, untilChange bool, reason string, now time.Time, cal gate.CalendarEvents) (*gate.Override, error) {
	o := &gate.Override{Reason: strings.TrimSpace(reason), SetAt: now, UntilChange: untilChange}
	switch strings.ToLower(active) {
	case "on", "true":
		o.Active = true
	case "off", "false":
	default:
		return nil, errors.New("--active must be on or off")
	}
	switch {
	case untilChange && until != "":
		return nil, errors.New("--until-change cannot be combined with --until")
	case untilChange:
		t, err := g.NextChangeWith(now, cal)
		if err != nil {
			return nil, fmt.Errorf("--until-change: %v", err)
		}
		o.Until = t
	case until != "":
		t, _, err := gate.ParseTime(until, g.Location(), false)
		if err != nil {
			return nil, fmt.Errorf("--until: %v", err)
		}
		if !t.After(now) {
			return nil, errors.New("--until must be in the future")
		}
		o.Until = t
	}
	return o, nil
}
