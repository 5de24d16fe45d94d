// Package jsonimport is what the JSON importers of account exports and
// saved API responses share: finding the files of an import source,
// streaming the elements of large JSON arrays with json.Decoder tokens (a
// 1 GB export never needs 1 GB of memory) with the line each starts on,
// keeping the raw input byte for byte in bounded chunks that the items
// name by JSON pointer, and storing media files found in an export.
package jsonimport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/graph"
	"github.com/osmarc/osmarc/archive/collect/internal/kit"
)

// Files lists the files of src to read, in lexical order: src.Path itself
// when it is a file, else every file under it that keep accepts (hidden
// files and macOS resource forks are never read).
func Files(src collect.Source, keep func(name string) bool) ([]string, error) {
	return kit.SourceFiles(src, keep)
}

// Name is how messages name file p of src.
func Name(src collect.Source, p string) string { return kit.FileName(src, p) }

// Peek reads up to n bytes of file p of src.
func Peek(src collect.Source, p string, n int) []byte {
	f, err := src.FS.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, int64(n)))
	return b
}

// Element is one element of an array Stream found.
type Element struct {
	// Key is the member of a top-level object that holds the array, ""
	// for a top-level array.
	Key   string
	Index int
	// Line is the 1-based line the element starts on.
	Line int
	Raw  json.RawMessage
}

// Pointer is the element's JSON pointer in its file.
func (e Element) Pointer() string {
	if e.Key == "" {
		return fmt.Sprintf("/%d", e.Index)
	}
	return fmt.Sprintf("/%s/%d", escapePointer(e.Key), e.Index)
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// SyntaxError is JSON that does not parse, and the line where it stops.
type SyntaxError struct {
	Line int
	Err  error
}

func (e *SyntaxError) Error() string { return e.Err.Error() }
func (e *SyntaxError) Unwrap() error { return e.Err }

// Stream reads one JSON document from r: a top-level array, whose
// elements it passes to fn one at a time, or a top-level object, each of
// whose array members' elements it passes the same way (other members are
// skipped). Only one element is in memory at a time. Malformed JSON is a
// *SyntaxError naming the line; an error fn returns ends the stream.
func Stream(r io.Reader, fn func(Element) error) error {
	lt := &lineTracker{r: r, line: 1}
	dec := json.NewDecoder(lt)
	fail := func(err error) error {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		// The decoder stops at the start of the value it could not read;
		// find the line of the fault itself in what it had read ahead.
		line := lt.lineAt(dec.InputOffset())
		rest := lt.buf
		var se *json.SyntaxError
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF):
			return &SyntaxError{Line: line + bytes.Count(bytes.TrimRight(rest, " \t\r\n"), []byte{'\n'}), Err: errors.New("truncated JSON: the file ends inside a value")}
		case errors.As(err, &se):
			var v json.RawMessage
			if err2 := json.NewDecoder(bytes.NewReader(rest)).Decode(&v); errors.As(err2, &se) && se.Offset <= int64(len(rest)) {
				line += bytes.Count(rest[:se.Offset], []byte{'\n'})
			}
			return &SyntaxError{Line: line, Err: fmt.Errorf("malformed JSON: %v", se)}
		}
		return &SyntaxError{Line: line, Err: fmt.Errorf("malformed JSON: %v", err)}
	}
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return &SyntaxError{Line: 1, Err: errors.New("empty file: want a JSON array or object")}
		}
		return fail(err)
	}
	array := func(key string) error {
		for i := 0; dec.More(); i++ {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return fail(err)
			}
			start := dec.InputOffset() - int64(len(raw))
			if err := fn(Element{Key: key, Index: i, Line: lt.lineAt(start), Raw: raw}); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil { // ]
			return fail(err)
		}
		return nil
	}
	switch tok {
	case json.Delim('['):
		return array("")
	case json.Delim('{'):
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return fail(err)
			}
			key, _ := kt.(string)
			vt, err := dec.Token()
			if err != nil {
				return fail(err)
			}
			switch vt {
			case json.Delim('['):
				if err := array(key); err != nil {
					return err
				}
			case json.Delim('{'):
				if err := skip(dec); err != nil {
					return fail(err)
				}
			}
		}
		if _, err := dec.Token(); err != nil { // }
			return fail(err)
		}
		return nil
	}
	return &SyntaxError{Line: 1, Err: fmt.Errorf("want a JSON array or object, got %v", tok)}
}

