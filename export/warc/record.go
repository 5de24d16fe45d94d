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
	"runtime"
	"strconv"
	"strings"
	"sync"
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
// (the convention of .warc.gz files). It is not safe for concurrent use.
//
// Records whose block is small (up to inlineBlock bytes, nearly every
// record of an export) are compressed on other goroutines, up to one per
// CPU at once, and written in the order they were given: deflating many
// small members is most of a WARC export's work, and the members are
// independent, so the file is byte for byte what one goroutine would
// write. At most maxPending records (pendingBytes bytes) wait to be
// written. Larger blocks stream: only their header is held in memory.
type RecordWriter struct {
	out  *bufio.Writer
	cw   *countingWriter
	seed string
	seq  uint64
	gz   *gzip.Writer
	err  error

	pending      []*member
	pendingBytes int
	sem          chan struct{}
}

// member is a record being compressed: raw is the record, out its gzip
// member once done is closed.
type member struct {
	raw  []byte
	out  *bytes.Buffer
	err  error
	done chan struct{}
}

const (
	// inlineBlock is the largest block compressed off the caller's
	// goroutine (read into memory first); larger ones stream.
	inlineBlock = 1 << 20
	maxPending  = 64
	// pendingBytes bounds the memory of records waiting to be written.
	pendingBytes = 16 << 20
)

var (
	gzipWriters = sync.Pool{New: func() any { zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed); return zw }}
	memberBufs  = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

// NewRecordWriter returns a RecordWriter on w. seed, when not empty, makes record ids
// reproducible: the n-th id is a name-based (SHA-1, version 5) UUID of
// seed and n; callers give a seed unique to the export (its id), so ids
// are still unique across exports. An empty seed gives random ids.
func NewRecordWriter(w io.Writer, seed string) *RecordWriter {
	cw := &countingWriter{w: w}
	return &RecordWriter{out: bufio.NewWriterSize(cw, 256<<10), cw: cw, seed: seed, sem: make(chan struct{}, runtime.GOMAXPROCS(0))}
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
// which the next record starts. It waits for the records being
// compressed.
func (w *RecordWriter) Offset() int64 {
	w.drain()
	return w.cw.n + int64(w.out.Buffered())
}

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
	if w.err != nil {
		return "", w.err
	}
	if r.ID == "" {
		r.ID = w.NewID()
	}
	h := header(r, int64(len(b)), sha256.Sum256(b))
	rec := make([]byte, 0, len(h)+len(b)+4)
	rec = append(append(append(rec, h...), b...), "\r\n\r\n"...)
	if err := w.submit(rec); err != nil {
		return "", err
	}
	return r.ID, nil
}

// header is a record's header, through the blank line that ends it.
func header(r Record, size int64, sum [32]byte) []byte {
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
	return h.Bytes()
}

// Write writes a record whose block is the next size bytes of body, which
// must hash to sum (SHA-256): WARC-Block-Digest comes before the block, so
// it is declared first and checked as the bytes pass. A body that is short
// or hashes otherwise fails the write (ErrDigest), and the writer: a
// large block may have been written in part, and the caller discards the
// file. It returns the record's id.
func (w *RecordWriter) Write(r Record, body io.Reader, size int64, sum [32]byte) (string, error) {
	if w.err != nil {
		return "", w.err
	}
	if r.ID == "" {
		r.ID = w.NewID()
	}
	h := header(r, size, sum)
	check := func(n int64, got []byte) error {
		if n != size {
			return w.fail(fmt.Errorf("warc: block of %s: %w: %d bytes, want %d", r.ID, ErrDigest, n, size))
		}
		if !bytes.Equal(got, sum[:]) {
			return w.fail(fmt.Errorf("warc: block of %s: %w: sha256 %x, want %x", r.ID, ErrDigest, got, sum))
		}
		return nil
	}
	if size <= inlineBlock {
		rec := make([]byte, len(h), len(h)+int(size)+4)
		copy(rec, h)
		buf := bytes.NewBuffer(rec)
		n, err := buf.ReadFrom(io.LimitReader(body, size))
		if err != nil {
			return "", w.fail(fmt.Errorf("warc: block of %s: %w", r.ID, err))
		}
		rec = buf.Bytes()
		got := sha256.Sum256(rec[len(h):])
		if err := check(n, got[:]); err != nil {
			return "", err
		}
		if err := w.submit(append(rec, "\r\n\r\n"...)); err != nil {
			return "", err
		}
		return r.ID, nil
	}
	// A large block streams, after the records before it.
	if err := w.drain(); err != nil {
		return "", err
	}
	if w.gz == nil {
		w.gz, _ = gzip.NewWriterLevel(w.out, gzip.BestSpeed)
	} else {
		w.gz.Reset(w.out)
	}
	if _, err := w.gz.Write(h); err != nil {
		return "", w.fail(err)
	}
	hs := sha256.New()
	n, err := io.Copy(w.gz, io.TeeReader(io.LimitReader(body, size), hashWriter{hs}))
	if err != nil {
		return "", w.fail(fmt.Errorf("warc: block of %s: %w", r.ID, err))
	}
	if err := check(n, hs.Sum(nil)); err != nil {
		return "", err
	}
	if _, err := w.gz.Write([]byte("\r\n\r\n")); err != nil {
		return "", w.fail(err)
	}
	if err := w.gz.Close(); err != nil {
		return "", w.fail(err)
	}
	return r.ID, nil
}

