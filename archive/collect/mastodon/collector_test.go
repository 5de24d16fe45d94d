package mastodon

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/fixture"
)

const (
	acctID    = "109302"
	statusesP = "/api/v1/accounts/109302/statuses"
	id1       = "110000000000000001"
	id2       = "110000000000000002"
	id3       = "110000000000000003"
	id4       = "110000000000000004"
	id5       = "110000000000000005"
)

var pngBytes = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"

func link(maxID, minID string) map[string]string {
	return map[string]string{"Link": `<{{BASE}}` + statusesP + `?limit=40&max_id=` + maxID + `>; rel="next", <{{BASE}}` + statusesP + `?limit=40&min_id=` + minID + `>; rel="prev"`}
}

// serve sets up the instance as the fixtures describe it.
func serve(t *testing.T) *fixture.Server {
	t.Helper()
	s := fixture.NewServer(t, fixture.Dir(t, "mastodon"))
	s.Handle(statusesP+"?limit=40", fixture.Route{File: "statuses-page1.json", Header: link(id3, id5)})
	s.Handle(statusesP+"?limit=40&max_id="+id3, fixture.Route{File: "statuses-page2.json", Header: link(id1, id2)})
	s.Handle(statusesP+"?limit=40&max_id="+id1, fixture.Route{Body: "[]"})
	s.Handle("/api/v1/accounts/lookup?acct=cityofexample", fixture.Route{File: "account-lookup.json"})
	s.Handle("/api/v1/statuses/"+id4+"/history", fixture.Route{File: "history-4.json"})
	s.Handle("/api/v1/statuses/"+id4+"/context", fixture.Route{File: "context-4.json"})
	s.Handle("/api/v1/statuses/"+id3+"/context", fixture.Route{Body: `{"ancestors":[],"descendants":[]}`})
	s.Handle("/api/v1/statuses/"+id2+"/context", fixture.Route{File: "context-2.json"})
	s.Handle("/api/v1/statuses/"+id1+"/context", fixture.Route{File: "context-1.json"})
	s.Handle("/api/v1/statuses/110000000000000012/history", fixture.Route{File: "history-12.json"})
	s.Handle("/media/closures.png", fixture.Route{Body: pngBytes, Header: map[string]string{"Content-Type": "image/png"}})
	s.Handle("/media/horaires.jpg", fixture.Route{Body: "\xff\xd8\xff\xe0 not really a jpeg", Header: map[string]string{"Content-Type": "image/jpeg"}})
	return s
}

func newJob(t *testing.T, s *fixture.Server, full bool) (*collect.Job, *fixture.Sleeps) {
	c, sl := fixture.Client(t)
	acct := fixture.Account(Platform, "cityofexample", acctID, s.URL)
	return &collect.Job{Account: acct, Secret: "s3cret-token", Full: full, HTTP: c}, sl
}

