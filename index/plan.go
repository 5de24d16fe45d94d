package index

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/analysis"
)

// hlTerms are the terms a query looks for in the text, for snippets.
type hlTerms struct {
	plain map[string]bool
	lang  map[string]map[string]bool // analyser name → terms
}

func newHL() *hlTerms {
	return &hlTerms{plain: map[string]bool{}, lang: map[string]map[string]bool{AnalyserEnglish: {}, AnalyserFrench: {}}}
}

// maxHighlight bounds the terms of one wildcard kept for snippets.
const maxHighlight = 200

// leaf is one evaluated clause.
type leaf struct {
	c     clause
	match bits
	// terms in the language fields that score it (relevance).
	score []langTerm
}

// langTerm is a stem of a language field (text_en_w or text_fr_w).
type langTerm struct {
	field, term string
}

// plan is a query evaluated on one snapshot: its matches and what
// relevance and snippets need.
type plan struct {
	e      *engine
	match  bits
	leaves []*leaf // must and should leaves, which score
	hl     *hlTerms
}

// compile evaluates a parsed query with extra filter clauses (each must
// match, none scores).
func (e *engine) compile(p *parsed, filters []bits) (*plan, error) {
	pl := &plan{e: e, hl: newHL()}
	var musts, shoulds, nots []bits
	for _, c := range p.clauses {
		lf := &leaf{c: c}
		var err error
		lf.match, lf.score, err = e.clause(c, pl.hl)
		if err != nil {
			return nil, err
		}
		switch c.occur {
		case must:
			musts = append(musts, lf.match)
			pl.leaves = append(pl.leaves, lf)
		case should:
			shoulds = append(shoulds, lf.match)
			pl.leaves = append(pl.leaves, lf)
		case mustNot:
			nots = append(nots, lf.match)
		}
	}
	var r bits
	switch {
	case len(musts) > 0:
		r = musts[0]
		for _, m := range musts[1:] {
			r = and(r, m)
		}
		// Plain clauses beside required ones only rank.
	case len(shoulds) > 0:
		r = e.empty()
		for i := range e.segs {
			parts := make([]*roaring.Bitmap, 0, len(shoulds))
			for _, s := range shoulds {
				parts = append(parts, s[i])
			}
			r[i] = union(parts...)
		}
	default:
		r = e.all()
	}
	for _, f := range filters {
		r = and(r, f)
	}
	for _, n := range nots {
		r = andNot(r, n)
	}
	pl.match = r
	return pl, nil
}

// clause evaluates one clause.
func (e *engine) clause(c clause, hl *hlTerms) (bits, []langTerm, error) {
	qerr := func(format string, args ...any) error {
		return &QueryError{Column: c.col, Msg: fmt.Sprintf(format, args...)}
	}
	switch c.field {
	case "", "text", "history":
		return e.textClause(c, hl, qerr)
	case "author":
		return e.authorClause(c, qerr)
	case "created":
		var lo, hi time.Time
		s, end, err := parseDateBound(c.text)
		if err != nil {
			return nil, nil, qerr("%v", err)
		}
		switch c.op {
		case "":
			lo, hi = s, end
		case ">":
			lo = end
		case ">=":
			lo = s
		case "<":
			hi = s
		case "<=":
			hi = end
		}
		b, err := e.timeRange(lo, hi)
		return b, nil, err
	case "year":
		if len(c.text) != 4 || strings.Trim(c.text, "0123456789") != "" {
			return nil, nil, qerr("year:%s is not a year like 2024", c.text)
		}
		b, err := e.term(fTime, "Y"+c.text)
		return b, nil, err
	case fHold:
		if e.holdScope != nil {
			b, err := e.hold(c.text)
			if err != nil {
				return nil, nil, qerr("%v", err)
			}
			return b, nil, nil
		}
		return e.keywordClause(c, qerr)
	case "key":
		out := e.empty()
		for i, s := range e.segs {
			b, err := s.ss.DocNumbers([]string{c.text})
			if err != nil {
				return nil, nil, fmt.Errorf("index: look up key: %w", err)
			}
			out[i] = b
		}
		return out, nil, nil
	}
	return e.keywordClause(c, qerr)
}

