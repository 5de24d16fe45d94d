package x

import (
	"archive/zip"
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/collect"
)

func folderSource(tb testing.TB, parts ...string) collect.Source {
	dir := fixture(parts...)
	return collect.Source{Name: dir, FS: os.DirFS(dir), Path: "."}
}

// zipSource packs a fixture folder into a zip, as X sends it.
func zipSource(tb testing.TB, parts ...string) collect.Source {
	tb.Helper()
	dir := fixture(parts...)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			return err
		}
		w, err := zw.Create(p)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		tb.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		tb.Fatal(err)
	}
	return collect.Source{Name: "twitter-2026-03-01.zip", FS: zr, Path: "."}
}

func fxImportAccount() archive.Account {
	return archive.Account{Platform: Platform, Handle: fxHandle, Key: archive.AccountKey(Platform, fxHandle)}
}

func importInto(tb testing.TB, imp collect.Importer, src collect.Source) *collect.MemorySink {
	tb.Helper()
	sink := collect.NewMemorySink()
	if err := imp.Import(context.Background(), src, fxImportAccount(), sink); err != nil {
		tb.Fatal(err)
	}
	return sink
}

func fixedImporter() *ArchiveImporter {
	return &ArchiveImporter{Now: func() time.Time { return fxNow }}
}

func TestArchiveImport(t *testing.T) {
	sink := importInto(t, fixedImporter(), folderSource(t, "archive"))
	if len(sink.Bads) > 0 {
		t.Fatalf("bad:\n%s", badText(sink))
	}
	checkRaw(t, sink)
	items := byID(sink)
	if len(items) != 8 || len(sink.Items) != 9 {
		t.Fatalf("%d items, %d versions; want 8 and 9", len(items), len(sink.Items))
	}
	p1 := items[idP1][0]
	want := archive.Sum(readFixture(t, "archive", "data", "tweets_media", idP1+"-P1photo.jpg")).String()
	if len(p1.Media) != 1 || p1.Media[0].Digest != want || p1.Media[0].Alt != "Map of the closure" {
		t.Errorf("P1 media %+v", p1.Media)
	}
	if p1.Author == nil || p1.Author.ID != fxUserID || p1.Author.Handle != fxHandle {
		t.Errorf("P1 author %+v: want the archive's account", p1.Author)
	}
	// tweets.js holds the edit before the original: the original is
	// still recorded first.
	e := items[idE1]
	if len(e) != 2 || e[0].EditedAt != "" || e[1].Text != "Council meeting moved to Thursday at 7pm." || e[1].CreatedAt != "2026-02-26T10:00:00Z" {
		t.Fatalf("edit chain %+v", e)
	}
	if items[idQ][0].Kind != "quote" || items[idRT][0].Kind != "retweet" || items[idOR][0].Parent != idX99 {
		t.Error("kinds or parents differ")
	}
	for i, it := range sink.Items {
		o := sink.Opts[i]
		switch it.ID {
		case idD1:
			if o.RemovedAt == nil || !o.RemovedAt.Equal(time.Date(2025, 12, 1, 11, 0, 0, 0, time.UTC)) {
				t.Errorf("D1 removed at %v, want its deleted_at", o.RemovedAt)
			}
		case idD2:
			if o.RemovedAt == nil || !o.RemovedAt.Equal(time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)) {
				t.Errorf("D2 removed at %v, want the archive's generation date", o.RemovedAt)
			}
		default:
			if o.RemovedAt != nil {
				t.Errorf("%s removed", it.ID)
			}
		}
		if it.ID == idP1 && string(o.Metrics) != `{"like_count":3,"retweet_count":0}` {
			t.Errorf("P1 metrics %s", o.Metrics)
		}
		if !strings.HasSuffix(o.Source, "data/tweets.js") && !strings.HasSuffix(o.Source, "data/tweets-part1.js") && !strings.HasSuffix(o.Source, "data/deleted-tweets.js") {
			t.Errorf("source %q", o.Source)
		}
	}
	// The raw blobs are the file's bytes, element for element.
	file := readFixture(t, "archive", "data", "tweets.js")
	for _, raw := range sink.Raws {
		inner := bytes.TrimSuffix(bytes.TrimPrefix(raw, []byte("[")), []byte("]"))
		if bytes.Contains(raw, []byte(idP1)) && !bytes.Contains(file, inner) {
			t.Error("the raw blob of tweets.js is not a slice of the file")
		}
	}
}

