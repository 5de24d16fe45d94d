package index

import (
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// The terms osmarc makes of a document's text are the ones the mapping's
// analysers make of it (what bleve alone would index): pairs as the
// bigram analyser makes them, stems weighed as the weighted analysers do,
// whether a word's stem comes from the cache or not.
func TestTermsAreTheAnalysersTerms(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields(`The brigade's parade l'armée d'été qu'il défilé défilés parades parading road closures
		the of and a la le les de du honour honours centre colour organisation Running ran runs ÉTÉ Été été`)
	for i := range 300 {
		ws := make([]string, 1+r.IntN(30))
		for j := range ws {
			ws[j] = words[r.IntN(len(words))]
		}
		text := strings.Join(ws, " ")
		ts := analyser(AnalyserPlain).Analyze([]byte(text))
		if got, want := fieldTerms(pairField(fTextBi, nil, optWords, ts, nil)), analyse(AnalyserBigram, text); !sameSet(got, want) {
			t.Fatalf("%q: pairs %v, want %v", text, got, want)
		}
		for _, lang := range []string{AnalyserEnglish, AnalyserFrench} {
			if i%50 == 0 {
				stemCaches.Put(&stemCache{byLang: map[string]map[string][]string{}}) // a cold cache too
			}
			ts := analyser(AnalyserPlain).Analyze([]byte(text))
			got := fieldTerms(weightedField(fTextEN, lang, optWords, ts))
			var want []string
			for _, tok := range (weightedAnalyser{lang}).Analyze([]byte(text)) {
				want = append(want, string(tok.Term))
			}
			if !sameSet(got, want) {
				t.Fatalf("%q (%s): %v, want %v", text, lang, got, want)
			}
		}
	}
}

func fieldTerms(f *termsField) []string { return slices.Sorted(maps.Keys(f.freqs)) }

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Compact(slices.Sorted(slices.Values(a))), slices.Compact(slices.Sorted(slices.Values(b))))
}

// Documents share the fields of values that repeat (sharedFields), and a
// shared field is what the document would have had of its own: bleve
// indexes it, and later documents find it as it was, whatever the
// indexing of earlier ones did.
func TestSharedKeywordFields(t *testing.T) {
	// One cache, as a goroutine building documents holds one.
	kc := keywordCaches.Get().(*keywordCache)
	defer keywordCaches.Put(kc)
	distinct := map[*termsField]bool{}
	for range 1000 {
		distinct[kc.keyword(fPlatform, "x", optKeyStor)] = true
	}
	if len(distinct) != 1 {
		t.Fatalf("1000 documents' platform x are %d fields, not one shared", len(distinct))
	}
	a := kc.keyword(fPlatform, "x", optKeyStor)
	if kc.keyword(fParent, "123", optKeyStor) == kc.keyword(fParent, "123", optKeyStor) {
		t.Fatal("a parent (a value that does not repeat) is shared")
	}
	for _, f := range []*termsField{a, newKeywordField(fPlatform, "x", optKeyStor)} {
		if got := fieldTerms(f); !slices.Equal(got, []string{"x"}) || string(f.Value()) != "x" || f.Name() != fPlatform {
			t.Fatalf("platform field: terms %v, value %q, name %q", got, f.Value(), f.Name())
		}
	}
	// Past maxSharedValues a field's new values are not kept, and each
	// is still right.
	for i := range maxSharedValues + 10 {
		v := "acct" + strings.Repeat("z", i%3) + string(rune('a'+i%26)) + strings.Repeat("q", i/26)
		f := kc.keyword(fAccount, v, optKeyStor)
		if got := fieldTerms(f); !slices.Equal(got, []string{v}) {
			t.Fatalf("account %q: terms %v", v, got)
		}
	}
}
