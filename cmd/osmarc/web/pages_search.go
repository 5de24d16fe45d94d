package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/request"
	"github.com/osmarc/osmarc/archive/retention"
	"github.com/osmarc/osmarc/index"
)

// searchForm is the search page's form as the user filled it in.
type searchForm struct {
	Accounts, Platforms, Kinds, Langs, Classes, Exemptions, Holds []string
	From, To                                                      string
	Removed, Edited                                               bool
	Sort                                                          string
}

type facetValue struct {
	Value  string
	Count  uint64
	Href   string
	Active bool
}

type facetGroup struct {
	Label  string
	Values []facetValue
}

type pageHit struct {
	index.Hit
	N int
}

type searchPage struct {
	Q         string
	Form      searchForm
	Result    *SearchResult
	Hits      []pageHit
	Facets    []facetGroup
	First     int
	Last      int
	SortName  string
	Prev      string
	Next      string
	CanSelect bool
	CanHold   bool
	Requests  []*request.Request
}

// searchValues normalises the page's query string: filters typed as
// several words become repeated parameters, empty fields go.
func searchValues(in url.Values) url.Values {
	out := url.Values{}
	for k, vs := range in {
		switch k {
		case "account", "platform", "kind", "lang", "class", "exemption", "hold":
			for _, v := range vs {
				out[k] = append(out[k], strings.Fields(v)...)
			}
		case "done":
		default:
			for _, v := range vs {
				if strings.TrimSpace(v) != "" {
					out.Add(k, v)
				}
			}
		}
	}
	return out
}

func (s *Server) pageSearch(w http.ResponseWriter, r *http.Request) {
	q := searchValues(r.URL.Query())
	p := &searchPage{Q: q.Get("q")}
	p.Form = searchForm{Accounts: q["account"], Platforms: q["platform"], Kinds: q["kind"], Langs: q["lang"], Classes: q["class"],
		Exemptions: q["exemption"], Holds: q["hold"], From: q.Get("from"), To: q.Get("to"),
		Removed: q.Get("removed") != "", Edited: q.Get("edited") != "", Sort: q.Get("sort")}
	if p.Form.Sort == "" {
		p.Form.Sort = "relevance"
	}
	for _, k := range []string{"removed", "edited"} {
		if q.Get(k) != "" {
			q.Set(k, "true")
		}
	}
	if len(r.URL.Query()) == 0 {
		// The bare page: the form, no search yet.
		s.render(w, r, http.StatusOK, "search", "Search", p)
		return
	}
	req, err := ParseSearch(q)
	if err == nil {
		var res *SearchResult
		if res, err = s.Search(r, req); err == nil {
			s.fillSearchPage(r, p, q, req, res)
			s.render(w, r, http.StatusOK, "search", "Search: "+p.Q, p)
			return
		}
	}
	// Bad input: the form again, with what was wrong; nothing was run.
	status, msg := http.StatusBadRequest, err.Error()
	if errors.Is(err, errNoIndex) {
		status = http.StatusServiceUnavailable
	} else if e := s.classify(r, err, searchParamOf(err)); e.Status >= 500 {
		status, msg = e.Status, e.Message
	}
	if where := searchParamOf(err); where != "" && !strings.HasPrefix(msg, where) {
		msg = where + ": " + msg
	}
	s.renderWithError(w, r, status, "search", "Search", p, msg)
}

// renderWithError renders a page with an error line above it.
func (s *Server) renderWithError(w http.ResponseWriter, r *http.Request, status int, name, title string, page any, msg string) {
	s.render(w, r.WithContext(context.WithValue(r.Context(), pageErrKey, msg)), status, name, title, page)
}

type pageErrKeyT struct{}

var pageErrKey pageErrKeyT

