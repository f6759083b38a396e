package agi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vipgate/vipgate/gate"
)

const (
	// escapeDigits interrupt a Collect prompt (barge-in) played with
	// STREAM FILE.
	escapeDigits = "0123456789*#"
	// getDataTerminator is the only terminator GET DATA knows; Collect
	// uses GET DATA when it is the terminator asked for.
	getDataTerminator = "#"
	// maxCollectDigits caps one Collect, whatever MaxDigits says (GET
	// DATA's buffer holds 1023 keys).
	maxCollectDigits = 64
	// undecidedTimeout bounds sending a call the handler did not route
	// back to the dialplan.
	undecidedTimeout = 2 * time.Second
	// writeTimeout bounds writing one command.
	writeTimeout = 10 * time.Second
	// maxHangupLines and maxUsageLines bound what is read in front of a
	// reply and in a multi-line 520 reply; Asterisk sends at most two
	// HANGUP lines and a few usage lines.
	maxHangupLines = 4
	maxUsageLines  = 64
)

// aLongTimeAgo is a deadline in the past: setting it unblocks a read.
var aLongTimeAgo = time.Unix(1, 0)

// session is one FastAGI connection: a live channel driven as a gate.Call.
// Its methods run strictly one command at a time.
type session struct {
	conn        net.Conn
	r           *bufio.Reader
	maxLine     int
	readTimeout time.Duration
	hdr         Header
	info        gate.CallInfo
	log         *slog.Logger
	// hangup cancels the call's context (with gate.ErrHangup) when
	// Asterisk reports the hangup.
	hangup func()

	mu        sync.Mutex
	lang      string // channel language as last known
	resultSet bool   // gate.VarResult has been set
	answered  bool   // ANSWER succeeded: a second one would only cost a round trip
	hungUp    bool   // Asterisk reported the hangup (HANGUP, 511, EOF)
	released  bool   // vipgate let go of the call (Continue, Hangup)
	broken    error  // the connection is out of sync or failed
	commands  int
	wbuf      []byte // the command being written
}

var _ gate.Call = (*session)(nil)

func newSession(conn net.Conn, r *bufio.Reader, hdr Header, maxLine int, readTimeout time.Duration, log *slog.Logger, hangup func()) *session {
	// The call's logger, also for the ignored-arguments line of callInfo.
	log = gate.CallLogger(log, gate.CallInfo{ID: hdr.Vars["agi_uniqueid"], Source: source})
	info := hdr.callInfo(log)
	return &session{
		conn:        conn,
		r:           r,
		maxLine:     maxLine,
		readTimeout: readTimeout,
		hdr:         hdr,
		info:        info,
		log:         log,
		hangup:      hangup,
		lang:        info.Language,
	}
}

// Info returns what the header said about the call.
func (s *session) Info() gate.CallInfo { return s.info }

// Answer answers the channel with ANSWER, once per call: after a
// successful ANSWER the channel stays up until it hangs up, which every
// later command notices.
func (s *session) Answer(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.answered {
		return nil
	}
	r, err := s.roundTrip(ctx, "answer", "ANSWER", 0, false)
	if err != nil {
		return err
	}
	if r.Result < 0 {
		s.noteHangup()
		return fmt.Errorf("agi: answer: asterisk reports failure: %w", gate.ErrHangup)
	}
	s.answered = true
	return nil
}

// Play plays prompts with STREAM FILE and no escape digits. A prompt that
// cannot be played (missing file) is logged at Warn and skipped.
func (s *session) Play(ctx context.Context, prompts ...gate.Prompt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range prompts {
		if p.Name == "" {
			continue
		}
		if err := s.setLanguage(ctx, "play", p.Lang); err != nil {
			return err
		}
		name, err := arg(p.Name)
		if err != nil {
			return fmt.Errorf("agi: play: prompt name: %w", err)
		}
		r, err := s.roundTrip(ctx, "play", "STREAM FILE "+name+` ""`, 0, false)
		if err != nil {
			return err
		}
		if r.Result < 0 {
			if err := s.promptFailed(ctx, "play", p); err != nil {
				return err
			}
		}
	}
	return nil
}

