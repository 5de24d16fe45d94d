package jsonimport

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/graph"
)

// MaxResponse bounds one saved API response.
const MaxResponse = 64 << 20

// Response is one saved API response.
type Response struct {
	Body json.RawMessage
	// Raw is the stored blob holding it; Prefix is the response's JSON
	// pointer in that blob ("" when the blob is the response).
	Raw    archive.Digest
	Prefix string
	// Source names the file; Line is the response's line in a JSON Lines
	// file (0 otherwise).
	Source string
	Line   int
}

// IsSavedName says whether a file name looks like saved responses.
func IsSavedName(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".json", ".jsonl", ".ndjson", ".js":
		return true
	}
	return false
}

// Responses reads saved API responses from file p of src: one response
// per file (a JSON object, or an array of them), or one per line (JSON
// Lines, as tools like twarc write them). Each file, or each line, is
// stored raw byte for byte and its responses passed to fn. A line or file
// that is not JSON is reported to sink, naming the file and line, and the
// rest goes on; an error fn or the sink returns ends the import.
func Responses(ctx context.Context, src collect.Source, p string, sink collect.Sink, fn func(Response) error) error {
	source := Name(src, p)
	f, err := src.FS.Open(p)
	if err != nil {
		sink.Bad(&archive.InputError{Source: source, Err: err})
		return nil
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	first, tooLong, rerr := readLine(br, MaxResponse)
	if rerr != nil && rerr != io.EOF {
		sink.Bad(&archive.InputError{Source: source, Err: rerr})
		return nil
	}
	ext := strings.ToLower(path.Ext(p))
	trimmed := bytes.TrimSpace(first)
	jsonl := ext == ".jsonl" || ext == ".ndjson" || (!tooLong && len(trimmed) > 0 && json.Valid(trimmed))
	if !jsonl {
		body, err := io.ReadAll(io.LimitReader(io.MultiReader(bytes.NewReader(first), br), MaxResponse+1))
		if err != nil {
			sink.Bad(&archive.InputError{Source: source, Err: err})
			return nil
		}
		if len(body) > MaxResponse {
			sink.Bad(&archive.InputError{Source: source, Err: fmt.Errorf("a response over %d bytes: %w", MaxResponse, collect.ErrTooLarge)})
			return nil
		}
		return one(ctx, body, source, 0, "", sink, fn)
	}
	line := first
	for n := 1; ; n++ {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if tooLong {
			sink.Bad(&archive.InputError{Source: source, Line: n, Err: fmt.Errorf("line longer than %d bytes", MaxResponse)})
		} else if t := bytes.TrimSpace(line); len(t) > 0 {
			if err := one(ctx, t, source, n, fmt.Sprintf("%d-%d", n, n), sink, fn); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			sink.Bad(&archive.InputError{Source: source, Line: n + 1, Err: rerr})
			return nil
		}
		line, tooLong, rerr = readLine(br, MaxResponse)
	}
}

// one stores one file's or line's JSON and passes on its responses.
func one(ctx context.Context, body []byte, source string, line int, lines string, sink collect.Sink, fn func(Response) error) error {
	if err := validJSON(body); err != nil {
		sink.Bad(&archive.InputError{Source: source, Line: line, Err: err})
		return nil
	}
	d, err := sink.PutRaw(ctx, body, source, lines, "application/json")
	if err != nil {
		return err
	}
	t := bytes.TrimSpace(body)
	if len(t) > 0 && t[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(t, &list); err != nil {
			sink.Bad(&archive.InputError{Source: source, Line: line, Err: graph.Describe(err)})
			return nil
		}
		for i, r := range list {
			if err := fn(Response{Body: r, Raw: d, Prefix: fmt.Sprintf("/%d", i), Source: source, Line: line}); err != nil {
				return err
			}
		}
		return nil
	}
	return fn(Response{Body: t, Raw: d, Source: source, Line: line})
}

func validJSON(b []byte) error {
	if json.Valid(b) {
		return nil
	}
	var v any
	err := json.Unmarshal(b, &v)
	if err == nil {
		err = errors.New("malformed JSON")
	}
	return graph.Describe(err)
}

// readLine reads a line of at most max bytes; a longer line is consumed
// and reported with tooLong.
func readLine(br *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	for {
		frag, err := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(frag) > max {
				tooLong, line = true, nil
			} else {
				line = append(line, frag...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return line, tooLong, err
	}
}
