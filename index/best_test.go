package index

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// best, which scores only the hits holding the heaviest (stem, tier)
// pairs while that can change the page, gives the page scoring every hit
// gives, on a set large enough for it to widen step by step: the same
// hits in the same order with the same scores. A quarter of the items are
// French, whose stems are rarer (a higher idf) than the English ones; a
// phrase's words add up in one hit.
func TestBestIsEveryHitScored(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 2))
	words := strings.Fields("parade brigade band road closure sunday march music concert ceremony regiment armoury flag route weather")
	var docs []Doc
	for i := range 6000 {
		n := 3 + r.IntN(40)
		ws := make([]string, n)
		for j := range ws {
			ws[j] = words[r.IntN(len(words))]
		}
		var opts []func(*Doc)
		if i%4 == 3 {
			opts = append(opts, lang("fr"))
		}
		docs = append(docs, doc(fmt.Sprintf("d%d", i), strings.Join(ws, " "), fmt.Sprintf("2024-01-%02dT%02d:00:00Z", 1+i%28, i%24), opts...))
	}
	ix := newIndex(t, docs...)
	rd, done, err := ix.snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	for _, q := range []string{"+parade +brigade", "parade brigade music", "+road +closure^2 weather", "flag regiment", `"road closure" march`, `"parade brigade" band`} {
		e, err := newEngine(rd)
		if err != nil {
			t.Fatal(err)
		}
		pl, err := e.query(&Request{Query: q})
		if err != nil {
			t.Fatal(err)
		}
		if pl.match.card() <= 4*20+2000 {
			t.Fatalf("%q: %d hits, too few for best to widen", q, pl.match.card())
		}
		sc, err := pl.scorer()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []int{1, 20, 100} {
			got, err := sc.best(k)
			if err != nil {
				t.Fatal(err)
			}
			want, err := sc.accumulate(pl.match, k)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%q k=%d: %d hits, want %d", q, k, len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("%q k=%d: hit %d is %+v, want %+v", q, k, i, got[i], want[i])
					break
				}
			}
		}
	}
}
