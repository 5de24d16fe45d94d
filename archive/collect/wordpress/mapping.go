package wordpress

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect/internal/kit"
)

// Item kinds.
const (
	KindPost    = "post"
	KindComment = "comment"
	KindReply   = "reply"
)

// CommentID is the item id of a comment: comments and posts number apart
// on WordPress, so comment ids carry a prefix.
func CommentID(id string) string { return "comment-" + id }

// PostItem maps a post: the title and the rendered content as text, the
// GMT date, the modification date as edited_at when it differs, the
// status as visibility, the author (id, and name and slug when the
// response embeds them), tags as hashtags, the featured image and the
// content's images as media, the content's links.
func PostItem(p *Post, account string) archive.Item {
	it := archive.Item{Platform: Platform, Account: account, ID: string(p.ID), Kind: KindPost, Visibility: p.Status, URL: p.Link}
	it.CreatedAt = gmt(p.DateGMT, p.Date)
	if m := gmt(p.ModifiedGMT, p.Modified); m != "" && m != it.CreatedAt {
		it.EditedAt = m
	}
	setContent(&it, p, p.Title.Rendered, p.Content.Rendered)
	if p.Author != "" {
		it.Author = &archive.Author{ID: string(p.Author)}
	}
	if p.Embedded != nil {
		if len(p.Embedded.Author) > 0 && p.Embedded.Author[0].Code == "" {
			u := p.Embedded.Author[0]
			if it.Author == nil {
				it.Author = &archive.Author{}
			}
			it.Author.Name, it.Author.Handle = kit.HTMLText(u.Name), u.Slug
		}
		for _, terms := range p.Embedded.Term {
			for _, t := range terms {
				if t.Taxonomy == "post_tag" {
					it.Hashtags = append(it.Hashtags, strings.ToLower(kit.HTMLText(t.Name)))
				}
			}
		}
		it.Hashtags = kit.Unique(it.Hashtags)
	}
	return it
}

// setContent sets text, links and media from a title and content (a
// post's or a revision's); the featured image comes first.
func setContent(it *archive.Item, p *Post, title, content string) {
	doc := kit.ParseHTML(content)
	it.Text = kit.WithTitle(kit.HTMLText(title), doc.Text)
	it.Links = doc.Links()
	it.Media = nil
	if p.Embedded != nil {
		for _, raw := range p.Embedded.FeaturedMedia {
			var m Media
			if json.Unmarshal(raw, &m) == nil && m.Code == "" && m.SourceURL != "" {
				it.Media = append(it.Media, archive.Media{URL: m.SourceURL, Type: mediaType(m.MediaType, m.MimeType), Alt: kit.FixText(m.AltText)})
			}
		}
	}
	seen := map[string]bool{}
	for _, m := range it.Media {
		seen[m.URL] = true
	}
	for _, img := range doc.Images {
		if !seen[img.Src] {
			seen[img.Src] = true
			it.Media = append(it.Media, archive.Media{URL: img.Src, Type: "image", Alt: img.Alt})
		}
	}
}

func mediaType(mediaType, mime string) string {
	switch {
	case strings.HasPrefix(mime, "video/"):
		return "video"
	case strings.HasPrefix(mime, "audio/"):
		return "audio"
	case mediaType == "image" || strings.HasPrefix(mime, "image/"):
		return "image"
	}
	return "file"
}

// RevisionItems maps a post's revisions (as the API lists them, newest
// first) to the versions before the current one, oldest first: revisions
// saved before the post was published (drafts) are left out, the first
// after is the original (no edited_at), and the newest is left out when
// it reads as the current post does. at gives each version's index in
// revs.
func RevisionItems(p *Post, revs []Revision, account string) (out []archive.Item, at []int) {
	cur := PostItem(p, account)
	var kept []int
	for i, r := range revs {
		if d := gmt(r.DateGMT, r.Date); d != "" && d >= cur.CreatedAt {
			kept = append(kept, i)
		}
	}
	date := func(i int) string { return gmt(revs[i].DateGMT, revs[i].Date) }
	sort.SliceStable(kept, func(i, j int) bool { return date(kept[i]) < date(kept[j]) })
	for i, ri := range kept {
		r := revs[ri]
		it := cur
		setContent(&it, p, r.Title.Rendered, r.Content.Rendered)
		it.EditedAt = ""
		if i > 0 {
			it.EditedAt = gmt(r.DateGMT, r.Date)
		}
		if i == len(kept)-1 && it.Text == cur.Text {
			break
		}
		out, at = append(out, it), append(at, ri)
	}
	return out, at
}

// CommentItem maps a comment: kind "comment" on the post, or "reply" to
// another comment; thread is the post.
func CommentItem(c *Comment, account string) archive.Item {
	it := archive.Item{Platform: Platform, Account: account, ID: CommentID(string(c.ID)), Kind: KindComment, Thread: string(c.Post), Parent: string(c.Post),
		CreatedAt: gmt(c.DateGMT, c.Date), URL: c.Link, Visibility: c.Status}
	if c.Parent != "" {
		it.Kind, it.Parent = KindReply, CommentID(string(c.Parent))
	}
	doc := kit.ParseHTML(c.Content.Rendered)
	it.Text, it.Links = doc.Text, doc.Links()
	for _, img := range doc.Images {
		it.Media = append(it.Media, archive.Media{URL: img.Src, Type: "image", Alt: img.Alt})
	}
	if name := kit.FixText(kit.HTMLText(c.AuthorName)); name != "" || c.Author != "" {
		it.Author = &archive.Author{Name: name, ID: string(c.Author)}
	}
	return it
}

// gmt is the *_gmt time (UTC without a zone), else the site-local time
// read as given (a draft has no GMT date).
func gmt(p *string, local string) string {
	if p != nil {
		if t := kit.Time(*p); t != "" {
			return t
		}
	}
	if t := kit.Time(local); t != "" {
		return t
	}
	if p != nil && *p != "" {
		return *p
	}
	return local
}
