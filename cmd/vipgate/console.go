package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/vipgate/vipgate/admin/console"
	"github.com/vipgate/vipgate/gate"
)

func cmdConsole(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "login-link" {
		fmt.Fprintln(e.stderr, "Usage: vipgate console login-link [--role admin|operator|viewer] [--valid 10m] [--url https://pbx1:8080]")
		if len(args) == 0 || (args[0] != "-h" && args[0] != "--help") {
			return usagef("console: give login-link")
		}
		return nil
	}
	f := newFlags(e, "console login-link", "")
	c := f.common()
	role := f.str("role", "", "admin", "the role of the session the link makes: admin, operator or viewer")
	valid := f.str("valid", "", console.DefaultLinkValid.String(), "how long the link may be used, at most "+console.MaxLinkValid.String())
	httpAddr := f.str("http", "VIPGATE_HTTP_ADDR", "127.0.0.1:8080", "the admin listener the console is served on, used when --url is not given")
	rawURL := f.str("url", "", "", "base URL of the console as the browser reaches it, e.g. https://pbx1:8080 (default http:// plus --http)")
	if err := f.parse(args[1:]); err != nil {
		return err
	}
	d, err := time.ParseDuration(*valid)
	if err != nil || d <= 0 || d > console.MaxLinkValid {
		return usagef("console login-link: --valid: want a duration from 1s to %s, such as 10m", console.MaxLinkValid)
	}
	switch gate.Role(*role) {
	case gate.RoleAdmin, gate.RoleOperator, gate.RoleViewer:
	default:
		return usagef("console login-link: --role: want admin, operator or viewer, got %q", *role)
	}
	base := *rawURL
	if base == "" {
		base = "http://" + dialAddr(*httpAddr)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("console login-link: --url: want http:// or https:// and a host, got %q", base)
	}
	deps, err := c.open(ctx, e, true)
	if err != nil {
		return err
	}
	defer deps.Close()
	now := time.Now().UTC()
	secret, err := console.NewLoginLink(ctx, deps.store, deps.sessions, gate.Role(*role), d, now)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "one-time login link (%s), valid until %s; it works once:\n", *role, now.Add(d).Truncate(time.Second).Format(time.RFC3339))
	fmt.Fprintln(e.stdout, strings.TrimSuffix(base, "/")+console.LinkPath+"?t="+url.QueryEscape(secret))
	return nil
}
