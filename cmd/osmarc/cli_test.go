package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/diskstore"
)

// osmarc runs one command in-process and returns its exit code and output.
func osmarc(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// must runs a command that must succeed.
func must(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := osmarc(t, "", args...)
	if code != 0 {
		t.Fatalf("osmarc %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func newArchive(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	t.Setenv("OSMARC_ACTOR", "records.officer@example.gov")
	must(t, "init", "--data", dir)
	return dir
}

func statsJSON(t *testing.T, dir string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(must(t, "stats", "--json", "--data", dir)), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func listJSON(t *testing.T, dir string, args ...string) []map[string]any {
	t.Helper()
	out := must(t, append([]string{"list", "--json", "--data", dir}, args...)...)
	var rows []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("list --json line %q: %v", l, err)
		}
		rows = append(rows, m)
	}
	return rows
}

func TestQuickStartCommands(t *testing.T) {
	dir := newArchive(t)
	out := must(t, "ingest", "--data", dir, "../../testdata/items.jsonl")
	if !strings.Contains(out, "8 items, 8 new versions, 0 bad lines") {
		t.Fatalf("ingest said %q", out)
	}
	rows := listJSON(t, dir)
	if len(rows) != 8 {
		t.Fatalf("list --json: %d rows", len(rows))
	}
	for _, k := range []string{"key", "platform", "account", "id", "kind", "created_at", "versions"} {
		if _, ok := rows[0][k]; !ok {
			t.Errorf("list --json has no %q: %v", k, rows[0])
		}
	}
	if got := listJSON(t, dir, "--platform", "x"); len(got) != 2 {
		t.Errorf("list --platform x: %d rows", len(got))
	}
	if got := listJSON(t, dir, "--account", "3rd-brigade"); len(got) != 4 {
		t.Errorf("list --account 3rd-brigade: %d rows", len(got))
	}
	human := must(t, "list", "--data", dir)
	if !strings.Contains(human, "facebook/3rd-brigade/101_2001") || !strings.Contains(human, "8 item(s)") {
		t.Errorf("list:\n%s", human)
	}

	st := statsJSON(t, dir)
	for k, want := range map[string]float64{"items": 8, "versions": 8, "captures": 1, "blobs": 9} {
		if st[k] != want {
			t.Errorf("stats %s = %v, want %v", k, st[k], want)
		}
	}
	if st["bytes"].(float64) <= 0 {
		t.Errorf("stats bytes = %v", st["bytes"])
	}

	var show map[string]any
	json.Unmarshal([]byte(must(t, "show", "--json", "--data", dir, "facebook/3rd-brigade/101_2001")), &show)
	vs := show["versions"].([]any)
	if len(vs) != 1 || vs[0].(map[string]any)["digest"] == "" || vs[0].(map[string]any)["captured_at"] == "" {
		t.Fatalf("show --json versions: %v", vs)
	}
	if txt := vs[0].(map[string]any)["item"].(map[string]any)["text"]; !strings.Contains(txt.(string), "parade") {
		t.Fatalf("show text = %v", txt)
	}
	if hist := show["sightings"].([]any); len(hist) != 1 {
		t.Fatalf("capture history: %v", hist)
	}
	h := must(t, "show", "--data", dir, "facebook/3rd-brigade/101_2001")
	if !strings.Contains(h, "Versions (1)") || !strings.Contains(h, "Captures (1)") || !strings.Contains(h, "Saturday") {
		t.Fatalf("show:\n%s", h)
	}

	var v map[string]any
	json.Unmarshal([]byte(must(t, "verify", "--json", "--data", dir)), &v)
	if v["ok"] != true || len(v["problems"].([]any)) != 0 {
		t.Fatalf("verify --json = %v", v)
	}
	if out := must(t, "verify", "--deep", "--data", dir); !strings.Contains(out, "OK: no damage found") {
		t.Fatalf("verify --deep: %s", out)
	}
}

func TestDataDirFromEnvironment(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "env-data")
	t.Setenv("OSMARC_DATA", dir)
	must(t, "init")
	must(t, "ingest", "../../testdata/items.jsonl")
	if _, err := os.Stat(filepath.Join(dir, "osmarc.json")); err != nil {
		t.Fatalf("OSMARC_DATA not used: %v", err)
	}
	if n := len(listJSON(t, dir)); n != 8 {
		t.Fatalf("--data and OSMARC_DATA disagree: %d items", n)
	}
	// --data wins over the environment.
	other := newArchive(t)
	if n := len(listJSON(t, other)); n != 0 {
		t.Fatalf("--data did not win: %d items", n)
	}
}

func TestDefaultDataDirectory(t *testing.T) {
	wd, _ := os.Getwd()
	tmp := t.TempDir()
	os.Chdir(tmp)
	defer os.Chdir(wd)
	t.Setenv("OSMARC_DATA", "")
	must(t, "init")
	if _, err := os.Stat(filepath.Join(tmp, "osmarc-data", "osmarc.json")); err != nil {
		t.Fatalf("default data directory not ./osmarc-data: %v", err)
	}
	if _, err := os.Stat(filepath.Join(tmp, "osmarc-data", "store", "journal")); err != nil {
		t.Fatalf("default store not inside the data directory: %v", err)
	}
}

func TestIngestFromStdin(t *testing.T) {
	dir := newArchive(t)
	b, _ := os.ReadFile("../../testdata/items.jsonl")
	code, out, errs := osmarc(t, string(b), "ingest", "--data", dir, "-")
	if code != 0 || !strings.Contains(out, "8 items") {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
}

func TestIngestBadLines(t *testing.T) {
	dir := newArchive(t)
	code, _, errs := osmarc(t, "", "ingest", "--data", dir, "../../testdata/items-bad.jsonl")
	if code == 0 {
		t.Fatal("exit 0 with bad lines")
	}
	for _, want := range []string{
		"items-bad.jsonl:2: truncated JSON",
		"items-bad.jsonl:3: missing required field text",
		"items-bad.jsonl:4: field id: want a string, got number",
		"items-bad.jsonl:5: field created_at",
		"4 bad line(s) were not ingested; the 2 good ones were",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if n := len(listJSON(t, dir)); n != 2 {
		t.Fatalf("%d items, want the 2 good lines", n)
	}
}

func TestEditsAndMetrics(t *testing.T) {
	dir := newArchive(t)
	must(t, "ingest", "--data", dir, "../../testdata/items.jsonl")
	before := statsJSON(t, dir)
	must(t, "ingest", "--data", dir, "../../testdata/items.jsonl")
	again := statsJSON(t, dir)
	for _, k := range []string{"items", "versions", "blobs", "bytes"} {
		if before[k] != again[k] {
			t.Errorf("re-ingest changed %s: %v → %v", k, before[k], again[k])
		}
	}
	if again["captures"].(float64) != before["captures"].(float64)+1 {
		t.Errorf("captures %v → %v", before["captures"], again["captures"])
	}
	must(t, "ingest", "--data", dir, "../../testdata/items-edited.jsonl")
	edited := statsJSON(t, dir)
	if edited["versions"].(float64) != before["versions"].(float64)+1 || edited["items"] != before["items"] {
		t.Fatalf("after an edit: %v", edited)
	}
	for _, r := range listJSON(t, dir) {
		want := 1.0
		if r["key"] == "facebook/3rd-brigade/101_2001" {
			want = 2
		}
		if r["versions"] != want {
			t.Errorf("%s has %v versions, want %v", r["key"], r["versions"], want)
		}
	}
}

// treeDigest hashes every file under dir but the lock file.
func treeDigest(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "lock" {
			return nil
		}
		b, _ := os.ReadFile(p)
		out[p] = fmt.Sprintf("%x", sha256.Sum256(b))
		return nil
	})
	return out
}

func TestReadCommandsChangeNothing(t *testing.T) {
	dir := newArchive(t)
	must(t, "ingest", "--data", dir, "../../testdata/items.jsonl")
	before := treeDigest(t, dir)
	must(t, "list", "--data", dir)
	must(t, "list", "--json", "--data", dir)
	must(t, "show", "--data", dir, "x/Brigade3/1750000000000000001")
	must(t, "stats", "--data", dir)
	must(t, "verify", "--deep", "--data", dir)
	after := treeDigest(t, dir)
	if len(before) != len(after) {
		t.Fatalf("files %d → %d", len(before), len(after))
	}
	for p, h := range before {
		if after[p] != h {
			t.Errorf("%s changed", p)
		}
	}
}

func TestRebuildCommand(t *testing.T) {
	dir := newArchive(t)
	must(t, "ingest", "--data", dir, "../../testdata/items.jsonl")
	must(t, "ingest", "--data", dir, "../../testdata/items-edited.jsonl")
	answers := func(d string) string {
		var keys []string
		for _, r := range listJSON(t, d) {
			keys = append(keys, r["key"].(string))
		}
		sort.Strings(keys)
		s := must(t, "stats", "--json", "--data", d) + must(t, "list", "--json", "--data", d)
		for _, k := range keys {
			s += must(t, "show", "--json", "--data", d, k)
		}
		return s
	}
	before := answers(dir)
	os.Remove(filepath.Join(dir, "catalog.db"))
	out := must(t, "rebuild", "--data", dir)
	if !strings.Contains(out, "8 items, 9 versions, 2 captures") {
		t.Fatalf("rebuild said %q", out)
	}
	if after := answers(dir); after != before {
		t.Fatalf("answers differ after rebuild:\n%s\n----\n%s", before, after)
	}

	// A second machine that only knows the store's URL.
	store := filepath.Join(dir, "store")
	fresh := filepath.Join(t.TempDir(), "second")
	out = must(t, "init", "--data", fresh, "--store", "file://"+store)
	if !strings.Contains(out, "Attached") || !strings.Contains(out, "2 captures") {
		t.Fatalf("init on an existing store said %q", out)
	}
	must(t, "rebuild", "--data", fresh)
	if got := listJSON(t, fresh); len(got) != 8 {
		t.Fatalf("second machine lists %d items", len(got))
	}
}

func TestVerifyCommandFindsDamage(t *testing.T) {
	dir := newArchive(t)
	must(t, "ingest", "--data", dir, "../../testdata/items.jsonl")
	var show struct {
		Versions []struct{ Digest string }
	}
	json.Unmarshal([]byte(must(t, "show", "--json", "--data", dir, "facebook/3rd-brigade/101_2002")), &show)
	d := show.Versions[0].Digest
	p := blobFile(t, dir, d)
	if err := os.WriteFile(p, []byte("flipped"), 0o640); err != nil {
		t.Fatal(err)
	}

	if code, out, _ := osmarc(t, "", "verify", "--data", dir); code != 0 {
		t.Fatalf("shallow verify of a corrupt (but present) blob: exit %d %s", code, out)
	}
	code, out, errs := osmarc(t, "", "verify", "--deep", "--json", "--data", dir)
	if code != 1 {
		t.Fatalf("verify --deep exit %d, want 1: %s", code, errs)
	}
	var rep struct {
		OK       bool
		Problems []struct {
			Kind, Object string
			Items        []string
		}
	}
	json.Unmarshal([]byte(out), &rep)
	if rep.OK || len(rep.Problems) != 1 || rep.Problems[0].Kind != "corrupt-blob" || !strings.Contains(rep.Problems[0].Object, d) || rep.Problems[0].Items[0] != "facebook/3rd-brigade/101_2002" {
		t.Fatalf("report = %+v", rep)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	code, out, _ = osmarc(t, "", "verify", "--data", dir)
	if code != 1 || !strings.Contains(out, "DAMAGE missing-blob") || !strings.Contains(out, "facebook/3rd-brigade/101_2002") {
		t.Fatalf("verify of a missing blob: exit %d\n%s", code, out)
	}
}

func TestCommandErrorsAreOneLine(t *testing.T) {
	dir := newArchive(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"list", "--data", filepath.Join(t.TempDir(), "nothing")}, "no archive here (run osmarc init)"},
		{[]string{"show", "--data", dir, "facebook/none/1"}, "item facebook/none/1: not found"},
		{[]string{"ingest", "--data", dir, "/nonexistent/items.jsonl"}, "no such file"},
		{[]string{"list", "--data", dir, "--nope"}, "unknown flag: --nope"},
		{[]string{"init", "--data", dir}, "already holds an archive"},
		{[]string{"init", "--data", filepath.Join(t.TempDir(), "d"), "--store", "ftp://host/x"}, `unknown scheme "ftp"`},
		{[]string{"init", "--data", filepath.Join(t.TempDir(), "d"), "--store", "file://relative/x"}, "a file URL names a local path"},
		{[]string{"init", "--data", filepath.Join(t.TempDir(), "d"), "--store", "s3://AKIA:secret@bucket/x"}, "credentials"},
	}
	for _, tc := range tests {
		code, out, errs := osmarc(t, "", tc.args...)
		if code == 0 {
			t.Errorf("%v: exit 0: %s", tc.args, out)
			continue
		}
		if strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: stderr %q, want one line with %q", tc.args, errs, tc.want)
		}
		if strings.Contains(errs, "secret") {
			t.Errorf("%v: a secret leaked into the message: %q", tc.args, errs)
		}
	}
}

