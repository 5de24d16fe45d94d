package archive

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/sync/errgroup"

	"github.com/osmarc/osmarc/archive/journal"
)

// Limits of the item format reader.
const (
	// MaxLineBytes is the longest input line accepted.
	MaxLineBytes = 16 << 20
	// rawChunkLines and rawChunkBytes bound one raw-input blob: the input
	// is kept byte for byte in chunks of whole lines, so a capture costs one
	// store write per chunk rather than one per line, and the same input
	// always cuts into the same chunks (and so the same blobs).
	rawChunkLines = 1000
	rawChunkBytes = 1 << 20
)

// Source is one input of a capture.
type Source struct {
	Name string
	R    io.Reader
}

// InputError is a bad input record: where it is and why.
type InputError struct {
	Source string
	Line   int
	Err    error
}

func (e *InputError) Error() string { return fmt.Sprintf("%s:%d: %v", e.Source, e.Line, e.Err) }
func (e *InputError) Unwrap() error { return ErrBadInput }

// IngestOptions tunes a capture.
type IngestOptions struct {
	// Collector names what produced the input ("ingest" by default).
	Collector string
	// OnError is told of each bad record as it is found.
	OnError func(*InputError)
	// OnProgress is told of lines read so far.
	OnProgress func(lines int64)
}

// IngestResult reports a capture.
type IngestResult struct {
	Capture      string   `json:"capture,omitempty"`
	Manifest     string   `json:"manifest,omitempty"`
	Lines        int64    `json:"lines"`
	Items        int64    `json:"items"`
	NewVersions  int64    `json:"new_versions"`
	Errors       int64    `json:"errors"`
	BlobsWritten int64    `json:"blobs_written"`
	BytesWritten int64    `json:"bytes_written"`
	Accounts     []string `json:"accounts,omitempty"`
}

// Ingest runs one capture of items in osmarc's JSON Lines item format read
// from sources. The raw input (in chunks of whole lines) and each new
// version go to the store first, then, once the store has synced them, the
// capture manifest, then the journal event naming the manifest, and last the
// catalog. Bad lines are reported through OnError and counted; good lines
// are still captured. An error from the store aborts the capture before its
// manifest is written, so nothing names what may be incomplete.
func (a *Archive) Ingest(ctx context.Context, sources []Source, opt IngestOptions) (IngestResult, error) {
	var res IngestResult
	if a.opts.ReadOnly {
		return res, fmt.Errorf("archive opened read-only")
	}
	if opt.Collector == "" {
		opt.Collector = "ingest"
	}
	started := a.now()
	id := a.newID(started)
	tmpDir := filepath.Join(a.dir, "tmp")
	if err := os.MkdirAll(tmpDir, 0o750); err != nil {
		return res, err
	}
	spool, err := os.CreateTemp(tmpDir, "capture-"+id+"-*.jsonl")
	if err != nil {
		return res, fmt.Errorf("spool manifest: %w", err)
	}
	defer func() {
		spool.Close()
		os.Remove(spool.Name())
	}()
	mw := newManifestWriter(spool)
	var names []string
	for _, s := range sources {
		names = append(names, s.Name)
	}
	mw.header(ManifestHeader{ID: id, Collector: opt.Collector, CollectorVersion: Version, Actor: a.opts.Actor, StartedAt: started, Sources: names})

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(a.opts.Concurrency)
	c := &capture{a: a, ctx: gctx, g: g, mw: mw, res: &res, opt: opt, accounts: map[string]bool{}}
	var readErr error
	for _, s := range sources {
		if readErr = c.readSource(s); readErr != nil {
			break
		}
	}
	if err := g.Wait(); err != nil {
		return res, fmt.Errorf("capture %s aborted, nothing recorded: %w", id, err)
	}

	if readErr != nil {
		return res, fmt.Errorf("capture %s aborted, nothing recorded: %w", id, readErr)
	}
	if res.Items == 0 && res.Errors == 0 {
		return res, nil // nothing but blank lines, or nothing at all
	}
	// Everything the manifest names is written; make it durable before
	// the manifest names it.
	if err := a.store.Sync(ctx); err != nil {
		return res, err
	}
	for acct := range c.accounts {
		res.Accounts = append(res.Accounts, acct)
	}
	sort.Strings(res.Accounts)
	if err := mw.footer(ManifestFooter{EndedAt: a.now(), Complete: false, Accounts: res.Accounts, NewVersions: res.NewVersions, Errors: res.Errors}); err != nil {
		return res, fmt.Errorf("spool manifest: %w", err)
	}
	if err := spool.Sync(); err != nil {
		return res, fmt.Errorf("spool manifest: %w", err)
	}
	size, err := spool.Seek(0, io.SeekCurrent)
	if err != nil {
		return res, err
	}
	digest, err := fileDigest(spool)
	if err != nil {
		return res, err
	}
	key := CaptureKey(id, started)
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return res, err
	}
	if err := a.store.Put(ctx, key, spool, size, digest); err != nil {
		return res, fmt.Errorf("write manifest %s: %w", key, err)
	}
	if err := a.store.Sync(ctx); err != nil {
		return res, err
	}
	ev, b, err := a.writeEvent(ctx, journal.TypeCapture, captureEventData{
		Capture: id, Manifest: key, SHA256: digest.String(), Size: size, Collector: opt.Collector,
		Accounts: res.Accounts, Items: res.Items, NewVersions: res.NewVersions, Errors: res.Errors,
	})
	if err != nil {
		return res, err
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return res, err
	}
	if err := a.applyStored(ctx, ev, b, bufio.NewReaderSize(spool, 1<<20)); err != nil {
		return res, err
	}
	res.Capture, res.Manifest = id, key
	return res, nil
}

