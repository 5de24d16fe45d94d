package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
)

// TestSecurityHeadersEverywhere: every answer — a page, an API answer, an
// error, a 404 — carries the CSP and the other headers.
func TestSecurityHeadersEverywhere(t *testing.T) {
	e := newAPIEnv(t)
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/openapi.json"}, {"GET", "/api/v1/search?q=parade"}, {"GET", "/api/v1/items/none/none/none"},
		{"GET", "/no/such/page"}, {"POST", "/api/v1/holds"}, {"GET", "/api/v1/search?q=%22"},
	} {
		for _, auth := range []bool{false, true} {
			hdr := map[string]string{}
			if auth {
				hdr["Authorization"] = "Bearer " + e.tokens[RoleLegal]
			}
			r := e.do(nil, c.method, c.path, nil, hdr)
			want := map[string]string{
				"Content-Security-Policy": "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
				"X-Content-Type-Options":  "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
			}
			for k, v := range want {
				if got := r.header.Get(k); got != v {
					t.Errorf("%s %s (token %v, status %d): %s = %q, want %q", c.method, c.path, auth, r.status, k, got, v)
				}
			}
		}
	}
}

// TestBadInputChangesNothing: each kind of bad input gets its status and
// a JSON error saying what was wrong, and the journal does not grow.
func TestBadInputChangesNothing(t *testing.T) {
	e := newAPIEnv(t)
	c := e.browser()
	csrf := e.signIn(c, "legal", apiPassword(RoleLegal))
	big := `{"name":"h","matter":"m","reason":"` + strings.Repeat("x", 70<<10) + `"}`
	for _, tc := range []struct {
		name           string
		client         *http.Client
		method, path   string
		body           any
		hdr            map[string]string
		status         int
		code, where    string
		messageContain string
	}{
		{"malformed query", nil, "GET", "/api/v1/search?q=%2Bparade+%22road", nil, tok(e, RoleViewer), 400, "bad-query", "q", "column"},
		{"bad limit", nil, "GET", "/api/v1/search?q=parade&limit=0", nil, tok(e, RoleViewer), 400, "bad-input", "limit", "limit"},
		{"bad date", nil, "GET", "/api/v1/search?from=last+week", nil, tok(e, RoleViewer), 400, "bad-input", "from", "from"},
		{"missing item", nil, "GET", "/api/v1/items/facebook/3rd-brigade/nope", nil, tok(e, RoleViewer), 404, "not-found", "key", "nope"},
		{"missing hold", nil, "GET", "/api/v1/holds/nope", nil, tok(e, RoleLegal), 404, "not-found", "name", "nope"},
		{"missing CSRF", c, "POST", "/api/v1/holds", map[string]any{"name": "h1", "matter": "m", "reason": "r"}, nil, 403, "csrf", "csrf_token", "missing"},
		{"wrong CSRF", c, "POST", "/api/v1/holds", map[string]any{"name": "h1", "matter": "m", "reason": "r"}, map[string]string{"X-CSRF-Token": "forged"}, 403, "csrf", "csrf_token", "does not match"},
		{"oversized body", c, "POST", "/api/v1/holds", big, map[string]string{"X-CSRF-Token": csrf}, 413, "too-large", "body", "limit"},
		{"malformed JSON", c, "POST", "/api/v1/holds", `{"name":`, map[string]string{"X-CSRF-Token": csrf}, 400, "bad-input", "body", "JSON"},
		{"unknown field", c, "POST", "/api/v1/holds", `{"name":"h","matter":"m","reason":"r","scope":"all"}`, map[string]string{"X-CSRF-Token": csrf}, 400, "bad-input", "body", "scope"},
		{"bad token", nil, "GET", "/api/v1/search", nil, map[string]string{"Authorization": "Bearer osmarc_0000_forged"}, 401, "bad-token", "Authorization", "token"},
		{"cross-site", c, "POST", "/api/v1/holds", map[string]any{"name": "h1", "matter": "m", "reason": "r"}, map[string]string{"X-CSRF-Token": csrf, "Sec-Fetch-Site": "cross-site"}, 403, "csrf", "csrf_token", "cross-origin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.events()
			r := e.do(tc.client, tc.method, tc.path, tc.body, tc.hdr)
			if r.status != tc.status {
				t.Fatalf("%d %s, want %d", r.status, r.body, tc.status)
			}
			m := r.json(t)
			if m["code"] != tc.code || m["where"] != tc.where || !strings.Contains(m["error"].(string), tc.messageContain) {
				t.Errorf("error %v, want code %q where %q mentioning %q", m, tc.code, tc.where, tc.messageContain)
			}
			// A search is journaled even when it finds nothing; a refused
			// or bad request is not.
			if after := e.events(); after != before {
				t.Errorf("the journal grew from %d to %d events", before, after)
			}
		})
	}
	// With the token, the same change goes through, as the signed-in user.
	before := e.events()
	r := e.do(c, "POST", "/api/v1/holds", map[string]any{"name": "h1", "matter": "m", "reason": "r"}, map[string]string{"X-CSRF-Token": csrf})
	if r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	evs := e.eventsAfter(before)
	if len(evs) != 1 || evs[0]["type"] != "hold.placed" || evs[0]["actor"] != "legal" {
		t.Errorf("events %v", evs)
	}
}

