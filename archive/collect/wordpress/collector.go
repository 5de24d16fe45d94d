// Package wordpress captures WordPress sites through the REST API
// (wp/v2): a live collector of posts, their comments and, where the token
// may read them, their revisions, and the wordpress-api importer of saved
// responses.
//
// Posts are listed with /wp-json/wp/v2/posts (page and per_page, the
// X-WP-TotalPages header) with the author, tags and featured image
// embedded; comments with /wp-json/wp/v2/comments, all posts' at once
// (one listing instead of one per post; each comment names its post);
// revisions with /wp-json/wp/v2/posts/ID/revisions, which needs a token
// that may edit the post: a 401 or 403 there is no error, only no
// revisions. Post ids stay as WordPress gives them; comment ids are
// "comment-ID" (the two number apart).
//
// An incremental run reads posts most recently modified first and
// comments newest first, back to a week before what the last run saw. A
// full run reads everything in id order (new objects join the end, so
// page-number paging skips none) and, when every page read cleanly and
// no collection shrank while it was read (X-WP-Total), says the listing
// was complete, so posts and comments gone since (a comment a moderator
// removed) are marked removed at source.
package wordpress

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/kit"
)

// Platform is the platform name WordPress sites are registered under.
const Platform = "wordpress"

// Lookback is how far before the newest change seen an incremental run
// reads again.
const Lookback = 7 * 24 * time.Hour

// PerPage is the objects asked for per page (the API's maximum).
const PerPage = 100

// Collector is the WordPress live collector.
type Collector struct{}

var _ collect.Collector = Collector{}

// New returns the WordPress collector.
func New() collect.Collector { return Collector{} }

func (Collector) Platform() string { return Platform }
func (Collector) Version() string  { return "1" }

// State is what a run records for the next.
type State struct {
	PostsModified time.Time `json:"posts_modified,omitzero"`
	CommentsDate  time.Time `json:"comments_date,omitzero"`
}

type run struct {
	job       *collect.Job
	base      string
	header    http.Header
	media     *kit.Media
	sink      *countingSink
	users     map[string]*archive.Author
	revisions bool // the token may read revisions (until a 401/403 says not)
	// shifted: a collection's X-WP-Total changed between its pages, so
	// an object may have moved across a page boundary unseen.
	shifted bool
}

type countingSink struct {
	collect.Sink
	bad int
}

func (c *countingSink) Bad(e *archive.InputError) { c.bad++; c.Sink.Bad(e) }