func TestCollectFull(t *testing.T) {
	s := serve(t)
	a, _, _ := archivetest.New(t)
	job, _ := newJob(t, s, true)
	res, err := fixture.RunInto(t, a, New(), job)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Complete || res.Errors != 0 {
		t.Fatalf("want a complete capture without errors, got %+v", res)
	}
	for _, r := range s.Requests() {
		if r.Authorization != "Bearer s3cret-token" {
			t.Errorf("%s sent without the token: %q", r.Key, r.Authorization)
		}
	}
	ctx := context.Background()
	want := map[string]struct {
		kind, text string
		versions   int
	}{
		id5:                  {"boost", "Flood watch for the river valley until Sunday. #Flood", 1},
		id4:                  {"post", "Road closures this weekend: Main St & 5th Ave from 7am to 6pm. Details: https://example.gov/roads/closures\n\nThanks to @buses for the detours. #RoadWorks #Example", 2},
		id3:                  {"post", "CW: Survey & results\n\nWhich day should the recycling centre open late?\nVote below — it's open until Friday <3\n\nPoll:\n- Tuesday\n- Thursday", 1},
		id2:                  {"reply", "@buses Thank you! The detour signs go up Friday.", 1},
		id1:                  {"post", "Heures d'ouverture de la bibliothèque pendant les fêtes\u00a0: voir https://example.gov/biblio", 1},
		"110000000000000010": {"reply", "@cityofexample Will the 12 bus still stop at 5th?", 1},
		"110000000000000011": {"reply", "@jo @cityofexample nobody rides the 12 anyway", 1},
		"110000000000000012": {"reply", "Merci\u00a0! Et le 26 décembre\u202f?", 2},
	}
	n := 0
	for ci, err := range a.List(archive.ListFilter{Platform: Platform}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		w, ok := want[ci.ID]
		if !ok {
			t.Errorf("unexpected item %s", ci.Key)
			continue
		}
		d, err := a.Show(ctx, ci.Key)
		if err != nil {
			t.Fatal(err)
		}
		latest := d.Versions[len(d.Versions)-1].Item
		if latest.Kind != w.kind || latest.Text != w.text || len(d.Versions) != w.versions {
			t.Errorf("%s: got kind %q, %d versions, text\n%q\nwant kind %q, %d versions, text\n%q", ci.ID, latest.Kind, len(d.Versions), latest.Text, w.kind, w.versions, w.text)
		}
		if latest.Account != "cityofexample" || latest.Platform != "mastodon" {
			t.Errorf("%s: account %q platform %q", ci.ID, latest.Account, latest.Platform)
		}
		if len(d.Sightings) == 0 || d.Sightings[0].Raw == "" {
			t.Errorf("%s: no raw response named", ci.ID)
		}
	}
	if n != len(want) {
		t.Errorf("got %d items, want %d", n, len(want))
	}

	// The edited post: the original first, then the edit.
	d, _ := a.Show(ctx, archive.ItemKey("mastodon", "cityofexample", id4))
	orig, cur := d.Versions[0].Item, d.Versions[1].Item
	if orig.EditedAt != "" || !strings.Contains(orig.Text, "Main St from 7am") || len(orig.Media) != 0 || strings.Join(orig.Hashtags, ",") != "roadworks" || orig.Mentions != nil {
		t.Errorf("original version: %+v", orig)
	}
	if cur.EditedAt != "2026-02-18T10:15:00Z" || strings.Join(cur.Hashtags, ",") != "roadworks,example" || strings.Join(cur.Mentions, ",") != "buses@transit.example" ||
		strings.Join(cur.Links, ",") != "https://example.gov/roads/closures" || len(cur.Media) != 1 || cur.Media[0].Alt == "" || cur.Lang != "en" {
		t.Errorf("current version: %+v", cur)
	}
	var m map[string]int
	json.Unmarshal(d.Sightings[len(d.Sightings)-1].Metrics, &m)
	if m["replies_count"] != 2 || m["reblogs_count"] != 12 || m["favourites_count"] != 30 {
		t.Errorf("metrics %v", m)
	}
	// The boost carries the original.
	b, _ := a.Show(ctx, archive.ItemKey("mastodon", "cityofexample", id5))
	bi := b.Versions[0].Item
	if bi.Parent != "110000000000000900" || bi.Author.Handle != "forecast@weather.example" || bi.URL != "https://weather.example/@forecast/111900" || bi.CreatedAt != "2026-02-20T16:00:00Z" {
		t.Errorf("boost %+v", bi)
	}
	// A reply by someone else names its parent.
	r, _ := a.Show(ctx, archive.ItemKey("mastodon", "cityofexample", "110000000000000011"))
	if ri := r.Versions[0].Item; ri.Parent != "110000000000000010" || ri.Author.Handle != "troll" {
		t.Errorf("reply %+v", ri)
	}
	st, _ := a.LastState(job.Account.Key, Platform)
	if !strings.Contains(string(st), id5) {
		t.Errorf("state %s", st)
	}
}

