package instagram

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/graphtest"
)

var (
	graphDir  = filepath.Join("..", "..", "..", "testdata", "collect", "instagram", "graph")
	exportDir = filepath.Join("..", "..", "..", "testdata", "collect", "instagram", "export")
)

func TestGraphImportSameAsLive(t *testing.T) {
	a, _, _ := archivetest.New(t)
	s := newServer(t)
	job := s.Job(brigade(), token)
	job.Full, job.Media = true, false
	if r := graphtest.RunInto(t, a, New(), job); r.Err != nil || r.Items != 9 {
		t.Fatalf("live: %v, %d items", r.Err, r.Items)
	}
	r := graphtest.ImportInto(t, a, NewGraphImporter(), graphtest.DirSource(filepath.Join(liveDir, "run1")), brigade())
	if r.Err != nil || len(r.Bads) > 0 {
		t.Fatalf("import: %v %v", r.Err, r.Bads)
	}
	st, err := a.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if r.Items != 9 || st.Items != 9 || st.Versions != 9 {
		t.Fatalf("import saw %d items; the archive has %d items, %d versions; want 9, 9, 9", r.Items, st.Items, st.Versions)
	}
}

func TestGraphImportResponses(t *testing.T) {
	a, _, _ := archivetest.New(t)
	r := graphtest.ImportInto(t, a, NewGraphImporter(), graphtest.DirSource(graphDir), brigade())
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	var bads []string
	for _, b := range r.Bads {
		bads = append(bads, b.Error())
	}
	if len(bads) != 2 || !strings.Contains(bads[0], "responses.jsonl:3: a saved Graph API error") || !strings.Contains(bads[1], "responses.jsonl:4: truncated") {
		t.Fatalf("bads %q", bads)
	}
	if r.Items != 5 {
		t.Fatalf("%d items", r.Items)
	}
	show := func(id string) *archive.Item {
		d, err := a.Show(context.Background(), archive.ItemKey(Platform, "3rd.brigade", id))
		if err != nil {
			t.Fatal(err)
		}
		return d.Versions[0].Item
	}
	if c := show("17850000000000090"); c.Kind != "comment" || c.Thread != "17900000000000090" {
		t.Errorf("nested comment %+v", c)
	}
	for _, id := range []string{"17850000000000091", "17850000000000093"} {
		if rp := show(id); rp.Kind != "reply" || rp.Parent != "17850000000000090" || rp.Thread != "17900000000000090" {
			t.Errorf("reply %s: %+v (a reply read before its comment takes the comment's media)", id, rp)
		}
	}
	if h := show("17850000000000092"); h.Visibility != "hidden" {
		t.Errorf("hidden %+v", h)
	}
	r2 := graphtest.ImportInto(t, a, NewGraphImporter(), graphtest.DirSource(graphDir), brigade())
	if r2.NewVersions != 0 {
		t.Errorf("second import made %d versions", r2.NewVersions)
	}
}

func exportImport(t *testing.T, src collect.Source) *collect.MemorySink {
	t.Helper()
	sink := collect.NewMemorySink()
	if err := NewExportImporter().Import(context.Background(), src, brigade(), sink); err != nil {
		t.Fatal(err)
	}
	return sink
}

func TestExportNewerLayout(t *testing.T) {
	sink := exportImport(t, graphtest.DirSource(filepath.Join(exportDir, "new")))
	if len(sink.Bads) > 0 {
		t.Fatalf("bads %v", sink.Bads)
	}
	want := []string{"export-comment-1705330000", "export-comment-1705331000", "export-comment-1705332000",
		"export-post-1705327200", "export-post-1705240800", "export-post-1705240800-2", "export-reel-1705154400", "export-story-1705068000"}
	if got := ids(sink); !slices.Equal(got, want) {
		t.Fatalf("ids %v\nwant %v", got, want)
	}
	p := sink.Item("export-post-1705327200")
	if p.Text != "Défilé samedi 🇨🇦 #défilé avec @cityofexample" || p.CreatedAt != "2024-01-15T14:00:00Z" || !slices.Equal(p.Hashtags, []string{"défilé"}) || !slices.Equal(p.Mentions, []string{"cityofexample"}) {
		t.Errorf("post %+v", p)
	}
	if len(p.Media) != 1 || p.Media[0].Digest == "" || p.Media[0].URL != "media/posts/202401/17911111111111111.jpg" {
		t.Errorf("post media %+v", p.Media)
	}
	if c := sink.Item("export-post-1705240800"); c.Text != "Journée portes ouvertes — open house" || len(c.Media) != 2 || c.Media[1].Digest == "" {
		t.Errorf("carousel %+v", c)
	}
	if m := sink.Item("export-post-1705240800-2"); m.Text != "Same second" || m.Media[0].Digest != "" {
		t.Errorf("post whose file is missing %+v", m)
	}
	if r := sink.Item("export-reel-1705154400"); r.Kind != "reel" || r.Text != "Répétition 🎺" || r.Media[0].Type != "video" || r.Media[0].Digest == "" {
		t.Errorf("reel %+v", r)
	}
	if s := sink.Item("export-story-1705068000"); s.Kind != "story" || s.Media[0].Digest == "" {
		t.Errorf("story %+v", s)
	}
	if c := sink.Item("export-comment-1705330000"); c.Text != "Bravo à l'équipe 👏" || c.Author.Handle != "3rd.brigade" || c.Kind != "comment" {
		t.Errorf("comment %+v", c)
	}
	if c := sink.Item("export-comment-1705331000"); c.Text != "Café ☕" {
		t.Errorf("text already right was changed: %q", c.Text)
	}
}

