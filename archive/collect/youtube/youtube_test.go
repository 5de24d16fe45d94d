package youtube

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/collect"
)

func TestCollectFull(t *testing.T) {
	srv := newYTServer(t)
	sink := collect.NewMemorySink()
	if err := New().Collect(context.Background(), srv.job(sink, nil, true)); err != nil {
		t.Fatal(err)
	}
	if len(sink.Bads) > 0 {
		t.Fatalf("bad:\n%s", badText(sink))
	}
	checkRaw(t, sink)
	items := byID(sink)
	if len(items) != 17 || len(sink.Items) != 17 {
		t.Fatalf("%d items (%d recorded), want 17: 3 videos, 4 comments, 10 replies", len(items), len(sink.Items))
	}
	vid := items[v1][0]
	if vid.Kind != "video" || vid.Text != "Winter storm briefing, February 20\n\nThe mayor's briefing on the winter storm.\n\nShelters: https://example.gov/shelters\n#WinterStorm #CityOfExample" {
		t.Errorf("video %+v", vid)
	}
	if vid.Lang != "en" || vid.CreatedAt != "2026-02-20T15:00:00Z" || vid.URL != "https://www.youtube.com/watch?v="+v1 || vid.Author.ID != fxChannel || vid.Author.Name != "City of Example" {
		t.Errorf("video fields %+v %+v", vid, vid.Author)
	}
	if !slices.Equal(vid.Links, []string{"https://example.gov/shelters"}) || !slices.Equal(vid.Hashtags, []string{"WinterStorm", "CityOfExample"}) {
		t.Errorf("video links %v hashtags %v", vid.Links, vid.Hashtags)
	}
	thumb := archive.Sum(readFixture(t, "api", "thumbnail.jpg")).String()
	if len(vid.Media) != 1 || vid.Media[0].URL != "https://i.ytimg.com/vi/"+v1+"/maxresdefault.jpg" || vid.Media[0].Digest != thumb {
		t.Errorf("video media %+v", vid.Media)
	}
	if items[v2][0].Lang != "fr-ca" || items[v3][0].Lang != "" || items[v3][0].Media[0].URL != "https://i.ytimg.com/vi/"+v3+"/hqdefault.jpg" {
		t.Errorf("V2 lang %q, V3 lang %q media %v", items[v2][0].Lang, items[v3][0].Lang, items[v3][0].Media)
	}
	com := items[c1][0]
	if com.Kind != "comment" || com.Parent != v1 || com.Thread != c1 || com.URL != "https://www.youtube.com/watch?v="+v1+"&lc="+c1 || com.Author.Handle != "resident_one" || com.EditedAt != "" {
		t.Errorf("comment %+v", com)
	}
	if e := items[c2][0]; e.EditedAt != "2026-02-20T18:05:00Z" {
		t.Errorf("edited comment: edited_at %q", e.EditedAt)
	}
	if a := items[c3][0].Author; a.Name != "Old Style Name" || a.Handle != "" {
		t.Errorf("author without an @handle: %+v", a)
	}
	rep := items[r11][0]
	if rep.Kind != "reply" || rep.Parent != c1 || rep.Thread != c1 || rep.Author.Handle != fxHandle || !slices.Equal(rep.Links, []string{"https://example.gov/shelters/elm"}) {
		t.Errorf("reply %+v", rep)
	}
	if len(items[r26]) != 1 || items[r26][0].Parent != c2 {
		t.Error("the replies past the five of the thread were not read")
	}
	for i, it := range sink.Items {
		o := sink.Opts[i]
		if strings.Contains(o.Source, fxKey) {
			t.Fatalf("the API key is in a source: %s", o.Source)
		}
		if it.ID == v1 && !strings.Contains(string(o.Metrics), `"view_count":1500`) {
			t.Errorf("video metrics %s", o.Metrics)
		}
		if it.ID == c2 && string(o.Metrics) != `{"like_count":12,"reply_count":7}` {
			t.Errorf("comment metrics %s", o.Metrics)
		}
	}
	if sink.Scope == nil || sink.Scope.Account != "youtube/"+fxHandle {
		t.Errorf("scope %+v", sink.Scope)
	}
	var st State
	if err := json.Unmarshal(sink.State, &st); err != nil || st.Uploads != "UUcityofexample000000001" || len(st.Recent) != 1 || st.Recent[0].ID != v1 {
		t.Errorf("state %s", sink.State)
	}
	reqs := srv.requests()
	for _, want := range []string{"key=" + fxKey, "pageToken=EAAaBlBUOkNESQ", "id=" + v1 + "%2C" + v2 + "%2C" + v3, "textFormat=plainText", "parentId=" + c2, "pageToken=R0FJU1ZFVkVZQ"} {
		if !strings.Contains(reqs, want) {
			t.Errorf("no request with %q:\n%s", want, reqs)
		}
	}
}

