package main

import (
	"context"
	"encoding/json"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/stores"
)

// searchJSON runs search --json and decodes its object.
func searchJSON(t *testing.T, dir string, args ...string) searchResult {
	t.Helper()
	out := must(t, append([]string{"search", "--json", "--data", dir}, args...)...)
	var r searchResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("search --json %v: %v\n%s", args, err, out)
	}
	return r
}

func hitKeys(r searchResult) []string {
	var ks []string
	for _, h := range r.Hits {
		ks = append(ks, h.Key)
	}
	return ks
}

// indexedArchive is an archive of the sample items (one edited),
// reindexed.
func indexedArchive(t *testing.T) string {
	t.Helper()
	dir := newArchive(t)
	must(t, "ingest", "--data", dir, "../../testdata/items.jsonl", "../../testdata/items-edited.jsonl")
	if out := must(t, "reindex", "--data", dir); !strings.HasPrefix(out, "Reindexed 8 item(s) in ") {
		t.Fatalf("reindex said %q", out)
	}
	return dir
}

// An archive whose items came before its index has none until reindex
// builds it whole: captures do not start an index that would miss them.
func TestSearchNeedsAnIndex(t *testing.T) {
	dir := newArchive(t)
	must(t, "ingest", "--data", dir, "../../testdata/items.jsonl")
	if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
		t.Fatal(err)
	}
	must(t, "ingest", "--data", dir, "../../testdata/items-edited.jsonl")
	code, out, errs := osmarc(t, "", "search", "--data", dir, "parade")
	if code != 1 || out != "" || !strings.Contains(errs, "no search index yet: run osmarc reindex") || strings.Count(errs, "\n") != 1 {
		t.Errorf("search before reindex: exit %d, %q, %q", code, out, errs)
	}
}

// Captures keep the index up to date: what ingest brings in is found at
// once, edits included, without a reindex.
func TestCapturesKeepTheIndexUpToDate(t *testing.T) {
	dir := newArchive(t)
	must(t, "ingest", "--data", dir, "../../testdata/items.jsonl")
	r := searchJSON(t, dir, "parade")
	if r.Total != 3 {
		t.Errorf("after the first ingest: %d hits for parade, want 3", r.Total)
	}
	must(t, "ingest", "--data", dir, "../../testdata/items-edited.jsonl")
	code, out, errs := osmarc(t, "", "search", "--data", dir, "--json", `"is on saturday"`, "--edited")
	if code != 0 || errs != "" || !strings.Contains(out, `"key":"facebook/3rd-brigade/101_2001"`) {
		t.Errorf("edited-away phrase after the second ingest: exit %d, %s, %q", code, out, errs)
	}
	if r := searchJSON(t, dir, "wheelchairs"); r.Total != 1 {
		t.Errorf("the edited comment: %+v", r)
	}
	if r := searchJSON(t, dir); r.Total != 8 {
		t.Errorf("every item: %d, want 8", r.Total)
	}
}

