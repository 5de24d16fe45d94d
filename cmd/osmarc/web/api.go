package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/osmarc/osmarc/index"
)

// apiRoutes is the JSON API. Keep openapi.json in step: a test checks
// that every route here appears in it.
func (s *Server) apiRoutes() []Route {
	return []Route{
		{"GET /api/v1/openapi.json", PermPublic, s.apiOpenAPI, "The OpenAPI 3 document of this API"},
		{"POST /api/v1/session", PermPublic, s.apiSignIn, "Sign in with a user name and password; sets the session cookie"},
		{"DELETE /api/v1/session", PermSignedIn, s.apiSignOut, "Sign out"},
		{"GET /api/v1/me", PermSignedIn, s.apiMe, "Who is signed in, their role and permissions"},
		{"GET /api/v1/search", PermSearch, s.apiSearch, "Search the archive"},
		{"GET /api/v1/items/{key...}", PermRead, s.apiItem, "An item with every version, its classification and holds"},
		{"GET /api/v1/thread/{key...}", PermRead, s.apiThread, "An item's whole thread"},
		{"GET /api/v1/media/{digest}", PermReadUnredacted, s.apiMedia, "A media file, as an attachment of its checked type"},
		{"GET /api/v1/accounts", PermRead, s.apiAccounts, "The account registry"},
		{"GET /api/v1/accounts/{key...}", PermRead, s.apiAccount, "One account"},
		{"POST /api/v1/accounts", PermAccounts, s.apiAccountAdd, "Register an account"},
		{"POST /api/v1/account-deactivations/{key...}", PermAccounts, s.apiAccountDeactivate, "Deactivate an account"},
		{"GET /api/v1/requests", PermRequestsView, s.apiRequests, "Open-records requests (all=true: closed too)"},
		{"POST /api/v1/requests", PermRequests, s.apiRequestOpen, "Open a request"},
		{"GET /api/v1/requests/{id}", PermRequestsView, s.apiRequest, "One request with its clock"},
		{"POST /api/v1/requests/{id}/searches", PermRequests, s.apiRequestSearch, "Run a search and save it in the request's scope"},
		{"POST /api/v1/requests/{id}/items", PermRequests, s.apiRequestAdd, "Add items (keys, or every hit of a saved search)"},
		{"POST /api/v1/requests/{id}/removals", PermRequests, s.apiRequestRemove, "Remove an item, with a reason"},
		{"POST /api/v1/requests/{id}/withholdings", PermRequests, s.apiRequestWithhold, "Withhold an item under an exemption"},
		{"POST /api/v1/requests/{id}/redactions", PermRequests, s.apiRequestRedact, "Redact text in an item"},
		{"POST /api/v1/requests/{id}/productions", PermRequests, s.apiRequestProduce, "Produce the request as a BagIt bag"},
		{"POST /api/v1/requests/{id}/close", PermRequests, s.apiRequestClose, "Close a request"},
		{"GET /api/v1/request-presets", PermRequestsView, s.apiRequestLaws, "Laws, calendars and exemption codes"},
		{"GET /api/v1/schedules", PermRetentionView, s.apiSchedules, "Retention schedules"},
		{"GET /api/v1/schedules/{id}", PermRetentionView, s.apiSchedule, "One schedule"},
		{"POST /api/v1/schedules", PermSchedules, s.apiScheduleAdd, "Add a schedule (update=true: change one)"},
		{"GET /api/v1/rules", PermRetentionView, s.apiRules, "Classification rules, in order"},
		{"POST /api/v1/rules", PermClassify, s.apiRuleAdd, "Add a classification rule and re-evaluate every item"},
		{"POST /api/v1/rules/{id}/move", PermClassify, s.apiRuleMove, "Move a rule"},
		{"POST /api/v1/rules/{id}/remove", PermClassify, s.apiRuleRemove, "Remove a rule"},
		{"POST /api/v1/classifications/{key...}", PermClassify, s.apiClassify, "Classify an item (a person's decision outranks rules)"},
		{"POST /api/v1/classification-undos/{key...}", PermClassify, s.apiUnclassify, "Undo a person's classification"},
		{"GET /api/v1/explain/{key...}", PermRetentionView, s.apiExplain, "How an item's classification came about"},
		{"GET /api/v1/holds", PermRetentionView, s.apiHolds, "Legal holds with their item counts"},
		{"GET /api/v1/holds/{name}", PermRetentionView, s.apiHold, "One hold"},
		{"POST /api/v1/holds", PermHolds, s.apiHoldPlace, "Place a hold"},
		{"POST /api/v1/holds/{name}/release", PermHolds, s.apiHoldRelease, "Release a hold"},
		{"GET /api/v1/disposition/plans", PermRetentionView, s.apiPlans, "Disposition plans"},
		{"GET /api/v1/disposition/plans/{id}", PermRetentionView, s.apiPlan, "One plan"},
		{"POST /api/v1/disposition/plans", PermDispositionPlan, s.apiPlanCreate, "Plan the disposition of what is eligible"},
		{"POST /api/v1/disposition/plans/{id}/approve", PermDispositionApprove, s.apiPlanApprove, "Approve a plan (not its planner)"},
		{"POST /api/v1/disposition/plans/{id}/execute", PermDispositionPlan, s.apiPlanExecute, "Carry out an approved plan"},
		{"GET /api/v1/certificates/{digest}", PermRetentionView, s.apiCertificate, "A certificate of destruction"},
		{"POST /api/v1/exports", PermExport, s.apiExport, "Export a selection (search parameters in the URL) or a request's items"},
		{"GET /api/v1/exports", PermExport, s.apiExports, "Exports made through the API"},
		{"GET /api/v1/exports/{id}", PermExport, s.apiExportDownload, "Download an export (a bag as a zip)"},
		{"GET /api/v1/audit", PermAudit, s.apiAudit, "The journal, newest first, filtered"},
		{"GET /api/v1/audit/verify", PermAudit, s.apiAuditVerify, "Check the journal's hash chain"},
		{"GET /api/v1/users", PermUsers, s.apiUsers, "Users"},
		{"POST /api/v1/users", PermUsers, s.apiUserAdd, "Add a user"},
		{"PATCH /api/v1/users/{name}", PermUsers, s.apiUserChange, "Change a user's role, password or disabled state"},
		{"GET /api/v1/tokens", PermUsers, s.apiTokens, "API tokens (never their secrets)"},
		{"POST /api/v1/tokens", PermUsers, s.apiTokenCreate, "Create a token (its secret is shown once)"},
		{"POST /api/v1/tokens/{id}/revoke", PermUsers, s.apiTokenRevoke, "Revoke a token"},
	}
}

