// Package warc writes an export as one WARC 1.1 file (ISO 28500:2017),
// each record its own gzip member (a .warc.gz any WARC tool reads and can
// seek in):
//
//   - first a warcinfo record: the software, the archive, who exported
//     what selection when, and the journal head the export was taken at;
//   - for each raw platform response (API page, export file chunk) that
//     holds an exported version, once: a resource record whose
//     WARC-Target-URI is the URL it came from (or urn:osmarc:source:NAME
//     for a file an import read) and whose WARC-Date is the capture time.
//     osmarc keeps the body of an HTTP exchange, not its headers, so these
//     are resource records, not response records. These records come
//     after the items', grouped by response, so each response is read
//     once whatever the selection's order (an item's metadata names its
//     parts by record id);
//   - for each exported version: a resource record of the item's
//     normalised JSON (osmarc's canonical form, so its WARC-Block-Digest is
//     the version digest the archive names it by), WARC-Target-URI the
//     item's URL, WARC-Date when that version was first captured;
//   - with media, each media file once, as a resource record (its URL, its
//     capture time, its content type);
//   - for each item, a metadata record (application/json) carrying the
//     item as osmarc exports it (identity, times, versions with their
//     normalised JSON, capture data, records management, redactions) and
//     the ids of its records; WARC-Refers-To names the latest version's
//     record and WARC-Concurrent-To each raw response and media record of
//     the item;
//   - last, a metadata record counting what the file holds.
//
// Every record carries WARC-Block-Digest (sha256, hex, the digest form
// osmarc uses everywhere), resource records also WARC-Payload-Digest (for
// them the block is the payload), and an exact Content-Length. Stored
// blobs are checked against their digests as they are read (a small one
// before its record is written, a large one as it streams): a damaged
// blob fails the export, which then leaves nothing at its path.
//
// Memory does not grow with the selection: records are compressed a few
// at a time (see RecordWriter), raw parts wait in files, and what a
// capture's manifest says is kept for a few captures at a time, its item
// places in 16 bytes an item of the capture (see ManifestInfos).
//
// In a redacted export the raw responses are left out (the framework
// never passes them: they cannot be redacted), version records carry the
// redacted content (their digest is of that content), and the metadata
// never names the archived digest of a redacted version, since a digest
// lets anyone test guesses at what was taken out.
package warc

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/export"
)

// FormatName is the --format name.
const FormatName = "warc"

// Options configure the WARC format.
type Options struct {
	// Infos tells the URL, content type and size a capture recorded of a
	// raw response or media file, and where in a raw response it found
	// each item (ManifestInfos reads them from the archive's capture
	// manifests). Without it raw responses are written whole and named by
	// digest (urn:osmarc:blob:sha256:…), and media types are sniffed.
	Infos Infos
}

// NewFormat returns the WARC format for an export registry.
func NewFormat(o Options) export.Format {
	return export.Format{
		Name:        FormatName,
		Description: "one WARC 1.1 file, gzip per record: raw platform responses, item versions, media, osmarc metadata",
		New:         func() export.Writer { return &Writer{o: o} },
	}
}

// Writer writes one WARC export; see the package doc.
type Writer struct {
	o     Options
	m     export.Meta
	pf    *export.PendingFile
	rw    *RecordWriter
	info  string
	blobs recentIDs
	parts partSpool
	seed  string
	n     counts
	done  bool
	buf   bytes.Buffer // an item's metadata, as it is encoded
}

type counts struct {
	Items    int `json:"items"`
	Versions int `json:"versions"`
	Raw      int `json:"raw_responses"`
	Media    int `json:"media"`
	Records  int `json:"records"`
}

var _ export.Writer = (*Writer)(nil)

