package loadfile_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	stdhtml "html"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/catalog"
	"github.com/osmarc/osmarc/export"
	"github.com/osmarc/osmarc/export/exporttest"
	"github.com/osmarc/osmarc/export/loadfile"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func key(id string) string { return archive.ItemKey("facebook", "3rd-brigade", id) }

func run(t *testing.T, f *exporttest.Fixture, out string, keys []string, o export.SourceOptions, media, redacted bool) (export.Manifest, error) {
	t.Helper()
	src := exporttest.Source(t, f, keys, o)
	m := exporttest.Meta(t, f, loadfile.FormatName, out)
	m.Versions, m.Media, m.Redacted = o.Versions, media, redacted
	return export.Run(context.Background(), src, loadfile.NewFormat(loadfile.Options{}).New(), m, nil)
}

// parseDAT is an independent reader of a Concordance DAT: CR LF records,
// fields quoted with þ and separated by ASCII 20; it fails on anything
// else, so a stray delimiter in a value is caught.
func parseDAT(t *testing.T, b []byte) []map[string]string {
	t.Helper()
	if !utf8.Valid(b) {
		t.Fatal("DAT is not UTF-8")
	}
	if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
		t.Fatal("DAT starts with a byte-order mark")
	}
	s := string(b)
	if !strings.HasSuffix(s, "\r\n") {
		t.Fatal("DAT does not end with CR LF")
	}
	var header []string
	var rows []map[string]string
	for i, line := range strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n") {
		if strings.ContainsAny(line, "\r\n") {
			t.Fatalf("DAT line %d holds a bare line break", i+1)
		}
		var fields []string
		for j, cell := range strings.Split(line, "\x14") {
			if len(cell) < 4 || !strings.HasPrefix(cell, "þ") || !strings.HasSuffix(cell, "þ") {
				t.Fatalf("DAT line %d field %d is not þ-quoted: %q", i+1, j+1, cell)
			}
			v := cell[len("þ") : len(cell)-len("þ")]
			if strings.Contains(v, "þ") {
				t.Fatalf("DAT line %d field %d holds a quote: %q", i+1, j+1, cell)
			}
			fields = append(fields, v)
		}
		if i == 0 {
			header = fields
			continue
		}
		if len(fields) != len(header) {
			t.Fatalf("DAT line %d: %d fields, header has %d", i+1, len(fields), len(header))
		}
		row := map[string]string{}
		for j, h := range header {
			row[h] = fields[j]
		}
		rows = append(rows, row)
	}
	if strings.Join(header, ",") != strings.Join(loadfile.Fields, ",") {
		t.Fatalf("DAT header %v", header)
	}
	return rows
}

