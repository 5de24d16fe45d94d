// Package bluesky captures Bluesky accounts: a live collector over the
// public XRPC API (app.bsky.feed.getAuthorFeed with cursor paging, and
// app.bsky.feed.getPostThread for the replies to each post) and the
// bluesky-api importer of saved responses.
//
// Posts cannot be edited on Bluesky, so a post has one version unless
// what the API shows of it changes (content digests tell). Replies that
// the thread shows as not found or blocked are logged and skipped: their
// content is not there to keep, and none is made up. A full run (Job.Full)
// reads everything and, when every page read cleanly, says the listing
// was complete, so posts and replies gone since are marked removed.
package bluesky

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/kit"
)

// Platform is the platform name Bluesky accounts are registered under.
const Platform = "bluesky"

// DefaultBaseURL is the public AppView.
const DefaultBaseURL = "https://public.api.bsky.app"

// Lookback is how far before the newest post seen an incremental run
// reads again, for new replies.
const Lookback = 7 * 24 * time.Hour

// PageSize is the posts asked for per page (the API's maximum).
const PageSize = 100

// ThreadDepth is how deep reply threads are read.
const ThreadDepth = 1000

// Collector is the Bluesky live collector.
type Collector struct{}

var _ collect.Collector = Collector{}

// New returns the Bluesky collector.
func New() collect.Collector { return Collector{} }

func (Collector) Platform() string { return Platform }
func (Collector) Version() string  { return "1" }

// State is what a run records for the next.
type State struct {
	NewestAt time.Time `json:"newest_at,omitzero"`
}

type run struct {
	job    *collect.Job
	base   string
	header http.Header
	media  *kit.Media
	seen   map[string]bool
	sink   *countingSink
	log    *slog.Logger
}

type countingSink struct {
	collect.Sink
	bad int
}

func (c *countingSink) Bad(e *archive.InputError) { c.bad++; c.Sink.Bad(e) }

// Collect implements collect.Collector.
func (Collector) Collect(ctx context.Context, job *collect.Job) error {
	cs := &countingSink{Sink: job.Sink}
	j := *job
	j.Sink = cs
	r := &run{job: &j, base: strings.TrimRight(job.BaseURL(DefaultBaseURL), "/"), header: kit.Bearer(job.Secret), seen: map[string]bool{}, sink: cs, log: job.Log}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.log = r.log.WithGroup("bluesky")
	r.media = kit.NewMedia(r.job)
	var prev State
	if len(job.State) > 0 {
		json.Unmarshal(job.State, &prev)
	}
	var cutoff time.Time
	if !job.Full && !prev.NewestAt.IsZero() {
		cutoff = prev.NewestAt.Add(-Lookback)
	}
	next := prev
	actor := job.Account.ID
	if actor == "" {
		actor = strings.TrimPrefix(job.Account.Handle, "@")
	}
	q := url.Values{"actor": {actor}, "limit": {fmt.Sprint(PageSize)}, "filter": {"posts_with_replies"}}
	for n := 1; ; n++ {
		u := r.base + "/xrpc/app.bsky.feed.getAuthorFeed?" + q.Encode()
		page, err := r.fetch(ctx, u, n)
		if err != nil {
			return fmt.Errorf("bluesky: feed of %s (page %d): %w", job.Account.Key, n, err)
		}
		var fr FeedResponse
		if err := kit.UnmarshalPage(page.Body, &fr); err != nil {
			page.Bad(r.sink, "getAuthorFeed", err)
			return fmt.Errorf("bluesky: feed of %s: page %d unreadable, no cursor to go on: %w", job.Account.Key, n, collect.ErrMalformed)
		}
		oldest := time.Time{}
		for i, raw := range fr.Feed {
			var fv FeedViewPost
			if err := json.Unmarshal(raw, &fv); err != nil {
				page.Bad(r.sink, kit.Pointer("feed", i), err)
				continue
			}
			at := sortTime(&fv)
			if fv.Reason != nil && strings.HasSuffix(fv.Reason.Type, "#reasonPin") {
				at = time.Time{} // a pinned post heads the feed out of order
			}
			if !at.IsZero() {
				if oldest.IsZero() || at.Before(oldest) {
					oldest = at
				}
				if at.After(next.NewestAt) {
					next.NewestAt = at
				}
			}
			if err := r.feedItem(ctx, &fv, page, i); err != nil {
				return err
			}
		}
		if fr.Cursor == "" || len(fr.Feed) == 0 {
			break
		}
		if !cutoff.IsZero() && !oldest.IsZero() && oldest.Before(cutoff) {
			break
		}
		if fr.Cursor == q.Get("cursor") {
			page.Bad(r.sink, "paging", errors.New("the cursor did not move"))
			break
		}
		q.Set("cursor", fr.Cursor)
	}
	if cs.bad > 0 {
		return nil
	}
	if job.Full {
		cs.Complete(archive.Scope{Account: job.Account.Key})
	}
	if !next.NewestAt.IsZero() {
		b, _ := json.Marshal(next)
		cs.SetState(b)
	}
	return nil
}

