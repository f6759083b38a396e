package sounds_test

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/sounds"
)

// defaultKeys returns the keys of gate.PromptKeys that have defaults.
func defaultKeys() []gate.PromptKey {
	var keys []gate.PromptKey
	for _, k := range gate.PromptKeys {
		if k != gate.PromptWelcome {
			keys = append(keys, k)
		}
	}
	return keys
}

func TestLanguages(t *testing.T) {
	langs := sounds.Languages()
	for _, want := range []string{"de", "en"} {
		if !slices.Contains(langs, want) {
			t.Errorf("Languages() = %v, missing %q", langs, want)
		}
	}
	if !slices.IsSorted(langs) {
		t.Errorf("Languages() = %v, not sorted", langs)
	}
}

func TestDefaultPrompts(t *testing.T) {
	for _, lang := range sounds.Languages() {
		for _, key := range defaultKeys() {
			t.Run(lang+"/"+string(key), func(t *testing.T) {
				b, err := fs.ReadFile(sounds.Default(), lang+"/"+string(key)+".wav")
				if err != nil {
					t.Fatalf("default prompt missing: %v", err)
				}
				info, err := sounds.ParseWAV(b)
				if err != nil {
					t.Fatal(err)
				}
				if info.SampleRate != 8000 || info.Channels != 1 || info.BitsPerSample != 16 || info.Format != sounds.FormatPCM {
					t.Errorf("format = %d Hz, %d channels, %d-bit, format %d; want 8000 Hz mono 16-bit PCM",
						info.SampleRate, info.Channels, info.BitsPerSample, info.Format)
				}
				if info.Duration < 500*time.Millisecond || info.Duration > 10*time.Second {
					t.Errorf("duration = %v, want 0.5s..10s", info.Duration)
				}
				same, err := sounds.DefaultFile(lang, key)
				if err != nil || string(same) != string(b) {
					t.Errorf("DefaultFile(%q, %q) differs from Default(): %v", lang, key, err)
				}
			})
		}
	}
	// The embedded tree holds nothing else.
	var extra []string
	err := fs.WalkDir(sounds.Default(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		lang, file, _ := strings.Cut(p, "/")
		key := gate.PromptKey(strings.TrimSuffix(file, ".wav"))
		if !slices.Contains(sounds.Languages(), lang) || !slices.Contains(defaultKeys(), key) || !strings.HasSuffix(file, ".wav") {
			extra = append(extra, p)
		}
		return nil
	})
	if err != nil || len(extra) > 0 {
		t.Errorf("unexpected embedded files %v (walk error %v)", extra, err)
	}
}

func TestDefaultFileUnknown(t *testing.T) {
	tests := []struct {
		lang string
		key  gate.PromptKey
	}{
		{"en", gate.PromptWelcome},
		{"fr", gate.PromptAskPIN},
		{"../en", gate.PromptAskPIN},
		{"en", "ask-pin/../../x"},
	}
	for _, tt := range tests {
		if _, err := sounds.DefaultFile(tt.lang, tt.key); err == nil {
			t.Errorf("DefaultFile(%q, %q) succeeded, want ErrNotFound", tt.lang, tt.key)
		}
	}
}

// TestTexts checks that generate.sh's texts cover every prompt with a
// default in every language, and nothing else.
func TestTexts(t *testing.T) {
	paths, err := filepath.Glob("texts/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	var langs []string
	for _, p := range paths {
		lang := strings.TrimSuffix(filepath.Base(p), ".txt")
		langs = append(langs, lang)
		t.Run(lang, func(t *testing.T) {
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			seen := map[gate.PromptKey]bool{}
			sc := bufio.NewScanner(f)
			for n := 1; sc.Scan(); n++ {
				line := sc.Text()
				if line == "" || strings.HasPrefix(line, "#") {
					continue
				}
				fields := strings.Split(line, "\t")
				if len(fields) < 2 || len(fields) > 3 || strings.TrimSpace(fields[1]) == "" {
					t.Errorf("line %d: want key<TAB>text[<TAB>spoken], got %q", n, line)
					continue
				}
				key := gate.PromptKey(fields[0])
				if !sounds.HasDefault(key) {
					t.Errorf("line %d: %q is not a prompt key with a default", n, key)
				}
				if seen[key] {
					t.Errorf("line %d: key %q twice", n, key)
				}
				seen[key] = true
			}
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
			for _, k := range defaultKeys() {
				if !seen[k] {
					t.Errorf("no text for %q", k)
				}
			}
		})
	}
	if !slices.Equal(langs, sounds.Languages()) {
		t.Errorf("texts for %v, embedded prompts for %v", langs, sounds.Languages())
	}
	if fi, err := os.Stat("generate.sh"); err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Errorf("generate.sh missing or not executable: %v", err)
	}
}

func TestName(t *testing.T) {
	tests := []struct {
		gateID    string
		key       gate.PromptKey
		hasUpload bool
		want      string
	}{
		{"hotline", gate.PromptWelcome, true, "vipgate/gates/hotline/welcome"},
		{"hotline", gate.PromptAskPIN, false, "vipgate/ask-pin"},
		{"", gate.PromptAskPIN, true, "vipgate/ask-pin"},
		{"", gate.PromptWrongPIN, false, "vipgate/wrong-pin"},
		{"after-hours", gate.PromptLockedOut, true, "vipgate/gates/after-hours/locked-out"},
	}
	for _, tt := range tests {
		if got := sounds.Name(tt.gateID, tt.key, tt.hasUpload); got != tt.want {
			t.Errorf("Name(%q, %q, %v) = %q, want %q", tt.gateID, tt.key, tt.hasUpload, got, tt.want)
		}
	}
}

func TestHasDefault(t *testing.T) {
	for _, k := range gate.PromptKeys {
		if got, want := sounds.HasDefault(k), k != gate.PromptWelcome; got != want {
			t.Errorf("HasDefault(%q) = %v, want %v", k, got, want)
		}
	}
	if sounds.HasDefault("nonsense") {
		t.Error(`HasDefault("nonsense") = true`)
	}
}
