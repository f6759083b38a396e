package admin

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/sounds"
)

// defaultPromptGate names, in URLs, the prompts that apply to every gate
// (gate.PromptFile.GateID "").
const defaultPromptGate = "_default"

// promptOut describes an uploaded prompt (never its audio).
type promptOut struct {
	Gate       string         `json:"gate"`
	Lang       string         `json:"lang"`
	Key        gate.PromptKey `json:"key"`
	Size       int            `json:"size"`
	SampleRate int            `json:"sample_rate,omitempty"`
	Duration   string         `json:"duration,omitempty"`
	// UploadedRate is the sample rate of the upload when it was converted.
	UploadedRate int       `json:"uploaded_rate,omitempty"`
	CreatedAt    time.Time `json:"created_at,omitzero"`
}

func newPromptOut(p *gate.PromptFile) promptOut {
	g := p.GateID
	if g == "" {
		g = defaultPromptGate
	}
	return promptOut{Gate: g, Lang: p.Lang, Key: p.Key, Size: p.Size, CreatedAt: p.CreatedAt}
}

// promptAddr reads and checks gate, lang and key from the URL. The gate
// must exist unless it is _default.
func (s *server) promptAddr(r *http.Request) (gateID, lang string, key gate.PromptKey, err error) {
	gateID, lang, key = urlParam(r, "gate"), urlParam(r, "lang"), gate.PromptKey(urlParam(r, "key"))
	var errs gate.ValidationErrors
	if gateID != defaultPromptGate && !gate.ValidID(gateID) {
		errs = append(errs, &gate.ValidationError{Field: "gate", Problem: "must be a gate ID or _default"})
	}
	if !sounds.ValidLang(lang) {
		errs = append(errs, &gate.ValidationError{Field: "lang", Problem: "must be a language code of 2-3 lower-case letters (optionally with a region: en_GB)"})
	}
	if !slices.Contains(gate.PromptKeys, key) {
		names := make([]string, len(gate.PromptKeys))
		for i, k := range gate.PromptKeys {
			names[i] = string(k)
		}
		errs = append(errs, &gate.ValidationError{Field: "key", Problem: "must be one of " + strings.Join(names, ", ")})
	}
	if len(errs) > 0 {
		return "", "", "", errs
	}
	if gateID == defaultPromptGate {
		return "", lang, key, nil
	}
	if _, err := s.store.GetGate(r.Context(), gateID); err != nil {
		return "", "", "", fmt.Errorf("gate %q: %w", gateID, err)
	}
	return gateID, lang, key, nil
}

func (s *server) listPrompts(w http.ResponseWriter, r *http.Request) {
	gateID := r.URL.Query().Get("gate")
	if gateID != "" && gateID != defaultPromptGate && !gate.ValidID(gateID) {
		s.writeError(w, r, invalid("gate", "must be a gate ID or _default"))
		return
	}
	ps, err := s.store.ListPrompts(r.Context(), strings.TrimPrefix(gateID, defaultPromptGate))
	if err != nil {
		s.writeError(w, r, fmt.Errorf("list prompts: %w", err))
		return
	}
	out := make([]promptOut, 0, len(ps))
	for _, p := range ps {
		if gateID == defaultPromptGate && p.GateID != "" {
			continue
		}
		out = append(out, newPromptOut(p))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

// wavTypes are the media types accepted for prompt uploads.
var wavTypes = []string{"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave", "application/octet-stream"}

func (s *server) putPrompt(w http.ResponseWriter, r *http.Request) {
	gateID, lang, key, err := s.promptAddr(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !slices.Contains(wavTypes, mt) {
			writeProblem(w, Problem{Type: problemBlank, Title: http.StatusText(http.StatusUnsupportedMediaType), Status: http.StatusUnsupportedMediaType,
				Detail: "upload the prompt as audio/wav", Errors: []FieldProblem{{Field: "body", Problem: "Content-Type must be audio/wav"}}})
			return
		}
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxPromptBytes))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	info, err := sounds.ParseWAV(data)
	if err == nil {
		data, err = sounds.Normalize(data)
	}
	if err != nil {
		s.writeError(w, r, invalid("body", "%s", wavProblem(err)))
		return
	}
	p := &gate.PromptFile{GateID: gateID, Lang: lang, Key: key, Data: data, Size: len(data), CreatedAt: s.now()}
	if err := s.store.PutPrompt(r.Context(), p); err != nil {
		s.writeError(w, r, fmt.Errorf("store prompt: %w", err))
		return
	}
	s.log.Info("admin: prompt uploaded", "gate", gateID, "lang", lang, "key", key, "bytes", len(data), "by", tokenFrom(r.Context()).ID)
	out := newPromptOut(p)
	out.SampleRate = sounds.Rate8k
	out.Duration = info.Duration.Round(time.Millisecond).String()
	if info.SampleRate != sounds.Rate8k {
		out.UploadedRate = info.SampleRate
	}
	writeJSON(w, http.StatusOK, out)
}

// wavProblem is the message of a WAV check without the package prefix.
func wavProblem(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "WAV must"); i >= 0 {
		return msg[i:]
	}
	if errors.Is(err, sounds.ErrNotWAV) {
		if _, rest, ok := strings.Cut(msg, sounds.ErrNotWAV.Error()); ok {
			return "not a valid WAV file" + rest + "; upload mono 16-bit PCM WAV at 8000 or 16000 Hz"
		}
	}
	return "not a valid WAV file; upload mono 16-bit PCM WAV at 8000 or 16000 Hz"
}

func (s *server) getPrompt(w http.ResponseWriter, r *http.Request) {
	gateID, lang, key, err := s.promptAddr(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err := s.store.GetPrompt(r.Context(), gateID, lang, key)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("prompt %s/%s: %w", lang, key, err))
		return
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Content-Length", strconv.Itoa(len(p.Data)))
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s-%s.wav"`, urlParam(r, "gate"), lang, key))
	_, _ = w.Write(p.Data)
}

func (s *server) deletePrompt(w http.ResponseWriter, r *http.Request) {
	gateID, lang, key, err := s.promptAddr(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := s.store.GetPrompt(r.Context(), gateID, lang, key); err != nil {
		s.writeError(w, r, fmt.Errorf("prompt %s/%s: %w", lang, key, err))
		return
	}
	if err := s.store.DeletePrompt(r.Context(), gateID, lang, key); err != nil {
		s.writeError(w, r, fmt.Errorf("delete prompt: %w", err))
		return
	}
	s.log.Info("admin: prompt deleted", "gate", gateID, "lang", lang, "key", key, "by", tokenFrom(r.Context()).ID)
	w.WriteHeader(http.StatusNoContent)
}
