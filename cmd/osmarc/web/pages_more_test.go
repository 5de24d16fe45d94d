package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
)

// page sends a page request as role through a signed-in browser session:
// a GET, or a POST of form with the session's CSRF token.
func (e *apiEnv) page(role Role, method, path string, form url.Values) response {
	e.t.Helper()
	return e.pageAs(apiUser(role), apiPassword(role), method, path, form)
}

func (e *apiEnv) pageAs(user, password, method, path string, form url.Values) response {
	e.t.Helper()
	k := pageSessionKey{e, user}
	ps, ok := pageSessions[k]
	if !ok {
		ps.c = e.browser()
		ps.csrf = e.signIn(ps.c, user, password)
		pageSessions[k] = ps
	}
	c, csrf := ps.c, ps.csrf
	if method == http.MethodGet {
		return e.do(c, method, path, nil, nil)
	}
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf_token", csrf)
	return e.do(c, method, path, []byte(form.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
}

// pageSessions keeps one signed-in browser per test server and user, so
// a test signs each user in once (sign-ins are rate-limited).
type pageSessionKey struct {
	e    *apiEnv
	user string
}

var pageSessions = map[pageSessionKey]struct {
	c    *http.Client
	csrf string
}{}

// text is the page's body with tags removed and white space folded, for
// checks of what it says.
func (r response) text() string {
	var b strings.Builder
	in := false
	for _, c := range string(r.body) {
		switch {
		case c == '<':
			in = true
			b.WriteRune(' ')
		case c == '>':
			in = false
		case !in:
			b.WriteRune(c)
		}
	}
	return strings.Join(strings.Fields(strings.NewReplacer("&#39;", "'", "&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`).Replace(b.String())), " ")
}

// TestAccountPageCoverageLikeTheCLI: the account page reads the timeline
// through archive/collect/coverage, so it reports failure gaps and missed
// scheduled runs (no run for more than twice the schedule) as osmarc
// coverage does, and windows the history.
func TestAccountPageCoverageLikeTheCLI(t *testing.T) {
	e := newAPIEnv(t)
	ctx := archive.WithActor(context.Background(), "collector")
	key := "facebook/3rd-brigade"
	if _, err := e.a.UpdateAccount(ctx, key, func(a *archive.Account) error { a.Collect = "@every 6h"; return nil }); err != nil {
		t.Fatal(err)
	}
	capture := func(text string) {
		t.Helper()
		w, err := e.a.BeginCapture(ctx, archive.CaptureOptions{Collector: "facebook", Account: key})
		if err != nil {
			t.Fatal(err)
		}
		it := archive.Item{Platform: "facebook", Account: "3rd-brigade", ID: "555", Kind: "post", CreatedAt: "2026-01-01T10:00:00Z", Text: text}
		if err := w.AddItem(ctx, it, archive.ItemOptions{Source: "test"}); err != nil {
			t.Fatal(err)
		}
		w.Complete(archive.Scope{Account: key})
		e.clock.Advance(time.Minute)
		if _, err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Advance(time.Hour)
	if _, err := e.a.RecordEvent(ctx, collect.EventCollectFailed, collect.FailedRun{Account: key, Collector: "facebook",
		Class: collect.ClassUnavailable, Error: "old trouble", StartedAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(400 * 24 * time.Hour)
	capture("one")
	e.clock.Advance(6 * time.Hour)
	capture("two")
	e.clock.Advance(6 * time.Hour)
	started := e.clock.Now()
	e.clock.Advance(time.Minute)
	if _, err := e.a.RecordEvent(ctx, collect.EventCollectFailed, collect.FailedRun{Account: key, Collector: "facebook",
		Class: collect.ClassAuth, Error: "token expired", StartedAt: started}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(6 * time.Hour)
	capture("three")
	e.clock.Advance(3 * 24 * time.Hour) // nothing since: more than twice 6h

	for _, role := range Roles {
		r := e.page(role, "GET", accountURL(key), nil)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", role, r.status, r.body)
		}
		txt := r.text()
		for _, want := range []string{
			"collection failed 1 time(s): auth ×1 (token expired)",
			"now (still open): no run for 3d (schedule @every 6h)",
			"auth: token expired",
			"3 complete listing(s)",
		} {
			if !strings.Contains(txt, want) {
				t.Errorf("%s: the account page lacks %q:\n%s", role, want, txt)
			}
		}
	}
	// A failure over a year old is outside the default window (the
	// ingest before it is the last good run before the window, so a gap
	// still starts where it began); ?since=all shows it.
	r := e.page(RoleViewer, "GET", accountURL(key), nil)
	if strings.Contains(r.text(), "old trouble") || !strings.Contains(r.text(), "ingest: 9 item(s)") || !strings.Contains(r.text(), "the whole history") {
		t.Errorf("default window:\n%s", r.text())
	}
	r = e.page(RoleViewer, "GET", accountURL(key)+"?since=all", nil)
	if !strings.Contains(r.text(), "unavailable ×1 (old trouble)") || !strings.Contains(r.text(), "The whole history is shown") {
		t.Errorf("since=all:\n%s", r.text())
	}
	r = e.page(RoleViewer, "GET", accountURL(key)+"?since=yesterday", nil)
	if r.status != http.StatusBadRequest || !strings.Contains(r.text(), "since:") {
		t.Errorf("bad since: %d %s", r.status, r.text())
	}
	// A bounded read moves the window's start and says so.
	defer func(n int) { coverageScan = n }(coverageScan)
	coverageScan = 3
	r = e.page(RoleViewer, "GET", accountURL(key), nil)
	if !strings.Contains(r.text(), "only its latest 3 events were read for failures") {
		t.Errorf("bounded coverage read:\n%s", r.text())
	}
	coverageScan = 50000
	// The registry says the account is failing only while no good run
	// came after the failure.
	r = e.page(RoleViewer, "GET", "/accounts", nil)
	if strings.Contains(r.text(), "collection failing") {
		t.Errorf("accounts: a failure older than the last capture shows:\n%s", r.text())
	}
}

// TestAuditPagePaged: the audit page reads the journal newest first a
// page at a time (?n=, ?before=), keeps its filters on the older link,
// withholds secrets, and stops a scan at its bound, saying how far it
// looked.
func TestAuditPagePaged(t *testing.T) {
	e := newAPIEnv(t)
	ctx := archive.WithActor(context.Background(), "tester")
	var seqs []uint64
	for i := range 30 {
		seq, err := e.a.RecordEvent(ctx, "test.note", map[string]any{"n": i, "note": "note " + strings.Repeat("x", i%3)})
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, seq)
		e.clock.Advance(time.Minute)
	}
	r := e.page(RoleRecordsOfficer, "GET", "/audit?type=test.&n=10", nil)
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	txt := r.text()
	if !strings.Contains(txt, "10 matching event(s), newest first") || !strings.Contains(txt, `"n":29`) || strings.Contains(txt, `"n":19`) {
		t.Errorf("first page:\n%s", txt)
	}
	older := regexpFind(t, string(r.body), `href="(/audit\?[^"]*before=[0-9]+[^"]*)" rel="next"`)
	older = strings.ReplaceAll(older, "&amp;", "&")
	if !strings.Contains(older, "type=test.") || !strings.Contains(older, "n=10") || !strings.Contains(older, fmt.Sprintf("before=%d", seqs[20])) {
		t.Errorf("older link %q", older)
	}
	r = e.page(RoleRecordsOfficer, "GET", older, nil)
	txt = r.text()
	if !strings.Contains(txt, `"n":19`) || !strings.Contains(txt, `"n":10`) || strings.Contains(txt, `"n":20`) || strings.Contains(txt, `"n":9,`) {
		t.Errorf("second page:\n%s", txt)
	}
	// The user events hold password hashes: the page withholds them.
	r = e.page(RoleAdmin, "GET", "/audit?type=user.", nil)
	if strings.Contains(string(r.body), "$2a$") || !strings.Contains(r.text(), "[withheld]") {
		t.Errorf("audit shows a password hash:\n%s", r.text())
	}
	// A filter nothing matches stops at the scan bound and says so.
	defer func(n int) { auditScanLimit = n }(auditScanLimit)
	auditScanLimit = 7
	r = e.page(RoleLegal, "GET", "/audit?actor=nobody", nil)
	txt = r.text()
	if !strings.Contains(txt, "0 matching event(s)") || !strings.Contains(txt, "7 events were searched, down to event") || !strings.Contains(txt, "Older events") {
		t.Errorf("bounded scan:\n%s", txt)
	}
	for _, bad := range []string{"/audit?n=0", "/audit?n=many", "/audit?before=x", "/audit?from=soon"} {
		if r := e.page(RoleLegal, "GET", bad, nil); r.status != http.StatusBadRequest {
			t.Errorf("%s: %d", bad, r.status)
		}
	}
}

// TestItemHistoryBounded: the item page's history holds the events that
// name the item, found by a scan of the newest journal events that stops
// at the item's first capture or at its bound, and then says so.
func TestItemHistoryBounded(t *testing.T) {
	e := newAPIEnv(t)
	ctx := archive.WithActor(context.Background(), "tester")
	if _, err := e.a.RecordEvent(ctx, "test.touched", map[string]any{"key": apiPIIKey}); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := e.a.RecordEvent(ctx, "test.other", map[string]any{"n": i}); err != nil {
			t.Fatal(err)
		}
	}
	r := e.page(RoleRecordsOfficer, "GET", itemURL(apiPIIKey), nil)
	if !strings.Contains(r.text(), "test.touched (event") || strings.Contains(r.text(), "were not searched") {
		t.Errorf("history:\n%s", r.text())
	}
	defer func(n int) { itemHistoryScan = n }(itemHistoryScan)
	itemHistoryScan = 5
	r = e.page(RoleRecordsOfficer, "GET", itemURL(apiPIIKey), nil)
	if strings.Contains(r.text(), "test.touched") || !strings.Contains(r.text(), "were not searched for this item") ||
		!strings.Contains(r.text(), "Search the older journal for it") {
		t.Errorf("bounded history:\n%s", r.text())
	}
	// A viewer may not read the audit journal: no link to it.
	r = e.page(RoleViewer, "GET", itemURL(apiPIIKey), nil)
	if !strings.Contains(r.text(), "were not searched") || strings.Contains(r.text(), "Search the older journal") {
		t.Errorf("viewer's bounded history:\n%s", r.text())
	}
}

func regexpFind(t *testing.T, s, re string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no %s in:\n%s", re, s)
	}
	return m[1]
}

// TestLongThreadPaged: a thread longer than a page says how long it is,
// shows the page holding the item, links the other pages, and links a
// parent that is on another page; a page out of range is a clear error.
func TestLongThreadPaged(t *testing.T) {
	e := newAPIEnv(t)
	defer func(n int) { threadPageSize = n }(threadPageSize)
	threadPageSize = 2
	reply := archive.ItemKey("facebook", "3rd-brigade", "101_2001_3002")
	r := e.page(RoleRecordsOfficer, "GET", itemURL(reply), nil)
	txt := r.text()
	for _, want := range []string{"This thread has 4 items: 3–4 (page 2 of 2) are shown, oldest first.", "Earlier items",
		"In reply to an item on another page", "Parade question"} {
		if !strings.Contains(txt, want) {
			t.Errorf("page of the reply lacks %q:\n%s", want, txt)
		}
	}
	if strings.Contains(txt, "Will the parade be accessible") || strings.Contains(txt, "Later items") {
		t.Errorf("page 2 shows page 1's items or a later page:\n%s", txt)
	}
	prev := strings.ReplaceAll(regexpFind(t, string(r.body), `href="([^"]*tpage=1[^"]*)" rel="prev"`), "&amp;", "&")
	r = e.page(RoleRecordsOfficer, "GET", prev, nil)
	txt = r.text()
	if !strings.Contains(txt, "1–2 (page 1 of 2)") || !strings.Contains(txt, "Will the parade be accessible") || !strings.Contains(txt, "Later items") ||
		strings.Contains(txt, "Parade question") {
		t.Errorf("page 1:\n%s", txt)
	}
	if r := e.page(RoleRecordsOfficer, "GET", itemURL(reply)+"?tpage=3", nil); r.status != http.StatusBadRequest || !strings.Contains(r.text(), "tpage: want a page of the thread from 1 to 2") {
		t.Errorf("tpage out of range: %d %s", r.status, r.text())
	}
	// A walk cut at its bound says so.
	defer func(n int) { threadWalkLimit = n }(threadWalkLimit)
	threadWalkLimit = 3
	if txt := e.page(RoleRecordsOfficer, "GET", itemURL(reply), nil).text(); !strings.Contains(txt, "or more items") || !strings.Contains(txt, "Only the first 3 are paged here") {
		t.Errorf("cut walk:\n%s", txt)
	}
	// A short thread has no pager.
	threadPageSize, threadWalkLimit = 500, 20000
	if txt := e.page(RoleRecordsOfficer, "GET", itemURL(reply), nil).text(); strings.Contains(txt, "This thread has") {
		t.Errorf("a short thread is paged:\n%s", txt)
	}
}

// TestAuditPageRedactsForAdmins: an admin (who may not read personal
// information) reads event data redacted on the audit page, as in the
// API, and cannot find it with the text filter; an officer reads it.
func TestAuditPageRedactsForAdmins(t *testing.T) {
	e := newAPIEnv(t)
	ctx := archive.WithActor(context.Background(), "records.officer")
	if _, err := e.a.RecordEvent(ctx, "test.note", map[string]any{"reason": "asked by jane.public@example.org"}); err != nil {
		t.Fatal(err)
	}
	r := e.page(RoleAdmin, "GET", "/audit?type=test.", nil)
	if strings.Contains(string(r.body), "jane.public@example.org") || !strings.Contains(r.text(), "[redacted email]") {
		t.Errorf("admin's audit page:\n%s", r.text())
	}
	if r := e.page(RoleAdmin, "GET", "/audit?text=jane.public", nil); !strings.Contains(r.text(), "0 matching event(s)") {
		t.Errorf("the admin's text filter finds hidden text:\n%s", r.text())
	}
	if r := e.page(RoleRecordsOfficer, "GET", "/audit?text=jane.public", nil); !strings.Contains(string(r.body), "jane.public@example.org") {
		t.Errorf("officer's audit page:\n%s", r.text())
	}
}
