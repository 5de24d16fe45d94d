package archive

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/osmarc/osmarc/archive/journal"
)

// Scope is what a complete capture listed completely.
type Scope struct {
	// Account is the account key ("platform/handle") listed.
	Account string `json:"account"`
	// Since, when set, limits the scope to items created at or after it
	// (an API that cannot page further back).
	Since time.Time `json:"since,omitzero"`
	// Kinds, when set, limits the scope to these kinds.
	Kinds []string `json:"kinds,omitempty"`
}

// CaptureOptions describe a capture.
type CaptureOptions struct {
	// Collector names what produced it: "ingest", a platform collector,
	// "import:<format>".
	Collector        string
	CollectorVersion string
	// Account is the key of the account the capture is for, when it is
	// for one (a collector run, an import): recorded with the capture
	// even if it saw no item, so its state and coverage are found.
	Account string
	// Sources are the files or URLs read, for the record.
	Sources []string
	// OnError is told of each bad record.
	OnError func(*InputError)
}

// ItemOptions say where and how an item was seen.
type ItemOptions struct {
	// Raw is the blob of the raw input holding the item (PutRaw), and
	// RawLine (1-based line) or RawPath (a JSON pointer, "/data/3") where
	// in it.
	Raw     *Digest
	RawLine int
	RawPath string
	// Source and Line name the file or URL the item came from.
	Source string
	Line   int
	// Metrics are volatile counts, kept per sighting, not in the version.
	Metrics json.RawMessage
	// SeenAt is when the source showed it; zero means now.
	SeenAt time.Time
	// RemovedAt, when set, is the source's own word that the item was
	// deleted (an export's deleted items, a moderator's removal).
	RemovedAt *time.Time
}

// CaptureWriter records one capture: raw input, item versions and media go
// to the store as they come (bounded concurrency, backpressure), manifest
// lines to a local spool; Commit makes the blobs durable, writes the
// manifest, then the journal event that names it, then the catalog (and
// the index). Until Commit nothing names what was written: an abandoned or
// killed capture leaves at most unreferenced blobs.
//
// One thing runs ahead: when the indexer can stage (IndexStager), the
// capture's new items are indexed while it reads, hidden from every
// search until the catalog holds them (see staging). The index is
// derived, and what it shows still follows the catalog; an abandoned
// capture takes its staged items out, and a killed one's are taken out by
// the next writer (RepairIndex).
type CaptureWriter struct {
	a       *Archive
	opts    CaptureOptions
	id      string
	started time.Time
	spool   *os.File
	content *os.File // canonical content of each item line, for the indexer
	cw      *bufio.Writer
	mw      *manifestWriter
	g       *errgroup.Group
	ctx     context.Context
	cancel  context.CancelFunc
	res     IngestResult
	accts   map[string]bool
	pending []pendingItem
	scope   *Scope
	state   json.RawMessage
	done    bool
	// queued remembers the newest blobs queued in this capture, which the
	// catalog cannot know before Commit, so that one seen twice is written
	// and counted once; it is bounded, so memory stays flat.
	queued recentSet
	// stg stages new items in the index while the capture reads (see
	// IndexStager), when the indexer can.
	stg *staging
	// recorded is set once the capture's journal event is written.
	recorded bool
}

// recentSet is a set of the last recentMax digests added.
type recentSet struct {
	m    map[Digest]struct{}
	ring []Digest
	next int
}

const recentMax = 1 << 16

func (r *recentSet) has(d Digest) bool {
	_, ok := r.m[d]
	return ok
}

func (r *recentSet) add(d Digest) {
	if r.m == nil {
		r.m = make(map[Digest]struct{}, 1024)
	}
	if len(r.ring) < recentMax {
		r.ring = append(r.ring, d)
	} else {
		delete(r.m, r.ring[r.next])
		r.ring[r.next] = d
		r.next = (r.next + 1) % recentMax
	}
	r.m[d] = struct{}{}
}

