package admin

import (
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/vipgate/vipgate/gate"
)

// tokenIn is the body of POST /api/v1/tokens.
type tokenIn struct {
	Role gate.Role `json:"role"`
	Name string    `json:"name"`
}

// tokenCreated is the answer to POST /api/v1/tokens: the token record
// and, this once, the clear token.
type tokenCreated struct {
	tokenOut
	Token string `json:"token"`
}

// maxTokenName bounds a token's name (characters).
const maxTokenName = 200

// createToken makes a token for the role asked for. The clear token is in
// the answer only; the store keeps its SHA-256, and nothing logs it.
func (s *server) createToken(w http.ResponseWriter, r *http.Request) {
	var in tokenIn
	if err := decodeJSON(w, r, s.maxBody, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	var errs gate.ValidationErrors
	switch in.Role {
	case gate.RoleViewer, gate.RoleOperator, gate.RoleAdmin:
	case "":
		errs = append(errs, &gate.ValidationError{Field: "role", Problem: "required: admin, operator or viewer"})
	default:
		errs = append(errs, &gate.ValidationError{Field: "role", Problem: fmt.Sprintf("unknown role %q (want admin, operator or viewer)", in.Role)})
	}
	if n := utf8.RuneCountInString(in.Name); n > maxTokenName {
		errs = append(errs, &gate.ValidationError{Field: "name", Problem: fmt.Sprintf("at most %d characters (has %d)", maxTokenName, n)})
	}
	if len(errs) > 0 {
		s.writeError(w, r, errs)
		return
	}
	clear, tok, err := NewToken(in.Role, in.Name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	tok.CreatedAt = s.now().UTC().Truncate(time.Second)
	if err := s.store.CreateToken(r.Context(), tok); err != nil {
		s.writeError(w, r, fmt.Errorf("create token: %w", err))
		return
	}
	s.tokens.forget(tok.ID) // the new token works at once, not after the snapshot's TTL
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", "/api/v1/tokens/"+tok.ID)
	writeJSON(w, http.StatusCreated, tokenCreated{
		tokenOut: tokenOut{ID: tok.ID, Name: tok.Name, Role: tok.Role, CreatedAt: tok.CreatedAt},
		Token:    clear,
	})
}
