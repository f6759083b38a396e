package gate

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// IdentDatabase is the identification mode that asks a PostgreSQL query
// of the administrator's own database for the verdict (package dbident;
// the contract is in docs/database.md).
const IdentDatabase IdentMode = "database"

// DatabaseConfig configures database identification: a read-only query
// against a PostgreSQL server the administrator names, with the call's
// numbers as parameters. Its first row is the verdict, as a webhook's
// answer is.
type DatabaseConfig struct {
	// DSN names the server ("postgres://user:pw@host/db" or the key=value
	// form). It is a secret as a whole: sealed at rest with the webhook's
	// credentials, shown as Redacted by the admin API and exports, and
	// never logged; Redacted written back keeps the stored DSN.
	DSN string `json:"dsn"`
	// Query is one SELECT (or WITH … SELECT) statement. It names the
	// call's numbers with the parameters of DatabaseParams (:caller_e164,
	// :caller, :called, :gate); see ParseDatabaseQuery.
	Query string `json:"query"`
	// Timeout is the statement timeout and the deadline of the whole
	// lookup (connection included); default 3s, at most 15s.
	Timeout Duration `json:"timeout,omitempty"`
	// MaxConns bounds the gate's connections to the server; default 4,
	// 1 to 100.
	MaxConns int `json:"max_conns,omitempty"`
	// CacheTTL caches verdicts per call numbers; 0 disables the cache.
	CacheTTL Duration `json:"cache_ttl,omitempty"`
	// BreakerFailures consecutive failures open the circuit breaker for
	// BreakerCooldown; defaults 5 and 30s, as for webhooks.
	BreakerFailures int      `json:"breaker_failures,omitempty"`
	BreakerCooldown Duration `json:"breaker_cooldown,omitempty"`
}

// Database query parameters. Every value is text; a number that is
// missing is ”.
const (
	// ParamCallerE164 is the caller number as the gate's numbering reads
	// it: E.164 for outside numbers, as dialled for internal ones, ''
	// when withheld or unreadable.
	ParamCallerE164 = "caller_e164"
	// ParamCaller is the caller number as Asterisk reported it.
	ParamCaller = "caller"
	// ParamCalled is the called number as the gate's numbering reads it
	// (as the webhook gets it).
	ParamCalled = "called"
	// ParamGate is the gate's ID.
	ParamGate = "gate"
)

// DatabaseParams lists the parameters a database query may name.
var DatabaseParams = []string{ParamCallerE164, ParamCaller, ParamCalled, ParamGate}

// Database defaults and limits.
const (
	DefaultDatabaseTimeout  = 3 * time.Second
	MaxDatabaseTimeout      = 15 * time.Second
	DefaultDatabaseMaxConns = 4
	MaxDatabaseMaxConns     = 100
	maxQueryLen             = 10000
)

// DatabaseQuery is a database query ready for the driver: SQL with
// positional parameters ($1, $2, …) and the names they stand for, in
// order.
type DatabaseQuery struct {
	SQL    string
	Params []string
}

// Args returns the values of q's parameters from vals (by name).
func (q DatabaseQuery) Args(vals map[string]string) []any {
	args := make([]any, len(q.Params))
	for i, p := range q.Params {
		args[i] = vals[p]
	}
	return args
}

