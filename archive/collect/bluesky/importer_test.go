package bluesky

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/fixture"
)

func TestImportSavedResponses(t *testing.T) {
	dir := filepath.Join(fixture.Dir(t, "bluesky"), "saved")
	src := collect.Source{Name: dir, FS: os.DirFS(dir), Path: "."}
	imp := NewAPIImporter()
	if !imp.Sniff(src) {
		t.Error("sniff")
	}
	sink := collect.NewMemorySink()
	if err := imp.Import(context.Background(), src, fixture.Account(Platform, handle, did, ""), sink); err != nil {
		t.Fatal(err)
	}
	// responses.jsonl line 2 is cut short and line 4 is an error body.
	if len(sink.Bads) != 2 || sink.Bads[0].Line != 2 || sink.Bads[1].Line != 4 {
		t.Fatalf("bads %v", sink.Bads)
	}
	h := sink.Item("at://did:plc:cityexample2024/app.bsky.feed.post/3jhello00001")
	if h == nil || strings.Join(h.Links, " ") != "https://example.gov" || len(h.Media) != 1 || h.Media[0].URL != "https://cdn.bsky.social/imgproxy/f/logo" {
		t.Errorf("2023 layout: %+v", h)
	}
	if b := sink.Item("repost:did:plc:cityexample2024:at://did:plc:other0000001/app.bsky.feed.post/3jother00001"); b == nil || b.Kind != "boost" || b.CreatedAt != "2023-03-31T09:00:00Z" {
		t.Errorf("repost without its own uri: %+v", b)
	}
	if c := sink.Item("at://did:plc:cityexample2024/app.bsky.feed.post/3jcp1252post"); c == nil || c.Text != "Réouverture du café" {
		t.Errorf("Windows-1252 text: %+v", c)
	}
	if m := sink.Item(merci); m == nil || m.Parent != quote {
		t.Errorf("thread reply: %+v", m)
	}
	if v := sink.Item(video); v == nil || len(v.Media) != 1 {
		t.Errorf("getPosts: %+v", v)
	}
}

func TestImportTwiceAndAgreeWithCollector(t *testing.T) {
	s := serve(t)
	a, _, _ := archivetest.New(t)
	job, _ := newJob(t, s, true)
	if _, err := fixture.RunInto(t, a, New(), job); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range []string{"author-feed-1.json", "author-feed-2.json", "thread-firstpost.json", "thread-quotepost.json"} {
		b, err := os.ReadFile(filepath.Join(fixture.Dir(t, "bluesky"), f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), bytes.ReplaceAll(b, []byte("{{BASE}}"), []byte(s.URL)), 0o644)
	}
	src := collect.Source{Name: dir, FS: os.DirFS(dir), Path: "."}
	for i := 0; i < 2; i++ {
		res, err := fixture.ImportInto(t, a, NewAPIImporter(), src, job.Account)
		if err != nil || res.NewVersions != 0 || res.Errors != 0 || res.Items < 8 {
			t.Errorf("import %d: %+v %v", i, res, err)
		}
	}
}

func FuzzImport(f *testing.F) {
	for _, p := range []string{"author-feed-1.json", "author-feed-2.json", "thread-firstpost.json", "saved/responses.jsonl", "saved/getAuthorFeed-2023.json"} {
		b, err := os.ReadFile(filepath.Join(fixture.Dir(f, "bluesky"), p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		for _, name := range []string{"f.json", "f.jsonl"} {
			src := collect.Source{Name: name, FS: fstest.MapFS{name: {Data: data}}, Path: name}
			NewAPIImporter().Sniff(src)
			if err := NewAPIImporter().Import(context.Background(), src, fixture.Account(Platform, "a", "", ""), collect.NewMemorySink()); err != nil {
				t.Fatalf("import returned %v (bad input must be reported with Bad)", err)
			}
		}
	})
}
