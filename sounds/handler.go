package sounds

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// startTime is the Last-Modified time of the embedded defaults: they
// cannot change while the process runs. The ETag, a hash of the content,
// is what caches should revalidate with.
var startTime = time.Now().UTC().Truncate(time.Second)

// Handler serves prompts over HTTP in the layout Install writes:
//
//	GET /sounds/<lang>/vipgate/<key>.wav                 upload for every gate, else the default
//	GET /sounds/<lang>/vipgate/gates/<gateID>/<key>.wav  the gate's own upload
//
// (the "/sounds" prefix is optional, so the handler works mounted with or
// without it). Responses carry Content-Type audio/wav, Cache-Control
// "public, max-age=300", a content-hash ETag and Last-Modified; a matching
// If-None-Match gives 304. HEAD and Range requests work. Unknown
// languages, gates, keys and any other path give 404 (no file system is
// read, so there is nothing to traverse); other methods give 405; a store
// failure gives 503.
//
// Playing prompts over HTTP (sound:http://...) is not proven to work with
// Asterisk 22's res_http_media_cache; Install is the dependable way.
func Handler(store gate.PromptStore) http.Handler {
	return &handler{store: store}
}

type handler struct {
	store gate.PromptStore
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	gateID, lang, key, ok := parseSoundPath(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	data, mod, err := h.load(r.Context(), gateID, lang, key)
	switch {
	case errors.Is(err, gate.ErrNotFound):
		http.NotFound(w, r)
		return
	case errors.Is(err, ErrNotWAV), errors.Is(err, errBadFormat):
		http.Error(w, "stored prompt is not a playable WAV file", http.StatusInternalServerError)
		return
	case err != nil:
		http.Error(w, "prompt store unavailable", http.StatusServiceUnavailable)
		return
	}
	sum := sha256.Sum256(data)
	hd := w.Header()
	hd.Set("Content-Type", "audio/wav")
	hd.Set("Cache-Control", "public, max-age=300")
	hd.Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	hd.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, string(key)+".wav", mod, bytes.NewReader(data))
}

// load returns the prompt to serve: for gateID "" the upload for every
// gate or else the default, for a gate its own upload.
func (h *handler) load(ctx context.Context, gateID, lang string, key gate.PromptKey) ([]byte, time.Time, error) {
	if h.store != nil {
		p, err := h.store.GetPrompt(ctx, gateID, lang, key)
		switch {
		case err == nil:
			data, nerr := Normalize(p.Data)
			if nerr != nil {
				return nil, time.Time{}, nerr
			}
			mod := p.CreatedAt
			if mod.IsZero() {
				mod = startTime
			}
			return data, mod, nil
		case !errors.Is(err, gate.ErrNotFound):
			return nil, time.Time{}, err
		}
	}
	if gateID != "" {
		return nil, time.Time{}, gate.ErrNotFound
	}
	data, err := DefaultFile(lang, key)
	return data, startTime, err
}

// parseSoundPath splits "/sounds/<lang>/vipgate/<key>.wav" or
// "/sounds/<lang>/vipgate/gates/<gateID>/<key>.wav" (the "/sounds" prefix
// optional). Every part must be a valid language, gate ID or prompt key,
// so "..", empty parts and encoded slashes never match.
func parseSoundPath(p string) (gateID, lang string, key gate.PromptKey, ok bool) {
	p = strings.TrimPrefix(p, "/")
	p = strings.TrimPrefix(p, "sounds/")
	parts := strings.Split(p, "/")
	var file string
	switch {
	case len(parts) == 3 && parts[1] == gate.DefaultSoundDir:
		lang, file = parts[0], parts[2]
	case len(parts) == 5 && parts[1] == gate.DefaultSoundDir && parts[2] == GatesDir:
		lang, gateID, file = parts[0], parts[3], parts[4]
		if !gate.ValidID(gateID) {
			return "", "", "", false
		}
	default:
		return "", "", "", false
	}
	name, found := strings.CutSuffix(file, ".wav")
	key = gate.PromptKey(name)
	if !found || !ValidLang(lang) || !validKey(key) {
		return "", "", "", false
	}
	return gateID, lang, key, true
}
