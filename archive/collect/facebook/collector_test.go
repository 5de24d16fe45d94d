package facebook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/graphtest"
)

const token = "EAAGm0PX4ZCpsBAKZCsecretpagetoken123"

var liveDir = filepath.Join("..", "..", "..", "testdata", "collect", "facebook", "live")

func brigade() archive.Account {
	return archive.Account{Platform: Platform, Handle: "3rd-brigade", ID: "101"}
}

func newServer(t *testing.T) *graphtest.Server {
	s := graphtest.New(t, liveDir)
	s.Token = token
	s.SetRun("run1")
	return s
}

func collectMem(t *testing.T, s *graphtest.Server, full bool, state json.RawMessage) (*collect.MemorySink, error) {
	t.Helper()
	job := s.Job(brigade(), token)
	job.Full, job.State = full, state
	sink := collect.NewMemorySink()
	job.Sink = sink
	err := New().Collect(context.Background(), &job)
	return sink, err
}

// resolve follows a JSON pointer into a raw response.
func resolve(t *testing.T, raw []byte, ptr string) map[string]any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("raw does not parse: %v", err)
	}
	for _, p := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			var i int
			if err := json.Unmarshal([]byte(p), &i); err != nil || i >= len(x) {
				t.Fatalf("pointer %s: bad index %s", ptr, p)
			}
			v = x[i]
		default:
			t.Fatalf("pointer %s does not resolve", ptr)
		}
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("pointer %s is not an object", ptr)
	}
	return m
}

func TestCollectFull(t *testing.T) {
	s := newServer(t)
	sink, err := collectMem(t, s, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sink.Bads) > 0 {
		t.Fatalf("bad records: %v", sink.Bads)
	}
	var ids []string
	for _, it := range sink.Items {
		ids = append(ids, it.ID)
	}
	want := []string{"101_2001", "2001_3001", "2001_3002", "2001_3003", "2001_3004", "101_2002", "101_2003", "2003_3101"}
	if !slices.Equal(ids, want) {
		t.Fatalf("items %v, want %v", ids, want)
	}
	post := sink.Item("101_2001")
	if post.Kind != "post" || post.Account != "3rd-brigade" || post.CreatedAt != "2024-01-15T14:00:00Z" || post.URL != "https://www.facebook.com/101/posts/2001" {
		t.Errorf("post: %+v", post)
	}
	if post.Author == nil || post.Author.ID != "101" || post.Author.Name != "3rd Canadian Division Brigade" {
		t.Errorf("post author: %+v", post.Author)
	}
	if !slices.Equal(post.Hashtags, []string{"parade", "3CDN", "défilé"}) {
		t.Errorf("hashtags %q", post.Hashtags)
	}
	if len(post.Media) != 1 || post.Media[0].URL != "https://scontent-iad3-1.xx.fbcdn.net/v/t39.30808-6/parade.jpg" || post.Media[0].Type != "image" || post.Media[0].Digest == "" {
		t.Errorf("post media: %+v (the item keeps the CDN URL without its expiring signature, and the digest)", post.Media)
	}
	if post.EditedAt != "" {
		t.Errorf("updated_time moves with every comment, it is no edit time: %q", post.EditedAt)
	}
	visitor := sink.Item("101_2002")
	if visitor.Author == nil || visitor.Author.ID != "9001" || !slices.Equal(visitor.Links, []string{"https://city.example/notice/parking"}) || len(visitor.Media) != 0 {
		t.Errorf("visitor post: %+v, links %q, media %+v (a share's preview picture is not media; the redirect is unwrapped)", visitor.Author, visitor.Links, visitor.Media)
	}
	old := sink.Item("101_2003")
	if old.CreatedAt != "2015-06-01T10:00:00Z" || old.Author != nil || old.URL != "" || len(old.Media) != 1 || old.Media[0].URL != "https://scontent.xx.fbcdn.net/hphotos-xpa1/t31.0-8/openhouse.jpg" {
		t.Errorf("older-layout post: %+v", old)
	}
	c1, reply, hidden, sticker, oldc := sink.Item("2001_3001"), sink.Item("2001_3002"), sink.Item("2001_3003"), sink.Item("2001_3004"), sink.Item("2003_3101")
	if c1.Kind != "comment" || c1.Parent != "101_2001" || c1.Thread != "101_2001" || c1.Visibility != "" {
		t.Errorf("comment: %+v", c1)
	}
	if reply.Kind != "reply" || reply.Parent != "2001_3001" || reply.Thread != "101_2001" {
		t.Errorf("reply: %+v", reply)
	}
	if hidden.Visibility != "hidden" || hidden.Text == "" {
		t.Errorf("hidden comment must be kept and marked: %+v", hidden)
	}
	if len(sticker.Media) != 1 || sticker.Media[0].Digest == "" {
		t.Errorf("comment attachment: %+v", sticker.Media)
	}
	if oldc.Author != nil || oldc.Text != "Great day à la base!" || oldc.Thread != "101_2003" {
		t.Errorf("comment without from: %+v", oldc)
	}
	if sink.Scope == nil || sink.Scope.Account != "facebook/3rd-brigade" {
		t.Errorf("a full run with no bad record is complete: scope %+v", sink.Scope)
	}
	var st struct {
		Newest time.Time `json:"newest"`
	}
	if err := json.Unmarshal(sink.State, &st); err != nil || st.Newest.Format("2006-01-02T15:04:05Z07:00") != "2024-01-15T14:00:00Z" {
		t.Errorf("state %s", sink.State)
	}
	if len(sink.Media) != 3 {
		t.Errorf("%d media stored, want 3", len(sink.Media))
	}
	// Every item names its raw page and its place in it.
	for i, o := range sink.Opts {
		raw, ok := sink.Raws[*o.Raw]
		if !ok {
			t.Fatalf("item %s names a raw blob not stored", sink.Items[i].ID)
		}
		if got := resolve(t, raw, o.RawPath)["id"]; got != sink.Items[i].ID {
			t.Errorf("item %s: raw pointer %s is %v", sink.Items[i].ID, o.RawPath, got)
		}
		if !strings.Contains(o.Source, "/v19.0/") {
			t.Errorf("source %q", o.Source)
		}
	}
	var m map[string]int
	json.Unmarshal(sink.Opts[0].Metrics, &m)
	if m["shares"] != 3 || m["reactions"] != 12 || m["comments"] != 4 {
		t.Errorf("post metrics %s", sink.Opts[0].Metrics)
	}
	// The token goes in the header, never in a URL.
	for i, a := range s.Auth() {
		if req := s.Requests()[i]; strings.Contains(req, "/media/") {
			continue
		}
		if a != "Bearer "+token {
			t.Errorf("request %d authorisation %q", i, a)
		}
	}
	for _, r := range s.Requests() {
		if strings.Contains(r, token) || strings.Contains(r, "access_token") {
			t.Errorf("token in a URL: %s", r)
		}
		if strings.Contains(r, "/comments") && !strings.Contains(r, "filter=stream") {
			t.Errorf("comments listed without filter=stream: %s", r)
		}
	}
}

