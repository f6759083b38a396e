package console

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// maxUpload bounds a form upload (CSV import, WAV prompt) held in memory.
const maxUpload = 64 << 20

func (c *Console) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	m.Handle("GET /static/", http.StripPrefix("/static/", http.FileServer(http.FS(static))))
	m.HandleFunc("GET /login", c.loginPage)
	m.HandleFunc("POST /login", c.login)
	m.HandleFunc("GET "+LinkPath, c.linkPage)
	m.HandleFunc("POST "+LinkPath, c.linkLogin)
	m.HandleFunc("POST /logout", c.authed(c.logout))
	m.HandleFunc("GET /{$}", c.authed(c.overview))
	m.HandleFunc("GET /gates/new", c.authed(c.gateNew))
	m.HandleFunc("POST /gates/new", c.authed(c.gateCreate))
	m.HandleFunc("GET /gates/{gate}", c.authed(c.gateEdit))
	m.HandleFunc("POST /gates/{gate}", c.authed(c.gateUpdate))
	m.HandleFunc("POST /gates/{gate}/delete", c.authed(c.gateDelete))
	m.HandleFunc("GET /gates/{gate}/pins", c.authed(c.pins))
	m.HandleFunc("POST /gates/{gate}/pins", c.authed(c.pinAdd))
	m.HandleFunc("POST /gates/{gate}/pins/import", c.authed(c.pinImport))
	m.HandleFunc("GET /gates/{gate}/pins/export", c.authed(c.pinExport))
	m.HandleFunc("POST /gates/{gate}/pins/{entry}", c.authed(c.pinUpdate))
	m.HandleFunc("POST /gates/{gate}/pins/{entry}/delete", c.authed(c.pinDelete))
	m.HandleFunc("POST /gates/{gate}/override", c.authed(c.overrideSet))
	m.HandleFunc("POST /gates/{gate}/override/clear", c.authed(c.overrideClear))
	m.HandleFunc("GET /simulate", c.authed(c.simulate))
	m.HandleFunc("POST /simulate", c.authed(c.simulate))
	m.HandleFunc("GET /calls", c.authed(c.calls))
	m.HandleFunc("GET /calls/export", c.authed(c.callsExport))
	m.HandleFunc("GET /calls/{id}", c.authed(c.callDetail))
	m.HandleFunc("GET /lockouts", c.authed(c.lockouts))
	m.HandleFunc("POST /lockouts/clear", c.authed(c.lockoutClear))
	m.HandleFunc("GET /prompts", c.authed(c.prompts))
	m.HandleFunc("POST /prompts", c.authed(c.promptUpload))
	m.HandleFunc("GET /prompts/{gate}/{lang}/{key}", c.authed(c.promptPlay))
	m.HandleFunc("GET /tokens", c.authed(c.tokens))
	m.HandleFunc("POST /tokens", c.authed(c.tokenCreate))
	m.HandleFunc("POST /tokens/{token}/revoke", c.authed(c.tokenRevoke))
	m.HandleFunc("GET /lang/{lang}", c.setLang)
	m.HandleFunc("/", c.notFound)
	c.mux = m
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, nil, http.StatusNotFound, "error", translate(lang(r), "Not found."), nil, "", translate(lang(r), "Not found."))
}

// fail shows an API refusal on an error page with the API's status.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s *session, res *result) {
	msg := res.message()
	if res.status == http.StatusForbidden {
		msg = translate(lang(r), "Your role may not do this.") + " " + msg
	}
	c.render(w, r, s, res.status, "error", "Error", nil, "", msg)
}

