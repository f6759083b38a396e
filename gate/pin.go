package gate

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"strings"
)

// PIN length limits that apply to every PIN, whatever a gate allows.
const (
	MinPINLen = 1
	MaxPINLen = 32
)

// KeySize is the length of the installation secret that keys PIN hashes.
const KeySize = 32

// PINHash is a PIN at rest: HMAC-SHA-256 over salt and PIN, keyed with the
// installation secret. The key lives outside the database, so a stolen
// database alone does not allow the (small) PIN space to be searched.
type PINHash struct {
	Salt []byte // 16 random bytes
	Sum  []byte // 32 bytes
}

// String writes h as "v1$<salt b64>$<sum b64>".
func (h PINHash) String() string {
	enc := base64.RawStdEncoding
	return "v1$" + enc.EncodeToString(h.Salt) + "$" + enc.EncodeToString(h.Sum)
}

// ParsePINHash reads the String form.
func ParsePINHash(s string) (PINHash, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 3 || parts[0] != "v1" {
		return PINHash{}, errors.New("pin hash: want v1$salt$sum")
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[1])
	sum, err2 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil || len(sum) != sha256.Size || len(salt) == 0 {
		return PINHash{}, errors.New("pin hash: malformed")
	}
	return PINHash{Salt: salt, Sum: sum}, nil
}

// MarshalText writes the String form.
func (h PINHash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText reads the String form.
func (h *PINHash) UnmarshalText(b []byte) error {
	v, err := ParsePINHash(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// LogValue keeps hashes out of logs.
func (h PINHash) LogValue() slog.Value { return slog.StringValue("[pin-hash]") }

// Hasher hashes and checks PINs with the installation secret.
type Hasher struct {
	key []byte
}

// NewHasher returns a Hasher keyed with key (at least 16 bytes).
func NewHasher(key []byte) (*Hasher, error) {
	if len(key) < 16 {
		return nil, fmt.Errorf("pin hasher: key too short (%d bytes, want at least 16)", len(key))
	}
	return &Hasher{key: append([]byte(nil), key...)}, nil
}

// LogValue keeps the key out of logs.
func (h *Hasher) LogValue() slog.Value { return slog.StringValue("[hasher]") }

// Hash returns the hash of pin with a fresh random salt. pin must be valid
// (see ValidatePIN).
func (h *Hasher) Hash(pin string) PINHash {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		panic("pin hasher: crypto/rand failed: " + err.Error())
	}
	return PINHash{Salt: salt, Sum: h.sum(salt, pin)}
}

// HashWithSalt hashes pin with the given salt; bulk imports use it with
// salts they drew themselves.
func (h *Hasher) HashWithSalt(salt []byte, pin string) PINHash {
	return PINHash{Salt: salt, Sum: h.sum(salt, pin)}
}

// Batch returns a PIN hasher for bulk imports that reuses one HMAC state.
// A Batch is not safe for concurrent use; give each worker its own.
func (h *Hasher) Batch() *Batch { return &Batch{m: hmac.New(sha256.New, h.key)} }

// Batch hashes many PINs with one HMAC state (see Hasher.Batch).
type Batch struct{ m hash.Hash }

// HashWithSalt is Hasher.HashWithSalt without a fresh HMAC per PIN. The sum
// is appended to buf's spare capacity when it has 32 bytes of it, so a
// caller can hash a whole batch into one allocation.
func (b *Batch) HashWithSalt(salt []byte, pin string, buf []byte) PINHash {
	b.m.Reset()
	b.m.Write(salt)
	b.m.Write([]byte{0})
	b.m.Write([]byte(pin))
	return PINHash{Salt: salt, Sum: b.m.Sum(buf[:0:min(cap(buf), sha256.Size)])}
}

func (h *Hasher) sum(salt []byte, pin string) []byte {
	m := hmac.New(sha256.New, h.key)
	m.Write(salt)
	m.Write([]byte{0})
	m.Write([]byte(pin))
	return m.Sum(nil)
}

// Check reports, in constant time, whether digits is the PIN behind hash.
func (h *Hasher) Check(hash PINHash, digits string) bool {
	return hmac.Equal(h.sum(hash.Salt, digits), hash.Sum)
}

// ValidatePIN checks that pin is digits only and within min..max digits.
// A min or max of 0 uses MinPINLen / MaxPINLen. The error never contains
// the PIN.
func ValidatePIN(pin string, min, max int) error {
	if min <= 0 {
		min = MinPINLen
	}
	if max <= 0 || max > MaxPINLen {
		max = MaxPINLen
	}
	if pin == "" {
		return errors.New("PIN is empty")
	}
	for _, r := range pin {
		if r < '0' || r > '9' {
			return errors.New("PIN must contain digits only")
		}
	}
	if len(pin) < min || len(pin) > max {
		if min == max {
			return fmt.Errorf("PIN must have exactly %d digits (has %d)", min, len(pin))
		}
		return fmt.Errorf("PIN must have %d to %d digits (has %d)", min, max, len(pin))
	}
	return nil
}

// WeakPIN reports why pin is weak ("" if it is not): all one digit
// (0000), or an ascending or descending run (1234, 9876).
func WeakPIN(pin string) string {
	if len(pin) < 2 {
		return ""
	}
	same, up, down := true, true, true
	for i := 1; i < len(pin); i++ {
		d := int(pin[i]) - int(pin[i-1])
		same = same && d == 0
		up = up && (d == 1 || d == -9)
		down = down && (d == -1 || d == 9)
	}
	switch {
	case same:
		return "PIN repeats one digit"
	case up:
		return "PIN is an ascending sequence"
	case down:
		return "PIN is a descending sequence"
	}
	return ""
}

// PINCheck checks typed digits against an expected PIN in constant time.
// Implementations must never expose the PIN in String, LogValue or errors.
type PINCheck interface {
	Match(digits string) bool
}

// HashedPIN checks digits against a PINHash.
type HashedPIN struct {
	Hasher *Hasher
	Hash   PINHash
}

// Match implements PINCheck.
func (p HashedPIN) Match(digits string) bool { return p.Hasher.Check(p.Hash, digits) }

// LogValue implements slog.LogValuer.
func (p HashedPIN) LogValue() slog.Value { return slog.StringValue("[pin]") }

// ClearPIN is a PIN held in memory only, as a webhook supplies it. It is
// compared in constant time and never printed.
type ClearPIN string

// Match implements PINCheck in constant time.
func (p ClearPIN) Match(digits string) bool {
	return subtle.ConstantTimeCompare([]byte(p), []byte(digits)) == 1
}

// String redacts the PIN.
func (p ClearPIN) String() string { return "[pin]" }

// GoString redacts the PIN.
func (p ClearPIN) GoString() string { return "[pin]" }

// LogValue redacts the PIN.
func (p ClearPIN) LogValue() slog.Value { return slog.StringValue("[pin]") }

// MarshalText redacts the PIN.
func (p ClearPIN) MarshalText() ([]byte, error) { return []byte("[pin]"), nil }
