package facebook

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect/internal/graph"
)

// The Graph API's shapes, as the collector asks for them and as saved
// responses hold them. Every field is optional but the id and the time:
// what an older API version or a token without some permission leaves out
// is simply absent from the item.

type gFrom struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Username string `json:"username"`
}

func (f *gFrom) author() *archive.Author {
	if f == nil || (f.ID == "" && f.Name == "" && f.Username == "") {
		return nil
	}
	return &archive.Author{ID: f.ID, Name: f.Name, Handle: f.Username}
}

type gImage struct {
	Src string `json:"src"`
}

type gMedia struct {
	Image  *gImage `json:"image"`
	Source string  `json:"source"`
}

type gAttachment struct {
	Type           string  `json:"type"`
	MediaType      string  `json:"media_type"`
	URL            string  `json:"url"`
	Title          string  `json:"title"`
	Description    string  `json:"description"`
	Media          *gMedia `json:"media"`
	Subattachments *struct {
		Data []gAttachment `json:"data"`
	} `json:"subattachments"`
}

type gSummary struct {
	TotalCount *int64 `json:"total_count"`
}

// gEdge is a connection inside an object: nested comments (saved
// responses) or a summary of counts.
type gEdge struct {
	Data    []json.RawMessage `json:"data"`
	Paging  graph.Paging      `json:"paging"`
	Summary *gSummary         `json:"summary"`
}

type gPost struct {
	ID           string `json:"id"`
	Message      string `json:"message"`
	CreatedTime  string `json:"created_time"`
	UpdatedTime  string `json:"updated_time"`
	PermalinkURL string `json:"permalink_url"`
	From         *gFrom `json:"from"`
	StatusType   string `json:"status_type"`
	IsHidden     bool   `json:"is_hidden"`
	Attachments  *struct {
		Data []gAttachment `json:"data"`
	} `json:"attachments"`
	Shares *struct {
		Count *int64 `json:"count"`
	} `json:"shares"`
	Comments  *gEdge `json:"comments"`
	Reactions *gEdge `json:"reactions"`
	// Before v3.3 posts had these instead of attachments.
	Type        string `json:"type"`
	Link        string `json:"link"`
	FullPicture string `json:"full_picture"`
	Picture     string `json:"picture"`
	Source      string `json:"source"`
}

type gComment struct {
	ID           string `json:"id"`
	Message      string `json:"message"`
	CreatedTime  string `json:"created_time"`
	PermalinkURL string `json:"permalink_url"`
	From         *gFrom `json:"from"`
	Parent       *struct {
		ID string `json:"id"`
	} `json:"parent"`
	Attachment   *gAttachment `json:"attachment"`
	IsHidden     bool         `json:"is_hidden"`
	LikeCount    *int64       `json:"like_count"`
	CommentCount *int64       `json:"comment_count"`
	Comments     *gEdge       `json:"comments"`
}

// media collects an item's media (the stable URL in the item, the full
// URL to download) and links.
type media struct {
	it   *archive.Item
	urls []string
}

func (m *media) add(typ, full string) {
	if full == "" {
		return
	}
	stable := graph.StableMediaURL(full)
	for _, x := range m.it.Media {
		if x.URL == stable {
			return
		}
	}
	m.it.Media = append(m.it.Media, archive.Media{URL: stable, Type: typ})
	m.urls = append(m.urls, full)
}

func (m *media) link(u string) {
	if u != "" {
		m.it.Links = graph.AppendUnique(m.it.Links, graph.UnwrapLink(u))
	}
}

// isMediaType says whether an attachment of this type is a photo, video
// or other picture (its media is the content) rather than a link (its
// picture is only a preview of the page it links to).
func isMediaType(t string) bool {
	switch {
	case t == "photo", t == "sticker", t == "cover_photo", t == "profile_media", t == "album", t == "new_album",
		strings.HasPrefix(t, "video"), strings.HasPrefix(t, "animated_image"), strings.HasSuffix(t, "_photo"):
		return true
	}
	return false
}

