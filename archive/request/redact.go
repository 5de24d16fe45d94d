package request

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/catalog"
	"github.com/osmarc/osmarc/archive/request/pii"
)

// MinRedactText is the shortest text a person may mark for redaction by
// its words: a production redacts every occurrence, and shorter strings
// occur everywhere. A span may be shorter.
const MinRedactText = 3

// Fields are the fields of an item that redaction reads and changes. The
// identifiers (platform, account, id, parent, thread), times, language and
// media digests are structure, not free text, and are never changed.
var Fields = []string{"text", "author.name", "author.handle", "author.id", "url", "links", "mentions", "hashtags", "media.alt", "media.url"}

// field is one redactable string of an item.
type field struct {
	name string // "text", "links[2]", …
	p    *string
}

// base is a field's name without its index: links[2] → links.
func (f field) base() string {
	b, _, _ := strings.Cut(f.name, "[")
	return b
}

func fieldsOf(it *archive.Item) []field {
	out := []field{{"text", &it.Text}}
	if it.Author != nil {
		out = append(out, field{"author.name", &it.Author.Name}, field{"author.handle", &it.Author.Handle}, field{"author.id", &it.Author.ID})
	}
	out = append(out, field{"url", &it.URL})
	for i := range it.Links {
		out = append(out, field{"links[" + strconv.Itoa(i) + "]", &it.Links[i]})
	}
	for i := range it.Mentions {
		out = append(out, field{"mentions[" + strconv.Itoa(i) + "]", &it.Mentions[i]})
	}
	for i := range it.Hashtags {
		out = append(out, field{"hashtags[" + strconv.Itoa(i) + "]", &it.Hashtags[i]})
	}
	for i := range it.Media {
		out = append(out, field{"media[" + strconv.Itoa(i) + "].alt", &it.Media[i].Alt}, field{"media[" + strconv.Itoa(i) + "].url", &it.Media[i].URL})
	}
	return out
}

// matchesField reports whether a decision's field (a base name, or an
// indexed one) covers f.
func matchesField(want string, f field) bool {
	if want == "" || want == f.name {
		return true
	}
	b := f.base()
	if strings.HasPrefix(f.name, "media[") {
		_, rest, _ := strings.Cut(f.name, "].")
		b = "media." + rest
	}
	return want == b
}

// RedactParams is a person's redaction.
type RedactParams struct {
	Key string
	// Field limits where Text is looked for (and is where Span counts);
	// "" means every field (for a span, text).
	Field string
	// Text marks every occurrence of the text (ignoring case).
	Text string
	// Span marks [start, end) characters of Field in the latest version.
	Span *[2]int
	// Exemption optionally names the exemption the redaction rests on.
	Exemption string
	Reason    string
	By        string
}

// ParseSpan reads "START:END" (character offsets, END excluded).
func ParseSpan(s string) (*[2]int, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), ":")
	st, err1 := strconv.Atoi(strings.TrimSpace(a))
	en, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || st < 0 || en <= st {
		return nil, fmt.Errorf("span %q: want START:END, character offsets with START < END, like 10:24", s)
	}
	return &[2]int{st, en}, nil
}

// latest reads an item's catalog record and its latest version.
func latest(ctx context.Context, a *archive.Archive, key string) (catalog.Item, *archive.Item, error) {
	ci, err := a.Catalog().Item(key)
	if errors.Is(err, catalog.ErrNotFound) {
		return ci, nil, fmt.Errorf("item %q: %w", key, archive.ErrNotFound)
	}
	if err != nil {
		return ci, nil, err
	}
	it, err := a.Version(ctx, ci.Latest().Digest)
	if err != nil {
		return ci, nil, fmt.Errorf("item %s: read version %s: %w", key, ci.Latest().Digest, err)
	}
	return ci, it, nil
}

