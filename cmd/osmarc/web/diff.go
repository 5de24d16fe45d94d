package web

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// Op says what a stretch of a word diff is.
type Op string

// The kinds of stretch.
const (
	OpEqual  Op = "equal"
	OpDelete Op = "delete" // in the older text only
	OpInsert Op = "insert" // in the newer text only
)

// DiffSpan is one stretch of a word diff: text that both versions share,
// or that one of them alone has. Concatenating the equal and delete spans
// gives the older text back exactly, the equal and insert spans the newer.
type DiffSpan struct {
	Op   Op     `json:"op"`
	Text string `json:"text"`
}

// WordDiff compares two texts word by word: a word is a run of letters,
// digits and marks, every other character (punctuation, white space) a
// token of its own, so a changed word is shown whole and a changed comma
// alone. It uses diffmatchpatch's Myers diff on the token sequence.
func WordDiff(older, newer string) []DiffSpan {
	a, b := tokenize(older), tokenize(newer)
	// Map each distinct token to one rune, diff the rune strings, then map
	// back: the diff then works on tokens, never splitting a word.
	ids := map[string]rune{}
	var names []string
	encode := func(toks []string) []rune {
		out := make([]rune, len(toks))
		for i, t := range toks {
			r, ok := ids[t]
			if !ok {
				r = tokenRune(len(names))
				ids[t] = r
				names = append(names, t)
			}
			out[i] = r
		}
		return out
	}
	ra, rb := encode(a), encode(b)
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = 0 // exact, however long the texts
	diffs := dmp.DiffMainRunes(ra, rb, false)
	var out []DiffSpan
	for _, d := range diffs {
		var sb strings.Builder
		for _, r := range d.Text {
			sb.WriteString(names[runeToken(r)])
		}
		op := OpEqual
		switch d.Type {
		case diffmatchpatch.DiffDelete:
			op = OpDelete
		case diffmatchpatch.DiffInsert:
			op = OpInsert
		}
		if n := len(out); n > 0 && out[n-1].Op == op {
			out[n-1].Text += sb.String()
			continue
		}
		if sb.Len() > 0 {
			out = append(out, DiffSpan{Op: op, Text: sb.String()})
		}
	}
	return out
}

// tokenRune maps token number n to a rune, skipping the surrogate range
// (runes there do not survive a round trip through a Go string).
func tokenRune(n int) rune {
	r := rune(n) + 1
	if r >= 0xD800 {
		r += 0x800
	}
	return r
}

func runeToken(r rune) int {
	if r >= 0xE000 {
		r -= 0x800
	}
	return int(r) - 1
}

// tokenize splits s into words and single other characters, byte for
// byte (invalid UTF-8 is kept as it is).
func tokenize(s string) []string {
	var toks []string
	start := -1
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		word := unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || r == '_' || r == '\''
		switch {
		case word && start < 0:
			start = i
		case !word:
			if start >= 0 {
				toks = append(toks, s[start:i])
				start = -1
			}
			toks = append(toks, s[i:i+size])
		}
		i += size
	}
	if start >= 0 {
		toks = append(toks, s[start:])
	}
	return toks
}
