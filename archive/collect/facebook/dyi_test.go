package facebook

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/graphtest"
)

var dyiDir = filepath.Join("..", "..", "..", "testdata", "collect", "facebook", "dyi")

func dyiImport(t *testing.T, src collect.Source) *collect.MemorySink {
	t.Helper()
	sink := collect.NewMemorySink()
	if err := NewDYIImporter().Import(context.Background(), src, brigade(), sink); err != nil {
		t.Fatal(err)
	}
	return sink
}

func TestDYIOlderLayout(t *testing.T) {
	sink := dyiImport(t, graphtest.DirSource(filepath.Join(dyiDir, "old")))
	if len(sink.Bads) > 0 {
		t.Fatalf("bads %v", sink.Bads)
	}
	var ids []string
	for _, it := range sink.Items {
		ids = append(ids, it.ID)
	}
	want := []string{"dyi-comment-1705330000", "dyi-comment-1705331000", "dyi-post-1705327200", "dyi-post-1705240800", "dyi-post-1705154400", "dyi-post-1705154400-2", "dyi-post-1705068000"}
	if !slices.Equal(ids, want) {
		t.Fatalf("ids %v, want %v", ids, want)
	}
	p := sink.Item("dyi-post-1705327200")
	if p.Text != "Défilé de la Brigade samedi 🇨🇦 #défilé" || p.CreatedAt != "2024-01-15T14:00:00Z" || p.EditedAt != "2024-01-15T15:00:00Z" || !slices.Equal(p.Hashtags, []string{"défilé"}) {
		t.Errorf("status update %+v (mis-encoded text is repaired)", p)
	}
	photo := sink.Item("dyi-post-1705240800")
	if len(photo.Media) != 1 || photo.Media[0].URL != "posts/media/TimelinePhotos_4001/12345_67890_n.jpg" || photo.Media[0].Type != "image" || photo.Media[0].Digest == "" {
		t.Errorf("photo media %+v (the export's file is stored)", photo.Media)
	}
	if link := sink.Item("dyi-post-1705154400"); !slices.Equal(link.Links, []string{"https://city.example/notice/parking"}) {
		t.Errorf("link %+v", link.Links)
	}
	if pp := sink.Item("dyi-post-1705068000"); len(pp.Media) != 1 || pp.Media[0].Digest != "" || pp.Text != "" {
		t.Errorf("a media file the export lacks: %+v", pp)
	}
	c := sink.Item("dyi-comment-1705330000")
	if c.Kind != "comment" || c.Text != "Merci à tous ! 👏" || c.Author == nil || c.Author.Name != "3rd Canadian Division Brigade" {
		t.Errorf("comment %+v", c)
	}
	if g := sink.Item("dyi-comment-1705331000"); !slices.Equal(g.Links, []string{"https://media.tenor.example/salute.gif"}) {
		t.Errorf("gif comment %+v", g)
	}
	// Items point into chunks that hold the export's bytes as they were.
	for i, o := range sink.Opts {
		raw := string(sink.Raws[*o.Raw])
		if !strings.HasPrefix(raw, "[") || !strings.Contains(raw, `\u00c3`) && strings.HasPrefix(sink.Items[i].Text, "D") {
			t.Errorf("raw chunk of %s is not the export's bytes: %.80s", sink.Items[i].ID, raw)
		}
		if o.Line == 0 || !strings.HasSuffix(o.Source, ".json") {
			t.Errorf("options %+v", o)
		}
	}
}

func TestDYINewerLayout(t *testing.T) {
	sink := dyiImport(t, graphtest.DirSource(filepath.Join(dyiDir, "new")))
	if len(sink.Bads) > 0 {
		t.Fatalf("bads %v", sink.Bads)
	}
	if len(sink.Items) != 4 {
		t.Fatalf("%d items", len(sink.Items))
	}
	if p := sink.Item("dyi-post-1705327200"); p.Text != "Défilé de la Brigade samedi 🇨🇦 #défilé" {
		t.Errorf("repaired %q", p.Text)
	}
	// Text already right is left alone.
	if p := sink.Item("dyi-post-1706000000"); p.Text != "Café et beignes 🍩 après la parade" {
		t.Errorf("correct text changed: %q", p.Text)
	}
	c := sink.Item("dyi-comment-1706000100")
	if c.Text != "Déjà vu" || c.Author.Name != "Tobias Løye" || len(c.Media) != 1 || c.Media[0].Digest == "" {
		t.Errorf("comment %+v, media %+v", c, c.Media)
	}
}