// Collect plays prompt with barge-in and collects digits; see the package
// documentation.
func (s *session) Collect(ctx context.Context, prompt gate.Prompt, opts gate.CollectOptions) (gate.Input, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if opts.MaxDigits <= 0 || opts.MaxDigits > maxCollectDigits {
		opts.MaxDigits = maxCollectDigits
	}
	opts = opts.WithDefaults()
	name := ""
	if prompt.Name != "" {
		if err := s.setLanguage(ctx, "collect", prompt.Lang); err != nil {
			return gate.Input{}, err
		}
		var err error
		if name, err = arg(prompt.Name); err != nil {
			return gate.Input{}, fmt.Errorf("agi: collect: prompt name: %w", err)
		}
	}
	var in gate.Input
	var err error
	if opts.Terminator == getDataTerminator {
		in, err = s.getData(ctx, name, prompt, opts)
	} else {
		in, err = s.waitDigits(ctx, name, prompt, opts)
	}
	if err != nil {
		return gate.Input{}, err
	}
	s.log.Debug("agi collect", "input", in)
	return in, nil
}

// getData collects with one GET DATA: Asterisk plays the prompt (any key
// interrupts it and counts) and reads the keys itself up to '#',
// MaxDigits or the timeout, so no key can fall between two commands.
// GET DATA has one timeout for the first key and each next one; it gets
// the longer of FirstDigit and InterDigit, so that no caller is cut short.
// A missing prompt (-1 on a live channel) is logged and the keys are read
// with a second GET DATA without prompt.
func (s *session) getData(ctx context.Context, name string, prompt gate.Prompt, opts gate.CollectOptions) (gate.Input, error) {
	wait := max(opts.FirstDigit, opts.InterDigit)
	tail := " " + strconv.FormatInt(max(wait.Milliseconds(), 1), 10) + " " + strconv.Itoa(opts.MaxDigits)
	// The reply comes when the prompt has ended (readTimeout) and the
	// caller has typed; each key may come just before the timeout.
	extra := wait * time.Duration(opts.MaxDigits+1)
	file := name
	if file == "" {
		file = `""`
	}
	r, err := s.roundTrip(ctx, "collect", "GET DATA "+file+tail, extra, true)
	if err != nil {
		return gate.Input{}, err
	}
	if r.ResultText == "-1" && name != "" {
		// A missing prompt or a hangup: the probe tells which.
		if err := s.promptFailed(ctx, "collect", prompt); err != nil {
			return gate.Input{}, err
		}
		if r, err = s.roundTrip(ctx, "collect", `GET DATA ""`+tail, extra, true); err != nil {
			return gate.Input{}, err
		}
	}
	if r.ResultText == "-1" {
		s.noteHangup()
		return gate.Input{}, fmt.Errorf("agi: collect: get data failed: %w", gate.ErrHangup)
	}
	in, err := getDataInput(r, opts.MaxDigits)
	if err != nil {
		return gate.Input{}, s.fail("collect", err)
	}
	return in, nil
}

// getDataInput reads a GET DATA reply: "200 result=<keys>" ended by '#'
// (not returned; '#' alone gives no keys) or by maxDigits keys, and
// "200 result=<keys> (timeout)" ended by the timeout.
func getDataInput(r Reply, maxDigits int) (gate.Input, error) {
	keys := r.ResultText
	if len(keys) > maxDigits {
		return gate.Input{}, fmt.Errorf("get data: %d keys, more than the %d asked for: %w", len(keys), maxDigits, ErrBadReply)
	}
	for i := 0; i < len(keys); i++ {
		if c, err := dtmf(int(keys[i])); err != nil || c == '#' {
			return gate.Input{}, fmt.Errorf("get data: result is not a string of keys: %w", ErrBadReply)
		}
	}
	in := gate.Input{Digits: keys}
	switch {
	case r.Data == "timeout":
		in.TimedOut = true
	case r.Data != "":
		return gate.Input{}, fmt.Errorf("get data: unknown result data: %w", ErrBadReply)
	case len(keys) < maxDigits:
		in.Terminated = true
	}
	return in, nil
}

