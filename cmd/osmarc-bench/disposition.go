package main

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/retention"
	"github.com/osmarc/osmarc/archive/stores"
)

// benchDisposition builds an archive of n items on the disk store, gives
// every account a schedule under which about 10% of the items are past
// their date, holds about 1% of them, and times a disposition plan and its
// execution.
func benchDisposition(ctx context.Context, work string, n int, seed uint64) (map[string]any, []row, error) {
	res := map[string]any{"disposition_items": n}
	corpus := filepath.Join(work, fmt.Sprintf("disposition-%d.jsonl", n))
	if _, err := writeCorpus(corpus, n, seed); err != nil {
		return nil, nil, err
	}
	dir := filepath.Join(work, "disposition-data")
	opts := archive.Options{Dir: dir, Actor: "bench@localhost", OpenStore: stores.Open}
	a, _, err := archive.Init(ctx, opts, "")
	if err != nil {
		return nil, nil, err
	}
	defer a.Close()
	logf("disposition: ingesting %d items", n)
	start := time.Now()
	if err := ingestFile(ctx, a, corpus); err != nil {
		return nil, nil, err
	}
	res["disposition_setup_seconds"] = round(time.Since(start).Seconds())

	// The corpus spans 2019-01-01 to 2027-01-01. Under a one-year schedule
	// with no cutoff, as of 2020-10-19 the items created before 2019-10-19
	// (about a tenth) are eligible; a hold on March 2019 keeps about 1%.
	now := func() time.Time { return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC) }
	r := retention.New(a, now)
	if err := r.AddSchedule(ctx, retention.Schedule{ID: "bench-1y", Title: "bench", Authority: "bench", Retain: retention.Period{Years: 1}, Action: retention.ActionDestroy}); err != nil {
		return nil, nil, err
	}
	accts, err := a.Accounts()
	if err != nil {
		return nil, nil, err
	}
	for _, acct := range accts {
		if _, err := a.UpdateAccount(ctx, acct.Key, func(x *archive.Account) error { x.Schedule = "bench-1y"; return nil }); err != nil {
			return nil, nil, err
		}
	}
	from, to := time.Date(2019, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2019, 3, 30, 0, 0, 0, 0, time.UTC)
	if _, err := r.PlaceHold(ctx, retention.Hold{Name: "bench", Matter: "bench", Reason: "bench", From: &from, To: &to}, "bench"); err != nil {
		return nil, nil, err
	}
	asOf := time.Date(2020, 10, 19, 0, 0, 0, 0, time.UTC)
	logf("disposition: planning over %d items", n)
	runtime.GC()
	start = time.Now()
	p, err := r.Plan(ctx, asOf, "", retention.DefaultApprovers, "planner")
	if err != nil {
		return nil, nil, err
	}
	planS := time.Since(start).Seconds()
	if _, err := r.Approve(ctx, p.ID, "approver"); err != nil {
		return nil, nil, err
	}
	logf("disposition: executing %d destructions", p.Items)
	// Execution re-checks eligibility now; keep "now" past the plan's date.
	r.Now = func() time.Time { return asOf.Add(time.Hour) }
	start = time.Now()
	p, err = r.Execute(ctx, p.ID, "executor")
	if err != nil {
		return nil, nil, err
	}
	execS := time.Since(start).Seconds()
	res["disposition_eligible"] = p.Items
	res["disposition_held"] = p.Held
	res["disposition_plan_seconds"] = round(planS)
	res["disposition_plan_items_per_s"] = round(float64(n) / planS)
	res["disposition_execute_seconds"] = round(execS)
	res["disposition_execute_items_per_s"] = round(float64(p.Items) / execS)
	verdict := "MISSES target"
	if planS <= 10 {
		verdict = "meets target"
	}
	rows := []row{
		{fmt.Sprintf("disposition plan over %dk items", n/1000), fmt.Sprintf("%.1f s, %.0f items/s", planS, float64(n)/planS),
			fmt.Sprintf("%d eligible, %d held; target ≤ 10 s at 1M", p.Items, p.Held), verdict},
		{fmt.Sprintf("disposition execute, %d destroyed", p.Items), fmt.Sprintf("%.1f s, %.0f items/s", execS, float64(p.Items)/execS),
			"certificate, catalog, blobs deleted", ""},
	}
	return res, rows, nil
}