// keywordValue normalises a value of a keyword field as the index holds
// it, and names the field it is matched in.
func keywordValue(field, v string) (string, string, error) {
	switch field {
	case fAccount:
		return fAccountLC, strings.ToLower(v), nil
	case fPlatform, fKind, fLang, fClass, fSchedule, fExemption, fHold:
		return field, strings.ToLower(v), nil
	case fOrigin:
		switch strings.ToLower(v) {
		case OriginAccount, "self", "own":
			return field, OriginAccount, nil
		case OriginPublic, "other", "others":
			return field, OriginPublic, nil
		}
		return "", "", fmt.Errorf("origin:%s: want account (the account itself wrote it) or public", v)
	case fMedia:
		switch v = strings.ToLower(v); v {
		case "yes", "y", "1", "any":
			v = "true"
		case "no", "n", "0", "none":
			v = "false"
		}
		return field, v, nil
	case fLinkOnly:
		_, b, err := keywordValue(fRemoved, v) // a boolean, read as removed: reads one
		if err != nil {
			return "", "", fmt.Errorf("linkonly:%s: want true or false", v)
		}
		return fLinkOnly, b, nil
	case fHashtag:
		return field, normTag(v), nil
	case fMention:
		return field, normHandle(v), nil
	case fRemoved, fEdited:
		switch strings.ToLower(v) {
		case "true", "yes", "y", "1":
			return field, "true", nil
		case "false", "no", "n", "0":
			return field, "false", nil
		}
		return "", "", fmt.Errorf("%s:%s: want true or false", field, v)
	}
	return field, v, nil
}

func (e *engine) keywordClause(c clause, qerr func(string, ...any) error) (bits, []langTerm, error) {
	field, v, err := keywordValue(c.field, c.text)
	if err != nil {
		return nil, nil, qerr("%v", err)
	}
	switch c.kind {
	case leafWildcard, leafRegexp:
		pattern := c.text
		switch field {
		case fLink, fParent, fThread: // kept as given
		case fHashtag, fMention:
			pattern = strings.ToLower(strings.TrimLeft(pattern, "#@"))
		default:
			pattern = strings.ToLower(pattern)
		}
		terms, err := e.regexpTerms(field, pattern, c)
		if err != nil {
			return nil, nil, err
		}
		b, err := e.terms(field, terms)
		return b, nil, err
	}
	if field == fLang {
		// lang:fr is French of every region: fr, fr-ca, fr-be…
		terms, err := e.prefixTerms(fLang, v+"-")
		if err != nil {
			return nil, nil, err
		}
		b, err := e.terms(fLang, append(terms, v))
		return b, nil, err
	}
	b, err := e.term(field, v)
	return b, nil, err
}

// regexpTerms expands a regular expression over a field's terms.
func (e *engine) regexpTerms(field, pattern string, c clause) ([]string, error) {
	fd, err := e.snap.FieldDictRegexp(field, pattern)
	if err != nil {
		return nil, &QueryError{Column: c.col, Msg: fmt.Sprintf("bad pattern %q: %v", c.text, err)}
	}
	terms, err := dictTerms(fd, nil, maxExpansion, fmt.Sprintf("pattern %q", c.text))
	if err != nil {
		return nil, &QueryError{Column: c.col, Msg: err.Error()}
	}
	return terms, nil
}

// textFields are the plain and pair fields a text clause searches, and
// beside each pair field the field of the words it left out of pairs
// (pairRule), "" if it leaves none out.
func textFields(field string) (plain, pairs, rare []string) {
	switch field {
	case "text":
		return []string{fText}, []string{fTextBi}, []string{fTextRare}
	case "history":
		return []string{fHistory}, []string{fHistoryBi}, []string{""}
	}
	return []string{fText, fHistory}, []string{fTextBi, fHistoryBi}, []string{fTextRare, ""}
}

