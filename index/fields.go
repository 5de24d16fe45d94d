package index

import (
	"reflect"
	"sync"
	"unsafe"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/document"
	bindex "github.com/blevesearch/bleve_index_api"
)

// termsField is a field of a bleve document whose terms osmarc has made
// already: its term frequencies are built directly, without a token per
// term nor bleve's analysis (which builds the same map from tokens). The
// terms are what the mapping's analyser makes of the field's text (Mapping
// describes them to bleve; TestMappingDescribesTheIndex checks they are
// the same); indexing is most of a capture's CPU, and a document has
// about a hundred terms in some thirty fields.
type termsField struct {
	name  string
	pos   []uint64
	value []byte
	opt   bindex.FieldIndexingOptions
	freqs bindex.TokenFrequencies
	n     int // terms before duplicates are counted together
	size  int // of freqs, counted as they were made
}

var _ document.Field = (*termsField)(nil)

func (f *termsField) Name() string                                      { return f.name }
func (f *termsField) ArrayPositions() []uint64                          { return f.pos }
func (f *termsField) Options() bindex.FieldIndexingOptions              { return f.opt }
func (f *termsField) Analyze()                                          {}
func (f *termsField) Value() []byte                                     { return f.value }
func (f *termsField) NumPlainTextBytes() uint64                         { return uint64(len(f.value)) }
func (f *termsField) EncodedFieldType() byte                            { return 't' }
func (f *termsField) AnalyzedLength() int                               { return f.n }
func (f *termsField) AnalyzedTokenFrequencies() bindex.TokenFrequencies { return f.freqs }

// Size is the field's memory, as bleve accounts for it: bleve asks for
// it of every field of every document, so it is counted as the terms are
// added, not by walking them.
func (f *termsField) Size() int {
	return 64 + len(f.name) + len(f.value) + 8*len(f.pos) + f.size
}

// termSize is what one distinct term adds to a field's Size: its map
// entry and its record.
func termSize(term []byte) int { return 48 + 2*len(term) + tokenFreqSize }

var tokenFreqSize = int(reflect.TypeOf(bindex.TokenFreq{}).Size())

// freqBuilder collects a field's terms, counting repeats, with the terms'
// records allocated together.
type freqBuilder struct {
	opt   bindex.FieldIndexingOptions
	freqs bindex.TokenFrequencies
	recs  []bindex.TokenFreq
	n     int
	size  int
}

func newFreqs(opt bindex.FieldIndexingOptions, size int) *freqBuilder {
	return &freqBuilder{opt: opt, freqs: make(bindex.TokenFrequencies, size), recs: make([]bindex.TokenFreq, 0, size)}
}

// add counts term, which the builder keeps: the caller does not change
// it afterwards. The map's key is term's own bytes, not a copy (a copy
// was a quarter of a document's allocations); bleve only reads them.
func (b *freqBuilder) add(term []byte) {
	b.n++
	tf, ok := b.freqs[string(term)]
	if !ok {
		if len(b.recs) == cap(b.recs) {
			b.recs = make([]bindex.TokenFreq, 0, max(8, cap(b.recs)))
		}
		b.recs = append(b.recs, bindex.TokenFreq{Term: term})
		tf = &b.recs[len(b.recs)-1]
		b.freqs[unsafe.String(unsafe.SliceData(term), len(term))] = tf
		b.size += termSize(term)
	}
	if !b.opt.SkipFreqNorm() {
		tf.SetFrequency(tf.Frequency() + 1)
	}
}

func (b *freqBuilder) field(name string, pos []uint64, value []byte) *termsField {
	return &termsField{name: name, pos: pos, value: value, opt: b.opt, freqs: b.freqs, n: b.n, size: b.size}
}

// plainField is a field of plain words: ts are the plain analyser's
// tokens of value.
func plainField(name string, pos []uint64, value []byte, opt bindex.FieldIndexingOptions, ts analysis.TokenStream) *termsField {
	b := newFreqs(opt, len(ts))
	for _, t := range ts {
		b.add(t.Term)
	}
	return b.field(name, pos, value)
}

