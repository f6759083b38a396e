package console

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/vipgate/vipgate/gate"
)

// The gate editor's settings beyond the ones gateFromForm sets itself:
// each is applied only when the form holds its field (a form that lacks
// a field keeps the stored value), checkboxes when the form is the
// editor's whole form (its "full" marker), since a browser sends no
// unchecked box.

type fieldKind int

const (
	kText     fieldKind = iota
	kInt                // a number; empty or 0 leaves it out (the default)
	kIntZero            // a number where 0 means something (internal_max_length)
	kDuration           // a Go duration ("3s") or seconds, sent as typed
	kBool               // a checkbox
)

type extraField struct {
	path string
	kind fieldKind
}

// extraFields are the plain settings the editor shows, by API path.
var extraFields = []extraField{
	{"retention", kText},
	{"numbers.internal_max_length", kIntZero}, {"numbers.internal_pattern", kText},
	{"identification.withheld", kText},
	{"dialogue.first_digit_timeout", kDuration}, {"dialogue.inter_digit_timeout", kDuration}, {"dialogue.reject_weak", kBool},
	{"routes.forward_context", kText}, {"routes.reject.cause", kText}, {"routes.reject.announce", kBool}, {"routes.connecting", kBool},
	{"failure.target", kText},
	{"lockout.max_failures", kInt}, {"lockout.window", kDuration}, {"lockout.duration", kDuration},
	{"lockout.gate_max_failures", kInt}, {"lockout.max_parallel", kInt}, {"lockout.gate_max_parallel", kInt},
	{"lockout.gate_action", kText}, {"lockout.slow_delay", kDuration},
}

// webhookFields are the webhook's settings under identification.webhook
// (url and headers are set on their own).
var webhookFields = []extraField{
	{"method", kText}, {"body", kText}, {"timeout", kDuration}, {"max_concurrent", kInt}, {"ca_file", kText},
	{"secret_file", kText}, {"cache_ttl", kDuration}, {"breaker_failures", kInt}, {"breaker_cooldown", kDuration},
}

// databaseFields are database identification's settings under
// identification.database (the DSN is write-only and set on its own).
var databaseFields = []extraField{
	{"query", kText}, {"timeout", kDuration}, {"max_conns", kInt}, {"cache_ttl", kDuration},
	{"breaker_failures", kInt}, {"breaker_cooldown", kDuration},
}

const (
	fHeaders   = "identification.webhook.headers"
	fDSN       = "identification.database.dsn"
	fCalendars = "activation.schedule.calendars"
	fHolAnn    = "activation.schedule.on_holiday.announce"
	fHolRoute  = "activation.schedule.on_holiday.route"
)

// promptField is the form field of a prompt's sound name.
func promptField(k gate.PromptKey) string { return "prompts." + string(k) }

// extraFieldNames are the form fields of the settings above, in the
// order gateFields lists them.
func extraFieldNames() []string {
	var out []string
	for _, f := range extraFields {
		out = append(out, f.path)
	}
	for _, f := range webhookFields {
		out = append(out, "identification.webhook."+f.path)
	}
	out = append(out, fHeaders)
	for _, f := range databaseFields {
		out = append(out, "identification.database."+f.path)
	}
	out = append(out, fDSN, fCalendars, fHolAnn, fHolRoute)
	for _, k := range gate.PromptKeys {
		out = append(out, promptField(k))
	}
	return out
}

func init() { gateFields = append(gateFields, extraFieldNames()...) }

// formatExtras fills v with the settings above as the editor shows them;
// secrets stay empty (their state is shown instead).
func formatExtras(g map[string]any, v map[string]string) {
	for _, f := range extraFields {
		if f.kind == kIntZero {
			if n, ok := dig(g, strings.Split(f.path, ".")...).(float64); ok {
				v[f.path] = strconv.FormatFloat(n, 'f', -1, 64)
			}
		}
	}
	hs, _ := dig(g, "identification", "webhook", "headers").(map[string]any)
	v[fHeaders] = headerLines(hs)
	v[fDSN] = ""
	var cals []string
	cs, _ := dig(g, "activation", "schedule", "calendars").([]any)
	for _, c := range cs {
		m, _ := c.(map[string]any)
		cals = append(cals, calendarLine(m))
	}
	v[fCalendars] = strings.Join(cals, "\n")
}

// headerLines shows webhook headers one per line, "Name: value"; the
// value of a secret header (one the API redacts) is left out: an empty
// value keeps it.
func headerLines(hs map[string]any) string {
	names := make([]string, 0, len(hs))
	for k := range hs {
		names = append(names, k)
	}
	sort.Strings(names)
	var out []string
	for _, k := range names {
		val := str(hs[k])
		if val == gate.Redacted || gate.SecretName(k) {
			val = ""
		}
		out = append(out, strings.TrimSpace(k+": "+val))
	}
	return strings.Join(out, "\n")
}

