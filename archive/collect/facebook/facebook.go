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
	r := &run{Run: graph.NewRun(job), c: c}
	q := url.Values{"fields": {PostFields}, "limit": {strconv.Itoa(c.opts.PageSize)}}
	w := graph.NewWindow(job.State, job.Full, c.opts.Lookback, q)
	err := r.G.List(ctx, "/"+url.PathEscape(pageID)+"/"+c.opts.Edge, q, func(f *graph.Fetched) error {
		d, ok, err := r.Page(ctx, f)
		if err != nil || !ok {
			return err
		}
		return graph.Each(r.Run, f, func(i int, p *gPost) error {
			it, urls, m, err := postItem(r.Account, p)
			if err != nil {
				r.Sink.Bad(&archive.InputError{Source: f.URL, Err: fmt.Errorf("data[%d]: %v", i, err)})
				return nil
			}
			if !w.Keep(it.Created()) {
				return nil // pinned, or an API that ignored since
			}
			if err := r.Add(ctx, it, urls, d, fmt.Sprintf("/data/%d", i), f.URL, m); err != nil {
				return err
			}
			return r.comments(ctx, p.ID)
		})
	})
	if err != nil {
		return fmt.Errorf("facebook: %s: %w", key, err)
	}
	w.Finish(r.Run, key)
	return nil
}

// run is one Collect call.
type run struct {
	*graph.Run
	c *Collector
}

// comments lists every comment and reply on post. A page that does not
// parse, or a post gone since it was listed, is reported as bad and the
// run goes on with the next post; other errors end the run.
func (r *run) comments(ctx context.Context, post string) error {
	path := "/" + url.PathEscape(post) + "/comments"
	q := url.Values{"filter": {"stream"}, "fields": {CommentFields}, "limit": {strconv.Itoa(r.c.opts.PageSize)}}
	err := r.G.List(ctx, path, q, func(f *graph.Fetched) error {
		d, ok, err := r.Page(ctx, f)
		if err != nil || !ok {
			return err
		}
		return graph.Each(r.Run, f, func(i int, cm *gComment) error {
			it, urls, m, err := commentItem(r.Account, post, "", cm)
			if err != nil {
				r.Sink.Bad(&archive.InputError{Source: f.URL, Err: fmt.Errorf("data[%d]: %v", i, err)})
				return nil
			}
			return r.Add(ctx, it, urls, d, fmt.Sprintf("/data/%d", i), f.URL, m)
		})
	})
	return r.Settle(err, "comments of post "+post, path)
}
