package ari

import "log/slog"

// Secret is a password that never prints: String, GoString, LogValue and
// MarshalText all return "[redacted]". Reveal returns the clear value; the
// client uses it only to build the Authorization header.
type Secret string

const redacted = "[redacted]"

// String hides the secret.
func (s Secret) String() string { return redacted }

// GoString hides the secret from %#v.
func (s Secret) GoString() string { return redacted }

// LogValue hides the secret from log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText hides the secret from encoders (JSON, YAML).
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Reveal returns the clear value.
func (s Secret) Reveal() string { return string(s) }
