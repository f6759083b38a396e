package arifake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// TimeLayout is how ARI writes timestamps.
const TimeLayout = "2006-01-02T15:04:05.000-0700"

// Config configures a Server.
type Config struct {
	// User and Password are the one ARI user; both required.
	User, Password string
	// PlaybackDuration says how long a media URI plays; nil means 100ms.
	// "tone:" media ignores it and plays until stopped.
	PlaybackDuration func(media string) time.Duration
	// Missing reports media URIs whose sound file does not exist.
	Missing func(media string) bool
	// Unsupported reports media URIs Asterisk starts but never finishes
	// (as it does for an unsupported scheme or a missing recording:), in
	// addition to media with an unknown scheme.
	Unsupported func(media string) bool
	// DefaultApp is the application channels originated with an extension
	// enter (as if the dialplan ran Stasis(DefaultApp)); default "vipgate".
	DefaultApp string
	// NoSetVariables makes the server an Asterisk older than 22.10 (and
	// 20.20, 23.4), which has no POST /channels/{id}/variables: it answers
	// 404 "Resource not found".
	NoSetVariables bool
	// RefuseVariable reports channel variables Asterisk fails to set (400
	// "Failed to execute function"), as it does for a function that
	// fails. POST /channels/{id}/variables sets the variables in name
	// order and stops at the first refused.
	RefuseVariable func(name string) bool
}

// ErrNotRegistered is returned by Call when the application has no active
// connection: in Asterisk, Stasis() would set STASISSTATUS=FAILED.
var ErrNotRegistered = errors.New("arifake: stasis application not registered")

// Request is one REST request the server received.
type Request struct {
	Method, Path, RawQuery string
	// BasicAuth says whether credentials came in the Authorization header;
	// APIKey whether they came in the api_key query parameter.
	BasicAuth, APIKey bool
	At                time.Time
}

// Play is one playback a channel ran.
type Play struct {
	ID, Media string
	// State is "done", "failed", "stopped" (DELETE), "unsupported" or
	// "queued"/"playing" while it runs.
	State string
}

// Result is where a channel ended.
type Result struct {
	// Kind is "continue" (left Stasis into the dialplan), "hangup" (hung up
	// by the application) or "caller-hangup".
	Kind     string
	Context  string
	Exten    string
	Priority int
	// Reason is the hang-up reason the application gave.
	Reason   string
	Answered bool
	Plays    []Play
	// Vars are the channel variables when it left.
	Vars map[string]string
	At   time.Time
}

// CallSpec is a call entering Stasis.
type CallSpec struct {
	App      string // default Config.DefaultApp
	Caller   string
	Name     string // caller ID name
	Context  string // default "from-external"
	Exten    string // default "1000"
	Priority int    // where Stasis() runs; default 2
	Args     []string
	State    string // "Ring" (default) or "Up"
	Language string // default "en"
	DNID     string // CALLERID(dnid), readable with GET variable; default unset
}

// Server is the fake Asterisk.
type Server struct {
	cfg Config
	srv *httptest.Server

	mu       sync.Mutex
	apps     map[string]*wsConn
	channels map[string]*channel // live channels
	all      map[string]*channel // every channel ever, for results
	pbs      map[string]*playback
	requests []Request
	seq      int
	dropped  int
	filtered int
	// filters are the applications' allowed event types (PUT
	// /applications/{app}/eventFilter); none or empty allows all.
	filters map[string]map[string]bool
	// devices are the device states set (see deviceStates), deviceLog
	// every change in order.
	devices   map[string]string
	deviceLog []string
}

type wsConn struct {
	app    string
	conn   *websocket.Conn
	out    chan []byte
	closed chan struct{}
	once   sync.Once
	cmu    sync.Mutex // guards conn, set once the upgrade is done
}

type channel struct {
	s        *Server
	id, name string
	app      string
	args     []string
	caller   [2]string // number, name
	context  string
	exten    string
	priority int
	language string
	created  time.Time

	// guarded by s.mu
	state    string
	inStasis bool
	answered bool
	vars     map[string]string
	plays    []*Play
	result   *Result

	cmds    chan func()
	hangup  chan struct{}
	hangOne sync.Once
	done    chan struct{}
}

