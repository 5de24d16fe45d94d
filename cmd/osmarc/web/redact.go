package web

import (
	"context"
	"strings"

	"github.com/osmarc/osmarc/archive/request/pii"
	"github.com/osmarc/osmarc/index"
)

// redactText replaces the personal information archive/request/pii finds
// in s with a marker naming its kind, and moves or drops the marks
// (byte spans of s) to fit the new text. A mark that overlaps redacted
// text is dropped: it would point into what is no longer shown.
func redactText(s string, marks []index.Span) (string, []index.Span) {
	found := pii.Find(s)
	if len(found) == 0 {
		return s, marks
	}
	var b strings.Builder
	// shift maps an offset of s to the new text, for offsets outside
	// matches.
	type edit struct{ start, end, delta int }
	var edits []edit
	last, delta := 0, 0
	for _, m := range found {
		b.WriteString(s[last:m.Start])
		rep := "[redacted " + string(m.Kind) + "]"
		b.WriteString(rep)
		delta += len(rep) - (m.End - m.Start)
		edits = append(edits, edit{m.Start, m.End, delta})
		last = m.End
	}
	b.WriteString(s[last:])
	var out []index.Span
	for _, sp := range marks {
		d, keep := 0, true
		for _, e := range edits {
			if sp.End <= e.start {
				break
			}
			if sp.Start < e.end {
				keep = false
				break
			}
			d = e.delta
		}
		if keep {
			out = append(out, index.Span{Start: sp.Start + d, End: sp.End + d})
		}
	}
	return b.String(), out
}

// redactHit hides personal information in a hit's snippet, author and
// parent; an exempt hit's content is withheld entirely.
func redactHit(h *index.Hit, exempt bool) {
	if exempt {
		h.Snippet, h.Marks, h.Author, h.ParentText, h.ParentAuthor = "[withheld: exempt]", nil, "", "", ""
		return
	}
	h.Snippet, h.Marks = redactText(h.Snippet, h.Marks)
	h.Author, _ = redactText(h.Author, nil)
	h.ParentText, _ = redactText(h.ParentText, nil)
	h.ParentAuthor, _ = redactText(h.ParentAuthor, nil)
}

// exemptHits names the hits a redacted view withholds: those exempt (or
// of unknown exemption) as classes has them.
func (s *Server) exemptHits(ctx context.Context, hits []index.Hit) (map[string]bool, error) {
	keys := make([]string, len(hits))
	for i, h := range hits {
		keys[i] = h.Key
	}
	cs, err := s.classes(ctx, keys...)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for k, c := range cs {
		if c.withheld() {
			out[k] = true
		}
	}
	return out, nil
}
