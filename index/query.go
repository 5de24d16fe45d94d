package index

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// QueryError is a malformed query: what is wrong and at which column
// (counted in characters from 1). It matches ErrQuery with errors.Is.
type QueryError struct {
	Query  string
	Column int
	Msg    string
}

func (e *QueryError) Error() string {
	return fmt.Sprintf("query: %s (column %d)", e.Msg, e.Column)
}

// Unwrap makes errors.Is(err, ErrQuery) true.
func (e *QueryError) Unwrap() error { return ErrQuery }

// The query language is bleve's query-string syntax: a flat list of
// clauses separated by spaces, each a word, "a phrase", a field:value, a
// wildcard (* and ?), a /regular expression/, a fuzzy word~N, or a range
// field:>value; "+" in front requires a clause, "-" excludes it, and ^N
// after one boosts it. With no "+" clause, at least one plain clause must
// match; with one, plain clauses only rank.

type occur int

const (
	should occur = iota
	must
	mustNot
)

type leafKind int

const (
	leafWord leafKind = iota
	leafPhrase
	leafWildcard
	leafRegexp
	leafRange
)

// clause is one parsed part of a query.
type clause struct {
	occur occur
	kind  leafKind
	field string // canonical field (see fields), "" for the default text fields
	text  string // the word, phrase, pattern or range value
	fuzzy int    // edit distance of word~N, 0 for none
	op    string // range operator: > >= < <=
	boost float64
	col   int // column where the clause starts
}

// parsed is a whole query.
type parsed struct {
	clauses []clause
}

// fieldInfo says how a field a user may type is searched.
type fieldInfo struct {
	name    string // canonical name
	keyword bool   // matched as a whole value, not as words
	ranges  bool   // takes > >= < <= (dates)
	help    string
}

// fields are the names a query may use before a colon, with their
// aliases.
var fields = func() map[string]fieldInfo {
	m := map[string]fieldInfo{}
	add := func(fi fieldInfo, names ...string) {
		for _, n := range names {
			m[n] = fi
		}
	}
	add(fieldInfo{name: "text", help: "words of the latest version"}, "text", "body")
	add(fieldInfo{name: "history", help: "words of earlier versions"}, "history", "edit", "edits")
	add(fieldInfo{name: "author", help: "author name, handle or id"}, "author", "by", "from")
	add(fieldInfo{name: fAccount, keyword: true}, "account")
	add(fieldInfo{name: fPlatform, keyword: true}, "platform")
	add(fieldInfo{name: fKind, keyword: true}, "kind", "type")
	add(fieldInfo{name: fLang, keyword: true}, "lang", "language")
	add(fieldInfo{name: fHashtag, keyword: true}, "hashtag", "tag")
	add(fieldInfo{name: fMention, keyword: true}, "mention")
	add(fieldInfo{name: fLink, keyword: true}, "link", "url")
	add(fieldInfo{name: fParent, keyword: true}, "parent")
	add(fieldInfo{name: fThread, keyword: true}, "thread")
	add(fieldInfo{name: fClass, keyword: true}, "class", "classification")
	add(fieldInfo{name: fSchedule, keyword: true}, "schedule")
	add(fieldInfo{name: fExemption, keyword: true}, "exemption")
	add(fieldInfo{name: fHold, keyword: true}, "hold")
	add(fieldInfo{name: fRemoved, keyword: true}, "removed")
	add(fieldInfo{name: fEdited, keyword: true}, "edited")
	add(fieldInfo{name: fOrigin, keyword: true}, "origin")
	add(fieldInfo{name: fLinkOnly, keyword: true}, "linkonly")
	add(fieldInfo{name: fMedia, keyword: true}, "media")
	add(fieldInfo{name: "key", keyword: true}, "key")
	add(fieldInfo{name: "created", keyword: true, ranges: true}, "created", "created_at", "date")
	add(fieldInfo{name: "year", keyword: true}, "year")
	return m
}()

// fieldNames lists the names a query may use, for error messages.
func fieldNames() string {
	var ns []string
	for n, fi := range fields {
		if n == fi.name || n == "key" {
			ns = append(ns, n)
		}
	}
	sort.Strings(ns)
	return strings.Join(ns, ", ")
}

// parseQuery parses a query string. An empty (or all-blank) query has no
// clauses and matches every item.
func parseQuery(q string) (*parsed, error) {
	p := &qparser{src: []rune(q), query: q}
	out := &parsed{}
	for {
		p.skipSpace()
		if p.eof() {
			return out, nil
		}
		c, err := p.clause()
		if err != nil {
			return nil, err
		}
		out.clauses = append(out.clauses, c)
	}
}

type qparser struct {
	src   []rune
	i     int
	query string
}

func (p *qparser) eof() bool  { return p.i >= len(p.src) }
func (p *qparser) peek() rune { return p.src[p.i] }
func (p *qparser) col() int   { return p.i + 1 }

