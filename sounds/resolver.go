package sounds

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/vipgate/vipgate/gate"
)

// Resolver chooses the sound the call flow plays for a prompt by looking
// at the files Install wrote into an Asterisk sounds directory, so that a
// call never asks Asterisk for a file that is not there (a missing prompt
// fails an ARI playback, and in FastAGI it costs a probe and makes
// Asterisk end the AGI with AGISTATUS=FAILURE).
// Its Prompt method fits gate.FlowConfig.Prompt. It is safe for concurrent
// use; every lookup is one or two os.Stat calls.
type Resolver struct {
	dir string
}

// NewResolver returns a Resolver for the sounds directory dir (the --dir
// of "vipgate sounds install", read-only access is enough). With dir ""
// it knows of no uploads and gives the built-in names, like gate.Prompt.
func NewResolver(dir string) *Resolver { return &Resolver{dir: dir} }

// Prompt returns the prompt for key at gate g in language lang ("" means
// the gate's language, else "en"):
//
//  1. a sound name in g.Prompts is played as it is;
//  2. else the gate's own upload, Name(g.ID, key, true), if its file exists
//     for lang or lang without its dialect ("de" for "de_AT");
//  3. else the shared name Name(g.ID, key, false), "vipgate/<key>": an
//     upload for every gate or the built-in prompt. The welcome prompt has
//     no built-in file; without an upload its Name is "" (nothing to play).
//
// The returned Lang is lang as given (or the gate's language), so that
// Asterisk's own language fallback applies as usual.
func (r *Resolver) Prompt(g *gate.Gate, key gate.PromptKey, lang string) gate.Prompt {
	if lang == "" {
		lang = g.Language
	}
	p := gate.Prompt{Key: key, Lang: lang}
	if n := g.Prompts[key]; n != "" {
		p.Name = n
		return p
	}
	if r.exists(g.ID, lang, key) {
		p.Name = Name(g.ID, key, true)
		return p
	}
	if HasDefault(key) || r.exists("", lang, key) {
		p.Name = Name(g.ID, key, false)
	}
	return p
}

// exists reports whether the file for (gateID, lang, key) is installed,
// in lang or in lang without its dialect; lang "" means "en".
func (r *Resolver) exists(gateID, lang string, key gate.PromptKey) bool {
	if r == nil || r.dir == "" || (gateID != "" && !gate.ValidID(gateID)) || !validKey(key) {
		return false
	}
	if lang == "" {
		lang = "en"
	}
	langs := []string{lang}
	if i := strings.IndexAny(lang, "_-"); i > 0 {
		langs = append(langs, lang[:i])
	}
	for _, l := range langs {
		if !ValidLang(l) {
			continue
		}
		fi, err := os.Stat(filepath.Join(r.dir, filepath.FromSlash(relPath(gateID, l, key))))
		if err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}
