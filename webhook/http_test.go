package webhook_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
	"github.com/vipgate/vipgate/internal/nettest"
	"github.com/vipgate/vipgate/webhook"
)

// scriptedServer accepts connections and runs serve on each; serve gets
// the connection's index and a reader positioned at the first request.
func scriptedServer(t *testing.T, serve func(i int, c net.Conn, br *bufio.Reader)) (string, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	addr := nettest.Serve(t, func(c net.Conn) {
		serve(int(conns.Add(1))-1, c, bufio.NewReader(c))
	})
	return "http://" + addr.String(), &conns
}

// readRequest reads one request and its body; nil when the connection
// ends first.
func readRequest(br *bufio.Reader) (*http.Request, string) {
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, ""
	}
	b, _ := io.ReadAll(req.Body)
	return req, string(b)
}

const okAnswer = "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n{reject:false}"

// TestServerClosesIdleConnections has the webhook end a kept-alive
// connection after its answer, as servers do when their idle timeout
// strikes (some write a 408 first): the next call still succeeds, GET and
// POST, and the server sees each call's request once.
func TestServerClosesIdleConnections(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		for _, tt := range []struct {
			name  string
			after func(c net.Conn)
		}{
			{"close", func(net.Conn) {}},
			{"408 then close", func(c net.Conn) {
				io.WriteString(c, "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
			}},
		} {
			t.Run(method+" "+tt.name, func(t *testing.T) {
				var requests atomic.Int64
				url, conns := scriptedServer(t, func(i int, c net.Conn, br *bufio.Reader) {
					if req, _ := readRequest(br); req == nil {
						return
					}
					requests.Add(1)
					io.WriteString(c, okAnswer)
					time.Sleep(10 * time.Millisecond)
					tt.after(c)
				})
				a := webhook.New(webhook.Config{})
				defer a.CloseIdleConnections()
				g := webhookGate(url, func(wc *gate.WebhookConfig) { wc.Method = method })
				for i := range 3 {
					ans, err := authorize(t, a, g, callReq)
					if err != nil || ans.Kind != gate.AnswerPass {
						t.Fatalf("call %d: %v, %v", i, ans.Kind, err)
					}
					time.Sleep(50 * time.Millisecond) // the server closes meanwhile
				}
				if r, n := requests.Load(), conns.Load(); r != 3 || n != 3 {
					t.Errorf("%d requests on %d connections, want 3 on 3", r, n)
				}
			})
		}
	}
}

// TestRequestSentAgainAfterAnIdleClose has the server close a kept-alive
// connection just as the next request arrives, without an answer: the
// request, a POST too, goes out once more on a new connection.
func TestRequestSentAgainAfterAnIdleClose(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		t.Run(method, func(t *testing.T) {
			var mu sync.Mutex
			var bodies []string
			url, conns := scriptedServer(t, func(i int, c net.Conn, br *bufio.Reader) {
				for n := 0; ; n++ {
					req, body := readRequest(br)
					if req == nil {
						return
					}
					mu.Lock()
					bodies = append(bodies, body)
					mu.Unlock()
					if i == 0 && n == 1 {
						return // closed for idleness as the request came
					}
					io.WriteString(c, okAnswer)
				}
			})
			a := webhook.New(webhook.Config{})
			defer a.CloseIdleConnections()
			g := webhookGate(url, func(wc *gate.WebhookConfig) { wc.Method = method })
			for i := range 2 {
				if _, err := authorize(t, a, g, callReq); err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
			}
			if n := conns.Load(); n != 2 {
				t.Errorf("%d connections, want 2", n)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(bodies) != 3 || bodies[1] != bodies[2] {
				t.Errorf("server saw bodies %q, want 3, the last two the same", bodies)
			}
		})
	}
}

