package retention_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/memstore"
	"github.com/osmarc/osmarc/archive/retention"
)

// setupLocked is setup on a memory store with Object Lock in compliance
// mode, whose dates pass by the test's clock.
func setupLocked(t *testing.T) (*archive.Archive, *retention.Records, *archivetest.Clock, *memstore.Store) {
	t.Helper()
	a, store, clock := archivetest.NewLocked(t, archive.LockCompliance)
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
	// As in setup: one capture, one raw chunk shared by all three items.
	in := `{"platform":"facebook","account":"comments","id":"c1","kind":"comment","created_at":"2026-03-01T10:00:00Z","text":"great parade"}
{"platform":"facebook","account":"comments","id":"c2","kind":"comment","created_at":"2026-03-02T10:00:00Z","text":"when is the next one?"}
{"platform":"facebook","account":"official","id":"p1","kind":"post","created_at":"2026-03-01T09:00:00Z","text":"Parade on Saturday"}
`
	if _, err := a.Ingest(ctx, []archive.Source{{Name: "items.jsonl", R: strings.NewReader(in)}}, archive.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	return a, r, clock, store
}

// blobs of an item: its version blobs, then the raw chunk.
type itemBlobs struct {
	version, raw string // store keys
}

func blobsOf(t *testing.T, a *archive.Archive, key string) itemBlobs {
	t.Helper()
	it, err := a.Catalog().Item(key)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := a.Catalog().Sightings(key)
	if err != nil || len(ss) == 0 || ss[0].Raw == "" {
		t.Fatalf("sightings of %s: %v %v", key, ss, err)
	}
	k := func(s string) string {
		d, err := archive.ParseDigest(s)
		if err != nil {
			t.Fatal(err)
		}
		return archive.BlobKey(d)
	}
	return itemBlobs{version: k(it.Versions[0].Digest), raw: k(ss[0].Raw)}
}

func lockOf(t *testing.T, s *memstore.Store, key string) archive.ObjectLock {
	t.Helper()
	st, err := s.LockState(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestHoldSetsAndReleasesLegalHolds(t *testing.T) {
	a, r, _, store := setupLocked(t)
	c1, c2, p1 := blobsOf(t, a, "facebook/comments/c1"), blobsOf(t, a, "facebook/comments/c2"), blobsOf(t, a, "facebook/official/p1")
	held := func(key string) bool { return lockOf(t, store, key).LegalHold }

	if _, err := r.PlaceHold(ctx, retention.Hold{Name: "smith", Matter: "Smith v. Brigade", Reason: "litigation", Accounts: []string{"facebook/comments"}}, "legal"); err != nil {
		t.Fatal(err)
	}
	if !held(c1.version) || !held(c2.version) || !held(c1.raw) {
		t.Fatal("the blobs of held items did not get the legal-hold flag")
	}
	if held(p1.version) {
		t.Fatal("an item outside the hold got the legal-hold flag")
	}
	// A held blob cannot be deleted, and the store says why.
	err := store.Delete(ctx, c1.version)
	if !errors.Is(err, archive.ErrRetained) || !strings.Contains(err.Error(), "legal hold") {
		t.Fatalf("delete of a held blob: %v", err)
	}

	// A second hold covering only c2 (created 2026-03-02).
	from, to := day(2026, 3, 2), day(2026, 3, 3)
	if _, err := r.PlaceHold(ctx, retention.Hold{Name: "window", Matter: "m", Reason: "r", From: &from, To: &to}, "legal"); err != nil {
		t.Fatal(err)
	}
	// Releasing the first frees c1's own blob; c2's blobs, and the raw
	// chunk c2 shares with c1, stay held by the second.
	if _, err := r.ReleaseHold(ctx, "smith", "settled", "legal"); err != nil {
		t.Fatal(err)
	}
	if held(c1.version) {
		t.Error("c1's version is still flagged after its only hold was released")
	}
	if !held(c2.version) || !held(c1.raw) {
		t.Error("a release removed the flag from blobs another hold still covers")
	}
	if _, err := r.ReleaseHold(ctx, "window", "done", "legal"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{c1.version, c2.version, c1.raw, p1.version} {
		if held(k) {
			t.Errorf("%s still flagged after every hold was released", k)
		}
	}
}

func TestHoldOnItemsCapturedLaterAndApplyObjectLock(t *testing.T) {
	a, r, clock, store := setupLocked(t)
	if _, err := r.PlaceHold(ctx, retention.Hold{Name: "smith", Matter: "m", Reason: "r", Accounts: []string{"facebook/comments"}}, "legal"); err != nil {
		t.Fatal(err)
	}
	in := `{"platform":"facebook","account":"comments","id":"c3","kind":"comment","created_at":"2026-03-03T10:00:00Z","text":"later"}` + "\n"
	if _, err := a.Ingest(ctx, []archive.Source{{Name: "more.jsonl", R: strings.NewReader(in)}}, archive.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	c3 := blobsOf(t, a, "facebook/comments/c3")
	if lockOf(t, store, c3.version).LegalHold {
		t.Fatal("flagged at capture: the test no longer shows what the pass is for")
	}
	res, err := r.ApplyObjectLock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	if !lockOf(t, store, c3.version).LegalHold || !lockOf(t, store, c3.raw).LegalHold {
		t.Fatal("ApplyObjectLock did not flag the blobs of an item captured after its hold")
	}
	// Retention: each record's blobs are retained until its disposition
	// date (GRS 6.4 item 020: 90 days, eligible from the next midnight);
	// a blob shared by several items until the latest of their dates; the
	// permanent post's own blob not at all.
	c1, c2, p1 := blobsOf(t, a, "facebook/comments/c1"), blobsOf(t, a, "facebook/comments/c2"), blobsOf(t, a, "facebook/official/p1")
	for _, tc := range []struct {
		key  string
		want time.Time
	}{
		{c1.version, day(2026, 5, 31)},
		{c2.version, day(2026, 6, 1)},
		{c1.raw, day(2026, 6, 1)}, // shared by c1, c2 and p1
		{c3.version, day(2026, 6, 2)},
		{p1.version, time.Time{}},
	} {
		st := lockOf(t, store, tc.key)
		if !st.RetainUntil.Equal(tc.want) || (!tc.want.IsZero() && st.Mode != archive.LockCompliance) {
			t.Errorf("%s: %+v, want retained until %s in compliance mode", tc.key, st, tc.want)
		}
	}
	// Six blobs: four versions and two raw chunks; all but the permanent
	// post's version are locked, and c3's two get the hold.
	if res.Mode != archive.LockCompliance || res.Blobs != 6 || res.Locked != 5 || res.Extended != 5 || res.HoldsSet != 2 || res.Missing != 0 {
		t.Errorf("result %+v", res)
	}
	// Again: nothing to do.
	if res, err := r.ApplyObjectLock(ctx); err != nil || res.Extended != 0 || res.HoldsSet != 0 {
		t.Fatalf("second pass: %+v, %v", res, err)
	}
	// A longer schedule extends the dates; retention is never shortened
	// (TestDispositionRefusedWhileTheStoreRetains).
	s, _ := r.Schedule("grs-6.4-020")
	s.Retain = retention.Period{Years: 1}
	if err := r.UpdateSchedule(ctx, s, "longer"); err != nil {
		t.Fatal(err)
	}
	if res, err := r.ApplyObjectLock(ctx); err != nil || res.Extended != 5 {
		t.Fatalf("pass after lengthening: %+v, %v", res, err)
	}
	if got := lockOf(t, store, c1.version).RetainUntil; !got.Equal(day(2027, 3, 2)) {
		t.Fatalf("c1 after lengthening: retained until %s", got)
	}
	// The date passes: the blob may go (the hold released).
	r.ReleaseHold(ctx, "smith", "settled", "legal")
	clock.Advance(day(2027, 3, 2).Sub(clock.Now()))
	if err := store.Delete(ctx, c1.version); err != nil {
		t.Fatalf("delete after the date: %v", err)
	}
}

func TestDispositionRefusedWhileTheStoreRetains(t *testing.T) {
	a, r, clock, store := setupLocked(t)
	if _, err := r.ApplyObjectLock(ctx); err != nil {
		t.Fatal(err)
	}
	c1, c2 := blobsOf(t, a, "facebook/comments/c1"), blobsOf(t, a, "facebook/comments/c2")
	// The schedule is shortened after the blobs were locked: osmarc now
	// says c1 and c2 may go on 2026-04-01, the store keeps them until
	// 2026-05-31 and 2026-06-01.
	s, _ := r.Schedule("grs-6.4-020")
	s.Retain = retention.Period{Days: 30}
	if err := r.UpdateSchedule(ctx, s, "shorter"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(day(2026, 4, 15).Sub(clock.Now()))
	p := planKeys(t, r, day(2026, 4, 15))
	if p.Items != 2 {
		t.Fatalf("plan: %d items", p.Items)
	}
	if _, err := r.Approve(ctx, p.ID, "Legal Counsel"); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, a)
	beforeStats, _ := a.Stats()
	_, err := r.Execute(ctx, p.ID, planner)
	t.Log(err)
	if !errors.Is(err, archive.ErrRetained) {
		t.Fatalf("execute while the store retains the blobs: %v, want ErrRetained", err)
	}
	// It names the blob that decides (the latest date), its item and date.
	d := c2.version[strings.LastIndex(c2.version, "/")+1:]
	for _, want := range []string{p.ID, d, "facebook/comments/c2", "retained until 2026-06-01T00:00:00Z (compliance)", "2 blob(s)", "nothing was done"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q", want)
		}
	}
	// Nothing was done: no certificate, no event, the blobs and items whole.
	if got := snapshot(t, a); got != before {
		t.Fatalf("a refused execution changed the archive:\n%s\nwas\n%s", got, before)
	}
	if after, _ := a.Stats(); after.Events != beforeStats.Events {
		t.Fatalf("a refused execution wrote %d events", after.Events-beforeStats.Events)
	}
	for _, k := range []string{c1.version, c2.version} {
		if _, err := store.Stat(ctx, k); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	// A legal hold set on the store by someone else blocks too, whatever
	// the date, and is named.
	clock.Advance(day(2026, 6, 2).Sub(clock.Now()))
	if err := store.SetLegalHold(ctx, c1.version, true); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Execute(ctx, p.ID, planner); !errors.Is(err, archive.ErrRetained) || !strings.Contains(err.Error(), "under legal hold") || !strings.Contains(err.Error(), "facebook/comments/c1") {
		t.Fatalf("execute with a blob under legal hold: %v", err)
	}
	store.SetLegalHold(ctx, c1.version, false)
	// Once the dates have passed, the same plan runs.
	p, err = r.Execute(ctx, p.ID, planner)
	if err != nil {
		t.Fatal(err)
	}
	if p.Result.Destroyed != 2 || p.Result.BlobsDeleted != 2 {
		t.Fatalf("result %+v", p.Result)
	}
	for _, k := range []string{c1.version, c2.version} {
		if _, err := store.Stat(ctx, k); !errors.Is(err, archive.ErrNotFound) {
			t.Fatalf("%s after destruction: %v", k, err)
		}
	}
}

func TestObjectLockNeedsALockingStore(t *testing.T) {
	_, r, _ := setup(t) // a memory store without Object Lock
	if _, err := r.ApplyObjectLock(ctx); !errors.Is(err, archive.ErrNoObjectLock) {
		t.Fatalf("ApplyObjectLock without Object Lock: %v", err)
	}
	// Holds and disposition work as ever.
	if _, err := r.PlaceHold(ctx, retention.Hold{Name: "h", Matter: "m", Reason: "r"}, "legal"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReleaseHold(ctx, "h", "done", "legal"); err != nil {
		t.Fatal(err)
	}
}