// setLang switches the language and goes back.
func (c *Console) setLang(w http.ResponseWriter, r *http.Request) {
	l := r.PathValue("lang")
	if !slices.Contains(langs, l) {
		c.notFound(w, r)
		return
	}
	http.SetCookie(w, c.cookie(r, langCookie, l, 365*24*3600))
	back := r.URL.Query().Get("back")
	if !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") || strings.Contains(back, "\\") {
		back = "/"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// ---- login

type loginData struct {
	Nonce string
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.showLogin(w, r, http.StatusOK, "", "")
}

// showLogin renders the login form with a fresh login nonce: the form
// posts it back and must match its cookie (login CSRF).
func (c *Console) showLogin(w http.ResponseWriter, r *http.Request, status int, flash, errMsg string) {
	c.render(w, r, nil, status, "login", translate(lang(r), "Log in"), loginData{Nonce: c.loginNonce(w, r)}, flash, errMsg)
}

// loginNonce sets a fresh login nonce as the login cookie and returns it,
// for the form that posts it back.
func (c *Console) loginNonce(w http.ResponseWriter, r *http.Request) string {
	nonce := randomString()
	http.SetCookie(w, c.cookie(r, loginCookie, nonce, 600))
	return nonce
}

// loginForm reads a posted login form (what names it in the log: "login",
// "login link") and checks its CSRF token against the login cookie. On
// failure it has answered and returns false.
func (c *Console) loginForm(w http.ResponseWriter, r *http.Request, what string) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return false
	}
	ck, err := r.Cookie(loginCookie)
	if err != nil || !equal(ck.Value, r.PostForm.Get(csrfField)) {
		c.log.Warn("console: " + what + " without a valid CSRF token refused")
		c.showLogin(w, r, http.StatusForbidden, "", translate(lang(r), "The form was stale or forged (no valid CSRF token); reload the page and try again."))
		return false
	}
	return true
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	if !c.loginForm(w, r, "login") {
		return
	}
	t, err := c.api.Login(r.Context(), r.RemoteAddr, strings.TrimSpace(r.PostForm.Get("token")))
	if err != nil {
		status, msg := http.StatusUnauthorized, translate(lang(r), "Wrong, revoked or expired token.")
		if rl, ok := err.(interface{ Error() string }); ok && strings.Contains(rl.Error(), "retry in") {
			status, msg = http.StatusTooManyRequests, rl.Error()
		} else if !strings.Contains(err.Error(), "bearer token") {
			status, msg = http.StatusServiceUnavailable, "store: "+err.Error()
		}
		c.showLogin(w, r, status, "", msg)
		return
	}
	id, _, err := c.sessions.create(r.Context(), t, c.now())
	if err != nil {
		c.log.Warn("console: store session", "err", err)
		c.showLogin(w, r, http.StatusServiceUnavailable, "", "store: "+err.Error())
		return
	}
	http.SetCookie(w, c.cookie(r, loginCookie, "", -1))
	http.SetCookie(w, c.cookie(r, sessionCookie, id, 0))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, s *session) {
	if err := c.sessions.drop(r.Context(), s); err != nil {
		c.log.Warn("console: logout: drop session", "err", err)
	}
	c.log.Info("console: logout", "token", s.token.ID)
	http.SetCookie(w, c.cookie(r, sessionCookie, "", -1))
	c.showLogin(w, r, http.StatusOK, translate(lang(r), "Logged out."), "")
}

// ---- overview

// gateView is a gate as the API shows it.
type gateView struct {
	gate.Gate
	Identification struct {
		Mode          gate.IdentMode      `json:"mode"`
		StaticPINSet  bool                `json:"static_pin_set"`
		UnknownCaller gate.UnknownCaller  `json:"unknown_caller,omitempty"`
		Region        string              `json:"region,omitempty"`
		Webhook       *gate.WebhookConfig `json:"webhook,omitempty"`
	} `json:"identification"`
}

// gateState is a gate's state now as the admin API reports it
// (GET /api/v1/status/gates): the engine's own evaluation, calendars
// included.
type gateState struct {
	ID            string         `json:"gate"`
	Name          string         `json:"name"`
	Enabled       bool           `json:"enabled"`
	Active        bool           `json:"active"`
	Why           string         `json:"why"`
	Mode          string         `json:"mode"`
	Closure       string         `json:"closure"`
	ClosureAction bool           `json:"closure_action"`
	Override      *gate.Override `json:"override"`
	Error         string         `json:"error"`
}

type outcomeCount struct {
	Outcome gate.Outcome
	N       int
	Pct     int
}

type overviewData struct {
	Gates       []gateState
	Outcomes    []outcomeCount
	Total       int
	Lockouts    []gate.Lockout
	StoreErr    string
	Sources     []source
	CanOverride bool
	CanNew      bool
}

type source struct {
	Name string
	Up   bool
}

var outcomes = []gate.Outcome{gate.OutcomePassed, gate.OutcomeForwarded, gate.OutcomeRejected, gate.OutcomePINOK,
	gate.OutcomePINFailed, gate.OutcomeAbandoned, gate.OutcomeLockedOut, gate.OutcomeDenied, gate.OutcomeFailed}

func (c *Console) overview(w http.ResponseWriter, r *http.Request, s *session) {
	var gs struct{ Items []gateState }
	if res := c.get(r, s, "/status/gates", &gs); res != nil {
		c.fail(w, r, s, res)
		return
	}
	now := c.now()
	d := overviewData{CanOverride: can(s, "PUT", "/gates/{gate}/override"), CanNew: can(s, "POST", "/gates"), Gates: gs.Items}
	since := url.QueryEscape(now.Add(-24 * time.Hour).UTC().Format(time.RFC3339))
	var sum struct {
		Outcomes map[gate.Outcome]int
		Total    int
	}
	if res := c.get(r, s, "/calls/summary?from="+since, &sum); res != nil {
		c.fail(w, r, s, res)
		return
	}
	for _, o := range outcomes {
		d.Outcomes = append(d.Outcomes, outcomeCount{Outcome: o, N: sum.Outcomes[o]})
	}
	d.Total = sum.Total
	maxN := 0
	for _, o := range d.Outcomes {
		maxN = max(maxN, o.N)
	}
	for i := range d.Outcomes {
		if maxN > 0 {
			d.Outcomes[i].Pct = d.Outcomes[i].N * 100 / maxN
		}
	}
	var ls struct{ Items []gate.Lockout }
	if res := c.get(r, s, "/lockouts", &ls); res != nil {
		c.fail(w, r, s, res)
		return
	}
	d.Lockouts = ls.Items
	if c.ready != nil {
		if err := c.ready(r.Context()); err != nil {
			d.StoreErr = err.Error()
		}
	}
	if c.status != nil {
		for name, up := range c.status() {
			d.Sources = append(d.Sources, source{Name: name, Up: up})
		}
		sort.Slice(d.Sources, func(i, j int) bool { return d.Sources[i].Name < d.Sources[j].Name })
	}
	c.render(w, r, s, http.StatusOK, "overview", translate(lang(r), "Overview"), d, "", "")
}

