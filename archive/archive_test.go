package archive_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/catalog"
	"github.com/osmarc/osmarc/archive/journal"
	"github.com/osmarc/osmarc/archive/memstore"
)

var ctx = context.Background()

func ingestFile(t *testing.T, a *archive.Archive, path string) archive.IngestResult {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := a.Ingest(ctx, []archive.Source{{Name: filepath.Base(path), R: f}}, archive.IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func ingestString(t *testing.T, a *archive.Archive, name, s string) (archive.IngestResult, []string) {
	t.Helper()
	var errs []string
	res, err := a.Ingest(ctx, []archive.Source{{Name: name, R: strings.NewReader(s)}}, archive.IngestOptions{
		OnError: func(e *archive.InputError) { errs = append(errs, e.Error()) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return res, errs
}

func stats(t *testing.T, a *archive.Archive) archive.Stats {
	t.Helper()
	s, err := a.Stats()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func listKeys(t *testing.T, a *archive.Archive) []string {
	t.Helper()
	var keys []string
	for it, err := range a.List(archive.ListFilter{}) {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, it.Key)
	}
	return keys
}

func TestIngestTwiceAddsOnlyACapture(t *testing.T) {
	a, _, _ := archivetest.New(t)
	first := ingestFile(t, a, "../testdata/items.jsonl")
	if first.Items != 8 || first.NewVersions != 8 || first.Errors != 0 {
		t.Fatalf("first ingest = %+v", first)
	}
	before := stats(t, a)
	again := ingestFile(t, a, "../testdata/items.jsonl")
	if again.NewVersions != 0 || again.BlobsWritten != 0 {
		t.Fatalf("second ingest wrote %d versions, %d blobs; want none", again.NewVersions, again.BlobsWritten)
	}
	after := stats(t, a)
	if after.Captures != before.Captures+1 || after.Events != before.Events+1 {
		t.Fatalf("captures %d→%d, events %d→%d; want one more of each", before.Captures, after.Captures, before.Events, after.Events)
	}
	before.Captures, before.Events, before.ManifestBytes, before.JournalHead, before.LastCapture = after.Captures, after.Events, after.ManifestBytes, after.JournalHead, after.LastCapture
	if before != after {
		t.Fatalf("stats changed beyond the capture:\nbefore %+v\nafter  %+v", before, after)
	}
}

func TestEditIsANewVersionMetricsAreNot(t *testing.T) {
	a, _, clock := archivetest.New(t)
	ingestFile(t, a, "../testdata/items.jsonl")
	clock.Advance(24 * 60 * 60 * 1e9)
	res := ingestFile(t, a, "../testdata/items-edited.jsonl")
	// The post's text changed: one new version. The comment's likes
	// changed: no new version.
	if res.NewVersions != 1 {
		t.Fatalf("new versions = %d, want 1", res.NewVersions)
	}
	d, err := a.Show(ctx, "facebook/3rd-brigade/101_2001")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Versions) != 2 {
		t.Fatalf("post has %d versions, want 2", len(d.Versions))
	}
	if !strings.Contains(d.Versions[0].Item.Text, "Saturday") || !strings.Contains(d.Versions[1].Item.Text, "Sunday") {
		t.Fatalf("versions out of order or lost: %q / %q", d.Versions[0].Item.Text, d.Versions[1].Item.Text)
	}
	if len(d.Sightings) != 2 || string(d.Sightings[1].Metrics) != `{"comments":3,"likes":30,"shares":9}` {
		t.Fatalf("sightings = %+v", d.Sightings)
	}
	c, err := a.Show(ctx, "facebook/3rd-brigade/101_2001_3001")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Versions) != 1 || len(c.Sightings) != 2 {
		t.Fatalf("comment: %d versions, %d sightings; want 1 and 2", len(c.Versions), len(c.Sightings))
	}
	if string(c.Sightings[0].Metrics) != `{"likes":1}` || string(c.Sightings[1].Metrics) != `{"likes":7}` {
		t.Fatalf("metrics not kept per capture: %s, %s", c.Sightings[0].Metrics, c.Sightings[1].Metrics)
	}
}

func TestBadInputReportedGoodLinesKept(t *testing.T) {
	a, store, _ := archivetest.New(t)
	ingestFile(t, a, "../testdata/items.jsonl")
	before := listKeys(t, a)
	beforeShow, _ := a.Show(ctx, "facebook/3rd-brigade/101_2001")
	objects := map[string]bool{}
	store.List(ctx, "", "", func(oi archive.ObjectInfo) error { objects[oi.Key] = true; return nil })

	b, _ := os.ReadFile("../testdata/items-bad.jsonl")
	res, errs := ingestString(t, a, "items-bad.jsonl", string(b))
	want := []string{
		"items-bad.jsonl:2: truncated JSON",
		"items-bad.jsonl:3: missing required field text",
		"items-bad.jsonl:4: field id: want a string, got number",
		`items-bad.jsonl:5: field created_at: "2024-02-30T10:00:00Z" is not an RFC 3339 time (day out of range)`,
	}
	if len(errs) != len(want) {
		t.Fatalf("errors = %q", errs)
	}
	for i := range want {
		if !strings.HasPrefix(errs[i], want[i]) {
			t.Errorf("error %d = %q, want prefix %q", i, errs[i], want[i])
		}
	}
	if res.Items != 2 || res.Errors != 4 {
		t.Fatalf("result = %+v", res)
	}
	after := listKeys(t, a)
	for _, k := range []string{"facebook/3rd-brigade/101_2003", "facebook/3rd-brigade/101_2008"} {
		if !slices.Contains(after, k) {
			t.Errorf("good line %s not ingested", k)
		}
	}
	if len(after) != len(before)+2 {
		t.Fatalf("%d items after, want %d", len(after), len(before)+2)
	}
	// Nothing archived before changed: same versions, every object still there.
	afterShow, _ := a.Show(ctx, "facebook/3rd-brigade/101_2001")
	if len(afterShow.Versions) != len(beforeShow.Versions) || afterShow.Versions[0].Digest != beforeShow.Versions[0].Digest {
		t.Fatal("an existing item changed")
	}
	for k := range objects {
		if _, err := store.Stat(ctx, k); err != nil {
			t.Errorf("object %s gone: %v", k, err)
		}
	}
	// The raw input, bad lines included, is kept byte for byte.
	d, _ := a.Show(ctx, "facebook/3rd-brigade/101_2008")
	raw, err := archive.ReadBlob(ctx, a.Store(), mustDigest(t, d.Sightings[0].Raw))
	if err != nil || !bytes.Equal(raw, b) {
		t.Fatalf("raw chunk differs from the input: %v", err)
	}
}

func mustDigest(t *testing.T, s string) archive.Digest {
	t.Helper()
	d, err := archive.ParseDigest(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestParseItemLineErrors(t *testing.T) {
	ok := `"platform":"facebook","account":"a","id":"1","kind":"post","created_at":"2024-01-01T00:00:00Z","text":""`
	tests := []struct {
		line string
		want string
	}{
		{`{` + ok + `}`, ""},
		{`[]`, "want a JSON object"},
		{`{` + ok + `} {}`, "more than one JSON value"},
		{`{"account":"a","id":"1","kind":"post","created_at":"2024-01-01T00:00:00Z","text":""}`, "missing required field platform"},
		{`{` + strings.Replace(ok, `"id":"1"`, `"id":""`, 1) + `}`, "field id is empty"},
		{`{` + strings.Replace(ok, `"text":""`, `"text":5`, 1) + `}`, "field text: want a string, got number"},
		{`{` + strings.Replace(ok, `"kind":"post"`, `"kind":"not a kind!"`, 1) + `}`, "field kind"},
		{`{` + strings.Replace(ok, `"platform":"facebook"`, `"platform":"Face Book"`, 1) + `}`, "field platform"},
		{`{` + strings.Replace(ok, `2024-01-01T00:00:00Z`, `2024-13-01T00:00:00Z`, 1) + `}`, "month out of range"},
		{`{` + strings.Replace(ok, `2024-01-01T00:00:00Z`, `2024-01-01T25:00:00Z`, 1) + `}`, "hour out of range"},
		{`{` + strings.Replace(ok, `2024-01-01T00:00:00Z`, `yesterday`, 1) + `}`, "is not an RFC 3339 time"},
		{`{` + strings.Replace(ok, `2024-01-01T00:00:00Z`, `1969-12-31T23:59:59Z`, 1) + `}`, "before 1970"},
		{`{` + ok + `,"edited_at":"2024-02-30T00:00:00Z"}`, "field edited_at"},
		{`{` + ok + `,"metrics":{"likes":"many"}}`, "field metrics.likes"},
		{`{` + ok + `,"metrics":[1]}`, "field metrics: want an object"},
		{`{` + ok + `,"metrics":{"likes":"12"}}`, "field metrics.likes: want a number"},
		{`{` + ok + `,"metrics":{"likes":null}}`, "field metrics.likes: want a number"},
		{`{` + ok + `,"metrics":{"likes":-1.5e3}}`, ""},
		{`{` + ok + `,"media":[{"type":"image/png"}]}`, "media[0]: missing url"},
		{`{` + ok + `,"author":"someone"}`, "field author: want an object"},
		{`{` + ok + `,"links":"https://x"}`, "field links: want an array"},
		{`{` + ok + `,"lang":"english please"}`, "field lang"},
		{`{` + ok, "truncated JSON"},
	}
	for _, tc := range tests {
		_, _, err := archive.ParseItemLine([]byte(tc.line))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: unexpected error %v", tc.line, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: err = %v, want %q", tc.line, err, tc.want)
		}
	}
}

func TestCanonicalJSON(t *testing.T) {
	line := `{"text":"Défense <b>&</b>","created_at":"2024-02-02T09:30:00-05:00","kind":"Post","id":"7","account":"acct","platform":"Facebook",
		"author":{"name":"N","id":"1"},"metrics":{"likes":3},"hashtags":[],"lang":"fr_CA"}`
	it, metrics, err := archive.ParseItemLine([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	got, err := it.CanonicalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"account":"acct","author":{"id":"1","name":"N"},"created_at":"2024-02-02T14:30:00Z","id":"7","kind":"post","lang":"fr-ca","platform":"facebook","text":"Défense <b>&</b>"}`
	if string(got) != want {
		t.Fatalf("canonical JSON\n got %s\nwant %s", got, want)
	}
	if string(metrics) != `{"likes":3}` {
		t.Fatalf("metrics = %s", metrics)
	}
	// Canonical means keys sorted at every level, which a round trip
	// through a map (Go sorts map keys) must not change.
	var m map[string]any
	json.Unmarshal(got, &m)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(m)
	if strings.TrimSpace(buf.String()) != string(got) {
		t.Fatalf("not canonical: %s vs %s", got, buf.String())
	}
}

func TestItemKeys(t *testing.T) {
	for _, tc := range []struct{ platform, account, id, want string }{
		{"facebook", "3rd-brigade", "101_2001", "facebook/3rd-brigade/101_2001"},
		{"bluesky", "b.example", "at://did:plc:x/app.bsky.feed.post/3k", "bluesky/b.example/at:%2F%2Fdid:plc:x%2Fapp.bsky.feed.post%2F3k"},
		{"x", "a b", "1/2", "x/a%20b/1%2F2"},
		{"x", "é", "%", "x/%C3%A9/%25"},
	} {
		if got := archive.ItemKey(tc.platform, tc.account, tc.id); got != tc.want {
			t.Errorf("ItemKey(%q,%q,%q) = %q, want %q", tc.platform, tc.account, tc.id, got, tc.want)
		}
	}
}

func TestListFilters(t *testing.T) {
	a, _, _ := archivetest.New(t)
	ingestFile(t, a, "../testdata/items.jsonl")
	count := func(f archive.ListFilter) int {
		n := 0
		for _, err := range a.List(f) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		return n
	}
	for _, tc := range []struct {
		f    archive.ListFilter
		want int
	}{
		{archive.ListFilter{}, 8},
		{archive.ListFilter{Platform: "facebook"}, 4},
		{archive.ListFilter{Platform: "Facebook"}, 4},
		{archive.ListFilter{Account: "Brigade3"}, 2},
		{archive.ListFilter{Platform: "x", Account: "Brigade3"}, 2},
		{archive.ListFilter{Platform: "mastodon", Account: "brigade@social.example.gov"}, 1},
		{archive.ListFilter{Platform: "x", Account: "3rd-brigade"}, 0},
		{archive.ListFilter{Platform: "f"}, 0},
	} {
		if got := count(tc.f); got != tc.want {
			t.Errorf("list %+v = %d items, want %d", tc.f, got, tc.want)
		}
	}
}

func TestShowMissing(t *testing.T) {
	a, _, _ := archivetest.New(t)
	if _, err := a.Show(ctx, "facebook/nobody/1"); !errors.Is(err, archive.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

type snapshot struct {
	Stats archive.Stats
	Items []catalog.Item
	Shows []archive.ItemDetail
}

func snap(t *testing.T, a *archive.Archive) snapshot {
	t.Helper()
	var s snapshot
	s.Stats = stats(t, a)
	for it, err := range a.List(archive.ListFilter{}) {
		if err != nil {
			t.Fatal(err)
		}
		s.Items = append(s.Items, it)
		d, err := a.Show(ctx, it.Key)
		if err != nil {
			t.Fatal(err)
		}
		s.Shows = append(s.Shows, d)
	}
	return s
}

func same(t *testing.T, what string, a, b snapshot) {
	t.Helper()
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Fatalf("%s: answers differ\nbefore %s\nafter  %s", what, ja, jb)
	}
}

func TestRebuildGivesSameAnswers(t *testing.T) {
	storeDir := t.TempDir()
	clock := archivetest.NewClock(archivetest.Start)
	dir := t.TempDir()
	a, _, err := archive.Init(ctx, archivetest.Options(dir, clock, archivetest.DiskOpener(storeDir)), "file://"+storeDir)
	if err != nil {
		t.Fatal(err)
	}
	ingestFile(t, a, "../testdata/items.jsonl")
	ingestFile(t, a, "../testdata/items-edited.jsonl")
	ingestString(t, a, "bad.jsonl", "{broken\n")
	before := snap(t, a)
	a.Close()

	// In place, from the store alone.
	os.Remove(filepath.Join(dir, archive.CatalogFile))
	os.WriteFile(filepath.Join(dir, archive.CatalogFile), []byte("not a bbolt file"), 0o600)
	a, err = archive.Rebuild(ctx, archivetest.Options(dir, clock, archivetest.DiskOpener(storeDir)))
	if err != nil {
		t.Fatal(err)
	}
	same(t, "rebuild in place", before, snap(t, a))
	a.Close()

	// On a fresh data directory that only knows the store: init attaches.
	fresh := t.TempDir()
	b, res, err := archive.Init(ctx, archivetest.Options(fresh, clock, archivetest.DiskOpener(storeDir)), "file://"+storeDir)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Attached || res.ArchiveID != before.Stats.ArchiveID || res.Captures != before.Stats.Captures {
		t.Fatalf("init on an existing store = %+v", res)
	}
	got := snap(t, b)
	// Attaching is itself an event.
	if got.Stats.Events != before.Stats.Events+1 {
		t.Fatalf("events after attach = %d, want %d", got.Stats.Events, before.Stats.Events+1)
	}
	got.Stats.Events, got.Stats.JournalHead = before.Stats.Events, before.Stats.JournalHead
	same(t, "attach", before, got)
	b.Close()
}

func TestInitRefusesAForeignStoreAndASecondArchive(t *testing.T) {
	store := memstore.New("x")
	archive.PutBytes(ctx, store, "photos/cat.jpg", []byte("meow"))
	_, _, err := archive.Init(ctx, archivetest.Options(t.TempDir(), archivetest.NewClock(archivetest.Start), archivetest.MemOpener(store)), "mem")
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("init on a foreign store: %v", err)
	}
	a, _, _ := archivetest.New(t)
	dir := a.Dir()
	a.Close()
	_, _, err = archive.Init(ctx, archivetest.Options(dir, archivetest.NewClock(archivetest.Start), archivetest.MemOpener(memstore.New("y"))), "mem")
	if err == nil || !strings.Contains(err.Error(), "already holds an archive") {
		t.Fatalf("second init: %v", err)
	}
}

func TestSecondWriterRefusedAtOnce(t *testing.T) {
	a, store, clock := archivetest.New(t)
	opts := archivetest.Options(a.Dir(), clock, archivetest.MemOpener(store))
	opts.Command = "ingest"
	for _, ro := range []bool{false, true} {
		opts.ReadOnly = ro
		_, err := archive.Open(ctx, opts)
		if !errors.Is(err, archive.ErrLocked) {
			t.Fatalf("readOnly=%v: err = %v, want ErrLocked", ro, err)
		}
		if !strings.Contains(err.Error(), a.Dir()) || !strings.Contains(err.Error(), "process") {
			t.Fatalf("message does not name the directory and holder: %v", err)
		}
	}
	a.Close()
	opts.ReadOnly = false
	b, err := archive.Open(ctx, opts)
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	b.Close()
}

func TestOpenAppliesEventsTheCatalogMissed(t *testing.T) {
	// A process that dies after writing its capture event but before its
	// catalog entry: the next open applies the event from the store.
	a, store, clock := archivetest.New(t)
	ingestFile(t, a, "../testdata/items.jsonl")
	dir := a.Dir()
	want := snap(t, a)
	a.Close()
	os.Remove(filepath.Join(dir, archive.CatalogFile))
	// Recreate an empty catalog, as if nothing had been applied.
	b, err := archive.Open(ctx, archivetest.Options(dir, clock, archivetest.MemOpener(store)))
	if err != nil {
		t.Fatal(err)
	}
	same(t, "replay", want, snap(t, b))
	b.Close()
}

func TestJournalEventsChain(t *testing.T) {
	a, store, _ := archivetest.New(t)
	ingestFile(t, a, "../testdata/items.jsonl")
	v := journal.NewVerifier()
	var types []string
	store.List(ctx, journal.Prefix, "", func(oi archive.ObjectInfo) error {
		b, _ := archive.ReadAll(ctx, store, oi.Key)
		ev, err := v.Check(oi.Key, b)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Actor != "records.officer@example.gov" || ev.Time.IsZero() {
			t.Fatalf("event %d: actor %q time %v", ev.Seq, ev.Actor, ev.Time)
		}
		types = append(types, ev.Type)
		return nil
	})
	// The capture registers the four accounts its items name.
	want := []string{journal.TypeArchiveCreated, journal.TypeStoreConfigured, journal.TypeCapture,
		archive.EventAccountAdded, archive.EventAccountAdded, archive.EventAccountAdded, archive.EventAccountAdded}
	if !slices.Equal(types, want) {
		t.Fatalf("events = %v, want %v", types, want)
	}
	if st := stats(t, a); st.JournalHead != v.Head().Hash {
		t.Fatalf("stats head %s, chain head %s", st.JournalHead, v.Head().Hash)
	}
}

func TestEmptyInputRecordsNothing(t *testing.T) {
	a, _, _ := archivetest.New(t)
	before := stats(t, a)
	res, _ := ingestString(t, a, "empty", "")
	if res.Capture != "" || stats(t, a) != before {
		t.Fatalf("empty input made a capture: %+v", res)
	}
}

func TestLongLineRefused(t *testing.T) {
	a, _, _ := archivetest.New(t)
	long := `{"platform":"x","account":"a","id":"1","kind":"post","created_at":"2024-01-01T00:00:00Z","text":"` + strings.Repeat("a", archive.MaxLineBytes) + `"}`
	good := `{"platform":"x","account":"a","id":"2","kind":"post","created_at":"2024-01-01T00:00:00Z","text":"ok"}`
	res, errs := ingestString(t, a, "long.jsonl", long+"\n"+good+"\n")
	if res.Items != 1 || len(errs) != 1 || !strings.Contains(errs[0], "long.jsonl:1: line longer than") {
		t.Fatalf("res %+v errs %q", res, errs)
	}
}

func FuzzParseItemLine(f *testing.F) {
	b, _ := os.ReadFile("../testdata/items.jsonl")
	for _, l := range bytes.Split(b, []byte("\n")) {
		f.Add(l)
	}
	b, _ = os.ReadFile("../testdata/items-bad.jsonl")
	for _, l := range bytes.Split(b, []byte("\n")) {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		it, _, err := archive.ParseItemLine(line)
		if err != nil {
			return
		}
		c1, err := it.CanonicalJSON()
		if err != nil {
			t.Fatal(err)
		}
		// A version read back and written again has the same digest.
		var back archive.Item
		if err := json.Unmarshal(c1, &back); err != nil {
			t.Fatal(err)
		}
		c2, _ := back.CanonicalJSON()
		if !bytes.Equal(c1, c2) {
			t.Fatalf("canonical form not stable:\n%s\n%s", c1, c2)
		}
		if it.Key() == "" || strings.Count(it.Key(), "/") != 2 {
			t.Fatalf("bad key %q", it.Key())
		}
	})
}

func FuzzReadManifest(f *testing.F) {
	for _, name := range []string{"good", "cut-manifest", "altered-manifest"} {
		ms, _ := filepath.Glob(filepath.Join(fixtures, name, "captures", "*", "*", "*", "*.jsonl"))
		for _, m := range ms {
			b, _ := os.ReadFile(m)
			f.Add(b)
		}
	}
	f.Add([]byte("{\"type\":\"footer\"}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var sawFooter bool
		n := 0
		for ml, err := range archive.ReadManifest(bytes.NewReader(b), "fuzz") {
			if err != nil {
				var me *archive.ManifestError
				if !errors.As(err, &me) || !errors.Is(err, archive.ErrDamaged) {
					t.Fatalf("error is not a ManifestError: %v", err)
				}
				return
			}
			n++
			if n == 1 && ml.Header == nil {
				t.Fatal("first line yielded is not the header")
			}
			if sawFooter {
				t.Fatal("a line after the footer")
			}
			sawFooter = ml.Footer != nil
		}
		// A manifest read without error ends with its footer.
		if !sawFooter {
			t.Fatal("manifest accepted without a footer")
		}
	})
}
