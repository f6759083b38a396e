package sounds_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/sounds"
)

// tree returns the files under dir as slash paths relative to dir, sorted,
// and fails on any file that is not mode 0644 or directory not 0755.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			if p != dir && fi.Mode().Perm() != 0o755 {
				t.Errorf("directory %s has mode %v, want 0755", rel, fi.Mode().Perm())
			}
			return nil
		}
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("file %s has mode %v, want 0644", rel, fi.Mode().Perm())
		}
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	return files
}

// defaultTree lists the files Install writes with no uploads.
func defaultTree() []string {
	var files []string
	for _, lang := range sounds.Languages() {
		for _, k := range defaultKeys() {
			files = append(files, lang+"/vipgate/"+string(k)+".wav")
		}
	}
	slices.Sort(files)
	return files
}

// tone16k is a 16 kHz upload of n samples; Install stores it at 8 kHz.
func tone16k(n int) []byte { return sounds.EncodeWAV(sine(440, 16000, n, 8000), 16000) }

func TestInstall(t *testing.T) {
	up8k := sounds.EncodeWAV(sine(440, 8000, 8000, 8000), 8000)
	tests := []struct {
		name     string
		uploaded []*gate.PromptFile
		// extra files beyond the defaults, and files whose content must
		// be the given upload (at 8 kHz) instead of the default.
		extra    []string
		replaced map[string][]byte
	}{
		{name: "defaults only"},
		{
			name: "gate uploads land in the gate directory",
			uploaded: []*gate.PromptFile{
				{GateID: "hotline", Lang: "en", Key: gate.PromptWelcome, Data: up8k},
				{GateID: "hotline", Lang: "de", Key: gate.PromptAskPIN, Data: tone16k(16000)},
			},
			extra: []string{"de/vipgate/gates/hotline/ask-pin.wav", "en/vipgate/gates/hotline/welcome.wav"},
			replaced: map[string][]byte{
				"en/vipgate/gates/hotline/welcome.wav": up8k,
			},
		},
		{
			name: "global upload replaces the default",
			uploaded: []*gate.PromptFile{
				{Lang: "en", Key: gate.PromptAskPIN, Data: up8k},
			},
			replaced: map[string][]byte{"en/vipgate/ask-pin.wav": up8k},
		},
		{
			name: "upload in a language without defaults",
			uploaded: []*gate.PromptFile{
				{Lang: "fr", Key: gate.PromptRejected, Data: up8k},
				{GateID: "sales_2", Lang: "en_GB", Key: gate.PromptConnecting, Data: up8k},
			},
			extra:    []string{"en_GB/vipgate/gates/sales_2/connecting.wav", "fr/vipgate/rejected.wav"},
			replaced: map[string][]byte{"fr/vipgate/rejected.wav": up8k, "en_GB/vipgate/gates/sales_2/connecting.wav": up8k},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			written, err := sounds.Install(context.Background(), dir, tt.uploaded)
			if err != nil {
				t.Fatalf("Install: %v", err)
			}
			want := slices.Sorted(slices.Values(append(defaultTree(), tt.extra...)))
			got := tree(t, dir)
			if !slices.Equal(got, want) {
				t.Fatalf("tree after Install:\n got %v\nwant %v", got, want)
			}
			var rel []string
			for _, w := range written {
				r, err := filepath.Rel(dir, w)
				if err != nil {
					t.Fatal(err)
				}
				rel = append(rel, filepath.ToSlash(r))
			}
			if !slices.Equal(rel, want) {
				t.Errorf("written = %v, want %v", rel, want)
			}
			for _, p := range got {
				b, err := os.ReadFile(filepath.Join(dir, p))
				if err != nil {
					t.Fatal(err)
				}
				info, err := sounds.ParseWAV(b)
				if err != nil || info.SampleRate != 8000 || info.Channels != 1 || info.BitsPerSample != 16 {
					t.Errorf("%s: %+v, %v; want 8 kHz mono 16-bit", p, info, err)
				}
				if up, ok := tt.replaced[p]; ok && string(b) != string(up) {
					t.Errorf("%s does not hold the upload", p)
				}
				lang, rest, _ := strings.Cut(p, "/")
				key := gate.PromptKey(strings.TrimSuffix(strings.TrimPrefix(rest, "vipgate/"), ".wav"))
				if _, ok := tt.replaced[p]; !ok && sounds.HasDefault(key) {
					if def, err := sounds.DefaultFile(lang, key); err == nil && string(b) != string(def) {
						t.Errorf("%s differs from the default", p)
					}
				}
			}
			// A second run finds everything in place and writes nothing.
			again, err := sounds.Install(context.Background(), dir, tt.uploaded)
			if err != nil || len(again) != 0 {
				t.Errorf("second Install wrote %v, %v; want nothing", again, err)
			}
		})
	}
}

func TestInstallReplacesChangedFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := sounds.Install(context.Background(), dir, nil); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, "de", "vipgate", "rejected.wav")
	if err := os.WriteFile(stale, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	written, err := sounds.Install(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(written, []string{stale}) {
		t.Errorf("written = %v, want only %s", written, stale)
	}
	tree(t, dir) // checks the mode is 0644 again
	if ents, _ := os.ReadDir(filepath.Dir(stale)); len(ents) != len(defaultKeys()) {
		t.Errorf("%d files in %s, want %d (a temporary file left behind?)", len(ents), filepath.Dir(stale), len(defaultKeys()))
	}
}

func TestInstallErrors(t *testing.T) {
	good := sounds.EncodeWAV(sine(440, 8000, 800, 8000), 8000)
	stereo := wavSpec{format: 1, channels: 2, rate: 44100, bits: 16, samples: 100}.build()
	tests := []struct {
		name     string
		dir      string
		uploaded []*gate.PromptFile
		wantErr  string
	}{
		{"no dir", "", nil, "no sounds directory"},
		{"traversal in gate ID", "", []*gate.PromptFile{{GateID: "../etc", Lang: "en", Key: gate.PromptAskPIN, Data: good}}, "invalid gate ID"},
		{"traversal in lang", "", []*gate.PromptFile{{Lang: "../../tmp", Key: gate.PromptAskPIN, Data: good}}, "invalid language"},
		{"unknown key", "", []*gate.PromptFile{{Lang: "en", Key: "../x", Data: good}}, "unknown prompt key"},
		{"nil prompt", "", []*gate.PromptFile{nil}, "nil prompt"},
		{"wrong format", "", []*gate.PromptFile{{GateID: "hotline", Lang: "en", Key: gate.PromptAskPIN, Data: stereo}}, "got 44100 Hz, 2 channels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.dir
			if tt.name != "no dir" {
				dir = t.TempDir()
			}
			written, err := sounds.Install(context.Background(), dir, tt.uploaded)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Install error = %v, want %q", err, tt.wantErr)
			}
			if len(written) != 0 {
				t.Errorf("Install wrote %v before failing", written)
			}
			if dir != "" {
				if files := tree(t, dir); len(files) != 0 {
					t.Errorf("files written despite the error: %v", files)
				}
			}
		})
	}
}

func TestInstallCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := sounds.Install(ctx, t.TempDir(), nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Install with a cancelled context: %v, want context.Canceled", err)
	}
}
