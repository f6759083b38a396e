package e2e

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/internal/pgtest"
)

// EnvPostgres names the PostgreSQL database the real-binary tests run a
// second time against (each run in a fresh schema of its own).
const EnvPostgres = pgtest.Env

var build struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// BuildVipgate builds the vipgate binary (`go build ./cmd/vipgate`) once
// per test process into a temporary directory and returns its path.
// RemoveBuild deletes that directory (call it from TestMain).
func BuildVipgate(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		build.dir, build.err = os.MkdirTemp("", "vg-bin-")
		if build.err != nil {
			return
		}
		goBin, err := exec.LookPath("go")
		if err != nil {
			goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		build.bin = filepath.Join(build.dir, "vipgate")
		out, err := exec.Command(goBin, "build", "-o", build.bin, "github.com/vipgate/vipgate/cmd/vipgate").CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("go build ./cmd/vipgate: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.bin
}

// RemoveBuild removes the directory BuildVipgate built into.
func RemoveBuild() {
	if build.dir != "" {
		_ = os.RemoveAll(build.dir)
	}
}

// FreshPostgres creates an empty schema in the database dsn names, drops
// it when the test ends, and returns a DSN whose search_path selects it.
func FreshPostgres(t testing.TB, dsn string) string {
	t.Helper()
	return pgtest.Schema(t, dsn, "vipgate_e2e_")
}

// Serve is the real `vipgate` binary, set up as an administrator would:
// its state directory (STATE_DIRECTORY, as under systemd) and a HOME of
// its own, shared by every command run through it, so that the CLI and
// `vipgate serve` use the same database and key file.
type Serve struct {
	Bin string
	// Dir is the state directory (database and key file for SQLite, the
	// key file for PostgreSQL); Home is HOME for every command.
	Dir, Home string
	// DB is VIPGATE_DB: empty for SQLite in Dir, else a PostgreSQL DSN.
	DB string
	// AdminURL is the admin API root (http://127.0.0.1:PORT), AGIAddr the
	// FastAGI listener (127.0.0.1:PORT).
	AdminURL, AGIAddr string
	// Token is an admin token (set by CreateToken).
	Token string
	// Log is serve's output; CLILog every command's.
	Log, CLILog string
	// LogLevel is VIPGATE_LOG_LEVEL for every command; "" means debug.
	LogLevel string

	ast    *Asterisk
	cmd    *exec.Cmd
	exited chan struct{}
	t      testing.TB
}

// NewServe prepares bin to serve a: directories, free ports, the ARI
// password file. db is VIPGATE_DB (empty: SQLite in the state
// directory). A nil a serves FastAGI and the admin API only, without
// ARI. Nothing runs until Run or Start.
func NewServe(t testing.TB, bin string, a *Asterisk, db string) *Serve {
	t.Helper()
	root, err := os.MkdirTemp("", "vg-serve-")
	if err != nil {
		t.Fatal(err)
	}
	s := &Serve{Bin: bin, Dir: filepath.Join(root, "state"), Home: filepath.Join(root, "home"), DB: db, ast: a, t: t,
		Log: filepath.Join(root, "serve.log"), CLILog: filepath.Join(root, "cli.log")}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			s.dumpLog()
		}
		_ = os.RemoveAll(root)
	})
	for _, d := range []string{s.Dir, s.Home} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	httpPort, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	agiPort, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	s.AdminURL = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	s.AGIAddr = fmt.Sprintf("127.0.0.1:%d", agiPort)
	if a == nil {
		return s
	}
	if err := os.WriteFile(filepath.Join(root, "ari-password"), []byte(a.Password.Reveal()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// env is the environment of every command: the test process's without
// any VIPGATE_* or state-directory variable, plus the Serve's own.
func (s *Serve) env() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "VIPGATE_") || k == "STATE_DIRECTORY" || k == "HOME" || k == "XDG_STATE_HOME" {
			continue
		}
		out = append(out, kv)
	}
	out = append(out, "STATE_DIRECTORY="+s.Dir, "HOME="+s.Home, "VIPGATE_LOG_LEVEL="+cmp.Or(s.LogLevel, "debug"))
	if s.DB != "" {
		out = append(out, "VIPGATE_DB="+s.DB)
	}
	return out
}

