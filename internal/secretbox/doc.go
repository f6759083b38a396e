// Package secretbox encrypts the secrets vipgate keeps in its database
// (webhook header values and URLs) with a key derived from the
// installation key: AES-256-GCM under HKDF-SHA-256(installation key,
// info "vipgate secrets at rest v1"), so the bytes that encrypt are not
// the bytes that key the PIN hashes. It implements gate.SecretBox; the
// stores apply it. It imports only the standard library and gate.
package secretbox
