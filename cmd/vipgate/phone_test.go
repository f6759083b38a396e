package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
)

// TestGatesFilePhonePIN checks that a gate file's clear phone_override.pin
// is hashed and a PIN written as a number is refused by field.
func TestGatesFilePhonePIN(t *testing.T) {
	h, err := gate.NewHasher(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	doc := "id: hotline\nenabled: true\nmatch: {numbers: [\"1000\"]}\nidentification: {mode: static, static_pin: \"4711\"}\nphone_override: {pin: \"0815\", until_change: false}\n"
	gates, err := parseGatesFile([]byte(doc), h)
	if err != nil {
		t.Fatal(err)
	}
	p := gates[0].PhoneOverride
	if p == nil || p.PIN == nil || !h.Check(*p.PIN, "0815") {
		t.Fatalf("phone override %+v does not check the PIN", p)
	}
	_, err = parseGatesFile([]byte(strings.Replace(doc, `"0815"`, "815", 1)), h)
	if err == nil || !strings.Contains(err.Error(), "phone_override.pin") {
		t.Errorf("unquoted PIN: %v, want an error naming phone_override.pin", err)
	}
}
