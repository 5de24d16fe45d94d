// Package feed captures web feeds, RSS 2.0 (and 0.9x), Atom 1.0 and JSON
// Feed 1.0/1.1, with github.com/mmcdole/gofeed: a live collector that
// reads an account's feed (any blog, a YouTube channel's feed, a news
// page) and the feed importer of a saved feed file.
//
// Each entry is an item of kind "post": its guid (Atom id, JSON Feed id)
// or else its link as id, its title and content (or description) as text,
// enclosures and media:content as media. An entry without a date is given
// the time it was first seen, remembered from run to run.
//
// A feed shows only its newest entries, so it cannot say what was removed
// beyond its window: a full run says its listing was complete only for
// entries newer than the oldest one it shows (Scope.Since), and not at
// all when an entry has no date.
package feed

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect/internal/kit"
)

// Platform is the platform name feed accounts are registered under.
const Platform = "feed"

// KindPost is the kind of every feed entry.
const KindPost = "post"

// Entry is one mapped feed entry.
type Entry struct {
	Item archive.Item
	// Dated says the entry gave its own date (CreatedAt is not a
	// first-seen time).
	Dated bool
	// Changed is the entry's update time or, without one, its date: what
	// a feed ordered by update would sort it by.
	Changed time.Time
	// Path says where in the feed the entry is: a JSON pointer for a JSON
	// Feed, an XPath-like path for RSS and Atom.
	Path string
}

// Parse reads a feed. Bytes that are not UTF-8 in a feed that declares
// no other encoding are read as Windows-1252 first (a legacy CMS's
// mistake); a feed that declares its encoding is decoded as it says.
func Parse(body []byte) (*gofeed.Feed, error) {
	b := body
	if !utf8Declared(b) {
		b = kit.ValidUTF8Bytes(b)
	}
	f, err := gofeed.NewParser().Parse(bytes.NewReader(b))
	if err == nil && f.FeedType == "json" && !bytes.Contains(b, []byte("jsonfeed.org/version")) {
		return nil, errors.New("JSON, but not a JSON Feed (it names no version https://jsonfeed.org/version/…)")
	}
	return f, err
}

var reXMLEncoding = regexp.MustCompile(`(?i)^\s*<\?xml[^>]*encoding=["']([^"']+)["']`)

// utf8Declared reports whether the feed names an encoding other than
// UTF-8 (then its bytes are decoded as declared, not repaired).
func utf8Declared(b []byte) bool {
	m := reXMLEncoding.FindSubmatch(b[:min(len(b), 512)])
	if m == nil {
		return false
	}
	enc := strings.ToLower(string(m[1]))
	return enc != "utf-8" && enc != "utf8"
}

// Entries maps a feed's entries to items of account. firstSeen gives the
// date of an entry that has none (by its id); nil leaves such an entry
// with the fallback time.
func Entries(f *gofeed.Feed, account string, firstSeen func(id string) time.Time) []Entry {
	var out []Entry
	for i, fi := range f.Items {
		e := Entry{Path: entryPath(f, i)}
		it := archive.Item{Platform: Platform, Account: account, Kind: KindPost, ID: entryID(fi), URL: strings.TrimSpace(fi.Link)}
		body := fi.Content
		if strings.TrimSpace(body) == "" {
			body = fi.Description
		}
		if strings.TrimSpace(body) == "" {
			body = mediaValue(fi.Extensions, "description")
		}
		doc := kit.ParseHTML(body)
		it.Text = kit.WithTitle(kit.HTMLText(fi.Title), doc.Text)
		it.Links = doc.Links()
		pub, upd := fi.PublishedParsed, fi.UpdatedParsed
		switch {
		case pub != nil && pub.Year() >= 1970:
			it.CreatedAt, e.Dated = pub.UTC().Format(time.RFC3339Nano), true
			if upd != nil && upd.After(*pub) {
				it.EditedAt = upd.UTC().Format(time.RFC3339Nano)
			}
		case upd != nil && upd.Year() >= 1970:
			it.CreatedAt, e.Dated = upd.UTC().Format(time.RFC3339Nano), true
		case firstSeen != nil:
			it.CreatedAt = firstSeen(it.ID).UTC().Format(time.RFC3339Nano)
		}
		if e.Dated {
			e.Changed, _ = time.Parse(time.RFC3339Nano, it.CreatedAt)
			if it.EditedAt != "" {
				e.Changed, _ = time.Parse(time.RFC3339Nano, it.EditedAt)
			}
		}
		for _, p := range append([]*gofeed.Person{fi.Author}, fi.Authors...) {
			if p != nil && strings.TrimSpace(p.Name) != "" {
				it.Author = &archive.Author{Name: kit.HTMLText(p.Name)}
				break
			}
		}
		for _, c := range fi.Categories {
			it.Hashtags = append(it.Hashtags, strings.ToLower(kit.HTMLText(c)))
		}
		it.Hashtags = kit.Unique(it.Hashtags)
		it.Media = media(fi, doc)
		it.Lang = kit.Lang(f.Language)
		e.Item = it
		out = append(out, e)
	}
	return out
}