// Run runs `vipgate args...` as a command-line user would (same state
// directory and database as serve) and returns its standard output. Both
// output streams are appended to CLILog.
func (s *Serve) Run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.Bin, args...)
	cmd.Env = s.env()
	cmd.Dir = s.Home
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if f, ferr := os.OpenFile(s.CLILog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); ferr == nil {
		fmt.Fprintf(f, "$ vipgate %s\n%s%s", strings.Join(args, " "), stdout.String(), stderr.String())
		_ = f.Close()
	}
	if err != nil {
		return stdout.String(), fmt.Errorf("vipgate %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// ImportGate writes a gate file (YAML) named name.yaml in the Serve's
// home and imports it with `vipgate gates import`, as an administrator
// would.
func (s *Serve) ImportGate(name, yaml string) error {
	file := filepath.Join(s.Home, name+".yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		return err
	}
	_, err := s.Run("gates", "import", file)
	return err
}

// CreateToken runs `vipgate tokens create --role admin` and keeps the
// token it prints for API.
func (s *Serve) CreateToken() error {
	out, err := s.Run("tokens", "create", "--role", "admin", "--name", "e2e")
	if err != nil {
		return err
	}
	s.Token = strings.TrimSpace(out)
	if !strings.HasPrefix(s.Token, "vg_") {
		return fmt.Errorf("tokens create printed %q, want a vg_ token", s.Token)
	}
	return nil
}

// Start runs `vipgate serve` with ARI (the Asterisk's URL and user, the
// password from a file), FastAGI and the admin API on their free ports,
// the Asterisk's sounds directory and log level debug, and waits until
// /readyz answers 200 (ARI connected, FastAGI listening). The process is
// stopped (SIGTERM) when the test ends.
func (s *Serve) Start(extra ...string) error {
	logf, err := os.OpenFile(s.Log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	args := []string{"serve", "--http", strings.TrimPrefix(s.AdminURL, "http://"), "--agi", s.AGIAddr, "--drain", "2s"}
	if s.ast != nil {
		args = append(args, "--ari-url", s.ast.ARIURL, "--ari-user", s.ast.User,
			"--ari-password-file", filepath.Join(filepath.Dir(s.Dir), "ari-password"), "--sounds-dir", s.ast.SoundsDir())
	}
	args = append(args, extra...)
	s.cmd = exec.Command(s.Bin, args...)
	s.cmd.Env = s.env()
	s.cmd.Dir = s.Home
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start vipgate serve: %w", err)
	}
	s.exited = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body, err := s.Get("/readyz")
		if err == nil && code == http.StatusOK {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("vipgate serve not ready within 30s: %d %s %v", code, body, err)
		}
		select {
		case <-s.exited:
			return errors.New("vipgate serve exited during start-up (see its log)")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Pid returns the process id of the running `vipgate serve` (0 if none).
func (s *Serve) Pid() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Stop sends SIGTERM to serve (SIGKILL after 15s) and waits for it.
func (s *Serve) Stop() {
	if s.exited == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.exited
	}
}

// Kill sends SIGKILL to serve (as kill -9 would: no drain, no flush)
// and waits for it; Start may run it again.
func (s *Serve) Kill() {
	if s.exited == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.exited
	s.exited = nil
}

func (s *Serve) dumpLog() {
	b, err := os.ReadFile(s.Log)
	if err != nil {
		return
	}
	if len(b) > 30000 {
		b = b[len(b)-30000:]
	}
	s.t.Logf("--- vipgate serve log (tail) ---\n%s", b)
}

// Get requests path from the admin listener without a token.
func (s *Serve) Get(path string) (int, string, error) {
	return s.do(http.MethodGet, path, "", nil, false)
}

// API sends a request to the admin API with the admin token; body is sent
// with Content-Type ctype.
func (s *Serve) API(method, path, ctype string, body []byte) (int, string, error) {
	return s.do(method, path, ctype, body, true)
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

func (s *Serve) do(method, path, ctype string, body []byte, auth bool) (int, string, error) {
	req, err := http.NewRequest(method, s.AdminURL+path, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+s.Token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// Calls returns every call-log row through GET /api/v1/calls, newest
// first.
func (s *Serve) Calls() ([]*gate.CallRecord, error) {
	var all []*gate.CallRecord
	for off := 0; ; {
		code, body, err := s.API(http.MethodGet, "/api/v1/calls?limit=1000&offset="+strconv.Itoa(off), "", nil)
		if err != nil {
			return nil, err
		}
		if code != http.StatusOK {
			return nil, fmt.Errorf("GET /api/v1/calls: %d %s", code, body)
		}
		var page struct {
			Items []*gate.CallRecord `json:"items"`
			Total int                `json:"total"`
		}
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		off += len(page.Items)
		if len(page.Items) == 0 || off >= page.Total {
			return all, nil
		}
	}
}

// WaitCalls waits until the call log has a row from after since for each
// of the raw caller numbers and returns those rows by caller (the newest
// row of each).
func (s *Serve) WaitCalls(ctx context.Context, since time.Time, callers []string) (map[string]*gate.CallRecord, error) {
	for {
		rows, err := s.Calls()
		got := map[string]*gate.CallRecord{}
		if err == nil {
			for _, r := range rows {
				if _, ok := got[r.CallerRaw]; !ok && r.At.After(since) {
					got[r.CallerRaw] = r
				}
			}
			missing := 0
			for _, c := range callers {
				if got[c] == nil {
					missing++
				}
			}
			if missing == 0 {
				return got, nil
			}
			err = fmt.Errorf("%d of %d calls have no call-log row", missing, len(callers))
		}
		select {
		case <-ctx.Done():
			return got, fmt.Errorf("%w: %w", err, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Metrics returns the samples of serve's /metrics whose names are given,
// by name (for a name with labels, the sum of its series).
func (s *Serve) Metrics(names ...string) (map[string]float64, string, error) {
	code, body, err := s.Get("/metrics")
	if err != nil {
		return nil, "", err
	}
	if code != http.StatusOK {
		return nil, body, fmt.Errorf("GET /metrics: %d", code)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		l := sc.Text()
		if l == "" || l[0] == '#' {
			continue
		}
		name, rest, ok := strings.Cut(l, " ")
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name = name[:i]
			if j := strings.LastIndexByte(l, '}'); j >= 0 {
				rest, ok = strings.TrimSpace(l[j+1:]), true
			}
		}
		if !ok || !want[name] {
			continue
		}
		v, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
		if err != nil {
			return nil, body, fmt.Errorf("metric %s: %w", name, err)
		}
		out[name] += v
	}
	return out, body, sc.Err()
}

// Channels returns the ids of the channels Asterisk has now (ARI GET
// /channels).
func (a *Asterisk) Channels(ctx context.Context) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.ARIURL+"/channels", nil)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(a.User, a.Password.Reveal())
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /channels: %s", resp.Status)
	}
	var chans []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&chans); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(chans))
	for _, c := range chans {
		ids = append(ids, c.ID+" "+c.Name)
	}
	return ids, nil
}

// LogFile returns the contents of one of Asterisk's log files under
// log/ ("messages", or "full" when the test's logger.conf writes it).
func (a *Asterisk) LogFile(name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(a.Dir, "log", name))
	return string(b), err
}

// WaitLogMatch waits until Asterisk's log file (log/messages) has a line
// that re matches.
func (a *Asterisk) WaitLogMatch(ctx context.Context, re *regexp.Regexp) error {
	for {
		b, err := os.ReadFile(filepath.Join(a.Dir, "log", "messages"))
		if err == nil && re.Match(b) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("e2e: no log line matching %s: %w", re, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// AllResults returns every result line so far, by call id, in order.
func (a *Asterisk) AllResults() (map[string][]Result, error) {
	b, err := os.ReadFile(a.Results)
	if err != nil {
		return nil, err
	}
	out := map[string][]Result{}
	for l := range strings.SplitSeq(string(b), "\n") {
		parts := strings.Fields(l)
		if len(parts) < 2 {
			continue
		}
		r := Result{Kind: parts[1], Fields: map[string]string{}, Line: l}
		for _, p := range parts[2:] {
			if k, v, ok := strings.Cut(p, "="); ok {
				r.Fields[k] = v
			} else if r.Arg == "" {
				r.Arg = p
			}
		}
		out[parts[0]] = append(out[parts[0]], r)
	}
	return out, nil
}
