package webhook

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// TestSameConfigCoversEveryField fails when gate.WebhookConfig grows a
// field that sameConfig does not compare: each field is changed in turn.
func TestSameConfigCoversEveryField(t *testing.T) {
	base := gate.WebhookConfig{URL: "http://h/x", Headers: map[string]string{"A": "1"}}
	rv := reflect.ValueOf(&base).Elem()
	for i := range rv.NumField() {
		f := rv.Type().Field(i)
		t.Run(f.Name, func(t *testing.T) {
			changed := base
			changed.Headers = map[string]string{"A": "1"}
			fv := reflect.ValueOf(&changed).Elem().Field(i)
			switch fv.Kind() {
			case reflect.String:
				fv.SetString(fv.String() + "x")
			case reflect.Int, reflect.Int64:
				fv.SetInt(fv.Int() + 1)
			case reflect.Map:
				fv.Set(reflect.ValueOf(map[string]string{"A": "2"}))
			default:
				t.Fatalf("field %s of kind %s: teach sameConfig and this test", f.Name, fv.Kind())
			}
			if sameConfig(&base, &changed) {
				t.Errorf("sameConfig misses a change of %s", f.Name)
			}
			if !sameConfig(&base, &base) {
				t.Errorf("sameConfig(x, x) = false")
			}
		})
	}
}

func TestExpandOnePass(t *testing.T) {
	tests := []struct {
		tmpl, caller, called, want string
	}{
		{"a=###CALLER_NUMBER###&b=###CALLED_NUMBER###", "+49", "+4930", "a=+49&b=+4930"},
		{"###CALLER_NUMBER######CALLED_NUMBER###", "1", "2", "12"},
		{"#####CALLER_NUMBER###", "1", "2", "##1"},
		{"x###y", "1", "2", "x###y"},
		{"###CALLER_NUMBER###", "###CALLED_NUMBER###", "2", "###CALLED_NUMBER###"},
		{"no placeholder", "1", "2", "no placeholder"},
	}
	for _, tt := range tests {
		if got := expand(tt.tmpl, tt.caller, tt.called, plain); got != tt.want {
			t.Errorf("expand(%q) = %q, want %q", tt.tmpl, got, tt.want)
		}
	}
}

func TestTimeoutCapped(t *testing.T) {
	a := New(Config{})
	tests := []struct {
		configured, want time.Duration
	}{
		{0, DefaultTimeout},
		{-time.Second, DefaultTimeout},
		{2 * time.Second, 2 * time.Second},
		{MaxTimeout, MaxTimeout},
		{time.Hour, MaxTimeout},
	}
	for _, tt := range tests {
		st, err := a.newState("hotline", &gate.WebhookConfig{URL: "http://127.0.0.1/x", Timeout: gate.Duration(tt.configured)})
		if err != nil {
			t.Fatal(err)
		}
		if st.timeout != tt.want {
			t.Errorf("Timeout %v: effective timeout %v, want %v", tt.configured, st.timeout, tt.want)
		}
	}
}

// TestAnswerBuffersCleared checks that no copy of an answer, which may
// hold a PIN, is left behind in memory vipgate drops: neither the small
// buffer an answer outgrew nor, after putBody, the buffer it was read
// into, also when that one is too large to be pooled.
func TestAnswerBuffersCleared(t *testing.T) {
	for _, size := range []int{100, 600, 6 << 10} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			answer := `{askForPin:{expectedPIN:"4711"}}` + strings.Repeat(" ", size)
			b := make([]byte, 0, 512)
			first := b[:cap(b)] // the pooled buffer as it was handed out
			buf := &b
			resp := &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader(answer))}
			data, err := readBody(buf, resp)
			if err != nil || string(data) != answer {
				t.Fatalf("readBody = %d bytes, %v; want the %d-byte answer", len(data), err, len(answer))
			}
			if _, perr := parseAnswer(data); perr != nil {
				t.Fatalf("parseAnswer: %v", perr)
			}
			kept := (*buf)[:cap(*buf)]
			grew := cap(kept) != cap(first)
			putBody(buf)
			if grew && !zeroed(first) {
				t.Error("the buffer the answer outgrew still holds answer bytes")
			}
			if !zeroed(kept) {
				t.Errorf("a %d-byte buffer still holds answer bytes after putBody", cap(kept))
			}
		})
	}
}

