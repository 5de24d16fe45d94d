package index

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"
)

// Facet counts come from postings read once per segment and kept across
// searches. They follow the index as it changes: items added (a new
// segment), an item replaced by a version with other values (the old one
// deleted in its segment), an item deleted, and many small segments
// (which the index merges): after each change every count is what a
// search filtered on that value counts, the counts add up to the hits,
// and the cache keeps only the segments of the index as it is.
func TestFacetsFollowTheIndex(t *testing.T) {
	ctx := context.Background()
	var docs []Doc
	for i := range 60 {
		acct := []string{"3rd-brigade", "city-hall", "fire-service"}[i%3]
		d := doc(fmt.Sprintf("p%d", i), "parade on sunday", fmt.Sprintf("%d-0%d-10T12:00:00Z", 2023+i%2, 1+i%9), on("facebook", acct))
		if i%5 == 0 {
			d.Class = "transitory"
		}
		docs = append(docs, d)
	}
	ix := newIndex(t, docs...)

	check := func(step string, q string, wantTotal uint64, wantAccounts map[string]uint64) {
		t.Helper()
		res, err := ix.Search(ctx, Request{Query: q, Facets: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != wantTotal {
			t.Fatalf("%s: %q: %d hits, want %d", step, q, res.Total, wantTotal)
		}
		got := map[string]uint64{}
		for _, fc := range res.Facets["account"] {
			got[fc.Value] = fc.Count
		}
		if fmt.Sprint(got) != fmt.Sprint(wantAccounts) {
			t.Errorf("%s: %q: accounts %v, want %v", step, q, got, wantAccounts)
		}
		for _, name := range FacetNames {
			var sum uint64
			for _, fc := range res.Facets[name] {
				sum += fc.Count
				req := Request{Query: q}
				switch name {
				case "platform":
					req.Platforms = []string{fc.Value}
				case "account":
					req.Accounts = []string{fc.Value}
				case "kind":
					req.Kinds = []string{fc.Value}
				case "class":
					req.Classes = []string{fc.Value}
				case "year":
					y, err := strconv.Atoi(fc.Value)
					if err != nil {
						t.Fatal(err)
					}
					req.From, req.To = time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC)
				}
				n, err := ix.Search(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				if n.Total != fc.Count {
					t.Errorf("%s: %q: facet %s=%s counts %d, a search filtered on it %d", step, q, name, fc.Value, fc.Count, n.Total)
				}
			}
			if sum != res.Total {
				t.Errorf("%s: %q: facet %s adds up to %d, want %d hits", step, q, name, sum, res.Total)
			}
		}
		// The cache holds the segments of the current snapshot only
		// (the index may have merged segments since the search: ask
		// again).
		e, done, err := ix.engine()
		if err != nil {
			t.Fatal(err)
		}
		defer done()
		c := ix.facetCache()
		if _, err := c.of(e); err != nil {
			t.Fatal(err)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if len(c.segs) != len(e.segs) {
			t.Errorf("%s: the cache holds %d segments, the index has %d", step, len(c.segs), len(e.segs))
		}
		for _, s := range e.segs {
			if c.segs[s.ss.Segment()] == nil {
				t.Errorf("%s: a segment of the index is not in the cache", step)
			}
		}
	}
	check("indexed", "", 60, map[string]uint64{"3rd-brigade": 20, "city-hall": 20, "fire-service": 20})
	check("indexed", "parade", 60, map[string]uint64{"3rd-brigade": 20, "city-hall": 20, "fire-service": 20})

	// New items, in a new segment, with a new account and a new year.
	var more []Doc
	for i := range 10 {
		more = append(more, doc(fmt.Sprintf("n%d", i), "parade in the rain", "2025-05-01T09:00:00Z", on("facebook", "police")))
	}
	if err := ix.IndexDocs(ctx, more); err != nil {
		t.Fatal(err)
	}
	check("added", "parade", 70, map[string]uint64{"3rd-brigade": 20, "city-hall": 20, "fire-service": 20, "police": 10})

	// Items replaced: p0 (2023, transitory) becomes 2026 and a record;
	// p1 (city-hall) loses "parade".
	p0 := docs[0]
	p0.CreatedAt, p0.Class = ts("2026-01-01T00:00:00Z"), "record"
	p1 := docs[1]
	p1.Text = "band practice"
	if err := ix.IndexDocs(ctx, []Doc{p0, p1}); err != nil {
		t.Fatal(err)
	}
	check("replaced", "parade", 69, map[string]uint64{"3rd-brigade": 20, "city-hall": 19, "fire-service": 20, "police": 10})
	check("replaced", "", 70, map[string]uint64{"3rd-brigade": 20, "city-hall": 20, "fire-service": 20, "police": 10})

	// Items deleted.
	if err := ix.Delete(ctx, []string{docs[2].Key, more[0].Key}); err != nil {
		t.Fatal(err)
	}
	check("deleted", "parade", 67, map[string]uint64{"3rd-brigade": 20, "city-hall": 19, "fire-service": 19, "police": 9})

	// Many small segments, which the index merges as it goes.
	for i := range 30 {
		if err := ix.IndexDocs(ctx, []Doc{doc(fmt.Sprintf("s%d", i), "parade", "2024-06-01T00:00:00Z", on("youtube", "city-hall"))}); err != nil {
			t.Fatal(err)
		}
	}
	check("many segments", "parade", 97, map[string]uint64{"3rd-brigade": 20, "city-hall": 49, "fire-service": 19, "police": 9})
}
