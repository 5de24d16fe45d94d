package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/stores"
	"github.com/osmarc/osmarc/index"
)

// requestItems adds to testdata/items.jsonl the comments a real request
// meets: personal information of private persons, an office's public
// address, and a draft.
const requestItems = `{"platform":"facebook","account":"3rd-brigade","id":"101_2001_3003","kind":"comment","created_at":"2024-01-16T09:00:00Z","text":"Parade question: call me at (613) 555-0123 or write jane.public@example.org. I live at 42 Elm Street and my SIN is 046 454 286.","author":{"id":"9001","name":"Jane Public"},"parent":"101_2001","thread":"101_2001","lang":"en"}
{"platform":"facebook","account":"3rd-brigade","id":"101_2001_3004","kind":"reply","created_at":"2024-01-16T10:00:00Z","text":"Thank you Jane Public. For the parade, write to info@brigade.example.gov or call 613-555-0100.","author":{"id":"101","handle":"3rd-brigade","name":"3rd Canadian Division Brigade"},"parent":"101_2001_3003","thread":"101_2001","lang":"en"}
{"platform":"facebook","account":"3rd-brigade","id":"101_2003","kind":"post","created_at":"2024-02-20T12:00:00Z","text":"DRAFT parade route, not for release: staging behind the armoury at 0600.","author":{"id":"101","handle":"3rd-brigade"},"lang":"en"}
`

