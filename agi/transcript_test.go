package agi

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// Transcripts are AGI dialogues in testdata/*.agi. Each is run against a
// real Server over net.Pipe: a fake Asterisk replays the wire lines while
// the Server's handler runs the steps on the gate.Call. The format, one
// item per line:
//
//	# text            a comment; blank lines are ignored too
//	< text            Asterisk sends "text"; "<" alone sends the empty
//	                  line that ends the header
//	> text            vipgate must send exactly "text" next
//	<!close           Asterisk closes the connection
//	@ step => want    the handler runs step and checks its outcome
//	% level text      the session logged a record at level (debug, info,
//	                  warn, error) whose message contains text
//
// After the last wire line vipgate must close the connection, having sent
// nothing else.
//
// Steps (run in order by the handler; want "ok" means no error, and
// "err=hangup|invalid|timeout" an error matching that gate sentinel):
//
//	info => id=.. source=.. caller=.. name=.. called=.. gate=.. lang=..
//	answer
//	play [lang=xx] name...
//	collect name|- [lang=xx] [max=n] [first=ms] [inter=ms] [term=c]
//	        => digits=<typed> end=terminator|timeout|max (or err=...)
//	setvar NAME value...
//	continue <target text form, e.g. continue, 100, ctx,exten,2>
//	hangup <cause>
//	ctx => hangup|live   the call's context: cancelled with ErrHangup or not
//	flow                 runs a gate.Flow (see flow transcripts)
//
// Asterisk writes are queued by a goroutine of the fake, as on a TCP socket,
// so a transcript can have Asterisk send two lines back to back (a reply
// and then HANGUP) while vipgate is already sending its next command.

type transcript struct {
	name  string
	wire  []wireLine
	steps []step
	logs  []logWant
}

type wireLine struct {
	lineNo int
	send   bool // Asterisk sends
	close  bool // Asterisk closes
	text   string
}

type step struct {
	lineNo int
	op     string
	args   []string
	want   string
}

type logWant struct {
	lineNo int
	level  slog.Level
	text   string
}

func parseTranscript(name string, data []byte) (*transcript, error) {
	tr := &transcript{name: name}
	for i, raw := range strings.Split(string(data), "\n") {
		n := i + 1
		line := strings.TrimSuffix(raw, "\r")
		switch {
		case strings.TrimSpace(line) == "", strings.HasPrefix(line, "#"):
		case line == "<!close":
			tr.wire = append(tr.wire, wireLine{lineNo: n, close: true})
		case line == "<":
			tr.wire = append(tr.wire, wireLine{lineNo: n, send: true})
		case strings.HasPrefix(line, "< "):
			tr.wire = append(tr.wire, wireLine{lineNo: n, send: true, text: line[2:]})
		case strings.HasPrefix(line, "> "):
			tr.wire = append(tr.wire, wireLine{lineNo: n, text: line[2:]})
		case strings.HasPrefix(line, "@ "):
			body, want, ok := strings.Cut(line[2:], " => ")
			if !ok {
				want = "ok"
			}
			f := strings.Fields(body)
			if len(f) == 0 {
				return nil, fmt.Errorf("%s:%d: empty step", name, n)
			}
			tr.steps = append(tr.steps, step{lineNo: n, op: f[0], args: f[1:], want: strings.TrimSpace(want)})
		case strings.HasPrefix(line, "% "):
			lvl, text, _ := strings.Cut(line[2:], " ")
			var l slog.Level
			if err := l.UnmarshalText([]byte(lvl)); err != nil {
				return nil, fmt.Errorf("%s:%d: %v", name, n, err)
			}
			tr.logs = append(tr.logs, logWant{lineNo: n, level: l, text: text})
		default:
			return nil, fmt.Errorf("%s:%d: unknown line %q", name, n, line)
		}
	}
	return tr, nil
}

// pipeListener is a net.Listener whose connections are net.Pipe ends.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