// Begin creates the pending file and writes the warcinfo record.
func (w *Writer) Begin(ctx context.Context, m export.Meta) error {
	pf, err := export.NewPendingFile(m.Out, m.Force)
	if err != nil {
		return err
	}
	w.m, w.pf = m, pf
	// Record ids are name-based on the export's identity, so the same
	// export (same archive, same instant) writes the same file.
	w.seed = m.ArchiveID + "\x00" + m.ExportedAt.UTC().Format(time.RFC3339Nano) + "\x00" + filepath.Base(m.Out)
	w.rw = NewRecordWriter(pf, w.seed)
	sel, err := json.Marshal(m.Selection)
	if err != nil {
		return err
	}
	fields := []Field{
		{"software", "osmarc/" + m.OsmarcVersion},
		{"format", "WARC File Format 1.1"},
		{"conformsTo", "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"},
		{"description", "osmarc export: " + m.Selection.String()},
		{"isPartOf", "osmarc archive " + m.ArchiveID},
		{"operator", m.Exporter},
	}
	if m.Organization != "" {
		fields = append(fields, Field{"publisher", m.Organization})
	}
	fields = append(fields,
		Field{"osmarc-archive-id", m.ArchiveID},
		Field{"osmarc-exported-at", m.ExportedAt.UTC().Format(time.RFC3339Nano)},
		Field{"osmarc-exporter", m.Exporter},
		Field{"osmarc-journal-head-seq", strconv.FormatUint(m.JournalHead.Seq, 10)},
		Field{"osmarc-journal-head-hash", m.JournalHead.Hash},
		Field{"osmarc-selection", string(sel)},
		Field{"osmarc-versions", m.Versions},
		Field{"osmarc-media", strconv.FormatBool(m.Media)},
		Field{"osmarc-redacted", strconv.FormatBool(m.Redacted)},
	)
	if m.Selection.Request != "" {
		fields = append(fields, Field{"osmarc-request", m.Selection.Request})
	}
	if m.Selection.Hold != "" {
		fields = append(fields, Field{"osmarc-hold", m.Selection.Hold})
	}
	if m.Redacted {
		fields = append(fields, Field{"osmarc-withheld-items", strconv.Itoa(len(m.Withheld))})
	}
	w.info, err = w.rw.WriteBytes(Record{
		Type: TypeWarcinfo, Date: m.ExportedAt, ContentType: "application/warc-fields",
		Fields: []Field{{"WARC-Filename", filepath.Base(m.Out)}},
	}, Fields(fields))
	if err != nil {
		return w.fail(err)
	}
	w.n.Records++
	return nil
}

func (w *Writer) fail(err error) error {
	return fmt.Errorf("warc: write %s: %w", w.m.Out, err)
}

func (w *Writer) warcinfo() []Field { return []Field{{"WARC-Warcinfo-ID", w.info}} }

// itemMetadata is the block of an item's metadata record.
type itemMetadata struct {
	Format  string       `json:"format"`
	Item    *export.Item `json:"item"`
	Records itemRecords  `json:"warc_records"`
}

type itemRecords struct {
	Versions []string `json:"versions"`
	Raw      []rawRef `json:"raw,omitempty"`
	Media    []string `json:"media,omitempty"`
}

// rawRef names the record of an item's raw response: the item's own part
// of the response (Line or Path set) or the whole response.
type rawRef struct {
	Record string `json:"record"`
	// Digest is the SHA-256 of the whole stored response.
	Digest string `json:"digest"`
	Line   int    `json:"line,omitempty"`
	Path   string `json:"path,omitempty"`
}

// MetadataFormat names the JSON of an item's metadata record.
const MetadataFormat = "osmarc-warc-item/1"

