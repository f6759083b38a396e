package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Stop ends Asterisk (SIGTERM, then SIGKILL after 10s) and waits for it,
// as a crash or an administrator's restart would; the configuration and
// the state directory stay. Calling it on a stopped Asterisk does nothing.
func (a *Asterisk) Stop() { a.stop() }

// Restart stops Asterisk if it is running, starts it again on the same
// configuration (same ARI port and user) and waits until ARI answers. The
// process started here is stopped when the test ends, as Start's is.
func (a *Asterisk) Restart(t testing.TB) {
	t.Helper()
	a.stop()
	logf, err := os.OpenFile(filepath.Join(a.Dir, "stdout.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(a.cfg.Binary, "-f", "-n", "-C", filepath.Join(a.Dir, "etc", "asterisk.conf"))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("restart asterisk: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	a.cmd, a.exited = cmd, exited
	// The same wait as Start's.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		if _, err := a.Client.Ping(ctx); err == nil {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("restarted asterisk did not answer ARI within 60s (see %s)", filepath.Join(a.Dir, "log"))
		}
		select {
		case <-exited:
			t.Fatal("asterisk exited during restart")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Running reports whether the App's Run has not returned yet.
func (v *Vipgate) Running() bool {
	select {
	case <-v.done:
		return false
	default:
		return true
	}
}
