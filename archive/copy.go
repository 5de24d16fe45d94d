package archive

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// CopyOptions tune CopyStore.
type CopyOptions struct {
	// Workers is how many blobs are copied at once (default 16).
	Workers int
	// TmpDir holds each manifest and event while it is hashed, before it
	// is written (default: the system's temporary directory).
	TmpDir string
	// OnProgress, if set, is told after each object: the family being
	// copied ("blobs", "captures", "journal") and the objects of the
	// whole copy done so far.
	OnProgress func(family string, done int64)
}

// CopyReport is what CopyStore did.
type CopyReport struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Copied objects were written to the destination; Present ones were
	// there already with the same bytes (a copy run again, or resumed).
	Copied  int64 `json:"copied"`
	Present int64 `json:"present"`
	// Bytes is the size of what was copied.
	Bytes int64 `json:"bytes"`
	// Failed lists the objects not copied, and why; the copy is
	// complete only when it is empty.
	Failed []CopyFailure `json:"failed"`
}

// CopyFailure is one object CopyStore could not copy.
type CopyFailure struct {
	Key     string `json:"key"`
	Message string `json:"message"`
}

// ErrOtherArchive: the destination of a copy holds another archive.
var ErrOtherArchive = errors.New("the destination holds another archive")

// CopyStore copies the archive in src, every blob, manifest and journal
// event, into dst, in the order of writes DESIGN.md requires: all the
// blobs, then the manifests that name them, then the journal in sequence,
// the destination synced between each. A copy cut short therefore leaves
// dst an archive that is whole as far as its journal goes, and running
// the copy again finishes it: objects dst already holds with the same
// bytes are left alone (a blob's name is its digest, so for blobs the
// same size is the same bytes; a manifest or event is read back and
// compared). Nothing in dst is ever replaced.
//
// Every object is checked on the way: dst's Put refuses bytes that do not
// hash to the blob's name or to the digest of the manifest or event as
// read, so a damaged source object is reported in Failed, not copied.
// The copy goes on past such an object, except in the journal, whose
// chain stops at the first event it cannot copy. A dst whose journal is
// not the start of src's (another archive's, or a copy that has been
// written to since) is refused (ErrOtherArchive) before anything is
// written.
func CopyStore(ctx context.Context, src, dst BlobStore, o CopyOptions) (*CopyReport, error) {
	if o.Workers <= 0 {
		o.Workers = 16
	}
	rep := &CopyReport{From: src.Location(), To: dst.Location(), Failed: []CopyFailure{}}
	if rep.From == rep.To {
		return rep, fmt.Errorf("copy store: %s is the archive's own store", rep.To)
	}
	if err := sameArchive(ctx, src, dst); err != nil {
		return rep, err
	}
	c := &copier{src: src, dst: dst, o: o, rep: rep}
	for _, family := range []string{BlobPrefix, CapturePrefix, JournalPrefix} {
		if err := c.family(ctx, family); err != nil {
			return rep, err
		}
		if err := dst.Sync(ctx); err != nil {
			return rep, fmt.Errorf("copy store: sync %s: %w", rep.To, err)
		}
	}
	return rep, nil
}

// sameArchive refuses a destination whose journal is not the start of
// src's. Each event holds the digest of the one before it, so the
// destination's last event, if src holds the same bytes under its key,
// vouches for every event before it.
func sameArchive(ctx context.Context, src, dst BlobStore) error {
	var last ObjectInfo
	found := false
	if err := dst.List(ctx, JournalPrefix, "", func(i ObjectInfo) error {
		last, found = i, true
		return nil
	}); err != nil {
		return fmt.Errorf("copy store: list %s: %w", dst.Location(), err)
	}
	if !found {
		return nil
	}
	other := func(why string) error {
		return fmt.Errorf("copy store: %w: %s; nothing was written", ErrOtherArchive, why)
	}
	s, err := src.Stat(ctx, last.Key)
	if errors.Is(err, ErrNotFound) {
		return other(fmt.Sprintf("its journal goes on to %s, which this archive has not reached (another archive, or a copy written to since)", last.Key))
	}
	if err != nil {
		return fmt.Errorf("copy store: %w", err)
	}
	if s.Size != last.Size {
		return other(fmt.Sprintf("its %s is not this archive's", last.Key))
	}
	a, err := objectDigest(ctx, src, last.Key)
	if err != nil {
		return fmt.Errorf("copy store: %w", err)
	}
	b, err := objectDigest(ctx, dst, last.Key)
	if err != nil {
		return fmt.Errorf("copy store: %w", err)
	}
	if a != b {
		return other(fmt.Sprintf("its %s is not this archive's", last.Key))
	}
	return nil
}

type copier struct {
	src, dst BlobStore
	o        CopyOptions
	mu       sync.Mutex
	rep      *CopyReport
	done     atomic.Int64
}

func (c *copier) failed(key string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rep.Failed = append(c.rep.Failed, CopyFailure{Key: key, Message: err.Error()})
}

func (c *copier) count(family string, copied bool, size int64) {
	c.mu.Lock()
	if copied {
		c.rep.Copied++
		c.rep.Bytes += size
	} else {
		c.rep.Present++
	}
	c.mu.Unlock()
	n := c.done.Add(1)
	if c.o.OnProgress != nil {
		c.o.OnProgress(family, n)
	}
}

