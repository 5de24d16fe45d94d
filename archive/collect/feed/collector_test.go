package feed

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/fixture"
)

const handle = "news.example.gov"

func serve(t *testing.T) *fixture.Server {
	s := fixture.NewServer(t, fixture.Dir(t, "feed"))
	xml := map[string]string{"Content-Type": "application/rss+xml; charset=UTF-8"}
	s.Handle("/feed/", fixture.Route{File: "rss.xml", Header: xml})
	s.Handle("/uploads/detours.png", fixture.Route{Body: "\x89PNG\r\n\x1a\nfeed", Header: map[string]string{"Content-Type": "image/png"}})
	s.Handle("/podcast/ep12.mp3", fixture.Route{Body: "ID3 audio", Header: map[string]string{"Content-Type": "audio/mpeg"}})
	return s
}

func newJob(t *testing.T, s *fixture.Server, full bool) (*collect.Job, *fixture.Sleeps) {
	c, sl := fixture.Client(t)
	acct := fixture.Account(Platform, handle, "", s.URL+"/feed/")
	return &collect.Job{Account: acct, Full: full, HTTP: c, Now: func() time.Time { return archivetest.Start }}, sl
}

func TestCollectAndRemoved(t *testing.T) {
	s := serve(t)
	a, _, clock := archivetest.New(t)
	job, _ := newJob(t, s, true)
	res, err := fixture.RunInto(t, a, New(), job)
	if err != nil || !res.Complete || res.Items != 4 || res.Errors != 0 {
		t.Fatalf("%+v %v", res, err)
	}
	ctx := context.Background()
	d, err := a.Show(ctx, archive.ItemKey(Platform, handle, "https://news.example.gov/?p=101"))
	if err != nil || d.Versions[0].Item.Kind != "post" || d.Sightings[0].Raw == "" {
		t.Fatalf("%+v %v", d, err)
	}
	// The podcast episode is taken down; the oldest entry is outside the
	// window and may not be marked, the one in it is.
	clock.Advance(3600e9)
	s.Handle("/feed/", fixture.Route{File: "rss-run2.xml"})
	job2, _ := newJob(t, s, true)
	res, err = fixture.RunInto(t, a, New(), job2)
	if err != nil || !res.Complete || res.Removed != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	if d, _ := a.Show(ctx, archive.ItemKey(Platform, handle, "https://news.example.gov/?p=99")); d.RemovedAt == nil {
		t.Error("removed entry not marked")
	}
	// Dropping out of the window is not removal.
	s.Handle("/feed/", fixture.Route{Body: strings.Replace(mustRead(t, "rss-run2.xml"), "<title>Welcome</title>", "<title>Welcome</title>", 1)})
	clock.Advance(3600e9)
	s.Handle("/feed/", fixture.Route{Body: onlyFirst(t)})
	res, _ = fixture.RunInto(t, a, New(), &collect.Job{Account: job.Account, Full: true, HTTP: job.HTTP})
	if res.Removed != 0 {
		t.Errorf("entries beyond the window marked removed: %+v", res)
	}
}

