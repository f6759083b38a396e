package sounds_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
	"github.com/vipgate/vipgate/sounds"
)

// brokenStore fails every read as a store that cannot be reached.
type brokenStore struct{ gate.PromptStore }

func (brokenStore) GetPrompt(context.Context, string, string, gate.PromptKey) (*gate.PromptFile, error) {
	return nil, fmt.Errorf("get prompt: %w", gate.ErrUnavailable)
}

func TestHandler(t *testing.T) {
	ctx := context.Background()
	store := gatetest.NewStore()
	uploadedAt := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	gateUpload := sounds.EncodeWAV(sine(440, 8000, 4000, 8000), 8000)
	globalUpload := sounds.EncodeWAV(sine(660, 8000, 4000, 8000), 8000)
	for _, p := range []*gate.PromptFile{
		{GateID: "hotline", Lang: "en", Key: gate.PromptWelcome, Data: gateUpload, CreatedAt: uploadedAt},
		{GateID: "hotline", Lang: "de", Key: gate.PromptAskPIN, Data: tone16k(8000), CreatedAt: uploadedAt},
		{Lang: "de", Key: gate.PromptRejected, Data: globalUpload, CreatedAt: uploadedAt},
		{GateID: "broken", Lang: "en", Key: gate.PromptAskPIN, Data: []byte("not a wav")},
	} {
		if err := store.PutPrompt(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	defEN, err := sounds.DefaultFile("en", gate.PromptAskPIN)
	if err != nil {
		t.Fatal(err)
	}
	h := sounds.Handler(store)

	tests := []struct {
		name     string
		method   string
		path     string
		store    gate.PromptStore
		nilStore bool // use Handler(nil)
		want     int
		wantBody []byte // nil: not checked
		wantLen  int    // data bytes of the served WAV, 0: not checked
	}{
		{name: "default", path: "/sounds/en/vipgate/ask-pin.wav", want: 200, wantBody: defEN},
		{name: "without prefix", path: "/en/vipgate/ask-pin.wav", want: 200, wantBody: defEN},
		{name: "head", method: http.MethodHead, path: "/sounds/en/vipgate/ask-pin.wav", want: 200},
		{name: "global upload replaces default", path: "/sounds/de/vipgate/rejected.wav", want: 200, wantBody: globalUpload},
		{name: "gate upload", path: "/sounds/en/vipgate/gates/hotline/welcome.wav", want: 200, wantBody: gateUpload},
		{name: "16k gate upload served at 8k", path: "/sounds/de/vipgate/gates/hotline/ask-pin.wav", want: 200, wantLen: 8000},
		{name: "gate without upload", path: "/sounds/en/vipgate/gates/hotline/ask-pin.wav", want: 404},
		{name: "welcome has no default", path: "/sounds/en/vipgate/welcome.wav", want: 404},
		{name: "unknown language", path: "/sounds/fr/vipgate/ask-pin.wav", want: 404},
		{name: "unknown key", path: "/sounds/en/vipgate/hello.wav", want: 404},
		{name: "no extension", path: "/sounds/en/vipgate/ask-pin", want: 404},
		{name: "other extension", path: "/sounds/en/vipgate/ask-pin.gsm", want: 404},
		{name: "traversal", path: "/sounds/../../etc/passwd", want: 404},
		{name: "traversal in lang", path: "/sounds/../vipgate/ask-pin.wav", want: 404},
		{name: "traversal in gate", path: "/sounds/en/vipgate/gates/../ask-pin.wav", want: 404},
		{name: "encoded traversal", path: "/sounds/en/vipgate/gates/..%2f..%2fetc/ask-pin.wav", want: 404},
		{name: "bad gate ID", path: "/sounds/en/vipgate/gates/Hot.Line/welcome.wav", want: 404},
		{name: "post", method: http.MethodPost, path: "/sounds/en/vipgate/ask-pin.wav", want: 405},
		{name: "store down", path: "/sounds/en/vipgate/ask-pin.wav", store: brokenStore{}, want: 503},
		{name: "damaged upload", path: "/sounds/en/vipgate/gates/broken/ask-pin.wav", want: 500},
		{name: "nil store serves defaults", path: "/sounds/en/vipgate/ask-pin.wav", nilStore: true, want: 200, wantBody: defEN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hh := h
			switch {
			case tt.nilStore:
				hh = sounds.Handler(nil)
			case tt.store != nil:
				hh = sounds.Handler(tt.store)
			}
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			rec := httptest.NewRecorder()
			hh.ServeHTTP(rec, httptest.NewRequest(method, tt.path, nil))
			if rec.Code != tt.want {
				t.Fatalf("%s %s = %d, want %d (%.80q)", method, tt.path, rec.Code, tt.want, rec.Body.String())
			}
			if tt.want != 200 {
				return
			}
			hd := rec.Header()
			if ct := hd.Get("Content-Type"); ct != "audio/wav" {
				t.Errorf("Content-Type = %q, want audio/wav", ct)
			}
			if cc := hd.Get("Cache-Control"); cc != "public, max-age=300" {
				t.Errorf("Cache-Control = %q", cc)
			}
			if et := hd.Get("ETag"); len(et) < 10 || !strings.HasPrefix(et, `"`) {
				t.Errorf("ETag = %q, want a quoted hash", et)
			}
			if _, err := http.ParseTime(hd.Get("Last-Modified")); err != nil {
				t.Errorf("Last-Modified = %q: %v", hd.Get("Last-Modified"), err)
			}
			if method == http.MethodHead {
				if rec.Body.Len() != 0 || hd.Get("Content-Length") != fmt.Sprint(len(defEN)) {
					t.Errorf("HEAD: body %d bytes, Content-Length %q; want 0 and %d", rec.Body.Len(), hd.Get("Content-Length"), len(defEN))
				}
				return
			}
			if tt.wantBody != nil && rec.Body.String() != string(tt.wantBody) {
				t.Errorf("body (%d bytes) differs from the expected file (%d bytes)", rec.Body.Len(), len(tt.wantBody))
			}
			info, err := sounds.ParseWAV(rec.Body.Bytes())
			if err != nil || info.SampleRate != 8000 || info.Channels != 1 {
				t.Errorf("served %+v, %v; want an 8 kHz mono WAV", info, err)
			}
			if tt.wantLen != 0 && info.DataLen != tt.wantLen {
				t.Errorf("served %d data bytes, want %d", info.DataLen, tt.wantLen)
			}
		})
	}
}

func TestHandlerConditional(t *testing.T) {
	store := gatetest.NewStore()
	uploadedAt := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	up := sounds.EncodeWAV(sine(440, 8000, 4000, 8000), 8000)
	if err := store.PutPrompt(context.Background(), &gate.PromptFile{GateID: "hotline", Lang: "en", Key: gate.PromptWelcome, Data: up, CreatedAt: uploadedAt}); err != nil {
		t.Fatal(err)
	}
	h := sounds.Handler(store)
	get := func(path string, hdr map[string]string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	for _, path := range []string{"/sounds/en/vipgate/gates/hotline/welcome.wav", "/sounds/de/vipgate/ask-pin.wav"} {
		first := get(path, nil)
		etag := first.Header().Get("ETag")
		lastMod := first.Header().Get("Last-Modified")
		tests := []struct {
			name string
			hdr  map[string]string
			want int
		}{
			{"matching etag", map[string]string{"If-None-Match": etag}, 304},
			{"etag in a list", map[string]string{"If-None-Match": `"abc", ` + etag}, 304},
			{"weak etag", map[string]string{"If-None-Match": "W/" + etag}, 304},
			{"star", map[string]string{"If-None-Match": "*"}, 304},
			{"other etag", map[string]string{"If-None-Match": `"0123456789abcdef"`}, 200},
			{"not modified since", map[string]string{"If-Modified-Since": lastMod}, 304},
			{"modified since", map[string]string{"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}, 200},
			{"range", map[string]string{"Range": "bytes=0-43"}, 206},
		}
		for _, tt := range tests {
			t.Run(path+"/"+tt.name, func(t *testing.T) {
				rec := get(path, tt.hdr)
				if rec.Code != tt.want {
					t.Fatalf("status %d, want %d", rec.Code, tt.want)
				}
				if tt.want == 304 && (rec.Body.Len() != 0 || rec.Header().Get("ETag") != etag) {
					t.Errorf("304 with body %d bytes and ETag %q, want empty and %q", rec.Body.Len(), rec.Header().Get("ETag"), etag)
				}
			})
		}
	}
	// The ETag follows the content.
	a := get("/sounds/en/vipgate/ask-pin.wav", nil).Header().Get("ETag")
	b := get("/sounds/de/vipgate/ask-pin.wav", nil).Header().Get("ETag")
	if a == b {
		t.Errorf("en and de ask-pin have the same ETag %s", a)
	}
	if lm := get("/sounds/en/vipgate/gates/hotline/welcome.wav", nil).Header().Get("Last-Modified"); lm != uploadedAt.Format(http.TimeFormat) {
		t.Errorf("Last-Modified of an upload = %q, want its upload time %q", lm, uploadedAt.Format(http.TimeFormat))
	}
}

// FuzzHandlerPath checks that whatever the path, the handler answers 200
// only for the canonical path of an existing prompt, and never panics.
func FuzzHandlerPath(f *testing.F) {
	for _, p := range []string{
		"/sounds/en/vipgate/ask-pin.wav", "/en/vipgate/gates/hotline/welcome.wav",
		"/sounds/../etc/passwd", "/sounds/en//vipgate/ask-pin.wav", "/sounds/en/vipgate/gates/a/b/ask-pin.wav",
	} {
		f.Add(p)
	}
	store := gatetest.NewStore()
	up := sounds.EncodeWAV(sine(440, 8000, 800, 8000), 8000)
	if err := store.PutPrompt(context.Background(), &gate.PromptFile{GateID: "hotline", Lang: "en", Key: gate.PromptWelcome, Data: up}); err != nil {
		f.Fatal(err)
	}
	h := sounds.Handler(store)
	f.Fuzz(func(t *testing.T, path string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.URL.Path = path
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			return
		}
		p := strings.TrimPrefix(strings.TrimPrefix(path, "/"), "sounds/")
		parts := strings.Split(p, "/")
		for _, part := range parts {
			if part == "" || part == "." || part == ".." {
				t.Fatalf("200 for non-canonical path %q", path)
			}
		}
		if len(parts) != 3 && !(len(parts) == 5 && parts[3] == "hotline") {
			t.Fatalf("200 for unexpected path %q", path)
		}
	})
}
