// Package web is osmarc's web application: the JSON API (/api/v1/...),
// the HTML pages, sign-in, sessions and roles, served by `osmarc serve`
// and `osmarc daemon` over one open archive.
//
// # The server
//
// New(Config) builds a Server over the open *archive.Archive (opened as
// its writer), the search index, a clock, a logger and limits; Handler()
// is the whole application. Every request passes, in order:
//
//   - securityHeaders: Content-Security-Policy (ContentSecurityPolicy: only
//     'self' scripts, no inline script, no plugins, no framing, no <base>),
//     X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer,
//     X-Frame-Options: DENY (and HSTS under TLS), on every response;
//   - recoverPanics: a panic is a logged 500 that reveals nothing;
//   - limitBody: bodies over Config.MaxBody are refused with 413;
//   - authenticate: an "Authorization: Bearer osmarc_…" token (scripts) or
//     the session cookie (browsers) puts the user in the request's context;
//   - guard, per route: the route's Permission against the user's role
//     (401 when nobody is signed in or the session expired — pages
//     redirect to /signin instead — 403 when the role lacks it), then for
//     POST/PUT/PATCH/DELETE the CSRF token (403 when missing or wrong;
//     bearer-token requests are exempt, no browser sends them by itself).
//
// Roles and what they may do are one table, permissions in roles.go;
// Allowed(role, perm) reads it and the README shows it.
//
// # Registering a page
//
// Pages live in pages*.go (the pages' own files). pageRoutes (pages.go)
// lists them like apiRoutes (api.go) lists the API's routes:
//
//	{Pattern: "GET /search", Perm: PermSearch, Handler: s.pageSearch, Summary: "Search"},
//	{Pattern: "GET /signin", Perm: PermPublic, Handler: s.pageSignIn},
//	{Pattern: "POST /signin", Perm: PermPublic, Handler: s.pageSignInPost},
//	{Pattern: "POST /holds", Perm: PermHolds, Handler: s.pagePlaceHold},
//
// The pattern is net/http's ServeMux syntax, method first. Choose the
// narrowest Permission; the guard has checked it (and the CSRF token of a
// POST) before the handler runs, so a handler never checks roles itself —
// it may call Can(ctx, perm) to decide whether to show a button. A route
// without a handler test for each role fails the tests (routes_test.go).
// renderError (pages.go) draws the HTML error page the middleware uses for pages
// (JSON is used under /api/).
//
// Inside a page handler:
//
//   - UserFrom(r.Context()) is the signed-in *User (Name, Role); nil only
//     on PermPublic routes.
//   - CSRFToken(r) is the token to put in every form that changes
//     anything: <input type="hidden" name="csrf_token" value="{{.CSRF}}">
//     (CSRFField). Before sign-in it is bound to a pre-session cookie, so
//     the sign-in form carries it too.
//   - Redact(r.Context()) says the user sees personal information and
//     exempt items only redacted; the data methods below already redact.
//   - The data: the same methods the API uses, so a page shows exactly
//     what the API returns — ParseSearch(r.URL.Query()) and Search(r, req)
//     (logs the search, redacts); Item(r, key) and Thread(r, key); and
//     Archive(), Index(), Records() (retention), Presets() (requests) for
//     reading. Changes go through Write(ctx, fn): it holds the archive's
//     write lock and makes the signed-in user the actor of every journal
//     event fn records.
//   - Sign-in: the POST /signin page calls SignIn(w, r, name, password)
//     (rate-limited; *RateLimitError says when to retry; ErrSignIn for a
//     wrong name or password) and redirects; sign-out calls SignOut(w, r).
//   - Errors: Fail(w, r, err, param) picks the status from the error
//     (malformed query 400 with where, missing item 404, closed request
//     409, oversized body 413, else 500 logged) and draws renderError.
//   - Audit(r, type, data) records a journal event as the user (views of
//     exempt content, exports). Changes made through the archive packages
//     are already events of their own; searches are recorded by Search.
//
// # What the command layer supplies
//
// cmd_serve.go builds the Config: the index the archive already has
// installed (the daemon's) or opens it; records management wired to the
// index as the retention commands wire it; ProduceBag and Export, which
// run `osmarc request produce` and `osmarc export`'s own code, so a bag
// made through the web is the bag the command line makes; and the
// daemon's write lock when the daemon serves.
//
// # Searches in the journal
//
// Every search is a journal event before its hits are shown. Searches are
// written with group commit (searchlog.go): while one write is under way
// the searches that arrive queue and are written together, one event per
// user (search.run for one, search.runs for several).
//
// # Users and tokens
//
// Users (users.go) keeps users, roles, bcrypt password hashes and API
// tokens as journal events, so they survive `osmarc rebuild`; see the
// comment at the top of users.go for why. Sessions live in memory only.
package web
