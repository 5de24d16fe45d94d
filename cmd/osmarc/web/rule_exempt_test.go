package web

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/retention"
)

// TestRuleExemptWithheld: an item a classification rule (no person)
// exempts is withheld from a viewer wherever it appears — in its parent's
// thread on the item page, in the thread API, its media — and its page
// shows the rule's schedule; a records officer still sees it, the view of
// the exempt item journaled.
func TestRuleExemptWithheld(t *testing.T) {
	e := newRulesEnv(t)
	ctx := archive.WithActor(context.Background(), "setup")
	acct := archive.AccountKey("facebook", "3rd-brigade")
	png := tinyPNG()
	dg := archive.Sum(png)
	const secret = "The convoy leaves the armoury at dawn by the north gate."
	w, err := e.a.BeginCapture(ctx, archive.CaptureOptions{Collector: "facebook", Account: acct})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.PutMedia(ctx, bytes.NewReader(png), int64(len(png)), dg, "image/png", "https://cdn.example/convoy.png"); err != nil {
		t.Fatal(err)
	}
	reply := archive.Item{Platform: "facebook", Account: "3rd-brigade", ID: "101_2001_3009", Kind: "reply", CreatedAt: "2024-01-15T18:00:00Z",
		Author: &archive.Author{ID: "101", Name: "3rd Canadian Division Brigade"}, Text: secret, Parent: "101_2001", Thread: "101_2001",
		Media: []archive.Media{{URL: "https://cdn.example/convoy.png", Type: "image/png", Digest: dg.String()}}}
	if err := w.AddItem(ctx, reply, archive.ItemOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	replyKey := archive.ItemKey("facebook", "3rd-brigade", reply.ID)
	parentKey := archive.ItemKey("facebook", "3rd-brigade", "101_2001")

	recs := e.s.Records()
	sc := retention.Schedule{ID: "sec-10y", Title: "Security records", Authority: "GRS 5.6 item 010", Action: retention.ActionDestroy}
	if sc.Retain, err = retention.ParsePeriod("10y"); err != nil {
		t.Fatal(err)
	}
	if err := recs.AddSchedule(ctx, sc); err != nil {
		t.Fatal(err)
	}
	ru, _, err := recs.AddRule(ctx, retention.Rule{Match: "convoy", Class: retention.ClassRecord, Schedule: "sec-10y",
		Exemptions: []string{"security-information"}}, 0, "movements are security information")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := recs.Decision(replyKey); err == nil {
		t.Fatal("a person classified the reply; the test needs a rule alone")
	}

	// A viewer: the parent's page withholds the reply in the thread.
	r := e.page(RoleViewer, "GET", itemURL(parentKey), nil)
	if r.status != http.StatusOK {
		t.Fatalf("viewer, parent page: %d %s", r.status, r.body)
	}
	if strings.Contains(string(r.body), "convoy") || !strings.Contains(r.text(), "[withheld: exempt]") {
		t.Errorf("viewer, parent page: the rule-exempt reply is not withheld in the thread:\n%s", r.text())
	}
	// The thread API withholds it too.
	if r := e.as(RoleViewer, "GET", "/api/v1/thread/"+parentKey, nil); r.status != http.StatusOK || strings.Contains(string(r.body), "convoy") || !strings.Contains(string(r.body), replyKey) {
		t.Errorf("viewer, thread API: %d, the reply's text shows: %s", r.status, r.body)
	}
	// Its media are refused.
	media := "/media/" + dg.String() + "?item=" + replyKey
	if r := e.page(RoleViewer, "GET", media, nil); r.status != http.StatusForbidden {
		t.Errorf("viewer, media of the rule-exempt reply: %d, want 403", r.status)
	}
	// Its own page is withheld, with the rule's schedule.
	r = e.page(RoleViewer, "GET", itemURL(replyKey), nil)
	if r.status != http.StatusOK || strings.Contains(string(r.body), "convoy") {
		t.Errorf("viewer, reply page: %d, its text shows:\n%s", r.status, r.text())
	}
	if want := "sec-10y from classification rule " + ru.ID; !strings.Contains(r.text(), want) {
		t.Errorf("viewer, reply page: the schedule is not the rule's (%q):\n%s", want, r.text())
	}

	// A records officer sees it, and the view of the exempt item is journaled.
	if r := e.page(RoleRecordsOfficer, "GET", itemURL(parentKey), nil); r.status != http.StatusOK || !strings.Contains(string(r.body), "convoy") {
		t.Errorf("officer, parent page: %d, the reply is not shown:\n%s", r.status, r.text())
	}
	if r := e.page(RoleRecordsOfficer, "GET", media, nil); r.status != http.StatusOK || !bytes.Equal(r.body, png) {
		t.Errorf("officer, media: %d", r.status)
	}
	seq := e.events()
	if r := e.page(RoleRecordsOfficer, "GET", itemURL(replyKey), nil); r.status != http.StatusOK || !strings.Contains(string(r.body), "convoy") {
		t.Errorf("officer, reply page: %d, its text is not shown:\n%s", r.status, r.text())
	}
	journaled := false
	for _, ev := range e.eventsAfter(seq) {
		if d, _ := ev["data"].(map[string]any); ev["type"] == EventExemptViewed && d["key"] == replyKey {
			journaled = true
		}
	}
	if !journaled {
		t.Errorf("officer's view of the rule-exempt reply not journaled: %v", e.eventsAfter(seq))
	}
}
