package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/vipgate/vipgate/dbident"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/webhook"
)

// newDatabaseAuthorizer returns the authorizer of database gates; obs
// may be nil. Close it when done: it holds the gates' pools.
func newDatabaseAuthorizer(h *gate.Hasher, log *slog.Logger, obs ...dbident.Observer) *dbident.Authorizer {
	cfg := dbident.Config{Hasher: h, Logger: log}
	if len(obs) > 0 {
		cfg.Observer = obs[0]
	}
	return dbident.New(cfg)
}

// newAuthorizer returns the webhook authorizer; obs may be nil. Webhook
// requests go through the proxy that HTTPS_PROXY, HTTP_PROXY and NO_PROXY
// name.
func newAuthorizer(log *slog.Logger, obs ...webhook.Observer) *webhook.Authorizer {
	cfg := webhook.Config{Logger: log, Proxy: http.ProxyFromEnvironment}
	if len(obs) > 0 {
		cfg.Observer = obs[0]
	}
	return webhook.New(cfg)
}

func cmdGates(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(e.stderr, "Usage: vipgate gates import FILE... | export [--include-secrets] [FILE] | list")
		if len(args) == 0 {
			return usagef("gates: give import, export or list")
		}
		return nil
	}
	switch args[0] {
	case "import":
		return gatesImport(ctx, e, args[1:])
	case "export":
		return gatesExport(ctx, e, args[1:])
	case "list":
		return gatesList(ctx, e, args[1:])
	}
	return usagef("gates: unknown subcommand %q (want import, export or list)", args[0])
}

func gatesImport(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "gates import", "FILE... (YAML or JSON; - for standard input)")
	c := f.common()
	dry := f.boolean("dry-run", "", "validate only; change nothing")
	if err := f.parse(args); err != nil {
		return err
	}
	if f.fs.NArg() == 0 {
		return usagef("gates import: give at least one file")
	}
	d, err := c.open(ctx, e, true)
	if err != nil {
		return err
	}
	defer d.Close()
	var all []*gate.Gate
	for _, path := range f.fs.Args() {
		data, err := readInput(path)
		if err != nil {
			return err
		}
		gates, err := parseGatesFile(data, d.hasher)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		all = append(all, gates...)
	}
	for _, g := range all {
		// A redacted export keeps the stored secrets: "[redacted]" means
		// "the value the database holds".
		prev, err := d.store.GetGate(ctx, g.ID)
		if err != nil && !errors.Is(err, gate.ErrNotFound) {
			return fmt.Errorf("gate %q: %w", g.ID, err)
		}
		if prev != nil {
			gate.KeepWebhookSecrets(g.Identification.Webhook, prev.Identification.Webhook)
			gate.KeepDatabaseSecrets(g.Identification.Database, prev.Identification.Database)
			gate.KeepNotifySecrets(g.Notify, prev.Notify)
		}
		if f := redactedField(g); f != "" {
			return fmt.Errorf("gate %q: %s is %q and the database holds no value for it: import an export made with --include-secrets, or write the secret", g.ID, f, gate.Redacted)
		}
	}
	if *dry {
		fmt.Fprintf(e.stdout, "%d gate(s) valid; nothing changed (--dry-run)\n", len(all))
		return nil
	}
	for _, g := range all {
		verb := "updated"
		err := d.store.UpdateGate(ctx, g)
		if errors.Is(err, gate.ErrNotFound) {
			verb = "created"
			err = d.store.CreateGate(ctx, g)
		}
		if err != nil {
			return fmt.Errorf("gate %q: %w", g.ID, err)
		}
		if g.Override != nil {
			if err := d.store.SetOverride(ctx, g.ID, g.Override); err != nil {
				return fmt.Errorf("gate %q: override: %w", g.ID, err)
			}
		}
		fmt.Fprintf(e.stdout, "%s gate %s\n", verb, g.ID)
	}
	return nil
}

func gatesExport(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "gates export", "[FILE] (default standard output)")
	c := f.common()
	format := f.str("format", "", "", "yaml or json (default: from the file name, else yaml)")
	only := f.str("gate", "", "", "export only this gate")
	withSecrets := f.boolean("include-secrets", "", "write webhook credentials (secret-looking header values, URL passwords and tokens) and database DSNs in clear; without it they are written as [redacted], which an import reads as \"keep the stored value\"")
	if err := f.parse(args); err != nil {
		return err
	}
	out := f.fs.Arg(0)
	fm, err := formatOf(*format, out)
	if err != nil {
		return err
	}
	d, err := c.open(ctx, e, false)
	if err != nil {
		return err
	}
	defer d.Close()
	gates, err := d.store.ListGates(ctx)
	if err != nil {
		return err
	}
	if *only != "" {
		g, err := d.store.GetGate(ctx, *only)
		if err != nil {
			return err
		}
		gates = []*gate.Gate{g}
	}
	if !*withSecrets {
		redactGates(gates)
	}
	b, err := formatGates(gates, fm)
	if err != nil {
		return err
	}
	if out == "" || out == "-" {
		_, err = e.stdout.Write(b)
		return err
	}
	return os.WriteFile(out, b, 0o600)
}

func gatesList(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "gates list", "")
	c := f.common()
	if err := f.parse(args); err != nil {
		return err
	}
	d, err := c.open(ctx, e, false)
	if err != nil {
		return err
	}
	defer d.Close()
	gates, err := d.store.ListGates(ctx)
	if err != nil {
		return err
	}
	for _, g := range gates {
		state := "enabled"
		if !g.Enabled {
			state = "disabled"
		}
		fmt.Fprintf(e.stdout, "%-20s %-9s %-9s %-8s %v %s\n", g.ID, state, g.Activation.Mode, g.Identification.Mode, g.Match.Numbers, g.Name)
	}
	return nil
}

// readInput reads a file, or standard input for "-".
func readInput(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(path)
}

// redactGates replaces the secrets of gates with gate.Redacted, for an
// export without --include-secrets.
func redactGates(gates []*gate.Gate) {
	for _, g := range gates {
		g.Identification.Webhook = gate.RedactWebhook(g.Identification.Webhook)
		g.Identification.Database = gate.RedactDatabase(g.Identification.Database)
		g.Notify = gate.RedactNotify(g.Notify)
	}
}

// redactedField names a webhook value of g that is still the redacted
// placeholder, or "".
func redactedField(g *gate.Gate) string {
	if db := g.Identification.Database; db != nil && db.DSN == gate.Redacted {
		return "identification.database.dsn"
	}
	for i, r := range g.Notify {
		if r.Webhook != nil && r.Webhook.Secret == gate.Redacted {
			return fmt.Sprintf("notify[%d].webhook.secret", i)
		}
	}
	w := g.Identification.Webhook
	if w == nil {
		return ""
	}
	for k, v := range w.Headers {
		if v == gate.Redacted {
			return "identification.webhook.headers." + k
		}
	}
	if strings.Contains(w.URL, gate.Redacted) {
		return "identification.webhook.url"
	}
	return ""
}
