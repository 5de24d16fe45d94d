package bagit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/export"
	"github.com/osmarc/osmarc/export/html"
	"github.com/osmarc/osmarc/export/tabular"
)

// The bag an export writes. Payload (under data/):
//
//	index.html                   the offline viewer (opens from disk)
//	viewer/items-NNNNN.js        the viewer's data, 1,000 items a file
//	index.csv                    one row per item version: the CSV
//	                             export's columns, then item_json,
//	                             version_file and thread_html
//	chain-of-custody.json        journal head at export time, the
//	                             selection, the exporter, and each item's
//	                             key, version digests and files
//	items/items-NNNNN.jsonl      the items, 1,000 a file, one JSON line
//	                             each: identity, times, records
//	                             management, raw responses and media by
//	                             digest and file, and every version
//	                             exported with its digest, capture time
//	                             and "content": the archived normalised
//	                             JSON byte for byte (its SHA-256 is the
//	                             version digest; a redacted version holds
//	                             the redacted JSON and no archive digest)
//	raw/<aa>/<sha256>.<ext>      raw platform responses, each once (never
//	                             in a redacted export)
//	media/<aa>/<sha256>.<ext>    media files, each once (with --media)
//	threads/<platform>/<account>/<aa>.html
//	                             the account's threads whose keys'
//	                             SHA-256 begin with the byte <aa>, each
//	                             a section (id "thread-" and the key):
//	                             post, comments, versions
//	redaction-log.csv, withholding-log.csv
//	                             in a redacted export: where redactions
//	                             were made and what was withheld
//
// Key parts are used as path elements as the archive escapes them, with
// ":" written %3A so the bag unpacks on any file system; <aa> is the
// first two hex digits of the digest, so no directory grows too large.
//
// The writer is a pipeline that keeps every core busy while what it
// writes stays what one goroutine writing item after item would write:
//
//   - Write hands each item to a pool of goroutines (writers of them at
//     once), which copy its raw responses and media into the payload and
//     render its line of the items file, its rows of index.csv, its
//     custody entry and its record for the thread pages into buffers.
//     A blob several items name is copied by the first of them in the
//     selection's order; the others wait for its path.
//   - The items are then committed in the selection's order, on the
//     calling goroutine: their buffers are appended to the items file,
//     index.csv, the custody spool and the thread spool. At most
//     maxWindow items are between the two stages, so memory does not
//     grow with the selection.
//   - Each item, viewer data file and thread page reserves its place in
//     the manifests (Writer.Reserve) when it is handed to the pool, so
//     the manifests list the payload in an order that does not depend on
//     which goroutine finishes first.
//
// File creation, not bytes, is what a bag of many small items waits on:
// small files are written in one write(2) each, and nothing is synced
// until Finish.

// Payload file names of an export bag.
const (
	FileViewer    = "index.html"
	FileIndexCSV  = "index.csv"
	FileCustody   = "chain-of-custody.json"
	FileStyle     = "style.css"
	FileRedacted  = "redaction-log.csv"
	FileWithheld  = "withholding-log.csv"
	viewerChunk   = 1000
	custodyFormat = "osmarc chain of custody 1"
)

// Format is the bagit export format.
func Format() export.Format {
	return export.Format{Name: "bagit", Dir: true,
		Description: "BagIt 1.0 bag (RFC 8493): versions, raw JSON, media, thread pages, index.csv, chain of custody, offline viewer",
		New:         func() export.Writer { return &bagWriter{} }}
}

type span struct {
	off int64
	n   int32
}

type bagWriter struct {
	meta    export.Meta
	bag     *Writer
	csvFile io.WriteCloser
	csvW    *bufio.Writer
	redFile io.WriteCloser
	red     *csv.Writer

	chunk   []html.Item
	scripts []string

	spool   *os.File // thread records (encodeSpool)
	spoolW  *bufio.Writer
	spoolAt int64
	threads map[string][]span

	custody   *os.File // custody records, JSON lines
	custodyW  *bufio.Writer
	raw       map[string]*blobSlot // digest → where it is copied
	media     map[string]*blobSlot
	items     int
	versions  int
	redacted  int
	finishing bool

	// The items file being written.
	itemsFile  io.WriteCloser
	itemsW     *bufio.Writer
	itemsName  string
	itemsLine  int
	itemsFiles int

	// pool prepares items and writes small files concurrently; poolCtx
	// ends at its first error.
	pool    *errgroup.Group
	poolCtx context.Context
	// window holds the items handed to the pool, in the selection's
	// order, until they are committed; submitted counts them.
	window    []*itemJob
	submitted int
}

// writers is how many items and small files are worked on at once.
const writers = 8

// maxWindow is how many items may be between the pool and their commit.
const maxWindow = 64

// blobSlot is a raw response or media file of the bag: copied by the
// item that first names it, whose goroutine closes done (then path, img
// and err are set). done is nil once that item is committed.
type blobSlot struct {
	done chan struct{}
	path string
	img  bool
	err  error
}

// itemJob is one item on its way through the pipeline.
type itemJob struct {
	seq   int
	it    *export.Item
	batch *Batch
	// raw and media are the slots of it.Raw and it.Media (media is nil
	// when media are not exported); copy lists those this item copies,
	// wait the done channels of those another copies.
	raw, media []*blobSlot
	copy       []blobCopy
	wait       []chan struct{}
	done       chan struct{}
	err        error
	// What prepare rendered, for commit.
	out      *itemOut
	hv       html.Item
	versions int
}

type blobCopy struct {
	slot        *blobSlot
	dir, digest string
	media       bool
}