// blankSecretHeaders drops the values of secret headers from the
// headers field as typed, for a form shown again after a failed save: a
// secret typed is never sent back to the browser (an empty value keeps
// the stored one; a new one must be typed again).
func blankSecretHeaders(field string) string {
	var out []string
	for _, l := range lines(field) {
		if k, _, ok := strings.Cut(l, ":"); ok && gate.SecretName(strings.TrimSpace(k)) {
			l = strings.TrimSpace(k) + ":"
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// secretHeaders are the names of the stored secret headers, for the
// page's "set" list.
func secretHeaders(g map[string]any) []string {
	hs, _ := dig(g, "identification", "webhook", "headers").(map[string]any)
	var out []string
	for k, val := range hs {
		if str(val) == gate.Redacted || gate.SecretName(k) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// calendarLine is a calendar as the editor's calendars field shows it:
// its URL or path, then "| refresh: 15m", "| announce: sound" and
// "| route: target" when set.
func calendarLine(m map[string]any) string {
	line := str(m["url"])
	if line == "" {
		line = str(m["path"])
	}
	for _, k := range []string{"refresh", "announce", "route"} {
		if x := str(m[k]); x != "" {
			line += " | " + k + ": " + x
		}
	}
	return line
}

// lineParts splits an editor line "HEAD | key: value | key: value" into
// its head and its keyed parts; keys are those in allowed.
func lineParts(l string, allowed ...string) (string, map[string]string, error) {
	parts := strings.Split(l, "|")
	out := map[string]string{}
	for _, p := range parts[1:] {
		k, val, ok := strings.Cut(p, ":")
		k = strings.ToLower(strings.TrimSpace(k))
		if !ok || !slices.Contains(allowed, k) {
			return "", nil, fmt.Errorf("%q: want %s", strings.TrimSpace(p), "| "+strings.Join(allowed, ": … | ")+": …")
		}
		if _, dup := out[k]; dup {
			return "", nil, fmt.Errorf("%q: %s given twice", l, k)
		}
		out[k] = strings.TrimSpace(val)
	}
	return strings.TrimSpace(parts[0]), out, nil
}

// parseCalendar reads a calendars line.
func parseCalendar(l string) (map[string]any, error) {
	src, kv, err := lineParts(l, "refresh", "announce", "route")
	if err != nil {
		return nil, err
	}
	if err := checkRoute(l, kv["route"]); err != nil {
		return nil, err
	}
	c := map[string]any{}
	if strings.HasPrefix(src, "/") {
		c["path"] = src
	} else {
		c["url"] = src
	}
	for k, x := range kv {
		if x != "" {
			c[k] = x
		}
	}
	return c, nil
}

// parseClosure reads a closures line: YYYY-MM-DD[..YYYY-MM-DD] or MM-DD,
// then HH:MM-HH:MM and yearly, then "| name: …", "| announce: …" and
// "| route: …".
func parseClosure(l string) (map[string]any, error) {
	head, kv, err := lineParts(l, "name", "announce", "route")
	if err != nil {
		return nil, err
	}
	if err := checkRoute(l, kv["route"]); err != nil {
		return nil, err
	}
	f := strings.Fields(head)
	if len(f) == 0 {
		return nil, fmt.Errorf("%q: no date", l)
	}
	cl := map[string]any{}
	date, until, _ := strings.Cut(f[0], "..")
	cl["date"] = date
	if until != "" {
		cl["until"] = until
	}
	for _, extra := range f[1:] {
		switch {
		case extra == "yearly":
			cl["yearly"] = true
		case strings.Contains(extra, "-") && strings.Contains(extra, ":"):
			from, to, _ := strings.Cut(extra, "-")
			if from != "" {
				cl["from"] = from
			}
			if to != "" {
				cl["to"] = to
			}
		default:
			return nil, fmt.Errorf("%q: want YYYY-MM-DD[..YYYY-MM-DD] [HH:MM-HH:MM] [yearly] [| name: …] [| announce: …] [| route: …]", l)
		}
	}
	for k, x := range kv {
		if x != "" {
			cl[k] = x
		}
	}
	return cl, nil
}

// present reports whether the form holds field k.
func present(form url.Values, k string) bool {
	_, ok := form[k]
	return ok
}

// applyField sets one plain setting from the form: the field named
// prefix.path, at path under g.
func applyField(g map[string]any, form url.Values, full bool, path string, kind fieldKind, errs map[string]string, prefix ...string) {
	name := strings.Join(append(prefix, path), ".")
	p := strings.Split(path, ".") // under g, which is the map at prefix
	if kind == kBool {
		if full || present(form, name) {
			if form.Get(name) == "on" {
				set(g, true, p...)
			} else {
				set(g, nil, p...)
			}
		}
		return
	}
	if !present(form, name) {
		return
	}
	val := strings.TrimSpace(form.Get(name))
	switch kind {
	case kInt, kIntZero:
		if val == "" {
			set(g, nil, p...)
			return
		}
		n, err := strconv.Atoi(val)
		if err != nil {
			errs[name] = "must be a whole number"
			return
		}
		if n == 0 && kind == kInt {
			set(g, nil, p...)
			return
		}
		set(g, n, p...)
	case kDuration:
		// A duration the API cannot read fails its whole document.
		var d gate.Duration
		if err := d.UnmarshalText([]byte(val)); err != nil {
			errs[name] = err.Error()
			return
		}
		set(g, val, p...)
	default:
		set(g, val, p...)
	}
}

// checkRoute tells a route the API could not read (which would fail the
// whole document instead of naming its field).
func checkRoute(l, route string) error {
	if route == "" {
		return nil
	}
	var t gate.Target
	if err := t.UnmarshalText([]byte(route)); err != nil {
		return fmt.Errorf("%q: route: %v", l, err)
	}
	return nil
}

// applyExtras writes the settings above from the form over g (the gate
// gateFromForm built); stored is the gate as the API showed it.
func applyExtras(g map[string]any, form url.Values, errs map[string]string) {
	full := form.Get("full") == "1"
	for _, f := range extraFields {
		applyField(g, form, full, f.path, f.kind, errs)
	}
	if wh, ok := dig(g, "identification", "webhook").(map[string]any); ok {
		for _, f := range webhookFields {
			applyField(wh, form, full, f.path, f.kind, errs, "identification", "webhook")
		}
		if present(form, fHeaders) {
			old, _ := wh["headers"].(map[string]any)
			hs := map[string]any{}
			for _, l := range lines(form.Get(fHeaders)) {
				k, val, ok := strings.Cut(l, ":")
				k, val = strings.TrimSpace(k), strings.TrimSpace(val)
				if !ok || k == "" {
					errs[fHeaders] = fmt.Sprintf("%q: want Name: value", l)
					continue
				}
				if val == "" {
					if o, ok := old[k]; ok && (str(o) == gate.Redacted || gate.SecretName(k)) {
						val = str(o) // a secret left empty is kept
					}
				}
				hs[k] = val
			}
			if len(hs) > 0 {
				wh["headers"] = hs
			} else {
				delete(wh, "headers")
			}
		}
	}
	if present(form, "identification.database.query") {
		db, _ := dig(g, "identification", "database").(map[string]any)
		dsn := strings.TrimSpace(form.Get(fDSN))
		if strings.TrimSpace(form.Get("identification.database.query")) == "" && dsn == "" {
			set(g, nil, "identification", "database")
		} else {
			if db == nil {
				db = map[string]any{}
				set(g, db, "identification", "database")
			}
			for _, f := range databaseFields {
				applyField(db, form, full, f.path, f.kind, errs, "identification", "database")
			}
			if dsn != "" {
				db["dsn"] = dsn
			}
		}
	}
	for _, k := range gate.PromptKeys {
		if present(form, promptField(k)) {
			set(g, strings.TrimSpace(form.Get(promptField(k))), "prompts", string(k))
		}
	}
	if ps, ok := g["prompts"].(map[string]any); ok && len(ps) == 0 {
		delete(g, "prompts")
	}
	// A target the API cannot read fails its whole document ("body");
	// the form tells it at its field.
	for _, k := range []string{"routes.on_correct", "routes.on_incorrect", "failure.target", fHolRoute} {
		if val := strings.TrimSpace(form.Get(k)); val != "" {
			var t gate.Target
			if err := t.UnmarshalText([]byte(val)); err != nil {
				errs[k] = err.Error()
			}
		}
	}
	sched, ok := dig(g, "activation", "schedule").(map[string]any)
	if !ok {
		return
	}
	if present(form, fHolAnn) || present(form, fHolRoute) {
		act := map[string]any{}
		if a := strings.TrimSpace(form.Get(fHolAnn)); a != "" {
			act["announce"] = a
		}
		if r := strings.TrimSpace(form.Get(fHolRoute)); r != "" {
			act["route"] = r
		}
		if len(act) > 0 {
			sched["on_holiday"] = act
		} else {
			delete(sched, "on_holiday")
		}
	}
	if present(form, fCalendars) {
		var cals []any
		for _, l := range lines(form.Get(fCalendars)) {
			c, err := parseCalendar(l)
			if err != nil {
				errs[fCalendars] = err.Error()
				continue
			}
			cals = append(cals, c)
		}
		if len(cals) > 0 {
			sched["calendars"] = cals
		} else {
			delete(sched, "calendars")
		}
	}
}

// promptRow is a prompt's line in the editor.
type promptRow struct {
	Key   gate.PromptKey
	Label string
}

// promptRows are the gate's prompts with the editor's labels (each has a
// German entry).
var promptRows = func() []promptRow {
	labels := map[gate.PromptKey]string{
		gate.PromptAskPIN: "Asks for the PIN", gate.PromptWrongPIN: "After a wrong PIN", gate.PromptRejected: "Before a rejection",
		gate.PromptConnecting: "Connecting", gate.PromptLockedOut: "Locked out", gate.PromptUnavailable: "Unavailable",
		gate.PromptWelcome: "Welcome (optional)", gate.PromptAskAccount: "Asks for the account number", gate.PromptWrongAccount: "After an unknown account",
	}
	var out []promptRow
	for _, k := range gate.PromptKeys {
		l := labels[k]
		if l == "" {
			l = string(k)
		}
		out = append(out, promptRow{Key: k, Label: l})
	}
	return out
}()
