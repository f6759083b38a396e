package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestPinsGrant grants a PIN, shows it once, lists it without the PIN,
// explains a call that would accept it, and revokes it.
func TestPinsGrant(t *testing.T) {
	c := newCLI(t)
	c.must("gates", "import", example("premium-support.yaml"))
	out, stderr, err := c.run("pins", "grant", "--gate", "premium-support", "--caller", "0176 1234 5678", "--uses", "1", "--valid-for", "24h", "--label", "courier")
	if err != nil {
		t.Fatalf("pins grant: %v\n%s", err, stderr)
	}
	m := regexp.MustCompile(`(?m)^PIN: (\d+)$`).FindStringSubmatch(out)
	if m == nil || len(m[1]) != 6 {
		t.Fatalf("pins grant printed no 6-digit PIN (the gate's length):\n%s", out)
	}
	pin := m[1]
	if !strings.Contains(out, "grant #1 for +4917612345678, 0/1 uses, until ") || !strings.Contains(stderr, "shown only now") {
		t.Errorf("pins grant:\n%s\n%s", out, stderr)
	}
	c.must("pins", "grant", "--gate", "premium-support", "--valid-for", "7d")

	list := c.must("pins", "grants", "--gate", "premium-support")
	for _, want := range []string{"+4917612345678", "anyone", "usable", "courier", "cli:"} {
		if !strings.Contains(list, want) {
			t.Errorf("pins grants lacks %q:\n%s", want, list)
		}
	}
	if strings.Contains(list, pin) {
		t.Errorf("pins grants shows the PIN:\n%s", list)
	}

	x := c.must("explain", "--called", "+498941209900", "--caller", "0176 1234 5678")
	if !strings.Contains(x, "2 granted PINs") || !strings.Contains(x, "or one of 2 granted PINs") || strings.Contains(x, pin) {
		t.Errorf("explain does not count the grants (or shows the PIN):\n%s", x)
	}
	audit := c.must("audit", "list", "--gate", "premium-support")
	if !strings.Contains(audit, "grant.create") || strings.Contains(audit, pin) {
		t.Errorf("audit:\n%s", audit)
	}

	if out := c.must("pins", "revoke", "--gate", "premium-support", "1"); !strings.Contains(out, "grant #1 revoked") {
		t.Errorf("pins revoke: %s", out)
	}
	if _, _, err := c.run("pins", "revoke", "--gate", "premium-support", "1"); err == nil {
		t.Error("revoking a revoked grant succeeded")
	}
	if list := c.must("pins", "grants", "--gate", "premium-support"); strings.Contains(list, "courier") {
		t.Errorf("a revoked grant is listed:\n%s", list)
	}
}

func TestPinsGrantErrors(t *testing.T) {
	c := newCLI(t)
	c.must("gates", "import", example("premium-support.yaml"))
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--gate", "premium-support"}, "uses"},
		{[]string{"--gate", "premium-support", "--uses", "x"}, "uses"},
		{[]string{"--gate", "premium-support", "--valid-for", "soon"}, "valid-for"},
		{[]string{"--gate", "premium-support", "--valid-for", "1h", "--until", "2099-01-01"}, "valid-for"},
		{[]string{"--gate", "premium-support", "--caller", "+49711*", "--uses", "1"}, "caller"},
		{[]string{"--gate", "nope", "--uses", "1"}, "not found"},
		{[]string{"--uses", "1"}, "give --gate"},
	}
	for _, tt := range tests {
		out, _, err := c.run(append([]string{"pins", "grant"}, tt.args...)...)
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(out, "PIN:") {
			t.Errorf("pins grant %v: %v (out %q), want an error naming %s", tt.args, err, out, tt.want)
		}
	}
}
