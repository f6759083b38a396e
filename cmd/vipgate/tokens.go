package main

import (
	"context"
	"fmt"
	"time"

	"github.com/vipgate/vipgate/admin"
	"github.com/vipgate/vipgate/gate"
)

func cmdTokens(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(e.stderr, "Usage: vipgate tokens create --role admin|operator|viewer [--name N] | list | revoke ID")
		if len(args) == 0 {
			return usagef("tokens: give create, list or revoke")
		}
		return nil
	}
	sub, rest := args[0], args[1:]
	f := newFlags(e, "tokens "+sub, "")
	c := f.common()
	role := f.str("role", "", "", "admin, operator or viewer (create)")
	name := f.str("name", "", "", "a name to remember the token by (create)")
	if err := f.parse(rest); err != nil {
		return err
	}
	d, err := c.open(ctx, e, true)
	if err != nil {
		return err
	}
	defer d.Close()
	switch sub {
	case "create":
		clear, tok, err := admin.NewToken(gate.Role(*role), *name)
		if err != nil {
			return usagef("tokens create: %v", err)
		}
		if err := d.store.CreateToken(ctx, tok); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "token %s (%s) created; it is shown once, store it now:\n", tok.ID, tok.Role)
		fmt.Fprintln(e.stdout, clear)
		return nil
	case "list":
		toks, err := d.store.ListTokens(ctx)
		if err != nil {
			return err
		}
		for _, t := range toks {
			state := "active"
			if !t.RevokedAt.IsZero() {
				state = "revoked " + t.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(e.stdout, "%-16s %-8s %-30s created %s  %s\n", t.ID, t.Role, t.Name, t.CreatedAt.Format(time.RFC3339), state)
		}
		return nil
	case "revoke":
		if f.fs.NArg() != 1 {
			return usagef("tokens revoke: give one token ID")
		}
		if err := d.store.RevokeToken(ctx, f.fs.Arg(0), time.Now()); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "token %s revoked\n", f.fs.Arg(0))
		return nil
	}
	return usagef("tokens: unknown subcommand %q", sub)
}
