package x

import (
	"cmp"
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

// DefaultBaseURL is the X API's address.
const DefaultBaseURL = "https://api.x.com"

// The fields and expansions every tweet request asks for.
const (
	tweetFields = "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,entities,attachments,public_metrics,lang,edit_history_tweet_ids,edit_controls,note_tweet"
	expansions  = "author_id,attachments.media_keys,referenced_tweets.id"
	mediaFields = "url,preview_image_url,type,alt_text,variants"
	userFields  = "username,name,public_metrics"
)

// Windows of the collector.
const (
	// recentWindow is what the recent search covers, and how long the
	// account's posts are watched between complete runs: new replies on
	// them are searched, and each incremental run asks whether they are
	// still there.
	recentWindow = 7 * 24 * time.Hour
	// maxRecent bounds the posts watched for deletion.
	maxRecent = 100
	// queryLimit bounds a search query (recent search allows 512
	// characters).
	queryLimit = 512
)

// Collector captures an X account through the X API v2: its timeline
// (GET /2/users/:id/tweets, paged with pagination_token, incremental with
// since_id), the replies on its posts (conversation_id searches: the
// full-archive search where the token allows it, else the recent search,
// which reaches back 7 days), and each edited tweet's earlier versions
// (GET /2/tweets?ids=). The bearer token is Job.Secret.
//
// An item is one tweet: its id is the first id of its edit history, and
// every version in the history is a version of it, recorded oldest first.
// A complete run (Job.Full, or the first run) lists the timeline and the
// replies completely and says so, with the scope it could list: tweets
// since the oldest one the timeline still gives (it gives the newest
// 3,200), and since 7 days ago when only the recent search is allowed. An
// incremental run reads what is new since the last run, searches new
// replies on the account's posts of the last 7 days, and asks for those
// posts by id: a post X no longer has (a "resource-not-found" partial
// error) is recorded as removed at source.
type Collector struct{}

// New returns the X collector.
func New() *Collector { return &Collector{} }

var _ collect.Collector = (*Collector)(nil)

func (*Collector) Platform() string { return Platform }
func (*Collector) Version() string  { return "2" } // 2: withheld tweets say so (Visibility)

// State is what a run records for the next one.
type State struct {
	// SinceID is the newest tweet the timeline gave.
	SinceID string `json:"since_id,omitempty"`
	// ReplySinceID is the newest reply the searches gave.
	ReplySinceID string `json:"reply_since_id,omitempty"`
	// Threads are the account's posts of the last 7 days whose replies
	// are searched.
	Threads []Thread `json:"threads,omitempty"`
	// Recent are the account's latest tweets of the last 7 days, as
	// recorded, asked for by id to find those deleted.
	Recent []Recent `json:"recent,omitempty"`
	// SearchAllRefusedAt is when the full-archive search was refused
	// (HTTP 403); it is tried again a week later.
	SearchAllRefusedAt *time.Time `json:"search_all_refused_at,omitempty"`
	// Notes say what the last run could not do.
	Notes []string `json:"notes,omitempty"`
}

// Thread is a conversation the account started.
type Thread struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
}

// Recent is a tweet of the account watched for deletion.
type Recent struct {
	TweetID string       `json:"tweet_id"`
	Item    archive.Item `json:"item"`
}

// Collect runs one capture of job.Account.
func (c *Collector) Collect(ctx context.Context, job *collect.Job) error {
	r := &run{job: job, emitted: map[string]bool{}, media: map[string]string{}, roots: map[string]Thread{}, replyN: map[string]int64{}, recent: map[string]Recent{}, listed: map[string]bool{}}
	return r.collect(ctx)
}

