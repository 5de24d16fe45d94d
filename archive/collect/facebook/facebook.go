// Package facebook captures Facebook Pages: a live Collector that reads a
// Page's posts (or its whole feed, visitors' posts included) and every
// comment and reply on them through the Graph API, and two importers: of
// saved Graph API responses ("facebook-graph") and of the Page's
// "Download Your Information" export ("facebook-dyi").
//
// The collector and the facebook-graph importer normalise alike, so a
// post both saw is one item, with one version while its content agrees.
// Comments a moderator hides are kept, with visibility "hidden"; comments
// deleted at Facebook are marked removed at source by the next complete
// listing (--full), since what a practitioner removed must stay a record
// (DAOD 2008-8 §4.16).
package facebook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/graph"
)

// Platform is the platform name Facebook accounts are registered under.
const Platform = "facebook"

// DefaultBaseURL is the Graph API version the collector speaks.
const DefaultBaseURL = graph.DefaultBaseURL

// PostFields are the post fields the collector asks for.
const PostFields = "id,message,created_time,updated_time,permalink_url,from,attachments{media,media_type,url,type,title,description,subattachments},status_type,shares,is_hidden,comments.limit(0).summary(true),reactions.limit(0).summary(true)"

// CommentFields are the comment fields the collector asks for.
const CommentFields = "id,message,created_time,from,parent{id},attachment,is_hidden,like_count,comment_count,permalink_url"

// Options tune a Collector.
type Options struct {
	// Edge is the Page edge listed: "feed" (default: the Page's posts and
	// visitors' posts) or "posts" (the Page's own).
	Edge string
	// Lookback is how far before the newest post the last run saw an
	// incremental run lists again, to catch new comments on recent posts
	// (default 7 days). A complete listing (--full) catches the rest.
	Lookback time.Duration
	// PageSize is the limit asked of each page (default 100).
	PageSize int
}

// Collector captures a Facebook Page through the Graph API. The account's
// ID is the Page id (its handle is used when it has none); its secret is
// a Page access token; its base URL, when set, replaces
// https://graph.facebook.com/v19.0, version included.
type Collector struct {
	opts Options
}

var _ collect.Collector = (*Collector)(nil)

// New returns a collector with default options.
func New() *Collector { return NewWithOptions(Options{}) }

// NewWithOptions returns a collector.
func NewWithOptions(o Options) *Collector {
	if o.Edge == "" {
		o.Edge = "feed"
	}
	if o.Lookback == 0 {
		o.Lookback = 7 * 24 * time.Hour
	}
	if o.PageSize == 0 {
		o.PageSize = 100
	}
	return &Collector{opts: o}
}

func (c *Collector) Platform() string { return Platform }
func (c *Collector) Version() string  { return "1" }

// state is where a run got to.
type state struct {
	// Newest is the creation time of the newest post seen.
	Newest time.Time `json:"newest,omitzero"`
}

func readState(raw json.RawMessage) state {
	var s state
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &s) // a state the collector cannot read means a first run
	}
	return s
}

