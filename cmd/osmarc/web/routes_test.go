package web

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// routeCase is how the role test calls one route: a concrete path for
// its pattern and a body. Every route the server registers needs one: a
// new route without an entry here fails TestRoutesEveryRole.
type routeCase struct {
	path string
	body any
}

var zeros = strings.Repeat("0", 64)

var routeCases = map[string]routeCase{
	"GET /api/v1/openapi.json":                    {"/api/v1/openapi.json", nil},
	"POST /api/v1/session":                        {"/api/v1/session", map[string]string{"user": "viewer", "password": apiPassword(RoleViewer)}},
	"DELETE /api/v1/session":                      {"/api/v1/session", nil},
	"GET /api/v1/me":                              {"/api/v1/me", nil},
	"GET /api/v1/search":                          {"/api/v1/search?q=parade", nil},
	"GET /api/v1/items/{key...}":                  {"/api/v1/items/" + apiPIIKey, nil},
	"GET /api/v1/thread/{key...}":                 {"/api/v1/thread/" + apiPIIKey, nil},
	"GET /api/v1/media/{digest}":                  {"/api/v1/media/" + zeros, nil},
	"GET /api/v1/accounts":                        {"/api/v1/accounts", nil},
	"GET /api/v1/accounts/{key...}":               {"/api/v1/accounts/facebook/3rd-brigade", nil},
	"POST /api/v1/accounts":                       {"/api/v1/accounts", map[string]any{}},
	"POST /api/v1/account-deactivations/{key...}": {"/api/v1/account-deactivations/facebook/none", map[string]any{"reason": "test"}},
	"GET /api/v1/requests":                        {"/api/v1/requests", nil},
	"POST /api/v1/requests":                       {"/api/v1/requests", map[string]any{}},
	"GET /api/v1/requests/{id}":                   {"/api/v1/requests/none", nil},
	"POST /api/v1/requests/{id}/searches":         {"/api/v1/requests/none/searches?q=parade", nil},
	"POST /api/v1/requests/{id}/items":            {"/api/v1/requests/none/items", map[string]any{"keys": []string{apiPIIKey}}},
	"POST /api/v1/requests/{id}/removals":         {"/api/v1/requests/none/removals", map[string]any{"key": apiPIIKey, "reason": "test"}},
	"POST /api/v1/requests/{id}/withholdings":     {"/api/v1/requests/none/withholdings", map[string]any{"key": apiPIIKey}},
	"POST /api/v1/requests/{id}/redactions":       {"/api/v1/requests/none/redactions", map[string]any{"key": apiPIIKey}},
	"POST /api/v1/requests/{id}/productions":      {"/api/v1/requests/none/productions", map[string]any{}},
	"POST /api/v1/requests/{id}/close":            {"/api/v1/requests/none/close", map[string]any{}},
	"GET /api/v1/request-presets":                 {"/api/v1/request-presets", nil},
	"GET /api/v1/schedules":                       {"/api/v1/schedules", nil},
	"GET /api/v1/schedules/{id}":                  {"/api/v1/schedules/none", nil},
	"POST /api/v1/schedules":                      {"/api/v1/schedules", map[string]any{}},
	"GET /api/v1/rules":                           {"/api/v1/rules", nil},
	"POST /api/v1/rules":                          {"/api/v1/rules", map[string]any{"match": "(", "class": "record", "reason": "t"}},
	"POST /api/v1/rules/{id}/move":                {"/api/v1/rules/none/move", map[string]any{"to": 1, "reason": "t"}},
	"POST /api/v1/rules/{id}/remove":              {"/api/v1/rules/none/remove", map[string]any{"reason": "t"}},
	"POST /api/v1/classifications/{key...}":       {"/api/v1/classifications/facebook/3rd-brigade/none", map[string]any{"class": "record", "reason": "t"}},
	"POST /api/v1/classification-undos/{key...}":  {"/api/v1/classification-undos/facebook/3rd-brigade/none", map[string]any{"reason": "t"}},
	"GET /api/v1/explain/{key...}":                {"/api/v1/explain/" + apiPIIKey, nil},
	"GET /api/v1/holds":                           {"/api/v1/holds", nil},
	"GET /api/v1/holds/{name}":                    {"/api/v1/holds/none", nil},
	"POST /api/v1/holds":                          {"/api/v1/holds", map[string]any{}},
	"POST /api/v1/holds/{name}/release":           {"/api/v1/holds/none/release", map[string]any{"reason": "test"}},
	"GET /api/v1/disposition/plans":               {"/api/v1/disposition/plans", nil},
	"GET /api/v1/disposition/plans/{id}":          {"/api/v1/disposition/plans/none", nil},
	"POST /api/v1/disposition/plans":              {"/api/v1/disposition/plans", map[string]any{"as_of": "not a date"}},
	"POST /api/v1/disposition/plans/{id}/approve": {"/api/v1/disposition/plans/none/approve", nil},
	"POST /api/v1/disposition/plans/{id}/execute": {"/api/v1/disposition/plans/none/execute", nil},
	"GET /api/v1/certificates/{digest}":           {"/api/v1/certificates/" + zeros, nil},
	"POST /api/v1/exports":                        {"/api/v1/exports?q=parade", map[string]any{"format": "no-such-format"}},
	"GET /api/v1/exports":                         {"/api/v1/exports", nil},
	"GET /api/v1/exports/{id}":                    {"/api/v1/exports/none", nil},
	"GET /api/v1/audit":                           {"/api/v1/audit?limit=5", nil},
	"GET /api/v1/audit/verify":                    {"/api/v1/audit/verify", nil},
	"GET /api/v1/users":                           {"/api/v1/users", nil},
	"POST /api/v1/users":                          {"/api/v1/users", map[string]any{"name": "x", "role": "no-such-role", "password": "long enough password"}},
	"PATCH /api/v1/users/{name}":                  {"/api/v1/users/viewer", map[string]any{}},
	"GET /api/v1/tokens":                          {"/api/v1/tokens", nil},
	"POST /api/v1/tokens":                         {"/api/v1/tokens", map[string]any{"user": "nobody"}},
	"POST /api/v1/tokens/{id}/revoke":             {"/api/v1/tokens/none/revoke", map[string]any{}},
}

