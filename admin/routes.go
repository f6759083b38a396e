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
	r.Use(s.accessLog)
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
		r.With(operator).Post("/gates/{gate}/pins/import", s.importEntries)
		r.With(viewer).Get("/gates/{gate}/pins/export", s.exportEntries)
		r.With(viewer).Get("/gates/{gate}/pins/{entry}", s.getEntry)
		r.With(operator).Put("/gates/{gate}/pins/{entry}", s.updateEntry)
		r.With(operator).Delete("/gates/{gate}/pins/{entry}", s.deleteEntry)

		r.With(operator).Put("/gates/{gate}/override", s.setOverride)
		r.With(operator).Delete("/gates/{gate}/override", s.clearOverride)

		r.With(viewer).Get("/lockouts", s.listLockouts)
		r.With(operator).Delete("/gates/{gate}/lockouts/{caller}", s.clearLockout)

		r.With(viewer).Get("/status", s.status)
		r.With(viewer).Get("/events", s.streamEvents)
		r.With(viewer).Get("/calls", s.listCalls)
		r.With(viewer).Post("/explain", s.explain)

		r.With(viewer).Get("/prompts", s.listPrompts)
		r.With(viewer).Get("/prompts/{gate}/{lang}/{key}", s.getPrompt)
		r.With(admin).Put("/prompts/{gate}/{lang}/{key}", s.putPrompt)
		r.With(admin).Delete("/prompts/{gate}/{lang}/{key}", s.deletePrompt)

		r.With(admin).Post("/tokens", s.createToken)
		r.With(admin).Get("/tokens", s.listTokens)
		r.With(admin).Delete("/tokens/{token}", s.revokeToken)
	})
	return r
}