// ---- gate editor

// gateForm is the gate editor's form: the values as typed, and the API's
// field errors keyed by form field.
type gateForm struct {
	New    bool
	ID     string
	V      map[string]string
	PINSet bool
	// DSNSet says whether database identification has a DSN stored;
	// SecretHeaders are the webhook headers whose values are secret
	// (stored, never shown).
	DSNSet        bool
	SecretHeaders []string
	Prompts       []promptRow
	Errs          map[string]string
	CanSave       bool
	CanPins       bool
	Modes         []string
	// Grid is the schedule's week grid.
	Grid *weekGrid
}

// gateFields are the editor's form fields, named by their API field.
var gateFields = []string{"id", "name", "enabled", "match.numbers", "match.names", "language",
	"activation.mode", "activation.schedule.time_zone", "activation.schedule.active",
	"activation.schedule.windows", "activation.schedule.closures", "activation.schedule.holidays",
	"identification.mode", "identification.static_pin", "identification.unknown_caller", "identification.region",
	"identification.webhook.url", "dialogue.max_retries", "dialogue.min_digits", "dialogue.max_digits",
	"routes.on_correct", "routes.on_incorrect", "failure.action"}

func (c *Console) gateNew(w http.ResponseWriter, r *http.Request, s *session) {
	f := &gateForm{New: true, V: map[string]string{"enabled": "on", "activation.mode": "always", "identification.mode": "static",
		"activation.schedule.time_zone": "Europe/Berlin", "activation.schedule.active": "inside"}, CanSave: can(s, "POST", "/gates"),
		Grid: &weekGrid{Days: layOut([7][]gridRange{}, [7][]string{}, nil)}, Prompts: promptRows}
	c.render(w, r, s, http.StatusOK, "gate", translate(lang(r), "New gate"), f, "", "")
}

func (c *Console) gateEdit(w http.ResponseWriter, r *http.Request, s *session) {
	raw, res := c.gateJSON(r, s, r.PathValue("gate"))
	if res != nil {
		c.fail(w, r, s, res)
		return
	}
	f := &gateForm{ID: r.PathValue("gate"), V: formFromGate(raw), CanSave: can(s, "PUT", "/gates/{gate}"), CanPins: can(s, "POST", "/gates/{gate}/pins"),
		Grid: gridFromGate(raw), Prompts: promptRows, DSNSet: str(dig(raw, "identification", "database", "dsn")) != "", SecretHeaders: secretHeaders(raw)}
	f.PINSet, _ = dig(raw, "identification", "static_pin_set").(bool)
	c.render(w, r, s, http.StatusOK, "gate", f.ID, f, "", "")
}

func (c *Console) gateJSON(r *http.Request, s *session, id string) (map[string]any, *result) {
	var raw map[string]any
	if res := c.get(r, s, "/gates/"+url.PathEscape(id), &raw); res != nil {
		return nil, res
	}
	return raw, nil
}

func (c *Console) gateCreate(w http.ResponseWriter, r *http.Request, s *session) {
	c.saveGate(w, r, s, true, map[string]any{})
}

func (c *Console) gateUpdate(w http.ResponseWriter, r *http.Request, s *session) {
	raw, res := c.gateJSON(r, s, r.PathValue("gate"))
	if res != nil {
		c.fail(w, r, s, res)
		return
	}
	c.saveGate(w, r, s, false, raw)
}

