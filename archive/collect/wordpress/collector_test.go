package wordpress

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/fixture"
)

const site = "blog.example.gov"

// postsKey is a page of posts as a full run asks for it (id order);
// incremental runs ask newest-modified first.
func postsKey(page int) string { return postsKeyOrder(page, "id", "asc") }

func postsKeyOrder(page int, orderby, order string) string {
	return "/wp-json/wp/v2/posts?" + url.Values{"per_page": {"100"}, "orderby": {orderby}, "order": {order}, "_embed": {"author,wp:term,wp:featuredmedia"}, "page": {string(rune('0' + page))}}.Encode()
}

func commentsKey(page int) string { return commentsKeyOrder(page, "id", "asc") }

func commentsKeyOrder(page int, orderby, order string) string {
	return "/wp-json/wp/v2/comments?" + url.Values{"per_page": {"100"}, "orderby": {orderby}, "order": {order}, "page": {string(rune('0' + page))}}.Encode()
}

const revisionsKey = "/wp-json/wp/v2/posts/101/revisions?per_page=100"

func pages(total int) map[string]string {
	return map[string]string{"X-WP-Total": "3", "X-WP-TotalPages": string(rune('0' + total))}
}

var pngBytes = "\x89PNG\r\n\x1a\nwp"

func serve(t *testing.T) *fixture.Server {
	t.Helper()
	s := fixture.NewServer(t, fixture.Dir(t, "wordpress"))
	s.Handle(postsKey(1), fixture.Route{File: "posts-page1.json", Header: pages(2)})
	s.Handle(postsKey(2), fixture.Route{File: "posts-page2.json", Header: pages(2)})
	s.Handle(commentsKey(1), fixture.Route{File: "comments-page1.json", Header: map[string]string{"X-WP-Total": "4", "X-WP-TotalPages": "1"}})
	s.Handle(revisionsKey, fixture.Route{File: "revisions-101.json"})
	s.Handle("/wp-json/wp/v2/users/2", fixture.Route{File: "users-2.json"})
	s.Handle("/wp-content/uploads/2026/02/detours.png", fixture.Route{Body: pngBytes, Header: map[string]string{"Content-Type": "image/png"}})
	s.Handle("/wp-content/uploads/2026/02/closure-map.jpg", fixture.Route{Body: "\xff\xd8\xff jpeg", Header: map[string]string{"Content-Type": "image/jpeg"}})
	return s
}

func newJob(t *testing.T, s *fixture.Server, full bool) (*collect.Job, *fixture.Sleeps) {
	c, sl := fixture.Client(t)
	return &collect.Job{Account: fixture.Account(Platform, site, "", s.URL), Secret: "records:abcd efgh ijkl mnop", Full: full, HTTP: c}, sl
}

