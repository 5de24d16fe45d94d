package index

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// A word's stem is found through its weight tiers: the language field
// holds each stem once per document with its tier, and the documents of
// a stem are the union of its tier terms, looked up by a range of each
// segment's dictionary. The test spreads a stem over many tiers (the
// whole text, half of it, one word in sixty), in English and French
// items, over several segments; then replaces some items (their old
// documents deleted in their segments) and merges the segments into
// one. At each step every word query finds what a reading of each text
// finds, its total is exact, and the item whose text is the word alone
// ranks first.
func TestStemTiersAcrossSegmentsAndMerges(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 5))
	filler := strings.Fields("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima")
	forms := []string{"parade", "parades", "parading", "paraded", "défilé", "défilés", "road", "roads"}
	text := func() string {
		// At most 70% of the words are forms, so no item but the one
		// that is the word alone has a stem in tier a.
		n := 2 + r.IntN(59)
		k := 1 + r.IntN(n*7/10)
		ws := make([]string, n)
		for i := range ws {
			if i < k {
				ws[i] = forms[r.IntN(len(forms))]
			} else {
				ws[i] = filler[r.IntN(len(filler))]
			}
		}
		r.Shuffle(len(ws), func(i, j int) { ws[i], ws[j] = ws[j], ws[i] })
		return strings.Join(ws, " ")
	}
	var docs []Doc
	for i := range 240 {
		d := doc(fmt.Sprint(i), text(), "2024-01-15T14:00:00Z")
		if i%3 == 0 {
			d.Lang = "fr"
		}
		docs = append(docs, d)
	}
	docs[7].Text, docs[7].Lang = "Parade", "en" // the word alone: tier a
	ix := newIndex(t)
	for i := 0; i < len(docs); i += 40 {
		if err := ix.IndexDocs(ctx, docs[i:i+40]); err != nil {
			t.Fatal(err)
		}
	}
	byKey := map[string]*Doc{}
	for i := range docs {
		byKey[docs[i].Key] = &docs[i]
	}
	check := func(when string, wantSegs func(int) bool) {
		t.Helper()
		rd, done, err := ix.snapshot()
		if err != nil {
			t.Fatal(err)
		}
		e, err := newEngine(rd)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(e.segs); !wantSegs(n) {
			t.Errorf("%s: %d segments", when, n)
		}
		done()
		for _, q := range []string{"parade", "parading", "défilé", "defile", "roads", "alpha"} {
			var want []string
			for _, d := range byKey {
				if wordMatches(d, q) {
					want = append(want, d.Key)
				}
			}
			res, err := ix.Search(ctx, Request{Query: q, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, h := range res.Hits {
				got = append(got, h.Key)
			}
			if slices.Sort(got); !slices.Equal(got, sorted(want)) || res.Total != uint64(len(want)) {
				t.Errorf("%s: %q found %d (total %d), want %d: %v", when, q, len(got), res.Total, len(want), minusKeys(want, got))
			}
			if q == "parade" && (len(res.Hits) == 0 || res.Hits[0].Key != docs[7].Key) {
				t.Errorf("%s: %q does not rank the item that is only the word first: %v", when, q, res.Hits[:min(3, len(res.Hits))])
			}
		}
	}
	check("in segments", func(n int) bool { return n > 1 })
	// Replace some items: their documents in older segments are deleted.
	var repl []Doc
	for i := 1; i < len(docs); i += 9 {
		d := docs[i]
		d.Text = text()
		repl = append(repl, d)
		*byKey[d.Key] = d
	}
	if err := ix.IndexDocs(ctx, repl); err != nil {
		t.Fatal(err)
	}
	check("after replacing", func(n int) bool { return n > 1 })
	if err := ix.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	check("merged", func(n int) bool { return n == 1 })
}

// wordMatches says whether a one-word query matches a document: the
// word's plain form is in the text, or its stem in the language of the
// text is among the text's stems.
func wordMatches(d *Doc, q string) bool {
	plain := analyse(AnalyserPlain, q)[0]
	if slices.Contains(analyse(AnalyserPlain, d.Text), plain) {
		return true
	}
	name := languageAnalyser(d.Lang)
	st := analyse(name, q)
	return len(st) == 1 && slices.Contains(analyse(name, d.Text), st[0])
}

func minusKeys(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			out = append(out, "+"+x)
		}
	}
	return out
}