func fileDigest(f *os.File) (Digest, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Digest{}, err
	}
	h := newHashingReader(f)
	if _, err := io.Copy(io.Discard, h); err != nil {
		return Digest{}, err
	}
	var d Digest
	copy(d[:], h.h.Sum(nil))
	return d, nil
}

// capture is the state of one Ingest.
type capture struct {
	a        *Archive
	ctx      context.Context
	g        *errgroup.Group
	mw       *manifestWriter
	res      *IngestResult
	opt      IngestOptions
	accounts map[string]bool
}

type chunkLine struct {
	no   int
	data []byte
}

// readSource cuts a source into chunks of whole lines and captures each.
func (c *capture) readSource(s Source) error {
	br := bufio.NewReaderSize(s.R, 256<<10)
	var chunk bytes.Buffer
	var lines []chunkLine
	lineNo := 0
	for {
		if err := c.ctx.Err(); err != nil {
			return err
		}
		line, err := readLine(br)
		if len(line) > 0 {
			lineNo++
			if len(line) > MaxLineBytes {
				c.bad(&InputError{Source: s.Name, Line: lineNo, Err: fmt.Errorf("line longer than %d bytes", MaxLineBytes)})
				line = line[:0]
			}
			start := chunk.Len()
			chunk.Write(line)
			lines = append(lines, chunkLine{no: lineNo, data: chunk.Bytes()[start:chunk.Len()]})
			if len(lines) >= rawChunkLines || chunk.Len() >= rawChunkBytes {
				if err := c.chunk(s.Name, chunk.Bytes(), lines); err != nil {
					return err
				}
				chunk = bytes.Buffer{}
				lines = nil
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", s.Name, err)
		}
	}
	if len(lines) > 0 {
		return c.chunk(s.Name, chunk.Bytes(), lines)
	}
	return nil
}

// readLine returns the next line with its newline; a last line without one
// is returned as it is. Lines longer than MaxLineBytes are read through and
// returned truncated to MaxLineBytes+1 bytes so the caller can refuse them.
func readLine(br *bufio.Reader) ([]byte, error) {
	var out []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(out)+len(frag) <= MaxLineBytes+1 {
			out = append(out, frag...)
		} else if len(out) <= MaxLineBytes {
			out = append(out, frag[:MaxLineBytes+1-len(out)]...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return out, err
	}
}

func (c *capture) bad(e *InputError) {
	c.res.Errors++
	if c.opt.OnError != nil {
		c.opt.OnError(e)
	}
}

// chunk stores one chunk of raw input and the versions its lines carry.
func (c *capture) chunk(source string, raw []byte, lines []chunkLine) error {
	rawDigest := Sum(raw)
	type parsed struct {
		line    chunkLine
		item    Item
		canon   []byte
		digest  Digest
		metrics []byte
	}
	var good []parsed
	for _, l := range lines {
		c.res.Lines++
		body := bytes.TrimSpace(l.data)
		if len(body) == 0 {
			continue // blank lines carry nothing
		}
		if len(l.data) > MaxLineBytes {
			continue // already reported
		}
		it, metrics, err := ParseItemLine(body)
		if err != nil {
			c.bad(&InputError{Source: source, Line: l.no, Err: err})
			continue
		}
		canon, err := it.CanonicalJSON()
		if err != nil {
			c.bad(&InputError{Source: source, Line: l.no, Err: err})
			continue
		}
		good = append(good, parsed{line: l, item: it, canon: canon, digest: Sum(canon), metrics: metrics})
	}
	// Ask the catalog once for the whole chunk which blobs it already has.
	digests := []string{rawDigest.String()}
	for _, p := range good {
		digests = append(digests, p.digest.String())
	}
	known, err := c.a.cat.HasBlobs(digests)
	if err != nil {
		return err
	}
	if !known[0] {
		c.put(rawDigest, raw)
	}
	first, last := lines[0].no, lines[len(lines)-1].no
	c.mw.blob(ManifestBlob{Digest: rawDigest, Size: int64(len(raw)), Role: "raw", Source: source, Lines: fmt.Sprintf("%d-%d", first, last)})
	seen := c.a.now()
	queued := map[Digest]bool{}
	for i, p := range good {
		if !known[i+1] {
			if !queued[p.digest] {
				queued[p.digest] = true
				c.put(p.digest, p.canon)
				c.res.NewVersions++
			}
		}
		rd := rawDigest
		c.mw.item(ManifestItem{
			Key: p.item.Key(), Platform: p.item.Platform, Account: p.item.Account, ID: p.item.ID, Kind: p.item.Kind,
			CreatedAt: p.item.Created(), Version: p.digest, Size: int64(len(p.canon)),
			Raw: &rd, RawLine: p.line.no - first + 1, Source: source, Line: p.line.no,
			SeenAt: seen, Metrics: p.metrics,
		})
		c.res.Items++
		c.accounts[EscapeKeyPart(p.item.Platform)+"/"+EscapeKeyPart(p.item.Account)] = true
	}
	if c.mw.err != nil {
		return fmt.Errorf("spool manifest: %w", c.mw.err)
	}
	if c.opt.OnProgress != nil {
		c.opt.OnProgress(c.res.Lines)
	}
	return nil
}

// put queues one blob write; the errgroup bounds how many are in flight.
func (c *capture) put(d Digest, data []byte) {
	c.res.BlobsWritten++
	c.res.BytesWritten += int64(len(data))
	c.g.Go(func() error {
		if err := PutBytesDigest(c.ctx, c.a.store, d, data); err != nil {
			return err
		}
		return nil
	})
}

// PutBytesDigest writes a blob whose digest the caller already computed.
func PutBytesDigest(ctx context.Context, s BlobStore, d Digest, data []byte) error {
	err := s.Put(ctx, BlobKey(d), bytesReader(data), int64(len(data)), d)
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("write blob %s: %w", d, err)
	}
	return err
}
