package kit

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

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
