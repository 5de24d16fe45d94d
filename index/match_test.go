package index

import (
	"context"
	"slices"
	"testing"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/catalog"
)

// What records-management rules match on: who wrote an item (the account
// or the public), a post that is only a link, media.
func TestRecordsFields(t *testing.T) {
	build := func(id, kind string, author *archive.Author, text string, links []string, media []archive.Media) Doc {
		it := catalog.Item{Key: "facebook/3rd-brigade/" + id, Platform: "facebook", Account: "3rd-brigade", ID: id, Kind: kind,
			CreatedAt: ts("2024-01-15T14:00:00Z"), Versions: []catalog.Version{{Digest: "x"}}}
		return NewDoc(it, &archive.Item{Platform: "facebook", Account: "3rd-brigade", ID: id, Kind: kind, Author: author,
			Text: text, Links: links, Media: media, CreatedAt: "2024-01-15T14:00:00Z"}, nil)
	}
	docs := []Doc{
		build("1", "post", &archive.Author{Handle: "@3rd-Brigade", Name: "3rd Brigade"}, "Our annual report https://example.gov/r.pdf #report", []string{"https://example.gov/r.pdf"}, nil),
		build("2", "post", nil, "https://example.gov/r.pdf #report @band", []string{"https://example.gov/r.pdf"}, nil),
		build("3", "comment", &archive.Author{Handle: "jane", Name: "Jane Public"}, "www.example.org/x", nil, []archive.Media{{Type: "image/jpeg", URL: "u"}}),
		build("4", "comment", &archive.Author{ID: "3RD-BRIGADE"}, "Thanks!", nil, []archive.Media{{Type: "video", URL: "u"}, {URL: "v"}}),
	}
	ix := newIndex(t, docs...)
	for q, want := range map[string][]string{
		"origin:account":                 {"1", "2", "4"},
		"origin:public":                  {"3"},
		"linkonly:true":                  {"2", "3"},
		"linkonly:false":                 {"1", "4"},
		"media:true":                     {"3", "4"},
		"media:none":                     {"1", "2"},
		"media:image":                    {"3"},
		"media:other":                    {"4"},
		"+origin:account +linkonly:true": {"2"},
	} {
		var got []string
		for _, k := range search(t, ix, Request{Query: q}) {
			got = append(got, k[len("facebook/3rd-brigade/"):])
		}
		if !slices.Equal(sorted(got), want) {
			t.Errorf("%s: got %v, want %v", q, sorted(got), want)
		}
	}
	if _, err := ix.Search(context.Background(), Request{Query: "origin:nobody"}); !IsQueryError(err) {
		t.Errorf("origin:nobody: got %v, want a query error", err)
	}
}

func TestMatchAndMatchKeys(t *testing.T) {
	ix := newIndex(t,
		doc("1", "parade today", "2024-01-15T14:00:00Z"),
		doc("2", "concert tonight", "2024-01-15T15:00:00Z", kind("comment")),
		doc("3", "parade again", "2024-02-15T14:00:00Z", kind("comment")),
	)
	ctx := context.Background()
	m, err := ix.Match(ctx, "+parade +kind:comment", []string{"facebook/3rd-brigade/1", "facebook/3rd-brigade/3", "facebook/3rd-brigade/9"})
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 || !m["facebook/3rd-brigade/3"] {
		t.Errorf("Match: %v", m)
	}
	var keys []string
	n, err := ix.MatchKeys(ctx, "parade", func(k string) error { keys = append(keys, k); return nil })
	if err != nil || n != 2 || !slices.Equal(sorted(keys), []string{"facebook/3rd-brigade/1", "facebook/3rd-brigade/3"}) {
		t.Errorf("MatchKeys: %d %v %v", n, keys, err)
	}
	if _, err := ix.Match(ctx, `"unclosed`, nil); !IsQueryError(err) {
		t.Errorf("a malformed query: %v", err)
	}
	cs, err := Clauses(`+platform:facebook  -kind:comment "road closure"`)
	if err != nil {
		t.Fatal(err)
	}
	want := []QueryClause{{Text: "+platform:facebook", Field: "platform", Required: true}, {Text: "-kind:comment", Field: "kind", Excluded: true}, {Text: `"road closure"`}}
	if !slices.Equal(cs, want) {
		t.Errorf("Clauses: %+v", cs)
	}
}
