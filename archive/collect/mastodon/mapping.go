package mastodon

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect/internal/kit"
)

// Item kinds.
const (
	KindPost  = "post"
	KindReply = "reply"
	KindBoost = "boost"
)

// StatusItem maps a status to the item of account (the registry handle)
// it is. The live collector and both importers go through this (or, for
// the outbox, the same text rules), so one post gives one version
// whichever way it came in.
//
//   - text: the content's HTML as text (kit.ParseHTML), the spoiler text
//     first as a content warning, a poll's options after;
//   - a reblog is kind "boost" with its own id and time and the
//     original's author, text, links, media and tags, and the original's
//     id as parent;
//   - in_reply_to_id is the parent; the REST API names no conversation,
//     so thread is left empty rather than guessed from requests made;
//   - links are the links in the text (not mentions or hashtags); the
//     preview card is in the raw response;
//   - the author is the acct (local "name", remote "name@host"): display
//     names change too often to be part of a version.
func StatusItem(s *Status, account string) archive.Item {
	it := archive.Item{Platform: Platform, Account: account, ID: string(s.ID), CreatedAt: timeOr(s.CreatedAt), Visibility: s.Visibility, Kind: KindPost}
	src := s
	if s.Reblog != nil {
		it.Kind, src = KindBoost, s.Reblog
		it.Parent = string(src.ID)
	} else if s.InReplyToID != "" {
		it.Kind, it.Parent = KindReply, string(s.InReplyToID)
	}
	it.Author = author(src.Account)
	doc := kit.ParseHTML(src.Content)
	it.Text = kit.PollText(kit.WithContentWarning(src.SpoilerText, doc.Text), pollOptions(src.Poll))
	it.Links = doc.Links()
	for _, t := range src.Tags {
		it.Hashtags = append(it.Hashtags, strings.ToLower(strings.TrimPrefix(t.Name, "#")))
	}
	it.Hashtags = kit.Unique(it.Hashtags)
	for _, m := range src.Mentions {
		it.Mentions = append(it.Mentions, mentionName(m))
	}
	it.Mentions = kit.Unique(it.Mentions)
	it.Media = media(src.MediaAttachments)
	if src.EditedAt != nil {
		it.EditedAt = timeOr(*src.EditedAt)
	}
	if src.Language != nil {
		it.Lang = kit.Lang(*src.Language)
	}
	if src.URL != nil && *src.URL != "" {
		it.URL = *src.URL
	} else {
		it.URL = src.URI
	}
	return it
}

// EditItems maps a status's edit history (oldest first, as the API gives
// it) to the versions before the current one: each has its own text,
// media and links, and edited_at the time of that edit (none for the
// original). The last entry is the current version and is left to
// StatusItem; it is kept too if it does not match the status (an edit
// between the two requests).
func EditItems(s *Status, edits []StatusEdit, account string) []archive.Item {
	if s.Reblog != nil || len(edits) < 2 {
		return nil
	}
	cur := StatusItem(s, account)
	last := len(edits) - 1
	if s.EditedAt == nil || timeOr(edits[last].CreatedAt) != timeOr(*s.EditedAt) || editItem(cur, s, edits[last], false).Text != cur.Text {
		last++
	}
	var out []archive.Item
	for i := 0; i < last; i++ {
		out = append(out, editItem(cur, s, edits[i], i == 0))
	}
	return out
}

func editItem(cur archive.Item, s *Status, e StatusEdit, first bool) archive.Item {
	it := cur
	doc := kit.ParseHTML(e.Content)
	it.Text = kit.PollText(kit.WithContentWarning(e.SpoilerText, doc.Text), pollOptions(e.Poll))
	it.Links = doc.Links()
	it.Media = media(e.MediaAttachments)
	it.EditedAt = ""
	if !first {
		it.EditedAt = timeOr(e.CreatedAt)
	}
	// The history names no tags or mentions: keep those of the status that
	// this version's text links to.
	hrefs := map[string]bool{}
	tags := map[string]bool{}
	for _, a := range doc.Anchors {
		hrefs[a.Href] = true
		if a.Hashtag() {
			tags[strings.ToLower(strings.TrimPrefix(a.Text, "#"))] = true
		}
	}
	it.Mentions = nil
	for _, m := range s.Mentions {
		if hrefs[m.URL] {
			it.Mentions = append(it.Mentions, mentionName(m))
		}
	}
	it.Mentions = kit.Unique(it.Mentions)
	// Hashtags in the order of the status's tags, then any this version
	// alone has, in the order of its text.
	var ordered []string
	for _, t := range cur.Hashtags {
		if tags[t] {
			ordered = append(ordered, t)
			delete(tags, t)
		}
	}
	for _, a := range doc.Anchors {
		t := strings.ToLower(strings.TrimPrefix(a.Text, "#"))
		if a.Hashtag() && tags[t] {
			ordered = append(ordered, t)
			delete(tags, t)
		}
	}
	it.Hashtags = kit.Unique(ordered)
	return it
}

// Metrics are the status's volatile counts (a boost's are the original's).
func Metrics(s *Status) json.RawMessage {
	if s.Reblog != nil {
		s = s.Reblog
	}
	m := map[string]int64{}
	for name, v := range map[string]flexInt{"replies_count": s.RepliesCount, "reblogs_count": s.ReblogsCount, "favourites_count": s.FavouritesCount} {
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

func author(a *Account) *archive.Author {
	if a == nil {
		return nil
	}
	h := a.Acct
	if h == "" {
		h = a.Username
	}
	if h == "" {
		return nil
	}
	return &archive.Author{Handle: strings.TrimPrefix(h, "@")}
}

func mentionName(m Mention) string {
	if m.Acct != "" {
		return strings.TrimPrefix(m.Acct, "@")
	}
	return m.Username
}

func media(as []Attachment) []archive.Media {
	var out []archive.Media
	for _, a := range as {
		u := firstOf(a.URL, a.RemoteURL, a.TextURL)
		if u == "" {
			continue
		}
		m := archive.Media{URL: u, Type: a.Type}
		if a.Description != nil {
			m.Alt = kit.FixText(*a.Description)
		}
		out = append(out, m)
	}
	return out
}

func firstOf(ps ...*string) string {
	for _, p := range ps {
		if p != nil && strings.TrimSpace(*p) != "" {
			return strings.TrimSpace(*p)
		}
	}
	return ""
}

func pollOptions(p *Poll) []string {
	if p == nil {
		return nil
	}
	var out []string
	for _, o := range p.Options {
		out = append(out, o.Title)
	}
	return out
}

// timeOr is the time in normal form, to the second (the API gives
// milliseconds, ActivityPub and the export whole seconds: the same post
// must read the same), or s as it was (for the archive to refuse with a
// message) when it does not read as a time.
func timeOr(s string) string {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil || t.Year() < 1970 {
		return s
	}
	return t.UTC().Truncate(time.Second).Format(time.RFC3339)
}
