package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	bindex "github.com/blevesearch/bleve_index_api"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/catalog"
)

// DirName is the index's directory inside the data directory.
const DirName = "index"

// BatchSize is how many documents go into one bleve batch: larger batches
// are no faster and use more memory.
const BatchSize = 1000

// Sentinel errors.
var (
	// ErrQuery is a malformed query; the error says what and where.
	ErrQuery = errors.New("malformed query")
	// ErrNoIndex is returned by OpenReadOnly when there is no index yet.
	ErrNoIndex = errors.New("no search index")
	// ErrReadOnly is returned by writes to an index opened read-only.
	ErrReadOnly = errors.New("search index opened read-only")
	// ErrOldFormat is returned by OpenReadOnly, and by searches of an
	// index opened with Open, when the index was built by a version of
	// osmarc that indexed items another way (see sameFormat): it cannot
	// be searched until osmarc reindex rebuilds it.
	ErrOldFormat = errors.New("search index built by another version of osmarc")
	// ErrDamaged is returned by Open and OpenReadOnly when bleve cannot
	// open the index in the directory: osmarc reindex rebuilds it
	// (ForReindex).
	ErrDamaged = errors.New("search index cannot be opened")
)

// VersionReader reads one version's content by its digest.
// *archive.Archive satisfies it.
type VersionReader interface {
	Version(ctx context.Context, digest string) (*archive.Item, error)
}

// Annotator fills a document's records-management fields (class,
// schedule, exemptions, holds, removal) before it is indexed.
type Annotator func(ctx context.Context, d *Doc) error

// Index is an open search index. Its methods are safe for concurrent use;
// writes are serialised.
type Index struct {
	dir      string
	readOnly bool

	mu  sync.RWMutex // guards idx against Reindex's swap
	idx bleve.Index
	// stale is true when idx is of another format (ErrOldFormat): it
	// takes writes, which a reindex replaces, and refuses searches.
	stale    bool
	wmu      sync.Mutex // serialises writers
	versions VersionReader
	annotate Annotator
	// holdScope resolves hold names for searches (SetHoldScope).
	holdScope func(name string) (Scope, error)

	// inflight bounds the batches bleve has taken but not yet written to
	// disk (the index is opened with unsafe_batch, so no batch waits for
	// its own write and the next one is built meanwhile); persisted
	// counts them down and persistErr keeps the first failure, which
	// flush reports (and clears) to the writer waiting for durability.
	inflight   chan struct{}
	persisted  sync.WaitGroup
	persistMu  sync.Mutex
	persistErr error
	failed     chan error // bleve's failures to write a batch (asyncErrors)
}

// rebuildInflight is how many batches a rebuild lets bleve hold unwritten.
const rebuildInflight = 4

var _ archive.Indexer = (*Index)(nil)

// Open opens the index in dir for reading and writing, creating it if it
// does not exist. The caller holds the data directory's writer lock (the
// archive's), so no other process writes the index.
func Open(dir string) (*Index, error) {
	ix := &Index{dir: dir, inflight: make(chan struct{}, liveInflight), failed: make(chan error, 1)}
	asyncErrors.Store(dir, ix)
	idx, err := openBleveWith(dir, false, liveSettings)
	if err != nil {
		asyncErrors.Delete(dir)
		return nil, err
	}
	ix.idx, ix.stale = idx, !sameFormat(idx)
	return ix, nil
}

// ForReindex is the index in dir for Reindex only, not opened: when Open
// fails with ErrDamaged, Reindex builds the new index beside the damaged
// one and puts it in its place, as it does beside a whole one. Until then
// every other use of it fails.
func ForReindex(dir string) *Index {
	return &Index{dir: dir, inflight: make(chan struct{}, liveInflight), failed: make(chan error, 1)}
}

// asyncErrors maps the directory of each index open for writing to its
// Index, for bleve's asynchronous error handler (asyncError), which names
// the directory.
var asyncErrors sync.Map

const asyncErrorHandler = "osmarc"

