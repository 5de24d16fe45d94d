package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
)

// withRegistry runs one command in-process with reg as the registry, as
// run does.
func withRegistry(t *testing.T, reg *collect.Registry, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	g := &globalOptions{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, now: time.Now, registry: reg}
	root := newRootCommand(g)
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	err := root.ExecuteContext(context.Background())
	code := 0
	if err != nil {
		code = 1
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
			if ee.msg != "" {
				fmt.Fprintln(&errb, "osmarc: "+ee.msg)
			}
		} else {
			fmt.Fprintln(&errb, "osmarc: "+oneLine(err.Error()))
		}
	}
	return code, out.String(), errb.String()
}

// apiCollector is a fake platform collector that speaks a tiny JSON API
// through the job's HTTP client: GET {base}/posts with a bearer token.
type apiCollector struct{}

func (apiCollector) Platform() string { return "fake" }
func (apiCollector) Version() string  { return "1" }

func (apiCollector) Collect(ctx context.Context, job *collect.Job) error {
	url := job.BaseURL("https://fake.invalid") + "/posts?access_token=" + job.Secret
	resp, err := job.HTTP.Get(ctx, url, http.Header{"Authorization": {"Bearer " + job.Secret}})
	if err != nil {
		return err
	}
	raw, err := job.Sink.PutRaw(ctx, resp.Body, collect.Scrub(url), "", "application/json")
	if err != nil {
		return err
	}
	var posts []struct{ ID, Text string }
	if err := json.Unmarshal(resp.Body, &posts); err != nil {
		return fmt.Errorf("page 1: %w: %v", collect.ErrMalformed, err)
	}
	for i, p := range posts {
		it := archive.Item{Platform: "fake", Account: job.Account.Handle, ID: p.ID, Kind: "post", CreatedAt: "2026-01-01T00:00:00Z", Text: p.Text}
		if err := job.Sink.AddItem(ctx, it, archive.ItemOptions{Raw: &raw, RawPath: fmt.Sprintf("/%d", i)}); err != nil {
			return err
		}
	}
	if job.Full {
		job.Sink.Complete(archive.Scope{Account: job.Account.Key})
	}
	return nil
}

// fakeAPI serves /posts; status and body can change between runs.
type fakeAPI struct {
	mu     sync.Mutex
	status int
	body   string
	auth   string
}

func (f *fakeAPI) set(status int, body string) {
	f.mu.Lock()
	f.status, f.body = status, body
	f.mu.Unlock()
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.auth = r.Header.Get("Authorization")
	w.WriteHeader(f.status)
	io.WriteString(w, f.body)
}

const fakeToken = "s3cret-token-7f2a91"

