package x

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/collect"
)

func TestCollectFull(t *testing.T) {
	srv := newXServer(t)
	sink := collect.NewMemorySink()
	if err := New().Collect(context.Background(), srv.job(sink, nil, true)); err != nil {
		t.Fatal(err)
	}
	if len(sink.Bads) > 0 {
		t.Fatalf("bad records:\n%s", badText(sink))
	}
	items := byID(sink)
	for _, id := range []string{idP1, idE1, idQ, idRT, idOR, idOLD, idR1, idR2, idR3} {
		if len(items[id]) == 0 {
			t.Errorf("item %s not recorded", id)
		}
	}
	if len(items) != 9 {
		t.Errorf("got %d items, want 9", len(items))
	}
	checkRaw(t, sink)

	p1 := items[idP1][0]
	if p1.Text != "Road closure on Main St & 5th Ave tonight from 8pm. Details: https://t.co/aaaa1111 #Roads @TransitAuthority https://t.co/pic11111" {
		t.Errorf("P1 text %q: want &amp; unescaped", p1.Text)
	}
	if p1.Kind != "post" || p1.CreatedAt != "2026-02-27T15:00:00Z" || p1.Lang != "en" || p1.Thread != "" {
		t.Errorf("P1 = %+v", p1)
	}
	if p1.Author == nil || p1.Author.ID != fxUserID || p1.Author.Handle != fxHandle {
		t.Errorf("P1 author %+v", p1.Author)
	}
	if !slices.Equal(p1.Links, []string{"https://example.gov/closures/main-5th"}) || !slices.Equal(p1.Hashtags, []string{"Roads"}) || !slices.Equal(p1.Mentions, []string{"TransitAuthority"}) {
		t.Errorf("P1 entities: links %v hashtags %v mentions %v", p1.Links, p1.Hashtags, p1.Mentions)
	}
	if len(p1.Media) != 1 || p1.Media[0].URL != "https://pbs.twimg.com/media/P1photo.jpg" || p1.Media[0].Type != "photo" || p1.Media[0].Alt != "Map of the closure" {
		t.Fatalf("P1 media %+v", p1.Media)
	}
	want := archive.Sum(readFixture(t, "api", "P1photo.jpg")).String()
	if p1.Media[0].Digest != want || len(sink.Media) != 1 {
		t.Errorf("P1 media digest %s (stored %d), want %s", p1.Media[0].Digest, len(sink.Media), want)
	}

	// The edit chain: one item, the first id, oldest version first.
	e := items[idE1]
	if len(e) != 2 || e[0].Text != "Council meeting moved to Thursday." || e[1].Text != "Council meeting moved to Thursday at 7pm." {
		t.Fatalf("edit chain %+v", e)
	}
	if e[0].EditedAt != "" || e[1].EditedAt != "2026-02-26T10:10:00Z" || e[0].CreatedAt != "2026-02-26T10:00:00Z" || e[1].CreatedAt != e[0].CreatedAt {
		t.Errorf("edit times: %s/%s then %s/%s", e[0].CreatedAt, e[0].EditedAt, e[1].CreatedAt, e[1].EditedAt)
	}
	if len(items[idE2]) != 0 {
		t.Error("the edited version became an item of its own")
	}

	for id, kind := range map[string]string{idQ: "quote", idRT: "retweet", idOR: "reply", idOLD: "post", idR1: "reply", idR2: "reply", idR3: "reply"} {
		if got := items[id][0].Kind; got != kind {
			t.Errorf("item %s kind %s, want %s", id, got, kind)
		}
	}
	if or := items[idOR][0]; or.Parent != idX99 || or.Thread != "" {
		t.Errorf("own reply: parent %s thread %s", or.Parent, or.Thread)
	}
	r2 := items[idR2][0]
	if r2.Text != "@alice_g @CityOfExample Yes, route 5 detours <via Elm>." || r2.Parent != idR1 || r2.Thread != idP1 || r2.Author.Handle != "bob_b" {
		t.Errorf("reply R2 %+v", r2)
	}
	if r3 := items[idR3][0]; r3.Thread != "" || r3.Author.Handle != fxHandle {
		t.Errorf("own reply in the thread: %+v", r3)
	}
	// Metrics are kept beside, not in the version.
	for i, it := range sink.Items {
		if it.ID == idP1 && !strings.Contains(string(sink.Opts[i].Metrics), `"like_count":10`) {
			t.Errorf("P1 metrics %s", sink.Opts[i].Metrics)
		}
	}

	if sink.Scope == nil || sink.Scope.Account != "x/"+fxHandle || !sink.Scope.Since.Equal(time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("scope %+v, want the account since the oldest tweet listed", sink.Scope)
	}
	var st State
	if err := json.Unmarshal(sink.State, &st); err != nil {
		t.Fatal(err)
	}
	if st.SinceID != idP1 || st.ReplySinceID != idR2 || len(st.Threads) != 3 || len(st.Notes) != 0 {
		t.Errorf("state %+v", st)
	}
	// The requests: fields, paging, the full-archive search.
	reqs := strings.Join(srv.requests(), "\n")
	for _, want := range []string{"pagination_token=" + nextP2, "tweet.fields=created_at%2Cauthor_id", "edit_history_tweet_ids", "/2/tweets?", "ids=" + idE1, "/2/tweets/search/all?", "conversation_id%3A" + idP1, "start_time="} {
		if !strings.Contains(reqs, want) {
			t.Errorf("no request with %q in\n%s", want, reqs)
		}
	}
}

