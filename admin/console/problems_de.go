package console

import (
	"regexp"
	"strings"
	"sync"

	"github.com/vipgate/vipgate/admin"
)

// germanProblems is the one table of the admin API's problem texts in
// German: the field problems (by their English text, the API's words, with
// %d for a number and %s for any text the API fills in) and the problem
// titles. A problem not in the table is shown as the API wrote it.
var germanProblems = []struct{ en, de string }{
	// Titles.
	{"Unprocessable Entity", "Nicht verarbeitbar"},
	{"Not Found", "Nicht gefunden"},
	{"Conflict", "Konflikt"},
	{"Forbidden", "Verboten"},
	{"Bad Request", "Ungültige Anfrage"},
	{"Service Unavailable", "Dienst nicht verfügbar"},
	{"Request Entity Too Large", "Anfrage zu groß"},
	{"Unsupported Media Type", "Nicht unterstützter Medientyp"},
	// Field problems.
	{"is required", "ist erforderlich"},
	{"is too long", "ist zu lang"},
	{"is missing", "fehlt"},
	{"is malformed", "ist fehlerhaft"},
	{"unknown field", "unbekanntes Feld"},
	{"appears more than once in its object", "kommt in seinem Objekt mehrfach vor"},
	{"must not be negative", "darf nicht negativ sein"},
	{"must be %d to %d", "muss zwischen %d und %d liegen"},
	{"must be 1 to %d", "muss zwischen 1 und %d liegen"},
	{"must be 0 to %s", "muss zwischen 0 und %s liegen"},
	{"must not be less than min_digits (%d)", "darf nicht kleiner als min_digits (%d) sein"},
	{"must be 1 to 63 lower-case letters, digits, '-' or '_', starting with a letter or digit", "muss aus 1 bis 63 Kleinbuchstaben, Ziffern, '-' oder '_' bestehen und mit einem Buchstaben oder einer Ziffer beginnen"},
	{"another gate has this ID already", "ein anderes Gate hat diese ID schon"},
	{"another token has this ID already", "ein anderes Token hat diese ID schon"},
	{"is not a valid gate ID", "ist keine gültige Gate-ID"},
	{"is not a valid gate name", "ist kein gültiger Gate-Name"},
	{"must be always, never or schedule", "muss always, never oder schedule sein"},
	{"is required for schedule mode", "ist für den Modus schedule erforderlich"},
	{"is required (static, table or webhook)", "ist erforderlich (static, table oder webhook)"},
	{"must be static, table or webhook", "muss static, table oder webhook sein"},
	{"is required for static mode (or a pin_set)", "ist für den Modus static erforderlich (oder ein pin_set)"},
	{"must be reject, pass or static", "muss reject, pass oder static sein"},
	{"static needs the gate's static PIN or a pin_set", "static braucht die statische PIN des Gates oder ein pin_set"},
	{"is required for webhook mode", "ist für den Modus webhook erforderlich"},
	{"must be reject, pass, forward, static or table", "muss reject, pass, forward, static oder table sein"},
	{"table is only for webhook gates", "table gibt es nur bei Webhook-Gates"},
	{"is required when action is forward", "ist erforderlich, wenn action forward ist"},
	{"must be busy, rejected, congestion or normal", "muss busy, rejected, congestion oder normal sein"},
	{"must be a dialplan context (letters, digits, '_', '.', '-')", "muss ein Dialplan-Kontext sein (Buchstaben, Ziffern, '_', '.', '-')"},
	{"is required because %s is an extension (%s)", "ist erforderlich, weil %s eine Nebenstelle ist (%s)"},
	{"must be more than 0 when a failure limit is set", "muss größer als 0 sein, wenn ein Fehlerlimit gesetzt ist"},
	{"must be refuse or slow", "muss refuse oder slow sein"},
	{"must be in the future", "muss in der Zukunft liegen"},
	{"must be after valid_from", "muss nach valid_from liegen"},
	{"must be after from", "muss nach from liegen"},
	{"cannot be combined with until", "kann nicht mit until kombiniert werden"},
	{"is required (true forces the gate on, false off)", "ist erforderlich (true schaltet das Gate an, false aus)"},
	{"is required (a number in any format, or a prefix ending in '*')", "ist erforderlich (eine Nummer in beliebigem Format oder ein Präfix mit '*' am Ende)"},
	{"the gate has an entry for this caller already", "das Gate hat schon einen Eintrag für diesen Anrufer"},
	{"the gate has this prompt already", "das Gate hat diese Ansage schon"},
	{"must be a caller's phone number", "muss die Telefonnummer eines Anrufers sein"},
	{"is required for a pin entry", "ist für einen PIN-Eintrag erforderlich"},
	{"is only allowed on allow entries", "ist nur bei allow-Einträgen erlaubt"},
	{"the file holds no rows", "die Datei enthält keine Zeilen"},
	{"must be a number from 1 to 1000", "muss eine Zahl von 1 bis 1000 sein"},
	{`is required ("HH:MM")`, `ist erforderlich ("HH:MM")`},
	{"%s is not a time of day (want HH:MM)", "%s ist keine Uhrzeit (erwartet HH:MM)"},
	{"%s is out of range (00:00 to 23:59)", "%s liegt nicht zwischen 00:00 und 23:59"},
	{`"24:00" is allowed only as an end time`, `"24:00" ist nur als Ende erlaubt`},
}

type problemRule struct {
	re *regexp.Regexp
	de string
}

var problemRules = sync.OnceValue(func() []problemRule {
	out := make([]problemRule, 0, len(germanProblems))
	for _, p := range germanProblems {
		pat := regexp.QuoteMeta(p.en)
		pat = strings.ReplaceAll(pat, "%d", `(-?\d+)`)
		pat = strings.ReplaceAll(pat, "%s", `(.+?)`)
		out = append(out, problemRule{re: regexp.MustCompile("^" + pat + "$"), de: p.de})
	}
	return out
})

// translateProblem returns an API problem text in language l.
func translateProblem(l, text string) string {
	if l != "de" || text == "" {
		return text
	}
	for _, r := range problemRules() {
		m := r.re.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		out, args := r.de, m[1:]
		for _, a := range args {
			i := strings.IndexAny(out, "%")
			if i < 0 || i+1 >= len(out) {
				break
			}
			out = out[:i] + a + out[i+2:]
		}
		return out
	}
	return text
}

// localizeProblem translates a problem's title and field problems into
// language l; the field names stay the API's.
func localizeProblem(l string, p *admin.Problem) {
	p.Title = translateProblem(l, p.Title)
	for i := range p.Errors {
		p.Errors[i].Problem = translateProblem(l, p.Errors[i].Problem)
	}
}
