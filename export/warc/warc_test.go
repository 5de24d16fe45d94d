package warc

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/catalog"
	"github.com/osmarc/osmarc/export"
	"github.com/osmarc/osmarc/export/exporttest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func key(id string) string { return archive.ItemKey("facebook", "3rd-brigade", id) }

// run exports keys of the fixture as WARC to out.
func run(t *testing.T, f *exporttest.Fixture, out string, keys []string, o export.SourceOptions, media, redacted bool) (export.Manifest, error) {
	t.Helper()
	src := exporttest.Source(t, f, keys, o)
	m := exporttest.Meta(t, f, FormatName, out)
	m.Organization = "3rd Brigade"
	m.Selection = export.Selection{Filters: map[string][]string{"account": {exporttest.Account}}, Versions: o.Versions, Media: media, Redact: redacted}
	m.Versions, m.Media, m.Redacted = o.Versions, media, redacted
	w := NewFormat(Options{Infos: ManifestInfos(f.A)}).New()
	return export.Run(context.Background(), src, w, m, nil)
}

// metadataOf decodes an item's metadata record.
func metadataOf(t *testing.T, r *warcioRecord) itemMetadata {
	t.Helper()
	var md itemMetadata
	if err := json.Unmarshal(r.Block, &md); err != nil {
		t.Fatalf("metadata record %s: %v", r.Get("WARC-Record-ID"), err)
	}
	return md
}