// captureRun runs the collector as one capture of a.
func captureRun(t *testing.T, a *archive.Archive, job *collect.Job) (archive.IngestResult, error) {
	t.Helper()
	ctx := context.Background()
	w, err := a.BeginCapture(ctx, archive.CaptureOptions{Collector: "x", Account: job.Account.Key})
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

func TestCollectTwiceFindsRemovedReply(t *testing.T) {
	a, _, _ := archivetest.New(t)
	srv := newXServer(t)
	res, err := captureRun(t, a, srv.job(nil, nil, true))
	if err != nil || !res.Complete || res.Items != 10 || res.NewVersions != 10 {
		t.Fatalf("first run: %+v, %v", res, err)
	}
	srv.search = "search-2.json" // R2 was removed
	res, err = captureRun(t, a, srv.job(nil, nil, true))
	if err != nil || !res.Complete || res.NewVersions != 0 || res.Removed != 1 {
		t.Fatalf("second run: %+v, %v; want complete, nothing new, one removed", res, err)
	}
	ctx := context.Background()
	d, err := a.Show(ctx, archive.ItemKey(Platform, fxHandle, idR2))
	if err != nil {
		t.Fatal(err)
	}
	if d.RemovedAt == nil {
		t.Error("the removed reply is not marked removed at source")
	}
	d, err = a.Show(ctx, archive.ItemKey(Platform, fxHandle, idR1))
	if err != nil || d.RemovedAt != nil {
		t.Errorf("R1: %v removed %v", err, d.RemovedAt)
	}
	d, err = a.Show(ctx, archive.ItemKey(Platform, fxHandle, idE1))
	if err != nil || len(d.Versions) != 2 || d.Versions[1].Item.Text != "Council meeting moved to Thursday at 7pm." {
		t.Fatalf("edited item: %v %+v", err, d.Versions)
	}
}

func TestCollectRateLimitAndServerError(t *testing.T) {
	for _, status := range []int{429, 503} {
		srv := newXServer(t)
		srv.fail["/2/users/"+fxUserID+"/tweets"] = []int{status}
		srv.fail["/2/tweets/search/all"] = []int{status, status}
		sink := collect.NewMemorySink()
		if err := New().Collect(context.Background(), srv.job(sink, nil, true)); err != nil {
			t.Fatalf("HTTP %d: %v", status, err)
		}
		if sink.Scope == nil || len(sink.Bads) > 0 || len(byID(sink)) != 9 {
			t.Errorf("HTTP %d then success: scope %v, %d bad, %d items", status, sink.Scope, len(sink.Bads), len(byID(sink)))
		}
	}
}

func TestCollectExpiredToken(t *testing.T) {
	a, _, _ := archivetest.New(t)
	srv := newXServer(t)
	srv.allowed = "a-newer-token"
	res, err := captureRun(t, a, srv.job(nil, nil, true))
	if !errors.Is(err, collect.ErrAuth) {
		t.Fatalf("err %v, want ErrAuth", err)
	}
	if strings.Contains(err.Error(), fxToken) {
		t.Errorf("the error shows the token: %v", err)
	}
	if res.Complete || res.Items != 0 {
		t.Errorf("capture %+v, want nothing complete", res)
	}
	sink := collect.NewMemorySink()
	job := srv.job(sink, nil, true)
	job.Secret = ""
	if err := New().Collect(context.Background(), job); !errors.Is(err, collect.ErrAuth) || sink.Scope != nil {
		t.Errorf("no token: %v, scope %v", err, sink.Scope)
	}
}

func TestCollectMalformedPage(t *testing.T) {
	srv := newXServer(t)
	srv.pages[nextP2] = "timeline-2-truncated.json"
	sink := collect.NewMemorySink()
	err := New().Collect(context.Background(), srv.job(sink, nil, true))
	if !errors.Is(err, collect.ErrMalformed) {
		t.Fatalf("err %v, want ErrMalformed", err)
	}
	if sink.Scope != nil || sink.State != nil {
		t.Errorf("a run with a malformed page said it was complete (%v) or moved its state on", sink.Scope)
	}
	if len(sink.Bads) != 1 {
		t.Fatalf("bad records:\n%s", badText(sink))
	}
	msg := sink.Bads[0].Error()
	if !strings.Contains(msg, "/2/users/"+fxUserID+"/tweets?") || !strings.Contains(msg, "pagination_token="+nextP2) || !strings.Contains(msg, "truncated") || strings.Contains(msg, fxToken) {
		t.Errorf("bad record %q should name the page and the JSON error", msg)
	}
	items := byID(sink)
	if len(items[idP1]) == 0 || len(items[idQ]) == 0 || len(items[idRT]) != 0 {
		t.Errorf("want page 1 kept and nothing of page 2: %d items", len(items))
	}

	a, _, _ := archivetest.New(t)
	res, err := captureRun(t, a, srv.job(nil, nil, true))
	if !errors.Is(err, collect.ErrMalformed) || res.Complete || res.Errors != 1 || res.Items == 0 {
		t.Errorf("into an archive: %+v, %v", res, err)
	}
}

func TestCollectIncremental(t *testing.T) {
	a, _, _ := archivetest.New(t)
	srv := newXServer(t)
	if _, err := captureRun(t, a, srv.job(nil, nil, true)); err != nil {
		t.Fatal(err)
	}
	state, err := a.LastState("x/"+fxHandle, "x")
	if err != nil || state == nil {
		t.Fatalf("state %s, %v", state, err)
	}
	srv.sinceTimeline, srv.sinceSearch = "timeline-new.json", "search-new.json"
	n := len(srv.requests())
	res, err := captureRun(t, a, srv.job(nil, state, false))
	if err != nil {
		t.Fatal(err)
	}
	if res.Complete {
		t.Error("an incremental run said it listed everything")
	}
	reqs := strings.Join(srv.requests()[n:], "\n")
	for _, want := range []string{"since_id=" + idP1, "since_id=" + idR2, "conversation_id%3A" + idNEW} {
		if !strings.Contains(reqs, want) {
			t.Errorf("no request with %q in\n%s", want, reqs)
		}
	}
	if strings.Contains(reqs, "pagination_token") {
		t.Error("the incremental run paged through the old timeline")
	}
	ctx := context.Background()
	for _, id := range []string{idNEW, idR4} {
		if _, err := a.Show(ctx, archive.ItemKey(Platform, fxHandle, id)); err != nil {
			t.Errorf("new tweet %s: %v", id, err)
		}
	}
	// The quote was deleted: the lookup by id says resource-not-found.
	d, err := a.Show(ctx, archive.ItemKey(Platform, fxHandle, idQ))
	if err != nil || d.RemovedAt == nil || !d.RemovedAt.Equal(fxNow) {
		t.Errorf("deleted tweet: %v removed %v", err, d.RemovedAt)
	}
	if len(d.Versions) != 1 {
		t.Errorf("deleted tweet has %d versions, want 1", len(d.Versions))
	}
	d, err = a.Show(ctx, archive.ItemKey(Platform, fxHandle, idP1))
	if err != nil || d.RemovedAt != nil || len(d.Versions) != 1 || len(d.Sightings) != 2 {
		t.Errorf("P1 rechecked: %v removed %v, %d versions, %d sightings", err, d.RemovedAt, len(d.Versions), len(d.Sightings))
	}
}

func TestCollectSearchAllRefused(t *testing.T) {
	srv := newXServer(t)
	srv.searchAll403 = true
	sink := collect.NewMemorySink()
	if err := New().Collect(context.Background(), srv.job(sink, nil, true)); err != nil {
		t.Fatal(err)
	}
	if len(sink.Bads) > 0 || len(byID(sink)) != 9 {
		t.Fatalf("%d items, bad:\n%s", len(byID(sink)), badText(sink))
	}
	var st State
	json.Unmarshal(sink.State, &st)
	if st.SearchAllRefusedAt == nil || len(st.Notes) != 1 || !strings.Contains(st.Notes[0], "recent search") {
		t.Errorf("state %+v: want the refusal noted", st)
	}
	if sink.Scope == nil || !sink.Scope.Since.Equal(fxNow.Add(-7*24*time.Hour)) {
		t.Errorf("scope %+v: the recent search lists only the last 7 days", sink.Scope)
	}
	if !strings.Contains(strings.Join(srv.requests(), "\n"), "/2/tweets/search/recent?") {
		t.Error("no recent search")
	}
}

func TestCollectMediaFailure(t *testing.T) {
	srv := newXServer(t)
	srv.media["/media/P1photo.jpg"] = 404
	sink := collect.NewMemorySink()
	if err := New().Collect(context.Background(), srv.job(sink, nil, true)); err != nil {
		t.Fatal(err)
	}
	if len(sink.Bads) != 1 || !sink.Bads[0].Media || !strings.Contains(sink.Bads[0].Source, "pbs.twimg.com/media/P1photo.jpg") {
		t.Fatalf("bad:\n%s", badText(sink))
	}
	if p1 := sink.Item(idP1); p1 == nil || p1.Media[0].Digest != "" || len(byID(sink)) != 9 {
		t.Errorf("the run should go on without the photo: %+v", p1)
	}
	// The listing is still complete: the post was captured, its photo
	// was not.
	a, _, _ := archivetest.New(t)
	res, err := captureRun(t, a, srv.job(nil, nil, true))
	if err != nil || !res.Complete || res.MediaErrors != 1 || res.Errors != 0 {
		t.Errorf("capture %+v, %v", res, err)
	}
}

// TestCollectThroughRunner runs the collector as osmarc collect does: the
// token read from the account's credentials at run time, the state carried
// from one run to the next, a removal found by the second complete run.
func TestCollectThroughRunner(t *testing.T) {
	a, _, _ := archivetest.New(t)
	srv := newXServer(t)
	ctx := context.Background()
	acct := fxAccount(srv.URL)
	acct.Credentials, acct.AllowPrivate = "env:OSMARC_TEST_X_TOKEN", true
	acct, err := a.AddAccount(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	client := collect.NewClient(collect.ClientOptions{AllowPrivate: true, Sleep: noSleep})
	opts := collect.RunOptions{
		Full: true, HTTP: rewriteFetcher{client, srv.URL}, Now: func() time.Time { return fxNow },
		Getenv: func(k string) string {
			if k == "OSMARC_TEST_X_TOKEN" {
				return fxToken
			}
			return ""
		},
	}
	res, err := collect.Run(ctx, a, acct, New(), opts)
	if err != nil || !res.Complete || res.Items != 10 {
		t.Fatalf("first run %+v, %v", res, err)
	}
	srv.search = "search-2.json"
	srv.sinceTimeline, srv.sinceSearch = "timeline-new.json", "search-new.json"
	opts.Full = false
	res, err = collect.Run(ctx, a, acct, New(), opts)
	if err != nil || res.Complete {
		t.Fatalf("incremental run %+v, %v", res, err)
	}
	if reqs := strings.Join(srv.requests(), "\n"); !strings.Contains(reqs, "since_id="+idP1) {
		t.Error("the state was not carried to the next run")
	}
	opts.Full = true
	res, err = collect.Run(ctx, a, acct, New(), opts)
	if err != nil || !res.Complete || res.Removed < 1 {
		t.Fatalf("complete run %+v, %v", res, err)
	}
	d, err := a.Show(ctx, archive.ItemKey(Platform, fxHandle, idR2))
	if err != nil || d.RemovedAt == nil {
		t.Errorf("R2: %v removed %v", err, d.RemovedAt)
	}
}

func TestCollectLooksUpUserID(t *testing.T) {
	srv := newXServer(t)
	sink := collect.NewMemorySink()
	job := srv.job(sink, nil, true)
	job.Account.ID = ""
	if err := New().Collect(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(srv.requests(), "\n"), "/2/users/by/username/"+fxHandle) || len(byID(sink)) != 9 {
		t.Error("the user id was not looked up")
	}
}

// TestCollectCappedTimeline: when the timeline stops short of the
// account's first tweet (X gives the newest 3,200), replies on the posts
// it did not give were not searched; a complete run leaves replies out of
// its scope, so it never marks them removed.
func TestCollectCappedTimeline(t *testing.T) {
	a, _, _ := archivetest.New(t)
	srv := newXServer(t)
	if _, err := captureRun(t, a, srv.job(nil, nil, true)); err != nil {
		t.Fatal(err)
	}
	srv.pages[""] = "timeline-1-capped.json" // X says 5,200 tweets
	srv.search = "search-2.json"             // and R2 is not found
	sink := collect.NewMemorySink()
	if err := New().Collect(context.Background(), srv.job(sink, nil, true)); err != nil {
		t.Fatal(err)
	}
	if sink.Scope == nil || !slices.Equal(sink.Scope.Kinds, []string{"post", "quote", "retweet"}) {
		t.Fatalf("scope %+v: want replies left out", sink.Scope)
	}
	res, err := captureRun(t, a, srv.job(nil, nil, true))
	if err != nil || !res.Complete || res.Removed != 0 {
		t.Errorf("capped run %+v, %v: want complete, nothing removed", res, err)
	}
}

// TestCollectSearchAllRefusedRemembered: the next run does not ask the
// full-archive search again within the week, and says so again.
func TestCollectSearchAllRefusedRemembered(t *testing.T) {
	srv := newXServer(t)
	srv.searchAll403 = true
	first := collect.NewMemorySink()
	if err := New().Collect(context.Background(), srv.job(first, nil, true)); err != nil {
		t.Fatal(err)
	}
	n := len(srv.requests())
	next := collect.NewMemorySink()
	if err := New().Collect(context.Background(), srv.job(next, first.State, true)); err != nil {
		t.Fatal(err)
	}
	if reqs := strings.Join(srv.requests()[n:], "\n"); strings.Contains(reqs, "/search/all") {
		t.Errorf("asked the refused search again:\n%s", reqs)
	}
	var st State
	json.Unmarshal(next.State, &st)
	if st.SearchAllRefusedAt == nil || len(st.Notes) != 1 {
		t.Errorf("state %+v", st)
	}
}
