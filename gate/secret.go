package gate

import (
	"net/url"
	"strings"
)

// Redacted replaces secret values (webhook credentials) wherever a gate
// is shown: admin API answers and gate exports. A gate written back with
// this value keeps the stored secret (KeepWebhookSecrets).
const Redacted = "[redacted]"

// SecretName reports whether a webhook header or URL query parameter
// likely carries a credential.
func SecretName(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"authorization", "cookie", "token", "secret", "key", "password", "auth"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// RedactWebhook returns a copy of wc without credentials: the values of
// secret-looking headers and query parameters and the password of the
// URL's user info are Redacted.
func RedactWebhook(wc *WebhookConfig) *WebhookConfig {
	if wc == nil {
		return nil
	}
	out := *wc
	if len(wc.Headers) > 0 {
		out.Headers = make(map[string]string, len(wc.Headers))
		for k, v := range wc.Headers {
			if SecretName(k) {
				v = Redacted
			}
			out.Headers[k] = v
		}
	}
	if u, err := url.Parse(wc.URL); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			out.URL = strings.Replace(wc.URL, u.User.String()+"@", u.User.Username()+":"+Redacted+"@", 1)
		}
	}
	out.URL = redactQuery(out.URL)
	return &out
}

// redactQuery replaces the values of secret-looking query parameters
// (?token=..., &api_key=...) in a webhook URL template. The template is
// split by hand: its placeholders hold '#', which url.Parse would take
// for the start of a fragment.
func redactQuery(tmpl string) string {
	base, query, ok := strings.Cut(tmpl, "?")
	if !ok {
		return tmpl
	}
	params := strings.Split(query, "&")
	changed := false
	for i, p := range params {
		k, _, ok := strings.Cut(p, "=")
		if name, err := url.QueryUnescape(k); ok && err == nil && SecretName(name) {
			params[i] = k + "=" + Redacted
			changed = true
		}
	}
	if !changed {
		return tmpl
	}
	return base + "?" + strings.Join(params, "&")
}

// KeepWebhookSecrets puts the stored credentials of prev back where wc
// holds the Redacted placeholder, so that a redacted answer or export
// written back loses no secret.
func KeepWebhookSecrets(wc, prev *WebhookConfig) {
	if wc == nil || prev == nil {
		return
	}
	for k, v := range wc.Headers {
		if v == Redacted {
			if old, ok := prev.Headers[k]; ok {
				wc.Headers[k] = old
			}
		}
	}
	if strings.Contains(wc.URL, Redacted) && RedactWebhook(prev).URL == wc.URL {
		wc.URL = prev.URL
	}
}

// SecretBox encrypts the secrets a gate keeps (webhook credentials, the
// database DSN), for storage. The stores seal a gate's secrets when they
// write it and open them when they read it (see SealSecrets), so the rest
// of vipgate sees clear values and the database holds none. Implementations hold the key; gate does no
// cryptography.
type SecretBox interface {
	// Seal returns the stored form of plain.
	Seal(plain string) (string, error)
	// Open returns the clear form of a stored value and whether it was
	// sealed. A value that is not sealed (written before secrets were
	// encrypted) is returned as it is, with sealed false.
	Open(stored string) (plain string, sealed bool, err error)
}

// secrets calls fn with a pointer to each value of a gate that may hold a
// credential: every webhook header value and the webhook URL (its user
// info or query may carry one). All of them are sealed, not only those
// that RedactWebhook recognises by name, so that a credential under an
// unusual name is not stored in clear either. The webhook signing key is
// not among them: it is never stored (SecretFile names a file). The DSN
// of database identification is one too.
func (g *Gate) secrets(fn func(*string) error) error {
	if db := g.Identification.Database; db != nil && db.DSN != "" {
		if err := fn(&db.DSN); err != nil {
			return err
		}
	}
	for i := range g.Notify {
		if w := g.Notify[i].Webhook; w != nil && w.Secret != "" {
			if err := fn(&w.Secret); err != nil {
				return err
			}
		}
	}
	w := g.Identification.Webhook
	if w == nil {
		return nil
	}
	for k, v := range w.Headers {
		if err := fn(&v); err != nil {
			return err
		}
		w.Headers[k] = v
	}
	if w.URL == "" {
		return nil
	}
	return fn(&w.URL)
}

// SealSecrets returns a copy of g whose secrets are sealed with box, for
// a store to write; g is not changed. A nil box returns g.
func SealSecrets(g *Gate, box SecretBox) (*Gate, error) {
	if box == nil || (g.Identification.Webhook == nil && g.Identification.Database == nil && len(g.Notify) == 0) {
		return g, nil
	}
	c := g.Clone()
	err := c.secrets(func(s *string) error {
		v, err := box.Seal(*s)
		*s = v
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// OpenSecrets opens the sealed secrets of g, as read from a store, in
// place. It reports whether any secret was stored in clear, so that the
// store can seal it. A nil box changes nothing.
func OpenSecrets(g *Gate, box SecretBox) (clear bool, err error) {
	if box == nil {
		return false, nil
	}
	err = g.secrets(func(s *string) error {
		v, sealed, err := box.Open(*s)
		if err != nil {
			return err
		}
		if !sealed && *s != "" {
			clear = true
		}
		*s = v
		return nil
	})
	return clear, err
}