// ParseDatabaseQuery checks that q is a single SELECT or WITH statement
// that names only the parameters of DatabaseParams (":caller_e164") and
// rewrites them into positional parameters; each name gets one number,
// however often it occurs. Text in string literals ('…', E'…', $tag$…$tag$),
// quoted identifiers and comments is left alone, and "::" is a cast. A
// trailing ';' is dropped. Positional parameters ($1) of the
// administrator's own are refused: the numbers are the only values a
// query gets, always as parameters, never spliced into its text.
//
// The check gives a clear error early; what keeps a query from writing
// is the read-only transaction it runs in.
func ParseDatabaseQuery(q string) (DatabaseQuery, error) {
	if strings.TrimSpace(q) == "" {
		return DatabaseQuery{}, fmt.Errorf("is required")
	}
	if len(q) > maxQueryLen {
		return DatabaseQuery{}, fmt.Errorf("has %d bytes, at most %d allowed", len(q), maxQueryLen)
	}
	var out strings.Builder
	var params []string
	num := map[string]int{}
	first := ""
	ended := false // a ';' was seen
	for i := 0; i < len(q); {
		c := q[i]
		rest := q[i:]
		// Whitespace and comments may follow the final ';'.
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			out.WriteByte(c)
			i++
			continue
		case strings.HasPrefix(rest, "--"):
			n := strings.IndexByte(rest, '\n')
			if n < 0 {
				n = len(rest)
			}
			out.WriteString(rest[:n])
			i += n
			continue
		case strings.HasPrefix(rest, "/*"):
			n, ok := blockComment(rest)
			if !ok {
				return DatabaseQuery{}, fmt.Errorf("has an unterminated /* comment")
			}
			out.WriteString(rest[:n])
			i += n
			continue
		}
		if ended {
			return DatabaseQuery{}, fmt.Errorf("must be a single statement (text follows the ';')")
		}
		switch {
		case c == ';':
			ended = true
			i++
		case c == '\'':
			n, ok := quoted(rest, '\'', isEscapeString(q, i))
			if !ok {
				return DatabaseQuery{}, fmt.Errorf("has an unterminated string literal")
			}
			out.WriteString(rest[:n])
			i += n
		case c == '"':
			n, ok := quoted(rest, '"', false)
			if !ok {
				return DatabaseQuery{}, fmt.Errorf("has an unterminated quoted identifier")
			}
			out.WriteString(rest[:n])
			i += n
		case c == '$':
			if len(rest) > 1 && isDigit(rest[1]) {
				return DatabaseQuery{}, fmt.Errorf("uses a positional parameter ($%c…): name the numbers with :%s, :%s, :%s or :%s", rest[1], ParamCallerE164, ParamCaller, ParamCalled, ParamGate)
			}
			n, ok := dollarQuoted(rest)
			if !ok {
				return DatabaseQuery{}, fmt.Errorf("has an unterminated dollar-quoted string")
			}
			out.WriteString(rest[:n])
			i += n
		case c == ':' && len(rest) > 1 && rest[1] == ':':
			out.WriteString("::")
			i += 2
		case c == ':' && len(rest) > 1 && isIdentStart(rest[1]):
			n := 1
			for n < len(rest) && isIdentPart(rest[n]) {
				n++
			}
			name := rest[1:n]
			if !isParam(name) {
				return DatabaseQuery{}, fmt.Errorf("names the unknown parameter :%s (known: :%s)", name, strings.Join(DatabaseParams, ", :"))
			}
			k, ok := num[name]
			if !ok {
				params = append(params, name)
				k = len(params)
				num[name] = k
			}
			fmt.Fprintf(&out, "$%d", k)
			i += n
		case isIdentStart(c):
			n := 1
			for n < len(rest) && isIdentPart(rest[n]) {
				n++
			}
			if first == "" {
				first = strings.ToLower(rest[:n])
			}
			out.WriteString(rest[:n])
			i += n
		default:
			if first == "" && c != '(' {
				return DatabaseQuery{}, fmt.Errorf("must start with SELECT or WITH")
			}
			out.WriteByte(c)
			i++
		}
	}
	if first != "select" && first != "with" {
		return DatabaseQuery{}, fmt.Errorf("must be a SELECT or WITH statement")
	}
	return DatabaseQuery{SQL: strings.TrimSpace(out.String()), Params: params}, nil
}

