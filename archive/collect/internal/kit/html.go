package kit

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Anchor is a link found in HTML.
type Anchor struct {
	Href  string
	Text  string
	Class string
	Rel   string
}

// Mention reports whether the anchor is a Mastodon-style mention
// (class "mention" or "u-url") and not a hashtag.
func (a Anchor) Mention() bool {
	return hasWord(a.Class, "mention") && !a.Hashtag()
}

// Hashtag reports whether the anchor is a hashtag link (class "hashtag"
// or rel "tag").
func (a Anchor) Hashtag() bool {
	return hasWord(a.Class, "hashtag") || hasWord(a.Rel, "tag")
}

func hasWord(list, w string) bool {
	for _, f := range strings.Fields(list) {
		if strings.EqualFold(f, w) {
			return true
		}
	}
	return false
}

// Image is an <img> found in HTML.
type Image struct {
	Src string
	Alt string
}

// HTMLDoc is what ParseHTML finds in a fragment of HTML.
type HTMLDoc struct {
	// Text is the visible text: tags stripped, entities unescaped, white
	// space collapsed as a browser would, line breaks (<br>) and
	// paragraphs (<p>, <div>, <li>, headings …) kept as "\n" and "\n\n",
	// link text kept, mis-encoded text repaired (FixText).
	Text    string
	Anchors []Anchor
	Images  []Image
}

// Links are the hrefs of the anchors that are neither mentions nor
// hashtags, in order, each once.
func (d HTMLDoc) Links() []string {
	var out []string
	for _, a := range d.Anchors {
		if a.Href == "" || a.Mention() || a.Hashtag() {
			continue
		}
		out = append(out, a.Href)
	}
	return Unique(out)
}

// HTMLText is ParseHTML(s).Text.
func HTMLText(s string) string { return ParseHTML(s).Text }

var paragraphTags = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Blockquote: true, atom.H1: true, atom.H2: true, atom.H3: true,
	atom.H4: true, atom.H5: true, atom.H6: true, atom.Ul: true, atom.Ol: true, atom.Dl: true,
	atom.Table: true, atom.Section: true, atom.Article: true, atom.Header: true, atom.Footer: true,
	atom.Figure: true, atom.Pre: true, atom.Hr: true, atom.Aside: true, atom.Main: true, atom.Nav: true,
	atom.Details: true, atom.Address: true, atom.Figcaption: true,
}

var lineTags = map[atom.Atom]bool{atom.Li: true, atom.Tr: true, atom.Dt: true, atom.Dd: true, atom.Summary: true}

var skipTags = map[atom.Atom]bool{atom.Script: true, atom.Style: true, atom.Template: true, atom.Head: true, atom.Title: true, atom.Noscript: true}

// ParseHTML reads a fragment of HTML as a platform renders a post.
func ParseHTML(s string) HTMLDoc {
	var doc HTMLDoc
	if !strings.ContainsAny(s, "<&") {
		// Plain text: only white space to tidy.
		var tb textBuilder
		tb.words(s)
		doc.Text = FixText(tb.String())
		return doc
	}
	z := html.NewTokenizer(strings.NewReader(s))
	var tb textBuilder
	skip, pre := 0, 0
	var open []*Anchor // anchors being read (nesting is invalid HTML, but seen)
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			for _, a := range open {
				doc.Anchors = append(doc.Anchors, finishAnchor(a))
			}
			doc.Text = FixText(tb.String())
			return doc
		case html.TextToken:
			if skip > 0 {
				continue
			}
			t := string(z.Text())
			if pre > 0 {
				tb.raw(t)
			} else {
				tb.words(t)
			}
			for _, a := range open {
				a.Text += t
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			attrs := map[string]string{}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				attrs[string(k)] = string(v)
			}
			switch {
			case skipTags[a]:
				if tt == html.StartTagToken {
					skip++
				}
			case a == atom.Br:
				tb.newline()
			case a == atom.A:
				if tt == html.StartTagToken {
					open = append(open, &Anchor{Href: strings.TrimSpace(attrs["href"]), Class: attrs["class"], Rel: attrs["rel"]})
				}
			case a == atom.Img:
				if src := strings.TrimSpace(attrs["src"]); src != "" {
					doc.Images = append(doc.Images, Image{Src: src, Alt: FixText(attrs["alt"])})
				}
			case a == atom.Pre:
				tb.paragraph()
				if tt == html.StartTagToken {
					pre++
				}
			case paragraphTags[a]:
				tb.paragraph()
			case lineTags[a]:
				tb.lineStart()
				if a == atom.Li {
					tb.prefix("- ")
				}
			case a == atom.Td || a == atom.Th:
				tb.space()
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			switch {
			case skipTags[a]:
				if skip > 0 {
					skip--
				}
			case a == atom.A:
				if n := len(open); n > 0 {
					doc.Anchors = append(doc.Anchors, finishAnchor(open[n-1]))
					open = open[:n-1]
				}
			case a == atom.Pre:
				if pre > 0 {
					pre--
				}
				tb.paragraph()
			case paragraphTags[a]:
				tb.paragraph()
			case lineTags[a]:
				tb.newline()
			}
		}
	}
}

func finishAnchor(a *Anchor) Anchor {
	out := *a
	var tb textBuilder
	tb.words(out.Text)
	out.Text = FixText(tb.String())
	return out
}

// textBuilder writes text the way a browser lays it out: runs of white
// space collapse to one space, breaks wait until the next visible text
// (so no trailing or doubled blank lines).
type textBuilder struct {
	b        strings.Builder
	nl       int  // newlines owed before the next text
	sp       bool // a space owed before the next text
	pendPref string
}

func (t *textBuilder) flushBreaks() {
	if t.b.Len() == 0 {
		t.nl, t.sp = 0, false
	} else if t.nl > 0 {
		t.b.WriteString(strings.Repeat("\n", t.nl))
		t.nl, t.sp = 0, false
	} else if t.sp {
		t.b.WriteByte(' ')
		t.sp = false
	}
	if t.pendPref != "" {
		t.b.WriteString(t.pendPref)
		t.pendPref = ""
	}
}

func (t *textBuilder) words(s string) {
	i := 0
	for i < len(s) {
		if isSpace(s[i]) {
			t.sp = true
			i++
			continue
		}
		j := i
		for j < len(s) && !isSpace(s[j]) {
			j++
		}
		t.flushBreaks()
		t.b.WriteString(s[i:j])
		i = j
	}
}

// raw writes preformatted text as it is.
func (t *textBuilder) raw(s string) {
	if s == "" {
		return
	}
	t.flushBreaks()
	t.b.WriteString(strings.ReplaceAll(s, "\r\n", "\n"))
}

func (t *textBuilder) newline()   { t.nl++; t.sp = false }
func (t *textBuilder) space()     { t.sp = true }
func (t *textBuilder) paragraph() { t.nl = max(t.nl, 2); t.sp = false }
func (t *textBuilder) lineStart() { t.nl = max(t.nl, 1); t.sp = false }
func (t *textBuilder) prefix(p string) {
	t.pendPref = p
}

func (t *textBuilder) String() string { return t.b.String() }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }
