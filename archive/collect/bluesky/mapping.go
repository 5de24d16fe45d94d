package bluesky

import (
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect/internal/kit"
)

// Item kinds.
const (
	KindPost  = "post"
	KindReply = "reply"
	KindBoost = "boost"
)

// PostItem maps a post view to the item of account (the registry handle)
// it is. The collector and the importer both use it, so the same post
// gives the same version either way.
//
//   - id is the post's at:// URI;
//   - kind is "reply" when the record replies (parent and thread are the
//     record's reply.parent and reply.root), else "post";
//   - text is the record's text; links, mentions and hashtags come from
//     its facets (or the entities of records from before facets) and its
//     tags, links also from an external card or a quoted post;
//   - media are the embed's images (full size URL and alt text) and video
//     (its playlist: not a file to download);
//   - the author is the handle and DID.
func PostItem(p *PostView, account string) (archive.Item, error) {
	if p == nil || p.URI == "" {
		return archive.Item{}, errors.New("post has no uri")
	}
	if p.Record == nil {
		return archive.Item{}, errors.New("post has no record")
	}
	r := p.Record
	it := archive.Item{Platform: Platform, Account: account, ID: p.URI, Kind: KindPost, CreatedAt: kit.Time(r.CreatedAt)}
	if it.CreatedAt == "" {
		it.CreatedAt = kit.Time(p.IndexedAt) // a record whose own time does not read
	}
	if it.CreatedAt == "" {
		it.CreatedAt = r.CreatedAt // for the archive to refuse, with the value
	}
	if r.Reply != nil && r.Reply.Parent.URI != "" {
		it.Kind, it.Parent, it.Thread = KindReply, r.Reply.Parent.URI, r.Reply.Root.URI
	}
	if p.Author != nil && (p.Author.DID != "" || p.Author.Handle != "") {
		it.Author = &archive.Author{Handle: p.Author.Handle, ID: p.Author.DID}
	}
	it.Text = kit.FixText(r.Text)
	text := []byte(r.Text)
	for _, f := range r.Facets {
		for _, ft := range f.Features {
			switch ft.Type {
			case "app.bsky.richtext.facet#link":
				it.Links = append(it.Links, ft.URI)
			case "app.bsky.richtext.facet#mention":
				it.Mentions = append(it.Mentions, mentionName(text, f.Index.ByteStart, f.Index.ByteEnd, ft.DID))
			case "app.bsky.richtext.facet#tag":
				it.Hashtags = append(it.Hashtags, strings.ToLower(strings.TrimPrefix(ft.Tag, "#")))
			}
		}
	}
	for _, e := range r.Entities {
		switch e.Type {
		case "link":
			it.Links = append(it.Links, e.Value)
		case "mention":
			it.Mentions = append(it.Mentions, e.Value)
		}
	}
	for _, t := range r.Tags {
		it.Hashtags = append(it.Hashtags, strings.ToLower(strings.TrimPrefix(t, "#")))
	}
	did := ""
	if p.Author != nil {
		did = p.Author.DID
	}
	media, links := embedParts(p.Embed, r.Embed, did)
	it.Media = media
	it.Links = kit.Unique(append(it.Links, links...))
	it.Mentions, it.Hashtags = kit.Unique(it.Mentions), kit.Unique(it.Hashtags)
	if len(r.Langs) > 0 {
		it.Lang = kit.Lang(r.Langs[0])
	}
	it.URL = webURL(p.URI)
	return it, nil
}

// RepostItem maps a repost of a post by the account: kind "boost", its own
// id (the repost record's URI where the server names it) and time, the
// original's author and content, the original as parent.
func RepostItem(fv *FeedViewPost, account string) (archive.Item, error) {
	it, err := PostItem(fv.Post, account)
	if err != nil {
		return it, err
	}
	orig := it.ID
	it.Kind, it.Parent, it.Thread = KindBoost, orig, ""
	it.ID = fv.Reason.URI
	if it.ID == "" {
		by := ""
		if fv.Reason.By != nil {
			by = fv.Reason.By.DID
		}
		it.ID = "repost:" + by + ":" + orig
	}
	if t := kit.Time(fv.Reason.IndexedAt); t != "" {
		it.CreatedAt = t
	}
	return it, nil
}