// saveGate writes the form over the stored gate (so that settings the
// form does not show are kept) and sends it to the API; its field errors
// are shown at their fields.
func (c *Console) saveGate(w http.ResponseWriter, r *http.Request, s *session, isNew bool, raw map[string]any) {
	_ = r.ParseForm()
	v := map[string]string{}
	for _, k := range gateFields {
		v[k] = strings.TrimSpace(r.PostForm.Get(k))
	}
	pinSet, _ := dig(raw, "identification", "static_pin_set").(bool)
	dsnSet, secretHs := str(dig(raw, "identification", "database", "dsn")) != "", secretHeaders(raw)
	rows, keys := gridForm(r.PostForm)
	windows, slots := gridWindows(rows, keys)
	body, formErrs := gateFromForm(raw, v, r.PostForm.Get("remove_static_pin") == "on", windows)
	applyExtras(body, r.PostForm, formErrs)
	var gridErrs map[string]string
	id := r.PathValue("gate")
	if isNew {
		id = v["id"]
	}
	var res *result
	if len(formErrs) == 0 {
		if isNew {
			res = c.call(r, s, http.MethodPost, "/gates", body, "")
		} else {
			res = c.call(r, s, http.MethodPut, "/gates/"+url.PathEscape(id), body, "")
		}
		if res.ok() {
			redirect(w, r, s, "/gates/"+url.PathEscape(id), translate(lang(r), "Saved."))
			return
		}
		if res.problem == nil || len(res.problem.Errors) == 0 {
			c.fail(w, r, s, res)
			return
		}
		var rest map[string]string
		gridErrs, rest = gridErrors(res.fields(), slots)
		formErrs = fieldErrors(rest)
	}
	v["identification.static_pin"], v[fDSN] = "", "" // write-only: never sent back
	v[fHeaders] = blankSecretHeaders(v[fHeaders])
	f := &gateForm{New: isNew, ID: id, V: v, PINSet: pinSet, DSNSet: dsnSet, SecretHeaders: secretHs, Prompts: promptRows, Errs: formErrs, CanSave: true,
		Grid: &weekGrid{Days: layOut(rows, keys, gridErrs)}}
	c.render(w, r, s, http.StatusUnprocessableEntity, "gate", id, f, "", translate(lang(r), "The gate was not saved; see the marked fields."))
}

var indexRE = regexp.MustCompile(`\[\d+\]`)

// fieldErrors files API field errors under the editor's form field that
// is the longest prefix of the API field ("activation.schedule.windows[0].from"
// → "activation.schedule.windows"); the rest under "".
func fieldErrors(api map[string]string) map[string]string {
	out := map[string]string{}
	for field, p := range api {
		plain := indexRE.ReplaceAllString(field, "")
		best := ""
		for _, k := range gateFields {
			if (plain == k || strings.HasPrefix(plain, k+".")) && len(k) > len(best) {
				best = k
			}
		}
		if best == "static_pin" {
			best = "identification.static_pin"
		}
		msg := p
		if best != field {
			msg = field + ": " + p
		}
		if out[best] != "" {
			out[best] += "; "
		}
		out[best] += msg
	}
	return out
}

func dig(m map[string]any, path ...string) any {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		if x == 0 {
			return ""
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		if x {
			return "on"
		}
		return ""
	case []any:
		var parts []string
		for _, e := range x {
			parts = append(parts, str(e))
		}
		return strings.Join(parts, "\n")
	}
	return ""
}

// formFromGate fills the editor from a gate as the API shows it.
func formFromGate(g map[string]any) map[string]string {
	v := map[string]string{}
	for _, k := range gateFields {
		v[k] = str(dig(g, strings.Split(k, ".")...))
	}
	v["identification.static_pin"] = ""
	v["activation.schedule.windows"] = "" // the week grid
	v["activation.schedule.holidays"] = strings.ReplaceAll(v["activation.schedule.holidays"], "\n", ", ")
	var closures []string
	cs, _ := dig(g, "activation", "schedule", "closures").([]any)
	for _, cl := range cs {
		m, _ := cl.(map[string]any)
		closures = append(closures, closureLine(m))
	}
	v["activation.schedule.closures"] = strings.Join(closures, "\n")
	if v["activation.schedule.active"] == "" {
		v["activation.schedule.active"] = "inside"
	}
	formatExtras(g, v)
	return v
}

