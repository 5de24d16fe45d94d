package x

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

var plainWord = regexp.MustCompile(`^[a-z]+$`)

// synthWordsOf are the plain words of each tweet's text in a synthetic
// tweets.js (mentions, hashtags, links, entities and the mark of a correction left
// out).
func synthWordsOf(t *testing.T, js []byte) [][]string {
	t.Helper()
	var texts [][]string
	for _, m := range regexp.MustCompile(`"full_text": ("(?:[^"\\]|\\.)*")`).FindAllSubmatch(js, -1) {
		var s string
		if err := json.Unmarshal(m[1], &s); err != nil {
			t.Fatal(err)
		}
		var ws []string
		for _, w := range strings.Fields(s) {
			if plainWord.MatchString(w) {
				ws = append(ws, w)
			}
		}
		texts = append(texts, ws)
	}
	return texts
}

// TestSyntheticVocabularies checks what the benchmark relies on: each
// vocabulary is reproducible from the seed, the small one repeats its
// few words and pairs, and the Zipf one has real text's long tail (most
// distinct pairs of words occur once) with a few words most of the text.
func TestSyntheticVocabularies(t *testing.T) {
	const n = 5000
	for _, c := range []struct {
		name  string
		vocab Vocabulary
	}{{"small", SmallVocabulary}, {"zipf", ZipfVocabulary}} {
		t.Run(c.name, func(t *testing.T) {
			var a, b bytes.Buffer
			if _, err := WriteSyntheticTweetsJSWith(&a, n, 7, c.vocab); err != nil {
				t.Fatal(err)
			}
			if _, err := WriteSyntheticTweetsJSWith(&b, n, 7, c.vocab); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatal("the same seed wrote two different archives")
			}
			texts := synthWordsOf(t, a.Bytes())
			if len(texts) < n {
				t.Fatalf("%d tweets' texts, want at least %d", len(texts), n)
			}
			words, pairs := map[string]int{}, map[string]int{}
			total := 0
			for _, ws := range texts {
				for i, w := range ws {
					words[w]++
					total++
					if i > 0 {
						pairs[ws[i-1]+" "+w]++
					}
				}
			}
			once, top := 0, 0
			for _, k := range pairs {
				if k == 1 {
					once++
				}
			}
			for _, k := range words {
				top = max(top, k)
			}
			onceShare, topShare := float64(once)/float64(len(pairs)), float64(top)/float64(total)
			t.Logf("%d words, %d distinct, %d distinct pairs, %.0f%% of them once; the commonest word %.1f%% of the text",
				total, len(words), len(pairs), 100*onceShare, 100*topShare)
			switch c.vocab {
			case SmallVocabulary:
				if len(words) > len(synthWords) || onceShare > 0.01 {
					t.Errorf("small vocabulary: %d distinct words (at most %d), %.1f%% of pairs once (want ≈ 0)", len(words), len(synthWords), 100*onceShare)
				}
			case ZipfVocabulary:
				if len(words) < 10000 || onceShare < 0.5 || topShare < 0.05 || topShare > 0.25 {
					t.Errorf("Zipf vocabulary: %d distinct words (want ≥ 10,000), %.0f%% of pairs once (want ≥ 50%%), commonest word %.1f%% (want 5–25%%)",
						len(words), 100*onceShare, 100*topShare)
				}
			}
		})
	}
}