func zeroed(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// TestCATransportPerCertificateSet checks that gates whose CA files hold
// the same contents share one transport (and its connections), that
// other contents get another, and that the last gate to stop using
// one lets it go.
func TestCATransportPerCertificateSet(t *testing.T) {
	dir := t.TempDir()
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	write := func(name string, pem []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// b.pem holds other contents (the certificate twice).
	caA, caA2, caB := write("a.pem", block), write("a-copy.pem", block), write("b.pem", bytes.Repeat(block, 2))

	a := New(Config{})
	gateWith := func(id, ca string) *gate.Gate {
		return &gate.Gate{ID: id, Identification: gate.Identification{Mode: gate.IdentWebhook, Webhook: &gate.WebhookConfig{URL: "https://127.0.0.1/x", CAFile: ca}}}
	}
	rt := func(g *gate.Gate) http.RoundTripper {
		t.Helper()
		st, err := a.state(g)
		if err != nil {
			t.Fatal(err)
		}
		return st.rt
	}
	g1, g2, g3 := gateWith("one", caA), gateWith("two", caA2), gateWith("three", caB)
	t1, t2, t3 := rt(g1), rt(g2), rt(g3)
	if t1 != t2 {
		t.Error("two CA files with the same certificate got two transports")
	}
	if t1 == t3 || t1 == a.base {
		t.Error("another certificate shares a transport")
	}
	if rt(g1) != t1 {
		t.Error("a second call built another transport")
	}
	if len(a.cas) != 2 {
		t.Errorf("%d CA transports, want 2", len(a.cas))
	}
	// Gate three drops its CA file: its transport goes; gate one keeps
	// the shared one while gate two still uses it.
	g3.Identification.Webhook.CAFile = ""
	g1.Identification.Webhook.CAFile = caB
	if rt(g3) != a.base {
		t.Error("a gate without a CA file does not use the base transport")
	}
	if rt(g1) == t1 || rt(g2) != t2 {
		t.Error("changed CA files did not change the transports")
	}
	if len(a.cas) != 2 {
		t.Errorf("%d CA transports, want 2 (a.pem's for gate two, b.pem's for gate one)", len(a.cas))
	}
	g2.Identification.Webhook.CAFile = ""
	rt(g2)
	if len(a.cas) != 1 {
		t.Errorf("%d CA transports after the last user of a.pem went, want 1", len(a.cas))
	}
}

// slotFreeingContext is a done context whose Done frees a request slot
// first: the wait for a slot then sees a free slot and the deadline at the
// same time.
type slotFreeingContext struct {
	context.Context
	sem chan struct{}
}

func (c slotFreeingContext) Done() <-chan struct{} {
	select {
	case <-c.sem:
	default:
	}
	return c.Context.Done()
}

// TestSlotWaitUntilTheDeadlineIsOverload: a call that waited for a request
// slot until its deadline is an overload, also when a slot frees up just
// as the deadline strikes; it holds no slot and sends nothing.
func TestSlotWaitUntilTheDeadlineIsOverload(t *testing.T) {
	a := New(Config{})
	st, serr := a.newState("hotline", &gate.WebhookConfig{URL: "http://127.0.0.1/x", MaxConcurrent: 1})
	if serr != nil {
		t.Fatal(serr)
	}
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	ctx := slotFreeingContext{expired, st.sem}
	for i := range 64 { // select picks at random among ready cases
		st.sem <- struct{}{} // the one slot is busy
		if e := a.acquire(ctx, st); e == nil || e.Class != ClassOverload {
			t.Fatalf("wait %d: %v, want class overload", i, e)
		}
		if len(st.sem) != 0 {
			t.Fatalf("wait %d: the failed wait holds a slot", i)
		}
	}
}
