package bluesky

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/fixture"
)

const (
	did      = "did:plc:cityexample2024"
	handle   = "cityofexample.bsky.social"
	first    = "at://did:plc:cityexample2024/app.bsky.feed.post/3lfirstpost01"
	replyOwn = "at://did:plc:cityexample2024/app.bsky.feed.post/3lreplyown001"
	quote    = "at://did:plc:cityexample2024/app.bsky.feed.post/3lquotepost1"
	video    = "at://did:plc:cityexample2024/app.bsky.feed.post/3lvideopost1"
	old      = "at://did:plc:cityexample2024/app.bsky.feed.post/3joldpost0001"
	repost   = "at://did:plc:cityexample2024/app.bsky.feed.repost/3lrepost00001"
	replyJo  = "at://did:plc:resident00003/app.bsky.feed.post/3lreplyjo0001"
	troll    = "at://did:plc:troll0000001/app.bsky.feed.post/3lreplytroll1"
	merci    = "at://did:plc:resident00005/app.bsky.feed.post/3lmerci000001"
)

var imageBytes = "\xff\xd8\xff\xe0 jpeg bytes"

func feedKey(cursor string) string {
	q := url.Values{"actor": {did}, "limit": {"100"}, "filter": {"posts_with_replies"}}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	return "/xrpc/app.bsky.feed.getAuthorFeed?" + q.Encode()
}

func threadKey(uri string) string {
	return "/xrpc/app.bsky.feed.getPostThread?" + url.Values{"uri": {uri}, "depth": {"1000"}, "parentHeight": {"0"}}.Encode()
}

const (
	cursor1 = "2026-02-12T10:00:00.900Z::bafyreireplyown001"
	cursor2 = "2023-04-02T08:00:00.000Z::bafyreioldpost0001"
)

func serve(t *testing.T) *fixture.Server {
	t.Helper()
	s := fixture.NewServer(t, fixture.Dir(t, "bluesky"))
	s.Handle(feedKey(""), fixture.Route{File: "author-feed-1.json"})
	s.Handle(feedKey(cursor1), fixture.Route{File: "author-feed-2.json"})
	s.Handle(feedKey(cursor2), fixture.Route{File: "author-feed-3.json"})
	s.Handle(threadKey(first), fixture.Route{File: "thread-firstpost.json"})
	s.Handle(threadKey(replyOwn), fixture.Route{File: "thread-replyown.json"})
	s.Handle(threadKey(quote), fixture.Route{File: "thread-quotepost.json"})
	s.Handle(threadKey(video), fixture.Route{File: "thread-videopost.json"})
	s.Handle(threadKey(old), fixture.Route{File: "thread-oldpost.json"})
	s.Handle("/img/feed_fullsize/plain/did:plc:cityexample2024/bafkreiimage1@jpeg", fixture.Route{Body: imageBytes, Header: map[string]string{"Content-Type": "image/jpeg"}})
	return s
}

func newJob(t *testing.T, s *fixture.Server, full bool) (*collect.Job, *fixture.Sleeps) {
	c, sl := fixture.Client(t)
	return &collect.Job{Account: fixture.Account(Platform, handle, did, s.URL), Full: full, HTTP: c}, sl
}

