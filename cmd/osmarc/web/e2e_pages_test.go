package web

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/osmarc/osmarc/archive/request"
	"github.com/osmarc/osmarc/archive/retention"
)

// eval runs a JavaScript expression in the page and returns its value.
func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// fetchStatus sends a request from the page (with its cookies) and
// returns the status and the text of the answer.
func fetchStatus(t *testing.T, ctx context.Context, method, path, body, contentType string) (int, string) {
	t.Helper()
	js := fmt.Sprintf(`fetch(%q, {method: %q, body: %s, headers: %s, redirect: "manual"}).then(async r => [r.status, await r.text()])`,
		path, method, jsString(body, method), jsHeaders(contentType))
	res := eval[[]any](t, ctx, js)
	return int(res[0].(float64)), res[1].(string)
}

func jsString(body, method string) string {
	if method == "GET" {
		return "undefined"
	}
	return fmt.Sprintf("%q", body)
}

func jsHeaders(ct string) string {
	if ct == "" {
		return "{}"
	}
	return fmt.Sprintf(`{"Content-Type": %q}`, ct)
}

// click clicks the element sel and waits for the next page's main.
func click(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	if err := chromedp.Do(ctx,
		navigates(chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)),
		chromedp.WaitVisible(chromedp.CSS(`main`)),
	); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main`)))
	if err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
	return text
}

// fill types into the fields (selector → text).
func fill(t *testing.T, ctx context.Context, fields ...string) {
	t.Helper()
	var acts []chromedp.Action[chromedp.Void]
	for i := 0; i+1 < len(fields); i += 2 {
		acts = append(acts, chromedp.SetValue(chromedp.CSS(fields[i]), fields[i+1]))
	}
	if err := chromedp.Do(ctx, acts...); err != nil {
		t.Fatalf("fill %v: %v", fields, err)
	}
}

// TestE2EWorkflow walks a records officer and a lawyer through the pages:
// sign in, search, read a thread with an edited and a removed comment, add
// items to a request and produce it, place and release a hold, and plan a
// disposition that only a second person may approve.
func TestE2EWorkflow(t *testing.T) {
	st := newSite(t)
	officer := tab(t)

	// Sign-in page, then search.
	visit(t, officer, st, "/signin")
	screenshot(t, officer, "signin")
	st.signIn(t, officer, "olivia")
	text := visit(t, officer, st, "/search?q=%22road+closure%22&sort=oldest")
	mustContain(t, "search", text, "2 items found", "Parade on Saturday", "Will the road closure affect the number 7 bus")
	if n := eval[float64](t, officer, `document.querySelectorAll("ol.hits mark").length`); n < 2 {
		t.Errorf("search: %v highlighted matches, want at least 2", n)
	}
	if got := eval[string](t, officer, `document.querySelector("ol.hits mark").textContent.toLowerCase()`); !strings.Contains(got, "road") {
		t.Errorf("search: first highlight is %q, want the matched words", got)
	}
	screenshot(t, officer, "search")
	// Keyboard and screen readers: the first Tab reaches the skip link,
	// every field has a label, and the page has its landmarks.
	if err := chromedp.Do(officer, chromedp.KeyEvent("\t")); err != nil {
		t.Fatal(err)
	}
	if got := eval[string](t, officer, `document.activeElement.className + " " + document.activeElement.getAttribute("href")`); got != "skip #main" {
		t.Errorf("first Tab focuses %q, want the skip link", got)
	}
	if got := eval[string](t, officer, `Array.from(document.querySelectorAll("input:not([type=hidden]),select,textarea")).filter(e => !e.labels || e.labels.length == 0).map(e => e.outerHTML).join("\n")`); got != "" {
		t.Errorf("fields without a label:\n%s", got)
	}
	if n := eval[float64](t, officer, `document.querySelectorAll("main h1").length + document.querySelectorAll("header nav[aria-label]").length + document.querySelectorAll("form[role=search]").length`); n != 3 {
		t.Errorf("%v of the landmarks (one h1, main nav, search form) found, want 3", n)
	}
	// A facet narrows the search.
	text = click(t, officer, `nav.facets a[href*="kind=comment"]`)
	mustContain(t, "facet kind=comment", text, "1 item found", "number 7 bus")
	// Paging: one hit per page.
	text = visit(t, officer, st, "/search?q=road&limit=1&sort=oldest")
	mustContain(t, "paged", text, "Showing 1–1")
	text = click(t, officer, `a[rel="next"]`)
	mustContain(t, "page 2", text, "Showing 2–2")

	// The thread of the edited comment: nested, with the removed comment
	// marked, the versions and their word diff.
	text = visit(t, officer, st, itemURL(st.keys.edited))
	mustContain(t, "item", text, "Thread as captured", "Parade on Saturday", "Buses divert via Elm Street.",
		"This comment was moderated away.", "removed at source; last seen", "Versions (2)", "Changes from version 1")
	if got := eval[string](t, officer, `Array.from(document.querySelectorAll(".diff ins")).map(e => e.textContent).join("|")`); !strings.Contains(got, "number 7") || !strings.Contains(got, "on Saturday") {
		t.Errorf("diff: inserted %q, want the added words", got)
	}
	// The reply sits under the edited comment, which sits under the post.
	if got := eval[string](t, officer, `document.querySelector("li.node.current ol.replies .text").textContent`); got != "Buses divert via Elm Street." {
		t.Errorf("thread: the reply under the comment reads %q", got)
	}
	if n := eval[float64](t, officer, `document.querySelectorAll("ol.thread-root > li > ol.replies > li").length`); n != 3 {
		t.Errorf("thread: %v comments under the post, want 3", n)
	}
	if got := eval[string](t, officer, `document.querySelector("li.node.removed .text").textContent`); got != "This comment was moderated away." {
		t.Errorf("thread: the removed comment reads %q", got)
	}
	mustContain(t, "item records", text, "gen-1y", "record", "Disposition date", "2025-05-03 (destroy)")
	screenshot(t, officer, "item")

	// Media: served as an attachment with its checked type.
	text = visit(t, officer, st, itemURL(st.keys.post))
	mustContain(t, "post", text, "Attachment 1", "image/png", "alt: Parade route map")
	href := eval[string](t, officer, `document.querySelector("ul.media a").getAttribute("href")`)
	res := eval[[]any](t, officer, fmt.Sprintf(`fetch(%q).then(r => [r.status, r.headers.get("content-type"), r.headers.get("content-disposition"), r.headers.get("x-content-type-options")])`, href))
	if res[0].(float64) != 200 || res[1] != "image/png" || !strings.HasPrefix(res[2].(string), "attachment") || res[3] != "nosniff" {
		t.Errorf("media %s: %v, want 200 image/png attachment nosniff", href, res)
	}

	// Open a request.
	visit(t, officer, st, "/requests")
	fill(t, officer, "#r-requester", "Pat Reporter, Daily Ledger", "#r-description", "Posts and comments about the parade road closure",
		"#r-received", "2026-03-02", "#r-due", "2026-03-30")
	text = click(t, officer, `form[action="/requests"] button[type=submit]`)
	mustContain(t, "request opened", text, "Request REQ-2026-", "opened; due 2026-03-30", "Pat Reporter")
	reqURL := eval[string](t, officer, `location.pathname`)
	reqID := strings.TrimPrefix(reqURL, "/requests/")

	// Add two hits to it from the search page.
	visit(t, officer, st, "/search?q=%22road+closure%22")
	if err := chromedp.Do(officer,
		chromedp.Click(chromedp.CSS(`#sel-1`)),
		chromedp.Click(chromedp.CSS(`#sel-2`)),
		chromedp.SetValue(chromedp.CSS(`#sel-request`), reqID),
	); err != nil {
		t.Fatal(err)
	}
	text = click(t, officer, `button[value="request"]`)
	mustContain(t, "items added", text, "2 item(s) added to "+reqID, "Responsive items (2)")
	// Produce it and download the package.
	text = click(t, officer, `form[action$="/produce"] button`)
	mustContain(t, "produced", text, "Produced "+reqID, "download the package")
	screenshot(t, officer, "request")
	dl := eval[string](t, officer, `document.querySelector("a[href*='/productions/']").getAttribute("href")`)
	res = eval[[]any](t, officer, fmt.Sprintf(`fetch(%q).then(async r => [r.status, r.headers.get("content-type"), (await r.arrayBuffer()).byteLength])`, dl))
	if res[0].(float64) != 200 || res[1] != "application/zip" || res[2].(float64) < 500 {
		t.Errorf("download %s: %v, want a zip", dl, res)
	}
	rq, err := request.Get(st.a, reqID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rq.Productions) != 1 || len(rq.Items) != 2 {
		t.Fatalf("request %s: %d production(s), %d item(s); want 1 and 2", reqID, len(rq.Productions), len(rq.Items))
	}
	if _, err := os.Stat(filepath.Join(rq.Productions[0].Out, "data", request.FileItems)); err != nil {
		t.Errorf("the production bag lacks its items: %v", err)
	}

	// A lawyer, in a browser of her own, places and releases a hold.
	lawyer := tab(t)
	st.signIn(t, lawyer, "liam")
	visit(t, lawyer, st, "/holds")
	fill(t, lawyer, "#h-name", "parade-suit", "#h-matter", "Doe v. City (2026)", "#h-reason", "litigation expected",
		"#h-accounts", "facebook/3rd-brigade", "#h-query", "parade")
	text = click(t, lawyer, `form[action="/holds"] button`)
	mustContain(t, "hold placed", text, "Hold parade-suit placed.", "1 active")
	if got := eval[string](t, lawyer, `document.querySelector("tr#h-parade-suit td:nth-child(4)").textContent`); got != "1" {
		t.Errorf("hold count: %q item(s), want 1 (the post that says parade)", got)
	}
	screenshot(t, lawyer, "holds")
	text = visit(t, officer, st, itemURL(st.keys.post))
	mustContain(t, "held post", text, "parade-suit")
	fill(t, lawyer, "#rel-1", "matter settled")
	text = click(t, lawyer, `form[action="/holds/parade-suit/release"] button`)
	mustContain(t, "released", text, "Hold parade-suit released.", "0 active, 1 released", "matter settled")
	h, err := st.srv.Records().Hold("parade-suit")
	if err != nil || h.Status != retention.HoldReleased || h.PlacedBy != "liam" || h.ReleasedBy != "liam" {
		t.Errorf("hold as recorded: %+v, %v", h, err)
	}

	// A viewer reads the thread with personal information redacted; the
	// officer sees it, and her view is in the journal.
	viewer := tab(t)
	st.signIn(t, viewer, "vera")
	text = visit(t, viewer, st, itemURL(st.keys.pii))
	mustContain(t, "viewer", text, "Call me at [redacted email] about the parking.", "shown redacted for your role")
	if strings.Contains(text, "jane.doe@example.com") {
		t.Errorf("a viewer sees the e-mail address:\n%s", text)
	}
	text = visit(t, officer, st, itemURL(st.keys.pii))
	mustContain(t, "officer", text, "jane.doe@example.com")

	// Disposition: the officer plans, cannot approve her own plan; the
	// lawyer approves; the officer executes and the certificate shows.
	visit(t, officer, st, "/retention")
	text = click(t, officer, `form[action="/retention/plans"] button`)
	mustContain(t, "planned", text, "item(s) eligible", "awaiting a second person")
	if n := eval[float64](t, officer, `document.querySelectorAll("form[action$='/approve']").length`); n != 0 {
		t.Errorf("the planner is offered %v approve button(s)", n)
	}
	plans, _ := st.srv.Records().Plans()
	if len(plans) != 1 {
		t.Fatalf("%d plans, want 1", len(plans))
	}
	// Even sent by hand, her approval is refused and changes nothing.
	csrf := eval[string](t, officer, `document.querySelector("input[name=csrf_token]").value`)
	status, body := fetchStatus(t, officer, "POST", "/retention/plans/"+plans[0].ID+"/approve", "csrf_token="+url.QueryEscape(csrf), "application/x-www-form-urlencoded")
	if status != 400 || !strings.Contains(body, "second person") {
		t.Errorf("self-approval: %d %.200s", status, body)
	}
	visit(t, lawyer, st, "/retention")
	text = click(t, lawyer, `form[action$="/approve"] button`)
	mustContain(t, "approved", text, "approved by liam", "approved")
	screenshot(t, lawyer, "retention")
	visit(t, officer, st, "/retention")
	text = click(t, officer, `form[action$="/execute"] button`)
	mustContain(t, "executed", text, "executed", "destroyed", "certificate")
	text = click(t, officer, `a[href^="/retention/certificates/"]`)
	mustContain(t, "certificate", text, "Certificate of destruction", "liam", "olivia", "gen-1y")

	// Accounts, coverage and the audit journal.
	text = visit(t, officer, st, "/accounts")
	mustContain(t, "accounts", text, "facebook/3rd-brigade", "gen-1y")
	screenshot(t, officer, "accounts")
	text = click(t, officer, `table a[href^="/accounts/"]`)
	mustContain(t, "account", text, "Coverage", "Covered completely from", "2 complete listing(s)")
	screenshot(t, officer, "account")
	text = visit(t, officer, st, "/audit?check=1")
	mustContain(t, "audit", text, "is intact", "auth.signed-in", "hold.placed", "disposition.approved", "item.viewed-exempt")
	text = visit(t, officer, st, "/audit?type=hold.&actor=liam")
	mustContain(t, "audit filtered", text, "hold.placed", "hold.released")
	if strings.Contains(text, "auth.signed-in") {
		t.Errorf("audit filter type=hold. shows other events:\n%s", text)
	}
	screenshot(t, officer, "audit")

	// Sign out: the session is gone.
	click(t, officer, `form.signout button`)
	text = visit(t, officer, st, "/search")
	mustContain(t, "signed out", text, "Sign in")
}

