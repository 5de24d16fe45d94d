package index

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/lang/fr"
	"github.com/blevesearch/bleve/v2/analysis/token/elision"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	"github.com/blevesearch/bleve/v2/analysis/token/shingle"
	"github.com/blevesearch/bleve/v2/analysis/token/stop"
	bunicode "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/registry"
)

// Analyser names, as the bleve mapping records them.
const (
	// AnalyserPlain finds exact words: Unicode word breaks, lower case,
	// diacritics folded, British and American spellings joined; no
	// stemming, no stop words.
	AnalyserPlain = "osmarc_plain"
	// AnalyserEnglish adds English possessives, stop words and the Porter
	// stemmer to the plain analyser's output.
	AnalyserEnglish = "osmarc_en"
	// AnalyserFrench adds French elision (l', d', qu'…), stop words and
	// the light French stemmer to the plain analyser's output.
	AnalyserFrench = "osmarc_fr"
	// AnalyserBigram makes the pairs of adjacent plain words ("road
	// closure") that two-word phrases are looked up by.
	AnalyserBigram = "osmarc_bigram"
	// AnalyserEnglishWeighted and AnalyserFrenchWeighted make each stem
	// of a text once, with its weight tier (see score.go).
	AnalyserEnglishWeighted = "osmarc_en_w"
	AnalyserFrenchWeighted  = "osmarc_fr_w"
)

// chain is an analyser made of another one's output and more filters:
// the language analysers are the plain one followed by their own filters,
// so indexing tokenises a text once and derives both from it.
type chain struct {
	base    analysis.Analyzer
	filters []analysis.TokenFilter
}

func (c *chain) Analyze(in []byte) analysis.TokenStream {
	return c.derive(c.base.Analyze(in))
}

// derive applies the chain's own filters to a copy of tokens the base
// analyser made; the originals stay as they were.
func (c *chain) derive(base analysis.TokenStream) analysis.TokenStream {
	ts := make(analysis.TokenStream, len(base))
	for i, t := range base {
		cp := *t
		cp.Term = append([]byte(nil), t.Term...)
		ts[i] = &cp
	}
	for _, f := range c.filters {
		ts = f.Filter(ts)
	}
	return ts
}

// analysers are built once; bleve's analysers are safe for concurrent use.
var analysers = sync.OnceValue(func() map[string]analysis.Analyzer {
	plain := &analysis.DefaultAnalyzer{Tokenizer: bunicode.NewUnicodeTokenizer(),
		TokenFilters: []analysis.TokenFilter{lowercase.NewLowerCaseFilter(), foldFilter{}, variantFilter{}}}
	articles := analysis.NewTokenMap()
	articles.LoadBytes(fr.FrenchArticles)
	return map[string]analysis.Analyzer{
		AnalyserPlain: plain,
		AnalyserEnglish: &chain{base: plain, filters: []analysis.TokenFilter{
			en.NewPossessiveFilter(), stop.NewStopTokensFilter(foldedTokenMap(en.EnglishStopWords)), porter.NewPorterStemmer()}},
		AnalyserFrench: &chain{base: plain, filters: []analysis.TokenFilter{
			elision.NewElisionFilter(articles), stop.NewStopTokensFilter(foldedTokenMap(fr.FrenchStopWords)), fr.NewFrenchLightStemmerFilter()}},
		AnalyserBigram: &chain{base: plain, filters: []analysis.TokenFilter{shingle.NewShingleFilter(2, 2, false, " ", "")}},
	}
})

// weightedAnalyser is a language analyser whose output is weighed.
type weightedAnalyser struct{ lang string }

func (w weightedAnalyser) Analyze(in []byte) analysis.TokenStream {
	return weigh(analyser(w.lang).Analyze(in))
}

// weigh turns a language analyser's tokens into one token per stem, its
// term the stem with its weight tier in the text.
func weigh(lts analysis.TokenStream) analysis.TokenStream {
	tf := map[string]int{}
	var order []string
	for _, t := range lts {
		if tf[string(t.Term)] == 0 {
			order = append(order, string(t.Term))
		}
		tf[string(t.Term)]++
	}
	out := make(analysis.TokenStream, 0, len(order))
	for i, term := range order {
		out = append(out, &analysis.Token{Term: []byte(tierTerm(term, tierOf(tf[term], len(lts)))), Position: i + 1, Type: analysis.AlphaNumeric})
	}
	return out
}