func readRel(t *testing.T, dir, winPath string) []byte {
	t.Helper()
	if strings.Contains(winPath, "/") || strings.HasPrefix(winPath, `\`) || strings.Contains(winPath, "..") {
		t.Fatalf("path %q is not a relative load-file path", winPath)
	}
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(strings.ReplaceAll(winPath, `\`, "/"))))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Every selected item is a document of the DAT with its natives and text,
// its media an attachment in its family and in the OPT; every hash
// matches; nothing unselected is in the set.
func TestLoadFileReadBack(t *testing.T) {
	f := exporttest.Build(t)
	selected := []string{key("c1"), key("c3"), key("p1"), key("p3"), key("r1")}
	out := filepath.Join(t.TempDir(), "production")
	man, err := run(t, f, out, selected, export.SourceOptions{Versions: export.VersionsAll}, true, false)
	if err != nil {
		t.Fatal(err)
	}
	dat, err := os.ReadFile(filepath.Join(out, "loadfile.dat"))
	if err != nil {
		t.Fatal(err)
	}
	rows := parseDAT(t, dat)
	if len(rows) != 6 { // five items and p1's image
		t.Fatalf("%d DAT rows, want 6", len(rows))
	}
	byKey := map[string]map[string]string{}
	for i, r := range rows {
		if want := fmt.Sprintf("OSM%08d", i+1); r["DOCID"] != want || r["BEGDOC"] != want || r["ENDDOC"] != want {
			t.Errorf("row %d: DOCID %s BEGDOC %s ENDDOC %s, want %s", i, r["DOCID"], r["BEGDOC"], r["ENDDOC"], want)
		}
		if r["KIND"] != "attachment" {
			byKey[r["ITEM_KEY"]] = r
		}
	}
	for _, k := range selected {
		r := byKey[k]
		if r == nil {
			t.Errorf("%s is not in the DAT", k)
			continue
		}
		ci, err := f.A.Catalog().Item(k)
		if err != nil {
			t.Fatal(err)
		}
		var digests []string
		for _, v := range ci.Versions {
			digests = append(digests, v.Digest)
		}
		if r["VERSION_SHA256"] != strings.Join(digests, "; ") || r["VERSION_COUNT"] != fmt.Sprint(len(ci.Versions)) {
			t.Errorf("%s: versions %s, archive %v", k, r["VERSION_SHA256"], digests)
		}
		if r["PLATFORM"] != "facebook" || r["ACCOUNT"] != "3rd-brigade" || r["DATE_CREATED"] != ci.CreatedAt.UTC().Format(time.RFC3339) || r["AUTHOR"] == "" {
			t.Errorf("%s: row %v", k, r)
		}
		native := readRel(t, out, r["NATIVEPATH"])
		if sha(native) != r["HASH"] {
			t.Errorf("%s: HASH %s, native hashes to %s", k, r["HASH"], sha(native))
		}
		var it export.Item
		if err := json.Unmarshal(native, &it); err != nil || it.Key != k || len(it.Versions) != len(ci.Versions) {
			t.Errorf("%s: native JSON: %v", k, err)
		}
		for i, v := range it.Versions {
			canon, _ := v.Content.CanonicalJSON()
			if sha(canon) != ci.Versions[i].Digest {
				t.Errorf("%s: native version %d does not hash to the archive's digest", k, i)
			}
		}
		text := string(readRel(t, out, r["TEXTPATH"]))
		html := string(readRel(t, out, r["HTMLPATH"]))
		if !strings.Contains(text, it.Text) || !strings.Contains(text, k) {
			t.Errorf("%s: text file lacks the text:\n%s", k, text)
		}
		if strings.Contains(html, "<script>") || !strings.Contains(html, "Content-Security-Policy") {
			t.Errorf("%s: HTML native is not safe", k)
		}
		if r["FILE_EXT"] != "json" || r["REDACTED"] != "N" {
			t.Errorf("%s: %v", k, r)
		}
	}
	// p1's family: the post and its image.
	p1 := byKey[key("p1")]
	img := rows[len(rows)-1]
	for i, r := range rows {
		if r["KIND"] == "attachment" {
			img = rows[i]
		}
	}
	if p1["ATTACH_COUNT"] != "1" || p1["BEGATTACH"] != p1["DOCID"] || p1["ENDATTACH"] != img["DOCID"] ||
		img["PARENT_DOCID"] != p1["DOCID"] || img["BEGATTACH"] != p1["DOCID"] || img["ENDATTACH"] != img["DOCID"] {
		t.Errorf("p1 family: p1 %v\nimage %v", p1, img)
	}
	png := readRel(t, out, img["NATIVEPATH"])
	if !bytes.Equal(png, f.MediaPNG) || img["HASH"] != sha(f.MediaPNG) || img["MIME_TYPE"] != "image/png" || img["FILENAME"] != "route.png" {
		t.Errorf("image attachment: %v", img)
	}
	if r1 := byKey[key("r1")]; r1["REPLY_TO_DOCID"] != byKey[key("c1")]["DOCID"] || r1["PARENT_KEY"] != key("c1") || r1["THREAD_KEY"] != key("p1") {
		t.Errorf("r1 threading: %v", r1)
	}
	if p3 := byKey[key("p3")]; p3["DATE_REMOVED"] == "" {
		t.Errorf("p3 not marked removed at source")
	}
	if c3 := byKey[key("c3")]; !strings.Contains(c3["AUTHOR"], "<img src=x") {
		t.Errorf("c3 author not kept as text: %q", c3["AUTHOR"])
	} else if html := string(readRel(t, out, c3["HTMLPATH"])); !strings.Contains(stdhtml.UnescapeString(html), "[U+202E]evil[U+202C]") ||
		!strings.Contains(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") || strings.Contains(html, "<img src=x") {
		t.Errorf("c3 HTML does not show its hidden characters or lets markup through:\n%s", html)
	}

	// The OPT names the one image, with a document break.
	opt, err := os.ReadFile(filepath.Join(out, "loadfile.opt"))
	if err != nil {
		t.Fatal(err)
	}
	want := img["DOCID"] + ",VOL001," + img["NATIVEPATH"] + ",Y,,,1\r\n"
	if string(opt) != want {
		t.Errorf("OPT = %q, want %q", opt, want)
	}

	// manifest-sha256.txt lists every file with its digest.
	sums, err := os.ReadFile(filepath.Join(out, "manifest-sha256.txt"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(sums))
	for sc.Scan() {
		sum, rel, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("manifest line %q", sc.Text())
		}
		listed[rel] = sum
	}
	var onDisk []string
	filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(out, p)
			onDisk = append(onDisk, filepath.ToSlash(rel))
		}
		return nil
	})
	for _, rel := range onDisk {
		if rel == "manifest-sha256.txt" {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(out, rel))
		if listed[rel] != sha(b) {
			t.Errorf("%s: listed %q, hashes to %s", rel, listed[rel], sha(b))
		}
	}
	if len(listed) != len(onDisk)-1 || man.SHA256 != sha(sums) || man.Items != 5 || man.Versions != 6 {
		t.Errorf("manifest lists %d files of %d; %+v", len(listed), len(onDisk), man)
	}

	// Nothing of the items not selected.
	for _, rel := range onDisk {
		b, _ := os.ReadFile(filepath.Join(out, rel))
		for _, text := range []string{"recruiting line", "-5 degrees", "@everyone", "HYPERLINK", "Bonjour / Hello", "mastodon"} {
			if bytes.Contains(b, []byte(text)) {
				t.Errorf("%s holds %q of an item not selected", rel, text)
			}
		}
	}
	goldenSet(t, out, onDisk)
}

// goldenSet compares the DAT, the OPT, the checksum list and the text and
// HTML of each document with testdata/golden.
func goldenSet(t *testing.T, out string, files []string) {
	t.Helper()
	sort.Strings(files)
	var b strings.Builder
	for _, rel := range files {
		data, _ := os.ReadFile(filepath.Join(out, rel))
		fmt.Fprintf(&b, "==== %s (%d bytes)\n", rel, len(data))
		if strings.HasSuffix(rel, ".png") {
			continue
		}
		b.WriteString(strings.NewReplacer("\x14", "<DC4>", "\r\n", "<CRLF>\n").Replace(string(data)))
		b.WriteString("\n")
	}
	path := filepath.Join("testdata", "golden.txt")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if got := b.String(); got != string(want) {
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
				t.Fatalf("load file set differs from %s at line %d:\n got: %s\nwant: %s\n(go test -update rewrites it)", path, i+1, g, w)
			}
		}
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

// A redacted set holds no trace of the redacted text in any file, says
// where the redaction was made, and gives no digest of the archived
// version.
func TestRedactedLoadFile(t *testing.T) {
	f := exporttest.Build(t)
	out := filepath.Join(t.TempDir(), "prod")
	c1 := key("c1")
	if _, err := run(t, f, out, []string{c1, key("p1")}, export.SourceOptions{Redactor: phoneRedactor{}}, false, true); err != nil {
		t.Fatal(err)
	}
	ci, _ := f.A.Catalog().Item(c1)
	filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		for _, secret := range []string{"555-0123", "(613)", ci.Latest().Digest} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds %q", p, secret)
			}
		}
		return nil
	})
	dat, _ := os.ReadFile(filepath.Join(out, "loadfile.dat"))
	rows := parseDAT(t, dat)
	if rows[0]["ITEM_KEY"] != c1 || rows[0]["REDACTED"] != "Y" || !strings.Contains(rows[0]["REDACTIONS"], "phone") || rows[0]["VERSION_SHA256"] != "" {
		t.Errorf("c1 row: %v", rows[0])
	}
	if _, err := os.Stat(filepath.Join(out, "loadfile.opt")); !os.IsNotExist(err) {
		t.Errorf("an OPT without images: %v", err)
	}
	if text := readRel(t, out, rows[0]["TEXTPATH"]); !bytes.Contains(text, []byte("[REDACTED b(6)]")) {
		t.Errorf("text: %s", text)
	}
}

// An existing path is refused and left alone; a damaged media file fails
// the export and leaves nothing behind.
func TestLoadFileBadInput(t *testing.T) {
	f := exporttest.Build(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "exists")
	os.Mkdir(out, 0o755)
	if _, err := run(t, f, out, []string{key("p1")}, export.SourceOptions{}, true, false); !errors.Is(err, export.ErrExists) {
		t.Fatalf("existing: %v", err)
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

func TestDATValue(t *testing.T) {
	for in, want := range map[string]string{
		"plain":            "plain",
		"a\r\nb\nc\rd":     "a®b®c®d",
		"Þór þing":         "Þór Þing",
		"tab\tsep\x14done": "tab\tsep done",
		"bad \xff utf8":    "bad \uFFFD utf8",
	} {
		if got := loadfile.DATValue(in); got != want {
			t.Errorf("DATValue(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzDATRow: any values written as a row read back, with the
// independent parser, as one record whose fields are the values as
// DATValue makes them safe.
func FuzzDATRow(f *testing.F) {
	f.Add("plain", "þorn\x14sep\r\nline", "")
	f.Add("\xff\xfe", "®", "a\nb")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		var buf bytes.Buffer
		w, err := loadfile.NewDATWriter(&buf, loadfile.Fields)
		if err != nil {
			t.Fatal(err)
		}
		vals := make([]string, len(loadfile.Fields))
		vals[0], vals[1], vals[len(vals)-1] = a, b, c
		if err := w.Row(vals); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		rows := parseDAT(t, buf.Bytes())
		if len(rows) != 1 {
			t.Fatalf("%d rows", len(rows))
		}
		for i, v := range vals {
			if got := rows[0][loadfile.Fields[i]]; got != loadfile.DATValue(v) {
				t.Fatalf("field %d: %q, want %q", i, got, loadfile.DATValue(v))
			}
		}
	})
}
