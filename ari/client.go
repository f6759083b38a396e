package ari

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// DefaultRequestTimeout bounds one REST request when ClientConfig sets none.
const DefaultRequestTimeout = 5 * time.Second

// ClientConfig configures a Client.
type ClientConfig struct {
	// BaseURL is the ARI root, e.g. "http://127.0.0.1:8088/ari".
	BaseURL string
	// User and Password are an ari.conf user; they are sent as an HTTP
	// Basic Authorization header, never in a URL.
	User     string
	Password Secret
	// HTTPClient is used for every request; nil means a client of its own
	// with keep-alive connections.
	HTTPClient *http.Client
	// RequestTimeout bounds each request (default 5s).
	RequestTimeout time.Duration
	// Logger gets one Debug line per request (method, path, status); nil
	// discards.
	Logger *slog.Logger
}

// IdleConnTimeout is how long the default client keeps an idle HTTP
// connection to Asterisk. Asterisk's HTTP server closes a connection idle
// for session_keep_alive (http.conf, 15 s by default); a request sent on a
// connection at the moment Asterisk closes it fails with EOF and, being a
// POST, is not retried by net/http. Dropping idle connections well before
// that keeps requests off connections Asterisk is about to close.
const IdleConnTimeout = 10 * time.Second

// NewTransport returns the HTTP transport of a Client that is given no
// HTTPClient: net/http's default transport with up to 64 idle keep-alive
// connections per Asterisk (the default 2 would close and reopen
// connections whenever more than two calls send requests at once) that
// are dropped after IdleConnTimeout.
func NewTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	t.IdleConnTimeout = IdleConnTimeout
	return t
}

// Client calls the ARI REST interface of one Asterisk. It is safe for
// concurrent use. Every method blocks until Asterisk answers, the request
// timeout expires or ctx is done, and returns an *Error that unwraps to a
// gate sentinel (see Error).
type Client struct {
	base    *url.URL
	user    string
	pass    Secret
	http    *http.Client
	timeout time.Duration
	log     *slog.Logger
	auth    string // the Authorization header, "" without credentials
	// noVarsBatch is set once Asterisk has shown it lacks
	// POST /channels/{id}/variables.
	noVarsBatch atomic.Bool
}

// NewClient returns a Client for cfg.
func NewClient(cfg ClientConfig) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("ari: base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("ari: base URL %q: scheme must be http or https", u.Redacted())
	}
	if u.User != nil {
		return nil, fmt.Errorf("ari: base URL %q: put credentials in User and Password, not in the URL", u.Redacted())
	}
	c := &Client{base: u, user: cfg.User, pass: cfg.Password, http: cfg.HTTPClient, timeout: cfg.RequestTimeout, log: cfg.Logger}
	if c.http == nil {
		c.http = &http.Client{Transport: NewTransport()}
	}
	if c.timeout <= 0 {
		c.timeout = DefaultRequestTimeout
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.user != "" || c.pass != "" {
		// Encoded once, not for every request.
		r := http.Request{Header: http.Header{}}
		r.SetBasicAuth(c.user, c.pass.Reveal())
		c.auth = r.Header.Get("Authorization")
	}
	return c, nil
}

// BaseURL returns the ARI root the client talks to.
func (c *Client) BaseURL() string { return c.base.String() }

// authorize sets the Basic Authorization header on h.
func (c *Client) authorize(h http.Header) {
	if c.auth != "" {
		h.Set("Authorization", c.auth)
	}
}

// request describes one REST call.
type request struct {
	op      string
	method  string
	path    string // below the base, starting with "/"
	query   url.Values
	body    any
	channel bool // addresses a channel: 404 means hang-up
}