func TestCollectFull(t *testing.T) {
	s := serve(t)
	a, _, _ := archivetest.New(t)
	job, _ := newJob(t, s, true)
	res, err := fixture.RunInto(t, a, New(), job)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Complete || res.Errors != 0 || res.Items != 8 {
		t.Fatalf("%+v", res)
	}
	for _, r := range s.Requests() {
		if !strings.HasPrefix(r.Authorization, "Basic ") {
			t.Errorf("%s: %q", r.Key, r.Authorization)
		}
	}
	ctx := context.Background()
	show := func(id string) archive.ItemDetail {
		d, err := a.Show(ctx, archive.ItemKey(Platform, site, id))
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		return d
	}
	d := show("101")
	if len(d.Versions) != 2 {
		t.Fatalf("post 101: %d versions", len(d.Versions))
	}
	orig, cur := d.Versions[0].Item, d.Versions[1].Item
	if orig.Text != "Road closures this weekend\n\nMain St closes from 7am to 6pm." || orig.EditedAt != "" {
		t.Errorf("original: %+v", orig)
	}
	wantText := "Road closures this weekend – what’s changing\n\nMain St & 5th Ave close from 7am to 6pm. See the closure map.\n\nMerci de votre patience — Café Central stays open."
	if cur.Text != wantText || cur.EditedAt != "2026-02-18T10:15:00Z" || cur.CreatedAt != "2026-02-18T09:00:00Z" || cur.Author.Name != "Communications Office" ||
		strings.Join(cur.Hashtags, "|") != "roadworks|travaux & routes" || len(cur.Media) != 2 || cur.Media[0].Alt != "Map of the closed streets" || cur.Media[1].Alt != "Detour routes" ||
		strings.Join(cur.Links, " ") != "https://example.gov/roads/closures" || cur.Visibility != "publish" {
		t.Errorf("current: %+v\ntext %q", cur, cur.Text)
	}
	if p := show("102").Versions[0].Item; p.Author == nil || p.Author.Name != "Parks & Recreation" || p.Author.Handle != "parks" {
		t.Errorf("author from the users endpoint: %+v", p.Author)
	}
	if p := show("100").Versions[0].Item; p.Text != "Welcome to the City blog\n\nWelcome!\nThis blog replaces our newsletter." {
		t.Errorf("2017 post: %q", p.Text)
	}
	if c := show("comment-502").Versions[0].Item; c.Kind != "reply" || c.Parent != "comment-501" || c.Thread != "101" || c.Author.Name != "Communications Office" {
		t.Errorf("reply: %+v", c)
	}
	if c := show("comment-501").Versions[0].Item; c.Kind != "comment" || c.Parent != "101" {
		t.Errorf("comment: %+v", c)
	}
	if c := show("comment-499").Versions[0].Item; c.Author.Name != "François & Marie" || c.Text != "Bravo\u00a0! Quelle belle initiative." {
		t.Errorf("mis-encoded comment: %+v", c)
	}
	// The draft revision is not a version.
	for _, v := range d.Versions {
		if strings.Contains(v.Item.Text, "DRAFT") {
			t.Error("draft kept as a version")
		}
	}
}

func TestRemovedComment(t *testing.T) {
	s := serve(t)
	a, _, clock := archivetest.New(t)
	job, _ := newJob(t, s, true)
	if _, err := fixture.RunInto(t, a, New(), job); err != nil {
		t.Fatal(err)
	}
	clock.Advance(3600e9)
	s.Handle(commentsKey(1), fixture.Route{File: "comments-moderated.json", Header: map[string]string{"X-WP-TotalPages": "1"}})
	job2, _ := newJob(t, s, true)
	res, err := fixture.RunInto(t, a, New(), job2)
	if err != nil || !res.Complete || res.Removed != 1 || res.NewVersions != 0 {
		t.Fatalf("%+v %v", res, err)
	}
	d, _ := a.Show(context.Background(), archive.ItemKey(Platform, site, "comment-504"))
	if d.RemovedAt == nil {
		t.Error("moderated comment not marked removed")
	}
}

func TestRevisionsRefusedIsNoError(t *testing.T) {
	s := serve(t)
	s.Handle(revisionsKey, fixture.Route{Status: 403, Body: `{"code":"rest_cannot_read","message":"Sorry, you are not allowed to view revisions of this post.","data":{"status":403}}`})
	a, _, _ := archivetest.New(t)
	job, _ := newJob(t, s, true)
	res, err := fixture.RunInto(t, a, New(), job)
	if err != nil || !res.Complete || res.Errors != 0 {
		t.Fatalf("%+v %v", res, err)
	}
	if d, _ := a.Show(context.Background(), archive.ItemKey(Platform, site, "101")); len(d.Versions) != 1 {
		t.Errorf("%d versions", len(d.Versions))
	}
}