// TestE2EHostileContent archives posts whose text, author, links and URL
// try to run script, opens them in Chromium, and proves nothing ran and
// the text shows as text.
func TestE2EHostileContent(t *testing.T) {
	st := newSite(t)
	ctx := tab(t)
	st.signIn(t, ctx, "olivia")
	check := func(where string) {
		t.Helper()
		if v := eval[string](t, ctx, `String(window.__pwned)`); v != "undefined" {
			t.Errorf("%s: a payload ran (window.__pwned = %s)", where, v)
		}
		if title := eval[string](t, ctx, `document.title`); !strings.HasSuffix(title, " · osmarc") {
			t.Errorf("%s: the title was changed to %q", where, title)
		}
		if n := eval[float64](t, ctx, `document.scripts.length + document.querySelectorAll("iframe,svg,img,style,[onerror],[onload],[onmouseover],a[href^='javascript:' i]").length`); n != 0 {
			t.Errorf("%s: %v script, frame, image, style or handler element(s) in the page", where, n)
		}
	}
	for i, key := range st.keys.hostile {
		visit(t, ctx, st, itemURL(key))
		check(key)
		got := eval[string](t, ctx, `document.querySelector("li.node.current .text").textContent`)
		if got != hostileTexts[i] {
			t.Errorf("%s: the text reads %q, want it shown as written: %q", key, got, hostileTexts[i])
		}
		links := eval[string](t, ctx, `Array.from(document.querySelectorAll("ul.links code")).map(e => e.textContent).join("|")`)
		if !strings.Contains(links, "javascript:window.__pwned=9") {
			t.Errorf("%s: the links are not shown as text: %q", key, links)
		}
		if i == 0 {
			screenshot(t, ctx, "hostile-item")
		}
	}
	visit(t, ctx, st, "/search?q=pwned+OR+styled+OR+click&account=3rd-brigade")
	check("search")
	visit(t, ctx, st, "/search?q=author:mallory")
	check("search by author")
	if n := eval[float64](t, ctx, `document.querySelectorAll("ol.hits li").length`); n != float64(len(hostileTexts)) {
		t.Errorf("search by author: %v hits, want %d", n, len(hostileTexts))
	}
	// The audit page shows the journal's data, hostile text included.
	visit(t, ctx, st, "/audit?text=mallory")
	check("audit")
	// A query that is itself hostile comes back escaped in the form.
	visit(t, ctx, st, "/search?q="+url.QueryEscape(`"><script>window.__pwned=12</script>`))
	check("hostile query")
	if got := eval[string](t, ctx, `document.querySelector("#q").value`); got != `"><script>window.__pwned=12</script>` {
		t.Errorf("the query box holds %q", got)
	}
}