func tok(e *apiEnv, r Role) map[string]string {
	return map[string]string{"Authorization": "Bearer " + e.tokens[r]}
}

// TestSessions: cookie attributes, idle and absolute expiry (401
// session-expired), sign-out, and a disabled user's session and token
// ending at once.
func TestSessions(t *testing.T) {
	e := newAPIEnv(t)
	c := e.browser()
	r := e.do(c, "POST", "/api/v1/session", map[string]string{"user": "viewer", "password": apiPassword(RoleViewer)}, nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var cookie *http.Cookie
	for _, ck := range (&http.Response{Header: r.header}).Cookies() {
		if ck.Name == "osmarc_session" {
			cookie = ck
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" || len(cookie.Value) < 40 {
		t.Fatalf("session cookie %+v", cookie)
	}
	if r := e.do(c, "GET", "/api/v1/me", nil, nil); r.status != 200 {
		t.Fatalf("me: %d %s", r.status, r.body)
	}
	// Used within the idle time, the session lives on...
	for range 3 {
		e.clock.Advance(20 * time.Minute)
		if r := e.do(c, "GET", "/api/v1/me", nil, nil); r.status != 200 {
			t.Fatalf("after %v: %d %s", 20*time.Minute, r.status, r.body)
		}
	}
	// ...until unused for 30 minutes.
	e.clock.Advance(31 * time.Minute)
	r = e.do(c, "GET", "/api/v1/me", nil, nil)
	if r.status != 401 || r.json(t)["code"] != "session-expired" {
		t.Fatalf("idle: %d %s", r.status, r.body)
	}
	// Absolute expiry: busy for 12 hours is still the end.
	c = e.browser()
	e.signIn(c, "viewer", apiPassword(RoleViewer))
	var elapsed time.Duration
	for {
		e.clock.Advance(20 * time.Minute)
		elapsed += 20 * time.Minute
		r := e.do(c, "GET", "/api/v1/me", nil, nil)
		if r.status == 200 {
			if elapsed > 12*time.Hour {
				t.Fatalf("session alive %v after sign-in", elapsed)
			}
			continue
		}
		if r.status != 401 || r.json(t)["code"] != "session-expired" || elapsed != 12*time.Hour {
			t.Fatalf("absolute: after %v: %d %s", elapsed, r.status, r.body)
		}
		break
	}
	// Sign-out ends the session.
	c = e.browser()
	csrf := e.signIn(c, "viewer", apiPassword(RoleViewer))
	if r := e.do(c, "DELETE", "/api/v1/session", nil, map[string]string{"X-CSRF-Token": csrf}); r.status != 204 {
		t.Fatalf("sign out: %d %s", r.status, r.body)
	}
	if r := e.do(c, "GET", "/api/v1/me", nil, nil); r.status != 401 {
		t.Fatalf("after sign-out: %d %s", r.status, r.body)
	}
	// Disabling a user ends their session and their token.
	c = e.browser()
	e.signIn(c, "viewer", apiPassword(RoleViewer))
	if r := e.as(RoleAdmin, "PATCH", "/api/v1/users/viewer", map[string]any{"disabled": true, "reason": "left"}); r.status != 200 {
		t.Fatalf("disable: %d %s", r.status, r.body)
	}
	if r := e.do(c, "GET", "/api/v1/me", nil, nil); r.status != 401 {
		t.Errorf("disabled user's session: %d %s", r.status, r.body)
	}
	if r := e.as(RoleViewer, "GET", "/api/v1/me", nil); r.status != 401 || r.json(t)["code"] != "bad-token" {
		t.Errorf("disabled user's token: %d %s", r.status, r.body)
	}
	if r := e.do(e.browser(), "POST", "/api/v1/session", map[string]string{"user": "viewer", "password": apiPassword(RoleViewer)}, nil); r.status != 401 {
		t.Errorf("disabled user signs in: %d %s", r.status, r.body)
	}
}

// TestSignInRateLimitAndAudit: failed sign-ins are journaled with the
// address; after five for one name, even the right password is refused
// with 429 and Retry-After until the window passes; the address limit
// stops guessing across names.
func TestSignInRateLimitAndAudit(t *testing.T) {
	e := newAPIEnv(t)
	before := e.events()
	for i := range 5 {
		r := e.do(e.browser(), "POST", "/api/v1/session", map[string]string{"user": "legal", "password": "not the password"}, nil)
		if r.status != 401 {
			t.Fatalf("attempt %d: %d %s", i, r.status, r.body)
		}
	}
	r := e.do(e.browser(), "POST", "/api/v1/session", map[string]string{"user": "legal", "password": apiPassword(RoleLegal)}, nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("sixth attempt: %d %s (Retry-After %q)", r.status, r.body, r.header.Get("Retry-After"))
	}
	// Other users are not locked out by one user's failures.
	e.signIn(e.browser(), "admin", apiPassword(RoleAdmin))
	evs := e.eventsAfter(before)
	failed, ok := 0, 0
	for _, ev := range evs {
		d := ev["data"].(map[string]any)
		switch ev["type"] {
		case EventSignInFailed:
			failed++
			if d["user"] != "legal" || d["address"] != "127.0.0.1" || d["reason"] == "" || !strings.HasPrefix(ev["actor"].(string), "web:") {
				t.Errorf("failed sign-in event %v", ev)
			}
		case EventSignIn:
			ok++
			if d["user"] != "admin" || ev["actor"] != "admin" {
				t.Errorf("sign-in event %v", ev)
			}
		}
	}
	if failed != 6 || ok != 1 {
		t.Errorf("%d failed and %d good sign-ins journaled, want 6 and 1: %v", failed, ok, evs)
	}
	// The window passes.
	e.clock.Advance(16 * time.Minute)
	e.signIn(e.browser(), "legal", apiPassword(RoleLegal))
	// The address limit: 20 failures across names.
	for i := range 20 {
		e.do(e.browser(), "POST", "/api/v1/session", map[string]string{"user": "guess" + string(rune('a'+i)), "password": "x"}, nil)
	}
	if r := e.do(e.browser(), "POST", "/api/v1/session", map[string]string{"user": "admin", "password": apiPassword(RoleAdmin)}, nil); r.status != 429 {
		t.Errorf("after 20 failures from one address: %d %s", r.status, r.body)
	}
}

// TestViewerSeesRedacted: a viewer's search and item views show personal
// information redacted; a records officer sees it, and that view is
// journaled; searches are journaled with who ran them.
func TestViewerSeesRedacted(t *testing.T) {
	e := newAPIEnv(t)
	before := e.events()
	r := e.as(RoleViewer, "GET", "/api/v1/search?q=parade+question", nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	body := string(r.body)
	if strings.Contains(body, "555-0123") || strings.Contains(body, "jane.public@example.org") || !strings.Contains(body, "[redacted") {
		t.Errorf("viewer's search shows personal information: %s", body)
	}
	r = e.as(RoleViewer, "GET", "/api/v1/items/"+apiPIIKey, nil)
	if r.status != 200 || strings.Contains(string(r.body), "555-0123") || strings.Contains(string(r.body), "example.org") || !strings.Contains(string(r.body), `"redacted":true`) {
		t.Errorf("viewer's item: %d %s", r.status, r.body)
	}
	r = e.as(RoleRecordsOfficer, "GET", "/api/v1/items/"+apiPIIKey, nil)
	if r.status != 200 || !strings.Contains(string(r.body), "(613) 555-0123") {
		t.Errorf("records officer's item: %d %s", r.status, r.body)
	}
	var searches, views int
	for _, ev := range e.eventsAfter(before) {
		d := ev["data"].(map[string]any)
		switch ev["type"] {
		case "search.run":
			searches++
			if d["by"] != "viewer" || ev["actor"] != "viewer" || d["query"] != "parade question" {
				t.Errorf("search event %v", ev)
			}
		case EventExemptViewed:
			views++
			if ev["actor"] != "records.officer" || d["key"] != apiPIIKey {
				t.Errorf("view event %v", ev)
			}
		}
	}
	if searches != 1 || views != 1 {
		t.Errorf("%d searches and %d unredacted views journaled, want 1 and 1", searches, views)
	}
	// Media by digest is not for viewers.
	if r := e.as(RoleViewer, "GET", "/api/v1/media/"+zeros, nil); r.status != 403 {
		t.Errorf("viewer media: %d", r.status)
	}
}

// TestDispositionNeedsASecondPerson: the planner cannot approve their own
// plan through the API, and no body can name another approver; another
// person can.
func TestDispositionNeedsASecondPerson(t *testing.T) {
	e := newAPIEnv(t)
	r := e.as(RoleRecordsOfficer, "POST", "/api/v1/disposition/plans", map[string]any{})
	if r.status != 201 {
		t.Fatalf("plan: %d %s", r.status, r.body)
	}
	plan := r.json(t)
	id := plan["id"].(string)
	if plan["created_by"] != "records.officer" {
		t.Errorf("planner %v", plan["created_by"])
	}
	r = e.as(RoleRecordsOfficer, "POST", "/api/v1/disposition/plans/"+url.PathEscape(id)+"/approve", nil)
	if r.status != 400 || !strings.Contains(string(r.body), "second person") {
		t.Errorf("planner approves: %d %s", r.status, r.body)
	}
	if r := e.as(RoleViewer, "POST", "/api/v1/disposition/plans/"+url.PathEscape(id)+"/approve", nil); r.status != 403 {
		t.Errorf("viewer approves: %d %s", r.status, r.body)
	}
	before := e.events()
	r = e.as(RoleLegal, "POST", "/api/v1/disposition/plans/"+url.PathEscape(id)+"/approve", map[string]any{})
	if r.status != 200 {
		t.Fatalf("second person approves: %d %s", r.status, r.body)
	}
	evs := e.eventsAfter(before)
	if len(evs) != 1 || evs[0]["actor"] != "legal" || evs[0]["data"].(map[string]any)["by"] != "legal" {
		t.Errorf("approval events %v", evs)
	}
}

// TestHoldPlaceRelease: legal places and releases a hold; the journal names
// them; a records officer cannot.
func TestHoldPlaceRelease(t *testing.T) {
	e := newAPIEnv(t)
	if r := e.as(RoleRecordsOfficer, "POST", "/api/v1/holds", map[string]any{"name": "smith", "matter": "Smith v. Brigade", "reason": "litigation"}); r.status != 403 {
		t.Errorf("records officer places a hold: %d", r.status)
	}
	r := e.as(RoleLegal, "POST", "/api/v1/holds", map[string]any{"name": "smith", "matter": "Smith v. Brigade", "reason": "litigation", "accounts": []string{"facebook/3rd-brigade"}})
	if r.status != 201 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	h := r.json(t)
	if h["placed_by"] != "legal" || h["items"].(float64) < 1 {
		t.Errorf("hold %v", h)
	}
	r = e.as(RoleRecordsOfficer, "GET", "/api/v1/items/"+apiPIIKey, nil)
	if !strings.Contains(string(r.body), `"holds":["smith"]`) {
		t.Errorf("item under hold: %s", r.body)
	}
	r = e.as(RoleLegal, "POST", "/api/v1/holds/smith/release", map[string]any{"reason": "settled"})
	if r.status != 200 || r.json(t)["released_by"] != "legal" {
		t.Errorf("release: %d %s", r.status, r.body)
	}
}

// TestUsersSurviveRebuild: users, roles and tokens are journal events, so a
// catalog rebuilt from the store has them; the audit view withholds the
// password hash.
func TestUsersSurviveRebuild(t *testing.T) {
	e := newAPIEnv(t)
	if r := e.as(RoleAdmin, "POST", "/api/v1/users", map[string]any{"name": "dana", "role": "legal", "password": "dana's long password"}); r.status != 201 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r := e.as(RoleAdmin, "GET", "/api/v1/audit?type=user.", nil)
	if r.status != 200 || strings.Contains(string(r.body), "$2a$") || !strings.Contains(string(r.body), "[withheld]") {
		t.Errorf("audit shows a password hash: %s", r.body)
	}
	dir := e.a.Dir()
	e.ts.Close()
	e.a.SetIndexer(nil)
	if err := e.a.Close(); err != nil {
		t.Fatal(err)
	}
	a, err := archive.Rebuild(context.Background(), rebuildOptions(e, dir))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	u, err := LoadUsers(a, 4)
	if err != nil {
		t.Fatal(err)
	}
	d, err := u.User("dana")
	if err != nil || d.Role != RoleLegal {
		t.Fatalf("dana after rebuild: %+v %v", d, err)
	}
	if _, ok, _ := u.Authenticate("dana", "dana's long password"); !ok {
		t.Error("dana cannot sign in after rebuild")
	}
	if _, _, ok := u.TokenUser(e.tokens[RoleLegal]); !ok {
		t.Error("legal's token does not work after rebuild")
	}
}

func rebuildOptions(e *apiEnv, dir string) archive.Options {
	return archivetest.Options(dir, e.clock, archivetest.MemOpener(e.store))
}

// TestExportAPI: legal exports a search selection, lists and downloads it;
// the export and the download are journal events naming them; a bad
// format changes nothing; a records officer cannot export.
func TestExportAPI(t *testing.T) {
	e := newAPIEnv(t)
	if r := e.as(RoleRecordsOfficer, "POST", "/api/v1/exports?q=parade", map[string]any{"format": "jsonl"}); r.status != 403 {
		t.Errorf("records officer exports: %d", r.status)
	}
	before := e.events()
	if r := e.as(RoleLegal, "POST", "/api/v1/exports?q=parade", map[string]any{"format": "nope"}); r.status != 400 {
		t.Errorf("bad format: %d %s", r.status, r.body)
	}
	if e.events() != before {
		t.Error("a refused export was journaled")
	}
	r := e.as(RoleLegal, "POST", "/api/v1/exports?q=parade", map[string]any{"format": "jsonl"})
	if r.status != 201 {
		t.Fatalf("export: %d %s", r.status, r.body)
	}
	m := r.json(t)
	id := m["id"].(string)
	if items := m["manifest"].(map[string]any)["items"].(float64); items < 1 {
		t.Errorf("manifest %v", m)
	}
	r = e.as(RoleLegal, "GET", "/api/v1/exports", nil)
	if !strings.Contains(string(r.body), id) {
		t.Errorf("list: %s", r.body)
	}
	r = e.as(RoleLegal, "GET", "/api/v1/exports/"+id, nil)
	if r.status != 200 || !strings.Contains(r.header.Get("Content-Disposition"), "attachment") || !strings.Contains(string(r.body), "parade") {
		t.Errorf("download: %d %v %.200s", r.status, r.header, r.body)
	}
	var created, downloaded bool
	for _, ev := range e.eventsAfter(before) {
		switch ev["type"] {
		case "export.created":
			created = ev["actor"] == "legal"
		case "export.downloaded":
			downloaded = ev["actor"] == "legal"
		}
	}
	if !created || !downloaded {
		t.Errorf("export journaled %v, download %v", created, downloaded)
	}
	if r := e.as(RoleLegal, "GET", "/api/v1/exports/../../osmarc.json", nil); r.status != 404 {
		t.Errorf("path escape: %d", r.status)
	}
}

// TestAuditRedactedForAdmins: an admin reads the journal with personal
// information in event data redacted; a records officer reads it whole.
func TestAuditRedactedForAdmins(t *testing.T) {
	e := newAPIEnv(t)
	if r := e.as(RoleRecordsOfficer, "GET", "/api/v1/search?q=%22jane.public%40example.org%22", nil); r.status != 200 {
		t.Fatalf("search: %d %s", r.status, r.body)
	}
	r := e.as(RoleAdmin, "GET", "/api/v1/audit?type=search.", nil)
	if r.status != 200 || strings.Contains(string(r.body), "jane.public@example.org") || !strings.Contains(string(r.body), "[redacted email]") {
		t.Errorf("admin audit: %d %s", r.status, r.body)
	}
	r = e.as(RoleRecordsOfficer, "GET", "/api/v1/audit?type=search.", nil)
	if r.status != 200 || !strings.Contains(string(r.body), "jane.public@example.org") {
		t.Errorf("officer audit: %d %s", r.status, r.body)
	}
}