func (p *qparser) errAt(col int, format string, args ...any) error {
	return &QueryError{Query: p.query, Column: col, Msg: fmt.Sprintf(format, args...)}
}

func (p *qparser) skipSpace() {
	for !p.eof() && unicode.IsSpace(p.peek()) {
		p.i++
	}
}

// token is a word as typed: its text with escapes removed, and which of
// its runes were escaped (so an escaped * is not a wildcard).
type token struct {
	text    string
	escaped []bool
	col     int
}

func (t token) hasWildcard() bool {
	for i, r := range []rune(t.text) {
		if (r == '*' || r == '?') && !t.escaped[i] {
			return true
		}
	}
	return false
}

// word reads a word up to a space, ':', '^' or '~' not escaped.
func (p *qparser) word() (token, error) {
	t := token{col: p.col()}
	var b []rune
	for !p.eof() {
		r := p.peek()
		if r == '\\' {
			if p.i+1 >= len(p.src) {
				return t, p.errAt(p.col(), `"\" at the end of the query escapes nothing`)
			}
			b = append(b, p.src[p.i+1])
			t.escaped = append(t.escaped, true)
			p.i += 2
			continue
		}
		if unicode.IsSpace(r) || r == ':' || r == '^' || r == '~' {
			break
		}
		if r == '"' {
			return t, p.errAt(p.col(), `a quote inside a word: put a space before a "phrase"`)
		}
		b = append(b, r)
		t.escaped = append(t.escaped, false)
		p.i++
	}
	t.text = string(b)
	return t, nil
}

// phrase reads a quoted phrase; p is at the opening quote.
func (p *qparser) phrase() (token, error) {
	start := p.col()
	p.i++ // the opening quote
	var b []rune
	for !p.eof() {
		r := p.peek()
		switch {
		case r == '\\' && p.i+1 < len(p.src):
			b = append(b, p.src[p.i+1])
			p.i += 2
			continue
		case r == '"':
			p.i++
			return token{text: string(b), col: start}, nil
		}
		b = append(b, r)
		p.i++
	}
	return token{}, p.errAt(start, `unclosed quote: the phrase that starts here has no closing "`)
}

func (p *qparser) clause() (clause, error) {
	c := clause{occur: should, boost: 1, col: p.col()}
	switch p.peek() {
	case '+':
		c.occur = must
		p.i++
	case '-':
		c.occur = mustNot
		p.i++
	}
	if c.occur != should && (p.eof() || unicode.IsSpace(p.peek())) {
		return c, p.errAt(c.col, "%q must be followed by a word, phrase or field:value, with no space", string(p.src[c.col-1]))
	}
	if err := p.base(&c); err != nil {
		return c, err
	}
	if !p.eof() && p.peek() == '^' {
		col := p.col()
		p.i++
		t, err := p.word()
		if err != nil {
			return c, err
		}
		b, err := strconv.ParseFloat(t.text, 64)
		if err != nil || b <= 0 || b > 1000 {
			return c, p.errAt(col, "boost %q is not a number from 0 to 1000 (like word^2)", t.text)
		}
		c.boost = b
	}
	if !p.eof() && !unicode.IsSpace(p.peek()) {
		if p.peek() == ':' {
			return c, p.errAt(p.col(), `a second ":": quote a value that contains one (account:"a:b")`)
		}
		return c, p.errAt(p.col(), "unexpected %q: put a space between clauses", string(p.peek()))
	}
	return c, nil
}

func (p *qparser) base(c *clause) error {
	switch r := p.peek(); r {
	case '"':
		t, err := p.phrase()
		if err != nil {
			return err
		}
		c.kind, c.text = leafPhrase, t.text
		return nil
	case ':', '^', '~', '>', '<', '=':
		if r == ':' {
			return p.errAt(p.col(), `":" with no field name before it (like account:3rd-brigade)`)
		}
		return p.errAt(p.col(), "%q where a word, phrase or field:value was expected", string(r))
	}
	t, err := p.word()
	if err != nil {
		return err
	}
	if !p.eof() && p.peek() == ':' {
		return p.fielded(c, t)
	}
	return p.value(c, t, fieldInfo{})
}

// value finishes a clause whose value is the word t, in field fi.
func (p *qparser) value(c *clause, t token, fi fieldInfo) error {
	c.text = t.text
	c.kind = leafWord
	switch {
	case len(t.text) >= 2 && strings.HasPrefix(t.text, "/") && strings.HasSuffix(t.text, "/") && !t.escaped[0]:
		c.kind, c.text = leafRegexp, t.text[1:len(t.text)-1]
	case t.hasWildcard():
		c.kind = leafWildcard
		c.text = wildcardRegexp(t)
	}
	if !p.eof() && p.peek() == '~' {
		col := p.col()
		p.i++
		n := 1
		if !p.eof() && !unicode.IsSpace(p.peek()) && p.peek() != '^' {
			ft, err := p.word()
			if err != nil {
				return err
			}
			v, err := strconv.Atoi(ft.text)
			if err != nil || v < 0 || v > 2 {
				return p.errAt(col+1, "fuzziness %q is not 0, 1 or 2 (like word~1)", ft.text)
			}
			n = v
		}
		if c.kind != leafWord {
			return p.errAt(col, "~ follows a word, not a wildcard or regular expression")
		}
		if fi.keyword {
			return p.errAt(col, "field %s is matched whole: it takes no ~", fi.name)
		}
		c.fuzzy = n
	}
	if c.kind == leafWord && c.text == "" {
		return p.errAt(t.col, "empty word")
	}
	return nil
}