type pendingItem struct {
	media   []Digest
	item    Item
	canon   []byte
	digest  Digest
	opts    ItemOptions
	created time.Time
}

// BeginCapture starts a capture. The caller must Commit or Abort it.
func (a *Archive) BeginCapture(ctx context.Context, o CaptureOptions) (*CaptureWriter, error) {
	if a.opts.ReadOnly {
		return nil, fmt.Errorf("archive opened read-only")
	}
	if o.Collector == "" {
		return nil, fmt.Errorf("capture: no collector named")
	}
	if o.CollectorVersion == "" {
		o.CollectorVersion = Version
	}
	w := &CaptureWriter{a: a, opts: o, started: a.now(), accts: map[string]bool{}}
	if o.Account != "" {
		w.accts[o.Account] = true
	}
	w.id = a.newID(w.started)
	tmpDir := filepath.Join(a.dir, "tmp")
	if err := os.MkdirAll(tmpDir, 0o750); err != nil {
		return nil, err
	}
	var err error
	if w.spool, err = os.CreateTemp(tmpDir, "capture-"+w.id+"-*.jsonl"); err != nil {
		return nil, fmt.Errorf("spool manifest: %w", err)
	}
	if w.content, err = os.CreateTemp(tmpDir, "capture-"+w.id+"-content-*.jsonl"); err != nil {
		w.removeSpools()
		return nil, fmt.Errorf("spool content: %w", err)
	}
	w.cw = bufio.NewWriterSize(w.content, 256<<10)
	if st, ok := a.indexer.(IndexStager); ok {
		if w.stg, err = newStaging(w, st, tmpDir); err != nil {
			w.removeSpools()
			return nil, err
		}
	}
	w.mw = newManifestWriter(w.spool)
	w.mw.header(ManifestHeader{ID: w.id, Collector: o.Collector, CollectorVersion: o.CollectorVersion, Actor: a.opts.Actor, StartedAt: w.started, Sources: o.Sources})
	w.ctx, w.cancel = context.WithCancel(ctx)
	w.g, w.ctx = errgroup.WithContext(w.ctx)
	w.g.SetLimit(a.opts.Concurrency)
	return w, nil
}

// ID is the capture's id.
func (w *CaptureWriter) ID() string { return w.id }

// Result is what the capture has recorded so far.
func (w *CaptureWriter) Result() IngestResult { return w.res }

func (w *CaptureWriter) removeSpools() {
	files := []*os.File{w.spool, w.content}
	if w.stg != nil {
		files = append(files, w.stg.fps)
	}
	for _, f := range files {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}
}

// Bad counts a bad input record and reports it. A bad record makes the
// capture incomplete; a media file that failed (e.Media) does not, since
// the item that names it was captured.
func (w *CaptureWriter) Bad(e *InputError) {
	if e.Media {
		w.res.MediaErrors++
	} else {
		w.res.Errors++
	}
	if w.opts.OnError != nil {
		w.opts.OnError(e)
	}
}

// PutRaw stores raw input (an API response page, a chunk of an export)
// byte for byte and returns its digest for the items it holds.
func (w *CaptureWriter) PutRaw(ctx context.Context, body []byte, source, lines, mediaType string) (Digest, error) {
	if err := w.flush(); err != nil {
		return Digest{}, err
	}
	d := Sum(body)
	known, err := w.a.cat.HasBlobs([]string{d.String()})
	if err != nil {
		return d, err
	}
	if !known[0] && !w.queued.has(d) {
		w.queued.add(d)
		w.put(d, body)
	}
	w.mw.blob(ManifestBlob{Digest: d, Size: int64(len(body)), Role: "raw", Source: source, Lines: lines, MediaType: mediaType})
	return d, w.mw.err
}

