package index

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// The evaluator against a reference: the same analysers, applied to each
// document's text one by one, with the query language's rules written
// out plainly.

var oracleWords = strings.Fields(`parade parades parading défilé defile défense defence defense road closure
	closures brigade the la l'armée armée honour honor centre center Road PARADE street-party`)

type oracleDoc struct {
	Doc
	plain    [][]string // plain tokens of text and of each earlier version
	langToks map[string]bool
}

func oracleCorpus(r *rand.Rand, n int) []oracleDoc {
	var out []oracleDoc
	text := func() string {
		var ws []string
		for range 2 + r.IntN(10) {
			ws = append(ws, oracleWords[r.IntN(len(oracleWords))])
		}
		return strings.Join(ws, " ")
	}
	for i := range n {
		d := doc(fmt.Sprint(i), text(), "2024-01-15T14:00:00Z")
		if r.IntN(3) == 0 {
			d.Lang = "fr"
		}
		if r.IntN(4) == 0 {
			d.History, d.Versions = []string{text()}, 2
		}
		od := oracleDoc{Doc: d, langToks: map[string]bool{}}
		for _, s := range append([]string{d.Text}, d.History...) {
			od.plain = append(od.plain, analyse(AnalyserPlain, s))
		}
		for _, t := range analyse(languageAnalyser(d.Lang), d.Text) {
			od.langToks[t] = true
		}
		out = append(out, od)
	}
	return out
}

// oracleMatch says whether a clause (a word or a phrase) matches a doc.
func oracleMatch(d oracleDoc, c clause) bool {
	toks := analyse(AnalyserPlain, c.text)
	if c.kind == leafWord && len(toks) == 1 {
		for _, p := range d.plain {
			if slices.Contains(p, toks[0]) {
				return true
			}
		}
		lt := analyse(languageAnalyser(d.Lang), c.text)
		return len(lt) == 1 && d.langToks[lt[0]]
	}
	if len(toks) == 0 {
		return false
	}
	for _, p := range d.plain {
		if containsSeq(p, toks) {
			return true
		}
	}
	return false
}

func oracle(docs []oracleDoc, p *parsed) []string {
	var out []string
	for _, d := range docs {
		hasMust, mustOK, anyShould, hasShould := false, true, false, false
		excluded := false
		for _, c := range p.clauses {
			m := oracleMatch(d, c)
			switch c.occur {
			case must:
				hasMust = true
				mustOK = mustOK && m
			case should:
				hasShould = true
				anyShould = anyShould || m
			case mustNot:
				excluded = excluded || m
			}
		}
		ok := !excluded
		switch {
		case hasMust:
			ok = ok && mustOK
		case hasShould:
			ok = ok && anyShould
		}
		if ok {
			out = append(out, d.Key)
		}
	}
	slices.Sort(out)
	return out
}

func randomQuery(r *rand.Rand) string {
	var parts []string
	for range 1 + r.IntN(3) {
		prefix := []string{"", "", "+", "-"}[r.IntN(4)]
		if r.IntN(3) == 0 {
			n := 2 + r.IntN(2)
			var ws []string
			for range n {
				ws = append(ws, oracleWords[r.IntN(len(oracleWords))])
			}
			parts = append(parts, prefix+`"`+strings.Join(ws, " ")+`"`)
		} else {
			parts = append(parts, prefix+oracleWords[r.IntN(len(oracleWords))])
		}
	}
	return strings.Join(parts, " ")
}

func TestEvaluatorAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	docs := oracleCorpus(r, 300)
	var plain []Doc
	for _, d := range docs {
		plain = append(plain, d.Doc)
	}
	// Two indexes: one of many small segments, one merged into one.
	many := newIndex(t)
	for i := 0; i < len(plain); i += 25 {
		if err := many.IndexDocs(context.Background(), plain[i:min(i+25, len(plain))]); err != nil {
			t.Fatal(err)
		}
	}
	one := newIndex(t, plain...)
	if err := one.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	checked, nonEmpty := 0, 0
	for range 250 {
		q := randomQuery(r)
		p, err := parseQuery(q)
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		want := oracle(docs, p)
		for _, ix := range []*Index{many, one} {
			var got []string
			if _, err := ix.SearchAll(context.Background(), Request{Query: q}, func(h Hit) error {
				got = append(got, h.Key)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("%q: found %d, the reference %d\nextra %v\nmissing %v", q, len(got), len(want), minus(got, want), minus(want, got))
			}
			res, err := ix.Search(context.Background(), Request{Query: q, Limit: 5})
			if err != nil || res.Total != uint64(len(want)) {
				t.Fatalf("%q: total %d, %v; want %d", q, res.Total, err, len(want))
			}
		}
		checked++
		if len(want) > 0 {
			nonEmpty++
		}
	}
	if nonEmpty < checked/3 {
		t.Errorf("only %d of %d random queries found anything: the test says little", nonEmpty, checked)
	}
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// FuzzQuery: any string either parses, and then searches without error,
// or is refused with one line naming a column inside it.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{`parade`, `"road closure"`, `+parade -cancelled`, `account:3rd-brigade`, `created:>=2024-01-01`,
		`parad*`, `/clos.*/`, `paraed~1`, `brigade^2`, `author:"jane public"`, `"unclosed`, `a:b:c`, `\`, `+`, `^`, `created:2024-02`,
		`lang:fr`, `year:2024`, `key:x/y/z`, `removed:true`, `tag:#défilé`, `-`, `"a\"b"`, `text:"défense nationale" -kind:comment`} {
		f.Add(s)
	}
	ix := newIndex(f, records()...)
	f.Fuzz(func(t *testing.T, q string) {
		_, err := ix.Search(context.Background(), Request{Query: q, Facets: true})
		if err == nil {
			return
		}
		var qe *QueryError
		if !errors.As(err, &qe) {
			t.Fatalf("%q: %v is not a query error", q, err)
		}
		if n := utf8.RuneCountInString(q); qe.Column < 1 || qe.Column > n+1 {
			t.Fatalf("%q: column %d outside 1..%d", q, qe.Column, n+1)
		}
		if strings.ContainsAny(qe.Msg, "\n\r") {
			t.Fatalf("%q: error of several lines: %q", q, qe.Msg)
		}
	})
}

// containsSeq says whether hay holds needle in sequence: the tests' own
// reading of texts, apart from the engine's holdsSeq.
func containsSeq(hay, needle []string) bool {
	for i := 0; i+len(needle) <= len(hay); i++ {
		ok := true
		for j := range needle {
			if hay[i+j] != needle[j] {
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