func reindex(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	a, err := archive.Open(ctx, archive.Options{Dir: dir, OpenStore: stores.Open, Command: "test reindex"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ix, err := index.Open(filepath.Join(dir, index.DirName))
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if err := ix.Reindex(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
}

// requestArchive is an archive of testdata/items.jsonl and requestItems,
// indexed.
func requestArchive(t *testing.T) string {
	t.Helper()
	dir := newArchive(t)
	must(t, "ingest", "--data", dir, "../../testdata/items.jsonl")
	extra := filepath.Join(t.TempDir(), "request-items.jsonl")
	os.WriteFile(extra, []byte(requestItems), 0o640)
	must(t, "ingest", "--data", dir, extra)
	reindex(t, dir)
	return dir
}

func requestJSON(t *testing.T, dir, id string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(must(t, "request", "show", "--json", "--data", dir, id)), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// checkBag verifies a BagIt bag as an independent reader: each manifest
// line's file hashes to what it says, every payload file is listed, and
// Payload-Oxum adds up.
func checkBag(t *testing.T, bag string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(bag, "bagit.txt"))
	if err != nil || string(b) != "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n" {
		t.Fatalf("bagit.txt: %q %v", b, err)
	}
	listed := map[string]bool{}
	for _, m := range []string{"manifest-sha256.txt", "tagmanifest-sha256.txt"} {
		f, err := os.Open(filepath.Join(bag, m))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			sum, name, ok := strings.Cut(sc.Text(), " ")
			name = strings.TrimLeft(name, " ")
			if !ok || len(sum) != 64 {
				t.Fatalf("%s: line %q", m, sc.Text())
			}
			g, err := os.Open(filepath.Join(bag, filepath.FromSlash(name)))
			if err != nil {
				t.Fatalf("%s names %s: %v", m, name, err)
			}
			h := sha256.New()
			io.Copy(h, g)
			g.Close()
			if got := hex.EncodeToString(h.Sum(nil)); got != sum {
				t.Fatalf("%s: %s hashes to %s, the manifest says %s", m, name, got, sum)
			}
			listed[name] = true
		}
		f.Close()
	}
	var octets, files int
	filepath.WalkDir(filepath.Join(bag, "data"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(bag, p)
			if !listed[filepath.ToSlash(rel)] {
				t.Errorf("%s is not in the manifest", rel)
			}
			fi, _ := d.Info()
			octets += int(fi.Size())
			files++
		}
		return nil
	})
	for _, tag := range []string{"bagit.txt", "bag-info.txt", "manifest-sha256.txt"} {
		if !listed[tag] {
			t.Errorf("tagmanifest does not cover %s", tag)
		}
	}
	info, _ := os.ReadFile(filepath.Join(bag, "bag-info.txt"))
	if want := "Payload-Oxum: " + itoa(octets) + "." + itoa(files) + "\n"; !strings.Contains(string(info), want) {
		t.Errorf("bag-info.txt lacks %q:\n%s", want, info)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// grepTree returns the files under dir holding any of the patterns,
// ignoring case.
func grepTree(t *testing.T, dir string, patterns ...string) []string {
	t.Helper()
	var hits []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(p)
		low := strings.ToLower(string(b))
		for _, pat := range patterns {
			if strings.Contains(low, strings.ToLower(pat)) {
				hits = append(hits, p+": "+pat)
			}
		}
		return nil
	})
	return hits
}

func TestRequestWorkflow(t *testing.T) {
	dir := requestArchive(t)
	out := must(t, "request", "open", "--data", dir, "--requester", "Pat Reporter, The Gazette", "--received", "2024-03-01",
		"--law", "us-foia", "--description", "All comments on the Brigade's Facebook page mentioning the parade, January to March 2024")
	if !strings.Contains(out, "Opened REQ-2024-0001") || !strings.Contains(out, "due 2024-03-29") {
		t.Fatalf("open: %s", out)
	}
	const req = "REQ-2024-0001"

	// Days left, with the clock given.
	if out := must(t, "request", "list", "--data", dir, "--as-of", "2024-03-25"); !strings.Contains(out, "4 days left (4 business)") {
		t.Errorf("list before the due date:\n%s", out)
	}
	if out := must(t, "request", "list", "--data", dir, "--as-of", "2024-04-02"); !strings.Contains(out, "OVERDUE by 4 days") {
		t.Errorf("list after the due date:\n%s", out)
	}
	if out := must(t, "request", "list", "--data", dir, "--as-of", "2024-03-29"); !strings.Contains(out, "due today") {
		t.Errorf("list on the due date:\n%s", out)
	}

	// Scope: a saved search, its hits added.
	out = must(t, "request", "search", "--data", dir, req, "parade", "--platform", "facebook", "--from", "2024-01", "--to", "2024-03")
	if !strings.Contains(out, "Saved search 1") {
		t.Fatalf("search: %s", out)
	}
	m := requestJSON(t, dir, req)
	s := m["searches"].([]any)[0].(map[string]any)
	if s["query"] != "parade" || s["filters"].(map[string]any)["platform"] != "facebook" || s["by"] != "records.officer@example.gov" || s["run_at"] == "" {
		t.Fatalf("saved search: %v", s)
	}
	hits := int(s["hits"].(float64))
	if hits < 4 {
		t.Fatalf("search found %d", hits)
	}
	must(t, "request", "add", "--data", dir, req, "--search", "1")
	must(t, "request", "add", "--data", dir, req, "x/Brigade3/1750000000000000001")
	must(t, "request", "remove", "--data", dir, req, "x/Brigade3/1750000000000000001", "--reason", "a link to a published report, not responsive")
	m = requestJSON(t, dir, req)
	if n := len(m["items"].([]any)); n != hits {
		t.Fatalf("items %d, want %d", n, hits)
	}
	// A saved search within a legal hold's scope.
	must(t, "hold", "place", "x-hold", "--data", dir, "--matter", "X inquiry", "--reason", "preserve", "--account", "x/Brigade3")
	must(t, "request", "search", "--data", dir, req, "", "--hold", "x-hold")
	m = requestJSON(t, dir, req)
	if s := m["searches"].([]any)[1].(map[string]any); s["hits"] != 2.0 || s["filters"].(map[string]any)["hold"] != "x-hold" {
		t.Errorf("search within a hold: %v", s)
	}

	// Withhold the draft; redact a private commenter's name; keep the
	// office's public address.
	must(t, "request", "withhold", "--data", dir, req, "facebook/3rd-brigade/101_2003", "--exemption", "(b)(5)", "--reason", "draft route, deliberative")
	must(t, "request", "redact", "--data", dir, req, "facebook/3rd-brigade/101_2001_3001", "--text", "Jane Public", "--exemption", "b6", "--reason", "private commenter's name")
	must(t, "request", "redact", "--data", dir, req, "facebook/3rd-brigade/101_2001_3002", "--span", "5:10", "--reason", "test of a span")
	must(t, "request", "keep", "--data", dir, req, "info@brigade.example.gov", "--reason", "the Brigade's public contact address")
	pii := must(t, "request", "pii", "--data", dir, req)
	for _, want := range []string{"phone", "email", "address", "sin"} {
		if !strings.Contains(pii, want) {
			t.Errorf("request pii does not flag %s:\n%s", want, pii)
		}
	}

	// Produce.
	st := statsJSON(t, dir)
	bag := filepath.Join(t.TempDir(), "production")
	out = must(t, "request", "produce", "--data", dir, req, "--out", bag, "--threads")
	if !strings.Contains(out, "Produced "+req) {
		t.Fatalf("produce: %s", out)
	}
	checkBag(t, bag)
	for _, f := range []string{"items.jsonl", "withholding-log.csv", "withholding-log.json", "redaction-log.csv", "redaction-log.json", "summary.json"} {
		if _, err := os.Stat(filepath.Join(bag, "data", f)); err != nil {
			t.Errorf("production lacks %s", f)
		}
	}
	// No trace of what was redacted, in any file, in any case.
	secrets := []string{"Jane Public", "(613) 555-0123", "555-0123", "jane.public@example.org", "42 Elm Street", "046 454 286", "046454286", "5550123"}
	if leaks := grepTree(t, bag, secrets...); len(leaks) > 0 {
		t.Errorf("redacted text in the production:\n%s", strings.Join(leaks, "\n"))
	}
	// What was kept is there; the withheld draft is not.
	if got := grepTree(t, filepath.Join(bag, "data", "items.jsonl"), "info@brigade.example.gov"); len(got) != 1 {
		t.Errorf("kept address missing from items.jsonl")
	}
	if got := grepTree(t, bag, "staging behind the armoury"); len(got) != 0 {
		t.Errorf("withheld item produced: %v", got)
	}
	// The produced items: responsive and thread, latest versions.
	b, _ := os.ReadFile(filepath.Join(bag, "data", "items.jsonl"))
	roles := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var pi map[string]any
		if err := json.Unmarshal([]byte(l), &pi); err != nil {
			t.Fatal(err)
		}
		roles[pi["key"].(string)] = pi["role"].(string)
		if pi["redacted"] == true && pi["archive_version"] != nil {
			t.Errorf("%s: redacted item carries its archive digest", pi["key"])
		}
	}
	if roles["facebook/3rd-brigade/101_2001_3003"] != "responsive" || roles["facebook/3rd-brigade/101_2003"] != "" {
		t.Errorf("roles: %v", roles)
	}
	// The withholding log, by an independent CSV reader.
	wf, _ := os.Open(filepath.Join(bag, "data", "withholding-log.csv"))
	rows, err := csv.NewReader(wf).ReadAll()
	wf.Close()
	if err != nil || len(rows) != 2 || rows[1][0] != "facebook/3rd-brigade/101_2003" || rows[1][5] != "foia-b5" {
		t.Errorf("withholding log: %v %v", rows, err)
	}
	var rlog []map[string]any
	rb, _ := os.ReadFile(filepath.Join(bag, "data", "redaction-log.json"))
	json.Unmarshal(rb, &rlog)
	kinds := map[string]bool{}
	for _, e := range rlog {
		kinds[e["kind"].(string)] = true
		if e["decided_by"] == "" {
			t.Errorf("redaction without who decided: %v", e)
		}
	}
	for _, k := range []string{"manual", "span", "phone", "email", "address", "sin"} {
		if !kinds[k] {
			t.Errorf("redaction log has no %s entry: %s", k, rb)
		}
	}
	var sum map[string]any
	sb, _ := os.ReadFile(filepath.Join(bag, "data", "summary.json"))
	json.Unmarshal(sb, &sum)
	if sum["journal_head"].(map[string]any)["hash"] != st["journal_head"] {
		t.Errorf("summary journal head %v, stats said %v", sum["journal_head"], st["journal_head"])
	}
	if c := sum["counts"].(map[string]any); c["withheld"] != 1.0 || c["produced"].(float64) < 4 {
		t.Errorf("counts: %v", c)
	}
	// The archived originals never change.
	var show map[string]any
	json.Unmarshal([]byte(must(t, "show", "--json", "--data", dir, "facebook/3rd-brigade/101_2001_3003")), &show)
	v := show["versions"].([]any)[0].(map[string]any)["item"].(map[string]any)
	if !strings.Contains(v["text"].(string), "(613) 555-0123") || v["author"].(map[string]any)["name"] != "Jane Public" {
		t.Errorf("original changed: %v", v)
	}
	m = requestJSON(t, dir, req)
	if p := m["productions"].([]any); len(p) != 1 || p[0].(map[string]any)["journal_head"] != st["journal_head"] {
		t.Errorf("production not recorded: %v", p)
	}

	// Close: a request.closed event, out of the default list.
	must(t, "request", "close", "--data", dir, req, "--reason", "answered")
	if out := must(t, "request", "list", "--data", dir); !strings.Contains(out, "0 request(s)") {
		t.Errorf("closed request listed:\n%s", out)
	}
	if out := must(t, "request", "list", "--all", "--data", dir); !strings.Contains(out, "closed 20") {
		t.Errorf("list --all:\n%s", out)
	}
	if m := requestJSON(t, dir, req); m["status"] != "closed" || m["close_reason"] != "answered" {
		t.Errorf("closed: %v", m["status"])
	}
	if code, _, errs := osmarc(t, "", "request", "add", "--data", dir, req, "x/Brigade3/1750000000000000001"); code == 0 || !strings.Contains(errs, "closed") {
		t.Errorf("a closed request changed: %s", errs)
	}
	// Every step is a journal event.
	var types []string
	ev := regexp.MustCompile(`"type":"(request\.[a-z_]+)"`)
	filepath.WalkDir(filepath.Join(dir, "store", "journal"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			if mm := ev.FindSubmatch(b); mm != nil {
				types = append(types, string(mm[1]))
			}
		}
		return nil
	})
	for _, want := range []string{"request.opened", "request.search", "request.items_added", "request.item_removed", "request.withheld", "request.redacted", "request.produced", "request.closed"} {
		if !strings.Contains(strings.Join(types, " "), want) {
			t.Errorf("no %s event in the journal: %v", want, types)
		}
	}
}

