package export

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	"github.com/osmarc/osmarc/archive"
)

// CheckOut fails with ErrExists when out exists and force is false, and
// when out's parent directory does not exist or is not a directory.
func CheckOut(out string, force bool) error {
	if _, err := os.Lstat(out); err == nil && !force {
		return fmt.Errorf("export: %s: %w (give --force to replace it)", out, ErrExists)
	}
	parent := filepath.Dir(out)
	fi, err := os.Stat(parent)
	if err != nil {
		return fmt.Errorf("export: cannot write %s: %w", out, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("export: cannot write %s: %s is not a directory", out, parent)
	}
	return nil
}

// TempSibling names a hidden temporary sibling of out,
// ".<base>.<what>-<random>", where an export is built (what is
// "incomplete") or an old one is set aside ("replaced").
func TempSibling(out, what string) string {
	var rnd [6]byte
	rand.Read(rnd[:])
	return filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+"."+what+"-"+hex.EncodeToString(rnd[:]))
}

// PendingFile is a single-file export being written: a hidden temporary
// file beside Out, hashed as it is written, moved into place by Commit.
type PendingFile struct {
	out   string
	force bool
	f     *os.File
	bw    *bufio.Writer
	h     hash.Hash
	n     int64
	done  bool
}

// NewPendingFile starts a file export to out.
func NewPendingFile(out string, force bool) (*PendingFile, error) {
	if err := CheckOut(out, force); err != nil {
		return nil, err
	}
	tmp := TempSibling(out, "incomplete")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, fmt.Errorf("export: cannot write %s: %w", out, err)
	}
	p := &PendingFile{out: out, force: force, f: f, h: sha256.New()}
	p.bw = bufio.NewWriterSize(io.MultiWriter(f, p.h), 256<<10)
	return p, nil
}

// Write writes to the pending file.
func (p *PendingFile) Write(b []byte) (int, error) {
	n, err := p.bw.Write(b)
	p.n += int64(n)
	if err != nil {
		return n, fmt.Errorf("export: write %s: %w", p.out, err)
	}
	return n, nil
}

// Commit flushes, syncs and moves the file into place; it refuses to
// replace a path that appeared meanwhile unless forced.
func (p *PendingFile) Commit() (File, error) {
	if p.done {
		return File{}, errors.New("export: file already committed or aborted")
	}
	tmp := p.f.Name()
	err := p.bw.Flush()
	if err == nil {
		err = p.f.Sync()
	}
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		p.Abort()
		return File{}, fmt.Errorf("export: write %s: %w; %w: nothing was left at %s", p.out, err, ErrIncomplete, p.out)
	}
	if p.force {
		err = os.Rename(tmp, p.out)
	} else {
		// link(2) fails if the name exists: no race replaces anything.
		if err = os.Link(tmp, p.out); err == nil {
			os.Remove(tmp)
		}
	}
	if err != nil {
		p.Abort()
		if errors.Is(err, os.ErrExist) {
			return File{}, fmt.Errorf("export: %s: %w (it appeared during the export; give --force to replace it)", p.out, ErrExists)
		}
		return File{}, fmt.Errorf("export: move into %s: %w", p.out, err)
	}
	p.done = true
	archive.SyncDir(filepath.Dir(p.out))
	return File{Path: p.out, Size: p.n, SHA256: hex.EncodeToString(p.h.Sum(nil))}, nil
}

// Abort removes the pending file.
func (p *PendingFile) Abort() error {
	if p.done {
		return nil
	}
	p.done = true
	p.f.Close()
	return os.Remove(p.f.Name())
}

// PendingDir is a directory export being built: a hidden temporary
// directory beside Out, moved into place by Commit.
type PendingDir struct {
	out   string
	force bool
	// Tmp is where the export is built.
	Tmp  string
	done bool
}

