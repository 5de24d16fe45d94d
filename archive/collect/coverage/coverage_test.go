package coverage_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/coverage"
)

// A real archive: captures every 6 hours, then two days of auth failures,
// then a good run. History and HistorySince read the same runs inside the
// window, and Build finds the same gaps from either.
func TestHistorySinceAgreesWithHistory(t *testing.T) {
	ctx := context.Background()
	a, _, clock := archivetest.New(t)
	acct, err := a.AddAccount(ctx, archive.Account{Platform: "fake", Handle: "unit", Collect: "@every 6h"})
	if err != nil {
		t.Fatal(err)
	}
	capture := func(complete bool) {
		t.Helper()
		w, err := a.BeginCapture(ctx, archive.CaptureOptions{Collector: "fake", Account: acct.Key})
		if err != nil {
			t.Fatal(err)
		}
		it := archive.Item{Platform: "fake", Account: "unit", ID: "1", Kind: "post", CreatedAt: "2026-01-01T10:00:00Z", Text: "hello"}
		if err := w.AddItem(ctx, it, archive.ItemOptions{Source: "test"}); err != nil {
			t.Fatal(err)
		}
		if complete {
			w.Complete(archive.Scope{Account: acct.Key})
		}
		clock.Advance(time.Minute)
		if _, err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	fail := func(class string) {
		t.Helper()
		started := clock.Now()
		clock.Advance(time.Minute)
		if _, err := a.RecordEvent(ctx, collect.EventCollectFailed, collect.FailedRun{Account: acct.Key, Collector: "fake",
			Class: class, Error: class + " trouble", StartedAt: started}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 { // five days of good runs
		capture(i%4 == 0)
		clock.Advance(6 * time.Hour)
	}
	for range 8 {
		fail(collect.ClassAuth)
		clock.Advance(6 * time.Hour)
	}
	capture(true)
	clock.Advance(30 * time.Hour) // then nothing: more than twice 6h
	now := clock.Now()

	all, err := coverage.History(a, acct.Key)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 29 {
		t.Fatalf("history: %d runs, want 29", len(all))
	}
	full := coverage.Build(acct, all, coverage.Period(acct, now), now)
	if len(full.Gaps) != 2 || full.Failures["auth"] != 8 {
		t.Fatalf("full report: %+v", full.Gaps)
	}
	if !strings.Contains(full.Gaps[0].Reason, "collection failed 8 time(s): auth ×8 (auth trouble)") || full.Gaps[0].To == nil {
		t.Errorf("failure gap: %+v", full.Gaps[0])
	}
	if g := full.Gaps[1]; g.To != nil || !strings.Contains(g.Reason, "no run for 30h0m0s (schedule @every 6h)") {
		t.Errorf("open gap: %+v", g)
	}

	// A window that starts in the middle of the good runs: the last good
	// run before it, then every run in it; the same gaps.
	since := all[10].StartedAt.Add(time.Second)
	win, from, err := coverage.HistorySince(a, acct.Key, since, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !from.Equal(since) {
		t.Errorf("window from %s, want %s", from, since)
	}
	if len(win) != 19 || win[0].Capture != all[10].Capture || win[len(win)-1].Capture != all[28].Capture {
		t.Fatalf("window: %d runs from %s", len(win), win[0].StartedAt)
	}
	part := coverage.Build(acct, win, coverage.Period(acct, now), now)
	if len(part.Gaps) != 2 || part.Gaps[0].Reason != full.Gaps[0].Reason || !part.Gaps[0].From.Equal(full.Gaps[0].From) ||
		part.Gaps[1].Reason != full.Gaps[1].Reason {
		t.Errorf("window gaps %+v, want %+v", part.Gaps, full.Gaps)
	}
	// A window inside the failures: the gap still starts at the last good run.
	since = all[22].StartedAt
	win, _, err = coverage.HistorySince(a, acct.Key, since, 0)
	if err != nil {
		t.Fatal(err)
	}
	part = coverage.Build(acct, win, coverage.Period(acct, now), now)
	if len(part.Gaps) != 2 || !part.Gaps[0].From.Equal(full.Gaps[0].From) || part.Failures["auth"] != 6 {
		t.Errorf("window inside the failures: %+v", part)
	}
	// Zero since is the whole history.
	if win, _, _ := coverage.HistorySince(a, acct.Key, time.Time{}, 5); len(win) != len(all) {
		t.Errorf("zero since: %d runs", len(win))
	}
	// A bound on the events read moves the window's start to where the
	// reading stopped (a day after the oldest event read, as a failure is
	// recorded when its run ends): no failure inside it is missed.
	win, from, err = coverage.HistorySince(a, acct.Key, all[0].StartedAt, 12)
	if err != nil {
		t.Fatal(err)
	}
	if !from.After(all[0].StartedAt) {
		t.Fatalf("a bounded read kept the window from %s", from)
	}
	for _, r := range win[1:] {
		if r.StartedAt.Before(from) {
			t.Errorf("run %s before the window's start %s", r.StartedAt, from)
		}
	}
	n := 0
	for _, r := range all {
		if !r.StartedAt.Before(from) && r.Failed {
			n++
		}
	}
	got := 0
	for _, r := range win {
		if r.Failed {
			got++
		}
	}
	if n == 0 || got != n {
		t.Errorf("bounded window: %d failures, want the %d from %s on", got, n, from)
	}
}

func TestPeriod(t *testing.T) {
	now := time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC)
	for spec, want := range map[string]time.Duration{"": 0, "0 */6 * * *": 6 * time.Hour, "@daily": 24 * time.Hour, "every tuesday": 0} {
		if got := coverage.Period(archive.Account{Collect: spec}, now); got != want {
			t.Errorf("Period(%q) = %v, want %v", spec, got, want)
		}
	}
}