func (s *Server) fillSearchPage(r *http.Request, p *searchPage, q url.Values, req index.Request, res *SearchResult) {
	p.Result = res
	for i, h := range res.Hits {
		p.Hits = append(p.Hits, pageHit{Hit: h, N: req.Offset + i + 1})
	}
	if len(res.Hits) > 0 {
		p.First, p.Last = req.Offset+1, req.Offset+len(res.Hits)
	}
	switch req.Sort {
	case index.SortNewest:
		p.SortName = "newest first"
	case index.SortOldest:
		p.SortName = "oldest first"
	default:
		p.SortName = "best matches first"
	}
	page := func(offset int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("offset", strconv.Itoa(offset))
		return "/search?" + v.Encode()
	}
	if req.Offset > 0 {
		p.Prev = page(max(0, req.Offset-req.Limit))
	}
	if uint64(req.Offset+len(res.Hits)) < res.Total && len(res.Hits) > 0 {
		p.Next = page(req.Offset + len(res.Hits))
	}
	labels := map[string]struct{ param, label string }{
		"platform": {"platform", "Platform"}, "account": {"account", "Account"}, "kind": {"kind", "Kind"},
		"year": {"", "Year"}, "class": {"class", "Classification"},
	}
	for _, name := range index.FacetNames {
		fc := res.Facets[name]
		if len(fc) == 0 {
			continue
		}
		lb := labels[name]
		g := facetGroup{Label: lb.label}
		for _, c := range fc {
			v := url.Values{}
			for k, vs := range q {
				if k != "offset" {
					v[k] = vs
				}
			}
			active := false
			if lb.param != "" {
				active = slices.Contains(q[lb.param], c.Value)
				v.Set(lb.param, c.Value)
			} else {
				// A year narrows by dates.
				active = q.Get("from") == c.Value && q.Get("to") == c.Value
				v.Set("from", c.Value)
				v.Set("to", c.Value)
			}
			g.Values = append(g.Values, facetValue{Value: c.Value, Count: c.Count, Href: "/search?" + v.Encode(), Active: active})
		}
		p.Facets = append(p.Facets, g)
	}
	p.CanHold = Can(r.Context(), PermHolds)
	if Can(r.Context(), PermRequests) {
		if reqs, err := request.List(s.a); err == nil {
			for _, rq := range reqs {
				if rq.Status == request.StatusOpen {
					p.Requests = append(p.Requests, rq)
				}
			}
		}
	}
	p.CanSelect = p.CanHold || len(p.Requests) > 0
}

// pageSelect adds the hits a user ticked to a request, or places a hold
// on them (a hold whose query names their keys).
func (s *Server) pageSelect(w http.ResponseWriter, r *http.Request) {
	keys := r.PostForm["key"]
	action := r.PostFormValue("action")
	if len(keys) == 0 {
		s.fail(w, r, http.StatusBadRequest, "bad-input", "no items were selected: tick the items first", "key")
		return
	}
	if len(keys) > 1000 {
		s.fail(w, r, http.StatusBadRequest, "bad-input", fmt.Sprintf("%d items selected; at most 1000 at once", len(keys)), "key")
		return
	}
	switch action {
	case "request":
		if !Can(r.Context(), PermRequests) {
			s.fail(w, r, http.StatusForbidden, "forbidden", "your role may not change requests", "")
			return
		}
		id := r.PostFormValue("request")
		var added int
		err := s.Write(r.Context(), func(ctx context.Context) error {
			var err error
			_, added, err = request.AddItems(ctx, s.a, id, keys)
			return err
		})
		if err != nil {
			s.Fail(w, r, err, "request")
			return
		}
		done(w, r, "/requests/"+url.PathEscape(id), fmt.Sprintf("%d item(s) added to %s.", added, id))
	case "hold":
		if !Can(r.Context(), PermHolds) {
			s.fail(w, r, http.StatusForbidden, "forbidden", "your role may not place holds", "")
			return
		}
		var qs []string
		for _, k := range keys {
			if _, err := s.a.Catalog().Item(k); err != nil {
				s.Fail(w, r, fmt.Errorf("item %q: %w", k, err), "key")
				return
			}
			qs = append(qs, "key:"+queryQuote(k))
		}
		h := retention.Hold{Name: r.PostFormValue("hold"), Matter: r.PostFormValue("matter"), Reason: r.PostFormValue("reason"), Query: strings.Join(qs, " ")}
		var placed retention.Hold
		err := s.Write(r.Context(), func(ctx context.Context) error {
			var err error
			placed, err = s.records.PlaceHold(ctx, h, UserFrom(r.Context()).Name)
			return err
		})
		if err != nil {
			s.Fail(w, r, asInput(err), "hold")
			return
		}
		done(w, r, "/holds", fmt.Sprintf("Hold %s placed on %d item(s).", placed.Name, len(keys)))
	default:
		s.fail(w, r, http.StatusBadRequest, "bad-input", "choose what to do with the selected items", "action")
	}
}

// asInput marks the validation errors of the archive packages (plain
// errors that say what is wrong) as bad input, unless they already are
// something Fail knows.
func asInput(err error) error {
	if err == nil {
		return nil
	}
	for _, known := range []error{retention.ErrNotFound, retention.ErrPlanChanged, retention.ErrInvalid, request.ErrClosed, errBadInput,
		archive.ErrNotFound, archive.ErrUnknownAccount, archive.ErrUnavailable, archive.ErrPermission, archive.ErrDamaged, context.Canceled} {
		if errors.Is(err, known) {
			return err
		}
	}
	return badInput(err.Error())
}