// PutMedia stores a media file read from r (size bytes hashing to sum,
// which the store checks) and records it with its checked type and URL.
func (w *CaptureWriter) PutMedia(ctx context.Context, r io.Reader, size int64, sum Digest, mediaType, url string) error {
	if err := w.flush(); err != nil {
		return err
	}
	known, err := w.a.cat.HasBlobs([]string{sum.String()})
	if err != nil {
		return err
	}
	if !known[0] {
		if err := w.a.store.Put(ctx, BlobKey(sum), r, size, sum); err != nil {
			return fmt.Errorf("write media %s: %w", url, err)
		}
		w.res.BlobsWritten++
		w.res.BytesWritten += size
	}
	w.mw.blob(ManifestBlob{Digest: sum, Size: size, Role: "media", Source: url, MediaType: mediaType})
	return w.mw.err
}

// AddItem records an item seen. The item is normalised and checked as the
// item format requires; an error wrapping ErrBadInput says what is wrong
// with it (the caller reports it with Bad and goes on); any other error
// (the store failed) ends the capture.
func (w *CaptureWriter) AddItem(ctx context.Context, it Item, o ItemOptions) error {
	if err := NormaliseItem(&it); err != nil {
		return badItem{err}
	}
	// Media digests are what this capture stored, not what the item says:
	// they go in the manifest's line for the sighting, not in the version,
	// so a post seen with and without its media downloaded is one version.
	var media []Digest
	for i := range it.Media {
		if it.Media[i].Digest != "" {
			d, _ := ParseDigest(it.Media[i].Digest)
			media = append(media, d)
			it.Media[i].Digest = ""
		}
	}
	canon, err := it.CanonicalJSON()
	if err != nil {
		return badItem{err}
	}
	if o.SeenAt.IsZero() {
		o.SeenAt = w.a.now()
	}
	w.pending = append(w.pending, pendingItem{item: it, canon: canon, digest: Sum(canon), opts: o, created: it.Created(), media: media})
	if len(w.pending) >= 500 {
		return w.flush()
	}
	return nil
}

// Complete marks the capture as a complete listing of scope: when it
// commits without errors, items in the scope that the same collector saw
// before and that this capture did not see are marked removed at source.
// A capture with any bad record is never complete.
func (w *CaptureWriter) Complete(s Scope) { w.scope = &s }

// SetState records the collector's note of where it got to.
func (w *CaptureWriter) SetState(state json.RawMessage) { w.state = state }

// flush asks the catalog once for the pending items and their versions,
// queues the new versions' blobs for writing, and writes their manifest
// lines.
func (w *CaptureWriter) flush() error {
	if len(w.pending) == 0 {
		return w.ctx.Err()
	}
	keys := make([]string, len(w.pending))
	digests := make([]string, len(w.pending))
	for i, p := range w.pending {
		keys[i] = p.item.Key()
		digests[i] = p.digest.String()
	}
	have, known, err := w.a.cat.HasVersions(keys, digests)
	if err != nil {
		return err
	}
	if w.stg != nil {
		if err := w.stg.add(w.pending, keys, have, int(w.res.Items)); err != nil {
			return err
		}
	}
	for i, p := range w.pending {
		if !known[i] && !w.queued.has(p.digest) {
			w.queued.add(p.digest)
			w.put(p.digest, p.canon)
			w.res.NewVersions++
		}
		mi := ManifestItem{
			Key: p.item.Key(), Platform: p.item.Platform, Account: p.item.Account, ID: p.item.ID, Kind: p.item.Kind,
			CreatedAt: p.created, Version: p.digest, Size: int64(len(p.canon)),
			Raw: p.opts.Raw, RawLine: p.opts.RawLine, RawPath: p.opts.RawPath, Source: p.opts.Source, Line: p.opts.Line,
			SeenAt: p.opts.SeenAt, Metrics: p.opts.Metrics, RemovedAt: p.opts.RemovedAt,
		}
		mi.Media = p.media
		w.mw.item(mi)
		w.cw.Write(p.canon)
		w.cw.WriteByte('\n')
		w.res.Items++
		w.accts[AccountKey(p.item.Platform, p.item.Account)] = true
	}
	w.pending = w.pending[:0]
	if w.mw.err != nil {
		return fmt.Errorf("spool manifest: %w", w.mw.err)
	}
	return w.ctx.Err()
}

