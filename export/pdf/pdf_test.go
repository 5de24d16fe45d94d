package pdf_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	lpdf "github.com/ledongthuc/pdf"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/catalog"
	"github.com/osmarc/osmarc/export"
	"github.com/osmarc/osmarc/export/exporttest"
	"github.com/osmarc/osmarc/export/pdf"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func key(id string) string { return archive.ItemKey("facebook", "3rd-brigade", id) }

func run(t *testing.T, f *exporttest.Fixture, out string, keys []string, o export.SourceOptions, media, redacted bool) (export.Manifest, error) {
	t.Helper()
	src := exporttest.Source(t, f, keys, o)
	m := exporttest.Meta(t, f, pdf.FormatName, out)
	m.Versions, m.Media, m.Redacted = o.Versions, media, redacted
	return export.Run(context.Background(), src, pdf.NewFormat().New(), m, nil)
}

// page is one page's text as an independent reader (ledongthuc/pdf)
// extracts it, with the text runs and their positions.
type page struct {
	text  string
	runs  []lpdf.Text
	width float64
}

func extract(t *testing.T, file string) []page {
	t.Helper()
	fh, r, err := lpdf.Open(file)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	defer fh.Close()
	var pages []page
	for i := 1; i <= r.NumPage(); i++ {
		p := r.Page(i)
		s, err := p.GetPlainText(nil)
		if err != nil {
			t.Fatalf("%s page %d: %v", file, i, err)
		}
		width := p.V.Key("MediaBox").Index(2).Float64()
		if width == 0 {
			width = 595.28 // A4, inherited from the page tree
		}
		pages = append(pages, page{text: s, runs: p.Content().Text, width: width})
	}
	return pages
}