// submit compresses rec, a whole record, on a goroutine of its own (at
// most one per CPU run at once) and writes the records already
// compressed, in order, waiting for the oldest while too many wait.
func (w *RecordWriter) submit(rec []byte) error {
	m := &member{raw: rec, done: make(chan struct{})}
	w.pending = append(w.pending, m)
	w.pendingBytes += len(rec)
	go func() {
		w.sem <- struct{}{}
		zw := gzipWriters.Get().(*gzip.Writer)
		m.out = memberBufs.Get().(*bytes.Buffer)
		m.out.Reset()
		zw.Reset(m.out)
		if _, err := zw.Write(m.raw); err != nil {
			m.err = err
		} else {
			m.err = zw.Close()
		}
		gzipWriters.Put(zw)
		<-w.sem
		close(m.done)
	}()
	for len(w.pending) > 0 {
		head := w.pending[0]
		if len(w.pending) <= maxPending && w.pendingBytes <= pendingBytes {
			select {
			case <-head.done:
			default:
				return nil
			}
		}
		if err := w.writeHead(); err != nil {
			return err
		}
	}
	return nil
}

// writeHead waits for the oldest pending record and writes it.
func (w *RecordWriter) writeHead() error {
	m := w.pending[0]
	<-m.done
	w.pending[0] = nil
	w.pending = w.pending[1:]
	w.pendingBytes -= len(m.raw)
	if w.err != nil {
		return w.err
	}
	if m.err != nil {
		return w.fail(m.err)
	}
	_, err := w.out.Write(m.out.Bytes())
	if m.out.Cap() <= 4*inlineBlock {
		memberBufs.Put(m.out)
	}
	if err != nil {
		return w.fail(err)
	}
	return nil
}

// drain writes every pending record.
func (w *RecordWriter) drain() error {
	for len(w.pending) > 0 {
		if err := w.writeHead(); err != nil {
			// The rest are still waited for: no goroutine outlives the
			// writer's use.
			for _, m := range w.pending {
				<-m.done
			}
			w.pending, w.pendingBytes = nil, 0
			return err
		}
	}
	return w.err
}

type hashWriter struct{ h hash.Hash }

func (h hashWriter) Write(p []byte) (int, error) { return h.h.Write(p) }

func (w *RecordWriter) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}

// Flush writes every record given and what is buffered to the
// underlying writer.
func (w *RecordWriter) Flush() error {
	if err := w.drain(); err != nil {
		return err
	}
	if err := w.out.Flush(); err != nil {
		return w.fail(err)
	}
	return nil
}

// Close waits for the records being compressed; records not yet written
// are dropped. Call it when a writer is abandoned (the export failed);
// after Flush there is nothing left to wait for.
func (w *RecordWriter) Close() {
	for _, m := range w.pending {
		<-m.done
	}
	w.pending, w.pendingBytes = nil, 0
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