func TestRemovedReplyInCompleteRun(t *testing.T) {
	s := serve(t)
	a, _, clock := archivetest.New(t)
	job, _ := newJob(t, s, true)
	if _, err := fixture.RunInto(t, a, New(), job); err != nil {
		t.Fatal(err)
	}
	key := archive.ItemKey("mastodon", "cityofexample", "110000000000000011")
	ctx := context.Background()
	if d, _ := a.Show(ctx, key); d.RemovedAt != nil {
		t.Fatal("removed after the first run")
	}
	// A moderator removed the reply.
	clock.Advance(3600e9)
	s.Handle("/api/v1/statuses/"+id4+"/context", fixture.Route{File: "context-4-moderated.json"})
	job2, _ := newJob(t, s, true)
	res, err := fixture.RunInto(t, a, New(), job2)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Complete || res.Removed != 1 {
		t.Fatalf("second run: %+v", res)
	}
	d, err := a.Show(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if d.RemovedAt == nil || len(d.Versions) != 1 {
		t.Fatalf("removed reply: removed_at %v, %d versions", d.RemovedAt, len(d.Versions))
	}
	if d, _ := a.Show(ctx, archive.ItemKey("mastodon", "cityofexample", "110000000000000010")); d.RemovedAt != nil {
		t.Error("the reply still there was marked removed")
	}
	// A second identical run adds no version.
	if d, _ := a.Show(ctx, archive.ItemKey("mastodon", "cityofexample", id4)); len(d.Versions) != 2 {
		t.Errorf("edited post has %d versions after two runs", len(d.Versions))
	}
}

func TestIncrementalStopsAtLookback(t *testing.T) {
	s := serve(t)
	a, _, _ := archivetest.New(t)
	job, _ := newJob(t, s, false)
	job.State = json.RawMessage(`{"newest_id":"110000000000000005","newest_at":"2026-02-20T16:00:00Z"}`)
	res, err := fixture.RunInto(t, a, New(), job)
	if err != nil {
		t.Fatal(err)
	}
	if res.Complete {
		t.Error("an incremental run said it was complete")
	}
	if s.Hits(statusesP+"?limit=40&max_id="+id3) != 0 {
		t.Error("incremental run read past the lookback")
	}
	// Status 3 has no replies: its context is not asked for.
	if s.Hits("/api/v1/statuses/"+id3+"/context") != 0 {
		t.Error("asked for the replies of a status that has none")
	}
	if res.Items == 0 {
		t.Error("no items")
	}
}

func TestRateLimitAndServerError(t *testing.T) {
	s := serve(t)
	s.Handle(statusesP+"?limit=40",
		fixture.Route{Status: 429, Header: map[string]string{"Retry-After": "30", "X-RateLimit-Remaining": "0"}, Body: `{"error":"Too many requests"}`},
		fixture.Route{File: "statuses-page1.json", Header: link(id3, id5)})
	s.Handle("/api/v1/statuses/"+id4+"/context",
		fixture.Route{Status: 503, Body: "<html>Service Unavailable</html>", Header: map[string]string{"Content-Type": "text/html"}},
		fixture.Route{File: "context-4.json"})
	a, _, _ := archivetest.New(t)
	job, sleeps := newJob(t, s, true)
	res, err := fixture.RunInto(t, a, New(), job)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Complete {
		t.Errorf("retried run not complete: %+v", res)
	}
	if sleeps.Count() < 2 {
		t.Errorf("client waited %d times, want 2", sleeps.Count())
	}
}

func TestExpiredToken(t *testing.T) {
	s := serve(t)
	s.Handle(statusesP+"?limit=40", fixture.Route{Status: 401, Body: `{"error":"The access token is invalid"}`})
	a, _, _ := archivetest.New(t)
	job, _ := newJob(t, s, true)
	res, err := fixture.RunInto(t, a, New(), job)
	if !errors.Is(err, collect.ErrAuth) {
		t.Fatalf("want ErrAuth, got %v", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Error("the token is in the error")
	}
	if res.Complete || res.Items != 0 {
		t.Errorf("%+v", res)
	}
}

func TestMalformedPageKeepsTheRest(t *testing.T) {
	s := serve(t)
	s.Handle(statusesP+"?limit=40", fixture.Route{File: "statuses-page1-truncated.json", Header: link(id3, id5)})
	a, _, _ := archivetest.New(t)
	job, _ := newJob(t, s, true)
	var bads []string
	ctx := context.Background()
	w, err := a.BeginCapture(ctx, archive.CaptureOptions{Collector: Platform, Account: job.Account.Key, OnError: func(e *archive.InputError) { bads = append(bads, e.Error()) }})
	if err != nil {
		t.Fatal(err)
	}
	job.Sink = collect.CaptureSink{CaptureWriter: w}
	if err := New().Collect(ctx, job); err != nil {
		t.Fatal(err)
	}
	res, err := w.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Complete || res.Errors != 1 || len(bads) != 1 {
		t.Fatalf("want one error and an incomplete capture: %+v %q", res, bads)
	}
	if !strings.Contains(bads[0], "/statuses?limit=40") || !strings.Contains(bads[0], "page 1") || !strings.Contains(bads[0], "truncated") {
		t.Errorf("bad report does not say where and what: %s", bads[0])
	}
	// Page 2 and its replies are kept; no state is recorded.
	for _, id := range []string{id1, id2, "110000000000000012"} {
		if _, err := a.Show(ctx, archive.ItemKey("mastodon", "cityofexample", id)); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	if st, _ := a.LastState(job.Account.Key, Platform); st != nil {
		t.Errorf("state recorded after a bad page: %s", st)
	}
}

func TestMediaDownloads(t *testing.T) {
	s := serve(t)
	s.Handle("/media/horaires.jpg", fixture.Route{Status: 404, Body: "gone"})
	job, _ := newJob(t, s, true)
	job.Media = true
	sink := collect.NewMemorySink()
	job.Sink = sink
	if err := New().Collect(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	it := sink.Item(id4)
	if len(it.Media) != 1 || it.Media[0].Digest != archive.Sum([]byte(pngBytes)).String() {
		t.Errorf("media not downloaded: %+v", it.Media)
	}
	if len(sink.Media) != 1 {
		t.Errorf("media stored: %d", len(sink.Media))
	}
	if len(sink.Bads) != 1 || !strings.Contains(sink.Bads[0].Error(), "horaires.jpg") {
		t.Errorf("failed download not reported: %v", sink.Bads)
	}
	if it := sink.Item(id1); it == nil || it.Media[0].Digest != "" {
		t.Errorf("post with the failed media: %+v", it)
	}
	if sink.Scope != nil {
		t.Error("complete despite a failed download")
	}
}

func TestLookupAccountID(t *testing.T) {
	s := serve(t)
	job, _ := newJob(t, s, false)
	job.Account.ID = ""
	sink := collect.NewMemorySink()
	job.Sink = sink
	if err := New().Collect(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	if s.Hits("/api/v1/accounts/lookup?acct=cityofexample") != 1 || sink.Item(id5) == nil {
		t.Error("account id not looked up")
	}
}

func TestNoBaseURL(t *testing.T) {
	job := &collect.Job{Account: archive.Account{Key: "mastodon/someone", Platform: Platform, Handle: "someone"}}
	if err := New().Collect(context.Background(), job); err == nil || !strings.Contains(err.Error(), "base URL") {
		t.Errorf("got %v", err)
	}
	job.Account.Handle = "@someone@social.example"
	if b, _ := baseURL(job); b != "https://social.example" {
		t.Errorf("base from handle: %q", b)
	}
}

func TestParseLinks(t *testing.T) {
	got := ParseLinks([]string{`<https://m.example/api/v1/accounts/1/statuses?max_id=7>; rel="next", <https://m.example/api/v1/accounts/1/statuses?min_id=9>; rel="prev"`})
	if len(got) != 2 || got[0].Rel != "next" || !strings.HasSuffix(got[0].URL, "max_id=7") || got[1].Rel != "prev" {
		t.Errorf("%+v", got)
	}
}

func fixtureRoute(file string) fixture.Route { return fixture.Route{File: file} }