func init() {
	scorch.RegistryAsyncErrorCallbacks[asyncErrorHandler] = asyncError
}

// asyncError hands a failure of bleve's background writer to the index
// waiting in flush, if any.
func asyncError(err error, dir string) {
	v, ok := asyncErrors.Load(dir)
	if !ok {
		return
	}
	select {
	case v.(*Index).failed <- err:
	default: // one already waits to be reported
	}
}

// liveSettings open the index a capture writes to. bleve takes each batch
// without waiting until it is on disk (unsafe_batch), and the index
// counts the batches it handed over (inflight): a write returns once
// every batch it gave is durable (IndexDocs, Delete), or a capture waits
// once for all of its batches (Sync), so the next batch is analysed while
// bleve writes the one before. A batch is searchable from the moment
// bleve takes it; a crash before it is durable loses it from the index,
// which is derived, and osmarc reindex (or rebuild) puts it back.
var liveSettings = map[string]interface{}{"unsafe_batch": true, "asyncErrorCallbackName": asyncErrorHandler}

// liveInflight is how many batches the live index lets bleve hold
// unwritten.
const liveInflight = 4

// OpenReadOnly opens an existing index for searching only. It returns
// ErrNoIndex when dir holds none.
func OpenReadOnly(dir string) (*Index, error) {
	idx, err := openBleve(dir, true)
	if err != nil {
		return nil, err
	}
	if !sameFormat(idx) {
		idx.Close()
		return nil, fmt.Errorf("%w: %s must be rebuilt: run osmarc reindex", ErrOldFormat, dir)
	}
	return &Index{dir: dir, idx: idx, readOnly: true}, nil
}

// sameFormat reports whether an index holds its documents as this
// version of osmarc builds them. The index's format is its mapping: the
// fields, their analysers (by name) and what each stores, which bleve
// keeps in the index when it is created. A change to what the index holds
// changes the mapping (a field added or dropped, an analyser renamed when
// it makes other terms), so an index built before the change is told
// apart and never searched as if it held what it does not.
func sameFormat(idx bleve.Index) bool {
	return mappingSignature(idx.Mapping()) == mappingSignature(newMapping())
}

// mappingSignature lists, in order, each document type's fields with
// their analyser and options.
func mappingSignature(im mapping.IndexMapping) string {
	m, ok := im.(*mapping.IndexMappingImpl)
	if !ok || m == nil {
		return ""
	}
	var lines []string
	var walk func(typ, path string, dm *mapping.DocumentMapping)
	walk = func(typ, path string, dm *mapping.DocumentMapping) {
		if dm == nil {
			return
		}
		for _, f := range dm.Fields {
			lines = append(lines, fmt.Sprintf("%s %s %s %s %s index=%t store=%t tv=%t dv=%t skipfn=%t",
				typ, path, f.Name, f.Type, f.Analyzer, f.Index, f.Store, f.IncludeTermVectors, f.DocValues, f.SkipFreqNorm))
		}
		for name, sub := range dm.Properties {
			walk(typ, path+"."+name, sub)
		}
	}
	walk("_default", "", m.DefaultMapping)
	for typ, dm := range m.TypeMapping {
		walk(typ, "", dm)
	}
	sort.Strings(lines)
	return m.DefaultAnalyzer + " " + m.DefaultType + "\n" + strings.Join(lines, "\n")
}

func openBleve(dir string, readOnly bool) (bleve.Index, error) {
	return openBleveWith(dir, readOnly, nil)
}