// Collect implements collect.Collector.
func (Collector) Collect(ctx context.Context, job *collect.Job) error {
	base, err := baseURL(job)
	if err != nil {
		return err
	}
	cs := &countingSink{Sink: job.Sink}
	j := *job
	j.Sink = cs
	r := &run{job: &j, base: base, header: authHeader(job.Secret), sink: cs, users: map[string]*archive.Author{}, revisions: job.Secret != ""}
	r.media = kit.NewMedia(r.job)
	var prev State
	if len(job.State) > 0 {
		json.Unmarshal(job.State, &prev)
	}
	next := prev
	cut := func(t time.Time) time.Time {
		if job.Full || t.IsZero() {
			return time.Time{}
		}
		return t.Add(-Lookback)
	}
	// Posts.
	postsCut := cut(prev.PostsModified)
	q := url.Values{"per_page": {strconv.Itoa(PerPage)}, "orderby": {"modified"}, "order": {"desc"}, "_embed": {"author,wp:term,wp:featuredmedia"}}
	if job.Full {
		// In id order new posts join the end, so paging skips none.
		q.Set("orderby", "id")
		q.Set("order", "asc")
	}
	err = r.pages(ctx, "/wp-json/wp/v2/posts", q, "posts", func(page *kit.Page, raw json.RawMessage, i int) (time.Time, error) {
		var p Post
		if err := json.Unmarshal(raw, &p); err != nil {
			page.Bad(r.sink, kit.Pointer(i), err)
			return time.Time{}, nil
		}
		mod, _ := time.Parse(time.RFC3339, gmt(p.ModifiedGMT, p.Modified))
		if mod.After(next.PostsModified) {
			next.PostsModified = mod
		}
		return mod, r.post(ctx, &p, page, kit.Pointer(i))
	}, postsCut)
	if err != nil {
		return err
	}
	// Comments, all posts' in one listing.
	commentsCut := cut(prev.CommentsDate)
	q = url.Values{"per_page": {strconv.Itoa(PerPage)}, "orderby": {"date_gmt"}, "order": {"desc"}}
	if job.Full {
		q.Set("orderby", "id")
		q.Set("order", "asc")
	}
	err = r.pages(ctx, "/wp-json/wp/v2/comments", q, "comments", func(page *kit.Page, raw json.RawMessage, i int) (time.Time, error) {
		var c Comment
		if err := json.Unmarshal(raw, &c); err != nil {
			page.Bad(r.sink, kit.Pointer(i), err)
			return time.Time{}, nil
		}
		it := CommentItem(&c, job.Account.Handle)
		at, _ := time.Parse(time.RFC3339, it.CreatedAt)
		if at.After(next.CommentsDate) {
			next.CommentsDate = at
		}
		if err := r.media.Fetch(ctx, it.Media, nil); err != nil {
			return at, err
		}
		return at, kit.Add(ctx, r.sink, it, page.Opts(kit.Pointer(i), nil))
	}, commentsCut)
	if err != nil {
		return err
	}
	if cs.bad > 0 {
		return nil
	}
	if job.Full && !r.shifted {
		cs.Complete(archive.Scope{Account: job.Account.Key})
	} else if job.Full && job.Log != nil {
		job.Log.Info("wordpress: not a complete listing: posts or comments were deleted while the pages were read, so one may have been skipped", "account", job.Account.Key)
	}
	b, _ := json.Marshal(next)
	cs.SetState(b)
	return nil
}

// pages reads a paged collection: page=1,2,… until X-WP-TotalPages (or,
// where a proxy dropped the header, an empty page or WordPress's
// rest_post_invalid_page_number), or, in an incremental run, until a page
// ends before cutoff. A page that does not parse is reported and skipped.
func (r *run) pages(ctx context.Context, path string, q url.Values, what string, each func(*kit.Page, json.RawMessage, int) (time.Time, error), cutoff time.Time) error {
	firstTotal := ""
	for n := 1; ; n++ {
		q.Set("page", strconv.Itoa(n))
		u := r.base + path + "?" + q.Encode()
		page, err := kit.Fetch(ctx, r.job, u, r.header, n)
		if err != nil {
			if n > 1 && page != nil && page.Resp.Status == http.StatusBadRequest && strings.Contains(string(page.Body), "rest_post_invalid_page_number") {
				return nil
			}
			return fmt.Errorf("wordpress: list %s of %s (page %d): %w", what, r.job.Account.Key, n, err)
		}
		total, totalErr := strconv.Atoi(page.Resp.Header.Get("X-WP-TotalPages"))
		if t := page.Resp.Header.Get("X-WP-Total"); n == 1 {
			firstTotal = t
		} else if t != firstTotal {
			r.shifted = true
		}
		var raws []json.RawMessage
		oldest := time.Time{}
		if err := kit.UnmarshalPage(page.Body, &raws); err != nil {
			page.Bad(r.sink, what, err)
			if totalErr != nil {
				return fmt.Errorf("wordpress: list %s of %s: page %d unreadable and no page count to go on: %w", what, r.job.Account.Key, n, collect.ErrMalformed)
			}
		}
		for i, raw := range raws {
			t, err := each(page, raw, i)
			if err != nil {
				return err
			}
			if !t.IsZero() && (oldest.IsZero() || t.Before(oldest)) {
				oldest = t
			}
		}
		switch {
		case totalErr == nil && n >= total:
			return nil
		case totalErr != nil && len(raws) == 0:
			return nil
		case !cutoff.IsZero() && !oldest.IsZero() && oldest.Before(cutoff):
			return nil
		}
	}
}

