package instagram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/graphtest"
)

const token = "IGQVJsecretinstagramtoken456"

var liveDir = filepath.Join("..", "..", "..", "testdata", "collect", "instagram", "live")

func brigade() archive.Account {
	return archive.Account{Platform: Platform, Handle: "3rd.brigade", ID: "17841400000000001"}
}

func newServer(t *testing.T) *graphtest.Server {
	s := graphtest.New(t, liveDir)
	s.Token = token
	s.SetRun("run1")
	return s
}

func collectMem(t *testing.T, s *graphtest.Server, full bool) (*collect.MemorySink, error) {
	t.Helper()
	job := s.Job(brigade(), token)
	job.Full = full
	sink := collect.NewMemorySink()
	job.Sink = sink
	err := New().Collect(context.Background(), &job)
	return sink, err
}

func ids(sink *collect.MemorySink) []string {
	var out []string
	for _, it := range sink.Items {
		out = append(out, it.ID)
	}
	return out
}

func TestCollectFull(t *testing.T) {
	s := newServer(t)
	sink, err := collectMem(t, s, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(sink.Bads) > 0 {
		t.Fatalf("bads %v", sink.Bads)
	}
	want := []string{"17900000000000001", "17850000000000001", "17850000000000002", "17850000000000005", "17850000000000003", "17850000000000004", "17900000000000002", "17900000000000003", "17850000000000006"}
	if got := ids(sink); !slices.Equal(got, want) {
		t.Fatalf("items %v\nwant %v", got, want)
	}
	post := sink.Item("17900000000000001")
	if post.Kind != "post" || post.CreatedAt != "2024-01-15T14:00:00Z" || post.URL != "https://www.instagram.com/p/C2abcDEFghi/" || post.Author == nil || post.Author.Handle != "3rd.brigade" {
		t.Errorf("post %+v", post)
	}
	if !slices.Equal(post.Hashtags, []string{"parade", "3CDN"}) || !slices.Equal(post.Mentions, []string{"cityofexample"}) {
		t.Errorf("hashtags %q mentions %q", post.Hashtags, post.Mentions)
	}
	if len(post.Media) != 2 || post.Media[0].URL != "https://scontent-iad3-1.cdninstagram.com/v/t51.29350-15/carousel1.jpg" || post.Media[0].Digest == "" || post.Media[1].Digest == "" {
		t.Errorf("carousel media %+v", post.Media)
	}
	reel := sink.Item("17900000000000002")
	if reel.Kind != "reel" || len(reel.Media) != 1 || reel.Media[0].Type != "video" || reel.Media[0].Digest == "" {
		t.Errorf("reel %+v", reel)
	}
	old := sink.Item("17900000000000003")
	if old.Author != nil || old.Kind != "post" || len(old.Media) != 1 {
		t.Errorf("older media without username: %+v", old)
	}
	c, reply, more, hidden := sink.Item("17850000000000001"), sink.Item("17850000000000002"), sink.Item("17850000000000005"), sink.Item("17850000000000003")
	if c.Kind != "comment" || c.Parent != "17900000000000001" || c.Thread != "17900000000000001" || c.Author.ID != "17841400000009001" || c.Author.Handle != "jane.public" {
		t.Errorf("comment %+v", c)
	}
	for _, r := range []*archive.Item{reply, more} {
		if r.Kind != "reply" || r.Parent != "17850000000000001" || r.Thread != "17900000000000001" {
			t.Errorf("reply %+v", r)
		}
	}
	if hidden.Visibility != "hidden" {
		t.Errorf("hidden comment %+v", hidden)
	}
	if oc := sink.Item("17850000000000006"); oc.Author.Handle != "old.follower" || oc.Author.ID != "" || oc.Text != "Great day à la base!" {
		t.Errorf("older comment %+v", oc)
	}
	if sink.Scope == nil || sink.Scope.Account != "instagram/3rd.brigade" {
		t.Errorf("scope %+v", sink.Scope)
	}
	for i, o := range sink.Opts {
		var v any
		if err := json.Unmarshal(sink.Raws[*o.Raw], &v); err != nil {
			t.Fatal(err)
		}
		for _, p := range strings.Split(strings.TrimPrefix(o.RawPath, "/"), "/") {
			switch x := v.(type) {
			case map[string]any:
				v = x[p]
			case []any:
				var k int
				json.Unmarshal([]byte(p), &k)
				v = x[k]
			}
		}
		if m, _ := v.(map[string]any); m["id"] != sink.Items[i].ID {
			t.Errorf("%s: pointer %s is %v", sink.Items[i].ID, o.RawPath, v)
		}
	}
	for i, r := range s.Requests() {
		if strings.Contains(r, "/media/") && !strings.Contains(r, "/v19.0/") {
			continue
		}
		if s.Auth()[i] != "Bearer "+token || strings.Contains(r, token) {
			t.Errorf("request %s: %q", r, s.Auth()[i])
		}
	}
}

func TestEditAndRemovalAcrossCompleteRuns(t *testing.T) {
	a, _, clock := archivetest.New(t)
	s := newServer(t)
	job := s.Job(brigade(), token)
	job.Full = true
	if r := graphtest.RunInto(t, a, New(), job); r.Err != nil || !r.Complete {
		t.Fatalf("run 1: %v %v", r.Err, r.Bads)
	}
	clock.Advance(24 * 3600e9)
	s.SetRun("run2", "run1")
	r2 := graphtest.RunInto(t, a, New(), job)
	if r2.Err != nil || !r2.Complete || r2.NewVersions != 1 {
		t.Fatalf("run 2: %v, complete %v, %d new versions", r2.Err, r2.Complete, r2.NewVersions)
	}
	ctx := context.Background()
	key := func(id string) string { return archive.ItemKey(Platform, "3rd.brigade", id) }
	post, err := a.Show(ctx, key("17900000000000001"))
	if err != nil || len(post.Versions) != 2 {
		t.Fatalf("edited post: %v, %d versions", err, len(post.Versions))
	}
	gone, err := a.Show(ctx, key("17850000000000003"))
	if err != nil || gone.RemovedAt == nil || gone.Versions[0].Item.Visibility != "hidden" {
		t.Fatalf("removed hidden comment: %v %+v", err, gone.Item)
	}
	for _, id := range []string{"17850000000000001", "17850000000000002", "17850000000000004", "17850000000000005", "17900000000000002"} {
		d, err := a.Show(ctx, key(id))
		if err != nil || d.RemovedAt != nil || len(d.Versions) != 1 {
			t.Errorf("%s: %v, removed %v, %d versions", id, err, d.RemovedAt, len(d.Versions))
		}
	}
}

func TestFaults(t *testing.T) {
	for _, tc := range []struct {
		name   string
		route  string
		faults []graphtest.Fault
		err    error
		items  int
	}{
		{"rate limit code 4 once", "17900000000000001_comments", []graphtest.Fault{graphtest.RateLimited(4)}, nil, 9},
		{"HTTP 429 once", "17841400000000001_media", []graphtest.Fault{graphtest.TooMany()}, nil, 9},
		{"5xx then success", "17841400000000001_media_after_M2", []graphtest.Fault{graphtest.Unavailable(), graphtest.Unavailable()}, nil, 9},
		{"rate limit code 613 always", "17900000000000001_comments", repeat(graphtest.RateLimited(613), 20), collect.ErrRateLimited, 1},
		{"HTTP 429 always", "17841400000000001_media_after_M2", repeat(graphtest.TooMany(), 20), collect.ErrRateLimited, 7},
		{"expired token", "17850000000000001_replies_after_R2", []graphtest.Fault{graphtest.Expired()}, collect.ErrAuth, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t)
			s.Fault(tc.route, tc.faults...)
			sink, err := collectMem(t, s, true)
			if tc.err == nil {
				if err != nil || sink.Scope == nil {
					t.Fatalf("err %v, complete %v", err, sink.Scope != nil)
				}
			} else {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				if sink.Scope != nil || sink.State != nil {
					t.Error("a run cut short is not complete and keeps its old state")
				}
				if strings.Contains(err.Error(), token) {
					t.Error("token in the error")
				}
			}
			if len(sink.Items) != tc.items {
				t.Errorf("%d items, want %d", len(sink.Items), tc.items)
			}
		})
	}
}