// openBleveWith opens or creates the index with extra scorch settings.
func openBleveWith(dir string, readOnly bool, extra map[string]interface{}) (bleve.Index, error) {
	registerAnalysers()
	cfg := map[string]interface{}{"read_only": readOnly, "bolt_timeout": "1s"}
	for k, v := range extra {
		cfg[k] = v
	}
	idx, err := bleve.OpenUsing(dir, cfg)
	switch {
	case err == nil:
		return idx, nil
	case errors.Is(err, bleve.ErrorIndexPathDoesNotExist) || errors.Is(err, bleve.ErrorIndexMetaMissing):
		if readOnly {
			return nil, fmt.Errorf("%w in %s: run osmarc reindex", ErrNoIndex, dir)
		}
		if err := createBleve(dir); err != nil {
			return nil, fmt.Errorf("index: create %s: %w", dir, err)
		}
		if idx, err = bleve.OpenUsing(dir, cfg); err != nil {
			return nil, fmt.Errorf("index: open %s: %w", dir, err)
		}
		return idx, nil
	default:
		return nil, fmt.Errorf("index: open %s: %w: %w (run osmarc reindex to rebuild it)", dir, ErrDamaged, err)
	}
}

// Mapping is the index's bleve mapping. osmarc builds its documents
// itself (analysing each text once for all the fields derived from it),
// but the mapping describes the same fields, so bleve's own tools read the
// index, and bleve alone, given Doc.Fields, indexes what searches find
// alike (the benchmark compares the two). One difference: osmarc leaves
// out of text_bi the pairs of words rare in their batch, and puts those
// words in text_rare (pairRule); bleve alone, which Doc.Fields gives no
// text_rare, puts every pair in text_bi, as an index made before the rule
// did, and searches find the same in both.
// Items in French use the "fr" document type, the others the default,
// "en".
func Mapping() mapping.IndexMapping { return newMapping() }

func newMapping() *mapping.IndexMappingImpl {
	registerAnalysers()
	m := bleve.NewIndexMapping()
	m.DefaultAnalyzer = AnalyserPlain
	m.IndexDynamic, m.StoreDynamic, m.DocValuesDynamic = false, false, false
	m.DefaultType = "en"
	for _, lang := range []string{"en", "fr"} {
		dm := bleve.NewDocumentStaticMapping()
		text := func(name, analyser string, store bool) *mapping.FieldMapping {
			f := bleve.NewTextFieldMapping()
			f.Name, f.Analyzer, f.Store = name, analyser, store
			f.IncludeTermVectors, f.DocValues, f.IncludeInAll, f.SkipFreqNorm = false, false, false, true
			return f
		}
		kw := func(name string, index, store bool) {
			f := bleve.NewKeywordFieldMapping()
			f.Index, f.Store, f.DocValues, f.IncludeTermVectors, f.IncludeInAll, f.SkipFreqNorm = index, store, false, false, false, true
			dm.AddFieldMappingsAt(name, f)
		}
		langField, weightedAn := fTextEN, AnalyserEnglishWeighted
		if lang == "fr" {
			langField, weightedAn = fTextFR, AnalyserFrenchWeighted
		}
		dm.AddFieldMappingsAt("text", text(fText, AnalyserPlain, true), text(fTextBi, AnalyserBigram, false),
			text(langField, weightedAn, false))
		dm.AddFieldMappingsAt(fTextRare, text(fTextRare, AnalyserPlain, false))
		dm.AddFieldMappingsAt("history", text(fHistory, AnalyserPlain, true), text(fHistoryBi, AnalyserBigram, false))
		dm.AddFieldMappingsAt(fAuthor, text(fAuthor, AnalyserPlain, false))
		for _, f := range []string{fAuthorID, fAccountLC, fThread, fHashtag, fMention, fLink, fSchedule, fExemption, fHold, fTime, fOrigin, fLinkOnly, fMedia} {
			kw(f, true, false)
		}
		for _, f := range []string{fHandle, fPlatform, fAccount, fKind, fLang, fParent, fClass, fRemoved, fEdited} {
			kw(f, true, true)
		}
		for _, f := range []string{fName, fCreated, fFirst, fLast, fRemovedAt, fID} {
			kw(f, false, true)
		}
		if lang == "en" {
			m.DefaultMapping = dm
		} else {
			m.AddDocumentMapping(lang, dm)
		}
	}
	return m
}