// analyser returns one of the named analysers.
func analyser(name string) analysis.Analyzer { return analysers()[name] }

// registerAnalysers makes osmarc's analysers known to bleve by name, so an
// index mapping can name them and bleve itself can analyse with them. It is
// called explicitly by the mapping's constructor (not from init), once.
var registerAnalysers = sync.OnceFunc(func() {
	for name, lang := range map[string]string{AnalyserEnglishWeighted: AnalyserEnglish, AnalyserFrenchWeighted: AnalyserFrench} {
		_ = registry.RegisterAnalyzer(name, func(map[string]interface{}, *registry.Cache) (analysis.Analyzer, error) {
			return weightedAnalyser{lang}, nil
		})
	}
	for name := range analysers() {
		name := name
		// An error means the name is taken; ours are prefixed, so only a
		// second registration could take it, and Once prevents that.
		_ = registry.RegisterAnalyzer(name, func(map[string]interface{}, *registry.Cache) (analysis.Analyzer, error) {
			return analyser(name), nil
		})
	}
})

// languageAnalyser chooses the analyser for an item's language tag: French
// for "fr" and its regional forms ("fr-ca"), English otherwise.
func languageAnalyser(lang string) string {
	if lang == "fr" || strings.HasPrefix(lang, "fr-") || strings.HasPrefix(lang, "fr_") {
		return AnalyserFrench
	}
	return AnalyserEnglish
}

// analyse returns the terms an analyser makes of s.
func analyse(name, s string) []string {
	ts := analyser(name).Analyze([]byte(s))
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, string(t.Term))
	}
	return out
}

func foldedTokenMap(words []byte) analysis.TokenMap {
	m := analysis.NewTokenMap()
	m.LoadBytes(words)
	out := analysis.NewTokenMap()
	for w := range m {
		out.AddToken(string(foldTerm([]byte(w))))
	}
	return out
}

// foldFilter removes diacritics from lower-case terms: "défense" and
// "defense" give the same term. It changes terms only, never token offsets,
// so snippets still point into the original text.
type foldFilter struct{}

func (foldFilter) Filter(in analysis.TokenStream) analysis.TokenStream {
	for _, t := range in {
		t.Term = foldTerm(t.Term)
	}
	return in
}

// folds maps the lower-case letters of Latin-1 and Latin Extended-A that
// carry a diacritic (or are ligatures) to plain letters.
var folds = func() map[rune]string {
	m := map[rune]string{'æ': "ae", 'œ': "oe", 'ß': "ss", 'ð': "d", 'þ': "th", 'ĳ': "ij"}
	for plain, marked := range map[string]string{
		"a": "àáâãäåāăą", "c": "çćĉċč", "d": "ďđ", "e": "èéêëēĕėęě", "g": "ĝğġģ", "h": "ĥħ",
		"i": "ìíîïĩīĭįı", "j": "ĵ", "k": "ķ", "l": "ĺļľŀł", "n": "ñńņňŉ", "o": "òóôõöøōŏő",
		"r": "ŕŗř", "s": "śŝşšſ", "t": "ţťŧ", "u": "ùúûüũūŭůűų", "w": "ŵ", "y": "ýÿŷ", "z": "źżž",
	} {
		for _, r := range marked {
			m[r] = plain
		}
	}
	return m
}()

func foldTerm(term []byte) []byte {
	ascii := true
	for _, c := range term {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return term
	}
	out := make([]byte, 0, len(term))
	for _, r := range string(term) {
		out = appendFolded(out, r)
	}
	return out
}

// appendFolded appends r to b without its diacritic (foldTerm).
func appendFolded(b []byte, r rune) []byte {
	switch {
	case r < utf8.RuneSelf:
		return append(b, byte(r))
	case r >= 0x300 && r <= 0x36f: // combining marks of decomposed text
		return b
	case folds[r] != "":
		return append(b, folds[r]...)
	}
	return utf8.AppendRune(b, r)
}