// waitDigits collects for a terminator GET DATA does not know: STREAM
// FILE with escape digits, then one WAIT FOR DIGIT per key. A key that
// reaches Asterisk between two of these commands is lost.
func (s *session) waitDigits(ctx context.Context, name string, prompt gate.Prompt, opts gate.CollectOptions) (gate.Input, error) {
	var in gate.Input
	digits := make([]byte, 0, opts.MaxDigits)
	// add takes one typed key and reports whether input is complete.
	add := func(c byte) bool {
		if strings.IndexByte(opts.Terminator, c) >= 0 {
			in.Terminated = true
			return true
		}
		digits = append(digits, c)
		return len(digits) >= opts.MaxDigits
	}
	done := false
	if name != "" {
		r, err := s.roundTrip(ctx, "collect", "STREAM FILE "+name+" "+quote(escapeFor(opts.Terminator)), 0, true)
		if err != nil {
			return gate.Input{}, err
		}
		switch {
		case r.Result > 0:
			c, err := dtmf(r.Result)
			if err != nil {
				return gate.Input{}, s.fail("collect", err)
			}
			done = add(c)
		case r.Result < 0:
			if err := s.promptFailed(ctx, "collect", prompt); err != nil {
				return gate.Input{}, err
			}
		}
	}
	for !done {
		wait := opts.InterDigit
		if len(digits) == 0 {
			wait = opts.FirstDigit
		}
		ms := max(wait.Milliseconds(), 1)
		r, err := s.roundTrip(ctx, "collect", "WAIT FOR DIGIT "+strconv.FormatInt(ms, 10), wait, true)
		if err != nil {
			return gate.Input{}, err
		}
		switch {
		case r.Result == 0:
			in.TimedOut = true
			done = true
		case r.Result < 0:
			s.noteHangup()
			return gate.Input{}, fmt.Errorf("agi: collect: wait for digit failed: %w", gate.ErrHangup)
		default:
			c, err := dtmf(r.Result)
			if err != nil {
				return gate.Input{}, s.fail("collect", err)
			}
			done = add(c)
		}
	}
	in.Digits = string(digits)
	return in, nil
}

// SetVars sets channel variables with one SET VARIABLE each (FastAGI has
// no command that sets several). One that fails is skipped; a hangup or a
// broken connection ends it.
func (s *session) SetVars(ctx context.Context, vars ...gate.Var) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, v := range vars {
		if err := s.setVar(ctx, "set variable", v.Name, v.Value); err != nil {
			if errors.Is(err, gate.ErrHangup) || s.broken != nil {
				return err
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Continue sends the call on to t and closes the connection: the dialplan
// goes on after AGI() for gate.Continue, or at t's location.
func (s *session) Continue(ctx context.Context, t gate.Target) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch t.Kind {
	case gate.TargetHangup:
		return s.hangupLocked(ctx, t.Cause)
	case gate.TargetContinue:
		if err := s.setResult(ctx, "continue"); err != nil {
			return err
		}
		return s.release()
	case gate.TargetExtension, gate.TargetLocation:
		t = t.Resolve(s.hdr.Get("context"))
		if t.Context == "" {
			t.Context = s.hdr.Get("context")
		}
		if t.Priority < 1 {
			t.Priority = 1
		}
		cx, err1 := token(t.Context)
		ex, err2 := token(t.Exten)
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("agi: continue: target %q: %w", t.String(), err)
		}
		if err := s.setResult(ctx, "continue"); err != nil {
			return err
		}
		for _, cmd := range []string{"SET CONTEXT " + cx, "SET EXTENSION " + ex, "SET PRIORITY " + strconv.Itoa(t.Priority)} {
			r, err := s.roundTrip(ctx, "continue", cmd, 0, false)
			if err != nil {
				return err
			}
			if r.Result < 0 {
				return fmt.Errorf("agi: continue: %s failed: %w", strings.Fields(cmd)[1], gate.ErrInvalid)
			}
		}
		return s.release()
	}
	return fmt.Errorf("agi: continue: unknown target kind %q: %w", t.Kind, gate.ErrInvalid)
}

// Hangup hangs the channel up with cause (EXEC Hangup "<Q.850>") and closes
// the connection.
func (s *session) Hangup(ctx context.Context, cause gate.Cause) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hangupLocked(ctx, cause)
}