func TestExportOlderLayout(t *testing.T) {
	sink := exportImport(t, graphtest.DirSource(filepath.Join(exportDir, "old")))
	if len(sink.Bads) > 0 {
		t.Fatalf("bads %v", sink.Bads)
	}
	want := []string{"export-comment-1565028000", "export-comment-1565028000-2", "export-post-1565026061", "export-post-1565085600", "export-story-1565172000"}
	if got := ids(sink); !slices.Equal(got, want) {
		t.Fatalf("ids %v\nwant %v", got, want)
	}
	if p := sink.Item("export-post-1565026061"); p.Text != "Défilé de la Brigade" || p.Media[0].Digest == "" {
		t.Errorf("photo %+v", p)
	}
	if v := sink.Item("export-post-1565085600"); v.Media[0].Type != "video" || v.Media[0].Digest != "" {
		t.Errorf("video %+v", v)
	}
	if c := sink.Item("export-comment-1565028000"); c.Text != "Merci à tous" {
		t.Errorf("comment %+v", c)
	}
}

func TestExportTwiceAddsNothing(t *testing.T) {
	a, _, _ := archivetest.New(t)
	src := graphtest.DirSource(filepath.Join(exportDir, "new"))
	r1 := graphtest.ImportInto(t, a, NewExportImporter(), src, brigade())
	r2 := graphtest.ImportInto(t, a, NewExportImporter(), src, brigade())
	if r1.Err != nil || r2.Err != nil || r1.Items != 8 || r2.NewVersions != 0 || r2.BlobsWritten != 0 {
		t.Fatalf("first %v %d items; second %v, %d new versions, %d blobs", r1.Err, r1.Items, r2.Err, r2.NewVersions, r2.BlobsWritten)
	}
}

func TestExportMalformed(t *testing.T) {
	fsys := fstest.MapFS{
		"content/posts_1.json":          {Data: []byte("[\n {\"media\": [{\"uri\": \"a.jpg\", \"creation_timestamp\": 1705327200, \"title\": \"ok\"}]},\n {\"media\": []},\n {\"media\": [{\"uri\": \"b.jpg\", \"creation_timestamp\": 17053")},
		"comments/post_comments_1.json": {Data: []byte(`[{"string_map_data": {"Comment": {"value": "fine"}, "Time": {"timestamp": 1705330000}}}, {"string_map_data": "x"}]`)},
	}
	sink := exportImport(t, collect.Source{Name: "instagram.zip", FS: fsys, Path: "."})
	var bads []string
	for _, b := range sink.Bads {
		bads = append(bads, b.Error())
	}
	want := []string{
		"instagram.zip/comments/post_comments_1.json:1: /1: field string_map_data: want an object, got string",
		"instagram.zip/content/posts_1.json:3: /1: no timestamp",
		"instagram.zip/content/posts_1.json:4: truncated JSON: the file ends inside a value",
	}
	if !slices.Equal(bads, want) {
		t.Errorf("bads\n%q\nwant\n%q", bads, want)
	}
	if len(sink.Items) != 2 {
		t.Errorf("items %+v", sink.Items)
	}
}

func TestSniff(t *testing.T) {
	ex, gr := NewExportImporter(), NewGraphImporter()
	for _, d := range []string{"new", "old"} {
		if src := graphtest.DirSource(filepath.Join(exportDir, d)); !ex.Sniff(src) || gr.Sniff(src) {
			t.Errorf("%s: export %v graph %v", d, ex.Sniff(src), gr.Sniff(src))
		}
	}
	if src := graphtest.DirSource(graphDir); !gr.Sniff(src) || ex.Sniff(src) {
		t.Errorf("graph responses: graph %v export %v", gr.Sniff(src), ex.Sniff(src))
	}
	if !gr.Sniff(graphtest.DirSource(filepath.Join(liveDir, "run1"))) {
		t.Error("saved live pages not recognised")
	}
}

func FuzzGraphImport(f *testing.F) {
	b, err := os.ReadFile(filepath.Join(graphDir, "responses.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		sink := collect.NewMemorySink()
		src := collect.Source{Name: "r.jsonl", FS: fstest.MapFS{"r.jsonl": {Data: b}}, Path: "r.jsonl"}
		if err := NewGraphImporter().Import(context.Background(), src, brigade(), sink); err != nil {
			t.Fatal(err)
		}
		for i, it := range sink.Items {
			if it.ID == "" || sink.Opts[i].Raw == nil {
				t.Fatalf("item %+v", it)
			}
		}
	})
}

func FuzzExportPosts(f *testing.F) {
	fuzzExport(f, "content/posts_1.json", filepath.Join(exportDir, "new", "your_instagram_activity", "content", "posts_1.json"))
}

func FuzzExportComments(f *testing.F) {
	fuzzExport(f, "comments/post_comments_1.json", filepath.Join(exportDir, "new", "your_instagram_activity", "comments", "post_comments_1.json"))
}

func FuzzExportOldMedia(f *testing.F) {
	fuzzExport(f, "media.json", filepath.Join(exportDir, "old", "media.json"))
}

func fuzzExport(f *testing.F, name, seed string) {
	b, err := os.ReadFile(seed)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		sink := collect.NewMemorySink()
		src := collect.Source{Name: "x", FS: fstest.MapFS{name: {Data: b}}, Path: "."}
		if err := NewExportImporter().Import(context.Background(), src, brigade(), sink); err != nil {
			t.Fatal(err)
		}
		for i, it := range sink.Items {
			if !strings.HasPrefix(it.ID, "export-") || sink.Opts[i].Raw == nil || sink.Opts[i].Line == 0 {
				t.Fatalf("item %+v %+v", it, sink.Opts[i])
			}
		}
	})
}
