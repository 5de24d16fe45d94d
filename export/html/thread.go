package html

import (
	"strconv"
	"strings"
)

// A thread page is written directly, not through html/template: the page
// is one fixed shape, and executing a template by reflection for each of
// the tens of thousands of pages of a large export cost more than writing
// and hashing them. The escaping is html/template's, context by context:
// text and quoted attribute values escape NUL, ", &, ', +, < and >
// (appendText); URL attributes (href, src) are also filtered (a URL with
// a scheme other than http, https or mailto becomes "#ZgotmplZ") and
// normalised (bytes a URL cannot hold percent-encoded) before that
// (appendURL). testdata/thread.html.tmpl is the template this writer
// replaced; a test renders both and compares them byte for byte.

// appendPageHead appends a thread page's start: head, heading and the
// table of its threads.
func appendPageHead(dst []byte, p *Page) []byte {
	dst = append(dst, `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self' file: data:; style-src 'self' file:">
<meta name="referrer" content="no-referrer">
<title>Threads `...)
	dst = appendText(dst, p.Heading)
	dst = append(dst, "</title>\n<link rel=\"stylesheet\" href=\""...)
	dst = appendURL(dst, p.Base)
	dst = append(dst, "style.css\">\n</head>\n<body>\n<header>\n<p><a href=\""...)
	dst = appendURL(dst, p.Base)
	dst = append(dst, `index.html">`...)
	dst = appendText(dst, p.Title)
	dst = append(dst, "</a></p>\n<h1>Threads <code>"...)
	dst = appendText(dst, p.Heading)
	dst = append(dst, "</code></h1>\n<p>"...)
	dst = strconv.AppendInt(dst, int64(len(p.Threads)), 10)
	dst = append(dst, " thread(s) on this page. Times are UTC.</p>\n<nav><ul>"...)
	for _, c := range p.Threads {
		dst = append(dst, "\n<li><a href=\""...)
		dst = appendURL(dst, "#"+ThreadID(c.Key))
		dst = append(dst, "\"><code>"...)
		dst = appendText(dst, c.Key)
		dst = append(dst, "</code></a>, "...)
		dst = strconv.AppendInt(dst, int64(c.Items), 10)
		dst = append(dst, " item(s)</li>"...)
	}
	return append(dst, "\n</ul></nav>\n</header>\n<main>\n"...)
}

// appendSection appends one thread's section, with its roots.
func appendSection(dst []byte, th *Thread, roots []*node) []byte {
	dst = append(dst, "\n<section id=\""...)
	dst = appendText(dst, ThreadID(th.Key))
	dst = append(dst, "\">\n<h2>Thread <code>"...)
	dst = appendText(dst, th.Key)
	dst = append(dst, "</code></h2>\n<p>"...)
	dst = strconv.AppendInt(dst, int64(len(th.Items)), 10)
	dst = append(dst, " item(s) in this package.</p>\n"...)
	for _, n := range roots {
		dst = appendNode(dst, n)
	}
	return append(dst, "</section>\n"...)
}

// PageEnd is what ends a thread page, after its sections.
const PageEnd = "\n</main>\n</body>\n</html>\n"

