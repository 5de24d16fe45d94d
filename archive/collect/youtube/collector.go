package youtube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
)

// DefaultBaseURL is the YouTube Data API v3's address.
const DefaultBaseURL = "https://www.googleapis.com/youtube/v3"

// Limits and windows of the collector.
const (
	// MediaLimit bounds a downloaded thumbnail.
	MediaLimit = 100 << 20
	// recentWindow: an incremental run reads again the comments of the
	// videos published this recently.
	recentWindow = 30 * 24 * time.Hour
	maxRecent    = 50
	// overlap: an incremental run reads the uploads playlist back to this
	// long before the newest video it knew.
	overlap = 48 * time.Hour
)

// MediaTypes are the content types accepted for media.
var MediaTypes = []string{"image/", "video/"}

// Collector captures a YouTube channel through the YouTube Data API v3:
// its uploads playlist (channels → contentDetails.relatedPlaylists.uploads,
// then playlistItems, paged with pageToken), the videos (videos.list, 50
// ids a request: kind "video"), their comment threads (commentThreads.list
// with up to five replies each: kind "comment") and the rest of the
// replies (comments.list by parentId: kind "reply").
//
// Job.Secret is a Google API key (AIza…, or "key:…"), sent as key=, or an
// OAuth access token ("bearer:…" or anything else), sent as a bearer
// header; the key never appears in what is kept or reported. A quota or
// rate-limit refusal (403 quotaExceeded, rateLimitExceeded) is
// collect.ErrRateLimited; a refused token collect.ErrAuth.
//
// A complete run (Job.Full, or the first) reads every upload and every
// comment and says so. An incremental run reads the uploads back to two
// days before the newest it knew, and the comments of the new videos and
// of those published in the last 30 days.
type Collector struct{}

// New returns the YouTube collector.
func New() *Collector { return &Collector{} }

var _ collect.Collector = (*Collector)(nil)

func (*Collector) Platform() string { return Platform }
func (*Collector) Version() string  { return "1" }

// State is what a run records for the next one.
type State struct {
	// Uploads is the channel's uploads playlist.
	Uploads string `json:"uploads,omitempty"`
	// Newest is when the newest video seen was published.
	Newest time.Time `json:"newest,omitzero"`
	// Recent are the videos of the last 30 days, whose comments each run
	// reads again.
	Recent []RecentVideo `json:"recent,omitempty"`
	// Notes say what the last run could not read.
	Notes []string `json:"notes,omitempty"`
}

// RecentVideo is a video whose comments are read on every run.
type RecentVideo struct {
	ID          string    `json:"id"`
	PublishedAt time.Time `json:"published_at"`
}

// Collect runs one capture of job.Account.
func (c *Collector) Collect(ctx context.Context, job *collect.Job) error {
	r := &run{job: job, emitted: map[string]bool{}, media: map[string]string{}}
	return r.collect(ctx)
}

type run struct {
	job     *collect.Job
	base    string
	key     string // an API key, sent as key=
	hdr     http.Header
	secret  string
	full    bool
	now     time.Time
	st      State
	next    State
	emitted map[string]bool
	media   map[string]string
	// incomplete: a page went wrong; the run must not say it listed
	// everything, nor move its state on.
	incomplete bool
	err        error
}

type runError struct {
	msg string
	err error
}

func (e *runError) Error() string { return e.msg }
func (e *runError) Unwrap() error { return e.err }

func (r *run) fail(what string, err error) error {
	return &runError{msg: collect.ScrubSecret(fmt.Sprintf("youtube: %s: %v", what, err), r.secret), err: err}
}