// wildcardRegexp turns a word with * and ? into a regular expression;
// escaped ones stay literal.
func wildcardRegexp(t token) string {
	var b strings.Builder
	for i, r := range []rune(t.text) {
		switch {
		case r == '*' && !t.escaped[i]:
			b.WriteString(".*")
		case r == '?' && !t.escaped[i]:
			b.WriteString(".")
		default:
			b.WriteString(regexpQuote(r))
		}
	}
	return b.String()
}

func regexpQuote(r rune) string {
	if strings.ContainsRune(`\.+*?()|[]{}^$`, r) {
		return `\` + string(r)
	}
	return string(r)
}

// fielded parses field:value; p is at the colon.
func (p *qparser) fielded(c *clause, name token) error {
	fi, ok := fields[strings.ToLower(name.text)]
	if !ok {
		if name.text == "" {
			return p.errAt(p.col(), `":" with no field name before it (like account:3rd-brigade)`)
		}
		return p.errAt(name.col, "unknown field %q (fields: %s)", name.text, fieldNames())
	}
	c.field = fi.name
	p.i++ // the colon
	if p.eof() || unicode.IsSpace(p.peek()) {
		return p.errAt(name.col, "%s: has no value after the colon (like %s:value, or %s:\"two words\")", name.text, name.text, name.text)
	}
	switch r := p.peek(); r {
	case '"':
		t, err := p.phrase()
		if err != nil {
			return err
		}
		c.kind, c.text = leafPhrase, t.text
		return nil
	case '>', '<', '=':
		col := p.col()
		op := string(r)
		p.i++
		if !p.eof() && p.peek() == '=' && op != "=" {
			op += "="
			p.i++
		}
		if op == "=" {
			return p.errAt(col, `"=" after %s: is not an operator (use >, >=, < or <=)`, name.text)
		}
		if !fi.ranges {
			return p.errAt(col, "field %s takes no range (only created: does, like created:>=2024-01-01)", name.text)
		}
		if p.eof() || unicode.IsSpace(p.peek()) {
			return p.errAt(col, "%s%s has no value after it", name.text+":", op)
		}
		var t token
		var err error
		if p.peek() == '"' {
			t, err = p.phrase()
		} else {
			t, err = p.word()
		}
		if err != nil {
			return err
		}
		if _, _, err := parseDateBound(t.text); err != nil {
			return p.errAt(t.col, "%v", err)
		}
		c.kind, c.op, c.text = leafRange, op, t.text
		return nil
	case ':':
		return p.errAt(p.col(), `a second ":": quote a value that contains one (%s:"a:b")`, name.text)
	}
	t, err := p.word()
	if err != nil {
		return err
	}
	if t.text == "" {
		return p.errAt(t.col, "%s: has no value after the colon", name.text)
	}
	if fi.name == "created" && !t.hasWildcard() {
		if _, _, err := parseDateBound(t.text); err != nil {
			return p.errAt(t.col, "%v", err)
		}
	}
	if err := p.value(c, t, fi); err != nil {
		return err
	}
	if fi.name == "created" && c.kind != leafWord {
		return p.errAt(t.col, "created: takes a date (2024, 2024-03, 2024-03-15 or an RFC 3339 time), not a pattern")
	}
	return nil
}

// parseDateBound reads a date a user typed: a year, a month, a day or an
// RFC 3339 time. It returns the start of that period and its end
// (exclusive), both UTC.
func parseDateBound(s string) (time.Time, time.Time, error) {
	s = strings.TrimSpace(s)
	for _, f := range []struct {
		layout string
		next   func(time.Time) time.Time
	}{
		{"2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }},
		{"2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }},
		{"2006-01-02", func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }},
	} {
		if len(s) == len(f.layout) {
			if t, err := time.Parse(f.layout, s); err == nil {
				return t, f.next(t), nil
			}
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		t = t.UTC()
		return t, t.Add(time.Nanosecond), nil
	}
	if utf8.RuneCountInString(s) > 40 {
		s = string([]rune(s)[:40]) + "…"
	}
	return time.Time{}, time.Time{}, fmt.Errorf("%q is not a date (2024, 2024-03, 2024-03-15 or an RFC 3339 time like 2024-03-15T14:00:00Z)", s)
}

// ParseQuery checks a query string and reports the first thing wrong with
// it as a *QueryError (errors.Is(err, ErrQuery)).
func ParseQuery(q string) error {
	_, err := parseQuery(q)
	return err
}
