package collect_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/collect"
)

// fakeCollector emits one raw page and an item per id; it can fail after
// some items, report bad records, say Complete early, or wait for ctx.
type fakeCollector struct {
	platform      string
	ids           []string
	failAfter     int // fail before the item with this index; -1: never
	failErr       error
	bad           int
	completeEarly bool
	block         bool // after the first item, wait for ctx to end
	calls         int
	job           collect.Job
}

func (f *fakeCollector) Platform() string { return f.platform }
func (f *fakeCollector) Version() string  { return "test-1" }

func (f *fakeCollector) Collect(ctx context.Context, job *collect.Job) error {
	f.calls++
	f.job = *job
	page := fmt.Sprintf(`{"ids":%q}`, f.ids)
	raw, err := job.Sink.PutRaw(ctx, []byte(page), "https://api.example/v1/posts?access_token="+job.Secret, "", "application/json")
	if err != nil {
		return err
	}
	if f.completeEarly && job.Full {
		job.Sink.Complete(archive.Scope{Account: job.Account.Key})
	}
	for i, id := range f.ids {
		if i == f.failAfter {
			return f.failErr
		}
		it := archive.Item{Platform: f.platform, Account: job.Account.Handle, ID: id, Kind: "post",
			CreatedAt: "2026-02-0" + id + "T10:00:00Z", Text: "post " + id}
		if err := job.Sink.AddItem(ctx, it, archive.ItemOptions{Raw: &raw, RawPath: fmt.Sprintf("/ids/%d", i)}); err != nil {
			return err
		}
		if f.block && i == 0 {
			<-ctx.Done()
			return fmt.Errorf("page 2: %w", ctx.Err())
		}
	}
	for i := 0; i < f.bad; i++ {
		job.Sink.Bad(&archive.InputError{Source: "https://api.example/v1/posts", Line: i + 1, Err: errors.New("unexpected field type")})
	}
	job.Sink.SetState(json.RawMessage(fmt.Sprintf(`{"newest":%q}`, f.ids[len(f.ids)-1])))
	if job.Full && !f.completeEarly {
		job.Sink.Complete(archive.Scope{Account: job.Account.Key})
	}
	return nil
}

const secret = "tok-3b1f9c2e-SECRET"

func setup(t *testing.T) (*archive.Archive, *archivetest.Clock, archive.Account, collect.RunOptions) {
	t.Helper()
	a, _, clock := archivetest.New(t)
	acct, err := a.AddAccount(context.Background(), archive.Account{Platform: "fake", Handle: "brigade", Credentials: "env:OSMARC_TEST_TOKEN"})
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"OSMARC_TEST_TOKEN": secret}
	return a, clock, acct, collect.RunOptions{Now: clock.Now, Getenv: func(k string) string { return env[k] }}
}

// failures returns the collect.failed events, and fails the test if any
// event holds the secret.
func failures(t *testing.T, a *archive.Archive) []collect.FailedRun {
	t.Helper()
	var out []collect.FailedRun
	for ev, err := range a.Events(0) {
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(ev.Data), secret) {
			t.Fatalf("event %d (%s) holds the secret: %s", ev.Seq, ev.Type, ev.Data)
		}
		if ev.Type == collect.EventCollectFailed {
			var f collect.FailedRun
			if err := json.Unmarshal(ev.Data, &f); err != nil {
				t.Fatal(err)
			}
			out = append(out, f)
		}
	}
	return out
}

