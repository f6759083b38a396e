package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/storage/sqlite"
)

// onePrefix fails when a layer's name appears more than once in msg: each
// layer names its operation once ("webhook: status: ...", never
// "webhook: webhook: ...").
func onePrefix(t *testing.T, what, msg string, prefixes ...string) {
	t.Helper()
	if msg == "" {
		t.Fatalf("%s: no error text", what)
	}
	for _, p := range prefixes {
		if n := strings.Count(msg, p); n != 1 {
			t.Errorf("%s: %q has %q %d times, want once", what, msg, p, n)
		}
	}
}

// TestErrorTextsNameEachLayerOnce checks representative error texts end to
// end: the webhook failure a gate reports, a store refusal (PostgreSQL's
// texts are checked in its package without a server),
// a failed call source as serve reports it.
func TestErrorTextsNameEachLayerOnce(t *testing.T) {
	t.Run("webhook failure in explain", func(t *testing.T) {
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "down", http.StatusInternalServerError)
		}))
		defer hook.Close()
		c := newCLI(t)
		yaml, err := os.ReadFile(example("webhook-gate.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		doc := strings.Replace(string(yaml), "http://127.0.0.1:8090", hook.URL, 1)
		doc = strings.Replace(doc, "    secret_file: /etc/vipgate/webhook-secret\n", "", 1)
		c.importGates("hook.yaml", doc)
		out := c.must("explain", "--gate", "webhook-demo", "--caller", "0176 1234 5678", "--called", "+4940822240", "--json")
		var x explained
		if err := json.Unmarshal([]byte(out), &x); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		onePrefix(t, "explain error", x.Error, "webhook:")
	})

	stores := map[string]func(t *testing.T) gate.Store{
		"sqlite": func(t *testing.T) gate.Store {
			st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "v.db"), sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
	}
	for name, open := range stores {
		t.Run("store refusal: "+name, func(t *testing.T) {
			st := open(t)
			defer st.Close()
			ctx := context.Background()
			g := &gate.Gate{ID: "dup", Name: "dup", Enabled: true, Activation: gate.Activation{Mode: gate.ActiveAlways},
				Identification: gate.Identification{Mode: gate.IdentTable}}
			if err := st.CreateGate(ctx, g); err != nil {
				t.Fatal(err)
			}
			err := st.CreateGate(ctx, g)
			if err == nil {
				t.Fatal("second CreateGate succeeded")
			}
			onePrefix(t, "duplicate gate", err.Error(), name+":")
			_, err = st.GetGate(ctx, "missing")
			if err == nil {
				t.Fatal("GetGate of a missing gate succeeded")
			}
			onePrefix(t, "missing gate", err.Error(), name+":")
		})
	}

	t.Run("call source as serve reports it", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		c := newCLI(t)
		_, _, err = c.run("serve", "--http", "off", "--agi", ln.Addr().String())
		if err == nil {
			t.Fatal("serve on a taken FastAGI port succeeded")
		}
		onePrefix(t, "serve", err.Error(), "agi:")
	})
}