// do performs r and decodes a JSON answer into out (if non-nil).
func (c *Client) do(ctx context.Context, r request, out any) error {
	u := *c.base
	u.Path += r.path
	u.RawQuery = r.query.Encode()
	var body io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return &Error{Op: r.op, Method: r.method, Path: r.path, Err: err}
		}
		body = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return &Error{Op: r.op, Method: r.method, Path: r.path, Err: err}
	}
	c.authorize(req.Header)
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.log.Debug("ari request failed", "op", r.op, "method", r.method, "path", r.path, "duration", time.Since(start))
		return &Error{Op: r.op, Method: r.method, Path: r.path, Err: transportErr(ctx, err)}
	}
	defer func() {
		// Drain so that the connection goes back to the keep-alive pool.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
	}()
	c.log.Debug("ari request", "op", r.op, "method", r.method, "path", r.path, "status", resp.StatusCode, "duration", time.Since(start))
	if resp.StatusCode >= 300 {
		var msg struct {
			Message string `json:"message"`
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		if json.Unmarshal(b, &msg) != nil {
			msg.Message = strings.TrimSpace(string(b))
		}
		return &Error{Op: r.op, Method: r.method, Path: r.path, Status: resp.StatusCode, Message: msg.Message, Err: statusErr(resp.StatusCode, msg.Message, r.channel)}
	}
	if out != nil {
		if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(out); err != nil {
			return &Error{Op: r.op, Method: r.method, Path: r.path, Status: resp.StatusCode, Err: fmt.Errorf("decode answer: %w", err)}
		}
	}
	return nil
}

// transportErr classifies a failed round trip: the caller's cancellation
// keeps its cause; the request timeout is gate.ErrTimeout; anything else is
// gate.ErrUnavailable.
func transportErr(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil {
		if errors.Is(cause, context.DeadlineExceeded) {
			return fmt.Errorf("%w: %w", gate.ErrTimeout, cause)
		}
		return cause
	}
	return fmt.Errorf("%w: %w", gate.ErrUnavailable, err)
}