// put queues one blob write; the errgroup bounds how many are in flight
// and blocks the caller when that many are, which is the backpressure.
func (w *CaptureWriter) put(d Digest, data []byte) {
	w.res.BlobsWritten++
	w.res.BytesWritten += int64(len(data))
	w.g.Go(func() error { return PutBytesDigest(w.ctx, w.a.store, d, data) })
}

// Abort abandons the capture: nothing names what it wrote.
func (w *CaptureWriter) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.cancel()
	w.g.Wait()
	if w.stg != nil {
		w.stg.end()
		if !w.recorded {
			w.stg.discard()
		}
	}
	w.removeSpools()
}

// Commit records the capture, in the order DESIGN.md requires: the blobs
// durable, then the manifest, then the journal event naming it, then the
// catalog, the registry (accounts not yet known), and the index. A capture
// that recorded nothing (no item, no raw input, no error) writes nothing.
func (w *CaptureWriter) Commit(ctx context.Context) (IngestResult, error) {
	if w.done {
		return w.res, fmt.Errorf("capture %s already ended", w.id)
	}
	defer w.Abort()
	fail := func(err error) (IngestResult, error) {
		return w.res, fmt.Errorf("capture %s aborted, nothing recorded: %w", w.id, err)
	}
	flushErr := w.flush()
	if w.stg != nil {
		w.stg.end()
	}
	if err := w.g.Wait(); err != nil {
		return fail(err)
	}
	if flushErr != nil {
		return fail(flushErr)
	}
	if w.res.Items == 0 && w.mw.blobs == 0 && w.res.Errors == 0 {
		return w.res, nil
	}
	if err := w.a.store.Sync(ctx); err != nil {
		return fail(err)
	}
	for k := range w.accts {
		w.res.Accounts = append(w.res.Accounts, k)
	}
	sort.Strings(w.res.Accounts)
	footer := ManifestFooter{EndedAt: w.a.now(), Accounts: w.res.Accounts, NewVersions: w.res.NewVersions, Errors: w.res.Errors, State: w.state}
	if w.scope != nil && w.res.Errors == 0 {
		footer.Complete, footer.Scope = true, w.scope
	}
	w.res.Complete = footer.Complete
	if err := w.mw.footer(footer); err != nil {
		return fail(fmt.Errorf("spool manifest: %w", err))
	}
	if err := w.cw.Flush(); err != nil {
		return fail(fmt.Errorf("spool content: %w", err))
	}
	size, err := w.spool.Seek(0, io.SeekCurrent)
	if err != nil {
		return fail(err)
	}
	digest, err := fileDigest(w.spool)
	if err != nil {
		return fail(err)
	}
	key := CaptureKey(w.id, w.started)
	if _, err := w.spool.Seek(0, io.SeekStart); err != nil {
		return fail(err)
	}
	if err := w.a.store.Put(ctx, key, w.spool, size, digest); err != nil {
		return fail(fmt.Errorf("write manifest %s: %w", key, err))
	}
	if err := w.a.store.Sync(ctx); err != nil {
		return fail(err)
	}
	indexed := w.a.indexer != nil
	if indexed && (w.stg == nil || !w.stg.marked) {
		if err := w.a.markIndexPending(w.id); err != nil {
			return fail(err)
		}
	}
	ev, b, err := w.a.writeEvent(ctx, journal.TypeCapture, captureEventData{
		Capture: w.id, Manifest: key, SHA256: digest.String(), Size: size, Collector: w.opts.Collector,
		Accounts: w.res.Accounts, Items: w.res.Items, NewVersions: w.res.NewVersions, Errors: w.res.Errors, Complete: footer.Complete,
	})
	if err != nil {
		return fail(err)
	}
	// From here the capture is recorded: what follows is derived, and
	// the next open repairs it if this process dies.
	w.recorded = true
	w.res.Capture, w.res.Manifest = w.id, key
	if _, err := w.spool.Seek(0, io.SeekStart); err != nil {
		return w.res, err
	}
	// The index follows the catalog: it takes each batch of items as soon
	// as the catalog has applied it, while the catalog applies the next.
	// Documents carry what the registry says of their account, so when
	// this capture brings an account the registry does not know yet, the
	// index waits for it to be registered, below.
	gate := newApplyGate(w.unregistered())
	var indexErr chan error
	if indexed {
		indexErr = make(chan error, 1)
		go func() { indexErr <- w.index(ctx, gate) }()
	}
	err = w.a.applyStored(ctx, ev, b, bufio.NewReaderSize(w.spool, 1<<20), gate.advance)
	if err == nil {
		w.res.NewAccounts, err = w.a.registerSeen(ctx, w.res.Accounts, w.opts.Collector)
	}
	if err == nil {
		if cp, cerr := w.a.cat.Capture(w.id); cerr == nil {
			w.res.Removed = cp.Removed
		}
	}
	var revealErr error
	if err == nil && w.stg != nil && w.stg.marked {
		// The catalog holds the capture's items: its staged documents
		// may show.
		revealErr = w.stg.st.Reveal(ctx, w.id)
	}
	gate.finish(err, w.res.Removed)
	if err != nil {
		if indexed {
			<-indexErr
		}
		return w.res, err
	}
	if indexed {
		if err := errors.Join(<-indexErr, revealErr); err != nil {
			return w.res, fmt.Errorf("capture %s is recorded, but updating the search index failed (the next command that opens the archive for writing indexes its items again): %w", w.id, err)
		}

		if err := w.a.clearIndexPending(w.id); err != nil {
			return w.res, fmt.Errorf("capture %s is recorded and indexed: %w", w.id, err)
		}
	}
	return w.res, nil
}