func TestCollectJobsCoverage(t *testing.T) {
	dir := newArchive(t)
	api := &fakeAPI{status: 200, body: `[{"ID":"1","Text":"one"},{"ID":"2","Text":"two"},{"ID":"3","Text":"three"}]`}
	srv := httptest.NewServer(api)
	defer srv.Close()
	t.Setenv("OSMARC_FAKE_TOKEN", fakeToken)
	must(t, "account", "add", "--data", dir, "--platform", "fake", "--handle", "brigade", "--credentials", "env:OSMARC_FAKE_TOKEN",
		"--base-url", srv.URL, "--allow-private")
	must(t, "account", "add", "--data", dir, "--platform", "fake", "--handle", "nopriv", "--base-url", srv.URL)
	must(t, "account", "add", "--data", dir, "--platform", "elsewhere", "--handle", "unit")
	reg := &collect.Registry{Collectors: []collect.Collector{apiCollector{}}}
	cli := func(args ...string) (int, string, string) {
		return withRegistry(t, reg, append(args, "--data", dir)...)
	}

	code, out, errs := cli("collect", "--account", "brigade", "--full")
	if code != 0 || !strings.Contains(out, "fake/brigade: capture ") || !strings.Contains(out, "3 items, 3 new versions, 0 removed; complete listing") {
		t.Fatalf("collect: %d\n%s%s", code, out, errs)
	}
	if api.auth != "Bearer "+fakeToken {
		t.Errorf("the collector was not given the token")
	}

	// --all: the good one, one the SSRF guard stops, one with no collector.
	code, out, errs = cli("collect", "--all")
	if code != 1 || !strings.Contains(errs, "1 of 3 account(s) failed") {
		t.Fatalf("collect --all: %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{"fake/brigade: capture", "fake/nopriv: FAILED (other):", "address not allowed", "elsewhere/unit: not collected: no collector"} {
		if !strings.Contains(out, want) {
			t.Errorf("collect --all does not say %q:\n%s", want, out)
		}
	}

	// The token expires: the run fails, as auth, and says nothing of it.
	api.set(401, `{"error":"The access token is invalid"}`)
	code, out, errs = cli("collect", "--account", "fake/brigade", "--json")
	var res collect.RunResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 1 || res.Class != "auth" {
		t.Fatalf("expired token: %d %+v\n%s%s", code, res, out, errs)
	}
	if strings.Contains(out+errs, fakeToken) || !strings.Contains(res.Error, "access_token=REDACTED") {
		t.Errorf("the token leaked or the URL is not named:\n%s%s", out, errs)
	}

	if code, _, errs := cli("collect"); code != 1 || !strings.Contains(errs, "--account") {
		t.Errorf("collect without accounts: %d %s", code, errs)
	}
	if code, _, errs := cli("collect", "--account", "nobody"); code != 1 || !strings.Contains(errs, "unknown account") {
		t.Errorf("collect --account nobody: %d %s", code, errs)
	}

	// A deactivated account is not collected, and says so.
	must(t, "account", "deactivate", "--data", dir, "nopriv", "--reason", "merged into brigade")
	code, out, errs = cli("collect", "--account", "nopriv")
	if code != 0 || !strings.Contains(out, "fake/nopriv: not collected: deactivated on") {
		t.Errorf("deactivated: %d\n%s%s", code, out, errs)
	}

	// jobs: newest first, failures with their class.
	code, out, errs = cli("jobs")
	if code != 0 {
		t.Fatalf("jobs: %d %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[0], "STARTED") || !strings.Contains(lines[1], "fake/brigade") || !strings.Contains(lines[1], "FAILED auth") {
		t.Errorf("jobs:\n%s", out)
	}
	if !strings.Contains(out, "FAILED other") || !strings.Contains(out, "complete") {
		t.Errorf("jobs:\n%s", out)
	}
	code, out, _ = cli("jobs", "--account", "brigade", "--json")
	var entries []jobEntry
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var e jobEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("jobs --json line %q: %v", sc.Text(), err)
		}
		entries = append(entries, e)
	}
	if code != 0 || len(entries) != 3 || !entries[0].Failed || entries[0].Class != "auth" || !entries[2].Complete || entries[2].Items != 3 {
		t.Fatalf("jobs --json --account brigade: %+v", entries)
	}
	if entries[0].StartedAt.Before(entries[1].StartedAt) {
		t.Errorf("jobs is not newest first")
	}

	// coverage: one complete listing, a gap still open because of auth.
	code, out, errs = cli("coverage", "brigade")
	if code != 0 || !strings.Contains(out, "Covered completely from") || !strings.Contains(out, "Gaps (1)") ||
		!strings.Contains(out, "auth ×1") || !strings.Contains(out, "now (open)") {
		t.Fatalf("coverage: %d\n%s%s", code, out, errs)
	}
	api.set(200, `[{"ID":"1","Text":"one"},{"ID":"3","Text":"three"}]`)
	must(t, "account", "update", "--data", dir, "brigade", "--collect", "@daily")
	if code, out, errs := cli("collect", "--account", "brigade", "--full"); code != 0 || !strings.Contains(out, "1 removed") {
		t.Fatalf("collect after the fix: %d\n%s%s", code, out, errs)
	}
	code, out, _ = cli("coverage", "brigade", "--json")
	var rep coverageReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 {
		t.Fatalf("coverage --json: %v\n%s", err, out)
	}
	if rep.CompleteListings != 2 || len(rep.Gaps) != 1 || rep.Gaps[0].To == nil || rep.Failures["auth"] != 1 || len(rep.Runs) != 4 ||
		rep.CoveredFrom == nil || rep.CoveredTo == nil || rep.Collect != "@daily" {
		t.Fatalf("coverage --json: %s", out)
	}
	if code, _, errs := cli("coverage", "nobody"); code != 1 || !strings.Contains(errs, "unknown account") {
		t.Errorf("coverage nobody: %d %s", code, errs)
	}
}

