package main

import (
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