func isParam(name string) bool {
	for _, p := range DatabaseParams {
		if p == name {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func isIdentPart(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '$' }

// isEscapeString reports whether the quote at q[i] opens an E'…' string,
// in which a backslash escapes the next character.
func isEscapeString(q string, i int) bool {
	return i > 0 && (q[i-1] == 'e' || q[i-1] == 'E') && (i == 1 || !isIdentPart(q[i-2]))
}

// quoted returns the length of the literal that opens s with quote q
// (a doubled quote stands for itself; with backslash, '\' escapes).
func quoted(s string, q byte, backslash bool) (int, bool) {
	for i := 1; i < len(s); i++ {
		switch {
		case backslash && s[i] == '\\':
			i++
		case s[i] == q:
			if i+1 < len(s) && s[i+1] == q {
				i++
				continue
			}
			return i + 1, true
		}
	}
	return 0, false
}

// blockComment returns the length of the (nested) comment opening s.
func blockComment(s string) (int, bool) {
	depth := 0
	for i := 0; i+1 < len(s); i++ {
		switch {
		case s[i] == '/' && s[i+1] == '*':
			depth++
			i++
		case s[i] == '*' && s[i+1] == '/':
			depth--
			i++
			if depth == 0 {
				return i + 1, true
			}
		}
	}
	return 0, false
}

// dollarQuoted returns the length of the $tag$…$tag$ string opening s;
// a '$' that opens none is one character.
func dollarQuoted(s string) (int, bool) {
	n := 1
	for n < len(s) && s[n] != '$' && (isIdentStart(s[n]) || (n > 1 && isDigit(s[n]))) {
		n++
	}
	if n >= len(s) || s[n] != '$' {
		return 1, true
	}
	tag := s[:n+1]
	end := strings.Index(s[n+1:], tag)
	if end < 0 {
		return 0, false
	}
	return n + 1 + end + len(tag), true
}

func (d *DatabaseConfig) normalize() {
	d.DSN = strings.TrimSpace(d.DSN)
	d.Query = strings.TrimSpace(d.Query)
	setDuration(&d.Timeout, DefaultDatabaseTimeout)
	if d.MaxConns == 0 {
		d.MaxConns = DefaultDatabaseMaxConns
	}
	if d.BreakerFailures == 0 {
		d.BreakerFailures = defaultBreakerFailures
	}
	setDuration(&d.BreakerCooldown, defaultBreakerCooldown)
}

func validateDatabase(es *ValidationErrors, f string, d *DatabaseConfig) {
	switch {
	case d.DSN == "":
		es.add(f+"dsn", "is required")
	case d.DSN == Redacted:
		// It stands for the stored DSN: the admin API and gates import
		// put that back (KeepDatabaseSecrets) or refuse the gate.
	case strings.ContainsFunc(d.DSN, func(r rune) bool { return r < ' ' || r == 0x7f }):
		es.add(f+"dsn", "holds a control character")
	case strings.HasPrefix(d.DSN, "postgres://") || strings.HasPrefix(d.DSN, "postgresql://"):
		// The error of url.Parse quotes the URL; say only what is wrong.
		if u, err := url.Parse(d.DSN); err != nil || u.Host == "" && u.Query().Get("host") == "" {
			es.add(f+"dsn", "is not a valid postgres:// URL (want postgres://user:password@host:5432/db)")
		}
	case strings.Contains(d.DSN, "://"):
		es.add(f+"dsn", "must be a postgres:// URL or key=value settings (host=… dbname=…)")
	case !strings.Contains(d.DSN, "="):
		es.add(f+"dsn", "must be a postgres:// URL or key=value settings (host=… dbname=…)")
	}
	if _, err := ParseDatabaseQuery(d.Query); err != nil {
		es.add(f+"query", "%s", err)
	}
	if t := d.Timeout.D(); t <= 0 || t > MaxDatabaseTimeout {
		es.add(f+"timeout", "must be more than 0 and at most %s", MaxDatabaseTimeout)
	}
	if d.MaxConns < 1 || d.MaxConns > MaxDatabaseMaxConns {
		es.add(f+"max_conns", "must be 1 to %d", MaxDatabaseMaxConns)
	}
	validateCacheAndBreaker(es, f, d.CacheTTL, d.BreakerFailures, d.BreakerCooldown)
}

// RedactDatabase returns a copy of dc whose DSN is Redacted: the DSN is
// write-only, wherever a gate is shown.
func RedactDatabase(dc *DatabaseConfig) *DatabaseConfig {
	if dc == nil {
		return nil
	}
	out := *dc
	if out.DSN != "" {
		out.DSN = Redacted
	}
	return &out
}

// KeepDatabaseSecrets puts the stored DSN of prev back where dc holds the
// Redacted placeholder, so that a redacted answer or export written back
// keeps it.
func KeepDatabaseSecrets(dc, prev *DatabaseConfig) {
	if dc == nil || prev == nil || dc.DSN != Redacted {
		return
	}
	dc.DSN = prev.DSN
}
