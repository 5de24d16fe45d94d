package archive

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"iter"
	"time"

	jsonv1 "github.com/go-json-experiment/json/v1"
)

// ManifestFormat names the version of the capture manifest format.
const ManifestFormat = "osmarc-capture/1"

// A capture manifest is JSON Lines: a header, then blob and item lines in
// the order they were seen, then a footer that counts them and carries the
// SHA-256 of every byte before it, so a manifest that was cut short or
// edited is caught by verify even before the journal's record of its digest
// is consulted.
//
//	{"type":"header","format":"osmarc-capture/1","id":…,"collector":…,…}
//	{"type":"blob","digest":…,"size":…,"role":"raw","source":"items.jsonl","lines":"1-1000"}
//	{"type":"item","key":…,"version":…,"raw":…,"raw_line":3,…}
//	{"type":"footer","items":…,"blobs":…,"ended_at":…,"complete":false,"sha256":…}

// ManifestHeader opens a manifest.
type ManifestHeader struct {
	Type             string    `json:"type"`
	Format           string    `json:"format"`
	ID               string    `json:"id"`
	Collector        string    `json:"collector"`
	CollectorVersion string    `json:"collector_version"`
	Actor            string    `json:"actor,omitempty"`
	StartedAt        time.Time `json:"started_at"`
	Sources          []string  `json:"sources,omitempty"`
}

// ManifestBlob names a blob the capture stored that is not an item version:
// a chunk of raw input (role "raw") or a media file ("media").
type ManifestBlob struct {
	Type   string `json:"type"`
	Digest Digest `json:"digest"`
	Size   int64  `json:"size"`
	Role   string `json:"role"`
	Source string `json:"source,omitempty"`
	Lines  string `json:"lines,omitempty"`
	// MediaType is the checked content type of a media blob or of a raw
	// response.
	MediaType string `json:"media_type,omitempty"`
}

// ManifestItem is one item seen.
type ManifestItem struct {
	Type      string          `json:"type"`
	Key       string          `json:"key"`
	Platform  string          `json:"platform"`
	Account   string          `json:"account"`
	ID        string          `json:"id"`
	Kind      string          `json:"kind"`
	CreatedAt time.Time       `json:"created_at"`
	Version   Digest          `json:"version"`
	Size      int64           `json:"size"`
	Raw       *Digest         `json:"raw,omitempty"`
	RawLine   int             `json:"raw_line,omitempty"`
	RawPath   string          `json:"raw_path,omitempty"`
	RemovedAt *time.Time      `json:"removed_at,omitempty"`
	Source    string          `json:"source,omitempty"`
	Line      int             `json:"line,omitempty"`
	Media     []Digest        `json:"media,omitempty"`
	SeenAt    time.Time       `json:"seen_at"`
	Metrics   json.RawMessage `json:"metrics,omitempty"`
}

// ManifestFooter closes a manifest.
type ManifestFooter struct {
	Type     string    `json:"type"`
	EndedAt  time.Time `json:"ended_at"`
	Complete bool      `json:"complete"`
	// Scope, for a complete capture, is what it listed completely: items in
	// the scope that it did not see were removed at the source.
	Scope    *Scope   `json:"scope,omitempty"`
	Accounts []string `json:"accounts"`
	// State is the collector's own note of where it got to (a cursor, the
	// newest id seen), so the next run can go on from there.
	State       json.RawMessage `json:"state,omitempty"`
	Items       int64           `json:"items"`
	Blobs       int64           `json:"blobs"`
	NewVersions int64           `json:"new_versions"`
	Errors      int64           `json:"errors"`
	SHA256      string          `json:"sha256"`
}

// manifestWriter writes a manifest to w, hashing as it goes.
type manifestWriter struct {
	buf   bytes.Buffer
	enc   *jsonv1.Encoder
	w     *bufio.Writer
	h     hash.Hash
	n     int64
	items int64
	blobs int64
	err   error
}

func newManifestWriter(w io.Writer) *manifestWriter {
	h := sha256.New()
	return &manifestWriter{w: bufio.NewWriterSize(io.MultiWriter(w, h), 256<<10), h: h}
}

// line writes one line, encoded as encoding/json does (HTML characters
// not escaped), by go-json-experiment/json's v1 package, which takes half
// the time: a capture writes a line for every item it sees.
func (m *manifestWriter) line(v any) {
	if m.err != nil {
		return
	}
	if m.enc == nil {
		m.enc = jsonv1.NewEncoder(&m.buf)
		m.enc.SetEscapeHTML(false)
	}
	m.buf.Reset()
	if m.err = m.enc.Encode(v); m.err != nil {
		return
	}
	n, err := m.w.Write(m.buf.Bytes())
	m.n += int64(n)
	m.err = err
}

func (m *manifestWriter) header(h ManifestHeader) {
	h.Type, h.Format = "header", ManifestFormat
	m.line(h)
}