// Redact records a person's redaction of text in an item. The text must be
// in the item's latest version; the archived item never changes, only
// productions are redacted.
func Redact(ctx context.Context, a *archive.Archive, p *Presets, id string, o RedactParams) (*Request, error) {
	r, err := getOpen(a, id)
	if err != nil {
		return nil, err
	}
	if o.Reason, err = checkText("request redact: --reason", o.Reason, 10000); err != nil {
		return nil, err
	}
	if (o.Text == "") == (o.Span == nil) {
		return nil, errors.New("request redact: give --text TEXT or --span START:END")
	}
	if o.Field != "" && !slices.Contains(Fields, o.Field) {
		return nil, fmt.Errorf("request redact: field %q is not one of %s", o.Field, strings.Join(Fields, ", "))
	}
	x := Redaction{Action: ActionRedact, Key: o.Key, Field: o.Field, Reason: o.Reason, By: o.By}
	if o.Exemption != "" {
		ex, err := p.Exemption(o.Exemption)
		if err != nil {
			return nil, fmt.Errorf("request redact: %w", err)
		}
		x.Exempt = &ex
	}
	ci, it, err := latest(ctx, a, o.Key)
	if err != nil {
		return nil, fmt.Errorf("request redact: %w", err)
	}
	fs := fieldsOf(it)
	if o.Span != nil {
		if x.Field == "" {
			x.Field = "text"
		}
		var target *field
		for i := range fs {
			if fs[i].name == x.Field {
				target = &fs[i]
			}
		}
		if target == nil {
			return nil, fmt.Errorf("request redact: a span needs one field (text, author.name, …), not %q", x.Field)
		}
		rs := []rune(*target.p)
		if o.Span[1] > len(rs) {
			return nil, fmt.Errorf("request redact: span %d:%d is past the end of %s (%d characters)", o.Span[0], o.Span[1], x.Field, len(rs))
		}
		x.Span, x.Version, x.Text = o.Span, ci.Latest().Digest, string(rs[o.Span[0]:o.Span[1]])
	} else {
		x.Text = strings.TrimSpace(o.Text)
		if utf8.RuneCountInString(x.Text) < MinRedactText || !utf8.ValidString(x.Text) {
			return nil, fmt.Errorf("request redact: --text must be at least %d characters of valid UTF-8 (mark a shorter one with --span)", MinRedactText)
		}
		found := false
		for _, f := range fs {
			if matchesField(x.Field, f) && indexFold(*f.p, x.Text) >= 0 {
				found = true
				break
			}
		}
		if !found {
			where := "any field"
			if x.Field != "" {
				where = x.Field
			}
			return nil, fmt.Errorf("request redact: %q is not in %s of %s's latest version", x.Text, where, o.Key)
		}
	}
	return record(ctx, a, EventRedacted, event{Request: r.ID, Key: o.Key, Redaction: &x, By: o.By})
}

// Keep records that text the detector flags is not to be redacted in this
// request (an office's public telephone number or address), with a reason.
func Keep(ctx context.Context, a *archive.Archive, id, text, reason, by string) (*Request, error) {
	r, err := getOpen(a, id)
	if err != nil {
		return nil, err
	}
	if reason, err = checkText("request keep: --reason", reason, 10000); err != nil {
		return nil, err
	}
	if text, err = checkText("request keep: the text", text, 1000); err != nil {
		return nil, err
	}
	x := Redaction{Action: ActionKeep, Text: text, Reason: reason, By: by}
	return record(ctx, a, EventRedacted, event{Request: r.ID, Redaction: &x, By: by})
}

// indexFold is strings.Index ignoring case.
func indexFold(s, sub string) int {
	loc := foldRE(sub).FindStringIndex(s)
	if loc == nil {
		return -1
	}
	return loc[0]
}

func foldRE(sub string) *regexp.Regexp { return regexp.MustCompile("(?i)" + regexp.QuoteMeta(sub)) }