// pairField is the field of the pairs of adjacent plain words of ts, each
// pair the two words and a space (what AnalyserBigram makes), their bytes
// in one allocation: the pairs of two words common by rule (every pair
// when rule is nil).
func pairField(name string, pos []uint64, opt bindex.FieldIndexingOptions, ts analysis.TokenStream, rule *pairRule) *termsField {
	if len(ts) < 2 {
		return newFreqs(opt, 0).field(name, pos, nil)
	}
	size := 0
	for i := 0; i+1 < len(ts); i++ {
		size += len(ts[i].Term) + 1 + len(ts[i+1].Term)
	}
	buf := make([]byte, 0, size)
	b := newFreqs(opt, len(ts)-1)
	for i := 0; i+1 < len(ts); i++ {
		if !rule.common(ts[i].Term) || !rule.common(ts[i+1].Term) {
			continue
		}
		start := len(buf)
		buf = append(buf, ts[i].Term...)
		buf = append(buf, ' ')
		buf = append(buf, ts[i+1].Term...)
		b.add(buf[start:len(buf):len(buf)])
	}
	return b.field(name, pos, nil)
}

// rareField is the field of the plain words of ts that rule finds rare,
// whose pairs pairField left out; nil if there are none.
func rareField(name string, opt bindex.FieldIndexingOptions, ts analysis.TokenStream, rule *pairRule) *termsField {
	if rule == nil {
		return nil
	}
	var b *freqBuilder
	for _, t := range ts {
		if !rule.common(t.Term) {
			if b == nil {
				b = newFreqs(opt, len(ts))
			}
			b.add(t.Term)
		}
	}
	if b == nil {
		return nil
	}
	return b.field(name, nil, nil)
}

// pairRule says which words of a batch of documents are common enough
// for the pairs they make to be indexed.
//
// Most distinct pairs of adjacent words in real text occur once, and each
// is a term of the index: on text worded as real text is, the pairs were
// about two fifths of an import's CPU. A pair is needed where both its
// words are common: each is in many documents, and only the pair finds the
// few where they are adjacent. Where either word is rare, the documents
// holding both are few, and reading their stored text finds the phrase
// as surely (engine.phrase). So a batch large enough to tell (pairBatch
// documents or more) indexes the pair of two words only when each is in
// at least one in rarePer of the batch's documents, and indexes the
// document's other words in fTextRare: the documents whose text a phrase
// search must read are those holding both words where either is there. A
// smaller batch, or a nil rule, indexes every pair, as every index before
// this rule did; either kind of document is found by the same search.
type pairRule struct {
	df  map[string]int // documents of the batch holding each word
	min int            // fewer is rare
}

const (
	pairBatch = 200
	rarePer   = 100
)

// newPairRule is the rule of a batch whose documents' plain tokens are
// toks: nil (every pair) for a batch of fewer than pairBatch.
func newPairRule(toks []analysis.TokenStream) *pairRule {
	if len(toks) < pairBatch {
		return nil
	}
	r := &pairRule{df: make(map[string]int, 4*len(toks)), min: max(2, (len(toks)+rarePer-1)/rarePer)}
	seen := map[string]bool{}
	for _, ts := range toks {
		clear(seen)
		for _, t := range ts {
			if !seen[string(t.Term)] {
				seen[string(t.Term)] = true
				r.df[string(t.Term)]++
			}
		}
	}
	return r
}

// common says whether the pairs of word w are indexed.
func (r *pairRule) common(w []byte) bool { return r == nil || r.df[string(w)] >= r.min }

// weightedField is the field of the stems of the plain tokens ts in a
// language (the analyser's own filters applied to ts), weighed: each stem
// once, with its weight tier in the text (weigh, tierTerm).
func weightedField(name, lang string, opt bindex.FieldIndexingOptions, ts analysis.TokenStream) *termsField {
	c := stemCaches.Get().(*stemCache)
	defer stemCaches.Put(c)
	tf := make(map[string]int, len(ts))
	order := make([]string, 0, len(ts))
	size, n := 0, 0
	for _, t := range ts {
		for _, s := range c.stems(lang, t) {
			n++
			k := tf[s]
			if k == 0 {
				order = append(order, s)
				size += len(s) + len(tierSep) + 1
			}
			tf[s] = k + 1
		}
	}
	buf := make([]byte, 0, size)
	b := newFreqs(opt, len(order))
	for _, s := range order {
		start := len(buf)
		buf = append(buf, s...)
		buf = append(buf, tierSep...)
		buf = append(buf, byte('a'+tierOf(tf[s], n)))
		b.add(buf[start:len(buf):len(buf)])
	}
	return b.field(name, nil, nil)
}

