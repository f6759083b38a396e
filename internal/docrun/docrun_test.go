package docrun_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// wantNotRun is how many shell blocks of each file are marked
// <!-- not run: ... -->. A new marker fails the test until it is added
// here, so the blocks nobody runs stay few and deliberate.
var wantNotRun = map[string]int{
	"README.md":          1, // starts the long-running service and the whole test suite
	"docs/asterisk.md":   1, // installs into /usr/local/bin and needs a running Asterisk
	"docs/console.md":    1, // installs Debian packages and runs the browser test, which the suite runs itself
	"docs/freepbx.md":    1, // needs a FreePBX host
	"docs/operations.md": 1, // systemd installation
	"docs/testing.md":    1, // the whole test suite, which runs this test
}

// rewrites turn the host-specific parts of an example into the test's own:
// {http} is the admin listener of the test's "vipgate serve", {sounds} a
// temporary directory standing for Asterisk's sounds directory.
var rewrites = []struct{ from, to string }{
	{"127.0.0.1:8080", "{http}"},
	{"/var/lib/asterisk/sounds", "{sounds}"},
}

// mayFail marks a command whose HTTP error answer is part of the example
// (a 404 for a caller that is not locked out): "# may fail: why". Only
// curl's HTTP-error exit status (22) is forgiven; a refused connection or
// a command that is not found still fails the block.
var mayFail = regexp.MustCompile(`^(.*\S)\s+#\s*may fail:.*$`)

var notRun = regexp.MustCompile(`^<!--\s*not run:(.*)-->\s*$`)

// block is one shell example.
type block struct {
	file   string   // relative to the module root
	line   int      // the line of the opening fence
	lines  []string // the commands
	starts []int    // the file line of each entry of lines
	notRun string   // the reason of a <!-- not run: ... --> marker, or ""
}

func (b block) String() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

var shellLangs = []string{"sh", "bash", "console"}