type run struct {
	job    *collect.Job
	base   string
	hdr    http.Header
	userID string
	full   bool
	now    time.Time
	st     State
	next   State

	emitted map[string]bool   // version ids recorded in this run
	media   map[string]string // media URL → digest, this run
	roots   map[string]Thread // the account's conversations seen this run
	replyN  map[string]int64  // their reply counts
	recent  map[string]Recent // the account's tweets of the last 7 days
	oldest  time.Time         // the oldest tweet the timeline gave
	// incomplete: a page went wrong; the run must not say it listed
	// everything, nor move its state on.
	incomplete bool
	err        error           // the first error that did not end the run at once
	usedRecent bool            // a search had to use the recent search
	listed     map[string]bool // the account's tweets the timeline gave
	tweetCount int64           // how many tweets X says the account has
}

func (r *run) fail(what string, err error) error {
	return &runError{msg: collect.ScrubSecret(fmt.Sprintf("x: %s: %v", what, err), r.job.Secret), err: err}
}

// runError carries a scrubbed message and the sentinel beneath it.
type runError struct {
	msg string
	err error
}

func (e *runError) Error() string { return e.msg }
func (e *runError) Unwrap() error { return e.err }

func (r *run) collect(ctx context.Context) error {
	job := r.job
	acct := job.Account
	if job.Secret == "" {
		return fmt.Errorf("x: %s: no bearer token: %w", acct.Key, collect.ErrAuth)
	}
	now := time.Now
	if job.Now != nil {
		now = job.Now
	}
	r.now = now().UTC()
	r.base = strings.TrimRight(job.BaseURL(DefaultBaseURL), "/")
	r.hdr = http.Header{"Authorization": {"Bearer " + job.Secret}}
	r.full = job.Full || len(job.State) == 0
	if len(job.State) > 0 {
		if err := json.Unmarshal(job.State, &r.st); err != nil {
			// A state we cannot read: list everything.
			r.st, r.full = State{}, true
		}
	}
	r.next = State{SinceID: r.st.SinceID, ReplySinceID: r.st.ReplySinceID, SearchAllRefusedAt: r.st.SearchAllRefusedAt}
	r.userID = acct.ID
	if r.userID == "" {
		id, err := r.lookupUser(ctx, acct.Handle)
		if err != nil {
			return err
		}
		r.userID = id
	}
	if err := r.timeline(ctx); err != nil {
		return err
	}
	if err := r.replies(ctx); err != nil {
		return err
	}
	if !r.full {
		if err := r.recheck(ctx); err != nil {
			return err
		}
	}
	if r.incomplete {
		return r.err
	}
	r.finishState()
	b, err := json.Marshal(r.next)
	if err != nil {
		return err
	}
	job.Sink.SetState(b)
	if r.full {
		scope := archive.Scope{Account: acct.Key, Since: r.oldest}
		if scope.Account == "" {
			scope.Account = archive.AccountKey(Platform, acct.Handle)
		}
		if r.usedRecent {
			if cut := r.now.Add(-recentWindow); cut.After(scope.Since) {
				scope.Since = cut
			}
		}
		if int64(len(r.listed)) < r.tweetCount || r.tweetCount == 0 && len(r.listed) >= 3000 {
			// The timeline stopped short of the account's first tweet
			// (it gives the newest 3,200): replies on the posts it did
			// not give were not searched, so replies are left out of
			// what this run says it listed.
			scope.Kinds = []string{"post", "quote", "retweet"}
		}
		job.Sink.Complete(scope)
	}
	return nil
}

func (r *run) lookupUser(ctx context.Context, handle string) (string, error) {
	u := r.base + "/2/users/by/username/" + url.PathEscape(strings.TrimPrefix(handle, "@"))
	resp, err := r.job.HTTP.Get(ctx, u, r.hdr)
	if err != nil {
		return "", r.fail("look up @"+handle, err)
	}
	var v struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
		Errors []APIError `json:"errors"`
	}
	if err := json.Unmarshal(resp.Body, &v); err != nil {
		return "", r.fail("look up @"+handle, fmt.Errorf("%w: %v", collect.ErrMalformed, describeJSON(err)))
	}
	if v.Data.ID == "" {
		msg := "no such user"
		if len(v.Errors) > 0 {
			msg = v.Errors[0].String()
		}
		return "", r.fail("look up @"+handle, fmt.Errorf("%w: %s", collect.ErrNotFound, msg))
	}
	return v.Data.ID, nil
}

