package archive

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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
	// Media marks a media file that could not be fetched or stored: the
	// item itself was captured, so the listing stays complete.
	Media bool
}

func (e *InputError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %v", e.Source, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.Source, e.Line, e.Err)
}
func (e *InputError) Unwrap() error { return ErrBadInput }

// IngestOptions tunes a capture of the item format.
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
	// NewAccounts are accounts the capture registered.
	NewAccounts []string `json:"new_accounts,omitempty"`
	// Complete: the capture listed its scope completely.
	Complete bool `json:"complete"`
	// Removed counts items the capture found removed at the source.
	Removed int64 `json:"removed"`
	// MediaErrors counts media that could not be fetched or stored.
	MediaErrors int64 `json:"media_errors"`
}

// Ingest runs one capture of items in osmarc's JSON Lines item format read
// from sources. The raw input is kept byte for byte, in chunks of whole
// lines; each good line becomes an item version. Bad lines are reported
// through OnError and counted; good lines are still captured.
func (a *Archive) Ingest(ctx context.Context, sources []Source, opt IngestOptions) (IngestResult, error) {
	if opt.Collector == "" {
		opt.Collector = "ingest"
	}
	var names []string
	for _, s := range sources {
		names = append(names, s.Name)
	}
	w, err := a.BeginCapture(ctx, CaptureOptions{Collector: opt.Collector, Sources: names, OnError: opt.OnError})
	if err != nil {
		return IngestResult{}, err
	}
	var lines int64
	for _, s := range sources {
		if err := readItemLines(ctx, w, s, &lines, opt.OnProgress); err != nil {
			w.Abort()
			res := w.Result()
			res.Lines = lines
			return res, fmt.Errorf("capture %s aborted, nothing recorded: %w", w.ID(), err)
		}
	}
	res, err := w.Commit(ctx)
	res.Lines = lines
	return res, err
}

type chunkLine struct {
	no   int
	data []byte
}

// readItemLines cuts a source into chunks of whole lines and captures each.
func readItemLines(ctx context.Context, w *CaptureWriter, s Source, total *int64, progress func(int64)) error {
	br := bufio.NewReaderSize(s.R, 256<<10)
	var chunk bytes.Buffer
	var lines []chunkLine
	lineNo := 0
	flush := func() error {
		if len(lines) == 0 {
			return nil
		}
		err := itemChunk(ctx, w, s.Name, chunk.Bytes(), lines)
		*total += int64(len(lines))
		if progress != nil {
			progress(*total)
		}
		chunk = bytes.Buffer{}
		lines = nil
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, err := readLine(br)
		if len(line) > 0 {
			lineNo++
			if len(line) > MaxLineBytes {
				w.Bad(&InputError{Source: s.Name, Line: lineNo, Err: fmt.Errorf("line longer than %d bytes", MaxLineBytes)})
				line = line[:0]
			}
			start := chunk.Len()
			chunk.Write(line)
			lines = append(lines, chunkLine{no: lineNo, data: chunk.Bytes()[start:chunk.Len()]})
			if len(lines) >= rawChunkLines || chunk.Len() >= rawChunkBytes {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", s.Name, err)
		}
	}
	return flush()
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

// itemChunk stores one chunk of raw input and the items its lines carry.
func itemChunk(ctx context.Context, w *CaptureWriter, source string, raw []byte, lines []chunkLine) error {
	blank := true
	for _, l := range lines {
		if len(bytes.TrimSpace(l.data)) > 0 {
			blank = false
			break
		}
	}
	if blank {
		return nil // blank lines carry nothing worth a blob
	}
	first, last := lines[0].no, lines[len(lines)-1].no
	rawDigest, err := w.PutRaw(ctx, raw, source, fmt.Sprintf("%d-%d", first, last), "application/x-ndjson")
	if err != nil {
		return err
	}
	seen := w.a.now()
	for _, l := range lines {
		body := bytes.TrimSpace(l.data)
		if len(body) == 0 || len(l.data) > MaxLineBytes {
			continue // blank, or already reported
		}
		it, metrics, err := ParseItemLine(body)
		if err != nil {
			w.Bad(&InputError{Source: source, Line: l.no, Err: err})
			continue
		}
		rd := rawDigest
		err = w.AddItem(ctx, it, ItemOptions{Raw: &rd, RawLine: l.no - first + 1, Source: source, Line: l.no, Metrics: metrics, SeenAt: seen})
		if errors.Is(err, ErrBadInput) {
			w.Bad(&InputError{Source: source, Line: l.no, Err: err})
		} else if err != nil {
			return err
		}
	}
	return nil
}

func fileDigest(f interface {
	io.Reader
	io.Seeker
}) (Digest, error) {
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

// PutBytesDigest writes a blob whose digest the caller already computed.
func PutBytesDigest(ctx context.Context, s BlobStore, d Digest, data []byte) error {
	err := s.Put(ctx, BlobKey(d), bytesReader(data), int64(len(data)), d)
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("write blob %s: %w", d, err)
	}
	return err
}