// entryID is the guid (Atom id, JSON Feed id), else the link, else a
// digest of title and date (an entry with neither: stable as long as
// those are).
func entryID(fi *gofeed.Item) string {
	if id := strings.TrimSpace(fi.GUID); id != "" {
		return id
	}
	if l := strings.TrimSpace(fi.Link); l != "" {
		return l
	}
	sum := sha256.Sum256([]byte(fi.Title + "\x00" + fi.Published + "\x00" + fi.Updated))
	return "sha256:" + hex.EncodeToString(sum[:12])
}

func entryPath(f *gofeed.Feed, i int) string {
	switch f.FeedType {
	case "json":
		return kit.Pointer("items", i)
	case "atom":
		return fmt.Sprintf("/feed/entry[%d]", i+1)
	}
	return fmt.Sprintf("/rss/channel/item[%d]", i+1)
}

// media: enclosures, media:content (also inside media:group), then the
// content's images, each URL once.
func media(fi *gofeed.Item, doc kit.HTMLDoc) []archive.Media {
	var out []archive.Media
	seen := map[string]bool{}
	add := func(u, typ, alt string) {
		u = strings.TrimSpace(u)
		if u == "" || seen[u] {
			return
		}
		seen[u] = true
		out = append(out, archive.Media{URL: u, Type: typ, Alt: alt})
	}
	for _, enc := range fi.Enclosures {
		if enc != nil {
			add(enc.URL, kindOf(enc.Type), "")
		}
	}
	for _, c := range mediaContents(fi.Extensions) {
		typ := kindOf(c.Attrs["type"])
		if typ == "file" && c.Attrs["medium"] != "" {
			typ = c.Attrs["medium"]
		}
		add(c.Attrs["url"], typ, "")
	}
	for _, img := range doc.Images {
		add(img.Src, "image", img.Alt)
	}
	return out
}

func kindOf(mime string) string {
	switch {
	case strings.HasPrefix(mime, "image/"):
		return "image"
	case strings.HasPrefix(mime, "video/"):
		return "video"
	case strings.HasPrefix(mime, "audio/"):
		return "audio"
	}
	return "file"
}

// mediaContents are the media:content elements, at the top of the entry
// or in a media:group.
func mediaContents(x ext.Extensions) []ext.Extension {
	m, ok := x["media"]
	if !ok {
		return nil
	}
	out := append([]ext.Extension(nil), m["content"]...)
	for _, g := range m["group"] {
		out = append(out, g.Children["content"]...)
	}
	return out
}

// mediaValue is a media: element's text, at the top or in a media:group
// (YouTube puts a video's description in media:group/media:description).
func mediaValue(x ext.Extensions, name string) string {
	m, ok := x["media"]
	if !ok {
		return ""
	}
	for _, e := range m[name] {
		if e.Value != "" {
			return e.Value
		}
	}
	for _, g := range m["group"] {
		for _, e := range g.Children[name] {
			if e.Value != "" {
				return e.Value
			}
		}
	}
	return ""
}

// Window is the scope a full read of the feed lists completely: entries
// changed after the oldest change it shows (whether the feed is ordered by
// date or by update, nothing newer can have fallen out of it). ok is false
// when an entry has no date of its own, or there are none.
func Window(entries []Entry) (since time.Time, ok bool) {
	if len(entries) == 0 {
		return time.Time{}, false
	}
	var ts []time.Time
	for _, e := range entries {
		if !e.Dated || e.Changed.IsZero() {
			return time.Time{}, false
		}
		ts = append(ts, e.Changed)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	return ts[0].Add(time.Nanosecond), true
}