// lowerFold appends to dst text lower-cased and folded: what
// foldTerm(bytes.ToLower(text)) makes, in one pass, with ASCII letters
// lower-cased by hand (a text to check for a phrase is mostly ASCII,
// and bytes.ToLower of a text with one other letter maps every rune).
func lowerFold(dst, text []byte) []byte {
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(text[i:])
		dst = appendFolded(dst, unicode.ToLower(r))
		i += n
	}
	return dst
}

// variantFilter joins British (and Canadian) spellings to American ones,
// so "defence" finds "defense" (and, folded, the French "défense"), and
// "honour" finds "honor". It works on whole words from a fixed list, with
// their common endings, never on a suffix alone ("four" stays "four").
type variantFilter struct{}

func (variantFilter) Filter(in analysis.TokenStream) analysis.TokenStream {
	for _, t := range in {
		if v, ok := variant(string(t.Term)); ok {
			t.Term = []byte(v)
		}
	}
	return in
}

// variantStems maps a British stem to its American form; variantEnds are
// the endings a stem may carry.
var variantStems = map[string]string{
	"defence": "defense", "offence": "offense", "licence": "license", "pretence": "pretense",
	"honour": "honor", "colour": "color", "labour": "labor", "favour": "favor", "neighbour": "neighbor",
	"harbour": "harbor", "armour": "armor", "armoury": "armory", "armouries": "armories", "behaviour": "behavior",
	"rumour": "rumor", "humour": "humor", "vapour": "vapor", "vigour": "vigor", "valour": "valor",
	"flavour": "flavor", "saviour": "savior", "endeavour": "endeavor", "parlour": "parlor", "odour": "odor",
	"centre": "center", "theatre": "theater", "metre": "meter", "litre": "liter", "fibre": "fiber",
	"calibre": "caliber", "sombre": "somber", "manoeuvre": "maneuver", "kilometre": "kilometer",
	"organis": "organiz", "recognis": "recogniz", "realis": "realiz", "authoris": "authoriz",
	"civilis": "civiliz", "mobilis": "mobiliz", "apologis": "apologiz", "emphasis": "emphasiz",
	"prioritis": "prioritiz", "specialis": "specializ", "utilis": "utiliz", "summaris": "summariz",
	"characteris": "characteriz", "militaris": "militariz", "modernis": "moderniz", "standardis": "standardiz",
	"catalogue": "catalog", "programme": "program", "cheque": "check", "grey": "gray", "travell": "travel",
	"jewellery": "jewelry", "aluminium": "aluminum", "enrol": "enroll",
}

var variantEnds = []string{"", "s", "d", "ed", "es", "ing", "e", "er", "ers", "ation", "ations", "able", "ful", "ite", "ites", "ist", "ists", "al", "ly"}

// variantHeads are the first three letters of the stems: most words are
// turned away by one lookup.
var variantHeads = func() map[string]bool {
	m := map[string]bool{}
	for st := range variantStems {
		m[st[:3]] = true
	}
	return m
}()

func variant(w string) (string, bool) {
	if len(w) < 4 || !variantHeads[w[:3]] {
		return "", false
	}
	// A possessive keeps its ending: "defence's" is "defense's".
	for _, poss := range []string{"'s", "’s"} {
		if base, ok := strings.CutSuffix(w, poss); ok {
			if v, ok := variant(base); ok {
				return v + poss, true
			}
			return "", false
		}
	}
	for _, end := range variantEnds {
		stem, ok := strings.CutSuffix(w, end)
		if !ok {
			continue
		}
		if am, ok := variantStems[stem]; ok {
			// "organis"+"ation" → "organiz"+"ation"; the stems that need an
			// ending ("organis") are not words on their own.
			if end == "" && strings.HasSuffix(stem, "is") {
				continue
			}
			// "centre" takes an "s" and nothing else: "centred" is not
			// "center"+"d".
			if strings.HasSuffix(stem, "re") && end != "" && end != "s" {
				continue
			}
			return am + end, true
		}
	}
	return "", false
}
