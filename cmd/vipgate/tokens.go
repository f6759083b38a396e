package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vipgate/vipgate/admin"
	"github.com/vipgate/vipgate/gate"
)

func cmdTokens(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(e.stderr, "Usage: vipgate tokens create --role admin|operator|viewer [--name N] [--expires 30d] | list | revoke ID")
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
	expires := f.str("expires", "", "", "the token stops working after this long, e.g. 30d, 12h (create; default never)")
	if err := f.parse(rest); err != nil {
		return err
	}
	var err error
	var lifetime time.Duration
	if *expires != "" {
		if sub != "create" {
			return usagef("tokens %s: --expires is for create", sub)
		}
		lifetime, err = parseLifetime(*expires)
		if err != nil {
			return usagef("tokens create: --expires: %v", err)
		}
	}
	d, err := c.open(ctx, e, true)
	if err != nil {
		return err
	}
	defer d.Close()
	now := time.Now().UTC().Truncate(time.Second)
	switch sub {
	case "create":
		clear, tok, err := admin.NewToken(gate.Role(*role), *name)
		if err != nil {
			return usagef("tokens create: %v", err)
		}
		tok.CreatedAt = now
		if lifetime > 0 {
			tok.ExpiresAt = now.Add(lifetime)
		}
		if err := d.store.CreateToken(ctx, tok); err != nil {
			return err
		}
		until := ""
		if !tok.ExpiresAt.IsZero() {
			until = ", expires " + tok.ExpiresAt.Format(time.RFC3339)
		}
		fmt.Fprintf(e.stderr, "token %s (%s%s) created; it is shown once, store it now:\n", tok.ID, tok.Role, until)
		fmt.Fprintln(e.stdout, clear)
		return nil
	case "list":
		toks, err := d.store.ListTokens(ctx)
		if err != nil {
			return err
		}
		for _, t := range toks {
			state := "active"
			switch {
			case !t.RevokedAt.IsZero():
				state = "revoked " + t.RevokedAt.Format(time.RFC3339)
			case t.Expired(now):
				state = "expired " + t.ExpiresAt.Format(time.RFC3339)
			case !t.ExpiresAt.IsZero():
				state = "active, expires " + t.ExpiresAt.Format(time.RFC3339)
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

// parseLifetime reads a token lifetime: a number of days ("30d") or a Go
// duration ("12h", "90m"); it must be positive.
func parseLifetime(s string) (time.Duration, error) {
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days > 100*366 {
			return 0, fmt.Errorf("want a number of days such as 30d, or a duration such as 12h; got %q", s)
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("want a number of days such as 30d, or a duration such as 12h; got %q", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("must be positive, got %q", s)
	}
	return d, nil
}
