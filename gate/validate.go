package gate

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// Defaults that Normalize fills in.
const (
	defaultMaxRetries        = 3
	defaultMinDigits         = 4
	defaultMaxDigits         = 12
	defaultWebhookTimeout    = 3 * time.Second
	defaultWebhookConcurrent = 32
	defaultBreakerFailures   = 5
	defaultBreakerCooldown   = 30 * time.Second
)

// Limits that Validate enforces.
const (
	maxNameLen           = 100
	maxRetriesLimit      = 10
	minDigitTimeout      = time.Second
	maxDigitTimeout      = 60 * time.Second
	maxWebhookTimeout    = 15 * time.Second
	maxWebhookConcurrent = 1000
	maxWindows           = 100
	maxClosures          = 1000
	maxHolidaySets       = 10
	maxNumberLen         = 32
)

// Webhook URL placeholders (the webhook authorizer substitutes them).
const (
	placeholderCaller = "###CALLER_NUMBER###"
	placeholderCalled = "###CALLED_NUMBER###"
)

var (
	numberRE      = regexp.MustCompile(`^\+?[0-9]+\*?$`)
	languageRE    = regexp.MustCompile(`^[a-z]{2,3}$`)
	placeholderRE = regexp.MustCompile(`###[A-Za-z0-9_]*###`)
	headerNameRE  = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
	soundRE       = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_./-]*$`)
)

// Normalize trims the gate's strings, lower-cases its enum values and day
// names, and fills in the defaults: activation "always", three PIN attempts
// of 4 to 12 digits with 10s/5s digit timeouts, unknown callers and
// failures rejected, a correct PIN continues, a wrong one is rejected with
// the reject cause (default busy), and webhook GET with a 3s timeout, 32
// requests in flight and a breaker opening after 5 failures for 30s,
// internal numbers of at most 6 digits. A
// schedule without Active is active outside its windows. Normalize does
// not validate; call Validate after it.
func (g *Gate) Normalize() {
	if g == nil {
		return
	}
	g.ID = strings.TrimSpace(g.ID)
	g.Name = strings.TrimSpace(g.Name)
	g.Language = lowerTrim(g.Language)
	trimAll(g.Match.Numbers)
	trimAll(g.Match.Names)
	g.Numbers.InternalPattern = strings.TrimSpace(g.Numbers.InternalPattern)
	if g.Numbers.InternalMaxLength == nil {
		n := DefaultInternalMaxLength
		g.Numbers.InternalMaxLength = &n
	}

	a := &g.Activation
	a.Mode = ActivationMode(lowerTrim(string(a.Mode)))
	if a.Mode == "" {
		a.Mode = ActiveAlways
	}
	if a.Schedule != nil {
		a.Schedule.normalize()
	}

	id := &g.Identification
	id.Mode = IdentMode(lowerTrim(string(id.Mode)))
	id.UnknownCaller = UnknownCaller(lowerTrim(string(id.UnknownCaller)))
	if id.UnknownCaller == "" {
		id.UnknownCaller = UnknownReject
	}
	id.Withheld = Withheld(lowerTrim(string(id.Withheld)))
	if id.Withheld == "" {
		id.Withheld = WithheldMode
	}
	id.Region = strings.ToUpper(strings.TrimSpace(id.Region))
	if w := id.Webhook; w != nil {
		w.URL = strings.TrimSpace(w.URL)
		w.Method = strings.ToUpper(strings.TrimSpace(w.Method))
		if w.Method == "" {
			w.Method = "GET"
		}
		setDuration(&w.Timeout, defaultWebhookTimeout)
		if w.MaxConcurrent == 0 {
			w.MaxConcurrent = defaultWebhookConcurrent
		}
		if w.BreakerFailures == 0 {
			w.BreakerFailures = defaultBreakerFailures
		}
		setDuration(&w.BreakerCooldown, defaultBreakerCooldown)
		w.CAFile = strings.TrimSpace(w.CAFile)
		w.SecretFile = strings.TrimSpace(w.SecretFile)
	}
	if db := id.Database; db != nil {
		db.normalize()
	}

	d := &g.Dialogue
	if d.MaxRetries == 0 {
		d.MaxRetries = defaultMaxRetries
	}
	if d.MinDigits == 0 {
		// Keep an explicit short maximum valid: max 3 means min 3.
		d.MinDigits = defaultMinDigits
		if d.MaxDigits > 0 && d.MaxDigits < d.MinDigits {
			d.MinDigits = d.MaxDigits
		}
	}
	if d.MaxDigits == 0 {
		d.MaxDigits = max(defaultMaxDigits, d.MinDigits)
	}
	setDuration(&d.FirstDigitTimeout, DefaultFirstDigitTimeout)
	setDuration(&d.InterDigitTimeout, DefaultInterDigitTimeout)

	for k, v := range g.Prompts {
		g.Prompts[k] = strings.TrimSpace(v)
	}

	r := &g.Routes
	r.ForwardContext = strings.TrimSpace(r.ForwardContext)
	r.Reject.Cause = Cause(lowerTrim(string(r.Reject.Cause)))
	if r.Reject.Cause == "" {
		r.Reject.Cause = CauseBusy
	}
	if r.OnCorrect.IsZero() {
		r.OnCorrect = Continue
	}
	if r.OnIncorrect.IsZero() {
		r.OnIncorrect = Hangup(r.Reject.Cause)
	}

	g.Failure.Action = FailureAction(lowerTrim(string(g.Failure.Action)))
	if g.Failure.Action == "" {
		g.Failure.Action = FailReject
	}
	if g.Override != nil {
		g.Override.Reason = strings.TrimSpace(g.Override.Reason)
	}
}

// normalize trims s, lower-cases Active and the day names, and makes
// Active "outside" (ask for the PIN after hours) when it is empty.
func (s *Schedule) normalize() {
	s.TimeZone = strings.TrimSpace(s.TimeZone)
	s.Active = lowerTrim(s.Active)
	if s.Active == "" {
		s.Active = Outside
	}
	for i := range s.Windows {
		w := &s.Windows[i]
		for j := range w.Days {
			w.Days[j] = lowerTrim(w.Days[j])
		}
		w.From = strings.TrimSpace(w.From)
		w.To = strings.TrimSpace(w.To)
	}
	for i := range s.Closures {
		c := &s.Closures[i]
		c.Name = strings.TrimSpace(c.Name)
		c.Date = strings.TrimSpace(c.Date)
		c.Until = strings.TrimSpace(c.Until)
		c.From = strings.TrimSpace(c.From)
		c.To = strings.TrimSpace(c.To)
	}
}

func lowerTrim(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func trimAll(ss []string) {
	for i := range ss {
		ss[i] = strings.TrimSpace(ss[i])
	}
}

func setDuration(d *Duration, def time.Duration) {
	if *d == 0 {
		*d = Duration(def)
	}
}

// Validate checks a normalised gate. It returns nil or ValidationErrors
// naming every bad field by its JSON path, such as
// "activation.schedule.windows[1].to" or "match.numbers[0]". Validate does
// not change g and does not panic, whatever g holds.
func (g *Gate) Validate() error {
	var es ValidationErrors
	if g == nil {
		es.add("gate", "is missing")
		return es
	}
	if !ValidID(g.ID) {
		es.add("id", "must be 1 to 63 lower-case letters, digits, '-' or '_', starting with a letter or digit")
	}
	checkText(&es, "name", g.Name, maxNameLen)
	for i, n := range g.Match.Numbers {
		f := fmt.Sprintf("match.numbers[%d]", i)
		switch {
		case n == "":
			es.add(f, "is empty")
		case len(n) > maxNumberLen:
			es.add(f, "is longer than %d characters", maxNumberLen)
		case !numberRE.MatchString(n):
			es.add(f, "must be digits with an optional leading '+' and trailing '*' (prefix)")
		}
	}
	for i, n := range g.Match.Names {
		if !ValidID(n) {
			es.add(fmt.Sprintf("match.names[%d]", i), "must be 1 to 63 lower-case letters, digits, '-' or '_', starting with a letter or digit")
		}
	}
	if _, err := NewNumbering("", g.Numbers); err != nil {
		var ves ValidationErrors
		if errors.As(err, &ves) {
			es = append(es, ves...)
		}
	}
	if g.Language != "" && !languageRE.MatchString(g.Language) {
		es.add("language", "must be a 2 or 3 letter language code such as \"en\" or \"de\"")
	}
	g.validateActivation(&es)
	g.validateIdentification(&es)
	g.validateDialogue(&es)
	g.validatePrompts(&es)
	g.validatePhoneOverride(&es)
	g.validateRoutes(&es)
	g.validateFailure(&es)
	g.validateLockout(&es)
	g.validateNotify(&es)
	if g.Retention != "" {
		if _, err := ParseRetention(g.Retention); err != nil {
			es.add("retention", "%s", err.Error())
		}
	}
	return es.Err()
}

func checkText(es *ValidationErrors, field, s string, maxLen int) {
	switch {
	case !utf8.ValidString(s):
		es.add(field, "is not valid UTF-8")
	case utf8.RuneCountInString(s) > maxLen:
		es.add(field, "is longer than %d characters", maxLen)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		es.add(field, "contains control characters")
	}
}

func (g *Gate) validateActivation(es *ValidationErrors) {
	a := &g.Activation
	switch a.Mode {
	case ActiveAlways, ActiveNever:
	case ActiveSchedule:
		if a.Schedule == nil {
			es.add("activation.schedule", "is required for schedule mode")
		}
	default:
		es.add("activation.mode", "must be always, never or schedule")
	}
	if a.Schedule != nil {
		a.Schedule.validate(es, "activation.schedule.")
	}
}

// validate adds the problems of s to es, with fields prefixed by prefix.
func (s *Schedule) validate(es *ValidationErrors, prefix string) {
	if _, err := loadZone(s.TimeZone); err != nil {
		es.add(prefix+"time_zone", "%s", err)
	}
	if s.Active != Inside && s.Active != Outside {
		es.add(prefix+"active", "must be inside or outside")
	}
	if len(s.Windows) > maxWindows {
		es.add(prefix+"windows", "has more than %d windows", maxWindows)
	}
	for i := range s.Windows {
		w := &s.Windows[i]
		f := fmt.Sprintf("%swindows[%d].", prefix, i)
		for j, d := range w.Days {
			if _, err := parseDayList(d); err != nil {
				es.add(fmt.Sprintf("%sdays[%d]", f, j), "%s", err)
			}
		}
		if _, err := parseClock(w.From, false); err != nil {
			es.add(f+"from", "%s", err)
		}
		if _, err := parseClock(w.To, true); err != nil {
			es.add(f+"to", "%s", err)
		}
	}
	if len(s.Closures) > maxClosures {
		es.add(prefix+"closures", "has more than %d closures", maxClosures)
	}
	for i := range s.Closures {
		validateClosure(es, fmt.Sprintf("%sclosures[%d].", prefix, i), &s.Closures[i])
	}
	if len(s.Holidays) > maxHolidaySets {
		es.add(prefix+"holidays", "has more than %d holiday sets", maxHolidaySets)
	}
	for i, name := range s.Holidays {
		if _, _, err := lookupHolidaySet(name); err != nil {
			es.add(fmt.Sprintf("%sholidays[%d]", prefix, i), "%s", err)
		}
	}
	if s.OnHoliday != nil {
		if len(s.Holidays) == 0 {
			es.add(prefix+"on_holiday", "needs holidays (the sets whose days it applies to)")
		}
		validateAction(es, prefix+"on_holiday.", s.OnHoliday)
	}
	validateCalendars(es, prefix, s.Calendars)
}

// validateAction adds the problems of a closure's action, fields prefixed
// by f.
func validateAction(es *ValidationErrors, f string, a *ClosureAction) {
	if a.Announce != "" {
		if problem := checkSoundName(a.Announce); problem != "" {
			es.add(f+"announce", "%s", problem)
		}
	}
	checkTarget(es, f+"route", a.Route, false)
}

func validateClosure(es *ValidationErrors, f string, c *Closure) {
	checkText(es, f+"name", c.Name, maxNameLen)
	validateAction(es, f, &c.ClosureAction)
	y, m, d, err := parseDate(c.Date)
	dateOK := err == nil
	switch {
	case err != nil:
		es.add(f+"date", "%s", err)
	case y == 0 && !c.Yearly:
		es.add(f+"date", `a date without a year ("MM-DD") needs yearly`)
		dateOK = false
	}
	if c.Until != "" {
		uy, um, ud, err := parseDate(c.Until)
		switch {
		case err != nil:
			es.add(f+"until", "%s", err)
		case uy == 0 && !c.Yearly:
			es.add(f+"until", `a date without a year ("MM-DD") needs yearly`)
		case dateOK && !c.Yearly && dateKey(uy, um, ud, false) < dateKey(y, m, d, false):
			es.add(f+"until", "is before date")
		}
	}
	if c.From != "" {
		if _, err := parseClock(c.From, false); err != nil {
			es.add(f+"from", "%s", err)
		}
	}
	if c.To != "" {
		if _, err := parseClock(c.To, true); err != nil {
			es.add(f+"to", "%s", err)
		}
	}
}

func (g *Gate) validateIdentification(es *ValidationErrors) {
	id := &g.Identification
	switch id.Mode {
	case IdentStatic:
		if !id.hasStatic() {
			es.add("identification.static_pin_hash", "is required for static mode (or a pin_set)")
		}
	case IdentTable, IdentDatabase:
		if id.Mode == IdentDatabase && id.Database == nil {
			es.add("identification.database.query", "is required for database mode")
		}
		switch id.UnknownCaller {
		case UnknownReject, UnknownPass:
		case UnknownStatic:
			if !id.hasStatic() {
				es.add("identification.unknown_caller", "static needs the gate's static PIN or a pin_set")
			}
		default:
			es.add("identification.unknown_caller", "must be reject, pass or static")
		}
	case IdentWebhook:
		if id.Webhook == nil {
			es.add("identification.webhook.url", "is required for webhook mode")
		}
	case IdentAccount:
	case "":
		es.add("identification.mode", "is required (static, table, webhook, database or account)")
	default:
		es.add("identification.mode", "must be static, table, webhook, database or account")
	}
	switch id.Withheld {
	case WithheldMode, WithheldReject, WithheldAccount, "":
	case WithheldStatic:
		if !id.hasStatic() {
			es.add("identification.withheld", "static needs the gate's static PIN or a pin_set")
		}
	default:
		es.add("identification.withheld", "must be mode, reject, static or account")
	}
	g.validatePINSet(es)
	if h := id.StaticPIN; h != nil && (len(h.Salt) == 0 || len(h.Sum) != 32) {
		es.add("identification.static_pin_hash", "is malformed")
	}
	if id.Region != "" && (len(id.Region) != 2 || phonenumbers.GetCountryCodeForRegion(id.Region) == 0) {
		es.add("identification.region", "must be a known ISO 3166 region code such as \"DE\"")
	}
	if id.Webhook != nil {
		validateWebhook(es, "identification.webhook.", id.Webhook)
	}
	if id.Database != nil {
		validateDatabase(es, "identification.database.", id.Database)
	}
}

// validateCacheAndBreaker checks the answer cache and circuit breaker
// settings that webhook and database identification share.
func validateCacheAndBreaker(es *ValidationErrors, f string, cacheTTL Duration, breakerFailures int, breakerCooldown Duration) {
	if cacheTTL < 0 {
		es.add(f+"cache_ttl", "must not be negative")
	}
	if breakerFailures < 0 {
		es.add(f+"breaker_failures", "must not be negative")
	}
	if breakerCooldown < 0 {
		es.add(f+"breaker_cooldown", "must not be negative")
	}
}

func validateWebhook(es *ValidationErrors, f string, w *WebhookConfig) {
	if problem := checkWebhookURL(w.URL); problem != "" {
		es.add(f+"url", "%s", problem)
	}
	if w.Method != "GET" && w.Method != "POST" {
		es.add(f+"method", "must be GET or POST")
	}
	if t := w.Timeout.D(); t <= 0 || t > maxWebhookTimeout {
		es.add(f+"timeout", "must be more than 0 and at most %s", maxWebhookTimeout)
	}
	if w.MaxConcurrent < 1 || w.MaxConcurrent > maxWebhookConcurrent {
		es.add(f+"max_concurrent", "must be 1 to %d", maxWebhookConcurrent)
	}
	validateCacheAndBreaker(es, f, w.CacheTTL, w.BreakerFailures, w.BreakerCooldown)
	for _, name := range slices.Sorted(maps.Keys(w.Headers)) {
		switch {
		case !headerNameRE.MatchString(name):
			es.add(f+"headers."+name, "is not a valid header name")
		case strings.ContainsFunc(w.Headers[name], func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }):
			es.add(f+"headers."+name, "must not contain line breaks or other control characters")
		}
	}
}

// checkWebhookURL returns what is wrong with a webhook URL template, or "".
func checkWebhookURL(raw string) string {
	if raw == "" {
		return "is required for webhook mode"
	}
	for _, p := range placeholderRE.FindAllString(raw, -1) {
		if p != placeholderCaller && p != placeholderCalled {
			return fmt.Sprintf("has an unknown placeholder %s (known: %s, %s)", p, placeholderCaller, placeholderCalled)
		}
	}
	sample := strings.NewReplacer(placeholderCaller, "%2B4930123456", placeholderCalled, "%2B4930654321").Replace(raw)
	u, err := url.Parse(sample)
	if err != nil {
		return "is not a valid URL"
	}
	if s := strings.ToLower(u.Scheme); (s != "http" && s != "https") || u.Host == "" {
		return "must be an absolute http or https URL"
	}
	if u.User != nil {
		return "must not carry user:password@ (put credentials in a header)"
	}
	return ""
}

func (g *Gate) validateDialogue(es *ValidationErrors) {
	d := &g.Dialogue
	if d.MaxRetries < 1 || d.MaxRetries > maxRetriesLimit {
		es.add("dialogue.max_retries", "must be 1 to %d", maxRetriesLimit)
	}
	minOK := d.MinDigits >= MinPINLen && d.MinDigits <= MaxPINLen
	if !minOK {
		es.add("dialogue.min_digits", "must be %d to %d", MinPINLen, MaxPINLen)
	}
	switch {
	case d.MaxDigits < MinPINLen || d.MaxDigits > MaxPINLen:
		es.add("dialogue.max_digits", "must be %d to %d", MinPINLen, MaxPINLen)
	case minOK && d.MaxDigits < d.MinDigits:
		es.add("dialogue.max_digits", "must not be less than min_digits (%d)", d.MinDigits)
	}
	for _, t := range []struct {
		field string
		d     Duration
	}{{"dialogue.first_digit_timeout", d.FirstDigitTimeout}, {"dialogue.inter_digit_timeout", d.InterDigitTimeout}} {
		if t.d.D() < minDigitTimeout || t.d.D() > maxDigitTimeout {
			es.add(t.field, "must be %s to %s", minDigitTimeout, maxDigitTimeout)
		}
	}
}

func (g *Gate) validatePrompts(es *ValidationErrors) {
	keys := make([]string, 0, len(g.Prompts))
	for k := range g.Prompts {
		keys = append(keys, string(k))
	}
	slices.Sort(keys)
	for _, k := range keys {
		f := "prompts." + k
		if !slices.Contains(PromptKeys, PromptKey(k)) && !slices.Contains(OverridePromptKeys, PromptKey(k)) {
			es.add(f, "is not a prompt (want one of %s)", promptKeyList())
			continue
		}
		if problem := checkSoundName(g.Prompts[PromptKey(k)]); problem != "" {
			es.add(f, "%s", problem)
		}
	}
}

func promptKeyList() string {
	var names []string
	for _, k := range append(slices.Clone(PromptKeys), OverridePromptKeys...) {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// checkSoundName returns what is wrong with a sound name, or "": it must
// be a clean path relative to Asterisk's sounds directory, without "..".
func checkSoundName(name string) string {
	switch {
	case name == "":
		return "is empty"
	case len(name) > 200:
		return "is longer than 200 characters"
	case strings.HasPrefix(name, "/"):
		return "must be relative to the sounds directory (no leading '/')"
	case slices.Contains(strings.Split(name, "/"), ".."):
		return "must not contain '..'"
	case !soundRE.MatchString(name), path.Clean(name) != name:
		return "must be a clean relative path of letters, digits, '_', '-', '.' and '/'"
	}
	return ""
}

func (g *Gate) validateRoutes(es *ValidationErrors) {
	r := &g.Routes
	if r.ForwardContext != "" && !contextRE.MatchString(r.ForwardContext) {
		es.add("routes.forward_context", "must be a dialplan context (letters, digits, '_', '.', '-')")
	}
	checkTarget(es, "routes.on_correct", r.OnCorrect, true)
	checkTarget(es, "routes.on_incorrect", r.OnIncorrect, true)
	switch r.Reject.Cause {
	case CauseBusy, CauseRejected, CauseCongestion, CauseNormal:
	default:
		es.add("routes.reject.cause", "must be busy, rejected, congestion or normal")
	}
	if r.ForwardContext == "" {
		type field struct {
			field  string
			target Target
		}
		targets := []field{{"routes.on_correct", r.OnCorrect}, {"routes.on_incorrect", r.OnIncorrect}, {"failure.target", g.Failure.Target}}
		if s := g.Activation.Schedule; s != nil {
			for i := range s.Closures {
				targets = append(targets, field{fmt.Sprintf("activation.schedule.closures[%d].route", i), s.Closures[i].Route})
			}
			if s.OnHoliday != nil {
				targets = append(targets, field{"activation.schedule.on_holiday.route", s.OnHoliday.Route})
			}
		}
		for _, t := range targets {
			if t.target.Kind == TargetExtension && t.target.Context == "" {
				es.add("routes.forward_context", "is required because %s is an extension (%s)", t.field, t.target.Exten)
				break
			}
		}
	}
}

// checkTarget adds a problem when t is not a usable target; a zero target
// is one only when required.
func checkTarget(es *ValidationErrors, field string, t Target, required bool) {
	switch t.Kind {
	case "":
		if required {
			es.add(field, "is required")
		}
	case TargetContinue:
	case TargetExtension:
		if !extenRE.MatchString(t.Exten) {
			es.add(field, "has an invalid extension %q", t.Exten)
		} else if t.Context != "" && !contextRE.MatchString(t.Context) {
			es.add(field, "has an invalid context %q", t.Context)
		}
	case TargetLocation:
		switch {
		case !contextRE.MatchString(t.Context):
			es.add(field, "has an invalid context %q", t.Context)
		case !extenRE.MatchString(t.Exten):
			es.add(field, "has an invalid extension %q", t.Exten)
		case t.Priority < 1:
			es.add(field, "needs a priority of at least 1")
		}
	case TargetHangup:
		switch t.Cause {
		case CauseBusy, CauseRejected, CauseCongestion, CauseNormal:
		default:
			es.add(field, "has an unknown hang-up cause %q", t.Cause)
		}
	default:
		es.add(field, "has an unknown kind %q", t.Kind)
	}
}

func (g *Gate) validateFailure(es *ValidationErrors) {
	f := &g.Failure
	switch f.Action {
	case FailReject, FailPass:
	case FailForward:
		if f.Target.IsZero() {
			es.add("failure.target", "is required when action is forward")
		}
	case FailStatic:
		if !g.Identification.hasStatic() {
			es.add("failure.action", "static needs the gate's static PIN or a pin_set")
		}
	case FailTable:
		if m := g.Identification.Mode; m != IdentWebhook && m != IdentDatabase {
			es.add("failure.action", "table is only for webhook and database gates")
		}
	default:
		es.add("failure.action", "must be reject, pass, forward, static or table")
	}
	checkTarget(es, "failure.target", f.Target, false)
}

func (g *Gate) validateLockout(es *ValidationErrors) {
	l := &g.Lockout
	if l.MaxFailures < 0 {
		es.add("lockout.max_failures", "must not be negative")
	}
	if l.GateMaxFailures < 0 {
		es.add("lockout.gate_max_failures", "must not be negative")
	}
	on := l.MaxFailures > 0 || l.GateMaxFailures > 0
	switch {
	case l.Window < 0:
		es.add("lockout.window", "must not be negative")
	case on && l.Window == 0:
		es.add("lockout.window", "must be more than 0 when a failure limit is set")
	}
	switch {
	case l.Duration < 0:
		es.add("lockout.duration", "must not be negative")
	case on && l.Duration == 0:
		es.add("lockout.duration", "must be more than 0 when a failure limit is set")
	}
	if l.MaxParallel < 0 {
		es.add("lockout.max_parallel", "must not be negative")
	}
	if l.GateMaxParallel < 0 {
		es.add("lockout.gate_max_parallel", "must not be negative")
	}
	switch l.GateAction {
	case "", GateRefuse, GateSlow:
	default:
		es.add("lockout.gate_action", "must be refuse or slow")
	}
	if l.SlowDelay < 0 || l.SlowDelay.D() > maxSlowDelay {
		es.add("lockout.slow_delay", "must be 0 to %s", maxSlowDelay)
	}
}

// maxSlowDelay bounds lockout.slow_delay: longer waits only keep channels
// busy.
const maxSlowDelay = time.Minute