func TestDYITwiceAddsNothing(t *testing.T) {
	a, _, _ := archivetest.New(t)
	src := graphtest.DirSource(filepath.Join(dyiDir, "old"))
	r1 := graphtest.ImportInto(t, a, NewDYIImporter(), src, brigade())
	if r1.Err != nil || r1.Items != 7 || r1.NewVersions != 7 {
		t.Fatalf("first import: %v, %d items, %d versions", r1.Err, r1.Items, r1.NewVersions)
	}
	r2 := graphtest.ImportInto(t, a, NewDYIImporter(), src, brigade())
	if r2.Err != nil || r2.NewVersions != 0 || r2.BlobsWritten != 0 {
		t.Fatalf("second import: %v, %d new versions, %d blobs written", r2.Err, r2.NewVersions, r2.BlobsWritten)
	}
	// The newer export of the same Page: the status update agrees.
	r3 := graphtest.ImportInto(t, a, NewDYIImporter(), graphtest.DirSource(filepath.Join(dyiDir, "new")), brigade())
	d, err := a.Show(context.Background(), archive.ItemKey(Platform, "3rd-brigade", "dyi-post-1705327200"))
	if err != nil || r3.Err != nil {
		t.Fatal(err, r3.Err)
	}
	if len(d.Versions) != 1 || len(d.Sightings) != 3 {
		t.Errorf("%d versions, %d sightings", len(d.Versions), len(d.Sightings))
	}
}

func TestDYIMalformed(t *testing.T) {
	posts := "[\n  {\"timestamp\": 1705327200, \"data\": [{\"post\": \"first\"}]},\n  {\"timestamp\": \"soon\", \"data\": []},\n  {\"data\": [{\"post\": \"no time\"}]},\n  {\"timestamp\": 1705327300, \"data\": [{\"post\": \"cut sh"
	fsys := fstest.MapFS{
		"posts/your_posts_1.json":   {Data: []byte(posts)},
		"comments/comments.json":    {Data: []byte(`{"comments_v2": [{"timestamp": 1705330000, "data": [{"comment": {"comment": "ok", "author": "A"}}]}]}`)},
		"messages/inbox/x/m_1.json": {Data: []byte(`not json`)},
	}
	sink := dyiImport(t, collect.Source{Name: "export.zip", FS: fsys, Path: "."})
	var bads []string
	for _, b := range sink.Bads {
		bads = append(bads, b.Error())
	}
	want := []string{
		"export.zip/posts/your_posts_1.json:3: /1: timestamp \"soon\" is not a number",
		"export.zip/posts/your_posts_1.json:4: /2: no timestamp",
		"export.zip/posts/your_posts_1.json:5: truncated JSON: the file ends inside a value",
	}
	if !slices.Equal(bads, want) {
		t.Errorf("bads\n%q\nwant\n%q", bads, want)
	}
	if len(sink.Items) != 2 || sink.Item("dyi-post-1705327200") == nil || sink.Item("dyi-comment-1705330000") == nil {
		t.Errorf("items before and after the bad records are kept: %+v", sink.Items)
	}
	// Nothing that looks like an export.
	err := NewDYIImporter().Import(context.Background(), collect.Source{Name: "x", FS: fstest.MapFS{"a/b.json": {Data: []byte("{}")}}, Path: "."}, brigade(), collect.NewMemorySink())
	if err == nil || !strings.Contains(err.Error(), "no posts or comments file") {
		t.Errorf("err %v", err)
	}
}

