package mastodon

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// The Mastodon REST API's entities, as far as osmarc reads them. Fields
// that old or other servers (Mastodon 1.x, Pleroma, GoToSocial) give in
// another type or leave out are read leniently: a missing field is its
// zero value, ids may be numbers (Mastodon before 2.0) or strings.

// Status is the Status entity.
type Status struct {
	ID               flexID       `json:"id"`
	URI              string       `json:"uri"`
	URL              *string      `json:"url"`
	CreatedAt        string       `json:"created_at"`
	EditedAt         *string      `json:"edited_at"`
	Account          *Account     `json:"account"`
	Content          string       `json:"content"`
	SpoilerText      string       `json:"spoiler_text"`
	Visibility       string       `json:"visibility"`
	Language         *string      `json:"language"`
	InReplyToID      flexID       `json:"in_reply_to_id"`
	Reblog           *Status      `json:"reblog"`
	MediaAttachments []Attachment `json:"media_attachments"`
	Mentions         []Mention    `json:"mentions"`
	Tags             []Tag        `json:"tags"`
	Card             *Card        `json:"card"`
	Poll             *Poll        `json:"poll"`
	RepliesCount     flexInt      `json:"replies_count"`
	ReblogsCount     flexInt      `json:"reblogs_count"`
	FavouritesCount  flexInt      `json:"favourites_count"`
}

// Account is the Account entity (the parts an item needs).
type Account struct {
	ID          flexID `json:"id"`
	Username    string `json:"username"`
	Acct        string `json:"acct"`
	DisplayName string `json:"display_name"`
	URL         string `json:"url"`
}

// Attachment is the MediaAttachment entity.
type Attachment struct {
	ID          flexID  `json:"id"`
	Type        string  `json:"type"`
	URL         *string `json:"url"`
	RemoteURL   *string `json:"remote_url"`
	TextURL     *string `json:"text_url"` // Mastodon < 3.5
	Description *string `json:"description"`
}

// Mention is the Status::Mention entity.
type Mention struct {
	ID       flexID `json:"id"`
	Username string `json:"username"`
	URL      string `json:"url"`
	Acct     string `json:"acct"`
}

// Tag is the Status::Tag entity.
type Tag struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Card is the PreviewCard entity.
type Card struct {
	URL   string `json:"url"`
	Title string `json:"title"`
}

// Poll is the Poll entity (and a StatusEdit's poll, which has only
// option titles).
type Poll struct {
	Options []struct {
		Title string `json:"title"`
	} `json:"options"`
}

// StatusEdit is one entry of a status's edit history.
type StatusEdit struct {
	Content          string       `json:"content"`
	SpoilerText      string       `json:"spoiler_text"`
	CreatedAt        string       `json:"created_at"`
	Poll             *Poll        `json:"poll"`
	MediaAttachments []Attachment `json:"media_attachments"`
}

// Context is a status's thread.
type Context struct {
	Ancestors   []json.RawMessage `json:"ancestors"`
	Descendants []json.RawMessage `json:"descendants"`
}

// flexID reads an id given as a string, a number or null.
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexID(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("id: want a string or a number, got %s", b)
		}
		*f = flexID(n.String())
	}
	return nil
}

// flexInt reads a count given as a number, a numeric string or null;
// known says it was there.
type flexInt struct {
	n     int64
	known bool
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*f = flexInt{}
		return nil
	}
	s := string(bytes.Trim(b, `"`))
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		// A float or garbage: keep nothing rather than refuse the status.
		*f = flexInt{}
		return nil
	}
	*f = flexInt{n: n, known: true}
	return nil
}
