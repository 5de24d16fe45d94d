package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/osmarc/osmarc/archive/journal"
)

// CopyOptions tune CopyStore.
type CopyOptions struct {
	// Workers is how many blobs are copied at once (default 16).
	Workers int
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
	// UpTo is the source's last journal event when the copy began: the
	// copy holds the journal up to it, unless Failed names an event.
	UpTo string `json:"up_to"`
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

// CopyStore copies the archive in src, its blobs, manifests and journal
// events, into dst, in the order of writes DESIGN.md requires. It notes
// the journal's last event first; copies every blob; syncs dst; then
// copies the journal up to that event in sequence, each capture's
// manifest before the event that names it, dst synced between. So dst is
// at every moment an archive that is whole as far as its journal goes,
// even if src is written to during the copy (a capture's blobs are in
// src before the manifest and event that name them): what src gains
// meanwhile waits for the next copy. A manifest no event names (left by
// an interrupted capture) is not copied. Running the copy again finishes
// or updates it: objects dst already holds are left alone (a blob's name
// is its digest, so for blobs the same size is the same bytes; an event
// is read back and compared; a manifest is checked against the size its
// event recorded). Nothing in dst is ever replaced.
//
// Every object is checked on the way: dst's Put refuses bytes that do not
// hash to the blob's name, or to the digest the capture's event recorded
// for its manifest; each event must follow the one before in the
// journal's hash chain (journal.Verifier), so a changed event stops the
// journal at the latest at the event after it. A damaged source object is
// reported in Failed, not copied. The copy goes on past
// a damaged blob; the journal stops at the first event it cannot copy,
// or whose manifest it cannot, since the chain would break there. A dst
// whose journal is not the start of src's (another archive's, or a copy
// that has been written to since) is refused (ErrOtherArchive) before
// anything is written.
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
	last, _, err := lastObject(ctx, src, JournalPrefix)
	if err != nil {
		return rep, fmt.Errorf("copy store: list %s: %w", rep.From, err)
	}
	head := last.Key
	rep.UpTo = head
	c := &copier{src: src, dst: dst, o: o, rep: rep}
	if err := c.blobs(ctx); err != nil {
		return rep, err
	}
	if err := dst.Sync(ctx); err != nil {
		return rep, fmt.Errorf("copy store: sync %s: %w", rep.To, err)
	}
	if head == "" {
		return rep, nil
	}
	if err := c.journal(ctx, head); err != nil {
		return rep, err
	}
	if err := dst.Sync(ctx); err != nil {
		return rep, fmt.Errorf("copy store: sync %s: %w", rep.To, err)
	}
	return rep, nil
}

// lastObject is the last object under prefix in s, if there is one.
func lastObject(ctx context.Context, s BlobStore, prefix string) (last ObjectInfo, found bool, err error) {
	err = s.List(ctx, prefix, "", func(i ObjectInfo) error {
		last, found = i, true
		return nil
	})
	return last, found, err
}

// sameArchive refuses a destination whose journal is not the start of
// src's. Each event holds the digest of the one before it, so the
// destination's last event, if src holds the same bytes under its key,
// vouches for every event before it.
func sameArchive(ctx context.Context, src, dst BlobStore) error {
	last, found, err := lastObject(ctx, dst, JournalPrefix)
	if err != nil {
		return fmt.Errorf("copy store: list %s: %w", dst.Location(), err)
	}
	if !found {
		return nil
	}
	other := func(why string) error {
		return fmt.Errorf("copy store: %w: %s; nothing was written", ErrOtherArchive, why)
	}
	a, err := ReadAll(ctx, src, last.Key)
	if errors.Is(err, ErrNotFound) {
		return other(fmt.Sprintf("its journal goes on to %s, which this archive has not reached (another archive, or a copy written to since)", last.Key))
	}
	if err != nil {
		return fmt.Errorf("copy store: %w", err)
	}
	b, err := ReadAll(ctx, dst, last.Key)
	if err != nil {
		return fmt.Errorf("copy store: %w", err)
	}
	if !bytes.Equal(a, b) {
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

// blobs copies every blob, several at a time.
func (c *copier) blobs(ctx context.Context) error {
	have, stop := listing(ctx, c.dst, BlobPrefix)
	defer stop()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.o.Workers)
	err := c.src.List(ctx, BlobPrefix, "", func(oi ObjectInfo) error {
		if err := gctx.Err(); err != nil {
			return err
		}
		there, err := have(oi.Key)
		if err != nil {
			return err
		}
		if there != nil {
			if there.Size != oi.Size {
				c.failed(oi.Key, fmt.Errorf("the destination holds this blob with %d bytes, not %d: it is damaged there and was not replaced (osmarc verify --store %s)", there.Size, oi.Size, c.dst.Location()))
				return nil
			}
			c.count("blobs", false, 0)
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
			c.count("blobs", true, oi.Size)
			return nil
		})
		return nil
	})
	if werr := g.Wait(); err == nil {
		err = werr
	}
	if err != nil {
		return fmt.Errorf("copy store: blobs: %w", err)
	}
	return nil
}

// journalBatch is how many events are read, and their manifests copied,
// before dst is synced and the events written.
const journalBatch = 256

// copyEvent is one journal event read from src, with what it names.
type copyEvent struct {
	oi       ObjectInfo
	body     []byte
	there    *ObjectInfo       // dst's object of the same key
	manifest *captureEventData // the capture it records, if it records one
	bad      error             // why it cannot be copied
}

