package console_test

import (
	"encoding/binary"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
)

// tone is a 0.1 s 8 kHz mono 16-bit WAV.
func tone() []byte {
	data := make([]byte, 1600)
	for i := range 800 {
		binary.LittleEndian.PutUint16(data[2*i:], uint16(int16((i%16)*1000-8000)))
	}
	b := []byte("RIFF")
	b = binary.LittleEndian.AppendUint32(b, uint32(36+len(data)))
	b = append(b, "WAVEfmt "...)
	b = binary.LittleEndian.AppendUint32(b, 16)
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint32(b, 8000)
	b = binary.LittleEndian.AppendUint32(b, 16000)
	b = binary.LittleEndian.AppendUint16(b, 2)
	b = binary.LittleEndian.AppendUint16(b, 16)
	b = append(b, "data"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}

// Prompts: the missing list, an upload, playing it back, and a bad file's
// error.
func TestPrompts(t *testing.T) {
	e := newEnv(t)
	g := staticGate("g1")
	g.Language = "de"
	e.putGate(t, g)
	b := e.as(gate.RoleAdmin)
	_, body := b.get("/prompts")
	if !strings.Contains(body, "<li>g1 · de · ask-pin</li>") {
		t.Fatalf("ask-pin not listed as missing:\n%s", body)
	}
	resp, body := b.upload("/prompts", "wav", "ask.wav", tone(), url.Values{"gate": {"g1"}, "lang": {"de"}, "key": {"ask-pin"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%s", resp.StatusCode, body)
	}
	_, body = b.get("/prompts")
	if strings.Contains(body, "<li>g1 · de · ask-pin</li>") || !strings.Contains(body, `src="/prompts/g1/de/ask-pin"`) {
		t.Errorf("after the upload, ask-pin is still missing or has no player:\n%s", body)
	}
	resp, body = b.get("/prompts/g1/de/ask-pin")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "RIFF") {
		t.Errorf("play: %d %q", resp.StatusCode, body[:min(len(body), 8)])
	}
	resp, body = b.upload("/prompts", "wav", "bad.wav", []byte("not a wav at all"), url.Values{"gate": {"g1"}, "lang": {"de"}, "key": {"wrong-pin"}})
	if resp.StatusCode < 400 || !strings.Contains(body, `class="alert"`) {
		t.Errorf("bad WAV: %d, want an error shown\n%s", resp.StatusCode, body)
	}
}
