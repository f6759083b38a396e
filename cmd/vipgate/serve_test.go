package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/ari/arifake"
)

// readyz returns /readyz's status and body, or 0 while nothing answers.
func readyz(addr string) (int, string) {
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func waitReadyz(t *testing.T, addr string, want int) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, body := readyz(addr)
		if code == want {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz answers %d %s, want %d", code, body, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeReadyWithARIURL runs "vipgate serve --ari-url" against a fake
// ARI server: /readyz is 200 once the one server is connected and 503
// naming it once it is gone.
func TestServeReadyWithARIURL(t *testing.T) {
	fake := arifake.New(arifake.Config{User: "vipgate", Password: "ari-secret"})
	defer fake.Close()
	c := newCLI(t)
	c.env["VIPGATE_ARI_PASSWORD"] = "ari-secret"
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out, errb bytes.Buffer
	go func() {
		done <- run(ctx, []string{"vipgate", "serve", "--http", addr, "--agi", "off", "--ari-url", fake.URL()},
			func(k string) string { return c.env[k] }, &out, &errb)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()

	body := waitReadyz(t, addr, http.StatusOK)
	var got struct {
		Checks map[string]string `json:"checks"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || got.Checks["sources"] != "ok" {
		t.Errorf("/readyz body %s: want checks.sources ok", body)
	}

	fake.Close()
	body = waitReadyz(t, addr, http.StatusServiceUnavailable)
	host := strings.TrimPrefix(strings.TrimSuffix(fake.URL(), "/ari"), "http://")
	if want := "not connected: ari " + host; !strings.Contains(body, want) {
		t.Errorf("/readyz body %s: want it to say %q", body, want)
	}
}
