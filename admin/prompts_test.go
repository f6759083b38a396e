package admin_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/admin"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

func TestPrompts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustStatus(t, e.admin("POST", "/api/v1/gates", staticGate("hotline", "4711")), http.StatusCreated)
	tests := []struct {
		name     string
		path     string
		body     []byte
		ctype    string
		status   int
		field    string
		problem  string
		wantRate int
	}{
		{"8 kHz mono", "/api/v1/prompts/hotline/en/ask-pin", wav(8000, 1, 16, 8000), "audio/wav", 200, "", "", 0},
		{"16 kHz mono is converted", "/api/v1/prompts/_default/de/wrong-pin", wav(16000, 1, 16, 16000), "audio/x-wav", 200, "", "", 16000},
		{"44.1 kHz stereo", "/api/v1/prompts/hotline/en/ask-pin", wav(44100, 2, 16, 4410), "audio/wav", 422, "body",
			"WAV must be mono 16-bit PCM at 8000 or 16000 Hz; got 44100 Hz, 2 channels", 0},
		{"8-bit", "/api/v1/prompts/hotline/en/ask-pin", wav(8000, 1, 8, 800), "audio/wav", 422, "body", "8-bit", 0},
		{"no samples", "/api/v1/prompts/hotline/en/ask-pin", wav(8000, 1, 16, 0), "audio/wav", 422, "body", "WAV must hold at least one sample", 0},
		{"not a WAV", "/api/v1/prompts/hotline/en/ask-pin", []byte("ID3 mp3 data here"), "audio/wav", 422, "body", "not a valid WAV file", 0},
		{"unknown key", "/api/v1/prompts/hotline/en/hello", wav(8000, 1, 16, 800), "audio/wav", 422, "key", "ask-pin", 0},
		{"bad language", "/api/v1/prompts/hotline/english/ask-pin", wav(8000, 1, 16, 800), "audio/wav", 422, "lang", "", 0},
		{"unknown gate", "/api/v1/prompts/nope/en/ask-pin", wav(8000, 1, 16, 800), "audio/wav", 404, "", "", 0},
		{"wrong media type", "/api/v1/prompts/hotline/en/ask-pin", wav(8000, 1, 16, 800), "audio/mpeg", 415, "body", "", 0},
		// A valid header and more than MaxPromptBytes in all (zeros are
		// quicker to make than a 6 MB tone).
		{"too large", "/api/v1/prompts/hotline/en/ask-pin", append(wav(8000, 1, 16, 800), make([]byte, admin.MaxPromptBytes)...), "audio/wav", 413, "body", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.admin("PUT", tt.path, tt.body, "Content-Type", tt.ctype)
			mustStatus(t, r, tt.status)
			if tt.status != 200 {
				p := string(r.body)
				if f := r.fields(t); tt.field != "" && !slices.Contains(f, tt.field) {
					t.Errorf("fields %v lack %s", f, tt.field)
				}
				if !strings.Contains(p, tt.problem) {
					t.Errorf("problem %s lacks %q", p, tt.problem)
				}
				return
			}
			var out struct {
				Gate         string
				SampleRate   int `json:"sample_rate"`
				UploadedRate int `json:"uploaded_rate"`
				Size         int
			}
			r.json(t, &out)
			if out.SampleRate != 8000 || out.UploadedRate != tt.wantRate {
				t.Errorf("upload answer %s", r.body)
			}
			dl := e.do(e.tokens[gate.RoleViewer], "GET", tt.path, nil)
			mustStatus(t, dl, http.StatusOK)
			if dl.header.Get("Content-Type") != "audio/wav" || len(dl.body) != out.Size || !bytes.HasPrefix(dl.body, []byte("RIFF")) {
				t.Errorf("download: %s, %d bytes, want %d", dl.header.Get("Content-Type"), len(dl.body), out.Size)
			}
			if tt.wantRate == 0 && !bytes.Equal(dl.body[44:], tt.body[44:]) {
				t.Errorf("8 kHz audio changed on upload")
			}
			if tt.wantRate == 16000 && len(dl.body)-44 != (len(tt.body)-44)/2 {
				t.Errorf("16 kHz upload: %d data bytes stored, want %d", len(dl.body)-44, (len(tt.body)-44)/2)
			}
		})
	}
	r := e.do(e.tokens[gate.RoleViewer], "GET", "/api/v1/prompts", nil)
	mustStatus(t, r, http.StatusOK)
	var list struct {
		Items []struct{ Gate, Lang, Key string }
	}
	r.json(t, &list)
	if len(list.Items) != 2 {
		t.Errorf("list %s", r.body)
	}
	r = e.do(e.tokens[gate.RoleViewer], "GET", "/api/v1/prompts?gate=_default", nil)
	r.json(t, &list)
	if len(list.Items) != 1 || list.Items[0].Gate != "_default" || list.Items[0].Lang != "de" {
		t.Errorf("list _default %s", r.body)
	}
	mustStatus(t, e.admin("DELETE", "/api/v1/prompts/hotline/en/ask-pin", nil), http.StatusNoContent)
	mustStatus(t, e.admin("DELETE", "/api/v1/prompts/hotline/en/ask-pin", nil), http.StatusNotFound)
	mustStatus(t, e.admin("GET", "/api/v1/prompts/hotline/en/ask-pin", nil), http.StatusNotFound)
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		ready  func(context.Context) error
		status int
	}{
		{"no check", nil, 200},
		{"sources up", func(context.Context) error { return nil }, 200},
		{"ari down", func(context.Context) error { return errors.New("ari: not connected") }, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := admin.NewServer(admin.Deps{Store: openStore(t), Ready: tt.ready})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
			if rec.Code != 200 {
				t.Errorf("healthz %d", rec.Code)
			}
		})
	}
}

// TestStoreDown checks that a store failure is a 503 problem that does
// not repeat the store's error text.
func TestStoreDown(t *testing.T) {
	t.Parallel()
	st := gatetest.NewStore()
	clear, tok, err := admin.NewToken(gate.RoleAdmin, "t")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateToken(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	h := admin.NewServer(admin.Deps{Store: st, TokenCacheTTL: -1})
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+clear)
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := get("/api/v1/gates"); rec.Code != http.StatusOK {
		t.Fatalf("healthy store: %d %s", rec.Code, rec.Body)
	}
	st.SetErr(fmt.Errorf("dial tcp db.internal:5432: %w", gate.ErrUnavailable))
	for _, path := range []string{"/api/v1/gates", "/readyz"} {
		rec := get(path)
		if rec.Code != http.StatusServiceUnavailable || strings.Contains(rec.Body.String(), "db.internal") {
			t.Errorf("%s with the store down: %d %s", path, rec.Code, rec.Body)
		}
	}
	// A fault with a public reason is shown with it, still without the
	// details.
	st.SetErr(&gate.StoreFault{Reason: "database file deleted", Err: fmt.Errorf("%w: database file /srv/secret/vg.db was deleted", gate.ErrUnavailable)})
	rec := get("/readyz")
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"store":"unavailable: database file deleted"`) || strings.Contains(rec.Body.String(), "/srv/secret") {
		t.Errorf("/readyz with the file deleted: %d %s", rec.Code, rec.Body)
	}
}
