package retention_test

import (
	"encoding/json"
	"testing"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/memstore"
)

// snapshot is what a user can see: stats, items and residual entries.
func snapshot(t *testing.T, a *archive.Archive) string {
	t.Helper()
	s, _ := a.Stats()
	s.JournalHead = ""
	var items []any
	for it, err := range a.List(archive.ListFilter{}) {
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, it)
	}
	var res []any
	for r, err := range a.Catalog().Residuals() {
		if err != nil {
			t.Fatal(err)
		}
		res = append(res, r)
	}
	b, _ := json.Marshal([]any{s, items, res})
	return string(b)
}

// storeOf digs the memory store out of an archive made by archivetest.New.
func storeOf(a *archive.Archive) *memstore.Store {
	type unwrap interface{ Unwrap() archive.BlobStore }
	s := a.Store()
	if u, ok := s.(unwrap); ok {
		s = u.Unwrap()
	}
	return s.(*memstore.Store)
}