func (r *run) post(ctx context.Context, p *Post, page *kit.Page, pointer string) error {
	if p.ID == "" {
		page.Bad(r.sink, pointer, errors.New("post has no id"))
		return nil
	}
	if err := r.author(ctx, p); err != nil {
		return err
	}
	it := PostItem(p, r.job.Account.Handle)
	if r.revisions && it.EditedAt != "" {
		if err := r.revisionsOf(ctx, p); err != nil {
			return err
		}
	}
	if err := r.media.Fetch(ctx, it.Media, nil); err != nil {
		return err
	}
	return kit.Add(ctx, r.sink, it, page.Opts(pointer, nil))
}

// author fills in the embedded author from the users endpoint when the
// response did not embed it (an old site, a plugin that strips _embedded).
func (r *run) author(ctx context.Context, p *Post) error {
	if p.Author == "" || (p.Embedded != nil && len(p.Embedded.Author) > 0 && p.Embedded.Author[0].Code == "") {
		return nil
	}
	a, ok := r.users[string(p.Author)]
	if !ok {
		u := r.base + "/wp-json/wp/v2/users/" + url.PathEscape(string(p.Author))
		page, err := kit.Fetch(ctx, r.job, u, r.header, 1)
		switch {
		case err == nil:
			var usr User
			if kit.UnmarshalPage(page.Body, &usr) == nil && usr.Name != "" {
				a = &archive.Author{Name: usr.Name, Handle: usr.Slug}
			}
		case errors.Is(err, collect.ErrAuth), errors.Is(err, collect.ErrNotFound):
			// Users hidden (a security plugin) or gone: the id stays.
		default:
			return fmt.Errorf("wordpress: author %s: %w", p.Author, err)
		}
		r.users[string(p.Author)] = a
	}
	if a == nil {
		return nil
	}
	if p.Embedded == nil {
		p.Embedded = &Embedded{}
	}
	p.Embedded.Author = []User{{ID: p.Author, Name: a.Name, Slug: a.Handle}}
	return nil
}

func (r *run) revisionsOf(ctx context.Context, p *Post) error {
	u := r.base + "/wp-json/wp/v2/posts/" + url.PathEscape(string(p.ID)) + "/revisions?" + url.Values{"per_page": {strconv.Itoa(PerPage)}}.Encode()
	page, err := kit.Fetch(ctx, r.job, u, r.header, 1)
	switch {
	case errors.Is(err, collect.ErrAuth):
		r.revisions = false // the token may not read revisions: none, and no error
		return nil
	case errors.Is(err, collect.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("wordpress: revisions of post %s: %w", p.ID, err)
	}
	var revs []Revision
	if err := kit.UnmarshalPage(page.Body, &revs); err != nil {
		page.Bad(r.sink, "revisions", err)
		return nil
	}
	items, at := RevisionItems(p, revs, r.job.Account.Handle)
	for k, it := range items {
		if err := r.media.Fetch(ctx, it.Media, nil); err != nil {
			return err
		}
		if err := kit.Add(ctx, r.sink, it, page.Opts(kit.Pointer(at[k]), nil)); err != nil {
			return err
		}
	}
	return nil
}

// baseURL is the site: the account's base URL, or its handle when that
// is a URL or a host name.
func baseURL(job *collect.Job) (string, error) {
	b := job.BaseURL("")
	if b == "" {
		h := strings.TrimSpace(job.Account.Handle)
		switch {
		case strings.HasPrefix(h, "https://"), strings.HasPrefix(h, "http://"):
			b = h
		case strings.Contains(h, ".") && !strings.ContainsAny(h, "/@ "):
			b = "https://" + h
		default:
			return "", fmt.Errorf("wordpress: account %s has no base URL; set the site with account update --base-url https://site.example", job.Account.Key)
		}
	}
	return strings.TrimRight(strings.TrimSuffix(strings.TrimRight(b, "/"), "/wp-json"), "/"), nil
}

// authHeader: "user:application-password" is HTTP Basic (WordPress
// application passwords); anything else a bearer token (JWT and OAuth
// plugins).
func authHeader(secret string) http.Header {
	if user, pass, ok := strings.Cut(secret, ":"); ok && user != "" && !strings.Contains(user, " ") {
		h := kit.Bearer("")
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
		return h
	}
	return kit.Bearer(secret)
}