func (s *session) hangupLocked(ctx context.Context, cause gate.Cause) error {
	if cause == "" {
		cause = gate.CauseNormal
	}
	if err := s.setResult(ctx, "hangup"); err != nil {
		return err
	}
	// The Hangup application returns -1, so the reply is "200 result=-1"
	// (then a HANGUP line, which nobody needs to read).
	if _, err := s.roundTrip(ctx, "hangup", `EXEC Hangup "`+strconv.Itoa(cause.Q850())+`"`, 0, false); err != nil {
		return err
	}
	return s.release()
}

// setResult marks a call that the handler lets go of without having set
// gate.VarResult with gate.ResultFallback, as the ARI adapter does.
func (s *session) setResult(ctx context.Context, op string) error {
	if s.resultSet {
		return nil
	}
	return s.setVar(ctx, op, gate.VarResult, gate.ResultFallback)
}

func (s *session) setVar(ctx context.Context, op, name, value string) error {
	if !validChanVar(name) {
		return fmt.Errorf("agi: %s: invalid variable name %q: %w", op, name, gate.ErrInvalid)
	}
	if strings.ContainsAny(value, "\r\n\x00") {
		return fmt.Errorf("agi: %s: value of %s contains a line break: %w", op, name, gate.ErrInvalid)
	}
	if _, err := s.roundTrip(ctx, op, "SET VARIABLE "+name+" "+quote(value), 0, false); err != nil {
		return err
	}
	if name == gate.VarResult {
		s.resultSet = true
	}
	return nil
}

// setLanguage switches the channel language to lang once, if it differs.
func (s *session) setLanguage(ctx context.Context, op, lang string) error {
	if lang == "" || lang == s.lang {
		return nil
	}
	if _, err := token(lang); err != nil {
		return fmt.Errorf("agi: %s: language: %w", op, err)
	}
	if err := s.setVar(ctx, op, "CHANNEL(language)", lang); err != nil {
		return err
	}
	s.lang = lang
	return nil
}

// promptFailed handles STREAM FILE's result -1, which Asterisk sends both
// for a missing file and for a hangup. It probes with CHANNEL STATUS,
// which Asterisk refuses (HANGUP line, 511) on a dead channel: a hangup
// returns an error wrapping gate.ErrHangup, a live channel means the
// prompt could not be played, which is logged and is not an error.
func (s *session) promptFailed(ctx context.Context, op string, p gate.Prompt) error {
	if s.hungUp {
		return fmt.Errorf("agi: %s: %w", op, gate.ErrHangup)
	}
	if _, err := s.roundTrip(ctx, op, "CHANNEL STATUS", 0, false); err != nil {
		return err
	}
	s.log.Warn("agi: prompt could not be played (missing sound file?)",
		"prompt", p.Name, "key", p.Key, "lang", s.lang)
	return nil
}