type playback struct {
	id, media, lang string
	ch              *channel
	state           string // queued, playing
	stop            chan struct{}
	stopOnce        sync.Once
	rec             *Play
}

// New starts a fake ARI server; Close it when done.
func New(cfg Config) *Server {
	if cfg.DefaultApp == "" {
		cfg.DefaultApp = "vipgate"
	}
	s := &Server{cfg: cfg, apps: map[string]*wsConn{}, channels: map[string]*channel{}, all: map[string]*channel{}, pbs: map[string]*playback{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the ARI root, e.g. "http://127.0.0.1:1234/ari".
func (s *Server) URL() string { return s.srv.URL + "/ari" }

// Close drops every connection and stops the server.
func (s *Server) Close() {
	s.mu.Lock()
	var conns []*wsConn
	for _, c := range s.apps {
		conns = append(conns, c)
	}
	var chans []*channel
	for _, ch := range s.channels {
		chans = append(chans, ch)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	for _, ch := range chans {
		ch.hang("", "caller-hangup", 16, false)
		<-ch.done
	}
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Requests returns the REST requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Connected reports whether app has an active event connection.
func (s *Server) Connected(app string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apps[app] != nil
}

// Dropped returns how many events were lost because their application had
// no connection.
func (s *Server) Dropped() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// Filtered returns how many events the applications' event filters kept
// from being sent.
func (s *Server) Filtered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.filtered
}

// Drop closes app's event connection abruptly, as a network failure would.
// The application becomes inactive; its channels stay parked.
func (s *Server) Drop(app string) {
	s.mu.Lock()
	c := s.apps[app]
	delete(s.apps, app)
	delete(s.filters, app)
	s.mu.Unlock()
	if c != nil {
		c.close()
	}
}

// Parked returns the ids of the channels in Stasis for app.
func (s *Server) Parked(app string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.parkedLocked(app)
}

func (s *Server) parkedLocked(app string) []string {
	ids := []string{}
	for id, ch := range s.channels {
		if ch.inStasis && ch.app == app {
			ids = append(ids, id)
		}
	}
	return ids
}

// Call makes a call enter Stasis and returns its channel id. It fails with
// ErrNotRegistered when the application has no active connection.
func (s *Server) Call(spec CallSpec) (string, error) {
	if spec.App == "" {
		spec.App = s.cfg.DefaultApp
	}
	if spec.Context == "" {
		spec.Context = "from-external"
	}
	if spec.Exten == "" {
		spec.Exten = "1000"
	}
	if spec.Priority == 0 {
		spec.Priority = 2
	}
	if spec.State == "" {
		spec.State = "Ring"
	}
	if spec.Language == "" {
		spec.Language = "en"
	}
	s.mu.Lock()
	if s.apps[spec.App] == nil {
		s.mu.Unlock()
		return "", ErrNotRegistered
	}
	s.seq++
	id := fmt.Sprintf("1700000000.%d", s.seq)
	ch := &channel{
		s: s, id: id, name: fmt.Sprintf("PJSIP/trunk-%08x", s.seq), app: spec.App, args: spec.Args,
		caller: [2]string{spec.Caller, spec.Name}, context: spec.Context, exten: spec.Exten, priority: spec.Priority,
		language: spec.Language, created: time.Now(), state: spec.State, inStasis: true, answered: spec.State == "Up",
		vars: map[string]string{}, cmds: make(chan func(), 64), hangup: make(chan struct{}), done: make(chan struct{}),
	}
	if spec.DNID != "" {
		ch.vars["CALLERID(dnid)"] = spec.DNID
	}
	s.channels[id] = ch
	s.all[id] = ch
	args := spec.Args
	if args == nil {
		args = []string{}
	}
	s.emitLocked(spec.App, map[string]any{"type": "StasisStart", "args": args, "channel": ch.jsonLocked()})
	s.mu.Unlock()
	go ch.run()
	return id, nil
}

// SendDTMF makes the caller press digits, gap apart. Like Asterisk, it does
// not stop a running playback. Keys pressed after the channel left Stasis
// produce no events.
func (s *Server) SendDTMF(id, digits string, gap time.Duration) error {
	for i, d := range digits {
		if i > 0 && gap > 0 {
			time.Sleep(gap)
		}
		s.mu.Lock()
		ch := s.all[id]
		if ch == nil {
			s.mu.Unlock()
			return fmt.Errorf("arifake: channel %s not found", id)
		}
		if ch.inStasis {
			s.emitLocked(ch.app, map[string]any{"type": "ChannelDtmfReceived", "digit": string(d), "duration_ms": 120, "channel": ch.jsonLocked()})
		}
		s.mu.Unlock()
	}
	return nil
}

// CallerHangup makes the caller hang up.
func (s *Server) CallerHangup(id string) error {
	s.mu.Lock()
	ch := s.channels[id]
	s.mu.Unlock()
	if ch == nil {
		return fmt.Errorf("arifake: channel %s not found", id)
	}
	ch.hang("", "caller-hangup", 16, false)
	return nil
}

// WaitResult waits until channel id has left Stasis (or hung up) and
// returns where it ended.
func (s *Server) WaitResult(ctx context.Context, id string) (Result, error) {
	s.mu.Lock()
	ch := s.all[id]
	s.mu.Unlock()
	if ch == nil {
		return Result{}, fmt.Errorf("arifake: channel %s not found", id)
	}
	select {
	case <-ch.done:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("arifake: channel %s still in Stasis: %w", id, ctx.Err())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := *ch.result
	r.Vars = maps.Clone(ch.vars)
	for _, p := range ch.plays {
		r.Plays = append(r.Plays, *p)
	}
	return r, nil
}

// Plays returns the playbacks channel id has run so far.
func (s *Server) Plays(id string) []Play {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.all[id]
	if ch == nil {
		return nil
	}
	var out []Play
	for _, p := range ch.plays {
		out = append(out, *p)
	}
	return out
}

func (c *wsConn) close() {
	c.once.Do(func() {
		close(c.closed)
		c.cmu.Lock()
		conn := c.conn
		c.cmu.Unlock()
		if conn != nil {
			_ = conn.CloseNow()
		}
	})
}

// emitLocked sends an event to app's connection, or drops it if the
// application is inactive. s.mu must be held; sending never blocks.
func (s *Server) emitLocked(app string, ev map[string]any) {
	c := s.apps[app]
	if c == nil {
		s.dropped++
		return
	}
	if f := s.filters[app]; len(f) > 0 && !f[ev["type"].(string)] {
		s.filtered++
		return
	}
	ev["application"] = app
	ev["timestamp"] = time.Now().Format(TimeLayout)
	ev["asterisk_id"] = "52:54:00:12:34:56"
	b, _ := json.Marshal(ev)
	select {
	case c.out <- b:
	default:
		s.dropped++ // a client that does not read loses events
	}
}

func (ch *channel) jsonLocked() map[string]any {
	return map[string]any{
		"id": ch.id, "name": ch.name, "state": ch.state, "protocol_id": "",
		"caller":      map[string]string{"number": ch.caller[0], "name": ch.caller[1]},
		"connected":   map[string]string{"number": "", "name": ""},
		"accountcode": "",
		"dialplan": map[string]any{"context": ch.context, "exten": ch.exten, "priority": ch.priority,
			"app_name": "Stasis", "app_data": strings.Join(append([]string{ch.app}, ch.args...), ",")},
		"creationtime": ch.created.Format(TimeLayout),
		"language":     ch.language,
	}
}

// run is the channel thread: it runs queued commands one at a time until
// the channel leaves Stasis or hangs up.
func (ch *channel) run() {
	for {
		select {
		case <-ch.hangup:
			ch.finish()
			return
		default:
		}
		select {
		case <-ch.hangup:
			ch.finish()
			return
		case f := <-ch.cmds:
			f()
			ch.s.mu.Lock()
			left := !ch.inStasis
			ch.s.mu.Unlock()
			if left {
				close(ch.done)
				ch.drain()
				return
			}
		}
	}
}

// drain discards commands queued after the channel left, and forgets its
// queued playbacks.
func (ch *channel) drain() {
	for {
		select {
		case <-ch.cmds:
			continue
		default:
		}
		break
	}
	ch.s.mu.Lock()
	for id, pb := range ch.s.pbs {
		if pb.ch == ch {
			delete(ch.s.pbs, id)
		}
	}
	ch.s.mu.Unlock()
}

// hang hangs the channel up: reason is the application's reason ("" for
// the caller), kind the result kind.
func (ch *channel) hang(reason, kind string, cause int, soft bool) {
	ch.hangOne.Do(func() {
		s := ch.s
		s.mu.Lock()
		if ch.result == nil {
			ch.result = &Result{Kind: kind, Reason: reason, Answered: ch.answered, At: time.Now()}
		}
		if ch.inStasis {
			ev := map[string]any{"type": "ChannelHangupRequest", "cause": cause, "channel": ch.jsonLocked()}
			if soft {
				ev["soft"] = true
			}
			s.emitLocked(ch.app, ev)
		}
		s.mu.Unlock()
		close(ch.hangup)
	})
}

// finish ends a hung-up channel: StasisEnd, then it is gone.
func (ch *channel) finish() {
	s := ch.s
	s.mu.Lock()
	if ch.inStasis {
		ch.inStasis = false
		s.emitLocked(ch.app, map[string]any{"type": "StasisEnd", "channel": ch.jsonLocked()})
	}
	delete(s.channels, ch.id)
	s.mu.Unlock()
	close(ch.done)
	ch.drain()
}

// enqueue queues a command on the channel thread; false if the channel is
// gone.
func (ch *channel) enqueue(f func()) bool {
	select {
	case <-ch.hangup:
		return false
	case <-ch.done:
		return false
	default:
	}
	select {
	case ch.cmds <- f:
		return true
	default:
		return false
	}
}

func knownScheme(media string) bool {
	for _, p := range []string{"sound:", "recording:", "number:", "digits:", "characters:", "tone:"} {
		if strings.HasPrefix(media, p) {
			return true
		}
	}
	return false
}

// play runs one playback on the channel thread.
func (ch *channel) play(pb *playback) {
	s := ch.s
	s.mu.Lock()
	if pb.rec.State == "stopped" { // cancelled while queued
		delete(s.pbs, pb.id)
		s.mu.Unlock()
		return
	}
	pb.state, pb.rec.State = "playing", "playing"
	s.emitLocked(ch.app, map[string]any{"type": "PlaybackStarted", "playback": pb.jsonLocked()})
	if !knownScheme(pb.media) || (s.cfg.Unsupported != nil && s.cfg.Unsupported(pb.media)) {
		pb.rec.State = "unsupported"
		delete(s.pbs, pb.id)
		s.mu.Unlock()
		return
	}
	missing := s.cfg.Missing != nil && s.cfg.Missing(pb.media)
	s.mu.Unlock()
	state := "done"
	if missing {
		state = "failed"
	} else {
		var timeout <-chan time.Time
		if !strings.HasPrefix(pb.media, "tone:") {
			d := 100 * time.Millisecond
			if s.cfg.PlaybackDuration != nil {
				d = s.cfg.PlaybackDuration(pb.media)
			}
			t := time.NewTimer(d)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-timeout:
		case <-pb.stop:
		case <-ch.hangup:
			state = "failed"
		}
	}
	s.mu.Lock()
	if pb.rec.State == "playing" {
		pb.rec.State = state
	}
	pb.state = state
	delete(s.pbs, pb.id)
	s.emitLocked(ch.app, map[string]any{"type": "PlaybackFinished", "playback": pb.jsonLocked()})
	s.mu.Unlock()
}

func (pb *playback) jsonLocked() map[string]any {
	return map[string]any{"id": pb.id, "media_uri": pb.media, "target_uri": "channel:" + pb.ch.id, "language": pb.lang, "state": pb.state}
}

// ---- HTTP ----

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}

func (s *Server) auth(r *http.Request) (basic, apiKey, ok bool) {
	if u, p, has := r.BasicAuth(); has {
		return true, false, u == s.cfg.User && p == s.cfg.Password
	}
	if k := r.URL.Query().Get("api_key"); k != "" {
		u, p, _ := strings.Cut(k, ":")
		return false, true, u == s.cfg.User && p == s.cfg.Password
	}
	return false, false, false
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	basic, apiKey, ok := s.auth(r)
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, BasicAuth: basic, APIKey: apiKey, At: time.Now()})
	s.mu.Unlock()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="Asterisk REST Interface"`)
		writeErr(w, http.StatusUnauthorized, "Authentication required")
		return
	}
	path, found := strings.CutPrefix(r.URL.Path, "/ari")
	if !found || strings.HasSuffix(path, "/") {
		writeErr(w, http.StatusNotFound, "Resource not found")
		return
	}
	_ = r.ParseForm()
	seg := strings.Split(strings.TrimPrefix(path, "/"), "/")
	switch {
	case path == "/events" && r.Method == http.MethodGet:
		s.events(w, r)
	case path == "/asterisk/ping" && r.Method == http.MethodGet:
		writeJSON(w, 200, map[string]string{"asterisk_id": "52:54:00:12:34:56", "ping": "pong", "timestamp": time.Now().Format(TimeLayout)})
	case path == "/asterisk/info" && r.Method == http.MethodGet:
		writeJSON(w, 200, map[string]any{"system": map[string]string{"version": "22.10.1-fake", "entity_id": "52:54:00:12:34:56"},
			"status": map[string]string{"startup_time": time.Now().Format(TimeLayout), "last_reload_time": time.Now().Format(TimeLayout)}})
	case len(seg) == 2 && seg[0] == "applications" && r.Method == http.MethodGet:
		s.mu.Lock()
		_, reg := s.apps[seg[1]]
		parked := s.parkedLocked(seg[1])
		s.mu.Unlock()
		if !reg && len(parked) == 0 {
			writeErr(w, 404, "Application not found")
			return
		}
		writeJSON(w, 200, s.applicationJSON(seg[1], parked))
	case len(seg) == 3 && seg[0] == "applications" && seg[2] == "eventFilter" && r.Method == http.MethodPut:
		s.eventFilter(w, r, seg[1])
	case len(seg) == 2 && seg[0] == "playbacks":
		s.playbackRes(w, r, seg[1])
	case len(seg) == 1 && seg[0] == "channels" && r.Method == http.MethodPost:
		s.originate(w, r)
	case len(seg) >= 2 && seg[0] == "channels":
		s.channelRes(w, r, seg[1], seg[2:])
	case s.deviceStates(w, r, path):
	default:
		writeErr(w, 404, "Resource not found")
	}
}

func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	app := r.URL.Query().Get("app")
	if app == "" {
		writeErr(w, 400, "HTTP request is missing param: [app]")
		return
	}
	// Like Asterisk, register the application when the upgrade is
	// attempted; events until the session is up are queued.
	c := &wsConn{app: app, out: make(chan []byte, 4096), closed: make(chan struct{})}
	s.mu.Lock()
	if old := s.apps[app]; old != nil {
		b, _ := json.Marshal(map[string]any{"type": "ApplicationReplaced", "application": app, "timestamp": time.Now().Format(TimeLayout), "asterisk_id": "52:54:00:12:34:56"})
		select {
		case old.out <- b:
		default:
		}
	}
	s.apps[app] = c
	s.mu.Unlock()
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"ari"}})
	c.cmu.Lock()
	c.conn = conn
	c.cmu.Unlock()
	s.mu.Lock()
	if err != nil && s.apps[app] == c {
		delete(s.apps, app)
		delete(s.filters, app)
	}
	s.mu.Unlock()
	if err != nil {
		return
	}
	select {
	case <-c.closed: // dropped while upgrading
		_ = conn.CloseNow()
		return
	default:
	}
	ctx := r.Context()
	go func() {
		for {
			select {
			case <-c.closed:
				return
			case b := <-c.out:
				wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				err := conn.Write(wctx, websocket.MessageText, b)
				cancel()
				if err != nil {
					c.close()
					return
				}
			}
		}
	}()
	for {
		if _, _, err := conn.Read(ctx); err != nil {
			break
		}
	}
	c.close()
	s.mu.Lock()
	if s.apps[app] == c {
		delete(s.apps, app)
		delete(s.filters, app)
	}
	s.mu.Unlock()
}

func (s *Server) originate(w http.ResponseWriter, r *http.Request) {
	q := r.Form
	var body struct {
		Variables map[string]string `json:"variables"`
	}
	if r.Header.Get("Content-Type") == "application/json" {
		_ = json.NewDecoder(r.Body).Decode(&body)
	}
	endpoint := q.Get("endpoint")
	if endpoint == "" {
		writeErr(w, 400, "Endpoint must be specified")
		return
	}
	if q.Get("extension") == "" && q.Get("app") == "" {
		writeErr(w, 400, "Application or extension must be specified")
		return
	}
	app := q.Get("app")
	if app == "" {
		app = s.cfg.DefaultApp
	}
	var args []string
	if a := q.Get("appArgs"); a != "" {
		args = strings.Split(a, ",")
	}
	id, err := s.Call(CallSpec{App: app, Caller: q.Get("callerId"), Context: q.Get("context"), Exten: q.Get("extension"), Args: args, State: "Up"})
	if err != nil {
		writeErr(w, 500, "Stasis application not registered")
		return
	}
	s.mu.Lock()
	ch := s.channels[id]
	var out map[string]any
	if ch != nil {
		for k, v := range body.Variables {
			ch.vars[strings.TrimLeft(k, "_")] = v
		}
		out = ch.jsonLocked()
	}
	s.mu.Unlock()
	writeJSON(w, 200, out)
}

func (s *Server) playbackRes(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	pb := s.pbs[id]
	var out map[string]any
	if pb != nil {
		out = pb.jsonLocked()
	}
	s.mu.Unlock()
	if pb == nil {
		writeErr(w, 404, "Playback not found")
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, 200, out)
	case http.MethodDelete:
		s.mu.Lock()
		if pb.rec.State == "queued" || pb.rec.State == "playing" {
			pb.rec.State = "stopped"
		}
		s.mu.Unlock()
		pb.stopOnce.Do(func() { close(pb.stop) })
		w.WriteHeader(204)
	default:
		writeErr(w, 405, "Method not allowed")
	}
}

// applicationJSON is the Application of app with the channels parked.
func (s *Server) applicationJSON(app string, parked []string) map[string]any {
	s.mu.Lock()
	allowed := []map[string]string{}
	for _, t := range slices.Sorted(maps.Keys(s.filters[app])) {
		allowed = append(allowed, map[string]string{"type": t})
	}
	s.mu.Unlock()
	return map[string]any{"name": app, "channel_ids": parked, "bridge_ids": []string{}, "endpoint_ids": []string{}, "device_names": []string{}, "events_allowed": allowed, "events_disallowed": []any{}}
}

// eventFilter serves PUT /applications/{app}/eventFilter: the "allowed"
// list (a "disallowed" list must be empty here). The fake forgets the
// filter when the application's connection goes, as Asterisk does once it
// forgets the application.
func (s *Server) eventFilter(w http.ResponseWriter, r *http.Request, app string) {
	var body struct {
		Allowed, Disallowed []struct {
			Type string `json:"type"`
		}
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.Disallowed) > 0 {
		writeErr(w, 400, "Invalid format definition")
		return
	}
	s.mu.Lock()
	_, reg := s.apps[app]
	if reg {
		f := map[string]bool{}
		for _, t := range body.Allowed {
			f[t.Type] = true
		}
		if s.filters == nil {
			s.filters = map[string]map[string]bool{}
		}
		s.filters[app] = f
	}
	s.mu.Unlock()
	if !reg {
		writeErr(w, 404, "Application not found")
		return
	}
	writeJSON(w, 200, s.applicationJSON(app, nil))
}

// channelRes serves /channels/{id}[/...].
func (s *Server) channelRes(w http.ResponseWriter, r *http.Request, id string, rest []string) {
	s.mu.Lock()
	ch := s.channels[id]
	s.mu.Unlock()
	if ch == nil {
		writeErr(w, 404, "Channel not found")
		return
	}
	q := r.Form
	op := strings.Join(rest, "/")
	if len(rest) == 2 && rest[0] == "play" {
		op = "play"
	}
	switch {
	case op == "" && r.Method == http.MethodGet:
		s.mu.Lock()
		out := ch.jsonLocked()
		s.mu.Unlock()
		writeJSON(w, 200, out)
		return
	case op == "" && r.Method == http.MethodDelete:
		reason := q.Get("reason")
		switch reason {
		case "", "normal", "busy", "congestion", "rejected", "no_answer", "timeout", "unallocated", "normal_unspecified", "failure":
		default:
			writeErr(w, 400, "Invalid reason for hangup provided")
			return
		}
		if reason == "" {
			reason = "normal"
		}
		ch.hang(reason, "hangup", 32, true)
		w.WriteHeader(204)
		return
	case op == "variable" && r.Method == http.MethodGet:
		s.mu.Lock()
		v, ok := ch.vars[q.Get("variable")]
		s.mu.Unlock()
		if !ok {
			writeErr(w, 404, "Provided variable was not found")
			return
		}
		writeJSON(w, 200, map[string]string{"value": v})
		return
	}
	// Everything else needs the channel in Stasis and a usable state.
	s.mu.Lock()
	inStasis, state := ch.inStasis, ch.state
	s.mu.Unlock()
	if !inStasis {
		writeErr(w, 409, "Channel not in Stasis application")
		return
	}
	if state == "Down" || state == "Rsrvd" || state == "Ringing" {
		writeErr(w, 412, "Channel in invalid state")
		return
	}
	switch {
	case op == "answer" && r.Method == http.MethodPost:
		s.sync(w, ch, func() bool {
			s.mu.Lock()
			if ch.state != "Up" {
				ch.state, ch.answered = "Up", true
				s.emitLocked(ch.app, map[string]any{"type": "ChannelStateChange", "channel": ch.jsonLocked()})
			}
			s.mu.Unlock()
			return true
		})
	case op == "variable" && r.Method == http.MethodPost:
		name, value := q.Get("variable"), q.Get("value")
		if name == "" {
			writeErr(w, 400, "Variable name is required")
			return
		}
		s.setVars(w, ch, [][2]string{{name, value}})
	case op == "variables" && r.Method == http.MethodPost && !s.cfg.NoSetVariables:
		var body struct {
			Variables map[string]json.RawMessage `json:"variables"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Variables == nil {
			writeErr(w, 400, "The 'variables' field must be a JSON object")
			return
		}
		var vars [][2]string
		for _, name := range slices.Sorted(maps.Keys(body.Variables)) {
			// A value is a string or {"value": ..., "report_events": ...}.
			var v struct {
				Value string `json:"value"`
			}
			if json.Unmarshal(body.Variables[name], &v.Value) != nil && json.Unmarshal(body.Variables[name], &v) != nil {
				writeErr(w, 400, "Variable values must be strings or objects")
				return
			}
			vars = append(vars, [2]string{name, v.Value})
		}
		s.setVars(w, ch, vars)
	case op == "play" && r.Method == http.MethodPost:
		var media []string
		for _, m := range q["media"] {
			media = append(media, strings.Split(m, ",")...)
		}
		if len(media) == 0 {
			writeErr(w, 400, "Missing parameter media")
			return
		}
		pid := ""
		if len(rest) == 2 {
			pid = rest[1]
		}
		if pid == "" {
			s.mu.Lock()
			s.seq++
			pid = "pb-" + strconv.Itoa(s.seq)
			s.mu.Unlock()
		}
		pb := &playback{id: pid, media: media[0], lang: q.Get("lang"), ch: ch, state: "queued", stop: make(chan struct{}), rec: &Play{ID: pid, Media: media[0], State: "queued"}}
		s.mu.Lock()
		if s.pbs[pid] != nil {
			s.mu.Unlock()
			writeErr(w, 409, "Playback id already in use")
			return
		}
		s.pbs[pid] = pb
		ch.plays = append(ch.plays, pb.rec)
		out := pb.jsonLocked()
		s.mu.Unlock()
		if !ch.enqueue(func() { ch.play(pb) }) {
			writeErr(w, 404, "Channel not found")
			return
		}
		w.Header().Set("Location", "/ari/playbacks/"+url.PathEscape(pid))
		writeJSON(w, 201, out)
	case op == "continue" && r.Method == http.MethodPost:
		ctxName, exten, label := q.Get("context"), q.Get("extension"), q.Get("label")
		prio := 0
		if p := q.Get("priority"); p != "" {
			v, err := strconv.Atoi(p)
			if err != nil || v < 1 {
				writeErr(w, 400, "Invalid priority")
				return
			}
			prio = v
		}
		if label != "" {
			writeErr(w, 404, "Requested label: "+label+" not found")
			return
		}
		ok := ch.enqueue(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if !ch.inStasis {
				return
			}
			res := &Result{Kind: "continue", Context: ch.context, Exten: ch.exten, Answered: ch.answered, At: time.Now()}
			switch {
			case ctxName == "" && exten == "" && prio == 0:
				res.Priority = ch.priority + 1
			default:
				if ctxName != "" {
					res.Context = ctxName
					res.Exten = "s"
				}
				if exten != "" {
					res.Exten = exten
				}
				res.Priority = max(prio, 1)
			}
			ch.result = res
			ch.inStasis = false
			s.emitLocked(ch.app, map[string]any{"type": "StasisEnd", "channel": ch.jsonLocked()})
			delete(s.channels, ch.id)
		})
		if !ok {
			writeErr(w, 404, "Channel not found")
			return
		}
		w.WriteHeader(204)
	case op == "redirect" && r.Method == http.MethodPost:
		ep := q.Get("endpoint")
		if ep == "" {
			writeErr(w, 400, "Required parameter endpoint not provided")
			return
		}
		if !strings.Contains(ep, "/") {
			writeErr(w, 422, "Endpoint parameter 'endpoint' must contain tech/resource")
			return
		}
		w.WriteHeader(204) // like a Local channel: accepted, no effect
	default:
		writeErr(w, 404, "Resource not found")
	}
}