// closureLine is a closure as the editor's closures field shows it.
func closureLine(m map[string]any) string {
	line := str(m["date"])
	if u := str(m["until"]); u != "" {
		line += ".." + u
	}
	if from, to := str(m["from"]), str(m["to"]); from != "" || to != "" {
		line += " " + from + "-" + to
	}
	if m["yearly"] == true {
		line += " yearly"
	}
	for _, k := range []string{"name", "announce", "route"} {
		if x := str(m[k]); x != "" {
			line += " | " + k + ": " + x
		}
	}
	return line
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func set(m map[string]any, value any, path ...string) {
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	last := path[len(path)-1]
	if s, ok := value.(string); ok && s == "" {
		delete(m, last)
		return
	}
	if value == nil {
		delete(m, last)
		return
	}
	m[last] = value
}

// gateFromForm builds the gate to send: the stored gate g (without what
// the API shows but does not take) with the form's values over it. Errors
// are those the form itself can tell (a number field that is no number,
// a closure line it cannot read); the domain judges the rest. windows are
// the week grid's.
func gateFromForm(g map[string]any, v map[string]string, removePIN bool, windows []any) (map[string]any, map[string]string) {
	errs := map[string]string{}
	delete(g, "override")
	delete(g, "phone_override") // left out, the API keeps the stored one
	delete(g, "created_at")
	delete(g, "updated_at")
	if id, ok := g["identification"].(map[string]any); ok {
		delete(id, "static_pin_set")
		delete(id, "pin_set") // shown without its PINs; left out, the API keeps the stored set
	}
	g["id"] = v["id"]
	if g["id"] == "" {
		delete(g, "id")
		if _, ok := g["id"]; !ok {
			g["id"] = v["id"]
		}
	}
	set(g, v["name"], "name")
	g["enabled"] = v["enabled"] == "on"
	set(g, lines(v["match.numbers"]), "match", "numbers")
	set(g, lines(v["match.names"]), "match", "names")
	if len(lines(v["match.numbers"])) == 0 {
		set(g, nil, "match", "numbers")
	}
	if len(lines(v["match.names"])) == 0 {
		set(g, nil, "match", "names")
	}
	set(g, v["language"], "language")
	set(g, v["activation.mode"], "activation", "mode")
	if v["activation.mode"] == string(gate.ActiveSchedule) || len(windows) > 0 {
		// What the form does not show (the action on holidays,
		// calendars) is kept from the stored schedule.
		sched := map[string]any{}
		if old, ok := dig(g, "activation", "schedule").(map[string]any); ok {
			for k, x := range old {
				sched[k] = x
			}
		}
		sched["time_zone"], sched["active"] = v["activation.schedule.time_zone"], v["activation.schedule.active"]
		if windows == nil {
			windows = []any{}
		}
		sched["windows"] = windows
		// A line as the stored closure shows keeps that closure whole
		// (its name and action, which the line does not show).
		stored := map[string][]any{}
		old, _ := sched["closures"].([]any)
		for _, cl := range old {
			if m, ok := cl.(map[string]any); ok {
				stored[closureLine(m)] = append(stored[closureLine(m)], m)
			}
		}
		delete(sched, "closures")
		delete(sched, "holidays")
		if hs := strings.FieldsFunc(v["activation.schedule.holidays"], func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }); len(hs) > 0 {
			sched["holidays"] = hs
		}
		var closures []any
		for _, l := range lines(v["activation.schedule.closures"]) {
			if same := stored[strings.Join(strings.Fields(l), " ")]; len(same) > 0 {
				closures = append(closures, same[0])
				stored[strings.Join(strings.Fields(l), " ")] = same[1:]
				continue
			}
			cl, err := parseClosure(l)
			if err != nil {
				errs["activation.schedule.closures"] = err.Error()
				continue
			}
			closures = append(closures, cl)
		}
		if len(closures) > 0 {
			sched["closures"] = closures
		}
		set(g, sched, "activation", "schedule")
	} else {
		set(g, nil, "activation", "schedule")
	}
	set(g, v["identification.mode"], "identification", "mode")
	switch {
	case removePIN:
		set(g, "", "identification", "static_pin")
		g["identification"].(map[string]any)["static_pin"] = ""
	case v["identification.static_pin"] != "":
		set(g, v["identification.static_pin"], "identification", "static_pin")
	}
	set(g, v["identification.unknown_caller"], "identification", "unknown_caller")
	set(g, v["identification.region"], "identification", "region")
	if v["identification.webhook.url"] != "" {
		set(g, v["identification.webhook.url"], "identification", "webhook", "url")
	} else {
		set(g, nil, "identification", "webhook")
	}
	for _, k := range []string{"dialogue.max_retries", "dialogue.min_digits", "dialogue.max_digits"} {
		path := strings.Split(k, ".")
		if v[k] == "" {
			set(g, nil, path...)
			continue
		}
		n, err := strconv.Atoi(v[k])
		if err != nil {
			errs[k] = "must be a whole number"
			continue
		}
		set(g, n, path...)
	}
	set(g, v["routes.on_correct"], "routes", "on_correct")
	set(g, v["routes.on_incorrect"], "routes", "on_incorrect")
	set(g, v["failure.action"], "failure", "action")
	return g, errs
}

func (c *Console) gateDelete(w http.ResponseWriter, r *http.Request, s *session) {
	res := c.call(r, s, http.MethodDelete, "/gates/"+url.PathEscape(r.PathValue("gate")), nil, "")
	if !res.ok() {
		c.fail(w, r, s, res)
		return
	}
	redirect(w, r, s, "/", translate(lang(r), "Deleted."))
}

// ---- override

