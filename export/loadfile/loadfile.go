// Package loadfile writes an export as an eDiscovery load file set that
// review platforms (Relativity, Concordance and the like) import:
//
//	loadfile.dat          Concordance DAT: þ quotes, ASCII 20 separators,
//	                      UTF-8 without byte-order mark, CR LF, header row
//	loadfile.opt          Opticon image cross-reference, when the export
//	                      holds media images (JPEG, PNG, GIF, TIFF)
//	NATIVES\0001\OSM00000001.json   the item as exported (JSON)
//	NATIVES\0001\OSM00000001.html   the item rendered (HTML, no script)
//	TEXT\0001\OSM00000001.txt       the item's extracted text (UTF-8)
//	IMAGES\0001\OSM00000002.png     a media image (an attachment)
//	NATIVES\0001\OSM00000003.mp4    other media (an attachment)
//	manifest-sha256.txt   every file's SHA-256, as sha256sum -c reads it
//
// Each item is a document; with --media each media file is an attachment
// document after it, so an item and its media form a family:
// BEGATTACH/ENDATTACH give the family's range on every member and
// PARENT_DOCID names the item on each attachment. A comment's PARENT_KEY
// and THREAD_KEY name the post it answers and its thread's root (and
// REPLY_TO_DOCID the DOCID of its parent when that came earlier in the
// export). Folders hold 1,000 documents each. Paths are relative to the
// set's directory and use backslashes, as load files do. Dates are UTC,
// RFC 3339.
//
// A field value cannot hold the DAT's delimiters, which have no escape:
// line breaks become ® and þ becomes Þ there; the natives and text files
// keep every value exactly.
//
// In a redacted export the natives, text and DAT hold only the redacted
// content, REDACTED and REDACTIONS say where redactions were made, and
// the archived digest of a redacted version is not given (a digest lets
// anyone test guesses at what was taken out).
package loadfile

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/osmarc/osmarc/export"
)

// FormatName is the --format name.
const FormatName = "loadfile"

// Options configure the format.
type Options struct {
	// Prefix starts every DOCID (default "OSM").
	Prefix string
	// Volume names the volume in the OPT file (default "VOL001").
	Volume string
}

// NewFormat returns the load file format for an export registry.
func NewFormat(o Options) export.Format {
	if o.Prefix == "" {
		o.Prefix = "OSM"
	}
	if o.Volume == "" {
		o.Volume = "VOL001"
	}
	return export.Format{
		Name:        FormatName,
		Description: "eDiscovery load file set: Concordance DAT, Opticon OPT, natives (JSON, HTML), extracted text, media",
		Dir:         true,
		New:         func() export.Writer { return &Writer{o: o} },
	}
}

// Fields are the DAT's columns, in order.
var Fields = []string{
	"DOCID", "BEGDOC", "ENDDOC", "BEGATTACH", "ENDATTACH", "PARENT_DOCID", "ATTACH_COUNT",
	"ITEM_KEY", "PLATFORM", "ACCOUNT", "ITEM_ID", "KIND", "ROLE", "PARENT_KEY", "THREAD_KEY", "REPLY_TO_DOCID",
	"AUTHOR", "AUTHOR_HANDLE", "AUTHOR_ID",
	"DATE_CREATED", "DATE_EDITED", "DATE_REMOVED", "FIRST_CAPTURED", "LAST_CAPTURED",
	"LANG", "URL", "CLASSIFICATION", "SCHEDULE", "EXEMPTIONS", "HOLDS",
	"VERSION_COUNT", "VERSIONS_EXPORTED", "VERSION_SHA256", "CAPTURE_TIMES",
	"FILENAME", "FILE_EXT", "MIME_TYPE", "HASH", "NATIVEPATH", "HTMLPATH", "TEXTPATH",
	"REDACTED", "REDACTIONS",
}

// Writer writes one load file set; see the package doc.
type Writer struct {
	o      Options
	m      export.Meta
	pd     *export.PendingDir
	dat    *hashedFile
	dw     *DATWriter
	opt    *hashedFile
	optw   *bufio.Writer
	sums   *hashedFile
	sumw   *bufio.Writer
	n      int // documents so far
	items  int
	vers   int
	images int
	docs   map[string]string // item key → DOCID, for REPLY_TO_DOCID
	bytes  int64
	done   bool
}

