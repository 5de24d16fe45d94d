package archive

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Item is one post, comment, reply or other unit of content, normalised.
// Its canonical JSON (CanonicalJSON) is what a version's digest is taken
// of, so the fields are declared in the order of their JSON names and the
// encoding is fixed: sorted keys, no insignificant white space, no HTML
// escaping. Volatile counts (metrics) and capture data are not part of it,
// so a changed like-count is not an edit.
type Item struct {
	Account    string   `json:"account"`
	Author     *Author  `json:"author,omitempty"`
	CreatedAt  string   `json:"created_at"`
	EditedAt   string   `json:"edited_at,omitempty"`
	Hashtags   []string `json:"hashtags,omitempty"`
	ID         string   `json:"id"`
	Kind       string   `json:"kind"`
	Lang       string   `json:"lang,omitempty"`
	Links      []string `json:"links,omitempty"`
	Media      []Media  `json:"media,omitempty"`
	Mentions   []string `json:"mentions,omitempty"`
	Parent     string   `json:"parent,omitempty"`
	Platform   string   `json:"platform"`
	Text       string   `json:"text"`
	Thread     string   `json:"thread,omitempty"`
	URL        string   `json:"url,omitempty"`
	Visibility string   `json:"visibility,omitempty"`
}

// Author is who wrote an item, as the platform names them.
type Author struct {
	Handle string `json:"handle,omitempty"`
	ID     string `json:"id,omitempty"`
	Name   string `json:"name,omitempty"`
}

// Media is an attachment. Digest, set by a collector once its bytes are in
// the store, is not part of the item's version: the capture records it for
// the sighting (see CaptureWriter.AddItem).
type Media struct {
	Alt    string `json:"alt,omitempty"`
	Digest string `json:"digest,omitempty"`
	Type   string `json:"type,omitempty"`
	URL    string `json:"url"`
}

// Key is the item's stable archive key.
func (it *Item) Key() string { return ItemKey(it.Platform, it.Account, it.ID) }

// Created is CreatedAt as a time.
func (it *Item) Created() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, it.CreatedAt)
	return t
}

// CanonicalJSON is the byte form a version's digest is taken of.
func (it *Item) CanonicalJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(it); err != nil {
		return nil, fmt.Errorf("encode item %s: %w", it.Key(), err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// ItemKey builds the key of an item from its platform, account and the
// platform's own id: "platform/account/id", each part escaped so that any
// id (a Bluesky at:// URI, an id with slashes) gives one unambiguous key.
func ItemKey(platform, account, id string) string {
	return escapeKeyPart(platform) + "/" + escapeKeyPart(account) + "/" + escapeKeyPart(id)
}

// EscapeKeyPart escapes one part of an item key.
func EscapeKeyPart(s string) string { return escapeKeyPart(s) }

func escapeKeyPart(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '@', c == ':', c == '+':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// InputItem is one line of osmarc's JSON Lines item format, as read. The
// README documents it. Pointer fields tell "absent" from "empty".
type InputItem struct {
	Platform   *string                    `json:"platform"`
	Account    *string                    `json:"account"`
	ID         *string                    `json:"id"`
	Kind       *string                    `json:"kind"`
	CreatedAt  *string                    `json:"created_at"`
	Text       *string                    `json:"text"`
	Author     *Author                    `json:"author"`
	Parent     string                     `json:"parent"`
	Thread     string                     `json:"thread"`
	URL        string                     `json:"url"`
	Lang       string                     `json:"lang"`
	EditedAt   string                     `json:"edited_at"`
	Visibility string                     `json:"visibility"`
	Links      []string                   `json:"links"`
	Hashtags   []string                   `json:"hashtags"`
	Mentions   []string                   `json:"mentions"`
	Media      []Media                    `json:"media"`
	Metrics    map[string]json.RawMessage `json:"metrics"`
}

var (
	rePlatform = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	reKind     = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)
	reLang     = regexp.MustCompile(`^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$`)
)

// ParseItemLine reads one line of the item format. It returns the
// normalised item and its metrics, or an error that says what is wrong
// (the caller adds the file and line).
func ParseItemLine(line []byte) (Item, json.RawMessage, error) {
	var in InputItem
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		return Item{}, nil, describeJSONError(err)
	}
	if dec.More() {
		return Item{}, nil, errors.New("more than one JSON value on the line")
	}
	return normalise(in)
}

func describeJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return fmt.Errorf("want a JSON object, got %s", te.Value)
		}
		return fmt.Errorf("field %s: want %s, got %s", te.Field, typeName(te.Type.String()), te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("malformed JSON at byte %d: %v", se.Offset, err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("truncated JSON: the line ends inside a value")
	}
	return fmt.Errorf("malformed JSON: %v", err)
}