func (e *engine) textClause(c clause, hl *hlTerms, qerr func(string, ...any) error) (bits, []langTerm, error) {
	plainFields, pairFields, rareFields := textFields(c.field)
	langs := c.field != "history"
	switch c.kind {
	case leafWildcard, leafRegexp:
		pattern := c.text
		if c.kind == leafWildcard {
			pattern = string(foldTerm([]byte(strings.ToLower(pattern))))
		}
		out := e.empty()
		for _, f := range plainFields {
			terms, err := e.regexpTerms(f, pattern, c)
			if err != nil {
				return nil, nil, err
			}
			b, err := e.terms(f, terms)
			if err != nil {
				return nil, nil, err
			}
			out = or(out, b)
			hl.addPlain(terms)
		}
		return out, nil, nil
	case leafPhrase:
		toks := analyse(AnalyserPlain, c.text)
		b, err := e.phrase(toks, plainFields, pairFields, rareFields)
		if err != nil {
			return nil, nil, err
		}
		hl.addPlain(toks)
		var score []langTerm
		if langs {
			for _, name := range []string{AnalyserEnglish, AnalyserFrench} {
				for _, t := range analyse(name, c.text) {
					score = append(score, langTerm{langField(name), t})
					hl.lang[name][t] = true
				}
			}
		}
		return b, score, nil
	}
	toks := analyse(AnalyserPlain, c.text)
	switch {
	case len(toks) == 0:
		return e.empty(), nil, nil
	case len(toks) > 1 && c.fuzzy == 0:
		// A word the analyser splits ("3rd-brigade", "e-mail") is the
		// phrase of its parts.
		c.kind = leafPhrase
		return e.textClause(c, hl, qerr)
	}
	t := toks[0]
	out := e.empty()
	if c.fuzzy > 0 {
		for _, f := range plainFields {
			fd, err := e.snap.FieldDictFuzzy(f, t, c.fuzzy, "")
			terms, err := dictTerms(fd, err, maxExpansion, fmt.Sprintf("%s~%d", c.text, c.fuzzy))
			if err != nil {
				return nil, nil, qerr("%v", err)
			}
			b, err := e.terms(f, terms)
			if err != nil {
				return nil, nil, err
			}
			out = or(out, b)
			hl.addPlain(terms)
		}
		return out, nil, nil
	}
	hl.plain[t] = true
	// The word's documents in each field, united once at the end: a
	// common word's fields each hold hundreds of thousands of documents,
	// and uniting them two at a time copied the union at every step.
	var parts []bits
	for _, f := range plainFields {
		b, err := e.term(f, t)
		if err != nil {
			return nil, nil, err
		}
		parts = append(parts, b)
	}
	var score []langTerm
	var stems []*stem
	if langs {
		for _, name := range []string{AnalyserEnglish, AnalyserFrench} {
			lt := analyse(name, c.text)
			if len(lt) != 1 {
				continue // a stop word: the plain field found it
			}
			st, err := e.stem(langField(name), lt[0])
			if err != nil {
				return nil, nil, err
			}
			stems = append(stems, st)
			score = append(score, langTerm{langField(name), lt[0]})
			hl.lang[name][lt[0]] = true
		}
	}
	for i := range out {
		segParts := make([]*roaring.Bitmap, 0, len(parts)+2*(maxTier+1))
		for _, p := range parts {
			segParts = append(segParts, p[i])
		}
		for _, st := range stems {
			segParts = append(segParts, st.parts(i)...)
		}
		out[i] = union(segParts...)
	}
	return out, score, nil
}

func langField(analyserName string) string {
	if analyserName == AnalyserFrench {
		return fTextFR
	}
	return fTextEN
}

func (h *hlTerms) addPlain(terms []string) {
	for i, t := range terms {
		if i >= maxHighlight {
			return
		}
		h.plain[t] = true
	}
}

// phrase finds a sequence of plain words in the given stored fields: one
// word by its term, two by their pair, more by all their pairs and then a
// check of the stored text. Where a document may hold a pair without its
// term (either word was rare in its batch, rareFields, see pairRule), it
// is a candidate if it holds both words, and its stored text is checked.
func (e *engine) phrase(toks []string, plainFields, pairFields, rareFields []string) (bits, error) {
	out := e.empty()
	switch len(toks) {
	case 0:
		return out, nil
	case 1:
		for _, f := range plainFields {
			b, err := e.term(f, toks[0])
			if err != nil {
				return nil, err
			}
			out = or(out, b)
		}
		return out, nil
	}
	for fi, f := range pairFields {
		var cand bits
		unsure := e.empty() // candidates by unpaired, whose text is checked
		for i := 0; i+1 < len(toks); i++ {
			b, err := e.term(f, toks[i]+" "+toks[i+1])
			if err != nil {
				return nil, err
			}
			if rareFields[fi] != "" {
				m, err := e.unpaired(plainFields[fi], rareFields[fi], toks[i], toks[i+1])
				if err != nil {
					return nil, err
				}
				if m != nil {
					m = andNot(m, b)
					b, unsure = or(b, m), or(unsure, m)
				}
			}
			if cand == nil {
				cand = b
			} else {
				cand = and(cand, b)
			}
		}
		var err error
		switch {
		case len(toks) > 2:
			cand, err = e.verifyPhrase(cand, plainFields[fi], toks)
		case unsure.card() > 0:
			var checked bits
			checked, err = e.verifyPhrase(and(cand, unsure), plainFields[fi], toks)
			cand = or(andNot(cand, unsure), checked)
		}
		if err != nil {
			return nil, err
		}
		out = or(out, cand)
	}
	return out, nil
}

