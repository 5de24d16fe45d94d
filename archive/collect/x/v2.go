package x

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Page is one X API v2 response page, parsed: the tweets in data (each
// with the JSON pointer where it sits in the page), the expansions in
// includes, the paging meta and the partial errors.
type Page struct {
	Tweets   []*Tweet
	Users    map[string]User
	Media    map[string]MediaObj
	Included map[string]*Tweet // includes.tweets by id
	Meta     Meta
	Errors   []APIError
	// Bad are elements of data or includes.tweets that did not decode as
	// a tweet: their pointer and why.
	Bad []BadElement
	// Problem is the top-level problem of an error response ({"title":…,
	// "detail":…,"type":…}), when the body is one.
	Problem *APIError
}

// BadElement is one element of a page that is not a tweet.
type BadElement struct {
	Pointer string
	Err     error
}

// Tweet is an X API v2 tweet object, with the fields osmarc reads.
type Tweet struct {
	ID               string      `json:"id"`
	Text             string      `json:"text"`
	CreatedAt        string      `json:"created_at"`
	AuthorID         string      `json:"author_id"`
	ConversationID   string      `json:"conversation_id"`
	InReplyToUserID  string      `json:"in_reply_to_user_id"`
	ReferencedTweets []Reference `json:"referenced_tweets"`
	Entities         *Entities   `json:"entities"`
	Attachments      struct {
		MediaKeys []string `json:"media_keys"`
	} `json:"attachments"`
	PublicMetrics map[string]flexInt `json:"public_metrics"`
	Lang          string             `json:"lang"`
	Withheld      *struct {
		Copyright    bool     `json:"copyright"`
		CountryCodes []string `json:"country_codes"`
	} `json:"withheld"`
	EditHistoryTweetIDs []string `json:"edit_history_tweet_ids"`
	NoteTweet           *struct {
		Text     string    `json:"text"`
		Entities *Entities `json:"entities"`
	} `json:"note_tweet"`

	// Pointer is where the tweet sits in its page ("/data/3").
	Pointer string `json:"-"`
}

// Reference is one of referenced_tweets.
type Reference struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// Entities are a v2 tweet's entities.
type Entities struct {
	URLs []struct {
		URL         string `json:"url"`
		ExpandedURL string `json:"expanded_url"`
		MediaKey    string `json:"media_key"`
	} `json:"urls"`
	Hashtags []struct {
		Tag string `json:"tag"`
	} `json:"hashtags"`
	Mentions []struct {
		Username string `json:"username"`
		ID       string `json:"id"`
	} `json:"mentions"`
}

// User is an expanded user.
type User struct {
	ID            string `json:"id"`
	Username      string `json:"username"`
	Name          string `json:"name"`
	PublicMetrics struct {
		TweetCount flexInt `json:"tweet_count"`
	} `json:"public_metrics"`
}

// MediaObj is an expanded media object.
type MediaObj struct {
	MediaKey        string    `json:"media_key"`
	Type            string    `json:"type"`
	URL             string    `json:"url"`
	PreviewImageURL string    `json:"preview_image_url"`
	AltText         string    `json:"alt_text"`
	Variants        []variant `json:"variants"`
}

type variant struct {
	BitRate     flexInt `json:"bit_rate"`
	Bitrate     flexInt `json:"bitrate"` // the archive's (v1.1) spelling
	ContentType string  `json:"content_type"`
	URL         string  `json:"url"`
}

// Meta is a page's paging information.
type Meta struct {
	ResultCount flexInt `json:"result_count"`
	NextToken   string  `json:"next_token"`
	NewestID    string  `json:"newest_id"`
	OldestID    string  `json:"oldest_id"`
}

// APIError is one of a v2 response's errors (a partial error of a 200
// response, or the problem of an error response).
type APIError struct {
	Title        string `json:"title"`
	Detail       string `json:"detail"`
	Type         string `json:"type"`
	ResourceType string `json:"resource_type"`
	ResourceID   string `json:"resource_id"`
	Parameter    string `json:"parameter"`
	Value        string `json:"value"`
	Status       int    `json:"status"`
}

// NotFound says the error is X's "resource-not-found" for a resource.
func (e APIError) NotFound() bool {
	return strings.HasSuffix(e.Type, "/resource-not-found") || e.Title == "Not Found Error"
}

func (e APIError) String() string {
	s := e.Title
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// flexInt is a count that some sources write as a number and others (the
// account archive) as a string.
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s == "" {
			*n = 0
			return nil
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("want a count, got %q", s)
		}
		*n = flexInt(v)
		return nil
	}
	if string(b) == "null" {
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("want a count, got %s", b)
	}
	*n = flexInt(f)
	return nil
}

// rawPage is the top level of a response as it is decoded first: each
// tweet is decoded on its own, so one odd tweet does not lose the page.
type rawPage struct {
	Data     json.RawMessage `json:"data"`
	Includes struct {
		Users  []json.RawMessage `json:"users"`
		Media  []json.RawMessage `json:"media"`
		Tweets []json.RawMessage `json:"tweets"`
	} `json:"includes"`
	Meta   json.RawMessage   `json:"meta"`
	Errors []json.RawMessage `json:"errors"`
	APIError
	// twarc2's flattened output: one tweet a line, expansions inline.
	Author *User  `json:"author"`
	ID     string `json:"id"`
}