// setVars sets vars (name, value) in order on the channel thread and
// answers 204, or 400 at the first that RefuseVariable refuses (the ones
// before it stay set).
func (s *Server) setVars(w http.ResponseWriter, ch *channel, vars [][2]string) {
	s.sync(w, ch, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, v := range vars {
			if s.cfg.RefuseVariable != nil && s.cfg.RefuseVariable(v[0]) {
				return false
			}
			ch.vars[v[0]] = v[1]
			// As Asterisk does, to every application subscribed to the
			// channel.
			s.emitLocked(ch.app, map[string]any{"type": "ChannelVarset", "variable": v[0], "value": v[1], "channel": ch.jsonLocked()})
		}
		return true
	})
}

// sync runs f on the channel thread and answers when it has run (as
// Asterisk does for answer and set-variable): 204, or 400 "Failed to
// execute function" if f reports false; 404 if the channel went away.
func (s *Server) sync(w http.ResponseWriter, ch *channel, f func() bool) {
	ran := make(chan struct{})
	ok := false
	if !ch.enqueue(func() { ok = f(); close(ran) }) {
		writeErr(w, 404, "Channel not found")
		return
	}
	answer := func() {
		if ok {
			w.WriteHeader(204)
		} else {
			writeErr(w, 400, "Failed to execute function")
		}
	}
	select {
	case <-ran:
		answer()
	case <-ch.done:
		select {
		case <-ran:
			answer()
		default:
			writeErr(w, 500, "Failed to execute command")
		}
	}
}