func (c *Console) overrideSet(w http.ResponseWriter, r *http.Request, s *session) {
	_ = r.ParseForm()
	id := r.PathValue("gate")
	body := map[string]any{"active": r.PostForm.Get("active") == "true", "reason": r.PostForm.Get("reason")}
	if u := strings.TrimSpace(r.PostForm.Get("until")); u != "" {
		t, err := parseUntil(u)
		if err != nil {
			c.render(w, r, s, http.StatusUnprocessableEntity, "error", "Error", nil, "", "until: "+err.Error())
			return
		}
		body["until"] = t
	}
	res := c.call(r, s, http.MethodPut, "/gates/"+url.PathEscape(id)+"/override", body, "")
	if !res.ok() {
		c.fail(w, r, s, res)
		return
	}
	redirect(w, r, s, "/", translate(lang(r), "Saved."))
}

// parseUntil reads an RFC 3339 time or the browser's datetime-local form
// (taken as UTC).
func parseUntil(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("want an RFC 3339 time or YYYY-MM-DDTHH:MM (UTC)")
}

func (c *Console) overrideClear(w http.ResponseWriter, r *http.Request, s *session) {
	res := c.call(r, s, http.MethodDelete, "/gates/"+url.PathEscape(r.PathValue("gate"))+"/override", nil, "")
	if !res.ok() {
		c.fail(w, r, s, res)
		return
	}
	redirect(w, r, s, "/", translate(lang(r), "Saved."))
}

// ---- simulator

type simData struct {
	Gates          []gateView
	Gate           string
	Caller, Called string
	At             string
	Out            map[string]any
	Trace          []gate.TraceStep
	Errs           map[string]string
}

func (c *Console) simulate(w http.ResponseWriter, r *http.Request, s *session) {
	d := &simData{}
	var gs struct{ Items []gateView }
	if res := c.get(r, s, "/gates", &gs); res != nil {
		c.fail(w, r, s, res)
		return
	}
	d.Gates = gs.Items
	status := http.StatusOK
	if r.Method == http.MethodPost {
		_ = r.ParseForm()
		d.Gate, d.Caller, d.Called, d.At = r.PostForm.Get("gate"), r.PostForm.Get("caller"), r.PostForm.Get("called"), r.PostForm.Get("at")
		d.Out, d.Trace, d.Errs, status = c.explain(r, s, d.Gate, d.Caller, d.Called, d.At)
		if status == 0 {
			return
		}
	}
	c.render(w, r, s, status, "simulate", translate(lang(r), "Simulator"), d, "", "")
}

// explain asks the API's explain endpoint.
func (c *Console) explain(r *http.Request, s *session, g, caller, called, at string) (map[string]any, []gate.TraceStep, map[string]string, int) {
	res := c.call(r, s, http.MethodPost, "/explain", map[string]string{"gate": g, "caller": caller, "called": called, "at": at}, "")
	if !res.ok() {
		errs := res.fields()
		if len(errs) == 0 {
			errs[""] = res.message()
		}
		return nil, nil, errs, res.status
	}
	var out map[string]any
	var tr struct{ Trace []gate.TraceStep }
	_ = json.Unmarshal(res.body, &out)
	_ = json.Unmarshal(res.body, &tr)
	delete(out, "trace")
	return out, tr.Trace, nil, http.StatusOK
}

// ---- call log

type callsData struct {
	Q        url.Values
	Items    []*gate.CallRecord
	Total    int
	Offset   int
	Next     string
	Prev     string
	Gates    []gateView
	Outcomes []gate.Outcome
	Errs     map[string]string
	Export   template.URL
}

// callQuery turns the console's filter form into the API's query.
func callQuery(q url.Values) url.Values {
	out := url.Values{}
	for _, k := range []string{"gate", "caller", "outcome", "from", "to", "offset"} {
		if v := strings.TrimSpace(q.Get(k)); v != "" {
			if k == "from" || k == "to" {
				if t, err := parseUntil(v); err == nil {
					v = t.UTC().Format(time.RFC3339)
				}
			}
			out.Set(k, v)
		}
	}
	return out
}

func (c *Console) calls(w http.ResponseWriter, r *http.Request, s *session) {
	d := &callsData{Q: r.URL.Query(), Outcomes: outcomes}
	var gs struct{ Items []gateView }
	if res := c.get(r, s, "/gates", &gs); res != nil {
		c.fail(w, r, s, res)
		return
	}
	d.Gates = gs.Items
	aq := callQuery(r.URL.Query())
	aq.Set("limit", "50")
	var p struct {
		Items  []*gate.CallRecord
		Total  int
		Offset int
	}
	status := http.StatusOK
	if res := c.get(r, s, "/calls?"+aq.Encode(), &p); res != nil {
		if res.problem == nil || len(res.problem.Errors) == 0 {
			c.fail(w, r, s, res)
			return
		}
		d.Errs, status = res.fields(), res.status
	}
	d.Items, d.Total, d.Offset = p.Items, p.Total, p.Offset
	fq := callQuery(r.URL.Query())
	fq.Del("offset")
	d.Export = template.URL("/calls/export?" + fq.Encode()) // a path of ours and an encoded query
	if p.Offset+len(p.Items) < p.Total {
		fq.Set("offset", strconv.Itoa(p.Offset+50))
		d.Next = "/calls?" + fq.Encode()
	}
	if p.Offset > 0 {
		fq.Set("offset", strconv.Itoa(max(0, p.Offset-50)))
		d.Prev = "/calls?" + fq.Encode()
	}
	c.render(w, r, s, status, "calls", translate(lang(r), "Call log"), d, "", "")
}

