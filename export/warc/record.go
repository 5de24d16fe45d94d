package warc

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/klauspost/compress/gzip"
	"hash"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Record types of WARC 1.1 that this package writes.
const (
	TypeWarcinfo = "warcinfo"
	TypeResource = "resource"
	TypeMetadata = "metadata"
)

// ErrDigest: a block's bytes did not hash to the digest its record
// declared (a damaged blob); the record is cut short and the file must be
// discarded.
var ErrDigest = errors.New("block digest mismatch")

// Field is one named header field of a record, in the order written.
type Field struct {
	Name  string
	Value string
}

// Record is one WARC record's header. RecordWriter fills WARC-Record-ID when ID
// is empty, and always writes WARC-Block-Digest and Content-Length from
// the block it is given.
type Record struct {
	Type string
	// ID is the record's "<urn:uuid:…>"; empty means RecordWriter.NewID.
	ID          string
	Date        time.Time
	TargetURI   string
	ContentType string
	// PayloadDigest also writes WARC-Payload-Digest (the same digest: in a
	// resource record the block is the payload).
	PayloadDigest bool
	// Fields are written after the standard ones (WARC-Refers-To,
	// WARC-Concurrent-To, WARC-Warcinfo-ID, …); a name may repeat.
	Fields []Field
}

// RecordWriter writes WARC 1.1 records to an io.Writer, each record compressed
// as its own gzip member, so that a reader can seek to any record's offset
// (the convention of .warc.gz files). Blocks stream: only the header is
// held in memory. It is not safe for concurrent use.
type RecordWriter struct {
	out  *bufio.Writer
	cw   *countingWriter
	seed string
	seq  uint64
	gz   *gzip.Writer
	err  error
}

// NewRecordWriter returns a RecordWriter on w. seed, when not empty, makes record ids
// reproducible: the n-th id is a name-based (SHA-1, version 5) UUID of
// seed and n; callers give a seed unique to the export (its id), so ids
// are still unique across exports. An empty seed gives random ids.
func NewRecordWriter(w io.Writer, seed string) *RecordWriter {
	cw := &countingWriter{w: w}
	return &RecordWriter{out: bufio.NewWriterSize(cw, 256<<10), cw: cw, seed: seed}
}

var idSpace = uuid.MustParse("9b1c2f6e-3f7a-4b8e-9d5a-0c7e4f2a6b31")

// NewID returns a new record id, "<urn:uuid:…>".
func (w *RecordWriter) NewID() string {
	w.seq++
	var u uuid.UUID
	if w.seed != "" {
		u = uuid.NewSHA1(idSpace, []byte(w.seed+"\x00"+strconv.FormatUint(w.seq, 10)))
	} else {
		u = uuid.New()
	}
	return "<urn:uuid:" + u.String() + ">"
}

// Offset is the number of compressed bytes written so far: the offset at
// which the next record starts.
func (w *RecordWriter) Offset() int64 { return w.cw.n + int64(w.out.Buffered()) }

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// WriteBytes writes a record whose block is b, and returns its id.
func (w *RecordWriter) WriteBytes(r Record, b []byte) (string, error) {
	return w.Write(r, bytes.NewReader(b), int64(len(b)), sha256.Sum256(b))
}