func TestEditAndRemovalAcrossCompleteRuns(t *testing.T) {
	a, _, clock := archivetest.New(t)
	s := newServer(t)
	c := New()
	job := s.Job(brigade(), token)
	job.Full = true
	r1 := graphtest.RunInto(t, a, c, job)
	if r1.Err != nil || !r1.Complete || len(r1.Bads) > 0 {
		t.Fatalf("run 1: %v, complete %v, bads %v", r1.Err, r1.Complete, r1.Bads)
	}
	clock.Advance(24 * 3600e9)
	s.SetRun("run2", "run1")
	r2 := graphtest.RunInto(t, a, c, job)
	if r2.Err != nil || !r2.Complete {
		t.Fatalf("run 2: %v, complete %v, bads %v", r2.Err, r2.Complete, r2.Bads)
	}
	ctx := context.Background()
	key := func(id string) string { return archive.ItemKey(Platform, "3rd-brigade", id) }
	post, err := a.Show(ctx, key("101_2001"))
	if err != nil {
		t.Fatal(err)
	}
	if len(post.Versions) != 2 {
		t.Fatalf("edited post has %d versions, want 2", len(post.Versions))
	}
	if !strings.Contains(post.Versions[1].Item.Text, "Elm Street from 07:30") || strings.Contains(post.Versions[0].Item.Text, "Elm Street from") {
		t.Errorf("versions: %q / %q", post.Versions[0].Item.Text, post.Versions[1].Item.Text)
	}
	gone, err := a.Show(ctx, key("2001_3003"))
	if err != nil {
		t.Fatal(err)
	}
	if gone.RemovedAt == nil {
		t.Fatal("the comment a moderator deleted is not marked removed at source")
	}
	if gone.Versions[0].Item.Visibility != "hidden" || gone.Versions[0].Item.Text == "" {
		t.Errorf("the removed comment's content must stay: %+v", gone.Versions[0].Item)
	}
	for _, id := range []string{"101_2002", "101_2003", "2001_3001", "2001_3002", "2001_3004", "2003_3101"} {
		it, err := a.Show(ctx, key(id))
		if err != nil {
			t.Fatal(err)
		}
		if it.RemovedAt != nil {
			t.Errorf("%s marked removed", id)
		}
		if len(it.Versions) != 1 {
			t.Errorf("%s has %d versions: a changed like count or share count is no edit", id, len(it.Versions))
		}
	}
	if r2.NewVersions != 1 {
		t.Errorf("run 2 wrote %d new versions, want 1", r2.NewVersions)
	}
}

