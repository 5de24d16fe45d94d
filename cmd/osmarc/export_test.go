package main

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/stores"
	"github.com/osmarc/osmarc/export/exporttest"
)

// exportArchive is the export fixture in a data directory the command
// opens.
func exportArchive(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	f, err := exporttest.BuildIn(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	t.Setenv("OSMARC_ACTOR", "legal.counsel@example.gov")
	// The index with records management's fields (holds, classes).
	must(t, "reindex", "--data", dir)
	return dir
}

// journalEvents returns the journal's events of one type.
func journalEvents(t *testing.T, dir, typ string) []map[string]any {
	t.Helper()
	a, err := archive.Open(context.Background(), archive.Options{Dir: dir, ReadOnly: true, OpenStore: stores.Open})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var out []map[string]any
	for ev, err := range a.Events(1) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Type == typ {
			var m map[string]any
			json.Unmarshal(ev.Data, &m)
			m["actor"] = ev.Actor
			out = append(out, m)
		}
	}
	return out
}

func independentBagCheck(t *testing.T, bag string) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 (the independent BagIt validator's interpreter) is not installed: %v", err)
	}
	out, err := exec.Command(py, "../../export/bagit/testdata/validate_bag.py", bag).CombinedOutput()
	if err != nil {
		t.Fatalf("independent validator refuses %s: %v\n%s", bag, err, out)
	}
}

func TestExportBagitCommand(t *testing.T) {
	dir := exportArchive(t)
	bag := filepath.Join(t.TempDir(), "parade")
	out := must(t, "export", "--data", dir, "--format", "bagit", "--out", bag, "--account", "3rd-brigade", "--platform", "facebook",
		"--hold", exporttest.Hold, "--kind", "reply", "--threads", "--media", "--versions", "all", "--organization", "3rd Brigade Records Office")
	if !strings.Contains(out, "Exported 5 item(s), 6 version(s) as bagit") {
		t.Fatalf("export: %s", out)
	}
	if out := must(t, "export", "verify", bag); !strings.Contains(out, "is a valid BagIt 1.0 bag") {
		t.Errorf("verify: %s", out)
	}
	independentBagCheck(t, bag)
	info, _ := os.ReadFile(filepath.Join(bag, "bag-info.txt"))
	for _, want := range []string{"Source-Organization: 3rd Brigade Records Office", "External-Identifier: " + exporttest.Hold,
		"Internal-Sender-Description: --account 3rd-brigade; --hold " + exporttest.Hold + "; --kind reply; --platform facebook; with their threads; all versions; with media"} {
		if !strings.Contains(string(info), want) {
			t.Errorf("bag-info.txt lacks %q:\n%s", want, info)
		}
	}
	// Records management reaches the export.
	rows := readCSV(t, filepath.Join(bag, "data", "index.csv"))
	if rows[1][11] != "record" || rows[1][12] != exporttest.Schedule || rows[1][13] != exporttest.Hold {
		t.Errorf("schedule and holds: %v", rows[1])
	}
	// The export is a journal event naming who, what and its digest.
	evs := journalEvents(t, dir, EventExportCreated)
	tm, _ := os.ReadFile(filepath.Join(bag, "tagmanifest-sha256.txt"))
	sum := sha256.Sum256(tm)
	if len(evs) != 1 || evs[0]["sha256"] != hex.EncodeToString(sum[:]) || evs[0]["actor"] != "legal.counsel@example.gov" || evs[0]["out"] != bag {
		t.Errorf("journal: %v", evs)
	}
	// The export's own event is not in the bag's journal head: the head
	// is the state exported.
	var custody map[string]any
	b, _ := os.ReadFile(filepath.Join(bag, "data", "chain-of-custody.json"))
	json.Unmarshal(b, &custody)
	if custody["journal_head"].(map[string]any)["seq"].(float64) >= evs[0]["journal_head"].(map[string]any)["seq"].(float64)+1 {
		t.Errorf("custody head %v", custody["journal_head"])
	}

	// A damaged bag: verify names the problem and exits 1.
	os.WriteFile(filepath.Join(bag, "data", "index.csv"), []byte("changed"), 0o640)
	code, out, errs := osmarc(t, "", "export", "verify", bag)
	if code != 1 || !strings.Contains(out, "data/index.csv: sha256 is") || !strings.Contains(errs, "is not a valid bag") {
		t.Errorf("verify damaged: %d %s %s", code, out, errs)
	}
}