var _ export.Writer = (*Writer)(nil)

// maxDocs bounds the key→DOCID map kept for REPLY_TO_DOCID.
const maxDocs = 1 << 17

// Begin creates the set's directory beside Out and the DAT.
func (w *Writer) Begin(ctx context.Context, m export.Meta) error {
	pd, err := export.NewPendingDir(m.Out, m.Force)
	if err != nil {
		return err
	}
	w.m, w.pd, w.docs = m, pd, map[string]string{}
	if w.dat, err = createHashed(filepath.Join(pd.Tmp, "loadfile.dat")); err != nil {
		return w.fail(err)
	}
	if w.sums, err = createHashed(filepath.Join(pd.Tmp, "manifest-sha256.txt")); err != nil {
		return w.fail(err)
	}
	w.sumw = bufio.NewWriterSize(w.sums, 64<<10)
	if w.dw, err = NewDATWriter(w.dat, Fields); err != nil {
		return w.fail(err)
	}
	return nil
}

func (w *Writer) fail(err error) error {
	return fmt.Errorf("loadfile: write %s: %w", w.m.Out, err)
}

func (w *Writer) docID(n int) string { return fmt.Sprintf("%s%08d", w.o.Prefix, n) }

// folder is the 1,000-document folder of document n.
func folder(n int) string { return fmt.Sprintf("%04d", (n-1)/1000+1) }

