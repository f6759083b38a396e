package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Signature headers sent with every signed request.
const (
	HeaderTimestamp = "X-Vipgate-Timestamp"
	HeaderSignature = "X-Vipgate-Signature"
)

// DefaultMaxSkew is the clock difference Verify tolerates when given 0.
const DefaultMaxSkew = 5 * time.Minute

// Errors of Verify, wrapped with details.
var (
	ErrUnsigned     = errors.New("request is not signed")
	ErrStale        = errors.New("signature timestamp outside the allowed skew")
	ErrBadSignature = errors.New("signature does not match")
)

// Secret is a signing key. It never prints: String, GoString, LogValue and
// MarshalText redact it.
type Secret []byte

// String redacts the secret.
func (Secret) String() string { return "[secret]" }

// GoString redacts the secret.
func (Secret) GoString() string { return "[secret]" }

// LogValue redacts the secret.
func (Secret) LogValue() slog.Value { return slog.StringValue("[secret]") }

// MarshalText redacts the secret.
func (Secret) MarshalText() ([]byte, error) { return []byte("[secret]"), nil }

// Sign returns the hex HMAC-SHA-256, keyed with secret, of
//
//	timestamp + "\n" + method + "\n" + url + "\n" + body
//
// where timestamp is decimal unix seconds, method is upper case ("GET",
// "POST") and url is the absolute request URL as sent:
// scheme://host[:port]/path?query, without user info or fragment.
func Sign(secret []byte, timestamp int64, method, url string, body []byte) string {
	st := &hmacState{h: hmac.New(sha256.New, secret)}
	return st.sign(timestamp, method, url, body)
}

// hmacState is a keyed HMAC-SHA-256 with a scratch buffer.
type hmacState struct {
	h   hash.Hash
	buf []byte
}

// sign returns the hex signature and leaves st ready for the next one.
func (st *hmacState) sign(timestamp int64, method, url string, body []byte) string {
	b := strconv.AppendInt(st.buf[:0], timestamp, 10)
	b = append(b, '\n')
	b = append(b, method...)
	b = append(b, '\n')
	b = append(b, url...)
	b = append(b, '\n')
	st.h.Write(b)
	st.h.Write(body)
	sum := st.h.Sum(b[:0])
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], sum)
	st.h.Reset()
	clear(sum)
	st.buf = sum[:0]
	return string(out[:])
}

// signer signs with pooled HMAC states, so a request does not rebuild the
// keyed state. The pool follows the key: a new key replaces it.
type signer struct {
	cur atomic.Pointer[keyedPool]
}

type keyedPool struct {
	key  []byte // a copy of the key
	pool sync.Pool
}

// sign is Sign with a pooled HMAC state for key.
func (s *signer) sign(key []byte, timestamp int64, method, url string, body []byte) string {
	kp := s.cur.Load()
	if kp == nil || !hmac.Equal(kp.key, key) {
		k := bytes.Clone(key)
		kp = &keyedPool{key: k}
		kp.pool.New = func() any { return &hmacState{h: hmac.New(sha256.New, k), buf: make([]byte, 0, 256)} }
		s.cur.Store(kp)
	}
	st := kp.pool.Get().(*hmacState)
	defer kp.pool.Put(st)
	return st.sign(timestamp, method, url, body)
}

// Verify checks the signature of a request that a vipgate webhook receives.
// body is the request body as read (empty for GET). The timestamp must lie
// within maxSkew of now (DefaultMaxSkew if maxSkew is 0).
//
// The signed URL is r.URL when it is absolute (a client-side request);
// otherwise it is rebuilt as scheme + "://" + r.Host + r.RequestURI, with
// scheme "https" when r.TLS is set. Behind a proxy that terminates TLS or
// rewrites the host, set r.URL.Scheme and r.URL.Host to the public values
// vipgate calls before calling Verify.
//
// Verify does not remember signatures; a receiver that must refuse replays
// within the skew window keeps the signatures it has seen.
func Verify(secret []byte, r *http.Request, body []byte, maxSkew time.Duration, now time.Time) error {
	if len(secret) == 0 {
		return errors.New("webhook: verify: empty secret")
	}
	if maxSkew <= 0 {
		maxSkew = DefaultMaxSkew
	}
	tsText, sigText := r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature)
	if tsText == "" || sigText == "" {
		return fmt.Errorf("webhook: verify: %w", ErrUnsigned)
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook: verify: malformed %s: %w", HeaderTimestamp, ErrBadSignature)
	}
	skew := now.Sub(time.Unix(ts, 0))
	if skew < -maxSkew || skew > maxSkew {
		return fmt.Errorf("webhook: verify: timestamp %d is %s away from now: %w", ts, skew.Round(time.Second), ErrStale)
	}
	got, err := hex.DecodeString(sigText)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("webhook: verify: malformed %s: %w", HeaderSignature, ErrBadSignature)
	}
	want, _ := hex.DecodeString(Sign(secret, ts, r.Method, requestURL(r), body))
	if !hmac.Equal(got, want) {
		return fmt.Errorf("webhook: verify: %w", ErrBadSignature)
	}
	return nil
}

// requestURL is the URL a request was signed with, as seen by a receiver.
func requestURL(r *http.Request) string {
	if r.URL != nil && r.URL.Scheme != "" && r.URL.Host != "" {
		return r.URL.Scheme + "://" + r.URL.Host + r.URL.RequestURI()
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	uri := r.RequestURI
	if !strings.HasPrefix(uri, "/") && r.URL != nil {
		uri = r.URL.RequestURI()
	}
	return scheme + "://" + r.Host + uri
}

// secretFiles reads signing keys from files, caching each until the file's
// modification time or size changes.
type secretFiles struct {
	mu    sync.Mutex
	files map[string]secretFile
}

type secretFile struct {
	mod  time.Time
	size int64
	key  Secret
}

// load returns the key in path, with surrounding white space removed.
func (s *secretFiles) load(path string) (Secret, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	e, ok := s.files[path]
	s.mu.Unlock()
	if ok && e.mod.Equal(fi.ModTime()) && e.size == fi.Size() {
		return e.key, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key := Secret(bytes.TrimSpace(raw))
	if len(key) == 0 {
		return nil, fmt.Errorf("secret file %s is empty", path)
	}
	s.mu.Lock()
	if s.files == nil {
		s.files = make(map[string]secretFile)
	}
	s.files[path] = secretFile{mod: fi.ModTime(), size: fi.Size(), key: key}
	s.mu.Unlock()
	return key, nil
}