func (r *run) collect(ctx context.Context) error {
	job := r.job
	acct := job.Account
	secret := strings.TrimSpace(job.Secret)
	switch {
	case secret == "":
		return fmt.Errorf("youtube: %s: no API key or token: %w", acct.Key, collect.ErrAuth)
	case strings.HasPrefix(secret, "key:"):
		r.key = strings.TrimPrefix(secret, "key:")
	case strings.HasPrefix(secret, "AIza"):
		r.key = secret
	default:
		r.hdr = http.Header{"Authorization": {"Bearer " + strings.TrimPrefix(secret, "bearer:")}}
	}
	r.secret = secret
	now := time.Now
	if job.Now != nil {
		now = job.Now
	}
	r.now = now().UTC()
	r.base = strings.TrimRight(job.BaseURL(DefaultBaseURL), "/")
	r.full = job.Full || len(job.State) == 0
	if len(job.State) > 0 && json.Unmarshal(job.State, &r.st) != nil {
		r.st, r.full = State{}, true
	}
	r.next = State{Newest: r.st.Newest}
	uploads, err := r.uploadsPlaylist(ctx)
	if err != nil {
		return err
	}
	r.next.Uploads = uploads
	videos, err := r.listUploads(ctx, uploads)
	if err != nil {
		return err
	}
	published, err := r.videos(ctx, videos)
	if err != nil {
		return err
	}
	// Whose comments to read: the videos the API gave (a private or
	// deleted video stays in the playlist but not in videos.list).
	// An incremental run reads the comments of the new videos and of the
	// last 30 days' only.
	var read []string
	for _, id := range videos {
		at, ok := published[id]
		if ok && (r.full || r.now.Sub(at) < recentWindow || !at.Before(r.st.Newest.Add(-overlap))) {
			read = append(read, id)
		}
	}
	if !r.full {
		for _, rv := range r.st.Recent {
			if !slices.Contains(read, rv.ID) && r.now.Sub(rv.PublishedAt) < recentWindow {
				read = append(read, rv.ID)
				if _, ok := published[rv.ID]; !ok {
					published[rv.ID] = rv.PublishedAt
				}
			}
		}
	}
	for _, id := range read {
		if err := r.threads(ctx, id); err != nil {
			return err
		}
	}
	if r.incomplete {
		return r.err
	}
	for id, at := range published {
		if r.now.Sub(at) < recentWindow {
			r.next.Recent = append(r.next.Recent, RecentVideo{ID: id, PublishedAt: at})
		}
	}
	slices.SortFunc(r.next.Recent, func(a, b RecentVideo) int { return b.PublishedAt.Compare(a.PublishedAt) })
	if len(r.next.Recent) > maxRecent {
		r.next.Recent = r.next.Recent[:maxRecent]
	}
	b, err := json.Marshal(r.next)
	if err != nil {
		return err
	}
	job.Sink.SetState(b)
	if r.full {
		key := acct.Key
		if key == "" {
			key = archive.AccountKey(Platform, acct.Handle)
		}
		job.Sink.Complete(archive.Scope{Account: key})
	}
	return nil
}

// fetched is one API page as kept.
type fetched struct {
	list   *ListResponse
	raw    archive.Digest
	source string
	reason string // the API's reason for a refusal
}

// get fetches one page, keeps it byte for byte and parses it. A page that
// does not parse is reported (naming the page, the key scrubbed) and
// returned as an error wrapping collect.ErrMalformed.
func (r *run) get(ctx context.Context, path string, q url.Values, keep bool) (*fetched, error) {
	if r.key != "" {
		q.Set("key", r.key)
	}
	u := r.base + path + "?" + q.Encode()
	q.Del("key")
	src := collect.ScrubSecret(u, r.secret)
	resp, err := r.job.HTTP.Get(ctx, u, r.hdr)
	if err != nil {
		f := &fetched{source: src}
		if resp != nil {
			if ae := apiErrorOf(resp.Body); ae != nil {
				f.reason = ae.Reason()
				switch f.reason {
				case "quotaExceeded", "rateLimitExceeded", "userRateLimitExceeded", "dailyLimitExceeded":
					return f, r.fail(src, fmt.Errorf("%w: %s (%s)", collect.ErrRateLimited, f.reason, ae.Message))
				}
			}
		}
		return f, r.fail(src, err)
	}
	f := &fetched{source: src}
	if keep {
		if f.raw, err = r.job.Sink.PutRaw(ctx, resp.Body, src, "", "application/json"); err != nil {
			return nil, fmt.Errorf("youtube: keep %s: %w", src, err)
		}
	}
	l, err := ParseList(resp.Body)
	if err == nil && l.Error != nil {
		err = fmt.Errorf("an error response: %s", l.Error.Message)
	}
	if err != nil {
		r.job.Sink.Bad(&archive.InputError{Source: src, Err: err})
		r.incomplete = true
		e := r.fail(src, fmt.Errorf("%w: %v", collect.ErrMalformed, err))
		if r.err == nil {
			r.err = e
		}
		return f, e
	}
	f.list = l
	return f, nil
}

