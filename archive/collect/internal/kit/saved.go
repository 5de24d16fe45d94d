package kit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
)

// WholeFile is the size up to which a file of saved responses that is one
// JSON document is kept as one raw blob, byte for byte; a larger one has
// its top-level array streamed, each element kept as its own blob.
const WholeFile = 32 << 20

// wholeFile is WholeFile; tests lower it.
var wholeFile int64 = WholeFile

// MaxLine bounds one line of a JSON Lines file of saved responses; a file
// whose first line is longer is read as one streamed document instead.
const MaxLine = 64 << 20

// Saved is one value read from a file of saved API responses.
type Saved struct {
	// Page is the raw input the value is kept as: Page.URL is the file
	// name, Page.N the line (JSON Lines) or 0.
	Page *Page
	// Value is the JSON value.
	Value json.RawMessage
	// Element says Value is one element of a top-level array that was
	// streamed rather than read whole (a large single-document file):
	// Value is then a single entity, kept as its own raw blob, and
	// Index is its place in the array.
	Element bool
	Index   int
}

// Opts are item options for an item at pointer within the saved value.
func (s *Saved) Opts(pointer string, metrics []byte) archive.ItemOptions {
	o := s.Page.Opts(pointer, metrics)
	o.Source = s.Page.URL
	o.Line = s.Page.N
	return o
}

// Bad reports a bad value (or an entity in it) with its file and line.
func (s *Saved) Bad(sink collect.Sink, where string, err error) {
	msg := DescribeJSON(err)
	if where != "" {
		msg = where + ": " + msg
	}
	sink.Bad(&archive.InputError{Source: s.Page.URL, Line: s.Page.N, Err: errors.New(msg)})
}

// Head returns up to n bytes from the start of the source's first file,
// for Sniff.
func Head(src collect.Source, n int, exts ...string) []byte {
	files, err := Files(src, exts...)
	if err != nil || len(files) == 0 {
		return nil
	}
	f, err := src.FS.Open(files[0])
	if err != nil {
		return nil
	}
	defer f.Close()
	b := make([]byte, n)
	k, _ := io.ReadFull(f, b)
	return b[:k]
}

// ReadSaved reads one file of saved API responses, streaming: JSON Lines
// (each line one response, kept as one raw blob), or one or more JSON
// documents (each kept whole, except a top-level array, whose elements
// are streamed and kept one by one so a large file needs little memory).
// A line that is not JSON is reported with Bad and skipped; a broken
// document ends the file after a Bad. fn's error ends the import.
func ReadSaved(ctx context.Context, fsys fs.FS, p, name string, sink collect.Sink, fn func(*Saved) error) error {
	lines, err := looksLikeLines(fsys, p)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	f, err := fsys.Open(p)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer f.Close()
	if lines {
		return readLines(ctx, f, name, sink, fn)
	}
	if st, err := f.Stat(); err == nil && st.Size() <= wholeFile {
		b, err := io.ReadAll(f)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if t := bytes.TrimSpace(b); len(t) > 0 && json.Valid(ValidUTF8Bytes(t)) {
			d, err := sink.PutRaw(ctx, b, name, "", "application/json")
			if err != nil {
				return fmt.Errorf("%s: keep raw: %w", name, err)
			}
			return fn(&Saved{Page: &Page{URL: name, Body: b, Raw: d}, Value: t})
		}
		return readDocuments(ctx, bytes.NewReader(b), name, sink, fn)
	}
	return readDocuments(ctx, f, name, sink, fn)
}

