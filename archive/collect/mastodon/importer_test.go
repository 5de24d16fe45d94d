package mastodon

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/fixture"
)

func TestAPIImportOldAndNewLayouts(t *testing.T) {
	src := fixture.FileSource(filepath.Join(fixture.Dir(t, "mastodon"), "saved", "mastodon-1.6-and-newer.jsonl"))
	imp := NewAPIImporter()
	if !imp.Sniff(src) {
		t.Error("sniff: not recognised")
	}
	sink := collect.NewMemorySink()
	acct := fixture.Account(Platform, "cityofexample", "", "")
	if err := imp.Import(context.Background(), src, acct, sink); err != nil {
		t.Fatal(err)
	}
	// Line 3 is cut short, line 4 is an edit history: both reported with
	// their line; the rest is kept.
	if len(sink.Bads) != 2 || sink.Bads[0].Line != 3 || sink.Bads[1].Line != 4 || !strings.Contains(sink.Bads[1].Error(), "edit history") {
		t.Fatalf("bad records: %v", sink.Bads)
	}
	old := sink.Item("9001")
	if old == nil || old.Kind != "post" || old.Text != "Our first toot! Follow us for city news & alerts." || len(old.Media) != 1 || old.CreatedAt != "2017-09-10T14:03:11Z" {
		t.Errorf("Mastodon 1.6 status: %+v", old)
	}
	if r := sink.Item("9002"); r == nil || r.Parent != "9001" || r.Kind != "reply" || strings.Join(r.Links, " ") != "https://example.gov/contact" {
		t.Errorf("numeric reply: %+v", r)
	}
	if r := sink.Item("110000000000000031"); r == nil || r.Text != "When does the pool open? 🏊" || r.Author.Handle != "pat@elsewhere.example" {
		t.Errorf("reply from a context (mis-encoded emoji): %+v", r)
	}
	if p := sink.Item("110000000000000030"); p == nil || strings.Join(p.Hashtags, ",") != "summer" {
		t.Errorf("newer layout: %+v", p)
	}
	for i, o := range sink.Opts {
		if o.Raw == nil || o.Line == 0 {
			t.Errorf("item %d names no raw line: %+v", i, o)
		}
	}
}

func TestAPIImportTwiceAddsNothing(t *testing.T) {
	a, _, _ := archivetest.New(t)
	acct := fixture.Account(Platform, "cityofexample", "", "")
	src := fixture.FileSource(filepath.Join(fixture.Dir(t, "mastodon"), "saved", "mastodon-1.6-and-newer.jsonl"))
	first, _ := fixture.ImportInto(t, a, NewAPIImporter(), src, acct)
	second, _ := fixture.ImportInto(t, a, NewAPIImporter(), src, acct)
	if first.NewVersions != 4 || second.NewVersions != 0 || second.Items != first.Items {
		t.Errorf("first %+v\nsecond %+v", first, second)
	}
}

// The live collector and an import of the same responses give one item
// with one version per post.
func TestCollectorAndImporterAgree(t *testing.T) {
	s := serve(t)
	a, _, _ := archivetest.New(t)
	job, _ := newJob(t, s, true)
	if _, err := fixture.RunInto(t, a, New(), job); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range []string{"statuses-page1.json", "statuses-page2.json", "context-4.json"} {
		b, err := os.ReadFile(filepath.Join(fixture.Dir(t, "mastodon"), f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), bytes.ReplaceAll(b, []byte("{{BASE}}"), []byte(s.URL)), 0o644)
	}
	res, err := fixture.ImportInto(t, a, NewAPIImporter(), collect.Source{Name: dir, FS: os.DirFS(dir), Path: "."}, job.Account)
	if err != nil {
		t.Fatal(err)
	}
	if res.Items != 7 || res.NewVersions != 0 || res.Errors != 0 {
		t.Errorf("import after collection: %+v", res)
	}
}