func TestIncremental(t *testing.T) {
	a, _, _ := archivetest.New(t)
	s := newServer(t)
	job := s.Job(brigade(), token)
	job.Full = true
	if r := graphtest.RunInto(t, a, New(), job); r.Err != nil {
		t.Fatal(r.Err)
	}
	before := len(s.Requests())
	job.Full = false
	r := graphtest.RunInto(t, a, New(), job)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if r.Complete {
		t.Error("an incremental run is never a complete listing")
	}
	reqs := s.Requests()[before:]
	// since = newest (2024-01-15T14:00:00Z) less 7 days.
	if !strings.Contains(reqs[0], "since=1704722400") {
		t.Errorf("incremental request %s, want since=1704722400", reqs[0])
	}
}

func TestRateLimited(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault graphtest.Fault
	}{
		{"code 4", graphtest.RateLimited(4)},
		{"code 17", graphtest.RateLimited(17)},
		{"code 32 as 403", func() graphtest.Fault { f := graphtest.RateLimited(32); f.Status = 403; return f }()},
		{"code 613", graphtest.RateLimited(613)},
		{"HTTP 429", graphtest.TooMany()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Once: the client waits (no-op here) and the run goes on.
			s := newServer(t)
			s.Fault("101_2001_comments", tc.fault)
			sink, err := collectMem(t, s, true, nil)
			if err != nil || sink.Scope == nil {
				t.Fatalf("a passing rate limit: %v, complete %v", err, sink.Scope != nil)
			}
			// Always: the run ends with ErrRateLimited, incomplete.
			s = newServer(t)
			for range 20 {
				s.Fault("101_2001_comments", tc.fault)
			}
			sink, err = collectMem(t, s, true, nil)
			if !errors.Is(err, collect.ErrRateLimited) {
				t.Fatalf("err = %v, want ErrRateLimited", err)
			}
			if sink.Scope != nil || sink.State != nil {
				t.Error("a run cut short is not complete and does not move its state on")
			}
			if sink.Item("101_2001") == nil {
				t.Error("what was captured before stays")
			}
		})
	}
}

func TestServerErrorThenSuccess(t *testing.T) {
	s := newServer(t)
	s.Fault("101_feed", graphtest.Unavailable(), graphtest.Fault{Status: 500, Body: `{"error":{"message":"An unknown error has occurred.","type":"OAuthException","code":1,"is_transient":true}}`})
	sink, err := collectMem(t, s, true, nil)
	if err != nil || sink.Scope == nil || len(sink.Items) != 8 {
		t.Fatalf("err %v, complete %v, %d items", err, sink.Scope != nil, len(sink.Items))
	}
	s = newServer(t)
	for range 20 {
		s.Fault("101_feed_after_P2", graphtest.Unavailable())
	}
	sink, err = collectMem(t, s, true, nil)
	if !errors.Is(err, collect.ErrUnavailable) || sink.Scope != nil {
		t.Fatalf("err %v, complete %v", err, sink.Scope != nil)
	}
}

func TestExpiredToken(t *testing.T) {
	a, _, _ := archivetest.New(t)
	s := newServer(t)
	s.Fault("101_2002_comments", graphtest.Expired())
	job := s.Job(brigade(), token)
	job.Full = true
	r := graphtest.RunInto(t, a, New(), job)
	if !errors.Is(r.Err, collect.ErrAuth) {
		t.Fatalf("err = %v, want ErrAuth", r.Err)
	}
	if r.Complete {
		t.Error("a run ended by an expired token is not complete")
	}
	if !strings.Contains(r.Err.Error(), "Session has expired") || strings.Contains(r.Err.Error(), token) {
		t.Errorf("error %q should say why, without the token", r.Err)
	}
	if r.Items != 6 {
		t.Errorf("%d items kept, want the 6 seen before the error", r.Items)
	}
	// A wrong token everywhere: 190 at once.
	job.Secret = "EAAGwrongtoken"
	r = graphtest.RunInto(t, a, New(), job)
	if !errors.Is(r.Err, collect.ErrAuth) || r.Complete || strings.Contains(r.Err.Error(), "EAAGwrongtoken") {
		t.Errorf("wrong token: %v", r.Err)
	}
	job.Secret = ""
	if r := graphtest.RunInto(t, a, New(), job); !errors.Is(r.Err, collect.ErrAuth) {
		t.Errorf("no token: %v", r.Err)
	}
}