// winPath is a slash path as a load file names it.
func winPath(p string) string { return strings.ReplaceAll(p, "/", `\`) }

// create writes a file of the set, hashing it, and records its digest.
func (w *Writer) create(rel string, fill func(io.Writer) error) (string, int64, error) {
	full := filepath.Join(w.pd.Tmp, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(full), 0o750); err != nil {
		return "", 0, err
	}
	f, err := os.OpenFile(full, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return "", 0, err
	}
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, h)}
	bw := bufio.NewWriterSize(cw, 32<<10)
	err = fill(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", rel, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	fmt.Fprintf(w.sumw, "%s  %s\n", sum, rel)
	w.bytes += cw.n
	return sum, cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// Write writes one item's document and its media's.
func (w *Writer) Write(ctx context.Context, it *export.Item) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.n++
	n := w.n
	doc := w.docID(n)
	var media []export.Media
	if w.m.Media {
		media = it.Media
	}
	end := w.docID(n + len(media))
	dir := folder(n)
	base := dir + "/" + doc

	// Natives and text.
	native := "NATIVES/" + base + ".json"
	nativeSum, _, err := w.create(native, func(f io.Writer) error { return export.MarshalItemJSON(f, nativeItem(it)) })
	if err != nil {
		return w.fail(err)
	}
	htmlPath := "NATIVES/" + base + ".html"
	if _, _, err := w.create(htmlPath, func(f io.Writer) error { return renderHTML(f, it, doc, w.m.Redacted) }); err != nil {
		return w.fail(err)
	}
	textPath := "TEXT/" + base + ".txt"
	if _, _, err := w.create(textPath, func(f io.Writer) error { return writeText(f, it) }); err != nil {
		return w.fail(err)
	}

	var author, handle, authorID string
	if it.Author != nil {
		author, handle, authorID = it.Author.Name, it.Author.Handle, it.Author.ID
	}
	var digests, captured []string
	for _, v := range it.Versions {
		if !v.Redacted {
			digests = append(digests, v.Digest)
		}
		captured = append(captured, date(v.CapturedAt))
	}
	removed := ""
	if it.RemovedAt != nil {
		removed = date(*it.RemovedAt)
	}
	redacted, redactions := "N", ""
	if len(it.Redactions) > 0 {
		redacted, redactions = "Y", describeRedactions(it.Redactions)
	}
	replyTo := ""
	if it.ParentKey != "" {
		replyTo = w.docs[it.ParentKey]
	}
	row := []string{
		doc, doc, doc, doc, end, "", strconv.Itoa(len(media)),
		it.Key, it.Platform, it.Account, it.ID, it.Kind, it.Role, it.ParentKey, it.ThreadKey, replyTo,
		author, handle, authorID,
		date(it.CreatedAt), date(it.EditedAt), removed, date(it.FirstCaptured), date(it.LastCaptured),
		it.Lang, it.URL, it.Classification, it.Schedule, strings.Join(it.Exemptions, "; "), strings.Join(it.Holds, "; "),
		strconv.Itoa(it.VersionCount), strconv.Itoa(len(it.Versions)), strings.Join(digests, "; "), strings.Join(captured, "; "),
		doc + ".json", "json", "application/json", nativeSum, winPath(native), winPath(htmlPath), winPath(textPath),
		redacted, redactions,
	}
	if err := w.dw.Row(row); err != nil {
		return w.fail(err)
	}
	if len(w.docs) < maxDocs {
		w.docs[it.Key] = doc
	}

	// Media, each an attachment.
	for i, md := range media {
		an := n + 1 + i
		adoc := w.docID(an)
		if err := w.attachment(ctx, it, md, an, adoc, doc, end); err != nil {
			return w.fail(fmt.Errorf("item %s: media %s: %w", it.Key, md.Digest, err))
		}
	}
	w.n += len(media)
	w.items++
	w.vers += len(it.Versions)
	return nil
}

// attachment writes one media file as a document of the item's family.
func (w *Writer) attachment(ctx context.Context, it *export.Item, md export.Media, n int, doc, parent, end string) error {
	rc, err := w.m.Blobs.Open(ctx, md.Digest)
	if err != nil {
		return err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 32<<10)
	head, _ := br.Peek(512)
	mime := http.DetectContentType(head)
	ext, image := extension(mime)
	dir := "NATIVES/"
	if image {
		dir = "IMAGES/"
	}
	rel := dir + folder(n) + "/" + doc + "." + ext
	sum, _, err := w.create(rel, func(f io.Writer) error {
		_, err := io.Copy(f, br)
		return err
	})
	if err != nil {
		return err
	}
	if sum != md.Digest {
		return fmt.Errorf("written file hashes to %s", sum)
	}
	var author, handle, authorID string
	if it.Author != nil {
		author, handle, authorID = it.Author.Name, it.Author.Handle, it.Author.ID
	}
	name := path.Base(md.URL)
	if name == "" || name == "." || name == "/" {
		name = doc + "." + ext
	}
	row := []string{
		doc, doc, doc, parent, end, parent, "0",
		it.Key, it.Platform, it.Account, it.ID, "attachment", it.Role, it.Key, it.ThreadKey, "",
		author, handle, authorID,
		date(it.CreatedAt), "", "", date(md.CapturedAt), date(md.CapturedAt),
		"", md.URL, it.Classification, it.Schedule, strings.Join(it.Exemptions, "; "), strings.Join(it.Holds, "; "),
		"", "", "", date(md.CapturedAt),
		name, ext, mime, md.Digest, winPath(rel), "", "",
		"N", "",
	}
	if err := w.dw.Row(row); err != nil {
		return err
	}
	if image {
		if w.opt == nil {
			if w.opt, err = createHashed(filepath.Join(w.pd.Tmp, "loadfile.opt")); err != nil {
				return err
			}
			w.optw = bufio.NewWriterSize(w.opt, 32<<10)
		}
		if _, err := w.optw.WriteString(OptLine(doc, w.o.Volume, winPath(rel), true, 1)); err != nil {
			return err
		}
		w.images++
	}
	return nil
}

// extension names a file of a sniffed content type, and says whether it
// is an image that review platforms show (and so goes in the OPT).
func extension(mime string) (string, bool) {
	switch strings.TrimSpace(strings.SplitN(mime, ";", 2)[0]) {
	case "image/jpeg":
		return "jpg", true
	case "image/png":
		return "png", true
	case "image/gif":
		return "gif", true
	case "image/tiff":
		return "tif", true
	case "image/webp":
		return "webp", false
	case "video/mp4":
		return "mp4", false
	case "video/webm":
		return "webm", false
	case "audio/mpeg":
		return "mp3", false
	case "application/pdf":
		return "pdf", false
	}
	return "bin", false
}

// nativeItem is the item as its native JSON holds it: without the
// archived digest of a redacted version.
func nativeItem(it *export.Item) *export.Item {
	cp := *it
	cp.Versions = append([]export.Version(nil), it.Versions...)
	for i := range cp.Versions {
		if cp.Versions[i].Redacted {
			cp.Versions[i].Digest, cp.Versions[i].Size = "", 0
		}
	}
	cp.Raw = nil
	return &cp
}

func describeRedactions(rs []export.Redaction) string {
	var parts []string
	for _, r := range rs {
		s := fmt.Sprintf("%s: %s ×%d", r.Field, r.Kind, r.Count)
		if r.Exemption != "" {
			s += " (" + r.Exemption + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// writeText writes the extracted text: a short heading, the latest text,
// then each earlier version exported.
func writeText(f io.Writer, it *export.Item) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n", it.Key)
	if it.Author != nil {
		fmt.Fprintf(&b, "Author: %s", it.Author.Name)
		if it.Author.Handle != "" {
			fmt.Fprintf(&b, " (@%s)", it.Author.Handle)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "Created: %s\n", date(it.CreatedAt))
	if !it.EditedAt.IsZero() {
		fmt.Fprintf(&b, "Edited: %s\n", date(it.EditedAt))
	}
	if it.RemovedAt != nil {
		fmt.Fprintf(&b, "Removed at source: %s\n", date(*it.RemovedAt))
	}
	if it.URL != "" {
		fmt.Fprintf(&b, "URL: %s\n", it.URL)
	}
	b.WriteString("\n")
	b.WriteString(it.Text)
	b.WriteString("\n")
	for i := len(it.Versions) - 2; i >= 0; i-- {
		v := it.Versions[i]
		fmt.Fprintf(&b, "\n--- earlier version, captured %s ---\n%s\n", date(v.CapturedAt), v.Content.Text)
	}
	_, err := f.Write(b.Bytes())
	return err
}

// Finish closes the DAT, OPT and checksum list and moves the set into
// place.
func (w *Writer) Finish(ctx context.Context) (export.Manifest, error) {
	if w.done || w.pd == nil {
		return export.Manifest{}, errors.New("loadfile: export not begun or already ended")
	}
	var files []export.File
	seal := func(f *hashedFile, flush func() error, rel string, list bool) error {
		if err := flush(); err != nil {
			return err
		}
		if err := f.f.Close(); err != nil {
			return err
		}
		sum, size := hex.EncodeToString(f.h.Sum(nil)), f.n
		if list {
			fmt.Fprintf(w.sumw, "%s  %s\n", sum, rel)
		}
		w.bytes += size
		files = append(files, export.File{Path: filepath.Join(w.m.Out, rel), Size: size, SHA256: sum})
		return nil
	}
	if err := seal(w.dat, w.dw.Flush, "loadfile.dat", true); err != nil {
		return export.Manifest{}, w.fail(err)
	}
	if w.opt != nil {
		if err := seal(w.opt, w.optw.Flush, "loadfile.opt", true); err != nil {
			return export.Manifest{}, w.fail(err)
		}
	}
	if err := seal(w.sums, w.sumw.Flush, "manifest-sha256.txt", false); err != nil {
		return export.Manifest{}, w.fail(err)
	}
	if err := w.pd.Commit(); err != nil {
		return export.Manifest{}, err
	}
	w.done = true
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	man := export.Manifest{Format: FormatName, Path: w.m.Out, Items: w.items, Versions: w.vers, Files: files, Bytes: w.bytes,
		DigestOf: "manifest-sha256.txt, which lists the SHA-256 of every other file"}
	for _, f := range files {
		if filepath.Base(f.Path) == "manifest-sha256.txt" {
			man.SHA256 = f.SHA256
		}
	}
	return man, nil
}

// hashedFile is a file of the set whose SHA-256 and size are taken as it
// is written, so Finish need not read it back.
type hashedFile struct {
	f *os.File
	h hash.Hash
	countWriter
}

func createHashed(name string) (*hashedFile, error) {
	f, err := os.Create(name)
	if err != nil {
		return nil, err
	}
	hf := &hashedFile{f: f, h: sha256.New()}
	hf.countWriter.w = io.MultiWriter(f, hf.h)
	return hf, nil
}

// Abort removes the set being built.
func (w *Writer) Abort() error {
	if w.done || w.pd == nil {
		return nil
	}
	w.done = true
	for _, f := range []*hashedFile{w.dat, w.opt, w.sums} {
		if f != nil {
			f.f.Close()
		}
	}
	return w.pd.Abort()
}
