package webhook

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Placeholders in a gate's URL, headers and body template.
const (
	PlaceholderCaller = "###CALLER_NUMBER###"
	PlaceholderCalled = "###CALLED_NUMBER###"
)

// DefaultPOSTBody is the body template of a POST webhook without one.
const DefaultPOSTBody = `{"caller":"` + PlaceholderCaller + `","called":"` + PlaceholderCalled + `"}`

// maxNumberLen bounds a number put into a request.
const maxNumberLen = 64

// checkNumber refuses numbers that cannot be put into a request safely.
func checkNumber(what, s string) error {
	if len(s) > maxNumberLen {
		return fmt.Errorf("%s number longer than %d bytes", what, maxNumberLen)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s number is not valid UTF-8", what)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return fmt.Errorf("%s number contains control characters", what)
		}
	}
	return nil
}

// expand replaces the placeholders in s, passing each number through esc.
func expand(s, caller, called string, esc func(string) string) string {
	if !strings.Contains(s, "###") {
		return s
	}
	// One pass, so a number that looks like a placeholder stays as it is.
	var b strings.Builder
	for {
		i := strings.Index(s, "###")
		if i < 0 {
			break
		}
		rest := s[i:]
		switch {
		case strings.HasPrefix(rest, PlaceholderCaller):
			b.WriteString(s[:i])
			b.WriteString(esc(caller))
			s = rest[len(PlaceholderCaller):]
		case strings.HasPrefix(rest, PlaceholderCalled):
			b.WriteString(s[:i])
			b.WriteString(esc(called))
			s = rest[len(PlaceholderCalled):]
		default:
			b.WriteString(s[:i+1])
			s = s[i+1:]
		}
	}
	b.WriteString(s)
	return b.String()
}

func plain(s string) string { return s }

// expandURL fills the URL template: placeholders before the query are
// path-escaped, those after it query-escaped. It
// returns the parsed URL; only http and https with a host are allowed.
func expandURL(tmpl, caller, called string) (*url.URL, error) {
	// Split at the first '?': the placeholders themselves contain '#'.
	var raw string
	if i := strings.IndexByte(tmpl, '?'); i >= 0 {
		raw = expand(tmpl[:i], caller, called, url.PathEscape) + expand(tmpl[i:], caller, called, url.QueryEscape)
	} else {
		raw = expand(tmpl, caller, called, url.PathEscape)
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the URL, which may carry tokens; keep it out.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("invalid URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, errors.New("URL scheme must be http or https")
	}
	if u.Host == "" {
		return nil, errors.New("URL has no host")
	}
	if u.User != nil {
		return nil, errors.New("URL must not contain user info (use a header)")
	}
	// url.Parse refuses control bytes but keeps a space in the query,
	// which would end the request line early.
	if strings.Contains(u.RequestURI(), " ") {
		return nil, errors.New("URL holds a space (write it as %20)")
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// jsonEscape escapes s for use inside a JSON string.
func jsonEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f || r == 0x2028 || r == 0x2029:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// signedURL is the URL string a request is signed with.
func signedURL(u *url.URL, host string) string {
	if host == "" {
		host = u.Host
	}
	return u.Scheme + "://" + host + u.RequestURI()
}

// redactURL keeps scheme, host and path of u for logs; the query may carry
// tokens and numbers.
func redactURL(u *url.URL) string {
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}
