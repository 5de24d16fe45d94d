package retention_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/retention"
)

// BenchmarkPlan plans over 50k items of the benchmark corpus on the disk
// store, about 10% eligible and some held (make bench runs it at 1M).
func BenchmarkPlan(b *testing.B) {
	a, r := benchArchive(b, 50_000)
	defer a.Close()
	b.ResetTimer()
	for b.Loop() {
		if _, err := r.Plan(ctx, time.Date(2020, 10, 19, 0, 0, 0, 0, time.UTC), "", retention.DefaultApprovers, "planner"); err != nil {
			b.Fatal(err)
		}
	}
}

// benchArchive is n items of the benchmark corpus on the disk store under
// a one-year schedule, March 2019 held.
func benchArchive(b *testing.B, n int) (*archive.Archive, *retention.Records) {
	dir := b.TempDir()
	clock := archivetest.NewClock(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	a, _, err := archive.Init(ctx, archivetest.Options(dir+"/data", clock, archivetest.DiskOpener(dir+"/store")), "disk")
	if err != nil {
		b.Fatal(err)
	}
	var corpus bytes.Buffer
	if _, err := archivetest.WriteCorpus(&corpus, n, 1); err != nil {
		b.Fatal(err)
	}
	if _, err := a.Ingest(ctx, []archive.Source{{Name: "corpus.jsonl", R: &corpus}}, archive.IngestOptions{}); err != nil {
		b.Fatal(err)
	}
	r := retention.New(a, clock.Now)
	if err := r.AddSchedule(ctx, retention.Schedule{ID: "bench-1y", Title: "bench", Authority: "bench", Retain: retention.Period{Years: 1}, Action: retention.ActionDestroy}); err != nil {
		b.Fatal(err)
	}
	accts, _ := a.Accounts()
	for _, acct := range accts {
		a.UpdateAccount(ctx, acct.Key, func(x *archive.Account) error { x.Schedule = "bench-1y"; return nil })
	}
	from, to := time.Date(2019, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2019, 3, 30, 0, 0, 0, 0, time.UTC)
	r.PlaceHold(ctx, retention.Hold{Name: "bench", Matter: "bench", Reason: "bench", From: &from, To: &to}, "bench")
	return a, r
}

// BenchmarkExecute destroys about 5,000 of 50k items (run with
// -benchtime 1x: each run destroys what the last one planned).
func BenchmarkExecute(b *testing.B) {
	a, r := benchArchive(b, 50_000)
	defer a.Close()
	asOf := time.Date(2020, 10, 19, 0, 0, 0, 0, time.UTC)
	r.Now = func() time.Time { return asOf.Add(time.Hour) }
	for b.Loop() {
		b.StopTimer()
		p, err := r.Plan(ctx, asOf, "", retention.DefaultApprovers, "planner")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.Approve(ctx, p.ID, "approver"); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := r.Execute(ctx, p.ID, "executor"); err != nil {
			b.Fatal(err)
		}
	}
}
