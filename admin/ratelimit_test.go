package admin_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vipgate/vipgate/admin"
	"github.com/vipgate/vipgate/gate"
)

// clock is a settable clock for the tests that need time to pass.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// call sends GET /api/v1/gates with token from addr.
func call(h http.Handler, addr, token string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/api/v1/gates", nil)
	req.RemoteAddr = addr
	req.Header.Set("Authorization", "Bearer "+token)
	h.ServeHTTP(rec, req)
	return rec
}

// TestAuthRateLimit guesses tokens from one address as fast as it can:
// after the burst every answer is 429 with Retry-After, even for a right
// token, one Warn line says so, other addresses are not affected, and the
// bucket refills with time.
func TestAuthRateLimit(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	ctx := context.Background()
	good, tok, err := admin.NewToken(gate.RoleViewer, "ops")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	clk := &clock{t: now}
	m := admin.NewMetrics()
	h := admin.NewServer(admin.Deps{Store: st, Now: clk.now, Metrics: m, AuthFailureBurst: 5, AuthFailureRefill: 2 * time.Second,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	const attacker, other = "192.0.2.7:40000", "198.51.100.9:40000"
	wrong := "vg_aaaaaaaaaaaa_" + strings.Repeat("x", 43)
	codes := map[int]int{}
	for range 3000 {
		codes[call(h, attacker, wrong).Code]++
	}
	if codes[http.StatusUnauthorized] != 5 || codes[http.StatusTooManyRequests] != 2995 {
		t.Fatalf("3000 wrong tokens were answered %v, want 5 × 401 and the rest 429", codes)
	}
	rec := call(h, attacker, good)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "2" {
		t.Errorf("right token from the limited address: %d Retry-After %q, want 429 Retry-After 2", rec.Code, rec.Header().Get("Retry-After"))
	}
	if n := strings.Count(logs.String(), "rate-limited"); n != 1 || !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "192.0.2.7") {
		t.Errorf("want one Warn rate-limited line naming the address, got %d in:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), wrong) {
		t.Error("the log holds a presented token")
	}
	if c := call(h, other, good).Code; c != http.StatusOK {
		t.Errorf("right token from another address: %d, want 200", c)
	}
	if c := call(h, other, wrong).Code; c != http.StatusUnauthorized {
		t.Errorf("wrong token from another address: %d, want 401", c)
	}
	// IPv6 addresses share a bucket per /64.
	for i := range 5 {
		call(h, "[2001:db8:1:2::"+string(rune('a'+i))+"]:1", wrong)
	}
	if c := call(h, "[2001:db8:1:2::ffff]:1", wrong).Code; c != http.StatusTooManyRequests {
		t.Errorf("another address of a limited /64: %d, want 429", c)
	}
	clk.advance(2 * time.Second)
	if c := call(h, attacker, good).Code; c != http.StatusOK {
		t.Errorf("right token after the refill: %d, want 200", c)
	}
	if c := call(h, attacker, wrong).Code; c != http.StatusUnauthorized {
		t.Errorf("wrong token after the refill: %d, want 401", c)
	}
	if c := call(h, attacker, wrong).Code; c != http.StatusTooManyRequests {
		t.Errorf("second wrong token after one refill: %d, want 429", c)
	}
	var out bytes.Buffer
	mrec := httptest.NewRecorder()
	m.Handler().ServeHTTP(mrec, httptest.NewRequest("GET", "/metrics", nil))
	out.Write(mrec.Body.Bytes())
	if !strings.Contains(out.String(), `vipgate_admin_auth_failures_total{result="rate_limited"}`) {
		t.Errorf("metrics lack the rate-limited counter")
	}
}

// countingStore counts token reads.
type countingStore struct {
	gate.Store
	reads atomic.Int64
}

func (c *countingStore) GetToken(ctx context.Context, id string) (*gate.Token, error) {
	c.reads.Add(1)
	return c.Store.GetToken(ctx, id)
}

func (c *countingStore) ListTokens(ctx context.Context) ([]*gate.Token, error) {
	c.reads.Add(1)
	return c.Store.ListTokens(ctx)
}

// TestTokenLookupSameWork checks that an unknown token id costs what a
// known one costs: both are answered from the token snapshot, so the time
// of an answer does not tell whether an id exists (a store read per
// unknown id made them measurably slower), and guessing causes no store
// reads.
func TestTokenLookupSameWork(t *testing.T) {
	t.Parallel()
	st := &countingStore{Store: openStore(t)}
	good, tok, err := admin.NewToken(gate.RoleViewer, "ops")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateToken(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	h := admin.NewServer(admin.Deps{Store: st, Now: func() time.Time { return now }, AuthFailureBurst: -1, TokenCacheTTL: time.Minute})
	if c := call(h, "192.0.2.1:1", good).Code; c != http.StatusOK {
		t.Fatalf("right token: %d", c)
	}
	base := st.reads.Load()
	known := good[:len(good)-4] + "AAAA" // the id exists, the secret is wrong
	for i := range 200 {
		unknown := "vg_" + strings.Repeat(string(rune('a'+i%26)), 12) + "_" + strings.Repeat("x", 43)
		if c := call(h, "192.0.2.1:1", unknown).Code; c != http.StatusUnauthorized {
			t.Fatalf("unknown id: %d", c)
		}
		if c := call(h, "192.0.2.1:1", known).Code; c != http.StatusUnauthorized {
			t.Fatalf("known id, wrong secret: %d", c)
		}
	}
	if n := st.reads.Load() - base; n != 0 {
		t.Errorf("400 wrong tokens caused %d store reads, want 0 (unknown and known ids answered alike)", n)
	}
}

// TestTokenExpiry refuses a token after its expiry with 401 and lists the
// expiry.
func TestTokenExpiry(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	ctx := context.Background()
	clear, tok, err := admin.NewToken(gate.RoleAdmin, "temp")
	if err != nil {
		t.Fatal(err)
	}
	tok.ExpiresAt = now.Add(time.Hour)
	if err := st.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: now}
	h := admin.NewServer(admin.Deps{Store: st, Now: clk.now, AuthFailureBurst: -1})
	rec := call(h, "192.0.2.1:1", clear)
	if rec.Code != http.StatusOK {
		t.Fatalf("before expiry: %d", rec.Code)
	}
	lrec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/api/v1/tokens", nil)
	req.Header.Set("Authorization", "Bearer "+clear)
	h.ServeHTTP(lrec, req)
	if !strings.Contains(lrec.Body.String(), `"expires_at":"2026-03-02T11:00:00Z"`) {
		t.Errorf("token list lacks the expiry: %s", lrec.Body.String())
	}
	clk.advance(time.Hour)
	rec = call(h, "192.0.2.1:1", clear)
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "expired") {
		t.Errorf("at expiry: %d %s, want 401 saying expired", rec.Code, rec.Body.String())
	}
}