// Close closes the index.
func (ix *Index) Close() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.idx == nil {
		return nil
	}
	// Batches bleve took but has not written are lost when it closes:
	// wait for them first.
	ferr := ix.flush()
	err := ix.idx.Close()
	ix.idx = nil
	asyncErrors.CompareAndDelete(ix.dir, ix)
	if err != nil {
		return fmt.Errorf("index: close: %w", err)
	}
	return ferr
}

// SetHoldScope installs the resolver of hold names that searches use when
// their Request names none (Request.HoldScope): records management's
// holds, so hold:NAME and Holds keep what each hold's scope names.
func (ix *Index) SetHoldScope(fn func(name string) (Scope, error)) { ix.holdScope = fn }

// Dir is the index's directory.
func (ix *Index) Dir() string { return ix.dir }

// SetVersionReader installs what Update reads versions with when an update
// carries no content, and earlier versions of edited items.
func (ix *Index) SetVersionReader(vr VersionReader) { ix.versions = vr }

// SetAnnotator installs the function that fills records-management fields
// of each document before it is indexed. It is called from several
// goroutines at once.
func (ix *Index) SetAnnotator(fn Annotator) { ix.annotate = fn }

// Count is the number of documents in the index that searches can find
// (not those of a capture not yet recorded: see Stage).
func (ix *Index) Count() (uint64, error) {
	ix.mu.RLock()
	if ix.idx == nil {
		ix.mu.RUnlock()
		return 0, errors.New("index: closed")
	}
	n, err := ix.idx.DocCount()
	var staged []string
	if err == nil {
		staged, err = ix.stagedList()
	}
	ix.mu.RUnlock()
	if err != nil || len(staged) == 0 {
		if err != nil {
			return 0, fmt.Errorf("index: count: %w", err)
		}
		return n, nil
	}
	e, done, err := ix.engine()
	if err != nil {
		return 0, err
	}
	defer done()
	all, err := e.hide(e.all())
	if err != nil {
		return 0, err
	}
	return all.card(), nil
}

// Update indexes the items a capture saw (archive.Indexer). An item's
// latest content comes with the update or is read through the version
// reader; an edited item's earlier versions are always read through it.
// It returns once the batch is durable in the index.
func (ix *Index) Update(ctx context.Context, batch []archive.IndexUpdate) error {
	if err := ix.UpdateNoSync(ctx, batch); err != nil {
		return err
	}
	return ix.Sync(ctx)
}

// UpdateNoSync is Update without waiting for the batch to be durable: the
// items are searchable when it returns, and Sync waits until every batch
// given before it is on disk (archive.IndexSyncer). A capture hands its
// batches over this way and syncs once, so bleve writes one batch while
// the next is read and analysed.
func (ix *Index) UpdateNoSync(ctx context.Context, batch []archive.IndexUpdate) error {
	docs, err := ix.buildDocs(ctx, batch)
	if err != nil {
		return err
	}
	// An item a capture staged (Stage) whose document came out the same
	// is in the index already.
	keep := docs[:0]
	for i := range docs {
		if batch[i].Staged == 0 || docs[i].fingerprint() != batch[i].Staged {
			keep = append(keep, docs[i])
		}
	}
	return ix.writeDocs(ctx, keep, "")
}

// buildDocs reads what the documents of a batch need and annotates them,
// a few at a time.
func (ix *Index) buildDocs(ctx context.Context, batch []archive.IndexUpdate) ([]Doc, error) {
	docs := make([]Doc, len(batch))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i := range batch {
		g.Go(func() error {
			d, err := ix.buildDoc(gctx, batch[i].Item, batch[i].Latest)
			docs[i] = d
			return err
		})
	}
	return docs, g.Wait()
}

// Sync waits until every batch handed to the index is durable, and
// reports the first that failed to be written since the last Sync.
func (ix *Index) Sync(ctx context.Context) error {
	if ix.readOnly {
		return nil
	}
	return ix.flush()
}