// Write writes one item's records.
func (w *Writer) Write(ctx context.Context, it *export.Item) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var recs itemRecords
	for _, b := range it.Raw {
		ref, err := w.raw(ctx, it.Key, b)
		if err != nil {
			return w.fail(fmt.Errorf("item %s: raw response %s: %w", it.Key, b.Digest, err))
		}
		recs.Raw = append(recs.Raw, ref)
	}
	if w.m.Media {
		for _, md := range it.Media {
			id, err := w.blob(ctx, md.Blob, md.URL, md.Type, true)
			if err != nil {
				return w.fail(fmt.Errorf("item %s: media %s: %w", it.Key, md.Digest, err))
			}
			recs.Media = append(recs.Media, id)
		}
	}
	target := itemURI(it)
	for i := range it.Versions {
		v := &it.Versions[i]
		body, sum, err := versionBlock(v)
		if err != nil {
			return w.fail(fmt.Errorf("item %s: %w", it.Key, err))
		}
		id, err := w.rw.Write(Record{
			Type: TypeResource, Date: v.CapturedAt, TargetURI: target, ContentType: "application/json",
			PayloadDigest: true, Fields: w.warcinfo(),
		}, bytes.NewReader(body), int64(len(body)), sum)
		if err != nil {
			return w.fail(fmt.Errorf("item %s: %w", it.Key, err))
		}
		recs.Versions = append(recs.Versions, bare(id))
		w.n.Records++
		w.n.Versions++
	}

	// The metadata: the item as exported, with no archived digest of a
	// redacted version.
	// A version's content is its archived JSON byte for byte, as the
	// encoder would write it again: spliced in, not encoded again.
	cp := *it
	cp.Versions = append([]export.Version(nil), it.Versions...)
	splice := make([]bool, len(cp.Versions))
	for i := range cp.Versions {
		v := &cp.Versions[i]
		if v.Redacted {
			v.Digest, v.Size = "", 0
		} else if v.Archived != nil && v.Content != nil {
			v.Content, splice[i] = nil, true
		}
	}
	w.buf.Reset()
	if err := export.MarshalItemJSON(&w.buf, itemMetadata{Format: MetadataFormat, Item: &cp, Records: recs}); err != nil {
		return w.fail(fmt.Errorf("item %s: %w", it.Key, err))
	}
	block, err := spliceContents(w.buf.Bytes(), it.Versions, splice)
	if err != nil {
		return w.fail(fmt.Errorf("item %s: %w", it.Key, err))
	}
	fields := append(w.warcinfo(), Field{"WARC-Refers-To", "<" + recs.Versions[len(recs.Versions)-1] + ">"})
	for _, r := range recs.Raw {
		fields = append(fields, Field{"WARC-Concurrent-To", "<" + r.Record + ">"})
	}
	for _, id := range recs.Media {
		fields = append(fields, Field{"WARC-Concurrent-To", "<" + id + ">"})
	}
	if _, err := w.rw.WriteBytes(Record{Type: TypeMetadata, Date: w.m.ExportedAt, TargetURI: target, ContentType: "application/json", Fields: fields}, block); err != nil {
		return w.fail(fmt.Errorf("item %s: %w", it.Key, err))
	}
	w.n.Records++
	w.n.Items++
	return nil
}

// versionBlock is the block of a version's record and its SHA-256: the
// version's bytes as archived when the source read them (checked against
// the version's digest then, and again as the record is written), else
// its canonical JSON, which must hash to the digest unless redacted.
func versionBlock(v *export.Version) ([]byte, [32]byte, error) {
	var sum [32]byte
	if v.Archived != nil && !v.Redacted {
		if d, err := hex.DecodeString(v.Digest); err == nil && len(d) == len(sum) {
			copy(sum[:], d)
			return v.Archived, sum, nil
		}
	}
	body, err := v.Content.CanonicalJSON()
	if err != nil {
		return nil, sum, err
	}
	sum = sha256.Sum256(body)
	if !v.Redacted && hex.EncodeToString(sum[:]) != v.Digest {
		return nil, sum, fmt.Errorf("version %s: its content hashes to %x: %w", v.Digest, sum, archive.ErrDigestMismatch)
	}
	return body, sum, nil
}

// spliceContents puts the archived JSON of the versions marked in splice
// where their encoding has "content":null, in order. Quotes inside JSON
// strings are escaped, so the member occurs only where the encoder put
// it: once for each version marked, and once for each whose content was
// nil already (left as it is).
func spliceContents(b []byte, versions []export.Version, splice []bool) ([]byte, error) {
	const null = `"content":null`
	n := 0
	for i := range versions {
		if splice[i] {
			n += len(versions[i].Archived)
		}
	}
	out := make([]byte, 0, len(b)+n)
	rest := b
	for i := range versions {
		if !splice[i] && versions[i].Content != nil {
			continue
		}
		j := bytes.Index(rest, []byte(null))
		if j < 0 {
			return nil, errors.New("metadata: a version's content member not found")
		}
		out = append(out, rest[:j]...)
		if splice[i] {
			out = append(append(out, `"content":`...), versions[i].Archived...)
		} else {
			out = append(out, null...)
		}
		rest = rest[j+len(null):]
	}
	return append(out, rest...), nil
}

// bare strips the angle brackets of a record id.
func bare(id string) string { return strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">") }

// itemURI is the WARC-Target-URI of an item's records: its URL on the
// platform, else a URN of its archive key.
func itemURI(it *export.Item) string {
	if it.URL != "" {
		if u := TargetURI(it.URL, "item"); !strings.HasPrefix(u, "urn:osmarc:") {
			return u
		}
	}
	return "urn:osmarc:item:" + it.Key
}

// raw names the record of an item's raw response. When the capture
// recorded where in the response it found the item, the record is only
// the item's own part of it (its line, or the JSON value its pointer
// names), so an export holds nothing of the items that were not
// selected; that record is given its id now and written at Finish, when
// the parts wanted of each response are written together and each
// response is read once (items come in the selection's order, not the
// order of the responses that hold them). Otherwise the whole response is
// written now, once per export.
func (w *Writer) raw(ctx context.Context, key string, b export.Blob) (rawRef, error) {
	if w.o.Infos != nil && b.Capture != "" {
		place, ok, err := w.o.Infos.Place(ctx, b.Capture, key, b.Digest)
		if err != nil {
			return rawRef{}, err
		}
		if ok && place != (RawPlace{}) {
			info, _, err := w.o.Infos.Blob(ctx, b.Capture, b.Digest)
			if err != nil {
				return rawRef{}, err
			}
			part := rawPart{ID: w.rw.NewID(), Digest: b.Digest, CapturedAt: b.CapturedAt, Source: info.Source, MediaType: info.MediaType, Size: info.Size, Line: place.Line, Path: place.Path}
			if err := w.parts.add(filepath.Dir(w.m.Out), filepath.Base(w.m.Out), part); err != nil {
				return rawRef{}, err
			}
			return rawRef{Record: bare(part.ID), Digest: b.Digest, Line: place.Line, Path: place.Path}, nil
		}
	}
	id, err := w.blob(ctx, b, "", "", false)
	if err != nil {
		return rawRef{}, err
	}
	return rawRef{Record: id, Digest: b.Digest}, nil
}

// rawPart is a part of a raw response to write at Finish.
type rawPart struct {
	ID         string    `json:"id"`
	Digest     string    `json:"digest"`
	CapturedAt time.Time `json:"captured_at"`
	Source     string    `json:"source,omitempty"`
	MediaType  string    `json:"media_type,omitempty"`
	Size       int64     `json:"size,omitempty"`
	Line       int       `json:"line,omitempty"`
	Path       string    `json:"path,omitempty"`
}

// partSpool keeps the parts to write in 256 temporary files by the first
// byte of their response's digest, so Finish holds one file's parts at a
// time. Each file is written through a small buffer (a write per part
// was a system call per item).
type partSpool struct {
	dir   string
	files [256]*os.File
	bufs  [256]*bufio.Writer
}

func (p *partSpool) add(dir, base string, part rawPart) error {
	if p.dir == "" {
		d, err := os.MkdirTemp(dir, "."+base+".parts-")
		if err != nil {
			return err
		}
		p.dir = d
	}
	b, err := hex.DecodeString(part.Digest[:2])
	if err != nil {
		return err
	}
	bw := p.bufs[b[0]]
	if bw == nil {
		f, err := os.Create(filepath.Join(p.dir, part.Digest[:2]))
		if err != nil {
			return err
		}
		p.files[b[0]], p.bufs[b[0]] = f, bufio.NewWriterSize(f, 4096)
		bw = p.bufs[b[0]]
	}
	line, err := json.Marshal(part)
	if err != nil {
		return err
	}
	bw.Write(line)
	return bw.WriteByte('\n')
}