// unregistered reports whether any account the capture saw is not in the
// registry yet.
func (w *CaptureWriter) unregistered() bool {
	for _, k := range w.res.Accounts {
		if _, err := w.a.cat.Registered(k); err != nil {
			return true
		}
	}
	return false
}

// applyGate lets the index follow a capture into the catalog: the catalog
// advances it batch by batch, and finishes it when the capture, the
// registration of its new accounts and the marking of what it found
// removed are done (or failed).
type applyGate struct {
	mu       sync.Mutex
	cond     sync.Cond
	items    int  // item lines of the manifest now in the catalog
	waitAll  bool // nothing may be read before finish
	finished bool
	removed  int64
	err      error
}

func newApplyGate(waitAll bool) *applyGate {
	g := &applyGate{waitAll: waitAll}
	g.cond.L = &g.mu
	return g
}

func (g *applyGate) advance(items int) {
	g.mu.Lock()
	g.items = items
	g.mu.Unlock()
	g.cond.Broadcast()
}

func (g *applyGate) finish(err error, removed int64) {
	g.mu.Lock()
	g.finished, g.err, g.removed = true, err, removed
	g.mu.Unlock()
	g.cond.Broadcast()
}

// wait returns when the first n item lines are in the catalog, or the
// capture's application failed.
func (g *applyGate) wait(n int) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	for !g.finished && (g.waitAll || g.items < n) {
		g.cond.Wait()
	}
	return g.err
}

// done waits for the end and returns how many items the capture found
// removed at source.
func (g *applyGate) done() (int64, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for !g.finished {
		g.cond.Wait()
	}
	return g.removed, g.err
}

