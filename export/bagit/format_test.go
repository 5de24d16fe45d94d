package bagit

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/export"
	"github.com/osmarc/osmarc/export/exporttest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join(exporttest.TestdataDir(), "golden", "bag", name)
	if *update {
		os.MkdirAll(filepath.Dir(p), 0o750)
		if err := os.WriteFile(p, got, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update to accept):\n%s", name, got)
	}
}

// ExportBag exports keys of the fixture as a bag into a new directory.
func exportBag(t *testing.T, f *exporttest.Fixture, o export.SourceOptions, media bool) (string, export.Manifest) {
	t.Helper()
	src, err := export.NewSource(f.A, o)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "bag")
	meta := exporttest.Meta(t, f, "bagit", out)
	meta.Organization, meta.Media = "3rd Brigade, Records Office", media
	meta.Selection = export.Selection{Hold: exporttest.Hold, Versions: o.Versions, Threads: o.Threads, Media: media}
	m, err := export.Run(context.Background(), src, Format().New(), meta, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out, m
}

// The bag validates with osmarc's verifier and an independent one; every
// selected item is in it with every version, whose file hashes to the
// archived version's digest; nothing unselected is in it; the chain of
// custody names the journal head and each item's digests.
func TestExportBag(t *testing.T) {
	f := exporttest.Build(t)
	sel := exporttest.Keys[:9]
	dir, m := exportBag(t, f, export.SourceOptions{Keys: export.KeyList(sel), Versions: export.VersionsAll}, true)
	r, err := Verify(context.Background(), dir, nil)
	if err != nil || !r.Valid() {
		t.Fatalf("verify: %v %v", r.Problems, err)
	}
	script, _ := filepath.Abs("testdata/validate_bag.py")
	if out, ok := IndependentValidator(t, script, dir); !ok {
		t.Fatalf("independent validator:\n%s", out)
	}
	if m.Items != 9 || m.Versions != 10 || m.DigestOf != "tagmanifest-sha256.txt" {
		t.Errorf("manifest %+v", m)
	}
	tm, _ := os.ReadFile(filepath.Join(dir, "tagmanifest-sha256.txt"))
	if m.SHA256 != sha(tm) {
		t.Errorf("manifest digest %s, tag manifest hashes to %s", m.SHA256, sha(tm))
	}
	// Manifests list files in the order they were written, which the
	// concurrent writers vary: compared sorted. (The tag manifest holds
	// the manifests' digests, so it varies too; Verify checks it.)
	for _, name := range []string{"bag-info.txt", "manifest-sha256.txt"} {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		ls := strings.SplitAfter(string(b), "\n")
		sort.Strings(ls)
		golden(t, name, []byte(strings.Join(ls, "")))
	}
	for _, name := range []string{"chain-of-custody.json", "index.csv", ThreadPage("facebook/3rd-brigade/p1"), "items/items-00001.jsonl"} {
		b, err := os.ReadFile(filepath.Join(dir, "data", name))
		if err != nil {
			t.Fatal(err)
		}
		golden(t, strings.ReplaceAll(name, "/", "_"), b)
	}
	info, _ := os.ReadFile(filepath.Join(dir, "bag-info.txt"))
	for _, want := range []string{"Source-Organization: 3rd Brigade, Records Office\n", "Bagging-Date: 2024-06-10\n", "External-Identifier: " + exporttest.Hold + "\n",
		"Internal-Sender-Description: ", "Payload-Oxum: ", "Bag-Size: "} {
		if !strings.Contains(string(info), want) {
			t.Errorf("bag-info.txt lacks %q", want)
		}
	}
	// Every item and version, and nothing else: each version's content in
	// the items file is the archived JSON byte for byte.
	var custody struct {
		JournalHead export.JournalHead `json:"journal_head"`
		Items       []struct {
			Key      string
			File     string
			Line     int
			Versions []struct {
				Digest        string
				ContentSHA256 string `json:"content_sha256"`
			}
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "data", FileCustody))
	if err := json.Unmarshal(b, &custody); err != nil {
		t.Fatalf("chain-of-custody.json: %v", err)
	}
	head, _ := f.A.Catalog().Head()
	if custody.JournalHead.Hash != head.Hash || len(custody.Items) != 9 {
		t.Errorf("custody head %+v items %d", custody.JournalHead, len(custody.Items))
	}
	lines := map[string][]string{}
	for _, ci := range custody.Items {
		if lines[ci.File] == nil {
			fb, err := os.ReadFile(filepath.Join(dir, "data", ci.File))
			if err != nil {
				t.Fatal(err)
			}
			lines[ci.File] = strings.Split(strings.TrimSuffix(string(fb), "\n"), "\n")
		}
		var line struct {
			Key      string
			Versions []struct {
				Digest  string
				Content json.RawMessage
			}
		}
		if err := json.Unmarshal([]byte(lines[ci.File][ci.Line-1]), &line); err != nil || line.Key != ci.Key {
			t.Fatalf("%s:%d is not %s: %v", ci.File, ci.Line, ci.Key, err)
		}
		item, err := f.A.Catalog().Item(ci.Key)
		if err != nil {
			t.Fatalf("custody names %s: %v", ci.Key, err)
		}
		if len(ci.Versions) != len(item.Versions) || len(line.Versions) != len(item.Versions) {
			t.Errorf("%s: %d versions, archive %d", ci.Key, len(ci.Versions), len(item.Versions))
		}
		for i, v := range line.Versions {
			if sha(v.Content) != item.Versions[i].Digest || v.Digest != item.Versions[i].Digest || ci.Versions[i].Digest != v.Digest || ci.Versions[i].ContentSHA256 != "" {
				t.Errorf("%s version %d: content does not hash to its digest", ci.Key, i)
			}
		}
	}
	if strings.Contains(strings.Join(lines["items/items-00001.jsonl"], "\n"), "mastodon") {
		t.Errorf("unselected account exported")
	}
	// index.csv reads back with encoding/csv, one row per version.
	fh, _ := os.Open(filepath.Join(dir, "data", FileIndexCSV))
	rows, err := csv.NewReader(fh).ReadAll()
	fh.Close()
	if err != nil || len(rows) != 11 {
		t.Errorf("index.csv: %d rows, %v", len(rows), err)
	}
	// The media file is there, once, with its bytes.
	msum := archive.Sum(f.MediaPNG).String()
	png, err := os.ReadFile(filepath.Join(dir, "data", "media", msum[:2], msum+".png"))
	if err != nil || !bytes.Equal(png, f.MediaPNG) {
		t.Errorf("media: %v", err)
	}
	// Hostile text is escaped in the thread page.
	page, _ := os.ReadFile(filepath.Join(dir, "data", ThreadPage("facebook/3rd-brigade/p1")))
	if bytes.Contains(page, []byte("<script>alert")) || bytes.Contains(page, []byte("<img src=x")) || !bytes.Contains(page, []byte("&lt;script&gt;alert")) {
		t.Errorf("thread page does not escape archived text")
	}
	for _, want := range []string{"removed at source", "edited", "le défilé passe", "../../../media/"} {
		if !bytes.Contains(page, []byte(want)) && want != "removed at source" {
			t.Errorf("thread page lacks %q", want)
		}
	}
	p3, _ := os.ReadFile(filepath.Join(dir, "data", ThreadPage("facebook/3rd-brigade/p3")))
	if !bytes.Contains(p3, []byte("removed at source")) {
		t.Errorf("p3 page lacks the removal marker")
	}
	js, _ := os.ReadFile(filepath.Join(dir, "data", "viewer", "items-00001.js"))
	if bytes.Contains(js, []byte("<script>")) || bytes.Contains(js, []byte("</script")) {
		t.Errorf("viewer data not escaped")
	}
}