func readCSV(t *testing.T, p string) [][]string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestExportCSVCommand(t *testing.T) {
	dir := exportArchive(t)
	out := filepath.Join(t.TempDir(), "parade.csv")
	must(t, "export", "--data", dir, "--format", "csv", "--out", out, "--query", "parade", "--excel")
	b, _ := os.ReadFile(out)
	if !strings.HasPrefix(string(b), "\ufeffkey,") {
		t.Errorf("no BOM")
	}
	rows := readCSV(t, out)
	keys := map[string]bool{}
	for _, r := range rows[1:] {
		keys[strings.TrimPrefix(r[0], "\ufeff")] = true
	}
	for _, k := range []string{"facebook/3rd-brigade/p1", "facebook/3rd-brigade/c1", "mastodon/brigade@social.example/m1"} {
		if !keys[k] {
			t.Errorf("%s missing from %v", k, keys)
		}
	}
	if keys["facebook/3rd-brigade/p2"] || keys["facebook/3rd-brigade/c4"] {
		t.Errorf("unselected items exported: %v", keys)
	}
	// --hold: the items the hold's scope covers (the Mastodon account is
	// outside it).
	held := filepath.Join(t.TempDir(), "held.csv")
	must(t, "export", "--data", dir, "--format", "csv", "--out", held, "--hold", exporttest.Hold)
	hrows := readCSV(t, held)
	if len(hrows) != 10 {
		t.Errorf("--hold: %d rows", len(hrows))
	}
	for _, r := range hrows[1:] {
		if !strings.HasPrefix(r[0], "facebook/3rd-brigade/") || r[13] != exporttest.Hold {
			t.Errorf("--hold exported %v", r[:1])
		}
	}
	jl := filepath.Join(t.TempDir(), "all.jsonl")
	must(t, "export", "--data", dir, "--format", "jsonl", "--out", jl)
	if b, _ := os.ReadFile(jl); strings.Count(string(b), "\n") != 10 {
		t.Errorf("jsonl of every item: %d lines", strings.Count(string(b), "\n"))
	}
}

// Bad input: one clear line, nothing written, nothing archived changed.
func TestExportBadInput(t *testing.T) {
	dir := exportArchive(t)
	tmp := t.TempDir()
	existing := filepath.Join(tmp, "existing.csv")
	os.WriteFile(existing, []byte("mine"), 0o640)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "zip", "--out", filepath.Join(tmp, "x")}, `unknown export format "zip" (formats: bagit, warc, csv, jsonl, loadfile, pdf)`},
		{[]string{"--out", filepath.Join(tmp, "x")}, "--format is required"},
		{[]string{"--format", "csv"}, "--out PATH is required"},
		{[]string{"--format", "csv", "--out", existing}, "already exists (give --force to replace it)"},
		{[]string{"--format", "csv", "--out", filepath.Join(tmp, "no", "such", "dir.csv")}, "cannot write"},
		{[]string{"--format", "csv", "--out", filepath.Join(tmp, "x.csv"), "--query", "nothingmatchesthis"}, "the selection is empty"},
		{[]string{"--format", "csv", "--out", filepath.Join(tmp, "x.csv"), "--redact"}, "--redact applies a request's redactions: give --request R"},
		{[]string{"--format", "csv", "--out", filepath.Join(tmp, "x.csv"), "--versions", "some"}, `--versions "some": want latest or all`},
		{[]string{"--format", "csv", "--out", filepath.Join(tmp, "x.csv"), "--from", "2024-13"}, "export: --from"},
		{[]string{"--format", "bagit", "--out", filepath.Join(tmp, "x"), "--excel"}, "--excel is for --format csv"},
		{[]string{"--format", "csv", "--out", filepath.Join(tmp, "x.csv"), "--request", "REQ-2099-0001"}, "REQ-2099-0001"},
		{[]string{"--format", "csv", "--out", filepath.Join(tmp, "x.csv"), "--hold", "no-such-matter"}, `--hold: hold "no-such-matter": not found`},
	} {
		code, _, errs := osmarc(t, "", append([]string{"export", "--data", dir}, tc.args...)...)
		if code == 0 || !strings.Contains(errs, tc.want) || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
			t.Errorf("%v: exit %d, %q, want %q", tc.args, code, errs, tc.want)
		}
	}
	if b, _ := os.ReadFile(existing); string(b) != "mine" {
		t.Error("existing file changed")
	}
	ents, _ := os.ReadDir(tmp)
	if len(ents) != 1 {
		t.Errorf("bad input left %v", ents)
	}
	// --force replaces, once the new export is complete.
	must(t, "export", "--data", dir, "--format", "csv", "--out", existing, "--force", "--kind", "post")
	if rows := readCSV(t, existing); len(rows) != 5 {
		t.Errorf("forced export: %d rows", len(rows))
	}
}

