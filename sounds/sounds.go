package sounds

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"

	"github.com/vipgate/vipgate/gate"
)

//go:embed files/*/*.wav
var files embed.FS

// defaults is files rooted at files/: "<lang>/<key>.wav".
var defaults = mustSub(files, "files")

func mustSub(f fs.FS, dir string) fs.FS {
	s, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // dir is a constant that exists in the embedded tree
	}
	return s
}

// Default returns the embedded default prompts as "<lang>/<key>.wav", e.g.
// "de/ask-pin.wav": 8 kHz mono 16-bit PCM WAV files.
func Default() fs.FS { return defaults }

// Languages returns the languages that have default prompts ("de", "en"),
// sorted.
func Languages() []string {
	ents, err := fs.ReadDir(defaults, ".")
	if err != nil {
		return nil
	}
	var langs []string
	for _, e := range ents {
		if e.IsDir() {
			langs = append(langs, e.Name())
		}
	}
	return langs
}

// HasDefault reports whether key has a default prompt. Every key of
// gate.PromptKeys has one except gate.PromptWelcome, which is played only
// when one was uploaded.
func HasDefault(key gate.PromptKey) bool {
	return key != gate.PromptWelcome && slices.Contains(gate.PromptKeys, key)
}

// DefaultFile returns the embedded default prompt for lang and key.
func DefaultFile(lang string, key gate.PromptKey) ([]byte, error) {
	if !ValidLang(lang) || !HasDefault(key) {
		return nil, fmt.Errorf("sounds: default prompt %s/%s: %w", lang, key, gate.ErrNotFound)
	}
	b, err := fs.ReadFile(defaults, path.Join(lang, string(key)+".wav"))
	if err != nil {
		return nil, fmt.Errorf("sounds: default prompt %s/%s: %w", lang, key, gate.ErrNotFound)
	}
	return b, nil
}

// GatesDir is the sub-directory of gate.DefaultSoundDir that holds the
// prompts uploaded for one gate: vipgate/gates/<gateID>/<key>.
const GatesDir = "gates"

// Name returns the sound name the call flow plays for key at the gate
// gateID, relative to Asterisk's sounds directory and without extension;
// Asterisk picks the "<lang>/" directory from the channel's language.
//
// With hasUpload true and a gate ID it is the gate's own upload,
// "vipgate/gates/<gateID>/<key>"; otherwise it is the shared name
// "vipgate/<key>", which holds the default prompt or, if one was uploaded
// for every gate (PromptFile.GateID ""), that upload. hasUpload must say
// whether the gate has an upload for key in the language the call plays
// in, because Install writes a gate's uploads only into their own language
// directory.
func Name(gateID string, key gate.PromptKey, hasUpload bool) string {
	if hasUpload && gateID != "" {
		return gate.DefaultSoundDir + "/" + GatesDir + "/" + gateID + "/" + string(key)
	}
	return gate.DefaultSoundDir + "/" + string(key)
}

// langRE matches Asterisk language names: "en", "de", "en_GB", "pt-BR".
var langRE = regexp.MustCompile(`^[a-z]{2,3}([_-][A-Za-z0-9]{2,8})?$`)

// ValidLang reports whether s is a language name that is safe to use as a
// directory name ("en", "de", "en_GB").
func ValidLang(s string) bool { return langRE.MatchString(s) }

// validKey reports whether k is one of gate.PromptKeys.
func validKey(k gate.PromptKey) bool { return slices.Contains(gate.PromptKeys, k) }

// relPath returns the path of a prompt relative to Asterisk's sounds
// directory, with the ".wav" extension: "<lang>/vipgate/<key>.wav" or
// "<lang>/vipgate/gates/<gateID>/<key>.wav".
func relPath(gateID, lang string, key gate.PromptKey) string {
	return lang + "/" + Name(gateID, key, gateID != "") + ".wav"
}

// checkPrompt validates the names of an uploaded prompt so that they are
// safe to use in a path.
func checkPrompt(p *gate.PromptFile) error {
	switch {
	case p == nil:
		return fmt.Errorf("nil prompt: %w", gate.ErrInvalid)
	case p.GateID != "" && !gate.ValidID(p.GateID):
		return &gate.ValidationError{Field: "gate_id", Problem: fmt.Sprintf("invalid gate ID %q", p.GateID)}
	case !ValidLang(p.Lang):
		return &gate.ValidationError{Field: "lang", Problem: fmt.Sprintf("invalid language %q (want e.g. en, de, en_GB)", p.Lang)}
	case !validKey(p.Key):
		return &gate.ValidationError{Field: "key", Problem: fmt.Sprintf("unknown prompt key %q", p.Key)}
	}
	return nil
}
