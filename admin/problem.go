package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/vipgate/vipgate/gate"
)

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Detail string         `json:"detail,omitempty"`
	Errors []FieldProblem `json:"errors,omitempty"`
}

// FieldProblem names one rejected field of a request.
type FieldProblem struct {
	Field   string `json:"field"`
	Problem string `json:"problem"`
}

// Problem type URIs.
const (
	problemBlank      = "about:blank"
	problemValidation = "urn:vipgate:problem:validation"
)

// errorStatus maps vipgate's sentinel errors to HTTP statuses. The first
// entry that matches (errors.Is) wins; anything else is a 500.
var errorStatus = []struct {
	err    error
	status int
}{
	{gate.ErrNotFound, http.StatusNotFound},
	{gate.ErrConflict, http.StatusConflict},
	{gate.ErrInvalid, http.StatusUnprocessableEntity},
	{gate.ErrUnavailable, http.StatusServiceUnavailable},
	{gate.ErrTimeout, http.StatusGatewayTimeout},
}

// errBadRequest marks malformed requests (JSON syntax, wrong types); they
// are answered with 400 and the fields named where known.
var errBadRequest = errors.New("bad request")

// badRequest is a malformed request with the fields it concerns.
type badRequest struct {
	detail string
	fields []FieldProblem
}

func (e *badRequest) Error() string        { return e.detail }
func (e *badRequest) Is(target error) bool { return target == errBadRequest }

// statusOf returns the HTTP status for err.
func statusOf(err error) int {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	if errors.Is(err, errBadRequest) {
		return http.StatusBadRequest
	}
	for _, m := range errorStatus {
		if errors.Is(err, m.err) {
			return m.status
		}
	}
	return http.StatusInternalServerError
}

// fieldProblems collects the field errors in err's chain.
func fieldProblems(err error) []FieldProblem {
	var out []FieldProblem
	var walk func(error)
	walk = func(e error) {
		switch v := e.(type) {
		case nil:
			return
		case *gate.ValidationError:
			out = append(out, FieldProblem{Field: v.Field, Problem: v.Problem})
			return
		case gate.ValidationErrors:
			for _, ve := range v {
				out = append(out, FieldProblem{Field: ve.Field, Problem: ve.Problem})
			}
			return
		case *gate.ConflictError:
			out = append(out, FieldProblem{Field: v.Field, Problem: v.Problem})
			return
		case *badRequest:
			out = append(out, v.fields...)
			return
		case interface{ Unwrap() []error }:
			for _, u := range v.Unwrap() {
				walk(u)
			}
		case interface{ Unwrap() error }:
			walk(v.Unwrap())
		}
	}
	walk(err)
	return out
}

// writeError answers with the problem document for err. Internal errors
// are logged and answered without detail.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	p := Problem{Type: problemBlank, Title: http.StatusText(status), Status: status}
	switch {
	case status == http.StatusInternalServerError:
		s.log.Error("admin: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		p.Detail = "internal error; see the vipgate log"
	case status >= 500:
		// Store and dependency failures can name hosts and files: log
		// them, answer without.
		s.log.Warn("admin: request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
		p.Detail = "a dependency (the store) is unavailable; see the vipgate log"
	case status == http.StatusRequestEntityTooLarge:
		var mbe *http.MaxBytesError
		errors.As(err, &mbe)
		p.Detail = fmt.Sprintf("request body exceeds %d bytes", mbe.Limit)
		p.Errors = []FieldProblem{{Field: "body", Problem: p.Detail}}
	default:
		// The answer is built from domain errors only: the fields named
		// in the chain, else the sentinel and the resource. A wrapped
		// error's text (a store's operation, a driver's message) is not
		// echoed.
		p.Errors = fieldProblems(err)
		var br *badRequest
		switch {
		case len(p.Errors) > 0 && (status == http.StatusUnprocessableEntity || status == http.StatusBadRequest):
			p.Type = problemValidation
			p.Detail = fmt.Sprintf("%d invalid field(s)", len(p.Errors))
		case len(p.Errors) > 0:
			var parts []string
			for _, fp := range p.Errors {
				parts = append(parts, fp.Field+": "+fp.Problem)
			}
			p.Detail = strings.Join(parts, "; ")
		case errors.As(err, &br):
			p.Detail = br.detail
		case status == http.StatusNotFound:
			p.Detail = fmt.Sprintf("no such resource: %s", r.URL.Path)
		case status == http.StatusConflict:
			p.Detail = fmt.Sprintf("%s was changed at the same time; read it again and retry", r.URL.Path)
		default:
			p.Detail = fmt.Sprintf("%s refused", r.URL.Path)
		}
	}
	writeProblem(w, p)
}

// writeProblem answers with the problem document p.
func writeProblem(w http.ResponseWriter, p Problem) {
	writeDoc(w, p.Status, "application/problem+json", p)
}

// invalid returns a validation error for one field.
func invalid(field, format string, args ...any) error {
	return gate.Invalid(field, format, args...)
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	writeDoc(w, status, "application/json", v)
}

// writeDoc answers with v encoded as JSON under the media type ctype.
func writeDoc(w http.ResponseWriter, status int, ctype string, v any) {
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decodeJSON reads one JSON object from r's body (at most limit bytes) into
// v, rejecting unknown fields, duplicate keys and trailing data. Every
// handler that reads a JSON body uses it.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return &badRequest{detail: "request body must be application/json", fields: []FieldProblem{{Field: "body", Problem: "Content-Type must be application/json"}}}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, body)
	}
	if key, ok := duplicateKey(body); ok {
		return &badRequest{detail: "duplicate key " + key, fields: []FieldProblem{{Field: key, Problem: "appears more than once in its object"}}}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &badRequest{detail: "request body has data after the JSON object", fields: []FieldProblem{{Field: "body", Problem: "must hold exactly one JSON object"}}}
	}
	return nil
}