// Collect lists the Page's posts, newest first, and the comments and
// replies on each (filter=stream: replies come flat, with their parent).
// Incrementally (the default) it lists only posts since the last run's
// newest, less the lookback; with job.Full it lists everything and, when
// every page was read without a bad record, marks the listing complete.
func (c *Collector) Collect(ctx context.Context, job *collect.Job) error {
	acct := job.Account
	key := acct.Key
	if key == "" {
		key = archive.AccountKey(Platform, acct.Handle)
	}
	if job.Secret == "" {
		return fmt.Errorf("facebook: %s: no access token: %w", key, collect.ErrAuth)
	}
	pageID := acct.ID
	if pageID == "" {
		pageID = acct.Handle
	}
	g := graph.NewClient(job)
	sink := &graph.Tracker{Sink: job.Sink}
	r := &run{c: c, job: job, g: g, sink: sink, account: acct.Handle}

	st := readState(job.State)
	q := url.Values{"fields": {PostFields}, "limit": {strconv.Itoa(c.opts.PageSize)}}
	var since time.Time
	if !job.Full && !st.Newest.IsZero() {
		since = st.Newest.Add(-c.opts.Lookback)
		q.Set("since", strconv.FormatInt(since.Unix(), 10))
	}
	newest := st.Newest
	err := g.List(ctx, "/"+url.PathEscape(pageID)+"/"+c.opts.Edge, q, func(f *graph.Fetched) error {
		d, ok, err := r.page(ctx, f)
		if err != nil || !ok {
			return err
		}
		for i, raw := range f.Page.Data {
			var p gPost
			if err := json.Unmarshal(raw, &p); err != nil {
				sink.Bad(&archive.InputError{Source: f.URL, Err: fmt.Errorf("data[%d]: %v", i, graph.Describe(err))})
				continue
			}
			it, urls, m, err := postItem(r.account, &p)
			if err != nil {
				sink.Bad(&archive.InputError{Source: f.URL, Err: fmt.Errorf("data[%d]: %v", i, err)})
				continue
			}
			created := it.Created()
			if !since.IsZero() && created.Before(since) {
				continue // pinned, or an API that ignored since
			}
			if created.After(newest) {
				newest = created
			}
			if err := r.add(ctx, it, urls, d, fmt.Sprintf("/data/%d", i), f.URL, m); err != nil {
				return err
			}
			if err := r.comments(ctx, p.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("facebook: %s: %w", key, err)
	}
	if !newest.IsZero() {
		b, _ := json.Marshal(state{Newest: newest.UTC()})
		job.Sink.SetState(b)
	}
	if job.Full && sink.Bads == 0 {
		job.Sink.Complete(archive.Scope{Account: key})
	}
	return nil
}

// run is one Collect call.
type run struct {
	c       *Collector
	job     *collect.Job
	g       *graph.Client
	sink    *graph.Tracker
	account string
}

// page keeps a fetched page byte for byte; ok is false when it is not a
// list page (reported as bad).
func (r *run) page(ctx context.Context, f *graph.Fetched) (archive.Digest, bool, error) {
	d, err := r.sink.PutRaw(ctx, f.Body, f.URL, "", "application/json")
	if err != nil {
		return d, false, err
	}
	if f.Err != nil {
		r.sink.Bad(&archive.InputError{Source: f.URL, Err: fmt.Errorf("%w: %v", collect.ErrMalformed, f.Err)})
		return d, false, nil
	}
	return d, true, nil
}

func (r *run) add(ctx context.Context, it archive.Item, urls []string, raw archive.Digest, ptr, source string, m json.RawMessage) error {
	if err := r.g.Media(ctx, r.job, r.sink, &it, urls); err != nil {
		return err
	}
	return graph.Add(ctx, r.sink, it, archive.ItemOptions{Raw: &raw, RawPath: ptr, Source: source, Metrics: m})
}

// comments lists every comment and reply on post. A page that does not
// parse, or a post gone since it was listed, is reported as bad and the
// run goes on with the next post; other errors end the run.
func (r *run) comments(ctx context.Context, post string) error {
	q := url.Values{"filter": {"stream"}, "fields": {CommentFields}, "limit": {strconv.Itoa(r.c.opts.PageSize)}}
	err := r.g.List(ctx, "/"+url.PathEscape(post)+"/comments", q, func(f *graph.Fetched) error {
		d, ok, err := r.page(ctx, f)
		if err != nil || !ok {
			return err
		}
		for i, raw := range f.Page.Data {
			var cm gComment
			if err := json.Unmarshal(raw, &cm); err != nil {
				r.sink.Bad(&archive.InputError{Source: f.URL, Err: fmt.Errorf("data[%d]: %v", i, graph.Describe(err))})
				continue
			}
			it, urls, m, err := commentItem(r.account, post, "", &cm)
			if err != nil {
				r.sink.Bad(&archive.InputError{Source: f.URL, Err: fmt.Errorf("data[%d]: %v", i, err)})
				continue
			}
			if err := r.add(ctx, it, urls, d, fmt.Sprintf("/data/%d", i), f.URL, m); err != nil {
				return err
			}
		}
		return nil
	})
	switch {
	case err == nil, errors.Is(err, collect.ErrMalformed):
		return nil // a malformed page was reported where it was read
	case errors.Is(err, collect.ErrNotFound):
		r.sink.Bad(&archive.InputError{Source: r.g.Shown("/"+post+"/comments", nil), Err: fmt.Errorf("comments of post %s: %v", post, err)})
		return nil
	}
	return fmt.Errorf("comments of post %s: %w", post, err)
}