// each calls fn with the parts of each spool file in turn, grouped by
// response, in the order they were added.
func (p *partSpool) each(fn func(digest string, parts []rawPart) error) error {
	for i, f := range p.files {
		if f == nil {
			continue
		}
		if err := p.bufs[i].Flush(); err != nil {
			return fmt.Errorf("spool of raw parts: %w", err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		var parts []rawPart
		dec := json.NewDecoder(bufio.NewReaderSize(f, 256<<10))
		for {
			var part rawPart
			if err := dec.Decode(&part); err == io.EOF {
				break
			} else if err != nil {
				return fmt.Errorf("spool of raw parts: %w", err)
			}
			parts = append(parts, part)
		}
		sort.SliceStable(parts, func(i, j int) bool { return parts[i].Digest < parts[j].Digest })
		for i := 0; i < len(parts); {
			j := i
			for j < len(parts) && parts[j].Digest == parts[i].Digest {
				j++
			}
			if err := fn(parts[i].Digest, parts[i:j]); err != nil {
				return err
			}
			i = j
		}
	}
	return nil
}

func (p *partSpool) remove() {
	for i, f := range p.files {
		if f != nil {
			f.Close()
			p.files[i] = nil
		}
	}
	if p.dir != "" {
		os.RemoveAll(p.dir)
	}
}

// writeParts writes the parts of each raw response, reading it once.
func (w *Writer) writeParts(ctx context.Context) error {
	return w.parts.each(func(digest string, parts []rawPart) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		rc, err := w.m.Blobs.Open(ctx, digest)
		if err != nil {
			return fmt.Errorf("raw response %s: %w", digest, err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("raw response %s: %w", digest, err)
		}
		doc := &rawDoc{data: data}
		for _, p := range parts {
			base := "urn:osmarc:blob:sha256:" + digest
			if p.Source != "" {
				base = TargetURI(p.Source, "source")
			}
			base, _, _ = strings.Cut(base, "#")
			place := RawPlace{Line: p.Line, Path: p.Path}
			part, perr := excerpt(doc, place)
			rec := Record{ID: p.ID, Type: TypeResource, Date: p.CapturedAt, PayloadDigest: true, ContentType: "application/json",
				Fields: append(w.warcinfo(), Field{"osmarc-raw-sha256", digest})}
			if perr != nil {
				// The place does not resolve (not JSON, say): the whole
				// response, as stored.
				rec.TargetURI, rec.ContentType = base, p.MediaType
				if rec.ContentType == "" {
					rec.ContentType = "application/octet-stream"
				}
				part = data
			} else {
				var frag, where string
				if place.Line > 0 {
					frag, where = "line="+strconv.Itoa(place.Line-1)+","+strconv.Itoa(place.Line), "line "+strconv.Itoa(place.Line)
				} else {
					frag, where = (&url.URL{Fragment: place.Path}).EscapedFragment(), "JSON pointer "+place.Path
				}
				rec.TargetURI = base + "#" + frag
				rec.Fields = append(rec.Fields, Field{"osmarc-raw-part", where})
			}
			rec.Fields = append(rec.Fields, Field{"osmarc-raw-source", p.Source})
			if _, err := w.rw.WriteBytes(rec, part); err != nil {
				return err
			}
			w.n.Records++
			w.n.Raw++
		}
		return nil
	})
}

// blob writes a stored raw response or media file as a resource record,
// once per export (a blob several items share is written for the first
// and named by the others), and returns its record id.
func (w *Writer) blob(ctx context.Context, b export.Blob, url, kind string, media bool) (string, error) {
	d, err := archive.ParseDigest(b.Digest)
	if err != nil {
		return "", err
	}
	if id, ok := w.blobs.get(d); ok {
		return id, nil
	}
	var info BlobInfo
	if w.o.Infos != nil && b.Capture != "" {
		var ok bool
		if info, ok, err = w.o.Infos.Blob(ctx, b.Capture, b.Digest); err != nil {
			return "", err
		} else if !ok {
			info = BlobInfo{}
		}
	}
	size := b.Size
	if size == 0 {
		size = info.Size
	}
	rc, err := w.m.Blobs.Open(ctx, b.Digest)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	var body io.Reader = rc
	if size <= 0 {
		sp, err := spool(rc, filepath.Dir(w.m.Out))
		if err != nil {
			return "", err
		}
		defer sp.Close()
		body, size = sp, sp.size
	}
	ctype := info.MediaType
	br := bufio.NewReaderSize(body, 4096)
	if ctype == "" || (media && !strings.Contains(ctype, "/")) {
		head, _ := br.Peek(512)
		ctype = http.DetectContentType(head)
	}
	if !media && ctype == "" {
		ctype = "application/octet-stream"
	}
	var target string
	switch {
	case media && url != "":
		target = TargetURI(url, "media")
	case info.Source != "":
		target = TargetURI(info.Source, "source")
	default:
		target = "urn:osmarc:blob:sha256:" + b.Digest
	}
	fields := w.warcinfo()
	if media && kind != "" {
		fields = append(fields, Field{"osmarc-media-kind", kind})
	}
	id, err := w.rw.Write(Record{Type: TypeResource, Date: b.CapturedAt, TargetURI: target, ContentType: ctype, PayloadDigest: true, Fields: fields},
		br, size, d)
	if err != nil {
		return "", err
	}
	w.blobs.add(d, bare(id))
	w.n.Records++
	if media {
		w.n.Media++
	} else {
		w.n.Raw++
	}
	return bare(id), nil
}

// Finish writes the closing metadata record and moves the file into place.
func (w *Writer) Finish(ctx context.Context) (export.Manifest, error) {
	if w.done || w.pf == nil {
		return export.Manifest{}, errors.New("warc: export not begun or already ended")
	}
	defer w.parts.remove()
	if err := w.writeParts(ctx); err != nil {
		return export.Manifest{}, w.fail(err)
	}
	summary := struct {
		Format      string             `json:"format"`
		ExportedAt  time.Time          `json:"exported_at"`
		JournalHead export.JournalHead `json:"journal_head"`
		Selection   export.Selection   `json:"selection"`
		Counts      counts             `json:"counts"`
		Withheld    []export.Withheld  `json:"withheld,omitempty"`
	}{"osmarc-warc-summary/1", w.m.ExportedAt.UTC(), w.m.JournalHead, w.m.Selection, w.n, w.m.Withheld}
	summary.Counts.Records++ // this record
	var buf bytes.Buffer
	if err := export.MarshalItemJSON(&buf, summary); err != nil {
		return export.Manifest{}, w.fail(err)
	}
	if _, err := w.rw.WriteBytes(Record{Type: TypeMetadata, Date: w.m.ExportedAt, TargetURI: "urn:osmarc:export:" + w.m.ArchiveID + ":" + w.m.ExportedAt.UTC().Format(time.RFC3339Nano),
		ContentType: "application/json", Fields: append(w.warcinfo(), Field{"WARC-Refers-To", w.info})}, buf.Bytes()); err != nil {
		return export.Manifest{}, w.fail(err)
	}
	if err := w.rw.Flush(); err != nil {
		return export.Manifest{}, w.fail(err)
	}
	f, err := w.pf.Commit()
	if err != nil {
		return export.Manifest{}, err
	}
	w.done = true
	return export.Manifest{
		Format: FormatName, Path: f.Path, Items: w.n.Items, Versions: w.n.Versions,
		Files: []export.File{f}, Bytes: f.Size, SHA256: f.SHA256, DigestOf: "the WARC file",
	}, nil
}

// Abort removes the pending file.
func (w *Writer) Abort() error {
	if w.done || w.pf == nil {
		return nil
	}
	w.done = true
	w.rw.Close()
	w.parts.remove()
	return w.pf.Abort()
}

// recentIDs remembers the record ids of the last blobs written, bounded
// so memory stays flat: a blob seen again after that many others is
// written again (harmless in a WARC, only larger).
type recentIDs struct {
	m    map[archive.Digest]string
	ring []archive.Digest
	next int
}

const recentMax = 1 << 16

func (r *recentIDs) get(d archive.Digest) (string, bool) {
	id, ok := r.m[d]
	return id, ok
}

func (r *recentIDs) add(d archive.Digest, id string) {
	if r.m == nil {
		r.m = make(map[archive.Digest]string, 1024)
	}
	if len(r.ring) < recentMax {
		r.ring = append(r.ring, d)
	} else {
		delete(r.m, r.ring[r.next])
		r.ring[r.next] = d
		r.next = (r.next + 1) % recentMax
	}
	r.m[d] = id
}

// spooled is a blob of unknown size read ahead: in memory when small,
// else in a temporary file.
type spooled struct {
	io.Reader
	size int64
	f    *os.File
}

func (s *spooled) Close() error {
	if s.f != nil {
		s.f.Close()
		return os.Remove(s.f.Name())
	}
	return nil
}

const spoolMem = 8 << 20

func spool(r io.Reader, dir string) (*spooled, error) {
	var buf bytes.Buffer
	n, err := io.CopyN(&buf, r, spoolMem+1)
	if err == io.EOF || (err == nil && n <= spoolMem) {
		return &spooled{Reader: bytes.NewReader(buf.Bytes()), size: n}, nil
	}
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, ".osmarc-warc-spool-*")
	if err != nil {
		return nil, err
	}
	s := &spooled{f: f}
	if _, err := f.Write(buf.Bytes()); err != nil {
		s.Close()
		return nil, err
	}
	m, err := io.Copy(f, r)
	if err != nil {
		s.Close()
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		s.Close()
		return nil, err
	}
	s.Reader, s.size = f, n+m
	return s, nil
}

// rawDoc is a raw response with what was learnt of it.
type rawDoc struct {
	data  []byte
	lines []int          // offsets where lines start, once needed
	parts map[string]any // JSON pointer of a container → its members
}

// excerpt returns the part of a raw response a place names: the 1-based
// line (without its line ending), or the JSON value at an RFC 6901
// pointer, byte for byte as stored.
func excerpt(d *rawDoc, p RawPlace) ([]byte, error) {
	if p.Line > 0 {
		if d.lines == nil {
			d.lines = []int{0}
			for i, c := range d.data {
				if c == '\n' {
					d.lines = append(d.lines, i+1)
				}
			}
		}
		if p.Line > len(d.lines) {
			return nil, fmt.Errorf("line %d: the response has %d lines", p.Line, len(d.lines))
		}
		start, end := d.lines[p.Line-1], len(d.data)
		if p.Line < len(d.lines) {
			end = d.lines[p.Line] - 1
		}
		return bytes.TrimSuffix(d.data[start:end], []byte("\r")), nil
	}
	if p.Path == "" || p.Path[0] != '/' {
		return nil, fmt.Errorf("%q is not a JSON pointer", p.Path)
	}
	if d.parts == nil {
		d.parts = map[string]any{}
	}
	cur := json.RawMessage(d.data)
	prefix := ""
	for _, raw := range strings.Split(p.Path[1:], "/") {
		tok := strings.ReplaceAll(strings.ReplaceAll(raw, "~1", "/"), "~0", "~")
		parsed, ok := d.parts[prefix]
		if !ok {
			trimmed := bytes.TrimLeft(cur, " \t\r\n")
			switch {
			case len(trimmed) > 0 && trimmed[0] == '{':
				var obj map[string]json.RawMessage
				if err := json.Unmarshal(trimmed, &obj); err != nil {
					return nil, err
				}
				parsed = obj
			case len(trimmed) > 0 && trimmed[0] == '[':
				var arr []json.RawMessage
				if err := json.Unmarshal(trimmed, &arr); err != nil {
					return nil, err
				}
				parsed = arr
			default:
				return nil, fmt.Errorf("JSON pointer %s: %q is not in an object or array", p.Path, tok)
			}
			d.parts[prefix] = parsed
		}
		switch c := parsed.(type) {
		case map[string]json.RawMessage:
			v, ok := c[tok]
			if !ok {
				return nil, fmt.Errorf("JSON pointer %s: no member %q", p.Path, tok)
			}
			cur = v
		case []json.RawMessage:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("JSON pointer %s: no element %q", p.Path, tok)
			}
			cur = c[i]
		}
		prefix += "/" + raw
	}
	return cur, nil
}