// fetched is one API page as kept.
type fetched struct {
	page   *Page
	raw    archive.Digest
	source string // the page's URL, scrubbed
	status int
}

// fetch gets one page, keeps it byte for byte and parses it. A page that
// does not parse is reported (Sink.Bad, naming the page) and returned as
// an error wrapping collect.ErrMalformed; the run is then incomplete.
func (r *run) fetch(ctx context.Context, path string, q url.Values) (*fetched, error) {
	u := r.base + path + "?" + q.Encode()
	src := collect.ScrubSecret(u, r.job.Secret)
	resp, err := r.job.HTTP.Get(ctx, u, r.hdr)
	if err != nil {
		f := &fetched{source: src}
		if resp != nil {
			f.status = resp.Status
		}
		return f, r.fail(path, err)
	}
	d, err := r.job.Sink.PutRaw(ctx, resp.Body, src, "", "application/json")
	if err != nil {
		return nil, fmt.Errorf("x: keep %s: %w", src, err)
	}
	f := &fetched{raw: d, source: src, status: resp.Status}
	p, err := ParsePage(resp.Body)
	if err != nil {
		r.job.Sink.Bad(&archive.InputError{Source: src, Err: err})
		r.incomplete = true
		e := r.fail(src, fmt.Errorf("%w: %v", collect.ErrMalformed, err))
		if r.err == nil {
			r.err = e
		}
		return f, e
	}
	for _, b := range p.Bad {
		r.job.Sink.Bad(&archive.InputError{Source: src, Err: fmt.Errorf("%s: %w", b.Pointer, b.Err)})
	}
	f.page = p
	return f, nil
}

func baseQuery() url.Values {
	return url.Values{
		"tweet.fields": {tweetFields},
		"expansions":   {expansions},
		"media.fields": {mediaFields},
		"user.fields":  {userFields},
	}
}

// newer says whether tweet id a is newer than b.
func newer(a, b string) bool {
	if len(a) != len(b) {
		return len(a) > len(b)
	}
	return a > b
}

// timeline reads the account's tweets, newest first.
func (r *run) timeline(ctx context.Context) error {
	q := baseQuery()
	q.Set("max_results", "100")
	if !r.full && r.st.SinceID != "" {
		q.Set("since_id", r.st.SinceID)
	}
	path := "/2/users/" + url.PathEscape(r.userID) + "/tweets"
	for {
		f, err := r.fetch(ctx, path, q)
		if errors.Is(err, collect.ErrMalformed) {
			return nil // reported; what came before stays
		}
		if err != nil {
			return err
		}
		p := f.page
		if u, ok := p.Users[r.userID]; ok {
			r.tweetCount = max(r.tweetCount, int64(u.PublicMetrics.TweetCount))
		}
		if len(p.Tweets) == 0 {
			for _, e := range p.Errors {
				if e.ResourceType == "user" || p.Problem != nil {
					return r.fail("timeline of @"+r.job.Account.Handle, fmt.Errorf("%w: %s", collect.ErrNotFound, e))
				}
			}
			if p.Problem != nil {
				return r.fail("timeline of @"+r.job.Account.Handle, fmt.Errorf("%w: %s", collect.ErrMalformed, p.Problem))
			}
		}
		for _, t := range p.Tweets {
			if newer(t.ID, r.next.SinceID) {
				r.next.SinceID = t.ID
			}
			if c, err := parseTime(t.CreatedAt); err == nil && (r.oldest.IsZero() || c.Before(r.oldest)) {
				r.oldest = c
			}
			r.listed[t.ID] = true
			if err := r.tweet(ctx, t, f); err != nil {
				return err
			}
		}
		next := p.Meta.NextToken
		if next == "" {
			return nil
		}
		q.Set("pagination_token", next)
	}
}

