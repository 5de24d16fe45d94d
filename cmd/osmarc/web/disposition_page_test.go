package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/request"
	"github.com/osmarc/osmarc/archive/retention"
)

// TestItemPageRequestClosedCutoff: the item page's disposition date comes
// from records management with the cutoff events plans use, so an item
// under a schedule that runs from the closing of a request waits for it
// while the request is open and has a date once it is closed (before, the
// page knew only the account's deactivation and waited for ever).
func TestItemPageRequestClosedCutoff(t *testing.T) {
	e := newRulesEnv(t)
	ctx := archive.WithActor(context.Background(), "setup")
	key := archive.ItemKey("facebook", "3rd-brigade", "101_2001")
	recs := e.s.Records()
	sc := retention.Schedule{ID: "req-3y", Title: "Records of requests", Authority: "GRS 4.2 item 020", Action: retention.ActionDestroy}
	var err error
	if sc.Retain, err = retention.ParsePeriod("3y"); err != nil {
		t.Fatal(err)
	}
	if sc.Cutoff, err = retention.ParseCutoff("event:request-closed"); err != nil {
		t.Fatal(err)
	}
	if err := recs.AddSchedule(ctx, sc); err != nil {
		t.Fatal(err)
	}
	if _, err := recs.Classify(ctx, key, "record", "req-3y", nil, "answered a request"); err != nil {
		t.Fatal(err)
	}
	disposition := func() string {
		t.Helper()
		r := e.page(RoleRecordsOfficer, "GET", itemURL(key), nil)
		if r.status != http.StatusOK {
			t.Fatalf("item page: %d %s", r.status, r.body)
		}
		return r.text()
	}
	if got := disposition(); !strings.Contains(got, "waits for request-closed") {
		t.Fatalf("before any request: the page does not wait for request-closed:\n%s", got)
	}
	rq, err := request.Open(ctx, e.a, request.DefaultPresets(), request.OpenParams{Requester: "Pat Reporter", Description: "Parade",
		Received: e.clock.Now(), Due: e.clock.Now().AddDate(0, 1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := request.AddItems(ctx, e.a, rq.ID, []string{key}); err != nil {
		t.Fatal(err)
	}
	if got := disposition(); !strings.Contains(got, "waits for request-closed") {
		t.Fatalf("while the request is open: the page does not wait:\n%s", got)
	}
	if _, err := request.Close(ctx, e.a, rq.ID, "answered"); err != nil {
		t.Fatal(err)
	}
	got := disposition()
	if strings.Contains(got, "waits for request-closed") || !strings.Contains(got, strconv.Itoa(e.clock.Now().Year()+3)+"-") {
		t.Errorf("after the request closed: the page has no date three years on:\n%s", got)
	}
}
