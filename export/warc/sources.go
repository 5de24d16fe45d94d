package warc

import (
	"context"
	"fmt"
	"sync"

	"github.com/osmarc/osmarc/archive"
)

// BlobInfo is what the capture that stored a blob recorded of it.
type BlobInfo struct {
	// Source is the URL (or, for an import, the file name) it came from.
	Source string
	// MediaType is its checked content type; may be empty.
	MediaType string
	// Size is its length in bytes; 0 when not known.
	Size int64
}

// RawPlace is where in a raw response a capture found an item: a 1-based
// line (JSON Lines input) or a JSON pointer; both zero when the response
// is the item's own.
type RawPlace struct {
	Line int
	Path string
}

// Infos tells what a capture recorded of the blobs it stored and of where
// it found each item in its raw responses (see ManifestInfos).
type Infos interface {
	// Blob tells what capture recorded of a raw response or media blob
	// it stored. ok is false when the capture does not name it.
	Blob(ctx context.Context, capture, digest string) (info BlobInfo, ok bool, err error)
	// Place tells where capture found the item key in the raw response
	// raw. ok is false when it did not record that.
	Place(ctx context.Context, capture, key, raw string) (place RawPlace, ok bool, err error)
}

// ManifestInfos reads Infos from the capture manifests in a's store. It
// keeps what the last few captures read recorded, so an export reads a
// capture's manifest about once when its items come together, and its
// memory is bounded whatever the selection size.
func ManifestInfos(a *archive.Archive) Infos {
	return &manifestInfos{a: a, cache: map[string]*captureInfo{}}
}

type captureInfo struct {
	blobs map[string]BlobInfo
	items map[itemRaw]RawPlace
}

type itemRaw struct{ key, raw string }

type manifestInfos struct {
	a     *archive.Archive
	mu    sync.Mutex
	cache map[string]*captureInfo
	order []string
}

const manifestCache = 4

func (m *manifestInfos) Blob(ctx context.Context, capture, digest string) (BlobInfo, bool, error) {
	ci, err := m.capture(ctx, capture)
	if err != nil {
		return BlobInfo{}, false, err
	}
	bi, ok := ci.blobs[digest]
	return bi, ok, nil
}

func (m *manifestInfos) Place(ctx context.Context, capture, key, raw string) (RawPlace, bool, error) {
	ci, err := m.capture(ctx, capture)
	if err != nil {
		return RawPlace{}, false, err
	}
	p, ok := ci.items[itemRaw{key, raw}]
	return p, ok, nil
}

func (m *manifestInfos) capture(ctx context.Context, capture string) (*captureInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ci, ok := m.cache[capture]; ok {
		return ci, nil
	}
	ci, err := m.read(ctx, capture)
	if err != nil {
		return nil, err
	}
	if len(m.order) >= manifestCache {
		delete(m.cache, m.order[0])
		m.order = m.order[1:]
	}
	m.cache[capture] = ci
	m.order = append(m.order, capture)
	return ci, nil
}

func (m *manifestInfos) read(ctx context.Context, capture string) (*captureInfo, error) {
	cp, err := m.a.Catalog().Capture(capture)
	if err != nil {
		return nil, fmt.Errorf("warc: capture %s: %w", capture, err)
	}
	rc, err := m.a.Store().Open(ctx, cp.Key)
	if err != nil {
		return nil, fmt.Errorf("warc: manifest of capture %s: %w", capture, err)
	}
	defer rc.Close()
	ci := &captureInfo{blobs: map[string]BlobInfo{}, items: map[itemRaw]RawPlace{}}
	for line, err := range archive.ReadManifest(rc, cp.Key) {
		if err != nil {
			return nil, fmt.Errorf("warc: manifest of capture %s: %w", capture, err)
		}
		if b := line.Blob; b != nil {
			ci.blobs[b.Digest.String()] = BlobInfo{Source: b.Source, MediaType: b.MediaType, Size: b.Size}
		}
		if it := line.Item; it != nil && it.Raw != nil && (it.RawLine > 0 || it.RawPath != "") {
			ci.items[itemRaw{it.Key, it.Raw.String()}] = RawPlace{Line: it.RawLine, Path: it.RawPath}
		}
	}
	return ci, nil
}
