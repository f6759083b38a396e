package console

import (
	"net/http"
	"strings"
)

// langs are the console's languages; English is the default and the key
// of every text.
var langs = []string{"en", "de"}

// lang returns the page language: the switch (?lang= or its cookie), then
// the browser's Accept-Language, then English.
func lang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "en" || l == "de" {
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == "en" || c.Value == "de") {
		return c.Value
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		switch base {
		case "de":
			return "de"
		case "en":
			return "en"
		}
	}
	return "en"
}

// translate returns the text in language l (the English text when there
// is no translation).
func translate(l, text string) string {
	if l == "de" {
		if t, ok := german[text]; ok {
			return t
		}
	}
	return text
}

var german = map[string]string{
	"vipgate console":                       "vipgate-Konsole",
	"Log in":                                "Anmelden",
	"Log out":                               "Abmelden",
	"API token":                             "API-Token",
	"Logged in as":                          "Angemeldet als",
	"Overview":                              "Übersicht",
	"Gates":                                 "Gates",
	"Gate":                                  "Gate",
	"New gate":                              "Neues Gate",
	"Caller PINs":                           "Anrufer-PINs",
	"Override":                              "Übersteuerung",
	"Simulator":                             "Simulator",
	"Call log":                              "Anrufprotokoll",
	"Lockouts":                              "Sperren",
	"Prompts":                               "Ansagen",
	"Tokens":                                "Tokens",
	"Language":                              "Sprache",
	"State":                                 "Zustand",
	"Why":                                   "Grund",
	"active":                                "aktiv",
	"inactive":                              "inaktiv",
	"disabled":                              "deaktiviert",
	"Calls in the last 24 hours by outcome": "Anrufe der letzten 24 Stunden nach Ergebnis",
	"Outcome":                               "Ergebnis",
	"Calls":                                 "Anrufe",
	"Connections":                           "Verbindungen",
	"Store":                                 "Datenspeicher",
	"up":                                    "verbunden",
	"down":                                  "getrennt",
	"Caller":                                "Anrufer",
	"Until":                                 "Bis",
	"until":                                 "bis",
	"Closed by":                             "Geschlossen durch",
	"This one-time login link works once and expires soon.": "Dieser Anmeldelink gilt nur einmal und läuft bald ab.",
	"This login link is unknown, used or expired.":          "Dieser Anmeldelink ist unbekannt, schon benutzt oder abgelaufen.",
	"Failures":                      "Fehlversuche",
	"Clear":                         "Aufheben",
	"None.":                         "Keine.",
	"Save":                          "Speichern",
	"Delete":                        "Löschen",
	"Edit":                          "Bearbeiten",
	"Add":                           "Hinzufügen",
	"Search":                        "Suchen",
	"Next page":                     "Nächste Seite",
	"First page":                    "Erste Seite",
	"Name":                          "Name",
	"Enabled":                       "Aktiviert",
	"Called numbers (one per line)": "Angerufene Nummern (eine pro Zeile)",
	"Names the dialplan may pass (one per line)": "Namen aus dem Dialplan (einer pro Zeile)",
	"Activation":                           "Aktivierung",
	"always":                               "immer",
	"never":                                "nie",
	"schedule":                             "Zeitplan",
	"Time zone":                            "Zeitzone",
	"Active inside or outside the windows": "Aktiv innerhalb oder außerhalb der Zeitfenster",
	"inside":                               "innerhalb",
	"outside":                              "außerhalb",
	"Weekly windows":                       "Wochenfenster",
	"Day":                                  "Tag",
	"Time ranges (from – to)":              "Zeiträume (von – bis)",
	"Hours 0–24":                           "Stunden 0–24",
	"Monday":                               "Montag",
	"Tuesday":                              "Dienstag",
	"Wednesday":                            "Mittwoch",
	"Thursday":                             "Donnerstag",
	"Friday":                               "Freitag",
	"Saturday":                             "Samstag",
	"Sunday":                               "Sonntag",
	"from":                                 "von",
	"to":                                   "bis",
	"Remove":                               "Entfernen",
	"no window":                            "kein Zeitfenster",
	"Add a range in an empty slot; a range whose end is not after its start (e.g. 22:00–06:00, or an end of 00:00) ends on the next day.": "Einen Zeitraum in einem leeren Feld hinzufügen; ein Zeitraum, dessen Ende nicht nach dem Beginn liegt (z. B. 22:00–06:00 oder Ende 00:00), endet am nächsten Tag.",
	"Public-holiday sets (comma-separated, e.g. de-by)":                            "Feiertagssätze (durch Komma getrennt, z. B. de-by)",
	"Closures (one per line: YYYY-MM-DD, YYYY-MM-DD..YYYY-MM-DD, or MM-DD yearly)": "Schließtage (einer pro Zeile: JJJJ-MM-TT, JJJJ-MM-TT..JJJJ-MM-TT oder MM-TT yearly)",
	"Identification": "Identifikation",
	"Mode":           "Modus",
	"Static PIN (write-only; leave empty to keep)": "Statische PIN (nur schreibbar; leer lassen zum Beibehalten)",
	"A static PIN is set.":                         "Eine statische PIN ist gesetzt.",
	"No static PIN is set.":                        "Keine statische PIN gesetzt.",
	"Remove the static PIN":                        "Statische PIN entfernen",
	"Unknown callers":                              "Unbekannte Anrufer",
	"Region":                                       "Region",
	"Webhook URL":                                  "Webhook-URL",
	"PIN attempts":                                 "PIN-Versuche",
	"Fewest PIN digits":                            "Mindestzahl PIN-Ziffern",
	"Most PIN digits":                              "Höchstzahl PIN-Ziffern",
	"After a correct PIN":                          "Nach richtiger PIN",
	"After the last wrong PIN":                     "Nach der letzten falschen PIN",
	"Failure policy":                               "Fehlerverhalten",
	"The gate was not saved; see the marked fields.": "Das Gate wurde nicht gespeichert; siehe die markierten Felder.",
	"Saved.":                        "Gespeichert.",
	"Deleted.":                      "Gelöscht.",
	"ID (letters, digits, - and _)": "ID (Buchstaben, Ziffern, - und _)",
	"Search by caller (any format; a prefix ends in *)": "Suche nach Anrufer (beliebiges Format; ein Präfix endet mit *)",
	"normalised to":    "normalisiert zu",
	"entries":          "Einträge",
	"Label":            "Bezeichnung",
	"Valid from":       "Gültig ab",
	"Valid until":      "Gültig bis",
	"PIN (write-only)": "PIN (nur schreibbar)",
	"New PIN (write-only; leave empty to keep)": "Neue PIN (nur schreibbar; leer lassen zum Beibehalten)",
	"Add an entry": "Eintrag hinzufügen",
	"Import CSV":   "CSV importieren",
	"CSV file (caller,pin,label,valid_from,valid_until)": "CSV-Datei (caller,pin,label,valid_from,valid_until)",
	"Replace the whole table":                            "Ganze Tabelle ersetzen",
	"Export CSV":                                         "CSV exportieren",
	"Nothing was imported; fix these rows:":              "Nichts wurde importiert; bitte diese Zeilen korrigieren:",
	"Row":                                                "Zeile",
	"Field":                                              "Feld",
	"Problem":                                            "Problem",
	"Imported.":                                          "Importiert.",
	"Force on":                                           "Erzwingen: an",
	"Force off":                                          "Erzwingen: aus",
	"until (optional, RFC 3339 or YYYY-MM-DDTHH:MM in UTC)": "bis (optional, RFC 3339 oder JJJJ-MM-TTTHH:MM in UTC)",
	"Reason":               "Begründung",
	"Back to the schedule": "Zurück zum Zeitplan",
	"Set":                  "Setzen",
	"Called number":        "Angerufene Nummer",
	"Time (empty: now)":    "Zeit (leer: jetzt)",
	"Explain":              "Erklären",
	"Verdict":              "Entscheidung",
	"Trace":                "Ablauf",
	"Step":                 "Schritt",
	"Detail":               "Detail",
	"Filter":               "Filtern",
	"From (RFC 3339)":      "Von (RFC 3339)",
	"To (RFC 3339)":        "Bis (RFC 3339)",
	"any":                  "alle",
	"Time":                 "Zeit",
	"Target":               "Ziel",
	"Call":                 "Anruf",
	"The decision for this call, replayed now with today's settings:": "Die Entscheidung für diesen Anruf, jetzt mit den heutigen Einstellungen nachgespielt:",
	"Upload":           "Hochladen",
	"WAV file":         "WAV-Datei",
	"Prompt":           "Ansage",
	"Missing":          "Fehlt",
	"Uploaded prompts": "Hochgeladene Ansagen",
	"Role":             "Rolle",
	"Created":          "Erstellt",
	"Revoked":          "Widerrufen",
	"Revoke":           "Widerrufen",
	"Create a token":   "Token erstellen",
	"The new token (shown once; copy it now):":                                           "Das neue Token (nur einmal angezeigt; jetzt kopieren):",
	"Wrong, revoked or expired token.":                                                   "Falsches, widerrufenes oder abgelaufenes Token.",
	"Your session has ended; log in again.":                                              "Ihre Sitzung ist beendet; bitte erneut anmelden.",
	"The form was stale or forged (no valid CSRF token); reload the page and try again.": "Das Formular war veraltet oder gefälscht (kein gültiges CSRF-Token); Seite neu laden und erneut versuchen.",
	"Your role may not do this.":                                                         "Ihre Rolle darf das nicht.",
	"Paste an API token (vg_…). Create one with: vipgate tokens create --role admin":     "Ein API-Token (vg_…) einfügen. Erstellen mit: vipgate tokens create --role admin",
	"Skip to content":        "Zum Inhalt springen",
	"Not found.":             "Nicht gefunden.",
	"Logged out.":            "Abgemeldet.",
	"Entry":                  "Eintrag",
	"Entries":                "Einträge",
	"Actions":                "Aktionen",
	"Details":                "Details",
	"Export":                 "Exportieren",
	"Schedule":               "Zeitplan",
	"Play":                   "Abspielen",
	"Language of the prompt": "Sprache der Ansage",
}
