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
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
)

// SourceFiles lists the files of an import source to read, in name order:
// src.Path itself when it is a file, else every regular file under it that
// keep accepts (all when keep is nil). Hidden files and folders and macOS
// resource forks (__MACOSX) are never read.
func SourceFiles(src collect.Source, keep func(name string) bool) ([]string, error) {
	if src.FS == nil {
		return nil, fmt.Errorf("%s: no file system to read", src.Name)
	}
	root := src.Path
	if root == "" {
		root = "."
	}
	fi, err := fs.Stat(src.FS, root)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src.Name, err)
	}
	if !fi.IsDir() {
		return []string{root}, nil
	}
	var out []string
	err = fs.WalkDir(src.FS, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		base := d.Name()
		if p != root && (strings.HasPrefix(base, ".") || base == "__MACOSX") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && (keep == nil || keep(p)) {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src.Name, err)
	}
	sort.Strings(out)
	return out, nil
}

// Files lists the files an import source names: the file itself, or the
// files with one of exts (lower case, with the dot) under a folder; with
// no exts, every file.
func Files(src collect.Source, exts ...string) ([]string, error) {
	if len(exts) == 0 {
		return SourceFiles(src, nil)
	}
	return SourceFiles(src, func(name string) bool {
		ext := strings.ToLower(path.Ext(name))
		for _, e := range exts {
			if ext == e {
				return true
			}
		}
		return false
	})
}

// FileName is what messages call file p of src: the source's name, and
// p's path under the source's folder.
func FileName(src collect.Source, p string) string {
	root := src.Path
	if root == "" {
		root = "."
	}
	if p == root || p == "" {
		if src.Name != "" {
			return src.Name
		}
		return p
	}
	rel := strings.TrimPrefix(p, strings.TrimSuffix(root, "/")+"/")
	if root == "." {
		rel = p
	}
	if src.Name == "" {
		return rel
	}
	return strings.TrimSuffix(src.Name, "/") + "/" + rel
}

// ResponsePages reads file name of src as saved API response pages: JSON
// Lines, one page a line, when its first line is a whole JSON value, else
// the whole file as one page. page is called with each page's bytes, the
// file's name for messages, the page's line (0 for a whole file) and its
// lines as the raw blob's locator ("3-3", "" for a whole file). A file
// that cannot be opened or read, a line over limit and a whole file over
// limit are reported to sink as bad; only an error from page or ctx ends
// it with an error.
func ResponsePages(ctx context.Context, src collect.Source, name string, sink collect.Sink, limit int,
	page func(ctx context.Context, body []byte, source string, line int, lines string) error) error {
	source := FileName(src, name)
	f, err := src.FS.Open(name)
	if err != nil {
		sink.Bad(&archive.InputError{Source: source, Err: err})
		return nil
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 256<<10)
	lineNo := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, rerr := ReadLongLine(br, limit)
		if len(line) > 0 {
			lineNo++
		}
		body := bytes.TrimSpace(line)
		switch {
		case errors.Is(rerr, ErrLineTooLong):
			sink.Bad(&archive.InputError{Source: source, Line: lineNo, Err: fmt.Errorf("line longer than %d bytes", limit)})
		case len(body) == 0:
		case lineNo == 1 && !json.Valid(body):
			// Not JSON Lines: the whole file is one response.
			rest, err := io.ReadAll(io.LimitReader(br, int64(limit)+1-int64(len(line))))
			if err != nil {
				sink.Bad(&archive.InputError{Source: source, Err: err})
				return nil
			}
			whole := append(line, rest...)
			if len(whole) > limit {
				sink.Bad(&archive.InputError{Source: source, Err: fmt.Errorf("larger than %d bytes: not one response page", limit)})
				return nil
			}
			return page(ctx, whole, source, 0, "")
		default:
			if err := page(ctx, body, source, lineNo, strconv.Itoa(lineNo)+"-"+strconv.Itoa(lineNo)); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil && !errors.Is(rerr, ErrLineTooLong) {
			sink.Bad(&archive.InputError{Source: source, Line: lineNo, Err: rerr})
			return nil
		}
	}
}

// ErrLineTooLong is ReadLongLine's report of a line over its limit.
var ErrLineTooLong = errors.New("line too long")

// ReadLongLine reads one line, its newline included, of up to limit
// bytes; a longer line is read through and reported with ErrLineTooLong
// (and a non-empty placeholder, so a caller that skips empty lines counts
// it). The error is io.EOF after the last line.
func ReadLongLine(br *bufio.Reader, limit int) ([]byte, error) {
	var out []byte
	long := false
	for {
		frag, err := br.ReadSlice('\n')
		if !long && len(out)+len(frag) <= limit {
			out = append(out, frag...)
		} else {
			long = true
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if long && (err == nil || err == io.EOF) {
			return []byte{'x'}, ErrLineTooLong
		}
		return out, err
	}
}
