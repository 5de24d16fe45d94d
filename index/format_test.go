package index_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/index"
)

// An index built by an earlier osmarc, which indexed text in fields this
// one no longer has (here an unweighted stem field beside the weighted
// one), is told apart when it is opened: it is never searched as if it
// held what this version's queries read. Opened read-only it is refused;
// opened for writing its searches are refused until osmarc reindex
// rebuilds it, and then they answer.
func TestAnIndexOfAnOlderFormatIsRebuiltNotSearched(t *testing.T) {
	ctx := context.Background()
	a, _, _ := archivetest.New(t)
	ingest(t, a, "items.jsonl")

	dir := filepath.Join(t.TempDir(), index.DirName)
	old := index.Mapping().(*mapping.IndexMappingImpl)
	f := bleve.NewTextFieldMapping()
	f.Name, f.Analyzer, f.Store = "text_en", index.AnalyserEnglish, false
	old.DefaultMapping.AddFieldMappingsAt("text", f)
	b, err := bleve.New(dir, old)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Index("facebook/3rd-brigade/1", map[string]any{"text": "parade on saturday"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	if _, err := index.OpenReadOnly(dir); !errors.Is(err, index.ErrOldFormat) {
		t.Fatalf("read-only opening of an old index: %v, want ErrOldFormat", err)
	}
	ix, err := index.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if _, err := ix.Search(ctx, index.Request{Query: "parade"}); !errors.Is(err, index.ErrOldFormat) {
		t.Fatalf("search of an old index: %v, want ErrOldFormat", err)
	}
	if _, err := ix.Match(ctx, "parade", []string{"facebook/3rd-brigade/1"}); !errors.Is(err, index.ErrOldFormat) {
		t.Fatalf("match on an old index: %v, want ErrOldFormat", err)
	}
	if err := ix.Reindex(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	if got := keys(t, ix, "parade"); len(got) != 3 {
		t.Errorf("after reindex: %v", got)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := index.OpenReadOnly(dir)
	if err != nil {
		t.Fatalf("read-only opening of the rebuilt index: %v", err)
	}
	defer ro.Close()
	if got := keys(t, ro, "parade"); len(got) != 3 {
		t.Errorf("rebuilt, read-only: %v", got)
	}
}

// A new index is made whole or not at all: made beside its directory and
// renamed into place. What a creation killed part way left (a directory
// without bleve's meta file, a half-made index beside it) is replaced,
// and the new index opens, for writing and for reading.
func TestIndexIsCreatedWhole(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, index.DirName)
	if err := os.MkdirAll(filepath.Join(dir, "store"), 0o750); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "store", "root.bolt"), []byte("half"), 0o640)
	os.MkdirAll(filepath.Join(base, index.DirName+".new-123"), 0o750)
	ix, err := index.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "index_meta.json")); err != nil {
		t.Errorf("no meta file: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(base, index.DirName+".*")); len(left) != 0 {
		t.Errorf("left beside the index: %v", left)
	}
	ro, err := index.OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	ro.Close()
	// Damaged after it was made: refused as index.ErrDamaged, not made again.
	os.WriteFile(filepath.Join(dir, "store", "root.bolt"), []byte("damaged"), 0o640)
	if _, err := index.Open(dir); !errors.Is(err, index.ErrDamaged) {
		t.Errorf("open of a damaged index: %v", err)
	}
}
