// Package diskstore is the default archive.BlobStore: a content-addressed
// store in a local directory, one file per object at the path its key names,
// but for blobs: a blob's key, blobs/sha256/<aa>/<bb>/<64 hex>, is the file
// blobs/sha256/<aa>/<64 hex>, one directory level fewer (see Store.nested).
//
// Writes are atomic: bytes go to a temporary file beside the final one (for
// blobs, an unnamed one where the file system allows), are checked against
// the claimed SHA-256 while they are written, and only then take the final
// name (link or rename for blobs, hard link for create-only keys, so an
// existing journal event or manifest is never replaced). Durability is
// batched: Sync flushes the whole filesystem once (syncfs), which the archive
// calls before it writes anything that names what was put. Temporary files a
// crash leaves behind start with ".tmp-" and are never listed.
package diskstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/osmarc/osmarc/archive"
)

var _ archive.BlobStore = (*Store)(nil)

const tmpPrefix = ".tmp-"

// Store is a directory of objects.
type Store struct {
	root string
	dirs sync.Map // directories known to exist, but for the blob fan-out
	// fanout has a bit for each blobs/sha256/<aa>/<bb> directory known to
	// exist: 65,536 of them would cost megabytes as strings in dirs, and
	// memory must not grow with the number of blobs.
	fanout [65536 / 64]atomic.Uint64
	fd     *os.File // the root, for syncfs
	// tmpfile is set when blobs are written as unnamed files (putUnnamed).
	tmpfile bool
	// nested is set when the store keeps its blob files two levels below
	// blobs/sha256, at the path the key names, as stores made before
	// November 2026 do; other stores keep them one level below, in 256
	// directories. Two levels make a directory for nearly every blob until
	// there are a few hundred thousand (65,536 of them), each a 4 KB block
	// to write and sync, and making them was a third of the cost of
	// writing a small blob; a directory of 256 holds a million blobs in
	// 4,000 entries each, which the file system's hashed directories find
	// as fast. The layout is read from the store itself (nestedBlobs), so
	// a store keeps the one it was made with.
	nested bool
}

// Open opens (creating if needed) a store rooted at dir.
func Open(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("diskstore: %w", err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, fmt.Errorf("diskstore: create %s: %w", abs, translate(err))
	}
	fd, err := os.Open(abs)
	if err != nil {
		return nil, fmt.Errorf("diskstore: open %s: %w", abs, translate(err))
	}
	// Probe that we may write here, so a read-only mount fails at open with
	// one clear line rather than in the middle of a capture.
	probe, err := os.CreateTemp(abs, tmpPrefix+"probe-")
	if err != nil {
		fd.Close()
		return nil, fmt.Errorf("diskstore: %s is not writable: %w", abs, translate(err))
	}
	probe.Close()
	os.Remove(probe.Name())
	nested, err := nestedBlobs(abs)
	if err != nil {
		fd.Close()
		return nil, fmt.Errorf("diskstore: open %s: %w", abs, translate(err))
	}
	return &Store{root: abs, fd: fd, tmpfile: canLinkUnnamed(abs), nested: nested}, nil
}

// nestedBlobs reports whether the store at root keeps its blob files two
// directory levels below blobs/sha256 (<aa>/<bb>/<64 hex>): the first
// fan-out directory that holds anything says, a directory of two hex
// digits in it meaning two levels and a blob's file one. A store with no
// blobs yet takes one level.
func nestedBlobs(root string) (bool, error) {
	base := filepath.Join(root, filepath.FromSlash(archive.BlobPrefix))
	top, err := os.ReadDir(base)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, aa := range top {
		if !aa.IsDir() || !isHex(aa.Name(), 2) {
			continue
		}
		nested, found, err := blobLevels(filepath.Join(base, aa.Name()))
		if err != nil || found {
			return nested, err
		}
	}
	return false, nil
}

