package index

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// linkOnly's shortcut answers as its definition does (linkOnlyRE), on
// texts made of the pieces that matter to it: links in any case, tags,
// words, punctuation, and every kind of white space.
func TestLinkOnlyShortcut(t *testing.T) {
	pieces := []string{
		"https://t.co/x1", "HTTP://EXAMPLE.ORG", "www.army.ca", "WwW.x", "(https://a.b)", "see:http://x", "xhttp://y",
		"#Parade", "@brigade", "#", "@", "#.", "#é", "@_", "x#y", "http:/x", "ww.x", "www", "://", "ſ",
		"Parade", "road", "2024", "é", "ß", "٣", "—", "!", "…", ".", ",", ":", "/",
		" ", " ", "\t", "\n", "\r", "\f", "\v", "\u00a0", "\u2028",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200000 {
		var b strings.Builder
		for range rng.IntN(6) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		text := b.String()
		var links []string
		if rng.IntN(2) == 0 {
			links = []string{"https://example.org"}
		}
		if got, want := linkOnly(text, links), linkOnlyRE(text, links); got != want {
			t.Fatalf("case %d: linkOnly(%q, %v) = %v, its definition says %v", i, text, links, got, want)
		}
	}
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"https://t.co/x1 #Parade @brigade", true},
		{"Parade https://t.co/x1", false},
		{"https://t.co/x1\u00a0Parade", true}, // one link: \S+ runs on over a no-break space
		{"", true},
	} {
		if got := linkOnly(tc.text, []string{"https://t.co/x1"}); got != tc.want {
			t.Errorf("linkOnly(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}
