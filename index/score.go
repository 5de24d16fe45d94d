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
			idf := 1 + math.Log((n+1)/(float64(st.card())+1))
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

// best returns the k best hits of a query of several words (or of a
// phrase). Scoring every hit costs a pass over each; instead it takes the
// (stem, tier) pairs of the query heaviest first, scores only the hits
// holding a pair taken, and stops when the k-th best of those beats what
// any other hit could reach (bound). Taking pairs by weight rather than
// by tier matters when the stems' idf differ: a common English stem's
// tier 4 weighs less than a rarer French stem's tier 8.
func (s *scorer) best(k int) ([]scored, error) {
	r := s.p.match
	total := r.card()
	if total <= uint64(4*k+2000) {
		return s.accumulate(r, k)
	}
	e := s.p.e
	type pair struct {
		leaf, stem, tier int
		w                float64 // boost × idf × tierWeight: what the pair adds to a hit's score
		next             float64 // w of the stem's next tier, 0 after its last
	}
	var pairs []pair
	next := make([][]float64, len(s.leaves)) // the heaviest pair not taken, per stem
	for li, l := range s.leaves {
		next[li] = make([]float64, len(l.stems))
		for si, st := range l.stems {
			qs := st.tierList()
			for i, q := range qs {
				p := pair{leaf: li, stem: si, tier: q, w: l.boost * st.idf * tierWeight(q)}
				if i+1 < len(qs) {
					p.next = l.boost * st.idf * tierWeight(qs[i+1])
				}
				if i == 0 {
					next[li][si] = p.w
				}
				pairs = append(pairs, p)
			}
		}
	}
	sort.SliceStable(pairs, func(i, j int) bool { return pairs[i].w > pairs[j].w })
	cand := e.empty()
	var lastScored uint64
	for _, p := range pairs {
		tb := s.leaves[p.leaf].stems[p.stem].tiers[p.tier]
		for i := range e.segs {
			if r[i] == nil || tb[i] == nil {
				continue
			}
			add := roaring.And(r[i], tb[i])
			if cand[i] == nil {
				cand[i] = add // new: cand's bitmaps are its own
			} else {
				cand[i].Or(add)
			}
		}
		next[p.leaf][p.stem] = p.next
		n := cand.card()
		if n < uint64(k) || n < 2*lastScored {
			continue // score again only when the candidates have doubled
		}
		if n > total/2 {
			break // no cheaper than scoring them all
		}
		lastScored = n
		res, err := s.accumulate(cand, k)
		if err != nil {
			return nil, err
		}
		// Scores are float32 sums: the margin covers their rounding.
		if len(res) == k && res[k-1].score > s.bound(next)*(1+1e-5) {
			return res, nil
		}
	}
	return s.accumulate(r, k)
}

// bound is more than the score of any hit holding none of the (stem,
// tier) pairs taken, given the heaviest pair not taken of each stem
// (next[leaf][stem], 0 when all are). Such a hit gets from a leaf either
// the floor weight (none of its stems) or, for each stem it holds, at
// most that stem's next weight; an item's text is in one language field,
// so only the stems of one field add up.
func (s *scorer) bound(next [][]float64) float64 {
	var b float64
	for li, l := range s.leaves {
		lb := l.boost * floorWeight * l.maxIDF
		byField := map[string]float64{}
		for si, st := range l.stems {
			byField[st.field] += next[li][si]
		}
		for _, w := range byField {
			lb = max(lb, w)
		}
		b += lb
	}
	return b
}

// tierList is the stem's tiers in order, best first.
func (st *stem) tierList() []int {
	qs := make([]int, 0, len(st.tiers))
	for q := range st.tiers {
		qs = append(qs, q)
	}
	sort.Ints(qs)
	return qs
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
	// A band's hits are worked out when the page reaches it: a page of a
	// common word is often full after its first tiers.
	type band struct {
		b     func() bits
		score float64
	}
	var bands []band
	for q := 0; q <= maxTier; q++ {
		// A document is in one language field, so the stems' tiers are
		// disjoint; several stems (English and French) of one tier have
		// different idf: best first.
		var bs []band
		for _, st := range l.stems {
			if tb, ok := st.tiers[q]; ok {
				bs = append(bs, band{func() bits { return and(r, tb) }, l.boost * st.idf * tierWeight(q)})
			}
		}
		sort.SliceStable(bs, func(i, j int) bool { return bs[i].score > bs[j].score })
		bands = append(bands, bs...)
	}
	// The hits holding none of the stems, taken from r stem by stem (r
	// is often much smaller than a common stem's documents).
	var rest bits
	restOf := func() bits {
		if rest == nil {
			rest = r
			for _, st := range l.stems {
				rest = st.subtract(rest)
			}
		}
		return rest
	}
	bands = append(bands, band{func() bits { return and(restOf(), l.match) }, l.boost * floorWeight * l.maxIDF})
	bands = append(bands, band{func() bits { return andNot(restOf(), l.match) }, 0})
	var out []scored
	need := uint64(skip)
	for _, bd := range bands {
		bb := bd.b()
		n := bb.card()
		if n == 0 {
			continue
		}
		if need >= n {
			need -= n
			continue
		}
		for i, b := range bb {
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
			for _, st := range l.stems {
				// Tiers in order: float32 sums come out the same on
				// every run.
				for _, q := range st.tierList() {
					tb := st.tiers[q]
					if tb[si] == nil {
						continue
					}
					add(roaring.And(rb, tb[si]), l.boost*st.idf*tierWeight(q))
				}
			}
			if l.match[si] != nil {
				// The hits the leaf matched without any of its stems:
				// taken from rb, which may be small, stem by stem (a
				// union of the stems' documents first would cost as
				// much as the stems are common).
				floor := roaring.And(rb, l.match[si])
				for _, st := range l.stems {
					for _, q := range st.tierList() {
						if c := st.tiers[q][si]; c != nil && !floor.IsEmpty() {
							floor.AndNot(c)
						}
					}
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