// stemCache remembers what a language analyser's own filters make of a
// plain word. Each of them (possessives, elision, stop words, the
// stemmers) works on one token at a time, so a word has the same stem, or
// is dropped, wherever it is; texts repeat words, and stemming each
// occurrence was a tenth of indexing.
type stemCache struct {
	byLang map[string]map[string][]string // analyser → plain word → its terms (none for a stop word)
}

// maxCachedStems bounds a language's cache: past it, it starts again
// empty.
const maxCachedStems = 1 << 16

var stemCaches = sync.Pool{New: func() any { return &stemCache{byLang: map[string]map[string][]string{}} }}

// stems are the terms the language analyser lang makes of the plain token
// t: its stem, or none.
func (c *stemCache) stems(lang string, t *analysis.Token) []string {
	m := c.byLang[lang]
	if m == nil {
		m = map[string][]string{}
		c.byLang[lang] = m
	}
	if st, ok := m[string(t.Term)]; ok {
		return st
	}
	var st []string
	for _, o := range analyser(lang).(*chain).derive(analysis.TokenStream{t}) {
		st = append(st, string(o.Term))
	}
	if len(m) >= maxCachedStems {
		clear(m)
	}
	m[string(t.Term)] = st
	return st
}

// newKeywordField is a field of one term, the value itself; a field that
// is only stored has no terms at all.
func newKeywordField(name, v string, opt bindex.FieldIndexingOptions) *termsField {
	value := []byte(v)
	if !opt.IsIndexed() {
		return &termsField{name: name, value: value, opt: opt}
	}
	b := newFreqs(opt, 1)
	b.add(value)
	return b.field(name, nil, value)
}

// keywordsField is a field, indexed and not stored, whose terms are the
// values themselves: one field for all of them rather than one each,
// which bleve would merge term by term.
func keywordsField(name string, vs []string, opt bindex.FieldIndexingOptions) *termsField {
	b := newFreqs(opt, len(vs))
	for _, v := range vs {
		b.add([]byte(v))
	}
	return b.field(name, nil, nil)
}

// sharedFields are the keyword fields whose values repeat from one item to
// the next (the platform, the account, the kind, a flag, the capture that
// staged it, …). Documents share one field for each of their values
// (keywordCache): bleve only reads a document's fields, and a field of one
// term is four allocations, which for a dozen such fields were a fifth of
// what an item's document allocated.
var sharedFields = map[string]bool{
	fAuthorID: true, fHandle: true, fName: true, fPlatform: true, fAccount: true, fAccountLC: true,
	fKind: true, fLang: true, fClass: true, fSchedule: true, fRemoved: true, fEdited: true,
	fOrigin: true, fLinkOnly: true, fStaged: true,
}

// keywordCache holds the shared fields made so far, up to
// maxSharedValues values a field: past that, the field's other values are
// made for each document. Each goroutine building documents takes one
// from keywordCaches for all the documents it builds.
type keywordCache struct {
	byField map[string]map[string]*termsField
}

const maxSharedValues = 256

var keywordCaches = sync.Pool{New: func() any { return &keywordCache{byField: map[string]map[string]*termsField{}} }}

// keyword is the keyword field of v: the one made before for the same
// value if the field is one of sharedFields, a new one otherwise.
func (c *keywordCache) keyword(name, v string, opt bindex.FieldIndexingOptions) *termsField {
	if !sharedFields[name] {
		return newKeywordField(name, v, opt)
	}
	m := c.byField[name]
	if m == nil {
		m = map[string]*termsField{}
		c.byField[name] = m
	}
	if f, ok := m[v]; ok && f.opt == opt {
		return f
	}
	f := newKeywordField(name, v, opt)
	if len(m) < maxSharedValues {
		m[v] = f
	}
	return f
}