// skip consumes the rest of an object or array whose opening delimiter
// was read, token by token.
func skip(dec *json.Decoder) error {
	for depth := 1; depth > 0; {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

// lineTracker counts the lines of what it has passed on, up to offsets
// asked for in increasing order; it holds only the bytes read ahead of
// the last offset asked for.
type lineTracker struct {
	r    io.Reader
	base int64 // offset of buf[0]
	buf  []byte
	line int // line at base
}

func (t *lineTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.buf = append(t.buf, p[:n]...)
	return n, err
}

func (t *lineTracker) lineAt(off int64) int {
	k := off - t.base
	if k < 0 {
		return t.line
	}
	if k > int64(len(t.buf)) {
		k = int64(len(t.buf))
	}
	t.line += bytes.Count(t.buf[:k], []byte{'\n'})
	t.buf = t.buf[k:]
	t.base += k
	return t.line
}

// Entry is an item found in an element, and where in it.
type Entry struct {
	Item archive.Item
	// Path is the item's JSON pointer within its element ("" for the
	// element itself).
	Path      string
	Metrics   json.RawMessage
	RemovedAt *time.Time
}

// Chunker keeps raw elements byte for byte in chunks (a JSON array of the
// elements as they were in the file, up to MaxBytes or MaxElements each),
// then records the items each element holds, naming the chunk and the
// item's JSON pointer in it.
type Chunker struct {
	Sink   collect.Sink
	Source string // the file, as messages name it
	// MaxBytes and MaxElements bound a chunk (defaults 4 MiB and 1,000).
	MaxBytes, MaxElements int

	buf         bytes.Buffer
	n           int
	first, last int
	items       []pending
}

type pending struct {
	e    Entry
	elem int
	line int
}

// Add adds an element and the items found in it. An element with no
// items is not kept.
func (c *Chunker) Add(ctx context.Context, e Element, items []Entry) error {
	if len(items) == 0 {
		return nil
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = 4 << 20
	}
	if c.MaxElements == 0 {
		c.MaxElements = 1000
	}
	if c.n > 0 && (c.buf.Len()+len(e.Raw) > c.MaxBytes || c.n >= c.MaxElements) {
		if err := c.Flush(ctx); err != nil {
			return err
		}
	}
	if c.n == 0 {
		c.buf.Reset()
		c.buf.WriteByte('[')
		c.first = e.Line
	} else {
		c.buf.WriteByte(',')
	}
	c.buf.Write(e.Raw)
	for _, it := range items {
		c.items = append(c.items, pending{e: it, elem: c.n, line: e.Line})
	}
	c.last = e.Line
	c.n++
	return nil
}

// Flush stores the chunk in hand and records its items.
func (c *Chunker) Flush(ctx context.Context) error {
	if c.n == 0 {
		return nil
	}
	c.buf.WriteByte(']')
	d, err := c.Sink.PutRaw(ctx, c.buf.Bytes(), c.Source, fmt.Sprintf("%d-%d", c.first, c.last), "application/json")
	if err != nil {
		return err
	}
	for _, p := range c.items {
		rd := d
		o := archive.ItemOptions{Raw: &rd, RawPath: fmt.Sprintf("/%d%s", p.elem, p.e.Path), Source: c.Source, Line: p.line, Metrics: p.e.Metrics, RemovedAt: p.e.RemovedAt}
		if err := graph.Add(ctx, c.Sink, p.e.Item, o); err != nil {
			return err
		}
	}
	c.items = c.items[:0]
	c.n = 0
	c.buf.Reset()
	return nil
}

// Bad reports a bad element of file source.
func Bad(sink collect.Sink, source string, e Element, err error) {
	sink.Bad(&archive.InputError{Source: source, Line: e.Line, Err: fmt.Errorf("%s: %v", e.Pointer(), err)})
}

// Unix is a Unix time in seconds as RFC 3339 in UTC; an error when it is
// missing (zero) or before 1970.
func Unix(sec int64) (string, error) {
	if sec <= 0 {
		return "", errors.New("no timestamp")
	}
	return graph.Unix(sec), nil
}

// IDs numbers items that have only a time to tell them apart (exports
// carry no platform ids): the first at a second is prefix-<unix>, the
// next prefix-<unix>-2, and so on, in the order the file lists them, so
// the same export read again gives the same ids.
type IDs struct {
	seen map[idKey]int32
}

type idKey struct {
	prefix string
	sec    int64
}

// Next is the id of the next item of prefix at sec.
func (ids *IDs) Next(prefix string, sec int64) string {
	if ids.seen == nil {
		ids.seen = map[idKey]int32{}
	}
	k := idKey{prefix, sec}
	ids.seen[k]++
	if n := ids.seen[k]; n > 1 {
		return fmt.Sprintf("%s-%d-%d", prefix, sec, n)
	}
	return fmt.Sprintf("%s-%d", prefix, sec)
}

// Media finds the file an export's media uri names (relative to the
// export's root, which may be src's root or a folder above the file read)
// and stores it; it returns the digest, or "" when the file is not in the
// export. A file too large, or that cannot be read, is an error to report.
func Media(ctx context.Context, sink collect.Sink, src collect.Source, from, uri string) (string, error) {
	uri = strings.TrimPrefix(path.Clean("/"+strings.ReplaceAll(uri, "\\", "/")), "/")
	if uri == "" || uri == "." || strings.Contains(uri, "://") {
		return "", nil
	}
	// The uri is relative to the export's root: src's root, a folder
	// above the file read (a zip with a top folder), or, when one file of
	// the export was given, a folder above src's root, so the uri's
	// leading folders are tried away too.
	var candidates []string
	candidates = append(candidates, uri)
	for dir := path.Dir(from); dir != "." && dir != "/"; dir = path.Dir(dir) {
		candidates = append(candidates, path.Join(dir, uri))
	}
	for rest := uri; strings.Contains(rest, "/"); {
		rest = rest[strings.IndexByte(rest, '/')+1:]
		candidates = append(candidates, rest)
	}
	for _, c := range candidates {
		fi, err := fs.Stat(src.FS, c)
		if err != nil || fi.IsDir() {
			continue
		}
		d, err := storeFile(ctx, sink, src.FS, c, uri)
		if err != nil {
			return "", err
		}
		return d.String(), nil
	}
	return "", nil
}

// MediaKind is "image" or "video" by a file name's extension, else "".
func MediaKind(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".bmp":
		return "image"
	case ".mp4", ".mov", ".m4v", ".webm", ".avi":
		return "video"
	}
	return ""
}
