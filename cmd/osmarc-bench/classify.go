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
	"github.com/osmarc/osmarc/index"
)

// benchClassification builds an archive of n items on the disk store and
// its search index, then times what classification rules cost: adding a
// rule (every item evaluated before and after, one event, the changed
// items indexed again with their class), and a disposition plan that
// evaluates the rules over every item.
func benchClassification(ctx context.Context, work string, n int, seed uint64) (map[string]any, []row, error) {
	res := map[string]any{"classify_items": n}
	corpus := filepath.Join(work, fmt.Sprintf("classify-%d.jsonl", n))
	if _, err := writeCorpus(corpus, n, seed); err != nil {
		return nil, nil, err
	}
	dir := filepath.Join(work, "classify-data")
	a, _, err := archive.Init(ctx, archive.Options{Dir: dir, Actor: "bench@localhost", OpenStore: stores.Open}, "")
	if err != nil {
		return nil, nil, err
	}
	defer a.Close()
	logf("classification: ingesting %d items", n)
	if err := ingestFile(ctx, a, corpus); err != nil {
		return nil, nil, err
	}
	logf("classification: indexing %d items", n)
	ix, err := index.Open(filepath.Join(dir, index.DirName))
	if err != nil {
		return nil, nil, err
	}
	defer ix.Close()
	ix.SetVersionReader(a)
	if err := ix.Reindex(ctx, a, nil); err != nil {
		return nil, nil, err
	}
	now := func() time.Time { return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC) }
	newRecords := func() *retention.Records {
		r := retention.New(a, now)
		r.Matcher = ix
		r.ParseQuery = func(q string) ([]retention.Clause, error) {
			cs, err := index.Clauses(q)
			out := make([]retention.Clause, len(cs))
			for i, c := range cs {
				out[i] = retention.Clause{Text: c.Text, Field: c.Field, Required: c.Required, Excluded: c.Excluded}
			}
			return out, err
		}
		// The changed items are indexed again with their class, as the
		// command line does.
		r.OnReclassify = func(ctx context.Context, keys []string) error {
			cl, err := r.Classifier(ctx)
			if err != nil {
				return err
			}
			ix.SetAnnotator(func(_ context.Context, d *index.Doc) error {
				as := cl.Resolved(d.Platform, d.Account, d.Key)
				d.Class, d.Schedule, d.Exemptions = as.Class, as.Schedule, as.Exemptions
				return nil
			})
			var batch []archive.IndexUpdate
			for _, k := range keys {
				it, err := a.Catalog().Item(k)
				if err != nil {
					return err
				}
				batch = append(batch, archive.IndexUpdate{Item: it})
				if len(batch) == archive.IndexBatch {
					if err := ix.Update(ctx, batch); err != nil {
						return err
					}
					batch = batch[:0]
				}
			}
			if len(batch) > 0 {
				return ix.Update(ctx, batch)
			}
			return nil
		}
		return r
	}
	r := newRecords()
	for _, s := range retention.Presets() {
		if err := r.AddSchedule(ctx, s); err != nil {
			return nil, nil, err
		}
	}
	accts, err := a.Accounts()
	if err != nil {
		return nil, nil, err
	}
	for _, acct := range accts {
		if _, err := a.UpdateAccount(ctx, acct.Key, func(x *archive.Account) error { x.Schedule = "grs-6.4-020"; return nil }); err != nil {
			return nil, nil, err
		}
	}
	var rows []row
	for i, rule := range []retention.Rule{
		{Match: "+kind:comment +origin:public", Class: retention.ClassTransitory, Schedule: "grs-5.2-010"},
		{Match: "+kind:post +origin:account", Class: retention.ClassRecord, Schedule: "command-official-posts"},
	} {
		logf("classification: adding rule %s over %d items", rule.Match, n)
		runtime.GC()
		start := time.Now()
		_, ch, err := r.AddRule(ctx, rule, 0, "bench")
		if err != nil {
			return nil, nil, err
		}
		s := time.Since(start).Seconds()
		res[fmt.Sprintf("classify_rule%d_seconds", i+1)] = round(s)
		res[fmt.Sprintf("classify_rule%d_reclassified", i+1)] = ch.Reclassified
		rows = append(rows, row{fmt.Sprintf("rule add over %dk items (%s)", n/1000, rule.Match), fmt.Sprintf("%.1f s, %.0f items/s", s, float64(n)/s),
			fmt.Sprintf("%d reclassified and re-indexed, one event", ch.Reclassified), ""})
	}
	// A plan evaluates the rules afresh (a new Records, as a new command).
	r = newRecords()
	logf("classification: planning over %d items with rules", n)
	runtime.GC()
	start := time.Now()
	p, err := r.Plan(ctx, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), "", retention.DefaultApprovers, "planner")
	if err != nil {
		return nil, nil, err
	}
	s := time.Since(start).Seconds()
	res["classify_plan_seconds"] = round(s)
	res["classify_plan_items_per_s"] = round(float64(n) / s)
	res["classify_plan_eligible"] = p.Items
	rows = append(rows, row{fmt.Sprintf("disposition plan over %dk items, 2 rules", n/1000), fmt.Sprintf("%.1f s, %.0f items/s", s, float64(n)/s),
		fmt.Sprintf("%d eligible under the rules' schedules", p.Items), ""})
	return res, rows, nil
}
