package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/index"
)

// The HTML pages: server-rendered with html/template (every value escaped
// for where it goes), one stylesheet, no script. Archived text is hostile
// and is only ever text in the page: never markup, never a followed link.

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pageTemplates are parsed once: the layout with each page.
var (
	pageTemplatesOnce sync.Once
	pageTemplates     map[string]*template.Template
	pageTemplatesErr  error
)

var pageFuncs = template.FuncMap{
	"join":       strings.Join,
	"itemURL":    itemURL,
	"accountURL": accountURL,
	"highlight":  highlight,
	"fmtTime":    fmtTime,
	"rfc3339":    rfc3339,
	"inc":        func(i int) int { return i + 1 },
	"keyURL":     keyURL,
}

func loadPageTemplates() (map[string]*template.Template, error) {
	pageTemplatesOnce.Do(func() {
		names, err := fs.Glob(templateFS, "templates/*.html")
		if err != nil {
			pageTemplatesErr = err
			return
		}
		pageTemplates = map[string]*template.Template{}
		for _, n := range names {
			if n == "templates/layout.html" {
				continue
			}
			t, err := template.New("layout.html").Funcs(pageFuncs).ParseFS(templateFS, "templates/layout.html", n)
			if err != nil {
				pageTemplatesErr = fmt.Errorf("web: template %s: %w", n, err)
				return
			}
			pageTemplates[strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")] = t
		}
	})
	return pageTemplates, pageTemplatesErr
}

// navLink is one entry of the main navigation.
type navLink struct {
	Href, Label string
	Current     bool
}

// pageUser is who is signed in, as the layout shows them.
type pageUser struct {
	Name string
	Role Role
}

// pageData is what every page's template gets: the layout's fields and the
// page's own (Page).
type pageData struct {
	Title   string
	User    *pageUser
	CSRF    string
	Nav     []navLink
	Flash   string
	Error   string
	Version string
	Page    any
}

// navFor lists the pages the user's role may open.
func navFor(r *http.Request) []navLink {
	all := []struct {
		href, label string
		perm        Permission
	}{
		{"/search", "Search", PermSearch},
		{"/requests", "Requests", PermRequestsView},
		{"/holds", "Holds", PermRetentionView},
		{"/retention", "Retention", PermRetentionView},
		{"/accounts", "Accounts", PermRead},
		{"/audit", "Audit", PermAudit},
		{"/admin/users", "Users", PermUsers},
	}
	var out []navLink
	for _, l := range all {
		if Can(r.Context(), l.perm) {
			out = append(out, navLink{Href: l.href, Label: l.label, Current: r.URL.Path == l.href || strings.HasPrefix(r.URL.Path, l.href+"/")})
		}
	}
	return out
}

// render writes page name with the layout. The page is rendered into a
// buffer first, so a template error becomes a clean 500, not half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title string, page any) {
	d := pageData{Title: title, CSRF: CSRFToken(r), Version: archive.Version, Page: page}
	if u := UserFrom(r.Context()); u != nil {
		d.User = &pageUser{Name: u.Name, Role: u.Role}
		d.Nav = navFor(r)
	}
	d.Flash = r.URL.Query().Get("done")
	if msg, ok := r.Context().Value(pageErrKey).(string); ok {
		d.Error = msg
	}
	s.writePage(w, status, name, d)
}