// buildDoc reads what an item's document needs and annotates it.
func (ix *Index) buildDoc(ctx context.Context, it catalog.Item, latest *archive.Item) (Doc, error) {
	if len(it.Versions) == 0 {
		return Doc{}, fmt.Errorf("index: item %s has no versions", it.Key)
	}
	need := len(it.Versions) - 1
	if latest == nil {
		need++
	}
	if need > 0 && ix.versions == nil {
		return Doc{}, fmt.Errorf("index: item %s: no version reader to read its versions", it.Key)
	}
	if latest == nil {
		v, err := ix.versions.Version(ctx, it.Latest().Digest)
		if err != nil {
			return Doc{}, fmt.Errorf("index: read latest version of %s: %w", it.Key, err)
		}
		latest = v
	}
	var earlier []*archive.Item
	for _, v := range it.Versions[:len(it.Versions)-1] {
		e, err := ix.versions.Version(ctx, v.Digest)
		if err != nil {
			return Doc{}, fmt.Errorf("index: read version %s of %s: %w", v.Digest, it.Key, err)
		}
		earlier = append(earlier, e)
	}
	d := NewDoc(it, latest, earlier)
	d.Removed, d.RemovedAt = removal(it)
	if ix.annotate != nil {
		if err := ix.annotate(ctx, &d); err != nil {
			return Doc{}, fmt.Errorf("index: annotate %s: %w", it.Key, err)
		}
	}
	return d, nil
}

// removal reads the catalog's record of removal at source, once the
// catalog keeps one (a RemovedAt field of type time.Time or *time.Time);
// until then every item is "not removed".
func removal(it any) (bool, time.Time) {
	v := reflect.ValueOf(it)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return false, time.Time{}
	}
	f := v.FieldByName("RemovedAt")
	if !f.IsValid() {
		return false, time.Time{}
	}
	if f.Kind() == reflect.Pointer {
		if f.IsNil() {
			return false, time.Time{}
		}
		f = f.Elem()
	}
	t, ok := f.Interface().(time.Time)
	if !ok || t.IsZero() {
		return false, time.Time{}
	}
	return true, t.UTC()
}

// IndexDocs adds or replaces documents, BatchSize at a time; each batch is
// durable when its call to bleve returns.
func (ix *Index) IndexDocs(ctx context.Context, docs []Doc) error {
	if err := ix.writeDocs(ctx, docs, ""); err != nil {
		return err
	}
	return ix.flush()
}

// writeDocs hands docs to bleve, BatchSize at a time, staged by capture
// when it is not "" (see Stage): the first batch a capture stages also
// puts it on the list of captures searches leave out.
func (ix *Index) writeDocs(ctx context.Context, docs []Doc, capture string) error {
	unlock, err := ix.lockWrite()
	if err != nil {
		return err
	}
	defer unlock()
	for len(docs) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(len(docs), BatchSize)
		b := ix.idx.NewBatch()
		if capture != "" {
			list, err := ix.stagedList()
			if err != nil {
				return err
			}
			if !slices.Contains(list, capture) {
				if err := setStaged(b.SetInternal, b.DeleteInternal, append(list, capture)); err != nil {
					return err
				}
			}
		}
		if err := ix.write(b, buildAll(docs[:n], capture)); err != nil {
			return err
		}
		docs = docs[n:]
	}
	return nil
}

// lockWrite takes the index for one writer, and returns what releases
// it.
func (ix *Index) lockWrite() (unlock func(), err error) {
	if ix.readOnly {
		return nil, ErrReadOnly
	}
	ix.wmu.Lock()
	ix.mu.RLock()
	if ix.idx == nil {
		ix.mu.RUnlock()
		ix.wmu.Unlock()
		return nil, fmt.Errorf("index: closed")
	}
	return func() { ix.mu.RUnlock(); ix.wmu.Unlock() }, nil
}

