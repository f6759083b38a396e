package e2e

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipgate/vipgate/agi"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/storage/sqlite"
)

// AGIModules are the modules the FastAGI dialplan needs besides the ARI
// set: AGI() itself (res_agi needs res_speech), Log() of the fail-open
// branch, Playback() of the fail-closed branch, CALLERID() and FILE().
var AGIModules = []string{"res_speech.so", "res_agi.so", "app_verbose.so", "app_playback.so", "func_callerid.so", "func_env.so"}

// Contexts of AGIDialplan a test call can enter.
const (
	// AGIContext screens with a fail-open fallback ([vipgate-agi-in]).
	AGIContext = "vipgate-agi-in"
	// AGIContextClosed screens with a fail-closed fallback
	// ([vipgate-agi-in-closed]).
	AGIContextClosed = "vipgate-agi-in-closed"
)

// AGIURL is what AGIDialplan puts in place of the shipped snippet's URL:
// each call names vipgate's FastAGI address (VG_AGI, host:port) and the
// gate (VG_GATE) in its own variables, so one Asterisk can reach a live
// vipgate, a stopped one and a second instance.
const AGIURL = "agi://${VG_AGI}/${VG_GATE}"

// shippedAGIURL is the URL the shipped snippet uses.
const shippedAGIURL = "agi://127.0.0.1:4573/hotline"

// AGIDialplan turns the shipped snippet (deploy/asterisk/extensions-agi.conf)
// into test contexts. It keeps [vipgate-agi-in], [vipgate-agi-in-closed] and
// [vipgate-agi-refuse] as shipped except for the URL (AGIURL instead of
// 127.0.0.1:4573/hotline) and their h extensions, which record the hangup
// in the results file ("hangup" in the two screening contexts, "refused"
// in the refuse context). [vipgate-agi-route], the original destination,
// records "continue <exten> status=AGISTATUS result=VIPGATE_RESULT
// gate=VIPGATE_GATE uid=UNIQUEID label=VIPGATE_LABEL prio=VIPGATE_PRIORITY acct=VIPGATE_ACCOUNT". The other contexts (two instances,
// DNID, the example forward targets) are left out. It fails when the
// snippet no longer has what the tests rely on.
//
// These contexts write their result lines with FILE() rather than
// System(echo ...): every System() forks the whole Asterisk process, and
// with 100 calls ending at once the forks stalled every channel for seconds (in one run SET VARIABLE replies came
// 1.5-7.7 s late and 5 of 100 PIN dialogues failed).
func AGIDialplan(snippet string) (string, error) {
	sections, order := splitContexts(snippet)
	var b strings.Builder
	for _, name := range order {
		lines := sections[name]
		switch name {
		case AGIContext, AGIContextClosed:
			n := 0
			for i, l := range lines {
				if strings.Contains(l, shippedAGIURL) {
					lines[i] = strings.ReplaceAll(l, shippedAGIURL, AGIURL)
					n++
				}
			}
			if n != 1 {
				return "", fmt.Errorf("e2e: agi dialplan: [%s] has %d AGI(%s) lines, want 1", name, n, shippedAGIURL)
			}
			lines = setH(lines, `exten => h,1,Set(FILE(${RESULTS},,,al,u)=${TESTID} hangup cause=${HANGUPCAUSE} result=${VIPGATE_RESULT} status=${AGISTATUS} uid=${UNIQUEID})`)
		case "vipgate-agi-refuse":
			lines = setH(lines, `exten => h,1,Set(FILE(${RESULTS},,,al,u)=${TESTID} refused cause=${HANGUPCAUSE} result=${VIPGATE_RESULT} status=${AGISTATUS} uid=${UNIQUEID})`)
		default:
			continue
		}
		fmt.Fprintf(&b, "[%s]\n%s\n\n", name, strings.Join(lines, "\n"))
	}
	for _, name := range []string{AGIContext, AGIContextClosed, "vipgate-agi-refuse"} {
		if _, ok := sections[name]; !ok {
			return "", fmt.Errorf("e2e: agi dialplan: the snippet has no [%s]", name)
		}
	}
	b.WriteString(`[vipgate-agi-route]
exten => _X.,1,Set(FILE(${RESULTS},,,al,u)=${TESTID} continue ${EXTEN} status=${AGISTATUS} result=${VIPGATE_RESULT} gate=${VIPGATE_GATE} uid=${UNIQUEID} label=${VIPGATE_LABEL} prio=${VIPGATE_PRIORITY} acct=${VIPGATE_ACCOUNT})
 same => n,Hangup()
exten => h,1,NoOp()
`)
	return b.String(), nil
}

