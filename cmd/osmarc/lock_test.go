package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive/s3store/s3test"
)

// TestObjectLockCommands runs the lock, hold and disposition commands on a
// bucket with Object Lock on a real S3 server, whose clock is the real one:
// the items are a few days old, so their disposition dates lie ahead.
func TestObjectLockCommands(t *testing.T) {
	srv := s3test.Start(t, s3test.WithVersioning())
	ctx := context.Background()
	if err := srv.NewLockedBucket(ctx, "locked-records"); err != nil {
		t.Fatal(err)
	}
	if err := srv.NewBucket(ctx, "plain-records"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OSMARC_ACTOR", "records.officer@example.gov")
	dir := filepath.Join(t.TempDir(), "data")

	// lock_mode on a bucket without Object Lock: one clear line.
	code, _, errs := osmarc(t, "", "init", "--data", filepath.Join(t.TempDir(), "x"), "--store", srv.URL("plain-records", "")+"&lock_mode=compliance")
	if code == 0 || !strings.Contains(errs, `bucket "plain-records" has no Object Lock`) || strings.Count(errs, "\n") != 1 {
		t.Fatalf("init with lock_mode on a bucket without Object Lock: exit %d %q", code, errs)
	}

	must(t, "init", "--data", dir, "--store", srv.URL("locked-records", "osmarc")+"&lock_mode=compliance")
	if out := must(t, "lock", "show", "--data", dir); !strings.Contains(out, "has Object Lock, mode compliance") {
		t.Fatalf("lock show: %q", out)
	}
	must(t, "schedule", "add", "comments-90d", "--data", dir, "--title", "Public comments", "--authority", "GRS 6.4 item 020",
		"--retain", "90d", "--cutoff", "none", "--action", "destroy")
	must(t, "schedule", "add", "comments-1d", "--data", dir, "--title", "Public comments, short", "--authority", "test",
		"--retain", "1d", "--cutoff", "none", "--action", "destroy")
	must(t, "account", "add", "--data", dir, "--platform", "facebook", "--handle", "brigade", "--schedule", "comments-90d")
	created := time.Now().UTC().Add(-72 * time.Hour).Truncate(time.Second)
	in := filepath.Join(t.TempDir(), "items.jsonl")
	var lines []string
	for _, id := range []string{"c1", "c2"} {
		lines = append(lines, fmt.Sprintf(`{"platform":"facebook","account":"brigade","id":"%s","kind":"comment","created_at":"%s","text":"comment %s"}`, id, created.Format(time.RFC3339), id))
	}
	if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	must(t, "ingest", "--data", dir, in)

	// lock apply: the two versions and the raw file, until created + 90
	// days (from the next midnight).
	var res struct {
		Blobs, Locked, Extended int
	}
	if err := json.Unmarshal([]byte(must(t, "lock", "apply", "--json", "--data", dir)), &res); err != nil || res.Blobs != 3 || res.Locked != 3 || res.Extended != 3 {
		t.Fatalf("lock apply: %+v %v", res, err)
	}
	end := created.AddDate(0, 0, 90)
	date := end.Truncate(24 * time.Hour)
	if date.Before(end) {
		date = date.AddDate(0, 0, 1)
	}
	want := date.Format(time.RFC3339)
	out := must(t, "lock", "show", "--data", dir, "facebook/brigade/c1")
	if strings.Count(out, "retained until "+want+" (compliance)") != 2 {
		t.Fatalf("lock show after apply, want both blobs retained until %s:\n%s", want, out)
	}

	// A hold flags the blobs, a release unflags them.
	must(t, "hold", "place", "inquiry", "--data", dir, "--matter", "Inquiry 7", "--reason", "preserve", "--account", "facebook/brigade")
	if out := must(t, "lock", "show", "--data", dir, "facebook/brigade/c2"); strings.Count(out, "under legal hold") != 2 {
		t.Fatalf("lock show under a hold:\n%s", out)
	}
	must(t, "hold", "release", "inquiry", "--data", dir, "--reason", "closed")
	if out := must(t, "lock", "show", "--data", dir, "facebook/brigade/c2"); strings.Contains(out, "legal hold") {
		t.Fatalf("lock show after release:\n%s", out)
	}

	// The schedule is changed to one day: osmarc finds the items eligible,
	// the store still retains them, and execute says so and does nothing.
	must(t, "account", "update", "facebook/brigade", "--data", dir, "--schedule", "comments-1d")
	var plan map[string]any
	json.Unmarshal([]byte(must(t, "disposition", "plan", "--json", "--data", dir)), &plan)
	if plan["items"] != 2.0 {
		t.Fatalf("plan: %v", plan)
	}
	id := plan["id"].(string)
	must(t, "disposition", "approve", "--data", dir, id, "--by", "Legal Counsel")
	before := statsJSON(t, dir)
	code, out, errs = osmarc(t, "", "disposition", "execute", "--data", dir, id)
	t.Logf("execute: %s", errs)
	if code == 0 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "retained by object lock") ||
		!strings.Contains(errs, "retained until "+want+" (compliance) in the store") || !strings.Contains(errs, "nothing was done") {
		t.Fatalf("execute while the store retains: exit %d\n%s%s", code, out, errs)
	}
	after := statsJSON(t, dir)
	if after["items"] != before["items"] || after["events"] != before["events"] || after["blobs"] != before["blobs"] {
		t.Fatalf("a refused execution changed the archive: %v → %v", before, after)
	}
	if out := must(t, "audit", "list", "--data", dir, "--type", "disposition.executed"); strings.Contains(out, "disposition.executed") {
		t.Fatalf("a certificate was recorded:\n%s", out)
	}
	if out := must(t, "verify", "--deep", "--data", dir); !strings.Contains(out, "OK: no damage found") {
		t.Fatalf("verify:\n%s", out)
	}
}
