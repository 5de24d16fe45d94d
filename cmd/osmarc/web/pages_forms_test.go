package web

import (
	"archive/zip"
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/request"
	"github.com/osmarc/osmarc/archive/retention"
	"github.com/osmarc/osmarc/index"
)

// formStep is one form sent through a signed-in browser session: who
// sends it, where, what; the status and the journal events it must make
// (none for a refusal or bad input, which change nothing).
type formStep struct {
	name   string
	role   Role
	path   string
	form   url.Values
	status int
	events []string // event types recorded, in order
	says   string   // text the answer (or the page redirected to) holds
}

func (e *apiEnv) runSteps(t *testing.T, steps []formStep) {
	t.Helper()
	for _, st := range steps {
		before := e.events()
		r := e.page(st.role, "POST", st.path, st.form)
		if r.status != st.status {
			t.Errorf("%s: %d, want %d: %s", st.name, r.status, st.status, r.text())
			continue
		}
		var got []string
		for _, ev := range e.eventsAfter(before) {
			if typ := ev["type"].(string); !strings.HasPrefix(typ, "auth.") && typ != "search.run" {
				got = append(got, typ)
			}
		}
		if strings.Join(got, " ") != strings.Join(st.events, " ") {
			t.Errorf("%s: events %v, want %v", st.name, got, st.events)
		}
		for _, ev := range e.eventsAfter(before) {
			if typ := ev["type"].(string); len(st.events) > 0 && typ == st.events[0] && ev["actor"] != apiUser(st.role) {
				t.Errorf("%s: event %s by %v, want %s", st.name, typ, ev["actor"], apiUser(st.role))
			}
		}
		if st.says == "" {
			continue
		}
		txt := r.text()
		if r.status == http.StatusSeeOther {
			txt = e.page(st.role, "GET", r.header.Get("Location"), nil).text()
		}
		if !strings.Contains(txt, st.says) {
			t.Errorf("%s: the answer lacks %q:\n%s", st.name, st.says, txt)
		}
	}
}