// family copies every object under prefix: blobs by several workers,
// manifests and events one at a time, in key order.
func (c *copier) family(ctx context.Context, prefix string) error {
	name := prefix[:len(prefix)-1]
	if prefix == BlobPrefix {
		name = "blobs"
	}
	have, stop := listing(ctx, c.dst, prefix)
	defer stop()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.o.Workers)
	journalBroken := false
	err := c.src.List(ctx, prefix, "", func(oi ObjectInfo) error {
		if err := gctx.Err(); err != nil {
			return err
		}
		there, err := have(oi.Key)
		if err != nil {
			return err
		}
		switch {
		case prefix == BlobPrefix:
			if there != nil {
				if there.Size != oi.Size {
					c.failed(oi.Key, fmt.Errorf("the destination holds this blob with %d bytes, not %d: it is damaged there and was not replaced (osmarc verify --store %s)", there.Size, oi.Size, c.dst.Location()))
					return nil
				}
				c.count(name, false, 0)
				return nil
			}
			g.Go(func() error {
				if err := c.blob(gctx, oi); err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					c.failed(oi.Key, err)
					return nil
				}
				c.count(name, true, oi.Size)
				return nil
			})
			return nil
		case journalBroken:
			c.failed(oi.Key, fmt.Errorf("not copied: an earlier event was not, and the journal is a chain"))
			return nil
		default:
			copied, err := c.object(ctx, oi, there != nil)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				c.failed(oi.Key, err)
				journalBroken = prefix == JournalPrefix
				return nil
			}
			c.count(name, copied, oi.Size)
			return nil
		}
	})
	if werr := g.Wait(); err == nil {
		err = werr
	}
	if err != nil {
		return fmt.Errorf("copy store: %s: %w", name, err)
	}
	return nil
}

// blob copies one blob; the destination checks its bytes against the
// digest its name gives.
func (c *copier) blob(ctx context.Context, oi ObjectInfo) error {
	d, err := ParseBlobKey(oi.Key)
	if err != nil {
		return err
	}
	r, err := c.src.Open(ctx, oi.Key)
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	defer r.Close()
	if err := c.dst.Put(ctx, oi.Key, r, oi.Size, d); err != nil {
		if errors.Is(err, ErrDigestMismatch) {
			return fmt.Errorf("its bytes do not hash to its name: the archive's copy is damaged (osmarc verify); not copied")
		}
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// object copies one manifest or event, by way of a temporary file, so
// that the digest the destination checks is that of the bytes read; when
// the destination has the key already it compares the two instead, and
// reports whether it wrote.
func (c *copier) object(ctx context.Context, oi ObjectInfo, there bool) (bool, error) {
	f, err := os.CreateTemp(c.o.TmpDir, "osmarc-copy-*")
	if err != nil {
		return false, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	r, err := c.src.Open(ctx, oi.Key)
	if err != nil {
		return false, fmt.Errorf("read: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	r.Close()
	if err != nil {
		return false, fmt.Errorf("read: %w", err)
	}
	if n != oi.Size {
		return false, fmt.Errorf("read %d bytes, the listing said %d", n, oi.Size)
	}
	var sum Digest
	h.Sum(sum[:0])
	if there {
		d, err := objectDigest(ctx, c.dst, oi.Key)
		if err != nil {
			return false, err
		}
		if d != sum {
			return false, fmt.Errorf("the destination holds other bytes under this key; nothing was replaced")
		}
		return false, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return false, err
	}
	if err := c.dst.Put(ctx, oi.Key, f, n, sum); err != nil {
		if errors.Is(err, ErrExists) {
			// Written meanwhile (another copy at the same time): the
			// same bytes, or the next run says otherwise.
			return false, nil
		}
		return false, fmt.Errorf("write: %w", err)
	}
	return true, nil
}

// objectDigest reads an object whole and returns its SHA-256.
func objectDigest(ctx context.Context, s BlobStore, key string) (Digest, error) {
	r, err := s.Open(ctx, key)
	if err != nil {
		return Digest{}, fmt.Errorf("read %s: %w", key, err)
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return Digest{}, fmt.Errorf("read %s: %w", key, err)
	}
	var d Digest
	h.Sum(d[:0])
	return d, nil
}

// listing walks s's objects under prefix beside a walk of another
// listing in the same (key) order: have(key) says whether s holds key,
// for keys asked in increasing order, reading s's listing only as far as
// key. stop ends the walk.
func listing(ctx context.Context, s BlobStore, prefix string) (have func(key string) (*ObjectInfo, error), stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan ObjectInfo, 1024)
	var listErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(ch)
		err := s.List(ctx, prefix, "", func(oi ObjectInfo) error {
			select {
			case ch <- oi:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		if err != nil && ctx.Err() == nil {
			listErr = fmt.Errorf("list %s: %w", s.Location(), err)
		}
	}()
	var cur *ObjectInfo
	ended := false
	have = func(key string) (*ObjectInfo, error) {
		for !ended && (cur == nil || cur.Key < key) {
			oi, ok := <-ch
			if !ok {
				ended = true
				<-done
				if listErr != nil {
					return nil, listErr
				}
				break
			}
			cur = &oi
		}
		if cur != nil && cur.Key == key {
			return cur, nil
		}
		return nil, nil
	}
	stop = func() {
		cancel()
		for range ch {
		}
		<-done
	}
	return have, stop
}
