package index

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/osmarc/osmarc/archive"
)

// Sort orders search hits.
type Sort string

const (
	// SortRelevance puts the best matches first (the default); a query
	// with no words to rank by falls back to newest first.
	SortRelevance Sort = "relevance"
	// SortNewest puts the most recently created items first.
	SortNewest Sort = "newest"
	// SortOldest puts the earliest created items first.
	SortOldest Sort = "oldest"
)

// ParseSort reads a sort order as a user types it ("" is relevance).
func ParseSort(s string) (Sort, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "relevance", "score":
		return SortRelevance, nil
	case "newest", "new", "desc":
		return SortNewest, nil
	case "oldest", "old", "asc":
		return SortOldest, nil
	}
	return "", fmt.Errorf("unknown sort %q (relevance, newest or oldest)", s)
}

// DefaultLimit is the page size when a request gives none.
const DefaultLimit = 20

// MaxLimit bounds one page; SearchAll streams any number.
const MaxLimit = 10000

// Request is a search: a query string and filters. Filters with several
// values match any of them; different filters must all match.
type Request struct {
	// Query uses the query-string syntax (see the package doc); empty
	// matches every item.
	Query string

	Accounts   []string
	Platforms  []string
	Kinds      []string
	Langs      []string // "fr" matches fr, fr-ca, …
	Classes    []string
	Exemptions []string
	Holds      []string
	// From and To bound created_at: From inclusive, To exclusive; zero
	// means open.
	From, To time.Time
	// Removed and Edited, when true, keep only items removed at source,
	// or edited.
	Removed bool
	Edited  bool

	// Within, when not empty, keeps only items in at least one of the
	// scopes: the scopes of legal holds, which name what they hold by
	// accounts, dates and a query rather than item by item.
	Within []Scope

	Sort   Sort
	Limit  int // 0 means DefaultLimit
	Offset int
	// Facets asks for counts by platform, account, kind, year and class.
	Facets bool

	// HoldScope, when set, names the scope of a legal hold: Holds and a
	// hold:NAME clause of the query then keep the items in the hold's
	// scope (accounts, dates, query), as the hold keeps them now and as
	// items are captured later. Without it they match the documents' hold
	// field.
	HoldScope func(name string) (Scope, error)

	// Counted, when set, is called by Search with the total as soon as it
	// is known, before the facets and the page of hits are read: a caller
	// that records each search (the web server's journal) can start
	// writing it then, while the rest of the search runs.
	Counted func(total uint64)

	// withStaged keeps the documents of captures not yet recorded (see
	// Stage), which searches leave out.
	withStaged bool
}

// Scope is a part of the archive: the items of any of Accounts (account
// keys, platform/account), created in [From, To), that Query matches. An
// empty field does not narrow it.
type Scope struct {
	Name     string // what it is, for errors ("hold smith-v-brigade")
	Query    string
	Accounts []string
	From, To time.Time
}

// Result is one page of hits.
type Result struct {
	Total  uint64                  `json:"total"`
	Hits   []Hit                   `json:"hits"`
	Facets map[string][]FacetCount `json:"facets,omitempty"`
	Took   time.Duration           `json:"-"`
}

// FacetCount is how many hits have one value of a field.
type FacetCount struct {
	Value string `json:"value"`
	Count uint64 `json:"count"`
}

// Facet names, in Result.Facets.
var FacetNames = []string{"platform", "account", "kind", "year", "class"}

