package web

// End-to-end tests of the HTML pages in real headless Chromium (Debian's
// chromium, driven with chromedp). One browser serves the whole test
// binary; each test signs its users in in browser contexts of their own
// (separate cookies). Without Chromium the tests fail when CI=true and
// skip, saying why, otherwise.

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/memstore"
	"github.com/osmarc/osmarc/archive/retention"
	"github.com/osmarc/osmarc/index"
)

var (
	browserOnce sync.Once
	browserCtx  context.Context
	browserErr  error
	browserStop func()
)

// chromiumPath is $OSMARC_CHROMIUM, else /usr/bin/chromium.
func chromiumPath() string {
	if p := os.Getenv("OSMARC_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

func TestMain(m *testing.M) {
	code := m.Run()
	if browserStop != nil {
		browserStop()
	}
	os.Exit(code)
}

// browser returns the test binary's one Chromium, started on first use.
func browser(t *testing.T) context.Context {
	t.Helper()
	browserOnce.Do(func() {
		path := chromiumPath()
		if _, err := exec.LookPath(path); err != nil {
			browserErr = fmt.Errorf("chromium not found at %s (make tools installs Debian's chromium): %v", path, err)
			return
		}
		profile, err := os.MkdirTemp("", "osmarc-e2e-chromium-")
		if err != nil {
			browserErr = err
			return
		}
		opts := []chromedp.ExecAllocatorOption{
			chromedp.ExecPath(path),
			chromedp.UserDataDir(profile),
			chromedp.Flag("headless", true),
			chromedp.Flag("no-sandbox", true),
			chromedp.Flag("disable-gpu", true),
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("no-first-run", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-dev-shm-usage", true),
			// The TLS test serves a certificate it made itself.
			chromedp.Flag("ignore-certificate-errors", true),
			chromedp.WindowSize(1280, 900),
		}
		actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, bcancel := chromedp.NewContext(actx)
		// Start the browser now (a first Run without a deadline: the
		// browser lives as long as bctx).
		if err := chromedp.Do(bctx); err != nil {
			browserErr = fmt.Errorf("start chromium: %w", err)
			bcancel()
			acancel()
			os.RemoveAll(profile)
			return
		}
		browserCtx = bctx
		browserStop = func() { bcancel(); acancel(); os.RemoveAll(profile) }
	})
	if browserErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("end-to-end tests need Chromium in CI: %v", browserErr)
		}
		t.Skipf("no Chromium, end-to-end test not run: %v", browserErr)
	}
	return browserCtx
}

// tab opens a fresh browser context (its own cookies) with one tab.
func tab(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser(t), chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancel2 := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel2)
	return ctx
}

// site is a served archive with users and the fixture items.
type site struct {
	URL   string
	srv   *Server
	a     *archive.Archive
	ix    *index.Index
	clock *archivetest.Clock
	keys  fixtureKeys
}

type fixtureKeys struct {
	post, edited, removed, reply, pii string
	hostile                           []string
	media                             string
}

// The users of every site, with their passwords.
var siteUsers = []struct {
	name string
	role Role
}{{"olivia", RoleRecordsOfficer}, {"liam", RoleLegal}, {"vera", RoleViewer}, {"adam", RoleAdmin}}

const sitePassword = "correct horse battery staple"

// hostileTexts are archived posts that try to run script in the page.
var hostileTexts = []string{
	`<script>window.__pwned=1;document.title="pwned"</script>`,
	`<img src=x onerror="window.__pwned=2;document.title='pwned'">`,
	`click javascript:window.__pwned=3 now <a href="javascript:window.__pwned=4">me</a>`,
	`"><svg onload="window.__pwned=5;document.title='pwned'">`,
	`</textarea></title><iframe srcdoc="<script>parent.__pwned=6</script>"></iframe>`,
	`<style>body{display:none}</style><b style="x:expression(alert(1))">styled</b>`,
	`{{.CSRF}} {{template "layout"}} ${7*7}`,
}

