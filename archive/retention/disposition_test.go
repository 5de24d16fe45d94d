package retention_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/request"
	"github.com/osmarc/osmarc/archive/retention"
)

var ctx = context.Background()

const planner = "records.officer@example.gov"

// setup: an archive whose clock starts on 2026-03-01, items created in
// 2026 on two accounts: "comments" (GRS 6.4 item 020, 90 days) and
// "official" (permanent).
func setup(t *testing.T) (*archive.Archive, *retention.Records, *archivetest.Clock) {
	t.Helper()
	a, _, clock := archivetest.New(t)
	r := retention.New(a, clock.Now)
	for _, s := range retention.Presets() {
		if err := r.AddSchedule(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	for _, acct := range []archive.Account{
		{Platform: "facebook", Handle: "comments", Schedule: "grs-6.4-020"},
		{Platform: "facebook", Handle: "official", Schedule: "command-official-posts"},
	} {
		if _, err := a.AddAccount(ctx, acct); err != nil {
			t.Fatal(err)
		}
	}
	// One capture holding both accounts' items: they share its raw chunk.
	in := `{"platform":"facebook","account":"comments","id":"c1","kind":"comment","created_at":"2026-03-01T10:00:00Z","text":"great parade"}
{"platform":"facebook","account":"comments","id":"c2","kind":"comment","created_at":"2026-03-02T10:00:00Z","text":"when is the next one?"}
{"platform":"facebook","account":"official","id":"p1","kind":"post","created_at":"2026-03-01T09:00:00Z","text":"Parade on Saturday"}
`
	if _, err := a.Ingest(ctx, []archive.Source{{Name: "items.jsonl", R: strings.NewReader(in)}}, archive.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	return a, r, clock
}

func planKeys(t *testing.T, r *retention.Records, asOf time.Time) retention.Plan {
	t.Helper()
	p, err := r.Plan(ctx, asOf, "", retention.DefaultApprovers, planner)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestEligibleOnExactlyTheRightDay(t *testing.T) {
	_, r, _ := setup(t)
	// c1 created 2026-03-01T10:00Z + 90 days → eligible from 2026-05-31.
	if p := planKeys(t, r, day(2026, 5, 31).Add(-time.Second)); p.Items != 0 {
		t.Fatalf("eligible the day before: %d items", p.Items)
	}
	if p := planKeys(t, r, day(2026, 5, 31)); p.Items != 1 {
		t.Fatalf("on the day: %d items, want 1", p.Items)
	}
	if p := planKeys(t, r, day(2026, 6, 1)); p.Items != 2 || len(p.Groups) != 1 || p.Groups[0].Schedule != "grs-6.4-020" || p.Groups[0].Action != "destroy" {
		t.Fatalf("a day later: %+v", p)
	}
	// The permanent post is never eligible.
	if p := planKeys(t, r, day(2999, 1, 1)); p.Items != 2 {
		t.Fatalf("far future: %d items", p.Items)
	}
}

func TestHoldsBlockAndReleaseUnblocks(t *testing.T) {
	a, r, _ := setup(t)
	// A hold placed after capture.
	if _, err := r.PlaceHold(ctx, retention.Hold{Name: "smith-v-brigade", Matter: "Smith v. Brigade", Reason: "litigation", Accounts: []string{"facebook/comments"}}, "legal@example.gov"); err != nil {
		t.Fatal(err)
	}
	if p := planKeys(t, r, day(2026, 7, 1)); p.Items != 0 || p.Held != 2 {
		t.Fatalf("under hold: %d eligible, %d held", p.Items, p.Held)
	}
	// An item captured after the hold was placed is in its scope too.
	in := `{"platform":"facebook","account":"comments","id":"c3","kind":"comment","created_at":"2026-03-03T10:00:00Z","text":"later"}` + "\n"
	a.Ingest(ctx, []archive.Source{{Name: "more.jsonl", R: strings.NewReader(in)}}, archive.IngestOptions{})
	if p := planKeys(t, r, day(2026, 7, 1)); p.Items != 0 || p.Held != 3 {
		t.Fatalf("captured after the hold: %d eligible, %d held", p.Items, p.Held)
	}
	h, _ := r.Hold("smith-v-brigade")
	if n, _ := r.HoldCount(ctx, h); n != 3 {
		t.Fatalf("hold covers %d items, want 3", n)
	}
	if _, err := r.ReleaseHold(ctx, "smith-v-brigade", "settled", "legal@example.gov"); err != nil {
		t.Fatal(err)
	}
	if p := planKeys(t, r, day(2026, 7, 1)); p.Items != 3 || p.Held != 0 {
		t.Fatalf("after release: %d eligible, %d held", p.Items, p.Held)
	}
	// A hold with dates only covers its window.
	from, to := day(2026, 3, 2), day(2026, 3, 3)
	r.PlaceHold(ctx, retention.Hold{Name: "window", Matter: "m", Reason: "r", From: &from, To: &to}, "legal")
	if p := planKeys(t, r, day(2026, 7, 1)); p.Items != 2 || p.Held != 1 {
		t.Fatalf("dated hold: %d eligible, %d held", p.Items, p.Held)
	}
}

func TestDestroyWithCertificate(t *testing.T) {
	a, r, clock := setup(t)
	p := planKeys(t, r, day(2026, 6, 1))
	if _, err := r.Execute(ctx, p.ID, planner); err == nil || !strings.Contains(err.Error(), "approvals") {
		t.Fatalf("executed without approval: %v", err)
	}
	if _, err := r.Approve(ctx, p.ID, planner); err == nil || !strings.Contains(err.Error(), "second person") {
		t.Fatalf("the planner approved their own plan: %v", err)
	}
	if _, err := r.Approve(ctx, p.ID, "Legal Counsel"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(100 * 24 * time.Hour)
	before, _ := a.Stats()
	p, err := r.Execute(ctx, p.ID, planner)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != retention.PlanExecuted || p.Result.Destroyed != 2 {
		t.Fatalf("executed plan = %+v", p)
	}
	// The items are gone from the catalog; a residual entry remains.
	for _, k := range []string{"facebook/comments/c1", "facebook/comments/c2"} {
		if _, err := a.Show(ctx, k); !errors.Is(err, archive.ErrNotFound) {
			t.Fatalf("%s still shows: %v", k, err)
		}
		res, err := a.Catalog().Destroyed(k)
		if err != nil || res.Schedule != "grs-6.4-020" || res.Certificate == "" {
			t.Fatalf("residual of %s = %+v, %v", k, res, err)
		}
	}
	// The kept item is whole, and so is the raw chunk it shares.
	kept, err := a.Show(ctx, "facebook/official/p1")
	if err != nil || kept.Versions[0].Item == nil {
		t.Fatalf("kept item: %v", err)
	}
	raw, _ := archive.ParseDigest(kept.Sightings[0].Raw)
	if _, err := archive.ReadBlob(ctx, a.Store(), raw); err != nil {
		t.Fatalf("the raw chunk shared with a kept item was deleted: %v", err)
	}
	// The certificate lists exactly what was destroyed.
	cert, err := a.ReadCertificate(ctx, p.Result.Certificate)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, it := range cert.Items {
		keys = append(keys, it.Key)
		for _, v := range it.Versions {
			d, _ := archive.ParseDigest(v)
			if _, err := a.Store().Stat(ctx, archive.BlobKey(d)); !errors.Is(err, archive.ErrNotFound) {
				t.Fatalf("destroyed version %s still in the store", v)
			}
		}
	}
	if strings.Join(keys, ",") != "facebook/comments/c1,facebook/comments/c2" || len(cert.Approvals) != 1 || cert.Approvals[0].By != "Legal Counsel" ||
		len(cert.BlobsDeleted) != 2 || len(cert.BlobsKept) != 1 || cert.BlobsKept[0].Digest != raw.String() {
		t.Fatalf("certificate = %+v", cert)
	}
	after, _ := a.Stats()
	if after.Items != before.Items-2 || after.Versions != before.Versions-2 || after.Blobs != before.Blobs-2 {
		t.Fatalf("stats %+v → %+v", before, after)
	}
	// verify: no damage (the missing blobs are lawfully destroyed).
	rep, err := a.Verify(ctx, archive.VerifyOptions{Deep: true})
	if err != nil || !rep.OK || rep.Destroyed != 2 {
		t.Fatalf("verify after destruction: %+v %v", rep, err)
	}
	// rebuild from the store: the destroyed items do not come back.
	want := snapshot(t, a)
	dir := a.Dir()
	a.Close()
	b, err := archive.Rebuild(ctx, archivetest.Options(dir, clock, archivetest.MemOpener(storeOf(a))))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got := snapshot(t, b); got != want {
		t.Fatalf("after rebuild:\n%s\nwant\n%s", got, want)
	}
	// Executing again changes nothing.
	r2 := retention.New(b, clock.Now)
	if _, err := r2.Execute(ctx, p.ID, planner); err != nil {
		t.Fatalf("second execute: %v", err)
	}
}

func TestPlanThatNoLongerMatchesIsRefused(t *testing.T) {
	a, r, _ := setup(t)
	p := planKeys(t, r, day(2026, 6, 1))
	r.Approve(ctx, p.ID, "Legal Counsel")
	// A hold placed after approval.
	r.PlaceHold(ctx, retention.Hold{Name: "late", Matter: "m", Reason: "r", Accounts: []string{"facebook/comments"}}, "legal")
	before, _ := a.Stats()
	_, err := r.Execute(ctx, p.ID, planner)
	if !errors.Is(err, retention.ErrPlanChanged) {
		t.Fatalf("executed a plan whose items are now held: %v", err)
	}
	if after, _ := a.Stats(); after.Items != before.Items || after.Events != before.Events {
		t.Fatal("a refused execution changed the archive")
	}
	r.ReleaseHold(ctx, "late", "done", "legal")
	// An edit after approval changes an item: the plan no longer matches.
	in := `{"platform":"facebook","account":"comments","id":"c1","kind":"comment","created_at":"2026-03-01T10:00:00Z","text":"great parade (edited)"}` + "\n"
	a.Ingest(ctx, []archive.Source{{Name: "edit.jsonl", R: strings.NewReader(in)}}, archive.IngestOptions{})
	if _, err := r.Execute(ctx, p.ID, planner); !errors.Is(err, retention.ErrPlanChanged) {
		t.Fatalf("executed a plan whose item changed: %v", err)
	}
	// The plan's content tampered with in the store: refused too.
	q := planKeys(t, r, day(2026, 6, 1))
	d, _ := archive.ParseDigest(q.Content)
	ms := storeOf(a)
	ms.Corrupt(archive.BlobKey(d), []byte("{}\n"))
	if _, err := r.Approve(ctx, q.ID, "Legal Counsel"); !errors.Is(err, retention.ErrPlanChanged) {
		t.Fatalf("approved a plan whose content changed: %v", err)
	}
}

func TestScheduleChangesNeverShortenHeldRecords(t *testing.T) {
	_, r, _ := setup(t)
	r.PlaceHold(ctx, retention.Hold{Name: "h", Matter: "m", Reason: "r"}, "legal")
	s, _ := r.Schedule("grs-6.4-020")
	s.Retain = retention.Period{Days: 30}
	if err := r.UpdateSchedule(ctx, s, "shorter"); err == nil || !strings.Contains(err.Error(), "under hold") {
		t.Fatalf("shortened a schedule with held records: %v", err)
	}
	s.Retain = retention.Period{Years: 1}
	if err := r.UpdateSchedule(ctx, s, "longer"); err != nil {
		t.Fatalf("lengthening refused: %v", err)
	}
	if got, _ := r.Schedule("grs-6.4-020"); got.Retain != (retention.Period{Years: 1}) {
		t.Fatalf("schedule = %+v", got)
	}
}

func TestBadInput(t *testing.T) {
	a, r, _ := setup(t)
	before, _ := a.Stats()
	if _, err := r.Plan(ctx, day(2027, 1, 1), "no-such", retention.DefaultApprovers, planner); !errors.Is(err, retention.ErrNotFound) {
		t.Errorf("unknown schedule: %v", err)
	}
	if err := r.AddSchedule(ctx, retention.Schedule{ID: "x", Title: "t", Authority: "a", Action: "shred"}); !errors.Is(err, retention.ErrInvalid) {
		t.Errorf("bad action: %v", err)
	}
	if _, err := r.Approve(ctx, "DP-nope", "x"); !errors.Is(err, retention.ErrNotFound) {
		t.Errorf("unknown plan: %v", err)
	}
	if _, err := r.PlaceHold(ctx, retention.Hold{Name: "h"}, "legal"); err == nil || !strings.Contains(err.Error(), "--matter") {
		t.Errorf("hold without matter: %v", err)
	}
	if _, err := r.PlaceHold(ctx, retention.Hold{Name: "h", Matter: "m", Reason: "r", Accounts: []string{"nobody"}}, "legal"); !errors.Is(err, archive.ErrUnknownAccount) {
		t.Errorf("hold on an unknown account: %v", err)
	}
	if after, _ := a.Stats(); after.Events != before.Events {
		t.Fatalf("bad input wrote %d events", after.Events-before.Events)
	}
}

// An item an open-records request still open holds is not planned for
// disposition; a schedule with the request-closed cutoff runs from the
// day the request closed, to the day.
func TestOpenRequestsKeepItemsAndClosingStartsTheCutoff(t *testing.T) {
	a, r, clock := setup(t)
	if err := r.AddSchedule(ctx, retention.Schedule{ID: "foia-6y", Title: "FOIA request files", Authority: "NARA GRS 4.2 item 020",
		Retain: retention.Period{Years: 6}, Cutoff: retention.Cutoff{Kind: retention.CutoffEvent, Event: request.CutoffEvent}, Action: retention.ActionDestroy}); err != nil {
		t.Fatal(err)
	}
	d, _ := request.ParseDate("2026-02-20")
	req, err := request.Open(ctx, a, request.DefaultPresets(), request.OpenParams{Requester: "Pat", Description: "parade", Received: d, Law: "us-foia", Today: clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := request.AddItems(ctx, a, req.ID, []string{"facebook/comments/c1"}); err != nil {
		t.Fatal(err)
	}
	if p := planKeys(t, r, day(2026, 7, 1)); p.Items != 1 || p.Requested != 1 {
		t.Fatalf("with c1 in an open request: %d eligible, %d requested", p.Items, p.Requested)
	}
	// c2 under the request-closed schedule, by a person.
	r.ParseQuery = clauses
	if _, err := r.Classify(ctx, "facebook/comments/c1", "record", "foia-6y", nil, "part of a FOIA request file"); err != nil {
		t.Fatal(err)
	}
	if p := planKeys(t, r, day(2040, 1, 1)); p.Items != 1 || p.Requested != 0 {
		t.Fatalf("open request, event not happened: %d eligible, %d requested", p.Items, p.Requested)
	}
	clock.Advance(30 * 24 * time.Hour)
	closed, err := request.Close(ctx, a, req.ID, "answered")
	if err != nil {
		t.Fatal(err)
	}
	// Closed at ~2026-03-31: eligible from the midnight after six years.
	end := closed.ClosedAt.AddDate(6, 0, 0)
	from := time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
	if p := planKeys(t, r, from.Add(-time.Second)); p.Items != 1 {
		t.Fatalf("the second before: %d eligible", p.Items)
	}
	if p := planKeys(t, r, from); p.Items != 2 || p.Groups[0].Schedule != "foia-6y" {
		t.Fatalf("on the day: %+v", p)
	}
}

// A schedule whose cutoff is the account's deactivation leaves its items
// pending until then, in plans and explanations alike.
func TestAccountDeactivationStartsTheCutoff(t *testing.T) {
	a, r, _ := setup(t)
	if err := r.AddSchedule(ctx, retention.Schedule{ID: "acct-1y", Title: "until a year after deactivation", Authority: "test",
		Retain: retention.Period{Years: 1}, Cutoff: retention.Cutoff{Kind: retention.CutoffEvent, Event: "account-deactivated"}, Action: retention.ActionDestroy}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.UpdateAccount(ctx, "facebook/official", func(x *archive.Account) error { x.Schedule = "acct-1y"; return nil }); err != nil {
		t.Fatal(err)
	}
	if p := planKeys(t, r, day(2999, 1, 1)); p.Items != 2 {
		t.Fatalf("account active: %d eligible, want the 2 comments", p.Items)
	}
	if ex, err := r.Explain(ctx, "facebook/official/p1"); err != nil || ex.Disposition == nil || ex.Disposition.Pending != "account-deactivated" {
		t.Fatalf("account active: %+v %v", ex.Disposition, err)
	}
	acct, err := a.DeactivateAccount(ctx, "facebook/official", "merged")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := r.Explain(ctx, "facebook/official/p1")
	if err != nil || ex.Disposition == nil || ex.Disposition.Pending != "" || !ex.Disposition.Cutoff.Equal(*acct.DeactivatedAt) {
		t.Fatalf("account deactivated: %+v %v", ex.Disposition, err)
	}
	if p := planKeys(t, r, ex.Disposition.Date.Add(-time.Second)); p.Items != 2 {
		t.Fatalf("the second before: %d eligible", p.Items)
	}
	if p := planKeys(t, r, ex.Disposition.Date); p.Items != 3 {
		t.Fatalf("on the day: %d eligible, want 3", p.Items)
	}
}