func (m *manifestWriter) blob(b ManifestBlob) {
	b.Type = "blob"
	m.blobs++
	m.line(b)
}

func (m *manifestWriter) item(it ManifestItem) {
	it.Type = "item"
	m.items++
	m.line(it)
}

// footer writes the footer: its sha256 covers everything written before.
func (m *manifestWriter) footer(f ManifestFooter) error {
	if m.err == nil {
		m.err = m.w.Flush()
	}
	if m.err != nil {
		return m.err
	}
	f.Type, f.Items, f.Blobs = "footer", m.items, m.blobs
	f.SHA256 = hex.EncodeToString(m.h.Sum(nil))
	m.line(f)
	if m.err == nil {
		m.err = m.w.Flush()
	}
	return m.err
}

// ManifestLine is one decoded line: exactly one of the fields is set.
type ManifestLine struct {
	Header *ManifestHeader
	Blob   *ManifestBlob
	Item   *ManifestItem
	Footer *ManifestFooter
}

// ReadManifest decodes a manifest line by line. It checks the structure
// (header first, footer last, counts and hash in the footer) and yields an
// error naming the line when something is wrong; a manifest without its
// footer was cut short.
func ReadManifest(r io.Reader, name string) iter.Seq2[ManifestLine, error] {
	return func(yield func(ManifestLine, error) bool) {
		br := bufio.NewReaderSize(r, 256<<10)
		h := sha256.New()
		lineNo := 0
		var items, blobs int64
		var sawHeader, sawFooter bool
		fail := func(format string, args ...any) {
			yield(ManifestLine{}, &ManifestError{Name: name, Line: lineNo, Msg: fmt.Sprintf(format, args...)})
		}
		for {
			raw, err := br.ReadBytes('\n')
			if len(raw) == 0 && err == io.EOF {
				break
			}
			lineNo++
			if err == io.EOF {
				fail("line not terminated: the manifest was cut short")
				return
			}
			if err != nil {
				yield(ManifestLine{}, fmt.Errorf("read manifest %s: %w", name, err))
				return
			}
			if sawFooter {
				fail("data after the footer")
				return
			}
			typ, err := lineType(raw)
			if err != nil {
				fail("%v", err)
				return
			}
			var ml ManifestLine
			switch typ {
			case "header":
				ml.Header = new(ManifestHeader)
				err = json.Unmarshal(raw, ml.Header)
				if err == nil && (sawHeader || lineNo != 1) {
					fail("a second header")
					return
				}
				if err == nil && ml.Header.Format != ManifestFormat {
					fail("format %q, want %q", ml.Header.Format, ManifestFormat)
					return
				}
				sawHeader = true
			case "blob":
				ml.Blob = new(ManifestBlob)
				err = jsonUnmarshal(raw, ml.Blob)
				blobs++
			case "item":
				ml.Item = new(ManifestItem)
				err = jsonUnmarshal(raw, ml.Item)
				items++
			case "footer":
				ml.Footer = new(ManifestFooter)
				err = json.Unmarshal(raw, ml.Footer)
				if err == nil {
					sum := hex.EncodeToString(h.Sum(nil))
					switch {
					case ml.Footer.SHA256 != sum:
						fail("footer hash %s does not match the lines before it (%s): the manifest was altered", ml.Footer.SHA256, sum)
						return
					case ml.Footer.Items != items || ml.Footer.Blobs != blobs:
						fail("footer counts %d items and %d blobs, the manifest has %d and %d", ml.Footer.Items, ml.Footer.Blobs, items, blobs)
						return
					}
				}
				sawFooter = true
			default:
				fail("unknown line type %q", typ)
				return
			}
			if err != nil {
				fail("%v", err)
				return
			}
			if !sawHeader {
				fail("no header")
				return
			}
			h.Write(raw)
			if !yield(ml, nil) {
				return
			}
		}
		if !sawFooter {
			lineNo++
			fail("no footer: the manifest was cut short")
		}
	}
}

// lineType reads a manifest line's type. osmarc writes it first, so the
// prefix usually tells without decoding the line twice.
func lineType(raw []byte) (string, error) {
	for _, t := range []string{"item", "blob", "header", "footer"} {
		if bytes.HasPrefix(raw, []byte(`{"type":"`+t+`",`)) {
			return t, nil
		}
	}
	var probe struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return "", err
	}
	return probe.Type, nil
}

// ManifestError is damage found in a manifest; it wraps ErrDamaged.
type ManifestError struct {
	Name string
	Line int
	Msg  string
}

func (e *ManifestError) Error() string {
	return fmt.Sprintf("manifest %s line %d: %s", e.Name, e.Line, e.Msg)
}

func (e *ManifestError) Unwrap() error { return ErrDamaged }

// CaptureKey is the store key of a capture's manifest.
func CaptureKey(id string, started time.Time) string {
	return CapturePrefix + started.UTC().Format("2006/01/02/") + id + ".jsonl"
}
