package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vipgate/vipgate/webhook"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "webhook:", err)
		os.Exit(1)
	}
}

// run parses the flags, reads the secret and serves until ctx is done.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("webhook", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", "127.0.0.1:8090", "listen address")
	secretFile := fs.String("secret-file", getenv("VIPGATE_WEBHOOK_SECRET_FILE"),
		"file holding the gate's signing secret (env VIPGATE_WEBHOOK_SECRET_FILE)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *secretFile == "" {
		return errors.New("no -secret-file given: the service refuses unsigned requests")
	}
	raw, err := os.ReadFile(*secretFile)
	if err != nil {
		return fmt.Errorf("read secret: %w", err)
	}
	// vipgate trims surrounding white space from the secret file; so do we.
	secret := []byte(strings.TrimSpace(string(raw)))
	if len(secret) == 0 {
		return fmt.Errorf("secret file %s is empty", *secretFile)
	}
	log := slog.New(slog.NewTextHandler(stdout, nil))

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           newServer(secret, exampleDirectory(), time.Now, log),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
	}
	log.Info("webhook listening", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return err
	}
	<-errc // http.ErrServerClosed
	return nil
}

// directory is what the service knows about callers. A real service asks
// its CRM instead.
type directory struct {
	// vip maps E.164 numbers to the PIN the caller must type.
	vip map[string]string
	// blocked numbers are rejected.
	blocked map[string]bool
}

// exampleDirectory is the demo data.
func exampleDirectory() directory {
	return directory{
		vip: map[string]string{
			"+4917612345678": "482915",
			"+498912345678":  "739104",
		},
		blocked: map[string]bool{
			"+4915799999999": true,
		},
	}
}

// maxSkew is how far a request's signature timestamp may lie from now.
const maxSkew = 5 * time.Minute

// server answers vipgate's webhook requests.
type server struct {
	secret []byte
	dir    directory
	now    func() time.Time
	log    *slog.Logger

	mu   sync.Mutex
	seen map[string]time.Time // signature -> when it may be forgotten
}

func newServer(secret []byte, dir directory, now func() time.Time, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &server{secret: secret, dir: dir, now: now, log: log, seen: make(map[string]time.Time)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /decide", s.decide)
	mux.HandleFunc("POST /decide", s.decide)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	})
	return mux
}

// answer is the JSON vipgate understands. Exactly one field is set.
type answer struct {
	AskForPin *askForPin `json:"askForPin,omitempty"`
	Reject    *bool      `json:"reject,omitempty"`
	Forward   string     `json:"forward,omitempty"`
}

type askForPin struct {
	ExpectedPIN string `json:"expectedPIN"`
	MaxRetries  int    `json:"maxRetries,omitempty"`
}

func (s *server) decide(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	now := s.now()
	if err := webhook.Verify(s.secret, r, body, maxSkew, now); err != nil {
		s.log.Warn("refused request", "err", err, "remote", r.RemoteAddr)
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	if !s.firstUse(strings.ToLower(r.Header.Get(webhook.HeaderSignature)), now) {
		s.log.Warn("refused replayed request", "remote", r.RemoteAddr)
		http.Error(w, "replayed request", http.StatusUnauthorized)
		return
	}

	caller, called := r.URL.Query().Get("caller"), r.URL.Query().Get("called")
	if r.Method == http.MethodPost && len(body) > 0 {
		var in struct{ Caller, Called string }
		if err := json.Unmarshal(body, &in); err != nil {
			http.Error(w, "body must be JSON", http.StatusBadRequest)
			return
		}
		caller, called = in.Caller, in.Called
	}
	if caller == "" {
		http.Error(w, "no caller number", http.StatusBadRequest)
		return
	}

	var a answer
	verdict := "pass"
	switch pin, vip := s.dir.vip[caller]; {
	case vip:
		a.AskForPin = &askForPin{ExpectedPIN: pin, MaxRetries: 3}
		verdict = "ask_pin"
	case s.dir.blocked[caller]:
		a.Reject = ptr(true)
		verdict = "reject"
	default:
		a.Reject = ptr(false)
	}
	// Never log the PIN; numbers are personal data, log them only if your
	// policy allows it.
	s.log.Info("decided", "verdict", verdict, "gate", r.Header.Get("X-Vipgate-Gate"), "called", called)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(a)
}

// firstUse records sig and reports whether it was not seen before. A
// signature is kept for twice the allowed skew, the longest time in which
// Verify could accept it again; older ones are dropped.
func (s *server) firstUse(sig string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, until := range s.seen {
		if now.After(until) {
			delete(s.seen, k)
		}
	}
	if _, dup := s.seen[sig]; dup {
		return false
	}
	s.seen[sig] = now.Add(2 * maxSkew)
	return true
}

func ptr[T any](v T) *T { return &v }