func captureRun(t *testing.T, a *archive.Archive, job *collect.Job) (archive.IngestResult, error) {
	t.Helper()
	ctx := context.Background()
	w, err := a.BeginCapture(ctx, archive.CaptureOptions{Collector: "youtube", Account: job.Account.Key})
	if err != nil {
		t.Fatal(err)
	}
	job.Sink = collect.CaptureSink{CaptureWriter: w}
	cerr := New().Collect(ctx, job)
	res, err := w.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return res, cerr
}

func TestCollectTwiceEditAndRemoval(t *testing.T) {
	a, _, _ := archivetest.New(t)
	srv := newYTServer(t)
	res, err := captureRun(t, a, srv.job(nil, nil, true))
	if err != nil || !res.Complete || res.NewVersions != 17 {
		t.Fatalf("first run %+v, %v", res, err)
	}
	srv.threadV1 = "threads-v1-1-second.json" // C1 edited, R12 removed
	res, err = captureRun(t, a, srv.job(nil, nil, true))
	if err != nil || !res.Complete || res.NewVersions != 1 || res.Removed != 1 {
		t.Fatalf("second run %+v, %v: want one edit and one removal", res, err)
	}
	ctx := context.Background()
	d, err := a.Show(ctx, archive.ItemKey(Platform, fxHandle, r12))
	if err != nil || d.RemovedAt == nil {
		t.Errorf("removed reply: %v, removed %v", err, d.RemovedAt)
	}
	d, err = a.Show(ctx, archive.ItemKey(Platform, fxHandle, c1))
	if err != nil || len(d.Versions) != 2 || d.Versions[1].Item.EditedAt != "2026-02-21T08:00:00Z" || !strings.Contains(d.Versions[1].Item.Text, "and tomorrow") {
		t.Errorf("edited comment: %v %+v", err, d.Versions)
	}
}

func TestCollectQuotaExceeded(t *testing.T) {
	srv := newYTServer(t)
	srv.fail["/commentThreads"] = []string{"error-quota.json"}
	sink := collect.NewMemorySink()
	err := New().Collect(context.Background(), srv.job(sink, nil, true))
	if !errors.Is(err, collect.ErrRateLimited) || !strings.Contains(err.Error(), "quotaExceeded") {
		t.Fatalf("err %v, want ErrRateLimited", err)
	}
	if strings.Contains(err.Error(), fxKey) {
		t.Errorf("the key is in the error: %v", err)
	}
	if sink.Scope != nil || sink.State != nil || len(byID(sink)) != 3 {
		t.Errorf("scope %v, %d items: want the videos kept, nothing complete", sink.Scope, len(byID(sink)))
	}
}

func TestCollectRetries(t *testing.T) {
	srv := newYTServer(t)
	srv.fail["/videos"] = []string{"503", "503"}
	srv.fail["/playlistItems"] = []string{"429"}
	sink := collect.NewMemorySink()
	if err := New().Collect(context.Background(), srv.job(sink, nil, true)); err != nil {
		t.Fatal(err)
	}
	if sink.Scope == nil || len(byID(sink)) != 17 {
		t.Errorf("after 5xx and 429: scope %v, %d items", sink.Scope, len(byID(sink)))
	}
}

func TestCollectExpiredToken(t *testing.T) {
	a, _, _ := archivetest.New(t)
	srv := newYTServer(t)
	srv.bearer = "a-fresh-token"
	job := srv.job(nil, nil, true)
	job.Secret = fxBearer
	res, err := captureRun(t, a, job)
	if !errors.Is(err, collect.ErrAuth) || strings.Contains(err.Error(), fxBearer) {
		t.Fatalf("err %v, want ErrAuth without the token", err)
	}
	if res.Complete || res.Items != 0 {
		t.Errorf("capture %+v", res)
	}
}

