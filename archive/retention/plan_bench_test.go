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
	dir := b.TempDir()
	clock := archivetest.NewClock(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	a, _, err := archive.Init(ctx, archivetest.Options(dir+"/data", clock, archivetest.DiskOpener(dir+"/store")), "disk")
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	var corpus bytes.Buffer
	if _, err := archivetest.WriteCorpus(&corpus, 50_000, 1); err != nil {
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
	b.ResetTimer()
	for b.Loop() {
		if _, err := r.Plan(ctx, time.Date(2020, 10, 19, 0, 0, 0, 0, time.UTC), "", retention.DefaultApprovers, "planner"); err != nil {
			b.Fatal(err)
		}
	}
}