func repeat(f graphtest.Fault, n int) []graphtest.Fault {
	out := make([]graphtest.Fault, n)
	for i := range out {
		out[i] = f
	}
	return out
}

func TestMalformedPage(t *testing.T) {
	a, _, _ := archivetest.New(t)
	s := newServer(t)
	s.Fault("17841400000000001_media_after_M2", graphtest.Fault{Status: 200, Body: `{"data":[{"id":"17900000000000003","caption":"Open hou`})
	job := s.Job(brigade(), token)
	job.Full = true
	r := graphtest.RunInto(t, a, New(), job)
	if !errors.Is(r.Err, collect.ErrMalformed) || r.Complete || len(r.Bads) != 1 {
		t.Fatalf("err %v, complete %v, bads %v", r.Err, r.Complete, r.Bads)
	}
	if b := r.Bads[0].Error(); !strings.Contains(b, "/17841400000000001/media?") || !strings.Contains(b, "after=M2") || !strings.Contains(b, "truncated") {
		t.Errorf("bad record %q", b)
	}
	if r.Items != 7 {
		t.Errorf("%d items kept, want 7", r.Items)
	}
	// A malformed replies page: reported, the run goes on.
	s = newServer(t)
	s.Fault("17850000000000001_replies_after_R2", graphtest.Fault{Status: 200, Body: `{"data": "nope"}`})
	sink, err := collectMem(t, s, true)
	if err != nil || len(sink.Bads) != 1 || sink.Scope != nil || len(sink.Items) != 8 {
		t.Fatalf("err %v, bads %v, %d items", err, sink.Bads, len(sink.Items))
	}
}

