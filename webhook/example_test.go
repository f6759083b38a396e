package webhook_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/webhook"
)

// A webhook service checks vipgate's signature before it answers.
func ExampleVerify() {
	key, err := os.ReadFile("/etc/crm/vipgate.key")
	if err != nil {
		return
	}
	http.HandleFunc("/vipgate", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if err := webhook.Verify(key, r, body, 5*time.Minute, time.Now()); err != nil {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"askForPin":{"expectedPIN":"4711","maxRetries":3}}`)
	})
}

// The binary wires one Authorizer into the engine; each gate carries its
// own webhook settings.
func ExampleNew() {
	a := webhook.New(webhook.Config{Logger: slog.Default()})
	g := &gate.Gate{
		ID: "hotline",
		Identification: gate.Identification{
			Mode: gate.IdentWebhook,
			Webhook: &gate.WebhookConfig{
				URL:     "https://crm.example.com/vipgate?caller=###CALLER_NUMBER###",
				Timeout: gate.Duration(2 * time.Second),
			},
		},
	}
	ans, err := a.Authorize(context.Background(), g, gate.AuthRequest{Caller: "+4917612345678", Called: "+4930123456"})
	if err != nil {
		fmt.Println("failure policy applies:", gate.ErrorClass(err))
		return
	}
	fmt.Println(ans.Kind)
}
