package index

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"weak"

	"github.com/RoaringBitmap/roaring/v2"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// Facet counts. A search with facets counts its hits by each value of
// the facet fields: for each value, in each segment, the hits that hold
// it (a bitmap AND count). Looking every value up in the term dictionary
// and decoding its postings on every search cost more than the counting;
// a segment's terms and postings never change (a segment is written once;
// deleting or replacing a document marks it deleted in later snapshots),
// so they are read once per segment and kept while the segment is in the
// index. The postings kept include documents deleted since: a search's
// hits are live documents only, so counting them against the whole
// segment's postings gives the live counts. A new segment (new documents,
// or a merge) is read when a search first sees it; segments that left the
// snapshot are forgotten.

// facetCache is one Index's facet postings per segment.
type facetCache struct {
	mu   sync.Mutex
	segs map[segment.Segment]*segFacets
}

// segFacets are one segment's facet values and postings, read once.
type segFacets struct {
	once   sync.Once
	err    error
	fields []facetField // in FacetNames order
}

// facetField is a facet's terms in a segment, in order, and for each the
// segment's documents holding it (deleted ones included).
type facetField struct {
	terms []string
	post  []*roaring.Bitmap
}

// facetCaches holds the cache of each open Index, dropped with it.
var facetCaches = struct {
	sync.Mutex
	m map[weak.Pointer[Index]]*facetCache
}{m: map[weak.Pointer[Index]]*facetCache{}}

// facetCache is ix's cache of facet postings.
func (ix *Index) facetCache() *facetCache {
	k := weak.Make(ix)
	facetCaches.Lock()
	defer facetCaches.Unlock()
	if c := facetCaches.m[k]; c != nil {
		return c
	}
	c := &facetCache{segs: map[segment.Segment]*segFacets{}}
	facetCaches.m[k] = c
	runtime.AddCleanup(ix, func(k weak.Pointer[Index]) {
		facetCaches.Lock()
		delete(facetCaches.m, k)
		facetCaches.Unlock()
	}, k)
	return c
}

// of returns the facet postings of the engine's segments, reading those
// it has not seen. When the snapshot has a segment the cache did not
// have, the index has changed: segments no longer in it are forgotten.
func (c *facetCache) of(e *engine) ([]*segFacets, error) {
	out := make([]*segFacets, len(e.segs))
	c.mu.Lock()
	changed := false
	for i, s := range e.segs {
		seg := s.ss.Segment()
		sf := c.segs[seg]
		if sf == nil {
			sf = &segFacets{}
			c.segs[seg] = sf
			changed = true
		}
		out[i] = sf
	}
	if changed {
		in := make(map[segment.Segment]bool, len(e.segs))
		for _, s := range e.segs {
			in[s.ss.Segment()] = true
		}
		for seg := range c.segs {
			if !in[seg] {
				delete(c.segs, seg)
			}
		}
	}
	c.mu.Unlock()
	for i, sf := range out {
		sf.once.Do(func() { sf.fields, sf.err = readFacets(e.segs[i]) })
		if sf.err != nil {
			return nil, sf.err
		}
	}
	return out, nil
}

// facetOf names a facet's index field and the prefix of its terms.
func facetOf(name string) (field, prefix string) {
	if name == "year" {
		return fTime, "Y"
	}
	return name, ""
}

// readFacets reads a segment's facet terms and their postings, copied out
// of the segment's file so they outlive it.
func readFacets(s *segCtx) ([]facetField, error) {
	seg := s.ss.Segment()
	out := make([]facetField, len(FacetNames))
	for i, name := range FacetNames {
		field, prefix := facetOf(name)
		var end []byte
		if prefix != "" {
			end = prefixEnd([]byte(prefix))
		}
		terms, err := s.rangeTerms(field, []byte(prefix), end)
		if err != nil {
			return nil, err
		}
		d, err := seg.Dictionary(field)
		if err != nil {
			return nil, fmt.Errorf("index: dictionary %s: %w", field, err)
		}
		ff := facetField{terms: terms, post: make([]*roaring.Bitmap, len(terms))}
		for j, t := range terms {
			pl, err := d.PostingsList([]byte(t), nil, nil)
			if err != nil {
				return nil, fmt.Errorf("index: postings %s:%s: %w", field, t, err)
			}
			b := roaring.New()
			if o, ok := pl.Iterator(false, false, false, nil).(segment.OptimizablePostingsIterator); ok && o.ActualBitmap() != nil {
				b = o.ActualBitmap().Clone()
			} else {
				it := pl.Iterator(false, false, false, nil)
				for p, err := it.Next(); p != nil || err != nil; p, err = it.Next() {
					if err != nil {
						return nil, err
					}
					b.Add(uint32(p.Number()))
				}
			}
			b.RunOptimize()
			ff.post[j] = b
		}
		out[i] = ff
	}
	return out, nil
}

// facets counts the hits in r by each value of the facet fields: values
// with no hit are left out; years newest first, other values most hits
// first (equal counts in the values' order).
func (e *engine) facets(r bits, segs []*segFacets) map[string][]FacetCount {
	out := map[string][]FacetCount{}
	for fi, name := range FacetNames {
		_, prefix := facetOf(name)
		byValue := map[string]uint64{}
		for i, sf := range segs {
			if r[i] == nil || r[i].IsEmpty() {
				continue
			}
			f := sf.fields[fi]
			for j, t := range f.terms {
				if n := r[i].AndCardinality(f.post[j]); n > 0 {
					byValue[t] += n
				}
			}
		}
		counts := make([]FacetCount, 0, len(byValue))
		for t, n := range byValue {
			counts = append(counts, FacetCount{Value: strings.TrimPrefix(t, prefix), Count: n})
		}
		if name == "year" {
			sort.Slice(counts, func(i, j int) bool { return counts[i].Value > counts[j].Value })
		} else {
			sort.Slice(counts, func(i, j int) bool {
				if counts[i].Count != counts[j].Count {
					return counts[i].Count > counts[j].Count
				}
				return counts[i].Value < counts[j].Value
			})
		}
		out[name] = counts
	}
	return out
}