// duplicateKey reports the dotted path of the first key that appears
// twice in one object of the JSON document doc ("routes.on_correct");
// encoding/json would silently keep the last one. doc must be valid JSON.
func duplicateKey(doc []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var walk func(prefix string) (string, bool, error)
	walk = func(prefix string) (string, bool, error) {
		tok, err := dec.Token()
		if err != nil {
			return "", false, err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return "", false, err
				}
				k, _ := kt.(string)
				if seen[k] {
					return prefix + k, true, nil
				}
				seen[k] = true
				if p, dup, err := walk(prefix + k + "."); dup || err != nil {
					return p, dup, err
				}
			}
			_, err = dec.Token() // '}'
			return "", false, err
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if p, dup, err := walk(fmt.Sprintf("%s[%d].", strings.TrimSuffix(prefix, "."), i)); dup || err != nil {
					return p, dup, err
				}
			}
			_, err = dec.Token() // ']'
			return "", false, err
		}
		return "", false, nil
	}
	p, dup, err := walk("")
	return p, dup && err == nil
}

// jsonError turns a decoding error into a bad request naming the field.
func jsonError(err error, doc []byte) error {
	var (
		mbe  *http.MaxBytesError
		syn  *json.SyntaxError
		typ  *json.UnmarshalTypeError
		body = func(p string) error {
			return &badRequest{detail: "malformed JSON: " + p, fields: []FieldProblem{{Field: "body", Problem: p}}}
		}
	)
	switch {
	case errors.As(err, &mbe):
		return err
	case errors.Is(err, io.EOF):
		return body("request body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return body("JSON ends unexpectedly")
	case errors.As(err, &syn):
		return body(fmt.Sprintf("syntax error at byte %d", syn.Offset))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return &badRequest{detail: "malformed JSON: wrong type for " + field, fields: []FieldProblem{{Field: field, Problem: fmt.Sprintf("must be a JSON %s", jsonKind(typ.Type.Kind().String()))}}}
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		f = fieldPath(doc, strings.Trim(f, `"`))
		return &badRequest{detail: "unknown field " + f, fields: []FieldProblem{{Field: f, Problem: "unknown field"}}}
	}
	// Errors from UnmarshalText/UnmarshalJSON of field types (durations,
	// targets, times) do not name the field; report the message.
	return body(strings.TrimPrefix(msg, "json: "))
}

// fieldPath finds the dotted path of the first object key named key in
// the JSON document body ("identification.static_pin_hash"); it falls back
// to key.
func fieldPath(body []byte, key string) string {
	var doc any
	if json.Unmarshal(body, &doc) != nil {
		return key
	}
	var find func(v any, prefix string) (string, bool)
	find = func(v any, prefix string) (string, bool) {
		switch x := v.(type) {
		case map[string]any:
			if _, ok := x[key]; ok {
				return prefix + key, true
			}
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				if p, ok := find(x[k], prefix+k+"."); ok {
					return p, true
				}
			}
		case []any:
			for i, e := range x {
				if p, ok := find(e, strings.TrimSuffix(prefix, ".")+fmt.Sprintf("[%d].", i)); ok {
					return p, true
				}
			}
		}
		return "", false
	}
	if p, ok := find(doc, ""); ok {
		return p
	}
	return key
}

func jsonKind(k string) string {
	switch k {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "number"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "map", "struct", "ptr":
		return "object"
	}
	return k
}