// roundTrip sends one command and reads its reply. It skips (and notes)
// HANGUP lines in front of the reply, reads a multi-line 520 to its end,
// and turns 510, 511 and 520 into errors. The caller holds s.mu. extra
// extends the reply deadline by the time the command itself may wait.
// With redact, the reply's result is not logged (it is a typed digit).
func (s *session) roundTrip(ctx context.Context, op, cmd string, extra time.Duration, redact bool) (Reply, error) {
	switch {
	case s.released:
		return Reply{}, fmt.Errorf("agi: %s: call already let go: %w", op, gate.ErrHangup)
	case s.hungUp:
		return Reply{}, fmt.Errorf("agi: %s: %w", op, gate.ErrHangup)
	case s.broken != nil:
		return Reply{}, fmt.Errorf("agi: %s: %w", op, s.broken)
	case ctx.Err() != nil:
		return Reply{}, fmt.Errorf("agi: %s: %w", op, context.Cause(ctx))
	}
	s.commands++
	// A HANGUP line only marks the session while the reply is read; the
	// call's context is cancelled afterwards, so that the cancellation
	// does not interrupt reading the real reply.
	defer func() {
		if s.hungUp {
			s.hangup()
		}
	}()
	debug := s.log.Enabled(ctx, slog.LevelDebug)
	if debug {
		s.log.Debug("agi send", "cmd", cmd)
	}
	s.wbuf = append(append(s.wbuf[:0], cmd...), '\n')
	if err := s.conn.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return Reply{}, s.ioError(ctx, op, err)
	}
	if err := s.conn.SetReadDeadline(time.Now().Add(s.readTimeout + extra)); err != nil {
		return Reply{}, s.ioError(ctx, op, err)
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		_ = s.conn.SetDeadline(aLongTimeAgo)
		close(fired)
	})
	defer func() {
		if !stop() {
			<-fired
		}
	}()
	if _, err := s.conn.Write(s.wbuf); err != nil {
		return Reply{}, s.ioError(ctx, op, err)
	}
	var r Reply
	for hangups := 0; ; hangups++ {
		if hangups > maxHangupLines {
			return Reply{}, s.fail(op, fmt.Errorf("%d HANGUP lines and no reply: %w", hangups, ErrBadReply))
		}
		line, err := readLine(s.r, s.maxLine)
		if err != nil {
			return Reply{}, s.ioError(ctx, op, err)
		}
		r, err = ParseReply(line)
		if err != nil {
			return Reply{}, s.fail(op, err)
		}
		if r.Hangup {
			if debug {
				s.log.Debug("agi recv", "reply", hangupLine)
			}
			s.hungUp = true
			continue
		}
		break
	}
	if r.More {
		// Multi-line usage: read up to the line that starts with "520 ".
		for n := 0; ; n++ {
			if n > maxUsageLines {
				return Reply{}, s.fail(op, fmt.Errorf("520 usage longer than %d lines: %w", maxUsageLines, ErrBadReply))
			}
			line, err := readLine(s.r, s.maxLine)
			if err != nil {
				return Reply{}, s.ioError(ctx, op, err)
			}
			if strings.HasPrefix(line, "520 ") {
				break
			}
		}
	}
	switch {
	case !debug:
	case redact && r.Code == CodeOK:
		s.log.Debug("agi recv", "code", r.Code, "result", "[redacted]", "endpos", r.EndPos)
	default:
		s.log.Debug("agi recv", "reply", r.String())
	}
	switch r.Code {
	case CodeDeadChannel:
		s.hungUp = true
		return r, fmt.Errorf("agi: %s: not permitted on a dead channel (511): %w", op, gate.ErrHangup)
	case CodeInvalid:
		return r, fmt.Errorf("agi: %s: asterisk does not know the command (510): %w", op, gate.ErrInvalid)
	case CodeUsage:
		return r, fmt.Errorf("agi: %s: invalid command syntax (520): %w", op, gate.ErrInvalid)
	}
	if s.hungUp {
		return r, fmt.Errorf("agi: %s: %w", op, gate.ErrHangup)
	}
	return r, nil
}

// noteHangup records that the channel is gone and cancels the call's
// context with gate.ErrHangup.
func (s *session) noteHangup() {
	s.hungUp = true
	s.hangup()
}