func TestSearchCommand(t *testing.T) {
	dir := indexedArchive(t)
	const post, comment = "facebook/3rd-brigade/101_2001", "facebook/3rd-brigade/101_2001_3001"

	r := searchJSON(t, dir, "parade")
	if r.Total != 3 || len(r.Hits) != 3 || r.Facets["platform"] == nil || r.Sort != "relevance" {
		t.Fatalf("search parade: %+v", r)
	}
	for _, h := range r.Hits {
		if h.Key == "" || h.Snippet == "" || h.CreatedAt.IsZero() {
			t.Errorf("hit lacks key, snippet or time: %+v", h)
		}
	}
	// The README's example: every comment on the Brigade's Facebook page
	// mentioning the parade, January to March 2024.
	r = searchJSON(t, dir, "parade", "--platform", "facebook", "--account", "3rd-brigade", "--kind", "comment", "--from", "2024-01", "--to", "2024-03")
	if !slices.Equal(hitKeys(r), []string{comment}) || r.Hits[0].ParentKey != post || !strings.HasPrefix(r.Hits[0].ParentText, "UPDATE: the Brigade parade") {
		t.Errorf("comments on the parade: %+v", r)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{`"is on saturday"`}, []string{post}}, // edited away, still found
		{[]string{"--edited"}, []string{post}},
		{[]string{"défense"}, []string{"facebook/3rd-brigade/101_2002"}},
		{[]string{"defense", "--lang", "fr"}, []string{"facebook/3rd-brigade/101_2002"}},
		{[]string{"account:Brigade3"}, []string{"x/Brigade3/1750000000000000042", "x/Brigade3/1750000000000000001"}},
		{[]string{"+parade -kind:comment", "--sort", "oldest"}, []string{post, "facebook/3rd-brigade/101_2002"}},
		{[]string{"--platform", "x", "--platform", "bluesky", "--sort", "newest"}, []string{"bluesky/brigade.example.gov/at:%2F%2Fdid:plc:abc123%2Fapp.bsky.feed.post%2F3kxyz", "x/Brigade3/1750000000000000042", "x/Brigade3/1750000000000000001"}},
		{[]string{"--sort", "newest", "--limit", "2", "--offset", "1"}, []string{"mastodon/brigade@social.example.gov/112233445566778899", "x/Brigade3/1750000000000000042"}},
		// A query that starts with "-" follows "--", or flags would take it.
		{[]string{"--sort", "newest", "--", "-account:3rd-brigade -platform:x"}, []string{"bluesky/brigade.example.gov/at:%2F%2Fdid:plc:abc123%2Fapp.bsky.feed.post%2F3kxyz", "mastodon/brigade@social.example.gov/112233445566778899"}},
		{[]string{"--removed"}, nil},
		{[]string{"--class", "transitory"}, nil}, // the default class is record (issue 5)
		{[]string{"--exemption", "b6"}, nil},
		{[]string{"parade", "brigade"}, []string{comment, "facebook/3rd-brigade/101_2002", post}}, // unquoted words are one query
	} {
		got := hitKeys(searchJSON(t, dir, tc.args...))
		if tc.args[0] == "parade" && len(tc.args) == 2 {
			slices.Sort(got)
			slices.Sort(tc.want)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("search %v: %v, want %v", tc.args, got, tc.want)
		}
	}

	// Text output: a count, each hit with its snippet, facets.
	out := must(t, "search", "--data", dir, "wheelchairs")
	for _, want := range []string{"1 item(s) found", comment, "(on " + post + ", record)", "«wheelchairs»", "by Jane Public",
		"in reply to 3rd Canadian Division Brigade (@3rd-brigade): “UPDATE: the Brigade parade is moved to Sunday at 10:00.", "By facet:", "kind      comment 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	out = must(t, "search", "--data", dir, "saturday")
	if !strings.Contains(out, "earlier version: The Brigade parade is on «Saturday»") || !strings.Contains(out, "(edited, record)") {
		t.Errorf("edited-away word:\n%s", out)
	}
	if out := must(t, "search", "--data", dir, "zeppelin"); out != "No items found.\n" {
		t.Errorf("nothing found: %q", out)
	}
}

func TestSearchErrorsAreOneLine(t *testing.T) {
	dir := indexedArchive(t)
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{`parade "road closure`}, `unclosed quote: the phrase that starts here has no closing " (column 8)`},
		{[]string{`acount:3rd-brigade`}, `unknown field "acount"`},
		{[]string{`account:`}, "account: has no value after the colon"},
		{[]string{"parade", "--sort", "best"}, `unknown sort "best"`},
		{[]string{"parade", "--from", "last week"}, `--from: "last week" is not a date`},
		{[]string{"parade", "--from", "2024-03", "--to", "2024-01"}, "is after --to"},
		{[]string{"parade", "--limit", "0"}, "--limit must be from 1"},
	} {
		code, out, errs := osmarc(t, "", append([]string{"search", "--data", dir}, tc.args...)...)
		if code != 1 || out != "" || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "osmarc: ") || !strings.Contains(errs, tc.says) {
			t.Errorf("search %v: exit %d, stdout %q, stderr %q; want one line saying %q", tc.args, code, out, errs, tc.says)
		}
	}
}

func TestSearchAllStreams(t *testing.T) {
	dir := indexedArchive(t)
	out := must(t, "search", "--data", dir, "--all", "--json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 9 {
		t.Fatalf("--all --json: %d lines, want 8 hits and a summary:\n%s", len(lines), out)
	}
	seen := map[string]bool{}
	var last time.Time
	for _, l := range lines[:8] {
		var h struct {
			Key       string    `json:"key"`
			CreatedAt time.Time `json:"created_at"`
		}
		if err := json.Unmarshal([]byte(l), &h); err != nil || h.Key == "" || seen[h.Key] {
			t.Fatalf("hit line %q: %v", l, err)
		}
		if !last.IsZero() && h.CreatedAt.After(last) {
			t.Errorf("--all is newest first: %s after %s", h.CreatedAt, last)
		}
		seen[h.Key], last = true, h.CreatedAt
	}
	var sum map[string]any
	if err := json.Unmarshal([]byte(lines[8]), &sum); err != nil || sum["total"] != 8.0 || sum["facets"] == nil || sum["key"] != nil {
		t.Errorf("summary line %q: %v", lines[8], err)
	}
	text := must(t, "search", "--data", dir, "--all", "--sort", "oldest", "parade")
	if !strings.HasPrefix(text, "3 item(s) found (oldest first).") || strings.Index(text, "101_2001 ") > strings.Index(text, "101_2002") {
		t.Errorf("--all text:\n%s", text)
	}
}