func TestCollectFull(t *testing.T) {
	s := serve(t)
	a, _, _ := archivetest.New(t)
	job, _ := newJob(t, s, true)
	res, err := fixture.RunInto(t, a, New(), job)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Complete || res.Errors != 0 || res.Items != 9 {
		t.Fatalf("%+v", res)
	}
	ctx := context.Background()
	get := func(id string) *archive.Item {
		d, err := a.Show(ctx, archive.ItemKey(Platform, handle, id))
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		return d.Versions[len(d.Versions)-1].Item
	}
	p := get(first)
	if p.Kind != "post" || strings.Join(p.Links, " ") != "https://example.gov/roads/closures" || strings.Join(p.Mentions, " ") != "transit.example.org" ||
		strings.Join(p.Hashtags, " ") != "roadworks" || len(p.Media) != 1 || p.Media[0].Alt != "Map of the closed streets" || p.Lang != "en" ||
		p.URL != "https://bsky.app/profile/did:plc:cityexample2024/post/3lfirstpost01" || p.Author.ID != did {
		t.Errorf("post: %+v", p)
	}
	if b := get(repost); b.Kind != "boost" || b.Parent != "at://did:plc:weatherservice/app.bsky.feed.post/3lweather0001" || b.Text != "Flood watch for the river valley until Sunday." || b.CreatedAt != "2026-02-20T16:00:00Z" || b.Author.Handle != "weather.example.org" {
		t.Errorf("repost: %+v", b)
	}
	if r := get(replyOwn); r.Kind != "reply" || r.Parent != "at://did:plc:resident00001/app.bsky.feed.post/3lquestion001" || r.Thread != "at://did:plc:resident00002/app.bsky.feed.post/3lrootgone001" {
		t.Errorf("own reply: %+v", r)
	}
	if r := get(troll); r.Parent != replyJo || r.Thread != first || r.Author.Handle != "not-a-troll.bsky.social" {
		t.Errorf("nested reply: %+v", r)
	}
	if o := get(old); o.Text != "Le café municipal rouvre : https://example.gov/cafe" || strings.Join(o.Links, " ") != "https://example.gov/cafe" {
		t.Errorf("2023 post: %+v", o)
	}
	if q := get(quote); strings.Join(q.Links, " ") != "at://did:plc:council00001/app.bsky.feed.post/3lcouncil0001" || strings.Join(q.Hashtags, " ") != "budget2026" || q.Lang != "fr" {
		t.Errorf("quote: %+v", q)
	}
	if v := get(video); len(v.Media) != 1 || v.Media[0].Type != "video" || v.Media[0].Alt == "" {
		t.Errorf("video: %+v", v)
	}
	if m := get(merci); m.Text != "Merci ! 👏" {
		t.Errorf("reply: %+v", m)
	}
	// Not-found and blocked replies are not invented.
	for _, id := range []string{"at://did:plc:resident00004/app.bsky.feed.post/3ldeleted0001", "at://did:plc:blocker00001/app.bsky.feed.post/3lblocked0001", "at://did:plc:resident00001/app.bsky.feed.post/3lquestion001"} {
		if _, err := a.Show(ctx, archive.ItemKey(Platform, handle, id)); err == nil {
			t.Errorf("%s recorded", id)
		}
	}
	d, _ := a.Show(ctx, archive.ItemKey(Platform, handle, first))
	var m map[string]int
	json.Unmarshal(d.Sightings[0].Metrics, &m)
	if m["like_count"] != 30 || m["repost_count"] != 12 || m["reply_count"] != 3 {
		t.Errorf("metrics %v", m)
	}
	if d.Sightings[0].Raw == "" {
		t.Error("no raw page")
	}
}

func TestRemovedReply(t *testing.T) {
	s := serve(t)
	a, _, clock := archivetest.New(t)
	job, _ := newJob(t, s, true)
	if _, err := fixture.RunInto(t, a, New(), job); err != nil {
		t.Fatal(err)
	}
	clock.Advance(3600e9)
	s.Handle(threadKey(first), fixture.Route{File: "thread-firstpost-moderated.json"})
	job2, _ := newJob(t, s, true)
	res, err := fixture.RunInto(t, a, New(), job2)
	if err != nil || !res.Complete || res.Removed != 1 || res.NewVersions != 0 {
		t.Fatalf("%+v %v", res, err)
	}
	ctx := context.Background()
	if d, _ := a.Show(ctx, archive.ItemKey(Platform, handle, troll)); d.RemovedAt == nil {
		t.Error("removed reply not marked")
	}
	if d, _ := a.Show(ctx, archive.ItemKey(Platform, handle, replyJo)); d.RemovedAt != nil {
		t.Error("reply still there marked removed")
	}
}