// checkRecords checks what every record must satisfy, as warcio read it.
func checkRecords(t *testing.T, file string, recs []warcioRecord) map[string]*warcioRecord {
	t.Helper()
	byID := map[string]*warcioRecord{}
	reID := regexp.MustCompile(`^<urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}>$`)
	for i := range recs {
		r := &recs[i]
		id := r.Get("WARC-Record-ID")
		if !reID.MatchString(id) || byID[id] != nil {
			t.Errorf("record %d: WARC-Record-ID %q is not a new urn:uuid", i, id)
		}
		byID[id] = r
		if r.Protocol != "WARC/1.1" {
			t.Errorf("record %d: %s", i, r.Protocol)
		}
		if d := r.Get("WARC-Block-Digest"); d != "sha256:"+r.SHA256 {
			t.Errorf("record %d (%s): WARC-Block-Digest %s, block hashes to %s", i, r.Type, d, r.SHA256)
		}
		if r.Type == TypeResource && r.Get("WARC-Payload-Digest") != r.Get("WARC-Block-Digest") {
			t.Errorf("record %d: resource without its payload digest", i)
		}
		if r.Get("Content-Length") != fmt.Sprint(r.Length) {
			t.Errorf("record %d: Content-Length %s, block %d bytes", i, r.Get("Content-Length"), r.Length)
		}
		if _, err := time.Parse(time.RFC3339Nano, r.Get("WARC-Date")); err != nil {
			t.Errorf("record %d: WARC-Date: %v", i, err)
		}
		if i > 0 && r.Get("WARC-Warcinfo-ID") != recs[0].Get("WARC-Record-ID") {
			t.Errorf("record %d does not name the warcinfo record", i)
		}
	}
	if len(recs) == 0 || recs[0].Type != TypeWarcinfo {
		t.Fatal("the first record is not warcinfo")
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	offs := memberOffsets(t, raw)
	if len(offs) != len(recs) {
		t.Fatalf("%d gzip members for %d records: each record must be its own member", len(offs), len(recs))
	}
	for i := range recs {
		if recs[i].Offset != offs[i] {
			t.Errorf("record %d at offset %d, its gzip member at %d", i, recs[i].Offset, offs[i])
		}
	}
	return byID
}

// fixtureLine is line n (1-based) of a fixture capture file.
func fixtureLine(t *testing.T, name string, n int) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(exporttest.TestdataDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(b, []byte("\n"))[n-1]
}

// Every selected item is in the WARC as warcio reads it: every version's
// normalised JSON with the digest the archive names it by, its part of
// each raw response, its media, and its metadata linking them; nothing of
// the items not selected is there.
func TestExportReadBackWithWarcio(t *testing.T) {
	f := exporttest.Build(t)
	selected := []string{key("c1"), key("c3"), key("p1"), key("p3"), key("r1")}
	out := filepath.Join(t.TempDir(), "export.warc.gz")
	man, err := run(t, f, out, selected, export.SourceOptions{Versions: export.VersionsAll}, true, false)
	if err != nil {
		t.Fatal(err)
	}
	recs := readWithWarcio(t, out)
	byID := checkRecords(t, out, recs)

	body, _ := os.ReadFile(out)
	if sum := sha256.Sum256(body); man.SHA256 != hex.EncodeToString(sum[:]) || man.Items != 5 || man.Versions != 6 || man.Path != out {
		t.Errorf("manifest %+v", man)
	}
	info := string(recs[0].Block)
	head, _ := f.A.Catalog().Head()
	for _, want := range []string{"software: osmarc/test", "osmarc-journal-head-hash: " + head.Hash, "operator: " + exporttest.Actor, "format: WARC File Format 1.1"} {
		if !strings.Contains(info, want+"\r\n") {
			t.Errorf("warcinfo lacks %q:\n%s", want, info)
		}
	}

	seen := map[string]bool{}
	for i := range recs {
		r := &recs[i]
		if r.Type != TypeMetadata || strings.HasPrefix(r.Get("WARC-Target-URI"), "urn:osmarc:export:") {
			continue
		}
		md := metadataOf(t, r)
		k := md.Item.Key
		seen[k] = true
		ci, err := f.A.Catalog().Item(k)
		if err != nil {
			t.Fatalf("metadata of %s: %v", k, err)
		}
		// Every version, each block the canonical JSON the archive's
		// digest names.
		if len(md.Records.Versions) != len(ci.Versions) {
			t.Errorf("%s: %d version records, archive holds %d", k, len(md.Records.Versions), len(ci.Versions))
			continue
		}
		for j, id := range md.Records.Versions {
			vr := byID["<"+id+">"]
			if vr == nil || vr.Type != TypeResource {
				t.Fatalf("%s: version record %s missing", k, id)
			}
			if vr.SHA256 != ci.Versions[j].Digest || md.Item.Versions[j].Digest != ci.Versions[j].Digest {
				t.Errorf("%s version %d: block hashes to %s, archive digest %s", k, j, vr.SHA256, ci.Versions[j].Digest)
			}
			if vr.Get("WARC-Date") != Date(ci.Versions[j].CapturedAt) {
				t.Errorf("%s version %d: WARC-Date %s, captured %s", k, j, vr.Get("WARC-Date"), ci.Versions[j].CapturedAt)
			}
			if md.Item.URL != "" && vr.Get("WARC-Target-URI") != md.Item.URL {
				t.Errorf("%s: WARC-Target-URI %s, item URL %s", k, vr.Get("WARC-Target-URI"), md.Item.URL)
			}
		}
		if r.Get("WARC-Refers-To") != "<"+md.Records.Versions[len(md.Records.Versions)-1]+">" {
			t.Errorf("%s: WARC-Refers-To %s is not the latest version's record", k, r.Get("WARC-Refers-To"))
		}
		conc := map[string]bool{}
		for _, c := range r.Header("WARC-Concurrent-To") {
			conc[c] = true
		}
		// Its own line of each capture file that saw it, not the whole
		// file (which holds items not selected).
		if len(md.Records.Raw) == 0 {
			t.Errorf("%s: no raw response", k)
		}
		for _, ref := range md.Records.Raw {
			rr := byID["<"+ref.Record+">"]
			if rr == nil || !conc["<"+ref.Record+">"] {
				t.Fatalf("%s: raw record %s missing or not linked", k, ref.Record)
			}
			src := rr.Get("osmarc-raw-source")
			want := fixtureLine(t, src, ref.Line)
			if ref.Line == 0 || !bytes.Equal(rr.Block, want) {
				t.Errorf("%s: raw part %q, want line %d of %s: %q", k, rr.Block, ref.Line, src, want)
			}
			if uri := fmt.Sprintf("urn:osmarc:source:%s#line=%d,%d", src, ref.Line-1, ref.Line); rr.Get("WARC-Target-URI") != uri {
				t.Errorf("%s: raw WARC-Target-URI %s, want %s", k, rr.Get("WARC-Target-URI"), uri)
			}
			whole, err := archive.ReadBlob(context.Background(), f.A.Store(), mustDigest(t, ref.Digest))
			if err != nil || !bytes.Contains(whole, rr.Block) || rr.Get("osmarc-raw-sha256") != ref.Digest {
				t.Errorf("%s: raw part is not from the stored response %s (%v)", k, ref.Digest, err)
			}
		}
		if k == key("p1") {
			if len(md.Records.Media) != 1 {
				t.Fatalf("p1 media records: %v", md.Records.Media)
			}
			mr := byID["<"+md.Records.Media[0]+">"]
			if mr == nil || !bytes.Equal(mr.Block, f.MediaPNG) || mr.Get("Content-Type") != "image/png" ||
				mr.Get("WARC-Target-URI") != "https://cdn.facebook.example/p1/route.png" || !conc["<"+md.Records.Media[0]+">"] {
				t.Errorf("p1 media record: %+v", mr)
			}
		}
		if k == key("p3") && md.Item.RemovedAt == nil {
			t.Errorf("p3: removed at source not in its metadata")
		}
		if k == key("r1") && !strings.Contains(string(r.Block), "Oui, le défilé passe devant le manège militaire") {
			t.Errorf("r1: French text not kept as UTF-8")
		}
	}
	for _, k := range selected {
		if !seen[k] {
			t.Errorf("selected item %s is not in the WARC", k)
		}
	}
	if len(seen) != len(selected) {
		t.Errorf("the WARC holds %d items, %d were selected", len(seen), len(selected))
	}
	// Nothing of the items not selected, in any record.
	for i := range recs {
		for _, text := range []string{"recruiting line", "-5 degrees", "@everyone", "HYPERLINK", "Bonjour / Hello", "mastodon"} {
			if bytes.Contains(recs[i].Block, []byte(text)) || strings.Contains(fmt.Sprint(recs[i].Headers), text) {
				t.Errorf("record %d (%s) holds %q of an item not selected", i, recs[i].Type, text)
			}
		}
	}
	last := recs[len(recs)-1]
	if !strings.Contains(string(last.Block), `"items":5`) || !strings.Contains(string(last.Block), `"versions":6`) {
		t.Errorf("summary record: %s", last.Block)
	}

	golden(t, "export.warc.golden", recs, head.Hash)
}

func mustDigest(t *testing.T, s string) archive.Digest {
	t.Helper()
	d, err := archive.ParseDigest(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// golden compares what warcio read (headers, digests, and the text of
// non-media blocks) with a golden file; -update rewrites it.
// The journal head's hash is replaced by JOURNAL-HEAD (the fixture's
// journal records its temporary store path, so the hash changes from run
// to run), and so are the digests of the blocks that hold it and, since
// record offsets follow, the offsets.
func golden(t *testing.T, name string, recs []warcioRecord, head string) {
	t.Helper()
	var b strings.Builder
	for _, r := range recs {
		varies := bytes.Contains(r.Block, []byte(head))
		r.Block = bytes.ReplaceAll(r.Block, []byte(head), []byte("JOURNAL-HEAD"))
		fmt.Fprintf(&b, "== %s\n", r.Type)
		for _, h := range r.Headers {
			if varies && (h[0] == "WARC-Block-Digest" || h[0] == "Content-Length") {
				h[1] = "(varies with the journal head)"
			}
			fmt.Fprintf(&b, "%s: %s\n", h[0], h[1])
		}
		if strings.HasPrefix(r.Get("Content-Type"), "image/") {
			fmt.Fprintf(&b, "[%d bytes, sha256 %s]\n", r.Length, r.SHA256)
		} else {
			b.Write(r.Block)
			b.WriteString("\n")
		}
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if b.String() != string(want) {
		gl, wl := strings.Split(b.String(), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Errorf("WARC differs from %s at line %d:\n got: %s\nwant: %s\n(go test -update rewrites it)", path, i+1, g, w)
				break
			}
		}
	}
}

// phoneRedactor takes the phone number out of c1, as an open-records
// production would.
type phoneRedactor struct{}

func (phoneRedactor) Redact(ctx context.Context, ci *catalog.Item, v *archive.Item, latest bool) ([]export.Redaction, error) {
	if !strings.Contains(v.Text, "555-0123") {
		return nil, nil
	}
	v.Text = strings.ReplaceAll(v.Text, "(613) 555-0123", "[REDACTED b(6)]")
	return []export.Redaction{{Field: "text", Kind: "phone", Count: 1, Decision: "redact", DecidedBy: exporttest.Actor, Exemption: "b6"}}, nil
}

// A redacted export holds no trace of the redacted text: not in the
// version records, the metadata, nor a raw response (none is written);
// the metadata says where redactions were made and names no digest of
// the archived, unredacted version.
func TestRedactedExportHoldsNoTrace(t *testing.T) {
	f := exporttest.Build(t)
	out := filepath.Join(t.TempDir(), "redacted.warc.gz")
	c1 := key("c1")
	if _, err := run(t, f, out, []string{c1, key("p1")}, export.SourceOptions{Versions: export.VersionsAll, Redactor: phoneRedactor{}}, true, true); err != nil {
		t.Fatal(err)
	}
	recs := readWithWarcio(t, out)
	checkRecords(t, out, recs)
	ci, _ := f.A.Catalog().Item(c1)
	for i, r := range recs {
		for _, secret := range []string{"555-0123", "(613)", ci.Versions[0].Digest} {
			if bytes.Contains(r.Block, []byte(secret)) || strings.Contains(fmt.Sprint(r.Headers), secret) {
				t.Errorf("record %d (%s) holds %q", i, r.Type, secret)
			}
		}
		if r.Get("osmarc-raw-sha256") != "" {
			t.Errorf("record %d: a raw response in a redacted export", i)
		}
		if r.Type == TypeMetadata && strings.Contains(string(r.Block), `"key":"`+c1+`"`) {
			md := metadataOf(t, &r)
			if len(md.Item.Redactions) != 1 || md.Item.Redactions[0].Kind != "phone" || !strings.Contains(md.Item.Text, "[REDACTED b(6)]") {
				t.Errorf("c1 metadata does not say where it was redacted: %+v", md.Item)
			}
		}
	}
	// The whole file, decompressed, as a last check.
	raw, _ := os.ReadFile(out)
	zr, _ := gzip.NewReader(bytes.NewReader(raw))
	all, _ := io.ReadAll(zr)
	if bytes.Contains(all, []byte("555-0123")) {
		t.Error("the decompressed WARC holds the redacted phone number")
	}
}

// An export to a path that exists fails before writing and leaves it
// alone; a damaged blob fails the export, leaving nothing at the path and
// no temporary file.
func TestBadInput(t *testing.T) {
	f := exporttest.Build(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "x.warc.gz")
	os.WriteFile(out, []byte("keep me"), 0o644)
	if _, err := run(t, f, out, []string{key("p1")}, export.SourceOptions{}, true, false); !errors.Is(err, export.ErrExists) {
		t.Fatalf("existing path: err = %v, want ErrExists", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "keep me" {
		t.Fatal("an existing file was changed")
	}

	// Flip a byte of the stored PNG.
	d := archive.Sum(f.MediaPNG)
	exporttest.Corrupt(t, f, d)
	out2 := filepath.Join(dir, "damaged.warc.gz")
	_, err := run(t, f, out2, []string{key("p1")}, export.SourceOptions{}, true, false)
	if !errors.Is(err, export.ErrIncomplete) || !strings.Contains(err.Error(), d.String()) {
		t.Fatalf("damaged media: err = %v", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("left behind: %v", ents)
	}
	// Without media the same item exports.
	if _, err := run(t, f, out2, []string{key("p1")}, export.SourceOptions{}, false, false); err != nil {
		t.Fatalf("without media: %v", err)
	}
}

func TestExcerpt(t *testing.T) {
	doc := []byte(`{"data":[{"id":"1"},{"id":"2","a/b":{"~x":[1, 2]}}],"n":3}`)
	shared := &rawDoc{data: doc} // the same document asked several times
	for _, c := range []struct {
		p    RawPlace
		want string
		bad  bool
	}{
		{RawPlace{Path: "/data/1"}, `{"id":"2","a/b":{"~x":[1, 2]}}`, false},
		{RawPlace{Path: "/data/1/a~1b/~0x/1"}, `2`, false},
		{RawPlace{Path: "/n"}, `3`, false},
		{RawPlace{Path: "/data/2"}, "", true},
		{RawPlace{Path: "/n/x"}, "", true},
		{RawPlace{Path: "data"}, "", true},
	} {
		for _, d := range []*rawDoc{{data: doc}, shared} {
			got, err := excerpt(d, c.p)
			if (err != nil) != c.bad || string(got) != c.want {
				t.Errorf("excerpt(%+v) = %q, %v", c.p, got, err)
			}
		}
	}
	lines := &rawDoc{data: []byte("one\r\ntwo\nthree")}
	for n, want := range map[int]string{1: "one", 2: "two", 3: "three"} {
		if got, err := excerpt(lines, RawPlace{Line: n}); err != nil || string(got) != want {
			t.Errorf("line %d = %q, %v", n, got, err)
		}
	}
	if _, err := excerpt(lines, RawPlace{Line: 4}); err == nil {
		t.Error("line 4 of 3")
	}
}

// FuzzExcerpt: any pointer or line into any document gives its part or
// an error, never a panic; a part found is a piece of the document.
func FuzzExcerpt(f *testing.F) {
	f.Add([]byte(`{"data":[{"id":"1"},{"id":"2"}]}`), "/data/1", 0)
	f.Add([]byte("a\nb\r\nc"), "", 2)
	f.Add([]byte(`[1,[2,{"~/":3}]]`), "/1/1/~0~1", 0)
	f.Fuzz(func(t *testing.T, doc []byte, ptr string, line int) {
		if line < 0 || line > 1<<20 {
			return
		}
		d := &rawDoc{data: doc}
		for range 2 { // the second time through what was learnt
			got, err := excerpt(d, RawPlace{Line: line, Path: ptr})
			if err == nil && line > 0 && !bytes.Contains(doc, got) {
				t.Fatalf("line %d: %q is not in the document", line, got)
			}
		}
	})
}