// lineImporter reads "id text" lines from posts.txt (in a folder or zip)
// or from a .txt file; a line starting with "!" is malformed.
type lineImporter struct{}

func (lineImporter) Format() string   { return "lines" }
func (lineImporter) Platform() string { return "fake" }
func (lineImporter) Sniff(src collect.Source) bool {
	if src.Path == "." {
		_, err := src.FS.Open("posts.txt")
		return err == nil
	}
	return strings.HasSuffix(src.Path, ".txt")
}

func (lineImporter) Import(ctx context.Context, src collect.Source, acct archive.Account, sink collect.Sink) error {
	path := src.Path
	if path == "." {
		path = "posts.txt"
	}
	f, err := src.FS.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		id, text, _ := strings.Cut(sc.Text(), " ")
		if strings.HasPrefix(id, "!") {
			sink.Bad(&archive.InputError{Source: src.Name, Line: n, Err: errors.New("not an id")})
			continue
		}
		it := archive.Item{Platform: "fake", Account: acct.Handle, ID: id, Kind: "post", CreatedAt: "2020-01-01T00:00:00Z", Text: text}
		if err := sink.AddItem(ctx, it, archive.ItemOptions{Source: src.Name, Line: n}); err != nil {
			return err
		}
	}
	return sc.Err()
}

// csvImporter only sniffs, so that a wrong --format can name it.
type csvImporter struct{ lineImporter }

func (csvImporter) Format() string                { return "csvish" }
func (csvImporter) Sniff(src collect.Source) bool { return strings.HasSuffix(src.Path, ".csv") }

func TestImportCommand(t *testing.T) {
	dir := newArchive(t)
	reg := &collect.Registry{Importers: []collect.Importer{lineImporter{}, csvImporter{}}}
	cli := func(args ...string) (int, string, string) {
		return withRegistry(t, reg, append(args, "--data", dir)...)
	}
	tmp := t.TempDir()
	good := "1 first post\n2 second post\n3 third post\n"
	file := filepath.Join(tmp, "posts.txt")
	os.WriteFile(file, []byte("1 first post\n!x broken\n2 second post\n3 third post\n"), 0o644)
	folder := filepath.Join(tmp, "export")
	os.Mkdir(folder, 0o755)
	os.WriteFile(filepath.Join(folder, "posts.txt"), []byte(good), 0o644)
	zipPath := filepath.Join(tmp, "export.zip")
	zf, _ := os.Create(zipPath)
	zw := zip.NewWriter(zf)
	w, _ := zw.Create("posts.txt")
	io.WriteString(w, good)
	zw.Close()
	zf.Close()
	csv := filepath.Join(tmp, "posts.csv")
	os.WriteFile(csv, []byte("id,text\n"), 0o644)
	other := filepath.Join(tmp, "notes.md")
	os.WriteFile(other, []byte("# notes\n"), 0o644)

	// A malformed record: the good ones kept, exit 1, named file:line;
	// the account is registered by the import.
	code, out, errs := cli("import", "--format", "lines", "--account", "newunit", file)
	if code != 1 || !strings.Contains(out, "Registered new account fake/newunit") || !strings.Contains(out, "3 items, 3 new versions, 0 removed, 1 bad record(s); incomplete") ||
		!strings.Contains(errs, "posts.txt:2: not an id") || !strings.Contains(errs, "the 3 good item(s) were kept") {
		t.Fatalf("import file: %d\n%s%s", code, out, errs)
	}
	// The folder and the zip hold the same posts: nothing new.
	for _, p := range []string{folder, zipPath} {
		code, out, errs = cli("import", "--format", "lines", "--account", "fake/newunit", "--json", p)
		var res collect.RunResult
		if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 || res.Items != 3 || res.NewVersions != 0 || res.Collector != "import:lines" {
			t.Fatalf("import %s: %d %+v\n%s%s", p, code, res, out, errs)
		}
	}
	// A wrong --format says what the file looks like.
	if code, _, errs := cli("import", "--format", "lines", "--account", "newunit", csv); code != 1 || !strings.Contains(errs, "does not look like lines; it looks like csvish (try --format csvish)") {
		t.Errorf("wrong format: %d %s", code, errs)
	}
	if code, _, errs := cli("import", "--format", "lines", "--account", "newunit", other); code != 1 || !strings.Contains(errs, "nor like any format osmarc imports (csvish, lines)") {
		t.Errorf("unknown content: %d %s", code, errs)
	}
	if code, _, errs := cli("import", "--format", "tweets", "--account", "newunit", file); code != 1 || !strings.Contains(errs, `unknown format "tweets" (known: csvish, lines)`) {
		t.Errorf("unknown format: %d %s", code, errs)
	}
	if code, _, errs := cli("import", "--format", "lines", "--account", "newunit", filepath.Join(tmp, "missing.txt")); code != 1 || !strings.Contains(errs, "no such file") {
		t.Errorf("missing file: %d %s", code, errs)
	}
	must(t, "account", "add", "--data", dir, "--platform", "x", "--handle", "xunit")
	if code, _, errs := cli("import", "--format", "lines", "--account", "xunit", folder); code != 1 || !strings.Contains(errs, "account x/xunit is on x, but lines holds fake items") {
		t.Errorf("platform mismatch: %d %s", code, errs)
	}
	code, out, _ = cli("jobs", "--account", "newunit")
	if code != 0 || strings.Count(out, "import:lines") != 3 || !strings.Contains(out, "FAILED malformed") {
		t.Errorf("jobs after imports:\n%s", out)
	}
}

