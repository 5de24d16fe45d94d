package facebook

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

var graphDir = filepath.Join("..", "..", "..", "testdata", "collect", "facebook", "graph")

func TestGraphImportSameAsLive(t *testing.T) {
	a, _, _ := archivetest.New(t)
	s := newServer(t)
	job := s.Job(brigade(), token)
	job.Full, job.Media = true, false // an import has no media files to store
	live := graphtest.RunInto(t, a, New(), job)
	if live.Err != nil || live.Items != 8 {
		t.Fatalf("live: %v, %d items", live.Err, live.Items)
	}
	// The same pages, saved.
	r := graphtest.ImportInto(t, a, NewGraphImporter(), graphtest.DirSource(filepath.Join(liveDir, "run1")), brigade())
	if r.Err != nil || len(r.Bads) > 0 {
		t.Fatalf("import: %v, %v", r.Err, r.Bads)
	}
	if r.Items != 8 || r.NewVersions != 0 {
		t.Fatalf("import saw %d items and made %d new versions; want 8 and 0 (one item, one version)", r.Items, r.NewVersions)
	}
	st, err := a.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Items != 8 || st.Versions != 8 {
		t.Errorf("%d items, %d versions; want 8 and 8", st.Items, st.Versions)
	}
	for _, id := range []string{"2001_3002", "2003_3101"} {
		d, err := a.Show(context.Background(), archive.ItemKey(Platform, "3rd-brigade", id))
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Sightings) != 2 {
			t.Errorf("%s: %d sightings, want the live one and the import", id, len(d.Sightings))
		}
	}
}

func TestGraphImportResponses(t *testing.T) {
	a, _, _ := archivetest.New(t)
	r := graphtest.ImportInto(t, a, NewGraphImporter(), graphtest.DirSource(graphDir), brigade())
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	// responses.jsonl: line 2 is cut short, line 4 a saved error.
	var bads []string
	for _, b := range r.Bads {
		bads = append(bads, b.Error())
	}
	if len(bads) != 2 || !strings.Contains(bads[0], "responses.jsonl:2: truncated") || !strings.Contains(bads[1], "responses.jsonl:4: a saved Graph API error") {
		t.Fatalf("bad records %q", bads)
	}
	// The nested post with comments and a reply, the single post twice
	// (a line and a file): 6 sightings of 5 items, 5 versions.
	st, err := a.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if r.Items != 6 || st.Items != 5 || st.Versions != 5 {
		t.Fatalf("%d items seen, %d items and %d versions in the archive", r.Items, st.Items, st.Versions)
	}
	ctx := context.Background()
	show := func(id string) *archive.Item {
		d, err := a.Show(ctx, archive.ItemKey(Platform, "3rd-brigade", id))
		if err != nil {
			t.Fatal(err)
		}
		return d.Versions[len(d.Versions)-1].Item
	}
	if c := show("1990_4001"); c.Kind != "comment" || c.Parent != "101_1990" || c.Thread != "101_1990" {
		t.Errorf("nested comment %+v", c)
	}
	if rp := show("1990_4002"); rp.Kind != "reply" || rp.Parent != "1990_4001" || rp.Thread != "101_1990" {
		t.Errorf("nested reply %+v", rp)
	}
	if h := show("1990_4003"); h.Visibility != "hidden" || h.Author != nil {
		t.Errorf("hidden comment %+v", h)
	}
	album := show("101_1980")
	if len(album.Media) != 2 || album.Media[0].URL != "https://scontent.xx.fbcdn.net/v/a.jpg" || album.Media[1].Type != "video" || album.Media[1].URL != "https://video.xx.fbcdn.net/v/b.mp4" {
		t.Errorf("album media %+v", album.Media)
	}
	if album.Links != nil {
		t.Errorf("an album's own link is not a link of the post: %q", album.Links)
	}
	// Importing the same files again adds nothing.
	r2 := graphtest.ImportInto(t, a, NewGraphImporter(), graphtest.DirSource(graphDir), brigade())
	if r2.NewVersions != 0 || r2.Items != 6 {
		t.Errorf("second import: %d items, %d new versions", r2.Items, r2.NewVersions)
	}
}

func TestGraphImportPlacesComments(t *testing.T) {
	sink := collect.NewMemorySink()
	page := `{"data":[{"id":"2003_3101","message":"x","created_time":"2015-06-02T08:15:00+0000"},{"id":"2003_3102","message":"y","created_time":"2015-06-02T08:16:00+0000","parent":{"id":"2003_3101"}}]}`
	src := collect.Source{Name: "c.json", FS: fstest.MapFS{"c.json": {Data: []byte(page)}}, Path: "c.json"}
	if err := NewGraphImporter().Import(context.Background(), src, brigade(), sink); err != nil {
		t.Fatal(err)
	}
	if len(sink.Items) != 2 || sink.Items[0].Kind != "comment" || sink.Items[0].Thread != "101_2003" || sink.Items[1].Kind != "reply" || sink.Items[1].Parent != "2003_3101" {
		t.Errorf("items %+v", sink.Items)
	}
	// Without the Page id the post is not known: no parent, no thread.
	sink = collect.NewMemorySink()
	if err := NewGraphImporter().Import(context.Background(), src, archive.Account{Platform: Platform, Handle: "3rd-brigade"}, sink); err != nil {
		t.Fatal(err)
	}
	if sink.Items[0].Parent != "" || sink.Items[0].Thread != "" {
		t.Errorf("comment placed without a Page id: %+v", sink.Items[0])
	}
}

func TestGraphSniff(t *testing.T) {
	im := NewGraphImporter()
	if !im.Sniff(graphtest.DirSource(graphDir)) || !im.Sniff(graphtest.FileSource(filepath.Join(graphDir, "single-post.json"))) {
		t.Error("saved Graph responses not recognised")
	}
	if im.Sniff(graphtest.FileSource(filepath.Join("..", "..", "..", "testdata", "items.jsonl"))) {
		t.Error("osmarc's item format taken for Graph responses")
	}
}

func FuzzGraphImport(f *testing.F) {
	for _, p := range []string{filepath.Join(graphDir, "responses.jsonl"), filepath.Join(graphDir, "single-post.json"), filepath.Join(liveDir, "run1", "101_feed.json")} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`[{"data":[]},{"id":"1_2","created_time":"2020-01-01T00:00:00+0000"}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		sink := collect.NewMemorySink()
		src := collect.Source{Name: "f.json", FS: fstest.MapFS{"f.json": {Data: b}}, Path: "f.json"}
		if err := NewGraphImporter().Import(context.Background(), src, brigade(), sink); err != nil {
			t.Fatal(err)
		}
		for i, it := range sink.Items {
			if it.Platform != Platform || it.Account != "3rd-brigade" || it.ID == "" || sink.Opts[i].Raw == nil {
				t.Fatalf("item %+v", it)
			}
		}
		if slices.ContainsFunc(sink.Bads, func(e *archive.InputError) bool { return e.Source != "f.json" }) {
			t.Fatal("a bad record does not name the file")
		}
	})
}
