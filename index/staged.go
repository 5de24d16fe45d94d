package index

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"slices"
	"time"

	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/catalog"
)

// Staged documents let a capture index its new items while it is still
// reading them, before they are recorded (archive.IndexStager): indexing
// is most of a capture's CPU, and the catalog, which the index follows,
// cannot hold an item before the capture's journal event names it.
//
// A staged document carries the term fStaged:<capture id>, and the index
// keeps the list of captures whose staged documents are not recorded yet
// (bleve's internal value stagedKey, written in the same batch as the
// first documents it hides, so a snapshot never holds one without the
// other). Searches leave out the documents of those captures; Match, which
// classification rules and holds ask about named items, sees them. When
// the capture is recorded it is revealed (taken off the list); when it is
// abandoned its documents are discarded. The field is bookkeeping, not
// content: the mapping does not describe it, and a staged document left
// as it is after its capture is recorded is the document Update would
// write, plus that term.
const (
	fStaged   = "staged"
	stagedKey = "osmarc.staged"
)

var _ archive.IndexStager = (*Index)(nil)

// Stage indexes items of capture that the catalog does not hold yet,
// hidden from searches until Reveal, and returns each document's
// fingerprint: an update of the same item that carries it (Staged) and
// would index the same document is skipped.
func (ix *Index) Stage(ctx context.Context, capture string, batch []archive.IndexUpdate) ([]uint64, error) {
	if capture == "" {
		return nil, fmt.Errorf("index: stage: no capture named")
	}
	docs, err := ix.buildDocs(ctx, batch)
	if err != nil {
		return nil, err
	}
	fps := make([]uint64, len(docs))
	for i := range docs {
		fps[i] = docs[i].fingerprint()
	}
	return fps, ix.writeDocs(ctx, docs, capture)
}

// Reveal makes the staged documents of a recorded capture searchable.
func (ix *Index) Reveal(ctx context.Context, capture string) error {
	unlock, err := ix.lockWrite()
	if err != nil {
		return err
	}
	defer unlock()
	list, err := ix.stagedList()
	if err != nil || !slices.Contains(list, capture) {
		return err
	}
	b := ix.idx.NewBatch()
	if err := setStaged(b.SetInternal, b.DeleteInternal, slices.DeleteFunc(list, func(s string) bool { return s == capture })); err != nil {
		return err
	}
	return ix.submit(b)
}

// Discard takes out the staged documents of a capture that was not
// recorded: an item the catalog holds all the same (recorded meanwhile by
// another capture) is indexed again from its record (lookup), any other
// is deleted. Then the capture is revealed, having nothing left to hide.
func (ix *Index) Discard(ctx context.Context, capture string, lookup func(key string) (catalog.Item, bool, error)) error {
	if ix.readOnly {
		return ErrReadOnly
	}
	keys, err := ix.stagedKeys(capture)
	if err != nil {
		return err
	}
	var again []archive.IndexUpdate
	var gone []string
	for _, k := range keys {
		it, ok, err := lookup(k)
		if err != nil {
			return fmt.Errorf("index: discard capture %s: %w", capture, err)
		}
		if ok {
			again = append(again, archive.IndexUpdate{Item: it})
		} else {
			gone = append(gone, k)
		}
	}
	if err := ix.Delete(ctx, gone); err != nil {
		return err
	}
	for len(again) > 0 {
		n := min(len(again), BatchSize)
		if err := ix.UpdateNoSync(ctx, again[:n]); err != nil {
			return err
		}
		again = again[n:]
	}
	if err := ix.Reveal(ctx, capture); err != nil {
		return err
	}
	return ix.flush()
}

// Staged lists the captures whose staged documents searches leave out.
func (ix *Index) Staged() ([]string, error) {
	r, done, err := ix.snapshot()
	if err != nil {
		return nil, err
	}
	defer done()
	return readStaged(r)
}