// Span is a matched stretch of a snippet: byte offsets, end exclusive.
type Span struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// Hit is one item found.
type Hit struct {
	Key       string    `json:"key"`
	Platform  string    `json:"platform"`
	Account   string    `json:"account"`
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	CreatedAt time.Time `json:"created_at"`
	Author    string    `json:"author,omitempty"`
	Lang      string    `json:"lang,omitempty"`
	// Parent is the platform id of the item this one answers, and
	// ParentKey that item's archive key.
	Parent    string `json:"parent,omitempty"`
	ParentKey string `json:"parent_key,omitempty"`
	// ParentText is the opening of the parent's latest text and
	// ParentAuthor its author, when the parent is in the index: what a
	// comment answers, shown beside it.
	ParentText   string  `json:"parent_text,omitempty"`
	ParentAuthor string  `json:"parent_author,omitempty"`
	Class        string  `json:"class,omitempty"`
	Edited       bool    `json:"edited"`
	Removed      bool    `json:"removed"`
	Score        float64 `json:"score,omitempty"`
	// Snippet is a stretch of the text around what matched, and Marks
	// the matches in it; SnippetFrom says whether it comes from the
	// latest "text" or an earlier version ("history").
	Snippet     string `json:"snippet"`
	Marks       []Span `json:"marks,omitempty"`
	SnippetFrom string `json:"snippet_from,omitempty"`
}

// Marked is the snippet with each match between open and close.
func (h *Hit) Marked(open, close string) string {
	var b strings.Builder
	at := 0
	for _, m := range h.Marks {
		b.WriteString(h.Snippet[at:m.Start])
		b.WriteString(open)
		b.WriteString(h.Snippet[m.Start:m.End])
		b.WriteString(close)
		at = m.End
	}
	b.WriteString(h.Snippet[at:])
	return b.String()
}

// query prepares a request on a snapshot: parsed, filtered, evaluated.
func (e *engine) query(req *Request) (*plan, error) {
	p, err := parseQuery(req.Query)
	if err != nil {
		return nil, err
	}
	if req.HoldScope != nil {
		e.holdScope = req.HoldScope
	}
	var filters []bits
	kw := func(field string, vs []string) error {
		if len(vs) == 0 {
			return nil
		}
		var alt bits
		for _, v := range vs {
			b, _, err := e.keywordClause(clause{field: field, text: v}, func(f string, a ...any) error { return fmt.Errorf(f, a...) })
			if err != nil {
				return err
			}
			if alt == nil {
				alt = b
			} else {
				alt = or(alt, b)
			}
		}
		filters = append(filters, alt)
		return nil
	}
	for _, f := range []struct {
		field string
		vs    []string
	}{
		{fAccount, req.Accounts}, {fPlatform, req.Platforms}, {fKind, req.Kinds}, {fLang, req.Langs},
		{fClass, req.Classes}, {fExemption, req.Exemptions},
	} {
		if err := kw(f.field, nonBlank(f.vs)); err != nil {
			return nil, err
		}
	}
	if holds := nonBlank(req.Holds); len(holds) > 0 {
		if e.holdScope == nil {
			if err := kw(fHold, holds); err != nil {
				return nil, err
			}
		} else {
			var alt bits
			for _, h := range holds {
				b, err := e.hold(h)
				if err != nil {
					return nil, err
				}
				if alt == nil {
					alt = b
				} else {
					alt = or(alt, b)
				}
			}
			filters = append(filters, alt)
		}
	}
	if req.Removed {
		if err := kw(fRemoved, []string{"true"}); err != nil {
			return nil, err
		}
	}
	if req.Edited {
		if err := kw(fEdited, []string{"true"}); err != nil {
			return nil, err
		}
	}
	if !req.From.IsZero() || !req.To.IsZero() {
		b, err := e.timeRange(req.From, req.To)
		if err != nil {
			return nil, err
		}
		filters = append(filters, b)
	}
	if len(req.Within) > 0 {
		b, err := e.within(req.Within)
		if err != nil {
			return nil, err
		}
		filters = append(filters, b)
	}
	pl, err := e.compile(p, filters)
	var qe *QueryError
	if errors.As(err, &qe) {
		qe.Query = req.Query
	}
	return pl, err
}

