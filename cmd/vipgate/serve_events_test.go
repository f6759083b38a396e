package main

import (
	"bufio"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeCheckAndEventStream runs "vipgate serve" with a FastAGI
// listener and checks it with "vipgate check"; it follows the event
// stream, which ends when serve stops.
func TestServeCheckAndEventStream(t *testing.T) {
	c := newCLI(t)
	token := strings.TrimSpace(c.must("tokens", "create", "--role", "viewer", "--name", "monitoring"))
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	log, stop := serveInBackground(t, c, "--http", addr, "--agi", freeAddr(t))
	waitFor(t, "ready", func() bool { code, _ := get("http://" + addr + "/readyz"); return code == http.StatusOK }, log)

	out, _, err := c.run("check", "--http", addr, "--token-file", tokenFile)
	if err != nil || !strings.HasPrefix(out, "VIPGATE OK - 1/1 sources connected") || !strings.Contains(out, "sources_up=1;") {
		t.Errorf("check: %v %q", err, out)
	}

	req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %s %q", res.Status, res.Header.Get("Content-Type"))
	}
	rd := bufio.NewReader(res.Body)
	if line, err := rd.ReadString('\n'); err != nil || line != "retry: 3000\n" {
		t.Fatalf("stream starts with %q, %v", line, err)
	}
	ended := make(chan error, 1)
	go func() {
		for {
			if _, err := rd.ReadString('\n'); err != nil {
				ended <- err
				return
			}
		}
	}()
	if err := stop(); err != nil {
		t.Errorf("serve: %v\n%s", err, string(log.Bytes()))
	}
	select {
	case err := <-ended:
		if err == nil {
			t.Error("the stream did not end with serve")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the event stream is still open after serve stopped")
	}
	if strings.Contains(string(log.Bytes()), "context deadline exceeded") {
		t.Errorf("shutdown waited for the stream:\n%s", string(log.Bytes()))
	}
}
