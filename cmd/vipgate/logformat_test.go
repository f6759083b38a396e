package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLogFormat checks that --log-format, VIPGATE_LOG_FORMAT and the
// log-format config key choose between text lines (the default) and one
// JSON object per line.
func TestLogFormat(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "vipgate.yaml")
	if err := os.WriteFile(cfg, []byte("log-format: json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		json bool
	}{
		{"default", nil, nil, false},
		{"flag", nil, []string{"--log-format", "json"}, true},
		{"env", map[string]string{"VIPGATE_LOG_FORMAT": "json"}, nil, true},
		{"config", nil, []string{"--config", cfg}, true},
		{"flag beats env", map[string]string{"VIPGATE_LOG_FORMAT": "json"}, []string{"--log-format", "text"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t)
			for k, v := range tt.env {
				c.env[k] = v
			}
			// The first import creates the key file and logs that at Info.
			args := append([]string{"gates", "import"}, tt.args...)
			_, stderr, err := c.run(append(args, example("after-hours.yaml"))...)
			if err != nil {
				t.Fatalf("import: %v\n%s", err, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if len(lines) == 0 || !strings.Contains(stderr, "created the installation key file") {
				t.Fatalf("no log line about the key file:\n%s", stderr)
			}
			for _, l := range lines {
				var m map[string]any
				err := json.Unmarshal([]byte(l), &m)
				if tt.json {
					if err != nil {
						t.Fatalf("line is not JSON: %v\n%s", err, l)
					}
					if m["level"] != "INFO" || m["msg"] == nil || m["time"] == nil {
						t.Errorf("JSON line lacks time/level/msg: %s", l)
					}
				} else if err == nil || !strings.HasPrefix(l, "time=") {
					t.Errorf("want a text line (time=... level=...), got %s", l)
				}
			}
		})
	}
	t.Run("unknown format", func(t *testing.T) {
		c := newCLI(t)
		_, _, err := c.run("gates", "list", "--log-format", "xml")
		if err == nil || !strings.Contains(err.Error(), "--log-format") {
			t.Fatalf("err = %v, want one naming --log-format", err)
		}
	})
}