// splitContexts splits an extensions.conf text into its contexts (the
// lines after each [name], comment lines dropped) in order of appearance.
func splitContexts(text string) (map[string][]string, []string) {
	sections := map[string][]string{}
	var order []string
	cur := ""
	for l := range strings.SplitSeq(text, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "[") && strings.Contains(t, "]") {
			cur = t[1:strings.Index(t, "]")]
			if _, ok := sections[cur]; !ok {
				order = append(order, cur)
				sections[cur] = nil
			}
			continue
		}
		if cur == "" || t == "" || strings.HasPrefix(t, ";") {
			continue
		}
		sections[cur] = append(sections[cur], l)
	}
	return sections, order
}

// setH replaces the h extension of a context (its "exten => h,1" line) with
// line, or adds line if there is none.
func setH(lines []string, line string) []string {
	out := lines[:0:0]
	for _, l := range lines {
		if strings.HasPrefix(strings.ReplaceAll(strings.TrimSpace(l), " ", ""), "exten=>h,") {
			continue
		}
		out = append(out, l)
	}
	return append(out, line)
}

// AGICall is a test call through FastAGI.
type AGICall struct {
	CallSpec
	// Context is where the call enters (AGIContext when empty).
	Context string
	// Addr is vipgate's FastAGI address (host:port) and Gate the gate the
	// URL path names (empty: selection by called number).
	Addr, Gate string
}

// OriginateAGI places a call as Originate does (Local/<id>@test-caller),
// whose other half enters c.Context at c.Exten with caller ID c.Caller and
// hands the channel to vipgate at c.Addr.
func (a *Asterisk) OriginateAGI(ctx context.Context, c AGICall) (string, error) {
	if c.Context == "" {
		c.Context = AGIContext
	}
	return a.originate(ctx, c.CallSpec, c.Context, map[string]string{"__VG_AGI": c.Addr, "__VG_GATE": c.Gate})
}