// TestRoutesEveryRole calls every registered route as every role: a role
// the permission table allows gets past the guard (no 401, no 403, no
// 5xx), every other role gets 403 and changes nothing; nobody signed in
// gets 401 (or, for a page, the sign-in page).
func TestRoutesEveryRole(t *testing.T) {
	e := newAPIEnv(t)
	routes := e.s.Routes()
	if len(routes) < len(routeCases) {
		t.Errorf("the server registers %d routes, the test knows %d: a route went missing", len(routes), len(routeCases))
	}
	for _, rt := range routes {
		rc, ok := routeCases[rt.Pattern]
		if !ok {
			t.Errorf("route %q has no entry in routeCases: add one, so every role is tested against it", rt.Pattern)
			continue
		}
		t.Run(rt.Pattern, func(t *testing.T) {
			allowedSome, refusedSome := false, false
			for _, role := range Roles {
				before := e.events()
				r := e.as(role, rt.Method(), rc.path, rc.body)
				if Allowed(role, rt.Perm) {
					allowedSome = true
					if r.status == http.StatusUnauthorized || r.status == http.StatusForbidden || r.status >= 500 {
						t.Errorf("%s, allowed %q: %d %s", role, rt.Perm, r.status, r.body)
					}
					continue
				}
				refusedSome = true
				if r.status != http.StatusForbidden {
					t.Errorf("%s, without %q: %d %s, want 403", role, rt.Perm, r.status, r.body)
				} else if rt.API() && r.json(t)["code"] != "forbidden" {
					t.Errorf("%s: %s", role, r.body)
				}
				if after := e.events(); after != before {
					t.Errorf("%s, refused: the journal grew from %d to %d events", role, before, after)
				}
			}
			if rt.Perm != PermPublic && rt.Perm != PermSignedIn && rt.Perm != PermSearch && rt.Perm != PermRead && (!allowedSome || !refusedSome) {
				t.Errorf("permission %q: allowed some %v, refused some %v: the table has no boundary to test", rt.Perm, allowedSome, refusedSome)
			}
			if rt.Perm == PermPublic {
				return
			}
			before := e.events()
			r := e.do(e.browser(), rt.Method(), rc.path, rc.body, nil)
			switch {
			case rt.API() && r.status == http.StatusUnauthorized:
			case !rt.API() && (r.status == http.StatusSeeOther || r.status == http.StatusUnauthorized || r.status == http.StatusForbidden):
			default:
				t.Errorf("signed out: %d %s", r.status, r.body)
			}
			if after := e.events(); after != before {
				t.Errorf("signed out: the journal grew from %d to %d events", before, after)
			}
		})
	}
}

// TestOpenAPIListsEveryRoute checks the OpenAPI document names every API
// route with its method and permission, and nothing the server lacks.
func TestOpenAPIListsEveryRoute(t *testing.T) {
	e := newAPIEnv(t)
	r := e.do(nil, "GET", "/api/v1/openapi.json", nil, nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	rest := regexp.MustCompile(`\{(\w+)\.\.\.\}`)
	seen := map[string]bool{}
	for _, rt := range e.s.Routes() {
		if !rt.API() {
			continue
		}
		p := rest.ReplaceAllString(rt.Path(), "{$1}")
		m := strings.ToLower(rt.Method())
		seen[m+" "+p] = true
		op, ok := doc.Paths[p][m]
		if !ok {
			t.Errorf("openapi.json lacks %s %s", rt.Method(), p)
			continue
		}
		var o struct {
			Perm string `json:"x-osmarc-permission"`
		}
		json.Unmarshal(op, &o)
		if o.Perm != string(rt.Perm) {
			t.Errorf("%s %s: openapi says permission %q, the server %q", rt.Method(), p, o.Perm, rt.Perm)
		}
	}
	for p, ops := range doc.Paths {
		for m := range ops {
			if !seen[m+" "+p] {
				t.Errorf("openapi.json documents %s %s, which the server does not serve", m, p)
			}
		}
	}
	var keys []string
	for k := range seen {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) < 40 {
		t.Errorf("only %d API operations", len(keys))
	}
}
