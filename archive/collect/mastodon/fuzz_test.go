package mastodon

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/fixture"
)

func seeds(f *testing.F, files ...string) {
	for _, p := range files {
		b, err := os.ReadFile(filepath.Join(fixture.Dir(f, "mastodon"), p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzAPIImport: whatever the file holds, the importer neither panics nor
// records an item the archive would refuse.
func FuzzAPIImport(f *testing.F) {
	seeds(f, "statuses-page1.json", "statuses-page2.json", "context-4.json", "saved/mastodon-1.6-and-newer.jsonl", "statuses-page1-truncated.json")
	f.Add([]byte(`[{"id":1,"created_at":"2020-01-01T00:00:00Z","content":"<p>x"}]` + "\n" + `{"descendants":[{"id":"2"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return // large inputs only slow the search; streaming is tested on its own
		}
		for _, name := range []string{"f.json", "f.jsonl"} {
			src := collect.Source{Name: name, FS: fstest.MapFS{name: {Data: data}}, Path: name}
			sink := collect.NewMemorySink()
			NewAPIImporter().Sniff(src)
			if err := NewAPIImporter().Import(context.Background(), src, fixture.Account(Platform, "a", "", ""), sink); err != nil {
				t.Fatalf("import returned %v (bad input must be reported with Bad)", err)
			}
		}
	})
}

// FuzzOutboxImport: the streaming outbox reader on any bytes.
func FuzzOutboxImport(f *testing.F) {
	seeds(f, "export/outbox.json")
	f.Add([]byte(`{"orderedItems":[{"type":"Announce","id":"x","object":{"id":"y"}}]}`))
	f.Add([]byte(`{"orderedItems":[{"type":"Create","object":{"id":"https://a/statuses/1","attachment":[{"url":"../../etc/passwd"}]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		src := collect.Source{Name: "outbox.json", FS: fstest.MapFS{"outbox.json": {Data: data}, "media_attachments/x": {Data: []byte("x")}}, Path: "outbox.json"}
		sink := collect.NewMemorySink()
		NewOutboxImporter().Sniff(src)
		if err := NewOutboxImporter().Import(context.Background(), src, fixture.Account(Platform, "a", "", ""), sink); err != nil {
			t.Fatalf("import returned %v (bad input must be reported with Bad)", err)
		}
	})
}
