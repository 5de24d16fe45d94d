package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const sigtermFeed = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>City blog</title><link>https://blog.example.gov/</link>
<item><guid>https://blog.example.gov/p/1</guid><title>Road closure</title><description>Main St closed Monday.</description><pubDate>Mon, 02 Feb 2026 09:00:00 +0000</pubDate></item>
<item><guid>https://blog.example.gov/p/2</guid><title>Budget hearing</title><description>Tuesday at 6pm.</description><pubDate>Tue, 03 Feb 2026 09:00:00 +0000</pubDate></item>
</channel></rss>`

// TestDaemonSIGTERMFinishesThePageInHand runs osmarc daemon as its own
// process against a feed server that holds its answer, sends SIGTERM
// while the page is in hand, and checks the daemon lets it finish, commits
// the capture with its items (incomplete), exits 0 and frees the archive.
func TestDaemonSIGTERMFinishesThePageInHand(t *testing.T) {
	dir := newArchive(t)
	inHand, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(inHand) })
		select {
		case <-release:
		case <-time.After(20 * time.Second):
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, sigtermFeed)
	}))
	defer srv.Close()
	must(t, "account", "add", "--data", dir, "--platform", "feed", "--handle", "cityblog",
		"--base-url", srv.URL+"/feed.xml", "--allow-private", "--collect", "@every 1h")

	cmd := exec.Command(binary, "daemon", "--data", dir, "--listen", "", "--jitter", "0s")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	select {
	case <-inHand:
	case <-time.After(20 * time.Second):
		t.Fatalf("the daemon never asked for the feed\n%s", errb.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the signal is in before the page
	close(release)
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("daemon after SIGTERM: %v\nstdout: %s\nstderr: %s", err, out.String(), errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the daemon did not exit after SIGTERM\n%s", errb.String())
	}
	if !strings.Contains(out.String(), "osmarc daemon: stopped") {
		t.Errorf("stdout: %s", out.String())
	}

	// The page in hand was recorded and the capture committed.
	code, outj, errs := osmarc(t, "", "jobs", "--json", "--account", "cityblog", "--data", dir)
	if code != 0 {
		t.Fatalf("jobs: %d %s", code, errs)
	}
	var runs []jobEntry
	for l := range strings.Lines(outj) {
		var j jobEntry
		if err := json.Unmarshal([]byte(l), &j); err != nil {
			t.Fatalf("jobs --json line %q: %v", l, err)
		}
		runs = append(runs, j)
	}
	if len(runs) != 1 || runs[0].Capture == "" || runs[0].Items != 2 {
		t.Fatalf("runs after SIGTERM: %+v", runs)
	}
	list := listJSON(t, dir)
	if len(list) != 2 {
		t.Errorf("%d items listed, want the page's 2: %v", len(list), list)
	}
	// The lock is free: another writer works.
	must(t, "account", "add", "--data", dir, "--platform", "feed", "--handle", "after")
}

// TestImportOsmarcItemsSaysIngest: osmarc's own items file given to
// import, whatever the --format, is named for what it is, and nothing is
// registered or captured; osmarc ingest registers the accounts its items
// name and says so.
func TestImportOsmarcItemsSaysIngest(t *testing.T) {
	dir := newArchive(t)
	items := filepath.Join("..", "..", "testdata", "items.jsonl")
	for _, format := range []string{"x-archive", "bluesky-api", "facebook-graph"} {
		code, out, errs := osmarc(t, "", "import", "--data", dir, "--format", format, "--account", "someone", items)
		if code != 1 || out != "" || !strings.Contains(errs, "it looks like osmarc's own items") || !strings.Contains(errs, "use osmarc ingest") {
			t.Errorf("import --format %s of items.jsonl: %d %q %q", format, code, out, errs)
		}
	}
	if accts := must(t, "account", "list", "--data", dir); strings.Contains(accts, "someone") {
		t.Errorf("a refused import registered its account:\n%s", accts)
	}
	out := must(t, "ingest", "--data", dir, items)
	if !strings.Contains(out, "Registered 4 new account(s): bluesky/brigade.example.gov, facebook/3rd-brigade, mastodon/brigade@social.example.gov, x/Brigade3") {
		t.Errorf("ingest: %s", out)
	}
	accts := must(t, "account", "list", "--data", dir)
	for _, k := range []string{"bluesky/brigade.example.gov", "facebook/3rd-brigade", "mastodon/brigade@social.example.gov", "x/Brigade3"} {
		if !strings.Contains(accts, k) {
			t.Errorf("account list lacks %s:\n%s", k, accts)
		}
	}
}

// TestAccountScheduleWarning: an account may be registered before its
// retention schedule exists, but osmarc says its records fall under none
// until then; a defined schedule draws no warning.
func TestAccountScheduleWarning(t *testing.T) {
	dir := newArchive(t)
	code, out, errs := osmarc(t, "", "account", "add", "--data", dir, "--platform", "x", "--handle", "early", "--schedule", "grs-6.4-020")
	if code != 0 || !strings.Contains(out, "Registered x/early") || !strings.Contains(errs, `schedule "grs-6.4-020" is not defined in this archive yet`) {
		t.Errorf("undefined schedule: %d %q %q", code, out, errs)
	}
	must(t, "schedule", "presets", "--add", "--data", dir)
	for _, args := range [][]string{
		{"account", "add", "--data", dir, "--platform", "x", "--handle", "later", "--schedule", "grs-6.4-020"},
		{"account", "update", "--data", dir, "early", "--schedule", "grs-6.4-020"},
	} {
		if code, _, errs := osmarc(t, "", args...); code != 0 || errs != "" {
			t.Errorf("%v: %d %q", args, code, errs)
		}
	}
	if code, _, errs := osmarc(t, "", "account", "update", "--data", dir, "later", "--schedule", "nope"); code != 0 || !strings.Contains(errs, `schedule "nope" is not defined`) {
		t.Errorf("update to an undefined schedule: %d %q", code, errs)
	}
}