// buildAll makes the bleve documents of docs (staged by capture, if not
// ""), analysing their texts on every core: first their plain words, from
// which the batch's pairRule is counted, then the documents.
func buildAll(docs []Doc, capture string) []*document.Document {
	workers := min(runtime.GOMAXPROCS(0), 8)
	each := func(f func(kc *keywordCache, i int)) {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				kc := keywordCaches.Get().(*keywordCache)
				defer keywordCaches.Put(kc)
				for i := w; i < len(docs); i += workers {
					f(kc, i)
				}
			}()
		}
		wg.Wait()
	}
	plain := analyser(AnalyserPlain)
	toks := make([]analysis.TokenStream, len(docs))
	each(func(_ *keywordCache, i int) { toks[i] = plain.Analyze([]byte(docs[i].Text)) })
	rule := newPairRule(toks)
	out := make([]*document.Document, len(docs))
	each(func(kc *keywordCache, i int) {
		out[i] = docs[i].bleveDoc(kc, toks[i], rule)
		if capture != "" {
			out[i].AddField(kc.keyword(fStaged, capture, optKeyword))
		}
	})
	return out
}

// write adds built documents to batch b and indexes it.
func (ix *Index) write(b *bleve.Batch, bds []*document.Document) error {
	for _, bd := range bds {
		if err := b.IndexAdvanced(bd); err != nil {
			return fmt.Errorf("index: add %s: %w", bd.ID(), err)
		}
	}
	return ix.submit(b)
}

// submit gives bleve one batch. On an index that counts its batches
// (inflight), it returns once bleve has taken it, and flush waits for it
// to be durable.
func (ix *Index) submit(b *bleve.Batch) error {
	if ix.inflight != nil {
		ix.inflight <- struct{}{}
		ix.persisted.Add(1)
		var once sync.Once
		done := func(err error) {
			once.Do(func() {
				if err != nil {
					ix.persistMu.Lock()
					if ix.persistErr == nil {
						ix.persistErr = err
					}
					ix.persistMu.Unlock()
				}
				<-ix.inflight
				ix.persisted.Done()
			})
		}
		b.SetPersistedCallback(done)
		if err := ix.idx.Batch(b); err != nil {
			done(nil)
			return fmt.Errorf("index: write batch: %w", err)
		}
		return nil
	}
	if err := ix.idx.Batch(b); err != nil {
		return fmt.Errorf("index: write batch: %w", err)
	}
	return nil
}

// flush waits until every batch given to bleve is on disk.
func (ix *Index) flush() error {
	if ix.inflight == nil {
		return nil
	}
	// bleve retries a batch it failed to write until it succeeds, and
	// calls the batch's callback only then; the failure itself comes
	// through the index's asynchronous error handler (failed), which
	// ends the wait, so a full disk is an error, not a hang.
	done := make(chan struct{})
	go func() {
		ix.persisted.Wait()
		close(done)
	}()
	select {
	case <-done:
	case err := <-ix.failed:
		return fmt.Errorf("index: write batch: %w", err)
	}
	ix.persistMu.Lock()
	defer ix.persistMu.Unlock()
	if err := ix.persistErr; err != nil {
		ix.persistErr = nil
		return fmt.Errorf("index: write batch: %w", err)
	}
	return nil
}

// Delete removes documents by item key; keys not in the index are ignored.
func (ix *Index) Delete(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	unlock, err := ix.lockWrite()
	if err != nil {
		return err
	}
	defer unlock()
	for len(keys) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(len(keys), BatchSize)
		b := ix.idx.NewBatch()
		for _, k := range keys[:n] {
			b.Delete(k)
		}
		if err := ix.submit(b); err != nil {
			return fmt.Errorf("index: delete batch: %w", err)
		}
		keys = keys[n:]
	}
	return ix.flush()
}

