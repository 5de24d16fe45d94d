package web

import (
	"context"
	"net/url"
	"sync"
	"testing"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/retention"
	"github.com/osmarc/osmarc/index"
)

// TestConcurrentRequestsDuringRuleChanges: one Records, with the
// classification it caches, serves concurrent searches, item views and
// explanations while rules change through the server, wired as osmarc
// serve wires it (the index's documents annotated from the cached
// classification, re-indexed on every change, captures re-evaluated).
// Run under -race: every answer is whole, and each rule change is applied
// once, in order.
func TestConcurrentRequestsDuringRuleChanges(t *testing.T) {
	e := newRulesEnv(t)
	recs := e.s.Records()
	ctx := context.Background()
	// As serve wires it: the index fills class, schedule and exemptions
	// from the cached classification, and is told of every change.
	e.ix.SetAnnotator(func(ctx context.Context, d *index.Doc) error {
		cl, err := recs.Classifier(ctx)
		if err != nil {
			return err
		}
		a := cl.Resolved(d.Platform, d.Account, d.Key)
		d.Class, d.Schedule, d.Exemptions = a.Class, a.Schedule, a.Exemptions
		return nil
	})
	recs.OnReclassify = func(ctx context.Context, keys []string) error {
		var batch []archive.IndexUpdate
		for _, k := range keys {
			it, err := e.a.Catalog().Item(k)
			if err != nil {
				return err
			}
			batch = append(batch, archive.IndexUpdate{Item: it})
		}
		return e.ix.Update(ctx, batch)
	}
	key := "facebook/3rd-brigade/101_2001_3001"
	comment := url.PathEscape(key)

	const changes = 6
	var wg sync.WaitGroup
	stop := make(chan struct{})
	reader := func(name string, fn func() bool) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if !fn() {
					t.Errorf("%s failed", name)
					return
				}
			}
		}()
	}
	reader("search", func() bool {
		r := e.as(RoleRecordsOfficer, "GET", "/api/v1/search?q=parade&limit=50", nil)
		return r.status == 200 && r.json(t)["total"] != nil
	})
	reader("search by class", func() bool {
		r := e.as(RoleRecordsOfficer, "GET", "/api/v1/search?class=transitory", nil)
		return r.status == 200
	})
	reader("item", func() bool {
		r := e.as(RoleRecordsOfficer, "GET", "/api/v1/items/"+comment, nil)
		c, _ := r.json(t)["class"].(string)
		return r.status == 200 && (c == "record" || c == "transitory")
	})
	reader("explain", func() bool {
		r := e.as(RoleRecordsOfficer, "GET", "/api/v1/explain/"+comment, nil)
		return r.status == 200
	})
	reader("classifier", func() bool {
		// What a capture's indexer and a disposition plan read.
		cl, err := recs.Classifier(ctx)
		if err != nil {
			return false
		}
		c := cl.Of(key).Class
		cl.Classified()
		_, err = cl.Reevaluate(ctx, e.ix, []string{key, "x/Brigade3/1750000000000000042"})
		return err == nil && (c == retention.ClassRecord || c == retention.ClassTransitory)
	})
	id := ""
	for i := range changes {
		var r response
		if i%2 == 0 {
			r = e.as(RoleRecordsOfficer, "POST", "/api/v1/rules", map[string]any{"match": "platform:facebook kind:comment", "class": "transitory", "reason": "comments"})
			if ru, ok := r.json(t)["rule"].(map[string]any); ok {
				id, _ = ru["id"].(string)
			}
		} else {
			r = e.as(RoleRecordsOfficer, "POST", "/api/v1/rules/"+id+"/remove", map[string]any{"reason": "again"})
		}
		if r.status/100 != 2 {
			t.Errorf("rule change %d: %d %s", i, r.status, r.body)
			break
		}
	}
	close(stop)
	wg.Wait()
	if t.Failed() {
		return
	}

	// Every change applied once, in order; the classification as the last
	// left it, in the cache, the index and the item view alike.
	rs, err := recs.Rules()
	if err != nil || rs.Version != changes || len(rs.Rules) != 0 {
		t.Fatalf("rules after %d changes: %+v %v", changes, rs, err)
	}
	r := e.as(RoleRecordsOfficer, "POST", "/api/v1/rules", map[string]any{"match": "platform:facebook kind:comment", "class": "transitory", "reason": "final"})
	if r.status != 201 {
		t.Fatalf("last rule: %d %s", r.status, r.body)
	}
	if cl, err := recs.Classifier(ctx); err != nil || cl.Of(key).Class != retention.ClassTransitory {
		t.Fatalf("cached classification after the changes: %v", err)
	}
	if r := e.as(RoleRecordsOfficer, "GET", "/api/v1/items/"+comment, nil); r.json(t)["class"] != "transitory" {
		t.Fatalf("item view after the changes: %s", r.body)
	}
	res := e.as(RoleRecordsOfficer, "GET", "/api/v1/search?class=transitory", nil).json(t)
	if res["total"] != float64(2) { // the two Facebook comments
		t.Fatalf("search by class after the changes: %v", res)
	}
}