// ErrNotAPIPage: a JSON value that is not an X API v2 response page.
var ErrNotAPIPage = errors.New("not an X API v2 response page (no data, includes, meta or errors)")

// ParsePage parses one X API v2 response page. It returns an error when
// body is not JSON or not shaped like a response page; elements of the
// page that are not tweets are listed in Page.Bad and the rest is kept.
func ParsePage(body []byte) (*Page, error) {
	var rp rawPage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&rp); err != nil {
		return nil, describeJSON(err)
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value")
	}
	p := &Page{Users: map[string]User{}, Media: map[string]MediaObj{}, Included: map[string]*Tweet{}}
	if rp.Title != "" || rp.Detail != "" {
		e := rp.APIError
		p.Problem = &e
	}
	data := bytes.TrimSpace(rp.Data)
	switch {
	case len(data) == 0 || string(data) == "null":
		if rp.ID != "" && rp.Author != nil {
			// A flattened tweet: the line is the tweet.
			data = bytes.TrimSpace(body)
			t, err := decodeTweet(data, "")
			if err != nil {
				p.Bad = append(p.Bad, BadElement{Pointer: "", Err: err})
			} else {
				p.Tweets = append(p.Tweets, t)
			}
			p.Users[rp.Author.ID] = *rp.Author
			return p, nil
		}
		if len(rp.Meta) == 0 && len(rp.Errors) == 0 && p.Problem == nil && rp.Includes.Users == nil && rp.Includes.Tweets == nil {
			return nil, ErrNotAPIPage
		}
	case data[0] == '[':
		var elems []json.RawMessage
		if err := json.Unmarshal(data, &elems); err != nil {
			return nil, fmt.Errorf("data: %w", describeJSON(err))
		}
		for i, e := range elems {
			ptr := "/data/" + strconv.Itoa(i)
			t, err := decodeTweet(e, ptr)
			if err != nil {
				p.Bad = append(p.Bad, BadElement{Pointer: ptr, Err: err})
				continue
			}
			p.Tweets = append(p.Tweets, t)
		}
	case data[0] == '{':
		t, err := decodeTweet(data, "/data")
		if err != nil {
			p.Bad = append(p.Bad, BadElement{Pointer: "/data", Err: err})
		} else {
			p.Tweets = append(p.Tweets, t)
		}
	default:
		return nil, fmt.Errorf("data: want an array or an object, got %.20s", data)
	}
	for i, e := range rp.Includes.Tweets {
		ptr := "/includes/tweets/" + strconv.Itoa(i)
		t, err := decodeTweet(e, ptr)
		if err != nil {
			p.Bad = append(p.Bad, BadElement{Pointer: ptr, Err: err})
			continue
		}
		p.Included[t.ID] = t
	}
	for i, e := range rp.Includes.Users {
		var u User
		if err := json.Unmarshal(e, &u); err != nil || u.ID == "" {
			p.Bad = append(p.Bad, BadElement{Pointer: "/includes/users/" + strconv.Itoa(i), Err: orMissing(err, "id")})
			continue
		}
		p.Users[u.ID] = u
	}
	for i, e := range rp.Includes.Media {
		var m MediaObj
		if err := json.Unmarshal(e, &m); err != nil || m.MediaKey == "" {
			p.Bad = append(p.Bad, BadElement{Pointer: "/includes/media/" + strconv.Itoa(i), Err: orMissing(err, "media_key")})
			continue
		}
		p.Media[m.MediaKey] = m
	}
	if len(rp.Meta) > 0 && string(rp.Meta) != "null" {
		if err := json.Unmarshal(rp.Meta, &p.Meta); err != nil {
			return nil, fmt.Errorf("meta: %w", describeJSON(err))
		}
	}
	for _, e := range rp.Errors {
		var ae APIError
		if err := json.Unmarshal(e, &ae); err != nil {
			// An error we cannot read is still an error: keep its text.
			ae.Title = "unreadable error"
			ae.Detail = string(e)
		}
		p.Errors = append(p.Errors, ae)
	}
	return p, nil
}

func orMissing(err error, field string) error {
	if err != nil {
		return describeJSON(err)
	}
	return fmt.Errorf("missing %s", field)
}

func decodeTweet(b []byte, ptr string) (*Tweet, error) {
	t := &Tweet{Pointer: ptr}
	if err := json.Unmarshal(b, t); err != nil {
		return nil, describeJSON(err)
	}
	if t.ID == "" {
		return nil, errors.New("tweet without an id")
	}
	return t, nil
}

// describeJSON makes a JSON error say what was wrong in a line a user reads.
func describeJSON(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("malformed JSON at byte %d: %v", se.Offset, err)
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Errorf("field %s: want %s, got %s", te.Field, te.Type, te.Value)
		}
		return fmt.Errorf("want %s, got %s", te.Type, te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("truncated JSON: the body ends inside a value")
	}
	return err
}