// sortTime is when the feed item came to the feed: the repost's time, or
// the post's indexing.
func sortTime(fv *FeedViewPost) time.Time {
	s := ""
	if fv.Reason != nil && fv.Reason.IndexedAt != "" {
		s = fv.Reason.IndexedAt
	} else if fv.Post != nil {
		s = fv.Post.IndexedAt
	}
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func (r *run) feedItem(ctx context.Context, fv *FeedViewPost, page *kit.Page, i int) error {
	if fv.Post == nil {
		page.Bad(r.sink, kit.Pointer("feed", i), errors.New("feed item has no post"))
		return nil
	}
	acct := r.job.Account.Handle
	if fv.Reason != nil && strings.HasSuffix(fv.Reason.Type, "#reasonRepost") {
		it, err := RepostItem(fv, acct)
		if err != nil {
			page.Bad(r.sink, kit.Pointer("feed", i), err)
			return nil
		}
		if err := r.media.Fetch(ctx, it.Media, isPlaylist); err != nil {
			return err
		}
		return kit.Add(ctx, r.sink, it, page.Opts(kit.Pointer("feed", i), Metrics(fv.Post)))
	}
	// A pinned post (#reasonPin) is the account's own post, listed again.
	return r.post(ctx, fv.Post, page, kit.Pointer("feed", i, "post"), true)
}

func (r *run) post(ctx context.Context, p *PostView, page *kit.Page, pointer string, own bool) error {
	if r.seen[p.URI] {
		return nil
	}
	r.seen[p.URI] = true
	it, err := PostItem(p, r.job.Account.Handle)
	if err != nil {
		page.Bad(r.sink, pointer, err)
		return nil
	}
	if err := r.media.Fetch(ctx, it.Media, isPlaylist); err != nil {
		return err
	}
	if err := kit.Add(ctx, r.sink, it, page.Opts(pointer, Metrics(p))); err != nil {
		return err
	}
	if !own || (!r.job.Full && p.ReplyCount.known && p.ReplyCount.n == 0) {
		return nil
	}
	return r.thread(ctx, p.URI)
}

func (r *run) thread(ctx context.Context, uri string) error {
	q := url.Values{"uri": {uri}, "depth": {fmt.Sprint(ThreadDepth)}, "parentHeight": {"0"}}
	u := r.base + "/xrpc/app.bsky.feed.getPostThread?" + q.Encode()
	page, err := r.fetch(ctx, u, 1)
	if errors.Is(err, collect.ErrNotFound) {
		return nil // deleted since it was listed
	}
	if err != nil {
		return fmt.Errorf("bluesky: replies to %s: %w", uri, err)
	}
	var tr ThreadResponse
	if err := kit.UnmarshalPage(page.Body, &tr); err != nil {
		page.Bad(r.sink, "getPostThread", err)
		return nil
	}
	var root ThreadNode
	if err := json.Unmarshal(tr.Thread, &root); err != nil {
		page.Bad(r.sink, "/thread", err)
		return nil
	}
	return r.replies(ctx, &root, page, "/thread")
}

func (r *run) replies(ctx context.Context, n *ThreadNode, page *kit.Page, pointer string) error {
	for i, raw := range n.Replies {
		ptr := pointer + kit.Pointer("replies", i)
		var c ThreadNode
		if err := json.Unmarshal(raw, &c); err != nil {
			page.Bad(r.sink, ptr, err)
			continue
		}
		switch {
		case c.NotFound || strings.HasSuffix(c.Type, "#notFoundPost"):
			r.log.Info("reply not found (deleted); nothing kept", "uri", c.URI, "page", page.URL)
			continue
		case c.Blocked || strings.HasSuffix(c.Type, "#blockedPost"):
			r.log.Warn("reply blocked from view; its content cannot be kept", "uri", c.URI, "page", page.URL)
			continue
		case c.Post == nil:
			page.Bad(r.sink, ptr, errors.New("thread item is neither a post nor a not-found or blocked post"))
			continue
		}
		if err := r.post(ctx, c.Post, page, ptr+"/post", false); err != nil {
			return err
		}
		if err := r.replies(ctx, &c, page, ptr); err != nil {
			return err
		}
	}
	return nil
}

// fetch gets an XRPC page, reading the XRPC error of a refused request:
// an expired or invalid token (which the PDS reports as 400) is ErrAuth,
// a post not found is ErrNotFound.
func (r *run) fetch(ctx context.Context, u string, n int) (*kit.Page, error) {
	page, err := kit.Fetch(ctx, r.job, u, r.header, n)
	if err == nil {
		return page, nil
	}
	if page != nil {
		err = XRPCError(page.Body, err)
	}
	return nil, err
}

// XRPCError reads an XRPC error body ({"error": "...", "message": "..."})
// and wraps err with the collect sentinel it means.
func XRPCError(body []byte, err error) error {
	var e struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		return err
	}
	switch e.Error {
	case "ExpiredToken", "InvalidToken", "AuthMissing", "AuthenticationRequired", "AccountTakedown":
		if !errors.Is(err, collect.ErrAuth) {
			return fmt.Errorf("%w (%s): %v", collect.ErrAuth, e.Error, err)
		}
	case "NotFound":
		if !errors.Is(err, collect.ErrNotFound) {
			return fmt.Errorf("%w (%s): %v", collect.ErrNotFound, e.Error, err)
		}
	case "RateLimitExceeded":
		if !errors.Is(err, collect.ErrRateLimited) {
			return fmt.Errorf("%w: %v", collect.ErrRateLimited, err)
		}
	}
	return err
}

func isPlaylist(m archive.Media) bool {
	return strings.HasSuffix(strings.ToLower(strings.SplitN(m.URL, "?", 2)[0]), ".m3u8")
}