func TestVerifyStoreWithoutDataDirectory(t *testing.T) {
	// A store whose journal is damaged cannot be attached; verify --store
	// still examines it and names the damage.
	store := t.TempDir()
	copyTree(t, "../../testdata/archives/journal-reordered", store)
	code, out, _ := osmarc(t, "", "verify", "--store", "file://"+store)
	if code != 1 || !strings.Contains(out, "holds event 4: events were reordered") {
		t.Fatalf("verify --store: exit %d\n%s", code, out)
	}
	if code, out, errs := osmarc(t, "", "init", "--data", filepath.Join(t.TempDir(), "d"), "--store", "file://"+store); code == 0 || !strings.Contains(errs, "run osmarc verify") {
		t.Fatalf("init on a damaged store: exit %d %s %s", code, out, errs)
	}
	good := t.TempDir()
	copyTree(t, "../../testdata/archives/good", good)
	if out := must(t, "verify", "--deep", "--store", "file://"+good); !strings.Contains(out, "OK: no damage found") {
		t.Fatalf("verify --store of the good fixture: %s", out)
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o750)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o640)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestListFiltersWithEscapedAccounts(t *testing.T) {
	dir := newArchive(t)
	in := `{"platform":"youtube","account":"City of X","id":"v/1","kind":"video","created_at":"2024-01-01T00:00:00Z","text":"council meeting"}
{"platform":"youtube","account":"City of Y","id":"v2","kind":"video","created_at":"2024-01-01T00:00:00Z","text":"other"}
`
	if code, _, errs := osmarc(t, in, "ingest", "--data", dir, "-"); code != 0 {
		t.Fatal(errs)
	}
	for _, args := range [][]string{
		{"--platform", "youtube", "--account", "City of X"},
		{"--account", "City of X"},
		{"--platform", "YouTube", "--account", "City of X"},
	} {
		rows := listJSON(t, dir, args...)
		if len(rows) != 1 || rows[0]["key"] != "youtube/City%20of%20X/v%2F1" {
			t.Errorf("list %v = %v", args, rows)
		}
	}
}