func TestDYISniff(t *testing.T) {
	im := NewDYIImporter()
	for _, src := range []collect.Source{
		graphtest.DirSource(filepath.Join(dyiDir, "old")),
		graphtest.DirSource(filepath.Join(dyiDir, "new")),
		graphtest.FileSource(filepath.Join(dyiDir, "old", "comments", "comments.json")),
	} {
		if !im.Sniff(src) {
			t.Errorf("%s not recognised", src.Name)
		}
	}
	if im.Sniff(graphtest.DirSource(graphDir)) || NewGraphImporter().Sniff(graphtest.DirSource(filepath.Join(dyiDir, "old"))) {
		t.Error("DYI and saved Graph responses confused")
	}
}

func FuzzDYIPosts(f *testing.F) {
	fuzzDYI(f, "posts/your_posts_1.json", filepath.Join(dyiDir, "old", "posts", "your_posts_1.json"))
}

func FuzzDYIComments(f *testing.F) {
	fuzzDYI(f, "comments/comments.json", filepath.Join(dyiDir, "new", "your_facebook_activity", "comments_and_reactions", "comments.json"))
}

func fuzzDYI(f *testing.F, name, seed string) {
	b, err := os.ReadFile(seed)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"status_updates": [{"timestamp": 1, "data": [{"post": "\u00c3"}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		sink := collect.NewMemorySink()
		src := collect.Source{Name: "x", FS: fstest.MapFS{name: {Data: b}}, Path: "."}
		if err := NewDYIImporter().Import(context.Background(), src, brigade(), sink); err != nil {
			t.Fatal(err)
		}
		for i, it := range sink.Items {
			if !strings.HasPrefix(it.ID, "dyi-") || sink.Opts[i].Raw == nil || sink.Opts[i].Line == 0 {
				t.Fatalf("item %+v %+v", it, sink.Opts[i])
			}
		}
	})
}

// countSink counts what it is sent and keeps nothing.
type countSink struct {
	items, bads int
	peak        uint64
}

func (s *countSink) PutRaw(ctx context.Context, body []byte, source, lines, mediaType string) (archive.Digest, error) {
	return archive.Sum(body), nil
}
func (s *countSink) AddItem(ctx context.Context, it archive.Item, o archive.ItemOptions) error {
	s.items++
	if s.items%10000 == 0 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		s.peak = max(s.peak, ms.HeapAlloc)
	}
	return nil
}
func (s *countSink) Bad(*archive.InputError)                               { s.bads++ }
func (s *countSink) Complete(archive.Scope)                                {}
func (s *countSink) SetState(json.RawMessage)                              {}
func (s *countSink) PutMediaFile(context.Context, *collect.Download) error { return nil }

// A large export streams: memory stays far below the export's size.
func TestDYIStreamsLargeExport(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "posts"), 0o755)
	f, err := os.Create(filepath.Join(dir, "posts", "your_posts_1.json"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 120000
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("[\n")
	text := strings.Repeat(`D\u00c3\u00a9fil\u00c3\u00a9 `, 10)
	for i := range n {
		if i > 0 {
			w.WriteString(",\n")
		}
		fmt.Fprintf(w, `  {"timestamp": %d, "data": [{"post": "%s %d"}], "title": "3rd Canadian Division Brigade updated their status."}`, 1500000000+i, text, i)
	}
	w.WriteString("\n]\n")
	w.Flush()
	fi, _ := f.Stat()
	f.Close()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	sink := &countSink{}
	if err := NewDYIImporter().Import(context.Background(), graphtest.DirSource(dir), brigade(), sink); err != nil {
		t.Fatal(err)
	}
	if sink.items != n || sink.bads != 0 {
		t.Fatalf("%d items, %d bad", sink.items, sink.bads)
	}
	grew := int64(sink.peak) - int64(base)
	t.Logf("export %d MiB, heap grew %d MiB at most", fi.Size()>>20, grew>>20)
	if grew > fi.Size()*3/4 {
		t.Errorf("heap grew %d MiB reading a %d MiB export", grew>>20, fi.Size()>>20)
	}
}
