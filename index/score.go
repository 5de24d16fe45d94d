package index

import (
	"container/heap"
	"math"
	"sort"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
)

// Relevance. A word scores in an item by how much of the item's text it
// is and how rare it is in the index — idf × √(tf / length), counted in
// the language field (stemmed, stop words out) — times its boost, summed
// over the query's words. A word found only in its exact form or only in
// an earlier version scores floorWeight × idf, below any tier.
//
// √(tf/length) is not read from frequencies at query time: the index
// records it, rounded to one of a few tiers (tierOf), in each term of the
// language fields. So scoring is bitmap work too: a one-word query takes
// its hits tier by tier, best first, and stops when the page is full; a
// query of several words adds each word's tier weight into one number
// per hit. Equal scores keep index order.

const floorWeight = 0.005

// accPool keeps score accumulators (one float32 per document of a
// segment) between searches; they are all zero when put back.
var accPool = sync.Pool{New: func() any { return new([]float32) }}

// scored is one ranked document.
type scored struct {
	d     docRef
	score float64
}

type scoreLeaf struct {
	boost  float64
	stems  []scoreStem
	maxIDF float64
	match  bits
}

type scoreStem struct {
	*stem
	idf float64
}

// scorer ranks the hits of a plan.
type scorer struct {
	p      *plan
	leaves []scoreLeaf
}

func (p *plan) scorer() (*scorer, error) {
	s := &scorer{p: p}
	n := float64(p.e.docs)
	for _, lf := range p.leaves {
		if len(lf.score) == 0 {
			continue
		}
		sl := scoreLeaf{boost: lf.c.boost, match: lf.match}
		for _, lt := range lf.score {
			st, err := p.e.stem(lt.field, lt.term)
			if err != nil {
				return nil, err
			}
			if err := p.e.loadTiers(st); err != nil {
				return nil, err
			}
			idf := 1 + math.Log((n+1)/(float64(st.all.card())+1))
			sl.stems = append(sl.stems, scoreStem{st, idf})
			sl.maxIDF = max(sl.maxIDF, idf)
		}
		s.leaves = append(s.leaves, sl)
	}
	return s, nil
}

// top returns the hits from skip to skip+k in order of score, best first.
func (s *scorer) top(skip, k int) ([]scored, error) {
	if k <= 0 || s.p.match.card() == 0 {
		return nil, nil
	}
	if len(s.leaves) == 1 && oneWord(s.leaves[0]) {
		return s.byTier(skip, k)
	}
	all, err := s.best(skip + k)
	if err != nil {
		return nil, err
	}
	if skip >= len(all) {
		return nil, nil
	}
	return all[skip:], nil
}

// best returns the k best hits of a query of several words. Scoring every
// hit costs a pass over each; instead it scores only the hits where some
// word is in one of the best tiers, down to tier q, widening q until the
// k-th best of those beats what any other hit could reach: each word's
// weight in tier q+1 at most.
func (s *scorer) best(k int) ([]scored, error) {
	r := s.p.match
	total := r.card()
	if total <= uint64(4*k+2000) {
		return s.accumulate(r, k)
	}
	e := s.p.e
	// The candidates grow with q: each step adds the hits of the tiers it
	// widens to, not the union of every tier again.
	cand := e.empty()
	prev := -1
	for q := 0; q < maxTier; q += 2 {
		for i := range e.segs {
			if r[i] == nil || r[i].IsEmpty() {
				continue
			}
			var parts []*roaring.Bitmap
			for _, l := range s.leaves {
				for _, st := range l.stems {
					for tq, tb := range st.tiers {
						if tq > prev && tq <= q && tb[i] != nil {
							parts = append(parts, tb[i])
						}
					}
				}
			}
			if u := union(parts...); u != nil {
				add := roaring.And(r[i], u)
				if cand[i] == nil {
					cand[i] = add
				} else {
					cand[i] = roaring.Or(cand[i], add)
				}
			}
		}
		prev = q
		n := cand.card()
		if n < uint64(k) {
			continue
		}
		if n > total/2 {
			break // no cheaper than scoring them all
		}
		res, err := s.accumulate(cand, k)
		if err != nil {
			return nil, err
		}
		var bound float64
		for _, l := range s.leaves {
			bound += l.boost * l.maxIDF * tierWeight(q+1)
		}
		if len(res) == k && res[k-1].score > bound {
			return res, nil
		}
	}
	return s.accumulate(r, k)
}

// oneWord reports whether a leaf's stems are one word's, at most one per
// language field: a document then holds at most one of them.
func oneWord(l scoreLeaf) bool {
	seen := map[string]bool{}
	for _, st := range l.stems {
		if seen[st.field] {
			return false
		}
		seen[st.field] = true
	}
	return len(l.stems) > 0
}