func chanPath(id string, rest ...string) string {
	p := "/channels/" + url.PathEscape(id)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// Answer answers a channel. Asterisk answers synchronously, behind any
// running playback.
func (c *Client) Answer(ctx context.Context, channelID string) error {
	return c.do(ctx, request{op: "answer", method: http.MethodPost, path: chanPath(channelID, "answer"), channel: true}, nil)
}

// Play queues media on a channel under our own playbackID
// (POST /channels/{id}/play/{playbackId}). lang may be empty.
func (c *Client) Play(ctx context.Context, channelID, playbackID string, media []string, lang string) (*Playback, error) {
	var pb Playback
	if err := c.play(ctx, channelID, playbackID, media, lang, &pb); err != nil {
		return nil, err
	}
	return &pb, nil
}

// play is Play that decodes Asterisk's answer into out, or (nil) skips it.
func (c *Client) play(ctx context.Context, channelID, playbackID string, media []string, lang string, out *Playback) error {
	q := url.Values{}
	for _, m := range media {
		q.Add("media", m)
	}
	if lang != "" {
		q.Set("lang", lang)
	}
	var o any
	if out != nil {
		o = out
	}
	return c.do(ctx, request{op: "play", method: http.MethodPost, path: chanPath(channelID, "play", url.PathEscape(playbackID)), query: q, channel: true}, o)
}

// StopPlayback stops a playback. A playback that has finished already gives
// an error matching gate.ErrNotFound.
func (c *Client) StopPlayback(ctx context.Context, playbackID string) error {
	return c.do(ctx, request{op: "stop playback", method: http.MethodDelete, path: "/playbacks/" + url.PathEscape(playbackID)}, nil)
}

// GetPlayback returns a playback; once it has ended Asterisk forgets it and
// the error matches gate.ErrNotFound.
func (c *Client) GetPlayback(ctx context.Context, playbackID string) (*Playback, error) {
	var pb Playback
	if err := c.do(ctx, request{op: "get playback", method: http.MethodGet, path: "/playbacks/" + url.PathEscape(playbackID)}, &pb); err != nil {
		return nil, err
	}
	return &pb, nil
}

// Continue sends a channel back to the dialplan. With every argument empty
// (priority 0) it resumes right after Stasis(). label, if set, overrides
// priority.
func (c *Client) Continue(ctx context.Context, channelID, dialContext, exten string, priority int, label string) error {
	q := url.Values{}
	if dialContext != "" {
		q.Set("context", dialContext)
	}
	if exten != "" {
		q.Set("extension", exten)
	}
	if priority > 0 {
		q.Set("priority", strconv.Itoa(priority))
	}
	if label != "" {
		q.Set("label", label)
	}
	return c.do(ctx, request{op: "continue", method: http.MethodPost, path: chanPath(channelID, "continue"), query: q, channel: true}, nil)
}

// Redirect transfers a channel to endpoint ("PJSIP/sip:1234@host"). Channel
// technologies without transfer support (Local) ignore it although Asterisk
// answers 204.
func (c *Client) Redirect(ctx context.Context, channelID, endpoint string) error {
	q := url.Values{"endpoint": {endpoint}}
	return c.do(ctx, request{op: "redirect", method: http.MethodPost, path: chanPath(channelID, "redirect"), query: q, channel: true}, nil)
}

// Hangup hangs a channel up with reason (normal, busy, congestion,
// rejected, ...; "" means normal).
func (c *Client) Hangup(ctx context.Context, channelID, reason string) error {
	q := url.Values{}
	if reason != "" {
		q.Set("reason", reason)
	}
	return c.do(ctx, request{op: "hangup", method: http.MethodDelete, path: chanPath(channelID), query: q, channel: true}, nil)
}

// GetVar reads a channel variable or function ("CALLERID(dnid)"). An unset
// variable gives an error matching gate.ErrNotFound.
func (c *Client) GetVar(ctx context.Context, channelID, name string) (string, error) {
	var v struct {
		Value string `json:"value"`
	}
	err := c.do(ctx, request{op: "get variable", method: http.MethodGet, path: chanPath(channelID, "variable"), query: url.Values{"variable": {name}}, channel: true}, &v)
	return v.Value, err
}

// SetVar sets a channel variable. Asterisk sets it synchronously, behind
// any running playback.
func (c *Client) SetVar(ctx context.Context, channelID, name, value string) error {
	q := url.Values{"variable": {name}, "value": {value}}
	return c.do(ctx, request{op: "set variable", method: http.MethodPost, path: chanPath(channelID, "variable"), query: q, channel: true}, nil)
}

// SetVars sets channel variables. On an Asterisk that has
// POST /channels/{id}/variables (22.10, 20.20, 23.4 and later) they go in
// one request; on an older one, or when Asterisk refuses one of them
// (400), they are set one request each, so that one that cannot be set
// does not keep the others from being set. The error is then a join of a
// *VarError for each variable that failed; any other error means none was
// set.
func (c *Client) SetVars(ctx context.Context, channelID string, vars []gate.Var) error {
	switch len(vars) {
	case 0:
		return nil
	case 1:
		return c.setVarsOneByOne(ctx, channelID, vars)
	}
	if !c.noVarsBatch.Load() {
		body := struct {
			Variables map[string]string `json:"variables"`
		}{make(map[string]string, len(vars))}
		for _, v := range vars {
			body.Variables[v.Name] = v.Value
		}
		err := c.do(ctx, request{op: "set variables", method: http.MethodPost, path: chanPath(channelID, "variables"), body: body, channel: true}, nil)
		var ae *Error
		switch {
		case err == nil:
			return nil
		case errors.As(err, &ae) && ae.Status == http.StatusNotFound && ae.Message == "Resource not found":
			// Asterisk's answer for a path it does not know: a version
			// from before the request existed.
			if c.noVarsBatch.CompareAndSwap(false, true) {
				c.log.Info("ari: this Asterisk cannot set several variables in one request (22.10 and later can); setting them one by one")
			}
		case !errors.Is(err, gate.ErrInvalid) || errors.Is(err, gate.ErrHangup):
			// Nothing was set, and one by one would fare no better.
			return err
		}
		// Asterisk stopped at a variable it refused (400): find out which.
	}
	return c.setVarsOneByOne(ctx, channelID, vars)
}

// setVarsOneByOne sets vars with one POST /channels/{id}/variable each. A
// hangup ends it.
func (c *Client) setVarsOneByOne(ctx context.Context, channelID string, vars []gate.Var) error {
	var errs []error
	for _, v := range vars {
		if err := c.SetVar(ctx, channelID, v.Name, v.Value); err != nil {
			if errors.Is(err, gate.ErrHangup) || ctx.Err() != nil {
				return err
			}
			errs = append(errs, &VarError{Name: v.Name, Err: err})
		}
	}
	return errors.Join(errs...)
}

// GetChannel returns a channel snapshot; a gone channel matches
// gate.ErrHangup.
func (c *Client) GetChannel(ctx context.Context, channelID string) (*Channel, error) {
	var ch Channel
	if err := c.do(ctx, request{op: "get channel", method: http.MethodGet, path: chanPath(channelID), channel: true}, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// OriginateRequest is a new outgoing channel. Either App or Extension must
// be set.
type OriginateRequest struct {
	Endpoint  string
	Extension string
	Context   string
	Priority  int
	Label     string
	App       string
	AppArgs   string
	CallerID  string
	// Timeout in seconds; 0 means Asterisk's default (30), -1 none.
	Timeout        int
	ChannelID      string
	OtherChannelID string
	// Variables are sent in the JSON body. Prefix a name with "__" to make
	// it inherited by both halves of a Local channel.
	Variables map[string]string
}

// Originate creates a channel. It returns when Asterisk has accepted the
// request (the channel is still Down; dialing is asynchronous).
func (c *Client) Originate(ctx context.Context, o OriginateRequest) (*Channel, error) {
	q := url.Values{"endpoint": {o.Endpoint}}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("extension", o.Extension)
	set("context", o.Context)
	set("label", o.Label)
	set("app", o.App)
	set("appArgs", o.AppArgs)
	set("callerId", o.CallerID)
	set("channelId", o.ChannelID)
	set("otherChannelId", o.OtherChannelID)
	if o.Priority > 0 {
		q.Set("priority", strconv.Itoa(o.Priority))
	}
	if o.Timeout != 0 {
		q.Set("timeout", strconv.Itoa(o.Timeout))
	}
	body := struct {
		Variables map[string]string `json:"variables,omitempty"`
	}{o.Variables}
	var ch Channel
	if err := c.do(ctx, request{op: "originate", method: http.MethodPost, path: "/channels", query: q, body: body}, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// Ping checks that Asterisk answers (GET /asterisk/ping).
func (c *Client) Ping(ctx context.Context) (*AsteriskPing, error) {
	var p AsteriskPing
	if err := c.do(ctx, request{op: "ping", method: http.MethodGet, path: "/asterisk/ping"}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Info returns build and system information (GET /asterisk/info).
func (c *Client) Info(ctx context.Context) (*AsteriskInfo, error) {
	var i AsteriskInfo
	if err := c.do(ctx, request{op: "info", method: http.MethodGet, path: "/asterisk/info"}, &i); err != nil {
		return nil, err
	}
	return &i, nil
}

// GetApplication returns an application with the ids of the channels in it;
// an unknown application matches gate.ErrNotFound.
func (c *Client) GetApplication(ctx context.Context, name string) (*Application, error) {
	var a Application
	if err := c.do(ctx, request{op: "get application", method: http.MethodGet, path: "/applications/" + url.PathEscape(name)}, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// FilterEvents sets the event filter of application app to the event
// types allowed (PUT /applications/{app}/eventFilter, Asterisk 13.26 and
// 16.3 and later): Asterisk then sends it no other events. The filter
// belongs to the application, which Asterisk forgets once no connection
// and no channel hold it, so it is set again on each connection. An
// unknown application matches gate.ErrNotFound.
func (c *Client) FilterEvents(ctx context.Context, app string, allowed []string) (*Application, error) {
	body := struct {
		Allowed    []EventType `json:"allowed"`
		Disallowed []EventType `json:"disallowed"`
	}{Allowed: make([]EventType, 0, len(allowed)), Disallowed: []EventType{}}
	for _, t := range allowed {
		body.Allowed = append(body.Allowed, EventType{t})
	}
	var a Application
	if err := c.do(ctx, request{op: "filter events", method: http.MethodPut, path: "/applications/" + url.PathEscape(app) + "/eventFilter", body: body}, &a); err != nil {
		return nil, err
	}
	return &a, nil
}