// Reindex builds a new index from the archive's catalog and store, beside
// the current one, and puts it in its place when it is complete: a failed
// or interrupted reindex leaves the old index as it was. A version that
// cannot be read (a damaged store: see osmarc verify) stops it, naming the
// item and the version. Items are read in key order, a batch at a time,
// so memory stays bounded however many there are. progress, if not nil,
// is told how many items are done.
func (ix *Index) Reindex(ctx context.Context, a *archive.Archive, progress func(n int)) error {
	if ix.readOnly {
		return ErrReadOnly
	}
	ix.wmu.Lock()
	defer ix.wmu.Unlock()
	tmpDir := ix.dir + ".rebuild"
	if err := os.RemoveAll(tmpDir); err != nil {
		return fmt.Errorf("index: reindex: %w", err)
	}
	tmp := &Index{dir: tmpDir, versions: a, annotate: ix.annotate, inflight: make(chan struct{}, rebuildInflight), failed: make(chan error, 1)}
	asyncErrors.Store(tmpDir, tmp)
	defer asyncErrors.Delete(tmpDir)
	fresh, err := openBleveWith(tmpDir, false, liveSettings)
	if err != nil {
		return err
	}
	tmp.idx = fresh
	err = tmp.fill(ctx, a, progress)
	if ferr := tmp.flush(); err == nil {
		err = ferr
	}
	if err != nil {
		fresh.Close()
		os.RemoveAll(tmpDir)
		return fmt.Errorf("index: reindex: %w", err)
	}
	if err := tmp.Compact(ctx); err != nil {
		fresh.Close()
		os.RemoveAll(tmpDir)
		return fmt.Errorf("index: reindex: %w", err)
	}
	if err := fresh.Close(); err != nil {
		os.RemoveAll(tmpDir)
		return fmt.Errorf("index: reindex: %w", err)
	}
	// Swap: the old index goes aside, the new one takes its name.
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.idx != nil {
		if err := ix.idx.Close(); err != nil {
			return fmt.Errorf("index: reindex: close old index: %w", err)
		}
		ix.idx = nil
	}
	// The new index takes the old one's name in one step (the two are
	// exchanged, then the old removed): a process killed at any point
	// leaves a whole index at ix.dir, the old or the new.
	err = unix.Renameat2(unix.AT_FDCWD, tmpDir, unix.AT_FDCWD, ix.dir, unix.RENAME_EXCHANGE)
	switch {
	case errors.Is(err, unix.ENOENT): // no old index
		err = os.Rename(tmpDir, ix.dir)
	case errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS):
		// A file system that cannot exchange: aside, then in.
		old := ix.dir + ".old"
		os.RemoveAll(old)
		if err = os.Rename(ix.dir, old); err == nil {
			if err = os.Rename(tmpDir, ix.dir); err != nil {
				os.Rename(old, ix.dir)
			}
			os.RemoveAll(old)
		}
	}
	if err != nil {
		return fmt.Errorf("index: reindex: %w", err)
	}
	archive.SyncDir(filepath.Dir(ix.dir))
	os.RemoveAll(tmpDir)
	idx, err := openBleveWith(ix.dir, false, liveSettings)
	if err != nil {
		return err
	}
	ix.idx, ix.stale = idx, !sameFormat(idx)
	return nil
}

// fill indexes every catalog item. Catalog records stream in key order;
// a batch's versions are read by a few workers at a time and its
// documents built on every core while bleve writes the batch before it,
// so at most two batches are in memory.
func (ix *Index) fill(ctx context.Context, a *archive.Archive, progress func(n int)) error {
	type built struct {
		bds []*document.Document
		err error
	}
	ctx, cancel := context.WithCancel(ctx)
	batches := make(chan built, 1)
	defer func() {
		// Stop the reader and wait for it: the archive is the caller's.
		cancel()
		for range batches {
		}
	}()
	go func() {
		defer close(batches)
		var items []catalog.Item
		send := func() bool {
			docs := make([]Doc, len(items))
			g, gctx := errgroup.WithContext(ctx)
			g.SetLimit(16)
			for i := range items {
				g.Go(func() error {
					d, err := ix.buildDoc(gctx, items[i], nil)
					docs[i] = d
					return err
				})
			}
			b := built{err: g.Wait()}
			if b.err == nil {
				b.bds = buildAll(docs, "")
			}
			items = items[:0]
			select {
			case batches <- b:
				return b.err == nil
			case <-ctx.Done():
				return false
			}
		}
		for it, err := range a.List(archive.ListFilter{}) {
			if err != nil {
				select {
				case batches <- built{err: err}:
				case <-ctx.Done():
				}
				return
			}
			items = append(items, it)
			if len(items) >= BatchSize && !send() {
				return
			}
		}
		if len(items) > 0 {
			send()
		}
	}()
	done := 0
	for b := range batches {
		if b.err != nil {
			return b.err
		}
		if err := ix.write(ix.idx.NewBatch(), b.bds); err != nil {
			return err
		}
		done += len(b.bds)
		if progress != nil {
			progress(done)
		}
	}
	if done == 0 && progress != nil {
		progress(0)
	}
	return ctx.Err()
}

