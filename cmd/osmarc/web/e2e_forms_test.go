package web

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// openDetails opens a <details> form by clicking its summary.
func openDetails(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel+" > summary"), chromedp.NodeVisible)); err != nil {
		t.Fatalf("open %s: %v", sel, err)
	}
}

// allLabelled fails when a field of the page has no label or two
// elements share an id (a label would name the wrong field).
func allLabelled(t *testing.T, ctx context.Context, where string) {
	t.Helper()
	if got := eval[string](t, ctx, `Array.from(document.querySelectorAll("input:not([type=hidden]),select,textarea")).filter(e => !e.labels || e.labels.length == 0).map(e => e.outerHTML).join("\n")`); got != "" {
		t.Errorf("%s: fields without a label:\n%s", where, got)
	}
	if got := eval[string](t, ctx, `(() => { const seen = {}, dup = []; document.querySelectorAll("[id]").forEach(e => { if (seen[e.id]) dup.push(e.id); seen[e.id] = 1 }); return dup.join(" ") })()`); got != "" {
		t.Errorf("%s: ids used twice: %s", where, got)
	}
}

// TestE2EForms: in Chromium, a records officer classifies an item as
// exempt and a viewer then sees it withheld, the officer undoes it, adds
// a schedule, and closes nothing by mistake; an admin registers an
// account, adds a user and creates a token whose secret is shown once,
// and the new user signs in.
func TestE2EForms(t *testing.T) {
	st := newSite(t)
	officer := tab(t)
	st.signIn(t, officer, "olivia")
	visit(t, officer, st, itemURL(st.keys.reply))
	allLabelled(t, officer, "item page")
	openDetails(t, officer, "details#classify")
	fill(t, officer, "#cl-ex", "security-information", "#cl-reason", "names a convoy route")
	text := click(t, officer, `form[action^="/classify/"] button`)
	mustContain(t, "classified", text, "Classified as record, exempt under security-information.", "exempt: security-information",
		"classification.set: record (names a convoy route)")
	screenshot(t, officer, "item-classified")

	viewer := tab(t)
	st.signIn(t, viewer, "vera")
	text = visit(t, viewer, st, itemURL(st.keys.reply))
	mustContain(t, "viewer of an exempt item", text, "[withheld: exempt]")
	if strings.Contains(text, "Elm Street") || strings.Contains(text, "Classify this item") {
		t.Errorf("a viewer reads the exempt reply or gets the form:\n%s", text)
	}

	visit(t, officer, st, itemURL(st.keys.reply))
	openDetails(t, officer, "details#classify")
	fill(t, officer, "#un-reason", "the route was published")
	text = click(t, officer, `form[action^="/classify-undo/"] button`)
	mustContain(t, "undone", text, "the rules decide again")
	text = visit(t, viewer, st, itemURL(st.keys.reply))
	mustContain(t, "viewer after undo", text, "Buses divert via Elm Street.")

	// A schedule, added on the retention page, has a page of its own.
	visit(t, officer, st, "/retention")
	allLabelled(t, officer, "retention page")
	openDetails(t, officer, `details:has(form[action="/retention/schedules"])`)
	fill(t, officer, "#sc-id", "grs-5.2-020", "#sc-title", "Transitory records", "#sc-authority", "NARA GRS 5.2 item 020",
		"#sc-retain", "180d", "#sc-cutoff", "none")
	text = click(t, officer, `form[action="/retention/schedules"] button`)
	mustContain(t, "schedule added", text, "Schedule grs-5.2-020 added.", "NARA GRS 5.2 item 020", "180d")

	// A rule, added, tested on a key and removed.
	visit(t, officer, st, "/retention")
	fill(t, officer, "#ru-match", "kind:reply", "#ru-note", "replies are transitory", "#ru-reason", "policy 12")
	if err := chromedp.Do(officer, chromedp.SetValue(chromedp.CSS("#ru-class"), "transitory")); err != nil {
		t.Fatal(err)
	}
	text = click(t, officer, `form[action="/retention/rules"] button`)
	mustContain(t, "rule added", text, "Rule r1 added.", "kind:reply", "replies are transitory")
	screenshot(t, officer, "retention-rules")
	fill(t, officer, "#ru-test", st.keys.reply)
	text = click(t, officer, `form[action^="/retention"][method="get"] button`)
	mustContain(t, "rule test", text, "How "+st.keys.reply+" is classified", "transitory", "decided by rule r1", "matches and decides")
	fill(t, officer, "#rm-r1", "superseded")
	text = click(t, officer, `form[action="/retention/rules/r1/remove"] button`)
	mustContain(t, "rule removed", text, "Rule r1 removed.", "Classification rules (0)")

	// A request: a span of an item redacted, then the request closed.
	visit(t, officer, st, "/requests")
	fill(t, officer, "#r-requester", "Pat Reporter", "#r-description", "Bus diversions", "#r-received", "2026-03-02", "#r-due", "2026-03-30")
	click(t, officer, `form[action="/requests"] button[type=submit]`)
	reqID := strings.TrimPrefix(eval[string](t, officer, `location.pathname`), "/requests/")
	fill(t, officer, "#s-q", "Elm")
	text = click(t, officer, `form[action$="/searches"] button`)
	mustContain(t, "search saved", text, "Responsive items (1)")
	fill(t, officer, "#x-key", st.keys.reply, "#x-span", "0:5", "#x-reason", "the route")
	text = click(t, officer, `form[action$="/redactions"] button`)
	mustContain(t, "span redacted", text, "Redaction recorded.", "Buses")
	openDetails(t, officer, `details:has(form[action$="/close"])`)
	allLabelled(t, officer, "request page")
	fill(t, officer, "#cl-reason", "answered in full")
	text = click(t, officer, `form[action$="/close"] button`)
	mustContain(t, "closed", text, "Request "+reqID+" closed.", "answered in full")
	if n := eval[float64](t, officer, `document.querySelectorAll("form[action$='/close'], form[action$='/redactions']").length`); n != 0 {
		t.Errorf("a closed request still offers %v change form(s)", n)
	}

	// The admin registers an account, adds a user and gives her a token.
	admin := tab(t)
	st.signIn(t, admin, "adam")
	visit(t, admin, st, "/accounts")
	allLabelled(t, admin, "accounts page")
	openDetails(t, admin, `details:has(form[action="/accounts"])`)
	fill(t, admin, "#na-platform", "mastodon", "#na-handle", "brigade3", "#na-name", "3rd Brigade (Mastodon)", "#na-co", "@every 6h")
	text = click(t, admin, `form[action="/accounts"] button`)
	mustContain(t, "account registered", text, "Account mastodon/brigade3 registered.", "@every 6h", "No runs yet.")
	screenshot(t, admin, "account-registered")
	allLabelled(t, admin, "account page")

	text = click(t, admin, `nav a[href="/admin/users"]`)
	mustContain(t, "users page", text, "olivia", "records-officer", "API tokens")
	allLabelled(t, admin, "users page")
	openDetails(t, admin, `details:has(form[action="/admin/users"])`)
	fill(t, admin, "#nu-name", "nora", "#nu-pw", "a perfectly long passphrase", "#nu-pw2", "a perfectly long passphrase")
	if err := chromedp.Do(admin, chromedp.SetValue(chromedp.CSS("#nu-role"), "legal")); err != nil {
		t.Fatal(err)
	}
	text = click(t, admin, `form[action="/admin/users"] button`)
	mustContain(t, "user added", text, "User nora added as legal.")
	if err := chromedp.Do(admin, chromedp.SetValue(chromedp.CSS("#nt-user"), "nora")); err != nil {
		t.Fatal(err)
	}
	fill(t, admin, "#nt-note", "nightly export")
	text = click(t, admin, `form[action="/admin/tokens"] button`)
	mustContain(t, "token", text, "Token", "for nora", "shown this once")
	secret := eval[string](t, admin, `document.querySelector("#secret").value`)
	if !strings.HasPrefix(secret, "osmarc_") {
		t.Errorf("token secret %q", secret)
	}
	screenshot(t, admin, "users")
	req, _ := http.NewRequest("GET", st.URL+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("the new token: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	nora := tab(t)
	if err := chromedp.Do(nora,
		chromedp.Navigate(st.URL+"/signin"),
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "nora"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "a perfectly long passphrase"),
		navigates(chromedp.Submit(chromedp.CSS(`#password`))),
	); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(nora, chromedp.Text(chromedp.CSS(`header`)))
	if err != nil || !strings.Contains(text, "nora (legal)") {
		t.Errorf("nora signed in: %q %v", text, err)
	}
}

// TestE2ELongThread: in Chromium, a thread longer than a page says how
// long it is, and the reader pages through it by its links.
func TestE2ELongThread(t *testing.T) {
	st := newSite(t)
	defer func(n int) { threadPageSize = n }(threadPageSize)
	threadPageSize = 2
	ctx := tab(t)
	st.signIn(t, ctx, "olivia")
	text := visit(t, ctx, st, itemURL(st.keys.post))
	mustContain(t, "page 1", text, "This thread has 5 items: 1–2 (page 1 of 3) are shown, oldest first.", "Later items")
	screenshot(t, ctx, "thread-paged")
	text = click(t, ctx, `nav.pager a[rel="next"]`)
	mustContain(t, "page 2", text, "3–4 (page 2 of 3)", "Earlier items", "Later items")
	text = click(t, ctx, `nav.pager a[rel="next"]`)
	mustContain(t, "page 3", text, "5–5 (page 3 of 3)", "In reply to an item on another page")
	if strings.Contains(text, "Later items") {
		t.Errorf("the last page links a later one:\n%s", text)
	}
}