func (r *run) uploadsPlaylist(ctx context.Context) (string, error) {
	acct := r.job.Account
	q := url.Values{"part": {"contentDetails"}}
	if acct.ID != "" {
		q.Set("id", acct.ID)
	} else {
		q.Set("forHandle", "@"+strings.TrimPrefix(acct.Handle, "@"))
	}
	f, err := r.get(ctx, "/channels", q, false)
	if err != nil {
		return "", err
	}
	for _, raw := range f.list.Items {
		var v Video
		if json.Unmarshal(raw, &v) == nil && v.ContentDetails.RelatedPlaylists.Uploads != "" {
			return v.ContentDetails.RelatedPlaylists.Uploads, nil
		}
	}
	return "", r.fail("channel "+acct.Handle, fmt.Errorf("%w: no such channel, or it has no uploads playlist", collect.ErrNotFound))
}

// listUploads pages through the uploads playlist and returns the video
// ids, newest first.
func (r *run) listUploads(ctx context.Context, playlist string) ([]string, error) {
	q := url.Values{"part": {"snippet,contentDetails"}, "playlistId": {playlist}, "maxResults": {"50"}}
	var ids []string
	stop := r.st.Newest.Add(-overlap)
	for {
		f, err := r.get(ctx, "/playlistItems", q, true)
		if errors.Is(err, collect.ErrMalformed) {
			return ids, nil
		}
		if err != nil {
			return nil, err
		}
		older := len(f.list.Items) > 0
		for i, raw := range f.list.Items {
			var v Video
			if err := json.Unmarshal(raw, &v); err != nil {
				r.job.Sink.Bad(&archive.InputError{Source: f.source, Err: fmt.Errorf("/items/%d: %w", i, describeJSON(err))})
				continue
			}
			vf := videoFromPlaylist(&v)
			if vf.id == "" || slices.Contains(ids, vf.id) {
				continue
			}
			ids = append(ids, vf.id)
			if _, t, err := normTime(vf.published); err != nil || !t.Before(stop) {
				older = false
			}
		}
		next := f.list.NextPageToken
		if next == "" || (!r.full && older) {
			return ids, nil
		}
		q.Set("pageToken", next)
	}
}

// videos reads the videos, 50 a request, and records them.
func (r *run) videos(ctx context.Context, ids []string) (map[string]time.Time, error) {
	published := map[string]time.Time{}
	for len(ids) > 0 {
		n := min(len(ids), 50)
		q := url.Values{"part": {"snippet,statistics"}, "id": {strings.Join(ids[:n], ",")}, "maxResults": {"50"}}
		ids = ids[n:]
		f, err := r.get(ctx, "/videos", q, true)
		if errors.Is(err, collect.ErrMalformed) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for i, raw := range f.list.Items {
			ptr := "/items/" + strconv.Itoa(i)
			var v Video
			if err := json.Unmarshal(raw, &v); err != nil {
				r.job.Sink.Bad(&archive.InputError{Source: f.source, Err: fmt.Errorf("%s: %w", ptr, describeJSON(err))})
				continue
			}
			vf := videoFromList(&v)
			it, err := vf.item(r.job.Account.Handle)
			if err != nil {
				r.job.Sink.Bad(&archive.InputError{Source: f.source, Err: fmt.Errorf("%s: %w", ptr, err)})
				continue
			}
			t := it.Created()
			published[it.ID] = t
			if t.After(r.next.Newest) {
				r.next.Newest = t
			}
			if err := r.record(ctx, it, vf.metrics, f, ptr); err != nil {
				return nil, err
			}
		}
	}
	return published, nil
}

// threads reads a video's comment threads.
func (r *run) threads(ctx context.Context, videoID string) error {
	q := url.Values{"part": {"snippet,replies"}, "videoId": {videoID}, "maxResults": {"100"}, "textFormat": {"plainText"}}
	for {
		f, err := r.get(ctx, "/commentThreads", q, true)
		if f != nil && (f.reason == "commentsDisabled" || f.reason == "videoNotFound") {
			return nil // nothing to read, and nothing missed
		}
		if errors.Is(err, collect.ErrMalformed) {
			return nil
		}
		if err != nil {
			return err
		}
		for i, raw := range f.list.Items {
			ptr := "/items/" + strconv.Itoa(i)
			var th Thread
			if err := json.Unmarshal(raw, &th); err != nil {
				r.job.Sink.Bad(&archive.InputError{Source: f.source, Err: fmt.Errorf("%s: %w", ptr, describeJSON(err))})
				continue
			}
			top := th.Snippet.TopLevelComment
			if top.Snippet.VideoID == "" {
				top.Snippet.VideoID = cmpOr(th.Snippet.VideoID, videoID)
			}
			if err := r.comment(ctx, &top, f, ptr+"/snippet/topLevelComment", map[string]int64{"reply_count": int64(th.Snippet.TotalReplyCount)}); err != nil {
				return err
			}
			var inline []Comment
			if th.Replies != nil {
				inline = th.Replies.Comments
			}
			for j := range inline {
				if err := r.comment(ctx, &inline[j], f, ptr+"/replies/comments/"+strconv.Itoa(j), nil); err != nil {
					return err
				}
			}
			if th.Snippet.TotalReplyCount > len(inline) {
				if err := r.replies(ctx, top.ID); err != nil {
					return err
				}
			}
		}
		next := f.list.NextPageToken
		if next == "" {
			return nil
		}
		q.Set("pageToken", next)
	}
}

