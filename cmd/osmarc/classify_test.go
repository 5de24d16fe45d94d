package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestClassificationCommands: rules in the search language classify what
// search then filters by, show and rule test explain it, a person's
// classification outranks rules until undone, and disposition follows the
// classes' schedules, down to a transfer package in BagIt.
func TestClassificationCommands(t *testing.T) {
	dir := newArchive(t)
	must(t, "schedule", "presets", "--add", "--data", dir)
	must(t, "schedule", "add", "official-posts", "--data", dir, "--title", "Official posts", "--authority", "Agency schedule item 1 (example)",
		"--retain", "1y", "--cutoff", "calendar-year", "--action", "transfer")
	must(t, "account", "add", "--data", dir, "--platform", "facebook", "--handle", "3rd-brigade", "--schedule", "grs-6.4-020")
	must(t, "ingest", "--data", dir, "../../testdata/items.jsonl")

	// Rules need the index.
	os.RemoveAll(filepath.Join(dir, "index"))
	if code, _, errs := osmarc(t, "", "rule", "add", "--data", dir, "--match", "+kind:comment", "--class", "transitory"); code == 0 || !strings.Contains(errs, "osmarc reindex") {
		t.Fatalf("a rule without an index: exit %d %q", code, errs)
	}
	must(t, "reindex", "--data", dir)
	events := func() float64 { return statsJSON(t, dir)["events"].(float64) }

	// Bad rules: one line each, nothing recorded.
	n := events()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--match", `"road closure`, "--class", "record"}, "unclosed quote"},
		{[]string{"--match", "platfrom:x", "--class", "record"}, `unknown field "platfrom"`},
		{[]string{"--match", "class:record", "--class", "record"}, "cannot match on class:"},
		{[]string{"--match", "kind:post", "--class", "keeper"}, `class "keeper"`},
		{[]string{"--match", "kind:post", "--class", "record", "--schedule", "nope"}, `schedule "nope": not found`},
		{[]string{"--match", "kind:post", "--class", "record", "--exemption", "b99"}, `exemption "b99"`},
	} {
		code, _, errs := osmarc(t, "", append([]string{"rule", "add", "--data", dir}, tc.args...)...)
		if code == 0 || !strings.Contains(errs, tc.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("rule add %v: exit %d %q, want one line with %q", tc.args, code, errs, tc.want)
		}
	}
	if events() != n {
		t.Fatalf("bad rules wrote %v event(s)", events()-n)
	}
	// The organisation's own exemption codes (its request presets file)
	// serve rules and decisions as they serve requests.
	custom := `{"exemptions": [{"code": "on-fippa-21", "title": "Personal privacy (example)", "jurisdiction": "Ontario", "category": "personal-information"}]}`
	if err := os.WriteFile(filepath.Join(dir, PresetsFile), []byte(custom), 0o600); err != nil {
		t.Fatal(err)
	}
	out := must(t, "classify", "--data", dir, "facebook/3rd-brigade/101_2001", "--class", "record", "--exemption", "on-fippa-21", "--reason", "names a private person")
	if !strings.Contains(out, "on-fippa-21") {
		t.Fatalf("classify with the organisation's exemption code:\n%s", out)
	}
	must(t, "classify", "--data", dir, "facebook/3rd-brigade/101_2001", "--undo", "--reason", "checked the custom code")
	if err := os.Remove(filepath.Join(dir, PresetsFile)); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := osmarc(t, "", "classify", "--data", dir, "facebook/3rd-brigade/101_2001", "--class", "record", "--exemption", "on-fippa-21", "--reason", "x"); code == 0 || !strings.Contains(errs, "on-fippa-21") {
		t.Fatalf("an unknown code once the presets file is gone: exit %d %q", code, errs)
	}
	n = events()

	out = must(t, "rule", "add", "--data", dir, "--match", "+platform:facebook +kind:post +origin:account", "--class", "record", "--schedule", "official-posts",
		"--reason", "official posts are permanent")
	if !strings.Contains(out, "Added rule r1 at position 1") || !strings.Contains(out, "2 changed classification") {
		t.Fatalf("rule add:\n%s", out)
	}
	// The example: in a rule every clause is required, so this
	// means Facebook comments (not every Facebook item and every comment).
	code, out, errs := osmarc(t, "", "rule", "add", "--data", dir, "--match", "platform:facebook kind:comment", "--class", "transitory",
		"--schedule", "grs-5.2-010", "--exemption", "pii", "--json")
	var added struct {
		Rule struct {
			Semantics int    `json:"semantics"`
			Query     string `json:"query"`
		} `json:"rule"`
		Change struct {
			Reclassified int `json:"reclassified"`
		} `json:"change"`
	}
	json.Unmarshal([]byte(out), &added)
	if code != 0 || errs != "" || added.Rule.Semantics != 2 || added.Rule.Query != "+platform:facebook +kind:comment" || added.Change.Reclassified != 1 {
		t.Fatalf("rule add platform:facebook kind:comment: %d %q %q", code, out, errs)
	}
	if events() != n+2 {
		t.Fatalf("two rule changes wrote %v events", events()-n)
	}
	// search filters by what the rules decided.
	var res struct {
		Total int `json:"total"`
		Hits  []struct {
			Key   string `json:"key"`
			Class string `json:"class"`
		} `json:"hits"`
	}
	json.Unmarshal([]byte(must(t, "search", "--data", dir, "--class", "transitory", "--json")), &res)
	if res.Total != 1 || res.Hits[0].Key != "facebook/3rd-brigade/101_2001_3001" { // the one Facebook comment; not the reply, not X's reply
		t.Fatalf("search --class transitory after platform:facebook kind:comment: %+v", res)
	}
	// An alternative is a second rule.
	must(t, "rule", "add", "--data", dir, "--match", "platform:facebook kind:reply", "--class", "transitory",
		"--schedule", "grs-5.2-010", "--exemption", "pii", "--reason", "replies too")
	out = must(t, "rule", "list", "--data", dir)
	if !strings.Contains(out, "1  r1") || !strings.Contains(out, "2  r2  platform:facebook kind:comment                 transitory  grs-5.2-010     personal-information") ||
		!strings.Contains(out, "3  r3  platform:facebook kind:reply") || strings.Contains(out, "*") {
		t.Fatalf("rule list:\n%s", out)
	}
	json.Unmarshal([]byte(must(t, "search", "--data", dir, "--class", "transitory", "--json")), &res)
	if res.Total != 2 { // the comment and the reply; the posts matched r1 first
		t.Fatalf("search --class transitory: %+v", res)
	}
	help := must(t, "rule", "add", "--help")
	for _, want := range []string{"every clause is required", "in osmarc search it would be one of alternatives", "kind:/comment|reply/", "two rules with the same class", "classifies Facebook comments"} {
		if !strings.Contains(help, want) {
			t.Fatalf("rule add --help: no %q in\n%s", want, help)
		}
	}
	json.Unmarshal([]byte(must(t, "search", "--data", dir, "--exemption", "personal-information", "--json")), &res)
	if res.Total != 2 {
		t.Fatalf("search --exemption: %+v", res)
	}

	// rule test and show explain one item.
	key := "facebook/3rd-brigade/101_2001_3001"
	out = must(t, "rule", "test", "--data", dir, key)
	for _, want := range []string{"every clause must hold, except one starting with \"-\"", "1. r1", "does not match", "✗ +kind:post  (required)", "2. r2",
		"MATCHES: this rule classifies it", "✓ platform:facebook  (required)", "✓ kind:comment  (required)", "3. r3", "✗ kind:reply  (required)",
		"Classification: transitory (rule r2), exemptions personal-information", "Schedule: grs-5.2-010: eligible for disposition from 2024-07-14"} {
		if !strings.Contains(out, want) {
			t.Fatalf("rule test: no %q in\n%s", want, out)
		}
	}
	out = must(t, "show", "--data", dir, key)
	if !strings.Contains(out, "class transitory (by rule r2)") || !strings.Contains(out, "schedule grs-5.2-010: eligible for disposition from 2024-07-14") {
		t.Fatalf("show:\n%s", out)
	}

	// A person outranks the rules until undone.
	if code, _, errs := osmarc(t, "", "classify", "--data", dir, key, "--class", "record"); code == 0 || !strings.Contains(errs, "--reason is required") {
		t.Fatalf("classify without a reason: %d %q", code, errs)
	}
	must(t, "classify", "--data", dir, key, "--class", "record", "--exemption", "security", "--reason", "names a deployment")
	out = must(t, "show", "--data", dir, key)
	if !strings.Contains(out, "class record (classified by a person)  exemptions security-information") ||
		!strings.Contains(out, "schedule grs-6.4-020: eligible for disposition from 2024-04-15") {
		t.Fatalf("show after classify:\n%s", out)
	}
	json.Unmarshal([]byte(must(t, "search", "--data", dir, "--class", "transitory", "--json")), &res)
	if res.Total != 1 {
		t.Fatalf("search after classify: %+v", res)
	}
	must(t, "classify", "--data", dir, key, "--undo", "--reason", "deployment was public")
	if out := must(t, "rule", "test", "--data", dir, key); !strings.Contains(out, "Classification: transitory (rule r2)") || !strings.Contains(out, "undone by") {
		t.Fatalf("rule test after undo:\n%s", out)
	}

	// reindex (and rebuild) keep the classes.
	must(t, "reindex", "--data", dir)
	json.Unmarshal([]byte(must(t, "search", "--data", dir, "--class", "transitory", "--json")), &res)
	if res.Total != 2 {
		t.Fatalf("search after reindex: %+v", res)
	}

	// A hold's query is evaluated on the index.
	if code, _, errs := osmarc(t, "", "hold", "place", "q", "--data", dir, "--matter", "m", "--reason", "r", "--query", `"wheelchairs`); code == 0 || !strings.Contains(errs, "unclosed quote") {
		t.Fatalf("hold with a bad query: %d %q", code, errs)
	}
	must(t, "hold", "place", "access", "--data", dir, "--matter", "Accessibility complaint", "--reason", "r", "--query", "wheelchairs")
	var holds []map[string]any
	json.Unmarshal([]byte(must(t, "hold", "list", "--json", "--data", dir)), &holds)
	if len(holds) != 1 || holds[0]["items"] != 1.0 {
		t.Fatalf("hold list: %v", holds)
	}
	if out := must(t, "show", "--data", dir, key); !strings.Contains(out, "held by access") {
		t.Fatalf("show of a held item:\n%s", out)
	}
	must(t, "hold", "release", "access", "--data", dir, "--reason", "closed")

	// A capture classifies what it indexes, without a reindex.
	more := filepath.Join(t.TempDir(), "more.jsonl")
	os.WriteFile(more, []byte(`{"platform":"facebook","account":"3rd-brigade","id":"101_2001_3009","kind":"comment","created_at":"2024-02-01T10:00:00Z","text":"Great parade!","author":{"id":"9009","name":"John Public"},"parent":"101_2001"}`+"\n"), 0o644)
	must(t, "ingest", "--data", dir, more)
	json.Unmarshal([]byte(must(t, "search", "--data", dir, "--class", "transitory", "--json")), &res)
	if res.Total != 3 {
		t.Fatalf("search after a capture: %+v", res)
	}

	// Disposition follows the rules' schedules: the posts transfer (two
	// approvers), the comments are destroyed.
	var plan struct {
		ID       string `json:"id"`
		Items    int    `json:"items"`
		Required int    `json:"required"`
	}
	json.Unmarshal([]byte(must(t, "disposition", "plan", "--json", "--data", dir, "--as-of", "2030-01-01")), &plan)
	if plan.Items != 5 || plan.Required != 2 {
		t.Fatalf("plan: %+v", plan)
	}
	must(t, "disposition", "approve", "--data", dir, plan.ID, "--by", "Legal Counsel")
	must(t, "disposition", "approve", "--data", dir, plan.ID, "--by", "Archivist")
	bags := filepath.Join(t.TempDir(), "to-nara")
	out = must(t, "disposition", "execute", "--data", dir, plan.ID, "--transfer-dir", bags)
	if !strings.Contains(out, "3 item(s) destroyed") || !strings.Contains(out, "Transferred 2 item(s): BagIt package "+filepath.Join(bags, plan.ID)) {
		t.Fatalf("execute:\n%s", out)
	}
	bag := filepath.Join(bags, plan.ID)
	checkBagManifest(t, bag)
	list, err := os.ReadFile(filepath.Join(bag, "data", "transfer.jsonl"))
	if err != nil || strings.Count(string(list), "\n") != 2 || !strings.Contains(string(list), `"key":"facebook/3rd-brigade/101_2001"`) {
		t.Fatalf("transfer.jsonl: %s %v", list, err)
	}
	info, _ := os.ReadFile(filepath.Join(bag, "bag-info.txt"))
	tr, _ := os.ReadFile(filepath.Join(bag, "data", "transfer.json"))
	if !strings.Contains(string(info), plan.ID) || !strings.Contains(string(tr), `"by": "Legal Counsel"`) || !strings.Contains(string(tr), `"authority": "Agency schedule item 1 (example)"`) {
		t.Fatalf("bag-info.txt:\n%s\ntransfer.json:\n%s", info, tr)
	}
	// transfer.jsonl lists each item's version digests.
	var line struct {
		Key      string   `json:"key"`
		Schedule string   `json:"schedule"`
		Class    string   `json:"class"`
		Versions []string `json:"versions"`
	}
	json.Unmarshal([]byte(strings.SplitN(string(list), "\n", 2)[0]), &line)
	if line.Schedule != "official-posts" || line.Class != "record" || len(line.Versions) != 1 {
		t.Fatalf("transfer.jsonl line: %+v", line)
	}
	if out := must(t, "show", "--data", dir, "facebook/3rd-brigade/101_2001"); !strings.Contains(out, "transferred to the receiving archive by plan "+plan.ID) {
		t.Fatalf("show of a transferred item:\n%s", out)
	}
	json.Unmarshal([]byte(must(t, "disposition", "plan", "--json", "--data", dir, "--as-of", "2030-01-01")), &plan)
	if plan.Items != 0 {
		t.Fatalf("transferred items planned again: %+v", plan)
	}
	// rule remove and move need what they name.
	if code, _, errs := osmarc(t, "", "rule", "remove", "--data", dir, "r9", "--reason", "x"); code == 0 || !strings.Contains(errs, `rule "r9": not found`) {
		t.Fatalf("remove an unknown rule: %q", errs)
	}
	must(t, "rule", "move", "--data", dir, "r2", "--to", "1", "--reason", "comments first")
	must(t, "rule", "remove", "--data", dir, "r1", "--reason", "superseded")
	if out := must(t, "rule", "list", "--data", dir); !strings.Contains(out, "1  r2") || strings.Contains(out, "r1 ") {
		t.Fatalf("rule list after move and remove:\n%s", out)
	}
}

// checkBagManifest re-hashes every payload file a bag's manifest lists.
func checkBagManifest(t *testing.T, bag string) {
	t.Helper()
	f, err := os.Open(filepath.Join(bag, "manifest-sha256.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			t.Fatalf("manifest line %q", sc.Text())
		}
		b, err := os.ReadFile(filepath.Join(bag, filepath.FromSlash(strings.ReplaceAll(strings.TrimSpace(name), "%25", "%"))))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(b)
		if hex.EncodeToString(h[:]) != sum {
			t.Fatalf("%s: digest differs from the manifest", name)
		}
		n++
	}
	if n < 3 {
		t.Fatalf("manifest lists %d file(s)", n)
	}
	if _, err := os.Stat(filepath.Join(bag, "bagit.txt")); err != nil {
		t.Fatal(err)
	}
}
