package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.SetOutput(stdLogFilter{os.Stderr})
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		var pe pluginExit
		if !errors.Is(err, flag.ErrHelp) && !errors.As(err, &pe) {
			fmt.Fprintln(os.Stderr, "vipgate:", err)
		}
		os.Exit(exitCode(err))
	}
}

func exitCode(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var u usageError
	if errors.As(err, &u) {
		return 2
	}
	var pe pluginExit
	if errors.As(err, &pe) {
		return int(pe)
	}
	return 1
}

// usageError marks a command-line mistake (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// env bundles what a command may touch of the outside world.
type env struct {
	getenv func(string) string // the process environment and the system env file
	stdout io.Writer
	stderr io.Writer
	sys    system
	// installed says whether the host has a system installation.
	installed bool
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the service: call sources (ARI, FastAGI) and the admin API", cmdServe},
		{"migrate", "apply database migrations and exit", cmdMigrate},
		{"gates", "gates import|export|list: manage gates from YAML/JSON files", cmdGates},
		{"pins", "pins import|export --gate G: manage a gate's caller table (CSV)", cmdPins},
		{"accounts", "accounts add|list|delete|import|export --gate G: manage a gate's accounts (account-number identification)", cmdAccounts},
		{"calls", "calls export [--pseudonymise]: the call log as CSV", cmdCalls},
		{"callers", "callers erase NUMBER [--gate G]: forget one caller (call log, entries, lockouts)", cmdCallers},
		{"explain", "explain --gate G --caller N --called N: dry-run a decision", cmdExplain},
		{"override", "override set --gate G --active on|off [--until T|--until-change] | clear: force a gate", cmdOverride},
		{"tokens", "tokens create|list|revoke: admin API tokens", cmdTokens},
		{"console", "console login-link [--role admin] [--valid 10m]: a one-time web console login link", cmdConsole},
		{"audit", "audit list|export: the audit log of administrative changes", cmdAudit},
		{"check", "check --token-file F: monitoring plugin (Nagios, Icinga, Check_MK) for a running instance", cmdCheck},
		{"sounds", "sounds install --dir D: write prompts for Asterisk", cmdSounds},
		{"version", "print the version", cmdVersion},
	}
}

// run is the whole program; main only calls it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runOn(ctx, system{root: "/"}, args, getenv, stdout, stderr)
}

// runOn is run on a host whose file system starts at sys.root.
func runOn(ctx context.Context, sys system, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	getenv, installed, err := sys.withEnvFile(getenv)
	if err != nil {
		return err
	}
	e := &env{getenv: getenv, stdout: stdout, stderr: stderr, sys: sys, installed: installed}
	if len(args) < 2 {
		usage(stderr)
		return usagef("no command given")
	}
	name, rest := args[1], args[2:]
	switch name {
	case "-h", "--help", "help":
		usage(stdout)
		return nil
	case "--version", "-version":
		return cmdVersion(ctx, e, nil)
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, e, rest)
		}
	}
	usage(stderr)
	return usagef("unknown command %q", name)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "vipgate screens incoming Asterisk calls with PINs, caller tables and webhooks.")
	fmt.Fprintln(w, "\nUsage: vipgate <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'vipgate <command> --help' for the flags of a command.")
	fmt.Fprintln(w, "Settings can also come from VIPGATE_* environment variables (--http → VIPGATE_HTTP_ADDR,")
	fmt.Fprintln(w, "--db → VIPGATE_DB, ...; --help shows each) or a YAML config file (--config) keyed by flag name.")
}

func cmdVersion(ctx context.Context, e *env, args []string) error {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	goV := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goV = bi.GoVersion
	}
	fmt.Fprintf(e.stdout, "vipgate %s (%s)\n", v, strings.TrimSpace(goV))
	return nil
}