func TestDueAtStart(t *testing.T) {
	s, err := parseSchedule("0 */6 * * *")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		last time.Time
		want bool
	}{
		{time.Time{}, true},
		{time.Date(2026, 3, 1, 12, 0, 1, 0, time.UTC), false}, // ran after the 12:00 run was due
		{time.Date(2026, 3, 1, 11, 59, 0, 0, time.UTC), true}, // missed 12:00
		{time.Date(2026, 2, 27, 0, 0, 0, 0, time.UTC), true},  // down for days
	} {
		if got := dueAtStart(s, tc.last, now); got != tc.want {
			t.Errorf("dueAtStart(last %s) = %v, want %v", tc.last, got, tc.want)
		}
	}
	if p := schedulePeriod(s, now); p != 6*time.Hour {
		t.Errorf("period %v", p)
	}
	if _, err := parseSchedule("every tuesday"); err == nil {
		t.Error("a bad schedule parsed")
	}
}

func TestBuildCoverage(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	at := func(h int) *time.Time { x := t0.Add(time.Duration(h) * time.Hour); return &x }
	run := func(h int, complete bool) jobEntry {
		return jobEntry{StartedAt: *at(h), EndedAt: at(h), Collector: "fake", Capture: fmt.Sprint("c", h), Items: 1, Complete: complete}
	}
	fail := func(h int, class string) jobEntry {
		return jobEntry{StartedAt: *at(h), EndedAt: at(h), Collector: "fake", Failed: true, Class: class, Error: class + " trouble"}
	}
	acct := archive.Account{Key: "fake/a", Status: archive.AccountActive, Collect: "@every 6h", RegisteredAt: t0}
	runs := []jobEntry{run(1, false), run(6, true), fail(12, "auth"), fail(18, "auth"), fail(19, "unavailable"), run(24, false), run(60, true)}
	rep := buildCoverage(acct, runs, 6*time.Hour, *at(64))
	if rep.CompleteListings != 2 || !rep.CoveredFrom.Equal(*at(6)) || !rep.CoveredTo.Equal(*at(60)) {
		t.Fatalf("coverage: %+v", rep)
	}
	if len(rep.Gaps) != 2 {
		t.Fatalf("gaps: %+v", rep.Gaps)
	}
	if g := rep.Gaps[0]; !g.From.Equal(*at(6)) || !g.To.Equal(*at(24)) || !strings.Contains(g.Reason, "3 time(s): auth ×2 (auth trouble); unavailable ×1") {
		t.Errorf("failure gap: %+v", g)
	}
	if g := rep.Gaps[1]; !g.From.Equal(*at(24)) || !g.To.Equal(*at(60)) || !strings.Contains(g.Reason, "no run for 36h0m0s (schedule @every 6h)") {
		t.Errorf("missed-run gap: %+v", g)
	}
	if rep.Failures["auth"] != 2 || rep.Failures["unavailable"] != 1 {
		t.Errorf("failures: %v", rep.Failures)
	}
	// Long after the last run, with no run since: an open gap.
	rep = buildCoverage(acct, runs, 6*time.Hour, *at(100))
	if g := rep.Gaps[len(rep.Gaps)-1]; g.To != nil || !g.From.Equal(*at(60)) {
		t.Errorf("open gap: %+v", g)
	}
	// Never a good run: the gap starts at registration.
	rep = buildCoverage(acct, []jobEntry{fail(3, "auth")}, 0, *at(4))
	if len(rep.Gaps) != 1 || !rep.Gaps[0].From.Equal(t0) || rep.Gaps[0].To != nil || rep.CoveredFrom != nil {
		t.Errorf("never good: %+v", rep)
	}
}