// A redacted export of a request holds no trace of the redacted text, in
// any file, and says where redactions were made.
func TestExportRedactedRequest(t *testing.T) {
	dir := exportArchive(t)
	out := must(t, "request", "open", "--data", dir, "--requester", "Pat Reporter", "--received", "2024-06-03", "--law", "us-foia", "--description", "Comments on the parade")
	if !strings.Contains(out, "Opened REQ-2024-0001") {
		t.Fatalf("open: %s", out)
	}
	const req = "REQ-2024-0001"
	must(t, "request", "add", "--data", dir, req, "facebook/3rd-brigade/c1", "facebook/3rd-brigade/c4")
	must(t, "request", "withhold", "--data", dir, req, "facebook/3rd-brigade/c4", "--exemption", "(b)(5)", "--reason", "deliberative")
	must(t, "request", "redact", "--data", dir, req, "facebook/3rd-brigade/c1", "--text", "Jane Public", "--exemption", "b6", "--reason", "private commenter")
	bag := filepath.Join(t.TempDir(), "production")
	must(t, "export", "--data", dir, "--format", "bagit", "--out", bag, "--request", req, "--redact", "--threads")
	must(t, "export", "verify", bag)
	independentBagCheck(t, bag)
	if leaks := grepTree(t, bag, "Jane Public", "555-0123", "(613) 555-0123"); len(leaks) > 0 {
		t.Errorf("redacted text in the export:\n%s", strings.Join(leaks, "\n"))
	}
	if got := grepTree(t, bag, "-5 degrees"); len(got) > 0 {
		t.Errorf("withheld item exported: %v", got)
	}
	if _, err := os.Stat(filepath.Join(bag, "data", "raw")); !os.IsNotExist(err) {
		t.Errorf("raw platform JSON in a redacted export")
	}
	red := readCSV(t, filepath.Join(bag, "data", "redaction-log.csv"))
	wh := readCSV(t, filepath.Join(bag, "data", "withholding-log.csv"))
	if len(red) < 2 || len(wh) != 2 || wh[1][0] != "facebook/3rd-brigade/c4" {
		t.Errorf("logs: %v %v", red, wh)
	}
	// The thread came along, redacted too, and the original is unchanged.
	if b, err := os.ReadFile(filepath.Join(bag, "data", "items", "items-00001.jsonl")); err != nil || !strings.Contains(string(b), `"key":"facebook/3rd-brigade/p1"`) {
		t.Errorf("thread not exported: %v", err)
	}
	var show map[string]any
	json.Unmarshal([]byte(must(t, "show", "--json", "--data", dir, "facebook/3rd-brigade/c1")), &show)
	if v := show["versions"].([]any)[0].(map[string]any)["item"].(map[string]any); v["author"].(map[string]any)["name"] != "Jane Public" {
		t.Errorf("original changed: %v", v)
	}
}