// --versions latest without --media: one version file each, no media.
func TestExportBagLatest(t *testing.T) {
	f := exporttest.Build(t)
	dir, m := exportBag(t, f, export.SourceOptions{Keys: export.KeyList([]string{exporttest.Keys[5]})}, false)
	if m.Items != 1 || m.Versions != 1 {
		t.Errorf("manifest %+v", m)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "media")); !os.IsNotExist(err) {
		t.Errorf("media exported without --media")
	}
	b, _ := os.ReadFile(filepath.Join(dir, "data", "items", "items-00001.jsonl"))
	ci, _ := f.A.Catalog().Item(exporttest.Keys[5])
	if strings.Count(string(b), `"content":`) != 1 || !strings.Contains(string(b), ci.Latest().Digest) || strings.Contains(string(b), ci.Versions[0].Digest) {
		t.Errorf("versions: %s", b)
	}
}

// fullDisk fails writes with ENOSPC once limit bytes were written.
type fullDisk struct {
	w     io.WriteCloser
	left  *int
	limit int
}

func (f fullDisk) Write(p []byte) (int, error) {
	if *f.left < len(p) {
		return 0, fmt.Errorf("write: %w", syscall.ENOSPC)
	}
	*f.left -= len(p)
	return f.w.Write(p)
}

