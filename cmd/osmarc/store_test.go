package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/s3store/s3test"
	"github.com/osmarc/osmarc/archive/stores"
)

// TestStoreCopyToS3 moves an archive from the local disk to a bucket on a
// real S3 server: copy, copy again (only the first copy's record), attach a new data
// directory to the copy, and find there what the archive held.
func TestStoreCopyToS3(t *testing.T) {
	srv, dir := copyFixture(t, `{"platform":"facebook","account":"brigade","id":"p1","kind":"post","created_at":"2024-03-01T10:00:00Z","text":"Road closure on Main Street until noon."}
{"platform":"facebook","account":"brigade","id":"c1","kind":"comment","parent":"p1","created_at":"2024-03-01T11:00:00Z","text":"Which detour should buses take?"}
{"platform":"facebook","account":"brigade","id":"p2","kind":"post","created_at":"2024-03-02T09:00:00Z","text":"Bridge reopened."}
`)
	url := srv.URL("records", "osmarc")

	var rep archive.CopyReport
	if err := json.Unmarshal([]byte(must(t, "store", "copy", "--quiet", "--data", dir, "--to", url, "--json")), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Copied < 6 || rep.Present != 0 || len(rep.Failed) != 0 || rep.Bytes == 0 {
		t.Fatalf("copy: %+v, want the blobs, the manifest and the events copied", rep)
	}
	// Again: only the journal's record of the first copy is new.
	out := must(t, "store", "copy", "--quiet", "--data", dir, "--to", url)
	if want := fmt.Sprintf("Copied 1 object(s)"); !strings.Contains(out, want) || !strings.Contains(out, fmt.Sprintf("%d were there already", rep.Copied)) {
		t.Errorf("second copy: %q, want %q and the first copy's objects there already", out, want)
	}
	out = must(t, "audit", "list", "--json", "--data", dir, "--type", "store.copied")
	if strings.Count(out, "store.copied") != 2 || !strings.Contains(out, "127.0.0.1") {
		t.Errorf("audit list of the copies: %q, want both, naming the destination", out)
	}

	copyDir := filepath.Join(t.TempDir(), "copy")
	if out := must(t, "init", "--data", copyDir, "--store", url); !strings.Contains(out, "Attached") {
		t.Fatalf("init on the copy: %q", out)
	}
	if a, b := listJSON(t, dir), listJSON(t, copyDir); len(a) != 3 || len(b) != len(a) {
		t.Errorf("the copy lists %d items, the archive %d", len(b), len(a))
	}
	if out := must(t, "verify", "--deep", "--data", copyDir); !strings.Contains(out, "OK: no damage found.") {
		t.Errorf("verify of the copy: %q", out)
	}
	must(t, "reindex", "--quiet", "--data", copyDir)
	if out := must(t, "search", "--data", copyDir, "detour"); !strings.Contains(out, "facebook/brigade/c1") {
		t.Errorf("search of the copy for a comment's word: %q", out)
	}

	// The copy has been written to (init's attach event): the archive
	// is no longer what it holds, and copying onto it is refused.
	code, _, errs := osmarc(t, "", "store", "copy", "--quiet", "--data", dir, "--to", url)
	if code == 0 || !strings.Contains(errs, "holds another archive") || strings.Count(errs, "\n") != 1 {
		t.Errorf("copy onto a copy in use: exit %d %q", code, errs)
	}
	if out := must(t, "audit", "list", "--json", "--data", dir, "--type", "store.copy_failed"); !strings.Contains(out, "holds another archive") {
		t.Errorf("audit list of the refused copy: %q", out)
	}

	// A blob damaged in the archive is named, not copied; the rest is.
	list := listJSON(t, dir)
	digest, _ := list[0]["latest"].(string)
	if digest == "" {
		t.Fatalf("no version digest in %v", list[0])
	}
	f := blobFile(t, dir, digest)
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ = osmarc(t, "", "store", "copy", "--quiet", "--data", dir, "--to", srv.URL("records", "second"))
	if code != 1 || !strings.Contains(out, "NOT COPIED blobs/sha256/"+digest[:2]+"/"+digest[2:4]+"/"+digest) || !strings.Contains(out, "do not hash to its name") {
		t.Errorf("copy with a damaged blob: exit %d\n%s", code, out)
	}

	code, _, errs = osmarc(t, "", "store", "copy", "--data", dir)
	if code == 0 || !strings.Contains(errs, "--to URL is required") {
		t.Errorf("copy without --to: exit %d %q", code, errs)
	}
}

// TestStoreCopyLive copies beside a process that holds the data
// directory, as the daemon does: --live reads the store alone and records
// nothing; the copy that finishes it, once the directory is free, finds
// everything there and records itself.
func TestStoreCopyLive(t *testing.T) {
	srv, dir := copyFixture(t, `{"platform":"x","account":"dept","id":"1","kind":"post","created_at":"2024-03-01T10:00:00Z","text":"Snow routes posted."}`+"\n")
	ctx := context.Background()
	url := srv.URL("records", "live")

	holder, err := archive.Open(ctx, archive.Options{Dir: dir, Command: "daemon", OpenStore: stores.Open})
	if err != nil {
		t.Fatal(err)
	}
	code, _, errs := osmarc(t, "", "store", "copy", "--quiet", "--data", dir, "--to", url)
	if code == 0 || !strings.Contains(errs, "data directory in use") {
		t.Errorf("copy while another process holds the data directory: exit %d %q", code, errs)
	}
	out := must(t, "store", "copy", "--live", "--quiet", "--data", dir, "--to", url)
	if !strings.Contains(out, "A live copy, of the journal up to journal/") || !strings.Contains(out, "is not recorded") {
		t.Errorf("live copy: %q", out)
	}
	holder.Close()
	if out := must(t, "audit", "list", "--json", "--data", dir, "--type", "store.*"); strings.Contains(out, "store.cop") {
		t.Errorf("the live copy was recorded: %q", out)
	}

	out = must(t, "store", "copy", "--quiet", "--data", dir, "--to", url)
	if !strings.Contains(out, "Copied 0 object(s)") {
		t.Errorf("the copy after the live one: %q, want everything there", out)
	}
	if out := must(t, "audit", "list", "--json", "--data", dir, "--type", "store.copied"); strings.Count(out, "store.copied") != 1 {
		t.Errorf("audit list: %q, want the finishing copy recorded", out)
	}
	copyDir := filepath.Join(t.TempDir(), "copy")
	must(t, "init", "--data", copyDir, "--store", url)
	if out := must(t, "verify", "--deep", "--data", copyDir); !strings.Contains(out, "OK: no damage found.") {
		t.Errorf("verify of the copy: %q", out)
	}
}

// copyFixture is a real S3 server with a bucket "records", and an
// archive on the disk store holding the items of the JSON lines given.
func copyFixture(t *testing.T, items string) (*s3test.Server, string) {
	t.Helper()
	srv := s3test.Start(t)
	if err := srv.NewBucket(context.Background(), "records"); err != nil {
		t.Fatal(err)
	}
	dir := newArchive(t)
	in := filepath.Join(t.TempDir(), "items.jsonl")
	if err := os.WriteFile(in, []byte(items), 0o644); err != nil {
		t.Fatal(err)
	}
	must(t, "ingest", "--quiet", "--data", dir, in)
	return srv, dir
}