// unpaired are the documents that may hold the words a and b adjacent
// without their pair's term: those holding both, where either is in the
// field of words left out of pairs (rare). nil if there are none.
func (e *engine) unpaired(plain, rare, a, b string) (bits, error) {
	out, err := e.terms(rare, []string{a, b})
	if err != nil || out.card() == 0 {
		return nil, err
	}
	for _, w := range []string{a, b} {
		p, err := e.term(plain, w)
		if err != nil {
			return nil, err
		}
		out = and(out, p)
	}
	return out, nil
}

// verifyPhrase keeps the candidates whose stored field holds the words in
// sequence. A text is analysed only if it may hold every word (mayHold):
// analysing each candidate's text was most of a phrase's time where the
// candidates are many (words left out of pairs, pairRule).
func (e *engine) verifyPhrase(cand bits, field string, toks []string) (bits, error) {
	needles := phraseNeedles(toks)
	plain := analyser(AnalyserPlain)
	return e.filterStored(cand, field, func(v []byte) bool {
		return mayHold(v, needles) && holdsSeq(plain.Analyze(v), toks)
	})
}

// verifyChunk is the fewest candidates filterStored gives a goroutine of
// its own.
const verifyChunk = 256

// docRun is a run of one segment's documents, in order.
type docRun struct {
	seg  int
	docs []uint32
}

// filterStored keeps the documents of cand one of whose stored values of
// field keep accepts. The values are read without copying (keep must not
// retain them), and where the candidates are many, on every core, each
// goroutine a run of them in document order, across segments: a phrase
// with a word left out of pairs reads the text of up to one in a hundred
// items, and an index fresh from an import has them in a dozen segments.
func (e *engine) filterStored(cand bits, field string, keep func(v []byte) bool) (bits, error) {
	out := e.empty()
	var runs []docRun
	total := 0
	for i, b := range cand {
		if b == nil {
			continue
		}
		out[i] = roaring.New()
		if !b.IsEmpty() {
			runs = append(runs, docRun{i, b.ToArray()})
			total += len(runs[len(runs)-1].docs)
		}
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), 8, total/verifyChunk))
	parts := make([][]docRun, workers)
	per, w := (total+workers-1)/workers, 0
	room := per
	for _, r := range runs {
		for len(r.docs) > 0 {
			if room == 0 {
				w, room = w+1, per
			}
			k := min(room, len(r.docs))
			parts[w] = append(parts[w], docRun{r.seg, r.docs[:k]})
			r.docs, room = r.docs[k:], room-k
		}
	}
	kept := make([][]docRun, workers)
	errs := make([]error, workers)
	check := func(w int) {
		for _, r := range parts[w] {
			docs, err := e.keepStored(r.seg, r.docs, field, keep)
			if err != nil {
				errs[w] = err
				return
			}
			kept[w] = append(kept[w], docRun{r.seg, docs})
		}
	}
	if workers == 1 {
		check(0)
	} else {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() { check(w) })
		}
		wg.Wait()
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, k := range kept {
		for _, r := range k {
			out[r.seg].AddMany(r.docs)
		}
	}
	return out, nil
}

// keepStored is the documents of segment seg among docs one of whose
// stored values of field keep accepts.
func (e *engine) keepStored(seg int, docs []uint32, field string, keep func(v []byte) bool) ([]uint32, error) {
	var out []uint32
	for _, doc := range docs {
		held := false
		err := e.segs[seg].ss.VisitDocument(uint64(doc), func(f string, _ byte, v []byte, _ []uint64) bool {
			if f == field && keep(v) {
				held = true
				return false
			}
			return true
		})
		if err != nil {
			return nil, fmt.Errorf("index: read document: %w", err)
		}
		if held {
			out = append(out, doc)
		}
	}
	return out, nil
}

// phraseNeedles are the words of a phrase as a text holding the phrase
// holds them once lower-cased and folded: every word the plain analyser
// makes of a text is its lower-cased, folded bytes, except a British
// spelling it turns American (variantFilter) and a Greek word's final
// sigma, which it lower-cases to ς where bytes.ToLower gives σ. nil if
// the phrase has a word either may have made.
func phraseNeedles(toks []string) [][]byte {
	var out [][]byte
	for _, t := range toks {
		if len(t) >= 3 && americanHeads[t[:3]] || strings.ContainsRune(t, 'ς') {
			return nil
		}
		out = append(out, []byte(t))
	}
	return out
}

// americanHeads are the first three letters of the American stems
// variantFilter makes.
var americanHeads = func() map[string]bool {
	m := map[string]bool{}
	for _, am := range variantStems {
		m[am[:3]] = true
	}
	return m
}()