// index hands the items the capture saw to the indexer, with their
// content: a reader reads the capture's content spool and the catalog's
// records a batch at a time, as the catalog applies them (gate), while the
// indexer takes the batch before, and an indexer that can (IndexSyncer) is
// asked once, at the end, to make them all durable.
func (w *CaptureWriter) index(ctx context.Context, gate *applyGate) error {
	ix := w.a.indexer
	if ix == nil {
		return nil
	}
	if _, err := w.content.Seek(0, io.SeekStart); err != nil {
		return err
	}
	update := ix.Update
	syncer, async := ix.(IndexSyncer)
	if async {
		update = syncer.UpdateNoSync
	}
	g, gctx := errgroup.WithContext(ctx)
	batches := make(chan []IndexUpdate, 1)
	g.Go(func() error {
		defer close(batches)
		return w.indexBatches(gctx, gate, batches)
	})
	g.Go(func() error {
		for batch := range batches {
			if err := update(gctx, batch); err != nil {
				return err
			}
		}
		return nil
	})
	err := g.Wait()
	if async {
		// Even after a failure: what was handed over is made durable.
		err = errors.Join(err, syncer.Sync(ctx))
	}
	return err
}

// indexBatches reads the capture's content spool and sends the items, with
// the catalog's records of them, in batches of at most IndexBatch.
func (w *CaptureWriter) indexBatches(ctx context.Context, gate *applyGate, out chan<- []IndexUpdate) error {
	br := bufio.NewReaderSize(w.content, 1<<20)
	staged := func() uint64 { return 0 }
	if w.stg != nil {
		fps, err := w.stg.fingerprints()
		if err != nil {
			return err
		}
		staged = fps
	}
	var batch []IndexUpdate
	send := func() error {
		if len(batch) == 0 {
			return nil
		}
		select {
		case out <- batch:
			batch = nil
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	seen := map[string]int{}
	for n := 1; ; n++ {
		if err := gate.wait(n); err != nil {
			return err
		}
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			var it Item
			if err := jsonUnmarshal(line, &it); err != nil {
				return err
			}
			ci, err := w.a.cat.Item(it.Key())
			if err != nil {
				return err
			}
			u := IndexUpdate{Item: ci, Staged: staged()}
			if ci.Latest().Digest == Sum(line[:len(line)-1]).String() {
				u.Latest = &it
			}
			if i, ok := seen[ci.Key]; ok && i < len(batch) {
				batch[i] = u // the same item twice in a batch: the later wins
			} else {
				seen[ci.Key] = len(batch)
				batch = append(batch, u)
			}
			if len(batch) >= IndexBatch {
				if err := send(); err != nil {
					return err
				}
				clear(seen)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	removed, err := gate.done()
	if err != nil {
		return err
	}
	// The items a complete listing found removed at source were not in
	// the capture, but their documents now say they were removed.
	if w.scope != nil && removed > 0 {
		if err := send(); err != nil {
			return err
		}
		clear(seen)
		for ci, err := range w.a.removedBy(w.id, w.scope.Account) {
			if err != nil {
				return err
			}
			batch = append(batch, IndexUpdate{Item: ci})
			if len(batch) >= IndexBatch {
				if err := send(); err != nil {
					return err
				}
			}
		}
	}
	return send()
}

// NormaliseItem checks an item as the item format requires and writes its
// fields in their normal form (platform and kind lower case, times in UTC).
func NormaliseItem(it *Item) error {
	in := InputItem{
		Platform: &it.Platform, Account: &it.Account, ID: &it.ID, Kind: &it.Kind, CreatedAt: &it.CreatedAt, Text: &it.Text,
		Author: it.Author, Parent: it.Parent, Thread: it.Thread, URL: it.URL, Lang: it.Lang, EditedAt: it.EditedAt,
		Visibility: it.Visibility, Links: it.Links, Hashtags: it.Hashtags, Mentions: it.Mentions, Media: it.Media,
	}
	out, _, err := normalise(in)
	if err != nil {
		return err
	}
	*it = out
	return nil
}

// badItem is an item that does not pass the item format's checks.
type badItem struct{ err error }

func (b badItem) Error() string { return b.err.Error() }
func (b badItem) Unwrap() error { return ErrBadInput }