// passThrough sends an API answer (a CSV or WAV) to the browser as it is.
func (c *Console) passThrough(w http.ResponseWriter, r *http.Request, s *session, path string) {
	res := c.call(r, s, http.MethodGet, path, nil, "")
	if !res.ok() {
		c.fail(w, r, s, res)
		return
	}
	for _, k := range []string{"Content-Type", "Content-Disposition"} {
		if v := res.header.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(res.body)
}

func (c *Console) callsExport(w http.ResponseWriter, r *http.Request, s *session) {
	q := callQuery(r.URL.Query())
	q.Del("offset")
	q.Set("format", "csv")
	c.passThrough(w, r, s, "/calls?"+q.Encode())
}

type callDetailData struct {
	Call  *gate.CallRecord
	Out   map[string]any
	Trace []gate.TraceStep
	Errs  map[string]string
}

// callDetail shows one call and the decision replayed for its caller,
// called number and time (the call log keeps no trace).
func (c *Console) callDetail(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		c.notFound(w, r)
		return
	}
	// The call log is listed newest first; find the row by walking its
	// pages would be slow, so the list link passes the time and caller.
	q := url.Values{}
	at, err := time.Parse(time.RFC3339Nano, r.URL.Query().Get("at"))
	if err != nil {
		c.notFound(w, r)
		return
	}
	q.Set("from", at.UTC().Format(time.RFC3339))
	q.Set("to", at.Add(time.Second).UTC().Format(time.RFC3339))
	q.Set("limit", "1000")
	var p struct{ Items []*gate.CallRecord }
	if res := c.get(r, s, "/calls?"+q.Encode(), &p); res != nil {
		c.fail(w, r, s, res)
		return
	}
	d := &callDetailData{}
	for _, rec := range p.Items {
		if rec.ID == id {
			d.Call = rec
		}
	}
	if d.Call == nil {
		c.notFound(w, r)
		return
	}
	caller := d.Call.CallerRaw
	if caller == "" {
		caller = d.Call.Caller
	}
	d.Out, d.Trace, d.Errs, _ = c.explain(r, s, d.Call.GateID, caller, d.Call.Called, d.Call.At.Format(time.RFC3339Nano))
	c.render(w, r, s, http.StatusOK, "call", translate(lang(r), "Call"), d, "", "")
}

// ---- lockouts

type lockoutsData struct {
	Items    []gate.Lockout
	CanClear bool
}

func (c *Console) lockouts(w http.ResponseWriter, r *http.Request, s *session) {
	var ls struct{ Items []gate.Lockout }
	if res := c.get(r, s, "/lockouts", &ls); res != nil {
		c.fail(w, r, s, res)
		return
	}
	c.render(w, r, s, http.StatusOK, "lockouts", translate(lang(r), "Lockouts"), lockoutsData{Items: ls.Items, CanClear: can(s, "DELETE", "/gates/{gate}/lockouts/{caller}")}, "", "")
}

func (c *Console) lockoutClear(w http.ResponseWriter, r *http.Request, s *session) {
	_ = r.ParseForm()
	res := c.call(r, s, http.MethodDelete, "/gates/"+url.PathEscape(r.PostForm.Get("gate"))+"/lockouts/"+url.PathEscape(r.PostForm.Get("caller")), nil, "")
	if !res.ok() {
		c.fail(w, r, s, res)
		return
	}
	redirect(w, r, s, "/lockouts", translate(lang(r), "Saved."))
}

// ---- prompts

type promptItem struct {
	Gate, Lang string
	Key        gate.PromptKey
	Size       int
	Duration   string
}

type missing struct {
	Gate, Lang string
	Key        gate.PromptKey
}

type promptsData struct {
	Items     []promptItem
	Missing   []missing
	Gates     []gateView
	Keys      []gate.PromptKey
	CanUpload bool
	Errs      map[string]string
}