func TestNoTokenNoRevisions(t *testing.T) {
	s := serve(t)
	job, _ := newJob(t, s, true)
	job.Secret = ""
	sink := collect.NewMemorySink()
	job.Sink = sink
	if err := New().Collect(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	if s.Hits(revisionsKey) != 0 {
		t.Error("asked for revisions without a token")
	}
}

func TestIncremental(t *testing.T) {
	s := serve(t)
	s.Handle(postsKeyOrder(1, "modified", "desc"), fixture.Route{File: "posts-page1.json", Header: pages(2)})
	s.Handle(postsKeyOrder(2, "modified", "desc"), fixture.Route{File: "posts-page2.json", Header: pages(2)})
	s.Handle(commentsKeyOrder(1, "date_gmt", "desc"), fixture.Route{File: "comments-page1.json", Header: map[string]string{"X-WP-TotalPages": "1"}})
	job, _ := newJob(t, s, false)
	job.State = []byte(`{"posts_modified":"2026-02-18T10:15:00Z","comments_date":"2026-02-18T12:00:00Z"}`)
	sink := collect.NewMemorySink()
	job.Sink = sink
	if err := New().Collect(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	if s.Hits(postsKeyOrder(1, "modified", "desc")) != 1 || s.Hits(postsKeyOrder(2, "modified", "desc")) != 0 || sink.Scope != nil {
		t.Error("incremental run read past the lookback or said it was complete")
	}
	if string(sink.State) == "" {
		t.Error("no state")
	}
}

func TestRateLimitServerErrorAndMissingPageCount(t *testing.T) {
	s := serve(t)
	// A caching proxy dropped the X-WP-* headers: read until WordPress
	// says the page is past the end.
	s.Handle(postsKey(1), fixture.Route{Status: 429, Header: map[string]string{"Retry-After": "5"}}, fixture.Route{File: "posts-page1.json"})
	s.Handle(postsKey(2), fixture.Route{Status: 500, Body: "<h1>Error establishing a database connection</h1>"}, fixture.Route{File: "posts-page2.json"})
	s.Handle(postsKey(3), fixture.Route{Status: 400, Body: `{"code":"rest_post_invalid_page_number","message":"The page number requested is larger than the number of pages available.","data":{"status":400}}`})
	a, _, _ := archivetest.New(t)
	job, sleeps := newJob(t, s, true)
	res, err := fixture.RunInto(t, a, New(), job)
	if err != nil || !res.Complete || res.Items != 8 {
		t.Fatalf("%+v %v", res, err)
	}
	if sleeps.Count() < 2 {
		t.Errorf("waits %d", sleeps.Count())
	}
}

func TestExpiredToken(t *testing.T) {
	s := serve(t)
	s.Handle(postsKey(1), fixture.Route{Status: 401, Body: `{"code":"incorrect_password","message":"The provided password is an invalid application password.","data":{"status":401}}`})
	a, _, _ := archivetest.New(t)
	job, _ := newJob(t, s, true)
	res, err := fixture.RunInto(t, a, New(), job)
	if !errors.Is(err, collect.ErrAuth) || strings.Contains(err.Error(), "abcd") {
		t.Fatalf("got %v", err)
	}
	if res.Complete || res.Items != 0 {
		t.Errorf("%+v", res)
	}
}

func TestMalformedPage(t *testing.T) {
	s := serve(t)
	s.Handle(postsKey(1), fixture.Route{File: "posts-page1-truncated.json", Header: pages(2)})
	a, _, _ := archivetest.New(t)
	job, _ := newJob(t, s, true)
	res, err := fixture.RunInto(t, a, New(), job)
	if err != nil {
		t.Fatal(err)
	}
	if res.Complete || res.Errors != 1 {
		t.Fatalf("%+v", res)
	}
	// Page 2 and the comments are kept.
	for _, id := range []string{"100", "comment-501"} {
		if _, err := a.Show(context.Background(), archive.ItemKey(Platform, site, id)); err != nil {
			t.Errorf("%s: %v", id, err)
		}
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
	it := sink.Item("101")
	if it.Media[1].Digest != archive.Sum([]byte(pngBytes)).String() || it.Media[0].Digest == "" {
		t.Errorf("%+v", it.Media)
	}
}

func TestBaseURL(t *testing.T) {
	for handle, want := range map[string]string{"blog.example.gov": "https://blog.example.gov", "https://x.example/wp-json/": "https://x.example"} {
		got, err := baseURL(&collect.Job{Account: archive.Account{Handle: handle}})
		if err != nil || got != want {
			t.Errorf("%s: %q %v", handle, got, err)
		}
	}
	if _, err := baseURL(&collect.Job{Account: archive.Account{Key: "wordpress/blog", Handle: "blog"}}); err == nil {
		t.Error("no base URL accepted")
	}
}

func TestDeletedWhilePagingIsNotComplete(t *testing.T) {
	s := serve(t)
	s.Handle(postsKey(2), fixture.Route{File: "posts-page2.json", Header: map[string]string{"X-WP-Total": "2", "X-WP-TotalPages": "2"}})
	a, _, _ := archivetest.New(t)
	job, _ := newJob(t, s, true)
	res, err := fixture.RunInto(t, a, New(), job)
	if err != nil || res.Complete {
		t.Errorf("a listing whose total changed between pages said it was complete: %+v %v", res, err)
	}
}
