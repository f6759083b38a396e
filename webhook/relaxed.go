package webhook

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds the tolerant JSON reader for webhook answers. It accepts
// strict JSON (RFC 8259) and the relaxed form the documented examples use:
// unquoted keys, single-quoted strings, trailing commas, comments, a leading
// '+' and leading zeros on numbers. Numbers keep the text they were written
// with, so a PIN written as a number loses nothing. Objects keep every member
// in order, duplicates included, so the answer reader can refuse ambiguous
// answers. Errors carry an offset and a fixed description, never input text.

// maxDepth bounds nesting; answers are two levels deep.
const maxDepth = 32

type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

func (k kind) String() string {
	return [...]string{"null", "boolean", "number", "string", "array", "object"}[k]
}

// value is one parsed JSON value.
type value struct {
	kind    kind
	b       bool
	s       string // string contents, or a number's text
	elems   []value
	members []member
}

type member struct {
	key string
	val value
}

// SyntaxError reports malformed answer text. It never quotes the input.
type SyntaxError struct {
	Offset int    // byte offset of the problem
	Msg    string // fixed description
}

func (e *SyntaxError) Error() string {
	return "offset " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

type reader struct {
	data []byte
	pos  int
}

// parseRelaxed parses data as one value.
func parseRelaxed(data []byte) (value, error) {
	r := &reader{data: data}
	// A UTF-8 byte order mark is tolerated.
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		r.pos = 3
	}
	if err := r.skip(); err != nil {
		return value{}, err
	}
	if r.pos >= len(r.data) {
		return value{}, r.fail("empty answer")
	}
	v, err := r.value(0)
	if err != nil {
		return value{}, err
	}
	if err := r.skip(); err != nil {
		return value{}, err
	}
	if r.pos < len(r.data) {
		return value{}, r.fail("unexpected text after the value")
	}
	return v, nil
}

func (r *reader) fail(msg string) error { return &SyntaxError{Offset: r.pos, Msg: msg} }

// skip skips white space and comments.
func (r *reader) skip() error {
	for r.pos < len(r.data) {
		switch c := r.data[r.pos]; c {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			r.pos++
		case '/':
			if r.pos+1 >= len(r.data) {
				return r.fail("unexpected '/'")
			}
			switch r.data[r.pos+1] {
			case '/':
				r.pos += 2
				for r.pos < len(r.data) && r.data[r.pos] != '\n' {
					r.pos++
				}
			case '*':
				start := r.pos
				r.pos += 2
				for {
					if r.pos+1 >= len(r.data) {
						r.pos = start
						return r.fail("unterminated comment")
					}
					if r.data[r.pos] == '*' && r.data[r.pos+1] == '/' {
						r.pos += 2
						break
					}
					r.pos++
				}
			default:
				return r.fail("unexpected '/'")
			}
		default:
			return nil
		}
	}
	return nil
}

func (r *reader) value(depth int) (value, error) {
	if depth >= maxDepth {
		return value{}, r.fail("nested too deeply")
	}
	if r.pos >= len(r.data) {
		return value{}, r.fail("unexpected end of answer")
	}
	switch c := r.data[r.pos]; {
	case c == '{':
		return r.object(depth)
	case c == '[':
		return r.array(depth)
	case c == '"' || c == '\'':
		s, err := r.str()
		return value{kind: kindString, s: s}, err
	case c == '-' || c == '+' || c == '.' || isDigit(c):
		return r.number()
	case isIdentStart(c):
		start := r.pos
		word := r.ident()
		switch word {
		case "true":
			return value{kind: kindBool, b: true}, nil
		case "false":
			return value{kind: kindBool}, nil
		case "null":
			return value{kind: kindNull}, nil
		}
		r.pos = start
		return value{}, r.fail("unknown literal (want true, false or null)")
	}
	return value{}, r.fail("unexpected character")
}

func (r *reader) object(depth int) (value, error) {
	v := value{kind: kindObject}
	r.pos++ // '{'
	for {
		if err := r.skip(); err != nil {
			return value{}, err
		}
		if r.pos >= len(r.data) {
			return value{}, r.fail("unterminated object")
		}
		if r.data[r.pos] == '}' {
			r.pos++
			return v, nil
		}
		var key string
		switch c := r.data[r.pos]; {
		case c == '"' || c == '\'':
			k, err := r.str()
			if err != nil {
				return value{}, err
			}
			key = k
		case isIdentStart(c):
			key = r.ident()
		default:
			return value{}, r.fail("want a key")
		}
		if err := r.skip(); err != nil {
			return value{}, err
		}
		if r.pos >= len(r.data) || r.data[r.pos] != ':' {
			return value{}, r.fail("want ':' after a key")
		}
		r.pos++
		if err := r.skip(); err != nil {
			return value{}, err
		}
		val, err := r.value(depth + 1)
		if err != nil {
			return value{}, err
		}
		if v.members == nil {
			v.members = make([]member, 0, 4) // answers have up to four keys
		}
		v.members = append(v.members, member{key: key, val: val})
		if err := r.skip(); err != nil {
			return value{}, err
		}
		if r.pos >= len(r.data) {
			return value{}, r.fail("unterminated object")
		}
		switch r.data[r.pos] {
		case ',':
			r.pos++
		case '}':
			r.pos++
			return v, nil
		default:
			return value{}, r.fail("want ',' or '}' in object")
		}
	}
}

