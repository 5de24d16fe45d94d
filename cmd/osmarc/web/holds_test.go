package web

import (
	"context"
	"net/url"
	"testing"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/retention"
)

// TestSearchByHold: the search API's hold filter and a query's hold:NAME
// keep what the hold's scope covers (the items are not told of holds),
// the same items as searching the scope itself; an unknown hold is a bad
// request, not an empty answer.
func TestSearchByHold(t *testing.T) {
	e := newAPIEnv(t)
	ctx := archive.WithActor(context.Background(), "legal")
	if _, err := e.s.records.PlaceHold(ctx, retention.Hold{Name: "parade-fb", Matter: "Parade inquiry", Reason: "preserve",
		Accounts: []string{"facebook/3rd-brigade"}, Query: "parade"}, "legal"); err != nil {
		t.Fatal(err)
	}
	total := func(q url.Values) float64 {
		t.Helper()
		r := e.as(RoleRecordsOfficer, "GET", "/api/v1/search?"+q.Encode(), nil)
		if r.status != 200 {
			t.Fatalf("%v: %d %s", q, r.status, r.body)
		}
		return r.json(t)["total"].(float64)
	}
	want := total(url.Values{"q": {"parade"}, "account": {"3rd-brigade"}, "platform": {"facebook"}})
	if want == 0 {
		t.Fatal("the fixture has no Facebook parade items")
	}
	if got := total(url.Values{"hold": {"parade-fb"}}); got != want {
		t.Errorf("hold=parade-fb: %v hits, want %v", got, want)
	}
	if got := total(url.Values{"q": {"hold:parade-fb"}}); got != want {
		t.Errorf("q=hold:parade-fb: %v hits, want %v", got, want)
	}
	all := total(url.Values{"q": {"parade"}})
	if got := total(url.Values{"q": {"parade -hold:parade-fb"}}); got != all-want {
		t.Errorf("q=parade -hold:parade-fb: %v hits, want %v", got, all-want)
	}
	if r := e.as(RoleRecordsOfficer, "GET", "/api/v1/search?hold=nonesuch", nil); r.status != 400 && r.status != 404 {
		t.Errorf("unknown hold: %d %s", r.status, r.body)
	}
}
