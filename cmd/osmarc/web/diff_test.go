package web

import (
	"strings"
	"testing"
)

func TestWordDiff(t *testing.T) {
	for _, tc := range []struct {
		name, older, newer string
		want               []DiffSpan
	}{
		{"same", "Road closed today.", "Road closed today.", []DiffSpan{{OpEqual, "Road closed today."}}},
		{"word changed", "The parade starts at noon.", "The parade starts at 2pm.",
			[]DiffSpan{{OpEqual, "The parade starts at "}, {OpDelete, "noon"}, {OpInsert, "2pm"}, {OpEqual, "."}}},
		{"words added", "Road closed", "Road closed until Friday",
			[]DiffSpan{{OpEqual, "Road closed"}, {OpInsert, " until Friday"}}},
		{"punctuation alone", "Hello, world", "Hello; world",
			[]DiffSpan{{OpEqual, "Hello"}, {OpDelete, ","}, {OpInsert, ";"}, {OpEqual, " world"}}},
		{"french accents whole", "Défilé annulé", "Défilé reporté",
			[]DiffSpan{{OpEqual, "Défilé "}, {OpDelete, "annulé"}, {OpInsert, "reporté"}}},
		{"from empty", "", "new text", []DiffSpan{{OpInsert, "new text"}}},
		{"to empty", "old text", "", []DiffSpan{{OpDelete, "old text"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := WordDiff(tc.older, tc.newer)
			if len(got) != len(tc.want) {
				t.Fatalf("WordDiff(%q, %q) = %q, want %q", tc.older, tc.newer, got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("WordDiff(%q, %q) = %q, want %q", tc.older, tc.newer, got, tc.want)
				}
			}
		})
	}
}

// The spans give both texts back exactly, whatever they hold, and never
// cut a word.
func TestWordDiffRoundTrip(t *testing.T) {
	pairs := [][2]string{
		{"<script>alert(1)</script> hi", "<script>alert(2)</script> hi there"},
		{"a\xffb c", "a\xffb d"},
		{strings.Repeat("word ", 3000), strings.Repeat("word ", 1500) + "changed " + strings.Repeat("word ", 1499)},
		{"emoji 🎉 party", "emoji 🎊 party"},
	}
	for _, p := range pairs {
		spans := WordDiff(p[0], p[1])
		var older, newer strings.Builder
		for _, s := range spans {
			if s.Op != OpInsert {
				older.WriteString(s.Text)
			}
			if s.Op != OpDelete {
				newer.WriteString(s.Text)
			}
		}
		if older.String() != p[0] || newer.String() != p[1] {
			t.Fatalf("spans of %.40q → %.40q do not give the texts back", p[0], p[1])
		}
	}
}

func FuzzWordDiff(f *testing.F) {
	f.Add("The parade starts at noon.", "The parade starts at 2pm.")
	f.Add("", "x")
	f.Fuzz(func(t *testing.T, a, b string) {
		var older, newer strings.Builder
		for _, s := range WordDiff(a, b) {
			if s.Op != OpInsert {
				older.WriteString(s.Text)
			}
			if s.Op != OpDelete {
				newer.WriteString(s.Text)
			}
		}
		if older.String() != a || newer.String() != b {
			t.Fatalf("round trip failed for %q, %q", a, b)
		}
	})
}