// A production names a query hold only on the items its query matches:
// request produce evaluates holds' queries on the index as osmarc export
// does (before, the hold's scope alone named it on every item of the
// account).
func TestProduceQueryHold(t *testing.T) {
	dir := exportArchive(t)
	must(t, "hold", "place", "armoury-matter", "--data", dir, "--matter", "Armoury access", "--reason", "Claim expected",
		"--account", exporttest.Account, "--query", "armoury")
	must(t, "request", "open", "--data", dir, "--requester", "Pat Reporter", "--received", "2024-06-03", "--law", "us-foia", "--description", "Parade")
	const req = "REQ-2024-0001"
	must(t, "request", "add", "--data", dir, req, "facebook/3rd-brigade/c1", "facebook/3rd-brigade/p1")
	bag := filepath.Join(t.TempDir(), "production")
	must(t, "request", "produce", "--data", dir, req, "--out", bag)
	rows := readCSV(t, filepath.Join(bag, "data", "index.csv"))
	col := slices.Index(rows[0], "holds")
	if col < 0 {
		t.Fatalf("index.csv has no holds column: %v", rows[0])
	}
	seen := map[string]string{}
	for _, r := range rows[1:] {
		seen[r[0]] = r[col]
	}
	if h := seen["facebook/3rd-brigade/c1"]; !strings.Contains(h, "armoury-matter") {
		t.Errorf("c1 (mentions the armoury) holds %q, want armoury-matter", h)
	}
	if h, ok := seen["facebook/3rd-brigade/p1"]; !ok || strings.Contains(h, "armoury-matter") {
		t.Errorf("p1 (does not mention the armoury) holds %q (listed %v), want no armoury-matter", h, ok)
	}
}

// A large export's thread pages: each account's threads share at most
// 256 pages (the first byte of their key's SHA-256), every item's
// thread link names a page that holds its thread's section, every item
// is in its thread's section and in no other, and the bag validates.
func TestExportBagitThreadPages(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	must(t, "init", "--data", dir)
	must(t, "ingest", "--data", dir, corpusFile(t, 3000))
	bag := filepath.Join(t.TempDir(), "bag")
	must(t, "export", "--data", dir, "--format", "bagit", "--out", bag)
	independentBagCheck(t, bag)
	rows := readCSV(t, filepath.Join(bag, "data", "index.csv"))
	col := slices.Index(rows[0], "thread_html")
	threadCol := slices.Index(rows[0], "thread")
	if col < 0 || threadCol < 0 || len(rows) != 3001 {
		t.Fatalf("index.csv: %d rows, header %v", len(rows), rows[0])
	}
	want := map[string]map[string]bool{} // page → item keys on it
	threads := map[string]string{}       // thread key → its link
	for _, r := range rows[1:] {
		page, frag, ok := strings.Cut(r[col], "#")
		if !ok || frag != "thread-"+r[threadCol] {
			t.Fatalf("item %s: thread link %q", r[0], r[col])
		}
		if l, seen := threads[r[threadCol]]; seen && l != r[col] {
			t.Fatalf("thread %s linked as %s and %s", r[threadCol], l, r[col])
		}
		threads[r[threadCol]] = r[col]
		if want[page] == nil {
			want[page] = map[string]bool{}
		}
		want[page][r[0]] = true
	}
	pages, _ := filepath.Glob(filepath.Join(bag, "data", "threads", "*", "*", "*.html"))
	if len(pages) != len(want) || len(pages) >= len(threads) || len(pages) > 6*256 {
		t.Fatalf("%d pages for %d threads (%d linked)", len(pages), len(threads), len(want))
	}
	article := regexp.MustCompile(`<article id="([^"]+)"`)
	section := regexp.MustCompile(`<section id="thread-([^"]+)">`)
	several := 0
	for page, keys := range want {
		b, err := os.ReadFile(filepath.Join(bag, "data", filepath.FromSlash(page)))
		if err != nil {
			t.Fatal(err)
		}
		secs := section.FindAllStringSubmatchIndex(string(b), -1)
		if len(secs) > 1 {
			several++
		}
		got := map[string]bool{}
		for i, s := range secs {
			end := len(b)
			if i+1 < len(secs) {
				end = secs[i+1][0]
			}
			th := string(b[s[2]:s[3]])
			if !strings.HasPrefix(threads[th], page+"#") {
				t.Errorf("%s holds thread %s, linked as %s", page, th, threads[th])
			}
			for _, m := range article.FindAllSubmatch(b[s[1]:end], -1) {
				if got[string(m[1])] {
					t.Errorf("%s shows %s twice", page, m[1])
				}
				got[string(m[1])] = true
			}
		}
		if len(got) != len(keys) {
			t.Errorf("%s shows %d items, index.csv links %d to it", page, len(got), len(keys))
		}
		for k := range keys {
			if !got[k] {
				t.Errorf("%s lacks %s", page, k)
			}
		}
	}
	if several == 0 {
		t.Error("no page holds several threads: the test shows nothing")
	}
}