// itemOut holds an item's rendered bytes; they are reused.
type itemOut struct {
	line, csv, spool, custody, scratch, ref bytes.Buffer
	cw                                      *csv.Writer
}

var itemOuts = sync.Pool{New: func() any {
	o := &itemOut{}
	o.cw = csv.NewWriter(&o.csv)
	return o
}}

// put writes a small payload file from a goroutine of the pool, in a
// place of the manifests reserved now; mk makes its content there.
func (w *bagWriter) put(name string, mk func() ([]byte, error)) error {
	if err := w.poolCtx.Err(); err != nil {
		return w.pool.Wait()
	}
	b := w.bag.Reserve()
	w.pool.Go(func() error {
		defer b.Done()
		data, err := mk()
		if err != nil {
			return err
		}
		return w.writeFile(b, name, data)
	})
	return nil
}

// writeFile writes a whole small payload file of batch b: in one write,
// unless a guard is to see it.
func (w *bagWriter) writeFile(b *Batch, name string, data []byte) error {
	if w.meta.Guard == nil {
		return b.WriteFile(name, data)
	}
	f, err := w.createIn(b, name)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func safeKey(key string) string { return strings.ReplaceAll(key, ":", "%3A") }

// itemsPerFile is how many items one items-NNNNN.jsonl holds.
const itemsPerFile = 1000

func fanned(dir, sum, ext string) string { return dir + "/" + sum[:2] + "/" + sum + ext }

// ThreadPage is the page in the payload that holds the thread: the
// thread's account's directory (its key without the last element), and
// in it the page of the threads whose keys' SHA-256 begin with the same
// byte (<aa>.html). A thread's page is the same in every export; an
// account has at most 256 pages, so a large export does not wait on
// creating a file per thread (which costs this kind of file system far
// more than writing the bytes), and a small one has a page a thread.
func ThreadPage(threadKey string) string {
	sum := sha256.Sum256([]byte(threadKey))
	dir := "threads/"
	if i := strings.LastIndexByte(threadKey, '/'); i > 0 {
		dir += safeKey(threadKey[:i]) + "/"
	}
	return dir + hex.EncodeToString(sum[:1]) + ".html"
}

// ThreadLink is the link to the thread's section of its page.
func ThreadLink(threadKey string) string {
	return ThreadPage(threadKey) + "#" + html.ThreadID(threadKey)
}

func (w *bagWriter) Begin(ctx context.Context, m export.Meta) error {
	if err := export.CheckOut(m.Out, m.Force); err != nil {
		return err
	}
	bag, err := CreateWith(m.Out, Options{Force: m.Force})
	if errors.Is(err, ErrExists) {
		return fmt.Errorf("export: %s: %w (give --force to replace it)", m.Out, export.ErrExists)
	}
	if err != nil {
		return err
	}
	w.meta, w.bag = m, bag
	w.pool, w.poolCtx = errgroup.WithContext(ctx)
	w.pool.SetLimit(writers)
	w.threads, w.raw, w.media = map[string][]span{}, map[string]*blobSlot{}, map[string]*blobSlot{}
	if w.spool, err = os.CreateTemp("", "osmarc-export-threads-*"); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	os.Remove(w.spool.Name())
	w.spoolW = bufio.NewWriterSize(w.spool, 256<<10)
	if w.custody, err = os.CreateTemp("", "osmarc-export-custody-*"); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	os.Remove(w.custody.Name())
	w.custodyW = bufio.NewWriterSize(w.custody, 256<<10)
	if w.csvFile, err = w.create(FileIndexCSV); err != nil {
		return err
	}
	// Rows are rendered by the pool and appended here in order; the
	// buffer is the one csv.Writer had, so a guard sees the same writes.
	w.csvW = bufio.NewWriterSize(w.csvFile, 4096)
	cw := csv.NewWriter(w.csvW)
	if err := cw.Write(append(append([]string{}, tabular.Columns...), "item_file", "item_line", "thread_html")); err != nil {
		return err
	}
	cw.Flush()
	if m.Redacted && m.Extra == nil {
		if w.redFile, err = w.create(FileRedacted); err != nil {
			return err
		}
		w.red = csv.NewWriter(w.redFile)
		w.red.Write([]string{"key", "field", "kind", "count", "decision", "decided_by", "exemption", "reason"})
	}
	return nil
}

// itemJSON is an item's line in items/items-NNNNN.jsonl. What a version
// says (text, author, url, language, parent and thread ids) is in its
// content, not repeated here.
type itemJSON struct {
	Key            string             `json:"key"`
	Platform       string             `json:"platform"`
	Account        string             `json:"account"`
	ID             string             `json:"id"`
	Kind           string             `json:"kind"`
	ParentKey      string             `json:"parent_key,omitempty"`
	ThreadKey      string             `json:"thread_key"`
	Role           string             `json:"role"`
	CreatedAt      time.Time          `json:"created_at"`
	EditedAt       time.Time          `json:"edited_at,omitzero"`
	Edited         bool               `json:"edited"`
	RemovedAt      *time.Time         `json:"removed_at,omitempty"`
	FirstCaptured  time.Time          `json:"first_captured"`
	LastCaptured   time.Time          `json:"last_captured"`
	Classification string             `json:"classification,omitempty"`
	Schedule       string             `json:"schedule,omitempty"`
	Exemptions     []string           `json:"exemptions,omitempty"`
	Holds          []string           `json:"holds,omitempty"`
	VersionCount   int                `json:"version_count"`
	Versions       []versionRef       `json:"versions"`
	Raw            []fileRef          `json:"raw,omitempty"`
	Media          []mediaRef         `json:"media,omitempty"`
	Redactions     []export.Redaction `json:"redactions,omitempty"`
	Thread         string             `json:"thread_html"`
}

type versionRef struct {
	// Digest is the archived version's; left out of a redacted version.
	Digest     string    `json:"digest,omitempty"`
	CapturedAt time.Time `json:"captured_at"`
	Capture    string    `json:"capture"`
	// ContentSHA256 is the SHA-256 of Content when it is not Digest (a
	// redacted version); otherwise Content hashes to Digest.
	ContentSHA256 string `json:"content_sha256,omitempty"`
	Redacted      bool   `json:"redacted,omitempty"`
	// Content is the version's normalised JSON (in the items file only).
	Content json.RawMessage `json:"content,omitempty"`
}

type fileRef struct {
	Digest     string    `json:"digest"`
	CapturedAt time.Time `json:"captured_at"`
	File       string    `json:"file,omitempty"`
}

type mediaRef struct {
	fileRef
	URL  string `json:"url,omitempty"`
	Type string `json:"type,omitempty"`
	Alt  string `json:"alt,omitempty"`
}

// custodyItem is one item of chain-of-custody.json.
type custodyItem struct {
	Key string `json:"key"`
	// File and Line say where the item is in the bag.
	File      string       `json:"file"`
	Line      int          `json:"line"`
	Role      string       `json:"role"`
	CreatedAt time.Time    `json:"created_at"`
	RemovedAt *time.Time   `json:"removed_at,omitempty"`
	Versions  []versionRef `json:"versions"`
	Redacted  bool         `json:"redacted,omitempty"`
}

func (w *bagWriter) create(name string) (io.WriteCloser, error) { return w.createIn(nil, name) }

// createIn creates a payload file of batch b (listed at once when b is
// nil), wrapped in the guard when there is one.
func (w *bagWriter) createIn(b *Batch, name string) (io.WriteCloser, error) {
	var f io.WriteCloser
	var err error
	if b != nil {
		f, err = b.Create(name)
	} else {
		f, err = w.bag.Create(name)
	}
	if err != nil || w.meta.Guard == nil {
		return f, err
	}
	return w.meta.Guard("data/"+name, f), nil
}

// smallBlob is the largest blob copied from one buffer in one write;
// larger ones are streamed.
const smallBlob = 256 << 10

var blobBufs = sync.Pool{New: func() any { b := make([]byte, smallBlob); return &b }}

// copyBlob copies a blob into the payload, in batch b, at
// dir/<digest>.<ext>, the extension from its first bytes; it returns the
// path and content type.
func (w *bagWriter) copyBlob(ctx context.Context, b *Batch, dir, digest string) (string, string, error) {
	rc, err := w.meta.Blobs.Open(ctx, digest)
	if err != nil {
		return "", "", err
	}
	defer rc.Close()
	bp := blobBufs.Get().(*[]byte)
	defer blobBufs.Put(bp)
	buf := *bp
	n, err := io.ReadFull(rc, buf)
	small := err == io.EOF || err == io.ErrUnexpectedEOF
	if err != nil && !small {
		return "", "", fmt.Errorf("export: copy blob %s: %w", digest, err)
	}
	head := buf[:min(n, 512)]
	ct := http.DetectContentType(head)
	name := fanned(dir, digest, extension(head, ct))
	// Checked again here, whatever Blobs checked: the bag's manifest must
	// never vouch for damaged content. The SHA-256 checked is the one
	// the manifest line will carry, so the bytes are hashed once.
	mismatch := func(got string) error {
		return fmt.Errorf("export: blob %s: %w: content hashes to %s", digest, archive.ErrDigestMismatch, got)
	}
	if small {
		data := buf[:n]
		s256 := sha256.Sum256(data)
		if got := hex.EncodeToString(s256[:]); got != digest {
			return "", "", mismatch(got)
		}
		if w.meta.Guard == nil {
			return name, ct, b.writeFileSum(name, data, &s256)
		}
		return name, ct, w.writeFile(b, name, data)
	}
	f, err := w.createIn(b, name)
	if err != nil {
		return "", "", err
	}
	pf, direct := f.(*payloadFile)
	var src io.Reader = io.MultiReader(bytes.NewReader(buf[:n]), rc)
	var h hash.Hash
	if !direct {
		h = sha256.New()
		src = io.TeeReader(src, h)
	}
	if _, err := io.Copy(f, src); err != nil {
		f.Close()
		return "", "", fmt.Errorf("export: copy blob %s: %w", digest, err)
	}
	var got string
	if direct {
		if got, err = pf.sha256(); err != nil {
			f.Close()
			return "", "", fmt.Errorf("export: copy blob %s: %w", digest, err)
		}
	} else {
		got = hex.EncodeToString(h.Sum(nil))
	}
	if got != digest {
		f.Close()
		return "", "", mismatch(got)
	}
	return name, ct, f.Close()
}

func extension(head []byte, ct string) string {
	trimmed := strings.TrimLeft(string(head), " \t\r\n\ufeff")
	if strings.HasPrefix(trimmed, "{") || strings.HasPrefix(trimmed, "[") {
		return ".json"
	}
	switch strings.Split(ct, ";")[0] {
	case "image/png":
		return ".png"
	case "image/jpeg":
		return ".jpg"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	case "video/mp4":
		return ".mp4"
	case "video/webm":
		return ".webm"
	case "audio/mpeg":
		return ".mp3"
	case "text/html":
		return ".html"
	case "text/xml":
		return ".xml"
	case "text/plain":
		return ".txt"
	case "application/pdf":
		return ".pdf"
	}
	return ".bin"
}

// Write hands the item to the pool and commits, in order, the items the
// pool has finished (waiting for the oldest when maxWindow are out). The
// source never reuses an *Item (each is built anew), so the pool may
// read it after Write returns; nothing changes it.
func (w *bagWriter) Write(ctx context.Context, it *export.Item) error {
	if err := w.poolCtx.Err(); err != nil {
		return w.pool.Wait()
	}
	j := &itemJob{seq: w.submitted, it: it, done: make(chan struct{})}
	w.submitted++
	// The first item (in order) to name a blob copies it.
	claim := func(m map[string]*blobSlot, dir, digest string, media bool) *blobSlot {
		sl, ok := m[digest]
		if !ok {
			sl = &blobSlot{done: make(chan struct{})}
			m[digest] = sl
			j.copy = append(j.copy, blobCopy{slot: sl, dir: dir, digest: digest, media: media})
		} else if sl.done != nil {
			j.wait = append(j.wait, sl.done)
		}
		return sl
	}
	for _, r := range it.Raw {
		j.raw = append(j.raw, claim(w.raw, "raw", r.Digest, false))
	}
	if w.meta.Media {
		for _, m := range it.Media {
			j.media = append(j.media, claim(w.media, "media", m.Digest, true))
		}
	}
	j.batch = w.bag.Reserve()
	w.window = append(w.window, j)
	w.pool.Go(func() error {
		j.err = w.prepare(ctx, j)
		close(j.done)
		return j.err
	})
	return w.drain(maxWindow)
}

// drain commits the items at the head of the window that are ready,
// waiting for them while more than keep are out.
func (w *bagWriter) drain(keep int) error {
	for len(w.window) > 0 {
		j := w.window[0]
		if len(w.window) <= keep {
			select {
			case <-j.done:
			default:
				return nil
			}
		} else {
			<-j.done
		}
		w.window[0] = nil
		w.window = w.window[1:]
		if err := w.commit(j); err != nil {
			return err
		}
	}
	return nil
}

// itemPlace is where item seq (from 0) is: its items file and line.
func itemPlace(seq int) (string, int) {
	return itemsFileName(seq/itemsPerFile + 1), seq%itemsPerFile + 1
}

// itemsFileName is the name of the n-th items file,
// items/items-NNNNN.jsonl.
func itemsFileName(n int) string {
	d := strconv.Itoa(n)
	if len(d) < 5 {
		d = "00000"[len(d):] + d
	}
	return "items/items-" + d + ".jsonl"
}

// prepare does an item's work on a goroutine of the pool: it copies the
// blobs it is the first to name and renders what commit appends.
func (w *bagWriter) prepare(ctx context.Context, j *itemJob) (err error) {
	defer j.batch.Done()
	it := j.it
	// The blobs this item copies, whatever happens: those waiting for
	// them must not wait for ever.
	defer func() {
		for _, c := range j.copy {
			if c.slot.path == "" && c.slot.err == nil {
				c.slot.err = fmt.Errorf("export: blob %s not copied: %w", c.digest, export.ErrIncomplete)
				if err != nil {
					c.slot.err = err
				}
			}
			close(c.slot.done)
		}
	}()
	for _, c := range j.copy {
		if err := w.poolCtx.Err(); err != nil {
			return err
		}
		p, ct, err := w.copyBlob(ctx, j.batch, c.dir, c.digest)
		if err != nil {
			what := "raw response"
			if c.media {
				what = "media"
			}
			return fmt.Errorf("export: item %s: %s: %w", it.Key, what, err)
		}
		c.slot.path, c.slot.img = p, strings.HasPrefix(ct, "image/")
	}
	for _, ch := range j.wait {
		select {
		case <-ch:
		case <-w.poolCtx.Done():
			return w.poolCtx.Err()
		}
	}
	for _, sl := range append(slices.Clip(j.raw), j.media...) {
		if sl.err != nil {
			return fmt.Errorf("export: item %s: %w", it.Key, sl.err)
		}
	}

	itemPath, line := itemPlace(j.seq)
	threadPath := ThreadLink(it.ThreadKey)
	ij := itemJSON{Key: it.Key, Platform: it.Platform, Account: it.Account, ID: it.ID, Kind: it.Kind, ParentKey: it.ParentKey,
		ThreadKey: it.ThreadKey, Role: it.Role, CreatedAt: it.CreatedAt, EditedAt: it.EditedAt, Edited: it.Edited, RemovedAt: it.RemovedAt,
		FirstCaptured: it.FirstCaptured, LastCaptured: it.LastCaptured, Classification: it.Classification, Schedule: it.Schedule,
		Exemptions: it.Exemptions, Holds: it.Holds, VersionCount: it.VersionCount, Redactions: it.Redactions, Thread: threadPath}
	cust := custodyItem{Key: it.Key, File: itemPath, Line: line, Role: it.Role, CreatedAt: it.CreatedAt, RemovedAt: it.RemovedAt}
	for _, v := range it.Versions {
		b, err := w.versionBytes(ctx, it.Key, &v)
		if err != nil {
			return err
		}
		ref := versionRef{Digest: v.Digest, CapturedAt: v.CapturedAt, Capture: v.Capture, Redacted: v.Redacted}
		if v.Redacted {
			ref.Digest, ref.ContentSHA256 = "", sha(b)
		}
		cust.Versions = append(cust.Versions, ref)
		ref.Content = b
		ij.Versions = append(ij.Versions, ref)
		j.versions++
	}
	for i, r := range it.Raw {
		ij.Raw = append(ij.Raw, fileRef{Digest: r.Digest, CapturedAt: r.CapturedAt, File: j.raw[i].path})
	}
	for i, m := range it.Media {
		p := ""
		if j.media != nil {
			p = j.media[i].path
		}
		ij.Media = append(ij.Media, mediaRef{fileRef: fileRef{Digest: m.Digest, CapturedAt: m.CapturedAt, File: p}, URL: m.URL, Type: m.Type, Alt: m.Alt})
	}
	cust.Redacted = len(it.Redactions) > 0

	o := itemOuts.Get().(*itemOut)
	j.out = o
	o.line.Reset()
	o.csv.Reset()
	o.spool.Reset()
	o.custody.Reset()
	// The item's line: its content is the archived JSON byte for byte
	// (no HTML escaping, no indentation, which would change it).
	if err := writeItemLine(&o.line, &o.scratch, &o.ref, &ij); err != nil {
		return fmt.Errorf("export: write %s: %w", itemPath, err)
	}
	// index.csv
	for _, r := range tabular.Rows(it) {
		o.cw.Write(append(r.Cells(), itemPath, strconv.Itoa(line), threadPath))
	}
	o.cw.Flush()
	if err := o.cw.Error(); err != nil {
		return err
	}
	// The viewer and the thread pages.
	j.hv = html.NewItem(it, itemPath+"#"+strconv.Itoa(line), threadPath, func(d string) (string, bool) {
		for i, m := range it.Media {
			if m.Digest == d && j.media != nil {
				return j.media[i].path, j.media[i].img
			}
		}
		return "", false
	})
	o.spool.Write(encodeSpool(o.spool.AvailableBuffer(), &j.hv))
	// The chain of custody.
	cb, err := json.Marshal(cust)
	if err != nil {
		return err
	}
	o.custody.Write(cb)
	return nil
}

// commit appends a prepared item to the bag's files, in the selection's
// order.
func (w *bagWriter) commit(j *itemJob) error {
	if j.err != nil {
		// The pool's first error, not one of those its end caused.
		if err := w.pool.Wait(); err != nil {
			return err
		}
		return j.err
	}
	o, it := j.out, j.it
	defer itemOuts.Put(o)
	for _, c := range j.copy {
		c.slot.done = nil // copied: later items need not wait
	}
	if w.itemsW == nil || w.itemsLine == itemsPerFile {
		if err := w.nextItemsFile(); err != nil {
			return err
		}
	}
	w.itemsLine++
	if j.seq/itemsPerFile+1 != w.itemsFiles || j.seq%itemsPerFile+1 != w.itemsLine {
		return fmt.Errorf("export: item %s committed out of place (item %d, at %s:%d)", it.Key, j.seq, w.itemsName, w.itemsLine)
	}
	if _, err := w.itemsW.Write(o.line.Bytes()); err != nil {
		return fmt.Errorf("export: write %s: %w", w.itemsName, err)
	}
	if len(it.Redactions) > 0 {
		w.redacted++
		for _, r := range it.Redactions {
			if w.red == nil {
				break
			}
			w.red.Write([]string{it.Key, r.Field, r.Kind, strconv.Itoa(r.Count), r.Decision, r.DecidedBy, r.Exemption, tabular.Neutralise(r.Reason)})
		}
	}
	if _, err := w.csvW.Write(o.csv.Bytes()); err != nil {
		return err
	}
	w.chunk = append(w.chunk, j.hv)
	if len(w.chunk) >= viewerChunk {
		if err := w.flushChunk(); err != nil {
			return err
		}
	}
	w.threads[it.ThreadKey] = append(w.threads[it.ThreadKey], span{w.spoolAt, int32(o.spool.Len())})
	n, err := w.spoolW.Write(o.spool.Bytes())
	w.spoolAt += int64(n)
	if err != nil {
		return fmt.Errorf("export: spool: %w", err)
	}
	if w.items > 0 {
		w.custodyW.WriteString(",\n")
	}
	if _, err := w.custodyW.Write(o.custody.Bytes()); err != nil {
		return fmt.Errorf("export: spool: %w", err)
	}
	w.versions += j.versions
	w.items++
	return nil
}

// writeItemLine writes an item's line to dst (scratch and ref are
// buffers it uses). The versions' contents are written as they are, not through
// encoding/json, which would validate and compact each again (they are
// JSON the Source decoded, or that was just encoded): the line is ij's
// encoding with each version's content spliced in as its last member.
func writeItemLine(dst, scratch, ref *bytes.Buffer, ij *itemJSON) error {
	versions := ij.Versions
	ij.Versions = nil
	scratch.Reset()
	enc := json.NewEncoder(scratch)
	enc.SetEscapeHTML(false)
	err := enc.Encode(ij)
	ij.Versions = versions
	if err != nil {
		return err
	}
	line := scratch.Bytes()
	// Quotes inside JSON strings are escaped, so the member's name with
	// its quotes occurs once, where encoding/json put it.
	const member = `"versions":null`
	i := bytes.Index(line, []byte(member))
	if i < 0 || bytes.Index(line[i+1:], []byte(member)) >= 0 {
		return errors.New("item line: versions member not found once")
	}
	dst.Write(line[:i])
	dst.WriteString(`"versions":[`)
	for k, v := range versions {
		if k > 0 {
			dst.WriteByte(',')
		}
		content := v.Content
		v.Content = nil
		ref.Reset()
		renc := json.NewEncoder(ref)
		renc.SetEscapeHTML(false)
		if err := renc.Encode(v); err != nil {
			return err
		}
		b := bytes.TrimSuffix(ref.Bytes(), []byte("\n"))
		if len(content) == 0 {
			dst.Write(b)
			continue
		}
		dst.Write(b[:len(b)-1])
		dst.WriteString(`,"content":`)
		dst.Write(content)
		dst.WriteByte('}')
	}
	dst.WriteByte(']')
	dst.Write(line[i+len(member):])
	return nil
}

// nextItemsFile closes the items file being written and opens the next.
func (w *bagWriter) nextItemsFile() error {
	if err := w.closeItemsFile(); err != nil {
		return err
	}
	w.itemsFiles++
	w.itemsName = itemsFileName(w.itemsFiles)
	f, err := w.create(w.itemsName)
	if err != nil {
		return err
	}
	w.itemsFile, w.itemsW, w.itemsLine = f, bufio.NewWriterSize(f, 256<<10), 0
	return nil
}

func (w *bagWriter) closeItemsFile() error {
	if w.itemsW == nil {
		return nil
	}
	err := w.itemsW.Flush()
	if cerr := w.itemsFile.Close(); err == nil {
		err = cerr
	}
	w.itemsW = nil
	if err != nil {
		return fmt.Errorf("export: write %s: %w", w.itemsName, err)
	}
	return nil
}

func (w *bagWriter) flushChunk() error {
	if len(w.chunk) == 0 {
		return nil
	}
	name := fmt.Sprintf("viewer/items-%05d.js", len(w.scripts)+1)
	items := w.chunk
	w.chunk = make([]html.Item, 0, viewerChunk)
	if err := w.put(name, func() ([]byte, error) { return html.DataScript(items) }); err != nil {
		return err
	}
	w.scripts = append(w.scripts, name)
	return nil
}

func (w *bagWriter) title() string {
	switch {
	case w.meta.Selection.Request != "":
		return "Production of open-records request " + w.meta.Selection.Request
	case w.meta.Selection.Hold != "":
		return "Export under legal hold " + w.meta.Selection.Hold
	}
	return "osmarc export"
}

func (w *bagWriter) Finish(ctx context.Context) (export.Manifest, error) {
	w.finishing = true
	fail := func(err error) (export.Manifest, error) {
		w.Abort()
		return export.Manifest{}, fmt.Errorf("%w; %w: the bag was removed, nothing is at %s", err, export.ErrIncomplete, w.meta.Out)
	}
	if err := w.drain(0); err != nil {
		return fail(err)
	}
	if err := w.flushChunk(); err != nil {
		return fail(err)
	}
	if err := w.closeItemsFile(); err != nil {
		return fail(err)
	}
	if err := w.csvW.Flush(); err != nil {
		return fail(err)
	}
	if err := w.csvFile.Close(); err != nil {
		return fail(err)
	}
	if w.red != nil {
		w.red.Flush()
		if err := w.red.Error(); err != nil {
			return fail(err)
		}
		if err := w.redFile.Close(); err != nil {
			return fail(err)
		}
		if err := w.writeWithheld(); err != nil {
			return fail(err)
		}
	}
	// What is written so far goes to disk while the thread pages are
	// made (Finish still syncs everything).
	w.bag.Flush()
	// The chain of custody is copied from its spool on a goroutine of the
	// pool, beside the thread pages.
	cb := w.bag.Reserve()
	w.pool.Go(func() error {
		defer cb.Done()
		return w.writeCustody(cb)
	})
	if err := w.writeThreads(ctx); err != nil {
		return fail(err)
	}
	if err := w.writeViewer(); err != nil {
		return fail(err)
	}
	if err := w.put(FileStyle, func() ([]byte, error) { return []byte(html.ThreadCSS), nil }); err != nil {
		return fail(err)
	}
	if err := w.pool.Wait(); err != nil {
		return fail(err)
	}
	if w.meta.Extra != nil {
		if err := w.meta.Extra(ctx, w.create); err != nil {
			return fail(err)
		}
	}
	if err := w.addInfo(); err != nil {
		return fail(err)
	}
	res, err := w.bag.Finish()
	w.closeSpools()
	if err != nil {
		return export.Manifest{}, fmt.Errorf("%w; %w: the bag was removed, nothing is at %s", err, export.ErrIncomplete, w.meta.Out)
	}
	m := export.Manifest{Format: w.meta.Format, Path: w.meta.Out, Items: w.items, Versions: w.versions, Bytes: res.Bytes,
		SHA256: res.TagManifestSHA256, DigestOf: "tagmanifest-sha256.txt", PayloadOxum: res.PayloadOxum}
	for _, t := range res.TagFiles {
		m.Files = append(m.Files, export.File{Path: t.Name, Size: t.Size, SHA256: t.SHA256})
		m.Bytes += t.Size
	}
	return m, nil
}

func (w *bagWriter) writeWithheld() error {
	f, err := w.create(FileWithheld)
	if err != nil {
		return err
	}
	c := csv.NewWriter(f)
	c.Write([]string{"key", "platform", "account", "kind", "created_at", "exemption", "citation", "reason", "decided_by", "decided_at"})
	for _, x := range w.meta.Withheld {
		row := []string{x.Key, x.Platform, x.Account, x.Kind, x.CreatedAt.UTC().Format(time.RFC3339), x.Exemption, x.Citation, x.Reason, x.DecidedBy, x.DecidedAt.UTC().Format(time.RFC3339)}
		for i := range row {
			row[i] = tabular.Neutralise(row[i])
		}
		c.Write(row)
	}
	c.Flush()
	if err := c.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// spoolWindow is the most a thread's records are read at once from the
// spool (their span, records of other threads between them included); a
// variable for tests.
var spoolWindow int64 = 256 << 10

// pageBufs are the buffers thread pages are read and rendered into.
var pageBufs = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// pageFlush is how much of a page is rendered before it is written (a
// page that fits is written in one write); a variable for tests.
var pageFlush = 256 << 10

// writeThreads renders the thread pages from the spooled records.
func (w *bagWriter) writeThreads(ctx context.Context) error {
	if err := w.spoolW.Flush(); err != nil {
		return fmt.Errorf("export: spool: %w", err)
	}
	pages := map[string][]string{}
	for k := range w.threads {
		p := ThreadPage(k)
		pages[p] = append(pages[p], k)
	}
	names := make([]string, 0, len(pages))
	for p, keys := range pages {
		sort.Strings(keys)
		names = append(names, p)
	}
	sort.Strings(names)
	title := w.title()
	// Each page is rendered and written by a goroutine of the pool, a
	// thread at a time (ReadAt is safe from several at once), so memory
	// holds one thread, not one page; the accounts' directories are
	// taken in turn, so that the pool's writers create files in
	// different directories rather than queue on one directory's lock.
	for _, name := range interleaveDirs(names) {
		if err := w.poolCtx.Err(); err != nil {
			return w.pool.Wait()
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		name, keys := name, pages[name]
		b := w.bag.Reserve()
		w.pool.Go(func() error {
			defer b.Done()
			return w.writePage(b, name, title, keys)
		})
	}
	return nil
}

// writePage writes the page name of batch b: the threads keys, in order.
func (w *bagWriter) writePage(b *Batch, name, title string, keys []string) error {
	base := strings.Repeat("../", strings.Count(name, "/"))
	pg := html.Page{Heading: path.Dir(strings.TrimPrefix(name, "threads/")), Title: title, Base: base}
	if pg.Heading == "." {
		pg.Heading = ""
	}
	pg.Heading = strings.TrimPrefix(pg.Heading+", page "+strings.TrimSuffix(path.Base(name), ".html"), ", ")
	for _, k := range keys {
		pg.Threads = append(pg.Threads, html.Contents{Key: k, Items: len(w.threads[k])})
	}
	bp := pageBufs.Get().(*[]byte)
	defer pageBufs.Put(bp)
	rp := pageBufs.Get().(*[]byte)
	defer pageBufs.Put(rp)
	page := html.AppendPageHead((*bp)[:0], pg)
	var f io.WriteCloser
	flush := func() error {
		if f == nil {
			var err error
			if f, err = w.createIn(b, name); err != nil {
				return err
			}
		}
		_, err := f.Write(page)
		page = page[:0]
		return err
	}
	for _, k := range keys {
		items, err := w.threadItems(rp, w.threads[k])
		if err != nil {
			if f != nil {
				f.Close()
			}
			return err
		}
		page = html.AppendThread(page, base, html.Thread{Key: k, Items: items})
		if len(page) >= pageFlush {
			if err := flush(); err != nil {
				if f != nil {
					f.Close()
				}
				return err
			}
		}
	}
	page = append(page, html.PageEnd...)
	defer func() { *bp = page[:0] }()
	if f == nil {
		// The whole page in one write.
		return w.writeFile(b, name, page)
	}
	if err := flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// threadItems reads a thread's records from the spool, into buf's
// storage when they lie close together (replies usually follow their
// post: one pread), else one by one.
func (w *bagWriter) threadItems(buf *[]byte, spans []span) ([]html.Item, error) {
	items := make([]html.Item, 0, len(spans))
	var window []byte
	first, last := spans[0], spans[len(spans)-1]
	if end := last.off + int64(last.n); end-first.off <= spoolWindow {
		window = slices.Grow((*buf)[:0], int(end-first.off))[:end-first.off]
		*buf = window[:0]
		if _, err := w.spool.ReadAt(window, first.off); err != nil {
			return nil, fmt.Errorf("export: spool: %w", err)
		}
	}
	for _, sp := range spans {
		var b []byte
		if window != nil {
			b = window[sp.off-first.off : sp.off-first.off+int64(sp.n)]
		} else {
			b = make([]byte, sp.n)
			if _, err := w.spool.ReadAt(b, sp.off); err != nil {
				return nil, fmt.Errorf("export: spool: %w", err)
			}
		}
		hv, err := decodeSpool(b)
		if err != nil {
			return nil, fmt.Errorf("export: spool: %w", err)
		}
		items = append(items, hv)
	}
	return items, nil
}

// interleaveDirs orders sorted page names one from each directory in
// turn (the order pages are written in; what they hold does not depend
// on it).
func interleaveDirs(names []string) []string {
	var dirs [][]string
	for i, k := range names {
		if i == 0 || path.Dir(k) != path.Dir(names[i-1]) {
			dirs = append(dirs, nil)
		}
		dirs[len(dirs)-1] = append(dirs[len(dirs)-1], k)
	}
	out := make([]string, 0, len(names))
	for len(out) < len(names) {
		for i, d := range dirs {
			if len(d) > 0 {
				out, dirs[i] = append(out, d[0]), d[1:]
			}
		}
	}
	return out
}

// Custody is chain-of-custody.json without its items.
type Custody struct {
	Format        string             `json:"format"`
	ArchiveID     string             `json:"archive_id"`
	OsmarcVersion string             `json:"osmarc_version"`
	ExportedAt    time.Time          `json:"exported_at"`
	Exporter      string             `json:"exporter"`
	JournalHead   export.JournalHead `json:"journal_head"`
	Selection     export.Selection   `json:"selection"`
	Description   string             `json:"selection_description"`
	Redacted      bool               `json:"redacted"`
	Withheld      []export.Withheld  `json:"withheld,omitempty"`
	ItemCount     int                `json:"item_count"`
	VersionCount  int                `json:"version_count"`
	Note          string             `json:"note"`
}

// writeCustody writes chain-of-custody.json in batch b.
func (w *bagWriter) writeCustody(b *Batch) error {
	if err := w.custodyW.Flush(); err != nil {
		return fmt.Errorf("export: spool: %w", err)
	}
	c := Custody{Format: custodyFormat, ArchiveID: w.meta.ArchiveID, OsmarcVersion: w.meta.OsmarcVersion, ExportedAt: w.meta.ExportedAt.UTC(),
		Exporter: w.meta.Exporter, JournalHead: w.meta.JournalHead, Selection: w.meta.Selection, Description: w.meta.Selection.String(),
		Redacted: w.meta.Redacted, Withheld: w.meta.Withheld, ItemCount: w.items, VersionCount: w.versions,
		Note: "Each item is on line Line of File; each version's content there is the archived normalised JSON byte for byte, so its SHA-256 equals the version's archived digest, unless the version is redacted: a redacted version's archived digest is left out, as it would let anyone test guesses at the redacted text, and content_sha256 gives its content's SHA-256 instead. The journal head names the state of the archive the export was taken from (osmarc verify checks the chain)."}
	head, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	f, err := w.createIn(b, FileCustody)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	bw.Write(head[:len(head)-2]) // without the closing brace
	bw.WriteString(",\n  \"items\": [\n")
	if _, err := w.custody.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return err
	}
	if _, err := io.Copy(bw, w.custody); err != nil {
		f.Close()
		return err
	}
	bw.WriteString("\n  ]\n}\n")
	err = bw.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (w *bagWriter) writeViewer() error {
	f, err := w.create(FileViewer)
	if err != nil {
		return err
	}
	v := html.Viewer{Title: w.title(), Description: w.meta.Selection.String(), ExportedAt: w.meta.ExportedAt.UTC().Format(time.RFC3339),
		Exporter: w.meta.Exporter, ArchiveID: w.meta.ArchiveID, JournalHead: w.meta.JournalHead.Hash, JournalSeq: w.meta.JournalHead.Seq,
		Items: w.items, Redacted: w.meta.Redacted, Scripts: w.scripts}
	err = html.WriteViewer(f, v)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (w *bagWriter) addInfo() error {
	org := w.meta.Organization
	if org == "" {
		org = "osmarc archive " + w.meta.ArchiveID
	}
	fields := []Field{
		{"Source-Organization", org},
		{"Bagging-Date", w.meta.ExportedAt.UTC().Format("2006-01-02")},
	}
	switch {
	case w.meta.Selection.Request != "":
		fields = append(fields, Field{"External-Identifier", w.meta.Selection.Request})
	case w.meta.Selection.Hold != "":
		fields = append(fields, Field{"External-Identifier", w.meta.Selection.Hold})
	}
	fields = append(fields,
		Field{"External-Description", w.title()},
		Field{"Internal-Sender-Description", w.meta.Selection.String()},
		Field{"Bag-Software-Agent", "osmarc " + w.meta.OsmarcVersion},
		Field{"Osmarc-Archive-ID", w.meta.ArchiveID},
		Field{"Osmarc-Exporter", w.meta.Exporter},
		Field{"Osmarc-Exported-At", w.meta.ExportedAt.UTC().Format(time.RFC3339)},
		Field{"Osmarc-Journal-Seq", strconv.FormatUint(w.meta.JournalHead.Seq, 10)},
		Field{"Osmarc-Journal-Head", w.meta.JournalHead.Hash},
		Field{"Osmarc-Items", strconv.Itoa(w.items)},
	)
	for _, f := range fields {
		if err := w.bag.AddInfo(f.Label, f.Value); err != nil {
			return err
		}
	}
	return nil
}

func (w *bagWriter) closeSpools() {
	if w.spool != nil {
		w.spool.Close()
	}
	if w.custody != nil {
		w.custody.Close()
	}
}

func (w *bagWriter) Abort() error {
	if w.pool != nil {
		w.pool.Wait() // no writer may still be creating files in the bag
	}
	w.closeSpools()
	if w.bag != nil {
		return w.bag.Abort()
	}
	return nil
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// versionBytes is a version's file content: the archived bytes (as the
// Source read them, or its canonical JSON checked against the digest,
// read from the store if re-encoding does not give them back), or the
// redacted content.
func (w *bagWriter) versionBytes(ctx context.Context, key string, v *export.Version) ([]byte, error) {
	if !v.Redacted && v.Archived != nil {
		return v.Archived, nil // checked against v.Digest when it was read
	}
	b, err := v.Content.CanonicalJSON()
	if err != nil {
		return nil, err
	}
	if v.Redacted || sha(b) == v.Digest {
		return b, nil
	}
	rc, err := w.meta.Blobs.Open(ctx, v.Digest)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if b, err = io.ReadAll(rc); err != nil {
		return nil, fmt.Errorf("export: item %s: version %s: %w", key, v.Digest, err)
	}
	if sha(b) != v.Digest {
		return nil, fmt.Errorf("export: item %s: version %s: %w", key, v.Digest, archive.ErrDigestMismatch)
	}
	return b, nil
}
