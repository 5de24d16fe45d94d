package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// A catalog written by an older osmarc, in an older form, is refused with
// one line naming the cure before anything is changed, and osmarc rebuild
// makes it whole again from the store.
func TestOlderCatalogIsRefusedUntilRebuilt(t *testing.T) {
	dir := newArchive(t)
	must(t, "ingest", "--data", dir, "../../testdata/items.jsonl")
	before := must(t, "list", "--json", "--data", dir)
	db, err := bolt.Open(filepath.Join(dir, "catalog.db"), 0o640, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("meta")).Put([]byte("schema"), []byte("1")) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, args := range [][]string{{"list"}, {"search", "parade"}, {"ingest", "../../testdata/items-edited.jsonl"}} {
		code, out, errs := osmarc(t, "", append(args, "--data", dir)...)
		if code == 0 || !strings.Contains(errs, `schema "1"`) || !strings.Contains(errs, "run osmarc rebuild") || strings.Count(errs, "\n") != 1 {
			t.Fatalf("%s on an older catalog: exit %d\n%s%s", args[0], code, out, errs)
		}
	}
	must(t, "rebuild", "--data", dir)
	if after := must(t, "list", "--json", "--data", dir); after != before {
		t.Fatalf("list after rebuild:\n%s\nbefore:\n%s", after, before)
	}
}

// A search index bleve cannot open (here its store overwritten; a process
// killed while an older osmarc made the index left one whose mapping was
// missing) is refused with one line naming the cure, and osmarc reindex,
// which opens the index first, builds a new one in its place instead of
// failing the same way.
func TestDamagedIndexIsRebuiltByReindex(t *testing.T) {
	dir := newArchive(t)
	must(t, "ingest", "--data", dir, "../../testdata/items.jsonl")
	want := must(t, "search", "parade", "--data", dir)
	if !strings.Contains(want, "101_2001") {
		t.Fatalf("search before the damage:\n%s", want)
	}
	if err := os.WriteFile(filepath.Join(dir, "index", "store", "root.bolt"), []byte("not a bolt file"), 0o640); err != nil {
		t.Fatal(err)
	}
	code, out, errs := osmarc(t, "", "search", "parade", "--data", dir)
	if code == 0 || !strings.Contains(errs, "run osmarc reindex") || strings.Count(errs, "\n") != 1 {
		t.Fatalf("search of a damaged index: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = osmarc(t, "", "reindex", "--data", dir)
	if code != 0 || !strings.Contains(errs, "cannot be opened") || !strings.Contains(out, "Reindexed") {
		t.Fatalf("reindex of a damaged index: exit %d\n%s%s", code, out, errs)
	}
	if got := must(t, "search", "parade", "--data", dir); got != want {
		t.Fatalf("search after reindex:\n%s\nbefore:\n%s", got, want)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "index.*")); len(left) != 0 {
		t.Errorf("left beside the index: %v", left)
	}
}