// ioError classifies a read or write failure and marks the session
// broken: the connection may be out of sync.
func (s *session) ioError(ctx context.Context, op string, err error) error {
	switch {
	case ctx.Err() != nil:
		err = context.Cause(ctx)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, io.ErrClosedPipe):
		s.hungUp = true
		err = fmt.Errorf("connection closed: %w", gate.ErrHangup)
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = fmt.Errorf("no reply in time: %w", gate.ErrTimeout)
	case errors.Is(err, ErrLineTooLong):
	default:
		// A reset or broken pipe: Asterisk is gone for this call.
		s.hungUp = true
		err = fmt.Errorf("%v: %w", err, gate.ErrHangup)
	}
	s.broken = err
	return fmt.Errorf("agi: %s: %w", op, err)
}

// fail marks the session broken by a protocol error.
func (s *session) fail(op string, err error) error {
	s.broken = err
	return fmt.Errorf("agi: %s: %w", op, err)
}

// release lets go of the call: the connection is closed and Asterisk goes
// on with the dialplan.
func (s *session) release() error {
	s.released = true
	if err := s.conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("agi: close: %w", err)
	}
	return nil
}

// close lets go of a call the handler returned from without letting go
// of it: while the channel and the connection are up, it is sent back to
// the dialplan by gate.RouteUndecided (VIPGATE_RESULT=fallback), like over
// ARI; else the connection is closed.
func (s *session) close() {
	s.mu.Lock()
	undecided := !s.released && !s.hungUp && s.broken == nil
	s.mu.Unlock()
	if undecided {
		ctx, cancel := context.WithTimeout(context.Background(), undecidedTimeout)
		err := gate.RouteUndecided(ctx, s)
		cancel()
		if err != nil {
			s.log.Debug("agi: route undecided call", "err", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.released {
		s.released = true
		_ = s.conn.Close()
	}
}

// stats returns the number of commands sent and whether the channel hung up.
func (s *session) stats() (commands int, hungUp bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commands, s.hungUp
}

// dtmf turns a digit result (an ASCII code) into the key.
func dtmf(code int) (byte, error) {
	if code > 0 && code < 128 {
		c := byte(code)
		if c >= '0' && c <= '9' || c == '*' || c == '#' || c >= 'A' && c <= 'D' {
			return c, nil
		}
	}
	return 0, fmt.Errorf("result %d is not a DTMF key: %w", code, ErrBadReply)
}

// escapeFor returns the escape digits for a Collect prompt: every key plus
// the terminator keys.
func escapeFor(term string) string {
	esc := escapeDigits
	for i := 0; i < len(term); i++ {
		if c := term[i]; strings.IndexByte(esc, c) < 0 && c >= 'A' && c <= 'D' {
			esc += string(c)
		}
	}
	return esc
}

// quote quotes s for an AGI command: Asterisk splits arguments at blanks
// outside double quotes and takes the character after a backslash as is.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// arg returns s as one command argument: as is when it is a plain word,
// else quoted. Line breaks are refused: they would end the command.
func arg(s string) (string, error) {
	if strings.ContainsAny(s, "\r\n\x00") {
		return "", fmt.Errorf("argument contains a line break: %w", gate.ErrInvalid)
	}
	if s == "" || strings.ContainsAny(s, " \t\"\\") {
		return quote(s), nil
	}
	return s, nil
}

// token checks that s is a non-empty plain word for SET CONTEXT, SET
// EXTENSION or a language name.
func token(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("empty name: %w", gate.ErrInvalid)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == '"' || c == '\\' || c >= 0x7f {
			return "", fmt.Errorf("name %q contains a blank, quote or control character: %w", s, gate.ErrInvalid)
		}
	}
	return s, nil
}

// validChanVar reports whether name is a plain variable name or a function
// call such as CHANNEL(language).
func validChanVar(name string) bool {
	base, args, fn := strings.Cut(name, "(")
	if fn {
		inner, ok := strings.CutSuffix(args, ")")
		if !ok {
			return false
		}
		for i := 0; i < len(inner); i++ {
			c := inner[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == ',' || c == '-') {
				return false
			}
		}
	}
	if base == "" {
		return false
	}
	for i := 0; i < len(base); i++ {
		c := base[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