func typeName(goType string) string {
	switch {
	case strings.HasPrefix(goType, "*string"), goType == "string":
		return "a string"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "map"):
		return "an object"
	case strings.Contains(goType, "Number"):
		return "a number"
	case strings.Contains(goType, "Author"), strings.Contains(goType, "Media"):
		return "an object"
	}
	return goType
}

func normalise(in InputItem) (Item, json.RawMessage, error) {
	var it Item
	req := func(name string, p *string) (string, error) {
		if p == nil {
			return "", fmt.Errorf("missing required field %s", name)
		}
		return *p, nil
	}
	var err error
	for _, f := range []struct {
		name string
		p    *string
		dst  *string
		must bool // must be non-empty
	}{
		{"platform", in.Platform, &it.Platform, true},
		{"account", in.Account, &it.Account, true},
		{"id", in.ID, &it.ID, true},
		{"kind", in.Kind, &it.Kind, true},
		{"created_at", in.CreatedAt, &it.CreatedAt, true},
		{"text", in.Text, &it.Text, false},
	} {
		if *f.dst, err = req(f.name, f.p); err != nil {
			return Item{}, nil, err
		}
		if f.must && strings.TrimSpace(*f.dst) == "" {
			return Item{}, nil, fmt.Errorf("field %s is empty", f.name)
		}
	}
	it.Platform = strings.ToLower(strings.TrimSpace(it.Platform))
	if !rePlatform.MatchString(it.Platform) {
		return Item{}, nil, fmt.Errorf("field platform: %q is not a platform name (lower-case letters, digits, '.', '_', '-')", it.Platform)
	}
	it.Account = strings.TrimSpace(it.Account)
	it.Kind = strings.ToLower(strings.TrimSpace(it.Kind))
	if !reKind.MatchString(it.Kind) {
		return Item{}, nil, fmt.Errorf("field kind: %q is not a kind (post, comment, reply, …)", it.Kind)
	}
	for _, f := range []struct{ name, v string }{{"account", it.Account}, {"id", it.ID}} {
		if !utf8.ValidString(f.v) || len(f.v) > 512 {
			return Item{}, nil, fmt.Errorf("field %s: not valid UTF-8 or longer than 512 bytes", f.name)
		}
	}
	if it.CreatedAt, err = normTime(it.CreatedAt); err != nil {
		return Item{}, nil, fmt.Errorf("field created_at: %w", err)
	}
	if in.EditedAt != "" {
		if it.EditedAt, err = normTime(in.EditedAt); err != nil {
			return Item{}, nil, fmt.Errorf("field edited_at: %w", err)
		}
	}
	if in.Lang != "" {
		if !reLang.MatchString(in.Lang) {
			return Item{}, nil, fmt.Errorf("field lang: %q is not a language tag", in.Lang)
		}
		it.Lang = strings.ToLower(strings.ReplaceAll(in.Lang, "_", "-"))
	}
	if in.Author != nil && *in.Author != (Author{}) {
		a := *in.Author
		it.Author = &a
	}
	it.Parent, it.Thread, it.URL, it.Visibility = in.Parent, in.Thread, in.URL, in.Visibility
	it.Links, it.Hashtags, it.Mentions = nonEmpty(in.Links), nonEmpty(in.Hashtags), nonEmpty(in.Mentions)
	for i, m := range in.Media {
		if m.URL == "" && m.Digest == "" {
			return Item{}, nil, fmt.Errorf("field media[%d]: missing url", i)
		}
		if m.Digest != "" {
			if _, err := ParseDigest(m.Digest); err != nil {
				return Item{}, nil, fmt.Errorf("field media[%d].digest: %v", i, err)
			}
		}
		it.Media = append(it.Media, m)
	}
	var metrics json.RawMessage
	for name, v := range in.Metrics {
		var n float64
		if len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) || json.Unmarshal(v, &n) != nil {
			return Item{}, nil, fmt.Errorf("field metrics.%s: want a number, got %s", name, v)
		}
	}
	if len(in.Metrics) > 0 {
		metrics, err = json.Marshal(in.Metrics) // map keys come out sorted
		if err != nil {
			return Item{}, nil, fmt.Errorf("field metrics: %w", err)
		}
	}
	return it, metrics, nil
}

func nonEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// normTime parses an RFC 3339 time and writes it back in UTC. It refuses
// impossible dates (February 30th, hour 25) and times outside 1970–9999.
func normTime(s string) (string, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		var pe *time.ParseError
		if errors.As(err, &pe) && pe.Message != "" {
			return "", fmt.Errorf("%q is not an RFC 3339 time (%s)", s, strings.TrimPrefix(pe.Message, ": "))
		}
		return "", fmt.Errorf("%q is not an RFC 3339 time (like 2024-03-01T14:30:00Z)", s)
	}
	if t.Year() < 1970 {
		return "", fmt.Errorf("%q is before 1970", s)
	}
	return t.UTC().Format(time.RFC3339Nano), nil
}