func (f fullDisk) Close() error { return f.w.Close() }

// A disk that fills up mid-export, or a damaged blob, leaves nothing at
// the output path nor beside it, and the error says so.
func TestExportBagFailsCleanly(t *testing.T) {
	f := exporttest.Build(t)
	for _, tc := range []struct {
		name string
		meta func(m *export.Meta)
		want string
	}{
		{"disk full", func(m *export.Meta) {
			left := 20000
			m.Guard = func(name string, w io.WriteCloser) io.WriteCloser { return fullDisk{w: w, left: &left} }
		}, "no space left on device"},
		{"damaged media", func(m *export.Meta) { m.Blobs = damaged{m.Blobs, archive.Sum(f.MediaPNG).String()} }, "digest mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, _ := export.NewSource(f.A, export.SourceOptions{Keys: export.KeyList(exporttest.Keys), Versions: export.VersionsAll})
			parent := t.TempDir()
			out := filepath.Join(parent, "bag")
			m := export.Meta{Format: "bagit", Out: out, Media: true, Blobs: src.Blobs()}
			tc.meta(&m)
			_, err := export.Run(context.Background(), src, Format().New(), m, nil)
			if err == nil || !errors.Is(err, export.ErrIncomplete) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "nothing is at "+out) {
				t.Fatalf("error %v", err)
			}
			if ents, _ := os.ReadDir(parent); len(ents) != 0 {
				t.Errorf("left after the failure: %v", ents)
			}
		})
	}
}

// damaged serves one blob with a byte changed.
type damaged struct {
	export.Blobs
	digest string
}

func (d damaged) Open(ctx context.Context, digest string) (io.ReadCloser, error) {
	rc, err := d.Blobs.Open(ctx, digest)
	if err != nil || digest != d.digest {
		return rc, err
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	b[len(b)-1] ^= 1
	return io.NopCloser(bytes.NewReader(b)), nil
}

// Thread pages are the same whether a thread's records are read from the
// spool in one read or one by one, and whether a page is written whole or
// a thread at a time.
func TestThreadPagesReadEitherWay(t *testing.T) {
	f := exporttest.Build(t)
	o := export.SourceOptions{Keys: export.KeyList(exporttest.Keys), Versions: export.VersionsAll, Threads: true}
	pages := func() map[string]string {
		dir, _ := exportBag(t, f, o, true)
		out := map[string]string{}
		root := filepath.Join(dir, "data", "threads")
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				b, _ := os.ReadFile(p)
				out[p[len(root):]] = string(b)
			}
			return err
		})
		return out
	}
	together := pages()
	defer func(w int64) { spoolWindow = w }(spoolWindow)
	spoolWindow = 0
	apart := pages()
	// Written a thread at a time, as a page larger than pageFlush is.
	defer func(f int) { pageFlush = f }(pageFlush)
	pageFlush = 1
	streamed := pages()
	if len(together) == 0 || len(together) != len(apart) || len(together) != len(streamed) {
		t.Fatalf("%d pages read together, %d apart, %d streamed", len(together), len(apart), len(streamed))
	}
	multi := 0
	for name, page := range together {
		if apart[name] != page || streamed[name] != page {
			t.Errorf("%s differs", name)
		}
		if strings.Count(page, "<article") > 1 {
			multi++
		}
	}
	if multi == 0 {
		t.Error("no thread of several items: the test shows nothing")
	}
}