// Compact merges the index's segments into one. Searches then do one
// lookup per term instead of one per segment, and count and facet on
// whole bitmaps; Reindex does it when it finishes. New items still arrive
// in small segments, which bleve merges in the background.
func (ix *Index) Compact(ctx context.Context) error {
	if ix.readOnly {
		return ErrReadOnly
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	adv, err := ix.idx.Advanced()
	if err != nil {
		return fmt.Errorf("index: compact: %w", err)
	}
	sc, ok := adv.(*scorch.Scorch)
	if !ok {
		return nil
	}
	if err := sc.ForceMerge(ctx, nil); err != nil {
		return fmt.Errorf("index: compact: %w", err)
	}
	return ctx.Err()
}

// createBleve makes a new, empty index at dir, whole or not at all: it
// is made beside dir, synced, and renamed into place. bleve writes its
// meta file first and the mapping into its store after: a process
// killed in between, had the index been made in place, left one that
// could not be opened again. A directory at dir without bleve's meta file
// is such a beginning (the error that sent us here says so) and is
// replaced, as are the beginnings beside it of earlier attempts. bleve
// keeps the settings an index is created with in its meta file; the
// opening's settings are given when it is opened.
func createBleve(dir string) error {
	old, _ := filepath.Glob(dir + ".new-*")
	for _, o := range old {
		os.RemoveAll(o)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".new-")
	if err != nil {
		return err
	}
	idx, err := bleve.NewUsing(tmp, newMapping(), "scorch", "scorch", map[string]interface{}{"bolt_timeout": "1s"})
	if err == nil {
		err = idx.Close()
	}
	if err == nil {
		err = archive.SyncFS(tmp)
	}
	if err == nil {
		if _, serr := os.Stat(filepath.Join(dir, "index_meta.json")); errors.Is(serr, os.ErrNotExist) {
			err = os.RemoveAll(dir)
		}
	}
	if err == nil {
		err = os.Rename(tmp, dir)
	}
	if err != nil {
		os.RemoveAll(tmp)
		return err
	}
	archive.SyncDir(filepath.Dir(dir))
	return nil
}

// engine is a query engine on a snapshot of the index; done releases the
// snapshot (nil when err is not).
func (ix *Index) engine() (*engine, func(), error) {
	r, done, err := ix.snapshot()
	if err != nil {
		return nil, nil, err
	}
	e, err := newEngine(r)
	if err != nil {
		done()
		return nil, nil, err
	}
	return e, done, nil
}

// snapshot returns a point-in-time reader of the index; done releases it.
func (ix *Index) snapshot() (bindex.IndexReader, func(), error) {
	ix.mu.RLock()
	if ix.idx == nil {
		ix.mu.RUnlock()
		return nil, nil, errors.New("index: closed")
	}
	if ix.stale {
		ix.mu.RUnlock()
		return nil, nil, fmt.Errorf("%w: %s must be rebuilt: run osmarc reindex", ErrOldFormat, ix.dir)
	}
	adv, err := ix.idx.Advanced()
	if err != nil {
		ix.mu.RUnlock()
		return nil, nil, fmt.Errorf("index: %w", err)
	}
	r, err := adv.Reader()
	if err != nil {
		ix.mu.RUnlock()
		return nil, nil, fmt.Errorf("index: open reader: %w", err)
	}
	return r, func() { r.Close(); ix.mu.RUnlock() }, nil
}