func TestRunSuccess(t *testing.T) {
	a, _, acct, o := setup(t)
	c := &fakeCollector{platform: "fake", ids: []string{"1", "2", "3"}, failAfter: -1}
	o.Full = true
	res, err := collect.Run(context.Background(), a, acct, c, o)
	if err != nil {
		t.Fatal(err)
	}
	if c.job.Secret != secret || c.job.State != nil || !c.job.Full || !c.job.Media || c.job.HTTP == nil {
		t.Errorf("job: secret %v state %s full %v media %v", c.job.Secret == secret, c.job.State, c.job.Full, c.job.Media)
	}
	if res.Capture == "" || res.Items != 3 || res.NewVersions != 3 || !res.Complete || res.Class != "" || res.Collector != "fake" || res.Account != "fake/brigade" {
		t.Fatalf("result: %+v", res)
	}
	caps, _ := a.Captures()
	if len(caps) != 1 || caps[0].Collector != "fake" || caps[0].CollectorVersion != "test-1" || !caps[0].Complete {
		t.Fatalf("captures: %+v", caps)
	}
	// The next run goes on from the state, and a full listing without
	// item 2 marks it removed.
	c2 := &fakeCollector{platform: "fake", ids: []string{"1", "3"}, failAfter: -1}
	o.NoMedia = true
	res, err = collect.Run(context.Background(), a, acct, c2, o)
	if err != nil {
		t.Fatal(err)
	}
	if string(c2.job.State) != `{"newest":"3"}` || c2.job.Media {
		t.Errorf("second job: state %s media %v", c2.job.State, c2.job.Media)
	}
	if res.Removed != 1 || !res.Complete || res.NewVersions != 0 {
		t.Errorf("second run: %+v", res)
	}
	if f := failures(t, a); len(f) != 0 {
		t.Errorf("failures recorded: %+v", f)
	}
}

