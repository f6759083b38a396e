package admin

import (
	_ "embed"
	"net/http"
)

// openAPIDoc is the hand-written OpenAPI 3.1 description of the API.
//
//go:embed openapi.json
var openAPIDoc []byte

func (s *server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "max-age=300")
	_, _ = w.Write(openAPIDoc)
}