// writePage executes page name with the layout over d into a buffer, then
// writes it with status.
func (s *Server) writePage(w http.ResponseWriter, status int, name string, d pageData) {
	ts, err := loadPageTemplates()
	if err != nil {
		s.log.Error("templates", "err", err)
		http.Error(w, "internal error (logged)", http.StatusInternalServerError)
		return
	}
	t := ts[name]
	if t == nil {
		s.log.Error("no such template", "name", name)
		http.Error(w, "internal error (logged)", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", d); err != nil {
		s.log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error (logged)", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// errorPage is the page of an error: what went wrong, and that nothing
// was changed.
type errorPage struct {
	Heading, Message string
	Back, BackLabel  string
}

// renderError is the server's HTML error page (failErr draws every error
// outside /api/ with it).
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	heading := http.StatusText(status)
	switch status {
	case http.StatusNotFound:
		heading = "Not found"
	case http.StatusBadRequest:
		heading = "That could not be done"
	case http.StatusForbidden:
		heading = "Not allowed"
	case http.StatusUnauthorized:
		heading = "Please sign in"
	case http.StatusRequestEntityTooLarge:
		heading = "Too much data sent"
	case http.StatusConflict:
		heading = "That could not be done now"
	}
	ep := errorPage{Heading: heading, Message: msg}
	if status == http.StatusUnauthorized {
		ep.Back, ep.BackLabel = "/signin", "Sign in"
	} else if UserFrom(r.Context()) != nil {
		ep.Back, ep.BackLabel = "/search", "Back to search"
	}
	s.render(w, r, status, "error", heading, ep)
}

// done redirects after a change (POST, redirect, GET), with a line saying
// what was done.
func done(w http.ResponseWriter, r *http.Request, to, msg string) {
	u, err := url.Parse(to)
	if err != nil || u.IsAbs() || u.Host != "" || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		u = &url.URL{Path: "/search"}
	}
	q := u.Query()
	q.Set("done", msg)
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// pageRoutes are the HTML pages' routes (New registers them after apiRoutes).
func (s *Server) pageRoutes() []Route {
	return []Route{
		{"GET /{$}", PermSignedIn, s.pageHome, "home: the search page"},
		{"GET /signin", PermPublic, s.pageSignIn, "sign-in form"},
		{"POST /signin", PermPublic, s.pageSignInPost, "sign in"},
		{"POST /signout", PermSignedIn, s.pageSignOut, "sign out"},
		{"GET /static/{file...}", PermPublic, s.pageStatic, "stylesheet and icons"},
		{"GET /search", PermSearch, s.pageSearch, "search page"},
		{"POST /search/select", PermSearch, s.pageSelect, "add selected hits to a request or a new hold"},
		{"GET /items/{key...}", PermRead, s.pageItem, "an item: thread, versions, diff, media, records, history"},
		{"GET /media/{digest}", PermRead, s.pageMedia, "a media file, with its checked type, as an attachment"},
		{"GET /requests", PermRequestsView, s.pageRequests, "open-records requests"},
		{"POST /requests", PermRequests, s.pageRequestOpen, "open a request"},
		{"GET /requests/{id}", PermRequestsView, s.pageRequest, "one request"},
		{"POST /requests/{id}/searches", PermRequests, s.pageRequestSearch, "save a search in a request"},
		{"POST /requests/{id}/items", PermRequests, s.pageRequestItems, "withhold or take out a request's item"},
		{"POST /requests/{id}/redactions", PermRequests, s.pageRequestRedact, "redact text in a request"},
		{"POST /requests/{id}/produce", PermRequests, s.pageRequestProduce, "produce a request"},
		{"GET /requests/{id}/productions/{n}", PermRequestsView, s.pageProductionDownload, "download a production as a zip"},
		{"GET /holds", PermRetentionView, s.pageHolds, "legal holds"},
		{"POST /holds", PermHolds, s.pageHoldPlace, "place a hold"},
		{"POST /holds/{name}/release", PermHolds, s.pageHoldRelease, "release a hold"},
		{"GET /retention", PermRetentionView, s.pageRetention, "schedules, rules, plans, certificates"},
		{"POST /retention/plans", PermDispositionPlan, s.pagePlan, "make a disposition plan"},
		{"POST /retention/plans/{id}/approve", PermDispositionApprove, s.pagePlanApprove, "approve a plan (not its planner)"},
		{"POST /retention/plans/{id}/execute", PermDispositionPlan, s.pagePlanExecute, "execute an approved plan"},
		{"GET /retention/certificates/{digest}", PermRetentionView, s.pageCertificate, "a certificate of destruction"},
		{"GET /accounts", PermRead, s.pageAccounts, "the account registry"},
		{"GET /accounts/{key...}", PermRead, s.pageAccount, "an account's capture status and coverage"},
		{"GET /audit", PermAudit, s.pageAudit, "the journal, filtered, with the hash-chain check"},
		{"POST /classify/{key...}", PermClassify, s.pageClassify, "classify an item (class, schedule, exemptions, reason)"},
		{"POST /classify-undo/{key...}", PermClassify, s.pageUnclassify, "undo a person's classification of an item"},
		{"POST /retention/rules", PermClassify, s.pageRuleAdd, "add a classification rule"},
		{"POST /retention/rules/{id}/move", PermClassify, s.pageRuleMove, "move a classification rule"},
		{"POST /retention/rules/{id}/remove", PermClassify, s.pageRuleRemove, "remove a classification rule"},
		{"POST /retention/schedules", PermSchedules, s.pageScheduleAdd, "add a retention schedule"},
		{"GET /retention/schedules/{id}", PermRetentionView, s.pageSchedule, "one retention schedule"},
		{"POST /requests/{id}/close", PermRequests, s.pageRequestClose, "close a request"},
		{"POST /accounts", PermAccounts, s.pageAccountAdd, "register an account"},
		{"POST /accounts/{key...}", PermAccounts, s.pageAccountChange, "change or deactivate an account"},
		{"GET /admin/users", PermUsers, s.pageUsers, "users and API tokens"},
		{"POST /admin/users", PermUsers, s.pageUserAdd, "add a user"},
		{"POST /admin/users/{name}", PermUsers, s.pageUserChange, "change a user's role, disable or enable, reset the password"},
		{"POST /admin/tokens", PermUsers, s.pageTokenCreate, "create an API token (its secret shown once)"},
		{"POST /admin/tokens/{id}/revoke", PermUsers, s.pageTokenRevoke, "revoke an API token"},
	}
}

func (s *Server) pageHome(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/search", http.StatusSeeOther)
}

// pageStatic serves the embedded stylesheet and icon.
func (s *Server) pageStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := staticFS.ReadFile("static/" + name)
	if err != nil || strings.Contains(name, "..") {
		s.fail(w, r, http.StatusNotFound, "not-found", "no such file: "+name, "")
		return
	}
	ct := "application/octet-stream"
	switch {
	case strings.HasSuffix(name, ".css"):
		ct = "text/css; charset=utf-8"
	case strings.HasSuffix(name, ".svg"):
		ct = "image/svg+xml"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(b)
}

type signInPage struct {
	Next, Username string
}

func (s *Server) pageSignIn(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if UserFrom(r.Context()) != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	msg := ""
	if r.URL.Query().Get("expired") != "" {
		msg = "Your session has ended: sign in again."
	}
	s.renderSignIn(w, r, http.StatusOK, signInPage{Next: next}, msg)
}

// renderSignIn draws the sign-in form: no user, no navigation, msg as its
// error line.
func (s *Server) renderSignIn(w http.ResponseWriter, r *http.Request, status int, p signInPage, msg string) {
	s.writePage(w, status, "signin", pageData{Title: "Sign in", CSRF: CSRFToken(r), Version: archive.Version, Page: p, Error: msg})
}

func (s *Server) pageSignInPost(w http.ResponseWriter, r *http.Request) {
	name, pw := strings.TrimSpace(r.PostFormValue("username")), r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	if name == "" || pw == "" {
		s.renderSignIn(w, r, http.StatusBadRequest, signInPage{Next: next, Username: name}, "Enter your user name and your password.")
		return
	}
	if _, err := s.SignIn(w, r, name, pw); err != nil {
		status := http.StatusUnauthorized
		if rl, ok := err.(*RateLimitError); ok {
			status = http.StatusTooManyRequests
			retryAfter(w, rl.RetryAfter)
		}
		s.renderSignIn(w, r, status, signInPage{Next: next, Username: name}, "Sign-in failed: "+err.Error()+".")
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) pageSignOut(w http.ResponseWriter, r *http.Request) {
	s.SignOut(w, r)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// safeNext keeps a redirect target on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/search"
	}
	return next
}

// itemURL is the page of an item key. Key parts are escaped already
// (%XX); the path escapes the '%' again, so the key comes back whole.
func itemURL(key string) string { return keyURL("/items/", key) }

// keyURL is prefix followed by an item or account key, each part escaped
// as itemURL does.
func keyURL(prefix, key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return prefix + strings.Join(parts, "/")
}

// accountURL is the page of an account key.
func accountURL(key string) string { return keyURL("/accounts/", key) }

// highlight renders a snippet with its matches in <mark>: the text is
// escaped, and the marks are the only markup (spans out of order or out
// of range are ignored).
func highlight(text string, marks []index.Span) template.HTML {
	var b strings.Builder
	at := 0
	for _, m := range marks {
		if m.Start < at || m.End > len(text) || m.Start >= m.End {
			continue
		}
		b.WriteString(template.HTMLEscapeString(text[at:m.Start]))
		b.WriteString("<mark>")
		b.WriteString(template.HTMLEscapeString(text[m.Start:m.End]))
		b.WriteString("</mark>")
		at = m.End
	}
	b.WriteString(template.HTMLEscapeString(text[at:]))
	return template.HTML(b.String())
}

// fmtTime shows a time in UTC to the minute ("" for none).
func fmtTime(v any) string {
	t, ok := timeOf(v)
	if !ok || t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func rfc3339(v any) string {
	t, ok := timeOf(v)
	if !ok || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func timeOf(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, true
	case *time.Time:
		if t == nil {
			return time.Time{}, false
		}
		return *t, true
	}
	return time.Time{}, false
}

// formList reads a filter that may be given several times or as one field
// of space-separated values.
func formList(q url.Values, name string) []string {
	var out []string
	for _, v := range q[name] {
		out = append(out, strings.Fields(v)...)
	}
	return out
}
