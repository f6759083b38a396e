package main

import (
	"context"
	"fmt"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/sounds"
)

func cmdSounds(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "install" {
		fmt.Fprintln(e.stderr, "Usage: vipgate sounds install --dir /var/lib/asterisk/sounds")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return usagef("sounds: give install")
	}
	f := newFlags(e, "sounds install", "--dir DIR")
	c := f.common()
	dir := f.str("dir", "VIPGATE_SOUNDS_DIR", "", "Asterisk's sounds directory (required), e.g. /var/lib/asterisk/sounds")
	noUploads := f.boolean("defaults-only", "", "write only the built-in prompts; do not open the database")
	if err := f.parse(args[1:]); err != nil {
		return err
	}
	if *dir == "" {
		return usagef("sounds install: give --dir")
	}
	var uploaded []*gate.PromptFile
	if !*noUploads {
		d, err := c.open(ctx, e, false)
		if err != nil {
			return fmt.Errorf("%w (use --defaults-only to install the built-in prompts without a database)", err)
		}
		defer d.Close()
		list, err := d.store.ListPrompts(ctx, "")
		if err != nil {
			return err
		}
		for _, p := range list {
			full, err := d.store.GetPrompt(ctx, p.GateID, p.Lang, p.Key)
			if err != nil {
				return err
			}
			uploaded = append(uploaded, full)
		}
	}
	written, err := sounds.Install(ctx, *dir, uploaded)
	if err != nil {
		return err
	}
	for _, w := range written {
		fmt.Fprintln(e.stdout, w)
	}
	fmt.Fprintf(e.stderr, "%d prompt file(s) written under %s\n", len(written), *dir)
	return nil
}