func TestOutboxImport(t *testing.T) {
	dir := filepath.Join(fixture.Dir(t, "mastodon"), "export")
	src := collect.Source{Name: dir, FS: os.DirFS(dir), Path: "."}
	imp := NewOutboxImporter()
	if !imp.Sniff(src) || NewAPIImporter().Sniff(src) {
		t.Error("sniff")
	}
	sink := collect.NewMemorySink()
	if err := imp.Import(context.Background(), src, fixture.Account(Platform, "cityofexample", "", ""), sink); err != nil {
		t.Fatal(err)
	}
	// The missing media file and the bad date are reported.
	if len(sink.Bads) != 2 {
		t.Fatalf("bads: %v", sink.Bads)
	}
	if len(sink.Items) != 4 {
		t.Fatalf("items: %d", len(sink.Items))
	}
	p := sink.Item("110000000000000007")
	if p == nil || p.Kind != "reply" || p.Parent != "https://council.example/users/clerk/statuses/4242" || p.Visibility != "unlisted" ||
		!strings.HasPrefix(p.Text, "CW: Budget – draft figures\n\n@clerk The draft budget") || p.EditedAt != "2024-03-15T13:30:00Z" ||
		strings.Join(p.Mentions, ",") != "clerk@council.example" || len(p.Media) != 2 || p.Media[0].Digest == "" || p.Media[0].Alt == "" || p.Media[1].Digest != "" || p.Author.Handle != "cityofexample" {
		t.Errorf("reply with media: %+v", p)
	}
	if len(sink.Media) != 1 {
		t.Errorf("media stored: %d", len(sink.Media))
	}
	q := sink.Item("110000000000000006")
	if q == nil || q.Text != "Nom de la nouvelle patinoire\u202f?\n\nPoll:\n- Patinoire Laurier\n- Skating Oval" || q.Lang != "fr" || q.Visibility != "public" {
		t.Errorf("poll: %+v", q)
	}
	b := sink.Item("110000000000000005")
	if b == nil || b.Kind != "boost" || b.Text != "" || b.Parent != "https://weather.example/users/forecast/statuses/111900" {
		t.Errorf("boost: %+v", b)
	}
}

// The outbox and the API give the same version of a post without media.
func TestOutboxAgreesWithAPI(t *testing.T) {
	a, _, _ := archivetest.New(t)
	acct := fixture.Account(Platform, "cityofexample", "", "")
	src := fixture.FileSource(filepath.Join(fixture.Dir(t, "mastodon"), "saved", "mastodon-1.6-and-newer.jsonl"))
	fixture.ImportInto(t, a, NewAPIImporter(), src, acct)
	dir := filepath.Join(fixture.Dir(t, "mastodon"), "export")
	fixture.ImportInto(t, a, NewOutboxImporter(), collect.Source{Name: dir, FS: os.DirFS(dir), Path: "."}, acct)
	d, err := a.Show(context.Background(), archive.ItemKey(Platform, "cityofexample", "110000000000000030"))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Versions) != 1 || len(d.Sightings) != 2 {
		t.Errorf("%d versions, %d sightings", len(d.Versions), len(d.Sightings))
	}
}

// genOutbox is an outbox of n notes, made as it is read.
type genOutbox struct {
	n, i int
	buf  bytes.Buffer
	done bool
}

func (g *genOutbox) Read(p []byte) (int, error) {
	for g.buf.Len() < len(p) && !g.done {
		switch {
		case g.i == 0:
			g.buf.WriteString(`{"@context":"https://www.w3.org/ns/activitystreams","type":"OrderedCollection","orderedItems":[`)
		case g.i > g.n:
			g.buf.WriteString(`],"totalItems":1}`)
			g.done = true
			continue
		}
		if g.i > 0 {
			if g.i > 1 {
				g.buf.WriteByte(',')
			}
			fmt.Fprintf(&g.buf, `{"id":"https://s.example/users/a/statuses/%d/activity","type":"Create","published":"2024-01-01T00:00:00Z","to":["https://www.w3.org/ns/activitystreams#Public"],"object":{"id":"https://s.example/users/a/statuses/%d","type":"Note","published":"2024-01-01T00:00:00Z","attributedTo":"https://s.example/users/a","content":"<p>%s</p>"}}`, g.i, g.i, strings.Repeat("lorem ipsum ", 80))
		}
		g.i++
	}
	return g.buf.Read(p)
}

type genFS struct{ n int }

func (f genFS) Open(name string) (fs.File, error) {
	if name != "outbox.json" {
		return nil, fs.ErrNotExist
	}
	return &genFile{r: &genOutbox{n: f.n}}, nil
}

type genFile struct{ r io.Reader }