// blobLevels reads the fan-out directory dir until it finds a directory of
// two hex digits (nested) or a blob's file, a few entries at a time: a
// one-level store's directory holds thousands.
func blobLevels(dir string) (nested, found bool, err error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, false, err
	}
	defer f.Close()
	for {
		entries, err := f.ReadDir(64)
		for _, e := range entries {
			switch name := e.Name(); {
			case e.IsDir() && isHex(name, 2):
				return true, true, nil
			case e.Type().IsRegular() && isHex(name, 64):
				return false, true, nil
			}
		}
		if errors.Is(err, io.EOF) {
			return false, false, nil
		}
		if err != nil {
			return false, false, err
		}
	}
}

// isHex reports whether s is n lower-case hex digits.
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// A blob is written, where the file system allows, to an unnamed file
// (O_TMPFILE) that takes its name once its bytes are checked (linkat): a
// crash leaves nothing behind, and the file system makes one directory
// entry instead of a temporary one, a rename and a lookup first. Its
// name taken already means the same bytes are there.

// canLinkUnnamed reports whether dir's file system makes unnamed files
// and links them by their /proc/self/fd name.
func canLinkUnnamed(dir string) bool {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	p := filepath.Join(dir, fmt.Sprintf("%sprobe-link-%d", tmpPrefix, os.Getpid()))
	os.Remove(p)
	if err := linkUnnamed(fd, p); err != nil {
		return false
	}
	os.Remove(p)
	return true
}

func linkUnnamed(fd int, p string) error {
	return unix.Linkat(unix.AT_FDCWD, fmt.Sprintf("/proc/self/fd/%d", fd), unix.AT_FDCWD, p, unix.AT_SYMLINK_FOLLOW)
}

// putUnnamed writes a blob's size bytes from r, hashing to sum, into an
// unnamed file in dir and links it at p.
func putUnnamed(dir, p string, r io.Reader, size int64, sum archive.Digest) error {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return translate(err)
	}
	f := os.NewFile(uintptr(fd), p)
	defer f.Close()
	if err := writeChecked(f, r, size, sum); err != nil {
		return err
	}
	if err := linkUnnamed(fd, p); err != nil && !errors.Is(err, fs.ErrExist) {
		return translate(err)
	}
	return f.Close()
}

// Root is the directory the store lives in.
func (s *Store) Root() string { return s.root }

func (s *Store) path(key string) (string, error) {
	if err := archive.CheckKey(key); err != nil {
		return "", err
	}
	for _, el := range strings.Split(key, "/") {
		if strings.HasPrefix(el, tmpPrefix) {
			return "", fmt.Errorf("%w: %q uses the temporary-file prefix", archive.ErrInvalidKey, key)
		}
	}
	if !s.nested && archive.IsBlobKey(key) {
		// blobs/sha256/<aa>/<bb>/<hex> is the file blobs/sha256/<aa>/<hex>.
		// Only a well-formed key may be mapped so, or two keys could
		// name one file.
		if _, err := archive.ParseBlobKey(key); err != nil {
			return "", err
		}
		n := len(archive.BlobPrefix)
		key = key[:n+3] + key[n+6:]
	}
	return filepath.Join(s.root, filepath.FromSlash(key)), nil
}

// File is the path of the file that holds key's object (whether or not
// it exists): for those who must reach the bytes without the store, as
// tests that damage an archive do.
func (s *Store) File(key string) (string, error) { return s.path(key) }

// mkdir makes dir and its parents, remembering what exists: with the
// fan-out of blob keys most writes go to a directory that is new, and one
// mkdir(2) where the parent is known costs a third of what MkdirAll's
// stat-stat-mkdir does.
func (s *Store) mkdir(dir string) error {
	bit, isFanout := s.fanoutBit(dir)
	if isFanout {
		if s.fanout[bit/64].Load()&(1<<(bit%64)) != 0 {
			return nil
		}
	} else if _, ok := s.dirs.Load(dir); ok {
		return nil
	}
	err := os.Mkdir(dir, 0o750)
	if errors.Is(err, fs.ErrNotExist) && dir != s.root {
		if err = s.mkdir(filepath.Dir(dir)); err == nil {
			err = os.Mkdir(dir, 0o750)
		}
	}
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if isFanout {
		s.fanout[bit/64].Or(1 << (bit % 64))
	} else {
		s.dirs.Store(dir, struct{}{})
	}
	return nil
}