// TestRefusedBeforeTheWire checks that a configured header or URL that
// could add a header or end the request line early is a configuration
// error: nothing is sent and the error does not quote the value.
func TestRefusedBeforeTheWire(t *testing.T) {
	srv, hits := answerServer(t, 200, `{reject:false}`)
	tests := []struct {
		name string
		mod  func(*gate.WebhookConfig)
	}{
		{"CRLF in a header value", func(wc *gate.WebhookConfig) { wc.Headers = map[string]string{"X-Token": "abc\r\nX-Evil: 1"} }},
		{"LF in a header value", func(wc *gate.WebhookConfig) { wc.Headers = map[string]string{"X-Token": "abc\nX-Evil: 1"} }},
		{"NUL in a header value", func(wc *gate.WebhookConfig) { wc.Headers = map[string]string{"X-Token": "abc\x00"} }},
		{"CRLF in the Host header", func(wc *gate.WebhookConfig) { wc.Headers = map[string]string{"host": "abc\r\nX-Evil: 1"} }},
		{"space in a header name", func(wc *gate.WebhookConfig) { wc.Headers = map[string]string{"X Token": "abc"} }},
		{"colon in a header name", func(wc *gate.WebhookConfig) { wc.Headers = map[string]string{"X-Token:": "abc"} }},
		{"space in the query", func(wc *gate.WebhookConfig) { wc.URL += "?a=abc HTTP/1.1" }},
		{"CRLF in the query", func(wc *gate.WebhookConfig) { wc.URL += "?a=abc\r\nX-Evil: 1" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := webhook.New(webhook.Config{})
			_, err := authorize(t, a, webhookGate(srv.URL+"/check", tt.mod), callReq)
			if c := gate.ErrorClass(err); c != webhook.ClassConfig {
				t.Fatalf("class = %q (%v), want config", c, err)
			}
			if strings.Contains(err.Error(), "abc") {
				t.Errorf("error %q quotes the value", err)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the server received %d requests", n)
	}
}

// TestProxy sends through the proxy that Config.Proxy names (vipgate
// passes http.ProxyFromEnvironment: HTTPS_PROXY, HTTP_PROXY, NO_PROXY).
// The proxy sees the absolute URL, and the signature still covers the
// webhook's URL.
func TestProxy(t *testing.T) {
	key := []byte("proxy-test-secret")
	seenCh := make(chan seen, 1)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A plain-HTTP proxy gets the absolute URL in the request line.
		body, _ := io.ReadAll(r.Body)
		seenCh <- seen{method: r.Method, host: r.Host, requestURI: r.RequestURI, header: r.Header.Clone(), body: body}
		io.WriteString(w, `{forward:"200"}`)
	}))
	defer proxy.Close()
	proxyURL, _ := url.Parse(proxy.URL)
	a := webhook.New(webhook.Config{
		Proxy:  http.ProxyURL(proxyURL),
		Secret: func(*gate.Gate) ([]byte, error) { return key, nil },
	})
	const hook = "http://hooks.example.com/check?caller=###CALLER_NUMBER###"
	ans, err := authorize(t, a, webhookGate(hook, nil), callReq)
	if err != nil {
		t.Fatalf("Authorize through the proxy: %v", err)
	}
	checkAnswer(t, ans, wantAnswer{kind: gate.AnswerForward, forward: "200"})
	s := <-seenCh
	if want := "http://hooks.example.com/check?caller=%2B4917612345678"; s.requestURI != want {
		t.Errorf("proxy saw %q, want %q", s.requestURI, want)
	}
	r := &http.Request{Method: s.method, Host: s.host, RequestURI: s.requestURI, Header: s.header}
	r.URL, _ = url.Parse(s.requestURI)
	if err := webhook.Verify(key, r, s.body, 0, time.Now()); err != nil {
		t.Errorf("signature through the proxy: %v", err)
	}
}

// TestTimeoutFailurePolicy runs a webhook gate through the engine against
// a webhook that never answers: the gate's failure policy decides, with
// class timeout, once the gate's timeout is over.
func TestTimeoutFailurePolicy(t *testing.T) {
	srv := hangingServer(t, nil)
	const timeout = 200 * time.Millisecond
	g := webhookGate(srv.URL, func(wc *gate.WebhookConfig) { wc.Timeout = gate.Duration(timeout) })
	g.Match = gate.Match{Numbers: []string{"1000"}}
	g.Activation = gate.Activation{Mode: gate.ActiveAlways}
	g.Failure = gate.FailurePolicy{Action: gate.FailPass}
	st := gatetest.NewStore()
	if err := st.CreateGate(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	e := gate.NewEngine(gate.EngineConfig{Store: st, Authorizer: webhook.New(webhook.Config{}), Region: "DE"})
	start := time.Now()
	d := e.Decide(context.Background(), gate.CallInfo{Caller: "017612345678", Called: "1000"}, time.Now())
	elapsed := time.Since(start)
	if d.Verdict != gate.VerdictPass || d.ErrClass != webhook.ClassTimeout {
		t.Errorf("decision %s, class %q (%v); want pass by the failure policy, class timeout", d.Verdict, d.ErrClass, d.Err)
	}
	// Not a speed test: the margin only catches a call that waited for
	// something else than its deadline.
	if elapsed < timeout || elapsed > timeout+2*time.Second {
		t.Errorf("decided after %v, want about %v", elapsed, timeout)
	}
}

// TestAnswerHeadersBounded: an answer whose headers exceed 64 KiB fails
// instead of being read without end.
func TestAnswerHeadersBounded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range 100 {
			w.Header().Set("X-Filler-"+strings.Repeat("a", i%10)+string(rune('a'+i%26))+string(rune('a'+i/26)), strings.Repeat("a", 1000))
		}
		io.WriteString(w, `{reject:false}`)
	}))
	defer srv.Close()
	a := webhook.New(webhook.Config{})
	if _, err := authorize(t, a, webhookGate(srv.URL, nil), callReq); gate.ErrorClass(err) != webhook.ClassNetwork {
		t.Fatalf("class = %q (%v), want network", gate.ErrorClass(err), err)
	}
}
