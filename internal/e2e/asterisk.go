package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vipgate/vipgate/ari"
	"github.com/vipgate/vipgate/gate"
)

// Environment variables that enable and configure the tests.
const (
	EnvBinary  = "VIPGATE_TEST_ASTERISK"
	EnvModDir  = "VIPGATE_TEST_ASTERISK_MODDIR"
	EnvDataDir = "VIPGATE_TEST_ASTERISK_DATADIR"
	EnvSounds  = "VIPGATE_TEST_ASTERISK_SOUNDS"
)

// Config says which Asterisk to run and what to add to its configuration.
type Config struct {
	// Binary is the asterisk executable.
	Binary string
	// ModDir and DataDir are the installation's module and data
	// directories (DataDir holds documentation/).
	ModDir, DataDir string
	// SoundsDir holds the core prompts per language (SoundsDir/en/...).
	// Missing is fine: only vipgate's own prompts are then available.
	SoundsDir string
	// Dialplan is appended to extensions.conf (contexts of the test).
	Dialplan string
	// Modules are loaded in addition to the ARI set (e.g. "res_agi.so").
	Modules []string
	// Files are extra configuration files, name → content.
	Files map[string]string
	// Prompts are vipgate prompt names ("ask-pin") to create as short tones
	// under sounds/vipgate/; nil means every gate.PromptKeys entry.
	Prompts []string
	// ARIPassword, when set, is the ARI user's password instead of a
	// random one, for a test whose Files define that user themselves.
	ARIPassword ari.Secret
	// HTTPSessionLimit is http.conf's sessionlimit (Asterisk's default,
	// 100, when 0): more than 100 calls at once over ARI need it raised.
	HTTPSessionLimit int
}

// ConfigFromEnv returns the configuration named by the environment, or
// skips the test when VIPGATE_TEST_ASTERISK is unset.
func ConfigFromEnv(t testing.TB) Config {
	t.Helper()
	bin := os.Getenv(EnvBinary)
	if bin == "" {
		t.Skipf("real-Asterisk test skipped: set %s to the asterisk binary (e.g. /opt/asterisk/sbin/asterisk)", EnvBinary)
	}
	prefix := filepath.Dir(filepath.Dir(bin)) // <prefix>/sbin/asterisk
	cfg := Config{
		Binary:    bin,
		ModDir:    filepath.Join(prefix, "lib", "asterisk", "modules"),
		DataDir:   filepath.Join(prefix, "var", "lib", "asterisk"),
		SoundsDir: "/usr/share/asterisk/sounds",
	}
	if v := os.Getenv(EnvModDir); v != "" {
		cfg.ModDir = v
	}
	if v := os.Getenv(EnvDataDir); v != "" {
		cfg.DataDir = v
	}
	if v := os.Getenv(EnvSounds); v != "" {
		cfg.SoundsDir = v
	}
	return cfg
}

// Asterisk is a running Asterisk.
type Asterisk struct {
	// Dir is the temporary root of its configuration and state.
	Dir string
	// ARIURL is the ARI root ("http://127.0.0.1:PORT/ari"); User and
	// Password its ARI user.
	ARIURL   string
	User     string
	Password ari.Secret
	// Client is an ARI client for the test (originate, inspect).
	Client *ari.Client
	// Results is the file the dialplan writes results into.
	Results string

	cfg    Config
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has ended
	t      testing.TB
}

// ariModules are the modules vipgate's ARI transport needs (REFERENCE §6),
// plus what the test dialplan uses.
var ariModules = []string{
	"res_sorcery_config.so", "res_sorcery_memory.so", "res_sorcery_astdb.so",
	"res_http_websocket.so", "res_websocket_client.so", "res_stasis_recording.so", "res_stasis_snoop.so",
	"res_stasis.so", "res_stasis_playback.so", "res_stasis_answer.so",
	"res_ari.so", "res_ari_model.so", "res_ari_events.so", "res_ari_channels.so", "res_ari_playbacks.so",
	"res_ari_applications.so", "res_ari_asterisk.so", "app_stasis.so",
	"app_senddtmf.so", "app_exec.so", "app_userevent.so", "pbx_config.so", "func_logic.so", "func_strings.so", "func_env.so",
	"format_wav.so", "format_pcm.so", "format_gsm.so", "format_sln.so",
	"codec_ulaw.so", "codec_alaw.so", "codec_gsm.so", "codec_resample.so", "res_timing_timerfd.so",
}