// hold is the items in the scope of the hold named name (Request.HoldScope).
// A hold's own query cannot name a hold: its scope would have no end.
func (e *engine) hold(name string) (bits, error) {
	if e.inHold {
		return nil, fmt.Errorf("hold:%s: a hold's query cannot name a hold", name)
	}
	sc, err := e.holdScope(name)
	if err != nil {
		return nil, err
	}
	e.inHold = true
	defer func() { e.inHold = false }()
	return e.within([]Scope{sc})
}

// within is the items in any of the scopes.
func (e *engine) within(scopes []Scope) (bits, error) {
	out := e.empty()
	for _, sc := range scopes {
		if !sc.From.IsZero() && !sc.To.IsZero() && !sc.From.Before(sc.To) {
			continue // an empty span holds nothing
		}
		sub := Request{Query: sc.Query, From: sc.From, To: sc.To}
		pl, err := e.query(&sub)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sc.Name, err)
		}
		in := pl.match
		if accts := nonBlank(sc.Accounts); len(accts) > 0 {
			var anyAcct bits
			for _, a := range accts {
				platform, account, ok := strings.Cut(a, "/")
				if !ok {
					return nil, fmt.Errorf("%s: account %q is not platform/account", sc.Name, a)
				}
				qerr := func(f string, args ...any) error { return fmt.Errorf(f, args...) }
				pb, _, err := e.keywordClause(clause{field: fPlatform, text: platform}, qerr)
				if err != nil {
					return nil, err
				}
				ab, _, err := e.keywordClause(clause{field: fAccount, text: account}, qerr)
				if err != nil {
					return nil, err
				}
				if anyAcct == nil {
					anyAcct = and(pb, ab)
				} else {
					anyAcct = or(anyAcct, and(pb, ab))
				}
			}
			in = and(in, anyAcct)
		}
		out = or(out, in)
	}
	return out, nil
}

