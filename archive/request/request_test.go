package request_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/request"
)

func TestRequestEventsAndIDs(t *testing.T) {
	ctx := context.Background()
	a, _, clock := archivetest.New(t)
	p := request.DefaultPresets()
	open := func(received string) *request.Request {
		t.Helper()
		d, _ := request.ParseDate(received)
		r, err := request.Open(ctx, a, p, request.OpenParams{Requester: "Pat", Description: "parade", Received: d, Law: "ca-atia", Today: clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r1, r2, r3 := open("2024-03-01"), open("2024-05-01"), open("2025-01-10")
	if r1.ID != "REQ-2024-0001" || r2.ID != "REQ-2024-0002" || r3.ID != "REQ-2025-0001" {
		t.Fatalf("ids %s %s %s", r1.ID, r2.ID, r3.ID)
	}
	if r1.Due != "2024-04-02" || r1.Law == nil || r1.Law.Citation == "" || r1.OpenedBy != "records.officer@example.gov" {
		t.Fatalf("request %+v", r1)
	}
	// Received in the future (the test clock is in 2026).
	if _, err := request.Open(ctx, a, p, request.OpenParams{Requester: "P", Description: "d", Received: clock.Now().AddDate(0, 0, 3), Due: clock.Now().AddDate(0, 1, 0), Today: clock.Now()}); err == nil {
		t.Error("a request received in the future was opened")
	}
	if _, err := request.Close(ctx, a, r2.ID, "withdrawn"); err != nil {
		t.Fatal(err)
	}
	if _, err := request.Close(ctx, a, r2.ID, "again"); !errors.Is(err, request.ErrClosed) {
		t.Errorf("closing twice: %v", err)
	}
	if _, err := request.Get(a, "REQ-1999-0001"); !errors.Is(err, request.ErrUnknownRequest) {
		t.Errorf("unknown: %v", err)
	}
	all, err := request.List(a)
	if err != nil || len(all) != 3 || all[1].Status != request.StatusClosed || all[1].CloseReason != "withdrawn" {
		t.Fatalf("list: %v %v", all, err)
	}
	// A search outside any request is a record too.
	seq, err := request.LogSearch(ctx, a, "web:jdoe", "parade", map[string]string{"platform": "facebook"}, 7)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for ev, err := range a.Events(seq) {
		if err != nil {
			t.Fatal(err)
		}
		var d map[string]any
		json.Unmarshal(ev.Data, &d)
		if ev.Type == request.EventSearchRun && d["by"] == "web:jdoe" && d["query"] == "parade" && d["hits"] == 7.0 {
			found = true
		}
	}
	if !found {
		t.Error("search.run event not recorded")
	}
	// Days left, with the day given.
	today, _ := request.ParseDate("2024-03-30")
	if n := r1.DaysLeft(today); n != 3 {
		t.Errorf("days left %d", n)
	}
}