// Dial returns the Asterisk end of a new connection.
func (l *pipeListener) Dial() (net.Conn, error) {
	a, b := net.Pipe()
	select {
	case l.conns <- b:
		return a, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// logRecorder is a slog.Handler that keeps every record, with its text.
type logRecorder struct {
	mu   sync.Mutex
	recs []slog.Record
	buf  bytes.Buffer
	text slog.Handler
}

func newLogRecorder() *logRecorder {
	r := &logRecorder{}
	r.text = slog.NewTextHandler(&r.buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	return r
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecorder) Handle(ctx context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec.Clone())
	return r.text.Handle(ctx, rec)
}
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *logRecorder) WithGroup(string) slog.Handler      { return r }

func (r *logRecorder) has(level slog.Level, text string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.recs {
		if rec.Level == level && strings.Contains(rec.Message, text) {
			return true
		}
	}
	return false
}

func (r *logRecorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String()
}

// playAsterisk replays the wire lines of tr on conn and then expects vipgate
// to close the connection. It returns the first mismatch.
func playAsterisk(conn net.Conn, tr *transcript) error {
	defer conn.Close()
	// Guard against a hung session; not a speed assertion.
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	out := make(chan string, len(tr.wire))
	writeErr := make(chan error, 1)
	go func() {
		for line := range out {
			if _, err := io.WriteString(conn, line); err != nil {
				writeErr <- err
				for range out {
				}
				return
			}
		}
		writeErr <- nil
	}()
	r := bufio.NewReader(conn)
	var fail error
	for _, w := range tr.wire {
		switch {
		case w.close:
			close(out)
			out = nil
			if err := <-writeErr; err != nil {
				return fmt.Errorf("%s:%d: write before close: %v", tr.name, w.lineNo, err)
			}
			return conn.Close()
		case w.send:
			out <- w.text + "\n"
		default:
			got, err := r.ReadString('\n')
			if err != nil {
				fail = fmt.Errorf("%s:%d: want %q from vipgate, got %v (after %q)", tr.name, w.lineNo, w.text, err, got)
			} else if got = strings.TrimSuffix(got, "\n"); got != w.text {
				fail = fmt.Errorf("%s:%d: want %q from vipgate, got %q", tr.name, w.lineNo, w.text, got)
			}
		}
		if fail != nil {
			break
		}
	}
	if fail == nil {
		if extra, err := r.ReadString('\n'); err != io.EOF || extra != "" {
			fail = fmt.Errorf("%s: want the connection closed after the transcript, got %q, %v", tr.name, extra, err)
		}
	}
	_ = conn.Close()
	close(out)
	if err := <-writeErr; err != nil && fail == nil && !errors.Is(err, io.ErrClosedPipe) {
		fail = fmt.Errorf("%s: write: %v", tr.name, err)
	}
	return fail
}

// stepRunner runs the steps of a transcript on a call.
type stepRunner struct {
	tr   *transcript
	errs []string
	// flow runs the "flow" step; nil fails it.
	flow func(ctx context.Context, c gate.Call) string
}

func (sr *stepRunner) errorf(st step, format string, args ...any) {
	sr.errs = append(sr.errs, fmt.Sprintf("%s:%d: %s: %s", sr.tr.name, st.lineNo, st.op, fmt.Sprintf(format, args...)))
}

func (sr *stepRunner) run(ctx context.Context, c gate.Call) {
	for _, st := range sr.tr.steps {
		got := sr.runStep(ctx, c, st)
		if got != st.want {
			sr.errorf(st, "got %q, want %q", got, st.want)
		}
	}
}

func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, gate.ErrHangup):
		return "err=hangup"
	case errors.Is(err, gate.ErrInvalid):
		return "err=invalid"
	case errors.Is(err, gate.ErrTimeout):
		return "err=timeout"
	}
	return "err=" + err.Error()
}

// opts splits key=value arguments from positional ones.
func opts(args []string) (map[string]string, []string) {
	kv := map[string]string{}
	var pos []string
	for _, a := range args {
		if k, v, ok := strings.Cut(a, "="); ok {
			kv[k] = v
		} else {
			pos = append(pos, a)
		}
	}
	return kv, pos
}

func ms(s string) time.Duration {
	n, _ := strconv.Atoi(s)
	return time.Duration(n) * time.Millisecond
}

func (sr *stepRunner) runStep(ctx context.Context, c gate.Call, st step) string {
	switch st.op {
	case "info":
		i := c.Info()
		return fmt.Sprintf("id=%s source=%s caller=%s name=%s called=%s gate=%s lang=%s", i.ID, i.Source, i.Caller, i.CallerName, i.Called, i.GateName, i.Language)
	case "answer":
		return outcome(c.Answer(ctx))
	case "play":
		kv, names := opts(st.args)
		var ps []gate.Prompt
		for _, n := range names {
			ps = append(ps, gate.Prompt{Name: n, Lang: kv["lang"]})
		}
		return outcome(c.Play(ctx, ps...))
	case "collect":
		kv, pos := opts(st.args)
		p := gate.Prompt{Lang: kv["lang"]}
		if len(pos) > 0 && pos[0] != "-" {
			p.Name = pos[0]
		}
		o := gate.CollectOptions{FirstDigit: ms(kv["first"]), InterDigit: ms(kv["inter"]), Terminator: kv["term"]}
		o.MaxDigits, _ = strconv.Atoi(kv["max"])
		in, err := c.Collect(ctx, p, o)
		if err != nil {
			return outcome(err)
		}
		end := "max"
		switch {
		case in.Terminated:
			end = "terminator"
		case in.TimedOut:
			end = "timeout"
		}
		return "digits=" + in.Digits + " end=" + end
	case "setvar":
		if len(st.args) < 1 {
			return "bad step"
		}
		return outcome(c.SetVars(ctx, gate.Var{Name: st.args[0], Value: strings.Join(st.args[1:], " ")}))
	case "continue":
		t, err := gate.ParseTarget(strings.Join(st.args, " "))
		if err != nil {
			return "bad target: " + err.Error()
		}
		return outcome(c.Continue(ctx, t))
	case "hangup":
		return outcome(c.Hangup(ctx, gate.Cause(strings.Join(st.args, " "))))
	case "ctx":
		if ctx.Err() != nil && errors.Is(context.Cause(ctx), gate.ErrHangup) {
			return "hangup"
		}
		if ctx.Err() != nil {
			return "cancelled: " + context.Cause(ctx).Error()
		}
		return "live"
	case "flow":
		if sr.flow == nil {
			return "no flow"
		}
		return sr.flow(ctx, c)
	}
	return "unknown step"
}