// Metrics are the post's counts.
func Metrics(p *PostView) json.RawMessage {
	m := map[string]int64{}
	for name, v := range map[string]flexInt{"like_count": p.LikeCount, "repost_count": p.RepostCount, "reply_count": p.ReplyCount, "quote_count": p.QuoteCount} {
		if v.known {
			m[name] = v.n
		}
	}
	if len(m) == 0 {
		return nil
	}
	b, _ := json.Marshal(m)
	return b
}

// mentionName is the handle a mention facet covers ("@name.bsky.social"),
// or the DID when the byte range does not hold one.
func mentionName(text []byte, start, end int, did string) string {
	if start >= 0 && end <= len(text) && start < end {
		s := text[start:end]
		if utf8.Valid(s) && len(s) > 1 && s[0] == '@' {
			return string(s[1:])
		}
	}
	return did
}

// embedParts reads media and links from the embed view (preferred: it
// has the URLs) or else the record's embed.
func embedParts(view, record json.RawMessage, did string) ([]archive.Media, []string) {
	src := view
	if len(src) == 0 || string(src) == "null" {
		src = record
	}
	if len(src) == 0 || string(src) == "null" {
		return nil, nil
	}
	var e Embed
	if json.Unmarshal(src, &e) != nil {
		return nil, nil
	}
	return e.parts(did)
}

func (e *Embed) parts(did string) ([]archive.Media, []string) {
	base, _, _ := strings.Cut(e.Type, "#")
	switch base {
	case "app.bsky.embed.images":
		var out []archive.Media
		for _, img := range e.Images {
			u := img.Fullsize
			if u == "" && img.Image != nil {
				u = blobURL(did, img.Image)
			}
			if u == "" {
				continue
			}
			out = append(out, archive.Media{URL: u, Type: "image", Alt: kit.FixText(img.Alt)})
		}
		return out, nil
	case "app.bsky.embed.video":
		u := e.Playlist
		if u == "" {
			return nil, nil
		}
		return []archive.Media{{URL: u, Type: "video", Alt: kit.FixText(e.Alt)}}, nil
	case "app.bsky.embed.external":
		if e.External != nil && e.External.URI != "" {
			return nil, []string{e.External.URI}
		}
	case "app.bsky.embed.record":
		if u := recordURI(e.Record); u != "" {
			return nil, []string{u}
		}
	case "app.bsky.embed.recordWithMedia":
		var m Embed
		var media []archive.Media
		var links []string
		if json.Unmarshal(e.Media, &m) == nil {
			media, links = m.parts(did)
		}
		if u := recordURI(e.Record); u != "" {
			links = append(links, u)
		}
		return media, links
	}
	return nil, nil
}

// recordURI is the quoted post's URI in an embed's record (a strongRef, a
// viewRecord, or, in recordWithMedia, either inside another record).
func recordURI(raw json.RawMessage) string {
	var r struct {
		URI    string          `json:"uri"`
		Record json.RawMessage `json:"record"`
	}
	if json.Unmarshal(raw, &r) != nil {
		return ""
	}
	if r.URI != "" {
		return r.URI
	}
	if len(r.Record) > 0 {
		return recordURI(r.Record)
	}
	return ""
}

func blobURL(did string, b *Blob) string {
	cid := b.Ref.Link
	if cid == "" {
		cid = b.CID
	}
	if did == "" || cid == "" {
		return ""
	}
	return "https://cdn.bsky.app/img/feed_fullsize/plain/" + did + "/" + cid + "@jpeg"
}

// webURL is the bsky.app address of a post's at:// URI.
func webURL(uri string) string {
	rest, ok := strings.CutPrefix(uri, "at://")
	if !ok {
		return ""
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[1] != "app.bsky.feed.post" {
		return ""
	}
	return "https://bsky.app/profile/" + parts[0] + "/post/" + parts[2]
}