// WaitLog waits until Asterisk's log file (log/messages) has a line that
// contains s.
func (a *Asterisk) WaitLog(ctx context.Context, s string) error {
	for {
		b, err := os.ReadFile(filepath.Join(a.Dir, "log", "messages"))
		if err == nil && bytes.Contains(b, []byte(s)) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("e2e: no log line with %q: %w", s, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// VipgateAGI is vipgate's FastAGI server running in the test process with
// gate.Flow over a SQLite store (a file in a temporary directory).
type VipgateAGI struct {
	Store  *sqlite.Store
	Hasher *gate.Hasher
	Server *agi.Server
	// Addr is the loopback address it listens on (host:port).
	Addr string
	// Commands records the AGI commands vipgate sent, per call.
	Commands *CommandLog

	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// StartVipgateAGI runs an agi.Server with gate.Flow on a free loopback
// port, serving gates (and caller-table entries) from a fresh SQLite
// store, until the test ends; it returns once the server accepts. tweak
// may adjust the server's configuration (its Handler and Addr are set
// already).
func StartVipgateAGI(t testing.TB, gates []*gate.Gate, entries []*gate.Entry, tweak func(*agi.Config)) *VipgateAGI {
	t.Helper()
	h, err := gate.NewHasher(HasherKey)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "vipgate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	for _, g := range gates {
		if err := st.CreateGate(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range entries {
		e := *e
		if err := st.PutEntry(ctx, &e); err != nil {
			t.Fatal(err)
		}
	}
	var logger *slog.Logger
	if os.Getenv("VIPGATE_TEST_DEBUG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	engine := gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h, Region: "DE", Logger: logger})
	flow := gate.NewFlow(engine, gate.FlowConfig{Log: st, Counters: st, Logger: logger})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cmds := &CommandLog{calls: map[string][]string{}}
	cfg := agi.Config{
		Addr:         ln.Addr().String(),
		Handler:      func(ctx context.Context, c gate.Call) { flow.Run(ctx, c) },
		Logger:       logger,
		DrainTimeout: 5 * time.Second,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	up := make(chan struct{})
	onState := cfg.OnState
	cfg.OnState = func(name string, isUp bool) {
		if isUp {
			close(up)
		}
		if onState != nil {
			onState(name, isUp)
		}
	}
	srv := agi.NewServer(cfg)
	runCtx, cancel := context.WithCancel(context.Background())
	v := &VipgateAGI{Store: st, Hasher: h, Server: srv, Addr: ln.Addr().String(), Commands: cmds, cancel: cancel, done: make(chan struct{})}
	go func() { defer close(v.done); v.err = srv.Serve(runCtx, commandListener{Listener: ln, log: cmds}) }()
	t.Cleanup(func() {
		if err := v.Stop(); err != nil {
			t.Errorf("vipgate agi server: %v", err)
		}
	})
	select {
	case <-up:
	case <-v.done:
		t.Fatalf("vipgate agi server ended at start: %v", v.err)
	}
	return v
}

// Stop stops the server, waits until every session has ended and returns
// Serve's error (nil after a clean drain). It may be called more than once.
func (v *VipgateAGI) Stop() error {
	v.cancel()
	<-v.done
	return v.err
}

// WaitCall waits for a call-log row that match accepts.
func (v *VipgateAGI) WaitCall(ctx context.Context, match func(*gate.CallRecord) bool) (*gate.CallRecord, error) {
	for {
		rows, _, err := v.Store.ListCalls(ctx, gate.CallFilter{Limit: 1000})
		if err != nil && ctx.Err() == nil {
			return nil, err
		}
		for _, r := range rows {
			if match(r) {
				return r, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// CommandLog records the command lines vipgate writes on each FastAGI
// connection, keyed by the agi_uniqueid of its header. vipgate never sends
// typed digits back, so the commands hold no secrets; what Asterisk sends
// (the replies, which carry the digits) is not recorded.
type CommandLog struct {
	mu    sync.Mutex
	calls map[string][]string
}

// Of returns the commands sent for the call whose channel has unique id
// uid (the call log's ChannelID), in order.
func (l *CommandLog) Of(uid string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.calls[uid]...)
}

func (l *CommandLog) add(uid, line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls[uid] = append(l.calls[uid], line)
}

type commandListener struct {
	net.Listener
	log *CommandLog
}

func (l commandListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &commandConn{Conn: c, log: l.log}, nil
}

// commandConn finds agi_uniqueid in the header Asterisk sends and records
// the lines vipgate writes.
type commandConn struct {
	net.Conn
	log *CommandLog

	mu      sync.Mutex
	hdr     []byte // the header read so far, until its empty line
	hdrDone bool
	uid     string
	partial []byte // a written line not yet ended by '\n'
}

// maxHeader bounds the header bytes kept while looking for agi_uniqueid.
const maxHeader = 64 << 10

func (c *commandConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.hdrDone && n > 0 {
		c.hdr = append(c.hdr, p[:n]...)
		if i := bytes.Index(c.hdr, []byte("\n\n")); i >= 0 || len(c.hdr) > maxHeader {
			if i < 0 {
				i = len(c.hdr)
			}
			for l := range strings.SplitSeq(string(c.hdr[:i]), "\n") {
				if v, ok := strings.CutPrefix(l, "agi_uniqueid: "); ok {
					c.uid = strings.TrimSpace(v)
				}
			}
			c.hdr, c.hdrDone = nil, true
		}
	}
	return n, err
}

func (c *commandConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.partial = append(c.partial, p...)
	for {
		i := bytes.IndexByte(c.partial, '\n')
		if i < 0 {
			break
		}
		c.log.add(c.uid, string(c.partial[:i]))
		c.partial = c.partial[i+1:]
	}
	c.mu.Unlock()
	return c.Conn.Write(p)
}
