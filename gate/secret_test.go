package gate_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
)

// fakeBox seals by wrapping the value; it is not cryptography, it shows
// which values the gate hands to the box.
type fakeBox struct{ fail bool }

func (fakeBox) Seal(p string) (string, error) { return "sealed(" + p + ")", nil }
func (b fakeBox) Open(s string) (string, bool, error) {
	if b.fail {
		return "", true, errors.New("does not decrypt")
	}
	if p, ok := strings.CutPrefix(s, "sealed("); ok {
		return strings.TrimSuffix(p, ")"), true, nil
	}
	return s, false, nil
}

func TestSealOpenSecrets(t *testing.T) {
	g := &gate.Gate{ID: "crm", Identification: gate.Identification{Mode: gate.IdentWebhook, Webhook: &gate.WebhookConfig{
		URL:        "https://u:pw@crm.example/?token=t",
		Headers:    map[string]string{"Authorization": "Bearer x", "Accept": "application/json"},
		SecretFile: "/etc/vipgate/hook.key",
	}}}
	sealed, err := gate.SealSecrets(g, fakeBox{})
	if err != nil {
		t.Fatal(err)
	}
	w := sealed.Identification.Webhook
	if w.URL != "sealed(https://u:pw@crm.example/?token=t)" || w.Headers["Authorization"] != "sealed(Bearer x)" || w.Headers["Accept"] != "sealed(application/json)" {
		t.Errorf("sealed webhook %+v: want the URL and every header value sealed", w)
	}
	if w.SecretFile != "/etc/vipgate/hook.key" {
		t.Errorf("the secret file name changed: %q", w.SecretFile)
	}
	if g.Identification.Webhook.Headers["Authorization"] != "Bearer x" {
		t.Error("SealSecrets changed its argument")
	}
	clear, err := gate.OpenSecrets(sealed, fakeBox{})
	if err != nil || clear {
		t.Fatalf("OpenSecrets = %v, %v; want no clear values", clear, err)
	}
	if w.URL != g.Identification.Webhook.URL || w.Headers["Authorization"] != "Bearer x" {
		t.Errorf("opened webhook %+v", w)
	}
	// A gate written in clear opens as it is and says so.
	old := g.Clone()
	if clear, err := gate.OpenSecrets(old, fakeBox{}); err != nil || !clear {
		t.Errorf("OpenSecrets of clear values = %v, %v; want clear", clear, err)
	}
	if _, err := gate.OpenSecrets(sealed.Clone(), fakeBox{fail: true}); err == nil {
		t.Error("a value that does not open was accepted")
	}
	// No box, no webhook: nothing changes.
	if same, _ := gate.SealSecrets(g, nil); same != g {
		t.Error("SealSecrets without a box copied the gate")
	}
	plain := &gate.Gate{ID: "p"}
	if same, _ := gate.SealSecrets(plain, fakeBox{}); same != plain {
		t.Error("SealSecrets of a gate without webhook copied it")
	}
}

func TestRedactWebhook(t *testing.T) {
	wc := &gate.WebhookConfig{
		URL:     "https://u:pw@crm.example/check?caller=###CALLER_NUMBER###&api_key=k&v=2",
		Headers: map[string]string{"Authorization": "Bearer x", "Accept": "application/json"},
	}
	r := gate.RedactWebhook(wc)
	if r.URL != "https://u:[redacted]@crm.example/check?caller=###CALLER_NUMBER###&api_key=[redacted]&v=2" ||
		r.Headers["Authorization"] != gate.Redacted || r.Headers["Accept"] != "application/json" {
		t.Errorf("redacted %+v", r)
	}
	back := gate.RedactWebhook(wc)
	gate.KeepWebhookSecrets(back, wc)
	if back.URL != wc.URL || back.Headers["Authorization"] != "Bearer x" {
		t.Errorf("kept %+v, want the stored secrets back", back)
	}
}
