package index_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/index"
)

func ingest(t *testing.T, a *archive.Archive, files ...string) {
	t.Helper()
	for _, f := range files {
		fh, err := os.Open(filepath.Join("..", "testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		_, err = a.Ingest(context.Background(), []archive.Source{{Name: f, R: fh}}, archive.IngestOptions{})
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
}

func keys(t *testing.T, ix *index.Index, q string) []string {
	t.Helper()
	res, err := ix.Search(context.Background(), index.Request{Query: q, Limit: 100})
	if err != nil {
		t.Fatalf("%q: %v", q, err)
	}
	var out []string
	for _, h := range res.Hits {
		out = append(out, h.Key)
	}
	slices.Sort(out)
	return out
}

// The archive is captured through its own API; the index is built from
// it by Reindex (from the catalog and store) and by Update (as the ingest
// path will call it), and both find the same things, an edited-away
// phrase included.
func TestIndexAnArchive(t *testing.T) {
	ctx := context.Background()
	a, _, _ := archivetest.New(t)
	ingest(t, a, "items.jsonl", "items-edited.jsonl")

	rebuilt, err := index.Open(filepath.Join(t.TempDir(), index.DirName))
	if err != nil {
		t.Fatal(err)
	}
	defer rebuilt.Close()
	var progress []int
	if err := rebuilt.Reindex(ctx, a, func(n int) { progress = append(progress, n) }); err != nil {
		t.Fatal(err)
	}
	if n, _ := rebuilt.Count(); n != 8 || len(progress) == 0 || progress[len(progress)-1] != 8 {
		t.Fatalf("reindexed %d documents, progress %v", n, progress)
	}

	updated, err := index.Open(filepath.Join(t.TempDir(), index.DirName))
	if err != nil {
		t.Fatal(err)
	}
	defer updated.Close()
	updated.SetVersionReader(a)
	var batch []archive.IndexUpdate
	for it, err := range a.List(archive.ListFilter{}) {
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, archive.IndexUpdate{Item: it})
	}
	if err := updated.Update(ctx, batch); err != nil {
		t.Fatal(err)
	}

	const post = "facebook/3rd-brigade/101_2001"
	for _, ix := range []*index.Index{rebuilt, updated} {
		for q, want := range map[string][]string{
			// The post said "is on Saturday" before it was edited to
			// "is moved to Sunday".
			`"parade is on saturday"`:         {post},
			`history:saturday`:                {post},
			`text:saturday`:                   nil,
			`"moved to sunday"`:               {post},
			`défense`:                         {"facebook/3rd-brigade/101_2002"},
			`+parade +kind:comment`:           {"facebook/3rd-brigade/101_2001_3001"},
			`author:"jane public"`:            {"facebook/3rd-brigade/101_2001_3001"},
			`edited:true`:                     {post},
			`+account:3rd-brigade +armoury~1`: nil,
		} {
			if got := keys(t, ix, q); !slices.Equal(got, want) {
				t.Errorf("%q: %v, want %v", q, got, want)
			}
		}
		res, err := ix.Search(ctx, index.Request{Query: `"parade is on saturday"`})
		if err != nil || len(res.Hits) != 1 {
			t.Fatal(err, res)
		}
		if h := res.Hits[0]; h.SnippetFrom != "history" || !h.Edited || h.Marked("[", "]") != "The Brigade [parade] [is] [on] [Saturday] at 10:00. Road closures [on] Main Street from 08:00." {
			t.Errorf("edited-away phrase: %+v", h)
		}
		res, _ = ix.Search(ctx, index.Request{Query: "wheelchairs", Facets: true})
		if h := res.Hits[0]; h.ParentKey != post || h.Kind != "comment" {
			t.Errorf("comment hit: %+v", h)
		}
	}
}

// A reindex that fails leaves the index it would have replaced.
func TestReindexFailureKeepsTheOldIndex(t *testing.T) {
	ctx := context.Background()
	a, store, _ := archivetest.New(t)
	ingest(t, a, "items.jsonl")
	ix, err := index.Open(filepath.Join(t.TempDir(), index.DirName))
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if err := ix.Reindex(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	// Lose every version blob: the next reindex cannot read them.
	it, _ := a.Catalog().Item("facebook/3rd-brigade/101_2001")
	d, _ := archive.ParseDigest(it.Latest().Digest)
	if err := store.Delete(ctx, archive.BlobKey(d)); err != nil {
		t.Fatal(err)
	}
	if err := ix.Reindex(ctx, a, nil); err == nil {
		t.Fatal("reindex with a missing version succeeded")
	}
	if n, _ := ix.Count(); n != 8 {
		t.Errorf("after a failed reindex the index holds %d documents", n)
	}
	if got := keys(t, ix, "parade"); len(got) != 3 {
		t.Errorf("old index lost: %v", got)
	}
}

// A reindex of many batches (bleve holds several unwritten at a time)
// has every item on disk when it returns, and the index it leaves waits
// for each later batch to be durable as before: the rebuild's setting is
// not kept in the index's meta file.
func TestReindexManyBatches(t *testing.T) {
	ctx := context.Background()
	a, _, _ := archivetest.New(t)
	var corpus bytes.Buffer
	const n = 5*index.BatchSize + 17
	if _, err := archivetest.WriteCorpus(&corpus, n, 7); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Ingest(ctx, []archive.Source{{Name: "corpus.jsonl", R: &corpus}}, archive.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), index.DirName)
	ix, err := index.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Reindex(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	meta, err := os.ReadFile(filepath.Join(dir, "index_meta.json"))
	if err != nil || bytes.Contains(meta, []byte("unsafe")) {
		t.Errorf("index meta %s: %v", meta, err)
	}
	ro, err := index.OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if c, err := ro.Count(); err != nil || c != n {
		t.Errorf("after reopening: %d documents, want %d (%v)", c, n, err)
	}
}