// appendNode appends one item's article, its replies nested in it.
func appendNode(dst []byte, n *node) []byte {
	dst = append(dst, "\n<article id=\""...)
	dst = appendText(dst, n.Key)
	dst = append(dst, `" lang="`...)
	dst = appendText(dst, n.Lang)
	dst = append(dst, "\">\n<div class=\"meta\"><strong>"...)
	dst = appendText(dst, n.Kind)
	dst = append(dst, "</strong> by "...)
	if n.Author != "" {
		dst = appendText(dst, n.Author)
	} else {
		dst = append(dst, "(unknown)"...)
	}
	if n.Handle != "" {
		dst = append(dst, " (@"...)
		dst = appendText(dst, n.Handle)
		dst = append(dst, ')')
	}
	dst = append(dst, ", created "...)
	dst = appendText(dst, n.Created)
	if n.IsEdited {
		dst = append(dst, `<span class="badge edited">edited`...)
		if n.Edited != "" {
			dst = append(dst, ' ')
			dst = appendText(dst, n.Edited)
		}
		dst = append(dst, " · "...)
		dst = strconv.AppendInt(dst, int64(n.VersionCount), 10)
		dst = append(dst, " versions</span>"...)
	}
	if n.Removed != "" {
		dst = append(dst, `<span class="badge removed">removed at source, found `...)
		dst = appendText(dst, n.Removed)
		dst = append(dst, "</span>"...)
	}
	if n.Role == "thread" {
		dst = append(dst, `<span class="badge thread">in the thread of a selected item</span>`...)
	}
	if len(n.Redactions) > 0 {
		dst = append(dst, `<span class="badge redacted">redacted</span>`...)
	}
	if n.Orphan {
		dst = append(dst, `<span class="badge">answers `...)
		dst = appendText(dst, n.Parent)
		dst = append(dst, ", not in this package</span>"...)
	}
	dst = append(dst, "</div>\n<div class=\"meta\">key <code>"...)
	dst = appendText(dst, n.Key)
	dst = append(dst, "</code>"...)
	if n.URL != "" {
		dst = append(dst, " · <span>"...)
		dst = appendText(dst, n.URL)
		dst = append(dst, "</span>"...)
	}
	if n.Class != "" {
		dst = append(dst, " · "...)
		dst = appendText(dst, n.Class)
	}
	if n.Schedule != "" {
		dst = append(dst, " · schedule "...)
		dst = appendText(dst, n.Schedule)
	}
	if len(n.Holds) > 0 {
		dst = append(dst, " · held: "...)
		dst = appendText(dst, strings.Join(n.Holds, ", "))
	}
	dst = append(dst, "</div>\n<div class=\"versions\">"...)
	for i, v := range n.Versions {
		dst = append(dst, "\n<div class=\"version\"><div class=\"meta\">version "...)
		dst = strconv.AppendInt(dst, int64(i+1), 10)
		dst = append(dst, " of "...)
		dst = strconv.AppendInt(dst, int64(len(n.Versions)), 10)
		dst = append(dst, " shown · captured "...)
		dst = appendText(dst, v.Captured)
		if v.Digest != "" {
			dst = append(dst, " · <code>sha256:"...)
			dst = appendText(dst, v.Digest)
			dst = append(dst, "</code>"...)
		}
		if v.Redacted {
			dst = append(dst, " · redacted"...)
		}
		dst = append(dst, "</div>\n<div class=\"text\">"...)
		dst = appendText(dst, v.Text)
		dst = append(dst, "</div></div>"...)
	}
	dst = append(dst, "\n</div>"...)
	if len(n.Redactions) > 0 {
		dst = append(dst, `<div class="meta">Redactions: `...)
		dst = appendText(dst, strings.Join(n.Redactions, "; "))
		dst = append(dst, "</div>"...)
	}
	for _, m := range n.Media {
		dst = append(dst, `<div class="meta">`...)
		if m.Path != "" && m.Image {
			dst = append(dst, `<img src="`...)
			dst = appendURL(dst, m.Path)
			dst = append(dst, `" alt="`...)
			dst = appendText(dst, m.Alt)
			dst = append(dst, `"><br>`...)
		}
		dst = append(dst, "media"...)
		if m.Type != "" {
			dst = append(dst, " ("...)
			dst = appendText(dst, m.Type)
			dst = append(dst, ')')
		}
		if m.Path != "" {
			dst = append(dst, `: <a href="`...)
			dst = appendURL(dst, m.Path)
			dst = append(dst, `">`...)
			dst = appendText(dst, m.Path)
			dst = append(dst, "</a>"...)
		} else {
			dst = append(dst, " <code>sha256:"...)
			dst = appendText(dst, m.Digest)
			dst = append(dst, "</code> (not in this package)"...)
		}
		if m.Alt != "" {
			dst = append(dst, " · alt: "...)
			dst = appendText(dst, m.Alt)
		}
		dst = append(dst, "</div>"...)
	}
	if len(n.Replies) > 0 {
		dst = append(dst, `<div class="replies">`...)
		for _, r := range n.Replies {
			dst = appendNode(dst, r)
		}
		dst = append(dst, "</div>"...)
	}
	return append(dst, "\n</article>\n"...)
}

// appendText appends s escaped for HTML text or a quoted attribute value,
// as html/template escapes them. Every byte escaped is ASCII (or NUL), so
// a byte loop escapes exactly what html/template's rune loop does, and
// leaves invalid UTF-8 as it is, as it does.
func appendText(dst []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		var repl string
		switch s[i] {
		case 0:
			repl = "\uFFFD"
		case '"':
			repl = "&#34;"
		case '&':
			repl = "&amp;"
		case '\'':
			repl = "&#39;"
		case '+':
			repl = "&#43;"
		case '<':
			repl = "&lt;"
		case '>':
			repl = "&gt;"
		default:
			continue
		}
		dst = append(dst, s[last:i]...)
		dst = append(dst, repl...)
		last = i + 1
	}
	return append(dst, s[last:]...)
}

// appendURL appends s as the whole value of a quoted URL attribute, as
// html/template writes one: a URL whose scheme is not http, https or
// mailto is replaced by "#ZgotmplZ"; bytes that are neither unreserved
// nor reserved in RFC 3986 (and % not starting an escape) are
// percent-encoded; then the value is escaped as an attribute.
func appendURL(dst []byte, s string) []byte {
	if scheme, _, ok := strings.Cut(s, ":"); ok && !strings.Contains(scheme, "/") &&
		!strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https") && !strings.EqualFold(scheme, "mailto") {
		s = "#ZgotmplZ"
	}
	const hex = "0123456789abcdef"
	var buf []byte
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if urlKeep(c) || c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			continue
		}
		buf = append(buf, s[last:i]...)
		buf = append(buf, '%', hex[c>>4], hex[c&15])
		last = i + 1
	}
	if buf != nil {
		s = string(append(buf, s[last:]...))
	}
	return appendText(dst, s)
}

// urlKeep: c is left as it is in a normalised URL (RFC 3986 reserved and
// unreserved characters; ' and parentheses are encoded).
func urlKeep(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$&*+,/:;=?@[]-._~", c) >= 0
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
