package webhook_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/webhook"
)

// TestRedaction runs answers that carry a PIN through success and every
// error path, with debug logging, and checks that neither the PIN nor the
// signing key nor the URL's token shows up in logs, errors or answers.
func TestRedaction(t *testing.T) {
	const (
		pin    = "908172635"
		secret = "S3cretKey-do-not-leak-7f3a9b"
		token  = "tok-4b1d"
	)
	bodies := []struct {
		name   string
		status int
		body   string
		class  string
	}{
		{"success", 200, `{askForPin:{expectedPIN:"` + pin + `"}}`, ""},
		{"success numeric", 200, `{askForPin:{expectedPIN:` + pin + `}}`, ""},
		{"syntax", 200, `{askForPin:{expectedPIN:"` + pin + `" x}}`, webhook.ClassSyntax},
		{"syntax in number", 200, `{askForPin:{expectedPIN:` + pin + `x}}`, webhook.ClassSyntax},
		{"letters", 200, `{askForPin:{expectedPIN:"` + pin + `x"}}`, webhook.ClassAnswer},
		{"too long", 200, `{askForPin:{expectedPIN:"` + strings.Repeat(pin, 4) + `"}}`, webhook.ClassAnswer},
		{"bad target", 200, `{askForPin:{expectedPIN:"` + pin + `",forwardCorrectPIN:"` + pin + ` x"}}`, webhook.ClassAnswer},
		{"conflict", 200, `{askForPin:{expectedPIN:"` + pin + `"},reject:true}`, webhook.ClassAnswer},
		{"pin twice", 200, `{askForPin:{expectedPIN:"` + pin + `",expectedPIN:"` + pin + `"}}`, webhook.ClassAnswer},
		{"status", 500, `{askForPin:{expectedPIN:"` + pin + `"}}`, webhook.ClassStatus},
		{"too large", 200, `{askForPin:{expectedPIN:"` + pin + `"}}` + strings.Repeat(" ", webhook.MaxBody), webhook.ClassTooLarge},
	}
	var current atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := bodies[current.Load()]
		w.WriteHeader(b.status)
		io.WriteString(w, b.body)
	}))
	defer srv.Close()

	var logs syncBuffer
	obs := &observer{}
	a := webhook.New(webhook.Config{
		Logger:   debugLogger(&logs),
		Observer: obs,
		Secret:   func(*gate.Gate) ([]byte, error) { return []byte(secret), nil },
	})
	var texts []string
	for i, b := range bodies {
		current.Store(int64(i))
		g := webhookGate(srv.URL+"/check?token="+token+"&c=###CALLER_NUMBER###", func(wc *gate.WebhookConfig) {
			wc.BreakerFailures = 1000
			wc.CacheTTL = gate.Duration(1e9)
		})
		g.ID = fmt.Sprintf("gate-%d", i) // fresh cache per body
		ans, err := authorize(t, a, g, callReq)
		if c := gate.ErrorClass(err); c != b.class {
			t.Fatalf("%s: class = %q (%v), want %q", b.name, c, err, b.class)
		}
		if err == nil && !ans.PIN.Match(pin) {
			t.Fatalf("%s: answer does not carry the PIN", b.name)
		}
		texts = append(texts, fmt.Sprintf("%v|%+v|%#v|%v|%+v|%#v", err, err, err, ans, ans, ans))
		// The cached copy must be just as silent.
		ans, _ = authorize(t, a, g, callReq)
		texts = append(texts, fmt.Sprintf("%v|%+v|%#v", ans, ans, ans))
		slog.New(slog.NewTextHandler(&logs, nil)).Info("answer", "answer", ans, "pin", ans.PIN, "err", err)
	}
	key := webhook.Secret(secret)
	texts = append(texts, fmt.Sprintf("%v|%s|%+v|%#v", key, key, key, key))
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("secret", "key", key)
	reqs, _, _, _ := obs.snapshot()
	texts = append(texts, logs.String(), strings.Join(reqs, ","))

	all := strings.Join(texts, "\n")
	for _, leak := range []string{pin, secret, token} {
		if strings.Contains(all, leak) {
			t.Errorf("%q leaked into logs or errors:\n%s", leak, all)
		}
	}
	if !strings.Contains(logs.String(), "level=DEBUG") {
		t.Errorf("no debug lines were logged; the test checks nothing")
	}
}