// newRulesEnv is newAPIEnv with records management wired to the search
// index, as osmarc serve wires it, so classification rules can be added.
func newRulesEnv(t *testing.T) *apiEnv {
	t.Helper()
	e := newAPIEnv(t)
	recs := retention.New(e.a, e.clock.Now)
	recs.Matcher, recs.ParseQuery = e.ix, indexClauses
	s, err := New(Config{Archive: e.a, Index: e.ix, Users: e.s.Users(), Records: recs, Now: e.clock.Now, BcryptCost: bcrypt.MinCost, MaxBody: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	e.s = s
	e.ts = httptest.NewServer(s.Handler())
	t.Cleanup(e.ts.Close)
	return e
}

// indexClauses reads a rule's match with the index's query parser, as the
// command layer does.
func indexClauses(q string) ([]retention.Clause, error) {
	cs, err := index.Clauses(q)
	out := make([]retention.Clause, len(cs))
	for i, c := range cs {
		out[i] = retention.Clause{Text: c.Text, Field: c.Field, Required: c.Required, Excluded: c.Excluded}
	}
	return out, err
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// TestPageFormsRecords: classify and undo on the item page, the rules
// (add, move, remove, test a key) and schedules (add, show) on the
// retention page, each a journal event by the signed-in officer; other
// roles are refused and bad input changes nothing.
func TestPageFormsRecords(t *testing.T) {
	e := newRulesEnv(t)
	classify := keyURL("/classify/", apiPIIKey)
	undo := keyURL("/classify-undo/", apiPIIKey)
	e.runSteps(t, []formStep{
		{"classify as legal", RoleLegal, classify, form("class", "transitory", "reason", "x"), 403, nil, ""},
		{"classify as viewer", RoleViewer, classify, form("class", "transitory", "reason", "x"), 403, nil, ""},
		{"classify without a reason", RoleRecordsOfficer, classify, form("class", "transitory"), 400, nil, "reason is required"},
		{"classify with a bad class", RoleRecordsOfficer, classify, form("class", "rubbish", "reason", "x"), 400, nil, "rubbish"},
		{"classify with a bad code", RoleRecordsOfficer, classify, form("class", "record", "exemptions", "no-such-code", "reason", "x"), 400, nil, "no-such-code"},
		{"classify a missing item", RoleRecordsOfficer, keyURL("/classify/", "facebook/3rd-brigade/none"), form("class", "record", "reason", "x"), 404, nil, ""},
		{"classify", RoleRecordsOfficer, classify, form("class", "record", "exemptions", "personal-information", "reason", "a citizen's phone number"),
			303, []string{retention.EventClassificationSet}, "Classified as record, exempt under personal-information."},
		{"undo without a reason", RoleRecordsOfficer, undo, form(), 400, nil, "reason is required"},
	})
	// The item page shows the decision and the undo form to the officer,
	// no form to a viewer.
	r := e.page(RoleRecordsOfficer, "GET", itemURL(apiPIIKey), nil)
	if !strings.Contains(r.text(), "Classified by records.officer") || !strings.Contains(string(r.body), `action="/classify-undo/`) {
		t.Errorf("item page after classify:\n%s", r.text())
	}
	if r := e.page(RoleViewer, "GET", itemURL(apiPIIKey), nil); strings.Contains(string(r.body), `action="/classify`) {
		t.Error("a viewer is offered the classification form")
	}
	e.runSteps(t, []formStep{
		{"undo", RoleRecordsOfficer, undo, form("reason", "a mistake"), 303, []string{retention.EventClassificationUndone}, "the rules decide again"},
		// Rules.
		{"rule as admin", RoleAdmin, "/retention/rules", form("match", "kind:comment", "class", "transitory", "reason", "x"), 403, nil, ""},
		{"rule that does not parse", RoleRecordsOfficer, "/retention/rules", form("match", "created:~yesterday", "class", "transitory", "reason", "x"), 400, nil, "created"},
		{"rule without a reason", RoleRecordsOfficer, "/retention/rules", form("match", "kind:comment", "class", "transitory"), 400, nil, "reason is required"},
		{"rule", RoleRecordsOfficer, "/retention/rules", form("match", "kind:comment", "class", "transitory", "note", "comments are transitory", "reason", "policy 12"),
			303, []string{retention.EventRulesChanged}, "Rule r1 added."},
		{"second rule first", RoleRecordsOfficer, "/retention/rules", form("match", "parade", "class", "secondary-copy", "at", "1", "reason", "copies"),
			303, []string{retention.EventRulesChanged}, "Rule r2 added."},
		{"move to nowhere", RoleRecordsOfficer, "/retention/rules/r2/move", form("to", "zero", "reason", "x"), 400, nil, "to:"},
		{"move", RoleRecordsOfficer, "/retention/rules/r2/move", form("to", "2", "reason", "order"), 303, []string{retention.EventRulesChanged}, "Rule r2 moved to position 2."},
		{"remove a missing rule", RoleRecordsOfficer, "/retention/rules/r9/remove", form("reason", "x"), 404, nil, ""},
		{"remove", RoleRecordsOfficer, "/retention/rules/r2/remove", form("reason", "not needed"), 303, []string{retention.EventRulesChanged}, "Rule r2 removed."},
		// Schedules.
		{"schedule as legal", RoleLegal, "/retention/schedules", form("id", "s1", "title", "t", "authority", "a", "retain", "3y"), 403, nil, ""},
		{"schedule with a bad period", RoleRecordsOfficer, "/retention/schedules", form("id", "s1", "title", "t", "authority", "a", "retain", "forever-ish"), 400, nil, "retain:"},
		{"schedule with a bad id", RoleRecordsOfficer, "/retention/schedules", form("id", "no spaces", "title", "t", "authority", "a", "retain", "3y"), 400, nil, "schedule id"},
		{"schedule", RoleRecordsOfficer, "/retention/schedules", form("id", "grs-6.4-020", "title", "Public posts", "authority", "NARA GRS 6.4 item 020",
			"retain", "3y", "cutoff", "calendar-year", "action", "destroy"), 303, []string{retention.EventScheduleAdded}, "Authority NARA GRS 6.4 item 020"},
		{"schedule again", RoleRecordsOfficer, "/retention/schedules", form("id", "grs-6.4-020", "title", "t", "authority", "a", "retain", "3y"), 400, nil, "grs-6.4-020"},
	})
	// The rules are a table, not JSON; testing a key explains it.
	r = e.page(RoleLegal, "GET", "/retention?test="+url.QueryEscape(apiPIIKey), nil)
	txt := r.text()
	for _, want := range []string{"Classification rules (1)", "r1 kind:comment transitory the account's", "comments are transitory",
		"How " + apiPIIKey + " is classified", "transitory", "decided by rule r1", "matches and decides"} {
		if !strings.Contains(txt, want) {
			t.Errorf("retention page lacks %q:\n%s", want, txt)
		}
	}
	if strings.Contains(txt, `"match"`) || strings.Contains(string(r.body), `action="/retention/rules"`) {
		t.Errorf("legal sees raw rules or the rule form:\n%s", txt)
	}
	if r := e.page(RoleLegal, "GET", "/retention?test=facebook/none/none", nil); r.status != http.StatusNotFound {
		t.Errorf("testing a missing key: %d", r.status)
	}
	if r := e.page(RoleViewer, "GET", "/retention/schedules/grs-6.4-020", nil); r.status != http.StatusForbidden {
		t.Errorf("a viewer reads a schedule: %d", r.status)
	}
}

// TestPageFormsRequests: close a request, and redact a span of an item.
func TestPageFormsRequests(t *testing.T) {
	e := newAPIEnv(t)
	r := e.as(RoleRecordsOfficer, "POST", "/api/v1/requests", map[string]any{"requester": "A. Journalist", "description": "parade posts", "received": "2026-02-27", "due": "2026-03-30"})
	if r.status != http.StatusCreated {
		t.Fatalf("open: %d %s", r.status, r.body)
	}
	id := r.json(t)["id"].(string)
	e.as(RoleRecordsOfficer, "POST", "/api/v1/requests/"+id+"/items", map[string]any{"keys": []string{apiPIIKey}})
	base := "/requests/" + id
	e.runSteps(t, []formStep{
		{"span as legal", RoleLegal, base + "/redactions", form("key", apiPIIKey, "span", "0:6", "reason", "x"), 403, nil, ""},
		{"span without an item", RoleRecordsOfficer, base + "/redactions", form("span", "0:6", "reason", "x"), 400, nil, "name the item"},
		{"bad span", RoleRecordsOfficer, base + "/redactions", form("key", apiPIIKey, "span", "six", "reason", "x"), 400, nil, "span:"},
		{"nothing to redact", RoleRecordsOfficer, base + "/redactions", form("reason", "x"), 400, nil, "say what to redact"},
		{"span", RoleRecordsOfficer, base + "/redactions", form("key", apiPIIKey, "span", "0:6", "reason", "the question's subject"),
			303, []string{request.EventRedacted}, "Redaction recorded."},
		{"close as legal", RoleLegal, base + "/close", form("reason", "done"), 403, nil, ""},
		{"close without a reason", RoleRecordsOfficer, base + "/close", form(), 400, nil, "reason is required"},
		{"close", RoleRecordsOfficer, base + "/close", form("reason", "answered on 2026-03-01"), 303, []string{request.EventClosed}, "closed"},
		{"close again", RoleRecordsOfficer, base + "/close", form("reason", "again"), 409, nil, ""},
	})
	r = e.page(RoleRecordsOfficer, "GET", base, nil)
	if !strings.Contains(r.text(), "Parade") || strings.Contains(string(r.body), `action="/requests/`+id+`/close"`) {
		t.Errorf("closed request page:\n%s", r.text())
	}
}

// TestPageFormsAdmin: users (add, role, disable, enable, password),
// tokens (create, shown once; revoke) and accounts (register, change,
// deactivate), for admins only.
func TestPageFormsAdmin(t *testing.T) {
	e := newAPIEnv(t)
	pw := "a long enough password 1"
	e.runSteps(t, []formStep{
		{"add user as officer", RoleRecordsOfficer, "/admin/users", form("name", "nina", "role", "viewer", "password", pw, "password2", pw), 403, nil, ""},
		{"add user, passwords differ", RoleAdmin, "/admin/users", form("name", "nina", "role", "viewer", "password", pw, "password2", pw+"x"), 400, nil, "differ"},
		{"add user, bad role", RoleAdmin, "/admin/users", form("name", "nina", "role", "boss", "password", pw, "password2", pw), 400, nil, "role"},
		{"add user, short password", RoleAdmin, "/admin/users", form("name", "nina", "role", "viewer", "password", "short", "password2", "short"), 400, nil, "password"},
		{"add user", RoleAdmin, "/admin/users", form("name", "nina", "role", "viewer", "password", pw, "password2", pw), 303, []string{EventUserAdded}, "User nina added as viewer."},
		{"role", RoleAdmin, "/admin/users/nina", form("action", "role", "role", "legal", "reason", "moved to legal"), 303, []string{EventUserRoleChanged}, "nina is now legal."},
		{"disable yourself", RoleAdmin, "/admin/users/admin", form("action", "disable", "reason", "x"), 400, nil, "yourself"},
		{"disable without a reason", RoleAdmin, "/admin/users/nina", form("action", "disable"), 400, nil, "reason is required"},
		{"disable", RoleAdmin, "/admin/users/nina", form("action", "disable", "reason", "left"), 303, []string{EventUserDisabled}, "nina is disabled."},
		{"enable", RoleAdmin, "/admin/users/nina", form("action", "enable", "reason", "back"), 303, []string{EventUserEnabled}, "nina is enabled."},
		{"unknown action", RoleAdmin, "/admin/users/nina", form("action", "promote"), 400, nil, "action"},
		{"unknown user", RoleAdmin, "/admin/users/nobody", form("action", "enable", "reason", "x"), 404, nil, ""},
		{"password", RoleAdmin, "/admin/users/nina", form("action", "password", "password", pw+"2", "password2", pw+"2"), 303, []string{EventUserPasswordChanged}, "password was reset"},
		{"token as legal", RoleLegal, "/admin/tokens", form("user", "nina"), 403, nil, ""},
		{"token for nobody", RoleAdmin, "/admin/tokens", form("user", "nobody"), 400, nil, "no such user"},
		{"token", RoleAdmin, "/admin/tokens", form("user", "nina", "note", "nightly export"), 201, []string{EventTokenCreated}, "it is shown this once"},
	})
	// The new password works, the old does not.
	c := e.browser()
	if r := e.do(c, "POST", "/api/v1/session", map[string]string{"user": "nina", "password": pw + "2"}, nil); r.status != 200 {
		t.Errorf("nina's new password: %d", r.status)
	}
	// The token's secret was on the answer and works; revoke it.
	ts := e.s.Users().Tokens("nina")
	if len(ts) != 1 {
		t.Fatalf("nina's tokens: %+v", ts)
	}
	e.runSteps(t, []formStep{
		{"revoke without a reason", RoleAdmin, "/admin/tokens/" + ts[0].ID + "/revoke", form(), 400, nil, "reason is required"},
		{"revoke", RoleAdmin, "/admin/tokens/" + ts[0].ID + "/revoke", form("reason", "rotated"), 303, []string{EventTokenRevoked}, "revoked"},
		// Accounts.
		{"register as officer", RoleRecordsOfficer, "/accounts", form("platform", "mastodon", "handle", "brigade"), 403, nil, ""},
		{"register without a handle", RoleAdmin, "/accounts", form("platform", "mastodon"), 400, nil, "handle is required"},
		{"register with a secret", RoleAdmin, "/accounts", form("platform", "mastodon", "handle", "brigade", "credentials", "hunter2"), 400, nil, "credentials"},
		{"register with an unknown schedule", RoleAdmin, "/accounts", form("platform", "mastodon", "handle", "brigade", "schedule", "nope"), 400, nil, "schedule"},
		{"register", RoleAdmin, "/accounts", form("platform", "mastodon", "handle", "brigade", "name", "3rd Brigade", "collect", "@every 6h",
			"practitioners", "pat, sam"), 303, []string{"account.added"}, "Account mastodon/brigade registered."},
		{"register twice", RoleAdmin, "/accounts", form("platform", "mastodon", "handle", "brigade"), 400, nil, "already registered"},
		{"change", RoleAdmin, "/accounts/mastodon/brigade", form("action", "update", "name", "3rd Brigade HQ", "unit", "Public Affairs", "collect", "@daily", "practitioners", "pat, sam"),
			303, []string{"account.updated"}, "Public Affairs"},
		{"change with a bad collect", RoleAdmin, "/accounts/mastodon/brigade", form("action", "update", "collect", "every tuesday"), 400, nil, "collect schedule"},
		{"deactivate without a reason", RoleAdmin, "/accounts/mastodon/brigade", form("action", "deactivate"), 400, nil, "reason is required"},
		{"deactivate", RoleAdmin, "/accounts/mastodon/brigade", form("action", "deactivate", "reason", "account closed"), 303, []string{"account.deactivated"}, "deactivated"},
		{"deactivate twice", RoleAdmin, "/accounts/mastodon/brigade", form("action", "deactivate", "reason", "again"), 400, nil, "already deactivated"},
		{"change a missing account", RoleAdmin, "/accounts/mastodon/none", form("action", "update"), 404, nil, ""},
	})
	r := e.as(RoleAdmin, "GET", "/api/v1/accounts/mastodon/brigade", nil)
	if !strings.Contains(string(r.body), `"practitioners":["pat","sam"]`) || !strings.Contains(string(r.body), `"collect":"@daily"`) {
		t.Errorf("account after the forms: %s", r.body)
	}
	if r := e.page(RoleViewer, "GET", "/admin/users", nil); r.status != http.StatusForbidden {
		t.Errorf("a viewer opens the users page: %d", r.status)
	}
}

// TestProductionWrittenElsewhere: a production the CLI wrote outside the
// data directory (request produce --out DIR: the bag, then
// request.RecordProduction with its Payload-Oxum and tag-manifest
// digest) is offered for download while its bag is the one recorded and
// verifies; a changed payload file is refused with the file named, a
// changed tag manifest or a moved bag is not offered, and nothing is
// journaled for a refused download.
func TestProductionWrittenElsewhere(t *testing.T) {
	e := newAPIEnv(t)
	r := e.as(RoleRecordsOfficer, "POST", "/api/v1/requests", map[string]any{"requester": "A. Journalist", "description": "parade posts", "received": "2026-02-27", "due": "2026-03-30"})
	if r.status != http.StatusCreated {
		t.Fatalf("open: %d %s", r.status, r.body)
	}
	id := r.json(t)["id"].(string)
	e.as(RoleRecordsOfficer, "POST", "/api/v1/requests/"+id+"/items", map[string]any{"keys": []string{apiPIIKey}})
	out := filepath.Join(t.TempDir(), "bag")
	ctx := archive.WithActor(context.Background(), "cli-operator")
	sum, oxum, tag, err := e.s.produceBag(ctx, id, out, false, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := request.RecordProduction(ctx, e.a, id, sum, out, oxum, tag); err != nil {
		t.Fatal(err)
	}
	page := func() string { return e.page(RoleLegal, "GET", "/requests/"+id, nil).text() }
	if txt := page(); !strings.Contains(txt, "download the package (zip)") {
		t.Fatalf("request page:\n%s", txt)
	}
	dl := "/requests/" + id + "/productions/1"
	before := e.events()
	r = e.page(RoleLegal, "GET", dl, nil)
	if r.status != 200 || r.header.Get("Content-Type") != "application/zip" {
		t.Fatalf("download: %d %s", r.status, r.text())
	}
	zr, err := zip.NewReader(bytes.NewReader(r.body), int64(len(r.body)))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name[strings.Index(f.Name, "/")+1:]] = true
	}
	if !names["bagit.txt"] || !names["tagmanifest-sha256.txt"] || !names["data/"+request.FileItems] {
		t.Errorf("the zip holds %v", names)
	}
	if evs := e.eventsAfter(before); len(evs) != 1 || evs[0]["type"] != EventProductionDownloaded {
		t.Errorf("download events: %v", evs)
	}
	// A payload file changed: still offered (the tag manifest is the one
	// recorded), but the download verifies the bag and refuses it.
	items := filepath.Join(out, "data", request.FileItems)
	b, err := os.ReadFile(items)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(items, append([]byte("x"), b[1:]...), 0o644); err != nil {
		t.Fatal(err)
	}
	before = e.events()
	r = e.page(RoleLegal, "GET", dl, nil)
	if r.status != http.StatusConflict || !strings.Contains(r.text(), "does not verify") || !strings.Contains(r.text(), request.FileItems) {
		t.Errorf("a damaged bag: %d %s", r.status, r.text())
	}
	if e.events() != before {
		t.Error("a refused download was journaled")
	}
	os.WriteFile(items, b, 0o644)
	// The tag manifest changed: not the bag recorded.
	tm := filepath.Join(out, "tagmanifest-sha256.txt")
	tb, _ := os.ReadFile(tm)
	os.WriteFile(tm, append(tb, '\n'), 0o644)
	if txt := page(); !strings.Contains(txt, "changed since it was produced") || strings.Contains(txt, "download the package") {
		t.Errorf("changed tag manifest:\n%s", txt)
	}
	if r := e.page(RoleLegal, "GET", dl, nil); r.status != http.StatusNotFound {
		t.Errorf("download of a changed bag: %d", r.status)
	}
	os.WriteFile(tm, tb, 0o644)
	// Moved away: says where it was.
	if err := os.Rename(out, out+".moved"); err != nil {
		t.Fatal(err)
	}
	if txt := page(); !strings.Contains(txt, "it is no longer at "+out) {
		t.Errorf("moved bag:\n%s", txt)
	}
	os.Rename(out+".moved", out)
	if r := e.page(RoleLegal, "GET", dl, nil); r.status != 200 {
		t.Errorf("the restored bag: %d %s", r.status, r.text())
	}
}
