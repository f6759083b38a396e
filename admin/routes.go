package admin

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/vipgate/vipgate/gate"
)

// routes lists the whole admin API. Every /api/v1 route names the least
// role it needs; openapi.json documents the same set of routes (a test
// keeps them in step).
func (s *server) routes() http.Handler {
	r := chi.NewRouter()
	r.NotFound(s.notFound)
	r.MethodNotAllowed(s.methodNotAllowed)

	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	r.Method(http.MethodGet, "/metrics", s.metrics.Handler())
	r.Get("/openapi.json", s.openAPI)

	viewer, operator, admin := require(gate.RoleViewer), require(gate.RoleOperator), require(gate.RoleAdmin)
	r.Route("/api/v1", func(r chi.Router) {
		r.Use(s.authenticate)

		r.With(viewer).Get("/gates", s.listGates)
		r.With(admin).Post("/gates", s.createGate)
		r.With(viewer).Get("/gates/{gate}", s.getGate)
		r.With(admin).Put("/gates/{gate}", s.updateGate)
		r.With(admin).Delete("/gates/{gate}", s.deleteGate)

		r.With(viewer).Get("/gates/{gate}/pins", s.listEntries)
		r.With(operator).Post("/gates/{gate}/pins", s.createEntry)
		r.With(viewer).Get("/gates/{gate}/pins/{entry}", s.getEntry)
		r.With(operator).Put("/gates/{gate}/pins/{entry}", s.updateEntry)
		r.With(operator).Delete("/gates/{gate}/pins/{entry}", s.deleteEntry)

		r.With(admin).Get("/tokens", s.listTokens)
		r.With(admin).Delete("/tokens/{token}", s.revokeToken)
	})
	return r
}