func TestBlankInputRecordsNoCapture(t *testing.T) {
	dir := newArchive(t)
	before := statsJSON(t, dir)
	if code, out, errs := osmarc(t, "\n\n   \n", "ingest", "--data", dir, "-"); code != 0 || !strings.Contains(out, "Nothing to ingest") {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	if after := statsJSON(t, dir); after["captures"] != before["captures"] || after["events"] != before["events"] {
		t.Fatalf("blank input made a capture: %v", after)
	}
}

func TestAccountRegistry(t *testing.T) {
	dir := newArchive(t)
	t.Setenv("FB_TOKEN", "EAAB-very-secret-token")
	must(t, "account", "add", "--data", dir, "--platform", "facebook", "--handle", "3rd-brigade", "--id", "101",
		"--name", "3rd Canadian Division Brigade", "--unit", "Public Affairs", "--practitioner", "Capt. A. Smith",
		"--practitioner", "Sgt. B. Jones", "--approval", "PA-2024-017", "--schedule", "grs-6.4-020", "--collect", "0 */6 * * *",
		"--credentials", "env:FB_TOKEN")
	var acct map[string]any
	json.Unmarshal([]byte(must(t, "account", "show", "--json", "--data", dir, "3rd-brigade")), &acct)
	if acct["key"] != "facebook/3rd-brigade" || acct["status"] != "active" || len(acct["practitioners"].([]any)) != 2 || acct["credentials"] != "env:FB_TOKEN" {
		t.Fatalf("account = %v", acct)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"account", "add", "--data", dir, "--platform", "facebook", "--handle", "3rd-brigade"}, "already registered"},
		{[]string{"account", "add", "--data", dir, "--platform", "facebook"}, "--platform and --handle are required"},
		{[]string{"account", "add", "--data", dir, "--platform", "x", "--handle", "h", "--credentials", "EAAB-raw-token"}, "env:VARIABLE or file:/path"},
		{[]string{"account", "add", "--data", dir, "--platform", "x", "--handle", "h", "--collect", "every day"}, "not a cron expression"},
		{[]string{"account", "deactivate", "--data", dir, "3rd-brigade"}, "needs a reason"},
		{[]string{"account", "show", "--data", dir, "nobody"}, "unknown account"},
	} {
		code, _, errs := osmarc(t, "", tc.args...)
		if code == 0 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, %q; want %q", tc.args, code, errs, tc.want)
		}
	}
	must(t, "account", "update", "--data", dir, "facebook/3rd-brigade", "--unit", "Public Affairs Branch")
	must(t, "account", "deactivate", "--data", dir, "3rd-brigade", "--reason", "Page merged into the Division's page")
	json.Unmarshal([]byte(must(t, "account", "show", "--json", "--data", dir, "3rd-brigade")), &acct)
	if acct["status"] != "deactivated" || acct["unit"] != "Public Affairs Branch" || acct["deactivated_at"] == nil {
		t.Fatalf("after update and deactivate: %v", acct)
	}
	// Ingest registers the accounts its items name.
	must(t, "ingest", "--data", dir, "../../testdata/items.jsonl")
	out := must(t, "account", "list", "--data", dir)
	for _, k := range []string{"facebook/3rd-brigade", "x/Brigade3", "mastodon/brigade@social.example.gov", "bluesky/brigade.example.gov"} {
		if !strings.Contains(out, k) {
			t.Errorf("account list lacks %s:\n%s", k, out)
		}
	}
	// Every change is an event, and the token itself is nowhere in the store.
	tree := treeDigest(t, dir)
	for p := range tree {
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, []byte("very-secret")) {
			t.Fatalf("the token is in %s", p)
		}
	}
	// The registry survives a rebuild from the store.
	before := must(t, "account", "list", "--json", "--data", dir)
	must(t, "rebuild", "--data", dir)
	if after := must(t, "account", "list", "--json", "--data", dir); after != before {
		t.Fatalf("registry differs after rebuild:\n%s\n%s", before, after)
	}
}

// blobFile is the file that holds the blob of digest d (hex) in the disk
// store of the data directory dir.
func blobFile(t *testing.T, dir, d string) string {
	t.Helper()
	digest, err := archive.ParseDigest(d)
	if err != nil {
		t.Fatal(err)
	}
	s, err := diskstore.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.File(archive.BlobKey(digest))
	if err != nil {
		t.Fatal(err)
	}
	return p
}