// stagedKeys are the keys of the documents capture staged.
func (ix *Index) stagedKeys(capture string) ([]string, error) {
	e, done, err := ix.engine()
	if err != nil {
		return nil, err
	}
	defer done()
	b, err := e.term(fStaged, capture)
	if err != nil {
		return nil, err
	}
	var keys []string
	want := map[string]bool{"_id": true}
	for i, bm := range b {
		if bm == nil {
			continue
		}
		it := bm.Iterator()
		for it.HasNext() {
			f, err := e.stored(i, it.Next(), want)
			if err != nil {
				return nil, err
			}
			keys = append(keys, first(f["_id"]))
		}
	}
	return keys, nil
}

// stagedList is the list of the open index (the caller holds ix.mu).
func (ix *Index) stagedList() ([]string, error) {
	adv, err := ix.idx.Advanced()
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, fmt.Errorf("index: open reader: %w", err)
	}
	defer r.Close()
	return readStaged(r)
}

func readStaged(r bindex.IndexReader) ([]string, error) {
	v, err := r.GetInternal([]byte(stagedKey))
	if err != nil {
		return nil, fmt.Errorf("index: read staged captures: %w", err)
	}
	if len(v) == 0 {
		return nil, nil
	}
	var list []string
	if err := json.Unmarshal(v, &list); err != nil {
		return nil, fmt.Errorf("index: read staged captures: %w", err)
	}
	return list, nil
}

func setStaged(set func(k, v []byte), del func(k []byte), list []string) error {
	if len(list) == 0 {
		del([]byte(stagedKey))
		return nil
	}
	v, err := json.Marshal(list)
	if err != nil {
		return err
	}
	set([]byte(stagedKey), v)
	return nil
}

// hide leaves out of r the documents of the captures the snapshot lists
// as staged.
func (e *engine) hide(r bits) (bits, error) {
	list, err := readStaged(e.snap)
	if err != nil || len(list) == 0 {
		return r, err
	}
	for _, c := range list {
		h, err := e.term(fStaged, c)
		if err != nil {
			return nil, err
		}
		r = andNot(r, h)
	}
	return r, nil
}

// fingerprintSeed makes fingerprints comparable within one process, which
// is all a capture needs: it stages and commits in the same one.
var fingerprintSeed = maphash.MakeSeed()

// fingerprint hashes every field of the document, so two documents with
// the same fingerprint index the same terms and store the same values
// (TestFingerprintCoversEveryField checks no field is left out). A nil
// list and an empty one are the same.
func (d *Doc) fingerprint() uint64 {
	var f fingerprinter
	f.h.SetSeed(fingerprintSeed)
	f.strs(d.Key, d.Platform, d.Account, d.ID, d.Kind, d.Lang, d.Text)
	f.list(d.History)
	f.strs(d.AuthorID, d.AuthorHandle, d.AuthorName, d.Parent, d.Thread)
	f.time(d.CreatedAt)
	f.time(d.FirstCaptured)
	f.time(d.LastCaptured)
	f.bool(d.Removed)
	f.time(d.RemovedAt)
	f.list(d.Hashtags)
	f.list(d.Mentions)
	f.list(d.Links)
	f.bool(d.Self)
	f.bool(d.LinkOnly)
	f.list(d.Media)
	f.strs(d.Class, d.Schedule)
	f.list(d.Exemptions)
	f.list(d.Holds)
	f.num(uint64(d.Versions))
	return f.h.Sum64()
}

type fingerprinter struct {
	h   maphash.Hash
	buf [8]byte
}

func (f *fingerprinter) num(n uint64) {
	binary.LittleEndian.PutUint64(f.buf[:], n)
	f.h.Write(f.buf[:])
}

func (f *fingerprinter) strs(ss ...string) {
	for _, s := range ss {
		f.num(uint64(len(s)))
		f.h.WriteString(s)
	}
}

func (f *fingerprinter) list(ss []string) {
	f.num(uint64(len(ss)))
	f.strs(ss...)
}

func (f *fingerprinter) bool(b bool) {
	if b {
		f.num(1)
	} else {
		f.num(0)
	}
}

func (f *fingerprinter) time(t time.Time) {
	if t.IsZero() {
		f.num(0)
		return
	}
	f.num(uint64(t.Unix()))
	f.num(uint64(t.Nanosecond()) + 1)
}
