package instagram

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect/internal/graph"
)

// The Graph API's Instagram shapes. Every field is optional but the id
// and the timestamp.

type gUser struct {
	ID       string `json:"id"`
	Username string `json:"username"`
}

type gChild struct {
	ID           string `json:"id"`
	MediaType    string `json:"media_type"`
	MediaURL     string `json:"media_url"`
	ThumbnailURL string `json:"thumbnail_url"`
}

type gEdge struct {
	Data   []json.RawMessage `json:"data"`
	Paging graph.Paging      `json:"paging"`
}

type gMedia struct {
	ID               string `json:"id"`
	Caption          string `json:"caption"`
	MediaType        string `json:"media_type"`
	MediaProductType string `json:"media_product_type"`
	MediaURL         string `json:"media_url"`
	ThumbnailURL     string `json:"thumbnail_url"`
	Permalink        string `json:"permalink"`
	Timestamp        string `json:"timestamp"`
	Username         string `json:"username"`
	Owner            *gUser `json:"owner"`
	LikeCount        *int64 `json:"like_count"`
	CommentsCount    *int64 `json:"comments_count"`
	Children         *struct {
		Data []gChild `json:"data"`
	} `json:"children"`
	Comments *gEdge `json:"comments"`
}

type gComment struct {
	ID        string `json:"id"`
	Text      string `json:"text"`
	Timestamp string `json:"timestamp"`
	Username  string `json:"username"`
	From      *gUser `json:"from"`
	LikeCount *int64 `json:"like_count"`
	Hidden    bool   `json:"hidden"`
	ParentID  string `json:"parent_id"`
	Replies   *gEdge `json:"replies"`
	Media     *struct {
		ID string `json:"id"`
	} `json:"media"`
}

var reMention = regexp.MustCompile(`(?:^|[^\w@.])@([A-Za-z0-9_](?:[A-Za-z0-9_.]*[A-Za-z0-9_])?)`)

// mentions are the @usernames in text, without the '@', once each.
func mentions(text string) []string {
	if !strings.Contains(text, "@") {
		return nil
	}
	var out []string
	for _, m := range reMention.FindAllStringSubmatch(text, -1) {
		out = graph.AppendUnique(out, m[1])
	}
	return out
}

func kindOf(productType string) string {
	switch strings.ToUpper(productType) {
	case "REELS":
		return "reel"
	case "STORY":
		return "story"
	}
	return "post"
}

func mediaKind(mediaType string) string {
	if strings.EqualFold(mediaType, "VIDEO") {
		return "video"
	}
	return "image"
}

func metrics(m map[string]*int64) json.RawMessage {
	out := map[string]int64{}
	for k, v := range m {
		if v != nil {
			out[k] = *v
		}
	}
	if len(out) == 0 {
		return nil
	}
	b, _ := json.Marshal(out)
	return b
}

func addMedia(it *archive.Item, urls *[]string, typ, full string) {
	if full == "" {
		return
	}
	stable := graph.StableMediaURL(full)
	for _, x := range it.Media {
		if x.URL == stable {
			return
		}
	}
	it.Media = append(it.Media, archive.Media{URL: stable, Type: typ})
	*urls = append(*urls, full)
}

// mediaItem normalises a media object (a post, reel or story). urls are
// the full URLs of its files, to download; the item keeps their stable
// form.
func mediaItem(account string, m *gMedia) (archive.Item, []string, json.RawMessage, error) {
	if strings.TrimSpace(m.ID) == "" {
		return archive.Item{}, nil, nil, errors.New("media without an id")
	}
	created, err := graph.Time(m.Timestamp)
	if err != nil {
		return archive.Item{}, nil, nil, fmt.Errorf("media %s: timestamp: %v", m.ID, err)
	}
	it := archive.Item{
		Platform: Platform, Account: account, ID: m.ID, Kind: kindOf(m.MediaProductType), CreatedAt: created,
		Text: m.Caption, URL: m.Permalink, Hashtags: graph.Hashtags(m.Caption), Mentions: mentions(m.Caption),
	}
	a := archive.Author{Handle: m.Username}
	if m.Owner != nil {
		a.ID = m.Owner.ID
		if a.Handle == "" {
			a.Handle = m.Owner.Username
		}
	}
	if a != (archive.Author{}) {
		it.Author = &a
	}
	var urls []string
	if m.Children != nil && len(m.Children.Data) > 0 {
		for _, c := range m.Children.Data {
			addMedia(&it, &urls, mediaKind(c.MediaType), c.MediaURL)
		}
	} else {
		// A video's media_url is the video; a copyrighted one has none,
		// only its thumbnail.
		switch {
		case m.MediaURL != "":
			addMedia(&it, &urls, mediaKind(m.MediaType), m.MediaURL)
		case m.ThumbnailURL != "":
			addMedia(&it, &urls, "image", m.ThumbnailURL)
		}
	}
	return it, urls, metrics(map[string]*int64{"likes": m.LikeCount, "comments": m.CommentsCount}), nil
}

// commentItem normalises a comment on media (the thread; "" when unknown).
// parent, when set, is the comment a nested reply was found under.
func commentItem(account, media, parent string, c *gComment) (archive.Item, json.RawMessage, error) {
	if strings.TrimSpace(c.ID) == "" {
		return archive.Item{}, nil, errors.New("comment without an id")
	}
	created, err := graph.Time(c.Timestamp)
	if err != nil {
		return archive.Item{}, nil, fmt.Errorf("comment %s: timestamp: %v", c.ID, err)
	}
	if media == "" && c.Media != nil {
		media = c.Media.ID
	}
	it := archive.Item{
		Platform: Platform, Account: account, ID: c.ID, Kind: "comment", CreatedAt: created,
		Text: c.Text, Hashtags: graph.Hashtags(c.Text), Mentions: mentions(c.Text), Parent: media, Thread: media,
	}
	a := archive.Author{Handle: c.Username}
	if c.From != nil {
		a.ID = c.From.ID
		if a.Handle == "" {
			a.Handle = c.From.Username
		}
	}
	if a != (archive.Author{}) {
		it.Author = &a
	}
	if c.ParentID != "" && c.ParentID != media {
		parent = c.ParentID
	}
	if parent != "" {
		it.Kind, it.Parent = "reply", parent
	}
	if c.Hidden {
		it.Visibility = "hidden"
	}
	return it, metrics(map[string]*int64{"likes": c.LikeCount}), nil
}
