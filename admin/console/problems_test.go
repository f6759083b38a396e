package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
)

// TestGermanProblemTexts checks that the API's field problems are shown in
// German, with the API's numbers filled in, at their field when the
// console is German, and as the API wrote them in English.
func TestGermanProblemTexts(t *testing.T) {
	e := newEnv(t)
	b := e.as(gate.RoleAdmin)
	form := url.Values{"id": {"g1"}, "activation.mode": {"always"}, "identification.mode": {"webhook"},
		"dialogue.max_retries": {"99"}, "dialogue.min_digits": {"4"}, "dialogue.max_digits": {"8"}}
	resp, body := b.post("/gates/new?lang=de", form)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("invalid gate: %d\n%.500s", resp.StatusCode, body)
	}
	for _, want := range []string{"muss zwischen 1 und 10 liegen", "ist für den Modus webhook erforderlich"} {
		if !strings.Contains(body, want) {
			t.Errorf("German page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "must be 1 to") || strings.Contains(body, "is required for webhook mode") {
		t.Error("the German page shows the English problems")
	}
	_, body = b.post("/gates/new?lang=en", form)
	if !strings.Contains(body, "must be 1 to 10") || !strings.Contains(body, "is required for webhook mode") {
		t.Errorf("English page lacks the API's problems:\n%s", body)
	}
}