func (f *genFile) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *genFile) Close() error               { return nil }
func (f *genFile) Stat() (fs.FileInfo, error) {
	return fstest.MapFS{"outbox.json": &fstest.MapFile{Data: nil, ModTime: time.Time{}}}.Stat("outbox.json")
}

// countSink discards items, counting them and the heap in use.
type countSink struct {
	collect.MemorySink
	items   int
	maxHeap uint64
}

func (c *countSink) PutRaw(ctx context.Context, body []byte, source, lines, mediaType string) (archive.Digest, error) {
	return archive.Sum(body), nil
}

func (c *countSink) AddItem(ctx context.Context, it archive.Item, o archive.ItemOptions) error {
	c.items++
	if c.items%10000 == 0 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		c.maxHeap = max(c.maxHeap, m.HeapAlloc)
	}
	return nil
}

func TestOutboxStreams(t *testing.T) {
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("streams 60 MB; runs without -short (and always in CI)")
	}
	const n = 60_000 // about 60 MB of outbox
	sink := &countSink{}
	err := NewOutboxImporter().Import(context.Background(), collect.Source{Name: "generated", FS: genFS{n}, Path: "outbox.json"}, fixture.Account(Platform, "a", "", ""), sink)
	if err != nil {
		t.Fatal(err)
	}
	if sink.items != n || len(sink.Bads) != 0 {
		t.Fatalf("items %d, bads %v", sink.items, sink.Bads)
	}
	if sink.maxHeap > 64<<20 {
		t.Errorf("heap reached %d MB reading a 60 MB outbox", sink.maxHeap>>20)
	}
}

func TestOutboxCutShort(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(fixture.Dir(t, "mastodon"), "export", "outbox.json"))
	if err != nil {
		t.Fatal(err)
	}
	cut := b[:bytes.Index(b, []byte(`"id": "https://social.example.gov/users/cityofexample/statuses/110000000000000006/activity"`))+40]
	sink := collect.NewMemorySink()
	src := collect.Source{Name: "outbox.json", FS: fstest.MapFS{"outbox.json": {Data: cut}}, Path: "outbox.json"}
	if err := NewOutboxImporter().Import(context.Background(), src, fixture.Account(Platform, "cityofexample", "", ""), sink); err != nil {
		t.Fatal(err)
	}
	if len(sink.Items) != 2 || len(sink.Bads) != 1 || !strings.Contains(sink.Bads[0].Error(), "truncated") {
		t.Errorf("items %d, bads %v", len(sink.Items), sink.Bads)
	}
}

// TestOutboxTombstone: a deleted post kept in an outbox as a Tombstone
// makes no version (an empty one would read as an edit erasing the post);
// the post beside it is imported.
func TestOutboxTombstone(t *testing.T) {
	outbox := `{"@context":"https://www.w3.org/ns/activitystreams","type":"OrderedCollection","orderedItems":[
  {"type":"Create","actor":"https://social.example.gov/users/cityofexample","published":"2024-05-01T09:00:00Z",
   "object":{"id":"https://social.example.gov/users/cityofexample/statuses/110000000000000090","type":"Tombstone",
     "formerType":"Note","deleted":"2024-05-02T10:00:00Z"}},
  {"type":"Create","actor":"https://social.example.gov/users/cityofexample","published":"2024-05-03T09:00:00Z",
   "to":["https://www.w3.org/ns/activitystreams#Public"],
   "object":{"id":"https://social.example.gov/users/cityofexample/statuses/110000000000000091","type":"Note",
     "published":"2024-05-03T09:00:00Z","attributedTo":"https://social.example.gov/users/cityofexample",
     "to":["https://www.w3.org/ns/activitystreams#Public"],"content":"<p>Library hours change on Monday.</p>"}}]}`
	src := collect.Source{Name: "export", FS: fstest.MapFS{"outbox.json": {Data: []byte(outbox)}}, Path: "."}
	sink := collect.NewMemorySink()
	if err := NewOutboxImporter().Import(context.Background(), src, fixture.Account(Platform, "cityofexample", "", ""), sink); err != nil {
		t.Fatal(err)
	}
	if len(sink.Bads) != 0 || len(sink.Items) != 1 || sink.Items[0].ID != "110000000000000091" || sink.Items[0].Text != "Library hours change on Monday." {
		t.Fatalf("items %+v, bad %v", sink.Items, sink.Bads)
	}
}
