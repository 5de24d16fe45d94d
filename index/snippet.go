package index

import (
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
)

// snippetBytes is about how long a snippet is.
const snippetBytes = 200

// snippet picks a stretch of the latest text around what the query
// matched, or of an earlier version when that holds more of the query's
// words (an edited-away phrase), and marks the matched words. Matches are
// found by analysing the text again, with the plain analyser and the
// item's language analyser, and comparing terms, so "parading" marks
// "parade" in an English item.
func snippet(text string, history []string, lang string, hl *hlTerms) (string, []Span, string) {
	best, bestMarks, bestWords, from := text, matches(text, lang, hl), 0, "text"
	bestWords = distinct(text, bestMarks)
	for i := len(history) - 1; i >= 0; i-- {
		m := matches(history[i], lang, hl)
		if w := distinct(history[i], m); w > bestWords {
			best, bestMarks, bestWords, from = history[i], m, w, "history"
		}
	}
	s, m := window(best, bestMarks)
	return s, m, from
}

// distinct counts the different words marked in a text.
func distinct(text string, marks []Span) int {
	seen := map[string]bool{}
	for _, m := range marks {
		seen[strings.ToLower(text[m.Start:m.End])] = true
	}
	return len(seen)
}

// matches are the byte spans of text whose terms the query looks for.
func matches(text, lang string, hl *hlTerms) []Span {
	if text == "" || hl == nil {
		return nil
	}
	var out []Span
	plain := analyser(AnalyserPlain)
	ts := plain.Analyze([]byte(text))
	for _, t := range ts {
		if hl.plain[string(t.Term)] {
			out = append(out, Span{t.Start, t.End})
		}
	}
	name := languageAnalyser(lang)
	if terms := hl.lang[name]; len(terms) > 0 {
		// Stemming every word of every hit is the costly part of a
		// snippet; a stem keeps the first letters of its word, so only
		// words that begin as a query stem does are stemmed.
		heads := map[string]bool{}
		for t := range terms {
			heads[head(t)] = true
		}
		var cand analysis.TokenStream
		for _, t := range ts {
			if heads[head(string(t.Term))] && !hl.plain[string(t.Term)] {
				cand = append(cand, t)
			}
		}
		if len(cand) > 0 {
			for _, t := range analyser(name).(*chain).derive(cand) {
				if terms[string(t.Term)] {
					out = append(out, Span{t.Start, t.End})
				}
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	// Merge duplicates and overlaps.
	merged := out[:1]
	for _, s := range out[1:] {
		last := &merged[len(merged)-1]
		if s.Start < last.End {
			last.End = max(last.End, s.End)
			continue
		}
		merged = append(merged, s)
	}
	return merged
}

// head is the part of a word a stem of it shares: its first two letters
// (after an elided article: l'armée, qu'il).
func head(w string) string {
	if i := strings.IndexAny(w, "'’"); i >= 0 && i <= 6 {
		w = w[i+len(string([]rune(w[i:])[0])):]
	}
	n := 0
	for i := range w {
		if n == 2 {
			return w[:i]
		}
		n++
	}
	return w
}

// window cuts about snippetBytes of text around the first mark, on word
// boundaries, with "…" where it cuts, and moves the marks into it.
func window(text string, marks []Span) (string, []Span) {
	text = strings.TrimSpace(text)
	if len(text) <= snippetBytes {
		return flatten(text, marks)
	}
	start := 0
	if len(marks) > 0 {
		start = max(0, marks[0].Start-snippetBytes/4)
	}
	end := min(len(text), start+snippetBytes)
	if end == len(text) {
		start = max(0, end-snippetBytes)
	}
	// Move to rune and word boundaries.
	for start > 0 && !utf8.RuneStart(text[start]) {
		start--
	}
	if start > 0 {
		if i := strings.IndexByte(text[start:], ' '); i >= 0 && i < 30 && (len(marks) == 0 || start+i < marks[0].Start) {
			start += i + 1
		}
	}
	for end < len(text) && !utf8.RuneStart(text[end]) {
		end++
	}
	if end < len(text) {
		if i := strings.LastIndexByte(text[start:end], ' '); i > 0 && end-(start+i) < 30 {
			end = start + i
		}
	}
	var in []Span
	for _, m := range marks {
		if m.Start >= start && m.End <= end {
			in = append(in, Span{m.Start - start, m.End - start})
		}
	}
	s, in := flatten(text[start:end], in)
	if start > 0 {
		s = "…" + s
		for i := range in {
			in[i].Start += len("…")
			in[i].End += len("…")
		}
	}
	if end < len(text) {
		s += "…"
	}
	return s, in
}

// flatten turns line breaks and tabs into spaces (same length, so marks
// stay in place): a snippet is one line.
func flatten(s string, marks []Span) (string, []Span) {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, s), marks
}
