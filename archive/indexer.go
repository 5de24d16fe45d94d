package archive

import (
	"context"

	"github.com/osmarc/osmarc/archive/catalog"
)

// Indexer keeps a search index, derived like the catalog, up to date. The
// archive does not know how it indexes (the index package does, and imports
// this one); it hands it, after each capture is in the catalog, the items
// the capture saw, in batches of at most IndexBatch.
type Indexer interface {
	Update(ctx context.Context, batch []IndexUpdate) error
}

// IndexSyncer is an Indexer that can take a batch without waiting for it
// to be durable (UpdateNoSync: the items are searchable when it returns)
// and then wait once for every batch it took (Sync). A capture hands its
// batches over this way, so the index writes one while the next is read.
type IndexSyncer interface {
	Indexer
	UpdateNoSync(ctx context.Context, batch []IndexUpdate) error
	Sync(ctx context.Context) error
}

// IndexBatch bounds the items of one Indexer.Update call.
const IndexBatch = 1000

// IndexUpdate is one item to (re)index.
type IndexUpdate struct {
	// Item is the catalog's record after the capture was applied.
	Item catalog.Item
	// Latest is the content of Item's newest version when the capture
	// had it at hand; nil means the indexer reads it from the store
	// (Archive.Version).
	Latest *Item
	// Staged, when not 0, is the fingerprint IndexStager.Stage returned
	// for this item in this capture: an indexer indexes it again only if
	// its document is not the one staged.
	Staged uint64
}

// IndexStager is an IndexSyncer that can index a capture's new items
// while the capture still reads them, before it is recorded, hidden from
// searches (Stage); it shows them once the capture is recorded (Reveal),
// or takes them out if it never is (Discard). A capture stages the items
// the catalog does not hold yet, with the catalog record it predicts for
// them (one sighting, one version), so most of the indexing overlaps the
// reading, and at commit hands every item over as usual, each with its
// fingerprint, so that only those whose record came out otherwise are
// indexed again.
type IndexStager interface {
	IndexSyncer
	// Stage indexes the batch, hidden, and returns each item's
	// fingerprint (IndexUpdate.Staged).
	Stage(ctx context.Context, capture string, batch []IndexUpdate) ([]uint64, error)
	// Reveal shows the staged items of a recorded capture.
	Reveal(ctx context.Context, capture string) error
	// Discard takes out the staged items of a capture that was not
	// recorded; lookup finds an item the catalog holds all the same.
	Discard(ctx context.Context, capture string, lookup func(key string) (catalog.Item, bool, error)) error
}

// SetIndexer installs the indexer that captures update. Nil removes it.
func (a *Archive) SetIndexer(ix Indexer) { a.indexer = ix }

// Indexer is the installed indexer, or nil (a server sharing the archive
// with a capturing command searches the index that command installed).
func (a *Archive) Indexer() Indexer { return a.indexer }

// Version reads one version's content from the store and checks its digest.
func (a *Archive) Version(ctx context.Context, digest string) (*Item, error) {
	d, err := ParseDigest(digest)
	if err != nil {
		return nil, err
	}
	b, err := ReadBlob(ctx, a.store, d)
	if err != nil {
		return nil, err
	}
	var it Item
	if err := jsonUnmarshal(b, &it); err != nil {
		return nil, err
	}
	return &it, nil
}

// IndexDeleter is an Indexer that can also drop items (after disposition).
type IndexDeleter interface {
	Delete(ctx context.Context, keys []string) error
}

// Unindex drops items from the index, when the indexer can.
func (a *Archive) Unindex(ctx context.Context, keys []string) error {
	if d, ok := a.indexer.(IndexDeleter); ok && len(keys) > 0 {
		return d.Delete(ctx, keys)
	}
	return nil
}