// byTier pages through the hits of a one-word query: its tiers best first
// (each document is in one tier of the word, in the language of its
// text), then the documents the word matched otherwise (exact form,
// earlier versions), then the rest (matched by other clauses).
func (s *scorer) byTier(skip, k int) ([]scored, error) {
	l := s.leaves[0]
	r := s.p.match
	type band struct {
		b     bits
		score float64
	}
	var bands []band
	for q := 0; q <= maxTier; q++ {
		// A document is in one language field, so the stems' tiers are
		// disjoint; several stems (English and French) of one tier have
		// different idf: best first.
		var bs []band
		for _, st := range l.stems {
			if b, ok := st.tiers[q]; ok {
				bs = append(bs, band{and(r, b), l.boost * st.idf * tierWeight(q)})
			}
		}
		sort.SliceStable(bs, func(i, j int) bool { return bs[i].score > bs[j].score })
		bands = append(bands, bs...)
	}
	covered := s.p.e.empty()
	for _, st := range l.stems {
		covered = or(covered, st.all)
	}
	rest := andNot(r, covered)
	bands = append(bands, band{and(rest, l.match), l.boost * floorWeight * l.maxIDF})
	bands = append(bands, band{andNot(rest, l.match), 0})
	var out []scored
	need := uint64(skip)
	for _, bd := range bands {
		n := bd.b.card()
		if n == 0 {
			continue
		}
		if need >= n {
			need -= n
			continue
		}
		for i, b := range bd.b {
			if b == nil {
				continue
			}
			it := b.Iterator()
			for it.HasNext() {
				doc := it.Next()
				if need > 0 {
					need--
					continue
				}
				out = append(out, scored{docRef{i, doc}, bd.score})
				if len(out) == k {
					return out, nil
				}
			}
		}
	}
	return out, nil
}

// accumulate scores the hits in r, adding each word's weight tier by tier
// into one number per document, and keeps the best k.
func (s *scorer) accumulate(r bits, k int) ([]scored, error) {
	h := &minHeap{}
	accp := accPool.Get().(*[]float32)
	defer accPool.Put(accp)
	acc := *accp
	defer func() { *accp = acc }()
	buf := make([]uint32, 1024)
	for si, rb := range r {
		if rb == nil || rb.IsEmpty() {
			continue
		}
		n := int(s.p.e.segs[si].ss.Segment().Count())
		if cap(acc) < n {
			acc = make([]float32, n)
		}
		// Zero on the way out: every entry touched is one of rb's.
		acc = acc[:n]
		add := func(b *roaring.Bitmap, w float64) {
			if b == nil || b.IsEmpty() {
				return
			}
			it := b.ManyIterator()
			for {
				m := it.NextMany(buf)
				if m == 0 {
					return
				}
				for _, d := range buf[:m] {
					acc[d] += float32(w)
				}
			}
		}
		for _, l := range s.leaves {
			var covered []*roaring.Bitmap
			for _, st := range l.stems {
				for q, tb := range st.tiers {
					if tb[si] == nil {
						continue
					}
					add(roaring.And(rb, tb[si]), l.boost*st.idf*tierWeight(q))
				}
				covered = append(covered, st.all[si])
			}
			if l.match[si] != nil {
				floor := roaring.And(rb, l.match[si])
				if c := union(covered...); c != nil {
					floor = roaring.AndNot(floor, c)
				}
				add(floor, l.boost*floorWeight*l.maxIDF)
			}
		}
		it := rb.ManyIterator()
		for {
			m := it.NextMany(buf)
			if m == 0 {
				break
			}
			for _, d := range buf[:m] {
				sc := float64(acc[d])
				acc[d] = 0
				if h.Len() < k {
					heap.Push(h, scored{docRef{si, d}, sc})
				} else if sc > (*h)[0].score {
					(*h)[0] = scored{docRef{si, d}, sc}
					heap.Fix(h, 0)
				}
			}
		}
	}
	out := []scored(*h)
	sort.Slice(out, func(i, j int) bool {
		if out[i].score != out[j].score {
			return out[i].score > out[j].score
		}
		if out[i].d.seg != out[j].d.seg {
			return out[i].d.seg < out[j].d.seg
		}
		return out[i].d.doc < out[j].d.doc
	})
	return out, nil
}

// minHeap keeps the k best: its root is the worst of them. Among equal
// scores the later document is the worse, so index order is kept.
type minHeap []scored

func (h minHeap) Len() int { return len(h) }
func (h minHeap) Less(i, j int) bool {
	if h[i].score != h[j].score {
		return h[i].score < h[j].score
	}
	if h[i].d.seg != h[j].d.seg {
		return h[i].d.seg > h[j].d.seg
	}
	return h[i].d.doc > h[j].d.doc
}
func (h minHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(x any)   { *h = append(*h, x.(scored)) }
func (h *minHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
