package archive_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
)

func post(id, text string) archive.Item {
	return archive.Item{Platform: "mastodon", Account: "brigade", ID: id, Kind: "post", CreatedAt: "2024-01-0" + id + "T10:00:00Z", Text: text}
}

// capture runs one capture of items by collector; complete marks it a
// complete listing of the account.
func capture(t *testing.T, a *archive.Archive, collector string, complete bool, items ...archive.Item) archive.IngestResult {
	t.Helper()
	w, err := a.BeginCapture(ctx, archive.CaptureOptions{Collector: collector})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := json.Marshal(items)
	raw, err := w.PutRaw(ctx, page, "https://social.example/api/v1/accounts/1/statuses", "", "application/json")
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range items {
		if err := w.AddItem(ctx, it, archive.ItemOptions{Raw: &raw, RawPath: fmt.Sprintf("/%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if complete {
		w.Complete(archive.Scope{Account: archive.AccountKey("mastodon", "brigade")})
	}
	w.SetState(json.RawMessage(`{"since_id":"9"}`))
	res, err := w.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func removed(t *testing.T, a *archive.Archive, key string) bool {
	t.Helper()
	d, err := a.Show(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	return d.RemovedAt != nil
}

func TestCompleteCaptureMarksRemovedAtSource(t *testing.T) {
	a, store, clock := archivetest.New(t)
	capture(t, a, "mastodon", true, post("1", "one"), post("2", "two"), post("3", "three"))
	// An incomplete capture that misses an item says nothing of it.
	clock.Advance(time.Hour)
	res := capture(t, a, "mastodon", false, post("1", "one"))
	if res.Removed != 0 || removed(t, a, "mastodon/brigade/2") {
		t.Fatal("an incomplete capture marked an item removed")
	}
	// A complete one does, and records when.
	clock.Advance(time.Hour)
	res = capture(t, a, "mastodon", true, post("1", "one"), post("3", "three"))
	if !res.Complete || res.Removed != 1 {
		t.Fatalf("result = %+v, want complete with 1 removed", res)
	}
	d, _ := a.Show(ctx, "mastodon/brigade/2")
	if d.RemovedAt == nil || d.RemovedBy != res.Capture || !d.RemovedAt.After(d.LastSeen) {
		t.Fatalf("removed item: removed %v by %q, last seen %v", d.RemovedAt, d.RemovedBy, d.LastSeen)
	}
	// Items another collector saw (an import of older posts) are not in
	// this collector's listing, and not removed by it.
	capture(t, a, "import:mastodon-outbox", false, post("4", "from the export"))
	clock.Advance(time.Hour)
	capture(t, a, "mastodon", true, post("1", "one"), post("3", "three"))
	if removed(t, a, "mastodon/brigade/4") {
		t.Fatal("an item only an import saw was marked removed by the API's listing")
	}
	// Seen again: no longer removed; its content was never lost.
	capture(t, a, "mastodon", false, post("2", "two"))
	if removed(t, a, "mastodon/brigade/2") {
		t.Fatal("an item seen again is still marked removed")
	}
	// The catalog rebuilt from the store agrees.
	capture(t, a, "mastodon", true, post("1", "one"), post("2", "two"))
	if !removed(t, a, "mastodon/brigade/3") {
		t.Fatal("item 3 not removed")
	}
	before := snap(t, a)
	dir := a.Dir()
	a.Close()
	b, err := archive.Rebuild(ctx, archivetest.Options(dir, clock, archivetest.MemOpener(store)))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	same(t, "rebuild after removals", before, snap(t, b))
}

func TestSourceSaysRemoved(t *testing.T) {
	a, _, _ := archivetest.New(t)
	w, _ := a.BeginCapture(ctx, archive.CaptureOptions{Collector: "import:x-archive"})
	gone := time.Date(2023, 5, 1, 0, 0, 0, 0, time.UTC)
	it := archive.Item{Platform: "x", Account: "Brigade3", ID: "1", Kind: "post", CreatedAt: "2023-04-01T00:00:00Z", Text: "deleted later"}
	if err := w.AddItem(ctx, it, archive.ItemOptions{RemovedAt: &gone, Source: "data/deleted-tweets.js"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	d, _ := a.Show(ctx, "x/Brigade3/1")
	if d.RemovedAt == nil || !d.RemovedAt.Equal(gone) || d.Versions[0].Item.Text != "deleted later" {
		t.Fatalf("removed at %v, content %+v", d.RemovedAt, d.Versions[0].Item)
	}
}

func TestCaptureWithErrorsIsNeverComplete(t *testing.T) {
	a, _, _ := archivetest.New(t)
	capture(t, a, "mastodon", true, post("1", "one"), post("2", "two"))
	w, _ := a.BeginCapture(ctx, archive.CaptureOptions{Collector: "mastodon"})
	w.AddItem(ctx, post("1", "one"), archive.ItemOptions{})
	w.Bad(&archive.InputError{Source: "page 2", Err: errors.New("truncated response")})
	w.Complete(archive.Scope{Account: "mastodon/brigade"})
	res, err := w.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Complete || res.Removed != 0 || removed(t, a, "mastodon/brigade/2") {
		t.Fatalf("a capture with a bad page marked removals: %+v", res)
	}
}

func TestAddItemRefusesBadItems(t *testing.T) {
	a, _, _ := archivetest.New(t)
	w, _ := a.BeginCapture(ctx, archive.CaptureOptions{Collector: "test"})
	defer w.Abort()
	bad := post("1", "x")
	bad.CreatedAt = "2024-02-30T00:00:00Z"
	if err := w.AddItem(ctx, bad, archive.ItemOptions{}); !errors.Is(err, archive.ErrBadInput) {
		t.Fatalf("err = %v, want ErrBadInput", err)
	}
}

func TestCaptureRegistersAccountsAndKeepsState(t *testing.T) {
	a, _, _ := archivetest.New(t)
	res := capture(t, a, "mastodon", false, post("1", "one"))
	if len(res.NewAccounts) != 1 || res.NewAccounts[0] != "mastodon/brigade" {
		t.Fatalf("new accounts = %v", res.NewAccounts)
	}
	acct, err := a.Account("brigade")
	if err != nil || acct.Platform != "mastodon" || acct.Status != archive.AccountActive || acct.RegisteredBy != "mastodon" {
		t.Fatalf("account = %+v, %v", acct, err)
	}
	cp, err := a.Catalog().Capture(res.Capture)
	if err != nil || string(cp.State) != `{"since_id":"9"}` {
		t.Fatalf("state = %s, %v", cp.State, err)
	}
	if res := capture(t, a, "mastodon", false, post("2", "two")); len(res.NewAccounts) != 0 {
		t.Fatalf("registered again: %v", res.NewAccounts)
	}
}

func TestAbortedCaptureRecordsNothing(t *testing.T) {
	a, _, _ := archivetest.New(t)
	before := stats(t, a)
	w, _ := a.BeginCapture(ctx, archive.CaptureOptions{Collector: "test"})
	w.AddItem(ctx, post("1", "one"), archive.ItemOptions{})
	w.Abort()
	if after := stats(t, a); after != before {
		t.Fatalf("an aborted capture changed the catalog: %+v", after)
	}
	rep, _ := a.Verify(ctx, archive.VerifyOptions{})
	if !rep.OK {
		t.Fatalf("verify after abort: %v", rep.Problems)
	}
}

func TestSameVersionTwiceInOneCaptureIsWrittenOnce(t *testing.T) {
	a, _, _ := archivetest.New(t)
	w, _ := a.BeginCapture(ctx, archive.CaptureOptions{Collector: "test"})
	// More than one flush apart (a flush happens every 500 items).
	w.AddItem(ctx, post("1", "one"), archive.ItemOptions{})
	for i := range 600 {
		it := post("2", "filler")
		it.ID = fmt.Sprintf("f%d", i)
		w.AddItem(ctx, it, archive.ItemOptions{})
	}
	w.AddItem(ctx, post("1", "one"), archive.ItemOptions{})
	res, err := w.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.NewVersions != 601 || res.BlobsWritten != 601 {
		t.Fatalf("new versions %d, blobs written %d; want 601 each", res.NewVersions, res.BlobsWritten)
	}
}

func TestMediaIsCaptureDataNotContent(t *testing.T) {
	a, _, _ := archivetest.New(t)
	withMedia := func(digest string) archive.Item {
		it := post("1", "parade photos")
		it.Media = []archive.Media{{URL: "https://cdn.example/p.jpg", Type: "image/jpeg", Alt: "soldiers marching", Digest: digest}}
		return it
	}
	jpeg := []byte("\xff\xd8\xff\xe0 not really a jpeg")
	d := archive.Sum(jpeg)
	// Seen with its media downloaded by a collector...
	w, _ := a.BeginCapture(ctx, archive.CaptureOptions{Collector: "mastodon"})
	if err := w.PutMedia(ctx, bytes.NewReader(jpeg), int64(len(jpeg)), d, "image/jpeg", "https://cdn.example/p.jpg"); err != nil {
		t.Fatal(err)
	}
	w.AddItem(ctx, withMedia(d.String()), archive.ItemOptions{})
	w.Complete(archive.Scope{Account: "mastodon/brigade"})
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// ...and by an import that has no media file, and by a run whose
	// download failed: one version, and the failed download leaves the
	// listing complete.
	w, _ = a.BeginCapture(ctx, archive.CaptureOptions{Collector: "mastodon"})
	w.AddItem(ctx, withMedia(""), archive.ItemOptions{})
	w.Bad(&archive.InputError{Source: "https://cdn.example/p.jpg", Err: errors.New("HTTP 404"), Media: true})
	w.Complete(archive.Scope{Account: "mastodon/brigade"})
	res, err := w.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.NewVersions != 0 || !res.Complete || res.MediaErrors != 1 || res.Errors != 0 {
		t.Fatalf("result = %+v", res)
	}
	s, _ := a.Show(ctx, "mastodon/brigade/1")
	if len(s.Versions) != 1 || s.Versions[0].Item.Media[0].Digest != "" || len(s.Sightings[0].Media) != 1 || s.Sightings[0].Media[0] != d.String() {
		t.Fatalf("versions %d, sighting media %v", len(s.Versions), s.Sightings[0].Media)
	}
}

// recordingIndexer keeps the last update of each item it is given.
type recordingIndexer struct {
	last map[string]archive.IndexUpdate
}

func (r *recordingIndexer) Update(_ context.Context, batch []archive.IndexUpdate) error {
	for _, u := range batch {
		r.last[u.Item.Key] = u
	}
	return nil
}

// The index learns of an item a complete listing found removed at source,
// though the capture did not see it: search --removed must find it at once.
func TestCaptureTellsTheIndexOfRemovedItems(t *testing.T) {
	a, _, clock := archivetest.New(t)
	ix := &recordingIndexer{last: map[string]archive.IndexUpdate{}}
	a.SetIndexer(ix)
	capture(t, a, "mastodon", true, post("1", "one"), post("2", "two"), post("3", "three"))
	if u := ix.last["mastodon/brigade/2"]; u.Item.RemovedAt != nil || u.Latest == nil {
		t.Fatalf("first capture: index told %+v", u)
	}
	clock.Advance(time.Hour)
	clear(ix.last)
	res := capture(t, a, "mastodon", true, post("1", "one"), post("3", "three"))
	if res.Removed != 1 {
		t.Fatalf("removed %d, want 1", res.Removed)
	}
	u, ok := ix.last["mastodon/brigade/2"]
	if !ok || u.Item.RemovedAt == nil || u.Item.RemovedBy != res.Capture {
		t.Fatalf("the index was not told item 2 was removed: %+v (told of %d items)", u, len(ix.last))
	}
	if len(ix.last) != 3 {
		t.Fatalf("index told of %d items, want the 2 seen and the 1 removed", len(ix.last))
	}
}

type failingIndexer struct{}

func (failingIndexer) Update(context.Context, []archive.IndexUpdate) error {
	return errors.New("disk full")
}

// A capture recorded but not indexed (the index failed, or the process
// died before it was durable) stays noted, and the next writer's
// RepairIndex indexes its items: a search never misses them for good.
func TestCaptureNotIndexedIsRepaired(t *testing.T) {
	a, _, clock := archivetest.New(t)
	a.SetIndexer(&recordingIndexer{last: map[string]archive.IndexUpdate{}})
	capture(t, a, "mastodon", true, post("1", "one"), post("2", "two"))
	if p, err := a.IndexPending(); err != nil || len(p) != 0 {
		t.Fatalf("after an indexed capture: pending %v, %v", p, err)
	}
	clock.Advance(time.Hour)
	a.SetIndexer(failingIndexer{})
	w, err := a.BeginCapture(ctx, archive.CaptureOptions{Collector: "mastodon"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddItem(ctx, post("3", "three"), archive.ItemOptions{}); err != nil {
		t.Fatal(err)
	}
	w.Complete(archive.Scope{Account: archive.AccountKey("mastodon", "brigade")})
	res, err := w.Commit(ctx)
	if err == nil || res.Capture == "" {
		t.Fatalf("commit with a failing index: %+v, %v; want the capture recorded and an error", res, err)
	}
	p, err := a.IndexPending()
	if err != nil || len(p) != 1 || p[0] != res.Capture {
		t.Fatalf("pending = %v, %v; want [%s]", p, err, res.Capture)
	}
	ix := &recordingIndexer{last: map[string]archive.IndexUpdate{}}
	a.SetIndexer(ix)
	n, err := a.RepairIndex(ctx)
	if err != nil || n != 1 {
		t.Fatalf("repair: %d, %v", n, err)
	}
	// The item it saw and the two it found removed at source.
	if len(ix.last) != 3 || ix.last["mastodon/brigade/3"].Item.Key == "" || ix.last["mastodon/brigade/1"].Item.RemovedAt == nil {
		t.Fatalf("repair told the index of %v", ix.last)
	}
	if p, err := a.IndexPending(); err != nil || len(p) != 0 {
		t.Fatalf("after repair: pending %v, %v", p, err)
	}
	// Nothing left to do.
	if n, err := a.RepairIndex(ctx); err != nil || n != 0 {
		t.Fatalf("second repair: %d, %v", n, err)
	}
}
