package web

import (
	"net/http"
	"slices"
	"testing"

	"github.com/osmarc/osmarc/archive"
)

// TestThreadViewsJournaled: a records officer who reads a thread reads its
// replies unredacted, personal information included, so those replies are
// journaled as viewed, by the thread API and by the item page of their
// parent; a viewer's redacted thread is not such a view.
func TestThreadViewsJournaled(t *testing.T) {
	e := newAPIEnv(t)
	parent := archive.ItemKey("facebook", "3rd-brigade", "101_2001")
	viewed := func(seq uint64) [][]string {
		var out [][]string
		for _, ev := range e.eventsAfter(seq) {
			d, _ := ev["data"].(map[string]any)
			if ev["type"] != EventExemptViewed {
				continue
			}
			var keys []string
			if ks, ok := d["keys"].([]any); ok {
				for _, k := range ks {
					keys = append(keys, k.(string))
				}
			} else if k, ok := d["key"].(string); ok {
				keys = append(keys, k)
			}
			out = append(out, keys)
		}
		return out
	}
	seq := e.events()
	if r := e.as(RoleViewer, "GET", "/api/v1/thread/"+parent, nil); r.status != http.StatusOK {
		t.Fatalf("viewer thread: %d %s", r.status, r.body)
	}
	if v := viewed(seq); len(v) != 0 {
		t.Errorf("a viewer's redacted thread journaled views: %v", v)
	}
	seq = e.events()
	if r := e.as(RoleRecordsOfficer, "GET", "/api/v1/thread/"+parent, nil); r.status != http.StatusOK {
		t.Fatalf("officer thread: %d %s", r.status, r.body)
	}
	if v := viewed(seq); len(v) != 1 || !slices.Contains(v[0], apiPIIKey) || slices.Contains(v[0], parent) {
		t.Errorf("officer's thread: views journaled %v, want one naming %s (and not the parent, which holds none)", v, apiPIIKey)
	}
	seq = e.events()
	if r := e.page(RoleRecordsOfficer, "GET", itemURL(parent), nil); r.status != http.StatusOK {
		t.Fatalf("officer's item page: %d", r.status)
	}
	if v := viewed(seq); len(v) != 1 || !slices.Contains(v[0], apiPIIKey) {
		t.Errorf("officer's page of the parent: views journaled %v, want the reply %s", v, apiPIIKey)
	}
}
