package archive

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"sync"
	"time"

	"github.com/osmarc/osmarc/archive/catalog"
	"github.com/osmarc/osmarc/archive/journal"
)

// Version of osmarc, set at build time with -ldflags -X.
var Version = "dev"

// StoreOpener opens the store a URL names; dataDir resolves the default
// local store. The command layer passes archive/stores.Open.
type StoreOpener func(ctx context.Context, url, dataDir string) (BlobStore, error)

// Options says how to open an archive.
type Options struct {
	// Dir is the data directory: catalog, config, lock.
	Dir string
	// ReadOnly opens without taking the writer's lock and without applying
	// journal events the catalog has not seen.
	ReadOnly bool
	// Actor is who acts, recorded in journal events.
	Actor string
	// Command names the running command in the lock file.
	Command string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand supplies capture and archive ids; nil means crypto/rand.
	Rand io.Reader
	// OpenStore opens the configured store.
	OpenStore StoreOpener
	// Concurrency bounds the store writes in flight during a capture.
	Concurrency int
	// Logger receives progress; nil discards.
	Logger *slog.Logger
}

// Archive is an open archive: its store, catalog and journal, and the lock
// that makes this process its only writer.
type Archive struct {
	dir    string
	cfg    Config
	store  BlobStore
	cat    *catalog.Catalog
	lock   *dirLock
	opts   Options
	log    *slog.Logger
	closed bool
	// indexer, when set, is told of the items each capture saw.
	indexer Indexer
	// pendingMu guards the index-pending file (indexpending.go).
	pendingMu sync.Mutex
}