func TestArchiveZipAndFolderAgree(t *testing.T) {
	a := importInto(t, fixedImporter(), folderSource(t, "archive"))
	b := importInto(t, fixedImporter(), zipSource(t, "archive"))
	if len(a.Items) != len(b.Items) || len(a.Raws) != len(b.Raws) || len(b.Bads) != 0 {
		t.Fatalf("folder %d items %d raws, zip %d items %d raws, bad:\n%s", len(a.Items), len(a.Raws), len(b.Items), len(b.Raws), badText(b))
	}
	for i := range a.Items {
		ca, _ := a.Items[i].CanonicalJSON()
		cb, _ := b.Items[i].CanonicalJSON()
		if !bytes.Equal(ca, cb) || a.Opts[i].RawPath != b.Opts[i].RawPath || *a.Opts[i].Raw != *b.Opts[i].Raw {
			t.Errorf("item %d differs:\n%s\n%s", i, ca, cb)
		}
	}
	if !strings.HasPrefix(b.Opts[0].Source, "twitter-2026-03-01.zip/data/") {
		t.Errorf("zip source %q", b.Opts[0].Source)
	}
}

// importCapture imports src as one capture of a.
func importCapture(t *testing.T, a *archive.Archive, imp collect.Importer, src collect.Source) archive.IngestResult {
	t.Helper()
	ctx := context.Background()
	acct := fxImportAccount()
	w, err := a.BeginCapture(ctx, archive.CaptureOptions{Collector: "import:" + imp.Format(), Account: acct.Key, Sources: []string{src.Name}})
	if err != nil {
		t.Fatal(err)
	}
	if err := imp.Import(ctx, src, acct, collect.CaptureSink{CaptureWriter: w}); err != nil {
		w.Abort()
		t.Fatal(err)
	}
	res, err := w.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestArchiveImportTwiceAddsNothing(t *testing.T) {
	a, _, _ := archivetest.New(t)
	first := importCapture(t, a, fixedImporter(), folderSource(t, "archive"))
	if first.NewVersions != 9 || first.Errors != 0 {
		t.Fatalf("first import %+v", first)
	}
	again := importCapture(t, a, fixedImporter(), zipSource(t, "archive"))
	if again.NewVersions != 0 || again.Items != 9 {
		t.Errorf("second import (as a zip) %+v: want nothing new", again)
	}
	d, err := a.Show(context.Background(), archive.ItemKey(Platform, fxHandle, idD1))
	if err != nil || d.RemovedAt == nil {
		t.Errorf("deleted tweet: %v, removed %v", err, d.RemovedAt)
	}
}

// TestArchiveAndCollectorAgree: the archive and the live API give the
// same tweets one version each.
func TestArchiveAndCollectorAgree(t *testing.T) {
	a, _, _ := archivetest.New(t)
	imp := importCapture(t, a, fixedImporter(), folderSource(t, "archive"))
	srv := newXServer(t)
	res, err := captureRun(t, a, srv.job(nil, nil, true))
	if err != nil {
		t.Fatal(err)
	}
	// New from the API: only the three replies of others and the
	// account's own reply in the thread, which the archive lacks.
	if res.NewVersions != 3 {
		t.Errorf("the collector added %d versions after the archive, want 3 (the replies): import %+v", res.NewVersions, imp)
	}
	ctx := context.Background()
	for id, n := range map[string]int{idP1: 1, idE1: 2, idQ: 1, idRT: 1, idOR: 1, idOLD: 1} {
		d, err := a.Show(ctx, archive.ItemKey(Platform, fxHandle, id))
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Versions) != n {
			for _, v := range d.Versions {
				c, _ := v.Item.CanonicalJSON()
				t.Logf("%s", c)
			}
			t.Errorf("item %s has %d versions, want %d", id, len(d.Versions), n)
		}
	}
}

func TestArchiveOlderLayout(t *testing.T) {
	acct := archive.Account{Platform: Platform, Handle: fxHandle, ID: fxUserID}
	sink := collect.NewMemorySink()
	if err := fixedImporter().Import(context.Background(), folderSource(t, "archive-old"), acct, sink); err != nil {
		t.Fatal(err)
	}
	if len(sink.Bads) > 0 || len(sink.Items) != 3 {
		t.Fatalf("%d items, bad:\n%s", len(sink.Items), badText(sink))
	}
	checkRaw(t, sink)
	old := sink.Item(idOLD)
	if old.Text != "Happy new year from City Hall!" || old.Author.Handle != fxHandle || old.Author.ID != fxUserID {
		t.Errorf("old layout tweet %+v", old)
	}
	if or := sink.Item(idOR); or.Parent != idX99 || or.Kind != "reply" || !slices.Equal(or.Mentions, []string{"citizen_jane"}) {
		t.Errorf("numeric in_reply_to_status_id: %+v", or)
	}
	if first := sink.Item("1"); first == nil || first.Text != "just setting up my twttr" || first.Lang != "" || first.CreatedAt != "2006-03-21T20:50:14Z" {
		t.Errorf("the oldest tweet (text, no lang): %+v", first)
	}
	// The same tweet in the newer layout is the same version.
	newer := importInto(t, fixedImporter(), folderSource(t, "archive"))
	ca, _ := sink.Item(idOLD).CanonicalJSON()
	cb, _ := newer.Item(idOLD).CanonicalJSON()
	if !bytes.Equal(ca, cb) {
		t.Errorf("layouts differ:\n%s\n%s", ca, cb)
	}
}

