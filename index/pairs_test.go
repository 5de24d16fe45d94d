package index

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2/analysis"
)

// Phrases are found whether their words' pair was indexed or left out
// (pairRule): texts of common words and of words rare in their batch,
// indexed in one batch large enough for the rule, in batches too small
// for it (every pair, as indexes made before the rule), and half each;
// every two- and three-word phrase a text holds, and pairs of its words
// it does not hold adjacent, against a reading of the texts.
func TestPhrasesOfRareWords(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 8))
	common := strings.Fields("road closure parade the brigade band route")
	var docs []Doc
	var texts [][]string
	for i := range 400 {
		var ws []string
		for range 3 + r.IntN(8) {
			if r.IntN(4) == 0 {
				ws = append(ws, fmt.Sprintf("rare%d", r.IntN(300)))
			} else {
				ws = append(ws, common[r.IntN(len(common))])
			}
		}
		docs = append(docs, doc(fmt.Sprint(i), strings.Join(ws, " "), "2024-01-15T14:00:00Z"))
		texts = append(texts, analyse(AnalyserPlain, docs[i].Text))
	}
	var toks []analysis.TokenStream
	for _, d := range docs {
		toks = append(toks, analyser(AnalyserPlain).Analyze([]byte(d.Text)))
	}
	if rule := newPairRule(toks); rule == nil || rule.common([]byte("rare7")) || !rule.common([]byte("parade")) {
		t.Fatalf("the rule of 400 texts should find rare7 rare and parade common")
	}

	one := newIndex(t, docs...) // one batch: the rule applies
	small := newIndex(t)        // batches of 50: every pair
	for i := 0; i < len(docs); i += 50 {
		if err := small.IndexDocs(context.Background(), docs[i:i+50]); err != nil {
			t.Fatal(err)
		}
	}
	mixed := newIndex(t, docs[:200]...) // 200 with the rule
	for i := 200; i < len(docs); i += 25 {
		if err := mixed.IndexDocs(context.Background(), docs[i:i+25]); err != nil {
			t.Fatal(err)
		}
	}
	if e, done, err := one.engine(); err != nil {
		t.Fatal(err)
	} else {
		b, err := e.term(fTextRare, "rare7")
		done()
		if err != nil || b.card() == 0 {
			t.Fatalf("the one-batch index has no rare word rare7 (%v): the test would not test the rule", err)
		}
	}

	phrases := map[string]bool{}
	for i, ws := range texts {
		for j := 0; j+1 < len(ws); j++ {
			phrases[ws[j]+" "+ws[j+1]] = true
			if j+2 < len(ws) && i%3 == 0 {
				phrases[ws[j]+" "+ws[j+1]+" "+ws[j+2]] = true
			}
		}
		if len(ws) > 2 {
			phrases[ws[2]+" "+ws[0]] = true // often held, not adjacent
		}
	}
	rareSeen := 0
	for _, p := range slices.Sorted(maps.Keys(phrases)) {
		toks := strings.Fields(p)
		var want []string
		for i, ws := range texts {
			if containsSeq(ws, toks) {
				want = append(want, docs[i].Key)
			}
		}
		slices.Sort(want)
		if strings.Contains(p, "rare") {
			rareSeen++
		}
		for name, ix := range map[string]*Index{"one batch": one, "small batches": small, "mixed": mixed} {
			got := search(t, ix, Request{Query: `"` + p + `"`})
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: %q found %v, want %v", name, p, got, want)
			}
		}
	}
	if rareSeen < 100 {
		t.Errorf("only %d phrases with a rare word: the test says little", rareSeen)
	}
}

// mayHold never turns away a text that holds a phrase: words with
// capitals, diacritics (composed and decomposed), ligatures, British
// spellings the analyser makes American, possessives and a Greek final
// sigma, each phrase of adjacent words a text makes checked against it.
func TestMayHoldKeepsEveryTextThatHoldsThePhrase(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	words := strings.Fields("Défilé DEFENCE defence's Honour honoured Centre organisation Œuvre straße " +
		"ΟΔΟΣ Λόγος road Road ROAD closure e\u0301te\u0301 été Ⱥlpha l'armée co-op 3rd-Brigade")
	checked := 0
	for range 500 {
		var ws []string
		for range 2 + r.IntN(6) {
			ws = append(ws, words[r.IntN(len(words))])
		}
		text := strings.Join(ws, " ")
		toks := analyse(AnalyserPlain, text)
		for i := 0; i+1 < len(toks); i++ {
			phrase := toks[i : i+2]
			if !mayHold([]byte(text), phraseNeedles(phrase)) {
				t.Fatalf("%q holds %q, but mayHold turned it away", text, phrase)
			}
			checked++
		}
	}
	if mayHold([]byte("road works"), phraseNeedles([]string{"road", "closure"})) {
		t.Error(`mayHold kept "road works" for "road closure"`)
	}
	if checked < 1000 {
		t.Errorf("only %d phrases checked", checked)
	}
}

// lowerFold, mayHold's one pass, makes what folding the lower-cased text
// makes, for ASCII, Latin letters with diacritics (composed and not),
// ligatures, other scripts, the wider-lower-case Ⱥ and bytes that are not
// UTF-8.
func TestLowerFoldIsFoldOfLower(t *testing.T) {
	for _, s := range []string{"", "Road CLOSURE, 3rd-Brigade!", "DÉFILÉ Défilé e\u0301te\u0301", "ŒUVRE Straße ĲSSEL Æsir",
		"ΟΔΟΣ Λόγος", "ȺLPHA ⱥ", "Москва", "mixed \xff\xfe bytes \xc3", "tab\tnew\nline", "İstanbul ǅ ǈ"} {
		got, want := lowerFold(nil, []byte(s)), foldTerm(bytes.ToLower([]byte(s)))
		if !bytes.Equal(got, want) {
			t.Errorf("lowerFold(%q) = %q, want %q", s, got, want)
		}
	}
}

// A phrase whose candidates are many has their texts read on several
// cores (filterStored), each goroutine a run of them across segments: it
// finds what a reading of the texts finds, no more and no less.
func TestPhraseCheckedOnEveryCore(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	r := rand.New(rand.NewPCG(9, 2))
	words := strings.Fields("road closure parade")
	seps := []string{" ", " ", " ", ", ", " - ", ". "}
	var docs []Doc
	var texts [][]string
	for i := range 3000 {
		var b strings.Builder
		for j := range 8 + r.IntN(12) {
			if j > 0 {
				b.WriteString(seps[r.IntN(len(seps))])
			}
			b.WriteString(words[r.IntN(len(words))])
		}
		docs = append(docs, doc(fmt.Sprint(i), b.String(), "2024-01-15T14:00:00Z"))
		texts = append(texts, analyse(AnalyserPlain, docs[i].Text))
	}
	ix := newIndex(t, docs...)
	split := false
	for _, p := range []string{"road closure parade", "parade parade road", "closure road closure road", "road road road road road"} {
		toks := strings.Fields(p)
		var want []string
		for i, ws := range texts {
			if containsSeq(ws, toks) {
				want = append(want, docs[i].Key)
			}
		}
		if len(want) >= 2*verifyChunk { // so the candidates are more

			split = true
		}
		got := search(t, ix, Request{Query: `"` + p + `"`})
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("%q found %d items, want %d (a reading of the texts)", p, len(got), len(want))
		}
	}
	if !split {
		t.Fatal("no phrase had candidates enough to be checked on several cores: the test says little")
	}
}