func (o *Options) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Actor == "" {
		o.Actor = DefaultActor()
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// DefaultActor is $OSMARC_ACTOR, else user@host.
func DefaultActor() string {
	if a := os.Getenv("OSMARC_ACTOR"); a != "" {
		return a
	}
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return name + "@" + host
}

func (a *Archive) now() time.Time { return a.opts.Now().UTC() }

func (a *Archive) newID(at time.Time) string {
	var b [6]byte
	io.ReadFull(a.opts.Rand, b[:])
	// Ids sort by time to the millisecond, then by chance.
	return at.UTC().Format("20060102T150405.000Z") + "-" + hex.EncodeToString(b[:])
}

// InitResult says what Init did.
type InitResult struct {
	ArchiveID string `json:"archive_id"`
	Store     string `json:"store"`
	// Attached is true when the store already held an archive and this
	// data directory joined it instead of starting another.
	Attached bool   `json:"attached"`
	Events   uint64 `json:"events"`
	Captures int64  `json:"captures"`
}

// Init creates an archive in opts.Dir on the store at storeURL (empty: the
// default local store inside the data directory), or attaches to the
// archive the store already holds.
func Init(ctx context.Context, opts Options, storeURL string) (*Archive, InitResult, error) {
	opts.defaults()
	var res InitResult
	if storeURL == "" {
		storeURL = DefaultStoreDir
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, res, fmt.Errorf("create data directory: %w", err)
	}
	lk, err := lockDir(opts.Dir, true, opts.Command)
	if err != nil {
		return nil, res, err
	}
	if cfg, err := ReadConfig(opts.Dir); err == nil {
		lk.release()
		return nil, res, fmt.Errorf("%s already holds an archive (store %s)", opts.Dir, cfg.Store)
	}
	store, err := opts.OpenStore(ctx, storeURL, opts.Dir)
	if err != nil {
		lk.release()
		return nil, res, err
	}
	a := &Archive{dir: opts.Dir, store: store, lock: lk, opts: opts, log: opts.Logger.WithGroup("archive")}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	// Does the store already hold an archive? Its first event says so.
	first, err := ReadAll(ctx, store, journal.Key(1))
	switch {
	case err == nil:
		ev, err := journal.Decode(first)
		if err != nil || ev.Type != journal.TypeArchiveCreated {
			return nil, res, fmt.Errorf("store %s holds a journal whose first event is not an archive's creation", store.Location())
		}
		var d struct {
			ArchiveID string    `json:"archive_id"`
			CreatedAt time.Time `json:"created_at"`
		}
		json.Unmarshal(ev.Data, &d)
		a.cfg = Config{Format: 1, Store: storeURL, ArchiveID: d.ArchiveID, CreatedAt: ev.Time}
		res.Attached = true
	case errors.Is(err, ErrNotFound):
		var other []string
		store.List(ctx, "", "", func(oi ObjectInfo) error {
			other = append(other, oi.Key)
			return errStopList
		})
		if len(other) > 0 {
			return nil, res, fmt.Errorf("store %s is not empty and holds no osmarc archive (found %s): choose an empty location", store.Location(), other[0])
		}
		id := a.newID(a.now())
		a.cfg = Config{Format: 1, Store: storeURL, ArchiveID: id, CreatedAt: a.now()}
	default:
		return nil, res, fmt.Errorf("read store %s: %w", store.Location(), err)
	}
	if err := a.openCatalog(false); err != nil {
		return nil, res, err
	}
	if res.Attached {
		if err := a.replay(ctx); err != nil {
			return nil, res, err
		}
		host, _ := os.Hostname()
		abs, _ := filepath.Abs(opts.Dir)
		if _, err := a.appendEvent(ctx, journal.TypeArchiveAttached, map[string]any{"host": host, "data_dir": abs, "osmarc_version": Version}); err != nil {
			return nil, res, err
		}
	} else {
		if _, err := a.appendEvent(ctx, journal.TypeArchiveCreated, map[string]any{
			"archive_id": a.cfg.ArchiveID, "created_at": a.cfg.CreatedAt, "osmarc_version": Version, "manifest_format": ManifestFormat,
		}); err != nil {
			return nil, res, err
		}
		if _, err := a.appendEvent(ctx, journal.TypeStoreConfigured, map[string]any{"store": store.Location()}); err != nil {
			return nil, res, err
		}
	}
	if err := writeConfig(opts.Dir, a.cfg); err != nil {
		return nil, res, fmt.Errorf("write config: %w", err)
	}
	n, _ := a.cat.Counters()
	h, _ := a.cat.Head()
	res.ArchiveID, res.Store, res.Events, res.Captures = a.cfg.ArchiveID, store.Location(), h.Seq, n.Captures
	ok = true
	return a, res, nil
}

var errStopList = errors.New("stop listing")

// Open opens the archive in opts.Dir. A writer (not ReadOnly) holds the
// data directory's lock until Close, and first applies any journal events
// in the store that the catalog has not seen (another machine's, or those
// of a process that died between writing an event and its catalog entry).
func Open(ctx context.Context, opts Options) (*Archive, error) {
	opts.defaults()
	cfg, err := ReadConfig(opts.Dir)
	if err != nil {
		return nil, err
	}
	lk, err := lockDir(opts.Dir, !opts.ReadOnly, opts.Command)
	if err != nil {
		return nil, err
	}
	store, err := opts.OpenStore(ctx, cfg.Store, opts.Dir)
	if err != nil {
		lk.release()
		return nil, err
	}
	a := &Archive{dir: opts.Dir, cfg: cfg, store: store, lock: lk, opts: opts, log: opts.Logger.WithGroup("archive")}
	if err := a.openCatalog(opts.ReadOnly); err != nil {
		a.Close()
		return nil, err
	}
	if !opts.ReadOnly {
		if err := a.replay(ctx); err != nil {
			a.Close()
			return nil, err
		}
		a.removeStaleSpools()
	}
	return a, nil
}

// removeStaleSpools deletes manifest spools a killed capture left in the
// data directory. Only the writer, holding the lock, may: no other capture
// can be running.
func (a *Archive) removeStaleSpools() {
	old, _ := filepath.Glob(filepath.Join(a.dir, "tmp", "capture-*"))
	for _, p := range old {
		os.Remove(p)
	}
	if len(old) > 0 {
		a.log.Info("removed spools of interrupted captures", "files", len(old))
	}
}

func (a *Archive) openCatalog(readOnly bool) error {
	path := filepath.Join(a.dir, CatalogFile)
	if readOnly {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s has no catalog: run osmarc rebuild", a.dir)
		}
	}
	cat, err := catalog.Open(path, readOnly)
	if err != nil {
		return err
	}
	a.cat = cat
	return nil
}