// NewPendingDir starts a directory export to out.
func NewPendingDir(out string, force bool) (*PendingDir, error) {
	if err := CheckOut(out, force); err != nil {
		return nil, err
	}
	tmp := TempSibling(out, "incomplete")
	if err := os.Mkdir(tmp, 0o750); err != nil {
		return nil, fmt.Errorf("export: cannot write %s: %w", out, err)
	}
	return &PendingDir{out: out, force: force, Tmp: tmp}, nil
}

// Commit makes the directory's files durable (one syncfs for the whole
// file system rather than one fsync per file) and moves it into place.
// Without force it never replaces anything; with force an existing Out is
// replaced only now, once the new export is complete.
func (p *PendingDir) Commit() error {
	if p.done {
		return errors.New("export: directory already committed or aborted")
	}
	if err := SyncTree(p.Tmp); err != nil {
		p.Abort()
		return fmt.Errorf("export: sync %s: %w; %w: nothing was left at %s", p.out, err, ErrIncomplete, p.out)
	}
	var old string
	if _, err := os.Lstat(p.out); err == nil {
		if !p.force {
			p.Abort()
			return fmt.Errorf("export: %s: %w (it appeared during the export; give --force to replace it)", p.out, ErrExists)
		}
		old = TempSibling(p.out, "replaced")
		if err := os.Rename(p.out, old); err != nil {
			p.Abort()
			return fmt.Errorf("export: replace %s: %w", p.out, err)
		}
	}
	if err := os.Rename(p.Tmp, p.out); err != nil {
		if old != "" {
			os.Rename(old, p.out)
		}
		p.Abort()
		return fmt.Errorf("export: move into %s: %w", p.out, err)
	}
	p.done = true
	archive.SyncDir(filepath.Dir(p.out))
	if old != "" {
		os.RemoveAll(old)
	}
	return nil
}

// Abort removes the directory being built.
func (p *PendingDir) Abort() error {
	if p.done {
		return nil
	}
	p.done = true
	return os.RemoveAll(p.Tmp)
}

// SyncTree makes a directory tree durable: one syncfs for its file system
// (much cheaper than an fsync per file), then an fsync of each directory.
func SyncTree(root string) error {
	if err := archive.SyncFS(root); err != nil {
		return err
	}
	return filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			archive.SyncDir(p)
		}
		return nil
	})
}

// Progress is told after each item written.
type Progress func(items int)

// Run exports: it calls w.Begin when the source yields its first item (an
// empty selection writes nothing and returns ErrEmpty), w.Write for each
// item, and w.Finish. On any error it aborts the writer, so nothing
// partial stays at m.Out, and says so.
func Run(ctx context.Context, src *Source, w Writer, m Meta, progress Progress) (Manifest, error) {
	if m.Blobs == nil {
		m.Blobs = src.Blobs()
	}
	if m.Versions == "" {
		m.Versions = src.o.Versions
	}
	begun, written := false, 0
	fail := func(err error) (Manifest, error) {
		if begun {
			w.Abort()
			if !errors.Is(err, ErrIncomplete) {
				err = fmt.Errorf("%w; %w: what was written was removed, nothing is at %s", err, ErrIncomplete, m.Out)
			}
		}
		return Manifest{}, err
	}
	_, err := src.Each(ctx, func(it *Item) error {
		if !begun {
			if err := w.Begin(ctx, m); err != nil {
				return err
			}
			begun = true
		}
		if err := w.Write(ctx, it); err != nil {
			return err
		}
		written++
		if progress != nil {
			progress(written)
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	if !begun && m.AllowEmpty {
		if err := w.Begin(ctx, m); err != nil {
			return Manifest{}, err
		}
		begun = true
	}
	if !begun {
		return Manifest{}, fmt.Errorf("export: %w: no item matches %s; nothing was written", ErrEmpty, m.Selection)
	}
	man, err := w.Finish(ctx)
	if err != nil {
		return fail(err)
	}
	return man, nil
}