// mayHold says whether text, lower-cased and folded, holds the needles in
// sequence, apart only by what cannot be in a word: no ASCII letter or
// digit (the analyser's words take every one). If not, the plain analyser
// cannot make the phrase of it; if so, it may (a needle inside a longer
// word passes too), and the text is analysed. Without needles, true.
func mayHold(text []byte, needles [][]byte) bool {
	if len(needles) == 0 {
		return true
	}
	buf := foldBufs.Get().(*[]byte)
	defer foldBufs.Put(buf)
	*buf = lowerFold((*buf)[:0], text)
	folded := *buf
	for from := 0; ; {
		i := bytes.Index(folded[from:], needles[0])
		if i < 0 {
			return false
		}
		at := from + i
		if followedBy(folded[at+len(needles[0]):], needles[1:]) {
			return true
		}
		from = at + 1
	}
}

// foldBufs hold mayHold's folded texts.
var foldBufs = sync.Pool{New: func() any { return new([]byte) }}

// followedBy says whether b starts with the needles, each after a gap of
// bytes that are not ASCII letters or digits.
func followedBy(b []byte, needles [][]byte) bool {
	for _, n := range needles {
		j := 0
		for j < len(b) && !isASCIIAlnum(b[j]) && !bytes.HasPrefix(b[j:], n) {
			j++
		}
		if !bytes.HasPrefix(b[j:], n) {
			return false
		}
		b = b[j+len(n):]
	}
	return true
}

func isASCIIAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// holdsSeq says whether the terms of ts hold needle in sequence.
func holdsSeq(ts analysis.TokenStream, needle []string) bool {
	for i := 0; i+len(needle) <= len(ts); i++ {
		ok := true
		for j := range needle {
			if string(ts[i+j].Term) != needle[j] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func (e *engine) authorClause(c clause, qerr func(string, ...any) error) (bits, []langTerm, error) {
	switch c.kind {
	case leafWildcard, leafRegexp:
		pattern := c.text
		if c.kind == leafWildcard {
			pattern = string(foldTerm([]byte(strings.ToLower(strings.TrimPrefix(pattern, "@")))))
		}
		out := e.empty()
		for _, f := range []string{fAuthor, fHandle} {
			terms, err := e.regexpTerms(f, pattern, c)
			if err != nil {
				return nil, nil, err
			}
			b, err := e.terms(f, terms)
			if err != nil {
				return nil, nil, err
			}
			out = or(out, b)
		}
		return out, nil, nil
	}
	out := e.empty()
	// The handle or id, whole.
	for _, ft := range [][2]string{{fHandle, normHandle(c.text)}, {fAuthorID, c.text}} {
		b, err := e.term(ft[0], ft[1])
		if err != nil {
			return nil, nil, err
		}
		out = or(out, b)
	}
	toks := analyse(AnalyserPlain, c.text)
	if c.fuzzy > 0 && len(toks) == 1 {
		fd, err := e.snap.FieldDictFuzzy(fAuthor, toks[0], c.fuzzy, "")
		terms, err := dictTerms(fd, err, maxExpansion, c.text)
		if err != nil {
			return nil, nil, qerr("%v", err)
		}
		b, err := e.terms(fAuthor, terms)
		if err != nil {
			return nil, nil, err
		}
		return or(out, b), nil, nil
	}
	// Words of the name and handle, in sequence when more than one.
	var words bits
	for _, t := range toks {
		b, err := e.term(fAuthor, t)
		if err != nil {
			return nil, nil, err
		}
		if words == nil {
			words = b
		} else {
			words = and(words, b)
		}
	}
	if len(toks) > 1 {
		var err error
		if words, err = e.verifyAuthor(words, toks); err != nil {
			return nil, nil, err
		}
	}
	if words != nil {
		out = or(out, words)
	}
	return out, nil, nil
}

func (e *engine) verifyAuthor(cand bits, toks []string) (bits, error) {
	out := e.empty()
	want := map[string]bool{fName: true, fHandle: true}
	for i, b := range cand {
		if b == nil {
			continue
		}
		keep := roaring.New()
		var ierr error
		b.Iterate(func(doc uint32) bool {
			f, err := e.stored(i, doc, want)
			if err != nil {
				ierr = err
				return false
			}
			who := strings.Join(append(f[fName], f[fHandle]...), " ")
			if holdsSeq(analyser(AnalyserPlain).Analyze([]byte(who)), toks) {
				keep.Add(doc)
			}
			return true
		})
		if ierr != nil {
			return nil, ierr
		}
		out[i] = keep
	}
	return out, nil
}
