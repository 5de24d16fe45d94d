package youtube

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/osmarc/osmarc/archive"
)

// Platform is the platform name YouTube channels are registered under.
const Platform = "youtube"

// ListResponse is a YouTube Data API v3 list response: one page of
// channels, playlist items, videos, comment threads or comments.
type ListResponse struct {
	Kind          string            `json:"kind"`
	NextPageToken string            `json:"nextPageToken"`
	Items         []json.RawMessage `json:"items"`
	Error         *APIError         `json:"error"`
}

// APIError is the error object of a failed request.
type APIError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Errors  []struct {
		Reason  string `json:"reason"`
		Domain  string `json:"domain"`
		Message string `json:"message"`
	} `json:"errors"`
	Status string `json:"status"`
}

// Reason is the first error's reason ("quotaExceeded", "commentsDisabled").
func (e *APIError) Reason() string {
	if e == nil || len(e.Errors) == 0 {
		return ""
	}
	return e.Errors[0].Reason
}

// apiErrorOf reads the error of a response body, if it is one.
func apiErrorOf(body []byte) *APIError {
	var r struct {
		Error *APIError `json:"error"`
	}
	if json.Unmarshal(body, &r) != nil {
		return nil
	}
	return r.Error
}

// ParseList parses one list response page.
func ParseList(body []byte) (*ListResponse, error) {
	var r ListResponse
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&r); err != nil {
		return nil, describeJSON(err)
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value")
	}
	if r.Error != nil {
		return &r, nil
	}
	if !strings.HasPrefix(r.Kind, "youtube#") {
		return nil, fmt.Errorf("not a YouTube Data API response (kind %q)", r.Kind)
	}
	return &r, nil
}

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

// flexInt is a count the API writes as a string ("viewCount": "123") or a
// number ("likeCount": 4).
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(bytes.TrimSpace(b)), `"`)
	if s == "" || s == "null" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil {
			return fmt.Errorf("want a count, got %s", b)
		}
		v = int64(f)
	}
	*n = flexInt(v)
	return nil
}

type thumbnail struct {
	URL string `json:"url"`
}

// Video is a video resource (videos.list), or the video a playlist item
// names (playlistItems.list).
type Video struct {
	ID      json.RawMessage `json:"id"`
	Kind    string          `json:"kind"`
	Snippet struct {
		PublishedAt            string               `json:"publishedAt"`
		ChannelID              string               `json:"channelId"`
		ChannelTitle           string               `json:"channelTitle"`
		Title                  string               `json:"title"`
		Description            string               `json:"description"`
		Thumbnails             map[string]thumbnail `json:"thumbnails"`
		DefaultLanguage        string               `json:"defaultLanguage"`
		VideoOwnerChannelID    string               `json:"videoOwnerChannelId"`
		VideoOwnerChannelTitle string               `json:"videoOwnerChannelTitle"`
		ResourceID             struct {
			VideoID string `json:"videoId"`
		} `json:"resourceId"`
	} `json:"snippet"`
	ContentDetails struct {
		VideoID          string `json:"videoId"`
		VideoPublishedAt string `json:"videoPublishedAt"`
		RelatedPlaylists struct {
			Uploads string `json:"uploads"`
		} `json:"relatedPlaylists"`
	} `json:"contentDetails"`
	Statistics map[string]flexInt `json:"statistics"`
}

// Comment is a comment resource.
type Comment struct {
	ID      string `json:"id"`
	Snippet struct {
		ChannelID         string `json:"channelId"`
		VideoID           string `json:"videoId"`
		ParentID          string `json:"parentId"`
		TextDisplay       string `json:"textDisplay"`
		TextOriginal      string `json:"textOriginal"`
		AuthorDisplayName string `json:"authorDisplayName"`
		AuthorChannelID   struct {
			Value string `json:"value"`
		} `json:"authorChannelId"`
		LikeCount   flexInt `json:"likeCount"`
		PublishedAt string  `json:"publishedAt"`
		UpdatedAt   string  `json:"updatedAt"`
	} `json:"snippet"`
}

// Thread is a comment thread resource: a top-level comment and up to five
// of its replies.
type Thread struct {
	ID      string `json:"id"`
	Snippet struct {
		VideoID         string  `json:"videoId"`
		TopLevelComment Comment `json:"topLevelComment"`
		TotalReplyCount int     `json:"totalReplyCount"`
	} `json:"snippet"`
	Replies *struct {
		Comments []Comment `json:"comments"`
	} `json:"replies"`
}

var thumbOrder = []string{"maxres", "standard", "high", "medium", "default"}

func bestThumbnail(t map[string]thumbnail) string {
	for _, k := range thumbOrder {
		if u := t[k].URL; u != "" {
			return u
		}
	}
	return ""
}

var (
	reURL     = regexp.MustCompile(`https?://[^\s<>"']+`)
	reHashtag = regexp.MustCompile(`(?:^|[^\p{L}\p{N}_&/])#([\p{L}\p{N}_]*\p{L}[\p{L}\p{N}_]*)`)
	reLang    = regexp.MustCompile(`^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$`)
)

// links are the URLs written in a text.
func links(s string) []string {
	var out []string
	for _, u := range reURL.FindAllString(s, -1) {
		u = strings.TrimRight(u, ".,;:!?)]}")
		if u != "" {
			out = append(out, u)
		}
	}
	return out
}

func hashtags(s string) []string {
	var out []string
	for _, m := range reHashtag.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

func normTime(s string) (string, time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		if s == "" {
			return "", t, errors.New("missing publishedAt")
		}
		return "", t, fmt.Errorf("publishedAt %q is not an RFC 3339 time", s)
	}
	return t.UTC().Format(time.RFC3339Nano), t.UTC(), nil
}