func TestRunFailureMidway(t *testing.T) {
	a, _, acct, o := setup(t)
	o.Full = true
	first := &fakeCollector{platform: "fake", ids: []string{"1", "2", "3"}, failAfter: -1}
	if _, err := collect.Run(context.Background(), a, acct, first, o); err != nil {
		t.Fatal(err)
	}
	// Items 4 and 5 come, then the platform fails; the collector had
	// already said Complete, which must not count.
	failing := &fakeCollector{platform: "fake", ids: []string{"4", "5", "6"}, failAfter: 2, completeEarly: true,
		failErr: fmt.Errorf("get https://api.example/v1/posts?max_id=5&access_token=%s: %w (HTTP 503 after 6 attempts)", secret, collect.ErrUnavailable)}
	res, err := collect.Run(context.Background(), a, acct, failing, o)
	if !errors.Is(err, collect.ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(res.Error, secret) || !strings.Contains(err.Error(), "max_id=5") {
		t.Errorf("error leaks or hides: %v / %s", err, res.Error)
	}
	if res.Class != collect.ClassUnavailable || res.Complete || res.Items != 2 || res.Capture == "" || res.Removed != 0 {
		t.Fatalf("result: %+v", res)
	}
	caps, _ := a.Captures()
	last := caps[len(caps)-1]
	if len(caps) != 2 || last.Complete || last.Items != 2 || last.ID != res.Capture {
		t.Fatalf("captures: %+v", caps)
	}
	for _, id := range []string{"1", "2", "3", "4", "5"} {
		it, err := a.Catalog().Item(archive.ItemKey("fake", "brigade", id))
		if err != nil {
			t.Fatalf("item %s: %v", id, err)
		}
		if it.RemovedAt != nil {
			t.Errorf("item %s marked removed by an incomplete capture", id)
		}
	}
	// The state stays the last successful run's.
	if st, _ := a.LastState(acct.Key, "fake"); string(st) != `{"newest":"3"}` {
		t.Errorf("state after a failure: %s", st)
	}
	f := failures(t, a)
	if len(f) != 1 || f[0].Class != "unavailable" || f[0].Capture != res.Capture || f[0].Account != "fake/brigade" || f[0].Collector != "fake" || f[0].StartedAt.IsZero() {
		t.Fatalf("failure events: %+v", f)
	}
}

func TestRunMissingCredential(t *testing.T) {
	for _, ref := range []string{"env:OSMARC_NOT_SET", "file:" + filepath.Join(t.TempDir(), "no-such-token")} {
		t.Run(ref, func(t *testing.T) {
			a, _, acct, o := setup(t)
			acct, err := a.UpdateAccount(context.Background(), acct.Key, func(x *archive.Account) error { x.Credentials = ref; return nil })
			if err != nil {
				t.Fatal(err)
			}
			c := &fakeCollector{platform: "fake", ids: []string{"1"}, failAfter: -1}
			res, err := collect.Run(context.Background(), a, acct, c, o)
			if !errors.Is(err, collect.ErrAuth) || !strings.Contains(err.Error(), ref) {
				t.Fatalf("err = %v", err)
			}
			if c.calls != 0 || res.Class != "auth" || res.Capture != "" {
				t.Errorf("calls %d, result %+v", c.calls, res)
			}
			if caps, _ := a.Captures(); len(caps) != 0 {
				t.Errorf("captures: %+v", caps)
			}
			f := failures(t, a)
			if len(f) != 1 || f[0].Class != "auth" || !strings.Contains(f[0].Error, ref) {
				t.Errorf("failure events: %+v", f)
			}
		})
	}
}

func TestRunDeactivated(t *testing.T) {
	a, _, acct, o := setup(t)
	acct, err := a.DeactivateAccount(context.Background(), acct.Key, "the unit was disbanded")
	if err != nil {
		t.Fatal(err)
	}
	c := &fakeCollector{platform: "fake", ids: []string{"1"}, failAfter: -1}
	res, err := collect.Run(context.Background(), a, acct, c, o)
	if !errors.Is(err, collect.ErrDeactivated) || !strings.Contains(err.Error(), "deactivated on 2026-03-01") {
		t.Fatalf("err = %v", err)
	}
	if c.calls != 0 || res.Skipped == "" {
		t.Errorf("calls %d, result %+v", c.calls, res)
	}
	if f := failures(t, a); len(f) != 0 {
		t.Errorf("a deactivated account is not a failure: %+v", f)
	}
}

func TestRunBadRecords(t *testing.T) {
	a, _, acct, o := setup(t)
	o.Full = true
	c := &fakeCollector{platform: "fake", ids: []string{"1", "2"}, failAfter: -1, bad: 1}
	res, err := collect.Run(context.Background(), a, acct, c, o)
	if !errors.Is(err, collect.ErrMalformed) || res.Class != "malformed" || res.Complete || res.Items != 2 || res.Errors != 1 {
		t.Fatalf("err %v, result %+v", err, res)
	}
	if f := failures(t, a); len(f) != 1 || f[0].Class != "malformed" {
		t.Errorf("failure events: %+v", f)
	}
}

func TestRunCancelledCommitsWhatItHas(t *testing.T) {
	a, _, acct, o := setup(t)
	o.Full = true
	ctx, cancel := context.WithCancel(context.Background())
	c := &fakeCollector{platform: "fake", ids: []string{"1", "2"}, failAfter: -1, block: true}
	done := make(chan struct{})
	var res collect.RunResult
	var err error
	go func() {
		res, err = collect.Run(ctx, a, acct, c, o)
		close(done)
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the run did not stop")
	}
	if !errors.Is(err, context.Canceled) || res.Capture == "" || res.Items != 1 || res.Complete {
		t.Fatalf("err %v, result %+v", err, res)
	}
}

func TestRunPanickingCollector(t *testing.T) {
	a, _, acct, o := setup(t)
	res, err := collect.Run(context.Background(), a, acct, panicky{}, o)
	if err == nil || !strings.Contains(err.Error(), "panicked") || res.Class != "other" {
		t.Fatalf("err %v, result %+v", err, res)
	}
}

type panicky struct{}

func (panicky) Platform() string { return "fake" }
func (panicky) Version() string  { return "1" }
func (panicky) Collect(context.Context, *collect.Job) error {
	panic("nil map")
}

// lineImporter reads "id text" lines; a line starting with "!" is bad.
type lineImporter struct{}

func (lineImporter) Format() string   { return "lines" }
func (lineImporter) Platform() string { return "fake" }
func (lineImporter) Sniff(src collect.Source) bool {
	return strings.HasSuffix(src.Path, ".txt")
}

func (lineImporter) Import(ctx context.Context, src collect.Source, acct archive.Account, sink collect.Sink) error {
	f, err := src.FS.Open(src.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		id, text, _ := strings.Cut(line, " ")
		if strings.HasPrefix(line, "!") {
			sink.Bad(&archive.InputError{Source: src.Name, Line: n, Err: errors.New("not a record")})
			continue
		}
		it := archive.Item{Platform: "fake", Account: acct.Handle, ID: id, Kind: "post", CreatedAt: "2020-01-01T00:00:00Z", Text: text}
		if err := sink.AddItem(ctx, it, archive.ItemOptions{Source: src.Name, Line: n}); err != nil {
			return err
		}
	}
	return sc.Err()
}

func TestRunImport(t *testing.T) {
	a, _, acct, o := setup(t)
	var seen int64
	o.Progress = func(n int64) { seen = n }
	fsys := fstest.MapFS{
		"good.txt": {Data: []byte("a first\nb second\n")},
		"bad.txt":  {Data: []byte("c third\n!oops\nd fourth\n")},
	}
	res, err := collect.RunImport(context.Background(), a, acct, lineImporter{}, []collect.Source{
		{Name: "good.txt", FS: fsys, Path: "good.txt"},
		{Name: "bad.txt", FS: fsys, Path: "bad.txt"},
		{Name: "missing.txt", FS: fsys, Path: "missing.txt"},
	}, o)
	if !errors.Is(err, fs.ErrNotExist) || res.Collector != "import:lines" || res.Items != 4 || res.Errors != 2 || res.Complete {
		t.Fatalf("err %v, result %+v", err, res)
	}
	if seen != 4 {
		t.Errorf("progress said %d items", seen)
	}
	caps, _ := a.Captures()
	if len(caps) != 1 || caps[0].Collector != "import:lines" || len(caps[0].Sources) != 3 {
		t.Fatalf("captures: %+v", caps)
	}
	// Importing the same good file again adds no version.
	res, err = collect.RunImport(context.Background(), a, acct, lineImporter{}, []collect.Source{{Name: "good.txt", FS: fsys, Path: "good.txt"}}, o)
	if err != nil || res.NewVersions != 0 || res.Items != 2 {
		t.Fatalf("again: %v %+v", err, res)
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{fmt.Errorf("get x: %w", collect.ErrAuth), "auth"},
		{&collect.RateLimitError{RetryAt: time.Now()}, "rate-limit"},
		{fmt.Errorf("x: %w", collect.ErrUnavailable), "unavailable"},
		{fmt.Errorf("page 3: %w", collect.ErrMalformed), "malformed"},
		{&archive.InputError{Source: "x", Err: errors.New("bad")}, "malformed"},
		{errors.New("disk full"), "other"},
	} {
		if got := collect.Classify(tc.err); got != tc.want {
			t.Errorf("Classify(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestReadSecret(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "token")
	os.WriteFile(good, []byte("  abc123\n"), 0o600)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	env := map[string]string{"SET": "xyz789"}
	getenv := func(k string) string { return env[k] }
	for _, tc := range []struct {
		ref, want, errHas string
	}{
		{"", "", ""},
		{"env:SET", "xyz789", ""},
		{"env:UNSET", "", "env:UNSET: the environment variable UNSET is not set"},
		{"file:" + good, "abc123", ""},
		{"file:" + empty, "", "is empty"},
		{"file:" + filepath.Join(dir, "nope"), "", "does not exist"},
		{"vault:x", "", "want env:NAME or file:/path"},
	} {
		got, err := collect.ReadSecret(tc.ref, getenv)
		if tc.errHas == "" {
			if err != nil || got != tc.want {
				t.Errorf("ReadSecret(%q) = %q, %v", tc.ref, got, err)
			}
			continue
		}
		if !errors.Is(err, collect.ErrAuth) || !strings.Contains(err.Error(), tc.errHas) {
			t.Errorf("ReadSecret(%q): %v, want %q", tc.ref, err, tc.errHas)
		}
	}
}

func TestRegistry(t *testing.T) {
	r := &collect.Registry{Collectors: []collect.Collector{&fakeCollector{platform: "fake"}}, Importers: []collect.Importer{lineImporter{}}}
	if c, ok := r.Collector("FAKE"); !ok || c.Platform() != "fake" {
		t.Error("Collector(FAKE)")
	}
	if _, ok := r.Collector("x"); ok {
		t.Error("Collector(x)")
	}
	if _, ok := r.Importer("lines"); !ok {
		t.Error("Importer(lines)")
	}
	if got := r.Sniff(collect.Source{Path: "a.txt"}); len(got) != 1 || got[0] != "lines" {
		t.Errorf("Sniff: %v", got)
	}
	var nilr *collect.Registry
	if _, ok := nilr.Collector("fake"); ok || nilr.Formats() != nil {
		t.Error("nil registry")
	}
}

// TestRunConcurrent: concurrent runs sharing an archive, as the daemon's
// do, all commit, and the journal stays one chain.
func TestRunConcurrent(t *testing.T) {
	a, _, _, o := setup(t)
	var accts []archive.Account
	for i := range 4 {
		acct, err := a.AddAccount(context.Background(), archive.Account{Platform: "fake", Handle: fmt.Sprint("unit", i)})
		if err != nil {
			t.Fatal(err)
		}
		accts = append(accts, acct)
	}
	// The default lock serialises the commits.
	o.Full = true
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for round := range 4 {
		for _, acct := range accts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := &fakeCollector{platform: "fake", ids: []string{"1", "2", fmt.Sprint(3 + round)}, failAfter: -1}
				if round == 3 {
					c.failAfter, c.failErr = 1, collect.ErrUnavailable
				}
				_, err := collect.Run(context.Background(), a, acct, c, o)
				if round < 3 && err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	caps, _ := a.Captures()
	if len(caps) != 16 {
		t.Errorf("%d captures, want 16", len(caps))
	}
	if f := failures(t, a); len(f) != 4 {
		t.Errorf("%d failures, want 4", len(f))
	}
	rep, err := a.Verify(context.Background(), archive.VerifyOptions{})
	if err != nil || !rep.OK {
		t.Fatalf("verify: %v %+v", err, rep)
	}
}

// pager fetches pages 1, 2, … from base until one is empty or fails.
type pager struct {
	base  string
	pages atomic.Int32
}

func (*pager) Platform() string { return "fake" }
func (*pager) Version() string  { return "1" }

func (p *pager) Collect(ctx context.Context, job *collect.Job) error {
	for page := 1; ; page++ {
		resp, err := job.HTTP.Get(ctx, fmt.Sprintf("%s/page/%d", p.base, page), nil)
		if err != nil {
			return err
		}
		p.pages.Add(1)
		if len(resp.Body) == 0 {
			return nil
		}
		it := archive.Item{Platform: "fake", Account: job.Account.Handle, ID: fmt.Sprint(page), Kind: "post", CreatedAt: "2026-01-01T00:00:00Z", Text: string(resp.Body)}
		if err := job.Sink.AddItem(ctx, it, archive.ItemOptions{}); err != nil {
			return err
		}
	}
}

// TestRunStopFinishesThePageInHand: a run told to stop while a page is
// being fetched keeps that page, and fetches no other.
func TestRunStopFinishesThePageInHand(t *testing.T) {
	a, _, acct, o := setup(t)
	acct.AllowPrivate = true
	inFlight := make(chan struct{})
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/page/2" {
			close(inFlight)
			<-release
		}
		fmt.Fprintf(w, "text of %s", r.URL.Path)
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	p := &pager{base: srv.URL}
	done := make(chan struct{})
	var res collect.RunResult
	var err error
	go func() {
		res, err = collect.Run(ctx, a, acct, p, o)
		close(done)
	}()
	<-inFlight
	cancel()
	time.Sleep(50 * time.Millisecond)
	close(release)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the run did not stop")
	}
	if !errors.Is(err, context.Canceled) || res.Items != 2 || res.Complete || p.pages.Load() != 2 {
		t.Fatalf("err %v, %d pages, result %+v", err, p.pages.Load(), res)
	}
}
