package index

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// newIndex opens an index in a temporary directory, filled with docs.
func newIndex(t testing.TB, docs ...Doc) *Index {
	t.Helper()
	ix, err := Open(filepath.Join(t.TempDir(), DirName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	if err := ix.IndexDocs(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
	return ix
}

// doc is a post of the 3rd Brigade's Facebook page unless the fields say
// otherwise.
func doc(id, text string, created string, opts ...func(*Doc)) Doc {
	d := Doc{Platform: "facebook", Account: "3rd-brigade", ID: id, Kind: "post", Lang: "en", Text: text,
		CreatedAt: ts(created), Versions: 1}
	for _, o := range opts {
		o(&d)
	}
	d.Key = d.Platform + "/" + d.Account + "/" + d.ID
	return d
}

func lang(l string) func(*Doc) { return func(d *Doc) { d.Lang = l } }
func on(platform, account string) func(*Doc) {
	return func(d *Doc) { d.Platform, d.Account = platform, account }
}
func kind(k string) func(*Doc)   { return func(d *Doc) { d.Kind = k } }
func parent(p string) func(*Doc) { return func(d *Doc) { d.Parent, d.Kind = p, "comment" } }
func history(h ...string) func(*Doc) {
	return func(d *Doc) { d.History, d.Versions = h, len(h)+1 }
}

// search runs a request and returns the keys of every hit (all pages).
func search(t testing.TB, ix *Index, req Request) []string {
	t.Helper()
	req.Limit = MaxLimit
	res, err := ix.Search(context.Background(), req)
	if err != nil {
		t.Fatalf("search %+v: %v", req, err)
	}
	var keys []string
	for _, h := range res.Hits {
		keys = append(keys, h.Key)
	}
	if uint64(len(keys)) != res.Total {
		t.Fatalf("search %q: %d hits but total %d", req.Query, len(keys), res.Total)
	}
	return keys
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func ids(keys []string) string {
	var out []string
	for _, k := range keys {
		out = append(out, k[strings.LastIndexByte(k, '/')+1:])
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestBilingualAndDiacritics(t *testing.T) {
	ix := newIndex(t,
		doc("en1", "Defence week: the Brigade parade on Saturday.", "2024-01-15T14:00:00Z"),
		doc("fr1", "Le défilé de la Défense nationale aura lieu samedi. L'armée remercie les familles.", "2024-01-16T14:00:00Z", lang("fr-ca")),
		doc("us1", "National defense budget hearing; parading is cancelled.", "2024-01-17T14:00:00Z", on("x", "Brigade3")),
		doc("fr2", "Les anciens combattants défilent à la cérémonie.", "2024-01-18T14:00:00Z", lang("fr")),
		doc("en2", "Honour guard at the armoury: the colours are paraded.", "2024-01-19T14:00:00Z"),
	)
	for _, tc := range []struct {
		query, want string
	}{
		// Diacritics fold both ways, and British, American and French
		// spellings of defence meet.
		{"defense", "en1 fr1 us1"},
		{"défense", "en1 fr1 us1"},
		{"defence", "en1 fr1 us1"},
		{"DÉFENSE", "en1 fr1 us1"},
		{"defile", "fr1"},
		{"défilé", "fr1"},
		{"ceremonie", "fr2"},
		// English stems: parade, parading, paraded.
		{"parade", "en1 en2 us1"},
		{"parades", "en1 en2 us1"},
		// French: elision and the light stemmer; "défilent" and "défilé"
		// share no stem, but the exact word is always found.
		{"armée", "fr1"},
		{"armee", "fr1"},
		{"défilent", "fr2"},
		{"famille", "fr1"},
		// Stop words are in no language field, but the plain field has
		// every word.
		{"the", "en1 en2"},
		{"la", "fr1 fr2"},
		// British and American spellings.
		{"honor", "en2"},
		{"armory", "en2"},
		{"colors", "en2"},
		{`"defense week"`, "en1"},
		{`"défense nationale"`, "fr1"},
		{`"defense nationale"`, "fr1"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			if got := ids(search(t, ix, Request{Query: tc.query})); got != tc.want {
				t.Errorf("%q found %q, want %q", tc.query, got, tc.want)
			}
		})
	}
}

func TestSnippetsMarkWhatMatched(t *testing.T) {
	ix := newIndex(t,
		doc("1", "Le défilé de la Défense nationale aura lieu samedi.", "2024-01-16T14:00:00Z", lang("fr")),
		doc("2", "UPDATE: the parade moves to Sunday.", "2024-01-16T15:00:00Z", history("The parade is cancelled because of the weather.")),
		doc("3", strings.Repeat("filler words here ", 40)+"the parade route is closed "+strings.Repeat("more filler ", 40), "2024-01-16T16:00:00Z"),
		doc("4", "L'armée remercie les familles.", "2024-01-16T17:00:00Z", lang("fr-ca")),
	)
	for _, tc := range []struct {
		query, key, marked, from string
	}{
		{"defense", "facebook/3rd-brigade/1", "Le défilé de la [Défense] nationale aura lieu samedi.", "text"},
		{"parading", "facebook/3rd-brigade/2", "UPDATE: the [parade] moves to Sunday.", "text"},
		{"cancelled", "facebook/3rd-brigade/2", "The parade is [cancelled] because of the weather.", "history"},
		{`"parade route"`, "facebook/3rd-brigade/3", "", "text"},
		{"armee", "facebook/3rd-brigade/4", "[L'armée] remercie les familles.", "text"},
		{"famille", "facebook/3rd-brigade/4", "L'armée remercie les [familles].", "text"},
	} {
		res, err := ix.Search(context.Background(), Request{Query: tc.query})
		if err != nil {
			t.Fatal(err)
		}
		var h *Hit
		for i := range res.Hits {
			if res.Hits[i].Key == tc.key {
				h = &res.Hits[i]
			}
		}
		if h == nil {
			t.Fatalf("%q: %s not found", tc.query, tc.key)
		}
		got := h.Marked("[", "]")
		if tc.marked != "" && got != tc.marked {
			t.Errorf("%q: snippet %q, want %q", tc.query, got, tc.marked)
		}
		if tc.marked == "" {
			// A long text: a window around the match, cut with "…".
			if !strings.Contains(got, "[parade] [route]") || !strings.HasPrefix(got, "…") || !strings.HasSuffix(got, "…") || len(h.Snippet) > snippetBytes+10 {
				t.Errorf("%q: snippet %q", tc.query, got)
			}
		}
		if h.SnippetFrom != tc.from {
			t.Errorf("%q: snippet from %q, want %q", tc.query, h.SnippetFrom, tc.from)
		}
	}
}

func TestFieldsARecordsOfficerTypes(t *testing.T) {
	ix := newIndex(t,
		doc("1", "Parade on Saturday #Parade2024 with @Brigade3", "2024-01-15T14:00:00Z", func(d *Doc) {
			d.Hashtags, d.Mentions, d.AuthorHandle, d.AuthorName = []string{"#Parade2024"}, []string{"@Brigade3"}, "3rd-brigade", "3rd Canadian Division Brigade"
			d.Links = []string{"https://www.canada.ca/parade"}
		}),
		doc("2", "Will the parade be accessible?", "2024-01-15T15:00:00Z", parent("1"), func(d *Doc) {
			d.AuthorName, d.AuthorID = "Jane Public", "9001"
		}),
		doc("3", "Range day on Thursday.", "2024-04-10T08:00:00Z", on("mastodon", "brigade@social.example.gov"), lang("en-ca")),
		doc("4", "La parade aura lieu samedi.", "2025-02-02T14:30:00Z", on("x", "Brigade3"), lang("fr-ca"), kind("reply")),
	)
	for _, tc := range []struct {
		query, want string
	}{
		{"account:3rd-brigade", "1 2"},
		{"account:brigade3", "4"}, // accounts match whatever their case
		{`account:"brigade@social.example.gov"`, "3"},
		{"account:brigade*", "3 4"},
		{"platform:Mastodon", "3"},
		{"kind:comment", "2"},
		{"type:reply", "4"},
		{"author:jane", "2"},
		{`author:"jane public"`, "2"},
		{`author:"public jane"`, ""},
		{"author:3rd-brigade", "1"},
		{"author:@3rd-brigade", "1"},
		{"author:9001", "2"},
		{"text:parade", "1 2 4"},
		{"text:accessible", "2"},
		{"hashtag:parade2024", "1"},
		{"tag:#Parade2024", "1"},
		{"tag:#parade*", "1"},
		{"mention:brigade3", "1"},
		{"link:https\\://www.canada.ca/parade", "1"},
		{`link:"https://www.canada.ca/parade"`, "1"},
		{"lang:fr", "4"},
		{"lang:en", "1 2 3"},
		{"lang:en-ca", "3"},
		{"parent:1", "2"},
		{"year:2025", "4"},
		{"created:2024-01", "1 2"},
		{"created:2024-01-15", "1 2"},
		{"created:>=2024-04", "3 4"},
		{"created:<2024-04-10", "1 2"},
		{"created:<=2024-04-10", "1 2 3"},
		{`created:>"2024-01-15T14:00:00Z"`, "2 3 4"},
		{"+parade +account:3rd-brigade", "1 2"},
		{"parade -kind:comment", "1 4"},
		{"-account:3rd-brigade", "3 4"},
		{"key:facebook/3rd-brigade/2", "2"},
		{"removed:false", "1 2 3 4"},
		{"edited:true", ""},
		{"class:unclassified", "1 2 3 4"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			if got := ids(search(t, ix, Request{Query: tc.query})); got != tc.want {
				t.Errorf("%q found %q, want %q", tc.query, got, tc.want)
			}
		})
	}
}

func TestQuerySyntax(t *testing.T) {
	ix := newIndex(t,
		doc("1", "The Brigade parade is on Saturday. Road closures on Main Street.", "2024-01-15T14:00:00Z"),
		doc("2", "Road closed for the range; no parade this year.", "2024-01-16T14:00:00Z"),
		doc("3", "Main Street closures near the armoury.", "2024-01-17T14:00:00Z"),
		doc("4", "Brigade band concert: tickets at the gate", "2024-01-18T14:00:00Z"),
	)
	for _, tc := range []struct {
		query, want string
	}{
		{"parade", "1 2"},
		{"parade concert", "1 2 4"},        // plain words: any of them
		{"+parade +road", "1 2"},           // + requires
		{"+parade road brigade", "1 2"},    // beside a +, plain words only rank
		{"parade -range", "1"},             // - excludes
		{"-parade", "3 4"},                 // only exclusions: everything else
		{`"main street"`, "1 3"},           // a phrase
		{`"street main"`, ""},              // in order
		{`"road closures on main"`, "1"},   // a longer phrase
		{`"closures on main street"`, "1"}, //
		{`"parade this year"`, "2"},        //
		{`"road closed the"`, ""},          // words present, not in sequence
		{"clos*", "1 2 3"},                 // wildcards
		{"?oad", "1 2"},                    //
		{"/clos(ed|ures)/", "1 2 3"},       // regular expressions
		{"concret~1", "4"},                 // fuzzy
		{"armory~1", "3"},                  // (armoury is joined to armory)
		{"brigade^3 parade", "1 2 4"},      // boosts rank, do not filter
	} {
		t.Run(tc.query, func(t *testing.T) {
			if got := ids(search(t, ix, Request{Query: tc.query})); got != tc.want {
				t.Errorf("%q found %q, want %q", tc.query, got, tc.want)
			}
		})
	}
}

func TestMalformedQueries(t *testing.T) {
	ix := newIndex(t, doc("1", "parade", "2024-01-15T14:00:00Z"))
	for _, tc := range []struct {
		query  string
		column int
		says   string
	}{
		{`parade "road closure`, 8, "unclosed quote"},
		{`account:`, 1, "no value after the colon"},
		{`acount:3rd-brigade`, 1, `unknown field "acount"`},
		{`parade :brigade`, 8, "no field name"},
		{`+ parade`, 1, `"+" must be followed`},
		{`parade -`, 8, `"-" must be followed`},
		{`created:>=someday`, 11, "not a date"},
		{`kind:>post`, 6, "takes no range"},
		{`parade^x`, 7, "boost"},
		{`parade~5`, 8, "fuzziness"},
		{`account:a:b`, 10, `quote a value that contains one`},
		{`removed:maybe`, 1, "want true or false"},
		{`year:24`, 1, "not a year"},
		{`/[unclosed/`, 1, "bad pattern"},
		{`par"ade`, 4, "quote inside a word"},
		{`parade\`, 7, "escapes nothing"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			_, err := ix.Search(context.Background(), Request{Query: tc.query})
			if !errors.Is(err, ErrQuery) {
				t.Fatalf("%q: %v, want ErrQuery", tc.query, err)
			}
			var qe *QueryError
			if !errors.As(err, &qe) || qe.Column != tc.column || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("%q: %v, want column %d and %q", tc.query, err, tc.column, tc.says)
			}
			if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), fmt.Sprintf("column %d", tc.column)) {
				t.Errorf("%q: error %q is not one line naming the column", tc.query, err)
			}
			if qe.Query != tc.query {
				t.Errorf("%q: the error carries query %q", tc.query, qe.Query)
			}
			if perr := ParseQuery(tc.query); perr == nil && tc.says != "want true or false" && tc.says != "not a year" && tc.says != "bad pattern" {
				t.Errorf("ParseQuery(%q) accepted it", tc.query)
			}
		})
	}
}

// records is a small archive's worth of documents with every filterable
// field set somewhere.
func records() []Doc {
	return []Doc{
		doc("p1", "Parade on Saturday, road closures.", "2024-01-15T14:00:00Z"),
		doc("c1", "Will the parade be accessible?", "2024-01-15T15:12:09Z", parent("p1")),
		doc("c2", "Spam comment removed by the page's moderators: parade tickets for sale", "2024-01-15T16:00:00Z", parent("p1"), func(d *Doc) {
			d.Removed, d.RemovedAt = true, ts("2024-01-16T09:00:00Z")
		}),
		doc("p2", "UPDATE: the parade moves to Sunday.", "2024-02-02T14:30:00Z", history("The parade is cancelled."), func(d *Doc) {
			d.Class, d.Schedule = "record", "GRS-6.4-020"
		}),
		doc("p3", "La parade aura lieu samedi.", "2024-03-31T23:59:59Z", lang("fr-ca"), func(d *Doc) {
			d.Class, d.Exemptions = "secondary-copy", []string{"b6"}
		}),
		doc("p4", "Parade photos: https://example.gov/photos", "2024-04-01T00:00:00Z", on("x", "Brigade3"), func(d *Doc) {
			d.Holds = []string{"Smith-v-Brigade"}
		}),
		doc("p5", "Range day: parade ground closed.", "2025-06-01T08:00:00Z", on("mastodon", "brigade@social.example.gov"), func(d *Doc) {
			d.Exemptions, d.Holds = []string{"b6", "b7c"}, []string{"smith-v-brigade", "FOIA-2025-0042"}
		}),
	}
}

func TestEveryFilter(t *testing.T) {
	ix := newIndex(t, records()...)
	for _, tc := range []struct {
		name string
		req  Request
		want string
	}{
		{"account", Request{Accounts: []string{"3rd-brigade"}}, "c1 c2 p1 p2 p3"},
		{"accounts any of", Request{Accounts: []string{"Brigade3", "brigade@social.example.gov"}}, "p4 p5"},
		{"platform", Request{Platforms: []string{"X"}}, "p4"},
		{"kind", Request{Kinds: []string{"comment"}}, "c1 c2"},
		{"from", Request{From: ts("2024-02-01T00:00:00Z")}, "p2 p3 p4 p5"},
		{"to (exclusive)", Request{To: ts("2024-04-01T00:00:00Z")}, "c1 c2 p1 p2 p3"},
		{"from to", Request{From: ts("2024-01-15T15:00:00Z"), To: ts("2024-02-02T14:30:01Z")}, "c1 c2 p2"},
		{"to within an hour", Request{From: ts("2024-01-15T15:12:09Z"), To: ts("2024-01-15T15:12:10Z")}, "c1"},
		{"removed", Request{Removed: true}, "c2"},
		{"edited", Request{Edited: true}, "p2"},
		{"class", Request{Classes: []string{"Record"}}, "p2"},
		{"class unclassified", Request{Classes: []string{Unclassified}}, "c1 c2 p1 p4 p5"},
		{"exemption", Request{Exemptions: []string{"b6"}}, "p3 p5"},
		{"hold", Request{Holds: []string{"smith-v-brigade"}}, "p4 p5"},
		{"lang", Request{Langs: []string{"fr"}}, "p3"},
		{"lang region", Request{Langs: []string{"fr-ca"}}, "p3"},
		{"query and filters", Request{Query: "parade", Accounts: []string{"3rd-brigade"}, Kinds: []string{"comment"}, To: ts("2024-02-01T00:00:00Z")}, "c1 c2"},
		{"filters with exclusion", Request{Query: "-accessible", Kinds: []string{"comment"}}, "c2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(search(t, ix, tc.req)); got != tc.want {
				t.Errorf("found %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := ix.Search(context.Background(), Request{From: ts("2024-03-01T00:00:00Z"), To: ts("2024-02-01T00:00:00Z")}); err == nil {
		t.Error("from after to was accepted")
	}
}

func TestHitsCarryWhatAReviewerNeeds(t *testing.T) {
	ix := newIndex(t, records()...)
	res, err := ix.Search(context.Background(), Request{Query: "accessible"})
	if err != nil || len(res.Hits) != 1 {
		t.Fatalf("%v %+v", err, res)
	}
	h := res.Hits[0]
	want := Hit{Key: "facebook/3rd-brigade/c1", Platform: "facebook", Account: "3rd-brigade", ID: "c1", Kind: "comment",
		CreatedAt: ts("2024-01-15T15:12:09Z"), Lang: "en", Parent: "p1", ParentKey: "facebook/3rd-brigade/p1",
		ParentText: "Parade on Saturday, road closures.", Class: Unclassified}
	got := h
	got.Score, got.Snippet, got.Marks, got.SnippetFrom = 0, "", nil, ""
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("hit\n%+v\nwant\n%+v", got, want)
	}
	if h.Marked("[", "]") != "Will the parade be [accessible]?" {
		t.Errorf("snippet %q", h.Marked("[", "]"))
	}
	res, _ = ix.Search(context.Background(), Request{Query: "spam"})
	if h := res.Hits[0]; !h.Removed || h.Edited {
		t.Errorf("removed comment: %+v", h)
	}
	// A parent not in the index: its key, nothing more.
	orphan := newIndex(t, doc("c9", "A reply to a post never captured", "2024-01-15T15:00:00Z", parent("gone")),
		doc("p9", strings.Repeat("Long opening words ", 20), "2024-01-15T14:00:00Z"),
		doc("c8", "Answer to the long one", "2024-01-15T15:30:00Z", parent("p9")))
	res, _ = orphan.Search(context.Background(), Request{Query: "reply"})
	if h := res.Hits[0]; h.ParentKey != "facebook/3rd-brigade/gone" || h.ParentText != "" {
		t.Errorf("orphan comment: %+v", h)
	}
	res, _ = orphan.Search(context.Background(), Request{Query: "answer"})
	if h := res.Hits[0]; !strings.HasSuffix(h.ParentText, " Long…") || len([]rune(h.ParentText)) > parentLen+1 {
		t.Errorf("long parent: %q", h.ParentText)
	}
}

func TestSortNewestOldest(t *testing.T) {
	docs := records()
	// Two items created in the same second sort by key.
	docs = append(docs, doc("p0", "Parade at dawn.", "2024-01-15T14:00:00Z"))
	ix := newIndex(t, docs...)
	newest := search(t, ix, Request{Query: "parade", Sort: SortNewest})
	want := []string{"p5", "p4", "p3", "p2", "c2", "c1", "p1", "p0"}
	var got []string
	for _, k := range newest {
		got = append(got, k[strings.LastIndexByte(k, '/')+1:])
	}
	if !slices.Equal(got, want) {
		t.Errorf("newest first: %v, want %v", got, want)
	}
	oldest := search(t, ix, Request{Query: "parade", Sort: SortOldest})
	slices.Reverse(oldest)
	if !slices.Equal(oldest, newest) {
		t.Errorf("oldest first is not newest first reversed:\n%v\n%v", oldest, newest)
	}
	// Relevance with nothing to rank by is newest first.
	if all := search(t, ix, Request{Accounts: []string{"3rd-brigade"}}); all[0] != "facebook/3rd-brigade/p3" {
		t.Errorf("filters only: %v", all)
	}
}

func TestRelevance(t *testing.T) {
	ix := newIndex(t,
		doc("long", "The parade "+strings.Repeat("and many other things to read about ", 10), "2024-01-01T00:00:00Z"),
		doc("short", "Parade!", "2024-01-02T00:00:00Z"),
		doc("twice", "Parade, parade, and then a band concert at the parade ground.", "2024-01-03T00:00:00Z"),
		doc("none", "Band concert.", "2024-01-04T00:00:00Z"),
		doc("both", "Parade and concert.", "2024-01-05T00:00:00Z"),
	)
	got := search(t, ix, Request{Query: "parade"})
	if ids(got[:1]) != "short" || ids(got[len(got)-1:]) != "long" {
		t.Errorf("parade ranked %v: the shortest text first, the longest last", got)
	}
	got = search(t, ix, Request{Query: "parade concert"})
	if ids(got[:1]) != "both" {
		t.Errorf("parade concert ranked %v: the item with both words first", got)
	}
	res, _ := ix.Search(context.Background(), Request{Query: "parade concert"})
	for i := 1; i < len(res.Hits); i++ {
		if res.Hits[i].Score > res.Hits[i-1].Score {
			t.Errorf("scores not in order: %v", res.Hits)
		}
	}
	got = search(t, ix, Request{Query: "parade concert^5"})
	if ids(got[:1]) != "both" || ids(got[1:2]) != "none" {
		t.Errorf("with concert boosted: %v", got)
	}
}

func TestFacetCounts(t *testing.T) {
	ix := newIndex(t, records()...)
	res, err := ix.Search(context.Background(), Request{Query: "parade", Facets: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"platform": "facebook:5 mastodon:1 x:1",
		"account":  "3rd-brigade:5 Brigade3:1 brigade@social.example.gov:1",
		"kind":     "post:5 comment:2",
		"year":     "2025:1 2024:6",
		"class":    "unclassified:5 record:1 secondary-copy:1",
	}
	for name, w := range want {
		var parts []string
		for _, fc := range res.Facets[name] {
			parts = append(parts, fmt.Sprintf("%s:%d", fc.Value, fc.Count))
		}
		if got := strings.Join(parts, " "); got != w {
			t.Errorf("facet %s: %s, want %s", name, got, w)
		}
	}
	// Facets count the hits, not the index.
	res, _ = ix.Search(context.Background(), Request{Query: "accessible", Facets: true})
	if fmt.Sprint(res.Facets["kind"]) != "[{comment 1}]" || fmt.Sprint(res.Facets["year"]) != "[{2024 1}]" {
		t.Errorf("facets of one hit: %v", res.Facets)
	}
	res, _ = ix.Search(context.Background(), Request{Query: "parade"})
	if res.Facets != nil {
		t.Errorf("facets not asked for: %v", res.Facets)
	}
}

// corpus makes n items over a few accounts and days, some created in the
// same hour, with words from a small vocabulary.
func corpus(n int) []Doc {
	words := strings.Fields("parade brigade road closure range armoury band concert défilé défense families welcome notice")
	accts := [][2]string{{"facebook", "3rd-brigade"}, {"x", "Brigade3"}, {"mastodon", "brigade@social.example.gov"}}
	var out []Doc
	for i := range n {
		var b strings.Builder
		for j := range 3 + i%7 {
			b.WriteString(words[(i*7+j*3+i/5)%len(words)])
			b.WriteByte(' ')
		}
		a := accts[i%len(accts)]
		// Bunches of items share an hour; a few share a second.
		created := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i/40)*time.Hour + time.Duration(i%40/2)*time.Minute)
		out = append(out, doc(fmt.Sprintf("%05d", i), b.String(), created.Format(time.RFC3339), on(a[0], a[1])))
	}
	return out
}

func TestPagination(t *testing.T) {
	ix := newIndex(t, corpus(700)...)
	for _, s := range []Sort{SortRelevance, SortNewest, SortOldest} {
		for _, q := range []string{"parade", "+parade +brigade", ""} {
			all := search(t, ix, Request{Query: q, Sort: s})
			var paged []string
			for off := 0; ; off += 37 {
				res, err := ix.Search(context.Background(), Request{Query: q, Sort: s, Offset: off, Limit: 37})
				if err != nil {
					t.Fatal(err)
				}
				if res.Total != uint64(len(all)) {
					t.Fatalf("%s %q: total %d at offset %d, want %d", s, q, res.Total, off, len(all))
				}
				if len(res.Hits) == 0 {
					break
				}
				for _, h := range res.Hits {
					paged = append(paged, h.Key)
				}
			}
			if !slices.Equal(paged, all) {
				t.Errorf("%s %q: pages of 37 differ from one page (%d vs %d hits)", s, q, len(paged), len(all))
			}
		}
	}
	if _, err := ix.Search(context.Background(), Request{Limit: MaxLimit + 1}); err == nil {
		t.Error("a page over MaxLimit was accepted")
	}
}

func TestSearchAllVisitsEveryHitOnce(t *testing.T) {
	docs := corpus(3000)
	ix := newIndex(t, docs...)
	for _, tc := range []struct {
		req Request
	}{
		{Request{Query: "parade"}},
		{Request{Query: "parade", Sort: SortOldest}},
		{Request{}},
		{Request{Query: "+brigade -road", Accounts: []string{"Brigade3"}}},
	} {
		res, err := ix.Search(context.Background(), Request{Query: tc.req.Query, Accounts: tc.req.Accounts})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total <= DefaultLimit*10 {
			t.Fatalf("%q: only %d hits: not more than a page", tc.req.Query, res.Total)
		}
		seen := map[string]int{}
		var last time.Time
		n, err := ix.SearchAll(context.Background(), tc.req, func(h Hit) error {
			seen[h.Key]++
			if !last.IsZero() && (tc.req.Sort == SortOldest && h.CreatedAt.Before(last) || tc.req.Sort != SortOldest && h.CreatedAt.After(last)) {
				t.Errorf("%q: %s out of order", tc.req.Query, h.Key)
			}
			last = h.CreatedAt
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n != res.Total || uint64(len(seen)) != res.Total {
			t.Errorf("%q: visited %d (%d distinct), total %d", tc.req.Query, n, len(seen), res.Total)
		}
		for k, c := range seen {
			if c != 1 {
				t.Errorf("%q: %s visited %d times", tc.req.Query, k, c)
			}
		}
	}
	// An error from the callback stops the walk and comes back.
	stop := errors.New("enough")
	n, err := ix.SearchAll(context.Background(), Request{}, func(Hit) error {
		return stop
	})
	if !errors.Is(err, stop) || n != 0 {
		t.Errorf("callback error: %d, %v", n, err)
	}
	// So does a cancelled context.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ix.SearchAll(ctx, Request{}, func(Hit) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestSearchAllSeesOneSnapshot(t *testing.T) {
	ix := newIndex(t, corpus(500)...)
	more := corpus(1000)[500:]
	n, err := ix.SearchAll(context.Background(), Request{}, func(h Hit) error {
		if len(more) > 0 {
			// Writes during the walk are not seen by it.
			batch := more[:100]
			more = more[100:]
			return ix.IndexDocs(context.Background(), batch)
		}
		return nil
	})
	if err != nil || n != 500 {
		t.Fatalf("visited %d, %v; want the 500 of the snapshot", n, err)
	}
	if c, _ := ix.Count(); c != 1000 {
		t.Errorf("count after %d", c)
	}
}

func TestDeleteAndReplace(t *testing.T) {
	ix := newIndex(t, records()...)
	if err := ix.Delete(context.Background(), []string{"facebook/3rd-brigade/c1", "no/such/key"}); err != nil {
		t.Fatal(err)
	}
	if got := ids(search(t, ix, Request{Query: "parade"})); got != "c2 p1 p2 p3 p4 p5" {
		t.Errorf("after delete: %s", got)
	}
	// Indexing a key again replaces its document.
	d := records()[0]
	d.Text = "Changed to a concert."
	if err := ix.IndexDocs(context.Background(), []Doc{d}); err != nil {
		t.Fatal(err)
	}
	if got := ids(search(t, ix, Request{Query: "concert"})); got != "p1" {
		t.Errorf("replaced: %s", got)
	}
	if got := ids(search(t, ix, Request{Query: "parade"})); got != "c2 p2 p3 p4 p5" {
		t.Errorf("replaced: %s", got)
	}
}

func TestRemovalFromCatalog(t *testing.T) {
	at := ts("2024-05-01T10:00:00Z")
	type withPointer struct{ RemovedAt *time.Time }
	type withValue struct{ RemovedAt time.Time }
	type without struct{ Key string }
	for _, tc := range []struct {
		item any
		ok   bool
	}{
		{withPointer{&at}, true}, {withPointer{}, false}, {&withPointer{&at}, true},
		{withValue{at}, true}, {withValue{}, false}, {without{}, false},
	} {
		ok, when := removal(tc.item)
		if ok != tc.ok || ok && !when.Equal(at) {
			t.Errorf("%#v: %v %v", tc.item, ok, when)
		}
	}
}

// bleve alone, given Doc.Fields and Mapping, indexes what osmarc does: the
// same queries find the same items in both.
func TestMappingDescribesTheIndex(t *testing.T) {
	docs := append(records(), corpus(300)...)
	docs = append(docs, doc("fr9", "Le défilé de l'armée: fermetures de routes.", "2024-05-05T10:00:00Z", lang("fr")))
	ours := newIndex(t, docs...)
	dir := filepath.Join(t.TempDir(), "bleve")
	b, err := bleve.New(dir, Mapping())
	if err != nil {
		t.Fatal(err)
	}
	batch := b.NewBatch()
	for _, d := range docs {
		if err := batch.Index(d.Key, d.Fields()); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Batch(batch); err != nil {
		t.Fatal(err)
	}
	b.Close()
	theirs, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer theirs.Close()
	for _, q := range []string{"parade", "défense", "armee", `"road closure"`, `"défilé de l'armée"`, "+brigade -road", "account:brigade3",
		"history:cancelled", "created:2024-01", "class:record", "exemption:b6", "hold:smith-v-brigade", "removed:true", "edited:true", "lang:fr", "author:3rd*"} {
		for _, s := range []Sort{SortRelevance, SortNewest} {
			a, b := search(t, ours, Request{Query: q, Sort: s}), search(t, theirs, Request{Query: q, Sort: s})
			if s == SortRelevance {
				// Equal scores keep index order, which differs.
				a, b = sorted(a), sorted(b)
			}
			if !slices.Equal(a, b) {
				t.Errorf("%q (%s): osmarc found %v, bleve alone %v", q, s, a, b)
			}
		}
	}
}

// A page of many comments on a few posts: every hit carries its parent
// (read once per search, whichever goroutine built the hit).
func TestParentsOfAPageOfComments(t *testing.T) {
	var docs []Doc
	for p := range 3 {
		docs = append(docs, doc(fmt.Sprintf("p%d", p), fmt.Sprintf("Post number %d about the parade", p), "2024-01-01T00:00:00Z"))
	}
	for c := range 60 {
		docs = append(docs, doc(fmt.Sprintf("c%d", c), "A comment on the parade", fmt.Sprintf("2024-01-02T00:%02d:00Z", c), parent(fmt.Sprintf("p%d", c%3))))
	}
	ix := newIndex(t, docs...)
	res, err := ix.Search(context.Background(), Request{Query: "comment", Limit: 60})
	if err != nil || len(res.Hits) != 60 {
		t.Fatalf("%v, %d hits", err, len(res.Hits))
	}
	for _, h := range res.Hits {
		want := fmt.Sprintf("Post number %s about the parade", strings.TrimPrefix(h.Parent, "p"))
		if h.ParentText != want {
			t.Errorf("%s: parent text %q, want %q", h.Key, h.ParentText, want)
		}
	}
	n, err := ix.SearchAll(context.Background(), Request{Query: "comment"}, func(h Hit) error {
		if h.ParentText == "" {
			t.Errorf("SearchAll: %s without its parent", h.Key)
		}
		return nil
	})
	if err != nil || n != 60 {
		t.Errorf("SearchAll: %d, %v", n, err)
	}
}

// Within keeps the items of any of several scopes (legal holds): accounts
// by key, a span of creation, a query.
func TestWithinScopes(t *testing.T) {
	ix := newIndex(t, records()...)
	for _, tc := range []struct {
		name string
		req  Request
		want string
	}{
		{"account key", Request{Within: []Scope{{Accounts: []string{"x/Brigade3"}}}}, "p4"},
		{"query", Request{Within: []Scope{{Query: "ground"}}}, "p5"},
		{"account and dates", Request{Within: []Scope{{Accounts: []string{"facebook/3rd-brigade"}, From: ts("2024-02-01T00:00:00Z"), To: ts("2024-04-01T00:00:00Z")}}}, "p2 p3"},
		{"any of two, with the request's own query", Request{Query: "parade -ground", Within: []Scope{{Query: "ground"}, {Accounts: []string{"x/Brigade3", "mastodon/brigade@social.example.gov"}}}}, "p4"},
		{"empty span", Request{Within: []Scope{{From: ts("2024-02-01T00:00:00Z"), To: ts("2024-02-01T00:00:00Z")}}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(search(t, ix, tc.req)); got != tc.want {
				t.Errorf("found %q, want %q", got, tc.want)
			}
		})
	}
	_, err := ix.Search(context.Background(), Request{Within: []Scope{{Name: "hold h1", Query: `"open`}}})
	if !errors.Is(err, ErrQuery) || !strings.HasPrefix(err.Error(), "hold h1: query: unclosed quote") {
		t.Errorf("bad scope query: %v", err)
	}
}

// A capture hands the index its batches without waiting for each to be on
// disk: they are searchable at once, durable after Sync, and closing the
// index writes what it still holds, so nothing handed over is lost.
func TestBatchesNotYetSyncedAreSearchableAndKept(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), DirName)
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	docs := corpus(2*BatchSize + 17)
	if err := ix.writeDocs(ctx, docs[:BatchSize+5], ""); err != nil {
		t.Fatal(err)
	}
	if n, err := ix.Count(); err != nil || n != BatchSize+5 {
		t.Fatalf("before sync: %d documents searchable (%v), want %d", n, err, BatchSize+5)
	}
	if err := ix.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// The rest without a sync: Close must write them.
	if err := ix.writeDocs(ctx, docs[BatchSize+5:], ""); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if n, err := ro.Count(); err != nil || n != uint64(len(docs)) {
		t.Fatalf("after close and reopen: %d documents (%v), want %d", n, err, len(docs))
	}
}

// With a resolver of holds, a hold in the filters or the query (hold:NAME)
// keeps what the hold's scope names now (accounts, dates, query), not what
// documents were told when they were indexed; it combines like any clause;
// and a hold's query cannot name a hold.
func TestHoldsByTheirScope(t *testing.T) {
	ix := newIndex(t, records()...)
	scopes := map[string]Scope{
		"parade-jan": {Name: "hold parade-jan", Query: "parade", Accounts: []string{"facebook/3rd-brigade"}, To: ts("2024-02-01T00:00:00Z")},
		"x":          {Name: "hold x", Accounts: []string{"x/Brigade3"}},
		"loop":       {Name: "hold loop", Query: "hold:x"},
	}
	resolve := func(name string) (Scope, error) {
		sc, ok := scopes[strings.ToLower(name)]
		if !ok {
			return Scope{}, fmt.Errorf("hold %q: not found", name)
		}
		return sc, nil
	}
	for _, tc := range []struct {
		name string
		req  Request
		want string
	}{
		{"filter", Request{Holds: []string{"parade-jan"}}, "c1 c2 p1"},
		{"filter any of", Request{Holds: []string{"parade-jan", "x"}}, "c1 c2 p1 p4"},
		{"clause", Request{Query: "hold:parade-jan"}, "c1 c2 p1"},
		{"clause and word", Request{Query: "+hold:parade-jan +accessible"}, "c1"},
		{"clause excluded", Request{Query: "parade -hold:parade-jan -hold:x"}, "p2 p3 p5"},
		{"clause or clause", Request{Query: "hold:parade-jan hold:X"}, "c1 c2 p1 p4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.HoldScope = resolve
			if got := ids(search(t, ix, tc.req)); got != tc.want {
				t.Errorf("found %q, want %q", got, tc.want)
			}
		})
	}
	for _, q := range []string{"hold:loop", "hold:nosuch"} {
		if _, err := ix.Search(context.Background(), Request{Query: q, HoldScope: resolve}); err == nil {
			t.Errorf("%s was accepted", q)
		}
	}
	if _, err := ix.Search(context.Background(), Request{Holds: []string{"nosuch"}, HoldScope: resolve}); err == nil {
		t.Error("an unknown hold in the filters was accepted")
	}
}