func nonBlank(vs []string) []string {
	var out []string
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (req *Request) check() error {
	if req.Limit < 0 || req.Offset < 0 {
		return errors.New("index: search: limit and offset must not be negative")
	}
	if req.Limit == 0 {
		req.Limit = DefaultLimit
	}
	if req.Limit > MaxLimit {
		return fmt.Errorf("index: search: limit %d is more than %d (use SearchAll for every hit)", req.Limit, MaxLimit)
	}
	if req.Sort == "" {
		req.Sort = SortRelevance
	}
	if _, err := ParseSort(string(req.Sort)); err != nil {
		return fmt.Errorf("index: search: %w", err)
	}
	if !req.From.IsZero() && !req.To.IsZero() && !req.From.Before(req.To) {
		return fmt.Errorf("index: search: from %s is not before to %s", req.From.Format(time.RFC3339), req.To.Format(time.RFC3339))
	}
	return nil
}

// plan compiles req on a snapshot of the index: what Search, SearchAll,
// Match and MatchKeys evaluate. done releases the snapshot; it is nil
// when err is not.
func (ix *Index) plan(req *Request) (*engine, *plan, func(), error) {
	e, done, err := ix.engine()
	if err != nil {
		return nil, nil, nil, err
	}
	e.holdScope = ix.holdScope
	pl, err := e.query(req)
	if err == nil && !req.withStaged {
		pl.match, err = e.hide(pl.match)
	}
	if err != nil {
		done()
		return nil, nil, nil, err
	}
	return e, pl, done, nil
}

// Search runs a request and returns one page of hits, the total and, if
// asked, facet counts. A malformed query is a *QueryError (ErrQuery).
func (ix *Index) Search(ctx context.Context, req Request) (*Result, error) {
	start := time.Now()
	if err := req.check(); err != nil {
		return nil, err
	}
	e, pl, done, err := ix.plan(&req)
	if err != nil {
		return nil, err
	}
	defer done()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &Result{Total: pl.match.card(), Hits: []Hit{}}
	if req.Counted != nil {
		req.Counted(res.Total)
	}
	if req.Facets {
		segs, err := ix.facetCache().of(e)
		if err != nil {
			return nil, err
		}
		res.Facets = e.facets(pl.match, segs)
	}
	var refs []scored
	sortBy := req.Sort
	var sc *scorer
	if sortBy == SortRelevance {
		if sc, err = pl.scorer(); err != nil {
			return nil, err
		}
		if len(sc.leaves) == 0 {
			sortBy = SortNewest
		}
	}
	switch sortBy {
	case SortRelevance:
		if refs, err = sc.top(req.Offset, req.Limit); err != nil {
			return nil, err
		}
	default:
		err := e.walkTime(pl.match, sortBy == SortNewest, uint64(req.Offset), func(d docRef, _ string) bool {
			refs = append(refs, scored{d: d})
			return len(refs) < req.Limit
		})
		if err != nil {
			return nil, err
		}
	}
	if res.Hits, err = e.hits(refs, pl.hl); err != nil {
		return nil, err
	}
	res.Took = time.Since(start)
	return res, nil
}

// SearchAll calls fn with every hit of the request, in order of creation
// (newest first, or oldest first with SortOldest; relevance would need
// every hit's score at once, so it is not used here). Limit and Offset
// are ignored. It reads one snapshot of the index, so every hit is seen
// exactly once even while the index changes, and holds in memory only the
// hits of one hour of creation time at a time. An error from fn stops it
// and is returned.
func (ix *Index) SearchAll(ctx context.Context, req Request, fn func(Hit) error) (uint64, error) {
	req.Limit = 1
	if err := req.check(); err != nil {
		return 0, err
	}
	e, pl, done, err := ix.plan(&req)
	if err != nil {
		return 0, err
	}
	defer done()
	var n uint64
	var ferr error
	err = e.walkTime(pl.match, req.Sort != SortOldest, 0, func(d docRef, _ string) bool {
		if ferr = ctx.Err(); ferr != nil {
			return false
		}
		h, err := e.hit(d, pl.hl)
		if err == nil {
			err = e.parent(&h)
		}
		if err != nil {
			ferr = err
			return false
		}
		if ferr = fn(h); ferr != nil {
			return false
		}
		n++
		return true
	})
	if err == nil {
		err = ferr
	}
	return n, err
}

// hits reads a page of hits, on every core: reading stored fields and
// making snippets is most of a small search's work.
func (e *engine) hits(refs []scored, hl *hlTerms) ([]Hit, error) {
	out := make([]Hit, len(refs))
	workers := min(runtime.GOMAXPROCS(0), (len(refs)+3)/4)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(refs); i += workers {
				h, err := e.hit(refs[i].d, hl)
				if err != nil {
					errs[w] = err
					return
				}
				h.Score = refs[i].score
				out[i] = h
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// Parents after: the engine's dictionaries are read by one goroutine.
	for i := range out {
		if err := e.parent(&out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// hit reads a hit's stored fields straight into it: a page of hits is
// most of a small search's work, and a map of every field's values for
// each hit was most of the garbage it made.
func (e *engine) hit(d docRef, hl *hlTerms) (Hit, error) {
	var h Hit
	var created, name, handle, text string
	var history []string
	var edited, removed string
	var seen uint16 // the fields read: a field's first value counts
	err := e.segs[d.seg].ss.VisitDocument(uint64(d.doc), func(field string, typ byte, value []byte, pos []uint64) bool {
		var to *string
		var bit uint16
		switch field {
		case fHistory:
			history = append(history, string(value))
			return true
		case "_id":
			to, bit = &h.Key, 1<<0
		case fPlatform:
			to, bit = &h.Platform, 1<<1
		case fAccount:
			to, bit = &h.Account, 1<<2
		case fID:
			to, bit = &h.ID, 1<<3
		case fKind:
			to, bit = &h.Kind, 1<<4
		case fLang:
			to, bit = &h.Lang, 1<<5
		case fParent:
			to, bit = &h.Parent, 1<<6
		case fClass:
			to, bit = &h.Class, 1<<7
		case fCreated:
			to, bit = &created, 1<<8
		case fName:
			to, bit = &name, 1<<9
		case fHandle:
			to, bit = &handle, 1<<10
		case fText:
			to, bit = &text, 1<<11
		case fEdited:
			to, bit = &edited, 1<<12
		case fRemoved:
			to, bit = &removed, 1<<13
		default:
			return true
		}
		if seen&bit == 0 {
			seen |= bit
			*to = string(value)
		}
		return true
	})
	if err != nil {
		return Hit{}, fmt.Errorf("index: read document: %w", err)
	}
	h.Edited, h.Removed = edited == "true", removed == "true"
	if created != "" {
		h.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
	}
	h.Author = authorLabel(name, handle)
	if h.Parent != "" {
		h.ParentKey = archive.ItemKey(h.Platform, h.Account, h.Parent)
	}
	h.Snippet, h.Marks, h.SnippetFrom = snippet(text, history, h.Lang, hl)
	return h, nil
}

// authorLabel is how a hit shows an author: "Name (@handle)", or
// whichever of the two there is.
func authorLabel(name, handle string) string {
	switch {
	case name != "" && handle != "":
		return name + " (@" + handle + ")"
	case name != "":
		return name
	case handle != "":
		return "@" + handle
	}
	return ""
}

// parentLen is how much of a parent's text a hit carries, in characters.
const parentLen = 160

var parentFields = map[string]bool{fText: true, fName: true, fHandle: true}

// parentRef is what a hit carries of its parent.
type parentRef struct{ text, author string }

// parent fills in the opening of the parent's text and its author, when
// the hit has a parent and it is in the index. Comments on one post share
// it: each parent is read once per search. Not safe for concurrent use.
func (e *engine) parent(h *Hit) error {
	if h.ParentKey == "" {
		return nil
	}
	if p, ok := e.parents[h.ParentKey]; ok {
		h.ParentText, h.ParentAuthor = p.text, p.author
		return nil
	}
	defer func() { e.parents[h.ParentKey] = parentRef{h.ParentText, h.ParentAuthor} }()
	b, err := e.lookup("_id", h.ParentKey)
	if err != nil {
		return err
	}
	for seg, bm := range b {
		if bm == nil || bm.IsEmpty() {
			continue
		}
		f, err := e.stored(seg, bm.Minimum(), parentFields)
		if err != nil {
			return err
		}
		h.ParentText = opening(first(f[fText]), parentLen)
		h.ParentAuthor = authorLabel(first(f[fName]), first(f[fHandle]))
		return nil
	}
	return nil
}

// opening is the first n characters of text on one line (runs of white
// space made one space), cut at a word with "…" when longer. It reads no
// further than it keeps.
func opening(text string, n int) string {
	var b strings.Builder
	b.Grow(min(len(text), 4*n))
	count, space, lastSpace := 0, false, -1
	for _, r := range text {
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			if count == n {
				return b.String() + "…" // cut between words
			}
			lastSpace = b.Len()
			b.WriteByte(' ')
			count++
			space = false
		}
		if count == n {
			return cutAt(b.String(), lastSpace, n)
		}
		b.WriteRune(r)
		count++
	}
	return b.String()
}

// cutAt ends a too long opening at its last space (byte offset sp) when
// that keeps more than half of it, and marks the cut.
func cutAt(s string, sp, n int) string {
	if sp > 0 && utf8.RuneCountInString(s[:sp]) > n/2 {
		s = s[:sp]
	}
	return s + "…"
}

// ParseDate reads a date a user gives on the command line: a year, a
// month, a day or an RFC 3339 time. It returns the start of that period
// and the start of the next, in UTC: --from uses the first, --to the
// second, so "--to 2024-03" includes all of March.
func ParseDate(s string) (start, end time.Time, err error) {
	return parseDateBound(s)
}