// video facts: the same from videos.list and from a playlist item.
type videoFacts struct {
	id, published, channelID, channelTitle, title, description, lang, thumb string
	metrics                                                                 map[string]int64
}

func (v *Video) idString() string {
	var s string
	if json.Unmarshal(v.ID, &s) == nil {
		return s
	}
	return ""
}

// videoFromList reads a videos.list item.
func videoFromList(v *Video) videoFacts {
	f := videoFacts{
		id: v.idString(), published: v.Snippet.PublishedAt, channelID: v.Snippet.ChannelID, channelTitle: v.Snippet.ChannelTitle,
		title: v.Snippet.Title, description: v.Snippet.Description, lang: v.Snippet.DefaultLanguage, thumb: bestThumbnail(v.Snippet.Thumbnails),
	}
	if len(v.Statistics) > 0 {
		f.metrics = map[string]int64{}
		for k, n := range v.Statistics {
			f.metrics[snake(k)] = int64(n)
		}
	}
	return f
}

// unavailable says a playlistItems.list item stands for a video deleted or
// made private since it was added: YouTube keeps the item with a
// placeholder ("Deleted video", "Private video", "This video is
// unavailable.") and neither the owner's channel nor the video's
// publication time. It is no version of the video: recording it would
// replace what the video said with the placeholder.
func unavailable(v *Video) bool {
	if v.ContentDetails.VideoPublishedAt != "" || v.Snippet.VideoOwnerChannelID != "" {
		return false
	}
	switch v.Snippet.Title {
	case "Deleted video", "Private video":
		return true
	}
	return false
}

// videoFromPlaylist reads the video of a playlistItems.list item; the
// playlist item says less (no language, no counts), and its snippet's
// publishedAt is when the video was added to the playlist.
func videoFromPlaylist(v *Video) videoFacts {
	f := videoFacts{
		id: v.ContentDetails.VideoID, published: v.ContentDetails.VideoPublishedAt,
		channelID: v.Snippet.VideoOwnerChannelID, channelTitle: v.Snippet.VideoOwnerChannelTitle,
		title: v.Snippet.Title, description: v.Snippet.Description, thumb: bestThumbnail(v.Snippet.Thumbnails),
	}
	if f.id == "" {
		f.id = v.Snippet.ResourceID.VideoID
	}
	if f.published == "" {
		f.published = v.Snippet.PublishedAt
	}
	if f.channelID == "" {
		f.channelID, f.channelTitle = v.Snippet.ChannelID, v.Snippet.ChannelTitle
	}
	return f
}

func (f videoFacts) item(account string) (archive.Item, error) {
	if f.id == "" {
		return archive.Item{}, errors.New("video without an id")
	}
	created, _, err := normTime(f.published)
	if err != nil {
		return archive.Item{}, err
	}
	text := f.title
	if f.description != "" {
		text += "\n\n" + f.description
	}
	it := archive.Item{
		Platform: Platform, Account: account, ID: f.id, Kind: "video", CreatedAt: created, Text: text,
		URL: "https://www.youtube.com/watch?v=" + f.id, Links: links(f.description), Hashtags: hashtags(text),
	}
	if f.channelID != "" || f.channelTitle != "" {
		it.Author = &archive.Author{ID: f.channelID, Name: f.channelTitle}
	}
	if reLang.MatchString(f.lang) {
		it.Lang = f.lang
	}
	if f.thumb != "" {
		it.Media = []archive.Media{{URL: f.thumb, Type: "image"}}
	}
	return it, nil
}

// commentItem makes the item of a comment: kind "comment" for a
// top-level comment (its parent is the video), "reply" for a reply (its
// parent the top-level comment). Thread is the comment thread, whose id
// is the top-level comment's: a reply from comments.list does not say
// which video it is on, so the thread is what every source agrees on.
func commentItem(c *Comment, account string) (archive.Item, map[string]int64, error) {
	s := &c.Snippet
	if c.ID == "" {
		return archive.Item{}, nil, errors.New("comment without an id")
	}
	created, pub, err := normTime(s.PublishedAt)
	if err != nil {
		return archive.Item{}, nil, err
	}
	text := s.TextOriginal
	if text == "" {
		text = s.TextDisplay
	}
	it := archive.Item{Platform: Platform, Account: account, ID: c.ID, CreatedAt: created, Text: text, Links: links(text), Hashtags: hashtags(text)}
	if s.ParentID != "" {
		it.Kind, it.Parent, it.Thread = "reply", s.ParentID, s.ParentID
	} else {
		it.Kind, it.Parent, it.Thread = "comment", s.VideoID, c.ID
		if s.VideoID != "" {
			it.URL = "https://www.youtube.com/watch?v=" + s.VideoID + "&lc=" + c.ID
		}
	}
	if s.UpdatedAt != "" {
		if upd, u, err := normTime(s.UpdatedAt); err == nil && !u.Equal(pub) {
			it.EditedAt = upd
		}
	}
	a := archive.Author{ID: s.AuthorChannelID.Value}
	if h, ok := strings.CutPrefix(s.AuthorDisplayName, "@"); ok {
		a.Handle = h
	} else {
		a.Name = s.AuthorDisplayName
	}
	if a != (archive.Author{}) {
		it.Author = &a
	}
	return it, map[string]int64{"like_count": int64(s.LikeCount)}, nil
}

func metricsJSON(m map[string]int64) json.RawMessage {
	if len(m) == 0 {
		return nil
	}
	b, _ := json.Marshal(m)
	return b
}

// snake turns the API's "viewCount" into "view_count".
func snake(s string) string {
	var b strings.Builder
	for _, r := range s {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('_')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