func TestIncrementalAndNoUserID(t *testing.T) {
	s := newServer(t)
	job := s.Job(brigade(), token)
	job.State = json.RawMessage(`{"newest":"2024-01-15T14:00:00Z"}`)
	sink := collect.NewMemorySink()
	job.Sink = sink
	if err := New().Collect(context.Background(), &job); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.Requests()[0], "since=1704722400") || sink.Scope != nil {
		t.Errorf("request %s, complete %v", s.Requests()[0], sink.Scope != nil)
	}
	if sink.Item("17900000000000003") != nil {
		t.Error("media older than the lookback listed by an incremental run")
	}
	job = s.Job(archive.Account{Platform: Platform, Handle: "3rd.brigade"}, token)
	job.Sink = collect.NewMemorySink()
	if err := New().Collect(context.Background(), &job); !errors.Is(err, ErrNoUserID) {
		t.Errorf("err %v", err)
	}
}

func TestMediaFailureAndEcho(t *testing.T) {
	s := newServer(t)
	s.Echo = token
	s.Fault("media_reel.mp4", graphtest.Fault{Status: 200, Body: "<html>not a video</html>", Header: map[string]string{"Content-Type": "video/mp4"}})
	sink, err := collectMem(t, s, true)
	if err != nil || len(sink.Bads) != 1 || sink.Scope != nil || len(sink.Items) != 9 {
		t.Fatalf("err %v, bads %v, %d items", err, sink.Bads, len(sink.Items))
	}
	for _, raw := range sink.Raws {
		if bytes.Contains(raw, []byte(token)) {
			t.Fatal("the token reached the store")
		}
	}
}