// replies reads all the replies to a top-level comment.
func (r *run) replies(ctx context.Context, parent string) error {
	q := url.Values{"part": {"snippet"}, "parentId": {parent}, "maxResults": {"100"}, "textFormat": {"plainText"}}
	for {
		f, err := r.get(ctx, "/comments", q, true)
		if errors.Is(err, collect.ErrMalformed) {
			return nil
		}
		if err != nil {
			return err
		}
		for i, raw := range f.list.Items {
			ptr := "/items/" + strconv.Itoa(i)
			var c Comment
			if err := json.Unmarshal(raw, &c); err != nil {
				r.job.Sink.Bad(&archive.InputError{Source: f.source, Err: fmt.Errorf("%s: %w", ptr, describeJSON(err))})
				continue
			}
			if c.Snippet.ParentID == "" {
				c.Snippet.ParentID = parent
			}
			if err := r.comment(ctx, &c, f, ptr, nil); err != nil {
				return err
			}
		}
		next := f.list.NextPageToken
		if next == "" {
			return nil
		}
		q.Set("pageToken", next)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (r *run) comment(ctx context.Context, c *Comment, f *fetched, ptr string, extra map[string]int64) error {
	if r.emitted[c.ID] {
		return nil
	}
	it, metrics, err := commentItem(c, r.job.Account.Handle)
	if err != nil {
		r.job.Sink.Bad(&archive.InputError{Source: f.source, Err: fmt.Errorf("%s: %w", ptr, err)})
		return nil
	}
	for k, v := range extra {
		metrics[k] = v
	}
	r.emitted[c.ID] = true
	return r.record(ctx, it, metrics, f, ptr)
}

// record adds one item: media first, then the item.
func (r *run) record(ctx context.Context, it archive.Item, metrics map[string]int64, f *fetched, ptr string) error {
	if r.job.Media {
		for i := range it.Media {
			d, err := r.download(ctx, it.Media[i].URL)
			if err != nil {
				return err
			}
			it.Media[i].Digest = d
		}
	}
	o := archive.ItemOptions{Raw: &f.raw, RawPath: ptr, Source: f.source, Metrics: metricsJSON(metrics)}
	if err := r.job.Sink.AddItem(ctx, it, o); err != nil {
		if errors.Is(err, archive.ErrBadInput) {
			r.job.Sink.Bad(&archive.InputError{Source: f.source, Err: fmt.Errorf("%s: %s %s: %w", ptr, it.Kind, it.ID, err)})
			return nil
		}
		return fmt.Errorf("youtube: record %s %s: %w", it.Kind, it.ID, err)
	}
	return nil
}

// download stores a media file and returns its digest; a failed download
// is reported (Sink.Bad) and the run goes on without it.
func (r *run) download(ctx context.Context, u string) (string, error) {
	if d, ok := r.media[u]; ok {
		return d, nil
	}
	dl, err := r.job.HTTP.Download(ctx, u, MediaLimit, MediaTypes)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		r.job.Sink.Bad(&archive.InputError{Source: collect.Scrub(u), Err: fmt.Errorf("media: %s", collect.ScrubSecret(err.Error(), r.secret)), Media: true})
		r.media[u] = ""
		return "", nil
	}
	defer dl.Close()
	if err := r.job.Sink.PutMediaFile(ctx, dl); err != nil {
		return "", fmt.Errorf("youtube: store media %s: %w", collect.Scrub(u), err)
	}
	d := dl.Digest.String()
	r.media[u] = d
	return d, nil
}
