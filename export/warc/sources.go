package warc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"math"
	"slices"
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
// memory is bounded whatever the selection size: a capture's raw and
// media blobs, and 16 bytes for each item it recorded a place of.
func ManifestInfos(a *archive.Archive) Infos {
	return &manifestInfos{a: a, cache: map[string]*captureInfo{}}
}

// captureInfo is what one capture's manifest says: its raw and media
// blobs, and where it found each item in its raw responses. The places
// are held compactly, as a sorted list of (hash of key and response,
// line), 16 bytes an item whatever the lengths of keys, so an export
// reading a capture of a million items holds 16 MB for them, not
// hundreds.
type captureInfo struct {
	blobs  map[string]BlobInfo
	places []placeEntry
	// other are the places that are not a line alone (JSON pointers).
	other []RawPlace
}

// placeEntry is one item's place: h is placeHash(key, raw); v the 1-based
// line when positive, else -(index+1) in other.
type placeEntry struct {
	h [12]byte
	v int32
}

// placeHash identifies an item in a raw response: the first 96 bits of
// SHA-256(key NUL raw). Among the items of one capture a collision is not
// a practical possibility (about 10^-17 for a million items).
func placeHash(key, raw string) [12]byte {
	h := sha256.New()
	h.Write([]byte(key))
	h.Write([]byte{0})
	h.Write([]byte(raw))
	var out [12]byte
	copy(out[:], h.Sum(nil))
	return out
}

func (ci *captureInfo) add(key, raw string, p RawPlace) {
	e := placeEntry{h: placeHash(key, raw)}
	if p.Path == "" && p.Line > 0 && p.Line <= math.MaxInt32 {
		e.v = int32(p.Line)
	} else {
		ci.other = append(ci.other, p)
		e.v = -int32(len(ci.other))
	}
	ci.places = append(ci.places, e)
}

// sort sorts the places for lookups; an item seen twice in the same
// response keeps its last place, as the manifest's last word.
func (ci *captureInfo) sort() {
	slices.SortStableFunc(ci.places, func(a, b placeEntry) int { return bytes.Compare(a.h[:], b.h[:]) })
	out := ci.places[:0]
	for i, e := range ci.places {
		if i+1 < len(ci.places) && ci.places[i+1].h == e.h {
			continue
		}
		out = append(out, e)
	}
	ci.places = out
}

func (ci *captureInfo) place(key, raw string) (RawPlace, bool) {
	h := placeHash(key, raw)
	i, ok := slices.BinarySearchFunc(ci.places, h, func(e placeEntry, h [12]byte) int { return bytes.Compare(e.h[:], h[:]) })
	if !ok {
		return RawPlace{}, false
	}
	if v := ci.places[i].v; v > 0 {
		return RawPlace{Line: int(v)}, true
	}
	return ci.other[-ci.places[i].v-1], true
}

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
	p, ok := ci.place(key, raw)
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
	ci := &captureInfo{blobs: map[string]BlobInfo{}}
	for line, err := range archive.ReadManifest(rc, cp.Key) {
		if err != nil {
			return nil, fmt.Errorf("warc: manifest of capture %s: %w", capture, err)
		}
		if b := line.Blob; b != nil {
			ci.blobs[b.Digest.String()] = BlobInfo{Source: b.Source, MediaType: b.MediaType, Size: b.Size}
		}
		if it := line.Item; it != nil && it.Raw != nil && (it.RawLine > 0 || it.RawPath != "") {
			ci.add(it.Key, it.Raw.String(), RawPlace{Line: it.RawLine, Path: it.RawPath})
		}
	}
	ci.sort()
	return ci, nil
}
