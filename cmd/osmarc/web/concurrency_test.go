package web

import (
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
