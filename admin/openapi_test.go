package admin_test

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
)

type openAPIDoc struct {
	OpenAPI string `json:"openapi"`
	Servers []struct {
		URL string `json:"url"`
	} `json:"servers"`
	Paths map[string]map[string]json.RawMessage `json:"paths"`
}

type openAPIOp struct {
	OperationID string            `json:"operationId"`
	Role        string            `json:"x-vipgate-role"`
	Responses   map[string]any    `json:"responses"`
	Security    *[]map[string]any `json:"security"`
}

// TestOpenAPIMatchesRoutes checks that /openapi.json documents exactly the
// routes the router serves (method and path, both ways) and the role each
// /api/v1 route needs.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do("", "GET", "/openapi.json", nil)
	mustStatus(t, r, http.StatusOK)
	var doc openAPIDoc
	r.json(t, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	if len(doc.Servers) == 0 || doc.Servers[0].URL == "" {
		t.Error("openapi.json names no servers")
	}
	documented := map[string]openAPIOp{}
	opIDs := map[string]string{}
	for path, item := range doc.Paths {
		for method, raw := range item {
			if method == "parameters" {
				continue
			}
			var op openAPIOp
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			k := strings.ToUpper(method) + " " + path
			documented[k] = op
			switch prev, dup := opIDs[op.OperationID]; {
			case op.OperationID == "":
				t.Errorf("%s has no operationId", k)
			case dup:
				t.Errorf("%s and %s share operationId %q", prev, k, op.OperationID)
			}
			opIDs[op.OperationID] = k
		}
	}
	routed := walkRoutes(t)
	for k := range routed {
		if _, ok := documented[k]; !ok {
			t.Errorf("route %s is not in openapi.json", k)
		}
	}
	for k, op := range documented {
		if !routed[k] {
			t.Errorf("openapi.json documents %s, which is not routed", k)
		}
		if len(op.Responses) == 0 {
			t.Errorf("%s has no responses", k)
		}
	}
	for _, rt := range routeRoles {
		k := rt.method + " " + rt.pattern
		if op, ok := documented[k]; ok && op.Role != string(rt.role) {
			t.Errorf("%s: openapi.json says role %q, the router needs %q", k, op.Role, rt.role)
		}
	}
	if t.Failed() {
		keys := make([]string, 0, len(routed))
		for k := range routed {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		t.Logf("routed: %s", strings.Join(keys, "\n"))
	}
}