// A search changes nothing archived: the items and the index stay as they
// were, and the only thing it adds is its search.run journal event, with
// who ran it, the query, the filters and how many hits it found.
func TestSearchIsRecordedAndChangesNothingElse(t *testing.T) {
	dir := indexedArchive(t)
	before := snapshotDir(t, filepath.Join(dir, "index"))
	items := must(t, "list", "--data", dir)
	must(t, "search", "--data", dir, "parade", "--all")
	must(t, "search", "--data", dir, "--json", "defense", "--account", "3rd-brigade", "--from", "2024", "--actor", "foia.officer@example.gov")
	must(t, "search", "--data", dir, "zeppelin", "--sort", "oldest", "--limit", "5")
	after := snapshotDir(t, filepath.Join(dir, "index"))
	if !maps.Equal(before, after) {
		t.Error("search changed the index")
	}
	if got := must(t, "list", "--data", dir); got != items {
		t.Errorf("search changed the items:\n%s\nthen\n%s", items, got)
	}
	type run struct {
		Actor string `json:"actor"`
		Time  time.Time
		Data  struct {
			By      string            `json:"by"`
			Query   string            `json:"query"`
			Filters map[string]string `json:"filters"`
			Hits    int               `json:"hits"`
		} `json:"data"`
	}
	var runs []run
	for _, l := range strings.Split(strings.TrimSpace(must(t, "audit", "list", "--data", dir, "--type", "search.run", "--json")), "\n") {
		var r run
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("event %q: %v", l, err)
		}
		runs = append(runs, r)
	}
	if len(runs) != 3 {
		t.Fatalf("%d search.run events, want 3: %+v", len(runs), runs)
	}
	want := []struct {
		by, query string
		filters   map[string]string
		hits      int
	}{
		{"records.officer@example.gov", "parade", map[string]string{"all": "true"}, 3},
		{"foia.officer@example.gov", "defense", map[string]string{"account": "3rd-brigade", "from": "2024"}, runs[1].Data.Hits},
		{"records.officer@example.gov", "zeppelin", map[string]string{"sort": "oldest", "limit": "5"}, 0},
	}
	for i, w := range want {
		r := runs[i]
		if r.Actor != w.by || r.Data.By != w.by || r.Data.Query != w.query || !maps.Equal(r.Data.Filters, w.filters) || r.Data.Hits != w.hits || r.Time.IsZero() {
			t.Errorf("search.run %d = %+v, want %+v", i, r, w)
		}
	}
	if runs[1].Data.Hits < 1 {
		t.Errorf("the defense search found nothing: %+v", runs[1])
	}
	// A malformed query is refused before anything is recorded.
	osmarc(t, "", "search", "--data", dir, `"open`)
	if n := strings.Count(must(t, "audit", "list", "--data", dir, "--type", "search.run"), "search.run"); n != 3 {
		t.Errorf("a refused search was recorded: %d events", n)
	}
}

// A search waits a moment for another command holding the archive; a
// holder that keeps it (a daemon, a server) gets a clear refusal, and
// nothing is searched unrecorded.
func TestSearchWhileTheArchiveIsHeld(t *testing.T) {
	dir := indexedArchive(t)
	a, err := archive.Open(context.Background(), archive.Options{Dir: dir, Command: "daemon", OpenStore: stores.Open})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	code, out, errs := osmarc(t, "", "search", "--data", dir, "parade")
	if code != 1 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "(daemon)") || !strings.Contains(errs, "every search is recorded in the journal") {
		t.Errorf("search while held: exit %d, %q, %q", code, out, errs)
	}
	if d := time.Since(start); d < searchLockWait {
		t.Errorf("gave up after %s, want a wait of %s", d, searchLockWait)
	}
	// Released while the search waits: it goes ahead.
	time.AfterFunc(500*time.Millisecond, func() { a.Close() })
	if out := must(t, "search", "--data", dir, "parade"); !strings.HasPrefix(out, "3 item(s) found") {
		t.Errorf("search after release: %q", out)
	}
}

func snapshotDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "lock" {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		b, _ := os.ReadFile(p)
		out[p] = fi.ModTime().String() + string(b)
		return nil
	})
	return out
}

func TestRebuildAndReindexRebuildTheIndex(t *testing.T) {
	dir := indexedArchive(t)
	if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
		t.Fatal(err)
	}
	out := must(t, "rebuild", "--data", dir)
	if !strings.Contains(out, "Rebuilt the search index: 8 items in ") {
		t.Errorf("rebuild said %q", out)
	}
	if r := searchJSON(t, dir, "parade"); r.Total != 3 {
		t.Errorf("after rebuild: %d hits", r.Total)
	}
	// A new capture the index has not seen: the search says so, or (once
	// captures update the index) finds it.
	extra := filepath.Join(t.TempDir(), "more.jsonl")
	os.WriteFile(extra, []byte(`{"platform":"facebook","account":"3rd-brigade","id":"101_2009","kind":"post","created_at":"2024-06-01T10:00:00Z","text":"Zeppelin flyover at the parade."}`+"\n"), 0o640)
	must(t, "ingest", "--data", dir, extra)
	code, out, errs := osmarc(t, "", "search", "--data", dir, "zeppelin")
	if code != 0 || !strings.Contains(errs, "the search index holds 8 item(s), the catalog 9: run osmarc reindex") && !strings.Contains(out, "101_2009") {
		t.Errorf("stale index: exit %d, %q, %q", code, out, errs)
	}
	must(t, "reindex", "--data", dir)
	code, out, errs = osmarc(t, "", "search", "--data", dir, "zeppelin")
	if code != 0 || errs != "" || !strings.Contains(out, "facebook/3rd-brigade/101_2009") {
		t.Errorf("after reindex: exit %d, %q, %q", code, out, errs)
	}
}

// --all streams every hit, however many pages they make.
func TestSearchAllMoreThanAPage(t *testing.T) {
	dir := newArchive(t)
	must(t, "ingest", "--data", dir, corpusFile(t, 300))
	must(t, "reindex", "--data", dir)
	page := searchJSON(t, dir, "parade")
	if page.Total <= 2*20 || len(page.Hits) != 20 {
		t.Fatalf("parade: total %d, %d hits on the page: want several pages", page.Total, len(page.Hits))
	}
	out := must(t, "search", "--data", dir, "parade", "--all", "--json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	seen := map[string]bool{}
	for _, l := range lines[:len(lines)-1] {
		var h struct{ Key string }
		if err := json.Unmarshal([]byte(l), &h); err != nil || h.Key == "" || seen[h.Key] {
			t.Fatalf("line %q: %v (or seen twice)", l, err)
		}
		seen[h.Key] = true
	}
	if uint64(len(seen)) != page.Total {
		t.Errorf("--all streamed %d hits, total %d", len(seen), page.Total)
	}
}

// The selection flags are one piece: the same checks and wording for every
// command that takes them, and Filters records what the user set.
func TestSelectionFlags(t *testing.T) {
	build := func(cfg SelectionConfig, args ...string) (*Selection, *cobra.Command) {
		t.Helper()
		cmd := &cobra.Command{Use: "x"}
		sel := newSelection(cmd, "export", cfg)
		if err := cmd.Flags().Parse(args); err != nil {
			t.Fatalf("parse %v: %v", args, err)
		}
		return sel, cmd
	}
	sel, _ := build(SelectionConfig{QueryFlag: true, DefaultSort: "newest"},
		"--account", "a", "--account", "b", "--from", "2024-01", "--to", "2024-03", "--removed", "--query", "parade")
	req, err := sel.Request("")
	if err != nil {
		t.Fatal(err)
	}
	if req.Query != "parade" || !slices.Equal(req.Accounts, []string{"a", "b"}) || !req.Removed || req.Sort != "newest" ||
		req.From.Format(time.DateOnly) != "2024-01-01" || req.To.Format(time.DateOnly) != "2024-04-01" {
		t.Errorf("request = %+v", req)
	}
	if f := sel.Filters(); len(f) != 4 || f["account"] != "a,b" || f["from"] != "2024-01" || f["removed"] != "true" {
		t.Errorf("filters = %v", f)
	}
	if got := filterText(sel.Filters()); got != " --account a,b --from 2024-01 --to 2024-03 --removed" {
		t.Errorf("filterText = %q", got)
	}
	if sel.Empty("") {
		t.Error("a selection with filters is not empty")
	}
	if _, err := sel.Request("other"); err == nil || err.Error() != "export: give the query as an argument or with --query, not both" {
		t.Errorf("query twice: %v", err)
	}
	if s, _ := build(SelectionConfig{}, "--sort", "newest"); !s.Empty("") {
		t.Error("only --sort selects everything")
	}
	if _, cmd := build(SelectionConfig{}); cmd.Flags().Lookup("limit") != nil || cmd.Flags().Lookup("query") != nil {
		t.Error("--limit and --query only when asked for")
	}
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"--to", "2024-13"}, `export: --to: "2024-13" is not a date`},
		{[]string{"--sort", "best"}, `export: --sort: unknown sort "best"`},
		{[]string{"--from", "2025", "--to", "2024"}, "export: --from 2025 is after --to 2024"},
		{[]string{"--limit", "0"}, "export: --limit must be from 1 to"},
		{[]string{"--offset", "-1"}, "export: --offset must not be negative"},
		{[]string{"--query", `"open`}, "export: query: unclosed quote"},
	} {
		s, _ := build(SelectionConfig{Paging: true, QueryFlag: true}, tc.args...)
		if _, err := s.Request(""); err == nil || !strings.HasPrefix(err.Error(), tc.err) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.err)
		}
	}
}