// syncBuffer is a bytes.Buffer safe for the daemon's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// tickCollector captures one new item per run; from its third run on it
// waits for the daemon to stop after its first item.
type tickCollector struct {
	runs    atomic.Int32
	fulls   atomic.Int32
	blocked chan struct{}
	once    sync.Once
}

func (*tickCollector) Platform() string { return "fake" }
func (*tickCollector) Version() string  { return "1" }

func (c *tickCollector) Collect(ctx context.Context, job *collect.Job) error {
	n := c.runs.Add(1)
	for i := range 2 {
		it := archive.Item{Platform: "fake", Account: job.Account.Handle, ID: fmt.Sprintf("%d-%d", n, i), Kind: "post", CreatedAt: "2026-01-01T00:00:00Z", Text: "tick"}
		if err := job.Sink.AddItem(ctx, it, archive.ItemOptions{}); err != nil {
			return err
		}
		if n >= 3 {
			c.once.Do(func() { close(c.blocked) })
			<-ctx.Done()
			return fmt.Errorf("page 2: %w", ctx.Err())
		}
	}
	if job.Full {
		c.fulls.Add(1)
		job.Sink.Complete(archive.Scope{Account: job.Account.Key})
	}
	return nil
}

func TestDaemon(t *testing.T) {
	dir := newArchive(t)
	must(t, "account", "add", "--data", dir, "--platform", "fake", "--handle", "brigade", "--collect", "@every 1s")
	must(t, "account", "add", "--data", dir, "--platform", "fake", "--handle", "manual")
	tick := &tickCollector{blocked: make(chan struct{})}
	reg := &collect.Registry{Collectors: []collect.Collector{tick}}
	var out, errb syncBuffer
	g := &globalOptions{dataDir: dir, stdin: strings.NewReader(""), stdout: &out, stderr: &errb, now: time.Now, registry: reg}
	addr := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- runDaemon(ctx, g, daemonOptions{listen: "127.0.0.1:0", concurrency: 2, fullEvery: time.Hour, onListen: func(a string) { addr <- a }})
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("daemon: %v\n%s", err, errb.String())
	case <-time.After(10 * time.Second):
		t.Fatal("the daemon did not start")
	}

	// It catches up at once (never run), then runs every second; the
	// third run is still going when it is told to stop.
	select {
	case <-tick.blocked:
	case <-time.After(10 * time.Second):
		t.Fatalf("the collector ran %d time(s)\n%s", tick.runs.Load(), errb.String())
	}

	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 || !strings.Contains(body, `"status":"ok"`) || !strings.Contains(body, `"scheduled":1`) {
		t.Errorf("/healthz: %d %s", code, body)
	}
	code, body := get("/metrics")
	for _, want := range []string{
		`osmarc_collect_runs_total{account="fake/brigade",collector="fake",result="complete"} 1`,
		`osmarc_collect_runs_total{account="fake/brigade",collector="fake",result="incremental"} 1`,
		`osmarc_captures_total{account="fake/brigade",collector="fake"} 2`,
		`osmarc_collect_items_total{account="fake/brigade"} 4`,
		`osmarc_collect_last_success_timestamp_seconds{account="fake/brigade"}`,
		`osmarc_collect_running 1`,
		`osmarc_scheduled_accounts 1`,
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics has no %q", want)
		}
	}
	// The first run listed completely (none had); the second did not
	// need to.
	if tick.fulls.Load() != 1 {
		t.Errorf("%d complete listings, want 1", tick.fulls.Load())
	}
	// The daemon is the one writer.
	if code, _, errs := osmarc(t, "", "account", "add", "--data", dir, "--platform", "fake", "--handle", "late"); code != 1 || !strings.Contains(errs, "daemon") {
		t.Errorf("a second writer while the daemon runs: %d %s", code, errs)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("daemon: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the daemon did not stop")
	}
	if !strings.Contains(out.String(), "osmarc daemon: stopped") {
		t.Errorf("stdout: %s", out.String())
	}
	// The run in hand was committed, incomplete, with what it had.
	code, outj, _ := withRegistry(t, reg, "jobs", "--json", "--account", "brigade", "--data", dir)
	var last jobEntry
	json.Unmarshal([]byte(strings.SplitN(outj, "\n", 2)[0]), &last)
	if code != 0 || last.Capture == "" || last.Items != 1 || last.Complete || !last.Failed || !strings.Contains(last.Error, "context canceled") {
		t.Errorf("the interrupted run: %+v\n%s", last, outj)
	}
	if n := strings.Count(outj, "\n"); n != int(tick.runs.Load()) {
		t.Errorf("%d jobs for %d runs", n, tick.runs.Load())
	}
	// The lock is released.
	must(t, "account", "add", "--data", dir, "--platform", "fake", "--handle", "late")
}