// journal copies the events up to head in sequence. For each batch of
// events it copies the manifests they name, syncs dst, then writes the
// events; after the first event it cannot copy, it writes none.
func (c *copier) journal(ctx context.Context, head string) error {
	have, stop := listing(ctx, c.dst, JournalPrefix)
	defer stop()
	var batch []copyEvent
	broken := false
	chain := journal.NewVerifier()
	flush := func() error {
		wrote := false
		for i := range batch {
			e := &batch[i]
			if e.bad != nil || e.manifest == nil {
				continue
			}
			copied, err := c.manifest(ctx, e.oi.Key, e.manifest)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				c.failed(e.manifest.Manifest, err)
				e.bad = fmt.Errorf("not copied: the manifest it names, %s, was not", e.manifest.Manifest)
				continue
			}
			wrote = wrote || copied
		}
		if wrote {
			if err := c.dst.Sync(ctx); err != nil {
				return fmt.Errorf("sync %s: %w", c.dst.Location(), err)
			}
		}
		for _, e := range batch {
			if broken {
				c.failed(e.oi.Key, fmt.Errorf("not copied: an earlier event was not, and the journal is a chain"))
				continue
			}
			if e.bad != nil {
				c.failed(e.oi.Key, e.bad)
				broken = true
				continue
			}
			copied, err := c.event(ctx, e)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				c.failed(e.oi.Key, err)
				broken = true
				continue
			}
			c.count("journal", copied, e.oi.Size)
		}
		batch = batch[:0]
		return nil
	}
	err := c.src.List(ctx, JournalPrefix, "", func(oi ObjectInfo) error {
		if oi.Key > head {
			return errStopList
		}
		there, err := have(oi.Key)
		if err != nil {
			return err
		}
		e := copyEvent{oi: oi, there: there}
		e.body, e.bad = readObject(ctx, c.src, oi)
		if e.bad == nil {
			e.manifest, e.bad = namedManifest(chain, oi.Key, e.body)
		}
		batch = append(batch, e)
		if len(batch) >= journalBatch {
			return flush()
		}
		return nil
	})
	if errors.Is(err, errStopList) {
		err = nil
	}
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("copy store: journal: %w", err)
	}
	return nil
}

// readObject reads a (small) object whole, checking its size.
func readObject(ctx context.Context, s BlobStore, oi ObjectInfo) ([]byte, error) {
	b, err := ReadAll(ctx, s, oi.Key)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if int64(len(b)) != oi.Size {
		return nil, fmt.Errorf("read %d bytes, the listing said %d", len(b), oi.Size)
	}
	return b, nil
}

// namedManifest checks the event stored under key with bytes body as the
// next link of the journal's chain, and returns what it records of the
// capture whose manifest it names (nil if it names none).
func namedManifest(chain *journal.Verifier, key string, body []byte) (*captureEventData, error) {
	ev, err := chain.Check(key, body)
	if err != nil {
		return nil, fmt.Errorf("%w (osmarc verify)", err)
	}
	if ev.Type != journal.TypeCapture {
		return nil, nil
	}
	var d captureEventData
	if err := json.Unmarshal(ev.Data, &d); err != nil || d.Manifest == "" {
		return nil, fmt.Errorf("a capture event that names no manifest (osmarc verify)")
	}
	return &d, nil
}

// manifest copies the manifest the capture event at event records (cp),
// checked against the digest and size it recorded, and reports whether it
// wrote.
func (c *copier) manifest(ctx context.Context, event string, cp *captureEventData) (bool, error) {
	want, err := ParseDigest(cp.SHA256)
	if err != nil {
		return false, fmt.Errorf("its event %s records no digest for it: %w", event, err)
	}
	key := cp.Manifest
	if oi, err := c.dst.Stat(ctx, key); err == nil {
		if oi.Size != cp.Size {
			return false, fmt.Errorf("the destination holds it with %d bytes, not the %d its event recorded; nothing was replaced", oi.Size, cp.Size)
		}
		c.count("captures", false, 0)
		return false, nil
	} else if !errors.Is(err, ErrNotFound) {
		return false, err
	}
	r, err := c.src.Open(ctx, key)
	if err != nil {
		return false, fmt.Errorf("read: %w", err)
	}
	defer r.Close()
	if err := c.dst.Put(ctx, key, r, cp.Size, want); err != nil {
		if errors.Is(err, ErrDigestMismatch) {
			return false, fmt.Errorf("its bytes do not hash to the digest its event recorded: the archive's copy is damaged (osmarc verify); not copied")
		}
		return false, fmt.Errorf("write: %w", err)
	}
	c.count("captures", true, cp.Size)
	return true, nil
}

// event writes one event, or, when dst has it, compares the two; it
// reports whether it wrote.
func (c *copier) event(ctx context.Context, e copyEvent) (bool, error) {
	if e.there != nil {
		b, err := ReadAll(ctx, c.dst, e.oi.Key)
		if err != nil {
			return false, err
		}
		if !bytes.Equal(b, e.body) {
			return false, fmt.Errorf("the destination holds other bytes under this key; nothing was replaced")
		}
		return false, nil
	}
	if err := PutBytes(ctx, c.dst, e.oi.Key, e.body); err != nil {
		if errors.Is(err, ErrExists) {
			return false, fmt.Errorf("written meanwhile by another process; run the copy again to compare")
		}
		return false, fmt.Errorf("write: %w", err)
	}
	return true, nil
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