// Close releases the catalog, the store and the lock.
func (a *Archive) Close() error {
	if a.closed {
		return nil
	}
	a.closed = true
	var errs []error
	if a.cat != nil {
		errs = append(errs, a.cat.Close())
	}
	if a.store != nil {
		errs = append(errs, a.store.Close())
	}
	a.lock.release()
	return errors.Join(errs...)
}

// Dir is the data directory.
func (a *Archive) Dir() string { return a.dir }

// Config is the data directory's config.
func (a *Archive) Config() Config { return a.cfg }

// Store is the archive's store.
func (a *Archive) Store() BlobStore { return a.store }

// Catalog is the archive's catalog.
func (a *Archive) Catalog() *catalog.Catalog { return a.cat }

// appendEvent writes the next journal event to the store, makes it durable,
// and applies it to the catalog. Store first, catalog after: a crash between
// the two is repaired by replay on the next open.
func (a *Archive) appendEvent(ctx context.Context, typ string, data any) (journal.Event, error) {
	ev, b, err := a.writeEvent(ctx, typ, data)
	if err != nil {
		return ev, err
	}
	if err := a.cat.ApplyEvent(catalogEvent(ev, b)); err != nil {
		return ev, fmt.Errorf("catalog: apply event %d: %w", ev.Seq, err)
	}
	return ev, nil
}

// writeEvent writes the next event to the store only.
func (a *Archive) writeEvent(ctx context.Context, typ string, data any) (journal.Event, []byte, error) {
	if a.opts.ReadOnly {
		return journal.Event{}, nil, fmt.Errorf("archive opened read-only")
	}
	for attempt := 0; ; attempt++ {
		h, err := a.cat.Head()
		if err != nil {
			return journal.Event{}, nil, err
		}
		ev, err := journal.Next(journal.Head{Seq: h.Seq, Hash: h.Hash}, a.now(), a.Actor(ctx), typ, data)
		if err != nil {
			return ev, nil, err
		}
		b, err := journal.Encode(ev)
		if err != nil {
			return ev, nil, err
		}
		err = PutBytes(ctx, a.store, journal.Key(ev.Seq), b)
		if errors.Is(err, ErrExists) && attempt < 3 {
			// Another writer on the same store got there first: take in
			// what it wrote and try again after it.
			if err := a.replay(ctx); err != nil {
				return ev, nil, err
			}
			continue
		}
		if err != nil {
			return ev, nil, fmt.Errorf("write journal event %d: %w", ev.Seq, err)
		}
		// The event alone: what it names was made durable before it
		// was written (every caller syncs its blobs first).
		if err := syncObject(ctx, a.store, journal.Key(ev.Seq)); err != nil {
			return ev, nil, err
		}
		return ev, b, nil
	}
}

func catalogEvent(ev journal.Event, b []byte) catalog.Event {
	return catalog.Event{Seq: ev.Seq, Time: ev.Time, Actor: ev.Actor, Type: ev.Type, Data: ev.Data, Hash: journal.Hash(b)}
}

// captureEventData is what a capture event records of its manifest.
type captureEventData struct {
	Capture     string   `json:"capture"`
	Manifest    string   `json:"manifest"`
	SHA256      string   `json:"sha256"`
	Size        int64    `json:"size"`
	Collector   string   `json:"collector"`
	Accounts    []string `json:"accounts"`
	Items       int64    `json:"items"`
	NewVersions int64    `json:"new_versions"`
	Errors      int64    `json:"errors"`
	Complete    bool     `json:"complete"`
}

// replay applies the store's journal events after the catalog's head.
func (a *Archive) replay(ctx context.Context) error {
	h, err := a.cat.Head()
	if err != nil {
		return err
	}
	v := journal.Resume(journal.Head{Seq: h.Seq, Hash: h.Hash})
	after := ""
	if h.Seq > 0 {
		after = journal.Key(h.Seq)
	}
	n := 0
	err = a.store.List(ctx, journal.Prefix, after, func(oi ObjectInfo) error {
		b, err := ReadAll(ctx, a.store, oi.Key)
		if err != nil {
			return err
		}
		ev, err := v.Check(oi.Key, b)
		if err != nil {
			return fmt.Errorf("%w (run osmarc verify)", err)
		}
		n++
		return a.applyStored(ctx, ev, b, nil, nil)
	})
	if err != nil {
		return fmt.Errorf("apply journal: %w", err)
	}
	if n > 0 {
		a.log.Info("applied journal events", "events", n)
	}
	return nil
}

