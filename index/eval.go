package index

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	bindex "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// The evaluator. bleve (scorch) keeps the index: segments of term
// dictionaries, postings as compressed bitmaps, frequencies and stored
// fields. osmarc evaluates queries on those bitmaps itself, segment by
// segment, rather than through bleve's searchers, which visit every hit
// one at a time: counting, filtering and faceting hundreds of thousands
// of hits then costs bitmap operations, newest-first order walks time
// buckets from the newest and stops when the page is full, and relevance
// scores only the documents that can reach the page (see score.go).

// maxExpansion bounds the words a wildcard, regular expression or fuzzy
// word may expand to.
const maxExpansion = 20000

// bits is one bitmap per segment of a snapshot. Bitmaps that come from the
// index are shared: never modify them in place.
type bits []*roaring.Bitmap

func (b bits) card() uint64 {
	var n uint64
	for _, x := range b {
		if x != nil {
			n += x.GetCardinality()
		}
	}
	return n
}

type segCtx struct {
	ss    *scorch.SegmentSnapshot
	dicts map[string]segment.TermDictionary
	live  *roaring.Bitmap
}

// engine evaluates queries on one snapshot.
type engine struct {
	snap *scorch.IndexSnapshot
	segs []*segCtx
	docs uint64 // live documents
	// Lookups made once per query.
	memo      map[string]bits
	termLists map[string][]string
	stems     map[string]*stem
	parents   map[string]parentRef
	// holdScope resolves hold names (Request.HoldScope); inHold is true
	// while a hold's scope is evaluated.
	holdScope func(name string) (Scope, error)
	inHold    bool
}

func newEngine(r bindex.IndexReader) (*engine, error) {
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return nil, fmt.Errorf("index: not a scorch index (%T)", r)
	}
	e := &engine{snap: snap, memo: map[string]bits{}, termLists: map[string][]string{}, stems: map[string]*stem{}, parents: map[string]parentRef{}}
	for _, ss := range snap.Segments() {
		e.segs = append(e.segs, &segCtx{ss: ss, dicts: map[string]segment.TermDictionary{}})
		e.docs += ss.Count()
	}
	return e, nil
}

func (e *engine) empty() bits { return make(bits, len(e.segs)) }

func (s *segCtx) dict(field string) (segment.TermDictionary, error) {
	if d, ok := s.dicts[field]; ok {
		return d, nil
	}
	d, err := s.ss.Segment().Dictionary(field)
	if err != nil {
		return nil, fmt.Errorf("index: dictionary %s: %w", field, err)
	}
	s.dicts[field] = d
	return d, nil
}

// term is the live documents of one segment holding term in field.
func (s *segCtx) term(field, term string) (*roaring.Bitmap, error) {
	d, err := s.dict(field)
	if err != nil {
		return nil, err
	}
	pl, err := d.PostingsList([]byte(term), s.ss.Deleted(), nil)
	if err != nil {
		return nil, fmt.Errorf("index: postings %s:%s: %w", field, term, err)
	}
	it := pl.Iterator(false, false, false, nil)
	if o, ok := it.(segment.OptimizablePostingsIterator); ok {
		if b := o.ActualBitmap(); b != nil {
			return b, nil
		}
		if n, ok := o.DocNum1Hit(); ok {
			return roaring.BitmapOf(uint32(n)), nil
		}
		return nil, nil
	}
	// Not a zap segment: iterate.
	b := roaring.New()
	for p, err := it.Next(); p != nil || err != nil; p, err = it.Next() {
		if err != nil {
			return nil, err
		}
		b.Add(uint32(p.Number()))
	}
	return b, nil
}

func (s *segCtx) all() *roaring.Bitmap {
	if s.live == nil {
		s.live = s.ss.DocNumbersLive()
	}
	return s.live
}

// term is the documents holding term in field, in every segment,
// remembered for the rest of the query.
func (e *engine) term(field, term string) (bits, error) {
	k := field + "\x00" + term
	if b, ok := e.memo[k]; ok {
		return b, nil
	}
	out, err := e.lookup(field, term)
	if err != nil {
		return nil, err
	}
	e.memo[k] = out
	return out, nil
}