// tweet records one tweet of a page: for the newest version of an edited
// tweet, the earlier versions first (from the page, or asked for by id).
func (r *run) tweet(ctx context.Context, t *Tweet, f *fetched) error {
	fa, err := fromV2(t, f.page)
	if err != nil {
		r.job.Sink.Bad(&archive.InputError{Source: f.source, Err: fmt.Errorf("%s: tweet %s: %w", t.Pointer, t.ID, err)})
		return nil
	}
	if len(fa.chain) > 1 && fa.latest() {
		if err := r.earlier(ctx, fa, f); err != nil {
			return err
		}
	}
	return r.record(ctx, fa, t, f)
}

// earlier records the earlier versions of an edited tweet, oldest first.
func (r *run) earlier(ctx context.Context, fa *facts, f *fetched) error {
	type version struct {
		t *Tweet
		f *fetched
	}
	have := map[string]version{}
	var missing []string
	for _, id := range fa.chain[:len(fa.chain)-1] {
		if r.emitted[id] {
			continue
		}
		if t, ok := f.page.Included[id]; ok {
			have[id] = version{t, f}
			continue
		}
		if i := slices.IndexFunc(f.page.Tweets, func(t *Tweet) bool { return t.ID == id }); i >= 0 {
			have[id] = version{f.page.Tweets[i], f}
			continue
		}
		missing = append(missing, id)
	}
	if len(missing) > 0 {
		q := baseQuery()
		q.Set("ids", strings.Join(missing, ","))
		lf, err := r.fetch(ctx, "/2/tweets", q)
		if errors.Is(err, collect.ErrMalformed) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, t := range lf.page.Tweets {
			have[t.ID] = version{t, lf}
		}
	}
	for _, id := range fa.chain[:len(fa.chain)-1] {
		v, ok := have[id]
		if !ok || r.emitted[id] {
			continue // gone, or already recorded
		}
		vf, err := fromV2(v.t, v.f.page)
		if err != nil {
			r.job.Sink.Bad(&archive.InputError{Source: v.f.source, Err: fmt.Errorf("%s: tweet %s: %w", v.t.Pointer, v.t.ID, err)})
			continue
		}
		// An earlier version's own history may be shorter: it is still a
		// version of the same item.
		vf.chain = fa.chain
		if err := r.record(ctx, vf, v.t, v.f); err != nil {
			return err
		}
	}
	return nil
}

// record adds one version: media first, then the item.
func (r *run) record(ctx context.Context, fa *facts, t *Tweet, f *fetched) error {
	if r.emitted[fa.id] {
		return nil
	}
	r.emitted[fa.id] = true
	own := fa.authorID == r.userID
	it := fa.item(r.job.Account.Handle, own)
	if r.job.Media {
		for i := range it.Media {
			d, err := r.download(ctx, it.Media[i].URL)
			if err != nil {
				return err
			}
			it.Media[i].Digest = d
		}
	}
	o := archive.ItemOptions{Raw: &f.raw, RawPath: fa.ptr, Source: f.source, Metrics: fa.metricsJSON()}
	if err := r.job.Sink.AddItem(ctx, it, o); err != nil {
		if errors.Is(err, archive.ErrBadInput) {
			r.job.Sink.Bad(&archive.InputError{Source: f.source, Err: fmt.Errorf("%s: tweet %s: %w", fa.ptr, fa.id, err)})
			return nil
		}
		return fmt.Errorf("x: record tweet %s: %w", fa.id, err)
	}
	if own && fa.latest() {
		if r.now.Sub(fa.created) < recentWindow {
			r.recent[fa.itemID()] = Recent{TweetID: fa.id, Item: it}
		}
		if fa.parent == "" && fa.kind() != "retweet" {
			conv := cmp.Or(t.ConversationID, fa.itemID())
			created, _ := time.Parse(time.RFC3339Nano, it.CreatedAt)
			r.roots[conv] = Thread{ID: conv, CreatedAt: created}
			r.replyN[conv] = fa.metrics["reply_count"]
		}
	}
	return nil
}

