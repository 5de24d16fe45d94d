package wordpress

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// The WordPress REST API (wp/v2) objects osmarc reads, leniently: older
// sites lack fields, plugins add many, and some proxies turn numbers into
// strings.

// Post is a wp/v2 post.
type Post struct {
	ID          flexID    `json:"id"`
	Date        string    `json:"date"`
	DateGMT     *string   `json:"date_gmt"`
	Modified    string    `json:"modified"`
	ModifiedGMT *string   `json:"modified_gmt"`
	Slug        string    `json:"slug"`
	Status      string    `json:"status"`
	Type        string    `json:"type"`
	Link        string    `json:"link"`
	Title       Rendered  `json:"title"`
	Content     Rendered  `json:"content"`
	Excerpt     Rendered  `json:"excerpt"`
	Author      flexID    `json:"author"`
	Embedded    *Embedded `json:"_embedded"`
}

// Embedded is what ?_embed adds to a post.
type Embedded struct {
	Author        []User            `json:"author"`
	Term          [][]Term          `json:"wp:term"`
	FeaturedMedia []json.RawMessage `json:"wp:featuredmedia"`
}

// Rendered is a {"rendered": "<html>"} field (or, from some plugins and
// old sites, a plain string).
type Rendered struct {
	Rendered string `json:"rendered"`
}

func (r *Rendered) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &r.Rendered)
	}
	if bytes.Equal(b, []byte("null")) {
		r.Rendered = ""
		return nil
	}
	var v struct {
		Rendered string `json:"rendered"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	r.Rendered = v.Rendered
	return nil
}

// User is a wp/v2 user (the parts public views show).
type User struct {
	ID   flexID `json:"id"`
	Name string `json:"name"`
	Slug string `json:"slug"`
	Code string `json:"code"` // an embedded error (rest_user_invalid_id)
}

// Term is a category or tag.
type Term struct {
	Name     string `json:"name"`
	Taxonomy string `json:"taxonomy"`
}

// Media is a wp/v2 media item as embedded (wp:featuredmedia).
type Media struct {
	SourceURL string   `json:"source_url"`
	AltText   string   `json:"alt_text"`
	MediaType string   `json:"media_type"`
	MimeType  string   `json:"mime_type"`
	Caption   Rendered `json:"caption"`
	Code      string   `json:"code"`
}

// Comment is a wp/v2 comment.
type Comment struct {
	ID         flexID   `json:"id"`
	Post       flexID   `json:"post"`
	Parent     flexID   `json:"parent"`
	Author     flexID   `json:"author"`
	AuthorName string   `json:"author_name"`
	Date       string   `json:"date"`
	DateGMT    *string  `json:"date_gmt"`
	Content    Rendered `json:"content"`
	Link       string   `json:"link"`
	Status     string   `json:"status"`
	Type       string   `json:"type"`
}

// Revision is a wp/v2 post revision.
type Revision struct {
	ID          flexID   `json:"id"`
	Parent      flexID   `json:"parent"`
	Date        string   `json:"date"`
	DateGMT     *string  `json:"date_gmt"`
	ModifiedGMT *string  `json:"modified_gmt"`
	Title       Rendered `json:"title"`
	Content     Rendered `json:"content"`
}

// flexID reads an id given as a number or a string; "0" and null are none.
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	b = bytes.Trim(bytes.TrimSpace(b), `"`)
	if bytes.Equal(b, []byte("null")) {
		*f = ""
		return nil
	}
	if _, err := strconv.ParseInt(string(b), 10, 64); err != nil {
		*f = flexID(b)
		return nil
	}
	n, _ := strconv.ParseInt(string(b), 10, 64)
	if n == 0 {
		*f = ""
		return nil
	}
	*f = flexID(strconv.FormatInt(n, 10))
	return nil
}