// squash drops white space, since lines are wrapped where the page needs.
func squash(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// shown is text as a page shows it: bidi controls and characters outside
// the font as [U+XXXX].
func shown(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '\u202e' || r == '\u202c' || r == '\u202d' || r == '\u2067' || r == '\u200f' {
			fmt.Fprintf(&b, "[U+%04X]", r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// One PDF per thread; every selected item's key, text, version digests
// and capture times are on its pages as extracted by an independent
// reader; every page names the account and thread; nothing unselected
// is there; index.csv and manifest-sha256.txt match the files.
func TestPDFPerThreadReadBack(t *testing.T) {
	f := exporttest.Build(t)
	selected := []string{key("c1"), key("c3"), key("c5"), key("p1"), key("p3"), key("r1")}
	out := filepath.Join(t.TempDir(), "pdfs")
	man, err := run(t, f, out, selected, export.SourceOptions{Versions: export.VersionsAll}, true, false)
	if err != nil {
		t.Fatal(err)
	}
	idxFile, err := os.ReadFile(filepath.Join(out, "index.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(idxFile)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 { // header; threads p1, p2 (c5), p3
		t.Fatalf("index.csv: %v", rows)
	}
	threadOf := map[string]string{key("c1"): key("p1"), key("c3"): key("p1"), key("r1"): key("p1"), key("p1"): key("p1"), key("c5"): key("p2"), key("p3"): key("p3")}
	text := map[string]string{} // thread key → all its pages' text
	var golden strings.Builder
	for _, row := range rows[1:] {
		file := filepath.Join(out, row[0])
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if sha(b) != row[5] {
			t.Errorf("%s: index.csv sha256 %s, file hashes to %s", row[0], row[5], sha(b))
		}
		pages := extract(t, file)
		if fmt.Sprint(len(pages)) != row[4] {
			t.Errorf("%s: %d pages, index says %s", row[0], len(pages), row[4])
		}
		for i, p := range pages {
			if !strings.Contains(p.text, "facebook/3rd-brigade · thread "+row[1]) || !strings.Contains(p.text, fmt.Sprintf("page %d of %d", i+1, len(pages))) {
				t.Errorf("%s page %d lacks its heading or page number:\n%s", row[0], i+1, p.text)
			}
			if !strings.Contains(p.text, "sha256 ") || !strings.Contains(p.text, "captured ") || !strings.Contains(p.text, "created ") {
				t.Errorf("%s page %d lacks digests, capture or creation times", row[0], i+1)
			}
			text[row[1]] += p.text
			head, _ := f.A.Catalog().Head()
			fmt.Fprintf(&golden, "==== %s page %d\n%s\n", row[0], i+1, strings.ReplaceAll(p.text, head.Hash[:16], "JOURNAL-HEAD"))
		}
	}
	for _, k := range selected {
		ci, err := f.A.Catalog().Item(k)
		if err != nil {
			t.Fatal(err)
		}
		all := text[threadOf[k]]
		if !strings.Contains(all, k) {
			t.Errorf("%s is not in its thread's PDF", k)
		}
		for _, v := range ci.Versions {
			content, err := f.A.Version(context.Background(), v.Digest)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(squash(all), squash(shown(content.Text))) {
				t.Errorf("%s: text %q is not in the PDF", k, content.Text)
			}
			if !strings.Contains(all, "sha256 "+v.Digest+" captured "+v.CapturedAt.UTC().Format("2006-01-02 15:04:05Z")) {
				t.Errorf("%s: version %s and its capture time are not in the PDF", k, v.Digest)
			}
		}
	}
	p1 := text[key("p1")]
	for _, want := range []string{"Oui, le défilé passe devant le manège militaire à 10 h.", "[U+202E]evil[U+202C]", "EDITED: 2 versions archived",
		"image https://cdn.facebook.example/p1/route.png · sha256 " + archive.Sum(f.MediaPNG).String()} {
		if !strings.Contains(p1, want) {
			t.Errorf("thread p1 lacks %q", want)
		}
	}
	if !strings.Contains(text[key("p3")], "REMOVED AT SOURCE") {
		t.Error("p3 is not marked removed at source")
	}
	for th, s := range text {
		for _, other := range []string{"recruiting line", "-5 degrees", "HYPERLINK", "Bonjour / Hello"} {
			if strings.Contains(s, other) {
				t.Errorf("thread %s holds %q of an item not selected", th, other)
			}
		}
	}
	sums, _ := os.ReadFile(filepath.Join(out, "manifest-sha256.txt"))
	lines := strings.Split(strings.TrimSpace(string(sums)), "\n")
	if len(lines) != 4 || man.SHA256 != sha(sums) || man.Items != len(selected) {
		t.Errorf("manifest-sha256.txt %q, manifest %+v", sums, man)
	}
	for _, l := range lines {
		sum, name, _ := strings.Cut(l, "  ")
		b, _ := os.ReadFile(filepath.Join(out, name))
		if sha(b) != sum {
			t.Errorf("%s: listed %s", name, sum)
		}
	}
	checkGolden(t, "golden.txt", golden.String())
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("PDF text differs from %s at line %d:\n got: %s\nwant: %s\n(go test -update rewrites it)", path, i+1, g, w)
			}
		}
	}
}

// One PDF for the whole selection when --out ends in .pdf.
func TestPDFSingleFile(t *testing.T) {
	f := exporttest.Build(t)
	out := filepath.Join(t.TempDir(), "all.pdf")
	man, err := run(t, f, out, exporttest.Keys, export.SourceOptions{}, false, false)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	if man.SHA256 != sha(b) || man.Items != len(exporttest.Keys) {
		t.Errorf("manifest %+v", man)
	}
	var all strings.Builder
	for _, p := range extract(t, out) {
		all.WriteString(p.text)
	}
	for _, k := range exporttest.Keys {
		if !strings.Contains(all.String(), k) {
			t.Errorf("%s missing", k)
		}
	}
	if !strings.Contains(all.String(), "mastodon/brigade@social.example · thread mastodon/brigade@social.example/m1") {
		t.Error("the Mastodon account's pages do not name it")
	}
}

// memBlobs serves media from memory, for the hostile-text test.
type memBlobs map[string][]byte

func (m memBlobs) Open(ctx context.Context, d string) (io.ReadCloser, error) {
	b, ok := m[d]
	if !ok {
		return nil, archive.ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// Hostile text does not break the layout: a word of 3,000 letters is
// broken across lines and kept whole in the text; script, RTL overrides
// and characters outside the font are shown as text; every run of text
// stays inside the page; an item that runs over several pages has its
// key, dates, digest and capture time at the top of each.
func TestPDFHostileText(t *testing.T) {
	long := strings.Repeat("abcdefghij", 300)
	para := strings.Repeat("Le défilé passe devant le manège; the parade goes past the armoury. ", 400)
	when := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	mk := func(id, text string) *export.Item {
		v := &archive.Item{Platform: "x", Account: "unit", ID: id, Kind: "post", CreatedAt: when.Format(time.RFC3339), Text: text}
		canon, _ := v.CanonicalJSON()
		k := archive.ItemKey("x", "unit", id)
		return &export.Item{Key: k, Platform: "x", Account: "unit", ID: id, Kind: "post", ThreadKey: k, Text: text, CreatedAt: when,
			FirstCaptured: when, LastCaptured: when, Role: export.RoleSelected, VersionCount: 1,
			Versions: []export.Version{{Digest: sha(canon), CapturedAt: when.Add(time.Hour), Content: v}}}
	}
	items := []*export.Item{
		mk("long", "start "+long+" end"),
		mk("rtl", "\u202eevil\u202c \u2067isolate\u2069 <script>alert(1)</script> مرحبا 你好 😀 \x07bell"),
		mk("para", para),
	}
	out := filepath.Join(t.TempDir(), "hostile.pdf")
	w := pdf.NewFormat().New()
	m := export.Meta{Format: "pdf", Out: out, Exporter: "tester", ExportedAt: exporttest.ExportedAt, Blobs: memBlobs{}}
	ctx := context.Background()
	if err := w.Begin(ctx, m); err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if err := w.Write(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	pages := extract(t, out)
	var all strings.Builder
	for i, p := range pages {
		all.WriteString(p.text)
		for _, r := range p.runs {
			if r.X < 0 || r.X+r.W > p.width+0.5 {
				t.Fatalf("page %d: text %q at x=%.1f width %.1f runs off the page (%.1f wide)", i+1, r.S, r.X, r.W, p.width)
			}
		}
	}
	s := all.String()
	if !strings.Contains(squash(s), "start"+long+"end") {
		t.Error("the long word is not whole in the text")
	}
	for _, want := range []string{"[U+202E]evil[U+202C]", "[U+2067]isolate[U+2069]", "<script>alert(1)</script>", "[U+0645]", "[U+4F60]", "[U+1F600]", "[U+0007]bell"} {
		if !strings.Contains(s, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
	// The body text alone (10.5 pt; headings, digests and page headers
	// are smaller) holds the paragraph whole across its pages.
	var body strings.Builder
	for _, p := range pages {
		for _, r := range p.runs {
			if r.FontSize > 10.4 && r.FontSize < 10.6 {
				body.WriteString(r.S)
			}
		}
	}
	if !strings.Contains(squash(body.String()), squash(para)) {
		t.Error("the long paragraph is not whole")
	}
	// The paragraph spans pages; each page after its first repeats its
	// key, dates, digest and capture time.
	paraKey := items[2].Key
	cont := 0
	for _, p := range pages {
		if strings.Contains(p.text, "continued: "+paraKey) {
			cont++
			if !strings.Contains(p.text, "created 2024-03-01 10:00:00Z") || !strings.Contains(p.text, "sha256 "+items[2].Versions[0].Digest+" captured 2024-03-01 11:00:00Z") {
				t.Errorf("continued page lacks the item's dates or digest:\n%s", p.text)
			}
		}
	}
	if cont < 2 {
		t.Errorf("the long paragraph continued on %d pages, want at least 2", cont)
	}
}

type phoneRedactor struct{}

func (phoneRedactor) Redact(ctx context.Context, ci *catalog.Item, v *archive.Item, latest bool) ([]export.Redaction, error) {
	if !strings.Contains(v.Text, "555-0123") {
		return nil, nil
	}
	v.Text = strings.ReplaceAll(v.Text, "(613) 555-0123", "[REDACTED b(6)]")
	return []export.Redaction{{Field: "text", Kind: "phone", Count: 1, Decision: "redact", DecidedBy: exporttest.Actor, Exemption: "b6"}}, nil
}

// A redacted PDF holds no trace of the redacted text (in its extracted
// text or its bytes) and says where the redaction was made.
func TestRedactedPDF(t *testing.T) {
	f := exporttest.Build(t)
	out := filepath.Join(t.TempDir(), "redacted.pdf")
	if _, err := run(t, f, out, []string{key("c1"), key("p1")}, export.SourceOptions{Redactor: phoneRedactor{}}, false, true); err != nil {
		t.Fatal(err)
	}
	ci, _ := f.A.Catalog().Item(key("c1"))
	var all strings.Builder
	for _, p := range extract(t, out) {
		all.WriteString(p.text)
	}
	s := all.String()
	for _, secret := range []string{"555-0123", "(613)", ci.Latest().Digest} {
		if strings.Contains(s, secret) {
			t.Errorf("redacted PDF text holds %q", secret)
		}
	}
	if !strings.Contains(s, "[REDACTED b(6)]") || !strings.Contains(s, "REDACTED text: phone ×1 (b6)") || !strings.Contains(s, "archived digest withheld") {
		t.Errorf("redacted PDF does not say where:\n%s", s)
	}
	raw, _ := os.ReadFile(out)
	if bytes.Contains(raw, []byte("555-0123")) || bytes.Contains(raw, []byte(ci.Latest().Digest)) {
		t.Error("the PDF's bytes hold the redacted text or digest")
	}
}

// An existing path is refused and left alone; a damaged media file fails
// the export and leaves nothing behind.
func TestPDFBadInput(t *testing.T) {
	f := exporttest.Build(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "exists.pdf")
	os.WriteFile(out, []byte("keep"), 0o644)
	if _, err := run(t, f, out, []string{key("p1")}, export.SourceOptions{}, true, false); !errors.Is(err, export.ErrExists) {
		t.Fatalf("existing: %v", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "keep" {
		t.Fatal("existing file changed")
	}
	d := archive.Sum(f.MediaPNG)
	exporttest.Corrupt(t, f, d)
	_, err := run(t, f, filepath.Join(dir, "damaged"), []string{key("p1")}, export.SourceOptions{}, true, false)
	if !errors.Is(err, export.ErrIncomplete) || !strings.Contains(err.Error(), d.String()) {
		t.Fatalf("damaged media: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("left behind: %v", ents)
	}
}