// fanoutBit numbers a blobs/sha256/<aa>/<bb> directory.
func (s *Store) fanoutBit(dir string) (uint, bool) {
	rel, ok := strings.CutPrefix(dir, s.root+string(filepath.Separator))
	if !ok {
		return 0, false
	}
	rest, ok := strings.CutPrefix(filepath.ToSlash(rel), archive.BlobPrefix)
	if !ok || len(rest) != 5 || rest[2] != '/' {
		return 0, false
	}
	b, err := hex.DecodeString(rest[:2] + rest[3:])
	if err != nil {
		return 0, false
	}
	return uint(b[0])<<8 | uint(b[1]), true
}

// Put implements archive.BlobStore.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, sum archive.Digest) error {
	if err := archive.CheckPut(key, sum); err != nil {
		return fmt.Errorf("diskstore: put %s: %w", key, err)
	}
	p, err := s.path(key)
	if err != nil {
		return fmt.Errorf("diskstore: put: %w", err)
	}
	blob := archive.IsBlobKey(key)
	if blob && !s.tmpfile {
		if _, err := os.Lstat(p); err == nil {
			return nil // same name, same bytes
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dir := filepath.Dir(p)
	if err := s.mkdir(dir); err != nil {
		return fmt.Errorf("diskstore: put %s: %w", key, translate(err))
	}
	if blob && s.tmpfile {
		if err := putUnnamed(dir, p, r, size, sum); err != nil {
			return fmt.Errorf("diskstore: put %s: %w", key, err)
		}
		return nil
	}
	f, err := os.CreateTemp(dir, tmpPrefix)
	if err != nil {
		return fmt.Errorf("diskstore: put %s: %w", key, translate(err))
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := writeChecked(f, r, size, sum); err != nil {
		return fmt.Errorf("diskstore: put %s: %w", key, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("diskstore: put %s: %w", key, translate(err))
	}
	if blob {
		// Renaming over an existing blob written meanwhile is harmless:
		// it holds the same bytes.
		if err := os.Rename(tmp, p); err != nil {
			return fmt.Errorf("diskstore: put %s: %w", key, translate(err))
		}
		ok = true
		return nil
	}
	// Create-only: link fails if the name is taken, where rename would
	// silently replace it.
	if err := os.Link(tmp, p); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("diskstore: put %s: %w", key, archive.ErrExists)
		}
		return fmt.Errorf("diskstore: put %s: %w", key, translate(err))
	}
	os.Remove(tmp)
	ok = true
	return nil
}

// writeChecked copies size bytes from r to f, checking that there are
// exactly that many and that they hash to sum.
func writeChecked(f *os.File, r io.Reader, size int64, sum archive.Digest) error {
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, size+1))
	if err != nil {
		return translate(err)
	}
	if n != size {
		return fmt.Errorf("read %d bytes, want %d", n, size)
	}
	if archive.Digest(h.Sum(nil)) != sum {
		return fmt.Errorf("%w: bytes hash to %x", archive.ErrDigestMismatch, h.Sum(nil))
	}
	return nil
}

// Open implements archive.BlobStore.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, fmt.Errorf("diskstore: open: %w", err)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("diskstore: open %s: %w", key, translate(err))
	}
	return f, nil
}