// looksLikeLines: the first non-blank line is one whole JSON value of
// reasonable length.
func looksLikeLines(fsys fs.FS, p string) (bool, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return false, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	for read := 0; read <= MaxLine; {
		line, err := br.ReadSlice('\n')
		for errors.Is(err, bufio.ErrBufferFull) {
			// A long line: too long to be one of JSON Lines' pages?
			read += len(line)
			if read > MaxLine {
				return false, nil
			}
			var rest []byte
			rest, err = br.ReadSlice('\n')
			line = append(append([]byte(nil), line...), rest...)
		}
		if t := bytes.TrimSpace(line); len(t) > 0 {
			if t[0] != '[' && t[0] != '{' {
				return true, nil // not JSON at all: let the line reader say so
			}
			return json.Valid(t), nil
		}
		if err != nil {
			return false, nil
		}
	}
	return false, nil
}

func readLines(ctx context.Context, r io.Reader, name string, sink collect.Sink, fn func(*Saved) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	n := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, err := readLine(br, MaxLine)
		n++
		if errors.Is(err, errLineTooLong) {
			sink.Bad(&archive.InputError{Source: name, Line: n, Err: fmt.Errorf("line longer than %d bytes", MaxLine)})
			continue
		}
		if t := bytes.TrimSpace(line); len(t) > 0 {
			d, perr := sink.PutRaw(ctx, line, name, fmt.Sprintf("%d", n), "application/json")
			if perr != nil {
				return fmt.Errorf("%s:%d: keep raw: %w", name, n, perr)
			}
			s := &Saved{Page: &Page{URL: name, N: n, Body: line, Raw: d}, Value: t}
			if !json.Valid(ValidUTF8Bytes(t)) {
				var v any
				s.Bad(sink, "", UnmarshalPage(t, &v))
			} else if ferr := fn(s); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s:%d: %w", name, n, err)
		}
	}
}

var errLineTooLong = errors.New("line too long")

// readLine reads one line without its "\n"; a line over max is skipped to
// its end and reported as errLineTooLong.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > max {
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err != nil && err != io.EOF {
				return nil, err
			}
			return nil, errLineTooLong
		}
		buf = append(buf, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimSuffix(buf, []byte("\n")), err
	}
}

func readDocuments(ctx context.Context, r io.Reader, name string, sink collect.Sink, fn func(*Saved) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	dec := json.NewDecoder(br)
	bad := func(err error) error {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // the file ended inside an array
		}
		sink.Bad(&archive.InputError{Source: name, Err: fmt.Errorf("at byte %d: %s", dec.InputOffset(), DescribeJSON(err))})
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Peek the first byte of the next value: an array is streamed.
		c, err := firstByte(dec, br)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return bad(err)
		}
		if c != '[' {
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return bad(err)
			}
			d, err := sink.PutRaw(ctx, v, name, "", "application/json")
			if err != nil {
				return fmt.Errorf("%s: keep raw: %w", name, err)
			}
			if err := fn(&Saved{Page: &Page{URL: name, Body: v, Raw: d}, Value: v}); err != nil {
				return err
			}
			continue
		}
		if _, err := dec.Token(); err != nil {
			return bad(err)
		}
		for i := 0; dec.More(); i++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return bad(err)
			}
			d, err := sink.PutRaw(ctx, v, name, "", "application/json")
			if err != nil {
				return fmt.Errorf("%s: keep raw: %w", name, err)
			}
			if err := fn(&Saved{Page: &Page{URL: fmt.Sprintf("%s#/%d", name, i), Body: v, Raw: d}, Value: v, Element: true, Index: i}); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return bad(err)
		}
	}
}

// firstByte is the first byte of the decoder's next value, without
// consuming it.
func firstByte(dec *json.Decoder, br *bufio.Reader) (byte, error) {
	// The decoder buffers ahead of br; what it has buffered comes first.
	buffered := dec.Buffered()
	var one [1]byte
	for {
		n, err := buffered.Read(one[:])
		if n == 1 {
			if isSpace(one[0]) {
				continue
			}
			return one[0], nil
		}
		if err != nil {
			break
		}
	}
	for {
		b, err := br.Peek(1)
		if err != nil {
			return 0, err
		}
		if isSpace(b[0]) {
			br.ReadByte()
			continue
		}
		return b[0], nil
	}
}