func mustRead(t *testing.T, name string) string {
	b, err := os.ReadFile(filepath.Join(fixture.Dir(t, "feed"), name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// onlyFirst is the feed with its newest entry only (the rest aged out).
func onlyFirst(t *testing.T) string {
	s := mustRead(t, "rss.xml")
	a := strings.Index(s, "\t<item>\n\t\t<title>Council meeting")
	b := strings.Index(s, "</channel>")
	return s[:a] + s[b:]
}

func TestUndatedEntriesKeepTheirFirstSeenTime(t *testing.T) {
	s := fixture.NewServer(t, fixture.Dir(t, "feed"))
	s.Handle("/bulletin.rss", fixture.Route{File: "rss-0.91.xml", Header: map[string]string{"Content-Type": "text/xml"}})
	a, _, clock := archivetest.New(t)
	c, _ := fixture.Client(t)
	acct := fixture.Account(Platform, "township", "", s.URL+"/bulletin.rss")
	now := archivetest.Start
	job := &collect.Job{Account: acct, Full: true, HTTP: c, Now: func() time.Time { return now }}
	res, err := fixture.RunInto(t, a, New(), job)
	if err != nil || res.Complete || res.Items != 2 {
		t.Fatalf("an undated feed cannot be complete: %+v %v", res, err)
	}
	clock.Advance(48 * 3600e9)
	now = now.Add(48 * time.Hour)
	res, err = fixture.RunInto(t, a, New(), &collect.Job{Account: acct, Full: true, HTTP: c, Now: func() time.Time { return now }})
	if err != nil || res.NewVersions != 0 {
		t.Errorf("second run made new versions of undated entries: %+v %v", res, err)
	}
	d, _ := a.Show(context.Background(), archive.ItemKey(Platform, "township", "http://township.example.gov/bulletin/dogs.html"))
	if d.Versions[0].Item.CreatedAt != archivetest.Start.Format(time.RFC3339) {
		t.Errorf("created %s", d.Versions[0].Item.CreatedAt)
	}
}

func TestRetriesAuthAndMalformed(t *testing.T) {
	s := serve(t)
	s.Handle("/feed/", fixture.Route{Status: 429, Header: map[string]string{"Retry-After": "60"}}, fixture.Route{Status: 503}, fixture.Route{File: "rss.xml"})
	a, _, _ := archivetest.New(t)
	job, sleeps := newJob(t, s, true)
	if res, err := fixture.RunInto(t, a, New(), job); err != nil || !res.Complete || sleeps.Count() != 2 {
		t.Fatalf("%+v %v waits %d", res, err, sleeps.Count())
	}

	s.Handle("/feed/", fixture.Route{Status: 401, Body: "Authorization required"})
	job, _ = newJob(t, s, true)
	job.Secret = "feed-token-123"
	res, err := fixture.RunInto(t, a, New(), job)
	if !errors.Is(err, collect.ErrAuth) || res.Complete || strings.Contains(err.Error(), "feed-token") {
		t.Errorf("expired token: %+v %v", res, err)
	}

	s.Handle("/feed/", fixture.Route{File: "rss-truncated.xml"})
	job, _ = newJob(t, s, true)
	res, err = fixture.RunInto(t, a, New(), job)
	if !errors.Is(err, collect.ErrMalformed) || res.Complete || res.Errors != 1 {
		t.Errorf("malformed: %+v %v", res, err)
	}
}

func TestMedia(t *testing.T) {
	s := serve(t)
	s.Handle("/podcast/ep12.mp3", fixture.Route{Status: 404})
	job, _ := newJob(t, s, true)
	job.Media = true
	sink := collect.NewMemorySink()
	job.Sink = sink
	if err := New().Collect(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	if it := sink.Item("https://news.example.gov/?p=101"); it.Media[0].Digest == "" {
		t.Errorf("%+v", it.Media)
	}
	if len(sink.Bads) != 1 || sink.Scope != nil {
		t.Errorf("failed download: %v, complete %v", sink.Bads, sink.Scope)
	}
}

func TestImporter(t *testing.T) {
	dir := fixture.Dir(t, "feed")
	imp := NewImporter()
	for _, f := range []string{"rss.xml", "atom-youtube.xml", "feed.json", "rss-0.91.xml"} {
		if !imp.Sniff(fixture.FileSource(filepath.Join(dir, f))) {
			t.Errorf("sniff %s", f)
		}
	}
	a, _, _ := archivetest.New(t)
	acct := fixture.Account(Platform, "township", "", "")
	src := fixture.FileSource(filepath.Join(dir, "rss-0.91.xml"))
	first, err := fixture.ImportInto(t, a, imp, src, acct)
	if err != nil || first.Items != 2 || first.Errors != 0 {
		t.Fatalf("%+v %v", first, err)
	}
	second, _ := fixture.ImportInto(t, a, imp, src, acct)
	if second.NewVersions != 0 {
		t.Errorf("second import: %+v", second)
	}
	// A feed the collector read and the same feed saved give one version.
	s := serve(t)
	job, _ := newJob(t, s, true)
	fixture.RunInto(t, a, New(), job)
	saved := t.TempDir()
	os.WriteFile(filepath.Join(saved, "feed.xml"), []byte(strings.ReplaceAll(mustRead(t, "rss.xml"), "{{BASE}}", s.URL)), 0o644)
	res, err := fixture.ImportInto(t, a, imp, fixture.FileSource(filepath.Join(saved, "feed.xml")), job.Account)
	if err != nil || res.Items != 4 || res.NewVersions != 0 {
		t.Errorf("import after collection: %+v %v", res, err)
	}
	// Not a feed.
	sink := collect.NewMemorySink()
	if err := imp.Import(context.Background(), collect.Source{Name: "x.json", FS: fstest.MapFS{"x.json": {Data: []byte(`{"a":1}`)}}, Path: "x.json"}, acct, sink); err != nil || len(sink.Bads) != 1 {
		t.Errorf("%v %v", err, sink.Bads)
	}
}

func FuzzImport(f *testing.F) {
	for _, p := range []string{"rss.xml", "atom-youtube.xml", "feed.json", "feed-1.0.json", "rss-0.91.xml", "rss-misencoded.xml"} {
		b, err := os.ReadFile(filepath.Join(fixture.Dir(f, "feed"), p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		src := collect.Source{Name: "f.xml", FS: fstest.MapFS{"f.xml": {Data: data, ModTime: archivetest.Start}}, Path: "f.xml"}
		NewImporter().Sniff(src)
		if err := NewImporter().Import(context.Background(), src, fixture.Account(Platform, "a", "", ""), collect.NewMemorySink()); err != nil {
			t.Fatalf("import returned %v (bad input must be reported with Bad)", err)
		}
	})
}