// download fetches a media file into the store and returns its digest; a
// failed download is reported (Sink.Bad) and the run goes on without it.
func (r *run) download(ctx context.Context, u string) (string, error) {
	if d, ok := r.media[u]; ok {
		return d, nil
	}
	dl, err := r.job.HTTP.Download(ctx, u, MediaLimit, MediaTypes)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		r.job.Sink.Bad(&archive.InputError{Source: collect.Scrub(u), Err: fmt.Errorf("media: %s", collect.ScrubSecret(err.Error(), r.job.Secret)), Media: true})
		r.media[u] = ""
		return "", nil
	}
	d, err := storeMedia(ctx, r.job.Sink, dl)
	if err != nil {
		return "", fmt.Errorf("x: store media %s: %w", collect.Scrub(u), err)
	}
	r.media[u] = d
	return d, nil
}

// replies searches the conversations of the account's posts.
func (r *run) replies(ctx context.Context) error {
	cut := r.now.Add(-recentWindow)
	var search []Thread
	seen := map[string]bool{}
	for _, th := range r.roots {
		if th.CreatedAt.After(cut) || (r.full && r.replyN[th.ID] > 0) || !r.full {
			search = append(search, th)
			seen[th.ID] = true
		}
	}
	if !r.full {
		for _, th := range r.st.Threads {
			if th.CreatedAt.After(cut) && !seen[th.ID] {
				search = append(search, th)
				seen[th.ID] = true
			}
		}
	}
	for _, th := range search {
		if th.CreatedAt.After(cut) {
			r.next.Threads = append(r.next.Threads, th)
		}
	}
	slices.SortFunc(search, func(a, b Thread) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(r.next.Threads, func(a, b Thread) int { return cmp.Compare(a.ID, b.ID) })
	// Batches of conversations, one query each.
	var batches [][]Thread
	var cur []Thread
	size := 0
	for _, th := range search {
		term := len("conversation_id:") + len(th.ID) + len(" OR ")
		if len(cur) > 0 && size+term > queryLimit {
			batches = append(batches, cur)
			cur, size = nil, 0
		}
		cur = append(cur, th)
		size += term
	}
	if len(cur) > 0 {
		batches = append(batches, cur)
	}
	for _, b := range batches {
		if err := r.searchBatch(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) searchAllAllowed() bool {
	at := r.next.SearchAllRefusedAt
	return at == nil || r.now.Sub(*at) > recentWindow
}

func (r *run) searchBatch(ctx context.Context, threads []Thread) error {
	terms := make([]string, len(threads))
	start := threads[0].CreatedAt
	for i, th := range threads {
		terms[i] = "conversation_id:" + th.ID
		if th.CreatedAt.Before(start) {
			start = th.CreatedAt
		}
	}
	all := r.searchAllAllowed()
	if !all {
		r.note(noteRecentOnly)
	}
	q := baseQuery()
	q.Set("query", strings.Join(terms, " OR "))
	q.Set("max_results", "100")
	since := !r.full && r.st.ReplySinceID != ""
	if since {
		q.Set("since_id", r.st.ReplySinceID)
	}
	for {
		path := "/2/tweets/search/recent"
		if all {
			path = "/2/tweets/search/all"
			// The full-archive search reaches back 30 days unless told
			// where to start: start with the oldest conversation.
			if !since && !start.IsZero() {
				q.Set("start_time", start.Add(-time.Second).Format(time.RFC3339))
			}
		} else {
			q.Del("start_time")
		}
		f, err := r.fetch(ctx, path, q)
		if err != nil && all && f != nil && f.status == http.StatusForbidden {
			// The token may not use the full-archive search: use the
			// recent one, and say so in the state.
			t := r.now
			r.next.SearchAllRefusedAt = &t
			r.note(noteRecentOnly)
			all = false
			q.Del("next_token")
			continue
		}
		if errors.Is(err, collect.ErrMalformed) {
			return nil
		}
		if err != nil {
			return err
		}
		if !all {
			r.usedRecent = true
		}
		for _, t := range f.page.Tweets {
			if newer(t.ID, r.next.ReplySinceID) {
				r.next.ReplySinceID = t.ID
			}
			if err := r.tweet(ctx, t, f); err != nil {
				return err
			}
		}
		next := f.page.Meta.NextToken
		if next == "" {
			return nil
		}
		q.Set("next_token", next)
	}
}

const noteRecentOnly = "the full-archive search was refused (HTTP 403); replies are searched with the recent search, which reaches back 7 days"

func (r *run) note(s string) {
	if !slices.Contains(r.next.Notes, s) {
		r.next.Notes = append(r.next.Notes, s)
	}
}

// recheck asks for the account's recent tweets by id: those X no longer
// has are recorded as removed at source; the others are seen again, with
// their counts.
func (r *run) recheck(ctx context.Context) error {
	cut := r.now.Add(-recentWindow)
	var ask []Recent
	for _, rc := range r.st.Recent {
		if r.emitted[rc.TweetID] || rc.Item.Created().Before(cut) {
			continue
		}
		if _, ok := r.recent[rc.Item.ID]; ok {
			continue
		}
		ask = append(ask, rc)
	}
	for len(ask) > 0 {
		n := min(len(ask), 100)
		batch := ask[:n]
		ask = ask[n:]
		ids := make([]string, n)
		for i, rc := range batch {
			ids[i] = rc.TweetID
		}
		q := baseQuery()
		q.Set("ids", strings.Join(ids, ","))
		f, err := r.fetch(ctx, "/2/tweets", q)
		if errors.Is(err, collect.ErrMalformed) {
			return nil
		}
		if err != nil {
			return err
		}
		found := map[string]*Tweet{}
		for _, t := range f.page.Tweets {
			found[t.ID] = t
		}
		gone := map[string]int{}
		for i, e := range f.page.Errors {
			if e.NotFound() {
				gone[cmp.Or(e.ResourceID, e.Value)] = i
			}
		}
		for _, rc := range batch {
			o := archive.ItemOptions{Raw: &f.raw, Source: f.source}
			if t, ok := found[rc.TweetID]; ok {
				o.RawPath = t.Pointer
				if fa, err := fromV2(t, f.page); err == nil {
					o.Metrics = fa.metricsJSON()
				}
				r.recent[rc.Item.ID] = rc
			} else if i, ok := gone[rc.TweetID]; ok {
				at := r.now
				o.RawPath, o.RemovedAt = "/errors/"+strconv.Itoa(i), &at
			} else {
				r.recent[rc.Item.ID] = rc // not said either way: watch on
				continue
			}
			if err := r.job.Sink.AddItem(ctx, rc.Item, o); err != nil && !errors.Is(err, archive.ErrBadInput) {
				return fmt.Errorf("x: record tweet %s: %w", rc.TweetID, err)
			}
		}
	}
	return nil
}

// finishState keeps the newest watched tweets.
func (r *run) finishState() {
	for _, rc := range r.recent {
		r.next.Recent = append(r.next.Recent, rc)
	}
	slices.SortFunc(r.next.Recent, func(a, b Recent) int {
		if a.TweetID == b.TweetID {
			return 0
		}
		if newer(a.TweetID, b.TweetID) {
			return -1
		}
		return 1
	})
	if len(r.next.Recent) > maxRecent {
		r.next.Recent = r.next.Recent[:maxRecent]
	}
}