func (m *media) attachment(a *gAttachment) {
	if a == nil {
		return
	}
	if a.Subattachments != nil && len(a.Subattachments.Data) > 0 {
		for i := range a.Subattachments.Data {
			m.attachment(&a.Subattachments.Data[i])
		}
		return
	}
	typ := a.Type
	if typ == "" {
		typ = strings.ToLower(a.MediaType)
	}
	if a.Media != nil && (isMediaType(typ) || (typ == "" && a.URL == "")) {
		switch {
		case a.Media.Source != "":
			m.add("video", a.Media.Source)
		case a.Media.Image != nil:
			// A photo, or the picture of a video whose file the API
			// did not give.
			m.add("image", a.Media.Image.Src)
		}
		return
	}
	m.link(a.URL)
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

func count(e *gEdge) *int64 {
	if e == nil || e.Summary == nil {
		return nil
	}
	return e.Summary.TotalCount
}

// postItem normalises a post. urls are the full URLs of its media, to
// download; the item keeps their stable form.
func postItem(account string, p *gPost) (archive.Item, []string, json.RawMessage, error) {
	if strings.TrimSpace(p.ID) == "" {
		return archive.Item{}, nil, nil, errors.New("post without an id")
	}
	created, err := graph.Time(p.CreatedTime)
	if err != nil {
		return archive.Item{}, nil, nil, fmt.Errorf("post %s: created_time: %v", p.ID, err)
	}
	it := archive.Item{
		Platform: Platform, Account: account, ID: p.ID, Kind: "post", CreatedAt: created,
		Text: p.Message, Author: p.From.author(), URL: p.PermalinkURL, Hashtags: graph.Hashtags(p.Message),
	}
	if p.IsHidden {
		it.Visibility = "hidden"
	}
	m := &media{it: &it}
	if p.Attachments != nil {
		for i := range p.Attachments.Data {
			m.attachment(&p.Attachments.Data[i])
		}
	} else {
		// Older layout: type, link, full_picture, source.
		pic := p.FullPicture
		if pic == "" {
			pic = p.Picture
		}
		switch {
		case p.Type == "video" && p.Source != "":
			m.add("video", p.Source)
		case (p.Type == "photo" || p.Type == "video" || (p.Type == "" && p.Link == "")) && pic != "":
			m.add("image", pic)
		case p.Link != "":
			m.link(p.Link)
		}
	}
	var shares *int64
	if p.Shares != nil {
		shares = p.Shares.Count
	}
	return it, m.urls, metrics(map[string]*int64{"shares": shares, "comments": count(p.Comments), "reactions": count(p.Reactions)}), nil
}

// commentItem normalises a comment on post (the thread; "" when unknown).
// A comment whose parent is another comment is a reply; parent, when set,
// is the comment a nested reply was found under.
func commentItem(account, post, parent string, c *gComment) (archive.Item, []string, json.RawMessage, error) {
	if strings.TrimSpace(c.ID) == "" {
		return archive.Item{}, nil, nil, errors.New("comment without an id")
	}
	created, err := graph.Time(c.CreatedTime)
	if err != nil {
		return archive.Item{}, nil, nil, fmt.Errorf("comment %s: created_time: %v", c.ID, err)
	}
	it := archive.Item{
		Platform: Platform, Account: account, ID: c.ID, Kind: "comment", CreatedAt: created,
		Text: c.Message, Author: c.From.author(), URL: c.PermalinkURL, Hashtags: graph.Hashtags(c.Message),
		Parent: post, Thread: post,
	}
	if c.Parent != nil && c.Parent.ID != "" && c.Parent.ID != post {
		parent = c.Parent.ID
	}
	if parent != "" {
		it.Kind, it.Parent = "reply", parent
	}
	if c.IsHidden {
		it.Visibility = "hidden"
	}
	m := &media{it: &it}
	m.attachment(c.Attachment)
	return it, m.urls, metrics(map[string]*int64{"likes": c.LikeCount, "replies": c.CommentCount}), nil
}