// Write writes a record whose block is the next size bytes of body, which
// must hash to sum (SHA-256): WARC-Block-Digest comes before the block, so
// it is declared first and checked as the bytes pass. A body that is short
// or hashes otherwise fails the write (ErrDigest) after part of the record
// was written: the caller discards the file. It returns the record's id.
func (w *RecordWriter) Write(r Record, body io.Reader, size int64, sum [32]byte) (string, error) {
	if w.err != nil {
		return "", w.err
	}
	if r.ID == "" {
		r.ID = w.NewID()
	}
	var h bytes.Buffer
	h.WriteString("WARC/1.1\r\n")
	field := func(name, value string) {
		h.WriteString(name)
		h.WriteString(": ")
		h.WriteString(headerValue(value))
		h.WriteString("\r\n")
	}
	field("WARC-Type", r.Type)
	field("WARC-Record-ID", r.ID)
	field("WARC-Date", Date(r.Date))
	if r.TargetURI != "" {
		field("WARC-Target-URI", r.TargetURI)
	}
	digest := "sha256:" + hex.EncodeToString(sum[:])
	field("WARC-Block-Digest", digest)
	if r.PayloadDigest {
		field("WARC-Payload-Digest", digest)
	}
	for _, f := range r.Fields {
		field(f.Name, f.Value)
	}
	if r.ContentType != "" {
		field("Content-Type", r.ContentType)
	}
	field("Content-Length", strconv.FormatInt(size, 10))
	h.WriteString("\r\n")

	if w.gz == nil {
		w.gz, _ = gzip.NewWriterLevel(w.out, gzip.BestSpeed)
	} else {
		w.gz.Reset(w.out)
	}
	if _, err := w.gz.Write(h.Bytes()); err != nil {
		return "", w.fail(err)
	}
	hs := sha256.New()
	n, err := io.Copy(w.gz, io.TeeReader(io.LimitReader(body, size), hashWriter{hs}))
	if err != nil {
		return "", w.fail(fmt.Errorf("warc: block of %s: %w", r.ID, err))
	}
	if n != size {
		return "", w.fail(fmt.Errorf("warc: block of %s: %w: %d bytes, want %d", r.ID, ErrDigest, n, size))
	}
	if got := hs.Sum(nil); !bytes.Equal(got, sum[:]) {
		return "", w.fail(fmt.Errorf("warc: block of %s: %w: sha256 %x, want %x", r.ID, ErrDigest, got, sum))
	}
	if _, err := w.gz.Write([]byte("\r\n\r\n")); err != nil {
		return "", w.fail(err)
	}
	if err := w.gz.Close(); err != nil {
		return "", w.fail(err)
	}
	return r.ID, nil
}

type hashWriter struct{ h hash.Hash }

func (h hashWriter) Write(p []byte) (int, error) { return h.h.Write(p) }

func (w *RecordWriter) fail(err error) error {
	w.err = err
	return err
}

// Flush writes what is buffered to the underlying writer.
func (w *RecordWriter) Flush() error {
	if w.err != nil {
		return w.err
	}
	if err := w.out.Flush(); err != nil {
		return w.fail(err)
	}
	return nil
}

// Date formats a WARC-Date: UTC, W3C-DTF, with fractional seconds only
// when the time has them (WARC 1.1 allows them).
func Date(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond() == 0 {
		return t.Format("2006-01-02T15:04:05Z")
	}
	return t.Format("2006-01-02T15:04:05.999999999Z")
}

// headerValue keeps a header value on one line: control characters
// (CR, LF, tabs and the like) become spaces. Values are UTF-8, which
// WARC 1.1 allows.
func headerValue(s string) string {
	if !strings.ContainsFunc(s, isCtl) && utf8.ValidString(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isCtl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

func isCtl(r rune) bool { return r < 0x20 || r == 0x7f }

// TargetURI makes a WARC-Target-URI of s: an absolute URI is kept (with
// spaces and other characters a URI cannot hold percent-encoded); anything
// else (a file name an import read) becomes a URN under osmarc's name,
// "urn:osmarc:" + kind + ":" + the escaped name.
func TargetURI(s, kind string) string {
	s = strings.TrimSpace(s)
	if u, err := url.Parse(s); err == nil && u.Scheme != "" && (u.Host != "" || u.Opaque != "") {
		return u.String()
	}
	if reScheme.MatchString(s) {
		// An absolute URI net/url cannot parse (at://did:plc:…/…): keep it,
		// percent-encoding what a URI cannot hold.
		var b strings.Builder
		for _, c := range []byte(s) {
			if c <= ' ' || c >= 0x7f || strings.IndexByte(`"<>\^`+"`{|}", c) >= 0 {
				fmt.Fprintf(&b, "%%%02X", c)
			} else {
				b.WriteByte(c)
			}
		}
		return b.String()
	}
	return "urn:osmarc:" + kind + ":" + url.PathEscape(s)
}

var reScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://[^/\s]`)

// Fields encodes application/warc-fields: "Name: value" lines with CRLF.
func Fields(fs []Field) []byte {
	var b bytes.Buffer
	for _, f := range fs {
		b.WriteString(f.Name)
		b.WriteString(": ")
		b.WriteString(headerValue(f.Value))
		b.WriteString("\r\n")
	}
	return b.Bytes()
}