func TestMalformedPage(t *testing.T) {
	a, _, _ := archivetest.New(t)
	s := newServer(t)
	s.Fault("101_feed_after_P2", graphtest.Fault{Status: 200, Body: `{"data":[{"id":"101_2003","message":"Photos fr`})
	job := s.Job(brigade(), token)
	job.Full = true
	r := graphtest.RunInto(t, a, New(), job)
	if !errors.Is(r.Err, collect.ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", r.Err)
	}
	if r.Complete || len(r.Bads) != 1 {
		t.Fatalf("complete %v, bads %v", r.Complete, r.Bads)
	}
	bad := r.Bads[0].Error()
	if !strings.Contains(bad, "/v19.0/101/feed?") || !strings.Contains(bad, "after=P2") || !strings.Contains(bad, "truncated") {
		t.Errorf("bad record %q should name the page and the JSON error", bad)
	}
	if r.Items != 6 {
		t.Errorf("%d items, want the 6 of the first page and its comments", r.Items)
	}

	// A malformed comments page: reported, the run goes on, incomplete.
	s = newServer(t)
	s.Fault("101_2001_comments_after_C2", graphtest.Fault{Status: 200, Body: `<html>Service temporarily unavailable</html>`})
	sink, err := collectMem(t, s, true, nil)
	if err != nil || len(sink.Bads) != 1 || sink.Scope != nil || sink.Item("2003_3101") == nil {
		t.Fatalf("err %v, bads %v, complete %v", err, sink.Bads, sink.Scope != nil)
	}
	// An element that is not a post.
	s = newServer(t)
	s.Fault("101_feed_after_P2", graphtest.Fault{Status: 200, Body: `{"data":[{"id":42},{"id":"101_2009","created_time":"not a time"},{"id":"101_2010","created_time":"2020-01-01T00:00:00+0000","message":"ok"}]}`})
	sink, err = collectMem(t, s, true, nil)
	// Two bad elements, and the comments of 101_2010, which has none here.
	if err != nil || len(sink.Bads) != 3 || sink.Scope != nil || sink.Item("101_2010") == nil {
		t.Fatalf("err %v, bads %v", err, sink.Bads)
	}
}

func TestMediaDownloadFails(t *testing.T) {
	s := newServer(t)
	s.Fault("media_parade.jpg", graphtest.Fault{Status: 404, Body: "gone"})
	s.Fault("media_flag.png", graphtest.Fault{Status: 200, Body: "<html>login</html>", Header: map[string]string{"Content-Type": "text/html"}})
	sink, err := collectMem(t, s, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sink.Bads) != 2 || sink.Scope != nil {
		t.Fatalf("bads %v, complete %v", sink.Bads, sink.Scope != nil)
	}
	if !strings.Contains(sink.Bads[0].Error(), "parade.jpg") || strings.Contains(sink.Bads[0].Error(), "oh=") {
		t.Errorf("bad record %q should name the media by its stable URL", sink.Bads[0])
	}
	if p := sink.Item("101_2001"); len(p.Media) != 1 || p.Media[0].Digest != "" {
		t.Errorf("post media %+v", p.Media)
	}
	if len(sink.Items) != 8 {
		t.Errorf("%d items", len(sink.Items))
	}
}

func TestTokenEchoedInBodyNeverStored(t *testing.T) {
	s := newServer(t)
	s.Echo = token
	sink, err := collectMem(t, s, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range sink.Raws {
		if bytes.Contains(raw, []byte(token)) {
			t.Fatalf("the token reached the store: %s", raw)
		}
	}
	for _, r := range s.Requests() {
		if strings.Contains(r, token) {
			t.Fatalf("an echoed token was sent back in a URL: %s", r)
		}
	}
}

func TestPostsEdgeAndNoID(t *testing.T) {
	s := newServer(t)
	job := s.Job(archive.Account{Platform: Platform, Handle: "101"}, token)
	job.Sink = collect.NewMemorySink()
	err := NewWithOptions(Options{Edge: "posts"}).Collect(context.Background(), &job)
	if err == nil {
		t.Fatal("no posts fixture: want an error")
	}
	if !strings.Contains(s.Requests()[0], "/v19.0/101/posts?") {
		t.Errorf("request %s", s.Requests()[0])
	}
	if !errors.Is(err, collect.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound (code 100, subcode 33)", err)
	}
}
