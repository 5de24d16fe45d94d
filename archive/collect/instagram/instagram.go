// Package instagram captures Instagram professional accounts: a live
// Collector that reads an account's media (posts, reels, stories while
// they last) and every comment and reply on them through the Graph API,
// and two importers: of saved Graph API responses ("instagram-graph") and
// of the account's own export ("instagram-export").
//
// The collector and the instagram-graph importer normalise alike, so a
// post both saw is one item with one version while its content agrees.
// Hidden comments are kept, with visibility "hidden"; comments deleted at
// Instagram are marked removed at source by the next complete listing.
package instagram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/graph"
)

// Platform is the platform name Instagram accounts are registered under.
const Platform = "instagram"

// DefaultBaseURL is the Graph API version the collector speaks.
const DefaultBaseURL = graph.DefaultBaseURL

// MediaFields are the media fields the collector asks for.
const MediaFields = "id,caption,media_type,media_product_type,media_url,thumbnail_url,permalink,timestamp,username,like_count,comments_count,children{id,media_type,media_url,thumbnail_url}"

// ReplyFields are the fields asked of replies.
const ReplyFields = "id,text,timestamp,username,from,like_count,hidden,parent_id,media{id}"

// CommentFields are the comment fields the collector asks for, replies
// nested.
const CommentFields = ReplyFields + ",replies{" + ReplyFields + "}"

// Options tune a Collector.
type Options struct {
	// Lookback is how far before the newest media the last run saw an
	// incremental run lists again, to catch new comments (default 7 days).
	Lookback time.Duration
	// PageSize is the limit asked of each page (default 50).
	PageSize int
}

// Collector captures an Instagram professional account through the Graph
// API. The account's ID is its Instagram user id (a handle of digits
// serves too); its secret an access token with instagram_basic and
// instagram_manage_comments; its base URL, when set, replaces
// https://graph.facebook.com/v19.0 (https://graph.instagram.com/v19.0 for
// Instagram Login tokens).
type Collector struct {
	opts Options
}

var _ collect.Collector = (*Collector)(nil)

// New returns a collector with default options.
func New() *Collector { return NewWithOptions(Options{}) }

// NewWithOptions returns a collector.
func NewWithOptions(o Options) *Collector {
	if o.Lookback == 0 {
		o.Lookback = 7 * 24 * time.Hour
	}
	if o.PageSize == 0 {
		o.PageSize = 50
	}
	return &Collector{opts: o}
}

func (c *Collector) Platform() string { return Platform }
func (c *Collector) Version() string  { return "1" }

// ErrNoUserID: the account has no Instagram user id to list.
var ErrNoUserID = errors.New("no Instagram user id: register the account with --id <ig-user-id>")

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// Collect lists the account's media, newest first, the comments on each
// and their replies. Incrementally (the default) it lists media since the
// last run's newest less the lookback; with job.Full it lists everything
// and, when every page was read without a bad record, marks the listing
// complete.
func (c *Collector) Collect(ctx context.Context, job *collect.Job) error {
	acct := job.Account
	key := acct.Key
	if key == "" {
		key = archive.AccountKey(Platform, acct.Handle)
	}
	user := acct.ID
	if user == "" && isDigits(acct.Handle) {
		user = acct.Handle
	}
	if user == "" {
		return fmt.Errorf("instagram: %s: %w", key, ErrNoUserID)
	}
	if job.Secret == "" {
		return fmt.Errorf("instagram: %s: no access token: %w", key, collect.ErrAuth)
	}
	r := &run{Run: graph.NewRun(job), c: c}
	q := url.Values{"fields": {MediaFields}, "limit": {strconv.Itoa(c.opts.PageSize)}}
	w := graph.NewWindow(job.State, job.Full, c.opts.Lookback, q)
	err := r.G.List(ctx, "/"+url.PathEscape(user)+"/media", q, func(f *graph.Fetched) error {
		d, ok, err := r.Page(ctx, f)
		if err != nil || !ok {
			return err
		}
		return graph.Each(r.Run, f, func(i int, m *gMedia) error {
			it, urls, mt, err := mediaItem(r.Account, m)
			if err != nil {
				r.Sink.Bad(&archive.InputError{Source: f.URL, Err: fmt.Errorf("data[%d]: %v", i, err)})
				return nil
			}
			if !w.Keep(it.Created()) {
				return nil
			}
			if err := r.Add(ctx, it, urls, d, fmt.Sprintf("/data/%d", i), f.URL, mt); err != nil {
				return err
			}
			return r.comments(ctx, m.ID)
		})
	})
	if err != nil {
		return fmt.Errorf("instagram: %s: %w", key, err)
	}
	w.Finish(r.Run, key)
	return nil
}

type run struct {
	*graph.Run
	c *Collector
}

// comments lists the comments on media, with the replies the API nests
// in them, and the further pages of replies where there are more.
func (r *run) comments(ctx context.Context, media string) error {
	path := "/" + url.PathEscape(media) + "/comments"
	q := url.Values{"fields": {CommentFields}, "limit": {strconv.Itoa(r.c.opts.PageSize)}}
	err := r.G.List(ctx, path, q, func(f *graph.Fetched) error {
		d, ok, err := r.Page(ctx, f)
		if err != nil || !ok {
			return err
		}
		return graph.Each(r.Run, f, func(i int, cm *gComment) error {
			ptr := fmt.Sprintf("/data/%d", i)
			if err := r.comment(ctx, media, "", cm, d, ptr, f.URL); err != nil {
				return err
			}
			if cm.Replies == nil {
				return nil
			}
			for j, rr := range cm.Replies.Data {
				var rc gComment
				if err := json.Unmarshal(rr, &rc); err != nil {
					r.Sink.Bad(&archive.InputError{Source: f.URL, Err: fmt.Errorf("data[%d].replies.data[%d]: %v", i, j, graph.Describe(err))})
					continue
				}
				if err := r.comment(ctx, media, cm.ID, &rc, d, fmt.Sprintf("%s/replies/data/%d", ptr, j), f.URL); err != nil {
					return err
				}
			}
			if next, more := graph.NextQuery(url.Values{}, &graph.Page{Paging: cm.Replies.Paging}); more {
				return r.replies(ctx, media, cm.ID, next)
			}
			return nil
		})
	})
	return r.Settle(err, "comments of media "+media, path)
}

func (r *run) comment(ctx context.Context, media, parent string, cm *gComment, d archive.Digest, ptr, source string) error {
	it, m, err := commentItem(r.Account, media, parent, cm)
	if err != nil {
		r.Sink.Bad(&archive.InputError{Source: source, Err: fmt.Errorf("%s: %v", ptr, err)})
		return nil
	}
	return graph.Add(ctx, r.Sink, it, archive.ItemOptions{Raw: &d, RawPath: ptr, Source: source, Metrics: m})
}

// replies lists the pages of a comment's replies after the first, which
// came nested in the comment.
func (r *run) replies(ctx context.Context, media, comment string, q url.Values) error {
	path := "/" + url.PathEscape(comment) + "/replies"
	q.Set("fields", ReplyFields)
	err := r.G.List(ctx, path, q, func(f *graph.Fetched) error {
		d, ok, err := r.Page(ctx, f)
		if err != nil || !ok {
			return err
		}
		return graph.Each(r.Run, f, func(i int, rc *gComment) error {
			return r.comment(ctx, media, comment, rc, d, fmt.Sprintf("/data/%d", i), f.URL)
		})
	})
	return r.Settle(err, "replies to comment "+comment, path)
}