// lookup is term without remembering: for the time walk, which visits
// each bucket once.
func (e *engine) lookup(field, term string) (bits, error) {
	out := e.empty()
	for i, s := range e.segs {
		b, err := s.term(field, term)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// terms is the union of several terms of one field.
func (e *engine) terms(field string, terms []string) (bits, error) {
	out := e.empty()
	parts := make([]*roaring.Bitmap, 0, len(terms))
	for i, s := range e.segs {
		parts = parts[:0]
		for _, t := range terms {
			b, err := s.term(field, t)
			if err != nil {
				return nil, err
			}
			if b != nil && !b.IsEmpty() {
				parts = append(parts, b)
			}
		}
		out[i] = union(parts...)
	}
	return out, nil
}

func (e *engine) all() bits {
	out := e.empty()
	for i, s := range e.segs {
		out[i] = s.all()
	}
	return out
}

// dictTerms lists the terms of a dictionary walk, at most max of them.
func dictTerms(fd bindex.FieldDict, err error, max int, what string) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer fd.Close()
	var out []string
	for {
		de, err := fd.Next()
		if err != nil {
			return nil, err
		}
		if de == nil {
			return out, nil
		}
		if len(out) >= max {
			return nil, fmt.Errorf("%s matches more than %d different words: make it narrower", what, max)
		}
		out = append(out, de.Term)
	}
}

// prefixTerms lists a field's terms with a prefix, in order, from every
// segment.
func (e *engine) prefixTerms(field, prefix string) ([]string, error) {
	k := "\x01" + field + "\x00" + prefix
	if ts, ok := e.termLists[k]; ok {
		return ts, nil
	}
	out, err := e.listTerms(field, prefix)
	if err == nil {
		e.termLists[k] = out
	}
	return out, err
}

// listTerms is prefixTerms without remembering.
func (e *engine) listTerms(field, prefix string) ([]string, error) {
	var end []byte
	if prefix != "" {
		end = prefixEnd([]byte(prefix))
	}
	seen := map[string]bool{}
	var out []string
	for _, s := range e.segs {
		terms, err := s.rangeTerms(field, []byte(prefix), end)
		if err != nil {
			return nil, err
		}
		for _, t := range terms {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	if len(e.segs) > 1 {
		sort.Strings(out)
	}
	return out, nil
}

// omitCounter is the zap dictionary's cheaper walk, which does not read
// each term's postings.
type omitCounter interface {
	AutomatonIteratorOmitCount(a segment.Automaton, start, end []byte) segment.DictionaryIterator
}

// rangeTerms lists one segment's terms of a field in [start, end).
func (s *segCtx) rangeTerms(field string, start, end []byte) ([]string, error) {
	d, err := s.dict(field)
	if err != nil {
		return nil, err
	}
	var it segment.DictionaryIterator
	if oc, ok := d.(omitCounter); ok {
		it = oc.AutomatonIteratorOmitCount(nil, start, end)
	} else {
		it = d.AutomatonIterator(nil, start, end)
	}
	var out []string
	for {
		de, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("index: terms of %s: %w", field, err)
		}
		if de == nil {
			return out, nil
		}
		out = append(out, de.Term)
	}
}

func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// stem is a stem of a language field: the documents holding it in each
// weight tier. The field holds each stem once per document, with its
// tier (tierTerm), so a stem's documents are the union of its tier
// terms, which are disjoint.
type stem struct {
	field, term string
	tiers       map[int]bits
	n           uint64
}

// stem looks up a stem of a language field: its tier terms, found by a
// range of each segment's dictionary (stem, separator, any tier letter).
func (e *engine) stem(field, st string) (*stem, error) {
	k := "\x02" + field + "\x00" + st
	if x, ok := e.stems[k]; ok {
		return x, nil
	}
	out := &stem{field: field, term: st, tiers: map[int]bits{}}
	terms, err := e.prefixTerms(field, st+tierSep)
	if err != nil {
		return nil, err
	}
	for _, t := range terms {
		rest := t[len(st)+len(tierSep):]
		if len(rest) != 1 || rest[0] < 'a' || rest[0] > 'a'+maxTier {
			continue
		}
		b, err := e.term(field, t)
		if err != nil {
			return nil, err
		}
		out.tiers[int(rest[0]-'a')] = b
		out.n += b.card()
	}
	e.stems[k] = out
	return out, nil
}

// card is how many documents hold the stem.
func (st *stem) card() uint64 { return st.n }

// parts are the stem's tier bitmaps of one segment, for a union that
// takes other bitmaps too.
func (st *stem) parts(seg int) []*roaring.Bitmap {
	out := make([]*roaring.Bitmap, 0, len(st.tiers))
	for _, q := range st.tierList() {
		if b := st.tiers[q][seg]; b != nil {
			out = append(out, b)
		}
	}
	return out
}

// subtract is r without the stem's documents, taken out tier by tier: r
// is often much smaller than a common stem's documents, whose union
// would cost more than the subtraction.
func (st *stem) subtract(r bits) bits {
	for _, q := range st.tierList() {
		r = andNot(r, st.tiers[q])
	}
	return r
}

// union of bitmaps; nil and empty ones are skipped. The result may be one
// of the inputs (shared) or new.
func union(bs ...*roaring.Bitmap) *roaring.Bitmap {
	var keep []*roaring.Bitmap
	for _, b := range bs {
		if b != nil && !b.IsEmpty() {
			keep = append(keep, b)
		}
	}
	switch len(keep) {
	case 0:
		return nil
	case 1:
		return keep[0]
	}
	return roaring.FastOr(keep...)
}

func or(a, b bits) bits {
	out := make(bits, len(a))
	for i := range a {
		out[i] = union(a[i], b[i])
	}
	return out
}

func and(a, b bits) bits {
	out := make(bits, len(a))
	for i := range a {
		if a[i] == nil || b[i] == nil {
			continue
		}
		out[i] = roaring.And(a[i], b[i])
	}
	return out
}

func andNot(a, b bits) bits {
	out := make(bits, len(a))
	for i := range a {
		switch {
		case a[i] == nil:
		case b[i] == nil || b[i].IsEmpty():
			out[i] = a[i]
		default:
			out[i] = roaring.AndNot(a[i], b[i])
		}
	}
	return out
}

// stored reads some stored fields of one document; "_id" is its key.
func (e *engine) stored(seg int, doc uint32, want map[string]bool) (map[string][]string, error) {
	out := map[string][]string{}
	err := e.segs[seg].ss.VisitDocument(uint64(doc), func(field string, typ byte, value []byte, pos []uint64) bool {
		if want == nil || want[field] {
			out[field] = append(out[field], string(value))
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("index: read document: %w", err)
	}
	return out, nil
}

// timeRange is the documents created in [lo, hi). Whole years, months,
// days and hours come from the time terms; what is left at either end
// (less than an hour) is checked against each document's stored time.
func (e *engine) timeRange(lo, hi time.Time) (bits, error) {
	lo, hi = lo.UTC(), hi.UTC()
	if lo.IsZero() || lo.Year() < 1970 {
		lo = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if hi.IsZero() || hi.Year() > 9999 {
		hi = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	}
	out := e.empty()
	if !lo.Before(hi) {
		return out, nil
	}
	var whole []string
	type edge struct {
		term   string
		lo, hi time.Time
	}
	var edges []edge
	// Years present in the index bound the walk, so an open range costs
	// the years the index has, not 8,000 of them.
	years, err := e.prefixTerms(fTime, "Y")
	if err != nil {
		return nil, err
	}
	if len(years) == 0 {
		return out, nil
	}
	first, _ := time.Parse("2006", years[0][1:])
	last, _ := time.Parse("2006", years[len(years)-1][1:])
	if lo.Before(first) {
		lo = first
	}
	if end := last.AddDate(1, 0, 0); hi.After(end) {
		hi = end
	}
	for t := lo; t.Before(hi); {
		tt := timeTerms(t)
		switch {
		case t.Equal(startOf(t, 'Y')) && !t.AddDate(1, 0, 0).After(hi):
			whole = append(whole, tt[0])
			t = t.AddDate(1, 0, 0)
		case t.Equal(startOf(t, 'M')) && !t.AddDate(0, 1, 0).After(hi):
			whole = append(whole, tt[1])
			t = t.AddDate(0, 1, 0)
		case t.Equal(startOf(t, 'D')) && !t.AddDate(0, 0, 1).After(hi):
			whole = append(whole, tt[2])
			t = t.AddDate(0, 0, 1)
		case t.Equal(startOf(t, 'H')) && !t.Add(time.Hour).After(hi):
			whole = append(whole, tt[3])
			t = t.Add(time.Hour)
		default:
			end := startOf(t, 'H').Add(time.Hour)
			if end.After(hi) {
				end = hi
			}
			edges = append(edges, edge{tt[3], t, end})
			t = end
		}
	}
	if out, err = e.terms(fTime, whole); err != nil {
		return nil, err
	}
	for _, ed := range edges {
		b, err := e.term(fTime, ed.term)
		if err != nil {
			return nil, err
		}
		for i := range e.segs {
			if b[i] == nil {
				continue
			}
			keep := roaring.New()
			var ierr error
			b[i].Iterate(func(doc uint32) bool {
				t, err := e.createdAt(i, doc)
				if err != nil {
					ierr = err
					return false
				}
				if !t.Before(ed.lo) && t.Before(ed.hi) {
					keep.Add(doc)
				}
				return true
			})
			if ierr != nil {
				return nil, ierr
			}
			out[i] = union(out[i], keep)
		}
	}
	return out, nil
}

var wantCreated = map[string]bool{fCreated: true}

func (e *engine) createdAt(seg int, doc uint32) (time.Time, error) {
	f, err := e.stored(seg, doc, wantCreated)
	if err != nil {
		return time.Time{}, err
	}
	if len(f[fCreated]) == 0 {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, f[fCreated][0])
}

func startOf(t time.Time, level byte) time.Time {
	switch level {
	case 'Y':
		return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	case 'M':
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	case 'D':
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	return t.Truncate(time.Hour)
}

// docRef is one document of a snapshot.
type docRef struct {
	seg int
	doc uint32
}

// walkTime visits the documents of r in order of creation (newest first
// when desc), skipping the first skip of them, until fn returns false.
// It descends from years to months, days and hours, counting with bitmaps
// and skipping whole buckets, so it reads stored times only for the
// documents of the hours it visits. Documents with no creation time come
// last.
func (e *engine) walkTime(r bits, desc bool, skip uint64, fn func(d docRef, created string) bool) error {
	w := &timeWalk{e: e, r: r, desc: desc, skip: skip, fn: fn}
	if err := w.level(""); err != nil && !errors.Is(err, errStopWalk) {
		return err
	} else if errors.Is(err, errStopWalk) {
		return nil
	}
	// The rest: documents without time terms.
	years, err := e.prefixTerms(fTime, "Y")
	if err != nil {
		return err
	}
	timed, err := e.terms(fTime, years)
	if err != nil {
		return err
	}
	rest := andNot(r, timed)
	var refs []docRef
	for i, b := range rest {
		if b == nil {
			continue
		}
		for it := b.Iterator(); it.HasNext(); {
			refs = append(refs, docRef{i, it.Next()})
		}
	}
	for _, d := range refs {
		if w.skip > 0 {
			w.skip--
			continue
		}
		if !fn(d, "") {
			return nil
		}
	}
	return nil
}

var errStopWalk = errors.New("stop")

type timeWalk struct {
	e    *engine
	r    bits
	desc bool
	skip uint64
	fn   func(d docRef, created string) bool
}

func childPrefix(term string) string {
	switch term[0] {
	case 'Y':
		return "M" + term[1:]
	case 'M':
		return "D" + term[1:]
	case 'D':
		return "H" + term[1:]
	}
	return ""
}

// level walks the buckets under parent ("" for the years).
func (w *timeWalk) level(parent string) error {
	prefix := "Y"
	if parent != "" {
		prefix = childPrefix(parent)
	}
	// Buckets are looked up once each: nothing is remembered, so a walk
	// over years of hits holds no more than the bucket in hand.
	terms, err := w.e.listTerms(fTime, prefix)
	if err != nil {
		return err
	}
	if w.desc {
		for i, j := 0, len(terms)-1; i < j; i, j = i+1, j-1 {
			terms[i], terms[j] = terms[j], terms[i]
		}
	}
	for _, t := range terms {
		tb, err := w.e.lookup(fTime, t)
		if err != nil {
			return err
		}
		in := and(w.r, tb)
		n := in.card()
		if n == 0 {
			continue
		}
		if w.skip >= n {
			w.skip -= n
			continue
		}
		if t[0] != 'H' {
			if err := w.level(t); err != nil {
				return err
			}
			continue
		}
		if err := w.hour(in); err != nil {
			return err
		}
	}
	return nil
}

// hour orders the documents of one hour by their stored time (and key).
func (w *timeWalk) hour(in bits) error {
	type entry struct {
		d       docRef
		created string
		key     string
	}
	var es []entry
	want := map[string]bool{fCreated: true, "_id": true}
	for i, b := range in {
		if b == nil {
			continue
		}
		var ierr error
		b.Iterate(func(doc uint32) bool {
			f, err := w.e.stored(i, doc, want)
			if err != nil {
				ierr = err
				return false
			}
			es = append(es, entry{docRef{i, doc}, first(f[fCreated]), first(f["_id"])})
			return true
		})
		if ierr != nil {
			return ierr
		}
	}
	sort.Slice(es, func(a, b int) bool {
		x, y := es[a], es[b]
		if w.desc {
			x, y = y, x
		}
		// RFC 3339 in UTC with a variable fraction: compare as times.
		if c := compareStamp(x.created, y.created); c != 0 {
			return c < 0
		}
		return x.key < y.key
	})
	for _, en := range es {
		if w.skip > 0 {
			w.skip--
			continue
		}
		if !w.fn(en.d, en.created) {
			return errStopWalk
		}
	}
	return nil
}

func compareStamp(a, b string) int {
	ta, errA := time.Parse(time.RFC3339Nano, a)
	tb, errB := time.Parse(time.RFC3339Nano, b)
	if errA != nil || errB != nil {
		return strings.Compare(a, b)
	}
	return ta.Compare(tb)
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