func TestRequestBadInput(t *testing.T) {
	dir := requestArchive(t)
	must(t, "request", "open", "--data", dir, "--requester", "Pat", "--received", "2024-03-01", "--due", "2024-03-15", "--description", "parade")
	const req = "REQ-2024-0001"
	must(t, "request", "add", "--data", dir, req, "facebook/3rd-brigade/101_2001")
	existing := t.TempDir()
	journal := filepath.Join(dir, "store", "journal")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"request", "show", "REQ-2099-0001"}, "unknown request"},
		{[]string{"request", "add", "REQ-2099-0001", "facebook/3rd-brigade/101_2001"}, "unknown request"},
		{[]string{"request", "open", "--requester", "P", "--received", "2024-03-01", "--law", "nowhere", "--description", "d"}, "unknown law"},
		{[]string{"request", "open", "--requester", "P", "--received", "2024-02-30", "--law", "foia", "--description", "d"}, "not a date"},
		{[]string{"request", "open", "--requester", "P", "--received", "March 1st", "--due", "2024-03-20", "--description", "d"}, "not a date"},
		{[]string{"request", "open", "--requester", "P", "--received", "2024-03-01", "--due", "2024-02-01", "--description", "d"}, "before received"},
		{[]string{"request", "open", "--requester", "P", "--received", "2024-03-01", "--law", "foia", "--days", "30", "--description", "d"}, "by statute"},
		{[]string{"request", "open", "--received", "2024-03-01", "--law", "foia", "--description", "d"}, "--requester is required"},
		{[]string{"request", "withhold", req, "facebook/3rd-brigade/101_2001", "--exemption", "b99", "--reason", "r"}, "unknown exemption code"},
		{[]string{"request", "withhold", req, "x/Brigade3/1750000000000000001", "--exemption", "b6", "--reason", "r"}, "not in the request"},
		{[]string{"request", "withhold", req, "facebook/3rd-brigade/101_2001", "--exemption", "b6"}, "--reason is required"},
		{[]string{"request", "add", req, "facebook/3rd-brigade/nope"}, "not found"},
		{[]string{"request", "redact", req, "facebook/3rd-brigade/101_2001", "--text", "not in it", "--reason", "r"}, "is not in any field"},
		{[]string{"request", "redact", req, "facebook/3rd-brigade/101_2001", "--text", "ab", "--reason", "r"}, "at least 3 characters"},
		{[]string{"request", "redact", req, "facebook/3rd-brigade/101_2001", "--span", "5:1", "--reason", "r"}, "START < END"},
		{[]string{"request", "redact", req, "facebook/3rd-brigade/101_2001", "--span", "0:9999", "--reason", "r"}, "past the end"},
		{[]string{"request", "remove", req, "x/Brigade3/1750000000000000001", "--reason", "r"}, "not in the request"},
		{[]string{"request", "add", req, "--search", "7"}, "no saved search 7"},
		{[]string{"request", "produce", req, "--out", existing}, "already exists"},
		{[]string{"request", "search", req, `"parade`, "--platform", "facebook"}, "query"},
		{[]string{"request", "search", req, "parade", "--from", "someday"}, "--from"},
		{[]string{"request", "open", "--requester", "P", "--received", "2024-03-01", "--law", "foia", "--description", "d", "--presets", "/nonexistent.json"}, "nonexistent.json"},
	} {
		before := treeDigest(t, journal)
		code, out, errs := osmarc(t, "", append(tc.args, "--data", dir)...)
		if code == 0 {
			t.Errorf("%v: succeeded:\n%s", tc.args, out)
			continue
		}
		if lines := strings.Split(strings.TrimSpace(errs), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "osmarc: ") || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: want one line with %q, got %q", tc.args, tc.want, errs)
		}
		after := treeDigest(t, journal)
		if len(after) != len(before) {
			t.Errorf("%v: the journal changed (%d → %d events)", tc.args, len(before), len(after))
		}
	}
	if ents, _ := os.ReadDir(existing); len(ents) != 0 {
		t.Errorf("produce wrote into an existing directory: %v", ents)
	}
}