// Stat implements archive.BlobStore.
func (s *Store) Stat(ctx context.Context, key string) (archive.ObjectInfo, error) {
	p, err := s.path(key)
	if err != nil {
		return archive.ObjectInfo{}, fmt.Errorf("diskstore: stat: %w", err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return archive.ObjectInfo{}, fmt.Errorf("diskstore: stat %s: %w", key, translate(err))
	}
	if !fi.Mode().IsRegular() {
		return archive.ObjectInfo{}, fmt.Errorf("diskstore: stat %s: %w", key, archive.ErrNotFound)
	}
	return archive.ObjectInfo{Key: key, Size: fi.Size(), ModTime: fi.ModTime().UTC()}, nil
}

// List implements archive.BlobStore. It walks only the directories that can
// hold keys with the prefix and sort after startAfter, reading one directory
// at a time, so listing the journal's tail does not read the whole store.
func (s *Store) List(ctx context.Context, prefix, startAfter string, fn func(archive.ObjectInfo) error) error {
	err := s.walk(ctx, "", prefix, startAfter, fn)
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	return err
}

var errStop = errors.New("stop")

// walk lists directory rel (a key prefix ending in "/" or empty) in key order.
func (s *Store) walk(ctx context.Context, rel, prefix, startAfter string, fn func(archive.ObjectInfo) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	dir := filepath.Join(s.root, filepath.FromSlash(rel))
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("diskstore: list %s: %w", rel, translate(err))
	}
	// Keys sort by their full path, and a directory's keys continue with
	// "/", so order entries by name as a key would see them. In a blob
	// fan-out directory of a one-level store, a blob's file <aa><bb>…
	// stands for the key <bb>/<aa><bb>… there: names in the same order.
	type entry struct {
		name, file string // in the key; on disk
		dir        bool
	}
	blobDir := ""
	if r, ok := strings.CutPrefix(rel, archive.BlobPrefix); ok && !s.nested && len(r) == 3 && r[2] == '/' {
		blobDir = r[:2]
	}
	list := make([]entry, 0, len(entries))
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, tmpPrefix):
		case e.IsDir():
			list = append(list, entry{name + "/", name, true})
		case e.Type().IsRegular():
			if blobDir != "" && isHex(name, 64) && name[:2] == blobDir {
				list = append(list, entry{name[2:4] + "/" + name, name, false})
			} else {
				list = append(list, entry{name, name, false})
			}
		}
	}
	slices.SortFunc(list, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	for _, n := range list {
		key := rel + n.name
		if n.dir {
			// Descend only where keys can match the prefix and come
			// after startAfter.
			if !strings.HasPrefix(key, prefix) && !strings.HasPrefix(prefix, key) {
				continue
			}
			if startAfter != "" && key < startAfter && !strings.HasPrefix(startAfter, key) {
				continue
			}
			if err := s.walk(ctx, key, prefix, startAfter, fn); err != nil {
				return err
			}
			continue
		}
		if !strings.HasPrefix(key, prefix) || key <= startAfter {
			continue
		}
		fi, err := os.Stat(filepath.Join(dir, n.file))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return fmt.Errorf("diskstore: list %s: %w", key, translate(err))
		}
		if err := fn(archive.ObjectInfo{Key: key, Size: fi.Size(), ModTime: fi.ModTime().UTC()}); err != nil {
			return err
		}
	}
	return nil
}

// Delete implements archive.BlobStore.
func (s *Store) Delete(ctx context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return fmt.Errorf("diskstore: delete: %w", err)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("diskstore: delete %s: %w", key, translate(err))
	}
	return nil
}

// Sync flushes every write to the filesystem that holds the store with one
// syncfs(2), which costs far less than one fsync per file.
func (s *Store) Sync(ctx context.Context) error {
	if err := unix.Syncfs(int(s.fd.Fd())); err != nil {
		return fmt.Errorf("diskstore: sync %s: %w", s.root, translate(err))
	}
	return nil
}

// SyncObject makes one object durable (archive.ObjectSyncer): an fsync of
// its file, of its directory and of each directory above it up to the
// store's root (a Put may have created them). It costs a few fsyncs, where
// Sync waits for the whole filesystem's dirty data, other programs'
// included.
func (s *Store) SyncObject(ctx context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return fmt.Errorf("diskstore: sync %s: %w", key, err)
	}
	for {
		if err := fsyncPath(p); err != nil {
			return fmt.Errorf("diskstore: sync %s: %w", key, translate(err))
		}
		if p == s.root || len(p) <= len(s.root) {
			return nil
		}
		p = filepath.Dir(p)
	}
}

func fsyncPath(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Location implements archive.BlobStore.
func (s *Store) Location() string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(s.root)}).String()
}

// Close implements archive.BlobStore.
func (s *Store) Close() error { return s.fd.Close() }

func translate(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w (%v)", archive.ErrNotFound, err)
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS):
		return fmt.Errorf("%w (%v)", archive.ErrPermission, err)
	}
	return err
}