// --hold finds what a legal hold keeps: the items its scope (accounts,
// dates, query) covers, with the search's own query and filters.
func TestSearchByHold(t *testing.T) {
	dir := indexedArchive(t)
	must(t, "hold", "place", "parade-fb", "--data", dir, "--matter", "Parade inquiry", "--reason", "preserve",
		"--account", "facebook/3rd-brigade", "--from", "2024-01-01", "--to", "2024-12-31", "--query", "parade")
	must(t, "hold", "place", "x-all", "--data", dir, "--matter", "X account", "--reason", "preserve", "--account", "x/Brigade3")
	all := hitKeys(searchJSON(t, dir, "--hold", "parade-fb", "--sort", "newest"))
	if want := []string{"facebook/3rd-brigade/101_2002", "facebook/3rd-brigade/101_2001_3001", "facebook/3rd-brigade/101_2001"}; !slices.Equal(all, want) {
		t.Errorf("--hold parade-fb: %v, want %v", all, want)
	}
	if got := hitKeys(searchJSON(t, dir, "wheelchairs", "--hold", "parade-fb")); !slices.Equal(got, []string{"facebook/3rd-brigade/101_2001_3001"}) {
		t.Errorf("a query within a hold: %v", got)
	}
	if r := searchJSON(t, dir, "--hold", "parade-fb", "--hold", "x-all"); r.Total != 5 {
		t.Errorf("either of two holds: %d hits, want 5", r.Total)
	}
	// hold:NAME in a query is the hold's scope too, and combines with
	// the rest of the query.
	if got := hitKeys(searchJSON(t, dir, "hold:parade-fb", "--sort", "newest")); !slices.Equal(got, all) {
		t.Errorf("hold:parade-fb: %v, want %v", got, all)
	}
	if r := searchJSON(t, dir, "hold:parade-fb hold:x-all"); r.Total != 5 {
		t.Errorf("hold:parade-fb hold:x-all: %d hits, want 5", r.Total)
	}
	if got := hitKeys(searchJSON(t, dir, "+hold:parade-fb -wheelchairs", "--sort", "newest")); !slices.Equal(got, []string{all[0], all[2]}) {
		t.Errorf("+hold:parade-fb -wheelchairs: %v", got)
	}
	if code, _, errs := osmarc(t, "", "search", "--data", dir, "parade hold:nonesuch"); code == 0 || !strings.Contains(errs, `hold "nonesuch"`) || strings.Count(errs, "\n") != 1 {
		t.Errorf("unknown hold in a query: exit %d, %q", code, errs)
	}
	code, out, errs := osmarc(t, "", "search", "--data", dir, "--hold", "nonesuch")
	if code != 1 || out != "" || !strings.Contains(errs, `search: --hold: hold "nonesuch"`) || strings.Count(errs, "\n") != 1 {
		t.Errorf("unknown hold: exit %d, %q, %q", code, out, errs)
	}
}

// corpusFile writes n items of archivetest's corpus (seed 7) to a file of
// the test's and returns its path.
func corpusFile(t *testing.T, n int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "corpus.jsonl")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := archivetest.WriteCorpus(f, n, 7); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}