func TestCollectMediaFailure(t *testing.T) {
	a, _, _ := archivetest.New(t)
	srv := newYTServer(t)
	srv.noThumbs = true
	res, err := captureRun(t, a, srv.job(nil, nil, true))
	if err != nil || !res.Complete || res.MediaErrors != 3 || res.Errors != 0 || res.Items != 17 {
		t.Errorf("capture %+v, %v: want the videos kept and the listing complete", res, err)
	}
}

func TestCollectBearerAndHandle(t *testing.T) {
	srv := newYTServer(t)
	sink := collect.NewMemorySink()
	job := srv.job(sink, nil, true)
	job.Secret, job.Account.ID = "bearer:"+fxBearer, ""
	if err := New().Collect(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	reqs := srv.requests()
	if strings.Contains(reqs, "key=") || !strings.Contains(reqs, "forHandle=%40"+fxHandle) || len(byID(sink)) != 17 {
		t.Errorf("bearer run: %d items\n%s", len(byID(sink)), reqs)
	}
}

func TestCollectMalformedPage(t *testing.T) {
	srv := newYTServer(t)
	srv.threadV3 = "threads-v3-truncated.json"
	sink := collect.NewMemorySink()
	err := New().Collect(context.Background(), srv.job(sink, nil, true))
	if !errors.Is(err, collect.ErrMalformed) {
		t.Fatalf("err %v", err)
	}
	if len(sink.Bads) != 1 || !strings.Contains(sink.Bads[0].Source, "/commentThreads?") || !strings.Contains(sink.Bads[0].Source, "videoId="+v3) ||
		strings.Contains(sink.Bads[0].Error(), fxKey) || !strings.Contains(sink.Bads[0].Error(), "truncated") {
		t.Errorf("bad:\n%s", badText(sink))
	}
	if sink.Scope != nil || len(byID(sink)) != 15 {
		t.Errorf("scope %v, %d items: want all but V3's comment and reply", sink.Scope, len(byID(sink)))
	}
	a, _, _ := archivetest.New(t)
	res, err := captureRun(t, a, srv.job(nil, nil, true))
	if !errors.Is(err, collect.ErrMalformed) || res.Complete || res.Errors != 1 {
		t.Errorf("into an archive: %+v, %v", res, err)
	}
}

func TestCollectIncremental(t *testing.T) {
	srv := newYTServer(t)
	first := collect.NewMemorySink()
	if err := New().Collect(context.Background(), srv.job(first, nil, true)); err != nil {
		t.Fatal(err)
	}
	n := len(strings.Split(srv.requests(), "\n"))
	sink := collect.NewMemorySink()
	if err := New().Collect(context.Background(), srv.job(sink, first.State, false)); err != nil {
		t.Fatal(err)
	}
	reqs := strings.Join(strings.Split(srv.requests(), "\n")[n:], "\n")
	if strings.Contains(reqs, "videoId="+v3) || strings.Contains(reqs, "videoId="+v2) || !strings.Contains(reqs, "videoId="+v1) {
		t.Errorf("incremental run read old videos' comments:\n%s", reqs)
	}
	if sink.Scope != nil {
		t.Error("an incremental run said it was complete")
	}
	if len(byID(sink)[r26]) != 1 {
		t.Error("the recent video's comments were not read")
	}
}

func TestAPIImportMatchesCollector(t *testing.T) {
	srv := newYTServer(t)
	live := collect.NewMemorySink()
	job := srv.job(live, nil, true)
	job.Media = false
	if err := New().Collect(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	saved := collect.NewMemorySink()
	src := collect.Source{Name: "saved/responses.jsonl", FS: os.DirFS(fixture("saved")), Path: "responses.jsonl"}
	if err := NewAPIImporter().Import(context.Background(), src, archive.Account{Platform: Platform, Handle: fxHandle}, saved); err != nil {
		t.Fatal(err)
	}
	if len(saved.Bads) > 0 {
		t.Fatalf("bad:\n%s", badText(saved))
	}
	checkRaw(t, saved)
	set := func(s *collect.MemorySink) []string {
		var out []string
		for _, it := range s.Items {
			c, _ := it.CanonicalJSON()
			out = append(out, string(c))
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	if a, b := set(live), set(saved); !slices.Equal(a, b) {
		t.Errorf("the saved responses and the collector differ: %d and %d versions", len(a), len(b))
	}
}

func TestAPIImportPlaylistAndBadLines(t *testing.T) {
	saved := os.DirFS(fixture("saved"))
	acct := archive.Account{Platform: Platform, Handle: fxHandle}
	sink := collect.NewMemorySink()
	if err := NewAPIImporter().Import(context.Background(), collect.Source{Name: "playlist.json", FS: saved, Path: "playlist.json"}, acct, sink); err != nil {
		t.Fatal(err)
	}
	if len(sink.Items) != 2 || sink.Items[0].ID != v1 || sink.Items[0].Kind != "video" || sink.Items[0].CreatedAt != "2026-02-20T15:00:00Z" || sink.Items[0].Lang != "" {
		t.Errorf("playlist items %+v", sink.Items)
	}
	sink = collect.NewMemorySink()
	if err := NewAPIImporter().Import(context.Background(), collect.Source{Name: "bad.jsonl", FS: saved, Path: "bad.jsonl"}, acct, sink); err != nil {
		t.Fatal(err)
	}
	got := badText(sink)
	if len(sink.Bads) != 2 || !strings.Contains(got, "bad.jsonl:2: truncated JSON") || !strings.Contains(got, "bad.jsonl:3: an error response") {
		t.Errorf("bad:\n%s", got)
	}
	if items := byID(sink); len(items[v1]) != 1 || len(items[c4]) != 1 || len(items[c1]) != 0 {
		t.Errorf("want lines 1 and 4 kept: %d items", len(items))
	}
}

func TestSniff(t *testing.T) {
	saved := os.DirFS(fixture("saved"))
	for name, want := range map[string]bool{"responses.jsonl": true, "playlist.json": true, "bad.jsonl": true} {
		if got := NewAPIImporter().Sniff(collect.Source{Name: name, FS: saved, Path: name}); got != want {
			t.Errorf("%s: %v", name, got)
		}
	}
	x := os.DirFS(fixture("..", "x", "saved"))
	if NewAPIImporter().Sniff(collect.Source{Name: "twarc2.jsonl", FS: x, Path: "twarc2.jsonl"}) {
		t.Error("an X page sniffed as YouTube")
	}
}

func FuzzParseList(f *testing.F) {
	for _, n := range []string{"videos.json", "threads-v1-1.json", "comments-c2-1.json", "playlistItems-1.json", "error-quota.json", "threads-v3-truncated.json"} {
		f.Add(readFixture(f, "api", n))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		sink := collect.NewMemorySink()
		err := importPage(context.Background(), in, "fuzz", 1, "1-1", archive.Account{Platform: Platform, Handle: "h"}, sink)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(sink.Raws[archive.Sum(in)], in) {
			t.Fatal("the page was not kept byte for byte")
		}
	})
}

// TestAPIImportUnavailableVideos: a saved playlist page's "Deleted video"
// and "Private video" placeholders are no versions of those videos (they
// would replace what the videos said); the page is still kept whole.
func TestAPIImportUnavailableVideos(t *testing.T) {
	saved := os.DirFS(fixture("saved"))
	sink := collect.NewMemorySink()
	src := collect.Source{Name: "playlist-unavailable.json", FS: saved, Path: "playlist-unavailable.json"}
	if err := NewAPIImporter().Import(context.Background(), src, archive.Account{Platform: Platform, Handle: fxHandle}, sink); err != nil {
		t.Fatal(err)
	}
	if len(sink.Bads) != 0 || len(sink.Items) != 1 || sink.Items[0].ID != v1 {
		t.Fatalf("items %+v, bad:\n%s", sink.Items, badText(sink))
	}
	if len(sink.Raws) != 1 {
		t.Errorf("%d raw pages kept, want the one", len(sink.Raws))
	}
}