// Thread pages are written one directory after another in turn, each
// once.
func TestInterleaveDirs(t *testing.T) {
	keys := []string{"facebook/a/1", "facebook/a/2", "facebook/a/3", "x/b/1", "youtube/c/1", "youtube/c/2"}
	got := interleaveDirs(keys)
	want := []string{"facebook/a/1", "x/b/1", "youtube/c/1", "facebook/a/2", "youtube/c/2", "facebook/a/3"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if len(interleaveDirs(nil)) != 0 {
		t.Error("keys from none")
	}
}

// The manifests list the payload in the same order whichever of the
// concurrent writers finishes first: two exports of the same selection
// have the same manifests byte for byte, and the same payload.
func TestExportBagManifestsDeterministic(t *testing.T) {
	f := exporttest.Build(t)
	o := export.SourceOptions{Keys: export.KeyList(exporttest.Keys), Versions: export.VersionsAll, Threads: true, Workers: 4}
	first, _ := exportBag(t, f, o, true)
	for range 3 {
		again, _ := exportBag(t, f, o, true)
		for _, name := range []string{"manifest-sha256.txt", "manifest-sha512.txt"} {
			a, _ := os.ReadFile(filepath.Join(first, name))
			b, _ := os.ReadFile(filepath.Join(again, name))
			if len(a) == 0 || !bytes.Equal(a, b) {
				t.Fatalf("%s differs between two exports:\n%s\n---\n%s", name, a, b)
			}
		}
	}
}

// An item's line, its versions' contents spliced in as they are, is
// byte for byte what encoding/json writes of the whole item, on values
// that test the escaping: HTML characters (not escaped), invalid UTF-8,
// line separators, times with and without fractions and zones, empty and
// missing members.
func TestItemLineIsEncodingJSON(t *testing.T) {
	removed := time.Date(2024, 3, 1, 10, 0, 0, 123456789, time.UTC)
	created := time.Date(2023, 12, 31, 23, 59, 59, 0, time.FixedZone("x", -5*3600))
	odd := "a <b> & \"c\" \u2028 \xff\xfe é \x01"
	content := json.RawMessage(`{"id":"1","text":"<i>hi</i> & \u2028"}`)
	items := []itemJSON{
		{Key: "facebook:acct:1", Platform: odd, Kind: "post", ThreadKey: "k", Role: "selected", CreatedAt: created, Thread: "threads/x.html",
			Versions: []versionRef{{Digest: "v", CapturedAt: created, Content: content}}},
		{Key: odd, ParentKey: odd, CreatedAt: created, EditedAt: removed, Edited: true, RemovedAt: &removed, FirstCaptured: removed, LastCaptured: created,
			Classification: odd, Exemptions: []string{odd, ""}, Holds: []string{}, VersionCount: 3,
			Raw:        []fileRef{{Digest: "d", CapturedAt: removed, File: odd}},
			Media:      []mediaRef{{fileRef: fileRef{Digest: "m"}, URL: odd, Alt: odd}},
			Redactions: []export.Redaction{{Field: "text", Kind: odd, Count: 2}},
			Versions: []versionRef{{Digest: "v1", CapturedAt: removed, Capture: odd, Content: content},
				{CapturedAt: created, Redacted: true, ContentSHA256: "s", Content: content}, {Digest: "v3"}}},
	}
	for i, ij := range items {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(ij); err != nil {
			t.Fatal(err)
		}
		var got, scratch, ref bytes.Buffer
		if err := writeItemLine(&got, &scratch, &ref, &ij); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("item %d line\n got %s\nwant %s", i, got.Bytes(), want.Bytes())
		}
	}
}

func TestItemsFileName(t *testing.T) {
	for n, want := range map[int]string{1: "items/items-00001.jsonl", 42: "items/items-00042.jsonl", 99999: "items/items-99999.jsonl", 123456: "items/items-123456.jsonl"} {
		if got := itemsFileName(n); got != want || got != fmt.Sprintf("items/items-%05d.jsonl", n) {
			t.Errorf("itemsFileName(%d) = %s", n, got)
		}
	}
}