// TestE2EBadInput: a malformed query, a missing item, an expired session,
// a missing CSRF token and an oversized body each get a clear page and
// change nothing.
func TestE2EBadInput(t *testing.T) {
	st := newSite(t)
	ctx := tab(t)
	st.signIn(t, ctx, "liam")

	status, body := fetchStatus(t, ctx, "GET", `/search?q=%22unclosed`, "", "")
	if status != 400 || !strings.Contains(body, "unclosed quote") || !strings.Contains(body, "Search the archive") {
		t.Errorf("malformed query: %d, want 400 with the form and what is wrong:\n%.400s", status, body)
	}
	text := visit(t, ctx, st, `/search?q=%22unclosed`)
	mustContain(t, "malformed query page", text, "unclosed quote")
	screenshot(t, ctx, "bad-query")

	status, body = fetchStatus(t, ctx, "GET", "/items/facebook/3rd-brigade/nope", "", "")
	if status != 404 || !strings.Contains(body, "Not found") || !strings.Contains(body, "facebook/3rd-brigade/nope") {
		t.Errorf("missing item: %d\n%.400s", status, body)
	}
	status, body = fetchStatus(t, ctx, "GET", "/search?sort=sideways&q=x", "", "")
	if status != 400 || !strings.Contains(body, "sort") {
		t.Errorf("bad sort: %d\n%.400s", status, body)
	}

	holdsBefore, _ := st.srv.Records().Holds()
	head := func() uint64 { h, _ := st.a.Catalog().Head(); return h.Seq }
	// No CSRF token: refused, nothing placed.
	visit(t, ctx, st, "/holds")
	before := head()
	status, body = fetchStatus(t, ctx, "POST", "/holds", "name=sneaky&matter=m&reason=r", "application/x-www-form-urlencoded")
	if status != 403 || !strings.Contains(body, "CSRF token is missing") || !strings.Contains(body, "Nothing was changed") {
		t.Errorf("missing CSRF: %d\n%.400s", status, body)
	}
	// A wrong one too.
	status, _ = fetchStatus(t, ctx, "POST", "/holds", "csrf_token=forged&name=sneaky&matter=m&reason=r", "application/x-www-form-urlencoded")
	if status != 403 {
		t.Errorf("forged CSRF: %d, want 403", status)
	}
	// An oversized body: refused before anything is read.
	csrf := eval[string](t, ctx, `document.querySelector("input[name=csrf_token]").value`)
	big := "csrf_token=" + url.QueryEscape(csrf) + "&name=big&matter=m&reason=" + strings.Repeat("x", 2<<20)
	status, body = fetchStatus(t, ctx, "POST", "/holds", big, "application/x-www-form-urlencoded")
	if status != 413 || !strings.Contains(body, "over the limit") {
		t.Errorf("oversized body: %d\n%.400s", status, body)
	}
	// A hold with a bad date: one clear line, nothing placed.
	status, body = fetchStatus(t, ctx, "POST", "/holds", "csrf_token="+url.QueryEscape(csrf)+"&name=dated&matter=m&reason=r&from=2024-02-30", "application/x-www-form-urlencoded")
	if status != 400 || !strings.Contains(body, "from") {
		t.Errorf("bad hold date: %d\n%.400s", status, body)
	}
	holdsAfter, _ := st.srv.Records().Holds()
	if len(holdsAfter) != len(holdsBefore) || head() != before {
		t.Errorf("refused requests changed the archive: holds %d → %d, journal %d → %d", len(holdsBefore), len(holdsAfter), before, head())
	}

	// A viewer may not place holds: the form is not offered, a POST is 403.
	viewer := tab(t)
	st.signIn(t, viewer, "vera")
	text = visit(t, viewer, st, "/search?q=parade")
	if strings.Contains(text, "Place hold") || strings.Contains(text, "Add to request") {
		t.Errorf("a viewer is offered to change holds or requests:\n%s", text)
	}
	status, _ = fetchStatus(t, viewer, "GET", "/holds", "", "")
	if status != 403 {
		t.Errorf("viewer on /holds: %d, want 403", status)
	}

	// An expired session: the next page asks to sign in again.
	st.clock.Advance(31 * time.Minute)
	text = visit(t, ctx, st, "/holds")
	mustContain(t, "expired session", text, "Your session has ended: sign in again.")
	if got := eval[string](t, ctx, `location.pathname`); got != "/signin" {
		t.Errorf("expired session: at %s, want /signin", got)
	}
	screenshot(t, ctx, "expired")
}