func TestDefaultRegistryNamesEveryPlatformAndFormat(t *testing.T) {
	r := defaultRegistry()
	for _, p := range []string{"feed", "mastodon", "bluesky", "wordpress", "facebook", "instagram", "x", "youtube"} {
		if c, ok := r.Collector(p); !ok || c.Platform() != p {
			t.Errorf("no collector for %s", p)
		}
	}
	for _, f := range []string{"x-archive", "facebook-dyi", "instagram-export", "mastodon-outbox", "feed",
		"mastodon-api", "bluesky-api", "facebook-graph", "instagram-graph", "youtube-api", "wordpress-api", "x-api-v2"} {
		if im, ok := r.Importer(f); !ok || im.Format() != f {
			t.Errorf("no importer for %s", f)
		}
	}
}

// TestImportShippedFormats imports real fixtures of account exports through
// the command line with the default registry: each is a capture, a second
// import adds nothing, and a wrong --format says what the file looks like.
func TestImportShippedFormats(t *testing.T) {
	dir := newArchive(t)
	for _, tc := range []struct {
		format, account, path string
	}{
		{"x-archive", "Brigade3", "../../testdata/collect/x/archive"},
		{"mastodon-outbox", "brigade@social.example.gov", "../../testdata/collect/mastodon/export"},
		{"facebook-dyi", "3rd-brigade", "../../testdata/collect/facebook/dyi"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			code, out, errs := osmarc(t, "", "import", "--data", dir, "--format", tc.format, "--account", tc.account, tc.path)
			if code != 0 && !strings.Contains(errs, "bad record") {
				t.Fatalf("import %s: exit %d\n%s%s", tc.format, code, out, errs)
			}
			before := statsJSON(t, dir)
			if before["items"].(float64) == 0 {
				t.Fatalf("import %s captured nothing: %s %s", tc.format, out, errs)
			}
			osmarc(t, "", "import", "--data", dir, "--format", tc.format, "--account", tc.account, tc.path)
			after := statsJSON(t, dir)
			if after["versions"] != before["versions"] || after["items"] != before["items"] {
				t.Fatalf("importing %s twice changed the archive: %v → %v", tc.format, before, after)
			}
		})
	}
	code, _, errs := osmarc(t, "", "import", "--data", dir, "--format", "facebook-dyi", "--account", "Brigade3", "../../testdata/collect/x/archive")
	if code == 0 || !strings.Contains(errs, "x-archive") {
		t.Fatalf("a wrong --format: exit %d, %q", code, errs)
	}
}