func TestArchiveMalformed(t *testing.T) {
	sink := importInto(t, fixedImporter(), folderSource(t, "archive-bad"))
	got := badText(sink)
	for _, want := range []string{"data/tweets.js:37: element 1: malformed JSON", "data/tweets.js:44: element 2: missing created_at", "data/tweets-part1.js:", "truncated"} {
		if !strings.Contains(got, want) {
			t.Errorf("bad records lack %q:\n%s", want, got)
		}
	}
	if len(sink.Bads) != 3 {
		t.Errorf("%d bad records, want 3:\n%s", len(sink.Bads), got)
	}
	items := byID(sink)
	for _, id := range []string{idOLD, idQ, idRT} {
		if len(items[id]) != 1 {
			t.Errorf("good tweet %s lost", id)
		}
	}
	if len(items) != 3 {
		t.Errorf("%d items, want the 3 good ones", len(items))
	}
	checkRaw(t, sink)

	a, _, _ := archivetest.New(t)
	res := importCapture(t, a, fixedImporter(), folderSource(t, "archive-bad"))
	if res.Complete || res.Errors != 3 || res.Items != 3 {
		t.Errorf("capture %+v", res)
	}
}

func TestAPIImportMatchesCollector(t *testing.T) {
	srv := newXServer(t)
	live := collect.NewMemorySink()
	job := srv.job(live, nil, true)
	job.Media = false
	if err := New().Collect(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	saved := importInto(t, NewAPIImporter(), collect.Source{Name: "twarc2.jsonl", FS: os.DirFS(fixture("saved")), Path: "twarc2.jsonl"})
	if len(saved.Bads) > 0 {
		t.Fatalf("bad:\n%s", badText(saved))
	}
	checkRaw(t, saved)
	canon := func(s *collect.MemorySink) []string {
		var out []string
		for _, it := range s.Items {
			c, _ := it.CanonicalJSON()
			out = append(out, string(c))
		}
		slices.Sort(out)
		return out
	}
	if a, b := canon(live), canon(saved); !slices.Equal(a, b) {
		t.Errorf("saved responses and the live collector differ:\nlive  %d\nsaved %d\n%s", len(a), len(b), strings.Join(b, "\n"))
	}
	if e := byID(saved)[idE1]; len(e) != 2 || e[1].EditedAt == "" {
		t.Errorf("edit chain from saved pages: %+v", e)
	}
	for i, it := range saved.Items {
		if it.ID == idP1 && (saved.Opts[i].Line != 1 || saved.Opts[i].RawPath != "/data/0") {
			t.Errorf("P1 at line %d %s", saved.Opts[i].Line, saved.Opts[i].RawPath)
		}
	}
}

func TestAPIImportOneResponse(t *testing.T) {
	sink := importInto(t, NewAPIImporter(), collect.Source{Name: "saved", FS: os.DirFS(fixture("saved")), Path: "response.json"})
	if len(sink.Bads) > 0 || len(sink.Items) != 3 || len(sink.Raws) != 1 {
		t.Fatalf("%d items %d raws, bad:\n%s", len(sink.Items), len(sink.Raws), badText(sink))
	}
	// Only the newest version is in hand: it is still a version of the
	// first id, with the first's time (from the id).
	e2 := sink.Item(idE1)
	if e2 == nil || e2.CreatedAt != "2026-02-26T10:00:00Z" || e2.EditedAt != "2026-02-26T10:10:00Z" {
		t.Errorf("lone edit %+v", e2)
	}
}

func TestAPIImportBadLines(t *testing.T) {
	sink := importInto(t, NewAPIImporter(), collect.Source{Name: "saved/bad.jsonl", FS: os.DirFS(fixture("saved")), Path: "bad.jsonl"})
	got := badText(sink)
	if len(sink.Bads) != 2 || !strings.Contains(got, "saved/bad.jsonl:2: truncated JSON") || !strings.Contains(got, "saved/bad.jsonl:3: an error response") {
		t.Errorf("bad records:\n%s", got)
	}
	items := byID(sink)
	if len(items[idRT]) != 1 || len(items[idR1]) != 1 || len(items[idP1]) != 0 {
		t.Errorf("want lines 1 and 4 kept: %d items", len(items))
	}
}

func TestAPIImportFlattened(t *testing.T) {
	sink := importInto(t, NewAPIImporter(), collect.Source{Name: "flat.jsonl", FS: os.DirFS(fixture("saved")), Path: "flat.jsonl"})
	old := sink.Item(idOLD)
	if len(sink.Bads) > 0 || old == nil || old.Author.Handle != fxHandle {
		t.Errorf("flattened: %+v\n%s", old, badText(sink))
	}
}

func TestAPIImportFolder(t *testing.T) {
	sink := importInto(t, NewAPIImporter(), collect.Source{Name: "saved", FS: os.DirFS(fixture("saved")), Path: "."})
	// bad.jsonl, flat.jsonl, response.json, twarc2.jsonl, in name order.
	if len(sink.Bads) != 2 || len(byID(sink)) != 9 {
		t.Errorf("%d items, bad:\n%s", len(byID(sink)), badText(sink))
	}
}

func TestSniff(t *testing.T) {
	saved := os.DirFS(fixture("saved"))
	data := os.DirFS(fixture("archive", "data"))
	cases := []struct {
		name          string
		src           collect.Source
		archive, api2 bool
	}{
		{"archive folder", folderSource(t, "archive"), true, false},
		{"archive zip", zipSource(t, "archive"), true, false},
		{"old archive", folderSource(t, "archive-old"), true, false},
		{"data folder", collect.Source{Name: "data", FS: data, Path: "."}, true, false},
		{"tweets.js", collect.Source{Name: "tweets.js", FS: data, Path: "tweets.js"}, true, false},
		{"account.js", collect.Source{Name: "account.js", FS: data, Path: "account.js"}, false, false},
		{"twarc2", collect.Source{Name: "t", FS: saved, Path: "twarc2.jsonl"}, false, true},
		{"response", collect.Source{Name: "r", FS: saved, Path: "response.json"}, false, true},
		{"youtube", collect.Source{Name: "y", FS: os.DirFS(filepath.Join("..", "..", "..", "testdata", "collect", "x", "api")), Path: "error-401.json"}, false, false},
	}
	for _, c := range cases {
		if got := NewArchiveImporter().Sniff(c.src); got != c.archive {
			t.Errorf("%s: x-archive sniff %v", c.name, got)
		}
		if got := NewAPIImporter().Sniff(c.src); got != c.api2 {
			t.Errorf("%s: x-api-v2 sniff %v", c.name, got)
		}
	}
}

func TestArchiveOwner(t *testing.T) {
	h, id, err := ArchiveOwner(zipSource(t, "archive"))
	if err != nil || h != fxHandle || id != fxUserID {
		t.Errorf("owner %q %q %v", h, id, err)
	}
	h, id, err = ArchiveOwner(folderSource(t, "archive-old"))
	if err != nil || h != "" || id != "" {
		t.Errorf("an archive without account.js: %q %q %v", h, id, err)
	}
}

// TestArchiveEditControl: an export that writes the edit history as
// edit_control (API v1.1's shape) instead of edit_info.
func TestArchiveEditControl(t *testing.T) {
	js := `window.YTD.tweets.part0 = [
  {"tweet": {"id_str": "` + idE2 + `", "full_text": "v2", "created_at": "Thu Feb 26 10:10:00 +0000 2026", "edit_control": {"edit_tweet_ids": ["` + idE1 + `", "` + idE2 + `"]}}},
  {"tweet": {"id_str": "` + idE1 + `", "full_text": "v1", "created_at": "Thu Feb 26 10:00:00 +0000 2026", "edit_control": {"initial_tweet_id": "` + idE1 + `", "edit_tweet_ids": ["` + idE1 + `", "` + idE2 + `"]}}}
]`
	fsys := fstest.MapFS{"data/tweets.js": {Data: []byte(js)}}
	sink := importInto(t, fixedImporter(), collect.Source{Name: "mem", FS: fsys, Path: "."})
	if len(sink.Bads) > 0 || len(sink.Items) != 2 || sink.Items[0].Text != "v1" || sink.Items[1].Text != "v2" || sink.Items[1].ID != idE1 {
		t.Errorf("items %+v\n%s", sink.Items, badText(sink))
	}
}
