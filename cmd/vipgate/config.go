package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vipgate/vipgate/gate"
)

// option is one setting: a flag, its VIPGATE_* variable and its config-file
// key (the flag name). Precedence: flag, then environment, then config file,
// then default. Options without a variable are per invocation and come from
// the command line only.
type option struct {
	name   string
	env    string
	def    string
	usage  string
	val    *string
	isBool bool
	b      *bool
}

// set stores a value from the environment or the config file.
func (o *option) set(v string) error {
	if !o.isBool {
		*o.val = v
		return nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("%s: want true or false, got %q", o.name, v)
	}
	*o.b = b
	return nil
}

// flags is a command's flag set with vipgate's option handling.
type flags struct {
	fs     *flag.FlagSet
	opts   []*option
	config *string
	e      *env
	file   map[string]any // the parsed config file
}

func newFlags(e *env, name, synopsis string) *flags {
	fs := flag.NewFlagSet("vipgate "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	f := &flags{fs: fs, e: e}
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: vipgate %s %s\n\nFlags (each also settable by the environment variable shown):\n", name, synopsis)
		fs.PrintDefaults()
	}
	f.config = f.str("config", "VIPGATE_CONFIG", "", "YAML config file; its keys are the flag names")
	return f
}

func (f *flags) str(name, envName, def, usage string) *string {
	o := &option{name: name, env: envName, def: def, val: new(string)}
	u := usage
	if envName != "" {
		u += " (" + envName + ")"
	}
	f.fs.StringVar(o.val, name, def, u)
	f.opts = append(f.opts, o)
	return o.val
}

// whole reads the value of the whole-number flag named field: "" is 0,
// anything else that is no number is a problem of that field.
func whole(v, field string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, &gate.ValidationError{Field: field, Problem: "is not a number"}
	}
	return n, nil
}

// boolean adds a flag that is off unless given; like every option it can
// also come from the environment or the config file ("true", "1", ...).
func (f *flags) boolean(name, envName, usage string) *bool {
	o := &option{name: name, env: envName, val: new(string), isBool: true}
	u := usage
	if envName != "" {
		u += " (" + envName + ")"
	}
	b := f.fs.Bool(name, false, u)
	o.b = b
	f.opts = append(f.opts, o)
	return b
}

// common adds the options every store-using command shares.
type common struct {
	db        *string
	keyFile   *string
	region    *string
	logLevel  *string
	logFormat *string
}

func (f *flags) common() *common {
	return &common{
		db:        f.str("db", "VIPGATE_DB", "", "database: a SQLite file path, or postgres://… (default: vipgate.db in the state directory)"),
		keyFile:   f.str("key-file", "VIPGATE_KEY_FILE", "", "installation secret that keys PIN hashes; created 0600 on first start (default: vipgate.key beside a SQLite database, else in the state directory)"),
		region:    f.str("region", "VIPGATE_REGION", "DE", "default region for national caller numbers (ISO 3166 alpha-2)"),
		logLevel:  f.str("log-level", "VIPGATE_LOG_LEVEL", "info", "log level: debug, info, warn, error"),
		logFormat: f.str("log-format", "VIPGATE_LOG_FORMAT", "text", "log format: text (key=value lines) or json (one JSON object per line, for log shippers)"),
	}
}

// parse parses args and applies the environment and the config file.
func (f *flags) parse(args []string) error {
	if err := f.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if !set["config"] {
		if v := f.e.getenv("VIPGATE_CONFIG"); v != "" {
			*f.config = v
		}
	}
	if *f.config != "" {
		b, err := os.ReadFile(*f.config)
		if err != nil {
			return fmt.Errorf("config: %w", err)
		}
		if err := yaml.Unmarshal(b, &f.file); err != nil {
			return fmt.Errorf("config %s: %w", *f.config, err)
		}
	}
	for k := range f.file {
		if !globalKeys[k] {
			return fmt.Errorf("config %s: unknown key %q (keys are flag names)", *f.config, k)
		}
	}
	for _, o := range f.opts {
		if set[o.name] || o.name == "config" {
			continue
		}
		if v := f.e.getenv(o.env); o.env != "" && v != "" {
			if err := o.set(v); err != nil {
				return usagef("%s: %v", o.env, err)
			}
			continue
		}
		// Options without a variable are per invocation (--gate, --json,
		// --replace, ...): only the command line sets them.
		if v, ok := f.file[o.name]; ok && o.env != "" {
			switch v := v.(type) {
			case string, int, float64, bool:
				if err := o.set(fmt.Sprint(v)); err != nil {
					return fmt.Errorf("config %s: %v", *f.config, err)
				}
			default:
				return fmt.Errorf("config %s: key %q must be a single value", *f.config, o.name)
			}
		}
	}
	return nil
}

// globalKeys are the config-file keys: the settings that have a VIPGATE_*
// variable. One file serves every command.
var globalKeys = map[string]bool{
	"db": true, "key-file": true, "region": true, "log-level": true, "log-format": true,
	"http": true, "metrics": true, "agi": true, "ari-url": true, "ari-user": true,
	"ari-password-file": true, "ari-app": true, "drain": true, "sounds-dir": true,
	"serve-sounds": true, "ari_servers": true, "call-log-retention": true,
	"audit-retention": true,
}

// logger builds the process logger.
func (c *common) logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*c.logLevel)); err != nil {
		return nil, usagef("--log-level: %v", err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch *c.logFormat {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef("--log-format: want text or json, got %q", *c.logFormat)
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// paths resolves the database and key-file defaults (see system.stateDir).
func (c *common) paths(e *env) (db, key string, err error) {
	db, key = *c.db, *c.keyFile
	if db == "" || (key == "" && isPostgres(db)) {
		dir, err := e.sys.stateDir(e.getenv, e.installed)
		if err != nil {
			return "", "", err
		}
		if db == "" {
			db = filepath.Join(dir, "vipgate.db")
		}
		if key == "" {
			key = filepath.Join(dir, "vipgate.key")
		}
	}
	if key == "" {
		key = filepath.Join(filepath.Dir(db), "vipgate.key")
	}
	return db, key, nil
}