func (c *Console) promptsData(r *http.Request, s *session) (*promptsData, *result) {
	d := &promptsData{Keys: gate.PromptKeys, CanUpload: can(s, "PUT", "/prompts/{gate}/{lang}/{key}")}
	var gs struct{ Items []gateView }
	if res := c.get(r, s, "/gates", &gs); res != nil {
		return nil, res
	}
	d.Gates = gs.Items
	var ps struct{ Items []promptItem }
	if res := c.get(r, s, "/prompts", &ps); res != nil {
		return nil, res
	}
	d.Items = ps.Items
	have := map[string]bool{}
	for _, p := range ps.Items {
		have[p.Gate+"/"+p.Lang+"/"+string(p.Key)] = true
	}
	for _, g := range gs.Items {
		l := g.Language
		if l == "" {
			l = "en"
		}
		for _, k := range gate.PromptKeys {
			if k == gate.PromptWelcome {
				continue // optional
			}
			if !have[g.ID+"/"+l+"/"+string(k)] && !have["/"+l+"/"+string(k)] && !have["_default/"+l+"/"+string(k)] {
				d.Missing = append(d.Missing, missing{Gate: g.ID, Lang: l, Key: k})
			}
		}
	}
	return d, nil
}

func (c *Console) prompts(w http.ResponseWriter, r *http.Request, s *session) {
	d, res := c.promptsData(r, s)
	if res != nil {
		c.fail(w, r, s, res)
		return
	}
	c.render(w, r, s, http.StatusOK, "prompts", translate(lang(r), "Prompts"), d, "", "")
}

func (c *Console) promptUpload(w http.ResponseWriter, r *http.Request, s *session) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	file, _, err := r.FormFile("wav")
	var res *result
	if err != nil {
		res = &result{status: http.StatusUnprocessableEntity, problem: nil}
		res.problem = problem("wav", "choose a WAV file")
	} else {
		defer file.Close()
		g, l, k := r.FormValue("gate"), r.FormValue("lang"), r.FormValue("key")
		res = c.call(r, s, http.MethodPut, "/prompts/"+url.PathEscape(g)+"/"+url.PathEscape(l)+"/"+url.PathEscape(k), file, "audio/wav")
		if res.ok() {
			redirect(w, r, s, "/prompts", translate(lang(r), "Saved."))
			return
		}
	}
	if res.problem == nil || len(res.problem.Errors) == 0 {
		c.fail(w, r, s, res)
		return
	}
	d, res2 := c.promptsData(r, s)
	if res2 != nil {
		c.fail(w, r, s, res2)
		return
	}
	d.Errs = res.fields()
	c.render(w, r, s, res.status, "prompts", translate(lang(r), "Prompts"), d, "", res.message())
}

func (c *Console) promptPlay(w http.ResponseWriter, r *http.Request, s *session) {
	c.passThrough(w, r, s, "/prompts/"+url.PathEscape(r.PathValue("gate"))+"/"+url.PathEscape(r.PathValue("lang"))+"/"+url.PathEscape(r.PathValue("key")))
}

// ---- tokens

type tokenItem struct {
	ID        string
	Name      string
	Role      gate.Role
	CreatedAt time.Time `json:"created_at"`
	RevokedAt time.Time `json:"revoked_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

type tokensData struct {
	Items []tokenItem
	Roles []gate.Role
	New   string
	Errs  map[string]string
}

func (c *Console) tokensData(r *http.Request, s *session) (*tokensData, *result) {
	var ts struct{ Items []tokenItem }
	if res := c.get(r, s, "/tokens", &ts); res != nil {
		return nil, res
	}
	return &tokensData{Items: ts.Items, Roles: roles}, nil
}

func (c *Console) tokens(w http.ResponseWriter, r *http.Request, s *session) {
	d, res := c.tokensData(r, s)
	if res != nil {
		c.fail(w, r, s, res)
		return
	}
	c.render(w, r, s, http.StatusOK, "tokens", translate(lang(r), "Tokens"), d, "", "")
}

// tokenCreate makes a token through the API and shows the clear token
// this once, on the answer to the post (never in a redirect or log).
func (c *Console) tokenCreate(w http.ResponseWriter, r *http.Request, s *session) {
	_ = r.ParseForm()
	res := c.call(r, s, http.MethodPost, "/tokens", map[string]string{"role": r.PostForm.Get("role"), "name": r.PostForm.Get("name")}, "")
	if !res.ok() && (res.problem == nil || len(res.problem.Errors) == 0) {
		c.fail(w, r, s, res)
		return
	}
	d, res2 := c.tokensData(r, s)
	if res2 != nil {
		c.fail(w, r, s, res2)
		return
	}
	status := http.StatusCreated
	if res.ok() {
		var out struct{ Token string }
		_ = json.Unmarshal(res.body, &out)
		d.New = out.Token
	} else {
		d.Errs, status = res.fields(), res.status
	}
	c.render(w, r, s, status, "tokens", translate(lang(r), "Tokens"), d, "", "")
}

func (c *Console) tokenRevoke(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("token")
	res := c.call(r, s, http.MethodDelete, "/tokens/"+url.PathEscape(id), nil, "")
	if !res.ok() {
		c.fail(w, r, s, res)
		return
	}
	c.sessions.dropToken(id)
	if id == s.token.ID {
		http.SetCookie(w, c.cookie(r, sessionCookie, "", -1))
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	redirect(w, r, s, "/tokens", translate(lang(r), "Saved."))
}
