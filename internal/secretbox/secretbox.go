package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/vipgate/vipgate/gate"
)

// Prefix starts every sealed value: "vgsec1:" then the base64url (no
// padding) of a 12-byte nonce followed by the AES-GCM ciphertext and tag.
const Prefix = "vgsec1:"

// info separates this key from every other key derived from the
// installation key.
const info = "vipgate secrets at rest v1"

// Box seals and opens secrets. It is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
}

var _ gate.SecretBox = (*Box)(nil)

// New derives the encryption key from the installation key.
func New(installationKey []byte) (*Box, error) {
	if len(installationKey) < 16 {
		return nil, errors.New("secretbox: the installation key must have at least 16 bytes")
	}
	k, err := hkdf.Key(sha256.New, installationKey, nil, info, 32)
	if err != nil {
		return nil, fmt.Errorf("secretbox: derive key: %w", err)
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plain with a fresh random nonce.
func (b *Box) Seal(plain string) (string, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("secretbox: seal: %w", err)
	}
	out := b.aead.Seal(nonce, nonce, []byte(plain), []byte(Prefix))
	return Prefix + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts a sealed value; a value without Prefix is clear text
// written before secrets were encrypted and is returned as it is. A
// sealed value that does not decrypt (another installation key, a damaged
// value) is an error that names neither the value nor the key.
func (b *Box) Open(stored string) (string, bool, error) {
	enc, ok := strings.CutPrefix(stored, Prefix)
	if !ok {
		return stored, false, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || len(raw) < b.aead.NonceSize()+b.aead.Overhead() {
		return "", true, errors.New("secretbox: open: damaged sealed value")
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(Prefix))
	if err != nil {
		return "", true, errors.New("secretbox: open: sealed value does not decrypt with this installation key (is it the key file the database was written with?)")
	}
	return string(plain), true, nil
}

// String names the box without its key.
func (b *Box) String() string { return "secretbox.Box([redacted])" }

// LogValue redacts the box.
func (b *Box) LogValue() slog.Value { return slog.StringValue("[redacted]") }