// decodeJSON reads a JSON request body into v: one object, no unknown
// fields, nothing after it.
func decodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return badInput("send the body as application/json (Content-Type is " + ct + ")")
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return badInput("the request body is empty: send a JSON object")
		}
		var mbe *http.MaxBytesError
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		if errors.As(err, &mbe) || errors.As(err, &se) || errors.As(err, &te) {
			return err
		}
		return badInput("malformed JSON body: " + err.Error())
	}
	if dec.More() {
		return badInput("the request body holds more than one JSON value")
	}
	return nil
}

func (s *Server) apiSignIn(w http.ResponseWriter, r *http.Request) {
	var in struct {
		User     string `json:"user"`
		Password string `json:"password"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.Fail(w, r, err, "body")
		return
	}
	u, csrf, err := s.signIn(w, r, in.User, in.Password)
	var rl *RateLimitError
	switch {
	case errors.As(err, &rl):
		retryAfter(w, rl.RetryAfter)
		s.fail(w, r, http.StatusTooManyRequests, "rate-limited", err.Error(), "")
		return
	case err != nil:
		s.fail(w, r, http.StatusUnauthorized, "sign-in-failed", err.Error(), "")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": u, "csrf_token": csrf, "permissions": permissions[u.Role]})
}

func (s *Server) apiSignOut(w http.ResponseWriter, r *http.Request) {
	s.SignOut(w, r)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) {
	u := UserFrom(r.Context())
	out := map[string]any{"user": u, "permissions": permissions[u.Role]}
	if a := authFrom(r.Context()); a.csrf != "" {
		out["csrf_token"] = a.csrf
	}
	writeJSON(w, http.StatusOK, out)
}

// ParseSearch reads a search from URL parameters, the same names and
// rules as `osmarc search`'s flags: q, account, platform, kind, lang,
// class, exemption, hold (each repeatable), from, to, removed, edited,
// sort, limit, offset; and facets (default true: counts by platform,
// account, kind, year and class). The error names the parameter that was
// wrong.
func ParseSearch(q url.Values) (index.Request, error) {
	req := index.Request{Query: q.Get("q"), Accounts: q["account"], Platforms: q["platform"], Kinds: q["kind"],
		Langs: q["lang"], Classes: q["class"], Exemptions: q["exemption"], Holds: q["hold"], Facets: true, Limit: index.DefaultLimit}
	var err error
	if req.Sort, err = index.ParseSort(q.Get("sort")); err != nil {
		return req, badInput("sort: " + err.Error())
	}
	for _, p := range []struct {
		name string
		to   *bool
	}{{"removed", &req.Removed}, {"edited", &req.Edited}, {"facets", &req.Facets}} {
		if v := q.Get(p.name); v != "" {
			if *p.to, err = strconv.ParseBool(v); err != nil {
				return req, badInput(fmt.Sprintf("%s=%q: want true or false", p.name, v))
			}
		}
	}
	if v := q.Get("from"); v != "" {
		if req.From, _, err = index.ParseDate(v); err != nil {
			return req, badInput("from: " + err.Error())
		}
	}
	if v := q.Get("to"); v != "" {
		if _, req.To, err = index.ParseDate(v); err != nil {
			return req, badInput("to: " + err.Error())
		}
	}
	if !req.From.IsZero() && !req.To.IsZero() && !req.From.Before(req.To) {
		return req, badInput(fmt.Sprintf("from %s is after to %s", q.Get("from"), q.Get("to")))
	}
	for _, p := range []struct {
		name     string
		to       *int
		min, max int
	}{{"limit", &req.Limit, 1, index.MaxLimit}, {"offset", &req.Offset, 0, 1 << 30}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < p.min || n > p.max {
				return req, badInput(fmt.Sprintf("%s=%q: want a whole number from %d to %d", p.name, v, p.min, p.max))
			}
			*p.to = n
		}
	}
	if err := index.ParseQuery(req.Query); err != nil {
		return req, err
	}
	return req, nil
}

// searchParamOf names the parameter a ParseSearch error is about.
func searchParamOf(err error) string {
	var qe *index.QueryError
	if errors.As(err, &qe) {
		return "q"
	}
	msg := err.Error()
	for _, p := range []string{"sort", "removed", "edited", "facets", "from", "to", "limit", "offset"} {
		if strings.HasPrefix(msg, p+":") || strings.HasPrefix(msg, p+"=") {
			return p
		}
	}
	return ""
}

// SearchResult is one page of a search as the API and pages show it.
type SearchResult struct {
	Query  string                        `json:"query"`
	Sort   index.Sort                    `json:"sort"`
	Offset int                           `json:"offset"`
	Limit  int                           `json:"limit"`
	Total  uint64                        `json:"total"`
	Hits   []index.Hit                   `json:"hits"`
	Facets map[string][]index.FacetCount `json:"facets"`
	// Redacted says personal information in snippets was replaced.
	Redacted bool `json:"redacted"`
}

// Search runs a search for the request's user: records it in the journal
// (search.run: who, what, how many hits; see searchLog) before returning
// the hits, and redacts them when the user may not see personal
// information. The journal entry is queued as soon as the index knows how
// many hits there are, so its write and sync overlap with reading the
// page, facets and snippets; Search still returns nothing until the entry
// is durable. (A search that fails after counting is recorded all the
// same, with the hits it counted.)
func (s *Server) Search(r *http.Request, req index.Request) (*SearchResult, error) {
	if s.ix == nil {
		return nil, errNoIndex
	}
	user, filters := UserFrom(r.Context()).Name, searchFilters(r.URL.Query())
	var logged <-chan error
	req.Counted = func(total uint64) { logged = s.queueSearch(user, req.Query, filters, total) }
	res, err := s.ix.Search(r.Context(), req)
	if err != nil {
		return nil, err
	}
	if logged == nil {
		logged = s.queueSearch(user, req.Query, filters, res.Total)
	}
	out := &SearchResult{Query: req.Query, Sort: req.Sort, Offset: req.Offset, Limit: req.Limit, Total: res.Total, Hits: res.Hits, Facets: res.Facets}
	if out.Hits == nil {
		out.Hits = []index.Hit{}
	}
	if Redact(r.Context()) {
		out.Redacted = true
		exempt, err := s.exemptHits(r.Context(), out.Hits)
		if err != nil {
			return nil, err
		}
		for i := range out.Hits {
			redactHit(&out.Hits[i], exempt[out.Hits[i].Key])
		}
	}
	if err := waitLogged(r.Context(), logged); err != nil {
		return nil, fmt.Errorf("record the search: %w", err)
	}
	return out, nil
}

var errNoIndex = errors.New("the archive has no search index yet: run osmarc reindex")

func searchFilters(q url.Values) map[string]string {
	f := map[string]string{}
	for k, v := range q {
		if k != "q" && len(v) > 0 {
			f[k] = strings.Join(v, ",")
		}
	}
	return f
}

func (s *Server) apiSearch(w http.ResponseWriter, r *http.Request) {
	req, err := ParseSearch(r.URL.Query())
	if err != nil {
		s.Fail(w, r, err, searchParamOf(err))
		return
	}
	res, err := s.Search(r, req)
	if errors.Is(err, errNoIndex) {
		s.fail(w, r, http.StatusServiceUnavailable, "no-index", err.Error(), "")
		return
	}
	if err != nil {
		s.Fail(w, r, err, "q")
		return
	}
	writeJSON(w, http.StatusOK, res)
}