// runTranscript runs tr against a Server over net.Pipe and returns the log.
func runTranscript(t *testing.T, tr *transcript, flow func(ctx context.Context, c gate.Call) string) *logRecorder {
	t.Helper()
	rec := newLogRecorder()
	sr := &stepRunner{tr: tr, flow: flow}
	handled := make(chan struct{})
	srv := NewServer(Config{
		Handler: func(ctx context.Context, c gate.Call) {
			defer close(handled)
			sr.run(ctx, c)
		},
		Logger: slog.New(rec),
	})
	ln := newPipeListener()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	conn, err := ln.Dial()
	if err != nil {
		t.Fatal(err)
	}
	if err := playAsterisk(conn, tr); err != nil {
		t.Error(err)
	}
	if len(tr.steps) > 0 {
		<-handled
	}
	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	for _, e := range sr.errs {
		t.Error(e)
	}
	for _, w := range tr.logs {
		if !rec.has(w.level, w.text) {
			t.Errorf("%s:%d: no %s log record containing %q", tr.name, w.lineNo, w.level, w.text)
		}
	}
	checkRedacted(t, tr, rec.String())
	if t.Failed() {
		t.Logf("log:\n%s", rec)
	}
	return rec
}

// checkRedacted fails when the log shows a typed digit: the raw reply to a
// GET DATA, a WAIT FOR DIGIT or an interruptible STREAM FILE, or the
// digits a collect step returned.
func checkRedacted(t *testing.T, tr *transcript, log string) {
	t.Helper()
	for i, w := range tr.wire {
		if w.send || w.close || i+1 >= len(tr.wire) {
			continue
		}
		getData := strings.HasPrefix(w.text, "GET DATA")
		if !getData && !strings.HasPrefix(w.text, "WAIT FOR DIGIT") && !(strings.HasPrefix(w.text, "STREAM FILE") && !strings.HasSuffix(w.text, `""`)) {
			continue
		}
		for _, r := range tr.wire[i+1:] {
			if !r.send {
				break
			}
			// Results that carry no key: a timeout or failure of WAIT
			// FOR DIGIT or STREAM FILE, no keys or -1 from GET DATA.
			v, ok := strings.CutPrefix(r.text, "200 result=")
			if !ok || strings.HasPrefix(v, "-") || (!getData && strings.HasPrefix(v, "0")) || (getData && (v == "" || strings.HasPrefix(v, " "))) {
				continue
			}
			if strings.Contains(log, r.text) || strings.Contains(log, strings.Fields(r.text)[1]) {
				t.Errorf("%s:%d: the log shows the digit reply %q", tr.name, r.lineNo, r.text)
			}
		}
	}
	for _, st := range tr.steps {
		if d, ok := strings.CutPrefix(st.want, "digits="); ok {
			if d, _, _ = strings.Cut(d, " "); len(d) >= 3 && strings.Contains(log, d) {
				t.Errorf("%s:%d: the log contains the typed digits", tr.name, st.lineNo)
			}
		}
	}
}

func loadTranscripts(t *testing.T, pattern string) []*transcript {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no transcripts match testdata/%s", pattern)
	}
	var out []*transcript
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := parseTranscript(filepath.Base(f), data)
		if err != nil {
			t.Fatal(err)
		}
		if len(tr.wire) == 0 {
			t.Fatalf("%s: no wire lines", f)
		}
		out = append(out, tr)
	}
	return out
}

func TestTranscripts(t *testing.T) {
	for _, tr := range loadTranscripts(t, "call-*.agi") {
		t.Run(strings.TrimSuffix(tr.name, ".agi"), func(t *testing.T) {
			runTranscript(t, tr, nil)
		})
	}
}
