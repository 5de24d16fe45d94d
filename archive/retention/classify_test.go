package retention_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/retention"
	"github.com/osmarc/osmarc/index"
)

// indexed is setup's archive with two more items (a post of the official
// account that is only a link, and a comment of its own on the comments
// account), indexed by the real search index, which evaluates the rules.
func indexed(t *testing.T) (*archive.Archive, *retention.Records, *index.Index, *[]string) {
	t.Helper()
	a, r, _ := setup(t)
	in := `{"platform":"facebook","account":"official","id":"p2","kind":"post","created_at":"2026-03-01T11:00:00Z","text":"https://example.gov/report.pdf #report","links":["https://example.gov/report.pdf"],"author":{"handle":"official"}}
{"platform":"facebook","account":"comments","id":"c9","kind":"comment","created_at":"2026-03-01T12:00:00Z","text":"Thanks, see our page","author":{"handle":"comments"}}
`
	if _, err := a.Ingest(ctx, []archive.Source{{Name: "more.jsonl", R: strings.NewReader(in)}}, archive.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	ix, err := index.Open(filepath.Join(t.TempDir(), index.DirName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	ix.SetVersionReader(a)
	if err := ix.Reindex(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	r.Matcher = ix
	r.ParseQuery = clauses
	var told []string
	r.OnReclassify = func(_ context.Context, keys []string) error {
		told = append(told, keys...)
		return nil
	}
	return a, r, ix, &told
}

func clauses(q string) ([]retention.Clause, error) {
	cs, err := index.Clauses(q)
	var out []retention.Clause
	for _, c := range cs {
		out = append(out, retention.Clause{Text: c.Text, Field: c.Field, Required: c.Required, Excluded: c.Excluded})
	}
	return out, err
}

func events(t *testing.T, a *archive.Archive) int64 {
	t.Helper()
	s, err := a.Stats()
	if err != nil {
		t.Fatal(err)
	}
	return s.Events
}

func classOf(t *testing.T, r *retention.Records, key string) retention.Assignment {
	t.Helper()
	cl, err := r.Classifier(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return cl.Of(key)
}

func TestRulesFirstMatchWinsAndOneEventPerChange(t *testing.T) {
	a, r, _, told := indexed(t)
	if got := classOf(t, r, "facebook/comments/c1"); !reflect.DeepEqual(got, retention.DefaultAssignment) {
		t.Fatalf("with no rules: %+v", got)
	}
	n := events(t, a)
	ru, ch, err := r.AddRule(ctx, retention.Rule{Match: "+linkonly:true", Class: "secondary copy", Schedule: "grs-5.2-020"}, 0, "Wisconsin: a link to a publication kept elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	if ru.ID != "r1" || ru.Class != retention.ClassSecondaryCopy || ch.Reclassified != 1 || ch.Evaluated != 5 || ch.Assignments == "" || !slices.Equal(*told, []string{"facebook/official/p2"}) {
		t.Fatalf("rule %+v, change %+v, told %v", ru, ch, *told)
	}
	if got := events(t, a); got != n+1 {
		t.Fatalf("a rule change wrote %d events, want 1", got-n)
	}
	_, ch, err = r.AddRule(ctx, retention.Rule{Match: "+kind:comment +origin:public", Class: "transitory", Schedule: "grs-5.2-010", Exemptions: []string{"PII"}}, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if ch.Reclassified != 2 { // c1, c2; c9 is the account's own
		t.Fatalf("second rule reclassified %d", ch.Reclassified)
	}
	got := classOf(t, r, "facebook/comments/c1")
	if got.Class != retention.ClassTransitory || got.Rule != "r2" || got.Schedule != "grs-5.2-010" || !slices.Equal(got.Exemptions, []string{"personal-information"}) {
		t.Fatalf("c1: %+v", got)
	}
	if got := classOf(t, r, "facebook/comments/c9"); !reflect.DeepEqual(got, retention.DefaultAssignment) {
		t.Fatalf("the account's own comment: %+v", got)
	}
	// A rule put first wins over later ones.
	if _, _, err := r.AddRule(ctx, retention.Rule{Match: "account:comments", Class: "record"}, 1, "all of the page is a record"); err != nil {
		t.Fatal(err)
	}
	if got := classOf(t, r, "facebook/comments/c1"); got.Rule != "r3" || got.Class != retention.ClassRecord || got.Schedule != "" {
		t.Fatalf("after a first rule: %+v", got)
	}
	// Moved last, it no longer wins for c1.
	if _, err := r.MoveRule(ctx, "r3", 3, "order"); err != nil {
		t.Fatal(err)
	}
	rs, _ := r.Rules()
	var order []string
	for _, x := range rs.Rules {
		order = append(order, x.ID)
	}
	if !slices.Equal(order, []string{"r1", "r2", "r3"}) || rs.Version != 4 {
		t.Fatalf("order %v version %d", order, rs.Version)
	}
	if got := classOf(t, r, "facebook/comments/c1"); got.Rule != "r2" {
		t.Fatalf("after the move: %+v", got)
	}
	// rule test: clause by clause.
	ex, err := r.Explain(ctx, "facebook/comments/c1")
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.Rules) != 3 || ex.Rules[0].Matched || !ex.Rules[1].Wins || !ex.Rules[2].Matched || ex.Rules[2].Wins ||
		len(ex.Rules[1].Clauses) != 2 || !ex.Rules[1].Clauses[1].Holds || ex.Schedule != "grs-5.2-010" || ex.Disposition == nil ||
		!ex.Disposition.Date.Equal(day(2026, 8, 29)) {
		t.Fatalf("explanation %+v", ex)
	}
	// Removing a rule: the next one decides; ids are never reused.
	if _, err := r.RemoveRule(ctx, "r2", ""); err == nil {
		t.Fatal("removed a rule without a reason")
	}
	if _, err := r.RemoveRule(ctx, "r2", "superseded"); err != nil {
		t.Fatal(err)
	}
	if got := classOf(t, r, "facebook/comments/c1"); got.Rule != "r3" {
		t.Fatalf("after removal: %+v", got)
	}
	if ru, _, _ := r.AddRule(ctx, retention.Rule{Match: "kind:reply", Class: "record"}, 0, ""); ru.ID != "r4" {
		t.Fatalf("a new rule's id is %s, want r4", ru.ID)
	}
}

func TestPersonOutranksRulesUntilUndone(t *testing.T) {
	a, r, _, told := indexed(t)
	if _, _, err := r.AddRule(ctx, retention.Rule{Match: "+kind:comment", Class: "transitory", Schedule: "grs-5.2-010"}, 0, ""); err != nil {
		t.Fatal(err)
	}
	*told = nil
	n := events(t, a)
	d, err := r.Classify(ctx, "facebook/comments/c1", "record", "command-official-posts", []string{"security"}, "it announced a deployment")
	if err != nil {
		t.Fatal(err)
	}
	if d.By != planner || events(t, a) != n+1 || !slices.Equal(*told, []string{"facebook/comments/c1"}) {
		t.Fatalf("decision %+v, told %v", d, *told)
	}
	got := classOf(t, r, "facebook/comments/c1")
	if got.Source != retention.SourcePerson || got.Class != retention.ClassRecord || got.Schedule != "command-official-posts" || !slices.Equal(got.Exemptions, []string{"security-information"}) {
		t.Fatalf("after classify: %+v", got)
	}
	// A rule change does not touch it.
	_, ch, err := r.AddRule(ctx, retention.Rule{Match: "+kind:comment", Class: "non-record"}, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(ch.Keys, "facebook/comments/c1") || classOf(t, r, "facebook/comments/c1").Source != retention.SourcePerson {
		t.Fatalf("a rule change overrode a person: %+v", ch)
	}
	// Under the permanent schedule the person chose, c1 is never eligible.
	// c2 and c9 are non-records under their account's 90 days; the posts
	// are permanent.
	if p := planKeys(t, r, day(2030, 1, 1)); p.Items != 2 {
		t.Fatalf("plan with a person's permanent classification: %+v", p)
	}
	if _, err := r.Unclassify(ctx, "facebook/comments/c1", ""); err == nil {
		t.Fatal("undone without a reason")
	}
	if _, err := r.Unclassify(ctx, "facebook/comments/c1", "mistaken"); err != nil {
		t.Fatal(err)
	}
	if got := classOf(t, r, "facebook/comments/c1"); got.Source != retention.SourceRule || got.Class != retention.ClassNonRecord {
		t.Fatalf("after undo: %+v", got)
	}
	if _, err := r.Unclassify(ctx, "facebook/comments/c1", "again"); err == nil {
		t.Fatal("undone twice")
	}
}

// A rule's schedule decides the item's disposition date, to the day.
func TestRuleScheduleGivesTheDispositionDate(t *testing.T) {
	_, r, _, _ := indexed(t)
	if _, _, err := r.AddRule(ctx, retention.Rule{Match: "+kind:comment +origin:public", Class: "transitory", Schedule: "grs-5.2-010"}, 0, ""); err != nil {
		t.Fatal(err)
	}
	// c1: 2026-03-01T10:00Z + 180 days = 2026-08-28T10:00Z → from 2026-08-29;
	// under its account's 90 days it would have been 2026-05-31. c9 (the
	// account's own comment, no rule) keeps the account's 90 days.
	keysOf := func(asOf time.Time) []string {
		p := planKeys(t, r, asOf)
		var ks []string
		for _, g := range p.Groups {
			ks = append(ks, g.Schedule)
		}
		return append(ks, strings.Repeat("x", p.Items))
	}
	if got := keysOf(day(2026, 8, 29).Add(-time.Second)); !slices.Equal(got, []string{"grs-6.4-020", "x"}) {
		t.Fatalf("the second before: %v", got)
	}
	if got := keysOf(day(2026, 8, 29)); !slices.Equal(got, []string{"grs-5.2-010", "grs-6.4-020", "xx"}) {
		t.Fatalf("on the day: %v", got)
	}
	if p, _ := r.Plan(ctx, day(2026, 9, 1), "grs-5.2-010", retention.DefaultApprovers, planner); p.Items != 2 {
		t.Fatalf("--schedule grs-5.2-010: %d items", p.Items)
	}
}

// Bad input: one clear error, nothing recorded.
func TestClassificationBadInput(t *testing.T) {
	a, r, _, _ := indexed(t)
	n := events(t, a)
	for _, c := range []struct {
		rule retention.Rule
		want string
		is   error
	}{
		{retention.Rule{Match: `"road closure`, Class: "record"}, "unclosed quote", retention.ErrInvalid},
		{retention.Rule{Match: `acount:x`, Class: "record"}, `unknown field "acount"`, retention.ErrInvalid},
		{retention.Rule{Match: `class:record`, Class: "record"}, "cannot match on class:", retention.ErrInvalid},
		{retention.Rule{Match: ``, Class: "record"}, "--match is required", retention.ErrInvalid},
		{retention.Rule{Match: `kind:post`, Class: "permanent"}, `class "permanent"`, retention.ErrInvalid},
		{retention.Rule{Match: `kind:post`, Class: "record", Schedule: "no-such"}, `schedule "no-such"`, retention.ErrNotFound},
		{retention.Rule{Match: `kind:post`, Class: "record", Exemptions: []string{"b99"}}, `exemption "b99"`, retention.ErrInvalid},
	} {
		_, _, err := r.AddRule(ctx, c.rule, 0, "")
		if !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("rule %+v: %v", c.rule, err)
		}
	}
	if _, err := r.Classify(ctx, "facebook/comments/nope", "record", "", nil, "r"); !errors.Is(err, retention.ErrNotFound) {
		t.Errorf("classify an unknown item: %v", err)
	}
	if _, err := r.Classify(ctx, "facebook/comments/c1", "record", "", nil, " "); err == nil || !strings.Contains(err.Error(), "--reason") {
		t.Errorf("classify without a reason: %v", err)
	}
	if _, err := r.PlaceHold(ctx, retention.Hold{Name: "q", Matter: "m", Reason: "r", Query: `"parade`}, "legal"); !errors.Is(err, retention.ErrInvalid) || !strings.Contains(err.Error(), "unclosed quote") {
		t.Errorf("a hold whose query does not parse: %v", err)
	}
	if _, err := r.MoveRule(ctx, "r9", 1, ""); !errors.Is(err, retention.ErrNotFound) {
		t.Errorf("move an unknown rule: %v", err)
	}
	if got := events(t, a); got != n {
		t.Fatalf("bad input wrote %d event(s)", got-n)
	}
	// An index that misses items cannot evaluate rules: refused, nothing
	// recorded, and a plan says so rather than use the wrong schedule.
	in := `{"platform":"facebook","account":"comments","id":"c10","kind":"comment","created_at":"2026-03-05T10:00:00Z","text":"new"}` + "\n"
	a.Ingest(ctx, []archive.Source{{Name: "new.jsonl", R: strings.NewReader(in)}}, archive.IngestOptions{})
	n = events(t, a)
	if _, _, err := r.AddRule(ctx, retention.Rule{Match: "kind:post", Class: "record"}, 0, ""); !errors.Is(err, retention.ErrNoIndex) || !strings.Contains(err.Error(), "osmarc reindex") {
		t.Fatalf("a rule with an incomplete index: %v", err)
	}
	if got := events(t, a); got != n {
		t.Fatal("a refused rule wrote an event")
	}
}

func TestPlanNeedsACompleteIndexOnlyWithRules(t *testing.T) {
	a, r, ix, _ := indexed(t)
	if _, _, err := r.AddRule(ctx, retention.Rule{Match: "kind:post", Class: "record"}, 0, ""); err != nil {
		t.Fatal(err)
	}
	in := `{"platform":"facebook","account":"comments","id":"c10","kind":"comment","created_at":"2026-03-05T10:00:00Z","text":"new"}` + "\n"
	a.Ingest(ctx, []archive.Source{{Name: "new.jsonl", R: strings.NewReader(in)}}, archive.IngestOptions{})
	fresh := retention.New(a, r.Now)
	fresh.Matcher, fresh.ParseQuery = ix, clauses
	if _, err := fresh.Plan(ctx, day(2027, 1, 1), "", retention.DefaultApprovers, planner); !errors.Is(err, retention.ErrNoIndex) {
		t.Fatalf("plan with rules and a stale index: %v", err)
	}
	if err := ix.Reindex(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	fresh = retention.New(a, r.Now)
	fresh.Matcher, fresh.ParseQuery = ix, clauses
	if p, err := fresh.Plan(ctx, day(2027, 1, 1), "", retention.DefaultApprovers, planner); err != nil || p.Items != 4 {
		t.Fatalf("plan after reindex: %+v %v", p, err)
	}
}

// A hold's query is evaluated by the index, on items captured before and
// after the hold; an item the index does not hold yet is held.
func TestQueryHoldThroughTheIndex(t *testing.T) {
	a, r, ix, _ := indexed(t)
	if _, err := r.PlaceHold(ctx, retention.Hold{Name: "parade", Matter: "FOIA 2026-14", Reason: "request", Query: "parade"}, "legal"); err != nil {
		t.Fatal(err)
	}
	held := func() []string {
		var out []string
		for _, k := range []string{"facebook/comments/c1", "facebook/comments/c2", "facebook/comments/c11", "facebook/comments/c12"} {
			if hs, err := r.HoldsOn(ctx, k); err == nil && len(hs) > 0 {
				out = append(out, strings.TrimPrefix(k, "facebook/comments/"))
			}
		}
		return out
	}
	if got := held(); !slices.Equal(got, []string{"c1"}) {
		t.Fatalf("held before: %v", got)
	}
	in := `{"platform":"facebook","account":"comments","id":"c11","kind":"comment","created_at":"2026-03-05T10:00:00Z","text":"the parade was loud"}
{"platform":"facebook","account":"comments","id":"c12","kind":"comment","created_at":"2026-03-05T11:00:00Z","text":"nice weather"}
`
	a.Ingest(ctx, []archive.Source{{Name: "later.jsonl", R: strings.NewReader(in)}}, archive.IngestOptions{})
	if got := held(); !slices.Equal(got, []string{"c1", "c11", "c12"}) {
		t.Fatalf("captured after, not indexed yet (held, the safe side): %v", got)
	}
	if err := ix.Reindex(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	if got := held(); !slices.Equal(got, []string{"c1", "c11"}) {
		t.Fatalf("captured after, indexed: %v", got)
	}
	if p := planKeys(t, r, day(2026, 7, 1)); p.Held != 2 || p.Items != 3 { // c2, c9, c12 eligible
		t.Fatalf("plan: %d eligible, %d held", p.Items, p.Held)
	}
	if _, err := r.ReleaseHold(ctx, "parade", "request closed", "legal"); err != nil {
		t.Fatal(err)
	}
	if p := planKeys(t, r, day(2026, 7, 1)); p.Held != 0 || p.Items != 5 {
		t.Fatalf("after release: %d eligible, %d held", p.Items, p.Held)
	}
}

// Transfer: two approvers, a package written before anything is recorded,
// the items marked transferred and not planned again; review items listed.
func TestTransferAndReview(t *testing.T) {
	a, r, _, _ := indexed(t)
	for _, s := range []retention.Schedule{
		{ID: "official-10y", Title: "Official posts", Authority: "Agency item 1", Retain: retention.Period{Years: 1}, Cutoff: retention.Cutoff{Kind: retention.CutoffCalendarYear}, Action: retention.ActionTransfer},
		{ID: "review-1y", Title: "Own comments", Authority: "Agency item 2", Retain: retention.Period{Years: 1}, Action: retention.ActionReview},
	} {
		if err := r.AddSchedule(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	r.AddRule(ctx, retention.Rule{Match: "+account:official", Class: "record", Schedule: "official-10y"}, 0, "")
	r.AddRule(ctx, retention.Rule{Match: "+account:comments +origin:account", Class: "record", Schedule: "review-1y"}, 0, "")
	r.Now = func() time.Time { return day(2028, 1, 2) }
	p := planKeys(t, r, day(2028, 1, 1))
	if p.Required != 2 || p.Items != 5 {
		t.Fatalf("plan with a transfer: %+v", p)
	}
	if _, err := r.Approve(ctx, p.ID, "Legal Counsel"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Execute(ctx, p.ID, planner); err == nil || !strings.Contains(err.Error(), "1 of the 2 approvals") {
		t.Fatalf("a transfer executed with one approval: %v", err)
	}
	if _, err := r.Approve(ctx, p.ID, "Archivist"); err != nil {
		t.Fatal(err)
	}
	// With nothing to write the package, nothing happens.
	n := events(t, a)
	if _, err := r.Execute(ctx, p.ID, planner); err == nil || events(t, a) != n {
		t.Fatalf("executed a transfer without a package writer: %v", err)
	}
	var got []retention.TransferItem
	r.Transfer = func(_ context.Context, pl retention.Plan, items []retention.TransferItem) (*retention.TransferPackage, error) {
		got = items
		return &retention.TransferPackage{Format: "bagit", Dir: "/x/" + pl.ID, Items: len(items)}, nil
	}
	p, err := r.Execute(ctx, p.ID, planner)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Key != "facebook/official/p1" || got[0].Schedule.ID != "official-10y" || len(got[0].Versions) != 1 ||
		p.Result.Package == nil || !slices.Equal(p.Result.Transfer, []string{"facebook/official/p1", "facebook/official/p2"}) ||
		!slices.Equal(p.Result.Review, []string{"facebook/comments/c9"}) || p.Result.Destroyed != 2 {
		t.Fatalf("executed: %+v, transferred %+v", p.Result, got)
	}
	if _, ok, _ := r.Transferred("facebook/official/p1"); !ok {
		t.Fatal("p1 not marked transferred")
	}
	// The transferred items are kept, and not planned again; the review
	// item is, until a person acts.
	if _, err := a.Show(ctx, "facebook/official/p1"); err != nil {
		t.Fatalf("a transferred item is gone: %v", err)
	}
	if q := planKeys(t, r, day(2028, 1, 1)); q.Items != 1 || q.Groups[0].Action != retention.ActionReview {
		t.Fatalf("next plan: %+v", q)
	}
}

// Rules and people's decisions are journal events: a catalog rebuilt from
// the store has them, and classifies as before.
func TestClassificationSurvivesRebuild(t *testing.T) {
	a, r, clock := setup(t)
	ix, err := index.Open(filepath.Join(t.TempDir(), index.DirName))
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	ix.SetVersionReader(a)
	if err := ix.Reindex(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	r.Matcher, r.ParseQuery = ix, clauses
	if _, _, err := r.AddRule(ctx, retention.Rule{Match: "+kind:comment", Class: "transitory", Schedule: "grs-5.2-010"}, 0, "r"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Classify(ctx, "facebook/comments/c2", "non-record", "", []string{"draft"}, "a test comment"); err != nil {
		t.Fatal(err)
	}
	wantRules, _ := r.Rules()
	wantDecisions, _ := r.Decisions()
	dir := a.Dir()
	a.Close()
	b, err := archive.Rebuild(ctx, archivetest.Options(dir, clock, archivetest.MemOpener(storeOf(a))))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	r2 := retention.New(b, clock.Now)
	r2.Matcher, r2.ParseQuery = ix, clauses
	gotRules, _ := r2.Rules()
	gotDecisions, _ := r2.Decisions()
	if !reflect.DeepEqual(gotRules, wantRules) || !reflect.DeepEqual(gotDecisions, wantDecisions) {
		t.Fatalf("after rebuild: rules %+v decisions %+v", gotRules, gotDecisions)
	}
	if got := classOf(t, r2, "facebook/comments/c1"); got.Class != retention.ClassTransitory {
		t.Fatalf("c1 after rebuild: %+v", got)
	}
	if got := classOf(t, r2, "facebook/comments/c2"); got.Class != retention.ClassNonRecord || got.Source != retention.SourcePerson {
		t.Fatalf("c2 after rebuild: %+v", got)
	}
}

// TestRuleClausesAreAllRequired: in a rule every clause is required unless
// "-" excludes it (the example, platform:facebook kind:comment,
// means Facebook comments); an alternative within a field is a regular
// expression over its whole value; rule test explains clause by clause.
func TestRuleClausesAreAllRequired(t *testing.T) {
	a, r, ix, _ := indexed(t)
	in := `{"platform":"x","account":"official","id":"x1","kind":"comment","created_at":"2026-03-01T13:00:00Z","text":"a comment elsewhere"}
`
	if _, err := a.Ingest(ctx, []archive.Source{{Name: "x.jsonl", R: strings.NewReader(in)}}, archive.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := ix.Reindex(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	classified := func(rule string) []string {
		t.Helper()
		cl, err := r.Classifier(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range cl.Classified() {
			if cl.Of(k).Rule == rule {
				out = append(out, k)
			}
		}
		return out
	}
	ru, _, err := r.AddRule(ctx, retention.Rule{Match: "platform:facebook kind:comment", Class: "transitory"}, 0, "Facebook comments")
	if err != nil {
		t.Fatal(err)
	}
	if ru.Semantics != retention.RuleSemanticsAll || ru.Query != "+platform:facebook +kind:comment" || ru.Match != "platform:facebook kind:comment" {
		t.Fatalf("rule as recorded: %+v", ru)
	}
	want := []string{"facebook/comments/c1", "facebook/comments/c2", "facebook/comments/c9"}
	if got := classified("r1"); !slices.Equal(got, want) {
		t.Fatalf("platform:facebook kind:comment classified %v, want the Facebook comments %v", got, want)
	}
	// The journal records the rule with its semantics and evaluated query.
	rs, _ := r.Rules()
	if rs.Rules[0].Semantics != retention.RuleSemanticsAll || rs.Rules[0].Query != ru.Query {
		t.Fatalf("recorded rules: %+v", rs.Rules)
	}
	ex, err := r.Explain(ctx, "x/official/x1")
	if err != nil {
		t.Fatal(err)
	}
	if ex.Rules[0].Matched || ex.Assignment.Source != retention.SourceDefault || len(ex.Rules[0].Clauses) != 2 ||
		ex.Rules[0].Clauses[0].Holds || ex.Rules[0].Clauses[0].Role != retention.RoleRequired || !ex.Rules[0].Clauses[0].Required ||
		!ex.Rules[0].Clauses[1].Holds || ex.Rules[0].Clauses[1].Role != retention.RoleRequired {
		t.Fatalf("rule test on a comment on X: %+v", ex.Rules)
	}

	// "-" still excludes: the public's comments, wherever they are.
	if _, _, err := r.AddRule(ctx, retention.Rule{Match: "kind:comment -origin:account", Class: "non-record"}, 1, "public comments"); err != nil {
		t.Fatal(err)
	}
	if got, want := classified("r2"), []string{"facebook/comments/c1", "facebook/comments/c2", "x/official/x1"}; !slices.Equal(got, want) {
		t.Fatalf("kind:comment -origin:account classified %v, want %v", got, want)
	}
	if ex, err = r.Explain(ctx, "facebook/comments/c9"); err != nil {
		t.Fatal(err)
	}
	if c := ex.Rules[0].Clauses; ex.Rules[0].Matched || len(c) != 2 || c[1].Role != retention.RoleExcluded || !c[1].Holds || ex.Assignment.Rule != "r1" {
		t.Fatalf("rule test on the account's own comment: %+v", ex)
	}
	if _, err := r.RemoveRule(ctx, "r2", "test done"); err != nil {
		t.Fatal(err)
	}

	// An alternative within one field: a regular expression over its
	// whole value.
	if _, _, err := r.AddRule(ctx, retention.Rule{Match: "platform:/facebook|x/ kind:/post|comment/", Class: "record"}, 0, ""); err != nil {
		t.Fatal(err)
	}
	if got, want := classified("r3"), []string{"facebook/official/p1", "facebook/official/p2", "x/official/x1"}; !slices.Equal(got, want) {
		t.Fatalf("alternatives as regular expressions classified %v, want %v", got, want)
	}
}

// TestOldRulesKeepTheirMeaning: a rule recorded before every clause was
// required (no semantics in its event) still matches what osmarc search
// finds, after a replay and after later changes of the rules: a records
// decision never changes silently.
func TestOldRulesKeepTheirMeaning(t *testing.T) {
	a, r, ix, _ := indexed(t)
	old := retention.RuleSet{ID: "rules", Version: 1, NextID: 1, Rules: []retention.Rule{
		{ID: "r1", Match: "kind:post account:comments", Class: "non-record", AddedBy: "officer", AddedAt: day(2026, 1, 5)},
	}}
	if _, err := a.RecordEvent(ctx, retention.EventRulesChanged, map[string]any{"rules": old}); err != nil {
		t.Fatal(err)
	}
	r2 := retention.New(a, r.Now)
	r2.Matcher, r2.ParseQuery = ix, clauses
	cl, err := r2.Classifier(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Search semantics: posts or items of the comments account.
	want := []string{"facebook/comments/c1", "facebook/comments/c2", "facebook/comments/c9", "facebook/official/p1", "facebook/official/p2"}
	if got := cl.Classified(); !slices.Equal(got, want) {
		t.Fatalf("the old rule classifies %v, want %v", got, want)
	}
	ex, err := r2.Explain(ctx, "facebook/official/p1")
	if err != nil {
		t.Fatal(err)
	}
	if c := ex.Rules[0].Clauses; !ex.Rules[0].Wins || len(c) != 2 || c[0].Role != retention.RoleAnyOf || c[1].Role != retention.RoleAnyOf || c[1].Holds {
		t.Fatalf("rule test on an old rule: %+v", ex.Rules)
	}
	// A new rule after it: the old one keeps its meaning, the new one
	// requires every clause.
	if _, _, err := r2.AddRule(ctx, retention.Rule{Match: "kind:comment origin:account", Class: "record"}, 0, ""); err != nil {
		t.Fatal(err)
	}
	rs, _ := r2.Rules()
	if rs.Rules[0].Semantics != retention.RuleSemanticsSearch || rs.Rules[0].Query != "" || rs.Rules[1].Semantics != retention.RuleSemanticsAll {
		t.Fatalf("rules after a change: %+v", rs.Rules)
	}
	if got := classOf(t, r2, "facebook/comments/c1"); got.Rule != "r1" {
		t.Fatalf("c1 after a new rule: %+v", got)
	}
	// With "+", an old rule's plain clauses only ranked.
	if _, err := r2.RemoveRule(ctx, "r1", "superseded"); err != nil {
		t.Fatal(err)
	}
	old2 := retention.RuleSet{ID: "rules", Version: 10, NextID: 5, Rules: []retention.Rule{
		{ID: "r5", Match: "+kind:post account:comments", Class: "non-record"},
	}}
	if _, err := a.RecordEvent(ctx, retention.EventRulesChanged, map[string]any{"rules": old2}); err != nil {
		t.Fatal(err)
	}
	r3 := retention.New(a, r.Now)
	r3.Matcher, r3.ParseQuery = ix, clauses
	if ex, err = r3.Explain(ctx, "facebook/official/p1"); err != nil {
		t.Fatal(err)
	}
	if c := ex.Rules[0].Clauses; !ex.Rules[0].Wins || c[0].Role != retention.RoleRequired || c[1].Role != retention.RoleRanksOnly {
		t.Fatalf("rule test on an old rule with +: %+v", ex.Rules)
	}
}
