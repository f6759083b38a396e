package secretbox_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/internal/secretbox"
)

var key = bytes.Repeat([]byte{7}, 32)

func TestSealOpen(t *testing.T) {
	b, err := secretbox.New(key)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "Bearer s3cr3t-token"
	s1, err := b.Seal(secret)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := b.Seal(secret)
	if !strings.HasPrefix(s1, secretbox.Prefix) || strings.Contains(s1, "s3cr3t") || s1 == s2 {
		t.Errorf("sealed %q, %q: want the prefix, no clear text, a fresh nonce each time", s1, s2)
	}
	got, sealed, err := b.Open(s1)
	if err != nil || !sealed || got != secret {
		t.Errorf("Open = %q %v %v, want the secret", got, sealed, err)
	}
	// Clear text from before encryption is returned as it is.
	if got, sealed, err := b.Open("Bearer old"); err != nil || sealed || got != "Bearer old" {
		t.Errorf("Open(clear) = %q %v %v", got, sealed, err)
	}
	other, _ := secretbox.New(bytes.Repeat([]byte{8}, 32))
	if _, _, err := other.Open(s1); err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("Open with another key: %v, want an error without the secret", err)
	}
	damaged := s1[:len(s1)-2] + "AA"
	if _, _, err := b.Open(damaged); err == nil {
		t.Error("a damaged value opened")
	}
	if _, _, err := b.Open(secretbox.Prefix + "!!"); err == nil {
		t.Error("a value that is not base64 opened")
	}
}

// TestDerivedKeyIsNotTheInstallationKey checks that the encryption key
// is derived from the installation key, not the installation key itself
// (whose bytes key the PIN hashes): AES-GCM under the raw installation
// key does not open a sealed value.
func TestDerivedKeyIsNotTheInstallationKey(t *testing.T) {
	if _, err := secretbox.New([]byte("short")); err == nil {
		t.Error("a 5-byte installation key was accepted")
	}
	b, _ := secretbox.New(key)
	s, _ := b.Seal("x")
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(s, secretbox.Prefix))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	if _, err := aead.Open(nil, raw[:12], raw[12:], []byte(secretbox.Prefix)); err == nil {
		t.Error("the raw installation key opens the sealed value: the key is not derived")
	}
}
