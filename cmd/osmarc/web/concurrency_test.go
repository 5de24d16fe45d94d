package web

import (
	"fmt"
	"net/url"
	"sync"
	"testing"
)

// TestConcurrentSearches: the server answers many searches at once (the
// index is shared by every request), each correctly.
func TestConcurrentSearches(t *testing.T) {
	e := newAPIEnv(t)
	want := e.as(RoleRecordsOfficer, "GET", "/api/v1/search?q=parade&limit=50", nil)
	if want.status != 200 {
		t.Fatalf("%d %s", want.status, want.body)
	}
	total := want.json(t)["total"]
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				r := e.as(RoleRecordsOfficer, "GET", "/api/v1/search?q=parade&limit=50", nil)
				if r.status != 200 || r.json(t)["total"] != total {
					t.Errorf("%d %s", r.status, r.body)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestSearchesJournaledBeforeAnswered: under concurrent searches (written
// to the journal in groups, the write started as soon as a search's hits
// are counted) every search is in the journal, with who ran it and how
// many hits it had, by the time its answer arrives.
func TestSearchesJournaledBeforeAnswered(t *testing.T) {
	e := newAPIEnv(t)
	before := e.events()
	want := e.as(RoleRecordsOfficer, "GET", "/api/v1/search?q=parade", nil)
	if want.status != 200 {
		t.Fatalf("%d %s", want.status, want.body)
	}
	total := want.json(t)["total"].(float64)
	// journaled finds a search's entry: a search.run event, or one of a
	// search.runs event's searches.
	journaled := func(query string) (map[string]any, bool) {
		for _, ev := range e.eventsAfter(before) {
			d := ev["data"].(map[string]any)
			switch ev["type"] {
			case "search.run":
				if d["query"] == query {
					return map[string]any{"by": d["by"], "hits": d["hits"], "actor": ev["actor"]}, true
				}
			case EventSearchRuns:
				for _, x := range d["searches"].([]any) {
					if x := x.(map[string]any); x["query"] == query {
						return map[string]any{"by": d["by"], "hits": x["hits"], "actor": ev["actor"]}, true
					}
				}
			}
		}
		return nil, false
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				q := fmt.Sprintf("parade -nothing%dx%d", g, i) // one query per search, same hits
				r := e.as(RoleRecordsOfficer, "GET", "/api/v1/search?q="+url.QueryEscape(q), nil)
				if r.status != 200 || r.json(t)["total"].(float64) != total {
					t.Errorf("%q: %d %s", q, r.status, r.body)
					return
				}
				got, ok := journaled(q)
				if !ok {
					t.Errorf("%q answered before it was in the journal", q)
					return
				}
				if got["by"] != "records.officer" || got["actor"] != "records.officer" || got["hits"].(float64) != total {
					t.Errorf("%q journaled as %v, want by records.officer with %v hits", q, got, total)
				}
			}
		}()
	}
	wg.Wait()
}