// Start writes the configuration, starts Asterisk and waits until ARI
// answers. Asterisk is stopped when the test ends.
func Start(t testing.TB, cfg Config) *Asterisk {
	t.Helper()
	// Unix socket paths are short: do not use t.TempDir (long names).
	dir, err := os.MkdirTemp("", "vg-ast-")
	if err != nil {
		t.Fatal(err)
	}
	a := &Asterisk{Dir: dir, User: "vipgate", Password: ari.Secret(randomHex(12)), cfg: cfg, t: t, Results: filepath.Join(dir, "results.txt")}
	if cfg.ARIPassword != "" {
		a.Password = cfg.ARIPassword
	}
	t.Cleanup(func() {
		a.stop()
		if t.Failed() {
			a.dumpLog()
		}
		_ = os.RemoveAll(dir)
	})
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.write(port); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(a.Results, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	a.ARIURL = fmt.Sprintf("http://127.0.0.1:%d/ari", port)
	logf, err := os.Create(filepath.Join(dir, "stdout.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	a.cmd = exec.Command(cfg.Binary, "-f", "-n", "-C", filepath.Join(dir, "etc", "asterisk.conf"))
	a.cmd.Stdout, a.cmd.Stderr = logf, logf
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := a.cmd.Start(); err != nil {
		t.Fatalf("start asterisk: %v", err)
	}
	a.exited = make(chan struct{})
	go func() { _ = a.cmd.Wait(); close(a.exited) }()
	// Generous: originate answers slowly while Asterisk is busy with
	// hundreds of channels.
	// Idle connections are dropped before Asterisk's own 15 s
	// (session_keep_alive) would close them: a POST on a connection that
	// Asterisk closes at that moment fails with EOF and is not retried.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost, tr.IdleConnTimeout = 64, 10*time.Second
	a.Client, err = ari.NewClient(ari.ClientConfig{BaseURL: a.ARIURL, User: a.User, Password: a.Password, RequestTimeout: 30 * time.Second,
		HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		if _, err := a.Client.Ping(ctx); err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("asterisk did not answer ARI within 60s (see %s)", filepath.Join(dir, "log"))
		}
		select {
		case <-a.exited:
			t.Fatal("asterisk exited during start-up")
		case <-time.After(100 * time.Millisecond):
		}
	}
	return a
}

// stop ends Asterisk (SIGTERM, then SIGKILL after 10s) and waits for it.
func (a *Asterisk) stop() {
	if a.exited == nil {
		return
	}
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-a.cmd.Process.Pid, syscall.SIGKILL)
		<-a.exited
	}
}

func (a *Asterisk) dumpLog() {
	for _, name := range []string{"stdout.log", "log/messages"} {
		b, err := os.ReadFile(filepath.Join(a.Dir, name))
		if err != nil {
			continue
		}
		if len(b) > 20000 {
			b = b[len(b)-20000:]
		}
		a.t.Logf("--- asterisk %s (tail) ---\n%s", name, b)
	}
}

// write lays out the configuration under a.Dir.
func (a *Asterisk) write(port int) error {
	d := a.Dir
	data := filepath.Join(d, "data")
	for _, sub := range []string{"etc", "run", "log", "spool", "db", "keys", "agi", filepath.Join("data", "sounds", "vipgate")} {
		if err := os.MkdirAll(filepath.Join(d, sub), 0o755); err != nil {
			return err
		}
	}
	// Data: the installation's documentation, our own sounds.
	if err := os.Symlink(filepath.Join(a.cfg.DataDir, "documentation"), filepath.Join(data, "documentation")); err != nil {
		return err
	}
	if err := a.writeSounds(filepath.Join(data, "sounds")); err != nil {
		return err
	}
	files := map[string]string{
		"asterisk.conf": fmt.Sprintf(`[directories]
astetcdir => %[1]s/etc
astmoddir => %[2]s
astvarlibdir => %[1]s/data
astdbdir => %[1]s/db
astkeydir => %[1]s/keys
astdatadir => %[1]s/data
astagidir => %[1]s/agi
astspooldir => %[1]s/spool
astrundir => %[1]s/run
astlogdir => %[1]s/log
astsbindir => %[3]s

[options]
verbose = 3
debug = 0
nocolor = yes
cache_media_frames = yes
; The test dialplan records results with FILE() writes, which Asterisk
; blocks on channels that ARI has driven unless this is set. Test only.
live_dangerously = yes
`, d, a.cfg.ModDir, filepath.Dir(a.cfg.Binary)),
		"modules.conf": a.modulesConf(),
		"logger.conf":  "[general]\n[logfiles]\nmessages => notice,warning,error,verbose\n",
		"http.conf":    a.httpConf(port),
		"ari.conf":     fmt.Sprintf("[general]\nenabled=yes\n\n[%s]\ntype=user\nread_only=no\npassword=%s\npassword_format=plain\n", a.User, a.Password.Reveal()),
		"extensions.conf": fmt.Sprintf(`[general]
static=yes
writeprotect=yes

[globals]
RESULTS=%s

`, a.Results) + baseDialplan + "\n" + a.cfg.Dialplan,
		"stasis.conf":      "",
		"indications.conf": "[general]\ncountry=us\n[us]\ndescription = United States\nringcadence = 2000,4000\nbusy = 480+620/500,0/500\nring = 440+480/2000,0/4000\n",
	}
	for name, content := range a.cfg.Files {
		files[name] = content
	}
	for name, content := range files {
		mode := os.FileMode(0o644)
		if name == "ari.conf" {
			mode = 0o600
		}
		if err := os.WriteFile(filepath.Join(d, "etc", name), []byte(content), mode); err != nil {
			return err
		}
	}
	return nil
}

func (a *Asterisk) httpConf(port int) string {
	c := fmt.Sprintf("[general]\nenabled=yes\nbindaddr=127.0.0.1\nbindport=%d\n", port)
	if a.cfg.HTTPSessionLimit > 0 {
		c += fmt.Sprintf("sessionlimit=%d\n", a.cfg.HTTPSessionLimit)
	}
	return c
}

func (a *Asterisk) modulesConf() string {
	var b strings.Builder
	b.WriteString("[modules]\nautoload=no\n")
	for _, m := range append(append([]string(nil), ariModules...), a.cfg.Modules...) {
		if _, err := os.Stat(filepath.Join(a.cfg.ModDir, m)); err != nil {
			continue // not built here; Asterisk would only warn
		}
		fmt.Fprintf(&b, "load => %s\n", m)
	}
	return b.String()
}

// writeSounds makes sounds/en (links to the core prompts) and vipgate's
// prompts under sounds/vipgate and sounds/en/vipgate.
func (a *Asterisk) writeSounds(dir string) error {
	en := filepath.Join(dir, "en")
	if err := os.MkdirAll(filepath.Join(en, "vipgate"), 0o755); err != nil {
		return err
	}
	if entries, err := os.ReadDir(filepath.Join(a.cfg.SoundsDir, "en")); err == nil {
		for _, e := range entries {
			if e.Name() == "vipgate" {
				continue
			}
			_ = os.Symlink(filepath.Join(a.cfg.SoundsDir, "en", e.Name()), filepath.Join(en, e.Name()))
		}
	}
	names := a.cfg.Prompts
	if names == nil {
		for _, k := range gate.PromptKeys {
			names = append(names, string(k))
		}
	}
	for _, n := range names {
		for _, base := range []string{filepath.Join(dir, "vipgate"), filepath.Join(en, "vipgate")} {
			if err := WriteTone(filepath.Join(base, n+".wav"), 400*time.Millisecond, 440); err != nil {
				return err
			}
		}
	}
	return nil
}

// baseDialplan is the part of extensions.conf every test gets:
//
//   - [from-external] runs Stasis(vipgate,${EXTEN}) and records where the
//     call went: "continue" after Stasis() (with STASISSTATUS and
//     VIPGATE_RESULT, VIPGATE_LABEL, VIPGATE_PRIORITY and
//     VIPGATE_ACCOUNT), "hangup" with
//     the cause from the h extension;
//   - [staff] is the forward context: it records "forward <exten>" (with
//     the same variables);
//   - [test-caller] is the ;2 half of the test calls: it answers, waits
//     CALLER_PREWAIT seconds, sends CALLER_DTMF, waits CALLER_HOLD seconds
//     and hangs up.
//
// Each line starts with the TESTID variable the originate sets. Lines are
// appended with FILE(), not System(echo ...): a System() forks the whole
// Asterisk process, and at 50 calls/s the forks kept both CPUs of a small
// machine busy (run queue 12-44, 0-3 % idle) and delayed everything on it.
const baseDialplan = `[from-external]
exten => _X.,1,NoOp(vipgate e2e ${TESTID})
 same => n,Stasis(vipgate,${EXTEN})
 same => n,Set(FILE(${RESULTS},,,al,u)=${TESTID} continue ${EXTEN} status=${STASISSTATUS} result=${VIPGATE_RESULT} label=${VIPGATE_LABEL} prio=${VIPGATE_PRIORITY} acct=${VIPGATE_ACCOUNT})
 same => n,Hangup()
exten => h,1,Set(FILE(${RESULTS},,,al,u)=${TESTID} hangup cause=${HANGUPCAUSE} result=${VIPGATE_RESULT})

[staff]
exten => _X.,1,Set(FILE(${RESULTS},,,al,u)=${TESTID} forward ${EXTEN} result=${VIPGATE_RESULT} label=${VIPGATE_LABEL} prio=${VIPGATE_PRIORITY} acct=${VIPGATE_ACCOUNT})
 same => n,Hangup()
exten => h,1,NoOp()

[test-caller]
exten => _X.,1,Answer()
 same => n,Wait(${CALLER_PREWAIT})
 same => n,ExecIf($["${CALLER_DTMF}" != ""]?SendDTMF(${CALLER_DTMF},250,120))
 same => n,Wait(${CALLER_HOLD})
 same => n,Hangup()
exten => h,1,NoOp()
`

// CallSpec is one test call.
type CallSpec struct {
	// ID names the call in the results; digits only (it is the extension
	// the caller half runs), unique per Asterisk.
	ID string
	// Caller is the caller ID number vipgate sees.
	Caller string
	// Exten is the called number in [from-external] (default "1000").
	Exten string
	// DTMF is what the caller sends after PreWait (SendDTMF syntax: digits,
	// * and #, "w" pauses 0.5s).
	DTMF string
	// PreWait is how long the caller waits before sending (default 2s);
	// Hold how long it stays on after (default 30s; short to hang up early).
	PreWait, Hold time.Duration
}

// Originate places a call: Local/<id>@test-caller, whose other half enters
// [from-external] at Exten with caller ID Caller. It returns the id of the
// originated channel.
func (a *Asterisk) Originate(ctx context.Context, c CallSpec) (string, error) {
	return a.originate(ctx, c, "from-external", nil)
}

// originate places call c whose other half enters dialplanCtx at c.Exten,
// with the test variables plus vars (inherited by both halves).
func (a *Asterisk) originate(ctx context.Context, c CallSpec, dialplanCtx string, vars map[string]string) (string, error) {
	c = c.withDefaults()
	v := c.vars()
	for k, x := range vars {
		v[k] = x
	}
	ch, err := a.Client.Originate(ctx, ari.OriginateRequest{
		Endpoint:  "Local/" + c.ID + "@test-caller/n",
		Context:   dialplanCtx,
		Extension: c.Exten,
		Priority:  1,
		CallerID:  c.Caller,
		Timeout:   10,
		Variables: v,
	})
	if err != nil {
		return "", fmt.Errorf("e2e: originate %s: %w", c.ID, err)
	}
	return ch.ID, nil
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.1f", d.Seconds()) }

// withDefaults returns c with its unset fields filled in: Exten 1000,
// PreWait 2s, Hold 30s.
func (c CallSpec) withDefaults() CallSpec {
	if c.Exten == "" {
		c.Exten = "1000"
	}
	if c.PreWait == 0 {
		c.PreWait = 2 * time.Second
	}
	if c.Hold == 0 {
		c.Hold = 30 * time.Second
	}
	return c
}

// vars returns the channel variables (inherited by both halves of the
// Local channel) that the test dialplan reads for c.
func (c CallSpec) vars() map[string]string {
	return map[string]string{
		"__TESTID":         c.ID,
		"__CALLER_DTMF":    c.DTMF,
		"__CALLER_PREWAIT": seconds(c.PreWait),
		"__CALLER_HOLD":    seconds(c.Hold),
	}
}

// Result is one line the dialplan wrote for a call.
type Result struct {
	// Kind is "continue", "hangup" or "forward".
	Kind string
	// Fields are the rest of the line as key=value pairs; Arg is the first
	// field without "=" (the extension).
	Fields map[string]string
	Arg    string
	Line   string
}

// WaitResult waits for the first result line of call id.
func (a *Asterisk) WaitResult(ctx context.Context, id string) (Result, error) {
	rs, err := a.WaitResults(ctx, id, 1)
	if err != nil {
		return Result{}, err
	}
	return rs[0], nil
}

// WaitResults waits until call id has n result lines and returns them in
// order.
func (a *Asterisk) WaitResults(ctx context.Context, id string, n int) ([]Result, error) {
	for {
		rs, err := a.results(id)
		if err != nil {
			return nil, err
		}
		if len(rs) >= n {
			return rs, nil
		}
		select {
		case <-ctx.Done():
			return rs, fmt.Errorf("e2e: call %s: %d of %d results: %w", id, len(rs), n, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (a *Asterisk) results(id string) ([]Result, error) {
	f, err := os.Open(a.Results)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Result
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Fields(sc.Text())
		if len(parts) < 2 || parts[0] != id {
			continue
		}
		r := Result{Kind: parts[1], Fields: map[string]string{}, Line: sc.Text()}
		for _, p := range parts[2:] {
			if k, v, ok := strings.Cut(p, "="); ok {
				r.Fields[k] = v
			} else if r.Arg == "" {
				r.Arg = p
			}
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// SoundsDir is the sounds directory Asterisk plays from.
func (a *Asterisk) SoundsDir() string { return filepath.Join(a.Dir, "data", "sounds") }

// WritePrompt creates prompt "vipgate/<name>" as a tone lasting d, for
// the default language and for "en".
func (a *Asterisk) WritePrompt(name string, d time.Duration) error {
	for _, dir := range []string{filepath.Join(a.SoundsDir(), "vipgate"), filepath.Join(a.SoundsDir(), "en", "vipgate")} {
		if err := WriteTone(filepath.Join(dir, name+".wav"), d, 440); err != nil {
			return err
		}
	}
	return nil
}

// CLI runs an Asterisk CLI command and returns its output.
func (a *Asterisk) CLI(command string) (string, error) {
	out, err := exec.Command(a.cfg.Binary, "-C", filepath.Join(a.Dir, "etc", "asterisk.conf"), "-rx", command).CombinedOutput()
	return string(out), err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("e2e: not a TCP address")
	}
	return addr.Port, nil
}