// parse returns the shell blocks of a Markdown file. A marker that does
// not stand right before a shell block, or gives no reason, is an error.
func parse(file, text string) ([]block, error) {
	var (
		out     []block
		cur     *block
		fence   bool // inside a fence that is not a shell block
		lang    string
		pending string // reason of a marker waiting for its block
		pendAt  int
	)
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		n := i + 1
		trimmed := strings.TrimSpace(l)
		switch {
		case cur != nil:
			if trimmed == "```" {
				out = append(out, *cur)
				cur = nil
				continue
			}
			if lang == "console" {
				// Commands start with "$ "; continuation lines follow a
				// command that ends in a backslash; the rest is output.
				cont := len(cur.lines) > 0 && strings.HasSuffix(cur.lines[len(cur.lines)-1], `\`)
				switch {
				case strings.HasPrefix(l, "$ "):
					l = strings.TrimPrefix(l, "$ ")
				case !cont:
					continue
				}
			}
			cur.lines = append(cur.lines, l)
			cur.starts = append(cur.starts, n)
			continue
		case fence:
			if strings.HasPrefix(trimmed, "```") {
				fence = false
			}
			continue
		case trimmed == "":
			continue
		}
		if m := notRun.FindStringSubmatch(trimmed); m != nil {
			reason := strings.TrimSpace(m[1])
			if reason == "" {
				return nil, fmt.Errorf("%s:%d: a not-run marker must give its reason", file, n)
			}
			pending, pendAt = reason, n
			continue
		}
		if strings.HasPrefix(trimmed, "```") {
			lang = strings.Fields(strings.TrimPrefix(trimmed, "```") + " x")[0]
			if slices.Contains(shellLangs, lang) {
				cur = &block{file: file, line: n, notRun: pending}
				pending = ""
				continue
			}
			fence = true
		}
		if pending != "" {
			return nil, fmt.Errorf("%s:%d: the not-run marker is not followed by a shell block", file, pendAt)
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("%s:%d: the block is not closed", file, cur.line)
	}
	if pending != "" {
		return nil, fmt.Errorf("%s:%d: the not-run marker is not followed by a shell block", file, pendAt)
	}
	return out, nil
}

func TestParse(t *testing.T) {
	text := "# T\n\n```sh\necho a\n```\n\n<!-- not run: needs systemd -->\n```bash\nsystemctl start x\n```\n" +
		"```\nplain\n```\n```console\n$ echo b \\\n  c\noutput\n$ echo d\n```\n"
	got, err := parse("x.md", text)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("blocks %+v", got)
	}
	if got[0].line != 3 || got[0].notRun != "" || !slices.Equal(got[0].lines, []string{"echo a"}) || got[0].starts[0] != 4 {
		t.Errorf("sh block %+v", got[0])
	}
	if got[1].notRun != "needs systemd" {
		t.Errorf("not-run block %+v", got[1])
	}
	if !slices.Equal(got[2].lines, []string{`echo b \`, "  c", "echo d"}) || !slices.Equal(got[2].starts, []int{15, 16, 18}) {
		t.Errorf("console block %+v", got[2])
	}
	for _, bad := range []string{
		"<!-- not run: -->\n```sh\necho\n```\n",
		"<!-- not run: why -->\nsome text\n```sh\necho\n```\n",
		"<!-- not run: why -->\n```yaml\na: 1\n```\n",
		"```sh\necho\n",
	} {
		if _, err := parse("x.md", bad); err == nil {
			t.Errorf("no error for %q", bad)
		}
	}
}

// script is the bash program that runs blocks in order in one shell, so
// that a variable one block sets (the token) serves the next. A failing
// command stops it with its block and file line on stderr.
func script(blocks []block, vars map[string]string) string {
	var b strings.Builder
	n := 0
	emit := func(s string) {
		b.WriteString(s)
		b.WriteByte('\n')
		n++
	}
	emit("set -e -o pipefail")
	emit(`trap 'echo "docrun: failed in the block at $__block, at $__file:$(( __first + LINENO - __at )): $BASH_COMMAND" >&2' ERR`)
	for _, bl := range blocks {
		if len(bl.lines) == 0 {
			continue
		}
		emit(fmt.Sprintf("__block=%s; __file=%s; __first=%d; __at=%d", bl, bl.file, bl.starts[0], n+2))
		for _, l := range bl.lines {
			for _, r := range rewrites {
				l = strings.ReplaceAll(l, r.from, vars[r.to])
			}
			if m := mayFail.FindStringSubmatch(l); m != nil && !strings.HasSuffix(m[1], `\`) {
				l = m[1] + ` || [ "$?" -eq 22 ]`
			}
			emit(l)
		}
	}
	return b.String()
}

// moduleRoot is the directory of go.mod above the test's directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// docs are the Markdown files whose examples run: README.md and docs/*.md.
func docs(t *testing.T, root string) map[string][]block {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append([]string{filepath.Join(root, "README.md")}, files...)
	out := map[string][]block{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, f)
		rel = filepath.ToSlash(rel)
		bs, err := parse(rel, string(raw))
		if err != nil {
			t.Fatal(err)
		}
		out[rel] = bs
	}
	return out
}

// TestNotRunMarkers keeps the set of blocks that do not run as declared
// in wantNotRun, and lists them.
func TestNotRunMarkers(t *testing.T) {
	got := map[string]int{}
	for file, bs := range docs(t, moduleRoot(t)) {
		for _, b := range bs {
			if b.notRun != "" {
				got[file]++
				t.Logf("not run: %s: %s", b, b.notRun)
			}
		}
	}
	for file, n := range wantNotRun {
		if got[file] != n {
			t.Errorf("%s: %d block(s) marked not run, want %d", file, got[file], n)
		}
	}
	for file, n := range got {
		if _, ok := wantNotRun[file]; !ok {
			t.Errorf("%s: %d block(s) marked not run, want none (or list them in wantNotRun)", file, n)
		}
	}
}

// TestExamplesRun runs every shell example that is not marked, file by
// file in one shell each, README.md first, against one live "vipgate
// serve". Each block runs in a copy of the tree (so "go build -o vipgate"
// and "> calls.csv" write there), with the freshly built vipgate first on
// PATH and curl run with --fail-with-body, so that an HTTP error answer
// fails the block.
func TestExamplesRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds vipgate and runs the documentation's examples; not with -short")
	}
	realCurl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("the examples need curl on PATH")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("the examples need bash on PATH")
	}
	root := moduleRoot(t)
	all := docs(t, root)
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	tree := filepath.Join(tmp, "tree")
	home := filepath.Join(tmp, "home")
	sounds := filepath.Join(tmp, "sounds")
	for _, d := range []string{bin, home, sounds} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyTree(t, root, tree)
	if err := os.WriteFile(filepath.Join(bin, "curl"), []byte("#!/bin/sh\nexec "+realCurl+" --fail-with-body \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := environ(t, bin, home)
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "vipgate"), "./cmd/vipgate")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	startServe(t, filepath.Join(bin, "vipgate"), addr, env, tree)
	vars := map[string]string{"{http}": addr, "{sounds}": sounds}

	files := make([]string, 0, len(all))
	for f := range all {
		files = append(files, f)
	}
	slices.SortFunc(files, func(a, b string) int {
		if (a == "README.md") != (b == "README.md") {
			if a == "README.md" {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	ran := 0
	for _, f := range files {
		var run []block
		for _, b := range all[f] {
			if b.notRun == "" {
				run = append(run, b)
			}
		}
		if len(run) == 0 {
			continue
		}
		ran += len(run)
		t.Run(f, func(t *testing.T) {
			path := filepath.Join(tmp, strings.ReplaceAll(f, "/", "_")+".sh")
			if err := os.WriteFile(path, []byte(script(run, vars)), 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bash, "--noprofile", "--norc", path)
			cmd.Dir = tree
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Errorf("%s: the examples failed (%v):\n%s", f, err, tail(out, 60))
				return
			}
			for _, b := range run {
				t.Logf("ran %s", b)
			}
		})
	}
	if ran == 0 {
		t.Fatal("no shell example found to run")
	}
}

// environ is the examples' environment: the test's own without vipgate
// settings, with a temporary HOME (so the state directory, and with it the
// database and key, is temporary), bin first on PATH, and the Go settings
// resolved beforehand so that "go build" in an example finds the build
// and module caches without a network.
func environ(t *testing.T, bin, home string) []string {
	t.Helper()
	goenv, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH", "GOFLAGS", "GOTOOLCHAIN", "GOPROXY").Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	vals := strings.Split(strings.TrimRight(string(goenv), "\n"), "\n")
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "VIPGATE_") || strings.HasPrefix(k, "XDG_") || strings.HasPrefix(k, "GO") ||
			slices.Contains([]string{"HOME", "PATH", "STATE_DIRECTORY", "CREDENTIALS_DIRECTORY"}, k) {
			continue
		}
		env = append(env, kv)
	}
	for i, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOFLAGS", "GOTOOLCHAIN", "GOPROXY"} {
		if i < len(vals) && vals[i] != "" {
			env = append(env, k+"="+vals[i])
		}
	}
	return append(env, "HOME="+home, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// copyTree copies the module's files (not .git) from src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			raw, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(target, raw, info.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		t.Fatalf("copy the tree: %v", err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServe runs "vipgate serve" with the admin API on addr and no call
// source, waits for /healthz and stops it when the test ends.
func startServe(t *testing.T, vipgate, addr string, env []string, dir string) {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "serve.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close() // the child has its own descriptor
	readLog := func() []byte { b, _ := os.ReadFile(logPath); return b }
	cmd := exec.Command(vipgate, "serve", "--http", addr, "--agi", "off")
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = env, dir, logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("vipgate serve log:\n%s", tail(readLog(), 80))
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-done:
			t.Fatalf("vipgate serve exited: %v\n%s", err, readLog())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("vipgate serve did not answer /healthz on %s:\n%s", addr, readLog())
		}
	}
}

// tail is the last n lines of out.
func tail(out []byte, n int) string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