// applyStored applies one stored event to the catalog. For a capture it
// reads the manifest: from local, when given (the file just uploaded), else
// from the store, checking its digest against the event; applied, when
// given, follows its items into the catalog (catalog.ApplyCapture).
func (a *Archive) applyStored(ctx context.Context, ev journal.Event, b []byte, local io.Reader, applied func(items int)) error {
	cev := catalogEvent(ev, b)
	switch ev.Type {
	case journal.TypeCapture:
	case EventDispositionExecuted:
		return a.applyDestruction(ctx, ev, cev)
	default:
		return a.cat.ApplyEvent(cev)
	}
	var d captureEventData
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		return fmt.Errorf("event %d: capture data: %w", ev.Seq, err)
	}
	r := local
	var check *hashingReader
	if r == nil {
		rc, err := a.store.Open(ctx, d.Manifest)
		if err != nil {
			return fmt.Errorf("event %d: manifest %s: %w", ev.Seq, d.Manifest, err)
		}
		defer rc.Close()
		check = newHashingReader(rc)
		r = check
	}
	cp := &catalog.Capture{ID: d.Capture, Key: d.Manifest, Digest: d.SHA256, Size: d.Size, Event: ev.Seq, Actor: ev.Actor}
	err := a.cat.ApplyCapture(cev, cp, func(yield func(catalog.Entry, error) bool) {
		for ml, err := range ReadManifest(r, d.Manifest) {
			if err != nil {
				yield(catalog.Entry{}, err)
				return
			}
			var e catalog.Entry
			switch {
			case ml.Header != nil:
				cp.Collector, cp.CollectorVersion, cp.StartedAt, cp.Sources = ml.Header.Collector, ml.Header.CollectorVersion, ml.Header.StartedAt, ml.Header.Sources
				continue
			case ml.Footer != nil:
				f := ml.Footer
				cp.EndedAt, cp.Complete, cp.Accounts, cp.Items, cp.NewVersions, cp.Errors, cp.State = f.EndedAt, f.Complete, f.Accounts, f.Items, f.NewVersions, f.Errors, f.State
				if f.Scope != nil {
					cp.Scope = &catalog.Scope{Account: f.Scope.Account, Since: f.Scope.Since, Kinds: f.Scope.Kinds}
				}
				if check != nil && check.Sum() != d.SHA256 {
					// Read to the end: the footer is the last line.
					io.Copy(io.Discard, check)
					if check.Sum() != d.SHA256 {
						yield(catalog.Entry{}, fmt.Errorf("%w: manifest %s does not match the digest its capture event %d recorded", ErrDamaged, d.Manifest, ev.Seq))
						return
					}
				}
				continue
			case ml.Blob != nil:
				e.Blob = &catalog.Blob{Digest: ml.Blob.Digest.String(), Size: ml.Blob.Size}
			case ml.Item != nil:
				e.Item = itemEntry(ml.Item)
			}
			if !yield(e, nil) {
				return
			}
		}
	}, applied)
	if err != nil {
		return fmt.Errorf("event %d: apply capture %s: %w", ev.Seq, d.Capture, err)
	}
	return nil
}

func itemEntry(mi *ManifestItem) *catalog.ItemEntry {
	ie := &catalog.ItemEntry{
		Key: mi.Key, Platform: mi.Platform, Account: mi.Account, ID: mi.ID, Kind: mi.Kind, CreatedAt: mi.CreatedAt,
		Version: catalog.Blob{Digest: mi.Version.String(), Size: mi.Size}, SeenAt: mi.SeenAt, Metrics: mi.Metrics,
		RemovedAt: mi.RemovedAt,
	}
	if mi.Raw != nil {
		ie.Raw = mi.Raw.String()
	}
	for _, m := range mi.Media {
		// Media sizes are recorded by their own blob lines.
		ie.Media = append(ie.Media, catalog.Blob{Digest: m.String()})
	}
	return ie
}
