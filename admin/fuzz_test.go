package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vipgate/vipgate/admin"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// FuzzWriteBodies posts arbitrary bodies to the gate and PIN-entry
// endpoints: every answer must be a success or a 4xx problem document,
// never a 5xx or a panic.
func FuzzWriteBodies(f *testing.F) {
	for _, seed := range []string{
		`{"id":"g","enabled":true,"activation":{"mode":"always"},"identification":{"mode":"static","static_pin":"4711"}}`,
		`{"id":"g","identification":{"mode":"table","webhook":{"url":"http://x","headers":{"Authorization":"[redacted]"}}}}`,
		`{"caller":"0176 1234","pin":"8642","valid_from":"2026-01-01T00:00:00Z"}`,
		`{"a":[{"b":{"c":1}}]}`, `[]`, `null`, `{"id":`, `{"dialogue":{"max_retries":"x"}}`, "\xff\xfe",
	} {
		f.Add([]byte(seed))
	}
	st := gatetest.NewStore()
	h, err := gate.NewHasher(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		f.Fatal(err)
	}
	clear, tok, err := admin.NewToken(gate.RoleAdmin, "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	if err := st.CreateToken(ctx, tok); err != nil {
		f.Fatal(err)
	}
	if err := st.CreateGate(ctx, &gate.Gate{ID: "vip", Enabled: true, Activation: gate.Activation{Mode: gate.ActiveAlways},
		Identification: gate.Identification{Mode: gate.IdentTable}}); err != nil {
		f.Fatal(err)
	}
	srv := admin.NewServer(admin.Deps{Store: st, Hasher: h, Region: "DE"})
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, target := range []struct{ method, path string }{
			{"POST", "/api/v1/gates"}, {"PUT", "/api/v1/gates/vip"}, {"POST", "/api/v1/gates/vip/pins"}, {"PUT", "/api/v1/gates/vip/override"},
		} {
			req := httptest.NewRequest(target.method, target.path, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+clear)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %s: status %d: %s", target.method, target.path, rec.Code, rec.Body)
			}
			if rec.Code >= 400 {
				var p admin.Problem
				if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != rec.Code {
					t.Fatalf("%s %s: %d answer is not a problem document: %s", target.method, target.path, rec.Code, rec.Body)
				}
			}
			if rec.Code == http.StatusCreated && target.path == "/api/v1/gates" {
				_ = st.DeleteGate(ctx, gateID(rec.Body.Bytes()))
			}
		}
	})
}

func gateID(b []byte) string {
	var g struct{ ID string }
	_ = json.Unmarshal(b, &g)
	return g.ID
}