// newSite builds an archive with a thread (a post, an edited comment, a
// comment removed at source, a reply), hostile posts and a media file,
// indexes it, adds the users, and serves it.
func newSite(t *testing.T) *site {
	t.Helper()
	ctx := context.Background()
	store := memstore.New(t.Name())
	clock := archivetest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	dir := t.TempDir()
	a, _, err := archive.Init(ctx, archivetest.Options(dir, clock, archivetest.MemOpener(store)), "mem")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	st := &site{a: a, clock: clock}
	acct := archive.AccountKey("facebook", "3rd-brigade")
	png := tinyPNG()
	mediaDigest := archive.Sum(png)
	item := func(id, kind, parent, author, text string) archive.Item {
		it := archive.Item{Platform: "facebook", Account: "3rd-brigade", ID: id, Kind: kind, CreatedAt: "2024-05-0" + id[len(id)-1:] + "T10:00:00Z",
			Author: &archive.Author{Name: author, Handle: strings.ToLower(strings.ReplaceAll(author, " ", "."))}, Text: text}
		if parent != "" {
			it.Parent, it.Thread = parent, "101"
		}
		return it
	}
	capture := func(editedText string, withRemoved bool) {
		w, err := a.BeginCapture(ctx, archive.CaptureOptions{Collector: "facebook", Account: acct})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.PutMedia(ctx, bytes.NewReader(png), int64(len(png)), mediaDigest, "image/png", "https://cdn.example/parade.png"); err != nil {
			t.Fatal(err)
		}
		post := item("101", "post", "", "3rd Brigade", "Parade on Saturday: road closure on Main Street from noon.")
		post.Media = []archive.Media{{URL: "https://cdn.example/parade.png", Type: "image/png", Alt: "Parade route map", Digest: mediaDigest.String()}}
		items := []archive.Item{
			post,
			item("102", "comment", "101", "Jane Citizen", editedText),
			item("104", "reply", "102", "3rd Brigade", "Buses divert via Elm Street."),
			item("105", "comment", "101", "Sam Private", "Call me at jane.doe@example.com about the parking."),
		}
		if withRemoved {
			items = append(items, item("103", "comment", "101", "Angry Visitor", "This comment was moderated away."))
		}
		for i, h := range hostileTexts {
			it := item(fmt.Sprintf("9%d", i+1), "post", "", `Mallory <b onmouseover="x">`, h)
			it.CreatedAt = fmt.Sprintf("2024-06-%02dT10:00:00Z", i+1)
			it.Links = []string{"javascript:window.__pwned=9", "https://example.org/x\"><script>window.__pwned=10</script>"}
			it.URL = "javascript:window.__pwned=11"
			items = append(items, it)
		}
		for _, it := range items {
			if err := w.AddItem(ctx, it, archive.ItemOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		w.Complete(archive.Scope{Account: acct})
		if _, err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		clock.Advance(24 * time.Hour)
	}
	capture("Will the road closure affect the bus?", true)
	capture("Will the road closure affect the number 7 bus on Saturday?", false)
	st.keys = fixtureKeys{
		post:    archive.ItemKey("facebook", "3rd-brigade", "101"),
		edited:  archive.ItemKey("facebook", "3rd-brigade", "102"),
		removed: archive.ItemKey("facebook", "3rd-brigade", "103"),
		reply:   archive.ItemKey("facebook", "3rd-brigade", "104"),
		pii:     archive.ItemKey("facebook", "3rd-brigade", "105"),
		media:   mediaDigest.String(),
	}
	for i := range hostileTexts {
		st.keys.hostile = append(st.keys.hostile, archive.ItemKey("facebook", "3rd-brigade", fmt.Sprintf("9%d", i+1)))
	}
	// A schedule the items are past, so a disposition can be planned.
	recs := retention.New(a, clock.Now)
	sc := retention.Schedule{ID: "gen-1y", Title: "Routine public posts", Authority: "GRS 6.4 item 020", Action: retention.ActionDestroy}
	if sc.Retain, err = retention.ParsePeriod("1y"); err != nil {
		t.Fatal(err)
	}
	if err := recs.AddSchedule(ctx, sc); err != nil {
		t.Fatal(err)
	}
	if _, err := a.UpdateAccount(ctx, acct, func(ac *archive.Account) error { ac.Schedule = "gen-1y"; return nil }); err != nil {
		t.Fatal(err)
	}
	ix, err := index.Open(filepath.Join(dir, index.DirName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	if err := ix.Reindex(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	a.SetIndexer(ix)
	st.ix = ix
	// Records management wired to the index, as osmarc serve wires it,
	// so classification rules can be added through the pages.
	recs.Matcher, recs.ParseQuery = ix, indexClauses
	srv, err := New(Config{Archive: a, Index: ix, Records: recs, Now: clock.Now, BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range siteUsers {
		if _, err := srv.Users().Add(ctx, a, u.name, u.role, sitePassword); err != nil {
			t.Fatal(err)
		}
	}
	st.srv = srv
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	st.URL = hs.URL
	return st
}

// tinyPNG is a 1×1 PNG.
func tinyPNG() []byte {
	b, _ := hex.DecodeString("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005050201a3c5a8a50000000049454e44ae426082")
	return b
}

// signIn signs name in through the sign-in page.
func (st *site) signIn(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(st.URL+"/signin"),
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), name),
		chromedp.SendKeys(chromedp.CSS(`#password`), sitePassword),
		navigates(chromedp.Submit(chromedp.CSS(`#password`))),
	)
	if err != nil {
		t.Fatalf("sign in as %s: %v", name, err)
	}
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`h1`)))
	if err != nil {
		t.Fatal(err)
	}
	if heading != "Search the archive" {
		t.Fatalf("after signing in as %s the page says %q, want the search page", name, heading)
	}
}

// navigates runs an action that loads a new page and waits until the new
// page has loaded: a mark set on the old page's window is gone.
func navigates(a chromedp.Action[chromedp.Void]) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`window.__osmarcOld = true`)(ctx, t)
			return err
		}),
		a,
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			// While the page changes, evaluating may fail: try again.
			deadline := time.Now().Add(20 * time.Second)
			for {
				ok, err := chromedp.Evaluate[bool](`window.__osmarcOld === undefined && document.readyState === "complete"`)(ctx, t)
				if err == nil && ok {
					return nil
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("the page did not change within 20s (last error: %v)", err)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}),
	)
}

// artifacts is where screenshots go: $OSMARC_ARTIFACTS, else a directory
// under the test's temp dir.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("OSMARC_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "osmarc-e2e-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// screenshot writes the whole page as name.png among the artifacts.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(artifacts(t), name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", p)
}

// visit opens path and returns the main element's text.
func visit(t *testing.T, ctx context.Context, st *site, path string) string {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(st.URL+path),
		chromedp.WaitVisible(chromedp.CSS(`main`)),
	); err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main`)))
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return text
}

// mustContain fails unless text holds every one of wants.
func mustContain(t *testing.T, where, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s: want %q in the page; it says:\n%s", where, w, text)
		}
	}
}

// get fetches path with no session, for checks of headers.
func get(t *testing.T, url string) *http.Response {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}