// scrubber replaces every occurrence of a set of texts, ignoring case,
// longest first.
type scrubber struct {
	re    *regexp.Regexp
	raw   []int // texts of invalid UTF-8, replaced exactly
	texts []scrubText
	index map[string]int
}

type scrubText struct {
	text   string
	kind   string // email, phone, …, manual
	marker string
	// decision is what the redaction log says of who decided.
	decision  string
	decidedBy string
	reason    string
	exemption string
	n         int // the person's redaction number, 0 for the detector
}

func newScrubber(texts []scrubText) *scrubber {
	s := &scrubber{index: map[string]int{}}
	for _, t := range texts {
		k := strings.ToLower(t.text)
		if _, dup := s.index[k]; dup || t.text == "" {
			continue
		}
		s.index[k] = len(s.texts)
		s.texts = append(s.texts, t)
	}
	sort.SliceStable(s.texts, func(i, j int) bool { return len(s.texts[i].text) > len(s.texts[j].text) })
	var parts []string
	for i, t := range s.texts {
		s.index[strings.ToLower(t.text)] = i
		if utf8.ValidString(t.text) {
			parts = append(parts, regexp.QuoteMeta(t.text))
		} else {
			// Not text a regexp takes: replaced byte for byte.
			s.raw = append(s.raw, i)
		}
	}
	if len(parts) > 0 {
		s.re = regexp.MustCompile("(?i)(?:" + strings.Join(parts, "|") + ")")
	}
	return s
}

func (s *scrubber) lookup(m string) *scrubText {
	if i, ok := s.index[strings.ToLower(m)]; ok {
		return &s.texts[i]
	}
	for i := range s.texts {
		if strings.EqualFold(s.texts[i].text, m) {
			return &s.texts[i]
		}
	}
	return nil
}

// scrub returns v with every text replaced by its marker, and calls hit
// for each replacement.
func (s *scrubber) scrub(v string, hit func(*scrubText)) string {
	for _, i := range s.raw {
		t := &s.texts[i]
		if n := strings.Count(v, t.text); n > 0 {
			v = strings.ReplaceAll(v, t.text, t.marker)
			for range n {
				if hit != nil {
					hit(t)
				}
			}
		}
	}
	if s.re == nil || v == "" {
		return v
	}
	return s.re.ReplaceAllStringFunc(v, func(m string) string {
		t := s.lookup(m)
		if t == nil {
			return "[REDACTED]"
		}
		if hit != nil {
			hit(t)
		}
		return t.marker
	})
}

// applySpans redacts a person's spans of one field: every character any
// span covers, each run of them replaced by one marker.
func applySpans(v string, spans []Redaction, marker func(Redaction) string) string {
	rs := []rune(v)
	cover := make([]int, len(rs)) // 1 + index of the span covering, or 0
	for i, x := range spans {
		for j := max(x.Span[0], 0); j < min(x.Span[1], len(rs)); j++ {
			if cover[j] == 0 {
				cover[j] = i + 1
			}
		}
	}
	var b strings.Builder
	for j := 0; j < len(rs); {
		if cover[j] == 0 {
			b.WriteRune(rs[j])
			j++
			continue
		}
		b.WriteString(marker(spans[cover[j]-1]))
		for j < len(rs) && cover[j] != 0 {
			j++
		}
	}
	return b.String()
}

// Finding is personal information the detector flags in one field.
type Finding struct {
	Field string   `json:"field"`
	Kind  pii.Kind `json:"kind"`
	Text  string   `json:"text"`
}

// Flag returns what the detector finds in the latest version of an item.
func Flag(ctx context.Context, a *archive.Archive, key string) ([]Finding, error) {
	_, it, err := latest(ctx, a, key)
	if err != nil {
		return nil, err
	}
	var out []Finding
	for _, f := range fieldsOf(it) {
		for _, m := range pii.Find(*f.p) {
			out = append(out, Finding{Field: f.name, Kind: m.Kind, Text: m.Text})
		}
	}
	return out, nil
}