func TestIncremental(t *testing.T) {
	s := serve(t)
	a, _, _ := archivetest.New(t)
	job, _ := newJob(t, s, false)
	job.State = json.RawMessage(`{"newest_at":"2026-02-20T16:00:00Z"}`)
	res, err := fixture.RunInto(t, a, New(), job)
	if err != nil || res.Complete {
		t.Fatalf("%+v %v", res, err)
	}
	if s.Hits(feedKey(cursor1)) != 0 || s.Hits(threadKey(replyOwn)) != 0 {
		t.Error("incremental run read too far")
	}
	if st, _ := a.LastState(job.Account.Key, Platform); !strings.Contains(string(st), "2026-02-20T16:00:00Z") {
		t.Errorf("state %s", st)
	}
}

func TestRateLimitAndServerError(t *testing.T) {
	s := serve(t)
	s.Handle(feedKey(""), fixture.Route{Status: 429, Header: map[string]string{"Retry-After": "10", "RateLimit-Remaining": "0"}, Body: `{"error":"RateLimitExceeded","message":"Rate Limit Exceeded"}`}, fixture.Route{File: "author-feed-1.json"})
	s.Handle(threadKey(first), fixture.Route{Status: 502, Body: "Bad Gateway"}, fixture.Route{File: "thread-firstpost.json"})
	a, _, _ := archivetest.New(t)
	job, sleeps := newJob(t, s, true)
	res, err := fixture.RunInto(t, a, New(), job)
	if err != nil || !res.Complete {
		t.Fatalf("%+v %v", res, err)
	}
	if sleeps.Count() < 2 {
		t.Errorf("waits %d", sleeps.Count())
	}
}

func TestExpiredToken(t *testing.T) {
	s := serve(t)
	s.Handle(feedKey(""), fixture.Route{Status: 400, Body: `{"error":"ExpiredToken","message":"Token has expired"}`})
	a, _, _ := archivetest.New(t)
	job, _ := newJob(t, s, true)
	job.Secret = "eyJhbGciOi.jwt.secret"
	res, err := fixture.RunInto(t, a, New(), job)
	if !errors.Is(err, collect.ErrAuth) || strings.Contains(err.Error(), "jwt.secret") {
		t.Fatalf("got %v", err)
	}
	if res.Complete || res.Items != 0 {
		t.Errorf("%+v", res)
	}
	if r := s.Requests(); len(r) == 0 || r[0].Authorization != "Bearer eyJhbGciOi.jwt.secret" {
		t.Errorf("token not sent: %+v", r)
	}
}

func TestMalformedPage(t *testing.T) {
	s := serve(t)
	s.Handle(feedKey(cursor1), fixture.Route{File: "author-feed-1-truncated.json"})
	a, _, _ := archivetest.New(t)
	job, _ := newJob(t, s, true)
	res, err := fixture.RunInto(t, a, New(), job)
	if !errors.Is(err, collect.ErrMalformed) {
		t.Fatalf("got %v", err)
	}
	if res.Complete || res.Errors != 1 || res.Items == 0 {
		t.Errorf("%+v", res)
	}
	if _, err := a.Show(context.Background(), archive.ItemKey(Platform, handle, first)); err != nil {
		t.Error("page 1 not kept")
	}
}

func TestMedia(t *testing.T) {
	s := serve(t)
	job, _ := newJob(t, s, true)
	job.Media = true
	sink := collect.NewMemorySink()
	job.Sink = sink
	if err := New().Collect(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	if it := sink.Item(first); it.Media[0].Digest != archive.Sum([]byte(imageBytes)).String() {
		t.Errorf("%+v", it.Media)
	}
	// The video playlist is not downloaded.
	if it := sink.Item(video); it.Media[0].Digest != "" || len(sink.Bads) != 0 {
		t.Errorf("%+v %v", it.Media, sink.Bads)
	}
	if sink.Scope == nil {
		t.Error("not complete")
	}
}
