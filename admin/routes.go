package admin

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/vipgate/vipgate/gate"
)

// route is one /api/v1 route and the least role it needs.
type route struct {
	method, pattern string
	role            gate.Role
	handler         func(*server) http.HandlerFunc
}

// apiRoutes is the role matrix of the admin API: every /api/v1 route and
// the least role it needs. The REST API and the web console (through API.Do
// and Need) both obey this one table; openapi.json documents the same set
// of routes (a test keeps them in step).
var apiRoutes = []route{
	{"GET", "/gates", gate.RoleViewer, func(s *server) http.HandlerFunc { return s.listGates }},
	{"POST", "/gates", gate.RoleAdmin, func(s *server) http.HandlerFunc { return s.createGate }},
	{"GET", "/gates/{gate}", gate.RoleViewer, func(s *server) http.HandlerFunc { return s.getGate }},
	{"PUT", "/gates/{gate}", gate.RoleAdmin, func(s *server) http.HandlerFunc { return s.updateGate }},
	{"DELETE", "/gates/{gate}", gate.RoleAdmin, func(s *server) http.HandlerFunc { return s.deleteGate }},

	{"GET", "/gates/{gate}/pins", gate.RoleViewer, func(s *server) http.HandlerFunc { return s.listEntries }},
	{"POST", "/gates/{gate}/pins", gate.RoleOperator, func(s *server) http.HandlerFunc { return s.createEntry }},
	{"POST", "/gates/{gate}/pins/import", gate.RoleOperator, func(s *server) http.HandlerFunc { return s.importEntries }},
	{"GET", "/gates/{gate}/pins/export", gate.RoleViewer, func(s *server) http.HandlerFunc { return s.exportEntries }},
	{"GET", "/gates/{gate}/pins/{entry}", gate.RoleViewer, func(s *server) http.HandlerFunc { return s.getEntry }},
	{"PUT", "/gates/{gate}/pins/{entry}", gate.RoleOperator, func(s *server) http.HandlerFunc { return s.updateEntry }},
	{"DELETE", "/gates/{gate}/pins/{entry}", gate.RoleOperator, func(s *server) http.HandlerFunc { return s.deleteEntry }},

	{"GET", "/gates/{gate}/accounts", gate.RoleViewer, func(s *server) http.HandlerFunc { return s.listAccounts }},
	{"POST", "/gates/{gate}/accounts", gate.RoleOperator, func(s *server) http.HandlerFunc { return s.createAccount }},
	{"POST", "/gates/{gate}/accounts/import", gate.RoleOperator, func(s *server) http.HandlerFunc { return s.importAccounts }},
	{"GET", "/gates/{gate}/accounts/export", gate.RoleViewer, func(s *server) http.HandlerFunc { return s.exportAccounts }},
	{"GET", "/gates/{gate}/accounts/{number}", gate.RoleViewer, func(s *server) http.HandlerFunc { return s.getAccount }},
	{"PUT", "/gates/{gate}/accounts/{number}", gate.RoleOperator, func(s *server) http.HandlerFunc { return s.updateAccount }},
	{"DELETE", "/gates/{gate}/accounts/{number}", gate.RoleOperator, func(s *server) http.HandlerFunc { return s.deleteAccount }},
	{"GET", "/gates/{gate}/grants", gate.RoleViewer, func(s *server) http.HandlerFunc { return s.listGrants }},
	{"POST", "/gates/{gate}/grants", gate.RoleOperator, func(s *server) http.HandlerFunc { return s.createGrant }},
	{"DELETE", "/gates/{gate}/grants/{grant}", gate.RoleOperator, func(s *server) http.HandlerFunc { return s.deleteGrant }},

	{"PUT", "/gates/{gate}/override", gate.RoleOperator, func(s *server) http.HandlerFunc { return s.setOverride }},
	{"DELETE", "/gates/{gate}/override", gate.RoleOperator, func(s *server) http.HandlerFunc { return s.clearOverride }},

	{"GET", "/lockouts", gate.RoleViewer, func(s *server) http.HandlerFunc { return s.listLockouts }},
	{"DELETE", "/gates/{gate}/lockouts/{caller}", gate.RoleOperator, func(s *server) http.HandlerFunc { return s.clearLockout }},

	{"GET", "/status", gate.RoleViewer, func(s *server) http.HandlerFunc { return s.status }},
	{"GET", "/status/gates", gate.RoleViewer, func(s *server) http.HandlerFunc { return s.gateStates }},
	{"GET", "/events", gate.RoleViewer, func(s *server) http.HandlerFunc { return s.streamEvents }},
	{"GET", "/calls", gate.RoleViewer, func(s *server) http.HandlerFunc { return s.listCalls }},
	{"GET", "/calls/summary", gate.RoleViewer, func(s *server) http.HandlerFunc { return s.summarizeCalls }},
	{"DELETE", "/callers/{number}", gate.RoleAdmin, func(s *server) http.HandlerFunc { return s.eraseCaller }},
	{"POST", "/explain", gate.RoleViewer, func(s *server) http.HandlerFunc { return s.explain }},

	{"GET", "/prompts", gate.RoleViewer, func(s *server) http.HandlerFunc { return s.listPrompts }},
	{"GET", "/prompts/{gate}/{lang}/{key}", gate.RoleViewer, func(s *server) http.HandlerFunc { return s.getPrompt }},
	{"PUT", "/prompts/{gate}/{lang}/{key}", gate.RoleAdmin, func(s *server) http.HandlerFunc { return s.putPrompt }},
	{"DELETE", "/prompts/{gate}/{lang}/{key}", gate.RoleAdmin, func(s *server) http.HandlerFunc { return s.deletePrompt }},

	{"POST", "/tokens", gate.RoleAdmin, func(s *server) http.HandlerFunc { return s.createToken }},
	{"GET", "/tokens", gate.RoleAdmin, func(s *server) http.HandlerFunc { return s.listTokens }},
	{"DELETE", "/tokens/{token}", gate.RoleAdmin, func(s *server) http.HandlerFunc { return s.revokeToken }},
	{"GET", "/audit", gate.RoleAdmin, func(s *server) http.HandlerFunc { return s.listAudit }},
}

// Need returns the least role the /api/v1 route method pattern needs
// ("GET", "/gates/{gate}/pins"), and false when there is no such route.
// The web console asks it to decide which controls to show; the request
// itself is still checked by the route.
func Need(method, pattern string) (gate.Role, bool) {
	pattern = strings.TrimPrefix(pattern, "/api/v1")
	for _, rt := range apiRoutes {
		if rt.method == method && rt.pattern == pattern {
			return rt.role, true
		}
	}
	return "", false
}

// Allows reports whether a token of role have may use a route that needs
// role need (the ranking the API's checks use).
func Allows(have, need gate.Role) bool { return rank(have) >= rank(need) && rank(need) > 0 }

// routes lists the whole admin API: the health and metrics endpoints and
// apiRoutes under /api/v1, each behind its role check.
func (s *server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.accessLog)
	r.NotFound(s.notFound)
	r.MethodNotAllowed(s.methodNotAllowed)

	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	r.Method(http.MethodGet, "/metrics", s.metrics.Handler())
	r.Get("/openapi.json", s.openAPI)

	r.Route("/api/v1", func(r chi.Router) {
		r.Use(s.authenticate)
		for _, rt := range apiRoutes {
			r.With(require(rt.role)).Method(rt.method, rt.pattern, rt.handler(s))
		}
	})
	return r
}
