package bagit

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/osmarc/osmarc/export"
	"github.com/osmarc/osmarc/export/exporttest"
)

// chromium starts headless Chromium ($OSMARC_CHROMIUM, else
// /usr/bin/chromium, which make tools installs); its absence fails the
// test.
func chromium(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("OSMARC_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(path); err != nil {
		t.Fatalf("chromium not found at %s (make tools installs Debian's chromium): %v", path, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-dev-shm-usage", true),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, tcancel := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { tcancel(); cancel(); acancel() })
	return ctx
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// The offline viewer opened from disk in a real browser: every item is
// shown in its thread, versions side by side, the edited and removed
// markers, the media image loads from the package, hostile archived text
// stays text, search within the package finds a French word, and the page
// asks for nothing outside the package.
func TestViewerInChromium(t *testing.T) {
	f := exporttest.Build(t)
	dir, _ := exportBag(t, f, export.SourceOptions{Keys: export.KeyList(exporttest.Keys), Versions: export.VersionsAll}, true)
	ctx := chromium(t)
	url := "file://" + filepath.Join(dir, "data", "index.html")
	if _, err := chromedp.Run(ctx, chromedp.Steps(chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(`section.thread`)))); err != nil {
		t.Fatal(err)
	}
	if got := eval[string](t, ctx, `document.getElementById("count").textContent`); got != "10 item(s) in 4 thread(s)" {
		t.Errorf("count: %q", got)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("article").length`); n != 10 {
		t.Errorf("%d items shown", n)
	}
	// Replies nest under what they answer.
	if !eval[bool](t, ctx, `!!document.querySelector('article[id="facebook/3rd-brigade/c1"] .replies article[id="facebook/3rd-brigade/r1"]')`) {
		t.Errorf("the reply is not under its comment")
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('article[id="facebook/3rd-brigade/p1"] > .versions > .version').length`); n != 2 {
		t.Errorf("p1 shows %d versions side by side", n)
	}
	body := eval[string](t, ctx, `document.body.innerText`)
	for _, want := range []string{"removed at source", "edited 2024-03-02T08:00:00Z · 2 versions", "<script>alert('x')</script> & <b>bold</b>", "Mallory <img src=x onerror=alert(1)>"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if eval[bool](t, ctx, `!!document.querySelector("article b") || !!document.querySelector("article img[src=x]") || !!document.querySelector("article script")`) {
		t.Errorf("archived markup became elements")
	}
	if w := eval[int](t, ctx, `(function(){var i=document.querySelector('article[id="facebook/3rd-brigade/p1"] img');return i&&i.complete?i.naturalWidth:-1})()`); w != 2 {
		t.Errorf("media image: naturalWidth %d", w)
	}
	// Search within the package.
	if _, err := chromedp.Run(ctx, chromedp.SendKeys(chromedp.CSS(`#q`), "défilé")); err != nil {
		t.Fatal(err)
	}
	if got := eval[string](t, ctx, `document.getElementById("count").textContent`); got != "1 item(s) in 1 thread(s)" {
		t.Errorf("search count: %q", got)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("article.hit").length`); n != 1 {
		t.Errorf("%d hits marked", n)
	}
	// Nothing was asked of the network.
	if got := eval[string](t, ctx, `performance.getEntriesByType("resource").map(function(e){return e.name}).filter(function(n){return n.indexOf("file:")!==0}).join(" ")`); got != "" {
		t.Errorf("requests outside the package: %s", got)
	}
	// The thread link an item carries, opened from disk, goes to the
	// thread's section of its page, which shows its items and the image.
	link := ThreadLink(exporttest.Keys[5])
	if _, err := chromedp.Run(ctx, chromedp.Steps(chromedp.Navigate("file://"+filepath.Join(dir, "data", link)), chromedp.WaitVisible(chromedp.CSS(`article`)))); err != nil {
		t.Fatal(err)
	}
	if got := eval[string](t, ctx, `(function(){var s=document.querySelector("section:target");return s?s.id:""})()`); got != "thread-"+exporttest.Keys[5] {
		t.Errorf("the link %s opens at section %q", link, got)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("section:target article").length`); n != 5 {
		t.Errorf("thread section shows %d items", n)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("nav a[href='#thread-`+exporttest.Keys[5]+`']").length`); n != 1 {
		t.Errorf("the page's table of threads links the thread %d times", n)
	}
	if r := eval[string](t, ctx, `getComputedStyle(document.querySelector("article")).borderTopLeftRadius`); r != "6px" {
		t.Errorf("thread page's shared stylesheet not applied (border radius %q)", r)
	}
	if w := eval[int](t, ctx, `(function(){var i=document.querySelector("img");return i&&i.complete?i.naturalWidth:-1})()`); w != 2 {
		t.Errorf("thread page image: naturalWidth %d", w)
	}
}