func (r *reader) array(depth int) (value, error) {
	v := value{kind: kindArray}
	r.pos++ // '['
	for {
		if err := r.skip(); err != nil {
			return value{}, err
		}
		if r.pos >= len(r.data) {
			return value{}, r.fail("unterminated array")
		}
		if r.data[r.pos] == ']' {
			r.pos++
			return v, nil
		}
		e, err := r.value(depth + 1)
		if err != nil {
			return value{}, err
		}
		v.elems = append(v.elems, e)
		if err := r.skip(); err != nil {
			return value{}, err
		}
		if r.pos >= len(r.data) {
			return value{}, r.fail("unterminated array")
		}
		switch r.data[r.pos] {
		case ',':
			r.pos++
		case ']':
			r.pos++
			return v, nil
		default:
			return value{}, r.fail("want ',' or ']' in array")
		}
	}
}

// number reads [+-] digits [. digits] [eE [+-] digits], with at least one
// digit before the exponent. Leading zeros are kept as written.
func (r *reader) number() (value, error) {
	start := r.pos
	if c := r.data[r.pos]; c == '-' || c == '+' {
		r.pos++
	}
	digits := r.digits()
	if r.pos < len(r.data) && r.data[r.pos] == '.' {
		r.pos++
		digits += r.digits()
	}
	if digits == 0 {
		r.pos = start
		return value{}, r.fail("malformed number")
	}
	if r.pos < len(r.data) && (r.data[r.pos] == 'e' || r.data[r.pos] == 'E') {
		r.pos++
		if r.pos < len(r.data) && (r.data[r.pos] == '-' || r.data[r.pos] == '+') {
			r.pos++
		}
		if r.digits() == 0 {
			r.pos = start
			return value{}, r.fail("malformed number")
		}
	}
	if r.pos < len(r.data) && (isIdentStart(r.data[r.pos]) || r.data[r.pos] == '.') {
		return value{}, r.fail("malformed number")
	}
	return value{kind: kindNumber, s: string(r.data[start:r.pos])}, nil
}

func (r *reader) digits() int {
	n := 0
	for r.pos < len(r.data) && isDigit(r.data[r.pos]) {
		r.pos++
		n++
	}
	return n
}

func (r *reader) ident() string {
	start := r.pos
	for r.pos < len(r.data) && (isIdentStart(r.data[r.pos]) || isDigit(r.data[r.pos])) {
		r.pos++
	}
	return string(r.data[start:r.pos])
}

// str reads a string quoted with " or '. Escapes are those of JSON plus \'.
// Invalid UTF-8 and lone surrogates become U+FFFD, as encoding/json does.
func (r *reader) str() (string, error) {
	quote := r.data[r.pos]
	start := r.pos
	r.pos++
	// Fast path: no escapes, plain ASCII.
	i := r.pos
	for i < len(r.data) {
		c := r.data[i]
		if c == quote {
			s := string(r.data[r.pos:i])
			r.pos = i + 1
			return s, nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		i++
	}
	buf := make([]byte, 0, i-r.pos+16)
	buf = append(buf, r.data[r.pos:i]...)
	r.pos = i
	for {
		if r.pos >= len(r.data) {
			r.pos = start
			return "", r.fail("unterminated string")
		}
		c := r.data[r.pos]
		switch {
		case c == quote:
			r.pos++
			return string(buf), nil
		case c < 0x20:
			return "", r.fail("control character in string")
		case c == '\\':
			r.pos++
			if r.pos >= len(r.data) {
				r.pos = start
				return "", r.fail("unterminated string")
			}
			e := r.data[r.pos]
			r.pos++
			switch e {
			case '"', '\'', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r1, ok := r.hex4()
				if !ok {
					return "", r.fail("malformed \\u escape")
				}
				if utf16.IsSurrogate(r1) {
					// Look for the second half of a surrogate pair.
					if r.pos+1 < len(r.data) && r.data[r.pos] == '\\' && r.data[r.pos+1] == 'u' {
						save := r.pos
						r.pos += 2
						r2, ok := r.hex4()
						if !ok {
							return "", r.fail("malformed \\u escape")
						}
						if dec := utf16.DecodeRune(r1, r2); dec != utf8.RuneError {
							buf = utf8.AppendRune(buf, dec)
							break
						}
						r.pos = save
					}
					r1 = utf8.RuneError
				}
				buf = utf8.AppendRune(buf, r1)
			default:
				r.pos--
				return "", r.fail("unknown escape in string")
			}
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			r.pos++
		default:
			ru, size := utf8.DecodeRune(r.data[r.pos:])
			r.pos += size
			buf = utf8.AppendRune(buf, ru)
		}
	}
}

func (r *reader) hex4() (rune, bool) {
	if r.pos+4 > len(r.data) {
		return 0, false
	}
	var v rune
	for _, c := range r.data[r.pos : r.pos+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		v = v<<4 | rune(c)
	}
	r.pos += 4
	return v, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isIdentStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '$'
}
